// _include and _revinclude (search.html#include): the resources a page refers to, and those that
// refer to it, with `:iterate` following the newly included ones again. Bounded: at most `cap`
// resources are included, and the caller reports when the cap cut the set short.
import type { Queryable } from '../db/database.js';
import { resourceColumns, toStored, type ResourceRow, type StoredResource } from '../storage/resource-store.js';
import type { IncludeSpec } from './parse.js';
import { scopeSql, type Binder } from './sql.js';

const MAX_ITERATIONS = 4;
const COLUMNS = resourceColumns('r');
type Row = ResourceRow;

function sourceScope(spec: IncludeSpec, b: Binder): string {
  return spec.param === '*' ? `x.res_type = ${b.bind(spec.source)}` : scopeSql(b, spec.source, spec.param);
}

// Under an access token, included resources are those the caller could read one by one; the
// others are left out silently, as if they did not exist (src/search/restrict.ts).
function visibleSql(b: Binder, types: string | undefined): string {
  const visible = b.visible?.('r', types, 'r');
  return visible ? ` AND ${visible}` : '';
}

function includeSql(spec: IncludeSpec, b: Binder, rids: string): string {
  return `SELECT ${COLUMNS} FROM resources r WHERE NOT r.deleted AND (r.res_type, r.id) IN (
    SELECT x.target_type, x.target_id FROM idx_reference x WHERE x.rid = ANY(${rids}::bigint[]) AND ${sourceScope(spec, b)}
      ${spec.target ? `AND x.target_type = ${b.bind(spec.target)}` : 'AND x.target_type IS NOT NULL'})${visibleSql(b, spec.target)}`;
}

function revincludeSql(spec: IncludeSpec, b: Binder, types: string, ids: string): string {
  return `SELECT ${COLUMNS} FROM resources r WHERE NOT r.deleted AND r.res_type = ${b.bind(spec.source)} AND r.rid IN (
    SELECT x.rid FROM idx_reference x JOIN unnest(${ids}::text[], ${types}::text[]) AS t(id, type)
      ON x.target_id = t.id AND x.target_type = t.type
    WHERE ${sourceScope(spec, b)})${visibleSql(b, spec.source)}`;
}

/** Loads the included resources for a page of matches; `capped` says the cap applied. */
export async function loadIncludes(
  q: Queryable, newBinder: () => Binder, include: IncludeSpec[], revinclude: IncludeSpec[], matches: StoredResource[], cap: number,
): Promise<{ included: StoredResource[]; capped: boolean }> {
  const seen = new Set(matches.map((m) => m.rid));
  const included: StoredResource[] = [];
  let frontier = matches;
  for (let round = 0; round < MAX_ITERATIONS && frontier.length; round++) {
    const inc = include.filter((s) => round === 0 || s.iterate);
    const rev = revinclude.filter((s) => round === 0 || s.iterate);
    if (!inc.length && !rev.length) break;
    const found: StoredResource[] = [];
    for (const spec of inc) {
      const sources = frontier.filter((f) => f.resourceType === spec.source);
      if (!sources.length) continue;
      const b = newBinder();
      const rids = b.bind(sources.map((s) => s.rid));
      const rows = await q.query<Row>(`${includeSql(spec, b, rids)} LIMIT ${b.bind(cap + 1)}`, b.params);
      found.push(...rows.map(toStored));
    }
    for (const spec of rev) {
      const b = newBinder();
      const ids = b.bind(frontier.map((f) => f.id));
      const types = b.bind(frontier.map((f) => f.resourceType));
      const rows = await q.query<Row>(`${revincludeSql(spec, b, types, ids)} LIMIT ${b.bind(cap + 1)}`, b.params);
      found.push(...rows.map(toStored));
    }
    const fresh = found.filter((r) => !seen.has(r.rid) && (seen.add(r.rid), true));
    included.push(...fresh);
    if (included.length > cap) return { included: included.slice(0, cap), capped: true };
    frontier = fresh;
  }
  return { included, capped: false };
}
