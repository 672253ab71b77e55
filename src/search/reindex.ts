// The reindex job runner: rebuilds index rows of stored resources in batches, one job at a time per
// instance, any number of instances (jobs are claimed with SKIP LOCKED and resumed from their
// cursor if an owner dies). Each batch is one transaction that locks its resource rows FOR SHARE,
// so a concurrent update of the same resource waits instead of being overwritten by stale rows.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/database.js';
import {
  advanceReindexJob, claimReindexJob, finishReindexJob, lockReindexBatch, rewriteIndexRows, setReindexTotal, type ReindexJob,
} from '../storage/reindex-store.js';
import type { IndexExtractor } from './extract.js';

/** Tuning of the runner. */
export interface ReindexOptions {
  batchSize: number;
  /** How often to look for work when idle. */
  pollMs: number;
  /**
   * How long after a job's creation its sweep may start: every instance must have registered the
   * new parameter by then (twice the SearchParameter poll interval is plenty).
   */
  sweepDelayMs: number;
  /** A running job whose owner has not reported for this long is taken over. */
  staleSeconds: number;
  onCompleted(job: ReindexJob): void;
  onError(err: unknown): void;
}

/** A running job runner. */
export interface ReindexRunner {
  /** Looks for work now instead of at the next poll. */
  nudge(): void;
  stop(): Promise<void>;
}

/** Starts the runner loop. */
export function startReindexRunner(db: Database, extractor: IndexExtractor, options: ReindexOptions): ReindexRunner {
  const owner = randomUUID();
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { wake = undefined; resolve(); }, ms);
    t.unref();
    wake = () => { clearTimeout(t); wake = undefined; resolve(); };
  });

  /** Processes one batch; false when the phase has no more resources. */
  const batch = async (job: ReindexJob, since?: string): Promise<boolean> => db.transaction(async (tx) => {
    const rows = await lockReindexBatch(tx, job.resourceTypes, job.cursor, options.batchSize, since);
    if (!rows.length) return false;
    const items = rows.map((r) => ({ rid: r.rid, resourceType: r.res_type, index: extractor.extract(JSON.parse(r.content) as Resource) }));
    await rewriteIndexRows(tx, items, job.codes);
    const cursor = (rows[rows.length - 1] as { rid: string }).rid;
    if (!(await advanceReindexJob(tx, job, owner, cursor, since ? 0 : rows.length, since ? 'sweep' : 'scan'))) {
      throw new Error(`reindex job ${job.id} was taken over by another instance`);
    }
    job.cursor = cursor;
    return true;
  });

  const work = async (job: ReindexJob): Promise<void> => {
    if (job.total === null) job.total = await setReindexTotal(db, job);
    if (job.phase === 'scan') {
      while (!stopped && (await batch(job)));
      if (stopped) return;
      job.phase = 'sweep';
      job.cursor = '0';
      await advanceReindexJob(db, job, owner, '0', 0, 'sweep');
    }
    const sweepAt = Date.parse(job.created) + options.sweepDelayMs;
    while (!stopped && Date.now() < sweepAt) await sleep(sweepAt - Date.now());
    // Resources written since shortly before the job was queued, re-read after every instance knows
    // the parameter; a minute of margin absorbs clock differences between the servers.
    const since = new Date(Date.parse(job.created) - 60_000).toISOString();
    while (!stopped && (await batch(job, since)));
    if (stopped) return;
    await finishReindexJob(db, job, owner);
    options.onCompleted({ ...job, status: 'completed' });
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      let job: ReindexJob | undefined;
      try {
        job = await claimReindexJob(db, owner, options.staleSeconds);
        if (job) await work(job);
      } catch (err) {
        if (stopped) return;
        options.onError(err);
        if (job) await finishReindexJob(db, job, owner, (err as Error).message ?? String(err)).catch(options.onError);
      }
      if (!job && !stopped) await sleep(options.pollMs);
    }
  };
  const running = loop();

  return {
    nudge: () => wake?.(),
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
