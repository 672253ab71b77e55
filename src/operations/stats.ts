// Observation/$stats — http://hl7.org/fhir/R4/observation-operation-stats.html (OperationDefinition
// Observation-stats, R4 4.0.1). IN: subject 1..1 uri, code 0..* string with system 0..1 uri, coding
// 0..* Coding (GET: `system|code`), duration 0..1 decimal hours back from now, period 0..1 Period
// (GET: `start/end`, either side open), statistic 1..* code, include 0..1 boolean, limit 0..1
// positiveInt. OUT (a Parameters): `statistics` 1..* Observation — one per code, status final, with
// subject, code and effectivePeriod, and one component per statistic whose code is the statistic
// (http://terminology.hl7.org/CodeSystem/observation-statistics) — and `source` 0..* Observation.
// Values are valueQuantity with a UCUM code, of Observations (not entered-in-error) whose code or
// component code is asked for; a panel's code (85354-9) yields one Observation per component code.
import type { Coding, Observation, ObservationComponent, Parameters, ParametersParameter, Quantity } from '@medplum/fhirtypes';
import { badRequest, FhirError } from '../fhir/errors.js';
import { parseSearch } from '../search/parse.js';
import { searchBinder } from '../search/search.js';
import { filterSql, scopeSql, typeIs } from '../search/sql.js';
import { toCanonical, UCUM_SYSTEM } from '../search/ucum.js';
import { dateRange, formatInstant } from '../search/values.js';
import { invocationParams } from './params.js';
import type { OperationDefinitionEntry } from './registry.js';

const STATISTICS_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-statistics';
/** The StatisticsCode codes computed (display as in the R4 CodeSystem). */
const SUPPORTED: Record<string, string> = {
  average: 'Average', maximum: 'Maximum', minimum: 'Minimum', count: 'Count', 'total-count': 'Total Count',
  median: 'Median', 'std-dev': 'Standard Deviation', sum: 'Sum',
};
// The definition's own documentation of `statistic` says "average|max|min|count".
const ALIASES: Record<string, string> = { max: 'maximum', min: 'minimum' };
const HINTS: Record<string, string> = { mean: '; use average', last: '; it is not an R4 StatisticsCode: use Observation/$lastn' };
const PARAMETERS = new Set(['subject', 'code', 'system', 'coding', 'duration', 'period', 'statistic', 'include', 'limit', '_format', '_pretty']);
/** Matching Observations read at most: the operation cannot page, so more is refused. */
const MAX_ROWS = 50_000;

interface Wanted { system?: string; code: string; order: number }
interface Sample { value: number; unit: string; unitText: string; at: number | null; rid: string }
interface Group { coding: Coding; order: number; total: number; samples: Sample[] }
interface Row { rid: string; at: number | null; slim: string; content: string | null }
interface Slim { code?: { coding?: Coding[] }; valueQuantity?: Quantity; component?: ObservationComponent[] }

