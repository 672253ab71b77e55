// Parsing of search values (search.html#prefix, #token, #quantity, #reference): shared by the
// SQL compiler (sql.ts) and in-memory subscription matching (src/subscriptions/match-values.ts),
// so that a value means the same in a search and in a subscription's criteria.
import { badRequest } from '../fhir/errors.js';
import { toCanonical, UCUM_SYSTEM } from './ucum.js';
import { dateRange, decimalRange, formatInstant } from './values.js';

export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
/** A comparison prefix of a number, date or quantity search. */
export type Prefix = (typeof PREFIXES)[number];

/** Splits off a prefix; it counts only when a number or sign follows (`ge2021`, not `gene`). */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && /^[a-z]{2}[-+0-9.]/.test(value)) return { prefix: p, rest: value.slice(2) };
  return { prefix: 'eq', rest: value };
}

/** A number search value: its prefix, the implicit range of its precision, and the value as written. */
export interface NumberValue { prefix: Prefix; range: { low: string; high: string }; exact: string }

/** Parses `[prefix]number`, or throws a 400. */
export function parseNumberValue(raw: string): NumberValue {
  const { prefix, rest } = splitPrefix(raw);
  const range = decimalRange(rest);
  if (!range) throw badRequest(`Invalid number search value "${raw.slice(0, 60)}"`);
  return { prefix, range, exact: rest };
}

/** Parses `[prefix]date` into its prefix and the instant range its precision covers (ISO 8601), or throws a 400. */
export function parseDateValue(raw: string): { prefix: Prefix; low: string; high: string } {
  const { prefix, rest } = splitPrefix(raw);
  const dates = dateRange(rest);
  if (!dates) throw badRequest(`Invalid date search value "${raw.slice(0, 60)}"`);
  return { prefix, low: formatInstant(dates.low), high: formatInstant(dates.high) };
}

/**
 * A quantity search value `[prefix]number|system|code`: without a unit, a plain number (and maybe
 * a system); with one, compared in canonical UCUM when a conversion is known (so
 * `37|http://unitsofmeasure.org|Cel` finds 98.6 [degF]), else in the unit as written.
 */
export type QuantityValue =
  | { kind: 'number'; raw: string; system?: string }
  | { kind: 'unit'; prefix: Prefix; code: string; range: { low: string; high: string }; exact: string; system?: string };

/** Parses a quantity search value, or throws a 400. */
export function parseQuantityValue(value: string): QuantityValue {
  const [raw = '', system, code] = value.split('|');
  if (!code) return { kind: 'number', raw, ...(system ? { system } : {}) };
  const { prefix, rest: exact } = splitPrefix(raw);
  const range = decimalRange(exact);
  if (!range) throw badRequest(`Invalid quantity search value "${value.slice(0, 60)}"`);
  const ucum = !system || system === UCUM_SYSTEM;
  const low = ucum ? toCanonical(code, range.low) : undefined;
  const high = ucum ? toCanonical(code, range.high) : undefined;
  const canon = ucum ? toCanonical(code, exact) : undefined;
  const unit = low && high && canon
    ? { code: low.code, range: { low: low.value, high: high.value }, exact: canon.value }
    : { code, range, exact };
  return { kind: 'unit', prefix, ...unit, ...(system ? { system } : {}) };
}

/** A token search value: `code`, `|code` (system: null), `system|` (no code) or `system|code`. */
export interface TokenValue { system?: string | null; code?: string }

/** Parses a token search value. */
export function parseTokenValue(value: string): TokenValue {
  const bar = value.indexOf('|');
  if (bar < 0) return { code: value };
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (!system) return { system: null, code };
  return code ? { system, code } : { system };
}

/** The local target a reference search value names (no type: any), or the URL it names elsewhere. */
export function parseReferenceValue(value: string, modifier: string | undefined, baseUrl: string): { url: string } | { type?: string; id: string } {
  let ref = value.startsWith(baseUrl + '/') ? value.slice(baseUrl.length + 1) : value;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return { url: ref };
  ref = ref.replace(/\/_history\/.*$/, '');
  const slash = ref.indexOf('/');
  const type = slash > 0 ? ref.slice(0, slash) : modifier;
  const id = slash > 0 ? ref.slice(slash + 1) : ref;
  return type ? { type, id } : { id };
}
