// Typed SQL for reindex jobs (migrations/002): queueing, claiming with SKIP LOCKED so that one
// instance works a job at a time, progress, and rewriting the index rows of stored resources.
import type { Queryable } from '../db/database.js';
import { emptyIndexRows, type IndexRows } from '../search/index-rows.js';
import { bulkIndexParams, rewriteIndexCtes } from './index-sql.js';

/** A reindex job as stored. */
export interface ReindexJob {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  resourceTypes: string[];
  /** Parameter codes to rebuild; null for every parameter. */
  codes: string[] | null;
  searchParameter?: { id: string; version: number };
  cursor: string;
  processed: number;
  total: number | null;
  phase: 'scan' | 'sweep';
  error: string | null;
  created: string;
  started: string | null;
  finished: string | null;
}

interface JobRow {
  id: string; status: ReindexJob['status']; res_types: string[]; codes: string[] | null; sp_id: string | null; sp_version: number | null;
  cursor_rid: string; processed: string; total: string | null; phase: ReindexJob['phase']; error: string | null;
  created: string; started: string | null; finished: string | null;
}

const instant = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
const JOB_COLUMNS = `id::text AS id, status, res_types, codes, sp_id, sp_version, cursor_rid::text AS cursor_rid,
  processed::text AS processed, total::text AS total, phase, error, ${['created', 'started', 'finished'].map(instant).join(', ')}`;

const toJob = (r: JobRow): ReindexJob => ({
  id: r.id, status: r.status, resourceTypes: r.res_types, codes: r.codes,
  ...(r.sp_id !== null && r.sp_version !== null ? { searchParameter: { id: r.sp_id, version: r.sp_version } } : {}),
  cursor: r.cursor_rid, processed: Number(r.processed), total: r.total === null ? null : Number(r.total), phase: r.phase,
  error: r.error, created: r.created, started: r.started, finished: r.finished,
});

/** Queues a job; for a SearchParameter version, at most one job ever exists (returns the existing one). */
export async function queueReindexJob(
  q: Queryable, resourceTypes: string[], codes: string[] | null, searchParameter?: { id: string; version: number },
): Promise<ReindexJob> {
  const rows = await q.query<JobRow>(
    `INSERT INTO reindex_jobs (res_types, codes, sp_id, sp_version) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sp_id, sp_version) DO NOTHING RETURNING ${JOB_COLUMNS}`,
    [resourceTypes, codes, searchParameter?.id ?? null, searchParameter?.version ?? null],
  );
  if (rows[0]) return toJob(rows[0]);
  const existing = await q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM reindex_jobs WHERE sp_id = $1 AND sp_version = $2`, [searchParameter?.id, searchParameter?.version]);
  return toJob(existing[0] as JobRow);
}

/** One job by id. */
export async function readReindexJob(q: Queryable, id: string): Promise<ReindexJob | undefined> {
  const rows = await q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM reindex_jobs WHERE id = $1::bigint`, [id]);
  return rows[0] && toJob(rows[0]);
}

