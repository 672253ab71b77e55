// Delivery of one subscription's notifications (Backport IG components.html, "notification"):
// the handshake that activates it, its events in order, and heartbeats. Whichever instance runs
// it holds the subscription's lease, so notifications go out one at a time and in order. A failed
// POST is retried with exponential backoff (next_attempt_at) for `retryPeriodMs`; after a few
// failures in a row the subscription moves to `error`, and the next success makes it `active`.
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../db/database.js';
import type { FhirContext } from '../fhir/types.js';
import { writeNext } from '../fhir/update.js';
import { readCurrent } from '../storage/resource-store.js';
import type { LiveSubscription, LiveSubscriptions } from './live.js';
import { eventNotificationBundle, handshakeBundle, heartbeatBundle, type NotificationEnv } from './notification.js';
import { postNotification, type RestHookResult } from './rest-hook.js';
import type { SubscriptionStatusCode } from './subscription-spec.js';
import { PENDING_EVENTS_SQL, pendingEvents, type PendingRow } from './events-store.js';

/** What delivery needs. */
export interface DeliveryEnv {
  db: Database;
  ctx: FhirContext;
  live: LiveSubscriptions;
  /** This instance, for leases. */
  owner: string;
  /** How long failed notifications are retried (default 24 h). */
  retryPeriodMs: number;
  /** Fan-out to websocket clients bound to a subscription, wherever they are connected. */
  websocket?: (subscriptionId: string, bundle: Resource) => void;
}

// Consecutive failures before a subscription is reported in error; the cap of the backoff.
const FAILURES_FOR_ERROR = 3;
const MAX_BACKOFF_S = 300;
const BATCH = 100;
// Seconds a lease lasts beyond the timeout of the request in flight: enough to record the outcome,
// and short, so a crashed instance's subscriptions are taken over within seconds.
const LEASE_S = 5;

interface State { status: SubscriptionStatusCode; events: string; delivered: string; failures: number; settled: boolean; idle_s: number; first_failure_ms: number | null }

// Takes the lease and reads the first pending events (with their resources for a full-resource
// payload) in one statement: with the POST and recordSuccess, a notification costs two statements.
// Parameters: $1 id, $2 lease owner, $3 events at most, $4 full-resource, $5 lease seconds.
const ACQUIRE_SQL = `WITH s AS (
    UPDATE subscription_state SET lease_owner = $2, lease_until = now() + make_interval(secs => $5)
    WHERE id = $1 AND status <> 'off' AND (lease_until IS NULL OR lease_until < now()) AND (next_attempt_at IS NULL OR next_attempt_at <= now())
    RETURNING status, events_since_start, delivered_through, failures,
      (watch_xid IS NULL OR watch_xid < pg_snapshot_xmin(pg_current_snapshot())) AS settled,
      extract(epoch from now() - coalesce(last_sent_at, updated_at))::float8 AS idle_s,
      (extract(epoch from first_failure_at) * 1000)::float8 AS first_failure_ms)
  SELECT s.status, s.events_since_start::text AS events, s.delivered_through::text AS delivered, s.failures, s.settled, s.idle_s, s.first_failure_ms, e.*
  FROM s LEFT JOIN LATERAL (${PENDING_EVENTS_SQL('s.delivered_through')}) e ON s.status <> 'requested'`;

/** Runs whatever a subscription needs now (activation, pending events, a heartbeat); safe to call anytime. */
export async function runSubscription(env: DeliveryEnv, id: string): Promise<void> {
  const sub = env.live.get(id);
  if (!sub) return;
  const { channel } = sub.spec;
  const leaseS = (channel.timeout ?? 10) + LEASE_S;
  const limit = channel.maxCount ?? BATCH;
  const full = channel.content === 'full-resource';
  const rows = await env.db.query<State & PendingRow>(ACQUIRE_SQL, [id, env.owner, limit, full, leaseS]);
  const state = rows[0];
  if (!state) return;
  let leased = true;
  try {
    if (state.status === 'requested') {
      // Writes that began before the subscription was watched must be over before it is active.
      if (state.settled) await activate(env, sub, state.events);
      return;
    }
    let pending = await pendingEvents(env.db, rows, full);
    let delivered = BigInt(state.delivered);
    let sent = false;
    while (pending.events.length) {
      const last = BigInt(pending.events[pending.events.length - 1]!.eventNumber);
      const bundle = eventNotificationBundle(sub.spec, pending.events, pending.resources, { id, status: 'active', eventsSinceSubscriptionStart: last }, notificationEnv(env));
      const result = await send(env, sub, bundle);
      if (!result.ok) {
        await failed(env, sub, state, result, last);
        return;
      }
      const more = await recordSuccess(env, id, last, leaseS);
      if (state.status !== 'active') await env.db.transaction((q) => setStatus(env, q, id, 'active'));
      state.status = 'active';
      delivered = last;
      sent = true;
      if (!more) {
        leased = false;
        return;
      }
      pending = await pendingEvents(env.db, await env.db.query<PendingRow>(PENDING_EVENTS_SQL('$2::bigint'), [id, String(delivered), limit, full]), full);
    }
    const period = channel.heartbeatPeriod;
    if (!sent && period && state.status === 'active' && state.idle_s >= period) {
      const result = await send(env, sub, heartbeatBundle(sub.spec, { id, status: 'active', eventsSinceSubscriptionStart: state.events }, notificationEnv(env)));
      if (result.ok) leased = await recordSuccess(env, id, delivered, leaseS);
      else await failed(env, sub, state, result, delivered);
    }
  } finally {
    if (leased) await env.db.query('UPDATE subscription_state SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_owner = $2', [id, env.owner]);
  }
}

