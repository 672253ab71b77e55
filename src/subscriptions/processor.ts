// The event processor (Backport IG components.html, "event"; delivery design of the subscriptions
// issue): drains the transactional outbox off the request path. Each batch runs in one transaction
// under an advisory lock, so exactly one instance numbers events at a time: the outbox rows are
// matched against the live subscriptions, each match gets the subscription's next event number
// (persistent, gap-free) and is stored in subscription_events, and the rows are deleted — all or
// nothing, so a crash mid-batch leaves the rows to be processed again and no number is lost.
import type { Observation, Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../db/database.js';
import type { FhirContext } from '../fhir/types.js';
import { findMatches } from '../search/search.js';
import { versionContentSql } from '../storage/resource-store.js';
import type { LiveSubscription, LiveSubscriptions } from './live.js';
import { effectiveTime } from './news2/inputs.js';

const VITAL_SIGNS = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** Outbox rows per batch (and transaction). */
export const BATCH = 500;

/** What one batch did. */
export interface ProcessedBatch {
  /** Outbox rows consumed. */
  rows: number;
  /** Subscriptions that got new events. */
  subscriptions: string[];
  /** Patients (`Patient/id`) with new or changed vital-sign Observations (for NEWS2). */
  vitalSignPatients: string[];
}

interface OutboxRow { seq: string; res_type: string; res_id: string; version: number; at: string; topic: string | null; context: string[] | null; detail: Record<string, string> | null }
interface NewEvent { subscription: string; at: string; focusType: string; focusId: string; focusVersion: number; interaction: string; context: string[] }

/** Processes one batch of the outbox, if no other instance is; returns what it did. */
export async function processOutbox(
  db: Database, ctx: FhirContext, live: LiveSubscriptions,
  options: { news2: boolean; batch?: number; refresh: (q: Queryable) => Promise<void> },
): Promise<ProcessedBatch> {
  const batch = options.batch ?? BATCH;
  const none: ProcessedBatch = { rows: 0, subscriptions: [], vitalSignPatients: [] };
  // Most polls find nothing: one cheap statement instead of a transaction.
  if (!(await db.query('SELECT 1 FROM change_outbox LIMIT 1')).length) return none;
  return db.transaction(async (q) => {
    // The lock, the batch and each row's version in one statement (no rows: another instance has the lock).
    const rows = await q.query<OutboxRow & { content: string | null }>(
      `WITH l AS (SELECT pg_try_advisory_xact_lock(hashtextextended('helix:subscription-events', 0)) AS ok)
      SELECT o.seq::text AS seq, o.res_type, o.res_id, o.version, to_char(o.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
        o.topic, o.context, o.detail, CASE WHEN o.topic IS NULL THEN ${versionContentSql('o.res_type', 'o.res_id', 'o.version')} END AS content
      FROM l, LATERAL (SELECT * FROM change_outbox ORDER BY seq LIMIT $1) o
      WHERE l.ok ORDER BY o.seq`, [batch]);
    if (!rows.length) return none;
    // Another instance may have activated a subscription this one has not read yet: an event for
    // a write it then processed would be lost. Reading in this transaction closes the gap: an
    // active subscription's state row and its resource were committed before this snapshot.
    await options.refresh(q);
    const events: NewEvent[] = [];
    const vitals = new Map<string, number>();
    for (const row of rows) {
      if (row.topic) {
        const e = { topic: row.topic, focus: `${row.res_type}/${row.res_id}`, context: row.context ?? [], detail: row.detail ?? {} };
        for (const sub of live.topicMatches(e)) events.push(eventOf(sub.id, row, 'create', e.context));
        continue;
      }
      // A deleted version (or one gone since) has nothing left to match criteria against.
      const content = row.content;
      if (content === null) continue;
      const interaction = row.version === 1 ? 'create' : 'update';
      const resource = JSON.parse(content) as Resource;
      const patient = patientOf(resource);
      const taken = patient && isVitalSign(resource) ? effectiveTime(resource as Observation) : undefined;
      if (patient && taken !== undefined) vitals.set(patient, Math.max(vitals.get(patient) ?? taken, taken));
      for (const sub of await matching(ctx, q, live, resource, row)) {
        if (sub.interactions.has(interaction)) events.push(eventOf(sub.id, row, interaction, sub.spec.kind === 'topic' && patient ? [patient] : []));
      }
    }
    const subscriptions = await storeEvents(q, events);
    await q.query(
      `WITH d AS (DELETE FROM change_outbox WHERE seq = ANY($1::bigint[]))
      INSERT INTO news2_pending (patient, at) SELECT * FROM unnest($2::text[], $3::timestamptz[])
        ON CONFLICT (patient) DO UPDATE SET at = GREATEST(news2_pending.at, EXCLUDED.at)`,
      [rows.map((r) => r.seq), options.news2 ? [...vitals.keys()] : [], options.news2 ? [...vitals.values()].map((t) => new Date(t).toISOString()) : []],
    );
    return { rows: rows.length, subscriptions, vitalSignPatients: [...vitals.keys()] };
  });
}

/** The live subscriptions a written version matches (confirming by search what memory cannot decide). */
async function matching(ctx: FhirContext, q: Queryable, live: LiveSubscriptions, resource: Resource, row: OutboxRow): Promise<LiveSubscription[]> {
  // Rows are extracted again (the writer's are gone); skipped when no subscription watches the
  // type, e.g. Observations watched for NEWS2 alone.
  if (!live.watches(row.res_type)) return [];
  const rows = ctx.extractor.extract(resource);
  const out: LiveSubscription[] = [];
  for (const sub of live.candidates(row.res_type, rows)) {
    const result = sub.matcher?.matches(rows, resource);
    if (result === 'match') out.push(sub);
    else if (result === 'needs-database' && sub.spec.kind === 'criteria') {
      // Chains and _has are answered by the search itself, on the version now current.
      const params = new URLSearchParams(sub.spec.query);
      params.append('_id', row.res_id);
      const found = await findMatches(ctx, q, row.res_type, params, 1);
      if (found[0]?.versionId === row.version) out.push(sub);
    }
  }
  return out;
}

function eventOf(subscription: string, row: OutboxRow, interaction: string, context: string[]): NewEvent {
  return { subscription, at: row.at, focusType: row.res_type, focusId: row.res_id, focusVersion: row.version, interaction, context };
}

/** Numbers and stores the events of subscriptions that are active (or failing); returns those subscriptions. */
async function storeEvents(q: Queryable, events: NewEvent[]): Promise<string[]> {
  if (!events.length) return [];
  const ids = [...new Set(events.map((e) => e.subscription))];
  const states = await q.query<{ id: string; n: string }>(
    `SELECT id, events_since_start::text AS n FROM subscription_state WHERE id = ANY($1::text[]) AND status IN ('active', 'error') FOR UPDATE`, [ids]);
  const next = new Map(states.map((s) => [s.id, BigInt(s.n)]));
  const kept: (NewEvent & { number: string })[] = [];
  for (const e of events) {
    const n = next.get(e.subscription);
    if (n === undefined) continue;
    next.set(e.subscription, n + 1n);
    kept.push({ ...e, number: String(n + 1n) });
  }
  if (!kept.length) return [];
  await q.query(
    `UPDATE subscription_state s SET events_since_start = u.n, updated_at = now() FROM unnest($1::text[], $2::bigint[]) AS u(id, n) WHERE s.id = u.id`,
    [[...next.keys()], [...next.values()].map(String)],
  );
  await q.query(
    `INSERT INTO subscription_events (subscription_id, event_number, at, focus_type, focus_id, focus_version, interaction, context)
      SELECT u.s, u.n, u.at, u.t, u.i, u.v, u.x, coalesce(u.c::text[], '{}') FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[])
        AS u(s, n, at, t, i, v, x, c)`,
    [kept.map((e) => e.subscription), kept.map((e) => e.number), kept.map((e) => e.at), kept.map((e) => e.focusType), kept.map((e) => e.focusId),
      kept.map((e) => e.focusVersion), kept.map((e) => e.interaction), kept.map((e) => (e.context.length ? `{${e.context.map((c) => JSON.stringify(c)).join(',')}}` : null))],
  );
  return [...new Set(kept.map((e) => e.subscription))];
}

/** `Patient/id` of an Observation-like resource's subject, if it is a Patient. */
function patientOf(resource: Resource): string | undefined {
  const ref = (resource as { subject?: { reference?: string } }).subject?.reference;
  return ref && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(ref) ? ref : undefined;
}

function isVitalSign(resource: Resource): boolean {
  if (resource.resourceType !== 'Observation') return false;
  return (resource.category ?? []).some((c) => (c.coding ?? []).some((x) => x.system === VITAL_SIGNS && x.code === 'vital-signs'));
}
