// AuditEvent as a virtual resource type (R4 AuditEvent; http.html#read, #vread, #search, #history):
// AuditEvents are not stored resources. Each is rendered on request from its audit_log row
// (audit-event.ts), so it is searchable as soon as the audited request's row commits, and an
// audited request costs one compact row, not a resource with ~15 index rows. Search parameters are
// compiled onto the log's columns (audit-query.ts) and pages are keyset-paged on (recorded, id).
// - read and vread (version 1: an AuditEvent never changes); search by GET and POST _search, also
//   as a Patient compartment search; type and instance history list each event once, as created.
// - The trail is written by the server: create, update, patch and delete are 405. (With
//   authorization on, src/smart/roles.ts refuses them with 403 before they get here.)
// - A system search whose _type names AuditEvent is 400: the log is not in the resources table that
//   system search reads, and returning other types' matches without it would look complete. Without
//   _type, a system search covers the stored types, and so does $everything.
// - Row-level confinement (patient compartments, granular scopes) is not compiled onto the log: a
//   caller whose access to AuditEvent is anything but unrestricted is refused, failing closed.
import type { CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { bundleText, linkWith, type EntryPart } from '../fhir/bundle.js';
import { badRequest, FhirError, forbidden, notFound, operationOutcome, type Issue } from '../fhir/errors.js';
import type { Interaction } from '../fhir/interaction.js';
import { parsePrefer } from '../fhir/prefer.js';
import { notModified } from '../fhir/read.js';
import { shapeText } from '../fhir/summary.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from '../fhir/types.js';
import { versionHeaders } from '../fhir/write.js';
import { parseSearch, type SearchRequest } from '../search/parse.js';
import { binder } from '../search/sql.js';
import { dateRange, formatInstant } from '../search/values.js';
import {
  countAuditRows, estimateAuditRows, findAuditRows, readAuditRow, type AuditCondition, type AuditKey, type FoundAuditRow,
} from '../storage/audit-store.js';
import { auditEventId, auditEventOf, auditLogId } from './audit-event.js';
import { AUDIT_PARAMS, auditFilterSql, patientSql } from './audit-query.js';

/** The virtual resource type. */
export const AUDIT_EVENT = 'AuditEvent';

type TypeInteraction = Extract<Interaction, { resourceType: string }>;

/** Runs an interaction on the AuditEvent type (the router's dispatch hands every one here). */
export async function auditEventInteraction(ctx: FhirContext, s: Session, req: FhirRequest, i: TypeInteraction): Promise<FhirResponse> {
  switch (i.kind) {
    case 'read': return readAuditEvent(ctx, s, req, i.id);
    case 'vread': return readAuditEvent(ctx, s, req, i.id, i.vid);
    case 'search-type': return searchAuditEvents(ctx, s, req, i.params, i.compartment);
    case 'history-type': return auditEventHistory(ctx, s, req);
    case 'history-instance': return auditEventHistory(ctx, s, req, i.id);
    default:
      throw new FhirError(405, [{
        severity: 'error', code: 'not-supported',
        diagnostics: `AuditEvents are written by the server, one for every audited request; they cannot be created, updated, patched or deleted through the API (${i.kind} refused)`,
      }], { Allow: 'GET, HEAD' });
  }
}

/** Throws 400 when a system search's _type names AuditEvent (see the top of this file). */
export function refuseAuditEventInSystemSearch(params: URLSearchParams): void {
  const types = params.getAll('_type').flatMap((v) => v.split(',')).map((t) => t.trim());
  if (types.includes(AUDIT_EVENT)) {
    throw badRequest('AuditEvent cannot be part of a system search (_type): it is served from the audit log; search it on its own, GET [base]/AuditEvent?…');
  }
}

/** The CapabilityStatement members of AuditEvent that differ from a stored type's. */
export function auditEventCapability(ctx: FhirContext): Partial<CapabilityStatementRestResource> {
  return {
    interaction: (['read', 'vread', 'search-type', 'history-instance', 'history-type'] as const).map((code) => ({ code })),
    versioning: 'no-version',
    updateCreate: false,
    conditionalCreate: false,
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
    searchParam: Object.entries(AUDIT_PARAMS).map(([name, p]) => {
      const sp = ctx.defs.searchParameter(AUDIT_EVENT, name);
      const modifiers = p.modifiers.map((m) => (m === 'type' ? ':[type]' : `:${m}`)).join(' ');
      return { name, ...(sp?.url ? { definition: sp.url } : {}), type: sp?.type ?? 'token', documentation: `Served from the audit log. Modifiers: ${modifiers || 'none'}` };
    }),
  };
}

/** 403 unless the caller's access to AuditEvent, if restricted at all, is unrestricted for `permission`. */
function requireUnconfined(ctx: FhirContext, permission: 'r' | 's'): void {
  const access = ctx.rowAccess?.(permission, AUDIT_EVENT);
  if (access !== undefined && access !== 'all') {
    throw forbidden('AuditEvents are served only under unrestricted access to AuditEvent: the audit log cannot be confined to a patient compartment or a granular scope');
  }
}

/** The AuditEvent of a row: version 1, last updated when it was recorded (it never changes). */
const render = (row: FoundAuditRow): string => JSON.stringify(auditEventOf(row, row.recorded.toISOString()));

async function readAuditEvent(ctx: FhirContext, s: Session, req: FhirRequest, id: string, vid?: string): Promise<FhirResponse> {
  requireUnconfined(ctx, 'r');
  // Every AuditEvent has exactly one version.
  if (vid !== undefined && vid !== '1') throw notFound(`AuditEvent/${id.slice(0, 80)}/_history/${vid.slice(0, 20)} is not known`);
  const logId = auditLogId(id);
  const row = logId === undefined ? undefined : await readAuditRow(s.q, logId);
  if (!row) throw notFound(`AuditEvent/${id.slice(0, 80)} is not known`);
  const lastUpdated = row.recorded.toISOString();
  const { Location: _, ...headers } = versionHeaders(ctx, { resourceType: AUDIT_EVENT, id, versionId: 1, lastUpdated });
  if (notModified(req, 1, lastUpdated)) return { status: 304, headers };
  return { status: 200, headers, text: render(row) };
}

/** Searches the log: GET AuditEvent?…, POST AuditEvent/_search, GET Patient/[id]/AuditEvent?… */
async function searchAuditEvents(
  ctx: FhirContext, s: Session, req: FhirRequest, params: URLSearchParams, compartment?: { type: string; id: string },
): Promise<FhirResponse> {
  requireUnconfined(ctx, 's');
  const search = parseSearch(ctx.defs, AUDIT_EVENT, params, ctx.config);
  const { condition, descending, unknown } = compile(ctx, search, compartment);
  if (unknown.length && parsePrefer(req.headers.prefer).handling === 'strict') throw badRequest(unknown.map((u) => u.reason).join('; '));
  const after = search.cursor === undefined ? undefined : decodeCursor(search.cursor);

  let rows: FoundAuditRow[] = [];
  let next: string | undefined;
  let total: number | undefined;
  if (search.summary === 'count') {
    total = await countAuditRows(s.q, condition);
  } else {
    const found = search.count === 0 ? [] : await findAuditRows(s.q, condition, { descending, limit: search.count + 1, ...(after ? { after } : {}) });
    rows = found.slice(0, search.count);
    const last = rows[rows.length - 1];
    if (found.length > search.count && last) next = encodeCursor(last);
    // The first page holding every match is an exact count for free (not so for _count=0).
    const complete = !after && search.count > 0 && !next;
    if (complete) total = rows.length;
    else if (search.total === 'accurate') total = await countAuditRows(s.q, condition);
    else if (search.total === 'estimate') total = Math.max(await estimateAuditRows(s.q, condition), rows.length + (next ? 1 : 0));
  }

  const self = compartment ? `${ctx.config.baseUrl}/${compartment.type}/${compartment.id}/${AUDIT_EVENT}` : `${ctx.config.baseUrl}/${AUDIT_EVENT}`;
  const link = [{ relation: 'self', url: linkWith(self, params, '_cursor', search.cursor) }];
  if (next) link.push({ relation: 'next', url: linkWith(self, params, '_cursor', next) });
  if (search.cursor) link.push({ relation: 'first', url: linkWith(self, params, '_cursor', undefined) });
  const entries: EntryPart[] = rows.map((row) => ({
    fullUrl: `${ctx.config.baseUrl}/${AUDIT_EVENT}/${auditEventId(row.id)}`,
    resourceText: shapeText(ctx, render(row), search.summary, search.elements),
    extra: { search: { mode: 'match' } },
  }));
  // Nothing is dropped silently: ignored parameters are reported in the Bundle, as search.ts does.
  const warnings: Issue[] = unknown.map((u) => ({ severity: 'warning', code: 'not-supported', diagnostics: `${u.name}: ${u.reason}; ignored` }));
  if (warnings.length) entries.push({ resource: operationOutcome(warnings), extra: { search: { mode: 'outcome' } } });
  const head = { type: 'searchset', ...(total !== undefined ? { total } : {}), link };
  return { status: 200, headers: {}, text: bundleText(head, entries) };
}

/** A parsed search as one condition on the log, its order, and what the log cannot answer. */
function compile(
  ctx: FhirContext, search: SearchRequest, compartment?: { type: string; id: string },
): { condition: AuditCondition; descending: boolean; unknown: { name: string; reason: string }[] } {
  const b = binder(ctx.defs);
  const env = {
    baseUrl: ctx.config.baseUrl, resourceTypes: ctx.defs.resourceTypes,
    agentTypes: (ctx.defs.searchParameter(AUDIT_EVENT, 'agent')?.target ?? []) as string[],
  };
  const unknown = [...search.unknown];
  const where: string[] = [];
  let selective = false;
  for (const f of search.filters) {
    const compiled = auditFilterSql(f, b, env);
    if ('reason' in compiled) {
      unknown.push({ name: f.modifier ? `${f.code}:${f.modifier}` : f.code, reason: compiled.reason });
      continue;
    }
    where.push(compiled.sql);
    selective ||= compiled.selective;
  }
  // AuditEvent's compartment membership is its `patient` parameter.
  if (compartment) {
    where.push(patientSql({ values: [compartment.id], modifier: 'Patient' }, b, env));
    selective = true;
  }
  for (const spec of [...search.include, ...search.revinclude]) {
    const name = search.include.includes(spec) ? '_include' : '_revinclude';
    unknown.push({ name: `${name}=${spec.source}:${spec.param}`, reason: `${name} is not supported for AuditEvent` });
  }
  // Newest first unless asked otherwise; date (= _lastUpdated, = recorded) is the only order the log keeps.
  const [first, ...rest] = search.sort;
  let descending = true;
  if (first && (first.code === 'date' || first.code === '_lastUpdated')) descending = first.descending;
  else if (first) rest.unshift(first);
  for (const k of rest) unknown.push({ name: `_sort=${k.descending ? '-' : ''}${k.code}`, reason: `AuditEvents sort by date only (_sort=date or -date), not by ${k.code}` });
  return { condition: { where: where.length ? where.join(' AND ') : 'true', params: b.params, selective }, descending, unknown };
}

/** History of the log: each AuditEvent once, as created; newest first, with _since, _at, _count. */
async function auditEventHistory(ctx: FhirContext, s: Session, req: FhirRequest, id?: string): Promise<FhirResponse> {
  requireUnconfined(ctx, id ? 'r' : 's');
  const b = binder(ctx.defs);
  const where: string[] = [];
  if (id !== undefined) {
    // A single row: found by its primary key, not by walking the log.
    const logId = auditLogId(id);
    where.push(logId === undefined ? 'false' : `a.id = ${b.bind(logId)}::bigint`);
  }
  const since = instant(req.query.get('_since'), '_since', 'low');
  if (since) where.push(`a.recorded >= ${b.bind(since)}::timestamptz`);
  // Nothing is ever changed, so the log as it was at _at is everything recorded until then.
  const at = instant(req.query.get('_at'), '_at', 'high');
  if (at) where.push(`a.recorded <= ${b.bind(at)}::timestamptz`);
  const countRaw = req.query.get('_count');
  if (countRaw !== null && !/^\d{1,7}$/.test(countRaw)) throw badRequest('_count must be a non-negative integer');
  const count = Math.min(countRaw === null ? ctx.config.defaultCount : Number(countRaw), ctx.config.maxCount);
  const cursor = req.query.get('_cursor') ?? undefined;
  const after = cursor === undefined ? undefined : decodeCursor(cursor);

  const condition = { where: where.length ? where.join(' AND ') : 'true', params: b.params, selective: id !== undefined };
  const found = count === 0 ? [] : await findAuditRows(s.q, condition, { descending: true, limit: count + 1, ...(after ? { after } : {}) });
  const rows = found.slice(0, count);
  const last = rows[rows.length - 1];
  const next = found.length > count && last ? encodeCursor(last) : undefined;
  const self = [ctx.config.baseUrl, AUDIT_EVENT, id, '_history'].filter(Boolean).join('/');
  const link = [{ relation: 'self', url: linkWith(self, req.query, '_cursor', cursor) }];
  if (next) link.push({ relation: 'next', url: linkWith(self, req.query, '_cursor', next) });
  const parts: EntryPart[] = rows.map((row) => ({
    fullUrl: `${ctx.config.baseUrl}/${AUDIT_EVENT}/${auditEventId(row.id)}`,
    resourceText: render(row),
    extra: {
      request: { method: 'POST', url: AUDIT_EVENT },
      response: { status: '201', etag: 'W/"1"', lastModified: row.recorded.toISOString() },
    },
  }));
  // Counting the whole log for every page would cost more than the page: a total only when this page is all of it.
  const total = !after && count > 0 && !next ? rows.length : undefined;
  return { status: 200, headers: {}, text: bundleText({ type: 'history', ...(total !== undefined ? { total } : {}), link }, parts) };
}

function instant(value: string | null, name: string, end: 'low' | 'high'): string | undefined {
  if (value === null) return undefined;
  const range = dateRange(value);
  if (!range) throw badRequest(`${name} must be a FHIR instant or dateTime, got "${value.slice(0, 40)}"`);
  return formatInstant(range[end]);
}

function encodeCursor(row: FoundAuditRow): string {
  return Buffer.from(JSON.stringify([row.recordedMicros, row.id])).toString('base64url');
}

function decodeCursor(raw: string): AuditKey {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && /^-?\d{1,19}$/.test(v[0]) && /^\d{1,19}$/.test(v[1])) {
      return { recordedMicros: v[0], id: v[1] };
    }
  } catch {
    // reported below
  }
  throw badRequest('Invalid _cursor: use the next link the server returned');
}
