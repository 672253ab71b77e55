// Hand-made resources, each broken in one way the R4 specification forbids, and valid vital signs.
// Expected expressions and codes are read from the R4 definitions (element cardinalities, bindings,
// invariants) and the R4 vital-signs profiles, not from running the validator.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import type { Issue } from '../../src/fhir/errors.js';
import { loadProfiles } from '../../src/validation/profiles.js';
import { createValidator, type Validator } from '../../src/validation/validator.js';

const PROFILES = fileURLToPath(new URL('../../profiles', import.meta.url));
const SD = 'http://hl7.org/fhir/StructureDefinition/';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

let validator: Validator;
before(async () => {
  const defs = loadDefinitions();
  validator = createValidator(defs, await loadProfiles(defs, PROFILES));
});

const errors = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
const check = (resource: unknown, options?: Parameters<Validator['validate']>[1]): Issue[] =>
  validator.validate(resource as Resource, options);

/** Asserts exactly one error, at `expression`, and returns it. */
function oneError(resource: unknown, expression: string, options?: Parameters<Validator['validate']>[1]): Issue {
  const found = errors(check(resource, options));
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.deepEqual(found[0]?.expression, [expression]);
  return found[0] as Issue;
}

const vitalSigns = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
];

function heartRate(overrides: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    meta: { profile: [`${SD}heartrate`] },
    status: 'final',
    category: vitalSigns,
    code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/example' },
    effectiveDateTime: '2024-03-01T09:30:00Z',
    valueQuantity: { value: 72, unit: 'beats/minute', system: UCUM, code: '/min' },
    ...overrides,
  };
}

function bloodPressure(components = [systolic(120), diastolic(80)]): Observation {
  return {
    resourceType: 'Observation',
    meta: { profile: [`${SD}bp`] },
    status: 'final',
    category: vitalSigns,
    // The R4 bp profile fixes Observation.code.coding to LOINC 85354-9 (blood pressure panel).
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: 'Patient/example' },
    effectiveDateTime: '2024-03-01T09:30:00Z',
    component: components,
  };
}

function systolic(value: number): NonNullable<Observation['component']>[number] {
  return { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } };
}

function diastolic(value: number): NonNullable<Observation['component']>[number] {
  return { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } };
}

describe('validation against the R4 base definitions', () => {
  it('rejects an Observation without status (1..1)', () => {
    const issue = oneError({ resourceType: 'Observation', code: { text: 'x' } }, 'Observation.status');
    assert.equal(issue.code, 'required');
  });

  it('rejects an Observation without code (1..1)', () => {
    oneError({ resourceType: 'Observation', status: 'final' }, 'Observation.code');
  });

  it('rejects a number where a date is expected', () => {
    oneError({ resourceType: 'Patient', birthDate: 12 }, 'Patient.birthDate');
  });

  it('rejects an array for a single-valued element', () => {
    oneError({ resourceType: 'Patient', gender: ['male', 'female'] }, 'Patient.gender');
  });

  it('rejects a code outside a required binding', () => {
    assert.equal(oneError({ resourceType: 'Patient', gender: 'x' }, 'Patient.gender').code, 'code-invalid');
    oneError({ resourceType: 'Observation', status: 'bogus', code: { text: 'x' } }, 'Observation.status');
  });

  it('checks required bindings inside backbone elements, choice types and contained resources', () => {
    oneError({ resourceType: 'Patient', contact: [{ name: { family: 'Doe' }, gender: 'm' }] }, 'Patient.contact[0].gender');
    const comparator = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      component: [{ code: { text: 'y' }, valueQuantity: { value: 1, comparator: '=' } }],
    };
    oneError(comparator, 'Observation.component[0].value.comparator');
    const contained = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Patient', id: 'p', gender: 'boy' }], subject: { reference: '#p' } };
    oneError(contained, 'Observation.contained[0].gender');
  });

  it('accepts valid codes, and a bound code carried only as an extension', () => {
    assert.deepEqual(errors(check({ resourceType: 'Patient', gender: 'unknown' })), []);
    const extensionOnly = { resourceType: 'Patient', _gender: { extension: [{ url: 'http://example.org/why', valueString: 'not asked' }] } };
    assert.deepEqual(errors(check(extensionOnly)), []);
  });

  it('rejects an unknown element', () => {
    assert.equal(oneError({ resourceType: 'Patient', nickname: 'Bob' }, 'Patient.nickname').code, 'structure');
  });

  it('rejects an unknown resource type', () => {
    assert.equal(errors(check({ resourceType: 'Pateint' })).length, 1);
  });

  it('enforces obs-6: no dataAbsentReason next to a value', () => {
    const issue = oneError(
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1 }, dataAbsentReason: { text: 'lost' } },
      'Observation',
    );
    assert.equal(issue.code, 'invariant');
    assert.match(issue.diagnostics, /obs-6/);
  });

  it('enforces pat-1: a contact needs details or an organization', () => {
    const issue = oneError({ resourceType: 'Patient', contact: [{ gender: 'female' }] }, 'Patient.contact[0]');
    assert.match(issue.diagnostics, /pat-1/);
  });

  it('reads ras-2 as R4 intends: no probability is no violation, 150 is one', () => {
    const base = { resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/1' } };
    assert.deepEqual(errors(check({ ...base, prediction: [{ outcome: { text: 'stroke' } }] })), []);
    assert.match(oneError({ ...base, prediction: [{ probabilityDecimal: 150 }] }, 'RiskAssessment.prediction[0]').diagnostics, /ras-2/);
  });

  it('accepts base64Binary wrapped with whitespace (R4 allows it) but not non-base64 text', () => {
    assert.deepEqual(errors(check({ resourceType: 'Binary', contentType: 'text/plain', data: 'SGVs bG8g\nV29y bGQ=' })), []);
    oneError({ resourceType: 'Binary', contentType: 'text/plain', data: 'not base64!' }, 'Binary.data');
  });
});

