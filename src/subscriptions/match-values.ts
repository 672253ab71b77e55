// Per-type value tests for in-memory subscription matching: each compiles one search value (its
// prefix, modifier and unit already applied) into a test on one index row, with exactly the
// semantics the SQL of src/search/sql.ts gives it. Values are parsed by the same functions as
// there (search-value.ts), so both sides see the same prefixes, ranges and canonical units; only
// the comparisons are written twice, once in SQL and once here, each naming its SQL counterpart.
import { badRequest } from '../fhir/errors.js';
import type { CodeSet } from '../search/code-set.js';
import type { CompositeRow, QuantityRow, ReferenceRow, StringRow, TokenRow, UriRow } from '../search/index-rows.js';
import { parseDateValue, parseNumberValue, parseQuantityValue, parseReferenceValue, parseTokenValue, type Prefix } from '../search/search-value.js';
import { addDecimal, multiplyDecimal, parseDecimal, type Decimal } from '../search/ucum.js';
import { normalizeString } from '../search/values.js';

/** A test of one index row. */
export type RowTest<R> = (row: R) => boolean;

// ---------------------------------------------------------------------------------------------
// Numbers: exact decimals, as PostgreSQL's numeric compares them (no binary floating point).

const NINE_TENTHS = parseDecimal('0.9') as Decimal;
const ELEVEN_TENTHS = parseDecimal('1.1') as Decimal;

