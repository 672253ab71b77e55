// Cross-instance fan-out of token revocations: when any instance revokes or consumes a token (or a
// whole grant), every instance drops it from its cache of validated tokens at once. Over Redis
// pub/sub when REDIS_URL is set; in-process otherwise (one instance, nothing to fan out to).
import { Redis } from 'ioredis';

/** A revocation: one token (by the SHA-256 key of its id) or every token of a grant. */
export interface Revocation {
  key?: string;
  grantId?: string;
}

/** Publishes revocations and delivers everyone's (including this instance's) to the subscriber. */
export interface RevocationBus {
  publish(r: Revocation): void;
  subscribe(fn: (r: Revocation) => void): void;
  close(): Promise<void>;
}

const CHANNEL = 'helix:token-revocations';

/** Creates the bus: Redis-backed when `redisUrl` is given. */
export async function createRevocationBus(redisUrl: string | undefined, onError: (err: unknown) => void): Promise<RevocationBus> {
  const listeners: ((r: Revocation) => void)[] = [];
  const deliver = (r: Revocation): void => listeners.forEach((fn) => fn(r));
  if (!redisUrl) {
    return { publish: deliver, subscribe: (fn) => void listeners.push(fn), close: async () => {} };
  }
  const pub = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const sub = new Redis(redisUrl, { lazyConnect: true });
  pub.on('error', onError);
  sub.on('error', onError);
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(CHANNEL);
  sub.on('message', (_channel: string, message: string) => {
    try {
      deliver(JSON.parse(message) as Revocation);
    } catch (err) {
      onError(err);
    }
  });
  return {
    publish(r) {
      // Local first, so this instance never serves a token it just revoked, even if Redis is slow.
      deliver(r);
      pub.publish(CHANNEL, JSON.stringify(r)).catch(onError);
    },
    subscribe: (fn) => void listeners.push(fn),
    async close() {
      sub.disconnect();
      pub.disconnect();
    },
  };
}
