// The NEWS2 score Observation: its content, and that Helix's own R4 validator accepts it.
// Expected scores are worked by hand from the RCP NEWS2 chart.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { buildNews2Observation, NEWS2_RISK_SYSTEM } from '../../src/subscriptions/news2/observation.js';
import { pickNews2Inputs } from '../../src/subscriptions/news2/inputs.js';
import { scoreNews2 } from '../../src/subscriptions/news2/score.js';
import { loadProfiles } from '../../src/validation/profiles.js';
import { createValidator, type Validator } from '../../src/validation/validator.js';
import { obs, qty } from './vitals-fixtures.js';

const PROFILES = fileURLToPath(new URL('../../profiles', import.meta.url));
const SNOMED = 'http://snomed.info/sct';
const AT = '2024-03-01T12:00:00Z';

let validator: Validator;
before(async () => {
  const defs = loadDefinitions();
  validator = createValidator(defs, await loadProfiles(defs, PROFILES));
});

const vital = (id: string, code: string, value: number, unit: string): Observation =>
  obs(id, code, '11:45:00', { valueQuantity: qty(value, unit) });

describe('NEWS2 score Observation', () => {
  it('records total, band, sub-scores, inputs and missing parameters', () => {
    // RR 25 → 3, pulse 95 → 1, temperature 37.0 → 0; SpO2, air/oxygen, BP, consciousness missing
    const picked = pickNews2Inputs(
      [vital('rr', '9279-1', 25, '/min'), vital('hr', '8867-4', 95, '/min'), vital('t', '8310-5', 37, 'Cel')],
      AT,
    );
    const result = scoreNews2(picked.inputs);
    const o = buildNews2Observation(result, { subject: 'Patient/p1', at: AT, derivedFrom: picked.derivedFrom });

    assert.equal(o.status, 'final');
    assert.equal(o.category?.[0]?.coding?.[0]?.code, 'survey');
    assert.deepEqual(o.code.coding?.[0], {
      system: SNOMED,
      code: '1104051000000101',
      display: 'Royal College of Physicians NEWS2 (National Early Warning Score 2) total score',
    });
    assert.equal(o.valueInteger, 4);
    assert.equal(o.interpretation?.[0]?.coding?.[0]?.system, NEWS2_RISK_SYSTEM);
    assert.equal(o.interpretation?.[0]?.coding?.[0]?.code, 'low-medium');
    assert.deepEqual(o.subject, { reference: 'Patient/p1' });
    assert.equal(o.effectiveDateTime, AT);
    assert.deepEqual(o.derivedFrom, [{ reference: 'Observation/rr' }, { reference: 'Observation/hr' }, { reference: 'Observation/t' }]);

    const sub = (code: string) => o.component?.find((c) => c.code.coding?.[0]?.code === code);
    assert.equal(o.component?.length, 7);
    assert.equal(sub('1104301000000104')?.valueInteger, 3); // respiration rate
    assert.equal(sub('1104351000000103')?.valueInteger, 1); // pulse
    assert.equal(sub('1104371000000107')?.valueInteger, 0); // temperature
    assert.equal(sub('1104311000000102')?.valueInteger, undefined); // SpO2 scale 1: missing
    assert.equal(sub('1104311000000102')?.dataAbsentReason?.coding?.[0]?.code, 'unknown');
    assert.match(o.note?.[0]?.text ?? '', /oxygen saturation, air or oxygen, systolic blood pressure, consciousness/);
  });

  it('uses the scale 2 SpO2 sub-score code and omits the note when nothing is missing', () => {
    const result = scoreNews2({
      respiratoryRate: 16, spo2: 97, spo2Scale: 2, onSupplementalOxygen: true, systolicBp: 120,
      heartRate: 70, consciousness: 'A', temperatureCelsius: 37,
    });
    const o = buildNews2Observation(result, { subject: { reference: 'Patient/p1' }, at: new Date(AT) });
    assert.equal(o.valueInteger, 5); // SpO2 97 on oxygen, scale 2 → 3; oxygen → 2
    assert.equal(o.interpretation?.[0]?.coding?.[0]?.code, 'medium');
    assert.equal(o.component?.find((c) => c.code.coding?.[0]?.code === '1104321000000108')?.valueInteger, 3);
    assert.equal(o.effectiveDateTime, '2024-03-01T12:00:00.000Z');
    assert.equal(o.note, undefined);
    assert.equal(o.derivedFrom, undefined);
  });

  it('is valid FHIR R4', () => {
    const full = buildNews2Observation(scoreNews2({ respiratoryRate: 22 }), {
      subject: 'Patient/p1',
      at: AT,
      derivedFrom: [{ reference: 'Observation/rr' }],
    });
    const errors = validator.validate(full).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    assert.deepEqual(errors, []);
  });
});
