// Observation/$lastn — http://hl7.org/fhir/R4/observation-operation-lastn.html (OperationDefinition
// Observation-lastn, R4 4.0.1): the `max` (positiveInt, default 1) most recent Observations of each
// code group per subject, among those matching the ordinary Observation search parameters, as a
// searchset Bundle (OUT `return`). As the definition requires: a subject (`patient` or `subject`)
// and a `category` and/or a code parameter; no status filter unless asked (entered-in-error is
// included); codes are equal when system and code are, translations group transitively, text-only
// codes group by their exact text; ties on the effective time are all returned, so a group may
// hold more than `max`. The candidates are compiled by the search's own filter SQL (so row-level
// access applies); a first small statement reads their distinct code sets, whose closure gives the
// code groups; the second ranks each (subject, group) with rank() over the effective time.
import { bundleText, linkWith, type EntryPart } from '../fhir/bundle.js';
import { badRequest, FhirError, operationOutcome, type Issue } from '../fhir/errors.js';
import { parsePrefer } from '../fhir/prefer.js';
import { shapeText } from '../fhir/summary.js';
import type { FhirContext } from '../fhir/types.js';
import { parseSearch, type SearchRequest } from '../search/parse.js';
import { searchBinder } from '../search/search.js';
import { filterSql, scopeSql, typeIs, type Binder } from '../search/sql.js';
import { resolveTerminology } from '../search/terminology.js';
import { invocationParams } from './params.js';
import type { OperationDefinitionEntry } from './registry.js';

/** Result controls that make no sense for one unpaged Bundle of groups; reported like unknown parameters. */
const UNSUPPORTED_CONTROLS = new Set(['_count', '_sort', '_cursor', '_total']);
/** Parameters whose FHIRPath reaches a code element (code, combo-code, component-code, code-value-…). */
const CODE_PARAM = /(^|-)code(-|$)/;

interface Row { id: string; content: string }

/** The $lastn operation on Observation (type level). */
export const lastnOperation: OperationDefinitionEntry = {
  name: 'lastn',
  definition: 'http://hl7.org/fhir/OperationDefinition/Observation-lastn',
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  resourceTypes: ['Observation'],
  async invoke(ctx, s, req) {
    const params = invocationParams(req);
    const max = parseMax(params.getAll('max'), ctx.config.maxCount);
    params.delete('max');
    const search = parseSearch(ctx.defs, 'Observation', params, ctx.config);
    for (const name of new Set(params.keys())) {
      if (UNSUPPORTED_CONTROLS.has(name) || /^_(rev)?include/.test(name)) {
        search.unknown.push({ name, reason: `${name.split(':')[0]} is not supported by $lastn, which returns every group in one Bundle` });
      }
    }
    if (search.unknown.length && parsePrefer(req.headers.prefer).handling === 'strict') {
      throw badRequest(search.unknown.map((u) => u.reason).join('; '));
    }
    // Required by the OperationDefinition's description ("The request for a lastn query SHALL include").
    if (!search.filters.some((f) => f.code === 'patient' || f.code === 'subject')) {
      throw badRequest('$lastn needs a subject: a patient or subject parameter');
    }
    if (!search.filters.some((f) => f.code === 'category' || CODE_PARAM.test(f.code))) {
      throw badRequest('$lastn needs a category parameter and/or a code parameter (code, combo-code, component-code, …)');
    }
    await resolveTerminology(ctx, s.q, search);
    const probe = searchBinder(ctx);
    const sets = await s.q.query<{ ks: string[] }>(`WITH ${candidatesSql(ctx, search, probe)}
      SELECT DISTINCT ks FROM codes WHERE cardinality(ks) > 1`, probe.params);
    const b = searchBinder(ctx);
    const rows = await s.q.query<Row>(lastnSql(ctx, search, b, max, codeLabels(sets.map((r) => r.ks))), b.params);
    // The operation does not page: a truncated answer would silently drop groups, so refuse instead.
    if (rows.length > ctx.config.maxCount) {
      throw new FhirError(400, [{ severity: 'error', code: 'too-costly', diagnostics: `More than ${ctx.config.maxCount} Observations would be returned; narrow the subject, category or code, or lower max` }]);
    }
    const entries: EntryPart[] = search.summary === 'count' ? [] : rows.map((r) => ({
      fullUrl: `${ctx.config.baseUrl}/Observation/${r.id}`,
      resourceText: shapeText(ctx, r.content, search.summary, search.elements),
      extra: { search: { mode: 'match' } },
    }));
    // Like search: parameters the server ignored are reported, never dropped silently.
    const warnings: Issue[] = search.unknown.map((u) => ({ severity: 'warning', code: 'not-supported', diagnostics: `${u.name}: ${u.reason}; ignored` }));
    if (warnings.length) entries.push({ resource: operationOutcome(warnings), extra: { search: { mode: 'outcome' } } });
    const link = [{ relation: 'self', url: linkWith(`${ctx.config.baseUrl}/Observation/$lastn`, req.query, '_cursor', undefined) }];
    return { status: 200, headers: {}, text: bundleText({ type: 'searchset', total: rows.length, link }, entries) };
  },
};

