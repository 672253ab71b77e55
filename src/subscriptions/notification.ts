// Notification Bundles in the R4 shape of the Subscriptions R5 Backport IG 1.1.0
// (profiles backport-subscription-notification-r4 and backport-subscription-status-r4):
// a `history` Bundle whose first entry is a Parameters resource carrying the subscription status,
// followed, for id-only and full-resource payloads, by one entry per resource the events involve.
//
// History bundles require `request` and `response` on every entry (R4 bdl-3, bdl-4). The status
// entry reads like a call to $status (GET …/Subscription/[id]/$status, 200), as in the IG's
// examples; event entries replay the interaction (POST 201, PUT 200, DELETE 204) and context
// entries a read (GET 200), the way Helix's own history Bundles do.
//
// Pure: the base URL, the clock and the id generator are injected.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, CodeableConcept, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { internalError } from '../fhir/errors.js';
import type { PayloadContent, SubscriptionSpec, SubscriptionStatusCode } from './subscription-spec.js';

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
export const NOTIFICATION_PROFILE = `${IG}backport-subscription-notification-r4`;
export const STATUS_PROFILE = `${IG}backport-subscription-status-r4`;

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

/** What the builders need from the outside world. */
export interface NotificationEnv {
  /** FHIR base URL without a trailing slash, e.g. https://fhir.example.org/fhir */
  baseUrl: string;
  now(): Date;
  /** ids of the Bundle and the status Parameters; a random UUID by default */
  newId?(): string;
}

/** The subscription's state at the moment the notification is built. */
export interface SubscriptionState {
  id: string;
  status: SubscriptionStatusCode;
  /** events generated so far, including those in this notification (not counting handshakes or heartbeats) */
  eventsSinceSubscriptionStart: number | bigint | string;
  /** CodeableConcepts for the `error` parameter (e.g. subscription-error#no-response) */
  errors?: CodeableConcept[];
}

/** One triggering event; references are relative (`Observation/1`, optionally `/_history/2`). */
export interface NotificationEvent {
  eventNumber: number | bigint | string;
  timestamp: string;
  focus: string;
  interaction?: 'create' | 'update' | 'delete';
  additionalContext?: readonly string[];
}

type ResourcesByRef = ReadonlyMap<string, Resource>;

const REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/([A-Za-z0-9.-]{1,64}))?$/;

function parseRef(ref: string): { type: string; id: string; version?: string } {
  const m = REF.exec(ref);
  if (!m) throw internalError(`Notification reference ${JSON.stringify(ref.slice(0, 100))} is not Type/id`);
  return { type: m[1] as string, id: m[2] as string, ...(m[3] ? { version: m[3] } : {}) };
}

/** The IG types event counters as strings (they may exceed a JSON-safe integer). */
function counter(value: number | bigint | string): string {
  const s = String(value);
  if (!/^\d+$/.test(s)) throw internalError(`Event counter ${JSON.stringify(s.slice(0, 40))} is not a non-negative integer`);
  return s;
}

const RANK: Record<PayloadContent, number> = { empty: 0, 'id-only': 1, 'full-resource': 2 };

function statusParameters(
  spec: SubscriptionSpec, state: SubscriptionState, type: NotificationType,
  events: readonly NotificationEvent[], content: PayloadContent, env: NotificationEnv, id: string,
): Parameters {
  const abs = (ref: string) => `${env.baseUrl}/${ref}`;
  const parameter: ParametersParameter[] = [{ name: 'subscription', valueReference: { reference: abs(`Subscription/${state.id}`) } }];
  // The profile: topic SHOULD NOT be sent with empty payloads; criteria subscriptions have none.
  if (spec.kind === 'topic' && content !== 'empty') parameter.push({ name: 'topic', valueCanonical: spec.topic });
  parameter.push(
    { name: 'status', valueCode: state.status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: counter(state.eventsSinceSubscriptionStart) },
  );
  for (const e of events) {
    const part: ParametersParameter[] = [
      { name: 'event-number', valueString: counter(e.eventNumber) },
      { name: 'timestamp', valueInstant: e.timestamp },
    ];
    // Empty payloads SHALL NOT reference resources (payloads.html).
    if (content !== 'empty') {
      parseRef(e.focus);
      part.push({ name: 'focus', valueReference: { reference: abs(e.focus) } });
      for (const c of e.additionalContext ?? []) {
        parseRef(c);
        part.push({ name: 'additional-context', valueReference: { reference: abs(c) } });
      }
    }
    parameter.push({ name: 'notification-event', part });
  }
  for (const error of state.errors ?? []) parameter.push({ name: 'error', valueCodeableConcept: error });
  return { resourceType: 'Parameters', id, meta: { profile: [STATUS_PROFILE] }, parameter };
}

