// In-memory matching of a written resource against subscription criteria (FHIR R4 Subscription,
// `criteria` = a search on one type), so notifications do not cost a search per subscription per
// write. Criteria are parsed once with the search parser and compiled into tests on the resource's
// own index rows (the extractor's output, keepAliasedRows: true or false alike), with the
// semantics src/search/sql.ts gives each filter. What those rows cannot decide (chains, _has,
// full text, _list, unresolved terminology) is left to the database: `matches` then answers
// 'needs-database' and the caller confirms with one search `criteria&_id=<id>`.
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError } from '../fhir/errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { storageAliases } from '../search/aliases.js';
import { needsTerminology } from '../search/code-set.js';
import type { CompositeRow, DateRow, IndexRows, NumberRow, QuantityRow, ReferenceRow, StringRow, TokenRow, UriRow } from '../search/index-rows.js';
import { parseSearch, type Filter, type SearchRequest } from '../search/parse.js';
import { parseDecimal } from '../search/ucum.js';
import { parseReferenceValue } from '../search/search-value.js';
import { dateRange, formatInstant } from '../search/values.js';
import {
  codeSetTest, compositeTest, dateTest, numberTest, quantityTest, quantityView, referenceTest, stringTest,
  tokenTest, tokenTextTest, uriTest, type RowTest,
} from './match-values.js';
import { referenceKey, tokenKey } from './subscription-index.js';

/** The outcome of matching one resource: 'needs-database' when only a search can tell. */
export type MatchResult = 'match' | 'no-match' | 'needs-database';

/**
 * A key a subscription can be indexed under: it can only match resources whose index rows yield
 * one of `keys` (see resourceKeys). Higher `rank` is more selective.
 */
export interface IndexKey {
  kind: 'reference' | 'token';
  /** The search parameter the key comes from. */
  code: string;
  keys: string[];
  rank: number;
}

/** Subscription criteria, compiled. */
export interface CompiledCriteria {
  readonly resourceType: string;
  /** True when every filter is decided from the resource and its rows ('needs-database' never comes back). */
  readonly inMemory: boolean;
  /** Mandatory filters usable as index keys (SubscriptionIndex picks the most selective). */
  readonly keys: readonly IndexKey[];
  /** Matches a resource (as written, with meta) against the criteria, given its index rows. */
  matches(rows: IndexRows, resource: Resource): MatchResult;
}

/** What compiling needs to know about the server. */
export interface CriteriaOptions {
  /** The server's base URL: absolute references under it are local. */
  baseUrl: string;
}

// Mirrors parse.ts RESULT_CONTROLS (not exported): they shape a result page, which a subscription
// does not have, and parseSearch would apply them silently.
const RESULT_CONTROLS = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_cursor', '_format', '_pretty']);
// Answered by sql.ts from the resource row or from other resources: never from the index rows.
const DATABASE_ONLY = new Set(['_text', '_content', '_list']);
// Matched from the resource itself (no index rows exist for them), so never index keys.
const ROW_CODES = new Set(['_id', '_lastUpdated']);

type Row = StringRow | TokenRow | DateRow | NumberRow | QuantityRow | UriRow | ReferenceRow | CompositeRow;
type Table = 'string' | 'token' | 'date' | 'number' | 'quantity' | 'uri' | 'reference' | 'composite';
const TABLES: Record<string, Table> = {
  string: 'string', token: 'token', date: 'date', number: 'number', quantity: 'quantity', uri: 'uri', reference: 'reference', composite: 'composite',
};

/** Compiles `Type?query` criteria, or returns the 400 that explains why they cannot be used. */
export function compileCriteria(
  defs: FhirDefinitions, resourceType: string, query: string, opts: CriteriaOptions,
): CompiledCriteria | FhirError {
  if (!defs.resourceTypes.has(resourceType)) return badRequest(`Subscription criteria name unknown resource type ${resourceType.slice(0, 60)}`);
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  for (const name of new Set(params.keys())) {
    if (RESULT_CONTROLS.has(name) || name.startsWith('_include') || name.startsWith('_revinclude')) {
      return badRequest(`Subscription criteria select resources; result parameter ${name.slice(0, 40)} is not allowed`);
    }
  }
  try {
    const req = parseSearch(defs, resourceType, params, { defaultCount: 0, maxCount: 0 });
    // An ignored parameter (a misspelt one) would make the subscription match far too much.
    if (req.unknown.length) return badRequest(`Subscription criteria cannot be evaluated: ${req.unknown.map((u) => u.reason).join('; ')}`);
    return compileParsed(defs, req, opts);
  } catch (err) {
    if (err instanceof FhirError) return err;
    throw err;
  }
}

/**
 * Compiles an already parsed search's filters (call after resolveTerminology to decide :in,
 * :not-in, :above and :below in memory); throws a FhirError for values the search would refuse.
 */
