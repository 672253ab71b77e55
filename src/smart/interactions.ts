// The end-user steps of the authorization code flow (SMART App Launch 2.2, "Obtain authorization
// code"): sign-in, second factor, consent to a subset of the requested scopes, and the patient
// picker of a standalone launch. oidc-provider decides which step is due; these routes render the
// pages and report each result back to it. All state lives in oidc-provider's interaction
// (stored in PostgreSQL) or in a signed form field, so any instance can serve any step.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/database.js';
import { TOKEN_TTL, STATIC_SCOPES, type AuthServer } from './auth-server.js';
import { findLaunch, saveGrantContext, type LaunchContext } from './launch.js';
import { consentPage, describeScope, errorPage, loginPage, mfaPage, type PatientChoice } from './pages.js';
import { acceptForms, formOf, mountedAt, sendPage } from './page-routes.js';
import { parseResourceScope } from './scopes.js';
import { checkTicket, signTicket } from './tickets.js';
import { findUserById, login, verifySecondFactor, type User } from './users.js';

/** A failed sign-in, for the audit trail. */
export interface LoginFailure {
  username: string;
  reason: 'invalid' | 'locked' | 'second-factor';
  ip: string;
  userAgent?: string;
}

/** What the interaction routes need. */
export interface InteractionOptions {
  auth: AuthServer;
  db: Queryable;
  /** Key for the second-factor ticket (one of the shared cookie keys). */
  ticketKey: string;
  onLoginFailure?: (failure: LoginFailure) => Promise<void>;
}

const TICKET_SECONDS = 300;
const PICKER_LIMIT = 100;

/** Registers GET/POST `[issuer]/interaction/:uid…` (a Fastify plugin). */
export async function interactionRoutes(app: FastifyInstance, opts: InteractionOptions): Promise<void> {
  const { auth, db } = opts;
  const { provider } = auth;
  const base = `${new URL(auth.issuer).pathname.replace(/\/+$/, '')}/interaction`;
  acceptForms(app);
  const issuerPath = new URL(auth.issuer).pathname.replace(/\/+$/, '');
  const mounted = (req: FastifyRequest): FastifyRequest['raw'] => mountedAt(issuerPath, req);
  const expired = (reply: FastifyReply): FastifyReply => sendPage(reply, errorPage('invalid_request', 'This sign-in has expired. Start again from the app.'), 400);
  const details = async (req: FastifyRequest, reply: FastifyReply) => {
    const d = await provider.interactionDetails(mounted(req), reply.raw);
    if (d.uid !== (req.params as { uid: string }).uid) throw new Error('interaction mismatch');
    return d;
  };
  const clientName = async (clientId: unknown): Promise<string> => {
    const client = await provider.Client.find(String(clientId));
    return String(client?.clientName ?? clientId);
  };
  const finish = async (req: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>): Promise<void> => {
    reply.hijack();
    await provider.interactionFinished(mounted(req), reply.raw, result, { mergeWithLastSubmission: true });
  };
  const consent = async (reply: FastifyReply, d: Awaited<ReturnType<typeof details>>, message?: string) => {
    const user = await findUserById(db, String(d.session?.accountId));
    const requested = String(d.params.scope ?? '').split(' ').filter((s) => s && (STATIC_SCOPES.includes(s) || (parseResourceScope(s) && !s.startsWith('system/'))));
    const launch = d.params.launch ? await findLaunch(db, String(d.params.launch)) : undefined;
    const picker = await patientPicker(db, user, requested, launch);
    return sendPage(reply, consentPage({
      action: `${base}/${d.uid}/consent`, abortAction: `${base}/${d.uid}/abort`, clientName: await clientName(d.params.client_id),
      scopes: requested.map((scope) => ({ scope, description: describeScope(scope) })), ...picker, ...(message ? { message } : {}),
    }));
  };

  app.get(`${base}/:uid`, async (req, reply) => {
    const d = await details(req, reply).catch(() => undefined);
    if (!d) return expired(reply);
    if (d.prompt.name === 'login') return sendPage(reply, loginPage(`${base}/${d.uid}/login`, await clientName(d.params.client_id)));
    return consent(reply, d);
  });

  app.post(`${base}/:uid/login`, async (req, reply) => {
    const d = await details(req, reply).catch(() => undefined);
    if (!d) return expired(reply);
    const f = formOf(req);
    const username = f.get('username') ?? '';
    const result = await login(db, username, f.get('password') ?? '');
    if (!result.ok) {
      await opts.onLoginFailure?.({ username, reason: result.reason, ip: req.ip, userAgent: req.headers['user-agent'] });
      const message = result.reason === 'locked' ? 'This account is locked after too many failed attempts. Try again later.' : 'The username or password is not right.';
      return sendPage(reply, loginPage(`${base}/${d.uid}/login`, await clientName(d.params.client_id), message), 401);
    }
    if (result.mfaRequired) return sendPage(reply, mfaPage(`${base}/${d.uid}/mfa`, signTicket(opts.ticketKey, `mfa:${d.uid}`, result.user.id, TICKET_SECONDS)));
    return finish(req, reply, { login: { accountId: result.user.id } });
  });

  app.post(`${base}/:uid/mfa`, async (req, reply) => {
    const d = await details(req, reply).catch(() => undefined);
    if (!d) return expired(reply);
    const f = formOf(req);
    const userId = checkTicket(opts.ticketKey, `mfa:${d.uid}`, f.get('ticket') ?? '');
    if (!userId) return sendPage(reply, errorPage('invalid_request', 'The verification step has expired. Sign in again.'), 400);
    if (!(await verifySecondFactor(db, userId, f.get('code') ?? ''))) {
      const user = await findUserById(db, userId);
      await opts.onLoginFailure?.({ username: user?.username ?? userId, reason: 'second-factor', ip: req.ip, userAgent: req.headers['user-agent'] });
      return sendPage(reply, mfaPage(`${base}/${d.uid}/mfa`, f.get('ticket') ?? '', 'That code is not right.'), 401);
    }
    return finish(req, reply, { login: { accountId: userId } });
  });

  app.post(`${base}/:uid/consent`, async (req, reply) => {
    const d = await details(req, reply).catch(() => undefined);
    if (!d || d.prompt.name !== 'consent' || !d.session?.accountId) return expired(reply);
    const f = formOf(req);
    const accountId = String(d.session.accountId);
    const user = await findUserById(db, accountId);
    const requested = String(d.params.scope ?? '').split(' ').filter(Boolean);
    const checked = new Set(f.getAll('scope'));
    const granted = requested.filter((s) => checked.has(s));
    const launch = d.params.launch ? await findLaunch(db, String(d.params.launch)) : undefined;
    const context: LaunchContext = { ...(launch ?? {}) };
    if (!launch && granted.includes('launch/patient')) {
      const picker = await patientPicker(db, user, requested, undefined);
      const chosen = picker.fixedPatient?.id ?? f.get('patient') ?? '';
      if (!picker.patients?.some((p) => p.id === chosen) && picker.fixedPatient?.id !== chosen) return consent(reply, d, 'Choose a patient.');
      context.patient = chosen;
      context.needPatientBanner = true;
    }
    if (granted.some((s) => s.startsWith('patient/')) && !context.patient) {
      return consent(reply, d, 'The app asked for patient data without a patient in context (launch/patient).');
    }
    const grant = d.grantId ? ((await provider.Grant.find(d.grantId)) ?? new provider.Grant({ accountId, clientId: String(d.params.client_id) }))
      : new provider.Grant({ accountId, clientId: String(d.params.client_id) });
    const oidcScopes = granted.filter((s) => STATIC_SCOPES.includes(s));
    const resourceScopes = granted.filter((s) => parseResourceScope(s) && !s.startsWith('system/'));
    const refused = requested.filter((s) => !granted.includes(s));
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    if (resourceScopes.length) grant.addResourceScope(auth.fhirBase, resourceScopes.join(' '));
    if (refused.length) {
      grant.rejectOIDCScope(refused.filter((s) => STATIC_SCOPES.includes(s)).join(' '));
      grant.rejectResourceScope(auth.fhirBase, refused.filter((s) => !STATIC_SCOPES.includes(s)).join(' '));
    }
    const grantId = await grant.save();
    await saveGrantContext(db, grantId, context, TOKEN_TTL.offline);
    return finish(req, reply, { consent: { grantId } });
  });

  app.post(`${base}/:uid/abort`, async (req, reply) => {
    const d = await details(req, reply).catch(() => undefined);
    if (!d) return expired(reply);
    return finish(req, reply, { error: 'access_denied', error_description: 'The user denied access' });
  });
}

