// `helix import <file|dir|->`: loads transaction/batch Bundles and NDJSON into Helix, over HTTP
// (`--url`) or straight through the database (`--direct`), a few Bundles at a time, with progress
// on stderr and a summary on stdout. Exit code 0 only when every resource was stored.
import type { FhirContext } from '../fhir/types.js';
import { parseImportArgs, USAGE, UsageError } from './import-args.js';
import { startProgress, type Progress, type ProgressSink } from './import-progress.js';
import { tallyReply } from './import-results.js';
import { collectFiles, jobsOfAll, SourceError, type ImportFile, type ImportJob } from './import-sources.js';
import { directTarget, httpTarget, type Target } from './import-target.js';

/** Options of {@link importPaths}: exactly one of `url` and `direct`. */
export interface ImportOptions {
  /** FHIR base URL to POST Bundles to. */
  url?: string;
  /** A Helix context to route Bundles through in-process. */
  direct?: FhirContext;
  /** Bundles in flight at once (default 2). */
  concurrency?: number;
  /** NDJSON resources per batch Bundle (default 500). */
  batchSize?: number;
  /** Progress and failure messages; none when absent. */
  progress?: ProgressSink;
  /** Reads standard input, for the path `-`. */
  readStdin?: () => Promise<Buffer>;
}

/** What an import did. */
export interface ImportSummary {
  files: number;
  /** Resources counted in the inputs before sending. */
  resources: number;
  created: number;
  updated: number;
  failed: number;
  /** NDJSON lines that were JSON but not FHIR resources. */
  skipped: number;
  elapsedSeconds: number;
  /** Resources stored (created + updated) per second. */
  perSecond: number;
  /** Failure messages, each prefixed with its file name (capped). */
  errors: string[];
}

const MAX_ERRORS = 200;

/** Imports files, folders or `-` (stdin) and returns the summary; throws SourceError for unreadable inputs. */
export async function importPaths(paths: readonly string[], options: ImportOptions): Promise<ImportSummary> {
  const target = chooseTarget(options);
  const started = performance.now();
  const files = await collectFiles(paths, options.readStdin ?? (() => Promise.reject(new SourceError('stdin is not available'))));
  const resources = files.reduce((n, f) => n + f.entries, 0);
  const summary: ImportSummary = {
    files: files.length, resources, created: 0, updated: 0, failed: 0, skipped: 0, elapsedSeconds: 0, perSecond: 0, errors: [],
  };
  const progress = startProgress(options.progress, resources);
  const handle = (job: ImportJob): Promise<void> => runJob(job, target, summary, progress);
  try {
    const preload = files.filter((f) => f.preload);
    const rest = files.filter((f) => !f.preload);
    // Preload files are reference data the others point at (conditional references), and may
    // depend on each other in name order: load them one at a time, before anything else.
    await runPool(jobsOfAll(preload, options.batchSize ?? 500), 1, handle);
    await runPool(jobsOfAll(rest, options.batchSize ?? 500), options.concurrency ?? 2, handle);
  } finally {
    progress.stop();
  }
  summary.elapsedSeconds = (performance.now() - started) / 1000;
  summary.perSecond = summary.elapsedSeconds > 0 ? (summary.created + summary.updated) / summary.elapsedSeconds : 0;
  return summary;
}

function chooseTarget(options: ImportOptions): Target {
  if (options.direct && options.url) throw new UsageError('Give either url or direct, not both');
  if (options.direct) return directTarget(options.direct);
  if (options.url) return httpTarget(options.url);
  throw new UsageError('Give a url or a direct context');
}

async function runJob(job: ImportJob, target: Target, summary: ImportSummary, progress: Progress): Promise<void> {
  const report = (file: ImportFile, message: string): void => {
    const line = `${file.name}: ${message}`;
    if (summary.errors.length < MAX_ERRORS) summary.errors.push(line);
    progress.log(line);
  };
  if (job.entries > 0) {
    let tally;
    try {
      tally = tallyReply(await target(job.body), job.entries);
    } catch (err) {
      tally = { created: 0, updated: 0, failed: job.entries, messages: [`request failed: ${describe(err)}`] };
    }
    summary.created += tally.created;
    summary.updated += tally.updated;
    summary.failed += tally.failed;
    for (const m of tally.messages) report(job.file, m);
  }
  summary.skipped += job.skipped;
  summary.failed += job.invalid.length;
  for (const m of job.invalid.slice(0, 5)) report(job.file, m);
  if (job.error) {
    summary.failed += job.error.lost;
    report(job.file, job.error.message);
  }
  progress.add(job.entries + job.skipped + job.invalid.length + (job.error?.lost ?? 0));
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  return `${(err as Error).message ?? String(err)}${cause ? ` (${cause})` : ''}`.slice(0, 300);
}

/** Runs `handle` over `jobs` with `concurrency` in flight; jobs are pulled lazily, in order. */
async function runPool<T>(jobs: AsyncIterable<T>, concurrency: number, handle: (job: T) => Promise<void>): Promise<void> {
  const it = jobs[Symbol.asyncIterator]();
  // An async generator queues concurrent next() calls, so the workers can share it safely.
  const worker = async (): Promise<void> => {
    for (let next = await it.next(); !next.done; next = await it.next()) await handle(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** Formats the summary printed on stdout. */
export function formatSummary(s: ImportSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return [
    `Files:      ${n(s.files)}`,
    `Resources:  ${n(s.resources)} (${n(s.created)} created, ${n(s.updated)} updated, ${n(s.failed)} failed${s.skipped ? `, ${n(s.skipped)} skipped: not FHIR resources` : ''})`,
    `Elapsed:    ${s.elapsedSeconds.toFixed(1)} s`,
    `Rate:       ${n(Math.round(s.perSecond))} resources/s`,
    '',
  ].join('\n');
}

/** I/O of {@link runImport}, replaceable in tests. */
export interface ImportIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  stderr: ProgressSink;
  stdin: AsyncIterable<Buffer | string>;
}

/** The `helix import` command; returns the process exit code (0 ok, 1 failures, 2 usage). */
export async function runImport(args: string[], io: ImportIo = { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  let parsed;
  try {
    parsed = parseImportArgs(args, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`helix import: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const readStdin = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    return Buffer.concat(chunks);
  };
  const common = { concurrency: parsed.concurrency, batchSize: parsed.batchSize, progress: io.stderr, readStdin };
  let summary: ImportSummary;
  try {
    if (parsed.direct) {
      // Loaded only here: the HTTP mode must not pay for (or need) a database.
      const [{ createHelix }, { configFromEnv }] = await Promise.all([import('../app.js'), import('../config.js')]);
      const helix = await createHelix(configFromEnv(io.env, { logLevel: 'warn' }));
      try {
        summary = await importPaths(parsed.paths, { ...common, direct: helix.ctx });
      } finally {
        await helix.close();
      }
    } else {
      summary = await importPaths(parsed.paths, { ...common, url: parsed.url });
    }
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    io.stderr.write(`helix import: ${err.message}\n`);
    return 1;
  }
  io.stdout.write(formatSummary(summary));
  return summary.failed === 0 ? 0 : 1;
}
