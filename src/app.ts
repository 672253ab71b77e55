// Wires a Helix instance together: definitions, database, index extraction, validation and the
// HTTP server. Everything is created here and passed down explicitly; nothing is global.
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import { loadDefinitions } from './fhir/definitions.js';
import { poolSession, type FhirContext } from './fhir/types.js';
import { buildHttpServer } from './http/server.js';
import { createAuditTrail } from './smart/audit.js';
import { auditStream, createAuditQueue } from './smart/audit-queue.js';
import { createAuthServer } from './smart/auth-server.js';
import { bearerValidator } from './smart/bearer.js';
import { modelKey, purgeExpired } from './smart/oidc-adapter.js';
import { createRevocationBus } from './smart/revocation-bus.js';
import { loadAuthSecrets } from './smart/secrets.js';
import { startSearchParameterSync } from './search/custom-params.js';
import { createIndexExtractor } from './search/extract.js';
import { startReindexRunner } from './search/reindex.js';
import { statisticsKeeper } from './storage/statistics.js';
import { hasPlanCache } from './search/has-plan.js';
import { startSubscriptions } from './subscriptions/subscriptions.js';
import { createWebsocketChannel } from './http/websocket-channel.js';
import { loadProfiles } from './validation/profiles.js';
import { loadPgxKnowledge } from './genomics/pgx/knowledge.js';
import { defaultPgxKnowledgeDir } from './genomics/pgx/phenotypes.js';
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
  const pgx = await loadPgxKnowledge(config.pgxKnowledgeDir ?? defaultPgxKnowledgeDir);
  const db = await openDatabase(config);
  // Background work reports through the HTTP server's logger, which exists once ctx does.
  let log: ((err: unknown) => void) | undefined;
  const onError = (err: unknown): void => log?.(err);
  const warnings: string[] = [];
  let warn = (message: string): void => void warnings.push(message);
  const ctx: FhirContext = {
    config,
    db,
    defs,
    extractor: createIndexExtractor(defs, { baseUrl: config.baseUrl }),
    validator: createValidator(defs, profiles),
    pool: poolSession(db),
    statistics: statisticsKeeper(db, { threshold: 10_000, minIntervalMs: 60_000, onError }),
    hasPlans: hasPlanCache(),
    pgx,
    reindex: { nudge: () => reindex.nudge() },
    now: () => new Date(),
  };
  const bus = await createRevocationBus(config.redisUrl, onError);
  const secrets = await loadAuthSecrets(db);
  const authServer = createAuthServer(db, config, secrets, (e) => bus.publish({ ...(e.id ? { key: modelKey(e.kind, e.id) } : {}), ...(e.grantId ? { grantId: e.grantId } : {}) }));
  const bearer = bearerValidator(db, config.baseUrl, bus);
  const ticketKey = secrets.cookieKeys[0] as string;
  // The audit trail is kept whenever the API is authorized (with authorization off there is no
  // "who" to record): through the Redis queue when there is Redis, else straight into PostgreSQL.
  if (config.auth && !config.audit) warn('AUDIT=off: accesses to patient data are not recorded by Helix; the audit trail must be kept in front of it');
  const auditQueue = config.auth && config.audit && config.redisUrl
    ? await createAuditQueue(config.redisUrl, db, { onError, onWarning: (message) => warn(message), stream: auditStream(secrets.installationId) })
    : undefined;
  const audit = auditQueue ?? (config.auth && config.audit ? createAuditTrail(db) : undefined);
  const http = await buildHttpServer(ctx, {
    server: authServer, bearer, ticketKey,
    ...(audit ? {
      audit,
      onLoginFailure: (f) => audit.recordFailure({ kind: 'login', username: f.username, reason: f.reason, status: 401, source: { ip: f.ip, ...(f.userAgent ? { userAgent: f.userAgent } : {}) } }),
    } : {}),
  });
  const websocket = await createWebsocketChannel({ ctx, ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), installationId: secrets.installationId, onError });
  await http.register(websocket.plugin);
  const purge = setInterval(() => void purgeExpired(db).catch(onError), 10 * 60_000);
  purge.unref();
  log = (err) => http.log.error({ err }, 'background work failed (search index, statistics, audit queue or subscriptions)');
  warn = (message) => http.log.warn(message);
  warnings.forEach(warn);
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
  const subscriptions = await startSubscriptions(db, ctx, {
    ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), installationId: secrets.installationId, retryPeriodMs: config.subscriptionRetryMs, onError,
    ...(config.news2WindowMs ? { news2: { windowMs: config.news2WindowMs } } : {}),
    websocket: websocket.publish,
  });
  return {
    ctx,
    http,
    async close() {
      await http.close();
      await subscriptions.stop();
      await websocket.close();
      clearInterval(purge);
      await auditQueue?.stop();
      await bus.close();
      sync.stop();
      await reindex.stop();
      await ctx.statistics.idle();
      await db.close();
    },
  };
}
