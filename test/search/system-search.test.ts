// System search (http.html#search, search.html#_type): GET [base]?_type=…, with parameters that
// mean the same for every type searched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const run = randomUUID().slice(0, 8);
const meta = { tag: [{ system: 'urn:test', code: `sys-${run}` }] };
const tagParam = `_tag=${encodeURIComponent(`urn:test|sys-${run}`)}`;
const ids: Record<string, string> = {};

describe('system search', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids, meta);
    await make('pat', { resourceType: 'Patient' });
    await make('obs', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${ids.pat}` } });
    await make('cond', { resourceType: 'Condition', subject: { reference: `Patient/${ids.pat}` } });
  });

  it('searches several types with common parameters', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'GET', `?_type=Patient,Observation&${tagParam}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((res.body.entry as any[]).map((e) => e.resource.id).sort(), [ids.pat, ids.obs].sort());
    const all = await fhir(base, 'GET', `?${tagParam}`);
    assert.deepEqual((all.body.entry as any[]).map((e) => e.resource.id).sort(), [ids.pat, ids.obs, ids.cond].sort());
  });

  it('accepts a parameter shared by every listed type (clinical patient) and reports others', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'GET', `?_type=Observation,Condition&patient=Patient/${ids.pat}&${tagParam}`);
    assert.deepEqual((res.body.entry as any[]).filter((e) => e.search.mode === 'match').map((e) => e.resource.id).sort(), [ids.obs, ids.cond].sort());
    const mixed = await fhir(base, 'GET', `?_type=Patient,Observation&code=x&${tagParam}`);
    assert.ok((mixed.body.entry as any[]).some((e) => e.search.mode === 'outcome'));
    assert.equal((await fhir(base, 'GET', '?_type=Martian')).status, 400);
    const strict = await fhir(base, 'GET', `?_type=Patient,Observation&code=x`, undefined, { prefer: 'handling=strict' });
    assert.equal(strict.status, 400);
  });
});
