// An independent reading of the Synthea bundles for search-count tests: plain JSON walking and
// hand-written matching rules taken from the FHIR R4 search page, sharing no code with src/ so a
// bug in the server's extractor or query compiler cannot cancel itself out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const SYNTHEA = new URL('../../../shared/data/synthea/', import.meta.url).pathname;

export type Json = Record<string, any>;
export interface Entry { fullUrl?: string; resource: Json; request: { method: string; url: string; ifNoneExist?: string } }
export interface Bundle { resourceType: string; type: string; entry: Entry[] }

export const readBundle = (path: string): Bundle => JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));

/** Reference data (0-*) first, then `count` patients: the smallest files, or the first by name. */
export function syntheaFiles(count: number, smallest: boolean): string[] {
  const names = readdirSync(SYNTHEA).filter((n) => n.endsWith('.json.gz'));
  const size = (n: string) => statSync(join(SYNTHEA, n)).size;
  let patients = names.filter((n) => !n.startsWith('0-')).sort();
  if (smallest) patients = patients.sort((a, b) => size(a) - size(b));
  return [...names.filter((n) => n.startsWith('0-')).sort(), ...patients.slice(0, count)].map((n) => join(SYNTHEA, n));
}

/** The resources a server holds after POSTing the bundles in order. */
export class Corpus {
  readonly entries: Entry[] = [];
  readonly byUrl = new Map<string, Json>();

  constructor(bundles: Bundle[]) {
    // A conditional create whose condition was already used matches the first resource instead of
    // creating one (the same condition text stands for the same identifier in Synthea's output).
    const conditions = new Set<string>();
    for (const bundle of bundles) {
      for (const e of bundle.entry) {
        if (e.request.method !== 'POST') throw new Error(`unexpected ${e.request.method} in a Synthea bundle`);
        if (e.request.ifNoneExist) {
          const key = `${e.request.url}?${e.request.ifNoneExist}`;
          if (conditions.has(key)) continue;
          conditions.add(key);
        }
        this.entries.push(e);
        if (e.fullUrl) this.byUrl.set(e.fullUrl, e.resource);
      }
    }
  }

  of(type: string): Json[] {
    return this.entries.filter((e) => e.resource.resourceType === type).map((e) => e.resource);
  }

  /** Patient entries with their fullUrl, the key other entries reference them by. */
  patients(): { url: string; resource: Json }[] {
    return this.entries.filter((e) => e.resource.resourceType === 'Patient').map((e) => ({ url: e.fullUrl!, resource: e.resource }));
  }

  /** The resource a reference points at, if it is an entry of the loaded bundles. */
  target(ref: Json | undefined): Json | undefined {
    return typeof ref?.reference === 'string' ? this.byUrl.get(ref.reference) : undefined;
  }
}

// ---- token (search.html#token) ----

/** Every Coding under a CodeableConcept, a Coding, or arrays of either. */
export function codings(value: unknown): Json[] {
  if (Array.isArray(value)) return value.flatMap(codings);
  if (!value || typeof value !== 'object') return [];
  const v = value as Json;
  return Array.isArray(v.coding) ? v.coding : 'code' in v || 'system' in v ? [v] : [];
}

/** `[system]|[code]`, `|[code]`, `[code]` or `[system]|` against codings or identifiers (value in place of code). */
export function tokenMatches(items: Json[], param: string, field: 'code' | 'value' = 'code'): boolean {
  const bar = param.indexOf('|');
  const system = bar < 0 ? undefined : param.slice(0, bar);
  const code = bar < 0 ? param : param.slice(bar + 1);
  return items.some((c) => {
    if (system !== undefined && (system === '' ? c.system !== undefined : c.system !== system)) return false;
    return code === '' || c[field] === code;
  });
}

// ---- string (search.html#string): case- and accent-insensitive, starts-with by default ----

export const fold = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
export const families = (patient: Json): string[] => (patient.name ?? []).map((n: Json) => n.family).filter(Boolean);

// ---- date (search.html#date) ----

/** A date, dateTime or instant as the half-open interval [low, high) its precision implies, in ms. */
export interface Range { low: number; high: number }

/**
 * Values without a time zone are read as UTC; the tests only use such values where no data lies
 * close enough to a boundary for the server's choice of zone to matter.
 */
export function dateRange(value: string): Range {
  const m = /^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?)?)?$/.exec(value);
  if (!m) throw new Error(`not a FHIR date: ${value}`);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const offset = !tz || tz === 'Z' ? 0 : (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4))) * 60_000;
  const at = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0) => Date.UTC(yy, mm, dd, hh, mn, ss) - offset;
  const Y = Number(y);
  if (mo === undefined) return { low: at(Y, 0, 1), high: at(Y + 1, 0, 1) };
  const M = Number(mo) - 1;
  if (d === undefined) return { low: at(Y, M, 1), high: at(Y, M + 1, 1) };
  const D = Number(d);
  if (h === undefined) return { low: at(Y, M, D), high: at(Y, M, D + 1) };
  if (s === undefined) {
    const low = at(Y, M, D, Number(h), Number(mi));
    return { low, high: low + 60_000 };
  }
  const low = at(Y, M, D, Number(h), Number(mi), Number(s)) + (frac ? Math.round(Number(frac) * 1000) : 0);
  return { low, high: low + (frac ? Math.max(1, 10 ** (4 - frac.length)) : 1000) };
}

/** A Period covers start to end; a missing end is ongoing (search.html#date, "Period"). */
export function periodRange(period: Json): Range {
  return {
    low: period.start ? dateRange(period.start).low : -Infinity,
    high: period.end ? dateRange(period.end).high : Infinity,
  };
}

const contains = (outer: Range, inner: Range) => inner.low >= outer.low && inner.high <= outer.high;

/**
 * The prefix table of search.html#prefix for dates, read literally: `eq` when the search range
 * contains the target; `gt` when the range above the search value overlaps the target; `ge` as
 * `gt` or `eq`; `lt`/`le` mirrored.
 */
export function dateMatches(prefix: 'eq' | 'gt' | 'ge' | 'lt' | 'le', search: Range, target: Range): boolean {
  switch (prefix) {
    case 'eq': return contains(search, target);
    case 'gt': return target.high > search.high;
    case 'ge': return target.high > search.high || contains(search, target);
    case 'lt': return target.low < search.low;
    case 'le': return target.low < search.low || contains(search, target);
  }
}

/** An instant as a seconds-precision UTC search value, e.g. `2019-05-03T10:00:30Z`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
