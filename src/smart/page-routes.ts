// What the authorization server's own routes share: form bodies, page replies, presenting a
// request to oidc-provider as mounted under the issuer's path, and the callers of its JSON APIs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authorization } from './access.js';
import type { BearerValidator } from './bearer.js';

/** Parses `application/x-www-form-urlencoded` bodies of `app`'s routes into URLSearchParams. */
export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body as string)));
}

/** The posted form (empty when there is none). */
export function formOf(req: FastifyRequest): URLSearchParams {
  return req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
}

/** Sends an HTML page that is never cached nor framed. */
export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).header('Content-Type', 'text/html; charset=utf-8').header('Cache-Control', 'no-store').header('X-Frame-Options', 'DENY').send(body);
}

/**
 * The raw request as oidc-provider must see it: mounted the way Express mounts an app, with `url`
 * relative to the issuer's path and `originalUrl` the full path, from which it derives the mount
 * path of the URLs it builds. `rewrite` may change the relative URL first. Idempotent.
 */
export function mountedAt(issuerPath: string, req: FastifyRequest, rewrite: (url: string) => string = (u) => u): FastifyRequest['raw'] {
  const raw = req.raw as FastifyRequest['raw'] & { originalUrl?: string };
  if (raw.originalUrl === undefined && raw.url?.startsWith(issuerPath)) {
    const url = rewrite(raw.url.slice(issuerPath.length) || '/');
    raw.url = url;
    raw.originalUrl = `${issuerPath}${url}`;
  }
  return raw;
}

/**
 * The caller of one of the authorization server's own APIs (EHR launch, admin users): its token's
 * Authorization when `may` allows it; otherwise the reply is sent (401 with the RFC 6750 challenge,
 * or 403 with `refusal`) and the result is undefined.
 */
export async function apiCaller(
  bearer: BearerValidator, req: FastifyRequest, reply: FastifyReply, may: (who: Authorization) => boolean, refusal: string,
): Promise<Authorization | undefined> {
  const who = await bearer.validate(req.headers.authorization);
  if ('error' in who) {
    void reply.code(401).header('WWW-Authenticate', `Bearer realm="helix", error="${who.error}"`).send({ error: who.error, error_description: who.description });
    return undefined;
  }
  if (!may(who)) {
    void reply.code(403).send({ error: 'insufficient_scope', error_description: refusal });
    return undefined;
  }
  return who;
}
