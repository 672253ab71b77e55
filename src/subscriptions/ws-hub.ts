// The fan-out of the websocket channel (Subscriptions R5 Backport IG 1.1.0, channels.html
// "Websockets"; R4 subscription.html, channel type websocket). Delivery runs on whichever instance
// holds a subscription's lease, but the client's websocket may be connected to any instance: every
// notification is handed to the sockets bound on this instance and, with Redis, published on the
// installation's channel `helix:ws:<installationId>` for every other instance to hand to its own.
// Each message names the instance that sent it, so an instance never delivers its own twice (and
// its own sockets are served even while Redis is unreachable). Best effort, like the channel
// itself: a client that was not connected catches up with $events.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { Redis } from 'ioredis';

/** Receives the notifications of a subscription bound on this instance. */
export type WsListener = (subscriptionId: string, bundle: Resource) => void;

/** The hub of one instance. */
export interface WsHub {
  /** Hands this subscription's notifications to `listener` until it is unbound. */
  bind(subscriptionId: string, listener: WsListener): void;
  /** Stops handing this subscription's notifications to `listener`. */
  unbind(subscriptionId: string, listener: WsListener): void;
  /** Sends a notification to every socket bound to the subscription, on every instance. */
  publish(subscriptionId: string, bundle: Resource): void;
  /** How many listeners are bound to the subscription on this instance. */
  bound(subscriptionId: string): number;
  close(): Promise<void>;
}

/** What a hub needs: Redis (optional: in-process without it), the installation, an error sink. */
export interface WsHubOptions {
  redisUrl?: string;
  /** Keeps this installation's notifications apart from others sharing the Redis. */
  installationId: string;
  onError(err: unknown): void;
}

interface Envelope { origin: string; subscriptionId: string; bundle: Resource }

/** Creates the hub; with `redisUrl`, connects a publisher and a dedicated subscriber connection. */
export async function createWsHub(opts: WsHubOptions): Promise<WsHub> {
  const listeners = new Map<string, Set<WsListener>>();
  const deliver = (subscriptionId: string, bundle: Resource): void => {
    for (const listener of listeners.get(subscriptionId) ?? []) {
      // One failing socket must not keep the notification from the others.
      try {
        listener(subscriptionId, bundle);
      } catch (err) {
        opts.onError(err);
      }
    }
  };
  const local: Omit<WsHub, 'publish' | 'close'> = {
    bind(subscriptionId, listener) {
      let set = listeners.get(subscriptionId);
      if (!set) listeners.set(subscriptionId, (set = new Set()));
      set.add(listener);
    },
    unbind(subscriptionId, listener) {
      const set = listeners.get(subscriptionId);
      set?.delete(listener);
      if (set?.size === 0) listeners.delete(subscriptionId);
    },
    bound: (subscriptionId) => listeners.get(subscriptionId)?.size ?? 0,
  };
  if (!opts.redisUrl) return { ...local, publish: deliver, close: async () => listeners.clear() };

  const channel = `helix:ws:${opts.installationId}`;
  const origin = randomUUID();
  const pub = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // A connection in subscriber mode can run no other command, hence a second one.
  const sub = new Redis(opts.redisUrl, { lazyConnect: true });
  pub.on('error', opts.onError);
  sub.on('error', opts.onError);
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(channel);
  sub.on('message', (_channel: string, message: string) => {
    try {
      const e = JSON.parse(message) as Envelope;
      if (e.origin !== origin && typeof e.subscriptionId === 'string') deliver(e.subscriptionId, e.bundle);
    } catch (err) {
      opts.onError(err);
    }
  });
  return {
    ...local,
    publish(subscriptionId, bundle) {
      deliver(subscriptionId, bundle);
      const envelope: Envelope = { origin, subscriptionId, bundle };
      pub.publish(channel, JSON.stringify(envelope)).catch(opts.onError);
    },
    async close() {
      listeners.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
