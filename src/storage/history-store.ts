// Typed SQL for the history interaction: versions newest first, keyset-paged so that versions
// written while a client walks the pages neither repeat nor skip entries.
import type { Queryable } from '../db/database.js';

/** One history entry. */
export interface HistoryEntry {
  rid: string;
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  method: string;
  content: string | null;
}

/** Which versions to list. */
export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  /** Only versions updated at or after this instant (ISO). */
  since?: string;
  /** Only versions current at this instant: the newest version of each resource at or before it. */
  at?: string;
  count: number;
  /** Continue after this position (from a previous page's `next`). */
  after?: HistoryCursor;
  /**
   * Row-level access: a predicate on the current row `r` of a resource, binding into `params`;
   * only versions of resources whose current row meets it are listed (src/search/restrict.ts).
   */
  visible?: (params: unknown[]) => string | undefined;
}

/** Position in the history order (last_updated desc, rid desc, version desc). */
export interface HistoryCursor { ms: number; rid: string; version: number }

interface Row { rid: string; res_type: string; id: string; version: number; method: string; content: string | null; lu_ms: number }

/** Filters shared by both halves of history: current rows (`resources`) and earlier versions. */
function versionFilters(h: Omit<HistoryQuery, 'count' | 'after' | 'visible'>, p: (v: unknown) => string, alias: string, visible?: string): string[] {
  const where: string[] = [];
  if (visible) where.push(`${alias}.rid IN (SELECT r.rid FROM resources r WHERE ${visible})`);
  if (h.resourceType && h.id) {
    where.push(`${alias}.rid = (SELECT rid FROM resources WHERE res_type = ${p(h.resourceType)} AND id = ${p(h.id)})`);
  } else if (h.resourceType) {
    where.push(`${alias}.res_type = ${p(h.resourceType)}`);
  }
  if (h.since) where.push(`${alias}.last_updated >= ${p(h.since)}::timestamptz`);
  if (h.at) where.push(`${alias}.last_updated <= ${p(h.at)}::timestamptz`);
  return where;
}

const VERSION_COLUMNS = 'rid, res_type, id, version, method, content, last_updated';

/** Every version matching the filters: the current rows plus the earlier versions. */
function allVersions(h: Omit<HistoryQuery, 'count' | 'after'>, params: unknown[], p: (v: unknown) => string): string {
  const visible = h.visible?.(params);
  const clause = (alias: string): string => {
    const where = versionFilters(h, p, alias, visible);
    return where.length ? `WHERE ${where.join(' AND ')}` : '';
  };
  return `(SELECT ${VERSION_COLUMNS} FROM resources c ${clause('c')}
    UNION ALL SELECT ${VERSION_COLUMNS} FROM resource_versions o ${clause('o')})`;
}

/** Lists one page (plus one extra row to tell whether another page exists). */
export async function listHistory(q: Queryable, h: HistoryQuery): Promise<{ entries: HistoryEntry[]; more: boolean }> {
  const params: unknown[] = [];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const where: string[] = [];
  if (h.at) {
    // Only the version that was current at `at`: no later version of the same resource by then.
    const at = p(h.at);
    where.push(`NOT EXISTS (SELECT 1 FROM resources n WHERE n.rid = v.rid AND n.version > v.version AND n.last_updated <= ${at}::timestamptz)`);
    where.push(`NOT EXISTS (SELECT 1 FROM resource_versions n WHERE n.rid = v.rid AND n.version > v.version AND n.last_updated <= ${at}::timestamptz)`);
  }
  if (h.after) {
    where.push(`(v.last_updated, v.rid, v.version) < (to_timestamp(${p(h.after.ms)}::float8 / 1000), ${p(h.after.rid)}::bigint, ${p(h.after.version)}::int)`);
  }
  const sql = `SELECT v.rid::text AS rid, v.res_type, v.id, v.version, v.method, v.content,
      (extract(epoch from v.last_updated) * 1000)::float8 AS lu_ms
    FROM ${allVersions(h, params, p)} v ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY v.last_updated DESC, v.rid DESC, v.version DESC LIMIT ${p(h.count + 1)}`;
  const rows = await q.query<Row>(sql, params);
  const more = rows.length > h.count;
  return {
    more,
    entries: rows.slice(0, h.count).map((r) => ({
      rid: r.rid,
      resourceType: r.res_type,
      id: r.id,
      versionId: r.version,
      lastUpdated: new Date(r.lu_ms).toISOString(),
      method: r.method,
      content: r.content,
    })),
  };
}

/** Total number of versions matching the query (without paging; not for `_at`). */
export async function countHistory(q: Queryable, h: Omit<HistoryQuery, 'count' | 'after' | 'at'>): Promise<number> {
  const params: unknown[] = [];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const rows = await q.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${allVersions(h, params, p)} v`, params);
  return Number(rows[0]?.n ?? 0);
}
