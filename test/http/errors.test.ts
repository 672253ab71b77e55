// Hostile and malformed input: always a 4xx OperationOutcome, never a 5xx, never a trace in the DB.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fhir, sharedServer, startServer, type TestServer } from '../harness.js';

function assertOutcome(res: { status: number; body: any; text: string }, status: number): void {
  assert.equal(res.status, status, res.text.slice(0, 300));
  assert.equal(res.body?.resourceType, 'OperationOutcome', res.text.slice(0, 300));
  assert.ok(!/at .*\.(ts|js):\d+/.test(res.text), 'no stack trace');
}

describe('malformed requests', () => {
  it('400 for malformed JSON, wrong/unknown resourceType, non-object bodies', async () => {
    const { base } = await sharedServer();
    assertOutcome(await fhir(base, 'POST', 'Patient', '{"resourceType": "Patient",'), 400);
    assertOutcome(await fhir(base, 'POST', 'Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400);
    assertOutcome(await fhir(base, 'POST', 'Patient', { resourceType: 'Martian' }), 400);
    assertOutcome(await fhir(base, 'POST', 'Patient', { name: 'no type' }), 400);
    assertOutcome(await fhir(base, 'POST', 'Patient', '[1,2,3]'), 400);
    assertOutcome(await fhir(base, 'POST', 'Patient', '"just a string"'), 400);
    assertOutcome(await fhir(base, 'POST', 'Patient', 'null'), 400);
  });

  it('400 for ids over 64 characters or with illegal characters', async () => {
    const { base } = await sharedServer();
    const long = 'a'.repeat(65);
    assertOutcome(await fhir(base, 'PUT', `Patient/${long}`, { resourceType: 'Patient', id: long }), 400);
    const bad = 'bad_id!';
    assertOutcome(await fhir(base, 'PUT', `Patient/${encodeURIComponent(bad)}`, { resourceType: 'Patient', id: bad }), 400);
  });

  it('400 for deeply nested JSON', async () => {
    const { base } = await sharedServer();
    const deep = '{"resourceType":"Patient","extension":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    assertOutcome(await fhir(base, 'POST', 'Patient', deep), 400);
  });

  it('415 for unsupported content types and 406 for unsupported Accept/_format', async () => {
    const { base } = await sharedServer();
    assertOutcome(await fhir(base, 'POST', 'Patient', '<Patient/>', { 'content-type': 'text/plain' }), 415);
    assertOutcome(await fhir(base, 'GET', 'metadata', undefined, { accept: 'text/html' }), 406);
    assertOutcome(await fhir(base, 'GET', 'metadata?_format=text/csv'), 406);
    assert.equal((await fhir(base, 'GET', 'metadata?_format=json')).status, 200);
  });

  it('405 for a method the endpoint does not support; 404 for unknown paths', async () => {
    const { base } = await sharedServer();
    assertOutcome(await fhir(base, 'POST', 'Patient/123', { resourceType: 'Patient' }), 405);
    assertOutcome(await fhir(base, 'DELETE', 'metadata'), 405);
    assertOutcome(await fhir(base, 'GET', 'Patient/1/_history/1/extra/path'), 404);
    assertOutcome(await fhir(base, 'GET', 'Patient/1/$no-such-operation'), 404);
  });

  it('400 for malformed search values', async () => {
    const { base } = await sharedServer();
    assertOutcome(await fhir(base, 'GET', 'Patient?_count=abc'), 400);
    assertOutcome(await fhir(base, 'GET', 'Patient?birthdate=notadate'), 400);
    assertOutcome(await fhir(base, 'GET', 'Patient?_cursor=garbage'), 400);
  });

  it('422 with element expressions for invalid resources, and nothing is stored', async () => {
    const { base } = await sharedServer();
    const tag = randomUUID();
    const res = await fhir(base, 'POST', 'Observation', { resourceType: 'Observation', meta: { tag: [{ system: 'urn:test', code: tag }] }, code: { text: 'no status' } });
    assertOutcome(res, 422);
    assert.ok(res.body.issue.some((i: any) => (i.expression ?? []).some((e: string) => e.includes('status'))), JSON.stringify(res.body));
    const search = await fhir(base, 'GET', `Observation?_tag=urn:test|${tag}&_total=accurate`);
    assert.equal(search.body.total, 0);
  });
});

describe('body size limit', () => {
  let small: TestServer;
  before(async () => {
    small = await startServer({ bodyLimit: 10_000 });
  });
  after(async () => {
    await small.helix.close();
  });

  it('413 beyond the configured limit', async () => {
    const big = { resourceType: 'Patient', name: [{ text: 'x'.repeat(20_000) }] };
    assertOutcome(await fhir(small.base, 'POST', 'Patient', big), 413);
  });
});
