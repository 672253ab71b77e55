// The durable audit queue: with Redis, an audited request is answered once its entry is in a Redis
// stream (one XADD per group of concurrent requests, tens of microseconds) instead of
// once a PostgreSQL commit has stored it (a write statement per group, which halved read
// throughput). A drainer on every instance moves entries from the stream into audit_log in large
// batches through a consumer group, acknowledging them only after the commit; entries of an
// instance that died are claimed by another after a minute, and the queue id makes the insert
// idempotent, so each entry is stored exactly once. The guarantee is as durable as Redis is
// configured to be: run it with `appendonly yes` (Helix warns at start when it is not).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Queryable } from '../db/database.js';
import { insertAuditRows, type AuditRow } from '../storage/audit-store.js';
import { auditTrailOver, type AuditEntry, type AuditTrail } from './audit.js';

/** The stream of one installation (every instance on one database): several may share a Redis. */
export const auditStream = (installationId: string): string => `helix:audit:${installationId}`;
/** The consumer group of the drainers. */
export const AUDIT_GROUP = 'audit-log';
const GROUP = AUDIT_GROUP;
// An entry delivered to a consumer that has not acknowledged it within this time is taken over.
const CLAIM_IDLE_MS = 60_000;
const BATCH = 1_000;

/** An audit trail over Redis, with its drainer. */
export interface AuditQueue extends AuditTrail {
  /** Moves whatever is queued now into PostgreSQL (tests; the drainer does it continuously). */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/** Options of the queue. */
export interface AuditQueueOptions {
  onError: (err: unknown) => void;
  onWarning: (message: string) => void;
  /** How long the drainer blocks waiting for entries. */
  blockMs?: number;
  /** The stream: auditStream(installation id). */
  stream: string;
  /** How long an unacknowledged entry waits before another consumer takes it over. */
  claimIdleMs?: number;
}

/** Connects to Redis, makes sure the consumer group exists, and starts the drainer. */
export async function createAuditQueue(redisUrl: string, db: Queryable, options: AuditQueueOptions): Promise<AuditQueue> {
  const { stream } = options;
  const consumer = `helix-${randomUUID()}`;
  const writer = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const reader = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
  writer.on('error', options.onError);
  reader.on('error', options.onError);
  await Promise.all([writer.connect(), reader.connect()]);
  try {
    await writer.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
  await warnIfVolatile(writer, options.onWarning);

  // One stream entry per group of concurrent requests: a single XADD carries them all.
  const trail = auditTrailOver(async (entries) => {
    await writer.xadd(stream, '*', 'b', JSON.stringify(entries));
  }, { maxBatch: 256, maxInFlight: 4 });

  /** Stores a batch of delivered entries, then acknowledges and deletes them from the stream. */
  const store = async (delivered: [string, string[]][]): Promise<number> => {
    if (!delivered.length) return 0;
    const ids = delivered.map(([id]) => id);
    const rows: AuditRow[] = [];
    const queueIds: string[] = [];
    for (const [id, fields] of delivered) {
      const json = fields[fields.indexOf('b') + 1];
      if (!json) continue; // not an audit batch; acknowledged below so it cannot block the group
      (JSON.parse(json) as (AuditEntry & { recorded: string })[]).forEach((e, i) => {
        rows.push({ ...e, recorded: new Date(e.recorded) });
        queueIds.push(`${id}/${i}`);
      });
    }
    await insertAuditRows(db, rows, queueIds);
    await reader.multi().xack(stream, GROUP, ...ids).xdel(stream, ...ids).exec();
    return rows.length;
  };

  const drainOnce = async (blockMs: number): Promise<number> => {
    const claimed = (await reader.xautoclaim(stream, GROUP, consumer, options.claimIdleMs ?? CLAIM_IDLE_MS, '0-0', 'COUNT', BATCH)) as [string, [string, string[]][]];
    let n = claimed[1]?.length ? await store(claimed[1]) : 0;
    const args = ['GROUP', GROUP, consumer, 'COUNT', BATCH, ...(blockMs > 0 ? ['BLOCK', blockMs] : []), 'STREAMS', stream, '>'] as const;
    const read = (await (reader.xreadgroup as (...a: unknown[]) => Promise<unknown>)(...args)) as [string, [string, string[]][]][] | null;
    for (const [, entries] of read ?? []) n += await store(entries);
    return n;
  };

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        await drainOnce(options.blockMs ?? 1_000);
      } catch (err) {
        if (stopped) return;
        options.onError(err);
        await new Promise((r) => setTimeout(r, 1_000).unref());
      }
    }
  })();

  return {
    ...trail,
    async drain() {
      // Until nothing is queued or pending: entries the background drainer holds are committed by it.
      let total = 0;
      for (let i = 0; i < 500; i++) {
        total += await drainOnce(0);
        const [pending] = (await writer.xpending(stream, GROUP)) as [number];
        if (Number(pending) === 0 && (await writer.xlen(stream)) === 0) return total;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('the audit queue did not drain');
    },
    async stop() {
      stopped = true;
      // The blocking read returns within blockMs; disconnecting ends it at once.
      reader.disconnect();
      await loop;
      writer.disconnect();
    },
  };
}

async function warnIfVolatile(redis: Redis, warn: (message: string) => void): Promise<void> {
  try {
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as [string, string];
    if (appendonly !== 'yes') warn('Redis runs without an append-only file: audit entries still queued there would be lost if Redis crashed. Set appendonly yes.');
  } catch {
    // CONFIG is often disabled on managed Redis; durability is then the operator's to check.
  }
}
