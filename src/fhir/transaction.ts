// transaction and batch — http.html#transaction: POST [base] with a Bundle. A transaction is
// atomic (one database transaction; any failing entry rolls everything back), processed in the
// order DELETE, POST, PUT/PATCH, GET, with fullUrls and conditional references resolved and
// rewritten first; the response lists entries in request order. A batch runs each entry on its own.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { asFhirError, badRequest, FhirError, operationOutcome } from './errors.js';
import { parsePrefer } from './prefer.js';
import { route } from './router.js';
import { commitCreates, prepareCreate } from './create.js';
import { bundleText, type EntryPart } from './bundle.js';
import { planTransaction, type PlannedEntry } from './transaction-plan.js';
import { transactionSession, type FhirContext, type FhirMethod, type FhirRequest, type FhirResponse, type Session } from './types.js';
import { AUDIT_EVENT } from '../smart/audit-search.js';
import { refusedCreate, requireCreate } from '../smart/enforce.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const CREATE_CHUNK = 500;

/** Processes a transaction or batch Bundle. */
export async function transactionOrBatch(ctx: FhirContext, s: Session, req: FhirRequest): Promise<FhirResponse> {
  const bundle = req.body as Bundle | undefined;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') throw badRequest('POST to the base expects a Bundle');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') throw badRequest(`Bundle.type must be transaction or batch, not ${String(bundle.type)}`, ['Bundle.type']);
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  entries.forEach(checkEntry);
  const representation = parsePrefer(req.headers.prefer).return === 'representation';
  if (bundle.type === 'batch') return batch(ctx, s, req, entries, representation);
  const auth = req.auth;

  const responses = await s.atomically(async (tx) => {
    const session = transactionSession(tx);
    const plan = await planTransaction(ctx, tx, entries);
    const results: FhirResponse[] = new Array(entries.length);
    const order = plan.map((_, i) => i).sort((a, b) => (ORDER[plan[a]!.method] ?? 9) - (ORDER[plan[b]!.method] ?? 9) || a - b);
    // Plain creates are prepared one by one and committed in chunks, one statement per chunk.
    let creates: number[] = [];
    const flush = async (): Promise<void> => {
      const prepared = creates.map((i) => inEntry(i, plan[i] as PlannedEntry, () => {
        const p = plan[i] as PlannedEntry;
        if (auth) requireCreate(ctx, auth, p.url, p.entry.request?.ifNoneExist !== undefined);
        return prepareCreate(ctx, entryRequest(req, p), p.url);
      }));
      const done = await commitCreates(ctx, tx, req, prepared);
      // These creates bypass the router, so they are authorized here, inside the transaction: a
      // refusal rolls the whole Bundle back.
      const refused = auth && (await refusedCreate(ctx, tx, auth, prepared.map((p) => p.write)));
      if (refused) {
        const i = creates[refused.index] as number;
        throw entryError(i, plan[i] as PlannedEntry, refused.error);
      }
      creates.forEach((i, k) => {
        results[i] = done[k] as FhirResponse;
        entries[i] = {};
      });
      creates = [];
    };
    for (const i of order) {
      const p = plan[i] as PlannedEntry;
      // AuditEvent is not stored (src/smart/audit-search.ts): its creates are routed, and refused there.
      if (!p.resolved && p.method === 'POST' && ctx.defs.resourceTypes.has(p.url) && p.url !== AUDIT_EVENT) {
        creates.push(i);
        if (creates.length >= CREATE_CHUNK) await flush();
        continue;
      }
      await flush();
      // A conditional create settled by planning is not routed: it needs the scopes all the same.
      if (p.resolved && auth) inEntry(i, p, () => requireCreate(ctx, auth, p.url.split('?')[0] as string, true));
      results[i] = p.resolved ?? (await inEntryAsync(i, p, () => route(ctx, session, entryRequest(req, p))));
      // Release the entry's resource as soon as it is written: large Bundles stay within memory.
      entries[i] = {};
    }
    await flush();
    return results;
  });
  const parts = responses.map((r) => responseEntry(r, representation));
  return { status: 200, headers: {}, text: bundleText({ type: 'transaction-response' }, parts) };
}

/** Runs `fn` for entry i, prefixing any error with the entry's position. */
function inEntry<T>(i: number, p: PlannedEntry, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw entryError(i, p, err);
  }
}

async function inEntryAsync<T>(i: number, p: PlannedEntry, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw entryError(i, p, err);
  }
}

function entryError(i: number, p: PlannedEntry, err: unknown): FhirError {
  const e = asFhirError(err);
  return new FhirError(e.status, e.issues.map((issue) => ({ ...issue, diagnostics: `Bundle.entry[${i}] (${p.method} ${p.url}): ${issue.diagnostics}` })));
}

