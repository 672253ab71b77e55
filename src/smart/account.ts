// Account management of the authorization server: self-service TOTP enrolment pages (sign in →
// scan the QR code → confirm with a first code → recovery codes, shown once), and the admin REST API
// for users (`GET`/`POST [issuer]/admin/users`), which needs an admin user's access token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/database.js';
import { FhirError } from '../fhir/errors.js';
import type { BearerValidator } from './bearer.js';
import type { LoginFailure } from './interactions.js';
import { enrolLoginPage, enrolQrPage, recoveryCodesPage } from './pages.js';
import { checkTicket, signTicket } from './tickets.js';
import { beginTotpEnrolment, confirmTotpEnrolment, createUser, listUsers, login, type NewUser } from './users.js';

/** What the account routes need. */
export interface AccountOptions {
  issuerPath: string;
  db: Queryable;
  bearer: BearerValidator;
  ticketKey: string;
  onLoginFailure?: (failure: LoginFailure) => Promise<void>;
}

const ENROL_SECONDS = 600;

/** Registers the enrolment pages and the admin users API (a Fastify plugin). */
export async function accountRoutes(app: FastifyInstance, opts: AccountOptions): Promise<void> {
  const { db, issuerPath } = opts;
  const enrol = `${issuerPath}/account/mfa`;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body as string)));
  const html = (reply: FastifyReply, body: string, status = 200): FastifyReply =>
    reply.code(status).header('Content-Type', 'text/html; charset=utf-8').header('Cache-Control', 'no-store').header('X-Frame-Options', 'DENY').send(body);
  const form = (req: FastifyRequest): URLSearchParams => (req.body instanceof URLSearchParams ? req.body : new URLSearchParams());

  app.get(enrol, async (_req, reply) => html(reply, enrolLoginPage(enrol)));
  app.post(enrol, async (req, reply) => {
    const f = form(req);
    const username = f.get('username') ?? '';
    const result = await login(db, username, f.get('password') ?? '');
    if (!result.ok) {
      await opts.onLoginFailure?.({ username, reason: result.reason, ip: req.ip, userAgent: req.headers['user-agent'] });
      return html(reply, enrolLoginPage(enrol, 'The username or password is not right, or the account is locked.'), 401);
    }
    const started = await beginTotpEnrolment(db, result.user.id);
    return html(reply, enrolQrPage(`${enrol}/confirm`, signTicket(opts.ticketKey, 'enrol', result.user.id, ENROL_SECONDS), started.qrSvg, started.secret));
  });
  app.post(`${enrol}/confirm`, async (req, reply) => {
    const f = form(req);
    const userId = checkTicket(opts.ticketKey, 'enrol', f.get('ticket') ?? '');
    if (!userId) return html(reply, enrolLoginPage(enrol, 'The set-up has expired. Sign in again.'), 400);
    try {
      return html(reply, recoveryCodesPage(await confirmTotpEnrolment(db, userId, (f.get('code') ?? '').replace(/\s+/g, ''))));
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      return html(reply, enrolLoginPage(enrol, err.message), 400);
    }
  });

  // The admin API: JSON in and out, for an admin user's token only.
  const admin = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const who = await opts.bearer.validate(req.headers.authorization);
    if ('error' in who) {
      void reply.code(401).header('WWW-Authenticate', `Bearer realm="helix", error="${who.error}"`).send({ error: who.error, error_description: who.description });
      return false;
    }
    if (who.kind !== 'user' || who.role !== 'admin') {
      void reply.code(403).send({ error: 'insufficient_scope', error_description: 'Managing users needs an admin user\'s token' });
      return false;
    }
    return true;
  };
  app.get(`${issuerPath}/admin/users`, async (req, reply) => {
    if (!(await admin(req, reply))) return reply;
    return reply.header('Cache-Control', 'no-store').send({ users: await listUsers(db) });
  });
  app.post(`${issuerPath}/admin/users`, async (req, reply) => {
    if (!(await admin(req, reply))) return reply;
    const b = (req.body ?? {}) as Partial<Record<keyof NewUser, unknown>>;
    try {
      const user = await createUser(db, {
        username: String(b.username ?? ''), password: String(b.password ?? ''), role: String(b.role ?? '') as NewUser['role'],
        ...(b.email !== undefined ? { email: String(b.email) } : {}), ...(b.fhirUser !== undefined ? { fhirUser: String(b.fhirUser) } : {}),
      });
      return reply.code(201).header('Cache-Control', 'no-store').send(user);
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      return reply.code(err.status).send({ error: 'invalid_request', error_description: err.message });
    }
  });
}
