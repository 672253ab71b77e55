import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statisticsKeeper } from '../../src/storage/statistics.js';

describe('statisticsKeeper', () => {
  it('analyzes once enough rows were written, then not again within the interval', async () => {
    const sql: string[] = [];
    const keeper = statisticsKeeper({ query: async (s: string) => (sql.push(s), []) } as never, { threshold: 1000, minIntervalMs: 60_000, onError: assert.fail });
    keeper.wrote(600);
    assert.deepEqual(sql, []);
    keeper.wrote(500);
    await keeper.idle();
    assert.deepEqual(sql, ['ANALYZE']);
    keeper.wrote(5000);
    await keeper.idle();
    assert.deepEqual(sql, ['ANALYZE'], 'within the minimum interval');
  });

  it('reports a failed ANALYZE instead of throwing into the write path', async () => {
    const errors: unknown[] = [];
    const keeper = statisticsKeeper({ query: async () => { throw new Error('no'); } } as never, { threshold: 1, minIntervalMs: 0, onError: (e) => errors.push(e) });
    keeper.wrote(1);
    await keeper.idle();
    assert.equal(errors.length, 1);
  });
});