export function compileParsed(defs: FhirDefinitions, req: SearchRequest, opts: CriteriaOptions): CompiledCriteria {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const { resourceType } = req;
  const compiled = req.filters.map((f) => compileFilter(defs, resourceType, f, baseUrl));
  // Decided in memory first: a failing one saves looking at the rest.
  compiled.sort((a, b) => Number(b.inMemory) - Number(a.inMemory));
  const keys = req.filters.map((f) => keyOf(defs, resourceType, f, baseUrl)).filter((k): k is IndexKey => k !== undefined);
  return {
    resourceType,
    inMemory: compiled.every((c) => c.inMemory),
    keys,
    matches(rows, resource) {
      if (resource.resourceType !== resourceType) return 'no-match';
      let result: MatchResult = 'match';
      for (const c of compiled) {
        const r = c.test(rows, resource);
        if (r === 'no-match') return r;
        if (r === 'needs-database') result = r;
      }
      return result;
    },
  };
}

interface CompiledFilter {
  inMemory: boolean;
  test(rows: IndexRows, resource: Resource): MatchResult;
}

const verdict = (b: boolean): MatchResult => (b ? 'match' : 'no-match');
const databaseOnly: CompiledFilter = { inMemory: false, test: () => 'needs-database' };

/** One filter (its values ORed), following the branches of sql.ts filterSql in the same order. */
function compileFilter(defs: FhirDefinitions, resourceType: string, f: Filter, baseUrl: string): CompiledFilter {
  if (f.chain) {
    // Compiled only so that bad values fail now rather than at every confirming search.
    for (const c of f.chain) compileFilter(defs, c.resourceType, c.filter, baseUrl);
    return databaseOnly;
  }
  if (f.has) {
    compileFilter(defs, f.has.resourceType, f.has.filter, baseUrl);
    return databaseOnly;
  }
  if (f.code === '_id') return idFilter(f);
  if (DATABASE_ONLY.has(f.code)) return databaseOnly;
  if (f.code === '_lastUpdated') return lastUpdatedFilter(f);
  if (f.modifier === 'identifier' || f.modifier === 'of-type') return derivedTokenFilter(defs, resourceType, f);
  const table = TABLES[f.type];
  if (!table) throw badRequest(`Search parameter ${f.code} of type ${f.type} is not supported`);
  const inScope = scopeOf(defs, resourceType, f.code);
  const present = (rows: IndexRows, test?: RowTest<Row>): boolean =>
    (rows[table] as Row[]).some((r) => inScope(r) && (!test || test(r)));
  if (f.modifier === 'missing') {
    const missing = f.values[0] === 'true';
    return { inMemory: true, test: (rows) => verdict(present(rows) !== missing) };
  }
  let test: RowTest<Row>;
  if (needsTerminology(f)) {
    const codes = f.codes;
    // The code set comes from ValueSets/CodeSystems in the database (resolveTerminology).
    if (!codes) return databaseOnly;
    const inSet = codeSetTest(codes);
    test = (r) => inSet(r as TokenRow);
  } else {
    const tests = f.values.map((v) => valueTest(f, v, baseUrl));
    test = (r) => tests.some((t) => t(r));
  }
  // Like sql.ts: :not and :not-in also match a resource with no value for the parameter at all.
  const negated = f.modifier === 'not' || f.modifier === 'not-in';
  return { inMemory: true, test: (rows) => verdict(present(rows, test) !== negated) };
}

/** The row test for one value of a filter on an index table (sql.ts valueSql). */
function valueTest(f: Filter, v: string, baseUrl: string): RowTest<Row> {
  switch (f.type) {
    case 'string': {
      const t = stringTest(v, f.modifier);
      return (r) => t(r as StringRow);
    }
    case 'token': {
      if (f.modifier === 'text') {
        const t = tokenTextTest(v);
        return (r) => t(r as TokenRow);
      }
      const t = tokenTest(v);
      return (r) => t((r as TokenRow).system, (r as TokenRow).code);
    }
    case 'uri': {
      const t = uriTest(v, f.modifier);
      return (r) => t(r as UriRow);
    }
    case 'reference': {
      const t = referenceTest(v, f.modifier, baseUrl);
      return (r) => t(r as ReferenceRow);
    }
    case 'date': {
      const t = dateTest(v);
      return (r) => t((r as DateRow).low, (r as DateRow).high);
    }
    case 'number': {
      const t = numberTest(v);
      return (r) => t(parseDecimal((r as NumberRow).value));
    }
    case 'quantity': {
      const t = quantityTest(v);
      return (r) => t(quantityView(r as QuantityRow));
    }
    case 'composite': {
      const t = compositeTest(f.code, v, f.compositeValueType);
      return (r) => t(r as CompositeRow);
    }
    default:
      throw badRequest(`Search parameter type ${f.type} is not supported`);
  }
}

/**
 * Which rows hold `code`'s values, following storage aliases exactly as sql.ts scopeSql does:
 * `patient` reads `subject` rows to Patients, `combo-code` reads its own rows and `code`'s.
 */
