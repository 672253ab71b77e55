// The websocket channel end to end (Backport IG 1.1.0 channels.html "Websockets" and
// OperationDefinition backport-subscription-get-ws-binding-token; R4 subscription.html websocket
// bind/bound/ping): binding tokens, handshakes, event notifications, heartbeats, errors, token
// expiry, and fan-out across instances through Redis.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { createWsHub } from '../../src/subscriptions/ws-hub.js';
import { issueBindingToken } from '../../src/subscriptions/ws-tokens.js';
import { fhir, sharedServer, startServer } from '../harness.js';
import { statusOf, waitForStatus } from './receiver.js';

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const run = randomUUID().slice(0, 8);

/** A websocket client recording every text frame and how the socket closed. */
interface Client { frames: string[]; closed?: { code: number; reason: string }; send(text: string): void; close(): void }

async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url);
  const client: Client = { frames: [], send: (text) => ws.send(text), close: () => ws.close() };
  ws.on('message', (data) => void client.frames.push(String(data)));
  ws.on('close', (code, reason) => { client.closed = { code, reason: reason.toString() }; });
  await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return client;
}

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first frame that is a notification Bundle of this type (and satisfies `pred`). */
const bundleFrame = (c: Client, type: string, pred: (b: any) => boolean = () => true) => () =>
  c.frames.map((f) => (f.startsWith('{') ? JSON.parse(f) : undefined)).find((b) => b?.resourceType === 'Bundle' && statusOf(b).type === type && pred(b));

/** Creates an active websocket Subscription on Observations of `patient`. */
async function websocketSubscription(base: string, patient: string, channel: Record<string, unknown> = {}): Promise<string> {
  const created = await fhir(base, 'POST', 'Subscription', {
    resourceType: 'Subscription', status: 'requested', reason: 'websocket test', criteria: `Observation?subject=Patient/${patient}`,
    channel: { type: 'websocket', ...channel },
  });
  assert.equal(created.status, 201, created.text);
  await waitForStatus(base, created.body.id, 'active');
  return created.body.id;
}

const fullResource = { payload: 'application/fhir+json', _payload: { extension: [{ url: `${IG}backport-payload-content`, valueCode: 'full-resource' }] } };
const observation = (patient: string) => ({
  resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: `Patient/${patient}` }, valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});
const params = (body: any, name: string): any[] => body.parameter.filter((p: any) => p.name === name);

async function bindingToken(base: string, id: string): Promise<{ token: string; url: string; body: any }> {
  const res = await fhir(base, 'POST', `Subscription/${id}/$get-ws-binding-token`);
  assert.equal(res.status, 200, res.text);
  return { token: params(res.body, 'token')[0].valueString, url: params(res.body, 'websocket-url')[0].valueUrl, body: res.body };
}

