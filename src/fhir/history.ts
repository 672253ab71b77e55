// history — http.html#history: GET [type]/[id]/_history, [type]/_history, _history, with _since,
// _at and _count, newest first, keyset-paged via `_cursor`.
import { badRequest } from './errors.js';
import { countHistory, listHistory, type HistoryCursor } from '../storage/history-store.js';
import { bundleText, linkWith, type EntryPart } from './bundle.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { dateRange, formatInstant } from '../search/values.js';
import { visibilitySql } from '../search/restrict.js';
import { binder } from '../search/sql.js';

/** Lists versions of one resource, one type, or the whole system. */
export async function history(
  ctx: FhirContext, s: Session, req: FhirRequest, resourceType?: string, id?: string,
): Promise<FhirResponse> {
  const since = instantParam(req.query.get('_since'), '_since');
  const at = instantParam(req.query.get('_at'), '_at', 'high');
  const countRaw = req.query.get('_count');
  if (countRaw !== null && !/^\d{1,7}$/.test(countRaw)) throw badRequest('_count must be a non-negative integer');
  const count = Math.min(countRaw === null ? ctx.config.defaultCount : Number(countRaw), ctx.config.maxCount);
  const after = decodeCursor(req.query.get('_cursor'));

  const visible = visibleVersions(ctx, resourceType, id);
  const { entries, more } = await listHistory(s.q, { resourceType, id, since, at, count, after, visible });
  const total = after || at ? undefined : await countHistory(s.q, { resourceType, id, since, visible });
  const self = [ctx.config.baseUrl, resourceType, id, '_history'].filter(Boolean).join('/');
  const link = [{ relation: 'self', url: linkWith(self, req.query, '_cursor', after ? req.query.get('_cursor') ?? undefined : undefined) }];
  const last = entries[entries.length - 1];
  if (more && last) {
    const cursor = Buffer.from(JSON.stringify([Date.parse(last.lastUpdated), last.rid, last.versionId])).toString('base64url');
    link.push({ relation: 'next', url: linkWith(self, req.query, '_cursor', cursor) });
  }
  const parts: EntryPart[] = entries.map((e) => {
    const url = `${e.resourceType}/${e.id}`;
    const method = e.method;
    const status = e.content === null ? '204' : e.versionId === 1 ? '201' : '200';
    return {
      fullUrl: `${ctx.config.baseUrl}/${url}`,
      ...(e.content !== null ? { resourceText: e.content } : {}),
      extra: {
        request: { method, url: method === 'POST' ? e.resourceType : url },
        response: { status, etag: `W/"${e.versionId}"`, lastModified: e.lastUpdated },
      },
    };
  });
  return { status: 200, headers: {}, text: bundleText({ type: 'history', ...(total !== undefined ? { total } : {}), link }, parts) };
}

/**
 * Under an access token, only versions of resources whose current version the caller may read
 * (one resource) or search (a type, the system); index rows exist for current versions only.
 */
function visibleVersions(ctx: FhirContext, resourceType?: string, id?: string): ((params: unknown[]) => string | undefined) | undefined {
  const policy = ctx.rowAccess;
  if (!policy) return undefined;
  return (params) => visibilitySql(ctx.defs, ctx.config.baseUrl, policy, id ? 'r' : 's', resourceType, 'r', binder(ctx.defs, params));
}

function instantParam(value: string | null, name: string, end: 'low' | 'high' = 'low'): string | undefined {
  if (value === null) return undefined;
  const range = dateRange(value);
  if (!range) throw badRequest(`${name} must be a FHIR instant or dateTime, got "${value.slice(0, 40)}"`);
  return formatInstant(range[end]);
}

function decodeCursor(raw: string | null): HistoryCursor | undefined {
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string' && typeof v[2] === 'number') {
      return { ms: v[0], rid: v[1], version: v[2] };
    }
  } catch {
    // reported below
  }
  throw badRequest('Invalid _cursor: use the next link the server returned');
}
