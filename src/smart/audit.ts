// The audit trail of access to patient data (SMART issue, "Audit"; FHIR R4 security.html#audit and
// AuditEvent; the interactions of http.html#summary). Every request that touches patient data, every
// login and every token failure becomes one audit_log row, committed before the request is
// answered: a write that fails fails the request, so nothing is dropped silently. Rows are compact
// and group-committed (one multi-row INSERT per event-loop turn) because a full AuditEvent resource
// per read — resource, version and ~15 index rows — would cost more than the read; the
// materializer (audit-materializer.ts) turns the rows into AuditEvent resources in the background.
// Nothing here logs: audit rows hold PHI (patient ids, search strings) and belong in the database only.
import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/database.js';
import { FhirError } from '../fhir/errors.js';
import type { FhirRequest } from '../fhir/types.js';
import { coalesce } from '../storage/coalesce.js';
import { insertAuditRows, type AuditRow } from '../storage/audit-store.js';
import type { RequestSource } from './access.js';

/** One audit record: who did what to which resource and patients, when, from where, with what outcome. */
export type AuditEntry = AuditRow;
/** AuditEvent.action: Create, Read, Update, Delete, Execute (searches, operations, logins). */
export type AuditAction = AuditRow['action'];

/** The durable audit trail of one server. */
export interface AuditTrail {
  /** Writes one entry; resolves once its row is committed, rejects with a 500 FhirError if it could not be. */
  record(entry: AuditEntry): Promise<void>;
  /** Writes a failed login or token failure (they concern no patient). */
  recordFailure(failure: Omit<AuthAuditEvent, 'ok'>): Promise<void>;
}

/** How entries are grouped into statements. */
export interface AuditTrailOptions {
  /** Most rows one INSERT carries. */
  maxBatch: number;
  /** INSERTs in flight at once; entries arriving meanwhile form the next one. */
  maxInFlight: number;
}

/** Creates the trail writing to `db`. */
export function createAuditTrail(db: Pick<Database, 'query' | 'driver'>, options: Partial<AuditTrailOptions> = {}): AuditTrail {
  // The same trade as the read and create coalescers (storage/coalesce.ts): PGlite runs one
  // statement at a time; on PostgreSQL two in flight overlap one commit with the next batch forming.
  return auditTrailOver((rows) => insertAuditRows(db, rows), {
    maxBatch: options.maxBatch ?? 256, maxInFlight: options.maxInFlight ?? (db.driver === 'pglite' ? 1 : 2),
  });
}

/**
 * A trail whose entries go to `append` in groups (the entries of concurrent requests together):
 * each caller resolves once its group is written and fails with a 500 if it could not be.
 */
export function auditTrailOver(append: (entries: AuditEntry[]) => Promise<void>, options: AuditTrailOptions): AuditTrail {
  const write = coalesce(async (entries: AuditEntry[]) => {
    await append(entries);
    return entries.map(() => undefined);
  }, options);
  const record = (entry: AuditEntry): Promise<void> => write(clean(entry)).catch((err: unknown) => {
    throw auditUnavailable(err);
  });
  return { record, recordFailure: (failure) => record(authAuditEntry({ ...failure, ok: false })) };
}

// The database's own message may quote the row (PHI); only its SQLSTATE leaves this module.
function auditUnavailable(err: unknown): FhirError {
  const code = (err as { code?: unknown } | null)?.code;
  const state = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : '';
  return new FhirError(500, [{ severity: 'error', code: 'exception', diagnostics: `The audit trail could not be written${state}; the request was not completed` }]);
}

const LIMITS: Partial<Record<keyof AuditRow, number>> = { userAgent: 512, detail: 1_000, userName: 256, requestId: 200 };

// PostgreSQL text cannot hold NUL: content a client controls must never be able to fail the audit
// write (and with it only its own request, but still). Free-text fields are also bounded.
function clean(entry: AuditEntry): AuditEntry {
  const out: Record<string, unknown> = { ...entry };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'string') continue;
    const max = LIMITS[k as keyof AuditRow];
    const s = v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : v;
    out[k] = max !== undefined && s.length > max ? s.slice(0, max) : s;
  }
  return out as unknown as AuditEntry;
}

/** A login attempt or an access-token failure (invalid, expired or revoked token; refused grant). */
export interface AuthAuditEvent {
  kind: 'login' | 'token';
  ok: boolean;
  /** A short reason code such as `invalid-credentials`, `locked`, `expired` (never a secret). */
  reason?: string;
  /** The HTTP status answered. */
  status?: number;
  /** The username tried (logins). */
  username?: string;
  userId?: string;
  fhirUser?: string;
  role?: string;
  clientId?: string;
  tokenId?: string;
  source?: RequestSource;
  recorded?: Date;
}

