// The subscription engine of one instance (subscription.html; Backport IG components.html): keeps
// the live Subscriptions (live.ts), drains the outbox into numbered events (processor.ts), and gets
// them delivered (delivery.ts through dispatch.ts). Three loops, all idempotent and safe to run on
// every instance at once: refresh the live set and its state rows, process the outbox, and sweep
// for work that is due (retries, heartbeats, activations, signals lost in a race).
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { FhirContext } from '../fhir/types.js';
import { runSubscription, type DeliveryEnv } from './delivery.js';
import { bullMqDispatcher, inProcessDispatcher, type Dispatcher } from './dispatch.js';
import { LiveRefresher, LiveSubscriptions, type LiveChange, type LiveSubscription } from './live.js';
import { scoreNextPatient } from './news2/calculator.js';
import { BATCH, processOutbox } from './processor.js';
import { findTopic } from './topics.js';

// Deliveries in flight per instance: a POST mostly waits on its endpoint, so many overlap; each
// subscription has at most one (its lease), so a slow endpoint holds one slot, not the queue.
const DELIVERIES_IN_FLIGHT = 128;

/** Options of the subscription engine. */
export interface SubscriptionOptions {
  redisUrl?: string;
  /** Keeps this installation's queue apart from others sharing the Redis. */
  installationId: string;
  retryPeriodMs: number;
  onError(err: unknown): void;
  /** NEWS2 on incoming vital signs, with the window its parameters are taken from; off when absent. */
  news2?: { windowMs: number };
  /** Fan-out to websocket clients bound to a subscription. */
  websocket?: DeliveryEnv['websocket'];
  /** Poll intervals (ms): the live set, the outbox, the sweep. */
  intervals?: { refresh: number; outbox: number; sweep: number };
}

/** A running subscription engine. */
export interface SubscriptionEngine {
  live: LiveSubscriptions;
  /** Re-reads changed Subscriptions now (after a local write of one). */
  refresh(): Promise<void>;
  /** Processes the outbox now (after a local write of a watched type). */
  nudge(): void;
  stop(): Promise<void>;
}

