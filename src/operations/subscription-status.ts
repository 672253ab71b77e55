// $status — Subscriptions R5 Backport IG 1.1.0, OperationDefinition backport-subscription-status:
// GET [base]/Subscription/$status (optionally `id` and `status`, each repeating and ORed) and
// GET [base]/Subscription/[id]/$status. Returns a searchset Bundle of SubscriptionStatus
// Parameters, one per Subscription.
import { bundleText } from '../fhir/bundle.js';
import { badRequest } from '../fhir/errors.js';
import type { FhirResponse } from '../fhir/types.js';
import { statusBundle } from '../subscriptions/notification.js';
import { subscriptionsWithState } from '../subscriptions/status-query.js';
import type { OperationDefinitionEntry } from './registry.js';

/** The $status operation (type and instance level on Subscription). */
export const subscriptionStatusOperation: OperationDefinitionEntry = {
  name: 'status',
  definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
  system: false,
  type: true,
  instance: true,
  affectsState: false,
  resourceTypes: ['Subscription'],
  async invoke(ctx, s, req, target): Promise<FhirResponse> {
    const args = operationArgs(req.query, req.body, ['id', 'status']);
    const ids = target.id ? [target.id] : args.id.length ? args.id : undefined;
    const statuses = target.id ? [] : args.status;
    for (const st of statuses) if (!['requested', 'active', 'error', 'off'].includes(st)) throw badRequest(`status must be requested, active, error or off, got "${st.slice(0, 40)}"`);
    const subs = (await subscriptionsWithState(ctx, s.q, ids)).filter((x) => !statuses.length || statuses.includes(x.state.status));
    const env = { baseUrl: ctx.config.baseUrl, now: () => ctx.now() };
    const entries = subs.map((x) => {
      const status = statusBundle(x.spec, x.state, env).entry?.[0];
      return { fullUrl: status?.fullUrl, resourceText: JSON.stringify(status?.resource), extra: { search: { mode: 'match' } } };
    });
    return { status: 200, headers: {}, text: bundleText({ type: 'searchset', total: entries.length }, entries) };
  },
};

/** Values of the named parameters from the query string and a Parameters body, comma lists split. */
export function operationArgs(query: URLSearchParams, body: unknown, names: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (const v of query.getAll(n)) out[n]!.push(...v.split(',').map((x) => x.trim()).filter(Boolean));
  const params = body as { resourceType?: string; parameter?: { name?: string; [k: string]: unknown }[] } | undefined;
  if (params && typeof params === 'object' && params.resourceType === 'Parameters') {
    for (const p of params.parameter ?? []) {
      if (!p.name || !names.includes(p.name)) continue;
      const value = Object.entries(p).find(([k]) => k.startsWith('value'))?.[1];
      if (typeof value === 'string' || typeof value === 'number') out[p.name]!.push(String(value));
    }
  }
  return out;
}
