// create, read, vread, update, delete and history over HTTP (http.html#create … #history).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const heartRate = (value: number, tag = randomUUID()) => ({
  resourceType: 'Observation',
  meta: { tag: [{ system: 'urn:test', code: tag }] },
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: 'Patient/example' },
  effectiveDateTime: '2024-05-01T10:00:00Z',
  valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});

describe('create, read, vread', () => {
  it('creates with a server id, version 1, and the versioning headers', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'POST', 'Observation', { ...heartRate(72), id: 'client-chosen-ignored' });
    assert.equal(res.status, 201);
    assert.equal(res.body.resourceType, 'Observation');
    assert.notEqual(res.body.id, 'client-chosen-ignored');
    assert.equal(res.body.meta.versionId, '1');
    assert.match(res.body.meta.lastUpdated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(res.headers.get('etag'), 'W/"1"');
    assert.equal(res.headers.get('location'), `${base}/Observation/${res.body.id}/_history/1`);
    assert.equal(res.headers.get('last-modified'), new Date(res.body.meta.lastUpdated).toUTCString());
    assert.match(res.headers.get('content-type') ?? '', /^application\/fhir\+json/);

    const read = await fhir(base, 'GET', `Observation/${res.body.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, res.body);
    assert.equal(read.headers.get('etag'), 'W/"1"');

    const vread = await fhir(base, 'GET', `Observation/${res.body.id}/_history/1`);
    assert.equal(vread.status, 200);
    assert.deepEqual(vread.body, res.body);
  });

  it('answers 304 to If-None-Match and If-Modified-Since for the current version', async () => {
    const { base } = await sharedServer();
    const created = await fhir(base, 'POST', 'Observation', heartRate(70));
    const id = created.body.id;
    assert.equal((await fhir(base, 'GET', `Observation/${id}`, undefined, { 'if-none-match': 'W/"1"' })).status, 304);
    assert.equal((await fhir(base, 'GET', `Observation/${id}`, undefined, { 'if-none-match': 'W/"7"' })).status, 200);
    const later = new Date(Date.parse(created.body.meta.lastUpdated) + 5000).toUTCString();
    const earlier = new Date(Date.parse(created.body.meta.lastUpdated) - 5000).toUTCString();
    assert.equal((await fhir(base, 'GET', `Observation/${id}`, undefined, { 'if-modified-since': later })).status, 304);
    assert.equal((await fhir(base, 'GET', `Observation/${id}`, undefined, { 'if-modified-since': earlier })).status, 200);
  });

  it('404s unknown ids, versions and types with an OperationOutcome', async () => {
    const { base } = await sharedServer();
    for (const path of ['Observation/does-not-exist', 'Observation/does-not-exist/_history/1', 'NotAType/1']) {
      const res = await fhir(base, 'GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
  });
});

describe('update', () => {
  it('updates to version 2, keeping version 1 readable', async () => {
    const { base } = await sharedServer();
    const created = await fhir(base, 'POST', 'Observation', heartRate(60));
    const id = created.body.id;
    const updated = await fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(61), id });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.meta.versionId, '2');
    assert.equal(updated.headers.get('etag'), 'W/"2"');
    assert.equal((await fhir(base, 'GET', `Observation/${id}/_history/1`)).body.valueQuantity.value, 60);
    assert.equal((await fhir(base, 'GET', `Observation/${id}`)).body.valueQuantity.value, 61);
  });

  it('creates with a client-chosen id (update as create)', async () => {
    const { base } = await sharedServer();
    const id = `client-${randomUUID()}`;
    const res = await fhir(base, 'PUT', `Patient/${id}`, { resourceType: 'Patient', id, gender: 'female' });
    assert.equal(res.status, 201);
    assert.equal(res.body.id, id);
    assert.equal(res.body.meta.versionId, '1');
    assert.equal(res.headers.get('location'), `${base}/Patient/${id}/_history/1`);
  });

  it('enforces If-Match: a stale version is 412', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Observation', heartRate(50))).body.id;
    const ok = await fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(51), id }, { 'if-match': 'W/"1"' });
    assert.equal(ok.status, 200);
    const stale = await fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(52), id }, { 'if-match': 'W/"1"' });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.resourceType, 'OperationOutcome');
  });

  it('lets exactly one of N parallel If-Match updates win', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Observation', heartRate(40))).body.id;
    const n = 12;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(100 + i), id }, { 'if-match': 'W/"1"' })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 412).length, n - 1, `statuses: ${statuses}`);
    const current = await fhir(base, 'GET', `Observation/${id}`);
    assert.equal(current.body.meta.versionId, '2');
  });

  it('serialises parallel plain updates into consecutive versions', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Observation', heartRate(40))).body.id;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(i), id })));
    assert.deepEqual(results.map((r) => r.status), Array(8).fill(200));
    const versions = results.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b);
    assert.deepEqual(versions, [2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects an id mismatch or a missing id with 400', async () => {
    const { base } = await sharedServer();
    const mismatch = await fhir(base, 'PUT', 'Patient/abc', { resourceType: 'Patient', id: 'xyz' });
    assert.equal(mismatch.status, 400);
    const missing = await fhir(base, 'PUT', 'Patient/abc', { resourceType: 'Patient' });
    assert.equal(missing.status, 400);
  });
});

describe('delete and history', () => {
  it('deletes as a new version: read is 410, history keeps every version', async () => {
    const { base } = await sharedServer();
    const id = (await fhir(base, 'POST', 'Observation', heartRate(80))).body.id;
    await fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(81), id });
    const del = await fhir(base, 'DELETE', `Observation/${id}`);
    assert.equal(del.status, 204);
    assert.equal(del.headers.get('etag'), 'W/"3"');
    const read = await fhir(base, 'GET', `Observation/${id}`);
    assert.equal(read.status, 410);
    assert.equal(read.body.resourceType, 'OperationOutcome');
    assert.equal((await fhir(base, 'GET', `Observation/${id}/_history/3`)).status, 410);
    assert.equal((await fhir(base, 'GET', `Observation/${id}/_history/2`)).status, 200);
    // Deleting again changes nothing.
    assert.equal((await fhir(base, 'DELETE', `Observation/${id}`)).status, 204);

    const hist = await fhir(base, 'GET', `Observation/${id}/_history`);
    assert.equal(hist.status, 200);
    assert.equal(hist.body.type, 'history');
    assert.equal(hist.body.total, 3);
    const entries = hist.body.entry as any[];
    assert.deepEqual(entries.map((e) => e.request.method), ['DELETE', 'PUT', 'POST']);
    assert.deepEqual(entries.map((e) => e.response.etag), ['W/"3"', 'W/"2"', 'W/"1"']);
    assert.equal(entries[0].resource, undefined);
    assert.equal(entries[1].resource.valueQuantity.value, 81);

    // Re-creating a deleted resource by PUT continues its version sequence.
    const again = await fhir(base, 'PUT', `Observation/${id}`, { ...heartRate(82), id });
    assert.equal(again.status, 201);
    assert.equal(again.body.meta.versionId, '4');
  });

  it('pages type history with _count and next links, newest first, without repeats', async () => {
    const { base } = await sharedServer();
    const id = `hist-${randomUUID()}`;
    await fhir(base, 'PUT', `Basic/${id}`, { resourceType: 'Basic', id, code: { text: 'v1' } });
    for (let v = 2; v <= 5; v++) await fhir(base, 'PUT', `Basic/${id}`, { resourceType: 'Basic', id, code: { text: `v${v}` } });
    let url: string | undefined = `Basic/${id}/_history?_count=2`;
    const seen: string[] = [];
    while (url) {
      const page: Awaited<ReturnType<typeof fhir>> = await fhir(base, 'GET', url);
      assert.equal(page.status, 200);
      for (const e of page.body.entry ?? []) seen.push(e.response.etag);
      const next = (page.body.link as any[]).find((l) => l.relation === 'next')?.url as string | undefined;
      url = next?.slice(base.length + 1);
    }
    assert.deepEqual(seen, ['W/"5"', 'W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']);
  });

  it('filters history with _since and _at', async () => {
    const { base } = await sharedServer();
    const id = `since-${randomUUID()}`;
    const v1 = await fhir(base, 'PUT', `Basic/${id}`, { resourceType: 'Basic', id, code: { text: 'a' } });
    await new Promise((r) => setTimeout(r, 20));
    const v2 = await fhir(base, 'PUT', `Basic/${id}`, { resourceType: 'Basic', id, code: { text: 'b' } });
    const since = await fhir(base, 'GET', `Basic/${id}/_history?_since=${encodeURIComponent(v2.body.meta.lastUpdated)}`);
    assert.deepEqual((since.body.entry as any[]).map((e) => e.response.etag), ['W/"2"']);
    const at = await fhir(base, 'GET', `Basic/${id}/_history?_at=${encodeURIComponent(v1.body.meta.lastUpdated)}`);
    assert.deepEqual((at.body.entry as any[]).map((e) => e.response.etag), ['W/"1"']);
    const bad = await fhir(base, 'GET', `Basic/${id}/_history?_since=yesterday`);
    assert.equal(bad.status, 400);
  });

  it('lists system history', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'GET', '_history?_count=3');
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'history');
    assert.ok(res.body.entry.length <= 3);
  });
});

describe('Prefer: return', () => {
  it('returns nothing for minimal, an OperationOutcome on request, the resource by default', async () => {
    const { base } = await sharedServer();
    const minimal = await fhir(base, 'POST', 'Observation', heartRate(90), { prefer: 'return=minimal' });
    assert.equal(minimal.status, 201);
    assert.equal(minimal.text, '');
    assert.match(minimal.headers.get('location') ?? '', /\/Observation\/[^/]+\/_history\/1$/);
    const oo = await fhir(base, 'POST', 'Observation', heartRate(91), { prefer: 'return=OperationOutcome' });
    assert.equal(oo.status, 201);
    assert.equal(oo.body.resourceType, 'OperationOutcome');
    const rep = await fhir(base, 'POST', 'Observation', heartRate(92), { prefer: 'return=representation' });
    assert.equal(rep.body.resourceType, 'Observation');
  });
});
