import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasPlanCache } from '../../src/search/has-plan.js';

describe('hasPlanCache', () => {
  it('keeps a strategy for its time to live', () => {
    const cache = hasPlanCache(10, 1_000);
    cache.set('a', 'per-candidate', 0);
    assert.equal(cache.get('a', 1_000), 'per-candidate');
    assert.equal(cache.get('a', 1_001), undefined);
  });

  it('forgets the least recently stored entry beyond its size', () => {
    const cache = hasPlanCache(2, 60_000);
    cache.set('a', 'set', 0);
    cache.set('b', 'set', 1);
    cache.set('a', 'per-candidate', 2); // stored again: now the newest
    cache.set('c', 'set', 3);
    assert.equal(cache.get('b', 4), undefined);
    assert.equal(cache.get('a', 4), 'per-candidate');
    assert.equal(cache.get('c', 4), 'set');
  });
});
