// Users of the authorization server (migrations/003): creation under the password policy, login
// with lockout after repeated failures, and TOTP multi-factor authentication (RFC 6238) with
// single-use recovery codes. Everything is in the database, so any instance can serve any step.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Queryable } from '../db/database.js';
import { badRequest, conflict } from '../fhir/errors.js';
import { hashPassword, passwordProblem, verifyDecoy, verifyPassword } from './passwords.js';

/** What a user may be. */
export const ROLES = ['admin', 'practitioner', 'patient', 'researcher'] as const;
export type Role = (typeof ROLES)[number];

/** A user as the rest of the server sees it (no secrets). */
export interface User {
  id: string;
  username: string;
  email: string | null;
  role: Role;
  fhirUser: string | null;
  mfaEnabled: boolean;
}

/** Lockout policy: this many consecutive failures lock the account for `lockMinutes`. */
export const LOCKOUT = { maxFailures: 5, lockMinutes: 15 };

const TOTP_SETTINGS = { issuer: 'Helix', algorithm: 'SHA1', digits: 6, period: 30 } as const;
const RECOVERY_CODES = 10;

interface Row {
  id: string; username: string; email: string | null; role: Role; fhir_user: string | null; password_hash: string;
  failed_logins: number; locked: boolean; totp_secret: string | null; totp_pending_secret: string | null;
  totp_last_step: string | null; recovery_codes: string[];
}

const COLUMNS = `id, username, email, role, fhir_user, password_hash, failed_logins, coalesce(locked_until > now(), false) AS locked,
  totp_secret, totp_pending_secret, totp_last_step::text AS totp_last_step, recovery_codes`;

const toUser = (r: Row): User => ({
  id: r.id, username: r.username, email: r.email, role: r.role, fhirUser: r.fhir_user, mfaEnabled: r.totp_secret !== null,
});

/** Fields of a new user. */
export interface NewUser {
  username: string;
  password: string;
  role: Role;
  email?: string;
  fhirUser?: string;
}

const USERNAME_RE = /^[A-Za-z0-9._@-]{3,64}$/;
const FHIR_USER_RE = /^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)\/[A-Za-z0-9\-.]{1,64}$/;

/** Creates a user; 400 for a policy violation, 409 if the username or email is taken. */
export async function createUser(q: Queryable, u: NewUser): Promise<User> {
  if (!USERNAME_RE.test(u.username)) throw badRequest('username must be 3–64 letters, digits or . _ @ -');
  if (!ROLES.includes(u.role)) throw badRequest(`role must be one of ${ROLES.join(', ')}`);
  if (u.fhirUser !== undefined && !FHIR_USER_RE.test(u.fhirUser)) throw badRequest('fhirUser must be a Patient, Practitioner, PractitionerRole, RelatedPerson or Person reference');
  if (u.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(u.email)) throw badRequest('email is not an email address');
  const problem = passwordProblem(u.password, u.username);
  if (problem) throw badRequest(`password ${problem}`);
  const rows = await q.query<Row>(
    `INSERT INTO auth_users (id, username, email, role, fhir_user, password_hash) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [randomUUID(), u.username, u.email ?? null, u.role, u.fhirUser ?? null, await hashPassword(u.password)],
  );
  if (!rows[0]) throw conflict('A user with this username or email already exists');
  return toUser(rows[0]);
}

/** One user by username, or undefined. */
export async function findUser(q: Queryable, username: string): Promise<User | undefined> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM auth_users WHERE username = $1`, [username]);
  return rows[0] && toUser(rows[0]);
}

/** Every user, by username (for the admin API). */
export async function listUsers(q: Queryable): Promise<User[]> {
  return (await q.query<Row>(`SELECT ${COLUMNS} FROM auth_users ORDER BY username`)).map(toUser);
}

