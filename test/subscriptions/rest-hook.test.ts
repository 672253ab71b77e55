// Rest-hook subscriptions end to end over HTTP (subscription.html; Backport IG channels.html):
// handshake and activation, event notifications with gap-free numbers, headers, payload levels.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { fhir, sharedServer } from '../harness.js';
import { heartRate, startReceiver, statusOf, waitForStatus, type Receiver } from './receiver.js';

const LOINC = 'http://loinc.org';
const run = randomUUID().slice(0, 8);

describe('rest-hook subscriptions', () => {
  let receiver: Receiver;
  before(async () => { receiver = await startReceiver(); });
  after(async () => { await receiver.close(); });

  it('handshakes, activates, and notifies matching writes in order with their event numbers', async () => {
    const { base } = await sharedServer();
    const patient = `p-${run}`;
    const created = await fhir(base, 'POST', 'Subscription', {
      resourceType: 'Subscription', status: 'requested', reason: 'test', criteria: `Observation?code=${LOINC}|8867-4&subject=Patient/${patient}`,
      channel: { type: 'rest-hook', endpoint: receiver.url, payload: 'application/fhir+json', header: ['Authorization: Bearer a:b:c', 'X-Test: one'] },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    await waitForStatus(base, id, 'active');
    const handshake = receiver.received.find((r) => statusOf(r.json).type === 'handshake');
    assert.ok(handshake, 'a handshake was posted');
    assert.equal(handshake.headers['content-type'], 'application/fhir+json');
    // Split at the first colon only: the value keeps its colons.
    assert.equal(handshake.headers.authorization, 'Bearer a:b:c');
    assert.equal(handshake.headers['x-test'], 'one');

    const first = await fhir(base, 'POST', 'Observation', heartRate(patient, 80));
    await fhir(base, 'POST', 'Observation', heartRate(`other-${run}`, 81)); // another patient: no event
    const second = await fhir(base, 'POST', 'Observation', heartRate(patient, 82));
    const events = () => receiver.received.map((r) => statusOf(r.json)).filter((s) => s.type === 'event-notification' && s.focus.some((f) => f.includes(first.body.id) || f.includes(second.body.id)));
    await receiver.waitFor(() => events().flatMap((e) => e.eventNumbers).length >= 2);
    const numbers = events().flatMap((e) => e.eventNumbers);
    assert.deepEqual(numbers, ['1', '2']);
    const focus = events().flatMap((e) => e.focus);
    assert.deepEqual(focus, [`${base}/Observation/${first.body.id}/_history/1`, `${base}/Observation/${second.body.id}/_history/1`]);
    // full-resource (a payload MIME type on an R4 criteria subscription): the resource travels with the event.
    const bundle = receiver.received.find((r) => statusOf(r.json).focus.some((f) => f.includes(first.body.id)))!.json;
    assert.equal(bundle.type, 'history');
    assert.equal(bundle.entry[1].resource.id, first.body.id);
    assert.deepEqual(bundle.entry[1].request, { method: 'POST', url: 'Observation' });
  });

  it('reports $status and replays $events from the stored events', async () => {
    const { base } = await sharedServer();
    const patient = `s-${run}`;
    const created = await fhir(base, 'POST', 'Subscription', {
      resourceType: 'Subscription', status: 'requested', reason: 'test', criteria: `Observation?subject=Patient/${patient}`,
      channel: { type: 'rest-hook', endpoint: receiver.url, payload: 'application/fhir+json' },
    });
    const id = created.body.id;
    await waitForStatus(base, id, 'active');
    const obs: string[] = [];
    for (const v of [60, 61, 62]) obs.push((await fhir(base, 'POST', 'Observation', heartRate(patient, v))).body.id);
    await receiver.waitFor((r) => r.some((x) => statusOf(x.json).focus.some((f) => f.includes(obs[2]))));

    const status = await fhir(base, 'GET', `Subscription/${id}/$status`);
    assert.equal(status.status, 200, status.text);
    assert.equal(status.body.type, 'searchset');
    assert.equal(status.body.entry.length, 1);
    const params = status.body.entry[0].resource;
    assert.equal(params.resourceType, 'Parameters');
    assert.equal(params.parameter.find((p: any) => p.name === 'status').valueCode, 'active');
    assert.equal(params.parameter.find((p: any) => p.name === 'type').valueCode, 'query-status');
    assert.equal(params.parameter.find((p: any) => p.name === 'events-since-subscription-start').valueString, '3');
    const byType = await fhir(base, 'GET', `Subscription/$status?id=${id}&status=active`);
    assert.equal(byType.body.entry.length, 1);
    assert.equal((await fhir(base, 'GET', `Subscription/$status?id=${id}&status=off`)).body.entry?.length ?? 0, 0);

    const replay = await fhir(base, 'GET', `Subscription/${id}/$events?eventsSinceNumber=2&eventsUntilNumber=3`);
    assert.equal(replay.status, 200, replay.text);
    const replayed = statusOf(replay.body);
    assert.equal(replayed.type, 'query-event');
    assert.deepEqual(replayed.eventNumbers, ['2', '3']);
    assert.deepEqual(replayed.focus, [`${base}/Observation/${obs[1]}/_history/1`, `${base}/Observation/${obs[2]}/_history/1`]);
    const idOnly = await fhir(base, 'GET', `Subscription/${id}/$events?content=id-only`);
    assert.deepEqual(statusOf(idOnly.body).eventNumbers, ['1', '2', '3']);
    assert.ok(idOnly.body.entry.slice(1).every((e: any) => e.resource === undefined), 'id-only carries no resources');
    assert.equal((await fhir(base, 'GET', `Subscription/${id}/$events?eventsSinceNumber=x`)).status, 400);
    assert.equal((await fhir(base, 'GET', `Subscription/unknown-${run}/$status`)).status, 404);
  });

  it('keeps events while the endpoint is down and delivers them in order, without gaps, when it is back', async () => {
    const { base } = await sharedServer();
    const down = await startReceiver();
    try {
      const patient = `d-${run}`;
      const created = await fhir(base, 'POST', 'Subscription', {
        resourceType: 'Subscription', status: 'requested', reason: 'test', criteria: `Observation?subject=Patient/${patient}`,
        channel: { type: 'rest-hook', endpoint: down.url, payload: 'application/fhir+json' },
      });
      const id = created.body.id;
      await waitForStatus(base, id, 'active');
      down.status = 503;
      for (const v of [70, 71, 72, 73]) await fhir(base, 'POST', 'Observation', heartRate(patient, v));
      await new Promise((r) => setTimeout(r, 1_500));
      down.status = 200;
      await down.waitFor((r) => r.flatMap((x) => statusOf(x.json).eventNumbers).length >= 4, 20_000);
      assert.deepEqual(down.received.flatMap((x) => statusOf(x.json).eventNumbers), ['1', '2', '3', '4']);
    } finally {
      await down.close();
    }
  });

  it('serves the vital-signs topic (Backport IG) with filters, id-only payloads and heartbeats', async () => {
    const { base } = await sharedServer();
    const patient = `t-${run}`;
    const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
    const topicReceiver = await startReceiver();
    try {
      const created = await fhir(base, 'POST', 'Subscription', {
        resourceType: 'Subscription', meta: { profile: [`${IG}backport-subscription`] }, status: 'requested', reason: 'vitals',
        criteria: 'https://helix-fhir.org/fhir/SubscriptionTopic/vital-signs',
        _criteria: { extension: [{ url: `${IG}backport-filter-criteria`, valueString: `Observation?patient=Patient/${patient}` }] },
        channel: {
          extension: [{ url: `${IG}backport-heartbeat-period`, valueUnsignedInt: 1 }],
          type: 'rest-hook', endpoint: topicReceiver.url, payload: 'application/fhir+json',
          _payload: { extension: [{ url: `${IG}backport-payload-content`, valueCode: 'id-only' }] },
        },
      });
      assert.equal(created.status, 201, created.text);
      await waitForStatus(base, created.body.id, 'active');
      const vital = { ...heartRate(patient, 90), category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] };
      const written = await fhir(base, 'POST', 'Observation', vital);
      await fhir(base, 'POST', 'Observation', heartRate(patient, 91)); // no vital-signs category: not the topic
      await topicReceiver.waitFor((r) => r.some((x) => statusOf(x.json).type === 'heartbeat'), 10_000);
      const notes = topicReceiver.received.map((x) => x.json).filter((b) => statusOf(b).type === 'event-notification');
      assert.equal(notes.length, 1);
      const st = notes[0].entry[0].resource.parameter;
      assert.equal(st.find((p: any) => p.name === 'topic').valueCanonical, 'https://helix-fhir.org/fhir/SubscriptionTopic/vital-signs');
      assert.deepEqual(statusOf(notes[0]).focus, [`${base}/Observation/${written.body.id}/_history/1`]);
      // The patient travels as additional context; id-only: entries without resources.
      const event = st.find((p: any) => p.name === 'notification-event');
      assert.equal(event.part.find((p: any) => p.name === 'additional-context').valueReference.reference, `${base}/Patient/${patient}`);
      assert.ok(notes[0].entry.slice(1).every((e: any) => e.resource === undefined && e.fullUrl));
    } finally {
      await topicReceiver.close();
    }
  });

  it('advertises the backport profile, the topics and the subscription operations in the CapabilityStatement', async () => {
    const { base } = await sharedServer();
    const cs = (await fhir(base, 'GET', 'metadata')).body;
    assert.ok(cs.instantiates.includes('http://hl7.org/fhir/uv/subscriptions-backport/CapabilityStatement/backport-subscription-server-r4'));
    const sub = cs.rest[0].resource.find((r: any) => r.type === 'Subscription');
    assert.deepEqual(sub.supportedProfile, ['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription']);
    const topics = sub.extension
      .filter((e: any) => e.url === 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical')
      .map((e: any) => e.valueCanonical).sort();
    assert.deepEqual(topics, ['https://helix-fhir.org/fhir/SubscriptionTopic/news2-alert', 'https://helix-fhir.org/fhir/SubscriptionTopic/vital-signs']);
    const ops = sub.operation.map((o: any) => o.name);
    assert.ok(ops.includes('status') && ops.includes('events'), ops.join());
  });

  it('rejects what it cannot serve with a 4xx OperationOutcome', async () => {
    const { base } = await sharedServer();
    const bad = async (subscription: object) => {
      const res = await fhir(base, 'POST', 'Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'test', ...subscription });
      assert.ok(res.status >= 400 && res.status < 500, res.text);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    };
    await bad({ criteria: 'Observation?cdoe=8867-4', channel: { type: 'rest-hook', endpoint: receiver.url } });
    await bad({ criteria: 'Observation?code=8867-4', channel: { type: 'email', endpoint: 'mailto:x@example.org' } });
    await bad({ criteria: 'https://example.org/SubscriptionTopic/unknown', channel: { type: 'rest-hook', endpoint: receiver.url } });
  });
});