describe('websocket subscriptions', () => {
  it('issues a binding token, handshakes on bind-with-token, then delivers event notifications', async () => {
    const { base } = await sharedServer();
    const patient = `ws-${run}`;
    const id = await websocketSubscription(base, patient, fullResource);
    const { token, url, body } = await bindingToken(base, id);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url, `${base.replace(/^http/, 'ws')}/$websocket`);
    assert.deepEqual(params(body, 'subscription').map((p) => p.valueString), [id]);
    const expires = Date.parse(params(body, 'expiration')[0].valueDateTime);
    assert.ok(expires > Date.now() + 4 * 60_000 && expires <= Date.now() + 5 * 60_000 + 5_000, 'valid for 5 minutes');

    const client = await connect(url);
    try {
      client.send(`bind-with-token ${token}`);
      const handshake = await until('handshake', bundleFrame(client, 'handshake'));
      assert.equal(handshake.entry[0].resource.parameter.find((p: any) => p.name === 'subscription').valueReference.reference, `${base}/Subscription/${id}`);
      const written = await fhir(base, 'POST', 'Observation', observation(patient));
      await fhir(base, 'POST', 'Observation', observation(`other-${run}`)); // another patient: no event
      const note = await until('event-notification', bundleFrame(client, 'event-notification'));
      assert.deepEqual(statusOf(note).eventNumbers, ['1']);
      assert.deepEqual(statusOf(note).focus, [`${base}/Observation/${written.body.id}/_history/1`]);
      assert.equal(note.entry[1].resource.id, written.body.id, 'full-resource: the Observation travels with the event');
    } finally {
      client.close();
    }
  });

  it('sends heartbeats over the socket', async () => {
    const { base } = await sharedServer();
    const id = await websocketSubscription(base, `hb-${run}`, { ...fullResource, extension: [{ url: `${IG}backport-heartbeat-period`, valueUnsignedInt: 1 }] });
    const { token, url } = await bindingToken(base, id);
    const client = await connect(url);
    try {
      client.send(`bind-with-token ${token}`);
      await until('handshake', bundleFrame(client, 'handshake'));
      await until('heartbeat', bundleFrame(client, 'heartbeat'), 8_000);
    } finally {
      client.close();
    }
  });

  it('answers $get-ws-binding-token at type level for the ids given, and refuses what it cannot bind', async () => {
    const { base } = await sharedServer();
    const a = await websocketSubscription(base, `ta-${run}`);
    const b = await websocketSubscription(base, `tb-${run}`);
    const both = await fhir(base, 'POST', 'Subscription/$get-ws-binding-token', {
      resourceType: 'Parameters', parameter: [{ name: 'id', valueId: a }, { name: 'id', valueId: b }],
    });
    assert.equal(both.status, 200, both.text);
    assert.equal(both.headers.get('cache-control'), 'no-store');
    assert.deepEqual(params(both.body, 'subscription').map((p) => p.valueString), [a, b]);
    assert.equal((await fhir(base, 'POST', `Subscription/$get-ws-binding-token?id=${a}`)).status, 200);

    const hook = await fhir(base, 'POST', 'Subscription', {
      resourceType: 'Subscription', status: 'requested', reason: 'test', criteria: `Observation?subject=Patient/rh-${run}`,
      channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/hook' },
    });
    const refused = await fhir(base, 'POST', `Subscription/${hook.body.id}/$get-ws-binding-token`);
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.resourceType, 'OperationOutcome');
    assert.equal((await fhir(base, 'POST', 'Subscription/$get-ws-binding-token')).status, 400);
    assert.equal((await fhir(base, 'POST', `Subscription/unknown-${run}/$get-ws-binding-token`)).status, 404);
    assert.equal((await fhir(base, 'GET', `Subscription/${a}/$get-ws-binding-token`)).status, 405, 'not idempotent: POST only');
  });

  it('answers a bad token with an OperationOutcome, an unknown command with an error, and closes', async () => {
    const { base } = await sharedServer();
    const url = `${base.replace(/^http/, 'ws')}/$websocket`;
    const bad = await connect(url);
    bad.send(`bind-with-token ${'x'.repeat(43)}`);
    await until('closed', () => bad.closed);
    assert.equal(bad.closed?.code, 1008);
    const outcome = JSON.parse(bad.frames[0] ?? '{}');
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.equal(outcome.issue[0].code, 'security');

    const unknown = await connect(url);
    unknown.send('subscribe everything');
    await until('closed', () => unknown.closed);
    assert.match(unknown.frames[0] ?? '', /^error /);
    assert.equal(unknown.closed?.code, 1008);
  });

  it('serves the R4 protocol: bind <id>, bound <id>, then ping <id> on each matching write', async () => {
    const { base } = await sharedServer();
    const patient = `r4-${run}`;
    const id = await websocketSubscription(base, patient);
    const client = await connect(`${base.replace(/^http/, 'ws')}/$websocket`);
    try {
      client.send(`bind ${id}`);
      await until('bound', () => client.frames.includes(`bound ${id}`));
      await fhir(base, 'POST', 'Observation', observation(patient));
      await until('ping', () => client.frames.includes(`ping ${id}`));
      assert.deepEqual(client.frames, [`bound ${id}`, `ping ${id}`], 'text frames only: no Bundles in the R4 protocol');
    } finally {
      client.close();
    }
  });

  it('ends the bindings of a token when it expires', async () => {
    const { base, helix } = await sharedServer();
    const id = await websocketSubscription(base, `exp-${run}`);
    const { token } = await issueBindingToken(helix.ctx.db, [id], 1_500);
    const client = await connect(`${base.replace(/^http/, 'ws')}/$websocket`);
    client.send(`bind-with-token ${token}`);
    await until('handshake', bundleFrame(client, 'handshake'));
    await until('closed', () => client.closed, 6_000);
    assert.deepEqual(client.closed, { code: 1008, reason: 'binding token expired' });
  });

  it('fans notifications out to every hub of the installation through Redis', { skip: !process.env.REDIS_URL && 'REDIS_URL is not set' }, async () => {
    const redisUrl = process.env.REDIS_URL as string;
    const installationId = `test-${run}`;
    const errors: unknown[] = [];
    const [a, b, other] = await Promise.all([
      createWsHub({ redisUrl, installationId, onError: (e) => errors.push(e) }),
      createWsHub({ redisUrl, installationId, onError: (e) => errors.push(e) }),
      createWsHub({ redisUrl, installationId: `${installationId}-other`, onError: (e) => errors.push(e) }),
    ]);
    try {
      const got = { a: [] as string[], b: [] as string[], other: [] as string[] };
      a.bind('s1', (_id, bundle) => got.a.push(bundle.id as string));
      b.bind('s1', (_id, bundle) => got.b.push(bundle.id as string));
      other.bind('s1', (_id, bundle) => got.other.push(bundle.id as string));
      a.publish('s1', { resourceType: 'Bundle', type: 'history', id: 'n1' });
      b.publish('s2', { resourceType: 'Bundle', type: 'history', id: 'unbound' });
      await until('delivered on b', () => got.b.length >= 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(got, { a: ['n1'], b: ['n1'], other: [] }, 'once per instance, never to another installation');
      assert.deepEqual(errors, []);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('delivers to a socket on a second instance sharing the database and Redis', { skip: !(process.env.REDIS_URL && process.env.DATABASE_URL) && 'needs DATABASE_URL and REDIS_URL' }, async () => {
    const first = await sharedServer();
    const second = await startServer({ databaseUrl: first.helix.ctx.config.databaseUrl });
    try {
      const patient = `x-${run}`;
      const id = await websocketSubscription(first.base, patient, fullResource);
      const { token } = await bindingToken(first.base, id);
      const client = await connect(`${second.base.replace(/^http/, 'ws')}/$websocket`);
      try {
        client.send(`bind-with-token ${token}`);
        await until('handshake', bundleFrame(client, 'handshake'));
        const written = await fhir(first.base, 'POST', 'Observation', observation(patient));
        const note = await until('event-notification', bundleFrame(client, 'event-notification'));
        // Either instance may have delivered it, and in this test each has its own base URL.
        assert.match(statusOf(note).focus[0] ?? '', new RegExp(`/Observation/${written.body.id}/_history/1$`));
      } finally {
        client.close();
      }
    } finally {
      await second.helix.close();
    }
  });
});
