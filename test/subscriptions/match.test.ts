// In-memory matching of subscription criteria (src/subscriptions/match.ts) on hand-worked
// fixtures: each parameter type with its modifiers and prefixes, a matching and a non-matching
// case each, with the expected answer reasoned from search.html (and sql.ts, which the matcher
// must agree with) where it is not obvious.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { FhirError } from '../../src/fhir/errors.js';
import { CodeSet } from '../../src/search/code-set.js';
import { createIndexExtractor } from '../../src/search/extract.js';
import { parseSearch } from '../../src/search/parse.js';
import { compileCriteria, compileParsed, type CompiledCriteria, type MatchResult } from '../../src/subscriptions/match.js';

const BASE = 'https://helix.example/fhir';
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const defs = loadDefinitions();
const extractor = createIndexExtractor(defs, { baseUrl: BASE, keepAliasedRows: true });
// The rows as storage keeps them (aliased rows dropped): matching must not depend on which.
const storageExtractor = createIndexExtractor(defs, { baseUrl: BASE });

const loinc = (code: string, display?: string) => ({ coding: [{ system: LOINC, code, ...(display ? { display } : {}) }] });

const temperature = {
  resourceType: 'Observation', id: 'temp-1',
  meta: { lastUpdated: '2024-05-01T12:00:00.000Z', tag: [{ system: 'urn:test', code: 't1' }], profile: ['http://hl7.org/fhir/StructureDefinition/bodytemp'] },
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: loinc('8310-5', 'Body temperature'),
  subject: { reference: 'Patient/p1', identifier: { system: 'urn:mrn', value: '42' } },
  performer: [{ reference: `${BASE}/Practitioner/dr-1` }],
  effectiveDateTime: '2021-03-04T10:20:30+02:00', // 08:20:30Z
  valueQuantity: { value: 38.5, unit: '°C', system: UCUM, code: 'Cel' },
} as Resource;

