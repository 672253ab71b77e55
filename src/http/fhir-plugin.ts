// The FHIR REST API over HTTP (http.html): parses bodies and headers into a FhirRequest, hands it
// to the router, and writes the FhirResponse. Every error leaves here as an OperationOutcome.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asFhirError, badRequest, badStructure, FhirError, notAcceptable, operationOutcome, tooLarge, unauthorized, unsupportedMediaType } from '../fhir/errors.js';
import { auditEntryFor, type AuditTrail } from '../smart/audit.js';
import type { BearerValidator } from '../smart/bearer.js';
import { route } from '../fhir/router.js';
import { fhirJsonToXml, fhirXmlToJson } from '../fhir/xml.js';
import { type FhirContext, type FhirMethod, type FhirRequest, type FhirResponse } from '../fhir/types.js';
import { checkJsonDepth } from './json-depth.js';
import type { HttpMetrics } from './metrics.js';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];
const XML_TYPES = ['application/fhir+xml', 'application/xml', 'text/xml'];
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const FHIR_XML = 'application/fhir+xml; charset=utf-8';
const JSON_FORMAT = /^(json|application\/(fhir\+)?json|application\/\*|\*\/\*)$/i;
const XML_FORMAT = /^(xml|application\/(fhir\+)?xml|text\/xml)$/i;

/** The response format the client asked for. */
type Format = 'json' | 'xml';
const formats = new WeakMap<FastifyRequest, Format>();
const METHODS = new Set<FhirMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

// Headers a browser-based SMART app may read from cross-origin responses.
/** Media types passed through as a stream (VCF text, gzip/BGZF): the router lets only operations that read one have it. */
const STREAMED_TYPES = ['text/vcf', 'text/x-vcf', 'application/gzip', 'application/x-gzip', 'application/x-bgzip', 'application/octet-stream'];
const EXPOSED = 'Location, Content-Location, ETag, Last-Modified, X-Request-Id, WWW-Authenticate';

/**
 * Registers the FHIR API under `mountPath` (e.g. `/fhir`). With `bearer`, every request except the
 * CapabilityStatement needs a valid SMART access token (RFC 6750), and the FHIR layer enforces it.
 * With `audit`, every request touching patient data is in the audit trail before its response is
 * sent: if the audit row cannot be committed, the client gets a 500 instead of the data.
 */