function resourceEntry(
  ref: string, interaction: NotificationEvent['interaction'] | 'read', content: PayloadContent,
  resources: ResourcesByRef, env: NotificationEnv,
): BundleEntry {
  const { type, id, version } = parseRef(ref);
  const url = `${type}/${id}`;
  const request: BundleEntry['request'] =
    interaction === 'create' ? { method: 'POST', url: type }
      : interaction === 'update' ? { method: 'PUT', url }
        : interaction === 'delete' ? { method: 'DELETE', url }
          : { method: 'GET', url };
  const status = interaction === 'create' ? '201' : interaction === 'delete' ? '204' : '200';
  let resource: Resource | undefined;
  if (content === 'full-resource' && interaction !== 'delete') {
    resource = resources.get(ref);
    // A resource filed under the wrong reference would disclose something the event is not about.
    if (resource && (resource.resourceType !== type || resource.id !== id)) {
      throw internalError(`Resource given for ${url} is ${resource.resourceType}/${resource.id ?? '?'}`);
    }
  }
  // fullUrl is never version-specific (bdl-8); the version travels in the etag.
  return {
    fullUrl: `${env.baseUrl}/${url}`,
    ...(resource ? { resource } : {}),
    request,
    response: { status, ...(version ? { etag: `W/"${version}"` } : {}) },
  };
}

function build(
  spec: SubscriptionSpec, state: SubscriptionState, type: NotificationType, events: readonly NotificationEvent[],
  resources: ResourcesByRef, content: PayloadContent, env: NotificationEnv,
): Bundle {
  const newId = env.newId ?? randomUUID;
  const statusId = newId();
  const entry: BundleEntry[] = [{
    fullUrl: `urn:uuid:${statusId}`,
    resource: statusParameters(spec, state, type, events, content, env, statusId),
    request: { method: 'GET', url: `${env.baseUrl}/Subscription/${state.id}/$status` },
    response: { status: '200' },
  }];
  if (content !== 'empty') {
    // One entry per resource: events sharing a focus or a patient list it once.
    const seen = new Set<string>();
    const add = (ref: string, interaction: NotificationEvent['interaction'] | 'read') => {
      if (seen.has(ref)) return;
      seen.add(ref);
      entry.push(resourceEntry(ref, interaction, content, resources, env));
    };
    for (const e of events) {
      add(e.focus, e.interaction ?? 'read');
      for (const c of e.additionalContext ?? []) add(c, 'read');
    }
  }
  return {
    resourceType: 'Bundle',
    id: newId(),
    meta: { profile: [NOTIFICATION_PROFILE] },
    type: 'history',
    timestamp: env.now().toISOString(),
    entry,
  };
}

/** The `handshake` notification sent when a rest-hook subscription is requested. */
export function handshakeBundle(spec: SubscriptionSpec, state: SubscriptionState, env: NotificationEnv): Bundle {
  return build(spec, state, 'handshake', [], new Map(), spec.channel.content, env);
}

/** The `heartbeat` notification sent after heartbeatPeriod seconds without any other. */
export function heartbeatBundle(spec: SubscriptionSpec, state: SubscriptionState, env: NotificationEnv): Bundle {
  return build(spec, state, 'heartbeat', [], new Map(), spec.channel.content, env);
}

/** An `event-notification` for 1..maxCount events; resources are looked up by the events' references. */
export function eventNotificationBundle(
  spec: SubscriptionSpec, events: readonly NotificationEvent[], resourcesByRef: ResourcesByRef,
  state: SubscriptionState, env: NotificationEnv,
): Bundle {
  if (!events.length) throw internalError('An event notification needs at least one event');
  const max = spec.channel.maxCount;
  if (max !== undefined && events.length > max) throw internalError(`${events.length} events exceed max-count ${max}; use batchEvents`);
  return build(spec, state, 'event-notification', events, resourcesByRef, spec.channel.content, env);
}

/** The `query-status` Bundle returned by Subscription/[id]/$status. */
export function statusBundle(spec: SubscriptionSpec, state: SubscriptionState, env: NotificationEnv): Bundle {
  return build(spec, state, 'query-status', [], new Map(), spec.channel.content, env);
}

/**
 * The `query-event` Bundle returned by Subscription/[id]/$events. The operation's `content` is a
 * hint the IG lets servers ignore; Helix honours it only to send less than the subscription allows.
 */
export function eventsBundle(
  spec: SubscriptionSpec, events: readonly NotificationEvent[], resourcesByRef: ResourcesByRef,
  state: SubscriptionState, env: NotificationEnv, requested?: PayloadContent,
): Bundle {
  const content = requested && RANK[requested] < RANK[spec.channel.content] ? requested : spec.channel.content;
  return build(spec, state, 'query-event', events, resourcesByRef, content, env);
}

/** Splits events into groups no larger than the subscription's max-count (one group when unset). */
export function batchEvents<T>(spec: SubscriptionSpec, events: readonly T[]): T[][] {
  const size = spec.channel.maxCount ?? events.length;
  const out: T[][] = [];
  for (let i = 0; i < events.length; i += size) out.push(events.slice(i, i + size));
  return out;
}
