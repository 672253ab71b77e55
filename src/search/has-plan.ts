// Reverse chaining (search.html#has) can be answered two ways, and at a million resources the wrong
// one costs seconds. "Set": collect every referring resource that matches, then their targets —
// cheap when the inner filter matches few resources, but `Patient?_has:Observation:subject:code=X`
// on a common code collects tens of thousands. "Per candidate": walk the outer resources in page
// order and test each with an EXISTS probe of its own references — a page of 20 then costs about
// 20 probes, but a rare code (or one concentrated on a few targets) makes the walk visit every
// candidate. A capped sample of the inner matches tells them apart; the choice affects only speed,
// never the result, so it is cached for a while per filter.
import type { Queryable } from '../db/database.js';
import type { FhirContext } from '../fhir/types.js';
import type { Filter, SearchRequest } from './parse.js';
import { binder, indexMatch, onRidOnly, scopeSql } from './sql.js';

/** How a `_has` filter is compiled (see filterSql). */
export type HasStrategy = 'set' | 'per-candidate';

/** Remembers the strategy chosen per `_has` filter; one per server, injected through FhirContext. */
export interface HasPlanCache {
  get(key: string, now: number): HasStrategy | undefined;
  set(key: string, strategy: HasStrategy, now: number): void;
}

// Inner matches sampled, and how many distinct targets among them make them "spread out".
const SAMPLE = 1_000;
const SPREAD_TARGETS = 20;

/** A bounded cache of `_has` strategies, each kept for `ttlMs`. */
export function hasPlanCache(maxEntries = 1_000, ttlMs = 10 * 60_000): HasPlanCache {
  const entries = new Map<string, { strategy: HasStrategy; at: number }>();
  return {
    get(key, now) {
      const e = entries.get(key);
      if (!e || now - e.at > ttlMs) return undefined;
      return e.strategy;
    },
    set(key, strategy, now) {
      entries.delete(key);
      entries.set(key, { strategy, at: now });
      // Maps iterate in insertion order: the first key is the least recently stored.
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}

/**
 * Chooses the strategy of every top-level `_has` filter whose inner filter is a plain index match
 * and whose referring resources need no access check (the per-candidate probe reads index rows only).
 */
export async function planHas(ctx: FhirContext, q: Queryable, req: SearchRequest): Promise<void> {
  if (ctx.rowAccess || !ctx.hasPlans) return;
  for (const f of req.filters) {
    if (f.has && !f.has.strategy && onRidOnly(f.has.filter)) f.has.strategy = await chooseStrategy(ctx, q, f, req.resourceTypes ?? req.resourceType);
  }
}

async function chooseStrategy(ctx: FhirContext, q: Queryable, f: Filter, resourceType: string | string[]): Promise<HasStrategy> {
  const has = f.has as NonNullable<Filter['has']>;
  const b = binder(ctx.defs);
  const inner = indexMatch(has.filter, has.resourceType, b, ctx.config.baseUrl);
  if (!inner) return 'set';
  const scope = `${scopeSql(b, has.resourceType, has.param, 'ref')} AND ref.target_type = ANY(${b.bind(Array.isArray(resourceType) ? resourceType : [resourceType])}::text[])`;
  const sql = `WITH s AS (SELECT x.rid FROM ${inner.table} x WHERE ${inner.where} LIMIT ${SAMPLE})
    SELECT (SELECT count(*) FROM s)::int AS n,
      (SELECT count(DISTINCT ref.target_id) FROM s JOIN idx_reference ref ON ref.rid = s.rid WHERE ${scope})::int AS d`;
  const key = `${sql}\u0000${JSON.stringify(b.params)}`;
  const now = ctx.now().getTime();
  const cached = ctx.hasPlans?.get(key, now);
  if (cached) return cached;
  const [row] = await q.query<{ n: number; d: number }>(sql, b.params);
  const strategy: HasStrategy = (row?.n ?? 0) >= SAMPLE && (row?.d ?? 0) >= SPREAD_TARGETS ? 'per-candidate' : 'set';
  ctx.hasPlans?.set(key, strategy, now);
  return strategy;
}
