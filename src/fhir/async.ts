// Asynchronous requests — FHIR R4 async.html and the Bulk Data 2.0 kick-off/status pattern: an
// interaction asked with `Prefer: respond-async` answers 202 with a status URL in
// Content-Location; `GET [base]/_async/{id}` then answers 202 with X-Progress while it runs and,
// once finished, 200 with a batch-response Bundle holding the interaction's own response (as
// R5's async-bundle pattern does); `DELETE` cancels. Job rows live in the database
// (migrations/012) so any instance answers, and the running instance beats a heartbeat so that a
// job orphaned by a crash is reported as failed rather than running forever.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import type { Authorization } from '../smart/access.js';
import { asFhirError, notFound, operationOutcome } from './errors.js';
import type { FhirContext, FhirRequest, FhirResponse } from './types.js';

/** A job with no heartbeat for this long is reported as failed (its instance is gone). */
const ORPHANED_MS = 60_000;
const HEARTBEAT_MS = 5_000;

/** What a running job may do: report progress and learn that it was cancelled. */
export interface JobControl {
  /** Records a progress text (e.g. "120,000 variants"), at most one write at a time; throws once the job has been cancelled. */
  progress(text: string): Promise<void>;
}

/** Starts `work` in the background and answers 202 with its status URL; the job owns its own transaction. */
export async function startAsync(
  ctx: FhirContext, req: FhirRequest, kind: string, work: (job: JobControl) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  const id = randomUUID();
  const url = `${ctx.config.baseUrl.replace(/\/+$/, '')}/${req.path}${req.query.size ? `?${req.query}` : ''}`;
  await ctx.db.query(
    `INSERT INTO async_jobs (id, kind, request_url, status, progress, owner) VALUES ($1, $2, $3, 'in-progress', 'queued', $4)`,
    [id, kind, url, ownerOf(req.auth)]);
  void runJob(ctx.db, id, work);
  const statusUrl = `${ctx.config.baseUrl.replace(/\/+$/, '')}/_async/${id}`;
  return {
    status: 202,
    headers: { 'Content-Location': statusUrl },
    resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `Accepted; poll ${statusUrl}` }]),
  };
}

async function runJob(db: Queryable, id: string, work: (job: JobControl) => Promise<FhirResponse>): Promise<void> {
  // Progress is written beside the work, never awaited by it: the work may hold a transaction,
  // and on the embedded database a second statement would wait for that transaction to end.
  let writing = false;
  let cancelled = false;
  const control: JobControl = {
    async progress(text) {
      if (cancelled) throw new JobCancelled();
      if (writing) return;
      writing = true;
      void db.query<{ status: string }>('UPDATE async_jobs SET progress = $2, heartbeat_at = now() WHERE id = $1 RETURNING status', [id, text])
        .then((rows) => { cancelled = rows[0]?.status === 'cancelled'; }, () => undefined)
        .finally(() => { writing = false; });
    },
  };
  const beat = setInterval(() => { void db.query('UPDATE async_jobs SET heartbeat_at = now() WHERE id = $1', [id]).catch(() => undefined); }, HEARTBEAT_MS);
  beat.unref();
  let res: FhirResponse;
  let status = 'completed';
  try {
    res = await work(control);
  } catch (err) {
    status = err instanceof JobCancelled ? 'cancelled' : 'failed';
    const e = asFhirError(err);
    res = { status: e.status, headers: {}, resource: operationOutcome(e.issues) };
  } finally {
    clearInterval(beat);
  }
  const body = res.text ?? (res.resource ? JSON.stringify(res.resource) : null);
  await db.query(
    `UPDATE async_jobs SET status = CASE WHEN status = 'cancelled' THEN status ELSE $2 END, response_status = $3,
       response_location = $4, response_body = $5, finished_at = now(), heartbeat_at = now() WHERE id = $1`,
    [id, status, res.status, res.headers.Location ?? null, body]).catch(() => undefined);
}

class JobCancelled extends Error {
  constructor() { super('The request was cancelled'); }
}

interface JobRow {
  id: string; kind: string; request_url: string; status: string; progress: string | null; owner: string | null;
  response_status: number | null; response_location: string | null; response_body: string | null; orphaned: boolean;
}

/** GET/DELETE [base]/_async/{id}: the job's progress, its result, or its cancellation. */
export async function asyncStatus(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const rows = await ctx.db.query<JobRow>(
    `SELECT *, heartbeat_at < now() - make_interval(secs => $2) AS orphaned FROM async_jobs WHERE id = $1`, [id, ORPHANED_MS / 1000]);
  const job = rows[0];
  if (!job) throw notFound(`No asynchronous request ${id.slice(0, 64)}`);
  // Only the client (or user) that made the request learns its result.
  if (job.owner !== ownerOf(req.auth)) throw notFound(`No asynchronous request ${id.slice(0, 64)}`);
  if (req.method === 'DELETE') {
    if (job.status === 'in-progress') await ctx.db.query(`UPDATE async_jobs SET status = 'cancelled' WHERE id = $1 AND status = 'in-progress'`, [id]);
    else await ctx.db.query('DELETE FROM async_jobs WHERE id = $1', [id]);
    return { status: 202, headers: {}, resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: job.status === 'in-progress' ? 'Cancelling' : 'Deleted' }]) };
  }
  if (job.status === 'in-progress' && !job.orphaned) {
    return { status: 202, headers: { 'X-Progress': job.progress ?? 'in progress', 'Retry-After': '2' }, resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: job.progress ?? 'in progress' }]) };
  }
  if (job.status === 'in-progress' || job.status === 'cancelled') {
    const why = job.status === 'cancelled' ? 'The request was cancelled; nothing it did was kept' : 'The server running this request stopped; nothing it did was kept';
    return { status: 500, headers: {}, resource: operationOutcome([{ severity: 'error', code: 'incomplete', diagnostics: why }]) };
  }
  const entryResponse = { status: String(job.response_status ?? 500), ...(job.response_location ? { location: job.response_location } : {}) };
  const resource = job.response_body ? JSON.parse(job.response_body) as Record<string, unknown> : undefined;
  return {
    status: 200,
    headers: {},
    text: JSON.stringify({
      resourceType: 'Bundle', type: 'batch-response',
      entry: [{ ...(resource ? { resource } : {}), response: entryResponse }],
    }),
  };
}

function ownerOf(auth: Authorization | undefined): string | null {
  if (!auth) return null;
  return auth.kind === 'user' ? `user:${auth.subject ?? ''}` : `client:${auth.clientId}`;
}