function scopeOf(defs: FhirDefinitions, resourceType: string, code: string): (r: Row) => boolean {
  const alias = storageAliases(defs, resourceType).get(code);
  if (alias?.kind === 'narrowed') {
    const [base] = alias.bases;
    return (r) => r.param === base && (r as ReferenceRow).targetType === alias.targetType;
  }
  const params = new Set([code, ...(alias?.bases ?? [])]);
  return (r) => params.has(r.param);
}

/** `_id` (sql.ts idSql): the resource's own id; other modifiers than :not and :missing are ignored there too. */
function idFilter(f: Filter): CompiledFilter {
  if (f.modifier === 'missing') {
    const always = verdict(f.values[0] !== 'true');
    return { inMemory: true, test: () => always };
  }
  const ids = new Set(f.values.filter((v) => v.length > 0));
  const negated = f.modifier === 'not';
  return {
    inMemory: true,
    test: (_rows, resource) => (typeof resource.id === 'string' ? verdict(ids.has(resource.id) !== negated) : 'needs-database'),
  };
}

/** `_lastUpdated` (sql.ts: rangeCompare on the exact instant stored with the resource, meta.lastUpdated). */
function lastUpdatedFilter(f: Filter): CompiledFilter {
  const tests = f.values.map(dateTest);
  return {
    inMemory: true,
    test: (_rows, resource) => {
      const range = dateRange(resource.meta?.lastUpdated);
      // A resource as stored always has it; without it only the database knows the instant.
      if (!range) return 'needs-database';
      const at = formatInstant(range.low);
      return verdict(tests.some((t) => t(at, at)));
    },
  };
}

/** `:identifier` and `:of-type` (sql.ts derivedTokenSql): token rows under `code:modifier`, no aliases. */
function derivedTokenFilter(defs: FhirDefinitions, resourceType: string, f: Filter): CompiledFilter {
  const tests = f.values.map((v): RowTest<TokenRow> => {
    if (f.modifier === 'identifier') {
      const t = tokenTest(v);
      return (r) => t(r.system, r.code);
    }
    const parts = v.split('|');
    if (parts.length !== 3 || parts.some((p) => !p)) throw badRequest(`${f.code}:of-type needs type-system|type-code|value, got "${v.slice(0, 80)}"`);
    const [typeSystem, typeCode, value] = parts as [string, string, string];
    return (r) => r.code === value && r.system === `${typeSystem}|${typeCode}`;
  });
  // Storage extracts no rows at all for a parameter an alias covers (Observation `patient`), so
  // the search never finds `patient:identifier=…` while rows extracted with keepAliasedRows have
  // them: leave such a filter to the database rather than disagree with it.
  const alias = storageAliases(defs, resourceType).get(f.code);
  if (alias?.covered && !defs.patientCompartmentParams(resourceType).includes(f.code)) return databaseOnly;
  const param = `${f.code}:${f.modifier}`;
  return { inMemory: true, test: (rows) => verdict(rows.token.some((r) => r.param === param && tests.some((t) => t(r)))) };
}

/**
 * The index key a mandatory filter offers, if any: a reference to a local target (`Type/id` or
 * an id), or plain token codes (`system|code`, `|code`, `code`); values ORed give one key each.
 */
function keyOf(defs: FhirDefinitions, resourceType: string, f: Filter, baseUrl: string): IndexKey | undefined {
  if (f.chain || f.has || ROW_CODES.has(f.code) || !f.values.length) return undefined;
  const alias = storageAliases(defs, resourceType).get(f.code);
  // The row params the filter reads (as scopeOf): a key is only sound if it covers all of them.
  const params = alias?.kind === 'narrowed' ? alias.bases.slice(0, 1) : [f.code, ...(alias?.bases ?? [])];
  const keys: string[] = [];
  if (f.type === 'reference' && (f.modifier === undefined || defs.resourceTypes.has(f.modifier))) {
    for (const v of f.values) {
      const target = parseReferenceValue(v, f.modifier, baseUrl);
      if ('url' in target) return undefined;
      const type = target.type ?? (alias?.kind === 'narrowed' ? alias.targetType : undefined);
      for (const p of params) keys.push(referenceKey(p, type, target.id));
    }
    return { kind: 'reference', code: f.code, keys, rank: 3 };
  }
  if (f.type === 'token' && f.modifier === undefined) {
    let everySystem = true;
    for (const v of f.values) {
      const bar = v.indexOf('|');
      const code = bar < 0 ? v : v.slice(bar + 1);
      // `system|` matches any code of the system (and codeless rows): no code to key on.
      if (!code) return undefined;
      const system = bar < 0 ? undefined : v.slice(0, bar) || null;
      if (!system) everySystem = false;
      for (const p of params) keys.push(tokenKey(p, system, code));
    }
    return { kind: 'token', code: f.code, keys, rank: everySystem ? 2 : 1 };
  }
  return undefined;
}
