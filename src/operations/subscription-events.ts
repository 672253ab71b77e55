// $events — Subscriptions R5 Backport IG 1.1.0, OperationDefinition backport-subscription-events:
// GET [base]/Subscription/[id]/$events?eventsSinceNumber=&eventsUntilNumber=&content= replays
// stored events as a `query-event` notification Bundle. Events are kept in subscription_events,
// so every event since the subscription started can be replayed, delivered or not.
import { badRequest } from '../fhir/errors.js';
import type { FhirResponse } from '../fhir/types.js';
import { loadEvents, resourcesFor } from '../subscriptions/events-store.js';
import { eventsBundle } from '../subscriptions/notification.js';
import { subscriptionsWithState } from '../subscriptions/status-query.js';
import type { PayloadContent } from '../subscriptions/subscription-spec.js';
import type { OperationDefinitionEntry } from './registry.js';
import { listParams } from './params.js';

// Events in one response; a client pages with eventsSinceNumber.
const MAX_EVENTS = 1_000;

/** The $events operation (instance level on Subscription). */
export const subscriptionEventsOperation: OperationDefinitionEntry = {
  name: 'events',
  definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events',
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  resourceTypes: ['Subscription'],
  async invoke(ctx, s, req, target): Promise<FhirResponse> {
    const args = listParams(req, ['eventsSinceNumber', 'eventsUntilNumber', 'content']);
    const number = (name: string): bigint | undefined => {
      const v = args[name]?.[0];
      if (v === undefined) return undefined;
      if (!/^\d{1,18}$/.test(v)) throw badRequest(`${name} must be a non-negative integer, got "${v.slice(0, 40)}"`);
      return BigInt(v);
    };
    const since = number('eventsSinceNumber') ?? 1n;
    const until = number('eventsUntilNumber');
    const content = args.content?.[0];
    if (content !== undefined && !['empty', 'id-only', 'full-resource'].includes(content)) throw badRequest('content must be empty, id-only or full-resource');
    const [sub] = await subscriptionsWithState(ctx, s.q, [target.id as string]);
    if (!sub) throw badRequest(`Subscription/${target.id} cannot be read as a Subscription`);
    const events = await loadEvents(s.q, sub.id, since - 1n, MAX_EVENTS, until);
    const level = (content as PayloadContent | undefined) ?? sub.spec.channel.content;
    const bundle = eventsBundle(sub.spec, events, await resourcesFor(s.q, level, events), sub.state, { baseUrl: ctx.config.baseUrl, now: () => ctx.now() }, content as PayloadContent | undefined);
    return { status: 200, headers: {}, resource: bundle };
  },
};
