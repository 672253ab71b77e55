// Parses search parameters (search.html) into a SearchRequest: filters ANDed across parameters,
// ORed within a comma-separated value, plus the result controls. Unknown parameters are collected
// so the caller can reject them (Prefer: handling=strict) or report them (lenient).
import type { SearchParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { CodeSet } from './code-set.js';
import type { HasStrategy } from './has-plan.js';
import { compositeValueType } from './composite.js';
import { sortable, type SortKey } from './sort.js';

/** One parameter occurrence: `code:modifier=v1,v2` (values ORed). */
export interface Filter {
  code: string;
  param: SearchParameter;
  type: string;
  modifier?: string;
  values: string[];
  /** A chained parameter: the reference's target, per possible target type, must match. */
  chain?: { resourceType: string; filter: Filter }[];
  /** For a composite parameter: the type of its second component. */
  compositeValueType?: string;
  /** `_has:Type:param:…`: a resource of Type whose `param` refers here must match. */
  has?: { resourceType: string; param: string; filter: Filter; strategy?: HasStrategy };
  /** For :in, :not-in, :above and :below on a token: the codes meant, set by resolveTerminology. */
  codes?: CodeSet;
}


/** `_include`/`_revinclude` value `Source:param[:Target]`, optionally `:iterate`. */
export interface IncludeSpec { source: string; param: string; target?: string; iterate: boolean }

/** A parsed search. */
export interface SearchRequest {
  resourceType: string;
  filters: Filter[];
  count: number;
  sort: SortKey[];
  total: 'none' | 'estimate' | 'accurate';
  summary?: 'true' | 'text' | 'data' | 'count' | 'false';
  elements?: string[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  cursor?: string;
  /** For a system search (`[base]?_type=…`): every type searched; `resourceType` is the first. */
  resourceTypes?: string[];
  /** Restricts the search to one compartment (search.html#compartment), e.g. Patient/123. */
  compartment?: { type: string; id: string };
  /** Parameters the server did not understand, with the reason. */
  unknown: { name: string; reason: string }[];
}

const RESULT_CONTROLS = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_cursor', '_format', '_pretty']);
export const SUPPORTED_MODIFIERS: Record<string, Set<string>> = {
  string: new Set(['exact', 'contains', 'missing']),
  token: new Set(['not', 'missing', 'of-type', 'text', 'in', 'not-in', 'above', 'below']),
  reference: new Set(['missing', 'identifier']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  uri: new Set(['missing', 'above', 'below']),
  composite: new Set(['missing']),
};
export const UNINDEXED = new Set(['_query', '_type']);
/** Parameters answered from the resource row or other resources rather than an index table. */
const SPECIAL = new Set(['_text', '_content', '_list']);

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

/**
 * Parses a system search (`[base]?_type=A,B&…`): parameters must mean the same thing for every
 * type searched (the same SearchParameter definition), like _id, _lastUpdated, _tag or clinical
 * `patient`; others are reported as unknown.
 */
export function parseSystemSearch(
  defs: FhirDefinitions, params: URLSearchParams, limits: { defaultCount: number; maxCount: number },
): SearchRequest {
  const typeList = params.get('_type')?.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of typeList ?? []) if (!defs.resourceTypes.has(t)) throw badRequest(`_type names unknown resource type ${t.slice(0, 60)}`);
  const types = typeList?.length ? typeList : [...defs.resourceTypes].sort();
  const rest = new URLSearchParams([...params].filter(([k]) => k !== '_type'));
  const shared = new URLSearchParams();
  const unknown: { name: string; reason: string }[] = [];
  for (const [name, value] of rest) {
    const code = name.split(/[:.]/)[0] ?? '';
    const urls = new Set(types.map((t) => defs.searchParameter(t, code)?.url));
    if (RESULT_CONTROLS.has(name) || name.startsWith('_include') || name.startsWith('_revinclude') || (urls.size === 1 && !urls.has(undefined) && !name.includes('.'))) {
      shared.append(name, value);
    } else unknown.push({ name, reason: `${code} does not mean the same for every type searched (${types.length > 5 ? `${types.length} types` : types.join(', ')})` });
  }
  const req = parseSearch(defs, types[0] as string, shared, limits);
  req.resourceTypes = types;
  req.unknown.push(...unknown);
  return req;
}

/** Parses `params` for a search on `resourceType`. */
export function parseSearch(
  defs: FhirDefinitions, resourceType: string, params: URLSearchParams, limits: { defaultCount: number; maxCount: number },
): SearchRequest {
  const req: SearchRequest = {
    resourceType, filters: [], count: limits.defaultCount, sort: [], total: 'none', include: [], revinclude: [], unknown: [],
  };
  for (const [name, value] of params) {
    if (name.startsWith('_include') || name.startsWith('_revinclude')) {
      const spec = parseInclude(defs, name, value);
      if (typeof spec === 'string') req.unknown.push({ name: `${name}=${value}`, reason: spec });
      else (name.startsWith('_include') ? req.include : req.revinclude).push(spec);
      continue;
    }
    if (RESULT_CONTROLS.has(name)) {
      applyControl(defs, req, name, value, limits.maxCount);
      continue;
    }
    const filter = parseFilter(defs, resourceType, name, value, 0);
    if (typeof filter === 'string') req.unknown.push({ name, reason: filter });
    else req.filters.push(filter);
  }
  return req;
}

/** Parses `_include[:iterate]=Source:param[:Target]` (search.html#include); `Source:*` takes every reference. */
function parseInclude(defs: FhirDefinitions, name: string, value: string): IncludeSpec | string {
  const modifier = name.split(':')[1];
  if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') return `modifier :${modifier} is not supported on ${name.split(':')[0]}`;
  const [source = '', param = '', target, ...extra] = value.split(':');
  if (extra.length || !defs.resourceTypes.has(source)) return `expected Type:param[:TargetType], got "${value.slice(0, 80)}"`;
  if (param !== '*' && defs.searchParameter(source, param)?.type !== 'reference') return `${param} is not a reference parameter of ${source}`;
  if (target !== undefined && !defs.resourceTypes.has(target)) return `unknown target type ${target}`;
  return { source, param, target, iterate: modifier !== undefined };
}

const MAX_CHAIN_DEPTH = 4;

/** Parses one `name=value` into a Filter, or returns why it cannot be searched. */
function parseFilter(defs: FhirDefinitions, resourceType: string, name: string, value: string, depth: number): Filter | string {
  if (depth > MAX_CHAIN_DEPTH) return `chains and _has nest at most ${MAX_CHAIN_DEPTH} deep`;
  if (name.startsWith('_has:')) return parseHas(defs, name, value, depth);
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const [code = '', modifier] = head.split(':', 2);
  if (SPECIAL.has(code)) {
    if (modifier || dot >= 0) return `${code} takes no modifier or chain`;
    const param = { resourceType: 'SearchParameter', code, type: 'special', status: 'active', name: code, url: '', description: code } as unknown as SearchParameter;
    return { code, param, type: 'special', values: splitOr(value) };
  }
  const param = defs.searchParameter(resourceType, code);
  if (param && defs.isPending(param)) return `search parameter ${code} is still being indexed (GET [base]/$reindex shows progress)`;
  const compositeType = param?.type === 'composite' ? compositeValueType(defs.searchParameters(resourceType), param) : undefined;
  if (!param || UNINDEXED.has(code) || (param.type === 'composite' && !compositeType) || param.type === 'special') {
    return param ? `search parameter ${code} is not supported yet` : `unknown search parameter ${code} for ${resourceType}`;
  }
  if (dot >= 0) return parseChain(defs, param, code, modifier, name.slice(dot + 1), value, depth);
  if (modifier && !SUPPORTED_MODIFIERS[param.type as string]?.has(modifier) && !(param.type === 'reference' && defs.resourceTypes.has(modifier))) {
    return `modifier :${modifier} is not supported for ${param.type} parameter ${code}`;
  }
  if (modifier === 'missing' && value !== 'true' && value !== 'false') throw badRequest(`${name} must be true or false`);
  return { code, param, type: param.type as string, modifier, values: splitOr(value), compositeValueType: compositeType };
}

function parseChain(
  defs: FhirDefinitions, param: SearchParameter, code: string, modifier: string | undefined,
  rest: string, value: string, depth: number,
): Filter | string {
  if (param.type !== 'reference') return `${code} is not a reference parameter, so it cannot be chained`;
  const candidates = modifier ? [modifier] : ((param.target ?? []) as string[]);
  const chain: { resourceType: string; filter: Filter }[] = [];
  let reason = `no target type of ${code} has a search parameter ${rest.split(/[.:]/)[0]}`;
  for (const target of candidates) {
    if (!defs.resourceTypes.has(target)) continue;
    const inner = parseFilter(defs, target, rest, value, depth + 1);
    if (typeof inner === 'string') reason = inner;
    else chain.push({ resourceType: target, filter: inner });
  }
  if (!chain.length) return reason;
  return { code, param, type: 'reference', values: [], chain };
}

function parseHas(defs: FhirDefinitions, name: string, value: string, depth: number): Filter | string {
  const [, type = '', refCode = '', ...rest] = name.split(':');
  if (!defs.resourceTypes.has(type)) return `_has names unknown resource type ${type}`;
  const ref = defs.searchParameter(type, refCode);
  if (ref?.type !== 'reference') return `_has: ${refCode} is not a reference parameter of ${type}`;
  if (!rest.length) return '_has needs a parameter after the type and reference, e.g. _has:Observation:patient:code=…';
  const inner = parseFilter(defs, type, rest.join(':'), value, depth + 1);
  if (typeof inner === 'string') return inner;
  return { code: '_has', param: ref, type: 'reference', values: [], has: { resourceType: type, param: refCode, filter: inner } };
}

function applyControl(defs: FhirDefinitions, req: SearchRequest, name: string, value: string, maxCount: number): void {
  switch (name) {
    case '_count': {
      if (!/^\d{1,7}$/.test(value)) throw badRequest(`_count must be a non-negative integer, got "${value.slice(0, 40)}"`);
      req.count = Math.min(Number(value), maxCount);
      break;
    }
    case '_sort':
      req.sort = [];
      for (const key of value.split(',').filter(Boolean)) {
        const code = key.replace(/^-/, '');
        const sp = code === '_id' || code === '_lastUpdated' ? undefined : defs.searchParameter(req.resourceType, code);
        const type = sp && !defs.isPending(sp) ? (sp.type as string) : undefined;
        if (code !== '_id' && code !== '_lastUpdated' && !(type && sortable(type))) {
          req.unknown.push({ name: `_sort=${key}`, reason: `${code} is not a sortable search parameter of ${req.resourceType}` });
        } else req.sort.push({ code, descending: key.startsWith('-'), type });
      }
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
    case '_cursor':
      req.cursor = value;
      break;
    default:
      break;
  }
}
