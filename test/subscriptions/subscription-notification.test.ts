// Notification Bundles against the R4 shape of the Subscriptions R5 Backport IG 1.1.0
// (backport-subscription-notification-r4, backport-subscription-status-r4, payloads.html).
// Expected Bundles are written out by hand from the IG's R4 examples (r4-notification-handshake,
// -heartbeat, -id-only, -full-resource, -multi-resource, -error), with Helix's URLs and ids.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../src/fhir/errors.js';
import {
  batchEvents, eventNotificationBundle, eventsBundle, handshakeBundle, heartbeatBundle, statusBundle,
  type NotificationEnv, type NotificationEvent,
} from '../../src/subscriptions/notification.js';
import { parseSubscription, type PayloadContent, type SubscriptionSpec } from '../../src/subscriptions/subscription-spec.js';

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const BASE = 'https://helix.example.org/fhir';
const VITALS = 'https://helix-fhir.org/fhir/SubscriptionTopic/vital-signs';
const ID1 = '00000000-0000-4000-8000-000000000001';
const ID2 = '00000000-0000-4000-8000-000000000002';

function env(): NotificationEnv {
  let n = 0;
  return { baseUrl: BASE, now: () => new Date('2024-05-01T10:00:00Z'), newId: () => `00000000-0000-4000-8000-00000000000${++n}` };
}