/**
 * Who can be picked in a standalone launch: a patient user is always their own patient; others
 * choose among patients (the most recently updated). No picker when the app did not ask for
 * launch/patient or an EHR launch already set the patient.
 */
async function patientPicker(db: Queryable, user: User | undefined, requested: string[], launch: LaunchContext | undefined): Promise<{ patients?: PatientChoice[]; fixedPatient?: PatientChoice }> {
  if (!requested.includes('launch/patient') || launch?.patient) return {};
  if (user?.role === 'patient') {
    const id = user.fhirUser?.startsWith('Patient/') ? user.fhirUser.slice('Patient/'.length) : undefined;
    return id ? { fixedPatient: { id, label: await patientLabel(db, id) } } : { patients: [] };
  }
  const rows = await db.query<{ id: string; content: string }>(
    `SELECT id, content FROM resources WHERE res_type = 'Patient' AND NOT deleted ORDER BY last_updated DESC LIMIT ${PICKER_LIMIT}`,
  );
  return { patients: rows.map((r) => ({ id: r.id, label: labelOf(r.id, r.content) })) };
}

async function patientLabel(db: Queryable, id: string): Promise<string> {
  const rows = await db.query<{ content: string }>(`SELECT content FROM resources WHERE res_type = 'Patient' AND id = $1 AND NOT deleted`, [id]);
  return rows[0] ? labelOf(id, rows[0].content) : `Patient ${id}`;
}

function labelOf(id: string, content: string): string {
  try {
    const p = JSON.parse(content) as { name?: { given?: string[]; family?: string; text?: string }[]; birthDate?: string };
    const n = p.name?.[0];
    const name = n?.text ?? [...(n?.given ?? []), n?.family].filter(Boolean).join(' ');
    return `${name || 'Unnamed'}${p.birthDate ? ` (born ${p.birthDate})` : ''} – ${id}`;
  } catch {
    return `Patient ${id}`;
  }
}
