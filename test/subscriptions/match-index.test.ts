// The subscription index (src/subscriptions/subscription-index.ts): a write evaluates only the
// subscriptions whose key (a reference or a token code their criteria require) its rows carry,
// plus the unkeyed ones of its type; and it never leaves out one that matches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { FhirError } from '../../src/fhir/errors.js';
import { createIndexExtractor } from '../../src/search/extract.js';
import { compileCriteria, type CompiledCriteria } from '../../src/subscriptions/match.js';
import { SubscriptionIndex, bestKey } from '../../src/subscriptions/subscription-index.js';

const BASE = 'https://helix.example/fhir';
const LOINC = 'http://loinc.org';
const defs = loadDefinitions();
const extractor = createIndexExtractor(defs, { baseUrl: BASE, keepAliasedRows: true });
const storageExtractor = createIndexExtractor(defs, { baseUrl: BASE });

function compile(type: string, query: string): CompiledCriteria {
  const c = compileCriteria(defs, type, query, { baseUrl: BASE });
  if (c instanceof FhirError) throw c;
  return c;
}

const enc = encodeURIComponent;
const observation = (code: string, subject = 'Patient/p1', extra: Record<string, unknown> = {}): Resource => ({
  resourceType: 'Observation', id: `obs-${code}`, status: 'final', code: { coding: [{ system: LOINC, code }] },
  subject: { reference: subject }, ...extra,
}) as Resource;
const sorted = (ids: string[]): string[] => [...ids].sort();

