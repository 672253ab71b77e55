// Launch context (SMART App Launch 2.2, "Scopes and Launch Context" and "EHR Launch"): an EHR
// integration registers the context it is launching an app into and gets an opaque `launch` value;
// the authorization server binds that context (or the patient picked in a standalone launch) to the
// grant, and every token issued under the grant carries it.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { badRequest } from '../fhir/errors.js';

/** The context a token is issued in. */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  /** Other resources in context (SMART 2.x `fhirContext`). */
  fhirContext?: { reference: string }[];
  needPatientBanner?: boolean;
  intent?: string;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const REF_RE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;
// An EHR launch is used within moments of being created; an hour covers a slow login.
const LAUNCH_TTL_SECONDS = 3600;

/** Checks and normalises a context posted by an EHR integration; 400 when malformed. */
export function parseLaunchContext(body: unknown): LaunchContext {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The launch context must be a JSON object');
  const b = body as Record<string, unknown>;
  const out: LaunchContext = {};
  for (const key of ['patient', 'encounter'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !ID_RE.test(v)) throw badRequest(`${key} must be a resource id`);
    out[key] = v;
  }
  if (b.fhirContext !== undefined) {
    if (!Array.isArray(b.fhirContext) || !b.fhirContext.every((r) => typeof r?.reference === 'string' && REF_RE.test(r.reference))) {
      throw badRequest('fhirContext must be a list of {"reference": "Type/id"}');
    }
    out.fhirContext = b.fhirContext.map((r: { reference: string }) => ({ reference: r.reference }));
  }
  if (b.needPatientBanner !== undefined) out.needPatientBanner = b.needPatientBanner === true;
  if (typeof b.intent === 'string') out.intent = b.intent.slice(0, 200);
  return out;
}

/** Stores an EHR launch context and returns its opaque `launch` value. */
export async function createLaunch(q: Queryable, context: LaunchContext, createdBy: string): Promise<string> {
  const id = randomBytes(24).toString('base64url');
  await q.query(
    `INSERT INTO smart_launches (id, context, created_by, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [id, JSON.stringify(context), createdBy, LAUNCH_TTL_SECONDS],
  );
  return id;
}

/** The context of a launch value, or undefined when unknown or expired. */
export async function findLaunch(q: Queryable, launch: string): Promise<LaunchContext | undefined> {
  const rows = await q.query<{ context: LaunchContext }>('SELECT context FROM smart_launches WHERE id = $1 AND expires_at > now()', [launch]);
  return rows[0]?.context;
}

/** Binds a context to a grant for as long as the grant can issue tokens. */
export async function saveGrantContext(q: Queryable, grantId: string, context: LaunchContext, ttlSeconds: number): Promise<void> {
  await q.query(
    `INSERT INTO smart_grant_contexts (grant_id, context, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (grant_id) DO UPDATE SET context = EXCLUDED.context, expires_at = EXCLUDED.expires_at`,
    [grantId, JSON.stringify(context), ttlSeconds],
  );
}

/** The context bound to a grant (empty when none was). */
export async function grantContext(q: Queryable, grantId: string | undefined): Promise<LaunchContext> {
  if (!grantId) return {};
  const rows = await q.query<{ context: LaunchContext }>('SELECT context FROM smart_grant_contexts WHERE grant_id = $1', [grantId]);
  return rows[0]?.context ?? {};
}
