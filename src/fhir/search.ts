// search — http.html#search and search.html: GET [type]?…, POST [type]/_search, and system search
// GET [base]?_type=…. Returns a
// searchset Bundle; parameters the server does not understand are rejected under
// `Prefer: handling=strict` and reported in an OperationOutcome entry otherwise.
import { loadIncludes } from '../search/includes.js';
import { parseSearch, parseSystemSearch, type SearchRequest } from '../search/parse.js';
import { runSearch, searchBinder } from '../search/search.js';
import { bundleText, linkWith, type EntryPart } from './bundle.js';
import { badRequest, type Issue, operationOutcome } from './errors.js';
import { parsePrefer } from './prefer.js';
import { shapeText } from './summary.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';

/** Searches one resource type. */
export async function searchType(
  ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string, params: URLSearchParams, compartment?: { type: string; id: string },
): Promise<FhirResponse> {
  const search = parseSearch(ctx.defs, resourceType, params, ctx.config);
  search.compartment = compartment;
  const self = compartment ? `${ctx.config.baseUrl}/${compartment.type}/${compartment.id}/${resourceType}` : `${ctx.config.baseUrl}/${resourceType}`;
  return searchBundle(ctx, s, req, search, self, params);
}

/** Searches several (or all) resource types: GET [base]?_type=A,B&… */
export async function searchSystem(ctx: FhirContext, s: Session, req: FhirRequest, params: URLSearchParams): Promise<FhirResponse> {
  return searchBundle(ctx, s, req, parseSystemSearch(ctx.defs, params, ctx.config), ctx.config.baseUrl, params);
}

async function searchBundle(
  ctx: FhirContext, s: Session, req: FhirRequest, search: SearchRequest, self: string, params: URLSearchParams,
): Promise<FhirResponse> {
  if (search.unknown.length && parsePrefer(req.headers.prefer).handling === 'strict') {
    throw badRequest(search.unknown.map((u) => u.reason).join('; '));
  }
  const page = await runSearch(ctx, s.q, search);
  const link = [{ relation: 'self', url: linkWith(self, params, '_cursor', search.cursor) }];
  if (page.next) link.push({ relation: 'next', url: linkWith(self, params, '_cursor', page.next) });
  if (search.cursor) link.push({ relation: 'first', url: linkWith(self, params, '_cursor', undefined) });

  const entries: EntryPart[] = [];
  // Nothing is dropped silently: ignored parameters and applied caps are reported in the Bundle.
  const warnings: Issue[] = search.unknown.map((u) => ({ severity: 'warning', code: 'not-supported', diagnostics: `${u.name}: ${u.reason}; ignored` }));
  if (search.summary !== 'count') {
    for (const m of page.matches) {
      entries.push({
        fullUrl: `${ctx.config.baseUrl}/${m.resourceType}/${m.id}`,
        resourceText: shapeText(ctx, m.content as string, search.summary, search.elements),
        extra: { search: { mode: 'match' } },
      });
    }
  }
  if (search.summary !== 'count' && (search.include.length || search.revinclude.length)) {
    const { included, capped } = await loadIncludes(s.q, () => searchBinder(ctx), search.include, search.revinclude, page.matches, ctx.config.maxCount);
    for (const m of included) {
      entries.push({
        fullUrl: `${ctx.config.baseUrl}/${m.resourceType}/${m.id}`,
        resourceText: shapeText(ctx, m.content as string, search.summary, search.elements),
        extra: { search: { mode: 'include' } },
      });
    }
    if (capped) {
      warnings.push({ severity: 'warning', code: 'too-costly', diagnostics: `More than ${ctx.config.maxCount} resources matched _include/_revinclude; only the first ${ctx.config.maxCount} are included` });
    }
  }
  if (warnings.length) entries.push({ resource: operationOutcome(warnings), extra: { search: { mode: 'outcome' } } });
  const head = { type: 'searchset', ...(page.total !== undefined ? { total: page.total } : {}), link };
  return { status: 200, headers: {}, text: bundleText(head, entries) };
}