function topicSpec(content: PayloadContent, maxCount?: number): SubscriptionSpec {
  return parseSubscription({
    resourceType: 'Subscription', status: 'requested', reason: 'vitals', criteria: VITALS,
    channel: {
      type: 'rest-hook', endpoint: 'https://hooks.example.org/v', payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${IG}backport-payload-content`, valueCode: content }] },
      ...(maxCount ? { extension: [{ url: `${IG}backport-max-count`, valuePositiveInt: maxCount }] } : {}),
    },
  }, { isResourceType: () => true, validateCriteria: () => undefined });
}

const criteriaSpec = parseSubscription({
  resourceType: 'Subscription', status: 'requested', reason: 'hr', criteria: 'Observation?code=http://loinc.org|8867-4',
  channel: { type: 'rest-hook', endpoint: 'https://hooks.example.org/r4', payload: 'application/fhir+json' },
}, { isResourceType: () => true, validateCriteria: () => undefined });

const statusEntryWrapper = (parameter: unknown[]) => ({
  fullUrl: `urn:uuid:${ID1}`,
  resource: { resourceType: 'Parameters', id: ID1, meta: { profile: [`${IG}backport-subscription-status-r4`] }, parameter },
  request: { method: 'GET', url: `${BASE}/Subscription/sub-1/$status` },
  response: { status: '200' },
});
const bundleWith = (entry: unknown[]) => ({
  resourceType: 'Bundle', id: ID2, meta: { profile: [`${IG}backport-subscription-notification-r4`] },
  type: 'history', timestamp: '2024-05-01T10:00:00.000Z', entry,
});

/** Invariants every notification must meet: Parameters first, request+response everywhere (bdl-3/4), no versioned fullUrl (bdl-8). */
function assertShape(b: Bundle): void {
  assert.equal(b.type, 'history');
  assert.equal(b.entry?.[0]?.resource?.resourceType, 'Parameters');
  for (const e of b.entry ?? []) {
    assert.ok(e.request?.method && e.request.url, 'entry.request');
    assert.ok(e.response?.status, 'entry.response');
    assert.ok(!e.fullUrl?.includes('/_history/'), 'fullUrl not version-specific');
  }
}

const observation1: Resource = { resourceType: 'Observation', id: 'obs-1', status: 'final', code: { text: 'Heart rate' } };
const observation2: Resource = { resourceType: 'Observation', id: 'obs-2', status: 'amended', code: { text: 'Heart rate' } };
const patient: Resource = { resourceType: 'Patient', id: 'pat-1' };
const events: NotificationEvent[] = [
  { eventNumber: 4, timestamp: '2024-05-01T09:59:58Z', focus: 'Observation/obs-1', interaction: 'create', additionalContext: ['Patient/pat-1'] },
  { eventNumber: 5n, timestamp: '2024-05-01T09:59:59Z', focus: 'Observation/obs-2/_history/3', interaction: 'update', additionalContext: ['Patient/pat-1'] },
];
const resources = new Map<string, Resource>([['Observation/obs-1', observation1], ['Observation/obs-2/_history/3', observation2], ['Patient/pat-1', patient]]);
const state = { id: 'sub-1', status: 'active' as const, eventsSinceSubscriptionStart: 5 };

const eventParams = (withRefs: boolean) => [
  { name: 'notification-event', part: [
    { name: 'event-number', valueString: '4' },
    { name: 'timestamp', valueInstant: '2024-05-01T09:59:58Z' },
    ...(withRefs ? [
      { name: 'focus', valueReference: { reference: `${BASE}/Observation/obs-1` } },
      { name: 'additional-context', valueReference: { reference: `${BASE}/Patient/pat-1` } },
    ] : []),
  ] },
  { name: 'notification-event', part: [
    { name: 'event-number', valueString: '5' },
    { name: 'timestamp', valueInstant: '2024-05-01T09:59:59Z' },
    ...(withRefs ? [
      { name: 'focus', valueReference: { reference: `${BASE}/Observation/obs-2/_history/3` } },
      { name: 'additional-context', valueReference: { reference: `${BASE}/Patient/pat-1` } },
    ] : []),
  ] },
];
const head = (status: string, type: string, since: string, topic = true) => [
  { name: 'subscription', valueReference: { reference: `${BASE}/Subscription/sub-1` } },
  ...(topic ? [{ name: 'topic', valueCanonical: VITALS }] : []),
  { name: 'status', valueCode: status },
  { name: 'type', valueCode: type },
  { name: 'events-since-subscription-start', valueString: since },
];

describe('notification bundles', () => {
  it('handshake: one Parameters entry, status requested, no events (IG r4-notification-handshake)', () => {
    const b = handshakeBundle(topicSpec('id-only'), { id: 'sub-1', status: 'requested', eventsSinceSubscriptionStart: 0 }, env());
    assert.deepEqual(b, bundleWith([statusEntryWrapper(head('requested', 'handshake', '0'))]));
    assertShape(b);
  });

  it('heartbeat: status active and the running event count (IG r4-notification-heartbeat)', () => {
    const b = heartbeatBundle(topicSpec('full-resource'), { id: 'sub-1', status: 'active', eventsSinceSubscriptionStart: '2' }, env());
    assert.deepEqual(b, bundleWith([statusEntryWrapper(head('active', 'heartbeat', '2'))]));
  });

  it('empty: only the status entry, no topic, no focus or additional-context (payloads.html)', () => {
    const b = eventNotificationBundle(topicSpec('empty'), events, resources, state, env());
    assert.deepEqual(b, bundleWith([statusEntryWrapper([...head('active', 'event-notification', '5', false), ...eventParams(false)])]));
    assertShape(b);
  });

  it('id-only: focus and context references, one entry per resource with fullUrl/request/response and no resource', () => {
    const b = eventNotificationBundle(topicSpec('id-only'), events, resources, state, env());
    assert.deepEqual(b, bundleWith([
      statusEntryWrapper([...head('active', 'event-notification', '5'), ...eventParams(true)]),
      { fullUrl: `${BASE}/Observation/obs-1`, request: { method: 'POST', url: 'Observation' }, response: { status: '201' } },
      { fullUrl: `${BASE}/Patient/pat-1`, request: { method: 'GET', url: 'Patient/pat-1' }, response: { status: '200' } },
      { fullUrl: `${BASE}/Observation/obs-2`, request: { method: 'PUT', url: 'Observation/obs-2' }, response: { status: '200', etag: 'W/"3"' } },
    ]));
    assertShape(b);
  });

  it('full-resource: the resources in the entries (IG r4-notification-multi-resource)', () => {
    const b = eventNotificationBundle(topicSpec('full-resource'), events, resources, state, env());
    assert.deepEqual(b.entry?.slice(1), [
      { fullUrl: `${BASE}/Observation/obs-1`, resource: observation1, request: { method: 'POST', url: 'Observation' }, response: { status: '201' } },
      { fullUrl: `${BASE}/Patient/pat-1`, resource: patient, request: { method: 'GET', url: 'Patient/pat-1' }, response: { status: '200' } },
      { fullUrl: `${BASE}/Observation/obs-2`, resource: observation2, request: { method: 'PUT', url: 'Observation/obs-2' }, response: { status: '200', etag: 'W/"3"' } },
    ]);
    assertShape(b);
  });

  it('full-resource: a deleted or unavailable resource still gets request and response', () => {
    const deleted: NotificationEvent[] = [
      { eventNumber: 6, timestamp: '2024-05-01T10:00:00Z', focus: 'Observation/obs-9', interaction: 'delete' },
      { eventNumber: 7, timestamp: '2024-05-01T10:00:00Z', focus: 'Observation/obs-8', interaction: 'update' },
    ];
    const b = eventNotificationBundle(topicSpec('full-resource'), deleted, new Map(), { ...state, eventsSinceSubscriptionStart: 7 }, env());
    assert.deepEqual(b.entry?.slice(1), [
      { fullUrl: `${BASE}/Observation/obs-9`, request: { method: 'DELETE', url: 'Observation/obs-9' }, response: { status: '204' } },
      { fullUrl: `${BASE}/Observation/obs-8`, request: { method: 'PUT', url: 'Observation/obs-8' }, response: { status: '200' } },
    ]);
  });

  it('criteria-based R4 subscriptions carry no topic parameter', () => {
    const b = eventNotificationBundle(criteriaSpec, events.slice(0, 1), resources, state, env());
    const names = (b.entry?.[0]?.resource as { parameter: { name: string }[] }).parameter.map((p) => p.name);
    assert.deepEqual(names, ['subscription', 'status', 'type', 'events-since-subscription-start', 'notification-event']);
    assert.equal(b.entry?.[1]?.resource, observation1);
  });

  it('$status: query-status with the error parameter (IG r4-notification-error)', () => {
    const error = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscription-error', code: 'no-response' }] };
    const b = statusBundle(topicSpec('id-only'), { id: 'sub-1', status: 'error', eventsSinceSubscriptionStart: 3, errors: [error] }, env());
    assert.deepEqual(b, bundleWith([statusEntryWrapper([...head('error', 'query-status', '3'), { name: 'error', valueCodeableConcept: error }])]));
  });

  it('$events: query-event; the content hint may lower the payload but never raise it', () => {
    const full = eventsBundle(topicSpec('full-resource'), events, resources, state, env(), 'empty');
    const params = (full.entry?.[0]?.resource as { parameter: { name: string; valueCode?: string }[] }).parameter;
    assert.equal(params.find((p) => p.name === 'type')?.valueCode, 'query-event');
    assert.equal(full.entry?.length, 1);
    const idOnly = eventsBundle(topicSpec('id-only'), events, resources, state, env(), 'full-resource');
    assert.equal(idOnly.entry?.length, 4);
    assert.ok(idOnly.entry?.slice(1).every((e) => e.resource === undefined));
  });

  it('writes counters as strings, beyond the safe-integer range too', () => {
    const big = 2n ** 64n;
    const b = heartbeatBundle(topicSpec('empty'), { id: 'sub-1', status: 'active', eventsSinceSubscriptionStart: big }, env());
    const since = (b.entry?.[0]?.resource as { parameter: { name: string; valueString?: string }[] }).parameter
      .find((p) => p.name === 'events-since-subscription-start');
    assert.equal(since?.valueString, '18446744073709551616');
  });

  it('respects max-count, and batchEvents splits to fit', () => {
    const spec = topicSpec('id-only', 1);
    assert.throws(() => eventNotificationBundle(spec, events, resources, state, env()), (e: unknown) => e instanceof FhirError && e.status === 500);
    assert.deepEqual(batchEvents(spec, events).map((b) => b.length), [1, 1]);
    assert.deepEqual(batchEvents(topicSpec('id-only'), events).map((b) => b.length), [2]);
    assert.throws(() => eventNotificationBundle(spec, [], resources, state, env()), FhirError);
  });

  it('refuses malformed references, counters, and a resource filed under another reference', () => {
    const bad = (e: Partial<NotificationEvent>) => [{ ...events[0], ...e } as NotificationEvent];
    assert.throws(() => eventNotificationBundle(topicSpec('id-only'), bad({ focus: 'http://x/Observation/1' }), resources, state, env()), FhirError);
    assert.throws(() => eventNotificationBundle(topicSpec('id-only'), bad({ eventNumber: -1 }), resources, state, env()), FhirError);
    const wrong = new Map<string, Resource>([['Observation/obs-1', patient]]);
    assert.throws(() => eventNotificationBundle(topicSpec('full-resource'), bad({ additionalContext: [] }), wrong, state, env()), FhirError);
  });
});
