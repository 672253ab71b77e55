// transaction and batch Bundles (http.html#transaction).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const tagged = (tag: string) => ({ tag: [{ system: 'urn:test', code: tag }] });

async function countTagged(base: string, type: string, tag: string): Promise<number> {
  const res = await fhir(base, 'GET', `${type}?_tag=${encodeURIComponent(`urn:test|${tag}`)}&_total=accurate`);
  assert.equal(res.status, 200, res.text);
  return res.body.total;
}

describe('transaction', () => {
  it('resolves urn:uuid fullUrls everywhere and answers in request order', async () => {
    const { base } = await sharedServer();
    const tag = randomUUID();
    const patientUrl = `urn:uuid:${randomUUID()}`;
    const encounterUrl = `urn:uuid:${randomUUID()}`;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: encounterUrl,
          resource: {
            resourceType: 'Encounter', meta: tagged(tag), status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject: { reference: patientUrl },
          },
          request: { method: 'POST', url: 'Encounter' },
        },
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: {
            resourceType: 'Observation', meta: tagged(tag), status: 'final',
            code: { text: 'note' },
            subject: { reference: patientUrl },
            encounter: { reference: encounterUrl },
            extension: [{ url: 'http://example.org/ext', valueReference: { reference: patientUrl } }],
            text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${patientUrl}">patient</a></div>` },
          },
          request: { method: 'POST', url: 'Observation' },
        },
        {
          fullUrl: patientUrl,
          resource: { resourceType: 'Patient', meta: tagged(tag), name: [{ family: 'Transaction' }] },
          request: { method: 'POST', url: 'Patient' },
        },
      ],
    };
    const res = await fhir(base, 'POST', '', bundle);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.type, 'transaction-response');
    const [enc, obs, pat] = res.body.entry as any[];
    for (const e of [enc, obs, pat]) assert.match(e.response.status, /^201/);
    assert.match(enc.response.location, /\/Encounter\//);
    assert.match(obs.response.location, /\/Observation\//);
    assert.match(pat.response.location, /\/Patient\//);
    const patientId = pat.response.location.split('/Patient/')[1].split('/')[0];
    const encounterId = enc.response.location.split('/Encounter/')[1].split('/')[0];
    const obsPath = obs.response.location.slice(base.length + 1).replace(/\/_history\/.*$/, '');
    const stored = (await fhir(base, 'GET', obsPath)).body;
    assert.equal(stored.subject.reference, `Patient/${patientId}`);
    assert.equal(stored.encounter.reference, `Encounter/${encounterId}`);
    assert.equal(stored.extension[0].valueReference.reference, `Patient/${patientId}`);
    assert.ok(stored.text.div.includes(`href="Patient/${patientId}"`), stored.text.div);
  });

  it('is atomic: a failing entry leaves nothing behind', async () => {
    const { base } = await sharedServer();
    const tag = randomUUID();
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', meta: tagged(tag) }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', meta: tagged(tag), id: 'tx-put' + tag.slice(0, 8) }, request: { method: 'PUT', url: `Patient/tx-put${tag.slice(0, 8)}` } },
        // Invalid: Observation.status is required and "bogus" is not in its required value set.
        { resource: { resourceType: 'Observation', meta: tagged(tag), status: 'bogus', code: { text: 'x' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    };
    const res = await fhir(base, 'POST', '', bundle);
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics, /Bundle\.entry\[2\]/);
    assert.equal(await countTagged(base, 'Patient', tag), 0);
    assert.equal((await fhir(base, 'GET', `Patient/tx-put${tag.slice(0, 8)}`)).status, 404);
  });

  it('processes DELETE before POST before PUT before GET', async () => {
    const { base } = await sharedServer();
    const id = `order-${randomUUID()}`;
    await fhir(base, 'PUT', `Basic/${id}`, { resourceType: 'Basic', id, code: { text: 'original' } });
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: `Basic/${id}` } },
        { resource: { resourceType: 'Basic', id, code: { text: 'recreated' } }, request: { method: 'PUT', url: `Basic/${id}` } },
        { request: { method: 'DELETE', url: `Basic/${id}` } },
      ],
    };
    const res = await fhir(base, 'POST', '', bundle);
    assert.equal(res.status, 200, res.text);
    const [get, put, del] = res.body.entry as any[];
    assert.match(del.response.status, /^204/);
    assert.match(put.response.status, /^201/); // re-created after the delete
    assert.match(get.response.status, /^200/);
    assert.equal(get.resource.code.text, 'recreated');
  });

  it('resolves conditional references and ifNoneExist, failing on no match', async () => {
    const { base } = await sharedServer();
    const mrn = randomUUID();
    const pat = await fhir(base, 'POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value: mrn }] });
    const ref = `Patient?identifier=${encodeURIComponent(`urn:test:mrn|${mrn}`)}`;
    const ok = await fhir(base, 'POST', '', {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: ref } }, request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value: mrn }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:test:mrn|${mrn}` } },
      ],
    });
    assert.equal(ok.status, 200, ok.text);
    const obsPath = ok.body.entry[0].response.location.slice(base.length + 1).replace(/\/_history\/.*$/, '');
    assert.equal((await fhir(base, 'GET', obsPath)).body.subject.reference, `Patient/${pat.body.id}`);
    assert.match(ok.body.entry[1].response.status, /^200/);

    const missing = await fhir(base, 'POST', '', {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:test:mrn|no-such' } }, request: { method: 'POST', url: 'Observation' } }],
    });
    assert.ok(missing.status >= 400 && missing.status < 500);
    assert.equal(missing.body.resourceType, 'OperationOutcome');
  });

  it('rejects malformed bundles with 400', async () => {
    const { base } = await sharedServer();
    assert.equal((await fhir(base, 'POST', '', { resourceType: 'Bundle', type: 'collection' })).status, 400);
    assert.equal((await fhir(base, 'POST', '', { resourceType: 'Patient' })).status, 400);
    assert.equal((await fhir(base, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient' } }] })).status, 400);
  });
});

describe('batch', () => {
  it('runs entries independently, each with its own status', async () => {
    const { base } = await sharedServer();
    const tag = randomUUID();
    const res = await fhir(base, 'POST', '', {
      resourceType: 'Bundle', type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient', meta: tagged(tag) }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'bogus', code: { text: 'x' } }, request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.type, 'batch-response');
    const [a, b, c] = res.body.entry as any[];
    assert.match(a.response.status, /^201/);
    assert.match(b.response.status, /^4/);
    assert.equal(b.response.outcome.resourceType, 'OperationOutcome');
    assert.match(c.response.status, /^404/);
    assert.equal(await countTagged(base, 'Patient', tag), 1);
  });
});