describe('modes', () => {
  it("returns nothing for 'delete'", () => {
    assert.deepEqual(check({ resourceType: 'Observation' }, { mode: 'delete' }), []);
  });

  it("requires an id for 'update'", () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' } };
    oneError(obs, 'Observation.id', { mode: 'update' });
    assert.deepEqual(errors(check({ ...obs, id: 'a1' }, { mode: 'update' })), []);
    assert.deepEqual(errors(check(obs, { mode: 'create' })), []);
  });
});

describe('validation against profiles', () => {
  it('accepts a valid heart rate claiming heartrate', () => {
    assert.deepEqual(check(heartRate()), []);
  });

  it('rejects a heart rate with the wrong LOINC code against the profile', () => {
    const issue = oneError(heartRate({ code: { coding: [{ system: LOINC, code: '8310-5' }] } }), 'Observation.code.coding');
    assert.match(issue.diagnostics, /HeartRateCode/);
    assert.match(issue.diagnostics, /heartrate/);
  });

  it('rejects a heart rate whose unit is not the fixed /min', () => {
    const wrongUnit = heartRate({ valueQuantity: { value: 72, unit: 'kg', system: UCUM, code: 'kg' } });
    assert.match(oneError(wrongUnit, 'Observation.value.code').diagnostics, /heartrate/);
  });

  it('rejects a body temperature unit outside the ucum-bodytemp value set', () => {
    const temp = heartRate({
      meta: { profile: [`${SD}bodytemp`] },
      code: { coding: [{ system: LOINC, code: '8310-5' }] },
      valueQuantity: { value: 37, unit: 'kg', system: UCUM, code: 'kg' },
    });
    assert.equal(oneError(temp, 'Observation.value.code').code, 'code-invalid');
    const celsius = { ...temp, valueQuantity: { value: 37, unit: 'C', system: UCUM, code: 'Cel' } };
    assert.deepEqual(check(celsius), []);
  });

  it('accepts a valid blood pressure claiming bp (and vitalsigns)', () => {
    assert.deepEqual(check(bloodPressure()), []);
    const both = bloodPressure();
    both.meta = { profile: [`${SD}vitalsigns`, `${SD}bp`] };
    assert.deepEqual(check(both), []);
  });

  it('rejects a blood pressure without its diastolic component', () => {
    // bp: component 2..*, slice DiastolicBP 1..1; the systolic slice is satisfied.
    const found = errors(check(bloodPressure([systolic(120)])));
    assert.equal(found.length, 2, JSON.stringify(found));
    assert.ok(found.every((i) => i.expression?.[0] === 'Observation.component'));
    assert.ok(found.some((i) => /DiastolicBP/.test(i.diagnostics)));
    assert.ok(!found.some((i) => /SystolicBP/.test(i.diagnostics)));
  });

  it('validates against an explicitly requested profile', () => {
    const plain = heartRate({ meta: undefined, code: { coding: [{ system: LOINC, code: '9279-1' }] } });
    assert.deepEqual(errors(check(plain)), []);
    oneError(plain, 'Observation.code.coding', { profile: `${SD}heartrate` });
  });

  it('only warns about a profile the server does not know', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, meta: { profile: ['http://example.org/fhir/StructureDefinition/unknown'] } };
    const issues = check(obs);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.severity, 'warning');
  });

  it('rejects a profile claimed by the wrong resource type', () => {
    oneError({ resourceType: 'Patient', meta: { profile: [`${SD}bp`] } }, 'Patient.meta.profile');
  });
});
