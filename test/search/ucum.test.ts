import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { divideDecimal, formatDecimal, multiplyDecimal, parseDecimal, toCanonical } from '../../src/search/ucum.js';

describe('decimal arithmetic', () => {
  it('parses and formats keeping the written scale', () => {
    assert.equal(formatDecimal(parseDecimal('1.50')!), '1.50');
    assert.equal(formatDecimal(parseDecimal(-0.05)!), '-0.05');
    assert.equal(formatDecimal(parseDecimal('2.5e3')!), '2500');
  });

  it('multiplies exactly', () => {
    assert.equal(formatDecimal(multiplyDecimal(parseDecimal(0.1)!, parseDecimal(3)!)), '0.3');
  });

  it('divides to the requested significant digits, rounding half away from zero', () => {
    assert.equal(formatDecimal(divideDecimal(parseDecimal(2)!, 3n, 5)), '0.66667');
    assert.equal(formatDecimal(divideDecimal(parseDecimal(-2)!, 3n, 5)), '-0.66667');
  });
});

describe('toCanonical (UCUM)', () => {
  it('converts Fahrenheit with the 32-degree offset', () => {
    // (98.6 − 32) × 5/9 = 66.6 × 5/9 = 37
    assert.deepEqual(toCanonical('[degF]', 98.6), { code: 'Cel', value: '37' });
    // (100 − 32) × 5/9 = 340/9 = 37.777…, kept to 12 significant digits
    assert.deepEqual(toCanonical('[degF]', 100), { code: 'Cel', value: '37.7777777778' });
  });

  it('converts kelvin and keeps Celsius', () => {
    assert.deepEqual(toCanonical('K', 310.15), { code: 'Cel', value: '37' });
    assert.deepEqual(toCanonical('Cel', 36.6), { code: 'Cel', value: '36.6' });
  });

  it('converts masses to grams exactly', () => {
    assert.deepEqual(toCanonical('kg', 70), { code: 'g', value: '70000' });
    assert.deepEqual(toCanonical('[lb_av]', 150), { code: 'g', value: '68038.8555' }); // 150 × 453.59237
    assert.deepEqual(toCanonical('[oz_av]', 2), { code: 'g', value: '56.69904625' }); // 2 × 28.349523125
    assert.deepEqual(toCanonical('mg', 5), { code: 'g', value: '0.005' });
    assert.deepEqual(toCanonical('ug', 1), { code: 'g', value: '0.000001' });
  });

  it('converts lengths to metres exactly', () => {
    assert.deepEqual(toCanonical('[in_i]', 70), { code: 'm', value: '1.778' }); // 70 × 2.54 cm
    assert.deepEqual(toCanonical('cm', 180), { code: 'm', value: '1.8' });
    assert.deepEqual(toCanonical('[ft_i]', 6), { code: 'm', value: '1.8288' });
  });

  it('converts pressures to pascals', () => {
    assert.deepEqual(toCanonical('mm[Hg]', 120), { code: 'Pa', value: '15998.64' }); // 120 × 133.322
    assert.deepEqual(toCanonical('kPa', 16), { code: 'Pa', value: '16000' });
  });

  it('normalises rates, volumes, times and concentrations', () => {
    assert.deepEqual(toCanonical('{beats}/min', 72), { code: '/min', value: '72' });
    assert.deepEqual(toCanonical('/h', 90), { code: '/min', value: '1.5' });
    assert.deepEqual(toCanonical('dL', 2), { code: 'L', value: '0.2' });
    assert.deepEqual(toCanonical('h', 1.5), { code: 's', value: '5400' });
    assert.deepEqual(toCanonical('a', 1), { code: 's', value: '31557600' }); // 365.25 d
    assert.deepEqual(toCanonical('mg/dL', 100), { code: 'g/L', value: '1' });
    assert.deepEqual(toCanonical('kg/m2', 22.5), { code: 'kg/m2', value: '22.5' });
    assert.deepEqual(toCanonical('%', 98), { code: '%', value: '98' });
  });

  it('knows nothing about units outside its table or non-numeric values', () => {
    assert.equal(toCanonical('[stone_av]', 1), undefined);
    assert.equal(toCanonical('kg', 'heavy'), undefined);
  });
});
