// The rows a resource contributes to the search index, one list per table (see migrations/001).
// Extraction produces these; the resource store writes them in the same statement as the resource.

/** A string value: `norm` is lower-cased with accents removed, `exact` as written. */
export interface StringRow { param: string; norm: string; exact: string }
/**
 * A token: system and code (either may be null, e.g. a plain `code` has no system), and for the
 * `:text` modifier the normalised display or CodeableConcept.text when there is one.
 */
export interface TokenRow { param: string; system: string | null; code: string | null; text?: string }
/** A date as the closed range of instants its precision covers, ISO 8601 with offset. */
export interface DateRow { param: string; low: string; high: string }
/** A number as decimal strings: the value and the range its significant figures imply. */
export interface NumberRow { param: string; value: string; low: string; high: string }
/** A quantity as written plus its canonical UCUM form where a conversion is known. */
export interface QuantityRow {
  param: string;
  system: string | null;
  code: string | null;
  value: string;
  low: string;
  high: string;
  canonCode: string | null;
  canonValue: string | null;
}
/** A uri/url/canonical value. */
export interface UriRow { param: string; uri: string }
/** A reference: local ones as (type, id); anything else (absolute elsewhere, canonical, urn) as url. */
export interface ReferenceRow { param: string; targetType: string | null; targetId: string | null; targetUrl: string | null }
/**
 * One element of a composite parameter (search.html#composite): its first component, a token,
 * with the second — a token (vSystem, vCode), a quantity (vSystem, vCode and vValue as written,
 * vCanonCode/vCanonValue in canonical UCUM), a date range (vLow, vHigh) or a string (vNorm) —
 * taken from the same element, so the pair correlates.
 */
export interface CompositeRow {
  param: string;
  tSystem: string | null;
  tCode: string | null;
  vSystem: string | null;
  vCode: string | null;
  vValue: string | null;
  vCanonCode: string | null;
  vCanonValue: string | null;
  vLow: string | null;
  vHigh: string | null;
  vNorm: string | null;
}
/** Membership of a compartment, e.g. ('Patient', '123'). */
export interface CompartmentRow { compType: string; compId: string }

/** All index rows of one resource version. */
export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  uri: UriRow[];
  reference: ReferenceRow[];
  composite: CompositeRow[];
  compartment: CompartmentRow[];
}

/** An empty set of index rows. */
export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], uri: [], reference: [], composite: [], compartment: [] };
}
