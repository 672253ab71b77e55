// Reading a Subscription with its server-side state, for $status and $events (Backport IG
// OperationDefinition-backport-subscription-status / -events).
import type { Queryable } from '../db/database.js';
import { notFound } from '../fhir/errors.js';
import type { FhirContext } from '../fhir/types.js';
import type { SubscriptionState } from './notification.js';
import { parseStoredSubscription, type SubscriptionSpec, type SubscriptionStatusCode } from './subscription-spec.js';

/** A stored Subscription, parsed, with its status and event counter. */
export interface SubscriptionWithState { id: string; spec: SubscriptionSpec; state: SubscriptionState }

/** Subscriptions by id (all when `ids` is undefined), with their state; unknown ids are a 404. */
export async function subscriptionsWithState(ctx: FhirContext, q: Queryable, ids: string[] | undefined): Promise<SubscriptionWithState[]> {
  const rows = await q.query<{ id: string; content: string; status: string | null; events: string | null; last_error: string | null }>(
    `SELECT r.id, r.content, s.status, s.events_since_start::text AS events, s.last_error FROM resources r
      LEFT JOIN subscription_state s ON s.id = r.id
      WHERE r.res_type = 'Subscription' AND NOT r.deleted ${ids ? 'AND r.id = ANY($1::text[])' : ''} ORDER BY r.rid`,
    ids ? [ids] : [],
  );
  if (ids) for (const id of ids) if (!rows.some((r) => r.id === id)) throw notFound(`Subscription/${id.slice(0, 64)} is not known`);
  const out: SubscriptionWithState[] = [];
  for (const r of rows) {
    const spec = parseStoredSubscription(JSON.parse(r.content), (t) => ctx.defs.resourceTypes.has(t));
    if (!spec) continue;
    const status = (r.status ?? spec.status) as SubscriptionStatusCode;
    const errors = status === 'error' && r.last_error
      ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscription-error', code: 'no-response' }], text: r.last_error }]
      : undefined;
    out.push({ id: r.id, spec, state: { id: r.id, status, eventsSinceSubscriptionStart: r.events ?? '0', ...(errors ? { errors } : {}) } });
  }
  return out;
}