/** One user by id (the OpenID `sub`), or undefined. */
export async function findUserById(q: Queryable, id: string): Promise<User | undefined> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM auth_users WHERE id = $1`, [id]);
  return rows[0] && toUser(rows[0]);
}

/** The outcome of a password check. */
export type LoginResult =
  | { ok: true; user: User; mfaRequired: boolean }
  | { ok: false; reason: 'invalid' | 'locked' };

/**
 * Checks a username and password. Failures count toward the lockout; a locked account is refused
 * even with the right password, and an unknown user costs the same time as a known one.
 */
export async function login(q: Queryable, username: string, password: string): Promise<LoginResult> {
  const row = (await q.query<Row>(`SELECT ${COLUMNS} FROM auth_users WHERE username = $1`, [username]))[0];
  if (!row || row.locked) {
    await verifyDecoy(password);
    return { ok: false, reason: row ? 'locked' : 'invalid' };
  }
  if (!(await verifyPassword(row.password_hash, password))) {
    return { ok: false, reason: (await recordFailure(q, row.id)) ? 'locked' : 'invalid' };
  }
  await q.query(`UPDATE auth_users SET failed_logins = 0, locked_until = NULL, updated = now() WHERE id = $1`, [row.id]);
  return { ok: true, user: toUser(row), mfaRequired: row.totp_secret !== null };
}

/** A TOTP enrolment in progress: the secret as a URI and as an inline SVG QR code. */
export interface TotpEnrolment {
  uri: string;
  secret: string;
  qrSvg: string;
}

const totp = (username: string, secret: string): TOTP =>
  new TOTP({ ...TOTP_SETTINGS, label: username, secret: Secret.fromBase32(secret) });

/** Starts TOTP enrolment: a new pending secret, shown once as a QR code. */
export async function beginTotpEnrolment(q: Queryable, userId: string): Promise<TotpEnrolment> {
  const secret = new Secret({ size: 20 }).base32;
  const rows = await q.query<{ username: string }>(
    `UPDATE auth_users SET totp_pending_secret = $2, updated = now() WHERE id = $1 RETURNING username`, [userId, secret],
  );
  if (!rows[0]) throw badRequest('Unknown user');
  const uri = totp(rows[0].username, secret).toString();
  return { uri, secret, qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) };
}

/**
 * Confirms enrolment with the first code from the authenticator; returns the recovery codes,
 * which are shown once and stored only as hashes.
 */
export async function confirmTotpEnrolment(q: Queryable, userId: string, code: string, now = Date.now()): Promise<string[]> {
  const row = (await q.query<Row>(`SELECT ${COLUMNS} FROM auth_users WHERE id = $1`, [userId]))[0];
  if (!row?.totp_pending_secret) throw badRequest('No TOTP enrolment is in progress');
  const step = matchingStep(totp(row.username, row.totp_pending_secret), code, now);
  if (step === undefined) throw badRequest('The code does not match; check the authenticator app\'s clock');
  const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
  await q.query(
    `UPDATE auth_users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_last_step = $2,
       recovery_codes = $3, updated = now() WHERE id = $1`,
    [userId, step, codes.map(sha256)],
  );
  return codes;
}

/**
 * Checks a second factor: a current TOTP code (each time step accepted once) or an unused
 * recovery code (consumed). Failures count toward the same lockout as passwords.
 */
export async function verifySecondFactor(q: Queryable, userId: string, code: string, now = Date.now()): Promise<boolean> {
  const row = (await q.query<Row>(`SELECT ${COLUMNS} FROM auth_users WHERE id = $1`, [userId]))[0];
  if (!row?.totp_secret || row.locked) return false;
  const trimmed = code.replace(/\s+/g, '');
  const step = /^\d{6}$/.test(trimmed) ? matchingStep(totp(row.username, row.totp_secret), trimmed, now) : undefined;
  let ok = false;
  if (step !== undefined) {
    // Conditional on the last step, so two concurrent uses of one code cannot both pass.
    const used = await q.query(
      `UPDATE auth_users SET totp_last_step = $2, failed_logins = 0, updated = now()
       WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id`, [userId, step],
    );
    ok = used.length === 1;
  } else if (/^[A-Z2-9]{5}-?[A-Z2-9]{5}$/i.test(trimmed)) {
    const used = await q.query(
      `UPDATE auth_users SET recovery_codes = array_remove(recovery_codes, $2), failed_logins = 0, updated = now()
       WHERE id = $1 AND $2 = ANY(recovery_codes) RETURNING id`, [userId, sha256(normalizeRecovery(trimmed))],
    );
    ok = used.length === 1;
  }
  if (!ok) await recordFailure(q, userId);
  return ok;
}

/** Counts a failed password or second factor toward the lockout; true if the account is now locked. */
async function recordFailure(q: Queryable, userId: string): Promise<boolean> {
  const rows = await q.query<{ locked: boolean }>(
    `UPDATE auth_users SET failed_logins = failed_logins + 1,
       locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END,
       updated = now()
     WHERE id = $1 RETURNING coalesce(locked_until > now(), false) AS locked`,
    [userId, LOCKOUT.maxFailures, LOCKOUT.lockMinutes],
  );
  return rows[0]?.locked ?? false;
}

/** The time step `code` belongs to (current one ± 1 for clock drift), or undefined. */
function matchingStep(t: TOTP, code: string, now: number): number | undefined {
  const delta = t.validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 1000 / TOTP_SETTINGS.period) + delta;
}

// Without 0/O/1/I, which people misread when typing a code from paper.
const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
function recoveryCode(): string {
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

const normalizeRecovery = (code: string): string => {
  const c = code.toUpperCase().replace(/-/g, '');
  return `${c.slice(0, 5)}-${c.slice(5)}`;
};

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
