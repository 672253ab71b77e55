// Row-level access compiled into SQL (SMART App Launch 2.2, "Scopes and Launch Context": patient
// compartment confinement and granular `?param=value` constraints). The design note's rule: a
// restriction checked after the query misses what the query drags in (includes, chains, _has,
// history, $everything), so every statement that touches resources under an access token carries
// the predicate built here. This module knows nothing of tokens or roles; src/smart/roles.ts
// decides the access, as a RowAccess per permission and type.
import type { Queryable } from '../db/database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { needsTerminology } from './code-set.js';
import { readCompartmentsMany, type StoredCompartments } from '../storage/resource-store.js';
import { parseSearch } from './parse.js';
import { binder, filterSql, typeIs, type Binder, type Visibility } from './sql.js';

/** The SMART v2 permissions: create, read, update, delete, search. */
export type RowPermission = 'c' | 'r' | 'u' | 'd' | 's';

/**
 * One way a row can be allowed: it is in the Patient compartment of every id in `patients`, and
 * it matches the search `query` (each parameter ANDed), when there is one.
 */
export interface RowGrant {
  patients: readonly string[];
  query?: URLSearchParams;
}

/** Which rows of a type may be used: all of them, none, or those meeting at least one grant. */
export type RowAccess = 'all' | 'none' | readonly RowGrant[];

/** The caller's row-level access, per permission and resource type. */
export type AccessPolicy = (permission: RowPermission, resourceType: string) => RowAccess;

/** The access that needs both `a` and `b` (e.g. a conditional delete's matches must be searchable and deletable). */
export function intersectAccess(a: RowAccess, b: RowAccess): RowAccess {
  if (a === 'none' || b === 'none') return 'none';
  if (a === 'all') return b;
  if (b === 'all') return a;
  const out: RowGrant[] = [];
  for (const x of a) {
    for (const y of b) {
      const query = x.query || y.query ? new URLSearchParams([...(x.query ?? []), ...(y.query ?? [])]) : undefined;
      out.push({ patients: [...new Set([...x.patients, ...y.patients])], ...(query ? { query } : {}) });
    }
  }
  return out;
}

/**
 * The predicate that rows aliased `alias` of `types` (undefined: any type) must meet under
 * `policy` for `permission`, binding through `b`; undefined when every row of those types passes,
 * `false` when none does.
 */
