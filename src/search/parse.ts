// Parses search parameters (search.html) into a SearchRequest: filters ANDed across parameters,
// ORed within a comma-separated value, plus the result controls. Unknown parameters are collected
// so the caller can reject them (Prefer: handling=strict) or report them (lenient).
import type { SearchParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';

/** One parameter occurrence: `code:modifier=v1,v2` (values ORed). */
export interface Filter {
  code: string;
  /** The SearchParameter definition; undefined for the special `_id`/`_lastUpdated`. */
  param: SearchParameter;
  type: string;
  modifier?: string;
  values: string[];
}

/** One sort key. */
export interface SortKey { code: string; descending: boolean }

/** A parsed search. */
export interface SearchRequest {
  resourceType: string;
  filters: Filter[];
  count: number;
  sort: SortKey[];
  total: 'none' | 'estimate' | 'accurate';
  summary?: 'true' | 'text' | 'data' | 'count' | 'false';
  elements?: string[];
  include: string[];
  revinclude: string[];
  cursor?: string;
  /** Parameters the server did not understand, with the reason. */
  unknown: { name: string; reason: string }[];
}

const RESULT_CONTROLS = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_cursor', '_format', '_pretty']);
export const SUPPORTED_MODIFIERS: Record<string, Set<string>> = {
  string: new Set(['exact', 'contains', 'missing']),
  token: new Set(['not', 'missing']),
  reference: new Set(['missing']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  uri: new Set(['missing', 'above', 'below']),
};
export const UNINDEXED = new Set(['_text', '_content', '_query', '_list', '_has', '_type']);

/** Splits a search value on unescaped commas, unescaping `\,`, `\$`, `\|` and `\\`. */
export function splitOr(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parses `params` for a search on `resourceType`. */
export function parseSearch(
  defs: FhirDefinitions, resourceType: string, params: URLSearchParams, limits: { defaultCount: number; maxCount: number },
): SearchRequest {
  const req: SearchRequest = {
    resourceType, filters: [], count: limits.defaultCount, sort: [], total: 'none', include: [], revinclude: [], unknown: [],
  };
  for (const [name, value] of params) {
    if (RESULT_CONTROLS.has(name)) {
      applyControl(req, name, value, limits.maxCount);
      continue;
    }
    const [code = '', modifier] = name.split(':', 2);
    const param = defs.searchParameter(resourceType, code);
    if (!param || UNINDEXED.has(code) || param.type === 'composite' || param.type === 'special') {
      req.unknown.push({ name, reason: param ? `search parameter ${code} is not supported yet` : `unknown search parameter ${code} for ${resourceType}` });
      continue;
    }
    if (modifier && !SUPPORTED_MODIFIERS[param.type as string]?.has(modifier) && !(param.type === 'reference' && defs.resourceTypes.has(modifier))) {
      req.unknown.push({ name, reason: `modifier :${modifier} is not supported for ${param.type} parameter ${code}` });
      continue;
    }
    if (modifier === 'missing' && value !== 'true' && value !== 'false') throw badRequest(`${name} must be true or false`);
    req.filters.push({ code, param, type: param.type as string, modifier, values: splitOr(value) });
  }
  return req;
}

function applyControl(req: SearchRequest, name: string, value: string, maxCount: number): void {
  switch (name) {
    case '_count': {
      if (!/^\d{1,7}$/.test(value)) throw badRequest(`_count must be a non-negative integer, got "${value.slice(0, 40)}"`);
      req.count = Math.min(Number(value), maxCount);
      break;
    }
    case '_sort':
      req.sort = value.split(',').filter(Boolean).map((k) => ({ code: k.replace(/^-/, ''), descending: k.startsWith('-') }));
      for (const key of req.sort) {
        if (key.code !== '_id' && key.code !== '_lastUpdated') req.unknown.push({ name: `_sort=${key.code}`, reason: 'sorting is supported on _id and _lastUpdated' });
      }
      req.sort = req.sort.filter((k) => k.code === '_id' || k.code === '_lastUpdated');
      break;
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw badRequest('_total must be none, estimate or accurate');
      req.total = value;
      break;
    case '_summary':
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw badRequest('_summary must be true, text, data, count or false');
      req.summary = value as SearchRequest['summary'];
      break;
    case '_elements':
      req.elements = value.split(',').map((e) => e.trim()).filter(Boolean);
      break;
    case '_include':
      req.include.push(value);
      break;
    case '_revinclude':
      req.revinclude.push(value);
      break;
    case '_cursor':
      req.cursor = value;
      break;
    default:
      break;
  }
}