describe('SubscriptionIndex', () => {
  it('with 10,000 subscriptions on distinct codes, a write gets only those naming its code', () => {
    const index = new SubscriptionIndex();
    for (let i = 0; i < 10_000; i++) index.add(`sub-${i}`, compile('Observation', `code=${enc(`${LOINC}|C-${i}`)}`));
    index.add('code-only-42', compile('Observation', 'code=C-42')); // any system
    index.add('other-system-42', compile('Observation', `code=${enc('http://snomed.info/sct|C-42')}`));
    index.add('finals', compile('Observation', 'status=final')); // a code, so keyed too
    index.add('every-obs', compile('Observation', 'date=ge2020')); // no key: always checked
    index.add('females', compile('Patient', 'gender=female')); // another type
    assert.equal(index.size, 10_005);

    const write = observation('C-42');
    assert.deepEqual(sorted(index.candidates('Observation', extractor.extract(write))), ['code-only-42', 'every-obs', 'finals', 'sub-42']);
    assert.deepEqual(sorted(index.candidates('Observation', storageExtractor.extract(write))), ['code-only-42', 'every-obs', 'finals', 'sub-42']);
    // The candidates are then matched: the unkeyed one is a candidate but does not match.
    const rows = extractor.extract(write);
    assert.equal(compile('Observation', 'date=ge2020').matches(rows, write), 'no-match');
    assert.deepEqual(index.candidates('Encounter', rows), []);
  });

  it('prefers a reference key to a token key', () => {
    const both = compile('Observation', `code=${enc(`${LOINC}|8867-4`)}&patient=Patient/p1`);
    assert.deepEqual(both.keys.map((k) => k.kind).sort(), ['reference', 'token']);
    assert.equal(bestKey(both.keys)?.kind, 'reference');
    const index = new SubscriptionIndex();
    index.add('hr-p1', both);
    // Same code, another patient: not even a candidate.
    assert.deepEqual(index.candidates('Observation', extractor.extract(observation('8867-4', 'Patient/p2'))), []);
    // The patient's other observations are candidates (keyed by patient), and the matcher sorts them out.
    const other = observation('8310-5', 'Patient/p1');
    assert.deepEqual(index.candidates('Observation', extractor.extract(other)), ['hr-p1']);
    assert.equal(both.matches(extractor.extract(other), other), 'no-match');
    // `patient` is stored as subject rows to Patients: the storage rows find it too.
    assert.deepEqual(index.candidates('Observation', storageExtractor.extract(observation('8867-4'))), ['hr-p1']);
  });

  it('keys bare ids, :Type and ORed values; leaves non-keyable filters to the always list', () => {
    const index = new SubscriptionIndex();
    index.add('bare-id', compile('Observation', 'subject=p1'));
    index.add('typed', compile('Observation', 'subject:Patient=p1'));
    index.add('or', compile('Observation', `code=${enc(`${LOINC}|A,${LOINC}|B`)}`));
    index.add('system-only', compile('Observation', `code=${enc(`${LOINC}|`)}`));
    index.add('not', compile('Observation', 'code:not=A'));
    index.add('id', compile('Observation', '_id=obs-A')); // _id has no index rows: must not be keyed on them
    index.add('url', compile('Observation', `subject=${enc('http://other.example/fhir/Patient/p1')}`));
    const always = ['id', 'not', 'system-only', 'url'];
    assert.deepEqual(sorted(index.candidates('Observation', extractor.extract(observation('A', 'Patient/p1')))), sorted(['bare-id', 'typed', 'or', ...always]));
    assert.deepEqual(sorted(index.candidates('Observation', extractor.extract(observation('B', 'Group/p1')))), sorted(['bare-id', 'or', ...always]));
    assert.deepEqual(sorted(index.candidates('Observation', extractor.extract(observation('C', 'Patient/p9')))), sorted(always));
  });

  it('keys a superset alias on every parameter it reads', () => {
    const index = new SubscriptionIndex();
    index.add('systolic', compile('Observation', `combo-code=${enc(`${LOINC}|8480-6`)}`));
    const bp = observation('85354-9', 'Patient/p1', {
      component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 150, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }],
    });
    // Storage keeps no combo-code rows: the component-code row must find it.
    assert.deepEqual(index.candidates('Observation', storageExtractor.extract(bp)), ['systolic']);
    assert.deepEqual(index.candidates('Observation', extractor.extract(bp)), ['systolic']);
  });

  it('remove and re-add', () => {
    const index = new SubscriptionIndex();
    index.add('s', compile('Observation', 'code=A'));
    const rowsA = extractor.extract(observation('A'));
    const rowsB = extractor.extract(observation('B'));
    assert.deepEqual(index.candidates('Observation', rowsA), ['s']);
    index.add('s', compile('Observation', 'code=B')); // replaces the old criteria
    assert.deepEqual(index.candidates('Observation', rowsA), []);
    assert.deepEqual(index.candidates('Observation', rowsB), ['s']);
    assert.equal(index.remove('s'), true);
    assert.equal(index.remove('s'), false);
    assert.deepEqual(index.candidates('Observation', rowsB), []);
    assert.equal(index.size, 0);
  });

  it('never leaves out a subscription that matches (or may match)', () => {
    const criteria = [
      'code=8310-5', `code=${enc(`${LOINC}|8310-5`)}`, `code=${enc('|8310-5')}`, 'status=final', `status=${enc('|final')}`,
      'patient=p1', 'patient=Patient/p1', 'subject=Patient/p1', 'subject:Patient=p1', `subject=${enc(`${BASE}/Patient/p1`)}`,
      `performer=${enc(`${BASE}/Practitioner/dr-1`)}`, 'performer=dr-1', `_tag=${enc('urn:test|t1')}`, 'combo-code=8480-6',
      `component-code=${enc(`${LOINC}|8480-6`)}`, 'code=8310-5,85354-9&subject=Patient/p1', 'subject:Patient.name=anna',
      'category=vital-signs', 'code=8310-5&patient=p2', 'subject=Group/p1',
    ];
    const resources = [
      observation('8310-5', 'Patient/p1', { meta: { tag: [{ system: 'urn:test', code: 't1' }] }, performer: [{ reference: 'Practitioner/dr-1' }] }),
      observation('85354-9', `${BASE}/Patient/p1`, {
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] } }],
      }),
      observation('8310-5', 'Group/p1'),
      { ...observation('x', 'Patient/p2'), code: { coding: [{ code: '8310-5' }] } } as Resource,
    ];
    const index = new SubscriptionIndex();
    const compiled = criteria.map((q) => compile('Observation', q));
    compiled.forEach((c, i) => index.add(String(i), c));
    let matched = 0;
    for (const resource of resources) {
      for (const rows of [extractor.extract(resource), storageExtractor.extract(resource)]) {
        const candidates = new Set(index.candidates('Observation', rows));
        compiled.forEach((c, i) => {
          if (c.matches(rows, resource) === 'no-match') return;
          matched++;
          assert.ok(candidates.has(String(i)), `${criteria[i]} matches ${JSON.stringify(resource)} but is not a candidate`);
        });
      }
    }
    assert.ok(matched > 20, `only ${matched} matches: the fixtures exercise too little`);
  });
});
