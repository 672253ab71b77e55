// Planner statistics after bulk loads. Autovacuum re-analyzes a table only after 10 % of it has
// changed and its next wake-up, so right after a large import PostgreSQL still believes the index
// tables hold a handful of rows and picks plans that are quadratic in the real row counts (a
// two-date Observation search took 6–10 s instead of 40 ms on freshly loaded Synthea data).
// Helix therefore runs ANALYZE itself, in the background, once enough rows have been written (the
// embedded database has no autovacuum at all, so there this is the only analyze).
import type { Database } from '../db/database.js';

/** Counts written resources and refreshes statistics when enough have accumulated. */
export interface StatisticsKeeper {
  /** Records `n` written resources. */
  wrote(n: number): void;
  /** Resolves when no ANALYZE is running. */
  idle(): Promise<void>;
}

/** A keeper that analyzes after `threshold` writes, at most once per `minIntervalMs`. */
export function statisticsKeeper(
  db: Pick<Database, 'query'>, options: { threshold: number; minIntervalMs: number; onError(err: unknown): void },
): StatisticsKeeper {
  let pending = 0;
  let last = -Infinity;
  let running: Promise<void> | undefined;
  return {
    wrote(n) {
      pending += n;
      if (running || pending < options.threshold || Date.now() - last < options.minIntervalMs) return;
      pending = 0;
      last = Date.now();
      running = db.query('ANALYZE').then(() => undefined, options.onError).finally(() => (running = undefined));
    },
    idle: () => running ?? Promise.resolve(),
  };
}
