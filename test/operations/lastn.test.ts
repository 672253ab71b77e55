// Observation/$lastn (http://hl7.org/fhir/R4/observation-operation-lastn.html) over a hand-built
// fixture of two patients; every expectation below is worked out by hand from the fixture's times.
// Fixture resources carry a tag unique to this run and every request filters on it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const ids: Record<string, string> = {};
const tag = { system: 'urn:helix:test:lastn', code: randomUUID() };
const TAG = `_tag=${encodeURIComponent(`${tag.system}|${tag.code}`)}`;
const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const cat = (code: string) => [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] }];
const qty = (value: number, code: string) => ({ valueQuantity: { value, unit: code, system: UCUM, code } });

/** Ids of a Bundle's matches, sorted, and the fixture keys expected, as ids, sorted. */
const matches = (body: any): string[] => ((body.entry ?? []) as any[]).filter((e) => e.search.mode === 'match').map((e) => e.resource.id).sort();
const named = (...keys: string[]): string[] => keys.map((k) => ids[k] as string).sort();

async function lastn(query: string, headers: Record<string, string> = {}) {
  const { base } = await sharedServer();
  return fhir(base, 'GET', `Observation/$lastn?${query}&${TAG}`, undefined, headers);
}

describe('Observation/$lastn', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids, { tag: [tag] });
    await make('pa', { resourceType: 'Patient', name: [{ family: 'LastnA' }] });
    await make('pb', { resourceType: 'Patient', name: [{ family: 'LastnB' }] });
    const obs = (p: string, codings: { system: string; code: string }[], at: string, extra: Record<string, unknown>, category = 'vital-signs') => ({
      resourceType: 'Observation', status: 'final', category: cat(category), code: { coding: codings },
      subject: { reference: `Patient/${ids[p]}` }, effectiveDateTime: at, ...extra,
    });
    const hr = [{ system: LOINC, code: '8867-4' }];
    const temp = [{ system: LOINC, code: '8310-5' }];
    const bp = (sys: number, dia: number) => ({
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, ...qty(sys, 'mm[Hg]') },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, ...qty(dia, 'mm[Hg]') },
      ],
    });
    // Patient A: heart rate (one entered-in-error), temperature, a BP panel, a lab, text-only codes.
    await make('hr0', obs('pa', hr, '2024-02-20T08:00:00Z', qty(50, '/min')));
    await make('hr1', obs('pa', hr, '2024-03-01T08:00:00Z', qty(60, '/min')));
    await make('hrEie', obs('pa', hr, '2024-03-01T10:00:00Z', { ...qty(200, '/min'), status: 'entered-in-error' }));
    await make('hr2', obs('pa', hr, '2024-03-01T12:00:00Z', qty(70, '/min')));
    await make('hr3', obs('pa', hr, '2024-03-01T16:00:00Z', qty(95, '/min')));
    await make('t1', obs('pa', temp, '2024-03-01T08:00:00Z', qty(36.8, 'Cel')));
    await make('t2', obs('pa', temp, '2024-03-01T20:00:00Z', qty(98.6, '[degF]')));
    await make('bp1', obs('pa', [{ system: LOINC, code: '85354-9' }], '2024-03-01T09:00:00Z', bp(120, 80)));
    await make('bp2', obs('pa', [{ system: LOINC, code: '85354-9' }], '2024-03-01T13:00:00Z', bp(130, 85)));
    await make('bp3', obs('pa', [{ system: LOINC, code: '85354-9' }], '2024-03-01T17:00:00Z', bp(110, 70)));
    await make('glu', obs('pa', [{ system: LOINC, code: '2339-0' }], '2024-03-01T10:00:00Z', qty(95, 'mg/dL'), 'laboratory'));
    const pain = (text: string, at: string) => ({ ...obs('pa', [], at, { valueInteger: 3 }, 'survey'), code: { text } });
    await make('painOld', pain('Pain score', '2024-03-01T08:00:00Z'));
    await make('painNew', pain('Pain score', '2024-03-01T12:00:00Z'));
    await make('painLower', pain('pain score', '2024-03-01T10:00:00Z'));
    // Patient B: two heart rates tied at the latest time, one of them also coded in SNOMED, which
    // links a SNOMED-only heart rate into the same group (transitive grouping of translations).
    await make('hrB1', obs('pb', hr, '2024-03-01T08:00:00Z', qty(65, '/min')));
    await make('hrB2', obs('pb', hr, '2024-03-02T08:00:00Z', qty(72, '/min')));
    await make('hrB3', obs('pb', [...hr, { system: SNOMED, code: '364075005' }], '2024-03-02T08:00:00Z', qty(74, '/min')));
    await make('hrB4', obs('pb', [{ system: SNOMED, code: '364075005' }], '2024-03-01T12:00:00Z', qty(68, '/min')));
    await make('tB', obs('pb', temp, '2024-03-02T08:00:00Z', qty(37.5, 'Cel')));
  });

  it('max=1 (the default) returns the latest Observation of each code', async () => {
    // A's vital signs: HR latest 16:00 (hr3), temperature 20:00 (t2), BP panel 17:00 (bp3).
    const res = await lastn(`patient=${ids.pa}&category=vital-signs`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.type, 'searchset');
    assert.deepEqual(matches(res.body), named('hr3', 't2', 'bp3'));
    assert.equal(res.body.total, 3);
    const explicit = await lastn(`patient=${ids.pa}&category=vital-signs&max=1`);
    assert.deepEqual(matches(explicit.body), named('hr3', 't2', 'bp3'));
  });

  it('max=2 returns the two latest per code, most recent first', async () => {
    // HR 16:00, 12:00 (hrEie at 10:00 is third); temperature 20:00, 08:00; BP 17:00, 13:00.
    const res = await lastn(`patient=${ids.pa}&category=vital-signs&max=2`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(matches(res.body), named('hr3', 'hr2', 't2', 't1', 'bp3', 'bp2'));
    const order = (res.body.entry as any[]).map((e) => e.resource.id);
    assert.ok(order.indexOf(ids.hr3) < order.indexOf(ids.hr2), 'most recent first within a group');
    assert.ok(order.indexOf(ids.bp3) < order.indexOf(ids.bp2));
  });

  it('includes entered-in-error unless filtered by status, as the definition says', async () => {
    // HR by time: 16:00 hr3, 12:00 hr2, 10:00 hrEie, 08:00 hr1, 02-20 hr0 → the first three.
    const res = await lastn(`patient=${ids.pa}&code=${LOINC}|8867-4&max=3`);
    assert.deepEqual(matches(res.body), named('hr3', 'hr2', 'hrEie'));
    const filtered = await lastn(`patient=${ids.pa}&code=${LOINC}|8867-4&max=3&status=final`);
    assert.deepEqual(matches(filtered.body), named('hr3', 'hr2', 'hr1'));
  });

  it('groups per patient; ties on the effective time are all returned', async () => {
    // B: hrB2 and hrB3 share the latest time (rank 1, 1), so max=1 returns both, plus tB.
    const b1 = await lastn(`patient=${ids.pb}&category=vital-signs`);
    assert.deepEqual(matches(b1.body), named('hrB2', 'hrB3', 'tB'));
    // Ranks 1, 1, 3 (hrB4, SNOMED-only but linked through hrB3's translation), 4 (hrB1).
    const b3 = await lastn(`patient=${ids.pb}&category=vital-signs&max=3`);
    assert.deepEqual(matches(b3.body), named('hrB2', 'hrB3', 'hrB4', 'tB'));
    const both = await lastn(`patient=${ids.pa},${ids.pb}&category=vital-signs`);
    assert.deepEqual(matches(both.body), named('hr3', 't2', 'bp3', 'hrB2', 'hrB3', 'tB'));
    const bySubject = await lastn(`subject=Patient/${ids.pb}&category=vital-signs`);
    assert.deepEqual(matches(bySubject.body), named('hrB2', 'hrB3', 'tB'));
  });

  it('filters by category and by any other search parameter', async () => {
    const lab = await lastn(`patient=${ids.pa}&category=laboratory&max=5`);
    assert.deepEqual(matches(lab.body), named('glu'));
    // Up to 14:00 on 03-01: HR 12:00 (hr2; hrEie is older), temperature 08:00, BP 13:00.
    const before14 = await lastn(`patient=${ids.pa}&category=vital-signs&date=le2024-03-01T14:00:00Z`);
    assert.deepEqual(matches(before14.body), named('hr2', 't1', 'bp2'));
    const none = await lastn(`patient=${ids.pa}&category=vital-signs&date=lt2000-01-01`);
    assert.equal(none.status, 200, none.text);
    assert.equal(none.body.total, 0);
    assert.equal(none.body.entry, undefined);
  });

  it('groups text-only codes by their exact text', async () => {
    // "Pain score" (latest 12:00) and "pain score" (10:00) are two groups.
    const res = await lastn(`patient=${ids.pa}&category=survey`);
    assert.deepEqual(matches(res.body), named('painNew', 'painLower'));
  });

  it('accepts POST with a Parameters body', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'POST', 'Observation/$lastn', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'max', valueInteger: 2 }, { name: 'patient', valueReference: { reference: `Patient/${ids.pa}` } },
        { name: 'category', valueString: 'vital-signs' }, { name: '_tag', valueString: `${tag.system}|${tag.code}` },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(matches(res.body), named('hr3', 'hr2', 't2', 't1', 'bp3', 'bp2'));
  });

  it('rejects missing or bad parameters', async () => {
    const status = async (q: string, headers?: Record<string, string>) => (await lastn(q, headers)).status;
    assert.equal(await status('category=vital-signs'), 400, 'no subject');
    assert.equal(await status(`patient=${ids.pa}`), 400, 'neither category nor code');
    assert.equal(await status(`patient=${ids.pa}&category=vital-signs&max=0`), 400);
    assert.equal(await status(`patient=${ids.pa}&category=vital-signs&max=abc`), 400);
    assert.equal(await status(`patient=${ids.pa}&category=vital-signs&max=1&max=2`), 400);
    assert.equal(await status(`patient=${ids.pa}&category=vital-signs&bogus=1`, { prefer: 'handling=strict' }), 400);
    assert.equal(await status(`patient=${ids.pa}&category=vital-signs&_count=5`, { prefer: 'handling=strict' }), 400);
    const { base } = await sharedServer();
    assert.equal((await fhir(base, 'GET', `Patient/$lastn?patient=${ids.pa}&category=vital-signs`)).status, 404);
  });

  it('reports ignored parameters in an OperationOutcome entry when lenient', async () => {
    const res = await lastn(`patient=${ids.pa}&category=vital-signs&bogus=1`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(matches(res.body), named('hr3', 't2', 'bp3'));
    const outcome = (res.body.entry as any[]).find((e) => e.search.mode === 'outcome');
    assert.match(outcome.resource.issue[0].diagnostics, /bogus/);
  });
});