/**
 * Records a successful notification through event `through`; keeps the lease (extended) and
 * returns true when more events are pending, else releases it.
 */
async function recordSuccess(env: DeliveryEnv, id: string, through: bigint, leaseS: number): Promise<boolean> {
  const [row] = await env.db.query<{ more: boolean }>(
    `UPDATE subscription_state SET delivered_through = GREATEST(delivered_through, $3::bigint), failures = 0, first_failure_at = NULL,
      next_attempt_at = NULL, last_error = NULL, last_sent_at = now(),
      lease_until = CASE WHEN events_since_start > GREATEST(delivered_through, $3::bigint) THEN now() + make_interval(secs => $4) END,
      lease_owner = CASE WHEN events_since_start > GREATEST(delivered_through, $3::bigint) THEN lease_owner END
      WHERE id = $1 AND lease_owner = $2 RETURNING lease_owner IS NOT NULL AS more`,
    [id, env.owner, String(through), leaseS],
  );
  return row?.more ?? false;
}

const notificationEnv = (env: DeliveryEnv): NotificationEnv => ({ baseUrl: env.ctx.config.baseUrl, now: () => env.ctx.now() });

async function send(env: DeliveryEnv, sub: LiveSubscription, bundle: Resource): Promise<RestHookResult> {
  if (sub.spec.channel.type === 'websocket') {
    env.websocket?.(sub.id, bundle);
    return { ok: true };
  }
  return postNotification(sub.spec, bundle as never);
}

/** Handshake (rest-hook) and activation: `requested` → `active` on a 2xx, `error` otherwise. */
async function activate(env: DeliveryEnv, sub: LiveSubscription, events: string): Promise<void> {
  const result = sub.spec.channel.type === 'rest-hook'
    ? await postNotification(sub.spec, handshakeBundle(sub.spec, { id: sub.id, status: 'requested', eventsSinceSubscriptionStart: events }, notificationEnv(env)))
    : { ok: true };
  await env.db.transaction(async (q) => {
    await setStatus(env, q, sub.id, result.ok ? 'active' : 'error', result.ok ? undefined : `Handshake failed: ${result.error}`);
    await q.query(`UPDATE subscription_state SET last_sent_at = now(), failures = $2, last_error = $3 WHERE id = $1`,
      [sub.id, result.ok ? 0 : 1, result.ok ? null : result.error]);
  });
}

async function failed(env: DeliveryEnv, sub: LiveSubscription, state: State, result: RestHookResult, through: bigint): Promise<void> {
  const failures = state.failures + 1;
  const since = state.first_failure_ms ?? Date.now();
  // Past the retry period the pending events are given up (they stay available to $events).
  const giveUp = Date.now() - since > env.retryPeriodMs;
  const backoff = Math.min(2 ** Math.min(failures - 1, 20), MAX_BACKOFF_S);
  await env.db.transaction(async (q) => {
    await q.query(
      `UPDATE subscription_state SET failures = $2, first_failure_at = coalesce(first_failure_at, now()), last_error = $3,
        next_attempt_at = now() + make_interval(secs => $4), delivered_through = CASE WHEN $5 THEN GREATEST(delivered_through, $6::bigint) ELSE delivered_through END
        WHERE id = $1`,
      [sub.id, failures, result.error ?? 'failed', backoff, giveUp, String(through)],
    );
    if (state.status !== 'error' && failures >= FAILURES_FOR_ERROR) await setStatus(env, q, sub.id, 'error', `Notifications are failing: ${result.error}`);
  });
}

/**
 * Records a status change in subscription_state and in the Subscription resource itself (a new
 * version written by the server; its number goes into the state so it is not mistaken for a
 * client's change of the Subscription).
 */
async function setStatus(env: DeliveryEnv, q: Queryable, id: string, status: SubscriptionStatusCode, error?: string): Promise<void> {
  const current = await readCurrent(q, 'Subscription', id);
  if (!current?.content) return;
  const resource = JSON.parse(current.content) as { status?: string; error?: string; meta?: unknown };
  resource.status = status;
  if (error) resource.error = error.slice(0, 1000);
  else delete resource.error;
  const written = await writeNext(env.ctx, q, resource as Resource, id, 'PUT', current);
  if (!written) return;
  await q.query('UPDATE subscription_state SET status = $2, version = $3, updated_at = now() WHERE id = $1', [id, status, written.stored.versionId]);
}
