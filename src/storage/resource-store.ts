// Typed SQL for resources and their versions. Each write is ONE statement (data-modifying CTEs):
// the resource row, the replaced version (moved to resource_versions) and all index rows go to the
// database in a single round trip, which on this hardware is the difference between ~1,000 and
// ~2,000 writes/s.
import type { Queryable } from '../db/database.js';
import { emptyIndexRows, type IndexRows } from '../search/index-rows.js';
import { bulkIndexInsertCtes, bulkIndexParams, indexDeleteCtes, indexInsertCtes, indexMask, indexParams } from './index-sql.js';

/** A resource row as stored: `content` is the exact JSON text served, null once deleted. */
export interface StoredResource {
  rid: string;
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  content: string | null;
}

/** One version to write. */
export interface VersionWrite {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  /** The HTTP verb recorded in history (POST, PUT, PATCH, DELETE). */
  method: string;
  /** JSON text of the resource, or null for a delete. */
  content: string | null;
  index: IndexRows | null;
}

/** The columns of a resource row as `toStored` reads them, for a `resources` row aliased `alias`. */
export const resourceColumns = (alias = ''): string => {
  const a = alias ? `${alias}.` : '';
  return `${a}rid::text AS rid, ${a}res_type, ${a}id, ${a}version, ${a}deleted, ${a}content,
  (extract(epoch from ${a}last_updated) * 1000)::float8 AS lu_ms`;
};
const COLUMNS = resourceColumns();

/** A resource row selected with `resourceColumns`. */
export interface ResourceRow {
  rid: string;
  res_type: string;
  id: string;
  version: number;
  deleted: boolean;
  content: string | null;
  lu_ms: number;
}

type Row = ResourceRow;

/** Maps a row selected with `resourceColumns` to a StoredResource. */
export const toStored = (r: ResourceRow): StoredResource => ({
  rid: r.rid,
  resourceType: r.res_type,
  id: r.id,
  versionId: r.version,
  lastUpdated: new Date(r.lu_ms).toISOString(),
  deleted: r.deleted,
  content: r.content,
});

const PREPARED = { prepare: true };
const readCurrentSql = `SELECT ${COLUMNS} FROM resources WHERE res_type = $1 AND id = $2`;

/** The current version of a resource (possibly deleted), or undefined if it never existed. */
export async function readCurrent(q: Queryable, resourceType: string, id: string): Promise<StoredResource | undefined> {
  const rows = await q.query<Row>(readCurrentSql, [resourceType, id], PREPARED);
  return rows[0] && toStored(rows[0]);
}

const readCurrentManySql = `SELECT ${resourceColumns('r')}, k.ord::int AS ord
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(res_type, id, ord)
  JOIN resources r ON r.res_type = k.res_type AND r.id = k.id`;

/** The current versions of several resources by type and id, in the order given (undefined where unknown). */
export async function readCurrentMany(
  q: Queryable,
  keys: readonly { resourceType: string; id: string }[],
): Promise<(StoredResource | undefined)[]> {
  if (keys.length === 1) return [await readCurrent(q, keys[0]!.resourceType, keys[0]!.id)];
  const rows = await q.query<Row & { ord: number }>(
    readCurrentManySql,
    [keys.map((k) => k.resourceType), keys.map((k) => k.id)],
    PREPARED,
  );
  const out: (StoredResource | undefined)[] = new Array(keys.length).fill(undefined);
  for (const row of rows) out[row.ord - 1] = toStored(row);
  return out;
}

/** A resource's current version with the Patient compartments it is in (what patient/ scope checks need). */
export interface StoredCompartments {
  stored: StoredResource;
  /** Ids of the Patients in whose compartment the current version is. */
  compartments: string[];
}

const readCompartmentsManySql = `SELECT ${resourceColumns('r')}, k.ord::int AS ord,
    array(SELECT m.comp_id FROM idx_compartment m WHERE m.rid = r.rid AND m.comp_type = 'Patient') AS compartments
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(res_type, id, ord)
  JOIN resources r ON r.res_type = k.res_type AND r.id = k.id`;

/** Current versions and their compartments, by type and id, in the order given (undefined where unknown). */
export async function readCompartmentsMany(q: Queryable, keys: readonly { resourceType: string; id: string }[]): Promise<(StoredCompartments | undefined)[]> {
  const rows = await q.query<ResourceRow & { ord: number; compartments: string[] | null }>(
    readCompartmentsManySql, [keys.map((k) => k.resourceType), keys.map((k) => k.id)], PREPARED,
  );
  const out: (StoredCompartments | undefined)[] = new Array(keys.length).fill(undefined);
  for (const row of rows) out[row.ord - 1] = { stored: toStored(row), compartments: row.compartments ?? [] };
  return out;
}

/** Current versions of several resources by internal key, in the order given. */
export async function readByRids(q: Queryable, rids: readonly string[]): Promise<StoredResource[]> {
  if (!rids.length) return [];
  const rows = await q.query<Row>(
    `SELECT ${COLUMNS} FROM resources r JOIN unnest($1::bigint[]) WITH ORDINALITY AS k(rid, ord) USING (rid) ORDER BY k.ord`,
    [rids],
    PREPARED,
  );
  return rows.map(toStored);
}

const readVersionSql = `SELECT ${COLUMNS} FROM resources WHERE res_type = $1 AND id = $2 AND version = $3
  UNION ALL
  SELECT v.rid::text AS rid, v.res_type, v.id, v.version, v.content IS NULL AS deleted, v.content,
    (extract(epoch from v.last_updated) * 1000)::float8 AS lu_ms
  FROM resources r JOIN resource_versions v ON v.rid = r.rid AND v.version = $3
  WHERE r.res_type = $1 AND r.id = $2`;