/** The $stats operation on Observation (type level). */
export const statsOperation: OperationDefinitionEntry = {
  name: 'stats',
  definition: 'http://hl7.org/fhir/OperationDefinition/Observation-stats',
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  resourceTypes: ['Observation'],
  async invoke(ctx, s, req) {
    const params = invocationParams(req);
    for (const name of new Set(params.keys())) {
      // No Bundle to carry a warning in: an unknown parameter is an error rather than silently ignored.
      if (!PARAMETERS.has(name)) throw badRequest(`Unknown $stats parameter ${name.slice(0, 60)}`);
    }
    const one = (name: string): string | undefined => {
      const v = params.getAll(name);
      if (v.length > 1) throw badRequest(`${name} may be given only once`);
      return v[0];
    };
    const subject = one('subject');
    if (!subject) throw badRequest('$stats needs subject, e.g. Patient/123');
    const wanted = parseWanted(params.getAll('code'), one('system'), params.getAll('coding'));
    const statistics = [...new Set(params.getAll('statistic').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean).map((v) => ALIASES[v] ?? v))];
    if (!statistics.length) throw badRequest('$stats needs statistic (one or more of ' + Object.keys(SUPPORTED).join(', ') + ')');
    for (const st of statistics) {
      if (!SUPPORTED[st]) throw badRequest(`statistic ${st.slice(0, 40)} is not supported${HINTS[st] ?? ''}; supported: ${Object.keys(SUPPORTED).join(', ')}`);
    }
    const window = parseWindow(one('duration'), one('period'), ctx.now());
    const include = one('include');
    if (include !== undefined && include !== 'true' && include !== 'false') throw badRequest('include must be true or false');
    // "If the include parameter is absent or equal to false the limit parameter SHALL be ignored."
    const limitRaw = include === 'true' ? one('limit') : undefined;
    if (limitRaw !== undefined && !/^[1-9]\d{0,6}$/.test(limitRaw)) throw badRequest('limit must be a positive integer');

    // The filters are ordinary search parameters compiled by the search's SQL, so access rules apply.
    const q = new URLSearchParams({ subject, 'combo-code': wanted.map(token).join(','), 'status:not': 'entered-in-error' });
    if (window.start) q.append('date', `ge${window.start}`);
    if (window.end) q.append('date', `le${window.end}`);
    const search = parseSearch(ctx.defs, 'Observation', q, ctx.config);
    if (search.unknown.length) throw badRequest(search.unknown.map((u) => u.reason).join('; '));
    const b = searchBinder(ctx);
    const where = [typeIs('r.res_type', 'Observation', b), 'NOT r.deleted', ...search.filters.map((f) => filterSql(f, 'Observation', b, ctx.config.baseUrl))];
    const visible = b.visible?.('s', 'Observation', 'r');
    if (visible) where.push(visible);
    // Only the elements the statistics read travel back, unless the sources were asked for.
    const rows = await s.q.query<Row>(`SELECT r.rid::text AS rid,
        (SELECT (extract(epoch from max(x.high)) * 1000)::float8 FROM idx_date x WHERE x.rid = r.rid AND ${scopeSql(b, 'Observation', 'date')}) AS at,
        jsonb_build_object('code', j.c->'code', 'valueQuantity', j.c->'valueQuantity', 'component', j.c->'component')::text AS slim,
        ${include === 'true' ? 'r.content' : 'NULL::text'} AS content
      FROM resources r CROSS JOIN LATERAL (SELECT r.content::jsonb AS c) j
      WHERE ${where.join(' AND ')} ORDER BY at ASC NULLS FIRST, r.last_updated, r.id LIMIT ${b.bind(MAX_ROWS + 1)}`, b.params);
    if (rows.length > MAX_ROWS) {
      throw new FhirError(400, [{ severity: 'error', code: 'too-costly', diagnostics: `More than ${MAX_ROWS} Observations match; narrow the period or codes` }]);
    }
    const groups = collect(rows, wanted);
    const parameter: ParametersParameter[] = groups.map((g) => ({ name: 'statistics', resource: statisticsObservation(g, statistics, subject, window) }));
    if (include === 'true') {
      const used = new Set(groups.flatMap((g) => g.samples.map((x) => x.rid)));
      const sources = rows.filter((r) => used.has(r.rid) && r.content);
      // "Subsetted at the server's discretion": the most recent `limit` (rows are oldest first).
      const kept = limitRaw ? sources.slice(-Number(limitRaw)) : sources;
      for (const r of kept) parameter.push({ name: 'source', resource: JSON.parse(r.content as string) as Observation });
    }
    const out: Parameters = { resourceType: 'Parameters', parameter };
    return { status: 200, headers: {}, resource: out };
  },
};

/** The codes asked for: each `code` with `system` (any system when absent), and each `coding`. */
function parseWanted(codes: string[], system: string | undefined, codings: string[]): Wanted[] {
  const list: Omit<Wanted, 'order'>[] = codes.flatMap((v) => v.split(',')).map((code) => ({ system, code: code.trim() }));
  if (system !== undefined && !list.length) throw badRequest('system qualifies code: give code too, or use coding');
  for (const v of codings) {
    const bar = v.indexOf('|');
    list.push(bar < 0 ? { code: v } : { system: v.slice(0, bar) || undefined, code: v.slice(bar + 1) });
  }
  if (!list.length) throw badRequest('$stats needs code (with system) or coding');
  if (list.some((w) => !w.code)) throw badRequest('code and coding must not be empty');
  const seen = new Set<string>();
  return list.filter((w) => !seen.has(`${w.system ?? ''}|${w.code}`) && seen.add(`${w.system ?? ''}|${w.code}`)).map((w, order) => ({ ...w, order }));
}

