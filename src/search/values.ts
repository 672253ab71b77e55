// From FHIR values to search-index rows: normalised strings, exact decimal ranges, instant ranges
// for partial dates, parsed references, and the per-type rules of http://hl7.org/fhir/R4/search.html
// for which parts of a complex value are indexed. Malformed input yields no row instead of an
// exception, because index extraction must accept whatever a resource contains.
import type { TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { emptyIndexRows } from './index-rows.js';
import type { CompositeRow, IndexRows } from './index-rows.js';
import { UCUM_SYSTEM, formatDecimal, parseDecimal, toCanonical } from './ucum.js';

/** Longest `norm` we store: a B-tree entry must stay well under PostgreSQL's ~2.7 kB limit. */
const MAX_NORM_LENGTH = 512;

/** Lower-cases and strips diacritics, as the default string search compares (search.html#string). */
export function normalizeString(value: string): string {
  let norm = value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  if (norm.length > MAX_NORM_LENGTH) {
    // Do not cut a surrogate pair in half: that would leave invalid UTF-16 for the driver.
    let end = MAX_NORM_LENGTH;
    const code = norm.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
    norm = norm.slice(0, end);
  }
  return norm;
}

// ---------------------------------------------------------------------------------------------
// Numbers.

/** A number as the index stores it: the value and the interval its last significant digit implies. */
export interface DecimalRange {
  value: string;
  low: string;
  high: string;
}

/** Value ± half a unit of the last significant digit (search.html#number: 100 → [99.5, 100.5]). */
export function decimalRange(input: unknown): DecimalRange | undefined {
  const d = parseDecimal(input);
  if (!d) return undefined;
  const scale = d.scale + 1;
  const base = d.digits * 10n;
  return {
    value: formatDecimal(d),
    low: formatDecimal({ digits: base - 5n, scale }),
    high: formatDecimal({ digits: base + 5n, scale }),
  };
}

// ---------------------------------------------------------------------------------------------
// Dates: a FHIR date/dateTime/instant denotes every instant its precision covers.

/** An instant range in epoch milliseconds; ±Infinity for open ends. */
export interface InstantRange {
  low: number;
  high: number;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
// A 400-year Gregorian cycle is exactly 146097 days; it lets us avoid Date.UTC's 0..99 → 19xx mapping.
const CYCLE_400_MS = 146097 * 86_400_000;
const MIN_MS = Date.UTC(401, 0, 1) - CYCLE_400_MS; // 0001-01-01T00:00:00.000Z
const MAX_MS = Date.UTC(10000, 0, 1) - 1; // 9999-12-31T23:59:59.999Z

function utc(year: number, month0: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  if (year >= 100) return Date.UTC(year, month0, day, hour, minute, second, ms);
  return Date.UTC(year + 400, month0, day, hour, minute, second, ms) - CYCLE_400_MS;
}

function daysInMonth(year: number, month1: number): number {
  return new Date(utc(year, month1, 1) - 86_400_000).getUTCDate();
}

/** Parses a FHIR date, dateTime or instant into the range it covers; undefined when malformed. */
export function dateRange(value: unknown): InstantRange | undefined {
  if (typeof value !== 'string') return undefined;
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1) return undefined;
  if (m[2] === undefined) return { low: utc(year, 0, 1), high: utc(year + 1, 0, 1) - 1 };
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  if (m[3] === undefined) return { low: utc(year, month - 1, 1), high: utc(year, month, 1) - 1 };
  const day = Number(m[3]);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (m[4] === undefined) return { low: utc(year, month - 1, day), high: utc(year, month - 1, day + 1) - 1 };

  const hour = Number(m[4]);
  const minute = Number(m[5]);
  // FHIR's own regex allows second 60 for leap seconds; Date rolls it into the next minute.
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const offset = parseOffset(m[8]);
  if (offset === undefined) return undefined;
  const fraction = m[7] ?? '';
  const ms = fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0;
  const low = utc(year, month - 1, day, hour, minute, second, ms) - offset;
  let width: number;
  if (m[6] === undefined) width = 60_000;
  else if (fraction.length >= 3) width = 1;
  else width = 10 ** (3 - fraction.length);
  return { low, high: low + width - 1 };
}

/** Offset in ms east of UTC; absent offsets are taken as UTC. */
function parseOffset(tz: string | undefined): number | undefined {
  if (tz === undefined || tz === 'Z') return 0;
  const hours = Number(tz.slice(1, 3));
  const minutes = Number(tz.slice(4, 6));
  if (hours > 14 || minutes > 59) return undefined;
  return (tz[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** Renders a range bound for timestamptz: ISO 8601 in UTC, or the PostgreSQL infinities. */
export function formatInstant(ms: number): string {
  if (ms < MIN_MS) return '-infinity';
  if (ms > MAX_MS) return 'infinity';
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------
// References.

/** Where a reference points: local as (type, id), anything else as a URL. */
export interface ReferenceTarget {
  targetType: string | null;
  targetId: string | null;
  targetUrl: string | null;
}

const LOCAL_REF_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const TAIL_REF_RE = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Resolves a Reference.reference string; `baseUrl` has no trailing slash. */
export function parseReference(
  reference: string,
  baseUrl: string,
  resourceTypes: ReadonlySet<string>,
): ReferenceTarget | undefined {
  if (!reference) return undefined;
  const relative = reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
  const m = LOCAL_REF_RE.exec(relative);
  if (m && resourceTypes.has(m[1] as string)) {
    return { targetType: m[1] as string, targetId: m[2] as string, targetUrl: null };
  }
  return { targetType: null, targetId: null, targetUrl: reference };
}

/** The resource type a reference string names, also for absolute URLs on other servers. */
export function referencedType(reference: string, baseUrl: string, resourceTypes: ReadonlySet<string>): string | undefined {
  const local = parseReference(reference, baseUrl, resourceTypes);
  if (local?.targetType) return local.targetType;
  const m = TAIL_REF_RE.exec(reference);
  return m && resourceTypes.has(m[1] as string) ? m[1] : undefined;
}

/**
 * The resource type a Reference points to, without fetching it. medplum's resolve() only
 * understands relative references; we also need absolute ones (ours and other servers'),
 * contained ones, and Reference.type for logical references.
 */
export function targetTypeOf(value: unknown, resource: Resource, ctx: ValueContext): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const ref = value as { reference?: unknown; type?: unknown };
  const declared = typeof ref.type === 'string' ? ref.type : undefined;
  if (typeof ref.reference !== 'string') return declared;
  if (ref.reference.startsWith('#')) {
    const id = ref.reference.slice(1);
    const contained = (resource as { contained?: unknown }).contained;
    if (Array.isArray(contained)) {
      for (const c of contained) {
        if (c && typeof c === 'object' && (c as Resource).id === id) return (c as Resource).resourceType;
      }
    }
    return declared;
  }
  return referencedType(ref.reference, ctx.baseUrl, ctx.resourceTypes) ?? declared;
}

// ---------------------------------------------------------------------------------------------
// From FHIR values to rows.

/** What value conversion needs to know about the server. */
export interface ValueContext {
  readonly baseUrl: string;
  readonly resourceTypes: ReadonlySet<string>;
}

type Json = Record<string, unknown>;

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);
const CURRENCY_SYSTEM = 'urn:iso:std:iso:4217';
// Key-part separator and null marker: FHIR strings may not contain control characters.
const SEP = '\u0000';
const NULL = '\u0001';

/** Accumulates the rows of one resource, dropping exact duplicates per table. */
export class RowSet {
  private readonly rows: IndexRows = emptyIndexRows();
  private readonly seen = new Set<string>();

  private fresh(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  /** A string row; empty strings are not indexed. */
  string(param: string, exact: unknown): void {
    if (typeof exact !== 'string' || !exact || !this.fresh(`s${SEP}${param}${SEP}${exact}`)) return;
    this.rows.string.push({ param, norm: normalizeString(exact), exact });
  }

  /** A composite row (already correlated by the caller). */
  composite(row: CompositeRow): void {
    const key = `c${SEP}${Object.values(row).map((v) => v ?? NULL).join(SEP)}`;
    if (this.fresh(key)) this.rows.composite.push(row);
  }

  /** A token row, unless system, code and text are all missing. */
  token(param: string, system: string | undefined, code: string | undefined, text?: string): void {
    if (!system && !code && !text) return;
    const norm = text ? normalizeString(text) : undefined;
    if (!this.fresh(`t${SEP}${param}${SEP}${system || NULL}${SEP}${code || NULL}${SEP}${norm ?? NULL}`)) return;
    this.rows.token.push({ param, system: system || null, code: code || null, ...(norm ? { text: norm } : {}) });
  }

  /** A date row for a parsed range (nothing for undefined). */
  date(param: string, range: InstantRange | undefined): void {
    if (!range) return;
    const low = formatInstant(range.low);
    const high = formatInstant(range.high);
    if (this.fresh(`d${SEP}${param}${SEP}${low}${SEP}${high}`)) this.rows.date.push({ param, low, high });
  }

  /** A number row, if `input` is a decimal. */
  number(param: string, input: unknown): void {
    const r = decimalRange(input);
    if (r && this.fresh(`n${SEP}${param}${SEP}${r.value}`)) this.rows.number.push({ param, ...r });
  }

  /** A quantity row; `ucumCode` is Quantity.code alone, since the display unit never selects a conversion. */
  quantity(param: string, system: string | undefined, code: string | undefined, input: unknown, ucumCode?: string): void {
    const r = decimalRange(input);
    if (!r || !this.fresh(`q${SEP}${param}${SEP}${system ?? NULL}${SEP}${code ?? NULL}${SEP}${r.value}`)) return;
    const canon = system === UCUM_SYSTEM && ucumCode ? toCanonical(ucumCode, input) : undefined;
    this.rows.quantity.push({
      param,
      system: system ?? null,
      code: code ?? null,
      ...r,
      canonCode: canon?.code ?? null,
      canonValue: canon?.value ?? null,
    });
  }

  /** A uri row for a non-empty string. */
  uri(param: string, uri: unknown): void {
    if (typeof uri === 'string' && uri && this.fresh(`u${SEP}${param}${SEP}${uri}`)) this.rows.uri.push({ param, uri });
  }

  /** A reference row, plus Patient-compartment membership when the parameter defines it. */
  reference(param: string, target: ReferenceTarget | undefined, patientCompartment: boolean): void {
    if (!target) return;
    const { targetType, targetId, targetUrl } = target;
    if (this.fresh(`r${SEP}${param}${SEP}${targetType ?? NULL}${SEP}${targetId ?? NULL}${SEP}${targetUrl ?? NULL}`)) {
      this.rows.reference.push({ param, targetType, targetId, targetUrl });
    }
    if (patientCompartment && targetType === 'Patient' && targetId) this.compartment('Patient', targetId);
  }

  /** Membership of a compartment. */
  compartment(compType: string, compId: string): void {
    if (this.fresh(`c${SEP}${compType}${SEP}${compId}`)) this.rows.compartment.push({ compType, compId });
  }

  /** The collected rows. */
  toIndexRows(): IndexRows {
    return this.rows;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function isJson(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Calls `fn` for a string field or each string of a repeating one. */
function eachString(v: unknown, fn: (s: string) => void): void {
  if (typeof v === 'string') fn(v);
  else if (Array.isArray(v)) for (const item of v) if (typeof item === 'string') fn(item);
}

/** Adds the rows one FHIRPath result contributes to a parameter of `paramType`. */
export function addValueRows(
  rows: RowSet,
  ctx: ValueContext,
  param: string,
  paramType: string,
  { type, value }: TypedValue,
  patientCompartment: boolean,
): void {
  switch (paramType) {
    case 'string':
      return addString(rows, param, type, value);
    case 'token':
      return addToken(rows, param, type, value);
    case 'reference':
      if (typeof value === 'string') {
        if (value) rows.reference(param, { targetType: null, targetId: null, targetUrl: value }, false);
      } else if (isJson(value) && !('resourceType' in value)) {
        if (typeof value.reference === 'string') rows.reference(param, parseReference(value.reference, ctx.baseUrl, ctx.resourceTypes), patientCompartment);
        // `:identifier` (search.html#reference) searches Reference.identifier as a token.
        if (isJson(value.identifier)) rows.token(`${param}:identifier`, str(value.identifier.system), str(value.identifier.value));
      }
      return;
    case 'date':
      if (typeof value === 'string') {
        if (type !== 'string') rows.date(param, dateRange(value));
      } else if (isJson(value)) {
        if (type === 'Period') rows.date(param, periodRange(value));
        else if (type === 'Timing') rows.date(param, timingRange(value));
      }
      return;
    case 'number':
      // A string is a number only when typed as one (a lossless JSON parser); doseNumberString is text.
      if (typeof value === 'number' || (typeof value === 'string' && type !== 'string')) rows.number(param, value);
      return;
    case 'quantity':
      if (!isJson(value)) return;
      if (type === 'Money') rows.quantity(param, CURRENCY_SYSTEM, str(value.currency), value.value);
      else if (QUANTITY_TYPES.has(type)) {
        const code = str(value.code);
        rows.quantity(param, str(value.system), code ?? str(value.unit), value.value, code);
      }
      return;
    case 'uri':
      return rows.uri(param, value);
  }
}

function addString(rows: RowSet, param: string, type: string, value: unknown): void {
  if (typeof value === 'string') return rows.string(param, value);
  if (!isJson(value)) return;
  const add = (s: string): void => rows.string(param, s);
  if (type === 'HumanName') {
    for (const field of ['family', 'given', 'prefix', 'suffix', 'text']) eachString(value[field], add);
  } else if (type === 'Address') {
    for (const field of ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text']) eachString(value[field], add);
  }
}

function addToken(rows: RowSet, param: string, type: string, value: unknown): void {
  if (typeof value === 'boolean') return rows.token(param, undefined, String(value));
  if (typeof value === 'string') return rows.token(param, undefined, value);
  if (!isJson(value)) return;
  switch (type) {
    case 'Coding':
      return rows.token(param, str(value.system), str(value.code), str(value.display));
    case 'CodeableConcept': {
      // :text searches CodeableConcept.text and Coding.display; the text rides on the coding rows
      // and gets a row of its own only when no coding carries it already.
      const text = str(value.text);
      const codings = Array.isArray(value.coding) ? value.coding.filter(isJson) : [];
      for (const c of codings) rows.token(param, str(c.system), str(c.code), str(c.display) ?? text);
      if (text && !codings.some((c) => normalizeString(str(c.display) ?? text) === normalizeString(text))) rows.token(param, undefined, undefined, text);
      return;
    }
    case 'Identifier': {
      rows.token(param, str(value.system), str(value.value));
      // `:of-type` (search.html#token) matches type-system|type-code|value; kept as a token whose
      // "system" is the type coding, so the same index answers it.
      const coding = isJson(value.type) && Array.isArray(value.type.coding) ? value.type.coding : [];
      for (const c of coding) {
        if (isJson(c) && str(c.system) && str(c.code) && str(value.value)) rows.token(`${param}:of-type`, `${str(c.system)}|${str(c.code)}`, str(value.value));
      }
      return;
    }
    case 'ContactPoint':
      return rows.token(param, undefined, str(value.value));
  }
}

/** [start.low, end.high]; an absent start or end leaves that side open. */
function periodRange(period: Json): InstantRange | undefined {
  const start = period.start === undefined ? undefined : dateRange(period.start);
  const end = period.end === undefined ? undefined : dateRange(period.end);
  if ((period.start !== undefined && !start) || (period.end !== undefined && !end) || (!start && !end)) return undefined;
  const low = start ? start.low : -Infinity;
  const high = end ? end.high : Infinity;
  if (low <= high) return { low, high };
  // A Period that ends before it starts is invalid; span both bounds so the row stays well-formed.
  return { low: Math.min(low, end?.low ?? low), high: Math.max(high, start?.high ?? high) };
}

/** The outer limits of a schedule: its events and repeat.boundsPeriod (search.html#date). */
function timingRange(timing: Json): InstantRange | undefined {
  let low = Infinity;
  let high = -Infinity;
  const include = (r: InstantRange | undefined): void => {
    if (!r) return;
    low = Math.min(low, r.low);
    high = Math.max(high, r.high);
  };
  if (Array.isArray(timing.event)) for (const e of timing.event) include(dateRange(e));
  const bounds = isJson(timing.repeat) ? timing.repeat.boundsPeriod : undefined;
  if (isJson(bounds)) include(periodRange(bounds));
  return low <= high ? { low, high } : undefined;
}