/** The most recent jobs, newest first. */
export async function recentReindexJobs(q: Queryable, limit: number): Promise<ReindexJob[]> {
  return (await q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM reindex_jobs ORDER BY id DESC LIMIT $1`, [limit])).map(toJob);
}

/** The SearchParameter versions whose jobs have completed. */
export async function completedSearchParameterJobs(q: Queryable): Promise<{ id: string; version: number }[]> {
  return q.query<{ id: string; version: number }>(
    `SELECT sp_id AS id, sp_version AS version FROM reindex_jobs WHERE status = 'completed' AND sp_id IS NOT NULL`,
  );
}

/**
 * Claims the oldest queued job, or a running one whose owner stopped sending heartbeats for
 * `staleSeconds`; returns undefined when there is none.
 */
export async function claimReindexJob(q: Queryable, owner: string, staleSeconds: number): Promise<ReindexJob | undefined> {
  const rows = await q.query<JobRow>(
    `UPDATE reindex_jobs SET status = 'running', owner = $1, heartbeat = now(), started = coalesce(started, now())
     WHERE id = (SELECT id FROM reindex_jobs
                 WHERE status = 'queued' OR (status = 'running' AND heartbeat < now() - make_interval(secs => $2))
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING ${JOB_COLUMNS}`,
    [owner, staleSeconds],
  );
  return rows[0] && toJob(rows[0]);
}

/** Counts the resources a job covers and records it as the job's total. */
export async function setReindexTotal(q: Queryable, job: ReindexJob): Promise<number> {
  const rows = await q.query<{ n: string }>(
    `UPDATE reindex_jobs SET total = (SELECT count(*) FROM resources WHERE res_type = ANY($2::text[]) AND NOT deleted)
     WHERE id = $1::bigint RETURNING total::text AS n`,
    [job.id, job.resourceTypes],
  );
  return Number(rows[0]?.n ?? 0);
}

/** A stored resource to reindex. */
export interface ReindexRow { rid: string; res_type: string; content: string }

/**
 * The next batch of a job's resources after `cursor` (by rid), locked against concurrent updates
 * for the rest of the transaction; in the sweep phase only those written since `since`.
 */
export async function lockReindexBatch(
  q: Queryable, resourceTypes: string[], cursor: string, limit: number, since?: string,
): Promise<ReindexRow[]> {
  return q.query<ReindexRow>(
    `SELECT rid::text AS rid, res_type, content FROM resources
     WHERE rid > $1::bigint AND res_type = ANY($2::text[]) AND NOT deleted ${since ? 'AND last_updated >= $4::timestamptz' : ''}
     ORDER BY rid LIMIT $3 FOR SHARE`,
    since ? [cursor, resourceTypes, limit, since] : [cursor, resourceTypes, limit],
  );
}

/** Replaces the index rows of existing resources: every row, or only those of `codes`. */
export async function rewriteIndexRows(
  q: Queryable, items: readonly { rid: string; resourceType: string; index: IndexRows }[], codes: string[] | null,
): Promise<void> {
  if (!items.length) return;
  const rows = items.map((it) => (codes ? onlyCodes(it.index, new Set(codes)) : it.index));
  await q.query(
    `WITH u AS (SELECT u.*, $3::text[] AS codes FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(rid, res_type, ord))
     ${rewriteIndexCtes(codes !== null)}
     SELECT 1`,
    [items.map((it) => it.rid), items.map((it) => it.resourceType), codes ?? [], ...bulkIndexParams(rows)],
  );
}

function onlyCodes(index: IndexRows, codes: ReadonlySet<string>): IndexRows {
  const out = emptyIndexRows();
  for (const key of Object.keys(out) as (keyof IndexRows)[]) {
    if (key === 'compartment') continue;
    (out[key] as { param: string }[]) = (index[key] as { param: string }[]).filter((r) => codes.has(r.param));
  }
  return out;
}

/** Records a batch's progress and renews the owner's heartbeat; false if the job was taken over. */
export async function advanceReindexJob(
  q: Queryable, job: ReindexJob, owner: string, cursor: string, processed: number, phase: ReindexJob['phase'],
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE reindex_jobs SET cursor_rid = $3::bigint, processed = processed + $4, phase = $5, heartbeat = now()
     WHERE id = $1::bigint AND owner = $2 AND status = 'running' RETURNING id`,
    [job.id, owner, cursor, processed, phase],
  );
  return rows.length === 1;
}

/** Ends a job as completed or failed. */
export async function finishReindexJob(q: Queryable, job: ReindexJob, owner: string, error?: string): Promise<void> {
  await q.query(
    `UPDATE reindex_jobs SET status = $3, error = $4, finished = now(), heartbeat = now() WHERE id = $1::bigint AND owner = $2`,
    [job.id, owner, error ? 'failed' : 'completed', error ?? null],
  );
}
