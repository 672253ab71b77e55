// SQL fragments that write a resource's index rows with `unnest` over one array parameter per
// column, so any number of rows costs no extra round trip. Table shapes are in migrations/001.
import type { IndexRows } from '../search/index-rows.js';

interface IndexTable {
  table: string;
  /** Columns after (rid, res_type) — or after rid for the compartment table. */
  columns: { name: string; type: string }[];
  typed: boolean;
  values(rows: IndexRows): unknown[][];
}

const col = (name: string, type = 'text') => ({ name, type });

const TABLES: IndexTable[] = [
  {
    table: 'idx_string', typed: true, columns: [col('param'), col('norm'), col('exact')],
    values: (r) => [r.string.map((x) => x.param), r.string.map((x) => x.norm), r.string.map((x) => x.exact)],
  },
  {
    table: 'idx_token', typed: true, columns: [col('param'), col('system'), col('code'), col('text_norm')],
    values: (r) => [r.token.map((x) => x.param), r.token.map((x) => x.system), r.token.map((x) => x.code), r.token.map((x) => x.text ?? null)],
  },
  {
    table: 'idx_date', typed: true, columns: [col('param'), col('low', 'timestamptz'), col('high', 'timestamptz')],
    values: (r) => [r.date.map((x) => x.param), r.date.map((x) => x.low), r.date.map((x) => x.high)],
  },
  {
    table: 'idx_number', typed: true,
    columns: [col('param'), col('value', 'numeric'), col('low', 'numeric'), col('high', 'numeric')],
    values: (r) => [r.number.map((x) => x.param), r.number.map((x) => x.value), r.number.map((x) => x.low), r.number.map((x) => x.high)],
  },
  {
    table: 'idx_quantity', typed: true,
    columns: [
      col('param'), col('system'), col('code'), col('value', 'numeric'), col('low', 'numeric'), col('high', 'numeric'),
      col('canon_code'), col('canon_value', 'numeric'),
    ],
    values: (r) => {
      const q = r.quantity;
      return [
        q.map((x) => x.param), q.map((x) => x.system), q.map((x) => x.code), q.map((x) => x.value),
        q.map((x) => x.low), q.map((x) => x.high), q.map((x) => x.canonCode ?? x.code), q.map((x) => x.canonValue ?? x.value),
      ];
    },
  },
  {
    table: 'idx_uri', typed: true, columns: [col('param'), col('uri')],
    values: (r) => [r.uri.map((x) => x.param), r.uri.map((x) => x.uri)],
  },
  {
    table: 'idx_reference', typed: true, columns: [col('param'), col('target_type'), col('target_id'), col('target_url')],
    values: (r) => [
      r.reference.map((x) => x.param), r.reference.map((x) => x.targetType),
      r.reference.map((x) => x.targetId), r.reference.map((x) => x.targetUrl),
    ],
  },
  {
    table: 'idx_composite', typed: true,
    columns: [
      col('param'), col('t_system'), col('t_code'), col('v_system'), col('v_code'), col('v_value', 'numeric'),
      col('v_canon_code'), col('v_canon_value', 'numeric'), col('v_low', 'timestamptz'), col('v_high', 'timestamptz'), col('v_norm'),
    ],
    values: (r) => {
      const c = r.composite;
      return [
        c.map((x) => x.param), c.map((x) => x.tSystem), c.map((x) => x.tCode), c.map((x) => x.vSystem), c.map((x) => x.vCode),
        c.map((x) => x.vValue), c.map((x) => x.vCanonCode), c.map((x) => x.vCanonValue), c.map((x) => x.vLow), c.map((x) => x.vHigh),
        c.map((x) => x.vNorm),
      ];
    },
  },
  {
    table: 'idx_compartment', typed: false, columns: [col('comp_type'), col('comp_id')],
    values: (r) => [r.compartment.map((x) => x.compType), r.compartment.map((x) => x.compId)],
  },
];

/** Number of parameters `indexParams` produces. */
export const INDEX_PARAM_COUNT = TABLES.reduce((n, t) => n + t.columns.length, 0);

/**
 * CTEs inserting every index table's rows for the rid in CTE `r`. Parameters start at `$first`;
 * `$1` must be the resource type.
 */
export function indexInsertCtes(first: number, mask = ALL_TABLES): string {
  let p = first;
  return TABLES.map((t, i) => {
    if (!(mask & (1 << i))) return '';
    const names = t.columns.map((c) => c.name);
    const arrays = t.columns.map((c) => `$${p++}::${c.type}[]`);
    const target = t.typed ? `(rid, res_type, ${names.join(', ')})` : `(rid, ${names.join(', ')})`;
    const select = t.typed ? `r.rid, $1, u.*` : `r.rid, u.*`;
    return `, i${i} AS (INSERT INTO ${t.table} ${target} SELECT ${select} FROM r, unnest(${arrays.join(', ')}) AS u)`;
  }).join('\n');
}

