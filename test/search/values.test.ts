import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dateRange, decimalRange, formatInstant, normalizeString, parseReference } from '../../src/search/values.js';

const TYPES = new Set(['Patient', 'Practitioner', 'Observation']);
const BASE = 'https://helix.example/fhir';

/** Renders a date range the way the index stores it. */
function range(value: string): [string, string] | undefined {
  const r = dateRange(value);
  return r && [formatInstant(r.low), formatInstant(r.high)];
}

describe('normalizeString', () => {
  it('lower-cases and removes diacritics (search.html#string)', () => {
    assert.equal(normalizeString('Zürich'), 'zurich');
    assert.equal(normalizeString('ÉMILE'), 'emile');
    assert.equal(normalizeString('Ångström Çedille'), 'angstrom cedille');
  });

  it('keeps letters that are not composed with a mark', () => {
    assert.equal(normalizeString('Straße'), 'straße');
  });

  it('caps very long values so the B-tree entry fits', () => {
    assert.equal(normalizeString('A'.repeat(600)), 'a'.repeat(512));
    const astral = 'a'.repeat(511) + '😀';
    assert.equal(normalizeString(astral + 'tail'), 'a'.repeat(511));
  });
});

describe('decimalRange', () => {
  it('uses half a unit of the last significant digit (search.html#number)', () => {
    assert.deepEqual(decimalRange(100), { value: '100', low: '99.5', high: '100.5' });
    assert.deepEqual(decimalRange('1.50'), { value: '1.50', low: '1.495', high: '1.505' });
    assert.deepEqual(decimalRange(0.25), { value: '0.25', low: '0.245', high: '0.255' });
  });

  it('has no floating-point noise', () => {
    assert.deepEqual(decimalRange(0.1), { value: '0.1', low: '0.05', high: '0.15' });
    assert.deepEqual(decimalRange(98.6), { value: '98.6', low: '98.55', high: '98.65' });
  });

  it('handles negative values and exponents', () => {
    assert.deepEqual(decimalRange(-1.5), { value: '-1.5', low: '-1.55', high: '-1.45' });
    assert.deepEqual(decimalRange(1e-7), { value: '0.0000001', low: '0.00000005', high: '0.00000015' });
    assert.deepEqual(decimalRange('1e2'), { value: '100', low: '50', high: '150' });
    assert.deepEqual(decimalRange(0), { value: '0', low: '-0.5', high: '0.5' });
  });

  it('rejects what is not a decimal', () => {
    for (const bad of [Number.NaN, Infinity, 'abc', '1.2.3', '', null, {}, '1e99999']) {
      assert.equal(decimalRange(bad), undefined, String(bad));
    }
  });
});

describe('dateRange', () => {
  it('covers the whole year, month or day of a partial date, taken as UTC', () => {
    assert.deepEqual(range('2021'), ['2021-01-01T00:00:00.000Z', '2021-12-31T23:59:59.999Z']);
    assert.deepEqual(range('2021-03'), ['2021-03-01T00:00:00.000Z', '2021-03-31T23:59:59.999Z']);
    assert.deepEqual(range('2021-02'), ['2021-02-01T00:00:00.000Z', '2021-02-28T23:59:59.999Z']);
    assert.deepEqual(range('2020-02'), ['2020-02-01T00:00:00.000Z', '2020-02-29T23:59:59.999Z']);
    assert.deepEqual(range('2021-03-04'), ['2021-03-04T00:00:00.000Z', '2021-03-04T23:59:59.999Z']);
  });

  it('covers the second of a dateTime, converted to UTC', () => {
    assert.deepEqual(range('2021-03-04T10:20:30+02:00'), ['2021-03-04T08:20:30.000Z', '2021-03-04T08:20:30.999Z']);
    assert.deepEqual(range('2021-12-31T23:30:00-01:00'), ['2022-01-01T00:30:00.000Z', '2022-01-01T00:30:00.999Z']);
    assert.deepEqual(range('2021-03-04T10:20:30Z'), ['2021-03-04T10:20:30.000Z', '2021-03-04T10:20:30.999Z']);
  });

  it('is exact to the millisecond when milliseconds are given, and scales shorter fractions', () => {
    assert.deepEqual(range('2021-03-04T10:20:30.123-05:00'), ['2021-03-04T15:20:30.123Z', '2021-03-04T15:20:30.123Z']);
    assert.deepEqual(range('2021-03-04T10:20:30.123456Z'), ['2021-03-04T10:20:30.123Z', '2021-03-04T10:20:30.123Z']);
    assert.deepEqual(range('2021-03-04T10:20:30.5Z'), ['2021-03-04T10:20:30.500Z', '2021-03-04T10:20:30.599Z']);
  });

  it('handles years before 100 without the two-digit-year mapping', () => {
    assert.deepEqual(range('0050'), ['0050-01-01T00:00:00.000Z', '0050-12-31T23:59:59.999Z']);
  });

  it('rejects malformed dates', () => {
    for (const bad of ['', 'abc', '2021-13', '2021-02-30', '2021-03-04T25:00:00Z', '2021-03-04T10:20:30+15:00', '0000', '21-03-04', 42]) {
      assert.equal(dateRange(bad), undefined, String(bad));
    }
  });

  it('renders open and out-of-range bounds as the PostgreSQL infinities', () => {
    assert.equal(formatInstant(-Infinity), '-infinity');
    assert.equal(formatInstant(Infinity), 'infinity');
    const r = dateRange('0001-01-01T00:30:00+01:00');
    assert.ok(r);
    assert.equal(formatInstant(r.low), '-infinity');
  });
});

describe('parseReference', () => {
  it('resolves relative and versioned references', () => {
    const local = { targetType: 'Patient', targetId: '123', targetUrl: null };
    assert.deepEqual(parseReference('Patient/123', BASE, TYPES), local);
    assert.deepEqual(parseReference('Patient/123/_history/2', BASE, TYPES), local);
  });

  it('treats absolute URLs on our base as local', () => {
    assert.deepEqual(parseReference(`${BASE}/Practitioner/dr-1`, BASE, TYPES), {
      targetType: 'Practitioner',
      targetId: 'dr-1',
      targetUrl: null,
    });
  });

  it('keeps other references as URLs', () => {
    for (const ref of ['http://other.example/fhir/Patient/1', 'urn:uuid:0a7f6e5c-1b2d-4c3e-9f80-123456789abc', '#p1', 'Unknown/1']) {
      assert.deepEqual(parseReference(ref, BASE, TYPES), { targetType: null, targetId: null, targetUrl: ref });
    }
  });
});