/** The audit entry of a login attempt or token failure. */
export function authAuditEntry(e: AuthAuditEvent): AuditEntry {
  return {
    recorded: e.recorded ?? new Date(),
    action: 'E',
    subtype: e.kind,
    outcome: e.ok ? '0' : '4',
    patients: [],
    ...optional({
      status: e.status, detail: e.reason, userName: e.username, userId: e.userId, fhirUser: e.fhirUser, role: e.role,
      clientId: e.clientId, tokenId: e.tokenId, ip: e.source?.ip, userAgent: e.source?.userAgent, requestId: e.source?.requestId,
    }),
  };
}

/**
 * Resource types that hold no patient data: the conformance and terminology artifacts of R4.
 * Requests about only these (and `metadata`) are not audited.
 */
export const UNAUDITED_TYPES: ReadonlySet<string> = new Set([
  'CapabilityStatement', 'StructureDefinition', 'StructureMap', 'ImplementationGuide', 'SearchParameter', 'MessageDefinition',
  'OperationDefinition', 'CompartmentDefinition', 'GraphDefinition', 'ExampleScenario', 'TerminologyCapabilities',
  'CodeSystem', 'ValueSet', 'ConceptMap', 'NamingSystem',
]);
const UNAUDITED_PATHS: ReadonlySet<string> = new Set(['metadata']);

/** What a finished request produced: a FhirResponse, or the status (and headers) of a FhirError. */
export interface AuditResult {
  status: number;
  text?: string;
  resource?: Resource;
  headers?: Record<string, string>;
}

/** The interaction a request denotes, as the audit trail records it. */
interface Interaction {
  /** A restful-interaction code (R4 codesystem-restful-interaction). */
  subtype: string;
  action: AuditAction;
  resourceType?: string;
  resourceId?: string;
  /** Whether the request's path and parameters are worth keeping (searches, history, operations). */
  query: boolean;
  /** The patient named by the URL: Patient/[id]/… */
  patient?: string;
}

const ID = '[A-Za-z0-9\\-.]{1,64}';
const ID_RE = new RegExp(`^${ID}$`);
const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const WRITES: Record<string, AuditAction> = { POST: 'C', PUT: 'U', PATCH: 'U', DELETE: 'D' };
const SUBTYPES: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/**
 * The audit entry of a finished FHIR request, or undefined if it touches no patient data.
 * Pure and cheap: it reads the response text with a few regular expressions, never parses it.
 */
export function auditEntryFor(req: FhirRequest, result: AuditResult, info: { recorded?: Date } = {}): AuditEntry | undefined {
  const it = interactionOf(req);
  if (!it) return undefined;
  const created = result.status === 201;
  let resourceId = it.resourceId;
  // A create's id is only in its Location (…/Type/id/_history/n).
  if (created || (!resourceId && it.resourceType && result.headers?.Location)) {
    const m = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/[^/]+$/.exec(result.headers?.Location ?? '');
    if (m && m[1] === it.resourceType) resourceId = m[2];
  }
  const auth = req.auth;
  return {
    recorded: info.recorded ?? new Date(),
    action: created && it.action === 'U' ? 'C' : it.action,
    subtype: it.subtype,
    outcome: result.status >= 500 ? '8' : result.status >= 400 ? '4' : '0',
    status: result.status,
    patients: patientsOf(req, result, it, resourceId),
    ...optional({
      clientId: auth?.clientId, userId: auth?.subject, fhirUser: auth?.fhirUser, role: auth?.role, tokenId: auth?.tokenId,
      resourceType: it.resourceType, resourceId, query: it.query ? queryOf(req) : undefined,
      ip: req.source?.ip, userAgent: req.source?.userAgent, requestId: req.source?.requestId,
    }),
  };
}

