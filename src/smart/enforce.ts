// Enforcement of SMART scopes and user roles on every FHIR interaction (SMART App Launch 2.2,
// "Scopes and Launch Context"; SMART Backend Services). Each interaction needs SMART v2
// permissions on its type — read/vread and instance history `r`; every search (type, system,
// compartment, type and system history) `s`; create `c`; update and patch `u` (and `c` when the
// update creates); delete `d`; conditional forms `s` as well, since they search — and a missing one
// is a 403 naming the scope that would allow it. Which rows are allowed (a patient's compartment,
// granular `?param=value` constraints) is compiled into the SQL of every statement through the
// per-request context's `rowAccess` (src/search/restrict.ts); here are the checks around that:
//
// - A resource the caller may not see is 404, exactly as if it did not exist: a 403 would confirm
//   that the id exists in someone else's record. (Deleted resources are in no compartment, so
//   under confinement they are 404 too, not 410.)
// - A write needs its target's current version to be allowed for it before (404, or 403 when the
//   caller may read but not change it) and the written version after, checked in the same
//   database transaction, so that a refused write leaves nothing behind. Under patient
//   confinement a write may also not add the resource to any other patient's compartment (an
//   Observation's performer is a compartment link too): the Patient compartments after the write
//   must be the grant's patients or ones the resource was already in.
// - `metadata` is always allowed. `$validate` of a body needs nothing beyond a token, and at
//   instance level (it may validate the stored resource) is checked like a read; `$everything`
//   needs r and s on Patient and its patient visible, and its results are confined like a search
//   and its includes; `$reindex` needs an administrator (see roles.ts).
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import { FhirError, forbidden, notFound } from '../fhir/errors.js';
import type { Interaction } from '../fhir/interaction.js';
import { transactionSession, withPrefetched, type FhirContext, type FhirRequest, type FhirResponse, type Session } from '../fhir/types.js';
import { invocationParams } from '../operations/params.js';
import { operations } from '../operations/registry.js';
import { checkRows, compartmentCheck, intersectAccess, type AccessPolicy, type RowAccess, type RowCheck, type RowGrant, type RowPermission } from '../search/restrict.js';
import { readVersion, type StoredResource } from '../storage/resource-store.js';
import type { Authorization } from './access.js';
import { accessPolicy, ADMIN_OPERATIONS, denial, mayAdminister } from './roles.js';

/** Runs a classified interaction (the router's dispatch). */
export type Dispatch = (ctx: FhirContext, s: Session, req: FhirRequest, i: Interaction) => Promise<FhirResponse>;

type WriteKind = Extract<Interaction, { resourceType: string }>;

