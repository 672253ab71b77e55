// What an access token may do, row by row (SMART App Launch 2.2, "Scopes and Launch Context";
// SMART Backend Services for system/ scopes). The scopes say what the app may do; for a user
// token, the user's role says what the person may do, and Helix grants the intersection of the
// two. The role table below is the one place that says what each role may do.
//
// - `user/` scopes reach what the role reaches; `patient/` scopes reach the compartment of the
//   launch patient (and, for the patient role, only where that is also the user's own compartment).
// - `system/` scopes are for backend services (kind 'system'): exactly what they say, no role.
//   A user token's system/ scopes and a system token's user/ and patient/ scopes grant nothing.
// - A user token without a role grants nothing: the authorization server always sets one, so a
//   missing role is a mistake, and a mistake must fail closed.
// - Where a patient-confined and an unconfined grant both apply, the row needs to meet only one:
//   so a user/ scope wins over a patient/ scope for the same type.
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { AccessPolicy, RowAccess, RowGrant, RowPermission } from '../search/restrict.js';
import type { Authorization } from './access.js';
import { grantFor, type Permission } from './scopes.js';
import type { Role } from './users.js';

/** What one role may do under user/ (and patient/) scopes. */
export interface RolePolicy {
  /** The permissions the role can exercise at all. */
  permissions: ReadonlySet<Permission>;
  /** Resource types out of the role's reach whatever the scopes say. */
  deniedTypes: ReadonlySet<string>;
  /** `self`: only the Patient compartment of the user's own fhirUser Patient (none if it is not a Patient). */
  confinement: 'none' | 'self';
  /** May invoke the administrative operations (ADMIN_OPERATIONS). */
  admin: boolean;
}

const CRUDS: ReadonlySet<Permission> = new Set(['c', 'r', 'u', 'd', 's']);
const READ_ONLY: ReadonlySet<Permission> = new Set(['r', 's']);
// The audit trail is for administrators: anyone else would learn who looked at whose record.
const AUDIT: ReadonlySet<string> = new Set(['AuditEvent']);
const NONE: ReadonlySet<string> = new Set();

/** The role table. */
export const ROLE_POLICIES: Readonly<Record<Role, RolePolicy>> = {
  admin: { permissions: CRUDS, deniedTypes: NONE, confinement: 'none', admin: true },
  practitioner: { permissions: CRUDS, deniedTypes: AUDIT, confinement: 'none', admin: false },
  patient: { permissions: CRUDS, deniedTypes: AUDIT, confinement: 'self', admin: false },
  researcher: { permissions: READ_ONLY, deniedTypes: AUDIT, confinement: 'none', admin: false },
};

/**
 * Operations that change the whole server. They need an unconstrained `*.cruds` scope (v1 `*.*`)
 * in the token's own context — `user/*.cruds` from an admin, or `system/*.cruds` for a backend
 * service — because no narrower scope says "and also the server itself".
 */
export const ADMIN_OPERATIONS: ReadonlySet<string> = new Set(['reindex']);

/**
 * Types without a Patient compartment definition are shared data (Medication, Practitioner,
 * Organization…): patient-confined scopes may read them. Not these, which can carry any
 * patient's data (or secrets) without any compartment membership to confine them by.
 */
export const UNCOMPARTMENTED_PRIVATE_TYPES: ReadonlySet<string> = new Set(['Binary', 'Bundle', 'Contract', 'Linkage', 'Subscription']);

/** True when `auth` may invoke the administrative operations. */
export function mayAdminister(auth: Authorization): boolean {
  const context = auth.kind === 'system' ? 'system' : 'user';
  const full = auth.scopes.resources.some((s) => s.context === context && s.resourceType === '*' && !s.query && [...CRUDS].every((p) => s.permissions.has(p)));
  if (!full) return false;
  return auth.kind === 'system' || (auth.role !== undefined && ROLE_POLICIES[auth.role]?.admin === true);
}

/** The row-level access of `auth`, computed once per permission and type. */
export function accessPolicy(defs: FhirDefinitions, auth: Authorization): AccessPolicy {
  const cache = new Map<string, RowAccess>();
  return (permission, resourceType) => {
    const key = `${permission}${resourceType}`;
    let access = cache.get(key);
    if (access === undefined) cache.set(key, (access = effectiveAccess(defs, auth, permission, resourceType)));
    return access;
  };
}

// The audit trail is written by the server alone (src/smart/audit.ts; AuditEvents are rendered from
// it by src/smart/audit-search.ts): through the API it is read-only for everyone, administrators
// and backend services included, so that no one can alter the record of who saw what.
const SERVER_WRITTEN: ReadonlySet<string> = new Set(['AuditEvent']);