/** Sign of a − b. */
function cmp(a: Decimal, b: Decimal): number {
  const d = addDecimal(a, { digits: -b.digits, scale: b.scale }).digits;
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/** An index column value as a decimal; null (SQL NULL) or junk gives undefined, which never matches. */
function decimalOf(v: string | null | undefined): Decimal | undefined {
  return v === null || v === undefined ? undefined : parseDecimal(v);
}

/**
 * Must agree with `compareDecimal` in sql.ts: eq/ne use the search value's implicit range
 * [low, high) against the single indexed value; the other prefixes compare with the value as
 * written; ap is ±10 % of it. A NULL column fails every prefix, `ne` included (NOT NULL is NULL).
 */
function decimalTest(prefix: Prefix, range: { low: string; high: string }, exact: string): RowTest<Decimal | undefined> {
  const low = parseDecimal(range.low) as Decimal;
  const high = parseDecimal(range.high) as Decimal;
  const x = parseDecimal(exact) as Decimal;
  const inRange = (v: Decimal): boolean => cmp(v, low) >= 0 && cmp(v, high) < 0;
  const tests: Record<Prefix, (v: Decimal) => boolean> = {
    eq: inRange,
    ne: (v) => !inRange(v),
    gt: (v) => cmp(v, x) > 0,
    sa: (v) => cmp(v, x) > 0,
    lt: (v) => cmp(v, x) < 0,
    eb: (v) => cmp(v, x) < 0,
    ge: (v) => cmp(v, x) >= 0,
    le: (v) => cmp(v, x) <= 0,
    ap: (v) => cmp(v, multiplyDecimal(x, NINE_TENTHS)) >= 0 && cmp(v, multiplyDecimal(x, ELEVEN_TENTHS)) <= 0,
  };
  const test = tests[prefix];
  return (v) => v !== undefined && test(v);
}

/** `[prefix]number` against a number row's value (sql.ts rangeCompare, kind 'number'). */
export function numberTest(raw: string): RowTest<Decimal | undefined> {
  const { prefix, range, exact } = parseNumberValue(raw);
  return decimalTest(prefix, range, exact);
}

// ---------------------------------------------------------------------------------------------
// Dates: closed instant ranges in epoch ms, with the ±infinity bounds timestamptz allows.

/** An indexed bound (ISO 8601, 'infinity' or '-infinity') in epoch ms; undefined for NULL. */
function instant(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (v === 'infinity') return Infinity;
  if (v === '-infinity') return -Infinity;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `[prefix]date` against an indexed range [low, high]: must agree with `rangeCompare` (kind
 * 'date') in sql.ts, whose query bounds pass through formatInstant (so out-of-range dates clamp
 * to ±infinity here as they do there).
 */
export function dateTest(raw: string): (low: string | null, high: string | null) => boolean {
  const { prefix, low: qLow, high: qHigh } = parseDateValue(raw);
  const ql = instant(qLow) as number;
  const qh = instant(qHigh) as number;
  const tests: Record<Prefix, (lo: number, hi: number) => boolean> = {
    eq: (lo, hi) => lo >= ql && hi <= qh,
    ne: (lo, hi) => !(lo >= ql && hi <= qh),
    gt: (_lo, hi) => hi > qh,
    lt: (lo) => lo < ql,
    ge: (_lo, hi) => hi >= ql,
    le: (lo) => lo <= qh,
    sa: (lo) => lo > qh,
    eb: (_lo, hi) => hi < ql,
    ap: (lo, hi) => lo <= qh && hi >= ql,
  };
  const test = tests[prefix];
  return (low, high) => {
    const lo = instant(low);
    const hi = instant(high);
    return lo !== undefined && hi !== undefined && test(lo, hi);
  };
}

// ---------------------------------------------------------------------------------------------
// Quantities.

/** The columns a quantity test reads: idx_quantity's, or the v_ columns of idx_composite. */
export interface QuantityView { value: string | null; canonCode: string | null; canonValue: string | null; system: string | null }

/** A quantity row as the store writes it: without a known conversion, canonical = as written. */
export function quantityView(r: QuantityRow): QuantityView {
  return { value: r.value, canonCode: r.canonCode ?? r.code, canonValue: r.canonValue ?? r.value, system: r.system };
}

/** The quantity half of a composite row. */
export function compositeQuantityView(r: CompositeRow): QuantityView {
  return { value: r.vValue, canonCode: r.vCanonCode, canonValue: r.vCanonValue, system: r.vSystem };
}

/**
 * `[prefix]number|system|code` (sql.ts quantitySql): with a unit, the search value is converted
 * to canonical UCUM (range and exact value alike) and compared with the canonical column, so
 * `gt100||[degF]` finds 38.5 Cel; without one, the value as written is compared.
 */
export function quantityTest(value: string): RowTest<QuantityView> {
  const q = parseQuantityValue(value);
  const system = q.system;
  if (q.kind === 'number') {
    const num = numberTest(q.raw);
    return (v) => num(decimalOf(v.value)) && (!system || v.system === system);
  }
  const num = decimalTest(q.prefix, q.range, q.exact);
  return (v) => v.canonCode === q.code && num(decimalOf(v.canonValue)) && (!system || v.system === system);
}

// ---------------------------------------------------------------------------------------------
// Tokens, strings, uris, references.

/** `code`, `|code` (no system), `system|` (any code), `system|code`, parsed as sql.ts tokenSql parses them. */
export function tokenTest(value: string): (system: string | null, code: string | null) => boolean {
  const { system, code } = parseTokenValue(value);
  return (s, c) => (system === undefined || s === system) && (code === undefined || c === code);
}

/** `:text` (sql.ts valueSql, token): the normalised text starts with the value, or one of its words does. */
export function tokenTextTest(value: string): RowTest<TokenRow> {
  const norm = normalizeString(value);
  return (t) => t.text !== undefined && (t.text.startsWith(norm) || t.text.includes(` ${norm}`));
}

/**
 * :in, :not-in, :above, :below: membership of the resolved code set; must agree with
 * `CodeSet.sql` (listed pairs; systemless rows by code alone; whole systems minus exceptions).
 */
export function codeSetTest(codes: CodeSet): RowTest<TokenRow> {
  const allListed = new Set([...codes.listed.values()].flatMap((s) => [...s]));
  return (t) => {
    if (t.code === null) return false;
    if (t.system === null) return codes.systemless && allListed.has(t.code);
    if (codes.listed.get(t.system)?.has(t.code)) return true;
    const except = codes.whole.get(t.system);
    return except !== undefined && !except.has(t.code);
  };
}

/** String search (sql.ts valueSql): normalised starts-with; `:contains` anywhere; `:exact` as written. */
export function stringTest(value: string, modifier: string | undefined): RowTest<StringRow> {
  if (modifier === 'exact') return (s) => s.exact === value;
  const norm = normalizeString(value);
  return modifier === 'contains' ? (s) => s.norm.includes(norm) : (s) => s.norm.startsWith(norm);
}

/** Uri search (sql.ts valueSql): equality; `:below` the value is a prefix of the uri; `:above` the reverse. */
export function uriTest(value: string, modifier: string | undefined): RowTest<UriRow> {
  if (modifier === 'below') return (u) => u.uri.startsWith(value);
  if (modifier === 'above') return (u) => value.startsWith(u.uri);
  return (u) => u.uri === value;
}

/** Reference search (sql.ts referenceSql): `Type/id`, `id` (with `:Type`), our absolute URL, or another URL. */
export function referenceTest(value: string, modifier: string | undefined, baseUrl: string): RowTest<ReferenceRow> {
  const target = parseReferenceValue(value, modifier, baseUrl);
  if ('url' in target) return (r) => r.targetUrl === target.url;
  return (r) => r.targetId === target.id && (target.type === undefined || r.targetType === target.type);
}

/** Composite `token$value` (sql.ts compositeSql): both halves hold in the same row, i.e. the same element. */
export function compositeTest(code: string, value: string, valueType: string | undefined): RowTest<CompositeRow> {
  const dollar = value.indexOf('$');
  if (dollar < 0) throw badRequest(`${code} needs two components separated by $, got "${value.slice(0, 80)}"`);
  const token = tokenTest(value.slice(0, dollar));
  const v = value.slice(dollar + 1);
  let second: RowTest<CompositeRow>;
  switch (valueType) {
    case 'token': {
      const t = tokenTest(v);
      second = (c) => t(c.vSystem, c.vCode);
      break;
    }
    case 'date': {
      const d = dateTest(v);
      second = (c) => d(c.vLow, c.vHigh);
      break;
    }
    case 'string': {
      const norm = normalizeString(v);
      second = (c) => c.vNorm !== null && c.vNorm.startsWith(norm);
      break;
    }
    default: {
      const q = quantityTest(v);
      second = (c) => q(compositeQuantityView(c));
    }
  }
  return (c) => token(c.tSystem, c.tCode) && second(c);
}