/** Runs interaction `i` of the authorized request `req` under its token's access, or refuses it. */
export async function enforce(ctx: FhirContext, s: Session, req: FhirRequest, i: Interaction, dispatch: Dispatch): Promise<FhirResponse> {
  if (i.kind === 'capabilities') return dispatch(ctx, s, req, i);
  const g = new Guard(ctx, req.auth as Authorization);
  const c = g.ctx;
  switch (i.kind) {
    case 'read': {
      g.need('r', i.resourceType);
      const seen = await g.mustSee(s, i.resourceType, i.id);
      return dispatch(c, seen?.stored ? withPrefetched(s, seen.stored) : s, req, i);
    }
    case 'vread': {
      g.need('r', i.resourceType);
      const current = await g.mustSee(s, i.resourceType, i.id);
      if (current) await g.versionVisible(s.q, i.resourceType, i.id, i.vid, current);
      return dispatch(c, s, req, i);
    }
    // An unknown resource's history is an empty Bundle, so a hidden one's is too (confined in SQL).
    case 'history-instance':
      g.need('r', i.resourceType);
      return dispatch(c, s, req, i);
    case 'history-type':
      g.need('s', i.resourceType);
      return dispatch(c, s, req, i);
    case 'async-status':
      // Only the token's own client or user learns a job's result (src/fhir/async.ts checks the owner).
      return dispatch(ctx, s, req, i);
    case 'history-system':
    case 'transaction':
      return dispatch(c, s, req, i);
    case 'search-type':
      g.need('s', i.resourceType);
      // A confined grant reaches only its own patients' compartments, whoever else's is asked for.
      if (i.compartment && !g.reaches('s', i.resourceType, i.compartment.id)) throw notFound(`Patient/${i.compartment.id} is not known`);
      return dispatch(c, s, req, i);
    case 'search-system':
      for (const type of i.params.get('_type')?.split(',').map((t) => t.trim()).filter(Boolean) ?? []) {
        if (ctx.defs.resourceTypes.has(type)) g.need('s', type);
      }
      return dispatch(c, s, req, i);
    case 'create': {
      const conditional = req.headers.ifNoneExist !== undefined;
      g.need('c', i.resourceType);
      if (conditional) g.need('s', i.resourceType);
      return g.write(s, req, i, dispatch, 'c', undefined, conditional);
    }
    case 'update':
      g.need('u', i.resourceType);
      return g.write(s, req, i, dispatch, 'u', i.id, false);
    case 'patch':
      g.need('u', i.resourceType);
      return g.write(s, req, i, dispatch, 'u', i.id, false);
    case 'delete':
      g.need('d', i.resourceType);
      return g.write(s, req, i, dispatch, 'd', i.id, false);
    case 'conditional-update':
    case 'conditional-patch':
    case 'conditional-delete': {
      const permission = i.kind === 'conditional-delete' ? 'd' : 'u';
      g.need(permission, i.resourceType);
      g.need('s', i.resourceType);
      return g.write(s, req, i, dispatch, permission, undefined, true);
    }
    case 'operation':
      return operation(g, s, req, i, dispatch);
  }
}

const SUBSCRIPTION_OPERATIONS = new Set(['status', 'events', 'get-ws-binding-token']);
const GENOMIC_SUBJECT_OPERATIONS = /^find-(subject-.+|study-metadata)$/;
const GENOMIC_POPULATION_OPERATIONS = /^find-population-.+$/;