const bloodPressure = {
  resourceType: 'Observation', id: 'bp-1', meta: { lastUpdated: '2024-05-01T12:00:00.000Z' }, status: 'final',
  code: loinc('85354-9'), subject: { reference: 'Patient/p1' }, effectiveDateTime: '2021-03-15',
  component: [
    { code: loinc('8480-6'), valueQuantity: { value: 150, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    { code: loinc('8462-4'), valueQuantity: { value: 95, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
  ],
} as Resource;

const period = {
  resourceType: 'Observation', id: 'period-1', status: 'final', code: loinc('8867-4'),
  effectivePeriod: { start: '2021-03-01', end: '2021-03-10' },
} as Resource;

const patient = {
  resourceType: 'Patient', id: 'p1', meta: { lastUpdated: '2024-05-01T12:00:00.000Z' }, active: true, gender: 'female', birthDate: '1980-06-15',
  name: [{ family: 'Müller', given: ['Anna'] }], address: [{ city: 'São Paulo' }],
  identifier: [{ system: 'urn:mrn', value: '12345', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }],
} as Resource;

const risk = { resourceType: 'RiskAssessment', id: 'r1', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 0.25 }] } as Resource;

function compile(type: string, query: string): CompiledCriteria {
  const c = compileCriteria(defs, type, query, { baseUrl: BASE });
  if (c instanceof FhirError) throw c;
  return c;
}

function check(resource: Resource, query: string, rows = extractor.extract(resource)): MatchResult {
  return compile(resource.resourceType, query).matches(rows, resource);
}

/** Asserts the result of each query on one resource, also on the rows storage keeps. */
function expectAll(resource: Resource, cases: Record<string, MatchResult>): void {
  for (const [query, expected] of Object.entries(cases)) {
    assert.equal(check(resource, query), expected, `${resource.id}?${query}`);
    assert.equal(check(resource, query, storageExtractor.extract(resource)), expected, `${resource.id}?${query} (storage rows)`);
  }
}

const enc = encodeURIComponent;

describe('subscription criteria: string', () => {
  it('starts-with on the normalised value, :contains, :exact', () => {
    expectAll(patient, {
      'name=mull': 'match', // 'Müller' normalises to 'muller', which starts with 'mull'
      'name=ller': 'no-match', // the default is starts-with, not contains
      'name:contains=ller': 'match',
      'name:contains=xyz': 'no-match',
      [`name:exact=${enc('Müller')}`]: 'match',
      'name:exact=muller': 'no-match', // :exact compares as written: case and accents count
      'family=MÜL': 'match',
      'address-city=sao': 'match',
      'address-city=paulo': 'no-match',
    });
  });
});

describe('subscription criteria: token', () => {
  it('code, system|code, |code and system|', () => {
    expectAll(temperature, {
      [`code=${enc(`${LOINC}|8310-5`)}`]: 'match',
      'code=8310-5': 'match',
      [`code=${enc('http://snomed.info/sct|8310-5')}`]: 'no-match',
      [`code=${enc('|8310-5')}`]: 'no-match', // |code needs a coding without system
      [`status=${enc('|final')}`]: 'match', // a primitive code is indexed without a system
      [`code=${enc(`${LOINC}|`)}`]: 'match',
      [`code=${enc('http://other.example|')}`]: 'no-match',
      [`_tag=${enc('urn:test|t1')}`]: 'match',
      [`_tag=${enc('urn:test|t2')}`]: 'no-match',
    });
    expectAll(patient, { 'gender=female': 'match', 'gender=male': 'no-match', 'active=true': 'match', 'active=false': 'no-match' });
  });

  it(':not also matches a resource without the parameter', () => {
    expectAll(temperature, {
      [`code:not=${enc(`${LOINC}|8310-5`)}`]: 'no-match',
      'code:not=8867-4': 'match',
      'data-absent-reason:not=unknown': 'match', // no data-absent-reason at all: NOT IN (nothing)
    });
  });

  it(':text on the display, at the start of a word', () => {
    expectAll(temperature, { 'code:text=body': 'match', 'code:text=TEMP': 'match', 'code:text=ody': 'no-match' });
  });

  it(':of-type on identifiers', () => {
    const mr = 'http://terminology.hl7.org/CodeSystem/v2-0203|MR';
    expectAll(patient, { [`identifier:of-type=${enc(`${mr}|12345`)}`]: 'match', [`identifier:of-type=${enc(`${mr}|999`)}`]: 'no-match' });
  });

  it(':in and :not-in are left to the database unless their codes are resolved', () => {
    const inVs = `code:in=${enc('http://example.org/ValueSet/vitals')}`;
    assert.equal(check(temperature, `${inVs}&status=final`), 'needs-database');
    assert.equal(check(temperature, `${inVs}&status=amended`), 'no-match'); // an in-memory part already fails
    assert.equal(compile('Observation', inVs).inMemory, false);

    const resolved = (modifier: string): CompiledCriteria => {
      const req = parseSearch(defs, 'Observation', new URLSearchParams(`code:${modifier}=http://example.org/ValueSet/vitals`), { defaultCount: 0, maxCount: 0 });
      (req.filters[0] as { codes?: CodeSet }).codes = CodeSet.of(LOINC, ['8310-5', '8867-4']);
      return compileParsed(defs, req, { baseUrl: BASE });
    };
    const rows = extractor.extract(temperature);
    assert.equal(resolved('in').inMemory, true);
    assert.equal(resolved('in').matches(rows, temperature), 'match');
    assert.equal(resolved('not-in').matches(rows, temperature), 'no-match');
    assert.equal(resolved('in').matches(extractor.extract(bloodPressure), bloodPressure), 'no-match');
  });
});

describe('subscription criteria: reference', () => {
  it('Type/id, id, :Type, absolute URLs to this server, and aliases', () => {
    expectAll(temperature, {
      'subject=Patient/p1': 'match',
      'subject=Patient/p2': 'no-match',
      'subject=p1': 'match', // a bare id matches any target type
      'subject:Patient=p1': 'match',
      'subject:Group=p1': 'no-match',
      'subject=Patient/p1/_history/3': 'match', // the version is ignored
      [`subject=${enc('http://other.example/fhir/Patient/p1')}`]: 'no-match', // another server's Patient
      'patient=Patient/p1': 'match', // storage reads subject rows to Patients for `patient`
      'patient=p1': 'match',
      [`performer=${enc(`${BASE}/Practitioner/dr-1`)}`]: 'match',
      'performer=Practitioner/dr-1': 'match',
      [`subject:identifier=${enc('urn:mrn|42')}`]: 'match',
      [`subject:identifier=${enc('urn:mrn|43')}`]: 'no-match',
    });
    // Storage keeps no `patient:identifier` rows, so the search never finds this: the database decides.
    assert.equal(check(temperature, `patient:identifier=${enc('urn:mrn|42')}`), 'needs-database');
  });
});

describe('subscription criteria: date', () => {
  it('prefixes on a dateTime', () => {
    expectAll(temperature, {
      'date=2021': 'match', // the instant lies within the year
      'date=2021-03-04': 'match',
      'date=2021-03-05': 'no-match',
      'date=2022': 'no-match',
      '_lastUpdated=gt2024-04-30': 'match',
      '_lastUpdated=lt2024-05-01': 'no-match', // 12:00 on May 1 is not before May 1 begins
    });
    expectAll(bloodPressure, {
      'date=gt2021-03': 'no-match', // gt: the value must extend beyond the whole month: 2021-03-15 does not
      'date=gt2021-02': 'match',
      'date=ge2021-03': 'match',
      'date=lt2021-03-15': 'no-match', // lt: it must start before the 15th begins; the day 2021-03-15 does not
      'date=le2021-03-15': 'match',
      'date=ne2021-03': 'no-match', // contained in March, so not "not equal"
      'date=ne2021-04': 'match',
      'date=sa2021-03-14': 'match', // starts after the 14th ends
      'date=sa2021-03': 'no-match',
      'date=eb2021-04': 'match', // ends before April begins
      'date=eb2021-03': 'no-match',
      [`date=ap${enc('2021-03-15T12:00:00Z')}`]: 'match', // ap on dates: the ranges overlap (as sql.ts)
      'date=ap2021-03-16': 'no-match',
    });
  });

  it('eq on a Period needs the whole period inside the search range', () => {
    expectAll(period, { 'date=2021-03': 'match', 'date=2021-03-05': 'no-match', 'date=ap2021-03-05': 'match', 'date=gt2021-03-09': 'match' });
  });
});

describe('subscription criteria: number', () => {
  it('implicit precision for eq/ne, exact value for the other prefixes, ap ±10 %', () => {
    expectAll(risk, {
      'probability=0.25': 'match',
      'probability=0.2': 'no-match', // 0.2 means [0.15, 0.25): the upper bound is excluded
      'probability=0.3': 'match', // [0.25, 0.35)
      'probability=gt0.2': 'match',
      'probability=lt0.25': 'no-match',
      'probability=le0.25': 'match',
      'probability=ap0.24': 'match', // [0.216, 0.264]
      'probability=ap0.2': 'no-match', // [0.18, 0.22]
      'probability=ne0.25': 'no-match',
      'probability=ne0.4': 'match',
      'probability=sa0.2': 'match',
      'probability=eb0.2': 'no-match',
    });
  });
});

describe('subscription criteria: quantity', () => {
  it('compares canonical UCUM when the search names a unit', () => {
    expectAll(temperature, {
      // 100 °F = 37.78 °C, and 38.5 °C is above it.
      [`value-quantity=${enc(`gt100|${UCUM}|[degF]`)}`]: 'match',
      [`value-quantity=${enc(`gt102|${UCUM}|[degF]`)}`]: 'no-match', // 102 °F = 38.89 °C
      // 101.3 °F means [101.25, 101.35] °F = [38.47, 38.53] °C, which holds 38.5.
      [`value-quantity=${enc(`101.3|${UCUM}|[degF]`)}`]: 'match',
      [`value-quantity=${enc(`311.65|${UCUM}|K`)}`]: 'match', // [38.495, 38.505] °C
      [`value-quantity=${enc('38.5||Cel')}`]: 'match',
      'value-quantity=38.5': 'match', // no unit: the value as written
      'value-quantity=38': 'no-match', // [37.5, 38.5) excludes 38.5
      [`value-quantity=${enc('ap35||Cel')}`]: 'match', // [31.5, 38.5] includes 38.5
      [`value-quantity=${enc('ap34||Cel')}`]: 'no-match', // [30.6, 37.4]
      [`value-quantity=${enc('38.5|http://other.example|Cel')}`]: 'no-match', // another system
    });
  });
});

describe('subscription criteria: uri', () => {
  it('equality, :below and :above', () => {
    expectAll(temperature, {
      [`_profile=${enc('http://hl7.org/fhir/StructureDefinition/bodytemp')}`]: 'match',
      [`_profile=${enc('http://hl7.org/fhir/StructureDefinition/bodyweight')}`]: 'no-match',
      [`_profile:below=${enc('http://hl7.org/fhir/StructureDefinition/')}`]: 'match',
      [`_profile:below=${enc('http://example.org/')}`]: 'no-match',
      [`_profile:above=${enc('http://hl7.org/fhir/StructureDefinition/bodytemp/v2')}`]: 'match', // the profile is a prefix of the value
      [`_profile:above=${enc('http://hl7.org/fhir/')}`]: 'no-match',
    });
  });
});

describe('subscription criteria: composite', () => {
  it('pairs the code and the value of the same component', () => {
    expectAll(bloodPressure, {
      [`component-code-value-quantity=${enc(`${LOINC}|8480-6$gt140`)}`]: 'match', // systolic 150
      [`component-code-value-quantity=${enc(`${LOINC}|8462-4$gt140`)}`]: 'no-match', // diastolic 95
      'component-code-value-quantity=8462-4$150': 'no-match', // 150 is the systolic's value, not the diastolic's
      // 20 kPa = 20000 Pa, 150 mm[Hg] = 19998.3 Pa: just below.
      [`component-code-value-quantity=${enc(`8480-6$gt20|${UCUM}|kPa`)}`]: 'no-match',
      [`component-code-value-quantity=${enc(`8480-6$gt19|${UCUM}|kPa`)}`]: 'match',
      'combo-code-value-quantity=8480-6$150': 'match', // combo reads component rows too
    });
    expectAll(temperature, {
      [`code-value-quantity=${enc(`${LOINC}|8310-5$gt37|${UCUM}|Cel`)}`]: 'match',
      [`code-value-quantity=${enc(`${LOINC}|8310-5$lt37|${UCUM}|Cel`)}`]: 'no-match',
    });
  });
});

describe('subscription criteria: combinations', () => {
  it('comma is OR, a repeated parameter is AND', () => {
    expectAll(temperature, {
      [`code=${enc(`${LOINC}|8867-4,${LOINC}|8310-5`)}`]: 'match',
      'code=8867-4,8480-6': 'no-match',
      'code=8310-5&status=final': 'match',
      'code=8310-5&status=amended': 'no-match',
      'date=ge2021-03-01&date=lt2021-04': 'match',
      'date=ge2021-03-05&date=lt2021-04': 'no-match',
      '': 'match', // no filter: every Observation
    });
  });

  it(':missing, _id', () => {
    expectAll(temperature, {
      'value-quantity:missing=false': 'match',
      'value-quantity:missing=true': 'no-match',
      'data-absent-reason:missing=true': 'match',
      'patient:missing=false': 'match',
      'code-value-quantity:missing=false': 'match',
      '_id=temp-1': 'match',
      '_id=x,temp-1': 'match',
      '_id=x': 'no-match',
      '_id:not=temp-1': 'no-match',
    });
    expectAll(patient, { 'name:missing=true': 'no-match', 'general-practitioner:missing=true': 'match', '_id:missing=false': 'match' });
    // Another type never matches.
    assert.equal(compile('Observation', '').matches(extractor.extract(patient), patient), 'no-match');
  });

  it('chains, _has and full text need the database', () => {
    const chained = compile('Observation', 'subject:Patient.name=anna&status=final');
    assert.equal(chained.inMemory, false);
    assert.equal(chained.matches(extractor.extract(temperature), temperature), 'needs-database');
    assert.equal(check(temperature, 'subject:Patient.name=anna&status=amended'), 'no-match');
    assert.equal(check(patient, '_has:Observation:patient:code=8310-5'), 'needs-database');
    assert.equal(check(temperature, '_text=fever'), 'needs-database');
    assert.equal(compile('Observation', 'code=8310-5&date=ge2021').inMemory, true);
  });
});

describe('subscription criteria: rejected', () => {
  it('returns a 400 for criteria a search would refuse or ignore', () => {
    const reject = (type: string, query: string, pattern: RegExp): void => {
      const c = compileCriteria(defs, type, query, { baseUrl: BASE });
      assert.ok(c instanceof FhirError, `${type}?${query} should be rejected`);
      assert.equal(c.status, 400);
      assert.match(c.message, pattern, `${type}?${query}`);
    };
    reject('Observation', 'cdoe=8310-5', /unknown search parameter cdoe/);
    reject('Observation', 'code=8310-5&_count=10', /_count is not allowed/);
    reject('Observation', '_sort=date', /_sort/);
    reject('Observation', '_include=Observation:subject', /_include/);
    reject('Observation', '_revinclude=Provenance:target', /_revinclude/);
    reject('Observation', 'date=yesterday', /Invalid date/);
    reject('Observation', 'value-quantity=abc||Cel', /Invalid quantity/);
    reject('Observation', 'probability=1', /unknown search parameter/);
    reject('RiskAssessment', 'probability=lots', /Invalid number/);
    reject('Observation', 'code:missing=maybe', /true or false/);
    reject('Observation', 'component-code-value-quantity=8480-6', /two components/);
    reject('Patient', 'identifier:of-type=MR|12345', /type-system\|type-code\|value/);
    reject('Observation', 'subject:Patient.birthdate=someday', /Invalid date/); // checked inside the chain too
    reject('Observation', 'code:sounds-like=x', /modifier :sounds-like/);
    reject('Nonsense', 'code=x', /unknown resource type/);
  });
});
