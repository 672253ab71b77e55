// _sort (search.html#sort): any indexed parameter can be a sort key. A resource's key is the least
// of its values for an ascending sort and the greatest for a descending one; resources without a
// value sort last either way; rid breaks ties so the order is total and keyset paging is exact.
import { scopeSql, type Binder } from './sql.js';

/** One resolved sort key: the parameter's type decides the index table and column. */
export interface SortKey { code: string; descending: boolean; type?: string }

/** One ORDER BY column and how to compare a cursor value with it. */
export interface SortColumn { expr: string; desc: boolean; cast: string }

const COLUMN: Record<string, { table: string; asc: string; desc: string; cast: string }> = {
  string: { table: 'idx_string', asc: 'min(x.norm)', desc: 'max(x.norm)', cast: 'text' },
  token: { table: 'idx_token', asc: 'min(x.code)', desc: 'max(x.code)', cast: 'text' },
  date: { table: 'idx_date', asc: 'min(x.low)', desc: 'max(x.high)', cast: 'timestamptz' },
  number: { table: 'idx_number', asc: 'min(x.value)', desc: 'max(x.value)', cast: 'numeric' },
  quantity: { table: 'idx_quantity', asc: 'min(x.canon_value)', desc: 'max(x.canon_value)', cast: 'numeric' },
  uri: { table: 'idx_uri', asc: 'min(x.uri)', desc: 'max(x.uri)', cast: 'text' },
  reference: { table: 'idx_reference', asc: 'min(x.target_id)', desc: 'max(x.target_id)', cast: 'text' },
};

/** Whether a parameter type can be sorted on. */
export const sortable = (type: string): boolean => type in COLUMN;

/** The ORDER BY columns for the keys, ending with rid. */
export function sortColumns(keys: SortKey[], b: Binder, resourceType: string | string[], r = 'r'): SortColumn[] {
  const cols: SortColumn[] = keys.map((k) => {
    if (k.code === '_id') return { expr: `${r}.id`, desc: k.descending, cast: 'text' };
    if (k.code === '_lastUpdated') return { expr: `${r}.last_updated`, desc: k.descending, cast: 'timestamptz' };
    const c = COLUMN[k.type as string] as (typeof COLUMN)[string];
    const agg = k.descending ? c.desc : c.asc;
    return { expr: `(SELECT ${agg} FROM ${c.table} x WHERE x.rid = ${r}.rid AND ${scopeSql(b, resourceType, k.code)})`, desc: k.descending, cast: c.cast };
  });
  cols.push({ expr: `${r}.rid`, desc: false, cast: 'bigint' });
  return cols;
}

/** ORDER BY text; missing values last in both directions. */
export function orderBy(cols: SortColumn[]): string {
  return cols.map((c) => `${c.expr} ${c.desc ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}

/** The predicate "sorts after the cursor row" for cursor values (null where the row had none). */
export function afterCursor(cols: SortColumn[], values: (string | null)[], b: Binder): string {
  const bound = values.map((v, i) => (v === null ? null : `${b.bind(v)}::${(cols[i] as SortColumn).cast}`));
  const ors = cols.map((c, i) => {
    const eqs = cols.slice(0, i).map((p, j) => (bound[j] === null ? `${p.expr} IS NULL` : `${p.expr} = ${bound[j]}`));
    const v = bound[i];
    const gt = v === null ? 'false' : `(${c.expr} ${c.desc ? '<' : '>'} ${v} OR ${c.expr} IS NULL)`;
    return `(${[...eqs, gt].join(' AND ')})`;
  });
  return `(${ors.join(' OR ')})`;
}