async function operation(g: Guard, s: Session, req: FhirRequest, i: Extract<Interaction, { kind: 'operation' }>, dispatch: Dispatch): Promise<FhirResponse> {
  const { resourceType, id } = i.target;
  if (ADMIN_OPERATIONS.has(i.name)) {
    if (!mayAdminister(g.auth)) throw forbidden(`$${i.name} needs an admin user's token with user/*.cruds, or a backend service's with system/*.cruds`);
    return dispatch(g.ctx, s, req, i);
  }
  if (i.name === 'validate') {
    // Validating a body touches no data; at instance level the stored resource may be read.
    if (resourceType && id) {
      g.need('r', resourceType);
      await g.mustSee(s, resourceType, id);
    }
    return dispatch(g.ctx, s, req, i);
  }
  if (i.name === 'everything' && resourceType === 'Patient' && id) {
    g.need('r', 'Patient');
    g.need('s', 'Patient');
    await g.mustSee(s, 'Patient', id);
    return dispatch(g.ctx, s, req, i);
  }
  if ((i.name === 'lastn' || i.name === 'stats') && resourceType === 'Observation' && !id) {
    // Searches of Observations, confined to the caller's rows like any search (they run under g.ctx).
    g.need('s', 'Observation');
    return dispatch(g.ctx, s, req, i);
  }
  if (SUBSCRIPTION_OPERATIONS.has(i.name) && resourceType === 'Subscription') {
    // A Subscription's status, events and websocket bindings are read access to that Subscription;
    // at type level to every Subscription, as a search of them would be.
    g.need('r', 'Subscription');
    if (id) await g.mustSee(s, 'Subscription', id);
    else g.need('s', 'Subscription');
    return dispatch(g.ctx, s, req, i);
  }
  if (i.name === 'import-vcf' && resourceType === 'Patient' && id) {
    // An import writes the patient's genomic-study Procedure and genomic-report DiagnosticReport
    // (a new version of each when the test is imported again).
    for (const type of ['Procedure', 'DiagnosticReport']) {
      for (const permission of ['c', 'u'] as const) {
        g.need(permission, type);
        if (!g.reaches(permission, type, id)) throw forbidden(`$import-vcf writes ${type} resources of Patient/${id}, which the granted scopes do not reach`);
      }
    }
    await g.mustSee(s, 'Patient', id);
    return dispatch(g.ctx, s, req, i);
  }
  if (GENOMIC_SUBJECT_OPERATIONS.test(i.name) && !resourceType) {
    // Their answers are the subject's variant Observations: reading the subject's Observations.
    g.need('r', 'Observation');
    g.need('s', 'Observation');
    const subject = invocationParams(req).get('subject')?.replace(/^Patient\//, '');
    if (subject && !g.reaches('r', 'Observation', subject)) throw forbidden(`The granted scopes do not reach the Observations of Patient/${subject.slice(0, 64)}`);
    return dispatch(g.ctx, s, req, i);
  }
  if (GENOMIC_POPULATION_OPERATIONS.test(i.name) && !resourceType) {
    // Counts and patient lists across every patient with genomic data.
    if (g.policy('s', 'Observation') !== 'all') throw forbidden(`$${i.name} counts across all patients; it needs a token that may search every Observation (e.g. system/Observation.rs)`);
    return dispatch(g.ctx, s, req, i);
  }
  // The registry answers unknown operations and unsupported levels ($everything on anything but
  // a Patient instance) with 404; a known operation without a rule here is refused, so that a
  // new operation cannot be reached with a token by accident.
  if (!operations.some((o) => o.name === i.name) || i.name === 'everything') return dispatch(g.ctx, s, req, i);
  throw forbidden(`No authorization rule allows $${i.name.slice(0, 60)} with an access token`);
}

const policies = new WeakMap<Authorization, AccessPolicy>();

/** The checks of one authorized request. */
class Guard {
  readonly policy: AccessPolicy;
  /** The per-request context: every search, include and history under it is confined. */
  readonly ctx: FhirContext;

  constructor(private readonly base: FhirContext, readonly auth: Authorization) {
    // The bearer cache hands out one Authorization per token, so its policy is worked out once.
    let policy = policies.get(auth);
    if (!policy) policies.set(auth, (policy = accessPolicy(base.defs, auth)));
    this.policy = policy;
    this.ctx = { ...base, rowAccess: this.policy };
  }

  /** Throws 403 unless some scope grants `permission` on `resourceType`. */
  need(permission: RowPermission, resourceType: string): void {
    if (this.policy(permission, resourceType) === 'none') throw forbidden(denial(this.base.defs, this.auth, permission, resourceType));
  }

  /** False when every grant of `permission` on `resourceType` is confined to patients other than `patient`. */
  reaches(permission: RowPermission, resourceType: string, patient: string): boolean {
    const access = this.policy(permission, resourceType);
    return access === 'all' || access === 'none' || access.some((g) => !g.patients.length || g.patients.includes(patient));
  }

  /** Throws 404 unless the current version of the resource may be read; returns its check (none when unrestricted). */
  async mustSee(s: Session, resourceType: string, id: string): Promise<(RowCheck & { stored?: StoredResource }) | undefined> {
    const access = this.policy('r', resourceType);
    if (access === 'all' || access === 'none') return undefined;
    // Compartment-only grants are decided from the resource's compartments, which the session
    // looks up alongside concurrent reads (one statement for many); constraints need their SQL.
    const row = access.every((g) => !g.query) ? await this.compartmentCheck(s, access, resourceType, id) : (await this.check(s.q, access, resourceType, id)).get(id);
    if (!row?.grants.some(Boolean)) throw notFound(`${resourceType}/${id} is not known`);
    return row;
  }

  /**
   * Index rows exist for the current version only, which decides the granular constraints; an
   * earlier version must also have been in the compartments of a grant the current one meets.
   */
  async versionVisible(q: Queryable, resourceType: string, id: string, vid: string, current: RowCheck): Promise<void> {
    const grants = this.policy('r', resourceType) as readonly RowGrant[];
    const stored = /^\d{1,9}$/.test(vid) ? await readVersion(q, resourceType, id, Number(vid)) : undefined;
    if (!stored?.content) return; // the interaction answers 404 or 410 itself
    const compartments = this.compartmentsOf(stored.content);
    if (!grants.some((g, k) => current.grants[k] && g.patients.every((p) => compartments.includes(p)))) {
      throw notFound(`${resourceType}/${id}/_history/${vid.slice(0, 20)} is not known`);
    }
  }

  /** Runs a write, checking its target before and the written version after, in one transaction. */
  async write(s: Session, req: FhirRequest, i: WriteKind, dispatch: Dispatch, permission: 'c' | 'u' | 'd', id: string | undefined, conditional: boolean): Promise<FhirResponse> {
    const type = i.resourceType;
    const access = this.policy(permission, type);
    // A conditional write's matches must be both searchable and writable.
    const ctx = conditional ? { ...this.ctx, rowAccess: searchingFor(this.policy, permission) } : this.ctx;
    if (access === 'all' && (permission !== 'u' || this.policy('c', type) === 'all')) return dispatch(ctx, s, req, i);
    return s.atomically(async (q) => {
      if (id && permission !== 'c' && access !== 'all' && access !== 'none') await this.writableBefore(q, access, type, id, permission);
      const res = await dispatch(ctx, transactionSession(q), req, i);
      const written = this.written(res, type);
      // A delete leaves no version to check; a conditional create that matched wrote nothing.
      if (!written || permission === 'd' || (i.kind === 'create' && res.status !== 201)) return res;
      const used = res.status === 201 ? 'c' : 'u';
      const after = this.policy(used, type);
      if (after === 'none') throw forbidden(`${denial(this.base.defs, this.auth, used, type)} (this ${i.kind} creates ${type}/${written.id})`);
      if (after === 'all') return res;
      const row = (await this.check(q, after, type, written.id)).get(written.id);
      const prior = used === 'u' ? await this.priorCompartments(q, type, written.id, written.versionId) : [];
      if (!row || !writable(after, row, prior)) {
        throw forbidden(`${type}/${written.id} would be outside the compartment or constraints of the granted scopes after this ${i.kind}`);
      }
      return res;
    });
  }

  /** The target of an update, patch or delete by id must be allowed for it, as it is now; locks it. */
  private async writableBefore(q: Queryable, grants: readonly RowGrant[], type: string, id: string, permission: 'u' | 'd'): Promise<void> {
    const row = (await this.check(q, grants, type, id, true)).get(id);
    if (!row) return; // unknown: an update creates it (checked after), a patch or delete is 404
    // Deleted: an update creates it again (checked after); nothing else may learn it existed.
    if (row.deleted) {
      if (permission === 'u') return;
      throw notFound(`${type}/${id} is not known`);
    }
    if (row.grants.some(Boolean)) return;
    const read = this.policy('r', type);
    let readable = read === 'all';
    if (read !== 'all' && read !== 'none') readable = (await this.check(q, read, type, id)).get(id)?.grants.some(Boolean) === true;
    if (!readable) throw notFound(`${type}/${id} is not known`);
    throw forbidden(`Insufficient scope to ${permission === 'u' ? 'update' : 'delete'} ${type}/${id}: it is outside the compartment or constraints of the granted scopes`);
  }

  private async compartmentCheck(s: Session, grants: readonly RowGrant[], type: string, id: string): Promise<(RowCheck & { stored: StoredResource }) | undefined> {
    const found = await s.compartments(type, id);
    return found && { ...compartmentCheck(grants, found), stored: found.stored };
  }

  private check(q: Queryable, grants: readonly RowGrant[], type: string, id: string, lock = false): Promise<Map<string, RowCheck>> {
    return checkRows(this.base.defs, this.base.config.baseUrl, q, grants, type, [id], lock);
  }

  /** The Patient compartments of the version before `versionId` (none for a first version). */
  private async priorCompartments(q: Queryable, type: string, id: string, versionId: number): Promise<string[]> {
    if (versionId <= 1) return [];
    const prior = await readVersion(q, type, id, versionId - 1);
    return prior?.content ? this.compartmentsOf(prior.content) : [];
  }

  private compartmentsOf(content: string): string[] {
    const rows = this.base.extractor.extract(JSON.parse(content) as Resource).compartment;
    return rows.filter((r) => r.compType === 'Patient').map((r) => r.compId);
  }

  /** The resource a write response names in its Location (`[base]/Type/id/_history/n`). */
  private written(res: FhirResponse, type: string): { id: string; versionId: number } | undefined {
    const location = res.headers.Location;
    const prefix = `${this.base.config.baseUrl}/${type}/`;
    if (!location?.startsWith(prefix)) return undefined;
    const [id, history, version] = location.slice(prefix.length).split('/');
    return id && history === '_history' ? { id, versionId: Number(version) } : undefined;
  }
}

/**
 * The row after a write meets a grant, and under confinement it is in no Patient compartment
 * beyond the grant's patients and those its previous version was in.
 */
function writable(grants: readonly RowGrant[], row: RowCheck, prior: readonly string[]): boolean {
  return grants.some((g, k) => row.grants[k] && (!g.patients.length || row.compartments.every((c) => g.patients.includes(c) || prior.includes(c))));
}

/** `policy`, with searches narrowed to what `permission` also allows. */
function searchingFor(policy: AccessPolicy, permission: RowPermission): AccessPolicy {
  const cache = new Map<string, RowAccess>();
  return (p, type) => {
    if (p !== 's') return policy(p, type);
    let access = cache.get(type);
    if (access === undefined) cache.set(type, (access = intersectAccess(policy('s', type), policy(permission, type))));
    return access;
  };
}

/** Throws 403 unless `auth` may create `resourceType` (and search it, for a conditional create). */
export function requireCreate(ctx: FhirContext, auth: Authorization, resourceType: string, conditional: boolean): void {
  const policy = ctx.rowAccess ?? accessPolicy(ctx.defs, auth);
  for (const p of conditional ? (['c', 's'] as const) : (['c'] as const)) {
    if (policy(p, resourceType) === 'none') throw forbidden(denial(ctx.defs, auth, p, resourceType));
  }
}

/**
 * For the creates a transaction commits in bulk (not through the router): the first that the
 * token's `c` access does not allow, with the error to report; checked inside the transaction.
 */
export async function refusedCreate(
  ctx: FhirContext, q: Queryable, auth: Authorization, writes: readonly { resourceType: string; id: string }[],
): Promise<{ index: number; error: FhirError } | undefined> {
  const policy = ctx.rowAccess ?? accessPolicy(ctx.defs, auth);
  const byType = new Map<string, number[]>();
  for (const [k, w] of writes.entries()) {
    const access = policy('c', w.resourceType);
    if (access === 'none') return { index: k, error: forbidden(denial(ctx.defs, auth, 'c', w.resourceType)) };
    if (access === 'all') continue;
    const list = byType.get(w.resourceType);
    if (list) list.push(k);
    else byType.set(w.resourceType, [k]);
  }
  for (const [type, indexes] of byType) {
    const grants = policy('c', type) as readonly RowGrant[];
    const rows = await checkRows(ctx.defs, ctx.config.baseUrl, q, grants, type, indexes.map((k) => (writes[k] as { id: string }).id));
    for (const k of indexes) {
      const id = (writes[k] as { id: string }).id;
      const row = rows.get(id);
      if (!row || !writable(grants, row, [])) {
        return { index: k, error: forbidden(`${type}/${id} would be outside the compartment or constraints of the granted scopes`) };
      }
    }
  }
  return undefined;
}
