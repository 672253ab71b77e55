// Runs a parsed search against the index: one SQL statement per page, keyset-paged on the sort
// columns (plus rid as tie-breaker) so deep pages cost the same as the first and concurrent
// writes cause neither duplicates nor gaps.
import type { Queryable } from '../db/database.js';
import { badRequest } from '../fhir/errors.js';
import type { FhirContext } from '../fhir/types.js';
import { resourceColumns, toStored, type ResourceRow, type StoredResource } from '../storage/resource-store.js';
import { parseSearch, type Filter, type SearchRequest } from './parse.js';
import { afterCursor, orderBy, sortColumns } from './sort.js';
import { confine } from './restrict.js';
import { binder, Binder, filterSql, indexMatch, matchTable, onRidOnly, typeIs, type IndexMatch } from './sql.js';
import { resolveTerminology } from './terminology.js';
import { planHas } from './has-plan.js';

/** One page of search results. */
export interface SearchPage {
  matches: StoredResource[];
  /** Cursor for the next page, if there is one. */
  next?: string;
  total?: number;
}

type Row = ResourceRow & { [sortKey: `s${number}`]: string | null };

function whereClause(ctx: FhirContext, req: SearchRequest, b: Binder, driver?: Driver): string {
  const types = req.resourceTypes ?? req.resourceType;
  const preds = [typeIs('r.res_type', types, b), 'NOT r.deleted'];
  if (req.compartment && !driver?.compartment) {
    const { type, id } = req.compartment;
    // The compartment owner itself is a member (a Patient is in its own compartment).
    preds.push(`(r.rid IN (SELECT m.rid FROM idx_compartment m WHERE m.comp_type = ${b.bind(type)} AND m.comp_id = ${b.bind(id)}))`);
  }
  for (const f of req.filters) if (!driver?.handled.includes(f)) preds.push(filterSql(f, types, b, ctx.config.baseUrl));
  const visible = b.visible?.('s', types, 'r');
  if (visible) preds.push(visible);
  return preds.join(' AND ');
}

/** A binder for one search statement: confined to the caller's access when there is one. */
export function searchBinder(ctx: FhirContext): Binder {
  return confine(ctx.defs, ctx.config.baseUrl, ctx.rowAccess, binder(ctx.defs));
}

/**
 * The index rows a page is walked from: `SELECT DISTINCT x.rid FROM <from> WHERE <where> ORDER BY
 * x.rid` comes straight off a lookup index (each ends in rid) when the values are equalities, so a
 * page of 20 costs 20 row fetches however many resources match — instead of fetching every match
 * and sorting it, which is what a plain `rid IN (…)` semi-join does at a million resources.
 */
interface Driver {
  from: string;
  where: string;
  compartment?: true;
  /** The filters `where` already answers: the driver's own and those tested on its rids. */
  handled: Filter[];
}

// Most selective first: a reference or system|code names few resources; ranges need a sort anyway.
const DRIVER_RANK: Record<string, number> = { idx_reference: 0, idx_token: 1, idx_uri: 2, idx_string: 3, idx_composite: 4 };

function pickDriver(ctx: FhirContext, req: SearchRequest, b: Binder): Driver | undefined {
  if (req.compartment) {
    const where = `x.comp_type = ${b.bind(req.compartment.type)} AND x.comp_id = ${b.bind(req.compartment.id)}`;
    return withTests(ctx, req, b, { from: 'idx_compartment x', where, compartment: true, handled: [] });
  }
  let best: Filter | undefined;
  let bestRank = Infinity;
  for (const f of req.filters) {
    const table = matchTable(f);
    let rank = table === undefined ? undefined : DRIVER_RANK[table];
    if (rank === undefined) continue;
    // A chain usually names few targets (a name, an identifier): their references are few too.
    if (f.chain) rank = 0.5;
    if (table === 'idx_token' && !f.values.every((v) => /^[^|]+\|[^|]+$/.test(v))) rank += 2.5; // a code without its system
    if (rank < bestRank) [best, bestRank] = [f, rank];
  }
  if (!best) return undefined;
  const m = indexMatch(best, req.resourceTypes ?? req.resourceType, b, ctx.config.baseUrl) as IndexMatch;
  return withTests(ctx, req, b, { from: `${m.table} x`, where: m.where, handled: [best] });
}

/** Moves the filters that need only a rid into the driver, so non-matches cost no resource fetch. */
function withTests(ctx: FhirContext, req: SearchRequest, b: Binder, d: Driver): Driver {
  const types = req.resourceTypes ?? req.resourceType;
  for (const f of req.filters) {
    if (d.handled.includes(f) || !onRidOnly(f)) continue;
    d.where += ` AND ${filterSql(f, types, b, ctx.config.baseUrl, 'x')}`;
    d.handled.push(f);
  }
  return d;
}


/**
 * Whether a filter's best plan is the same whatever its values, so a prepared statement's generic
 * plan (no planning per request, a third of a simple search's database time) is safe. Chains and
 * `_has` are not: their best join order depends on how many rows the inner filter matches, and a
 * generic plan made a chained search a hundred times slower. Nor are LIKE patterns (string, :text,
 * uri :above/:below, full text), whose index use needs the pattern's value at planning time.
 */