/** `duration` (hours back from now) or `period` (`start/end`), as search date bounds; both is ambiguous. */
function parseWindow(duration: string | undefined, period: string | undefined, now: Date): { start?: string; end?: string } {
  if (duration !== undefined && period !== undefined) throw badRequest('Give duration or period, not both');
  if (duration !== undefined) {
    if (!/^\d{1,7}(\.\d{1,6})?$/.test(duration) || Number(duration) <= 0) throw badRequest('duration must be a positive decimal number of hours');
    return { start: formatInstant(now.getTime() - Number(duration) * 3_600_000), end: formatInstant(now.getTime()) };
  }
  if (period === undefined) return {};
  const [start = '', end = '', ...rest] = period.split('/');
  const low = start ? dateRange(start) : undefined;
  const high = end ? dateRange(end) : undefined;
  if (rest.length || (!start && !end) || (start && !low) || (end && !high)) throw badRequest('period must be start/end with FHIR dateTimes (either may be empty)');
  if (low && high && low.low > high.high) throw badRequest('period starts after it ends');
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

const token = (w: Wanted): string => {
  const esc = (v: string): string => v.replace(/[\\,]/g, '\\$&');
  return w.system ? `${esc(w.system)}|${esc(w.code)}` : esc(w.code);
};

/**
 * Groups the values by code: an Observation whose code is asked for gives its own value, and each
 * of its components's (a panel's members); otherwise the components whose code is asked for.
 */
function collect(rows: Row[], wanted: Wanted[]): Group[] {
  const groups = new Map<string, Group>();
  const match = (codings: Coding[]): Wanted | undefined =>
    wanted.find((w) => codings.some((c) => c.code === w.code && (w.system === undefined || c.system === w.system)));
  const group = (coding: Coding, order: number): Group => {
    const key = `${coding.system ?? ''}|${coding.code}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { coding, order, total: 0, samples: [] }));
    return g;
  };
  const ofWanted = (w: Wanted): Group => group(w.system ? { system: w.system, code: w.code } : { code: w.code }, w.order);
  const add = (g: Group, q: Quantity | undefined, row: Row): void => {
    g.total++;
    // Only exact values with a UCUM unit count (a comparator such as "<5" is not a measured value).
    if (typeof q?.value === 'number' && q.system === UCUM_SYSTEM && q.code && !q.comparator) {
      g.samples.push({ value: q.value, unit: q.code, unitText: q.unit ?? q.code, at: row.at, rid: row.rid });
    }
  };
  for (const row of rows) {
    const o = JSON.parse(row.slim) as Slim;
    const components = Array.isArray(o.component) ? o.component : [];
    const top = match(o.code?.coding ?? []);
    if (top && (o.valueQuantity || !components.length)) add(ofWanted(top), o.valueQuantity, row);
    for (const c of components) {
      const codings = c.code?.coding ?? [];
      const w = match(codings);
      const first = codings.find((x) => x.code);
      if (w) add(ofWanted(w), c.valueQuantity, row);
      else if (top && first) add(group({ ...(first.system ? { system: first.system } : {}), code: first.code as string }, top.order), c.valueQuantity, row);
    }
  }
  // A code with no data still gets its Observation (statistics is 1..*): count 0, no values.
  for (const w of wanted) if (![...groups.values()].some((g) => g.order === w.order)) ofWanted(w);
  return [...groups.values()].sort((a, b) => a.order - b.order);
}

/** One `statistics` Observation: a component per statistic, in the data's unit or, mixed, the canonical UCUM one. */
function statisticsObservation(g: Group, statistics: string[], subject: string, window: { start?: string; end?: string }): Observation {
  let samples = g.samples;
  let unit = { code: samples[0]?.unit ?? '', text: samples[0]?.unitText ?? '' };
  const notes: string[] = [];
  if (new Set(samples.map((x) => x.unit)).size > 1) {
    const canon = samples.map((x) => ({ x, c: toCanonical(x.unit, x.value) }));
    const tally = new Map<string, number>();
    for (const { c } of canon) if (c) tally.set(c.code, (tally.get(c.code) ?? 0) + 1);
    const best = [...tally].sort((a, b) => b[1] - a[1])[0]?.[0];
    samples = canon.filter(({ c }) => c && c.code === best).map(({ x, c }) => ({ ...x, value: Number(c?.value), unit: best as string }));
    unit = { code: best ?? '', text: best ?? '' };
    const dropped = g.samples.length - samples.length;
    if (dropped) notes.push(`${dropped} value(s) in units not convertible to ${best ?? 'a common unit'} were left out (counted in total-count only)`);
  }
  const xs = samples.map((x) => x.value);
  const sorted = [...xs].sort((a, b) => a - b);
  const sum = xs.reduce((a, v) => a + v, 0);
  const mean = sum / xs.length;
  const mid = sorted.length >> 1;
  const values: Record<string, number> = {
    average: mean, maximum: sorted[sorted.length - 1] as number, minimum: sorted[0] as number, sum,
    median: sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2,
    // Population standard deviation (divide by N), as the StatisticsCode definition's "of N measurements".
    'std-dev': Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length),
  };
  const component: ObservationComponent[] = statistics.map((st) => {
    const code = { coding: [{ system: STATISTICS_SYSTEM, code: st, display: SUPPORTED[st] }] };
    if (st === 'count') return { code, valueInteger: xs.length };
    if (st === 'total-count') return { code, valueInteger: g.total };
    if (!xs.length) return { code, dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'not-applicable' }] } };
    // 12 significant digits: no binary floating-point noise (36.9, not 36.900000000000006).
    return { code, valueQuantity: { value: Number((values[st] as number).toPrecision(12)), unit: unit.text, system: UCUM_SYSTEM, code: unit.code } };
  });
  // Samples are oldest first (the query's order), so the data's span is its first and last time.
  const times = samples.map((x) => x.at).filter((t): t is number => t !== null);
  const effectivePeriod = window.start || window.end ? window
    : times.length ? { start: formatInstant(times[0] as number), end: formatInstant(times[times.length - 1] as number) } : undefined;
  return {
    resourceType: 'Observation', status: 'final', code: { coding: [g.coding] }, subject: { reference: subject },
    ...(effectivePeriod ? { effectivePeriod } : {}), component, ...(notes.length ? { note: notes.map((text) => ({ text })) } : {}),
  };
}