/**
 * CTEs inserting the index rows of many new resources at once. Each row carries the 1-based
 * ordinal of its resource in the batch, joined through CTE `u` (ord, res_type, id) to the rids
 * CTE `r` returned. Parameters start at `$first`.
 */
export function bulkIndexInsertCtes(first: number): string {
  const ctes = ordinalInsertCtes(first, 'r', 'JOIN u ON u.ord = x.ord JOIN r ON r.res_type = u.res_type AND r.id = u.id');
  return ctes.map((insert, i) => `, i${i} AS (${insert})`).join('\n');
}

/**
 * Per table, an INSERT of the rows given as `bulkIndexParams` arrays (from `$first`): `join`
 * leads from each row's ordinal `x.ord` to the resource, whose `rid` and `res_type` are read from
 * the relation `owner`.
 */
function ordinalInsertCtes(first: number, owner: string, join: string): string[] {
  let p = first;
  return TABLES.map((t) => {
    const names = t.columns.map((c) => c.name);
    const arrays = [`$${p++}::int[]`, ...t.columns.map((c) => `$${p++}::${c.type}[]`)];
    const target = t.typed ? `(rid, res_type, ${names.join(', ')})` : `(rid, ${names.join(', ')})`;
    const cols = names.map((n) => `x.${n}`).join(', ');
    const select = t.typed ? `${owner}.rid, ${owner}.res_type, ${cols}` : `${owner}.rid, ${cols}`;
    return `INSERT INTO ${t.table} ${target} SELECT ${select}
      FROM unnest(${arrays.join(', ')}) AS x(ord, ${names.join(', ')}) ${join}`;
  });
}

/** The array parameters for `bulkIndexInsertCtes`: per table, the ordinals then each column. */
export function bulkIndexParams(all: IndexRows[]): unknown[][] {
  return TABLES.flatMap((t) => {
    const ords: number[] = [];
    const columns: unknown[][] = t.columns.map(() => []);
    all.forEach((rows, i) => {
      const values = t.values(rows);
      const n = values[0]?.length ?? 0;
      for (let k = 0; k < n; k++) {
        ords.push(i + 1);
        values.forEach((v, c) => columns[c]?.push(v[k]));
      }
    });
    return [ords, ...columns];
  });
}

/** CTEs deleting every index row of the rid in CTE `source`. */
export function indexDeleteCtes(source: string): string {
  return TABLES.map((t, i) => `, d${i} AS (DELETE FROM ${t.table} WHERE rid IN (SELECT rid FROM ${source}))`).join('\n');
}

const ROW_LISTS: Record<string, keyof IndexRows> = {
  idx_string: 'string', idx_token: 'token', idx_date: 'date', idx_number: 'number', idx_quantity: 'quantity',
  idx_uri: 'uri', idx_reference: 'reference', idx_composite: 'composite', idx_compartment: 'compartment',
};
const rowCount = (t: IndexTable, rows: IndexRows): number => rows[ROW_LISTS[t.table] as keyof IndexRows].length;

/** Bit mask of every index table. */
export const ALL_TABLES = (1 << TABLES.length) - 1;

/**
 * Which tables `rows` has rows for, as a bit mask. Statements are built per mask so that a
 * resource pays only for the tables it uses (an empty INSERT … unnest still costs an executor node).
 */
export function indexMask(rows: IndexRows | null): number {
  if (!rows) return 0;
  let mask = 0;
  TABLES.forEach((t, i) => {
    // The first column is always `param`, one entry per row: count rows without building arrays.
    if (rowCount(t, rows) > 0) mask |= 1 << i;
  });
  return mask;
}

/** The array parameters for `indexInsertCtes` with the same mask. */
export function indexParams(rows: IndexRows | null, mask = ALL_TABLES): unknown[][] {
  return TABLES.flatMap((t, i) => {
    if (!(mask & (1 << i))) return [];
    return rows ? t.values(rows) : t.columns.map(() => []);
  });
}

/**
 * CTEs that rewrite the index rows of existing resources: delete their rows (only those of the
 * parameter codes in `$3` when `byCode`, and then never compartment rows) and insert new ones.
 * `$1` is the rids and `$2` their types, in batch order; the arrays of `bulkIndexParams` start at `$4`.
 */
export function rewriteIndexCtes(byCode: boolean): string {
  const inserts = ordinalInsertCtes(4, 'u', 'JOIN u ON u.ord = x.ord');
  return TABLES.map((t, i) => {
    const del = !byCode
      ? `, d${i} AS (DELETE FROM ${t.table} WHERE rid = ANY($1::bigint[]))`
      : t.typed ? `, d${i} AS (DELETE FROM ${t.table} WHERE rid = ANY($1::bigint[]) AND param = ANY($3::text[]))` : '';
    return `${del}\n      , i${i} AS (${inserts[i]})`;
  }).join('\n');
}
