// $get-ws-binding-token — Subscriptions R5 Backport IG 1.1.0, OperationDefinition
// backport-subscription-get-ws-binding-token (channels.html "Websockets"):
// POST [base]/Subscription/[id]/$get-ws-binding-token, or POST [base]/Subscription/$get-ws-binding-token
// with one or more `id` parameters. Returns Parameters `token`, `expiration`, `subscription` (one
// per id) and `websocket-url`. The token is presented on the websocket as `bind-with-token <token>`
// (src/http/websocket-plugin.ts); it is valid for 5 minutes (TOKEN_TTL_MS in ws-tokens.ts).
//
// Decisions where the IG leaves room:
// - Not idempotent (the OperationDefinition says so): POST only.
// - Type level without any `id`: the IG lets a server fail the request; Helix does (400), rather
//   than hand out a token for every websocket Subscription in the database.
// - Only Subscriptions with channel type websocket that are not `off` get a token (422 otherwise);
//   unknown ids are a 404.
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest, unprocessable, type Issue } from '../fhir/errors.js';
import type { FhirResponse } from '../fhir/types.js';
import { subscriptionsWithState } from '../subscriptions/status-query.js';
import { issueBindingToken, websocketUrl } from '../subscriptions/ws-tokens.js';
import type { OperationDefinitionEntry } from './registry.js';
import { listParams } from './params.js';

const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;
// One token binds at most this many Subscriptions (one websocket, one bind-with-token message).
const MAX_IDS = 100;

/** The $get-ws-binding-token operation (type and instance level on Subscription). */
export const getWsBindingTokenOperation: OperationDefinitionEntry = {
  name: 'get-ws-binding-token',
  definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-get-ws-binding-token',
  system: false,
  type: true,
  instance: true,
  affectsState: true,
  resourceTypes: ['Subscription'],
  async invoke(ctx, s, req, target): Promise<FhirResponse> {
    // At instance level the IG says `id` is ignored.
    const ids = target.id ? [target.id] : [...new Set(listParams(req, ['id']).id as string[])];
    if (!ids.length) throw badRequest('Name the Subscriptions to bind with one or more id parameters', ['Parameters.parameter']);
    if (ids.length > MAX_IDS) throw badRequest(`At most ${MAX_IDS} Subscriptions per token`);
    for (const id of ids) if (!FHIR_ID.test(id)) throw badRequest(`"${id.slice(0, 70)}" is not a Subscription id`);
    const found = await subscriptionsWithState(ctx, s.q, ids);
    const problems: Issue[] = [];
    for (const id of ids) {
      const sub = found.find((x) => x.id === id);
      // A stored Subscription that no longer parses is not served (live.ts), so it gets no token either.
      if (!sub) problems.push({ severity: 'error', code: 'business-rule', diagnostics: `Subscription/${id} cannot be served` });
      else if (sub.spec.channel.type !== 'websocket') {
        problems.push({ severity: 'error', code: 'business-rule', diagnostics: `Subscription/${id} has channel type ${sub.spec.channel.type}, not websocket` });
      } else if (sub.state.status === 'off') problems.push({ severity: 'error', code: 'business-rule', diagnostics: `Subscription/${id} is off` });
    }
    if (problems.length) throw unprocessable(problems);
    const { token, expiresAt } = await issueBindingToken(s.q, ids);
    const resource: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'token', valueString: token },
        // Typed dateTime by the OperationDefinition; given to the millisecond in UTC, like an instant.
        { name: 'expiration', valueDateTime: expiresAt.toISOString() },
        ...ids.map((id) => ({ name: 'subscription', valueString: id })),
        { name: 'websocket-url', valueUrl: websocketUrl(ctx.config.baseUrl) },
      ],
    };
    // A bearer credential: no cache may keep it.
    return { status: 200, headers: { 'Cache-Control': 'no-store' }, resource };
  },
};