function effectiveAccess(defs: FhirDefinitions, auth: Authorization, permission: RowPermission, resourceType: string): RowAccess {
  if (SERVER_WRITTEN.has(resourceType) && permission !== 'r' && permission !== 's') return 'none';
  const { constraints } = grantFor(auth.scopes.resources, resourceType, permission);
  const grants: RowGrant[] = [];
  if (auth.kind === 'system') {
    for (const query of constraints.get('system') ?? []) grants.push(grant([], query));
    return normalise(defs, permission, resourceType, grants);
  }
  const role = auth.role ? ROLE_POLICIES[auth.role] : undefined;
  if (!role || !role.permissions.has(permission) || role.deniedTypes.has(resourceType)) return 'none';
  const self = role.confinement === 'self' ? ownPatient(auth) : undefined;
  if (role.confinement === 'self' && !self) return 'none';
  const mine = self ? [self] : [];
  for (const query of constraints.get('user') ?? []) grants.push(grant(mine, query));
  const launch = auth.patient ?? self;
  if (launch) for (const query of constraints.get('patient') ?? []) grants.push(grant([...new Set([launch, ...mine])], query));
  return normalise(defs, permission, resourceType, grants);
}

function grant(patients: string[], query: URLSearchParams | null): RowGrant {
  return query ? { patients, query } : { patients };
}

/** Applies the rules of patient confinement per type, and collapses to 'all' or 'none' where it can. */
function normalise(defs: FhirDefinitions, permission: RowPermission, resourceType: string, grants: RowGrant[]): RowAccess {
  const hasCompartment = defs.patientCompartmentParams(resourceType).length > 0;
  const out: RowGrant[] = [];
  for (const g of grants) {
    if (!g.patients.length) out.push(g);
    // A new Patient owns a new compartment: no confined scope may create one.
    else if (permission === 'c' && resourceType === 'Patient') continue;
    else if (hasCompartment) out.push(g);
    // Shared data is readable under confinement but never writable: it is in no one's compartment.
    else if ((permission === 'r' || permission === 's') && !UNCOMPARTMENTED_PRIVATE_TYPES.has(resourceType)) out.push(grant([], g.query ?? null));
  }
  if (!out.length) return 'none';
  if (out.some((g) => !g.patients.length && !g.query)) return 'all';
  return out;
}

/** The id of the user's own Patient resource, from fhirUser (`Patient/7` or an absolute URL ending so). */
export function ownPatient(auth: Authorization): string | undefined {
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(auth.fhirUser ?? '');
  return m?.[1];
}

const VERBS: Record<RowPermission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** Why `auth` may not use `permission` on `resourceType`, naming the scope that would allow it. */
export function denial(defs: FhirDefinitions, auth: Authorization, permission: RowPermission, resourceType: string): string {
  const verb = `${VERBS[permission]} ${resourceType}`;
  if (SERVER_WRITTEN.has(resourceType) && permission !== 'r' && permission !== 's') return `${resourceType} is written by the server only; no token may ${verb}`;
  if (auth.kind === 'system') return `Insufficient scope to ${verb}: needs system/${resourceType}.${permission}`;
  const role = auth.role ? ROLE_POLICIES[auth.role] : undefined;
  if (!role) return `Access token carries no user role, so it grants nothing (${verb})`;
  if (!role.permissions.has(permission) || role.deniedTypes.has(resourceType)) return `The ${auth.role} role may not ${verb}`;
  if (role.confinement === 'self' && !ownPatient(auth)) return `A patient user's fhirUser must be a Patient (it is ${auth.fhirUser ?? 'absent'})`;
  const confinedOnly = (permission === 'c' && resourceType === 'Patient') || (permission !== 'r' && permission !== 's' && !defs.patientCompartmentParams(resourceType).length);
  if (confinedOnly && role.confinement === 'self') return `The ${auth.role} role may not ${verb}: it reaches only its own compartment`;
  if (confinedOnly) return `Insufficient scope to ${verb}: needs user/${resourceType}.${permission} (a patient/ scope reaches only its patient's compartment)`;
  const { contexts } = grantFor(auth.scopes.resources, resourceType, permission);
  if (contexts.has('patient') && !auth.patient && role.confinement !== 'self') return `Insufficient scope to ${verb}: patient/ scopes need a patient in the launch context`;
  return `Insufficient scope to ${verb}: needs patient/${resourceType}.${permission} or user/${resourceType}.${permission}`;
}
