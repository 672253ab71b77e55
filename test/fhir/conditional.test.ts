// Conditional create, update, delete and patch (http.html#ccreate, #cond-update, #3.1.0.7.1).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const patient = (mrn: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  identifier: [{ system: 'urn:test:mrn', value: mrn }],
  ...extra,
});

async function countByMrn(base: string, mrn: string): Promise<number> {
  const res = await fhir(base, 'GET', `Patient?identifier=${encodeURIComponent(`urn:test:mrn|${mrn}`)}&_total=accurate`);
  assert.equal(res.status, 200);
  return res.body.total;
}

describe('conditional create', () => {
  it('creates on no match, returns the existing resource on one match, 412 on several', async () => {
    const { base } = await sharedServer();
    const mrn = randomUUID();
    const cond = { 'if-none-exist': `identifier=urn:test:mrn|${mrn}` };
    const first = await fhir(base, 'POST', 'Patient', patient(mrn), cond);
    assert.equal(first.status, 201);
    const second = await fhir(base, 'POST', 'Patient', patient(mrn), cond);
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    assert.equal(await countByMrn(base, mrn), 1);

    await fhir(base, 'POST', 'Patient', patient(mrn));
    const third = await fhir(base, 'POST', 'Patient', patient(mrn), cond);
    assert.equal(third.status, 412);
  });

  it('yields exactly one resource from many parallel identical conditional creates', async () => {
    const { base } = await sharedServer();
    const mrn = randomUUID();
    const cond = { 'if-none-exist': `identifier=urn:test:mrn|${mrn}` };
    const results = await Promise.all(Array.from({ length: 16 }, () => fhir(base, 'POST', 'Patient', patient(mrn), cond)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses ${statuses}`);
    assert.equal(statuses.filter((s) => s === 200).length, 15, `statuses ${statuses}`);
    assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    assert.equal(await countByMrn(base, mrn), 1);
  });

  it('rejects a condition with an unknown parameter instead of matching everything', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'POST', 'Patient', patient(randomUUID()), { 'if-none-exist': 'no-such-param=1' });
    assert.equal(res.status, 400);
  });
});

describe('conditional update', () => {
  it('creates on no match, updates the single match, 412 on several', async () => {
    const { base } = await sharedServer();
    const mrn = randomUUID();
    const url = `Patient?identifier=${encodeURIComponent(`urn:test:mrn|${mrn}`)}`;
    const created = await fhir(base, 'PUT', url, patient(mrn, { gender: 'male' }));
    assert.equal(created.status, 201);
    const updated = await fhir(base, 'PUT', url, patient(mrn, { gender: 'female' }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.id, created.body.id);
    assert.equal(updated.body.meta.versionId, '2');
    assert.equal(updated.body.gender, 'female');
    await fhir(base, 'POST', 'Patient', patient(mrn));
    assert.equal((await fhir(base, 'PUT', url, patient(mrn))).status, 412);
  });
});

describe('conditional delete', () => {
  it('deletes every match', async () => {
    const { base } = await sharedServer();
    const mrn = randomUUID();
    for (let i = 0; i < 3; i++) await fhir(base, 'POST', 'Patient', patient(mrn));
    assert.equal(await countByMrn(base, mrn), 3);
    const del = await fhir(base, 'DELETE', `Patient?identifier=${encodeURIComponent(`urn:test:mrn|${mrn}`)}`);
    assert.equal(del.status, 204);
    assert.equal(await countByMrn(base, mrn), 0);
  });
});

describe('patch', () => {
  it('applies a JSON Patch and bumps the version', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Patient', patient(randomUUID(), { gender: 'male' }))).body.id;
    const res = await fhir(base, 'PATCH', `Patient/${id}`, [{ op: 'replace', path: '/gender', value: 'female' }, { op: 'add', path: '/active', value: true }], {
      'content-type': 'application/json-patch+json',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.gender, 'female');
    assert.equal(res.body.active, true);
    assert.equal(res.body.meta.versionId, '2');
  });

  it('applies a FHIRPath Patch (Parameters)', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Patient', patient(randomUUID(), { birthDate: '1920-01-01' }))).body.id;
    const params = {
      resourceType: 'Parameters',
      parameter: [{
        name: 'operation',
        part: [
          { name: 'type', valueCode: 'replace' },
          { name: 'path', valueString: 'Patient.birthDate' },
          { name: 'value', valueDate: '1930-01-01' },
        ],
      }],
    };
    const res = await fhir(base, 'PATCH', `Patient/${id}`, params);
    assert.equal(res.status, 200);
    assert.equal(res.body.birthDate, '1930-01-01');
  });

  it('rejects a patch producing an invalid resource, or changing the id, and honours If-Match', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Patient', patient(randomUUID()))).body.id;
    const jp = { 'content-type': 'application/json-patch+json' };
    const invalid = await fhir(base, 'PATCH', `Patient/${id}`, [{ op: 'add', path: '/gender', value: 'not-a-gender' }], jp);
    assert.ok(invalid.status === 422 || invalid.status === 400, String(invalid.status));
    const idChange = await fhir(base, 'PATCH', `Patient/${id}`, [{ op: 'replace', path: '/id', value: 'other' }], jp);
    assert.equal(idChange.status, 400);
    const stale = await fhir(base, 'PATCH', `Patient/${id}`, [{ op: 'add', path: '/active', value: true }], { ...jp, 'if-match': 'W/"9"' });
    assert.equal(stale.status, 412);
    const badDoc = await fhir(base, 'PATCH', `Patient/${id}`, { not: 'a patch' }, jp);
    assert.equal(badDoc.status, 400);
    assert.equal((await fhir(base, 'GET', `Patient/${id}`)).body.meta.versionId, '1');
  });

  it('patches the single match of a conditional patch', async () => {
    const { base } = await sharedServer();
    const mrn = randomUUID();
    const id = (await fhir(base, 'POST', 'Patient', patient(mrn))).body.id;
    const res = await fhir(base, 'PATCH', `Patient?identifier=${encodeURIComponent(`urn:test:mrn|${mrn}`)}`, [{ op: 'add', path: '/active', value: false }], {
      'content-type': 'application/json-patch+json',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, id);
    assert.equal(res.body.active, false);
  });
});
