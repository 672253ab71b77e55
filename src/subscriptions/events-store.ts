// Stored subscription events (migrations/010 subscription_events) as notification events, and the
// resources a notification carries: for delivery and for $events replay alike.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import { versionContentSql } from '../storage/resource-store.js';
import type { NotificationEvent } from './notification.js';
import type { PayloadContent } from './subscription-spec.js';

interface EventRow { n: string; at: string; focus_type: string; focus_id: string; focus_version: number; interaction: string; context: string[] }

/** Events of a subscription numbered after `after` up to `until` (inclusive), at most `limit`, in order. */
export async function loadEvents(q: Queryable, id: string, after: bigint, limit: number, until?: bigint): Promise<NotificationEvent[]> {
  const rows = await q.query<EventRow>(
    `SELECT event_number::text AS n, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, focus_type, focus_id, focus_version, interaction, context
      FROM subscription_events WHERE subscription_id = $1 AND event_number > $2::bigint ${until !== undefined ? 'AND event_number <= $4::bigint' : ''}
      ORDER BY event_number LIMIT $3`,
    until !== undefined ? [id, String(after), limit, String(until)] : [id, String(after), limit],
  );
  return rows.map(toEvent);
}

function toEvent(r: EventRow): NotificationEvent {
  return {
    eventNumber: r.n,
    timestamp: r.at,
    // Versioned, so a full-resource payload carries the version that raised the event.
    focus: `${r.focus_type}/${r.focus_id}/_history/${r.focus_version}`,
    interaction: r.interaction as NotificationEvent['interaction'],
    additionalContext: r.context,
  };
}

/** The resources a notification with this payload content carries, keyed by the events' references. */
export async function resourcesFor(q: Queryable, content: PayloadContent, events: readonly NotificationEvent[]): Promise<Map<string, Resource>> {
  const out = new Map<string, Resource>();
  if (content !== 'full-resource') return out;
  const refs = [...new Set(events.flatMap((e) => [e.focus, ...(e.additionalContext ?? [])]))];
  const keys = refs.map((ref) => {
    const [type = '', id = '', , version] = ref.split('/');
    return { ref, type, id, version: version ? Number(version) : null };
  });
  const rows = await q.query<{ ord: number; content: string | null }>(
    `SELECT k.ord::int AS ord, ${versionContentSql('k.res_type', 'k.id', 'k.version')} AS content
      FROM unnest($1::text[], $2::text[], $3::int[]) WITH ORDINALITY AS k(res_type, id, version, ord)`,
    [keys.map((k) => k.type), keys.map((k) => k.id), keys.map((k) => k.version)],
  );
  for (const row of rows) if (row.content) out.set(keys[row.ord - 1]!.ref, JSON.parse(row.content) as Resource);
  return out;
}

/**
 * The pending events of subscription $1 after `after` (an SQL expression), at most $3, each with
 * the JSON of its focus version when $4 (a full-resource payload) — one statement for both.
 */
export const PENDING_EVENTS_SQL = (after: string): string => `SELECT e.event_number::text AS n,
    to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, e.focus_type, e.focus_id, e.focus_version, e.interaction, e.context,
    CASE WHEN $4::boolean THEN ${versionContentSql('e.focus_type', 'e.focus_id', 'e.focus_version')} END AS content
  FROM subscription_events e WHERE e.subscription_id = $1 AND e.event_number > ${after} ORDER BY e.event_number LIMIT $3`;

/** A row of PENDING_EVENTS_SQL (all null when there is no event, after a LEFT JOIN). */
export interface PendingRow extends Partial<EventRow> { content?: string | null }

/** Events and resources from PENDING_EVENTS_SQL rows; context resources (e.g. the Patient) are read when the payload carries resources. */
export async function pendingEvents(q: Queryable, rows: readonly PendingRow[], full: boolean): Promise<{ events: NotificationEvent[]; resources: Map<string, Resource> }> {
  const events: NotificationEvent[] = [];
  const resources = new Map<string, Resource>();
  for (const r of rows) {
    if (!r.n) continue;
    const e = toEvent(r as EventRow);
    events.push(e);
    if (r.content) resources.set(e.focus, JSON.parse(r.content) as Resource);
  }
  const context = events.flatMap((e) => (e.additionalContext ?? []).map((c) => ({ eventNumber: e.eventNumber, timestamp: e.timestamp, focus: c })));
  if (full && context.length) for (const [k, v] of await resourcesFor(q, 'full-resource', context)) resources.set(k, v);
  return { events, resources };
}
