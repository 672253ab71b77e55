// Account management of the authorization server: self-service TOTP enrolment pages (sign in →
// scan the QR code → confirm with a first code → recovery codes, shown once), and the admin REST API
// for users (`GET`/`POST [issuer]/admin/users`), which needs an admin user's access token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/database.js';
import { FhirError } from '../fhir/errors.js';
import type { BearerValidator } from './bearer.js';
import type { LoginFailure } from './interactions.js';
import { acceptForms, apiCaller, formOf, sendPage } from './page-routes.js';
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
  acceptForms(app);

  app.get(enrol, async (_req, reply) => sendPage(reply, enrolLoginPage(enrol)));
  app.post(enrol, async (req, reply) => {
    const f = formOf(req);
    const username = f.get('username') ?? '';
    const result = await login(db, username, f.get('password') ?? '');
    if (!result.ok) {
      await opts.onLoginFailure?.({ username, reason: result.reason, ip: req.ip, userAgent: req.headers['user-agent'] });
      return sendPage(reply, enrolLoginPage(enrol, 'The username or password is not right, or the account is locked.'), 401);
    }
    const started = await beginTotpEnrolment(db, result.user.id);
    return sendPage(reply, enrolQrPage(`${enrol}/confirm`, signTicket(opts.ticketKey, 'enrol', result.user.id, ENROL_SECONDS), started.qrSvg, started.secret));
  });
  app.post(`${enrol}/confirm`, async (req, reply) => {
    const f = formOf(req);
    const userId = checkTicket(opts.ticketKey, 'enrol', f.get('ticket') ?? '');
    if (!userId) return sendPage(reply, enrolLoginPage(enrol, 'The set-up has expired. Sign in again.'), 400);
    try {
      return sendPage(reply, recoveryCodesPage(await confirmTotpEnrolment(db, userId, (f.get('code') ?? '').replace(/\s+/g, ''))));
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      return sendPage(reply, enrolLoginPage(enrol, err.message), 400);
    }
  });

  // The admin API: JSON in and out, for an admin user's token only.
  const admin = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> =>
    (await apiCaller(opts.bearer, req, reply, (who) => who.kind === 'user' && who.role === 'admin', 'Managing users needs an admin user\'s token')) !== undefined;
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
