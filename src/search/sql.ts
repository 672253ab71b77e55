// Compiles parsed filters into SQL predicates over `resources r` (search.html#ptypes). Every value
// a client sends becomes a bind parameter; only identifiers chosen by this file reach the text.
import { badRequest, internalError } from '../fhir/errors.js';
import type { Filter } from './parse.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { storageAliases, type StorageAlias } from './aliases.js';
import { needsTerminology } from './code-set.js';
import { parseDateValue, parseNumberValue, parseQuantityValue, parseReferenceValue, parseTokenValue, type Prefix } from './search-value.js';
import { normalizeString } from './values.js';

/** A binder that knows the storage aliases of the server's definitions (appending to `params` when given). */
export function binder(defs: FhirDefinitions, params: unknown[] = []): Binder {
  return new Binder((type, code) => storageAliases(defs, type).get(code), params);
}

/**
 * Row-level access (src/search/restrict.ts): the predicate a row aliased `alias` of the given
 * type(s) (undefined: any type) must meet to be used with permission `r` (read, include) or `s`
 * (search), or undefined when every such row may be used.
 */
export type Visibility = (permission: 'r' | 's', resourceType: string | readonly string[] | undefined, alias: string) => string | undefined;

/** Collects bind parameters and hands back their placeholders; knows the storage aliases. */
export class Binder {
  /**
   * Set when the caller's access is restricted: nested subqueries over other resources (chains,
   * _has, _list) apply it too, so that they cannot test rows the caller may not see.
   */
  visible?: Visibility;
  constructor(
    readonly aliasOf: (resourceType: string, code: string) => StorageAlias | undefined = () => undefined,
    readonly params: unknown[] = [],
  ) {}
  /** Adds a value; returns its `$n`. */
  bind(value: unknown): string {
    return `$${this.params.push(value)}`;
  }
}

const TABLE: Record<string, string> = {
  composite: 'idx_composite', string: 'idx_string', token: 'idx_token', date: 'idx_date', number: 'idx_number', quantity: 'idx_quantity', uri: 'idx_uri', reference: 'idx_reference',
};

/**
 * The predicate for one filter (its values ORed) on the resource row aliased `r`; `depth` names
 * the aliases of nested chain and _has subqueries apart.
 */
export function filterSql(f: Filter, resourceType: string | string[], b: Binder, baseUrl: string, r = 'r', depth = 0): string {
  if (f.chain) return chainSql(f, resourceType, b, baseUrl, r, depth);
  if (f.has) return hasSql(f, resourceType, b, baseUrl, r, depth);
  if (f.code === '_id') return idSql(f, b, r);
  if (f.code === '_list') {
    // search.html#list: the resources a List refers to in its entries.
    const visible = b.visible?.('s', 'List', 'l');
    return `(${r}.res_type, ${r}.id) IN (SELECT x.target_type, x.target_id FROM idx_reference x JOIN resources l ON l.rid = x.rid
      WHERE l.res_type = 'List' AND NOT l.deleted AND l.id = ANY(${b.bind(f.values)}::text[]) AND x.res_type = 'List' AND x.param = 'item'${visible ? ` AND ${visible}` : ''})`;
  }
  if (f.code === '_content' || f.code === '_text') {
    // Full-text search (search.html#content): the whole resource, or only its narrative. It scans
    // the candidate rows (no full-text index is kept, which would tax every write).
    const doc = f.code === '_content' ? `${r}.content` : `(${r}.content::jsonb #>> '{text,div}')`;
    return `(${f.values.map((v) => `to_tsvector('simple', coalesce(${doc}, '')) @@ websearch_to_tsquery('simple', ${b.bind(v)})`).join(' OR ')})`;
  }
  if (f.code === '_lastUpdated') return `(${f.values.map((v) => rangeCompare(v, `${r}.last_updated`, `${r}.last_updated`, b, 'date')).join(' OR ')})`;
  if (f.modifier === 'identifier' || f.modifier === 'of-type') return derivedTokenSql(f, resourceType, b, r);
  const table = TABLE[f.type];
  if (!table) throw badRequest(`Search parameter ${f.code} of type ${f.type} is not supported`);
  const scope = scopeSql(b, resourceType, f.code);
  if (f.modifier === 'missing') {
    return `${r}.rid ${f.values[0] === 'true' ? 'NOT IN' : 'IN'} (SELECT x.rid FROM ${table} x WHERE ${scope})`;
  }
  const matches = `SELECT x.rid FROM ${table} x WHERE ${valueMatch(f, table, scope, b, baseUrl).where}`;
  // Like :not, :not-in also matches resources with no value for the parameter at all.
  return `${r}.rid ${f.modifier === 'not' || f.modifier === 'not-in' ? 'NOT IN' : 'IN'} (${matches})`;
}

