// Stored subscription events (migrations/010 subscription_events) as notification events, and the
// resources a notification carries: for delivery and for $events replay alike.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
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
  return rows.map((r) => ({
    eventNumber: r.n,
    timestamp: r.at,
    // Versioned, so a full-resource payload carries the version that raised the event.
    focus: `${r.focus_type}/${r.focus_id}/_history/${r.focus_version}`,
    interaction: r.interaction as NotificationEvent['interaction'],
    additionalContext: r.context,
  }));
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
    `SELECT k.ord::int AS ord, CASE WHEN k.version IS NULL OR r.version = k.version THEN r.content ELSE v.content END AS content
      FROM unnest($1::text[], $2::text[], $3::int[]) WITH ORDINALITY AS k(res_type, id, version, ord)
      JOIN resources r ON r.res_type = k.res_type AND r.id = k.id
      LEFT JOIN resource_versions v ON v.rid = r.rid AND v.version = k.version`,
    [keys.map((k) => k.type), keys.map((k) => k.id), keys.map((k) => k.version)],
  );
  for (const row of rows) if (row.content) out.set(keys[row.ord - 1]!.ref, JSON.parse(row.content) as Resource);
  return out;
}
