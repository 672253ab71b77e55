// $status — Subscriptions R5 Backport IG 1.1.0, OperationDefinition backport-subscription-status:
// GET [base]/Subscription/$status (optionally `id` and `status`, each repeating and ORed) and
// GET [base]/Subscription/[id]/$status. Returns a searchset Bundle of SubscriptionStatus
// Parameters, one per Subscription.
import { bundleText } from '../fhir/bundle.js';
import { badRequest } from '../fhir/errors.js';
import type { FhirResponse } from '../fhir/types.js';
import { statusBundle } from '../subscriptions/notification.js';
import { subscriptionsWithState } from '../subscriptions/status-query.js';
import { listParams } from './params.js';
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
    const args = listParams(req, ['id', 'status']);
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
