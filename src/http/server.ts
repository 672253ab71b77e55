// Assembles the Fastify application: the FHIR API under the base URL's path, plus /healthz,
// /readyz and /metrics. Logging is pino with request ids; bodies and query strings (which can
// carry identifiers) are never logged at info level.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { FhirContext } from '../fhir/types.js';
import type { AuditTrail } from '../smart/audit.js';
import type { AuthServer } from '../smart/auth-server.js';
import type { BearerValidator } from '../smart/bearer.js';
import type { LoginFailure } from '../smart/interactions.js';
import { authPlugin } from './auth-plugin.js';
import { fhirPlugin } from './fhir-plugin.js';
import { createHttpMetrics } from './metrics.js';

/** The authorization server's parts the HTTP layer serves and enforces. */
export interface HttpAuth {
  server: AuthServer;
  bearer: BearerValidator;
  ticketKey: string;
  /** The audit trail of FHIR requests, login and token failures (kept when authorization is on). */
  audit?: AuditTrail;
  onLoginFailure?: (failure: LoginFailure) => Promise<void>;
}

/** Builds (but does not start) the HTTP server for a FHIR context. */
export async function buildHttpServer(ctx: FhirContext, auth: HttpAuth): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: ctx.config.bodyLimit,
    logger: {
      level: ctx.config.logLevel,
      serializers: {
        req: (req) => ({ method: req.method, path: req.url.split('?')[0], remoteAddress: req.ip }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 1000, ignoreDuplicateSlashes: true },
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });
  const metrics = createHttpMetrics(ctx.defs.resourceTypes);
  const mountPath = new URL(ctx.config.baseUrl).pathname.replace(/\/+$/, '');

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await ctx.db.query('SELECT 1');
      return { status: 'ready', database: ctx.db.driver };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: ctx.db.driver });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.register(authPlugin, {
    auth: auth.server, db: ctx.db, bearer: auth.bearer, fhirMountPath: mountPath, ticketKey: auth.ticketKey,
    ...(auth.onLoginFailure ? { onLoginFailure: auth.onLoginFailure } : {}),
  });
  await app.register(fhirPlugin, { ctx, mountPath, metrics, ...(ctx.config.auth ? { bearer: auth.bearer, ...(auth.audit ? { audit: auth.audit } : {}) } : {}) });
  return app;
}