function valueMatch(f: Filter, table: string, scope: string, b: Binder, baseUrl: string): IndexMatch {
  const alternatives = needsTerminology(f) ? [terminologySql(f, b)] : f.values.map((v) => valueSql(f, v, b, baseUrl));
  return { table, where: `${scope} AND (${alternatives.join(' OR ')})` };
}

/** The index rows `x` of one table that a filter matches: `SELECT x.rid FROM table x WHERE where`. */
export interface IndexMatch { table: string; where: string }

/**
 * For a filter that holds exactly when some row of one index table matches (no chain, _has,
 * negation or :missing): that table and the condition. The search can then walk the matches in
 * rid order straight from the index instead of collecting all of them first.
 */
export function indexMatch(f: Filter, resourceType: string | string[], b: Binder, baseUrl: string): IndexMatch | undefined {
  if (f.chain) return { table: 'idx_reference', where: chainMatch(f, resourceType, b, baseUrl, 0) };
  const table = matchTable(f);
  return table ? valueMatch(f, table, scopeSql(b, resourceType, f.code), b, baseUrl) : undefined;
}

// Parameters answered from the resource row itself rather than from index rows by rid.
const ROW_CODES = new Set(['_id', '_list', '_content', '_text', '_lastUpdated']);

/** True when `filterSql(f, …, r)` refers to `r.rid` only, so it can be tested on index rows before the resource is read. */
export function onRidOnly(f: Filter): boolean {
  return !f.has && !ROW_CODES.has(f.code);
}

/** The index table `indexMatch` would use for `f` (binding nothing), or undefined. */
export function matchTable(f: Filter): string | undefined {
  if (f.chain) return 'idx_reference';
  if (!onRidOnly(f) || f.modifier === 'missing' || f.modifier === 'not' || f.modifier === 'not-in') return undefined;
  if (f.modifier === 'identifier' || f.modifier === 'of-type') return undefined;
  return TABLE[f.type];
}

/**
 * Which index rows hold `code` for the type(s): `x.res_type … AND x.param …`, following storage
 * aliases (a `patient` search reads `subject` rows to Patients; `combo-code` reads `code` rows too).
 */
export function scopeSql(b: Binder, resourceType: string | string[], code: string, col = 'x'): string {
  const types = Array.isArray(resourceType) ? resourceType : [resourceType];
  const groups = new Map<string, { alias: StorageAlias | undefined; types: string[] }>();
  for (const t of types) {
    const alias = b.aliasOf(t, code);
    const key = alias ? `${alias.kind}|${alias.bases.join(',')}|${alias.targetType ?? ''}` : '';
    const g = groups.get(key);
    if (g) g.types.push(t);
    else groups.set(key, { alias, types: [t] });
  }
  const parts = [...groups.values()].map(({ alias, types: ts }) => {
    const type = typeIs(`${col}.res_type`, ts.length === 1 ? (ts[0] as string) : ts, b);
    if (!alias) return `${type} AND ${col}.param = ${b.bind(code)}`;
    if (alias.kind === 'narrowed') return `${type} AND ${col}.param = ${b.bind(alias.bases[0])} AND ${col}.target_type = ${b.bind(alias.targetType)}`;
    return `${type} AND ${col}.param = ANY(${b.bind([code, ...alias.bases])}::text[])`;
  });
  return parts.length === 1 ? (parts[0] as string) : `((${parts.join(') OR (')}))`;
}

