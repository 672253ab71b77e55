// The Redis audit queue (src/smart/audit-queue.ts): entries are acknowledged to the caller once in
// the stream, reach audit_log exactly once through the consumer group, and entries a dead consumer
// left unacknowledged are taken over without being stored twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { AUDIT_GROUP, createAuditQueue, type AuditQueue } from '../../src/smart/audit-queue.js';
import type { AuditEntry } from '../../src/smart/audit.js';
import { insertAuditRows } from '../../src/storage/audit-store.js';
import { sharedServer } from '../harness.js';

const redisUrl = process.env.REDIS_URL;

describe('Redis audit queue', { skip: !redisUrl && 'needs REDIS_URL (runs in the PostgreSQL and Redis pass of CI)' }, () => {
  const stream = `helix:audit:test:${process.pid}:${Date.now()}`;
  const run = `aq-${Date.now().toString(36)}`;
  let queue: AuditQueue;
  let redis: Redis;
  const errors: unknown[] = [];
  const entry = (n: number): AuditEntry => ({
    recorded: new Date(Date.UTC(2026, 0, 1, 0, 0, n)), action: 'R', subtype: 'read', outcome: '0', patients: [`p${n % 3}`],
    resourceType: 'Observation', resourceId: `o${n}`, clientId: 'queue-test', requestId: `${run}-${n}`,
  });
  const stored = async (prefix: string) => {
    const { db } = (await sharedServer()).helix.ctx;
    return db.query<{ request_id: string; res_id: string; patients: string[]; queue_id: string | null }>(
      'SELECT request_id, res_id, patients, queue_id FROM audit_log WHERE request_id LIKE $1 ORDER BY request_id', [`${prefix}%`],
    );
  };

  before(async () => {
    const { db } = (await sharedServer()).helix.ctx;
    queue = await createAuditQueue(redisUrl as string, db, { onError: (e) => errors.push(e), onWarning: () => undefined, stream, blockMs: 50, claimIdleMs: 100 });
    redis = new Redis(redisUrl as string);
  });
  after(async () => {
    await queue?.stop();
    await redis?.del(stream);
    redis?.disconnect();
  });

  it('acknowledges concurrent entries once queued and stores each exactly once', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, n) => queue.record(entry(n))));
    // The background drainer or this explicit drain: either way every entry lands once.
    await queue.drain();
    const rows = await stored(`${run}-`);
    assert.equal(rows.length, 50);
    assert.deepEqual(rows.find((r) => r.request_id === `${run}-7`)?.patients, ['p1']);
    assert.ok(rows.every((r) => r.queue_id), 'every row keyed by its stream entry');
    assert.equal(await redis.xlen(stream), 0, 'acknowledged entries are deleted from the stream');
  });

  it('takes over what a dead consumer left unacknowledged, without storing it twice', async () => {
    const dead = `${run}-dead`;
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push(await redis.xadd(stream, '*', 'b', JSON.stringify([{ ...entry(n), requestId: `${dead}-${n}` }])) as string);
    // A consumer reads them, stores one of them, and dies before acknowledging anything.
    await redis.xreadgroup('GROUP', AUDIT_GROUP, 'dead-consumer', 'COUNT', 10, 'STREAMS', stream, '>');
    const { db } = (await sharedServer()).helix.ctx;
    await insertAuditRows(db, [{ ...entry(0), requestId: `${dead}-0` }], [`${ids[0]}/0`]);
    await new Promise((r) => setTimeout(r, 150));
    await queue.drain();
    const rows = await stored(`${dead}-`);
    assert.deepEqual(rows.map((r) => r.request_id), [`${dead}-0`, `${dead}-1`, `${dead}-2`]);
    assert.equal(await redis.xlen(stream), 0);
    assert.deepEqual(errors, []);
  });
});