export function visibilitySql(
  defs: FhirDefinitions, baseUrl: string, policy: AccessPolicy, permission: RowPermission,
  types: string | readonly string[] | undefined, alias: string, b: Binder,
): string | undefined {
  const list = typeof types === 'string' ? [types] : types ?? [...defs.resourceTypes];
  const free: string[] = [];
  // Types whose grants are compartments only share one predicate; granular ones need their own.
  const byCompartments = new Map<string, { types: string[]; grants: readonly RowGrant[] }>();
  const granular: { type: string; grants: readonly RowGrant[] }[] = [];
  for (const type of list) {
    const access = policy(permission, type);
    if (access === 'all') free.push(type);
    else if (access === 'none') continue;
    else if (access.some((g) => g.query)) granular.push({ type, grants: access });
    else {
      const key = access.map((g) => g.patients.join('\u0000')).sort().join('\u0001');
      const group = byCompartments.get(key);
      if (group) group.types.push(type);
      else byCompartments.set(key, { types: [type], grants: access });
    }
  }
  if (free.length === list.length) return undefined;
  // One type: the row's type is known, so only the grants remain.
  const single = list.length === 1;
  const typed = (ts: readonly string[], pred: string): string => (single ? pred : `(${typeIs(`${alias}.res_type`, ts.length === 1 ? (ts[0] as string) : [...ts], b)} AND ${pred})`);
  const parts: string[] = [];
  if (free.length) parts.push(typed(free, 'true'));
  for (const { types: ts, grants } of byCompartments.values()) parts.push(typed(ts, anyGrant(defs, baseUrl, grants, ts[0] as string, alias, b)));
  for (const { type, grants } of granular) parts.push(typed([type], anyGrant(defs, baseUrl, grants, type, alias, b)));
  if (!parts.length) return 'false';
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

/** The OR of `grants` on a row of `type`. */
function anyGrant(defs: FhirDefinitions, baseUrl: string, grants: readonly RowGrant[], type: string, alias: string, b: Binder): string {
  const alternatives = grants.map((g) => grantSql(defs, baseUrl, g, type, alias, b));
  return alternatives.length === 1 ? (alternatives[0] as string) : `(${alternatives.join(' OR ')})`;
}

/** The predicate of one grant on a row of `type` aliased `alias`. */
function grantSql(defs: FhirDefinitions, baseUrl: string, g: RowGrant, type: string, alias: string, b: Binder): string {
  const parts = g.patients.map((p) => `${alias}.rid IN (SELECT m.rid FROM idx_compartment m WHERE m.comp_type = 'Patient' AND m.comp_id = ${b.bind(p)})`);
  if (g.query) parts.push(constraintSql(defs, baseUrl, g.query, type, alias, b));
  return parts.length ? `(${parts.join(' AND ')})` : 'true';
}

/**
 * A granular constraint (`category=…|vital-signs`) compiled by the search parser into the same
 * SQL a search would use. A constraint the server cannot evaluate exactly (unknown parameter, a
 * value set to expand, a malformed value) matches nothing: it must never widen access.
 */
function constraintSql(defs: FhirDefinitions, baseUrl: string, query: URLSearchParams, type: string, alias: string, b: Binder): string {
  // The token's own constraints are not themselves confined (and must not recurse into them).
  const saved = b.visible;
  b.visible = undefined;
  try {
    const parsed = parseSearch(defs, type, query, { defaultCount: 1, maxCount: 1 });
    if (parsed.unknown.length || !parsed.filters.length || parsed.filters.some((f) => needsTerminology(f))) return 'false';
    return `(${parsed.filters.map((f) => filterSql(f, type, b, baseUrl, alias)).join(' AND ')})`;
  } catch {
    return 'false';
  } finally {
    b.visible = saved;
  }
}

/** A Visibility for binder `b` under `policy` (nested subqueries use it). */
function visibilityOf(defs: FhirDefinitions, baseUrl: string, policy: AccessPolicy, b: Binder): Visibility {
  return (permission, types, alias) => visibilitySql(defs, baseUrl, policy, permission, types, alias, b);
}

/** Installs `policy` (when there is one) on `b`, so that its nested subqueries are confined; returns `b`. */
export function confine(defs: FhirDefinitions, baseUrl: string, policy: AccessPolicy | undefined, b: Binder): Binder {
  if (policy) b.visible = visibilityOf(defs, baseUrl, policy, b);
  return b;
}

/** One stored resource as the write rules see it. */
export interface RowCheck {
  id: string;
  deleted: boolean;
  /** The Patient compartments its current version is in. */
  compartments: string[];
  /** Per grant (in order): whether its current version meets it (never, when deleted). */
  grants: boolean[];
}

/** The check of a resource against grants without granular constraints: its compartments decide. */
export function compartmentCheck(grants: readonly RowGrant[], found: StoredCompartments): RowCheck {
  const { stored: { id, deleted }, compartments } = found;
  return { id, deleted, compartments, grants: grants.map((g) => !deleted && g.patients.every((p) => compartments.includes(p))) };
}

/**
 * Checks stored resources of one type against each of `grants`, in one statement; resources
 * that do not exist are absent from the result. With `lock` their rows are locked for the
 * enclosing transaction, so that the version checked is the version a write then replaces.
 */
export async function checkRows(
  defs: FhirDefinitions, baseUrl: string, q: Queryable, grants: readonly RowGrant[], resourceType: string, ids: readonly string[], lock = false,
): Promise<Map<string, RowCheck>> {
  // Grants without granular constraints need only the compartments, which storage looks up by key.
  if (!lock && grants.every((g) => !g.query)) {
    const found = await readCompartmentsMany(q, ids.map((id) => ({ resourceType, id })));
    return new Map(found.filter((f) => f !== undefined).map((f) => [f.stored.id, compartmentCheck(grants, f)]));
  }
  const b = binder(defs);
  const type = b.bind(resourceType);
  const keys = b.bind(ids);
  const tests = grants.map((g, i) => `(NOT r.deleted AND coalesce(${grantSql(defs, baseUrl, g, resourceType, 'r', b)}, false)) AS g${i}`);
  const rows = await q.query<Record<string, unknown> & { id: string; deleted: boolean; compartments: string[] | null }>(
    `SELECT r.id, r.deleted,
       array(SELECT m.comp_id FROM idx_compartment m WHERE m.rid = r.rid AND m.comp_type = 'Patient' ORDER BY m.comp_id) AS compartments
       ${tests.map((t) => `, ${t}`).join('')}
     FROM resources r WHERE r.res_type = ${type} AND r.id = ANY(${keys}::text[])${lock ? ' FOR UPDATE OF r' : ''}`,
    b.params,
  );
  return new Map(rows.map((r) => [r.id, {
    id: r.id,
    deleted: r.deleted,
    compartments: r.compartments ?? [],
    grants: grants.map((_, i) => r[`g${i}`] === true),
  }]));
}