/** `column = type`, or `column = ANY(types)` for a search over several types (system search). */
export function typeIs(column: string, resourceType: string | string[], b: Binder): string {
  return Array.isArray(resourceType) ? `${column} = ANY(${b.bind(resourceType)}::text[])` : `${column} = ${b.bind(resourceType)}`;
}

/** :in, :not-in, :above and :below: membership of the code set resolved beforehand. */
function terminologySql(f: Filter, b: Binder): string {
  if (!f.codes) throw internalError(`${f.code}:${f.modifier} reached SQL without its value set resolved`);
  return f.codes.sql(b);
}

function idSql(f: Filter, b: Binder, r: string): string {
  const ids = f.values.filter((v) => v.length > 0);
  if (f.modifier === 'missing') return f.values[0] === 'true' ? 'false' : 'true';
  return `${r}.id ${f.modifier === 'not' ? '<> ALL' : '= ANY'}(${b.bind(ids)}::text[])`;
}

/** `:identifier` on references and `:of-type` on identifiers, indexed as tokens under `code:modifier`. */
function derivedTokenSql(f: Filter, resourceType: string | string[], b: Binder, r: string): string {
  const alternatives = f.values.map((v) => {
    if (f.modifier === 'identifier') return tokenSql(v, b);
    const parts = v.split('|');
    if (parts.length !== 3 || parts.some((p) => !p)) throw badRequest(`${f.code}:of-type needs type-system|type-code|value, got "${v.slice(0, 80)}"`);
    return `(x.code = ${b.bind(parts[2])} AND x.system = ${b.bind(`${parts[0]}|${parts[1]}`)})`;
  });
  return `${r}.rid IN (SELECT x.rid FROM idx_token x WHERE ${typeIs('x.res_type', resourceType, b)} AND x.param = ${b.bind(`${f.code}:${f.modifier}`)} AND (${alternatives.join(' OR ')}))`;
}

/** Chained parameter (search.html#chaining): the reference's target must match the inner filter. */
function chainSql(f: Filter, resourceType: string | string[], b: Binder, baseUrl: string, r: string, depth: number): string {
  return `${r}.rid IN (SELECT x.rid FROM idx_reference x WHERE ${chainMatch(f, resourceType, b, baseUrl, depth)})`;
}

/** The reference rows `x` whose target matches the chained filter. */
function chainMatch(f: Filter, resourceType: string | string[], b: Binder, baseUrl: string, depth: number): string {
  const c = `c${depth}`;
  const targets = (f.chain ?? []).map((t) => {
    const inner = filterSql(t.filter, t.resourceType, b, baseUrl, c, depth + 1);
    // A chain tests its targets' values: only targets the caller may search, or it is an oracle.
    const visible = b.visible?.('s', t.resourceType, c);
    const type = b.bind(t.resourceType);
    return `(x.target_type = ${type} AND x.target_id IN (SELECT ${c}.id FROM resources ${c} WHERE ${c}.res_type = ${type} AND NOT ${c}.deleted AND ${inner}${visible ? ` AND ${visible}` : ''}))`;
  });
  return `${scopeSql(b, resourceType, f.code)} AND (${targets.join(' OR ')})`;
}

