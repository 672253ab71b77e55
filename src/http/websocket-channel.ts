// The websocket channel of FHIR Subscriptions (Subscriptions R5 Backport IG 1.1.0, channels.html
// "Websockets"; R4 subscription.html, channel type websocket) as one unit for createHelix: the
// hub that fans notifications out to every instance (src/subscriptions/ws-hub.ts), the endpoint
// that binds sockets to subscriptions (websocket-plugin.ts), and the `publish` the subscription
// engine calls with each websocket notification (SubscriptionOptions.websocket).
import type { Resource } from '@medplum/fhirtypes';
import type { FastifyPluginAsync } from 'fastify';
import type { FhirContext } from '../fhir/types.js';
import { createWsHub } from '../subscriptions/ws-hub.js';
import { websocketPlugin } from './websocket-plugin.js';

/** What the channel needs: the FHIR context, Redis (optional), the installation and an error sink. */
export interface WebsocketChannelOptions {
  ctx: FhirContext;
  redisUrl?: string;
  installationId: string;
  onError(err: unknown): void;
}

/** The websocket channel of one instance. */
export interface WebsocketChannel {
  /** Hands a notification Bundle to the sockets bound to the subscription, on every instance. */
  publish(subscriptionId: string, bundle: Resource): void;
  /** Serves `[base]/$websocket`; register it on the HTTP server before it listens. */
  plugin: FastifyPluginAsync;
  /** Disconnects from Redis (the sockets are closed with the HTTP server). */
  close(): Promise<void>;
}

/** Creates the websocket channel (connecting to Redis when `redisUrl` is given). */
export async function createWebsocketChannel(opts: WebsocketChannelOptions): Promise<WebsocketChannel> {
  const hub = await createWsHub({ ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}), installationId: opts.installationId, onError: opts.onError });
  return {
    publish: (subscriptionId, bundle) => hub.publish(subscriptionId, bundle),
    plugin: websocketPlugin({ ctx: opts.ctx, hub, onError: opts.onError }),
    close: () => hub.close(),
  };
}