export async function fhirPlugin(
  app: FastifyInstance, opts: { ctx: FhirContext; mountPath: string; metrics: HttpMetrics; bearer?: BearerValidator; audit?: AuditTrail },
): Promise<void> {
  const { ctx, mountPath, metrics, bearer, audit } = opts;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    try {
      const text = body as string;
      if (text.trim() === '') return done(null, undefined);
      checkJsonDepth(text, ctx.config.maxJsonDepth);
      done(null, JSON.parse(text));
    } catch (err) {
      done(err instanceof FhirError ? err : badStructure(`Body is not valid JSON: ${(err as Error).message.slice(0, 200)}`));
    }
  });
  app.addContentTypeParser(XML_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, (body as string).trim() === '' ? undefined : fhirXmlToJson(body as string));
    } catch (err) {
      done(err as Error);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  // Genomic files are streamed to the operation that reads them ($import-vcf), never buffered whole.
  app.addContentTypeParser(STREAMED_TYPES, (_req, payload, done) => done(null, payload));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, _body, done) => {
    done(unsupportedMediaType(`Content-Type ${String(req.headers['content-type']).slice(0, 80)} is not supported; use application/fhir+json`));
  });

  app.setErrorHandler((err, req, reply) => {
    const fhirErr = toFhirError(err);
    if (fhirErr.status >= 500) req.log.error({ err }, 'request failed');
    void sendResponse(reply, req, { status: fhirErr.status, headers: fhirErr.headers, resource: operationOutcome(fhirErr.issues) });
  });
  app.setNotFoundHandler((req, reply) => {
    void sendResponse(reply, req, { status: 404, headers: {}, resource: operationOutcome([{ severity: 'error', code: 'not-found', diagnostics: `No endpoint at ${req.method} ${req.url.split('?')[0]?.slice(0, 200)}` }]) });
  });

  // Negotiated before the body is parsed, so that parse errors answer in the client's format too.
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.origin) {
      reply.header('Access-Control-Allow-Origin', req.headers.origin).header('Vary', 'Origin').header('Access-Control-Expose-Headers', EXPOSED);
    }
    formats.set(req, negotiate(req));
  });
  // CORS preflight (SMART apps in browsers): the FHIR API answers any origin; tokens, not cookies, authorize.
  app.options(`${mountPath}/*`, async (req, reply) => {
    reply.code(204)
      .header('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE')
      .header('Access-Control-Allow-Headers', String(req.headers['access-control-request-headers'] ?? 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since'))
      .header('Access-Control-Max-Age', '600');
    return reply.send();
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const method = req.method as FhirMethod;
    if (!METHODS.has(method)) throw new FhirError(405, [{ severity: 'error', code: 'not-supported', diagnostics: `Method ${req.method} is not supported` }]);
    const url = new URL(req.url, 'http://x');
    const path = url.pathname.slice(mountPath.length).replace(/^\/+/, '');
    const source = { ip: req.ip, ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}), requestId: req.id };
    let auth;
    if (bearer && !(path === 'metadata' && (method === 'GET' || method === 'HEAD'))) {
      const found = await bearer.validate(header(req, 'authorization'));
      if ('error' in found) {
        await audit?.recordFailure({ kind: 'token', reason: found.error, status: 401, source });
        throw unauthorized(found.description, found.error);
      }
      auth = found;
    }
    const fhirReq: FhirRequest = {
      method,
      path,
      query: url.searchParams,
      headers: {
        ifMatch: header(req, 'if-match'),
        ifNoneMatch: header(req, 'if-none-match'),
        ifModifiedSince: header(req, 'if-modified-since'),
        ifNoneExist: header(req, 'if-none-exist'),
        prefer: header(req, 'prefer'),
      },
      body: req.body,
      contentType: header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase(),
      ...(auth ? { auth } : {}),
      source,
    };
    let res: FhirResponse;
    try {
      res = await route(ctx, ctx.pool, fhirReq);
    } catch (err) {
      if (!audit) throw err;
      const failed = toFhirError(err);
      const entry = auditEntryFor(fhirReq, { status: failed.status, headers: failed.headers });
      if (entry) await audit.record(entry);
      throw failed;
    }
    const entry = audit && auditEntryFor(fhirReq, res);
    if (entry) await audit?.record(entry);
    await sendResponse(reply, req, res);
  };
  app.addHook('onResponse', async (req, reply) => {
    const path = (req.url.split('?')[0] ?? '').slice(mountPath.length).replace(/^\/+/, '');
    metrics.observe(req.method, path, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: mountPath, handler, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${mountPath}/*`, handler, exposeHeadRoute: false });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** JSON or XML, from _format or else the first Accept type the server can produce; 406 otherwise. */
function negotiate(req: FastifyRequest): Format {
  const format = (req.query as Record<string, string | undefined>)?._format;
  if (format !== undefined) {
    const f = format.split(';')[0]?.trim() ?? '';
    if (JSON_FORMAT.test(f)) return 'json';
    if (XML_FORMAT.test(f)) return 'xml';
    throw notAcceptable(`_format=${format.slice(0, 60)} is not supported; use json or xml`);
  }
  const accept = header(req, 'accept');
  if (!accept) return 'json';
  for (const a of accept.split(',')) {
    const type = a.split(';')[0]?.trim() ?? '';
    if (JSON_FORMAT.test(type)) return 'json';
    if (XML_FORMAT.test(type)) return 'xml';
  }
  throw notAcceptable(`Accept: ${accept.slice(0, 80)} is not supported; this server returns application/fhir+json or application/fhir+xml`);
}

function toFhirError(err: unknown): FhirError {
  const code = (err as { code?: string; statusCode?: number }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return tooLarge('Request body exceeds the configured limit (BODY_LIMIT)');
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return badRequest('Request body is empty');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return badRequest('Invalid Content-Type or Content-Length');
  const status = (err as { statusCode?: number }).statusCode;
  if (!(err instanceof FhirError) && typeof status === 'number' && status >= 400 && status < 500) {
    return new FhirError(status, [{ severity: 'error', code: 'invalid', diagnostics: 'Malformed request' }]);
  }
  return asFhirError(err);
}

const LARGE_BODY_CHARS = 64 * 1024;

/** Writes a FhirResponse; bodies are FHIR JSON, pretty-printed on `_pretty=true`. */
async function sendResponse(reply: FastifyReply, req: FastifyRequest, res: FhirResponse): Promise<void> {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  if (res.status === 304 || res.status === 204 || (res.text === undefined && !res.resource)) {
    await reply.send();
    return;
  }
  const pretty = (req.query as Record<string, string | undefined>)?._pretty === 'true';
  let text = res.text ?? JSON.stringify(res.resource);
  if (formats.get(req) === 'xml') {
    text = fhirJsonToXml(res.resource ?? JSON.parse(text), { pretty });
    reply.header('Content-Type', FHIR_XML);
  } else {
    if (pretty) text = JSON.stringify(JSON.parse(text), null, 2);
    reply.header('Content-Type', FHIR_JSON);
  }
  if (req.method === 'HEAD') {
    await reply.send();
    return;
  }
  // A large body goes as bytes: sent as a string, it would be flattened and scanned for its byte
  // length and then encoded again on the socket (several ms for a multi-megabyte genomics answer).
  await reply.send(text.length > LARGE_BODY_CHARS ? Buffer.from(text, 'utf8') : text);
}