/** Reverse chaining (search.html#has): some resource of another type refers here and matches. */
function hasSql(f: Filter, resourceType: string | string[], b: Binder, baseUrl: string, r: string, depth: number): string {
  const has = f.has as NonNullable<Filter['has']>;
  const scope = `${scopeSql(b, has.resourceType, has.param)} AND ${typeIs('x.target_type', resourceType, b)}`;
  const h = `h${depth}`;
  // Like a chain, _has may only test referring resources the caller may search.
  const visible = b.visible?.('s', has.resourceType, h);
  if (!visible && onRidOnly(has.filter)) {
    // Tested on the referring resource's index rows alone: deleted resources keep none.
    if (has.strategy === 'per-candidate') {
      // OFFSET 0 keeps the probe a correlated subplan, run per candidate, instead of letting the
      // planner turn it into a join over every referring resource (see has-plan.ts).
      return `EXISTS (SELECT 1 FROM idx_reference x WHERE ${scope} AND x.target_id = ${r}.id AND x.target_type = ${r}.res_type
        AND ${filterSql(has.filter, has.resourceType, b, baseUrl, 'x', depth + 1)} OFFSET 0)`;
    }
    return `${r}.id IN (SELECT x.target_id FROM idx_reference x WHERE ${scope} AND ${filterSql(has.filter, has.resourceType, b, baseUrl, 'x', depth + 1)})`;
  }
  const inner = filterSql(has.filter, has.resourceType, b, baseUrl, h, depth + 1);
  return `${r}.id IN (SELECT x.target_id FROM idx_reference x JOIN resources ${h} ON ${h}.rid = x.rid
    WHERE ${scope} AND NOT ${h}.deleted AND ${inner}${visible ? ` AND ${visible}` : ''})`;
}