function stablePlan(f: Filter): boolean {
  if (f.chain || f.has || f.codes || f.type === 'string' || f.type === 'special') return false;
  return f.modifier !== 'text' && f.modifier !== 'above' && f.modifier !== 'below';
}

/** Runs one page of a search. */
export async function runSearch(ctx: FhirContext, q: Queryable, req: SearchRequest): Promise<SearchPage> {
  await resolveTerminology(ctx, q, req);
  await planHas(ctx, q, req);
  const b = searchBinder(ctx);
  const order = sortColumns(req.sort, b, req.resourceTypes ?? req.resourceType);
  // Only the default order (by rid) can be walked off an index in rid order.
  const driver = order.length === 1 ? pickDriver(ctx, req, b) : undefined;
  const where = [whereClause(ctx, req, b, driver)];
  const cursor = req.cursor ? decodeCursor(req.cursor, order.length) : undefined;
  if (cursor) where.push(afterCursor(order, cursor, b));
  let from = 'resources r';
  if (driver) {
    const after = cursor?.[0] ? ` AND x.rid > ${b.bind(cursor[0])}::bigint` : '';
    from = `(SELECT DISTINCT x.rid FROM ${driver.from} WHERE ${driver.where}${after} ORDER BY x.rid) m JOIN resources r ON r.rid = m.rid`;
  }
  const limit = b.bind(req.count + 1);
  const sql = `SELECT ${resourceColumns('r')}, ${order.map((c, i) => `${c.expr}::text AS s${i}`).join(', ')}
    FROM ${from} WHERE ${where.join(' AND ')}
    ORDER BY ${orderBy(order)} LIMIT ${limit}`;
  const rows = req.count === 0 ? [] : await q.query<Row>(sql, b.params, { prepare: req.filters.every(stablePlan) });
  const page = rows.slice(0, req.count);
  const matches = page.map(toStored);
  const result: SearchPage = { matches };
  const last = page[page.length - 1];
  if (rows.length > req.count && last) result.next = encodeCursor(order.map((_, i) => last[`s${i}`] ?? null));
  // The first page holding every match is an exact count for free (not so for _count=0).
  const complete = !req.cursor && req.count > 0 && rows.length <= req.count;
  if (req.total === 'estimate' && !complete) {
    // At least what this page has seen: the page, plus one if there is a next page.
    result.total = Math.max(await estimateSearch(ctx, q, req), page.length + (result.next ? 1 : 0));
  } else if (req.total === 'accurate' || (req.summary === 'count' && !complete)) {
    result.total = await countSearch(ctx, q, req);
  } else if (complete) {
    result.total = page.length;
  }
  return result;
}

/** Counts every match of a search. */
export async function countSearch(ctx: FhirContext, q: Queryable, req: SearchRequest): Promise<number> {
  await resolveTerminology(ctx, q, req);
  await planHas(ctx, q, req);
  const b = searchBinder(ctx);
  // One indexed filter and nothing else (no compartment, no access restriction): count its index
  // rows without touching the resources (deleted resources keep no index rows, and index rows
  // carry the type).
  const only = !req.compartment && !ctx.rowAccess && req.filters.length === 1 ? req.filters[0] : undefined;
  const m = only && indexMatch(only, req.resourceTypes ?? req.resourceType, b, ctx.config.baseUrl);
  const sql = m
    ? `SELECT count(DISTINCT x.rid)::text AS n FROM ${m.table} x WHERE ${m.where}`
    : `SELECT count(*)::text AS n FROM resources r WHERE ${whereClause(ctx, req, b)}`;
  const rows = await q.query<{ n: string }>(sql, b.params);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The planner's estimate of a search's matches (`_total=estimate`): EXPLAIN reads no rows. It is
 * the row estimate of the plain SELECT, as the count(*) aggregate's own estimate is always 1.
 */
export async function estimateSearch(ctx: FhirContext, q: Queryable, req: SearchRequest): Promise<number> {
  await resolveTerminology(ctx, q, req);
  const b = searchBinder(ctx);
  const rows = await q.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM resources r WHERE ${whereClause(ctx, req, b)}`, b.params);
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan?: { 'Plan Rows'?: unknown } }[] | undefined;
  const estimate = Number(plan?.[0]?.Plan?.['Plan Rows']);
  return Number.isFinite(estimate) && estimate > 0 ? Math.round(estimate) : 0;
}

/** The first `limit` resources matching a condition (for conditional create/update/delete). */
export async function findMatches(
  ctx: FhirContext, q: Queryable, resourceType: string, params: URLSearchParams, limit: number,
): Promise<StoredResource[]> {
  const req = parseSearch(ctx.defs, resourceType, params, { defaultCount: limit, maxCount: limit });
  if (req.unknown.length) {
    // A condition the server cannot fully evaluate must not silently match too much.
    throw badRequest(`Condition cannot be evaluated: ${req.unknown.map((u) => u.reason).join('; ')}`);
  }
  req.count = limit;
  req.total = 'none';
  return (await runSearch(ctx, q, req)).matches;
}

function encodeCursor(values: (string | null)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string, length: number): (string | null)[] {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === length && values.every((v) => typeof v === 'string' || v === null)) {
      return values as (string | null)[];
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('Invalid _cursor: use the next link the server returned');
}