/** `max`: a positiveInt given at most once, 1 when absent; capped at the server's page size. */
function parseMax(values: string[], limit: number): number {
  if (values.length > 1) throw badRequest('max may be given only once');
  const raw = values[0] ?? '1';
  if (!/^[1-9]\d{0,6}$/.test(raw) || Number(raw) > limit) throw badRequest(`max must be a positive integer up to ${limit}, got "${raw.slice(0, 40)}"`);
  return Number(raw);
}

/**
 * The CTEs `cand` (the search's WHERE, with each Observation's effective time — the greatest `date`
 * bound, as `_sort=-date` orders — and subject) and `codes` (each coded candidate's sorted set of
 * `system|code` keys), both confined like a search.
 */
function candidatesSql(ctx: FhirContext, search: SearchRequest, b: Binder): string {
  const where = [typeIs('r.res_type', 'Observation', b), 'NOT r.deleted'];
  for (const f of search.filters) where.push(filterSql(f, 'Observation', b, ctx.config.baseUrl));
  const visible = b.visible?.('s', 'Observation', 'r');
  if (visible) where.push(visible);
  const key = "coalesce(t.system, '') || '|' || t.code";
  return `cand AS (
      SELECT r.rid, r.id, r.last_updated,
        (SELECT max(x.high) FROM idx_date x WHERE x.rid = r.rid AND ${scopeSql(b, 'Observation', 'date')}) AS eff,
        (SELECT min(coalesce(x.target_type || '/' || x.target_id, x.target_url)) FROM idx_reference x
          WHERE x.rid = r.rid AND ${scopeSql(b, 'Observation', 'subject')}) AS subj
      FROM resources r WHERE ${where.join(' AND ')}),
    codes AS (
      SELECT t.rid, array_agg(DISTINCT ${key} ORDER BY ${key}) AS ks FROM idx_token t JOIN cand c ON c.rid = t.rid
      WHERE ${scopeSql(b, 'Observation', 'code', 't')} AND t.code IS NOT NULL GROUP BY t.rid)`;
}

/**
 * Codes are one group when they share an Observation, transitively (a, a+b, b+c: one group). The
 * distinct multi-coding sets among the candidates are few, so their closure is a union-find here
 * rather than a recursive CTE, whose row estimate made PostgreSQL JIT-compile the statement at ten
 * times its run time. Returns each such code's group label: the least code of its group.
 */
function codeLabels(sets: string[][]): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(k, root);
    return root;
  };
  for (const ks of sets) for (const k of ks) {
    const [a, z] = [find(ks[0] as string), find(k)];
    if (a !== z) parent.set(a < z ? z : a, a < z ? a : z); // the lesser root wins, so a root is its group's least code
  }
  return new Map([...parent.keys()].map((k) => [k, find(k)]));
}

/**
 * The statement: each candidate's group — the label of its codes (or its least code), else its
 * exact CodeableConcept.text — then rank() per (subject, group) by effective time, so that ties
 * share a rank and are all returned.
 */
function lastnSql(ctx: FhirContext, search: SearchRequest, b: Binder, max: number, labels: Map<string, string>): string {
  return `WITH ${candidatesSql(ctx, search, b)},
    coded AS (
      SELECT o.rid, coalesce(l.g, o.ks[1]) AS g FROM codes o
      LEFT JOIN unnest(${b.bind([...labels.keys()])}::text[], ${b.bind([...labels.values()])}::text[]) AS l(k, g) ON l.k = o.ks[1]),
    texts AS (
      SELECT c.rid, 'text:' || (t.content::jsonb #>> '{code,text}') AS g FROM cand c JOIN resources t ON t.rid = c.rid
      WHERE NOT EXISTS (SELECT 1 FROM codes o WHERE o.rid = c.rid)),
    grouped AS (
      SELECT c.*, coalesce(d.g, x.g) AS grp FROM cand c LEFT JOIN coded d ON d.rid = c.rid LEFT JOIN texts x ON x.rid = c.rid),
    ranked AS (
      SELECT g.*, rank() OVER (PARTITION BY g.subj, g.grp
        ORDER BY g.eff DESC NULLS LAST, CASE WHEN g.eff IS NULL THEN g.last_updated END DESC NULLS LAST) AS n
      FROM grouped g)
    SELECT r.id, r.content FROM ranked k JOIN resources r ON r.rid = k.rid
    WHERE k.n <= ${b.bind(max)}
    ORDER BY k.subj, k.grp, k.eff DESC NULLS LAST, k.last_updated DESC, k.id
    LIMIT ${b.bind(ctx.config.maxCount + 1)}`;
}

