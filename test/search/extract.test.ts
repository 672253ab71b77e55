import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { compileExpression, createIndexExtractor } from '../../src/search/extract.js';
import { evaluateFast } from '../../src/search/fast-path.js';
import type { IndexRows } from '../../src/search/index-rows.js';

const BASE = 'https://helix.example/fhir';
const UCUM = 'http://unitsofmeasure.org';
const EXAMPLES = join(import.meta.dirname, '../../../shared/data/fhir-r4-examples');

const defs = loadDefinitions();
// Every parameter's own rows; storage drops the redundant ones (tested at the end of this file).
const extractor = createIndexExtractor(defs, { baseUrl: `${BASE}/`, keepAliasedRows: true });

/** Rows of one table, order-independent. */
function sorted<T>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function assertRows(actual: IndexRows, expected: Partial<IndexRows>): void {
  for (const table of Object.keys(actual) as (keyof IndexRows)[]) {
    assert.deepEqual(sorted<unknown>(actual[table]), sorted<unknown>(expected[table] ?? []), `table ${table}`);
  }
}

describe('createIndexExtractor', () => {
  it('indexes a vital-sign Observation', () => {
    const rows = extractor.extract({
      resourceType: 'Observation',
      id: 'temp-1',
      status: 'final',
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '8310-5', display: 'Body temperature' }], text: 'Body temperature' },
      subject: { reference: 'Patient/123' },
      effectiveDateTime: '2021-03-04T10:20:30+02:00',
      performer: [{ reference: `${BASE}/Practitioner/dr-1` }],
      valueQuantity: { value: 98.6, unit: '°F', system: UCUM, code: '[degF]' },
    });
    const temperature = {
      system: UCUM,
      code: '[degF]',
      value: '98.6',
      low: '98.55',
      high: '98.65',
      canonCode: 'Cel',
      canonValue: '37', // (98.6 − 32) × 5/9
    };
    assertRows(rows, {
      token: [
        // The display (normalised) rides along for :text; CodeableConcept.text equals it, so no extra row.
        { param: 'code', system: 'http://loinc.org', code: '8310-5', text: 'body temperature' },
        { param: 'combo-code', system: 'http://loinc.org', code: '8310-5', text: 'body temperature' },
        { param: 'category', system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
        { param: 'status', system: null, code: 'final' },
      ],
      date: [{ param: 'date', low: '2021-03-04T08:20:30.000Z', high: '2021-03-04T08:20:30.999Z' }],
      quantity: [
        { param: 'value-quantity', ...temperature },
        { param: 'combo-value-quantity', ...temperature },
      ],
      reference: [
        { param: 'subject', targetType: 'Patient', targetId: '123', targetUrl: null },
        { param: 'patient', targetType: 'Patient', targetId: '123', targetUrl: null },
        { param: 'performer', targetType: 'Practitioner', targetId: 'dr-1', targetUrl: null },
      ],
      // Composites pair the code with the value of the same element (the Observation itself).
      composite: ['code-value-quantity', 'combo-code-value-quantity'].map((param) => ({
        param, tSystem: 'http://loinc.org', tCode: '8310-5', vSystem: UCUM, vCode: '[degF]', vValue: '98.6',
        vCanonCode: 'Cel', vCanonValue: '37', vLow: null, vHigh: null, vNorm: null,
      })),
      compartment: [{ compType: 'Patient', compId: '123' }],
    });
  });

  it('indexes a Patient: accented names, identifier, telecom, birth year, address, own compartment', () => {
    const rows = extractor.extract({
      resourceType: 'Patient',
      id: 'p1',
      identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
      active: true,
      name: [{ use: 'official', family: 'Müller', given: ['José', 'Émile'], prefix: ['Dr.'], text: 'Dr. José Émile Müller' }],
      telecom: [
        { system: 'phone', value: '+41 44 123 45 67', use: 'home' },
        { system: 'email', value: 'jose@example.org' },
      ],
      gender: 'male',
      birthDate: '1970',
      address: [{ line: ['Bahnhofstrasse 1'], city: 'Zürich', postalCode: '8001', country: 'CH' }],
      link: [{ other: { reference: 'Patient/p0' }, type: 'replaces' }],
      managingOrganization: { reference: 'Organization/org1' },
      generalPractitioner: [{ reference: 'http://other.example/fhir/Practitioner/x' }],
    });
    const nameParts = [
      { norm: 'muller', exact: 'Müller' },
      { norm: 'jose', exact: 'José' },
      { norm: 'emile', exact: 'Émile' },
      { norm: 'dr.', exact: 'Dr.' },
      { norm: 'dr. jose emile muller', exact: 'Dr. José Émile Müller' },
    ];
    assertRows(rows, {
      string: [
        ...nameParts.map((p) => ({ param: 'name', ...p })),
        ...nameParts.map((p) => ({ param: 'phonetic', ...p })),
        { param: 'family', norm: 'muller', exact: 'Müller' },
        { param: 'given', norm: 'jose', exact: 'José' },
        { param: 'given', norm: 'emile', exact: 'Émile' },
        { param: 'address', norm: 'bahnhofstrasse 1', exact: 'Bahnhofstrasse 1' },
        { param: 'address', norm: 'zurich', exact: 'Zürich' },
        { param: 'address', norm: '8001', exact: '8001' },
        { param: 'address', norm: 'ch', exact: 'CH' },
        { param: 'address-city', norm: 'zurich', exact: 'Zürich' },
        { param: 'address-postalcode', norm: '8001', exact: '8001' },
        { param: 'address-country', norm: 'ch', exact: 'CH' },
      ],
      token: [
        { param: 'identifier', system: 'urn:oid:1.2.36.146.595.217.0.1', code: '12345' },
        { param: 'active', system: null, code: 'true' },
        { param: 'gender', system: null, code: 'male' },
        { param: 'telecom', system: null, code: '+41 44 123 45 67' },
        { param: 'telecom', system: null, code: 'jose@example.org' },
        { param: 'phone', system: null, code: '+41 44 123 45 67' },
        { param: 'email', system: null, code: 'jose@example.org' },
        // R4 `deceased` is `Patient.deceased.exists() and Patient.deceased != false`: false for a living patient.
        { param: 'deceased', system: null, code: 'false' },
      ],
      date: [{ param: 'birthdate', low: '1970-01-01T00:00:00.000Z', high: '1970-12-31T23:59:59.999Z' }],
      reference: [
        { param: 'link', targetType: 'Patient', targetId: 'p0', targetUrl: null },
        { param: 'organization', targetType: 'Organization', targetId: 'org1', targetUrl: null },
        {
          param: 'general-practitioner',
          targetType: null,
          targetId: null,
          targetUrl: 'http://other.example/fhir/Practitioner/x',
        },
      ],
      compartment: [
        { compType: 'Patient', compId: 'p1' },
        { compType: 'Patient', compId: 'p0' }, // Patient.link is the Patient's compartment parameter
      ],
    });
  });

  it('indexes Periods as ranges with open ends as infinities', () => {
    const rows = extractor.extract({
      resourceType: 'Encounter',
      id: 'e1',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/123' },
      period: { start: '2021-03-04T09:00:00+01:00', end: '2021-03-04' },
      length: { value: 90, unit: 'min', system: UCUM, code: 'min' },
      location: [
        { location: { reference: 'Location/l1' }, period: { end: '2020-01' } },
        { location: { reference: 'Location/l2' }, period: { start: '2021-03-04T09:00:00Z' } },
      ],
    });
    assertRows(rows, {
      token: [
        { param: 'status', system: null, code: 'finished' },
        { param: 'class', system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      ],
      date: [
        { param: 'date', low: '2021-03-04T08:00:00.000Z', high: '2021-03-04T23:59:59.999Z' },
        { param: 'location-period', low: '-infinity', high: '2020-01-31T23:59:59.999Z' },
        { param: 'location-period', low: '2021-03-04T09:00:00.000Z', high: 'infinity' },
      ],
      quantity: [
        { param: 'length', system: UCUM, code: 'min', value: '90', low: '89.5', high: '90.5', canonCode: 's', canonValue: '5400' },
      ],
      reference: [
        { param: 'subject', targetType: 'Patient', targetId: '123', targetUrl: null },
        { param: 'patient', targetType: 'Patient', targetId: '123', targetUrl: null },
        { param: 'location', targetType: 'Location', targetId: 'l1', targetUrl: null },
        { param: 'location', targetType: 'Location', targetId: 'l2', targetUrl: null },
      ],
      compartment: [{ compType: 'Patient', compId: '123' }],
    });
  });

  it('spans an inverted Period and indexes Timing by its outer limits', () => {
    const encounter = extractor.extract({
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      period: { start: '2021-03-05', end: '2021-03-04' },
    });
    assert.deepEqual(encounter.date, [{ param: 'date', low: '2021-03-04T00:00:00.000Z', high: '2021-03-05T23:59:59.999Z' }]);
    const carePlan = extractor.extract({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/123' },
      activity: [
        { detail: { status: 'scheduled', scheduledTiming: { event: ['2021-03-04T10:00:00Z', '2021-03-02'] } } },
        { detail: { status: 'scheduled', scheduledPeriod: { start: '2021-04-01' } } },
        { detail: { status: 'scheduled', scheduledString: 'daily' } },
      ],
    });
    assert.deepEqual(sorted(carePlan.date), [
      { param: 'activity-date', low: '2021-03-02T00:00:00.000Z', high: '2021-03-04T10:00:00.999Z' },
      { param: 'activity-date', low: '2021-04-01T00:00:00.000Z', high: 'infinity' },
    ]);
  });

  it('indexes numbers with their precision and skips Ranges', () => {
    const rows = extractor.extract({
      resourceType: 'RiskAssessment',
      id: 'r1',
      status: 'final',
      subject: { reference: 'Patient/123' },
      occurrenceDateTime: '2021-03-04T10:20:30.5Z',
      prediction: [
        { probabilityDecimal: 0.25 },
        { probabilityDecimal: 100 },
        { probabilityRange: { low: { value: 1 }, high: { value: 2 } } },
      ],
    });
    assert.deepEqual(sorted(rows.number), [
      { param: 'probability', value: '0.25', low: '0.245', high: '0.255' },
      { param: 'probability', value: '100', low: '99.5', high: '100.5' },
    ]);
    assert.deepEqual(rows.date, [{ param: 'date', low: '2021-03-04T10:20:30.500Z', high: '2021-03-04T10:20:30.599Z' }]);
  });

  it('indexes Money with its ISO 4217 currency', () => {
    const rows = extractor.extract({
      resourceType: 'Invoice',
      id: 'i1',
      status: 'issued',
      totalGross: { value: 1234.5, currency: 'EUR' },
    });
    assert.deepEqual(rows.quantity, [
      {
        param: 'totalgross',
        system: 'urn:iso:std:iso:4217',
        code: 'EUR',
        value: '1234.5',
        low: '1234.45',
        high: '1234.55',
        canonCode: null,
        canonValue: null,
      },
    ]);
  });

  it('applies `as(T)` as a type filter, so onset-info holds only string onsets', () => {
    const rows = extractor.extract({
      resourceType: 'Condition',
      id: 'c1',
      subject: { reference: 'Patient/123' },
      onsetDateTime: '2012-05-24',
      abatementAge: { value: 5, unit: 'years', system: UCUM, code: 'a' },
    });
    assert.deepEqual(rows.string, []);
    assert.deepEqual(rows.date, [{ param: 'onset-date', low: '2012-05-24T00:00:00.000Z', high: '2012-05-24T23:59:59.999Z' }]);
    assert.deepEqual(rows.quantity, [
      {
        param: 'abatement-age',
        system: UCUM,
        code: 'a',
        value: '5',
        low: '4.5',
        high: '5.5',
        canonCode: 's',
        canonValue: '157788000', // 5 × 365.25 d
      },
    ]);
  });

  it('filters `where(resolve() is Patient)` by the reference target, including absolute local URLs', () => {
    const absolute = extractor.extract({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `${BASE}/Patient/abc/_history/3` },
    });
    assert.deepEqual(
      sorted(absolute.reference.filter((r) => r.param === 'patient')),
      [{ param: 'patient', targetType: 'Patient', targetId: 'abc', targetUrl: null }],
    );
    const group = extractor.extract({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/g1' } });
    assert.deepEqual(group.reference, [{ param: 'subject', targetType: 'Group', targetId: 'g1', targetUrl: null }]);
    assert.deepEqual(group.compartment, []);
  });

  it('skips identifier-only references, Quantity without value and malformed dates', () => {
    const rows = extractor.extract({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { identifier: { system: 'urn:x', value: '1' } },
      effectiveDateTime: '2021-02-30',
      valueQuantity: { unit: 'kg' },
    });
    assert.deepEqual(rows.reference, []);
    assert.deepEqual(rows.date, []);
    assert.deepEqual(rows.quantity, []);
  });

  it('uses the unit when a Quantity has no code, without a canonical form', () => {
    const rows = extractor.extract({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'weight' },
      valueQuantity: { value: 70, unit: 'kg' },
    });
    assert.deepEqual(
      rows.quantity.find((r) => r.param === 'value-quantity'),
      { param: 'value-quantity', system: null, code: 'kg', value: '70', low: '69.5', high: '70.5', canonCode: null, canonValue: null },
    );
  });

  it('never throws on odd input', () => {
    const odd = [
      null,
      {},
      { resourceType: 'NotAType' },
      { resourceType: 'Patient', name: 'not-an-array', birthDate: 1970, telecom: [null, 3] },
      { resourceType: 'Observation', valueQuantity: { value: 'abc', code: [] }, effectivePeriod: { start: 'x' } },
    ];
    for (const resource of odd) assert.doesNotThrow(() => extractor.extract(resource as unknown as Resource));
  });

  it('pairs composite components by type: a valueString is not a concept, a valueDateTime not a string', () => {
    const rows = (value: Record<string, unknown>): string[] => sorted(extractor.extract({
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8665-2' }] }, ...value,
    } as unknown as Resource).composite.map((c) => `${c.param}:${c.vCode ?? c.vNorm ?? c.vLow}`));
    assert.deepEqual(rows({ valueString: 'Tender' }), ['code-value-string:tender']);
    assert.deepEqual(rows({ valueDateTime: '2016-12-30' }), ['code-value-date:2016-12-30T00:00:00.000Z']);
    assert.deepEqual(rows({ valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '373066001' }] } }), [
      'code-value-concept:373066001', 'combo-code-value-concept:373066001',
    ]);
  });

  it('picks up a SearchParameter added after first use', () => {
    const local = loadDefinitions();
    const ext = createIndexExtractor(local, { baseUrl: BASE });
    const patient = {
      resourceType: 'Patient',
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: 'Dupré' }],
    } as Resource;
    assert.deepEqual(ext.extract(patient).string, []);
    local.addSearchParameter({
      resourceType: 'SearchParameter',
      url: 'https://helix.example/fhir/SearchParameter/mothers-maiden-name',
      name: 'mothers-maiden-name',
      status: 'active',
      description: 'test',
      code: 'mothers-maiden-name',
      base: ['Patient'],
      type: 'string',
      expression: "Patient.extension.where(url = 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName').value",
    });
    assert.deepEqual(ext.extract(patient).string, [{ param: 'mothers-maiden-name', norm: 'dupre', exact: 'Dupré' }]);
  });
});