/**
 * A scalar subquery for the JSON of one version of the resource `type`/`id` (SQL expressions):
 * from `resources` when `version` is current (or NULL, meaning the current one), else from
 * `resource_versions`. NULL for a deletion or an unknown version. For statements that fetch
 * versions of many resources at once (subscription events, notifications).
 */
export const versionContentSql = (type: string, id: string, version: string): string =>
  `(SELECT CASE WHEN ${version} IS NULL OR r.version = ${version} THEN r.content ELSE v.content END
    FROM resources r LEFT JOIN resource_versions v ON v.rid = r.rid AND v.version = ${version}
    WHERE r.res_type = ${type} AND r.id = ${id})`;

/** One specific version of a resource (current or earlier), or undefined. */
export async function readVersion(
  q: Queryable,
  resourceType: string,
  id: string,
  versionId: number,
): Promise<StoredResource | undefined> {
  const rows = await q.query<Row>(readVersionSql, [resourceType, id, versionId], PREPARED);
  return rows[0] && toStored(rows[0]);
}

// The outbox row of a watched type (migrations/010), written by the same statement as the resource.
const outboxCte = `, ob AS (INSERT INTO change_outbox (res_type, res_id, version)
    SELECT $1, $2, $3 FROM r WHERE EXISTS (SELECT 1 FROM change_watch w WHERE w.res_type = $1))`;

const insertSql = (mask: number): string => `WITH r AS (
    INSERT INTO resources (rid, res_type, id, version, last_updated, deleted, method, content)
    VALUES (nextval('resource_rid_seq'), $1, $2, $3, $4, $6::text IS NULL, $5, $6)
    ON CONFLICT ON CONSTRAINT resources_identity DO NOTHING
    RETURNING rid)
  ${outboxCte}
  ${indexInsertCtes(7, mask)}
  SELECT rid::text AS rid FROM r`;
const insertSqlByMask = new Map<number, string>();

/** Inserts a resource that does not exist yet; returns its rid, or undefined if the id is taken. */
export async function insertResource(q: Queryable, w: VersionWrite): Promise<string | undefined> {
  const mask = indexMask(w.index);
  let sql = insertSqlByMask.get(mask);
  if (!sql) insertSqlByMask.set(mask, (sql = insertSql(mask)));
  const rows = await q.query<{ rid: string }>(sql, [
    w.resourceType, w.id, w.versionId, w.lastUpdated, w.method, w.content, ...indexParams(w.index, mask),
  ], PREPARED);
  return rows[0]?.rid;
}

const bulkInsertSql = `WITH u AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) WITH ORDINALITY
      AS u(res_type, id, last_updated, method, content, ord)),
  r AS (
    INSERT INTO resources (rid, res_type, id, version, last_updated, deleted, method, content)
    SELECT nextval('resource_rid_seq'), res_type, id, 1, last_updated, false, method, content FROM u ORDER BY ord
    RETURNING rid, res_type, id),
  ob AS (INSERT INTO change_outbox (res_type, res_id, version)
    SELECT r.res_type, r.id, 1 FROM r WHERE EXISTS (SELECT 1 FROM change_watch w WHERE w.res_type = r.res_type) ORDER BY r.rid)
  ${bulkIndexInsertCtes(6)}
  SELECT count(*)::int AS n FROM r`;

/**
 * Inserts many new resources (version 1, fresh ids) in one statement: the bulk path of
 * transactions. Fails as a whole (unique violation) if any id already exists.
 */
export async function insertResources(q: Queryable, writes: readonly VersionWrite[]): Promise<void> {
  if (!writes.length) return;
  await q.query(bulkInsertSql, [
    writes.map((w) => w.resourceType),
    writes.map((w) => w.id),
    writes.map((w) => w.lastUpdated),
    writes.map((w) => w.method),
    writes.map((w) => w.content),
    ...bulkIndexParams(writes.map((w) => w.index ?? emptyIndexRows())),
  ], PREPARED);
}

// The row lock taken by FOR UPDATE makes a concurrent writer wait and then re-check the version,
// so of two writers of the same version exactly one finds its row.
const updateSql = `WITH old AS (
    SELECT rid, version, res_type, id, last_updated, method, content FROM resources
    WHERE res_type = $1 AND id = $2 AND version = $3 - 1 FOR UPDATE),
  moved AS (INSERT INTO resource_versions (rid, version, res_type, id, last_updated, method, content)
    SELECT rid, version, res_type, id, last_updated, method, content FROM old),
  r AS (
    UPDATE resources SET version = $3, last_updated = $4, deleted = $6::text IS NULL, method = $5, content = $6
    FROM old WHERE resources.rid = old.rid
    RETURNING resources.rid)
  ${outboxCte}
  ${indexDeleteCtes('old')}
  ${indexInsertCtes(7)}
  SELECT rid::text AS rid FROM r`;

/**
 * Writes the next version of an existing resource, but only if its current version is still
 * `versionId - 1` (optimistic locking); returns false when another writer got there first.
 */
export async function updateResource(q: Queryable, w: VersionWrite): Promise<boolean> {
  const rows = await q.query<{ rid: string }>(updateSql, [
    w.resourceType, w.id, w.versionId, w.lastUpdated, w.method, w.content, ...indexParams(w.index),
  ], PREPARED);
  return rows.length === 1;
}

/** Takes a transaction-scoped advisory lock on a string key (e.g. a conditional-create condition). */
export async function lockKey(q: Queryable, key: string): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key], PREPARED);
}
