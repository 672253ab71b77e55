// EXPLAIN (ANALYZE, BUFFERS) of exactly the SQL the server sends for a search: the query string is
// parsed and run by the server's own search code (parseSearch → runSearch → loadIncludes, as
// fhir/search.ts calls them) over a Queryable that records each statement and its parameters
// and passes it on to the database; each recorded statement is then explained with the same
// parameters. Like the server, statements go unprepared, so each plan is a custom plan for
// its parameter values.
import type { Queryable } from '../src/db/database.js';
import { configFromEnv } from '../src/config.js';
import type { FhirDefinitions } from '../src/fhir/definitions.js';
import type { FhirContext } from '../src/fhir/types.js';
import { loadIncludes } from '../src/search/includes.js';
import { parseSearch } from '../src/search/parse.js';
import { runSearch } from '../src/search/search.js';
import { hasPlanCache } from '../src/search/has-plan.js';
import { binder } from '../src/search/sql.js';

/** One explained statement. */
export interface ExplainedStatement {
  sql: string;
  params: readonly unknown[];
  plan: string;
  /** "Execution Time" of the plan, in ms. */
  executionMs: number;
  planningMs: number;
  /** Plan nodes that read a whole table or a large part of an index (see `scanNodes`). */
  scans: string[];
}

/** The explained statements of one search. */
export interface ExplainedSearch {
  name: string;
  /** The request, relative to the FHIR base. */
  path: string;
  statements: ExplainedStatement[];
}

/** Rows above which an index or bitmap scan node counts as a scan of a large part of the index. */
const LARGE = 20_000;

/**
 * Sequential scans, and index/bitmap scans that return more than LARGE rows (summed over loops):
 * the nodes whose cost grows with the database rather than with the result.
 */
export function scanNodes(plan: string): string[] {
  const out: string[] = [];
  for (const line of plan.split('\n')) {
    const node = /->\s+(.*?)\s+\(cost=/.exec(line)?.[1] ?? /^\s*(\S.*?)\s+\(cost=/.exec(line)?.[1];
    if (!node) continue;
    const actual = /actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)/.exec(line);
    const rows = actual ? Number(actual[1]) * Number(actual[2]) : 0;
    if (/^Seq Scan|^Parallel Seq Scan/.test(node)) out.push(`${node} (${rows.toLocaleString('en-US')} rows)`);
    else if (/Index Scan|Index Only Scan|Bitmap Index Scan/.test(node) && rows > LARGE) out.push(`${node} (${rows.toLocaleString('en-US')} rows)`);
  }
  return out;
}

/** Records the statements the server's search code sends, and runs them on `db`. */
function recorder(db: Queryable): { q: Queryable; recorded: { sql: string; params: readonly unknown[] }[] } {
  const recorded: { sql: string; params: readonly unknown[] }[] = [];
  return {
    recorded,
    q: {
      query: (sql, params) => {
        recorded.push({ sql, params: params ?? [] });
        return db.query(sql, params);
      },
    },
  };
}

/** Explains every statement of the search `path` (e.g. `Observation?code=…`) against `db`. */
export async function explainSearch(db: Queryable, defs: FhirDefinitions, name: string, path: string): Promise<ExplainedSearch> {
  // Only `config` and `defs` are read by the search code; the bench server runs with the defaults.
  const config = configFromEnv({}, { baseUrl: 'http://localhost/fhir' });
  // hasPlans: `_has` is planned as the server plans it (has-plan.ts).
  const ctx = { config, defs, hasPlans: hasPlanCache(), now: () => new Date() } as Pick<FhirContext, 'config' | 'defs' | 'hasPlans' | 'now'> as FhirContext;
  const [type = '', query = ''] = path.split('?');
  const req = parseSearch(defs, type, new URLSearchParams(query), config);
  if (req.unknown.length) throw new Error(`${path}: ${req.unknown.map((u) => u.reason).join('; ')}`);
  const { q, recorded } = recorder(db);
  const page = await runSearch(ctx, q, req);
  if (req.summary !== 'count' && (req.include.length || req.revinclude.length)) {
    await loadIncludes(q, () => binder(ctx.defs), req.include, req.revinclude, page.matches, config.maxCount);
  }
  const statements: ExplainedStatement[] = [];
  for (const { sql, params } of recorded) {
    const rows = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    const time = (label: string): number => Number(new RegExp(`${label}: ([\\d.]+) ms`).exec(plan)?.[1] ?? NaN);
    statements.push({ sql, params, plan, executionMs: time('Execution Time'), planningMs: time('Planning Time'), scans: scanNodes(plan) });
  }
  return { name, path, statements };
}

/** A readable text of explained searches, slowest statement first within the file order given. */
export function formatPlans(searches: ExplainedSearch[]): string {
  const parts: string[] = [];
  for (const s of searches) {
    parts.push(`${'='.repeat(100)}\n${s.name}: GET [base]/${s.path}\n`);
    s.statements.forEach((st, i) => {
      const total = st.executionMs + st.planningMs;
      parts.push(`-- statement ${i + 1}/${s.statements.length}: execution ${st.executionMs.toFixed(2)} ms, planning ${st.planningMs.toFixed(2)} ms (total ${total.toFixed(2)} ms)`);
      if (st.scans.length) parts.push(`-- scans: ${st.scans.join('; ')}`);
      parts.push(st.sql.replace(/\n\s+/g, '\n  '));
      parts.push(`-- params: ${JSON.stringify(st.params, (_, v: unknown) => (Array.isArray(v) && v.length > 12 ? [...v.slice(0, 12), `… ${v.length} in all`] : v))}`);
      parts.push(st.plan, '');
    });
  }
  return parts.join('\n');
}