/** Starts the subscription engine of this instance. */
export async function startSubscriptions(db: Database, ctx: FhirContext, opts: SubscriptionOptions): Promise<SubscriptionEngine> {
  const intervals = opts.intervals ?? { refresh: 500, outbox: 25, sweep: 1_000 };
  const live = new LiveSubscriptions(ctx.defs, ctx.config.baseUrl);
  const env: DeliveryEnv = { db, ctx, live, owner: randomUUID(), retryPeriodMs: opts.retryPeriodMs, ...(opts.websocket ? { websocket: opts.websocket } : {}) };
  const run = (id: string): Promise<void> => runSubscription(env, id);
  const dispatcher: Dispatcher = opts.redisUrl
    ? bullMqDispatcher(opts.redisUrl, `subscriptions-${opts.installationId}`, run, DELIVERIES_IN_FLIGHT, opts.onError)
    : inProcessDispatcher(run, DELIVERIES_IN_FLIGHT, opts.onError);

  const refresher = new LiveRefresher(live);
  // Changes read by the processor inside its transaction still need their state rows synced.
  const unsynced: LiveChange[] = [];
  const refresh = async (): Promise<void> => {
    const changed = [...unsynced.splice(0), ...(await refresher.update(db))];
    for (const c of changed) {
      await syncState(db, c.id, c.version, c.live);
      if (c.live) dispatcher.signal(c.id);
    }
  };

  let processing = false;
  const processNow = async (): Promise<void> => {
    if (processing) return;
    processing = true;
    try {
      for (;;) {
        const batch = await processOutbox(db, ctx, live, { news2: !!opts.news2, refresh: async (q) => void unsynced.push(...(await refresher.update(q))) });
        for (const id of batch.subscriptions) dispatcher.signal(id);
        if (batch.vitalSignPatients.length) void scoreNews2Now().catch(opts.onError);
        if (batch.rows < BATCH) break;
      }
    } finally {
      processing = false;
    }
  };

  let scoring = false;
  const scoreNews2Now = async (): Promise<void> => {
    if (!opts.news2 || scoring) return;
    scoring = true;
    try {
      while (await scoreNextPatient(db, ctx, opts.news2.windowMs)) { /* until the queue is empty */ }
    } finally {
      scoring = false;
    }
  };

  const sweep = async (): Promise<void> => {
    const beats = [...live.all()].filter((s) => s.spec.channel.heartbeatPeriod);
    const due = await db.query<{ id: string }>(
      `SELECT id FROM subscription_state s WHERE status <> 'off' AND (lease_until IS NULL OR lease_until < now())
        AND (next_attempt_at IS NULL OR next_attempt_at <= now())
        AND (status = 'requested' OR delivered_through < events_since_start
          OR EXISTS (SELECT 1 FROM unnest($1::text[], $2::float8[]) AS h(id, p)
            WHERE h.id = s.id AND now() - coalesce(s.last_sent_at, s.updated_at) >= make_interval(secs => h.p)))`,
      [beats.map((s) => s.id), beats.map((s) => s.spec.channel.heartbeatPeriod)],
    );
    for (const { id } of due) if (live.get(id)) dispatcher.signal(id);
  };

  // Observations are watched for NEWS2 whether or not anyone subscribes: the score is stored either way.
  await db.query(opts.news2 ? `INSERT INTO change_watch (res_type, reason) VALUES ('Observation', 'news2') ON CONFLICT DO NOTHING`
    : `DELETE FROM change_watch WHERE reason = 'news2'`);
  await refresh();
  const loop = (fn: () => Promise<void>, ms: number): NodeJS.Timeout => {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      fn().catch(opts.onError).finally(() => { busy = false; });
    }, ms);
    t.unref();
    return t;
  };
  const timers = [loop(refresh, intervals.refresh), loop(processNow, intervals.outbox), loop(sweep, intervals.sweep), loop(scoreNews2Now, intervals.sweep)];
  return {
    live,
    refresh,
    nudge: () => void processNow().catch(opts.onError),
    async stop() {
      timers.forEach(clearInterval);
      await dispatcher.close();
      while (processing || scoring) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

/** The resource type whose writes a subscription needs in the outbox (none for topics Helix raises itself). */
function watchedType(sub: LiveSubscription): string | undefined {
  if (sub.spec.kind === 'criteria') return sub.spec.resourceType;
  return sub.matcher ? findTopic(sub.spec.topic)?.trigger.resource : undefined;
}

/**
 * Brings subscription_state and change_watch in line with a changed Subscription: a new or
 * client-changed one is (re)requested, watched from this transaction on (watch_xid), and keeps its
 * event counter; one switched off, ended or deleted stops being watched. A version the server
 * wrote itself (a status change) is already recorded and changes nothing.
 */
async function syncState(db: Database, id: string, version: number, sub: LiveSubscription | undefined): Promise<void> {
  await db.transaction(async (q) => {
    if (!sub) {
      await q.query('DELETE FROM change_watch WHERE reason = $1', [`subscription:${id}`]);
      await q.query(`UPDATE subscription_state SET status = 'off', version = $2, updated_at = now() WHERE id = $1 AND version < $2`, [id, version]);
      return;
    }
    const type = watchedType(sub);
    if (type) await q.query('INSERT INTO change_watch (res_type, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [type, `subscription:${id}`]);
    await q.query(
      `INSERT INTO subscription_state (id, version, status, watch_xid) VALUES ($1, $2, 'requested', pg_current_xact_id())
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, status = 'requested', watch_xid = EXCLUDED.watch_xid,
          failures = 0, first_failure_at = NULL, next_attempt_at = NULL, last_error = NULL, updated_at = now()
        WHERE subscription_state.version < EXCLUDED.version`,
      [id, version],
    );
  });
}