async function batch(ctx: FhirContext, s: Session, req: FhirRequest, entries: BundleEntry[], representation: boolean): Promise<FhirResponse> {
  const parts: EntryPart[] = new Array(entries.length);
  const run = async (i: number): Promise<void> => {
    const entry = entries[i] as BundleEntry;
    try {
      const r = entry.request as { method: string; url: string };
      const planned: PlannedEntry = { method: r.method as FhirMethod, url: r.url, entry };
      parts[i] = responseEntry(await route(ctx, s, entryRequest(req, planned)), representation);
    } catch (err) {
      const e = asFhirError(err);
      parts[i] = { extra: { response: { status: String(e.status), outcome: operationOutcome(e.issues) } } };
    }
  };
  for (let i = 0; i < entries.length;) {
    let j = i;
    while (j < entries.length && plainCreate(entries[j] as BundleEntry)) j++;
    if (j > i) {
      // A run of unconditional creates cannot interfere with each other (the server picks the ids):
      // sent to the pool together, they share INSERT statements (storage/coalesce.ts) instead of
      // taking a round trip each. Everything else runs one entry at a time, in order.
      await Promise.all(Array.from({ length: j - i }, (_, k) => run(i + k)));
      i = j;
    } else await run(i++);
  }
  return { status: 200, headers: {}, text: bundleText({ type: 'batch-response' }, parts) };
}

/** POST [type] without If-None-Exist. */
function plainCreate(entry: BundleEntry): boolean {
  const r = entry.request;
  return r?.method === 'POST' && !r.ifNoneExist && typeof r.url === 'string' && /^[A-Z][A-Za-z]+$/.test(r.url);
}

function checkEntry(entry: BundleEntry, i: number): void {
  const r = entry?.request;
  if (!r || typeof r.method !== 'string' || !METHODS.has(r.method) || typeof r.url !== 'string' || !r.url) {
    throw badRequest(`Bundle.entry[${i}].request needs a method (GET, POST, PUT, PATCH, DELETE) and a url`, [`Bundle.entry[${i}].request`]);
  }
}

/** The FhirRequest for one entry: url relative to the base, headers from entry.request. */
function entryRequest(outer: FhirRequest, p: PlannedEntry): FhirRequest {
  const r = p.entry.request as NonNullable<BundleEntry['request']>;
  const [path = '', query = ''] = p.url.split('?', 2) as [string, string?];
  let body: unknown = p.entry.resource;
  let contentType = 'application/fhir+json';
  const resource = p.entry.resource as Resource | undefined;
  if (p.method === 'PATCH' && resource?.resourceType === 'Binary') {
    // A JSON Patch travels in a transaction as a Binary (http.html#patch).
    contentType = 'application/json-patch+json';
    body = parseBinaryPatch(resource as Resource & { data?: string });
  }
  return {
    method: p.method,
    path,
    query: new URLSearchParams(query),
    contentType,
    body,
    assignedId: p.assignedId,
    headers: {
      ifMatch: r.ifMatch,
      ifNoneMatch: r.ifNoneMatch,
      ifModifiedSince: r.ifModifiedSince,
      ifNoneExist: r.ifNoneExist,
      prefer: outer.headers.prefer,
    },
    // Each entry is authorized as the Bundle's caller.
    ...(outer.auth ? { auth: outer.auth } : {}),
    ...(outer.source ? { source: outer.source } : {}),
  };
}

function parseBinaryPatch(binary: { data?: string }): unknown {
  try {
    return JSON.parse(Buffer.from(binary.data ?? '', 'base64').toString('utf8'));
  } catch {
    throw badRequest('Binary.data of a PATCH entry must be a base64 JSON Patch document');
  }
}

const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };

function responseEntry(r: FhirResponse, representation: boolean): EntryPart {
  const response: Record<string, unknown> = { status: `${r.status}${REASONS[r.status] ? ' ' + REASONS[r.status] : ''}` };
  if (r.headers.Location) response.location = r.headers.Location;
  if (r.headers.ETag) response.etag = r.headers.ETag;
  if (r.headers['Last-Modified']) response.lastModified = new Date(r.headers['Last-Modified']).toISOString();
  const part: EntryPart = { extra: { response } };
  const isRead = !r.headers.Location;
  if (r.text !== undefined && (representation || isRead)) part.resourceText = r.text;
  else if (r.resource && r.resource.resourceType === 'OperationOutcome') response.outcome = r.resource;
  else if (r.resource && (representation || isRead)) part.resource = r.resource;
  if (r.headers.Location) part.fullUrl = r.headers.Location.replace(/\/_history\/[^/]+$/, '');
  return part;
}