function valueSql(f: Filter, value: string, b: Binder, baseUrl: string): string {
  switch (f.type) {
    case 'string': {
      if (f.modifier === 'exact') return `x.exact = ${b.bind(value)}`;
      const norm = normalizeString(value).replace(/[\\%_]/g, (c) => '\\' + c);
      return f.modifier === 'contains' ? `x.norm LIKE ${b.bind('%' + norm + '%')}` : `x.norm LIKE ${b.bind(norm + '%')}`;
    }
    case 'token': {
      if (f.modifier !== 'text') return tokenSql(value, b);
      const norm = normalizeString(value).replace(/[\\%_]/g, (c) => '\\' + c);
      // Starts the text or one of its words.
      return `(x.text_norm LIKE ${b.bind(norm + '%')} OR x.text_norm LIKE ${b.bind('% ' + norm + '%')})`;
    }
    case 'uri': {
      if (f.modifier === 'below') return `x.uri LIKE ${b.bind(value.replace(/[\\%_]/g, (c) => '\\' + c) + '%')}`;
      if (f.modifier === 'above') return `${b.bind(value)} LIKE replace(replace(replace(x.uri, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
      return `x.uri = ${b.bind(value)}`;
    }
    case 'reference':
      return referenceSql(value, f.modifier, b, baseUrl);
    case 'date':
      return rangeCompare(value, 'x.low', 'x.high', b, 'date');
    case 'number':
      return rangeCompare(value, 'x.value', 'x.value', b, 'number');
    case 'quantity':
      return quantitySql(value, b);
    case 'composite':
      return compositeSql(f, value, b);
    default:
      throw badRequest(`Search parameter type ${f.type} is not supported`);
  }
}

/**
 * `[prefix]number|system|code` (search.html#quantity). With a unit, the comparison runs on the
 * canonical UCUM form, so `37|http://unitsofmeasure.org|Cel` finds 98.6 [degF].
 */
function quantitySql(value: string, b: Binder, cols = { value: 'x.value', canonCode: 'x.canon_code', canonValue: 'x.canon_value', system: 'x.system' }): string {
  const q = parseQuantityValue(value);
  const parts = q.kind === 'number'
    ? [rangeCompare(q.raw, cols.value, cols.value, b, 'number')]
    : [`${cols.canonCode} = ${b.bind(q.code)}`, compareDecimal(q.prefix, q.range, q.exact, cols.canonValue, b)];
  if (q.system) parts.push(`${cols.system} = ${b.bind(q.system)}`);
  return `(${parts.join(' AND ')})`;
}

/** A prefix comparison of a single indexed decimal with a search value's implicit range. */
function compareDecimal(prefix: Prefix, range: { low: string; high: string }, exact: string, column: string, b: Binder): string {
  const ql = (): string => `${b.bind(range.low)}::numeric`;
  const qh = (): string => `${b.bind(range.high)}::numeric`;
  const v = (): string => `${b.bind(exact)}::numeric`;
  switch (prefix) {
    case 'eq': return `(${column} >= ${ql()} AND ${column} < ${qh()})`;
    case 'ne': return `NOT (${column} >= ${ql()} AND ${column} < ${qh()})`;
    case 'gt': case 'sa': return `${column} > ${v()}`;
    case 'lt': case 'eb': return `${column} < ${v()}`;
    case 'ge': return `${column} >= ${v()}`;
    case 'le': return `${column} <= ${v()}`;
    case 'ap': { const x = v(); return `(${column} >= ${x} * 0.9 AND ${column} <= ${x} * 1.1)`; }
  }
}

function tokenSql(value: string, b: Binder, codeCol = 'x.code', systemCol = 'x.system'): string {
  const { system, code } = parseTokenValue(value);
  if (system === undefined) return `${codeCol} = ${b.bind(code)}`;
  if (system === null) return `(${systemCol} IS NULL AND ${codeCol} = ${b.bind(code)})`;
  if (code === undefined) return `${systemCol} = ${b.bind(system)}`;
  return `(${codeCol} = ${b.bind(code)} AND ${systemCol} = ${b.bind(system)})`;
}

/** `token$value` for a composite: both halves must hold in the same indexed element. */
function compositeSql(f: Filter, value: string, b: Binder): string {
  const dollar = value.indexOf('$');
  if (dollar < 0) throw badRequest(`${f.code} needs two components separated by $, got "${value.slice(0, 80)}"`);
  const token = tokenSql(value.slice(0, dollar), b, 'x.t_code', 'x.t_system');
  const v = value.slice(dollar + 1);
  switch (f.compositeValueType) {
    case 'token':
      return `(${token} AND ${tokenSql(v, b, 'x.v_code', 'x.v_system')})`;
    case 'date':
      return `(${token} AND ${rangeCompare(v, 'x.v_low', 'x.v_high', b, 'date')})`;
    case 'string':
      return `(${token} AND x.v_norm LIKE ${b.bind(normalizeString(v).replace(/[\\%_]/g, (c) => '\\' + c) + '%')})`;
    default:
      return `(${token} AND ${quantitySql(v, b, { value: 'x.v_value', canonCode: 'x.v_canon_code', canonValue: 'x.v_canon_value', system: 'x.v_system' })})`;
  }
}

function referenceSql(value: string, modifier: string | undefined, b: Binder, baseUrl: string): string {
  const target = parseReferenceValue(value, modifier, baseUrl);
  if ('url' in target) return `x.target_url = ${b.bind(target.url)}`;
  return target.type ? `(x.target_id = ${b.bind(target.id)} AND x.target_type = ${b.bind(target.type)})` : `x.target_id = ${b.bind(target.id)}`;
}

/**
 * Compares the indexed range [low, high] with a search value and its prefix (search.html#prefix).
 * Dates compare as ranges at the value's precision; numbers use the implicit range for eq/ne/ap.
 */
export function rangeCompare(raw: string, low: string, high: string, b: Binder, kind: 'date' | 'number'): string {
  if (kind === 'number') {
    const n = parseNumberValue(raw);
    return compareDecimal(n.prefix, n.range, n.exact, low, b);
  }
  const { prefix, ...range } = parseDateValue(raw);
  // Placeholders are bound on use: an unused parameter has no inferable type.
  const ql = (): string => `${b.bind(range.low)}::timestamptz`;
  const qh = (): string => `${b.bind(range.high)}::timestamptz`;
  switch (prefix) {
    case 'eq': return `(${low} >= ${ql()} AND ${high} <= ${qh()})`;
    case 'ne': return `NOT (${low} >= ${ql()} AND ${high} <= ${qh()})`;
    case 'gt': return `${high} > ${qh()}`;
    case 'lt': return `${low} < ${ql()}`;
    case 'ge': return `${high} >= ${ql()}`;
    case 'le': return `${low} <= ${qh()}`;
    case 'sa': return `${low} > ${qh()}`;
    case 'eb': return `${high} < ${ql()}`;
    case 'ap': return `(${low} <= ${qh()} AND ${high} >= ${ql()})`;
  }
}
