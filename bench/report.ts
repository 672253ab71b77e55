// The bench's output: a fixed-width table on stdout and the same figures as JSON.

/** One row of the report. */
export interface Row {
  phase: string;
  /** Operations counted (requests, bundles, inserts). */
  count: number;
  /** What `rate` measures, e.g. "req/s" or "resources/s". */
  unit: string;
  rate: number;
  p50?: number;
  p95?: number;
  p99?: number;
  errors?: number;
  /** Minimum acceptable `rate`, if the issue sets one. */
  target?: number;
  /** p95 must stay below this many milliseconds, if the issue sets a latency target. */
  maxP95?: number;
  /** p99 must stay below this many milliseconds, if the issue sets such a target. */
  maxP99?: number;
}

const pass = (r: Row): string => {
  if (r.target === undefined && r.maxP95 === undefined && r.maxP99 === undefined) return '';
  const fast = (r.maxP95 === undefined || (r.p95 !== undefined && r.p95 < r.maxP95)) && (r.maxP99 === undefined || (r.p99 !== undefined && r.p99 < r.maxP99));
  return (r.target === undefined || r.rate >= r.target) && fast && !r.errors ? 'pass' : 'FAIL';
};
const ms = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(v < 10 ? 2 : 1));
const int = (v: number): string => Math.round(v).toLocaleString('en-US');

const targetText = (r: Row): string => [
  r.target === undefined ? '' : `≥ ${r.unit.endsWith('%') ? r.target : int(r.target)}`,
  r.maxP95 === undefined ? '' : `p95 < ${r.maxP95}`,
  r.maxP99 === undefined ? '' : `p99 < ${r.maxP99}`,
].filter(Boolean).join(', ');

/** Formats rows as an aligned text table. */
export function table(rows: Row[]): string {
  const header = ['phase', 'count', 'rate', 'unit', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'target', 'result'];
  const cells = rows.map((r) => [
    r.phase, int(r.count), r.unit.endsWith('%') ? r.rate.toFixed(1) : int(r.rate), r.unit, ms(r.p50), ms(r.p95), ms(r.p99),
    r.errors === undefined ? '' : String(r.errors), targetText(r), pass(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 || i === 3 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The row list with a pass/fail verdict, for the JSON file. */
export function withVerdicts(rows: Row[]): (Row & { result: string })[] {
  return rows.map((r) => ({ ...r, result: pass(r) }));
}