describe('extraction over the official R4 examples', { skip: !existsSync(EXAMPLES) && 'shared examples absent' }, () => {
  const resources = (existsSync(EXAMPLES) ? readdirSync(EXAMPLES) : [])
    .filter((f) => f.endsWith('.json') && f !== '_package.json')
    .map((f) => ({ file: f, resource: JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Resource }))
    .filter(({ resource }) => defs.resourceTypes.has(resource.resourceType));

  it('never throws and produces well-formed, distinct rows', () => {
    assert.ok(resources.length > 700);
    const decimal = /^-?\d+(\.\d+)?$/;
    const instant = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z|-?infinity)$/;
    for (const { file, resource } of resources) {
      const rows = extractor.extract(resource);
      for (const table of Object.keys(rows) as (keyof IndexRows)[]) {
        const keys = rows[table].map((r) => JSON.stringify(r));
        assert.equal(new Set(keys).size, keys.length, `${file}: duplicate ${table} rows`);
        for (const row of rows[table]) if ('param' in row) assert.ok(row.param, `${file}: empty param`);
      }
      for (const r of rows.string) assert.ok(r.exact && typeof r.norm === 'string', file);
      for (const r of rows.token) assert.ok(r.system !== null || r.code !== null || !!r.text, file);
      for (const r of rows.uri) assert.ok(r.uri, file);
      for (const r of rows.date) {
        assert.match(r.low, instant, file);
        assert.match(r.high, instant, file);
        if (r.low.endsWith('Z') && r.high.endsWith('Z')) assert.ok(r.low <= r.high, `${file}: ${JSON.stringify(r)}`);
      }
      for (const r of [...rows.number, ...rows.quantity]) {
        for (const v of [r.value, r.low, r.high]) assert.match(v, decimal, file);
        assert.ok(Number(r.low) <= Number(r.high), `${file}: ${JSON.stringify(r)}`);
      }
      for (const r of rows.quantity) assert.equal(r.canonCode === null, r.canonValue === null, file);
      for (const r of rows.reference) {
        const local = r.targetType !== null && r.targetId !== null && r.targetUrl === null;
        const remote = r.targetType === null && r.targetId === null && !!r.targetUrl;
        assert.ok(local || remote, `${file}: ${JSON.stringify(r)}`);
        if (local) assert.ok(defs.resourceTypes.has(r.targetType as string), file);
      }
      for (const r of rows.compartment) assert.ok(r.compType === 'Patient' && r.compId, file);
    }
  });

  it('fast paths agree with the FHIRPath engine', () => {
    const compiled = new Map<string, ReturnType<typeof compileExpression>>();
    // medplum's as(T) function does not filter (see extract.ts), so those paths are left out here.
    const comparable = (values: TypedValue[]): TypedValue[] =>
      values.filter((v) => v.value !== undefined && v.value !== null).map((v) => ({ type: v.type, value: v.value }));
    let compared = 0;
    for (const { file, resource } of resources) {
      const root = toTypedValue(resource);
      for (const sp of defs.searchParameters(resource.resourceType)) {
        if (!sp.expression || sp.type === 'composite' || sp.type === 'special') continue;
        const key = `${resource.resourceType}.${sp.code}`;
        let paths = compiled.get(key);
        if (!paths) compiled.set(key, (paths = compileExpression(sp.expression, resource.resourceType, defs.resourceTypes)));
        for (const path of paths) {
          if (!path.fast || path.expr.child.toString().includes('.as(')) continue;
          const fast = comparable(evaluateFast(path.fast, root));
          const engine = comparable(evalFhirPathTyped(path.expr, [root], { '%resource': root }));
          assert.ok(isDeepStrictEqual(fast, engine), `${file} ${key}: ${path.expr.child.toString()}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 10_000);
  });
});

describe('storage aliases', () => {
  it('stores neither patient (narrowed subject) nor combo-* rows that code/value rows already hold', () => {
    const storing = createIndexExtractor(defs, { baseUrl: BASE });
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      subject: { reference: 'Patient/p1' },
      component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, system: UCUM, code: 'mm[Hg]' } }],
    } as unknown as Resource;
    const all = extractor.extract(observation);
    const stored = storing.extract(observation);
    // patient = subject.where(resolve() is Patient): every patient row is a subject row.
    assert.ok(all.reference.some((r) => r.param === 'patient'));
    assert.deepEqual(stored.reference.map((r) => r.param), ['subject']);
    // combo-code = code | component.code: both halves are stored under code and component-code.
    assert.deepEqual(stored.token.filter((t) => t.param.startsWith('combo')), []);
    assert.deepEqual(sorted(stored.token.filter((t) => t.param.endsWith('code')).map((t) => `${t.param}=${t.code}`)), ['code=85354-9', 'component-code=8480-6']);
    assert.deepEqual(stored.composite.map((c) => c.param), ['component-code-value-quantity']);
    // Compartment membership is computed before anything is dropped.
    assert.deepEqual(stored.compartment, [{ compType: 'Patient', compId: 'p1' }]);
  });

  it('keeps compartment membership that comes from an aliased parameter (Encounter.patient)', () => {
    const storing = createIndexExtractor(defs, { baseUrl: BASE });
    const rows = storing.extract({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/e1' } } as unknown as Resource);
    assert.deepEqual(rows.compartment, [{ compType: 'Patient', compId: 'e1' }]);
    assert.deepEqual(rows.reference.map((r) => r.param), ['subject']);
  });
});
