// Typed SQL for the audit trail (migrations/006, 007): the group-committed multi-row INSERT of
// audit_log rows, and the keyset-paged reads that serve AuditEvent read and search
// (src/smart/audit-search.ts builds the conditions).
import type { Queryable } from '../db/database.js';

/** One audit_log row as written (see migrations/006 for the meaning of each column). */
export interface AuditRow {
  recorded: Date;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  subtype: string;
  outcome: '0' | '4' | '8' | '12';
  status?: number;
  detail?: string;
  clientId?: string;
  userId?: string;
  userName?: string;
  fhirUser?: string;
  role?: string;
  tokenId?: string;
  resourceType?: string;
  resourceId?: string;
  /** Patient ids (not references); legal FHIR ids only, so none contains a comma. */
  patients: string[];
  query?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

/** A row read back, with its log id. */
export interface LoggedAuditRow extends AuditRow {
  id: string;
}

const TEXT_COLUMNS = [
  'action', 'subtype', 'outcome', 'detail', 'client_id', 'user_id', 'user_name', 'fhir_user', 'role', 'token_id',
  'res_type', 'res_id', 'query', 'source_ip', 'user_agent', 'request_id',
] as const;
const textValue = (r: AuditRow): Record<(typeof TEXT_COLUMNS)[number], string | undefined> => ({
  action: r.action, subtype: r.subtype, outcome: r.outcome, detail: r.detail, client_id: r.clientId, user_id: r.userId,
  user_name: r.userName, fhir_user: r.fhirUser, role: r.role, token_id: r.tokenId, res_type: r.resourceType,
  res_id: r.resourceId, query: r.query, source_ip: r.ip, user_agent: r.userAgent, request_id: r.requestId,
});

// One statement for any number of rows: a column per array parameter. Patient lists travel as
// comma-joined text because unnest cannot take a ragged two-dimensional array. Rows from the audit
// queue carry their queue entry id, so a redelivered entry is skipped, not doubled; rows written
// straight to PostgreSQL have none (the unique index ignores NULLs).
const insertSql = `INSERT INTO audit_log (recorded, status, patients, ${TEXT_COLUMNS.join(', ')}, queue_id)
  SELECT u.recorded, u.status, string_to_array(u.patients, ','), ${TEXT_COLUMNS.map((c) => `u.${c}`).join(', ')}, u.queue_id
  FROM unnest($1::timestamptz[], $2::smallint[], $3::text[], ${TEXT_COLUMNS.map((_, i) => `$${i + 4}::text[]`).join(', ')}, $${TEXT_COLUMNS.length + 4}::text[])
    AS u(recorded, status, patients, ${TEXT_COLUMNS.join(', ')}, queue_id)
  ON CONFLICT (queue_id) WHERE queue_id IS NOT NULL DO NOTHING`;

/**
 * Appends rows to audit_log in one statement (one commit when run outside a transaction);
 * `queueIds` (parallel to `rows`) key the rows delivered by the audit queue (src/smart/audit-queue.ts).
 */
export async function insertAuditRows(q: Queryable, rows: readonly AuditRow[], queueIds?: readonly string[]): Promise<void> {
  if (!rows.length) return;
  const texts = rows.map(textValue);
  await q.query(insertSql, [
    rows.map((r) => r.recorded.toISOString()),
    rows.map((r) => r.status ?? null),
    rows.map((r) => r.patients.join(',')),
    ...TEXT_COLUMNS.map((c) => texts.map((t) => t[c] ?? null)),
    queueIds ?? rows.map(() => null),
  ], { prepare: true });
}

interface Row {
  id: string; recorded_ms: number; recorded_us: string; action: AuditRow['action']; subtype: string; outcome: AuditRow['outcome'];
  status: number | null; patients: string[]; detail: string | null; client_id: string | null; user_id: string | null;
  user_name: string | null; fhir_user: string | null; role: string | null; token_id: string | null; res_type: string | null;
  res_id: string | null; query: string | null; source_ip: string | null; user_agent: string | null; request_id: string | null;
}

/** A row read back for AuditEvent search, with its position in the (recorded, id) order. */
export interface FoundAuditRow extends LoggedAuditRow {
  /** `recorded` in microseconds since the epoch, exact (a Date keeps milliseconds only). */
  recordedMicros: string;
}

/** A position in the (recorded, id) order of the log. */
export interface AuditKey {
  recordedMicros: string;
  id: string;
}

/** A predicate over `audit_log a` and its bind parameters ($1…). */
export interface AuditCondition {
  where: string;
  params: unknown[];
  /**
   * The condition names a patient or a resource, whose rows are a sliver of the log: collect them
   * first, then order them. Left to itself the planner misjudges "patients contains" (its guess for
   * an element it has no statistics for is 0.5% of the rows) and walks the whole log in time order.
   */
  selective?: boolean;
}

// Rendered with table-qualified names throughout: a bare `ORDER BY id` would sort the text alias.
const COLUMNS = `a.id::text AS id, (extract(epoch from a.recorded) * 1000)::float8 AS recorded_ms,
  (extract(epoch from a.recorded) * 1000000)::bigint::text AS recorded_us, a.status, a.patients,
  ${TEXT_COLUMNS.map((c) => `a.${c}`).join(', ')}`;
const AT_MICROS = (p: string): string => `('epoch'::timestamptz + ${p}::bigint * interval '1 microsecond')`;

/** The row with log id `id`, or undefined. */
export async function readAuditRow(q: Queryable, id: string): Promise<FoundAuditRow | undefined> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM audit_log a WHERE a.id = $1::bigint`, [id]);
  return rows[0] && toRow(rows[0]);
}

/**
 * Up to `limit` rows meeting `condition`, in (recorded, id) order — newest first when `descending` —
 * strictly after `after`: a keyset page, so deep pages cost what the first does.
 */
export async function findAuditRows(
  q: Queryable, condition: AuditCondition, options: { descending: boolean; limit: number; after?: AuditKey },
): Promise<FoundAuditRow[]> {
  const params = [...condition.params];
  const bind = (v: unknown): string => `$${params.push(v)}`;
  const where = [condition.where];
  if (options.after) {
    where.push(`(a.recorded, a.id) ${options.descending ? '<' : '>'} (${AT_MICROS(bind(options.after.recordedMicros))}, ${bind(options.after.id)}::bigint)`);
  }
  const dir = options.descending ? 'DESC' : 'ASC';
  const matches = where.join(' AND ');
  const from = condition.selective
    ? `WITH m AS MATERIALIZED (SELECT * FROM audit_log a WHERE ${matches}) SELECT ${COLUMNS} FROM m a`
    : `SELECT ${COLUMNS} FROM audit_log a WHERE ${matches}`;
  const rows = await q.query<Row>(`${from} ORDER BY a.recorded ${dir}, a.id ${dir} LIMIT ${bind(options.limit)}`, params);
  return rows.map(toRow);
}

/** How many rows meet `condition`. */
export async function countAuditRows(q: Queryable, condition: AuditCondition): Promise<number> {
  const rows = await q.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_log a WHERE ${condition.where}`, condition.params);
  return Number(rows[0]?.n ?? 0);
}

/** The planner's estimate of the rows meeting `condition` (EXPLAIN reads none). */
export async function estimateAuditRows(q: Queryable, condition: AuditCondition): Promise<number> {
  const rows = await q.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM audit_log a WHERE ${condition.where}`, condition.params);
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan?: { 'Plan Rows'?: unknown } }[] | undefined;
  const estimate = Number(plan?.[0]?.Plan?.['Plan Rows']);
  return Number.isFinite(estimate) && estimate > 0 ? Math.round(estimate) : 0;
}

function toRow(r: Row): FoundAuditRow {
  return {
    id: r.id, recorded: new Date(r.recorded_ms), recordedMicros: r.recorded_us, action: r.action, subtype: r.subtype, outcome: r.outcome,
    patients: r.patients, ...defined({
      status: r.status ?? undefined, detail: r.detail, clientId: r.client_id, userId: r.user_id, userName: r.user_name,
      fhirUser: r.fhir_user, role: r.role, tokenId: r.token_id, resourceType: r.res_type, resourceId: r.res_id,
      query: r.query, ip: r.source_ip, userAgent: r.user_agent, requestId: r.request_id,
    }),
  };
}

/** `o` without its null and undefined members. */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], null> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], null> };
}
