// Wires a Helix instance together: definitions, database, index extraction, validation and the
// HTTP server. Everything is created here and passed down explicitly; nothing is global.
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import { loadDefinitions } from './fhir/definitions.js';
import { poolSession, type FhirContext } from './fhir/types.js';
import { buildHttpServer } from './http/server.js';
import { startSearchParameterSync } from './search/custom-params.js';
import { createIndexExtractor } from './search/extract.js';
import { startReindexRunner } from './search/reindex.js';
import { statisticsKeeper } from './storage/statistics.js';
import { loadProfiles } from './validation/profiles.js';
import { createValidator } from './validation/validator.js';

/** A running (or ready to run) Helix instance. */
export interface Helix {
  ctx: FhirContext;
  http: FastifyInstance;
  /** Stops the HTTP server and closes the database. */
  close(): Promise<void>;
}

/** The profiles/ folder shipped with Helix. */
export const defaultProfilesDir = fileURLToPath(new URL('../profiles/', import.meta.url));

// How often each instance re-reads the stored SearchParameters (a single indexed query when idle).
const SEARCH_PARAMETER_POLL_MS = 1_000;

/** Creates a Helix instance from configuration (the HTTP server is built but not listening). */
export async function createHelix(config: Config): Promise<Helix> {
  const defs = loadDefinitions();
  const profiles = await loadProfiles(defs, config.profilesDir ?? defaultProfilesDir);
  const db = await openDatabase(config);
  // Background work reports through the HTTP server's logger, which exists once ctx does.
  let log: ((err: unknown) => void) | undefined;
  const onError = (err: unknown): void => log?.(err);
  const ctx: FhirContext = {
    config,
    db,
    defs,
    extractor: createIndexExtractor(defs, { baseUrl: config.baseUrl }),
    validator: createValidator(defs, profiles),
    pool: poolSession(db),
    statistics: statisticsKeeper(db, { threshold: 10_000, minIntervalMs: 60_000, onError }),
    reindex: { nudge: () => reindex.nudge() },
    now: () => new Date(),
  };
  const http = await buildHttpServer(ctx);
  log = (err) => http.log.error({ err }, 'background search-index or statistics work failed');
  const sync = startSearchParameterSync(db, defs, { intervalMs: SEARCH_PARAMETER_POLL_MS, onQueued: () => reindex.nudge(), onError });
  const reindex = startReindexRunner(db, ctx.extractor, {
    batchSize: 500,
    pollMs: 2_000,
    sweepDelayMs: 3 * SEARCH_PARAMETER_POLL_MS,
    staleSeconds: 30,
    onCompleted: (job) => job.searchParameter && sync.completed(job.searchParameter),
    onError,
  });
  await sync.refresh();
  return {
    ctx,
    http,
    async close() {
      await http.close();
      sync.stop();
      await reindex.stop();
      await ctx.statistics.idle();
      await db.close();
    },
  };
}
