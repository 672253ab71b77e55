// Patient compartment search (search.html#compartment) and Patient/$everything
// (patient-operation-everything.html), on a hand-built fixture.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const ids: Record<string, string> = {};
const named = (...keys: string[]) => keys.map((k) => ids[k]).sort();

describe('patient compartment', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids);
    await make('doc', { resourceType: 'Practitioner', name: [{ family: 'Doc' }] });
    await make('pat', { resourceType: 'Patient', name: [{ family: 'Everything' }] });
    await make('other', { resourceType: 'Patient', name: [{ family: 'Other' }] });
    const p = { reference: `Patient/${ids.pat}` };
    await make('enc', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: p, participant: [{ individual: { reference: `Practitioner/${ids.doc}` } }] });
    await make('hr', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: p });
    await make('temp', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] }, subject: p });
    await make('otherObs', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/${ids.other}` } });
  });

  it('searches one type within the compartment, with further parameters', async () => {
    const { base } = await sharedServer();
    const all = await fhir(base, 'GET', `Patient/${ids.pat}/Observation`);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual((all.body.entry as any[]).map((e) => e.resource.id).sort(), named('hr', 'temp'));
    const hr = await fhir(base, 'GET', `Patient/${ids.pat}/Observation?code=8867-4`);
    assert.deepEqual((hr.body.entry as any[]).map((e) => e.resource.id), [ids.hr]);
  });

  it('$everything returns the patient, its compartment and what those refer to, paged', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'GET', `Patient/${ids.pat}/$everything`);
    assert.equal(res.status, 200, res.text);
    const byMode = (mode: string) => (res.body.entry as any[]).filter((e) => e.search.mode === mode).map((e) => e.resource.id).sort();
    assert.deepEqual(byMode('match'), named('pat', 'enc', 'hr', 'temp'));
    assert.deepEqual(byMode('include'), named('doc'));

    const seen: string[] = [];
    let url: string | undefined = `Patient/${ids.pat}/$everything?_count=3`;
    while (url) {
      const page: Awaited<ReturnType<typeof fhir>> = await fhir(base, 'GET', url);
      seen.push(...(page.body.entry as any[]).filter((e) => e.search.mode === 'match').map((e) => e.resource.id));
      url = ((page.body.link as any[]).find((l) => l.relation === 'next')?.url as string | undefined)?.slice(base.length + 1);
    }
    assert.deepEqual(seen.sort(), named('pat', 'enc', 'hr', 'temp'));

    const typed = await fhir(base, 'GET', `Patient/${ids.pat}/$everything?_type=Observation`);
    assert.deepEqual((typed.body.entry as any[]).map((e) => e.resource.id).sort(), named('hr', 'temp'));
    assert.equal((await fhir(base, 'GET', 'Patient/nobody/$everything')).status, 404);
    assert.equal((await fhir(base, 'GET', `Observation/${ids.hr}/$everything`)).status, 404);
  });
});
