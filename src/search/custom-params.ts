// Custom SearchParameters (search.html#custom, searchparameter.html): an `active` SearchParameter
// stored on the server is indexed on every write as soon as each instance has registered it, and
// becomes searchable once the reindex job for its version has indexed the resources stored before.
// Stored SearchParameters are the source of truth: every instance polls them (one cheap query),
// so instances agree without any message bus, and a job is queued idempotently per version.
import { parseFhirPath } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { Database } from '../db/database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { Issue } from '../fhir/errors.js';
import { completedSearchParameterJobs, queueReindexJob } from '../storage/reindex-store.js';
import { INDEXED_TYPES, compileExpression } from './extract.js';

const CODE_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * Why an active SearchParameter cannot be registered (empty when it can). `storedId` is the id of
 * the SearchParameter resource being written, so that a new version of itself is no conflict.
 */
export function searchParameterProblems(defs: FhirDefinitions, sp: SearchParameter, storedId?: string): string[] {
  if (sp.status !== 'active') return [];
  const problems: string[] = [];
  const code = sp.code ?? '';
  const bases = (sp.base ?? []) as string[];
  if (!sp.url) problems.push('url is required to register a search parameter');
  if (!CODE_RE.test(code)) problems.push(`code ${JSON.stringify(code.slice(0, 70))} must start with a letter and hold only letters, digits, '-', '_' and '.'`);
  if (!INDEXED_TYPES.has(sp.type)) problems.push(`type ${sp.type} is not supported for custom search parameters (supported: ${[...INDEXED_TYPES].join(', ')})`);
  if (!sp.expression) problems.push('expression is required');
  if (!bases.length) problems.push('base is required');
  if (problems.length) return problems;
  try {
    parseFhirPath(sp.expression as string);
  } catch (err) {
    return [`expression does not parse as FHIRPath: ${(err as Error).message.slice(0, 200)}`];
  }
  for (const base of bases) {
    if (!defs.resourceTypes.has(base)) {
      problems.push(`base ${base.slice(0, 70)} is not a concrete R4 resource type`);
      continue;
    }
    if (!compileExpression(sp.expression as string, base, defs.resourceTypes).length) {
      problems.push(`expression has no branch that applies to ${base}`);
    }
    const existing = defs.searchParameter(base, code);
    if (existing && existing.url !== sp.url) problems.push(`${base} already has a search parameter ${code} (${existing.url})`);
    if (existing && existing.url === sp.url && existing.id && storedId && existing.id !== storedId) {
      problems.push(`SearchParameter/${existing.id} already defines ${sp.url}`);
    }
  }
  return problems;
}

/** The write-time report on a SearchParameter: warnings, so that any valid R4 resource is stored. */
export function searchParameterIssues(defs: FhirDefinitions, sp: SearchParameter, storedId?: string): Issue[] {
  return searchParameterProblems(defs, sp, storedId).map((p) => ({
    severity: 'warning', code: 'not-supported', diagnostics: `SearchParameter not registered: ${p}`,
  }));
}

/** Keeps the server's definitions in step with the SearchParameters stored in the database. */
export interface SearchParameterSync {
  /** Re-reads stored SearchParameters now (it also runs on a timer). */
  refresh(): Promise<void>;
  /** Marks a SearchParameter version searchable (its reindex job completed on this instance). */
  completed(sp: { id: string; version: number }): void;
  stop(): void;
}

interface Registered { sp: SearchParameter; id: string; version: number }

/** Starts polling stored SearchParameters every `intervalMs`. */
export function startSearchParameterSync(
  db: Database, defs: FhirDefinitions, options: { intervalMs: number; onQueued(): void; onError(err: unknown): void },
): SearchParameterSync {
  const registered = new Map<string, Registered>(); // by url
  let signature = '';
  let running: Promise<void> | undefined;
  let stopped = false;

  const apply = async (): Promise<void> => {
    const sig = await db.query<{ s: string }>(
      `SELECT count(*)::text || '/' || coalesce(max(last_updated)::text, '') || '/' ||
         (SELECT count(*) FROM reindex_jobs WHERE sp_id IS NOT NULL AND status = 'completed')::text AS s
       FROM resources WHERE res_type = 'SearchParameter'`,
    );
    const now = sig[0]?.s ?? '';
    if (now === signature) return;
    const rows = await db.query<{ id: string; version: number; content: string }>(
      `SELECT id, version, content FROM resources WHERE res_type = 'SearchParameter' AND NOT deleted AND content LIKE '%"status":"active"%'
       ORDER BY last_updated, rid`,
    );
    const done = new Set((await completedSearchParameterJobs(db)).map((j) => `${j.id}@${j.version}`));
    const live = new Set<string>();
    for (const row of rows) {
      const sp = JSON.parse(row.content) as SearchParameter;
      if (sp.status !== 'active' || !sp.url) continue;
      const current = registered.get(sp.url);
      if (current && current.id === row.id && current.version === row.version) {
        live.add(sp.url);
        if (done.has(`${row.id}@${row.version}`)) defs.markSearchParameterReady(sp.url);
        continue;
      }
      if (current && current.id !== row.id) continue; // another resource already holds this url
      if (current) defs.removeSearchParameter(sp.url);
      if (searchParameterProblems(defs, sp, row.id).length) continue;
      const job = await queueReindexJob(db, sp.base as string[], [sp.code as string], { id: row.id, version: row.version });
      defs.addSearchParameter(sp, { pending: job.status !== 'completed' });
      registered.set(sp.url, { sp, id: row.id, version: row.version });
      live.add(sp.url);
      if (job.status === 'queued') options.onQueued();
    }
    for (const url of [...registered.keys()]) {
      if (live.has(url)) continue;
      defs.removeSearchParameter(url);
      registered.delete(url);
    }
    signature = now;
  };

  const refresh = (): Promise<void> => {
    running ??= apply().catch(options.onError).finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void (stopped || refresh()), options.intervalMs);
  timer.unref();

  return {
    refresh,
    completed({ id, version }) {
      for (const r of registered.values()) if (r.id === id && r.version === version && r.sp.url) defs.markSearchParameterReady(r.sp.url);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