/** Classifies a request like the router does (router.ts), without touching the database. */
function interactionOf(req: FhirRequest): Interaction | undefined {
  const segments = req.path.split('/').filter((p) => p.length > 0).map(decode);
  const [first, second, third, fourth] = segments;
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  const type = (t: string | undefined): string | undefined => (t && TYPE_RE.test(t) ? t : undefined);
  if (first === undefined) {
    if (m === 'POST') {
      const batch = (req.body as { type?: unknown } | undefined)?.type === 'batch';
      return { subtype: batch ? 'batch' : 'transaction', action: 'E', query: false };
    }
    return { subtype: 'search-system', action: 'E', query: true };
  }
  if (UNAUDITED_PATHS.has(first) || UNAUDITED_TYPES.has(first)) return undefined;
  if (first === '_search') return { subtype: 'search-system', action: 'E', query: true };
  if (first === '_history') return { subtype: 'history-system', action: 'R', query: true };
  if (first.startsWith('$')) return { subtype: 'operation', action: 'E', query: true };
  const resourceType = type(first);
  if (second === undefined) {
    if (m === 'GET') return { subtype: 'search-type', action: 'E', resourceType, query: true };
    return { subtype: SUBTYPES[m] ?? 'update', action: WRITES[m] ?? 'U', resourceType, query: false };
  }
  if (second === '_search') return { subtype: 'search-type', action: 'E', resourceType, query: true };
  if (second === '_history') return { subtype: 'history-type', action: 'R', resourceType, query: true };
  if (second.startsWith('$')) return { subtype: 'operation', action: 'E', resourceType, query: true };
  const id = ID_RE.test(second) ? second : undefined;
  const patient = resourceType === 'Patient' ? id : undefined;
  if (third === undefined) {
    if (m === 'GET') return { subtype: 'read', action: 'R', resourceType, resourceId: id, patient, query: false };
    return { subtype: SUBTYPES[m] ?? 'update', action: WRITES[m] ?? 'U', resourceType, resourceId: id, patient, query: false };
  }
  if (third.startsWith('$')) return { subtype: 'operation', action: 'E', resourceType, resourceId: id, patient, query: true };
  if (third === '_history') {
    if (fourth === undefined) return { subtype: 'history-instance', action: 'R', resourceType, resourceId: id, patient, query: true };
    return { subtype: 'vread', action: 'R', resourceType, resourceId: id, patient, query: false };
  }
  // Patient compartment search: Patient/[id]/[type]?…
  return { subtype: 'search-type', action: 'E', resourceType: type(third), patient, query: true };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The request path and every parameter (URL and _search form), as the search or operation ran. */
function queryOf(req: FhirRequest): string {
  const params = new URLSearchParams(req.query);
  if (req.body instanceof URLSearchParams) for (const [k, v] of req.body) params.append(k, v);
  const qs = params.toString();
  return qs ? `${req.path}?${qs}` : req.path;
}

// Patient ids in served JSON text (always compact: JSON.stringify output): a top-level or Bundle
// entry Patient, a subject/patient/beneficiary reference to a Patient, a fullUrl or a transaction
// response location of a Patient. Contained resources are not matched by the first form on purpose:
// their ids are local.
const PATIENT_IN_TEXT = new RegExp(
  `(?:^\\{|"resource":\\{)"resourceType":"Patient","id":"(${ID})"`
  + `|"(?:subject|patient|beneficiary)":\\[?\\{[^{}]*?"reference":"(?:[^"]*/)?Patient/(${ID})[/"]`
  + `|"(?:fullUrl|location)":"[^"]*/Patient/(${ID})[/"]`,
  'g',
);
const PATIENT_PARAMS = new Set(['patient', 'subject', 'beneficiary']);
const PATIENT_REF_RE = new RegExp(`(?:^|/)Patient/(${ID})(?:/_history/[^/]*)?$`);

/** The ids of the patients whose data the request touched, as far as it shows without a query. */
function patientsOf(req: FhirRequest, result: AuditResult, it: Interaction, resourceId: string | undefined): string[] {
  const ids = new Set<string>();
  if (req.auth?.patient && ID_RE.test(req.auth.patient)) ids.add(req.auth.patient);
  if (it.patient) ids.add(it.patient);
  if (it.resourceType === 'Patient' && resourceId) ids.add(resourceId);
  if (it.subtype === 'search-type' || it.subtype === 'search-system') addSearchedPatients(req, it, ids);
  if (result.status < 400) {
    const served = result.text ?? (result.resource && result.resource.resourceType !== 'OperationOutcome' ? JSON.stringify(result.resource) : undefined);
    if (served) scan(served, ids);
    // Writes answered with return=minimal, and the requests of a transaction: the body names the patients.
    const writes = it.action === 'C' || it.action === 'U' || it.subtype === 'transaction' || it.subtype === 'batch';
    if (writes && (!served || it.action === 'E') && isResourceBody(req.body)) scan(JSON.stringify(req.body), ids);
  }
  return [...ids];
}

function scan(text: string, ids: Set<string>): void {
  for (const m of text.matchAll(PATIENT_IN_TEXT)) ids.add((m[1] ?? m[2] ?? m[3]) as string);
}

const isResourceBody = (body: unknown): boolean => typeof body === 'object' && body !== null && !Array.isArray(body) && !(body instanceof URLSearchParams);

/** Patients named by search parameters: patient=, subject=Patient/…, Patient?_id=… */
function addSearchedPatients(req: FhirRequest, it: Interaction, ids: Set<string>): void {
  const visit = (params: URLSearchParams): void => {
    for (const [key, value] of params) {
      const [name, modifier] = key.split(':');
      const isId = name === 'patient' || modifier === 'Patient' || (name === '_id' && it.resourceType === 'Patient');
      if (!isId && !PATIENT_PARAMS.has(name ?? '')) continue;
      for (const v of value.split(',')) {
        const m = PATIENT_REF_RE.exec(v);
        if (m) ids.add(m[1] as string);
        else if (isId && ID_RE.test(v)) ids.add(v);
      }
    }
  };
  visit(req.query);
  if (req.body instanceof URLSearchParams) visit(req.body);
}

/** `o` without its undefined members (so that entries compare and serialise cleanly). */
function optional<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
