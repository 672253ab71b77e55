import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalesce } from '../../src/storage/coalesce.js';
import { fhir, sharedServer } from '../harness.js';

/** A batch runner that records the batches it was given. */
function recorder(fail?: (item: number) => boolean) {
  const batches: number[][] = [];
  let inFlight = 0;
  let maxSeen = 0;
  const run = async (items: number[]): Promise<number[]> => {
    batches.push([...items]);
    inFlight++;
    maxSeen = Math.max(maxSeen, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    if (fail && items.some(fail)) throw new Error(`bad item in ${items.join(',')}`);
    return items.map((i) => i * 10);
  };
  return { batches, run, maxSeen: () => maxSeen };
}

describe('coalesce', () => {
  it('runs items submitted in the same turn as one batch, answering each caller in order', async () => {
    const r = recorder();
    const submit = coalesce(r.run, { maxBatch: 64, maxInFlight: 1 });
    assert.deepEqual(await Promise.all([1, 2, 3, 4].map(submit)), [10, 20, 30, 40]);
    assert.deepEqual(r.batches, [[1, 2, 3, 4]]);
  });

  it('splits at maxBatch and never exceeds maxInFlight; later items join the next batch', async () => {
    const r = recorder();
    const submit = coalesce(r.run, { maxBatch: 3, maxInFlight: 2 });
    const first = [1, 2, 3, 4, 5, 6, 7].map(submit);
    assert.deepEqual(await Promise.all(first), [10, 20, 30, 40, 50, 60, 70]);
    assert.deepEqual(r.batches, [[1, 2, 3], [4, 5, 6], [7]]);
    assert.equal(r.maxSeen(), 2);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const r = recorder((i) => i === 3);
    const submit = coalesce(r.run, { maxBatch: 64, maxInFlight: 1 });
    const results = await Promise.allSettled([1, 2, 3, 4].map(submit));
    assert.deepEqual(results.map((x) => x.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(results.map((x) => (x.status === 'fulfilled' ? x.value : undefined)), [10, 20, undefined, 40]);
    assert.deepEqual(r.batches, [[1, 2, 3, 4], [1], [2], [3], [4]]);
  });
});

describe('coalesced creates and reads over HTTP', () => {
  it('answers 40 parallel creates and reads each with its own resource; a bad one fails alone', async () => {
    const { base } = await sharedServer();
    const bodies = Array.from({ length: 40 }, (_, i) => ({
      resourceType: 'Basic', code: { text: i === 17 ? 'bad\u0000byte' : `coalesce-${i}` },
    }));
    const created = await Promise.all(bodies.map((b) => fhir(base, 'POST', 'Basic', b)));
    assert.deepEqual(created.map((r) => (r.status >= 400 && r.status < 500 ? '4xx' : r.status)), bodies.map((_, i) => (i === 17 ? '4xx' : 201)));
    const ids = created.map((r) => (r.body as { id?: string }).id);
    const read = await Promise.all(ids.map((id, i) => (i === 17 ? undefined : fhir(base, 'GET', `Basic/${id}`))));
    read.forEach((r, i) => {
      if (i === 17) return;
      assert.equal(r?.status, 200);
      assert.equal((r?.body as { code: { text: string } }).code.text, `coalesce-${i}`);
    });
    const unknown = await Promise.all([fhir(base, 'GET', 'Basic/no-such-one'), fhir(base, 'GET', `Basic/${ids[0]}`)]);
    assert.deepEqual(unknown.map((r) => r.status), [404, 200]);
  });
});

describe('coalesced inserts against the database', () => {
  it('commits the good writes of a batch whose statement the database refuses', async () => {
    const { helix } = await sharedServer();
    const { pool, extractor } = helix.ctx;
    const lastUpdated = new Date().toISOString();
    // Validation would refuse the NUL over HTTP; written directly, it reaches PostgreSQL in an index
    // row (the stored JSON escapes it), where a text column refuses it and fails the shared statement.
    const writes = Array.from({ length: 12 }, (_, i) => {
      const resource = { resourceType: 'Basic', id: `coalesce-db-${process.pid}-${i}`, code: { text: i === 5 ? 'bad\u0000byte' : `ok ${i}` } } as const;
      return {
        resourceType: 'Basic', id: resource.id, versionId: 1, lastUpdated, method: 'POST',
        content: JSON.stringify(resource), index: extractor.extract(resource as never),
      };
    });
    const results = await Promise.allSettled(writes.map((w) => pool.insertNew(w)));
    assert.deepEqual(results.map((r) => r.status), writes.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    const stored = await Promise.all(writes.map((w) => pool.readCurrent('Basic', w.id)));
    assert.deepEqual(stored.map((s) => s?.versionId), writes.map((_, i) => (i === 5 ? undefined : 1)));
  });
});
