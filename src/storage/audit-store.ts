// Typed SQL for the audit trail (migrations/006): the group-committed multi-row INSERT of audit_log
// rows, and the materializer's cursor-ordered reads and cursor moves.
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

/** A position in commit order: (transaction id, row id). */
export interface AuditPosition {
  xid: string;
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
// comma-joined text because unnest cannot take a ragged two-dimensional array.
const insertSql = `INSERT INTO audit_log (recorded, status, patients, ${TEXT_COLUMNS.join(', ')})
  SELECT u.recorded, u.status, string_to_array(u.patients, ','), ${TEXT_COLUMNS.map((c) => `u.${c}`).join(', ')}
  FROM unnest($1::timestamptz[], $2::smallint[], $3::text[], ${TEXT_COLUMNS.map((_, i) => `$${i + 4}::text[]`).join(', ')})
    AS u(recorded, status, patients, ${TEXT_COLUMNS.join(', ')})`;

/** Appends rows to audit_log in one statement (one commit when run outside a transaction). */
export async function insertAuditRows(q: Queryable, rows: readonly AuditRow[]): Promise<void> {
  if (!rows.length) return;
  const texts = rows.map(textValue);
  await q.query(insertSql, [
    rows.map((r) => r.recorded.toISOString()),
    rows.map((r) => r.status ?? null),
    rows.map((r) => r.patients.join(',')),
    ...TEXT_COLUMNS.map((c) => texts.map((t) => t[c] ?? null)),
  ], { prepare: true });
}

/**
 * Locks the named cursor for the rest of the transaction and returns its position; undefined
 * when another instance holds it (it is working a batch) or it does not exist.
 */
export async function lockAuditCursor(q: Queryable, name: string): Promise<AuditPosition | undefined> {
  const rows = await q.query<AuditPosition>(
    'SELECT last_xid::text AS xid, last_id::text AS id FROM audit_cursor WHERE name = $1 FOR UPDATE SKIP LOCKED',
    [name],
  );
  return rows[0];
}

/** Moves the cursor (inside the transaction that locked it). */
export async function moveAuditCursor(q: Queryable, name: string, to: AuditPosition): Promise<void> {
  await q.query('UPDATE audit_cursor SET last_xid = $2::xid8, last_id = $3::bigint, updated = now() WHERE name = $1', [name, to.xid, to.id]);
}

interface Row {
  id: string; xid: string; recorded_ms: number; action: AuditRow['action']; subtype: string; outcome: AuditRow['outcome'];
  status: number | null; patients: string[]; detail: string | null; client_id: string | null; user_id: string | null;
  user_name: string | null; fhir_user: string | null; role: string | null; token_id: string | null; res_type: string | null;
  res_id: string | null; query: string | null; source_ip: string | null; user_agent: string | null; request_id: string | null;
}

/**
 * The next rows after `after` in commit order, only from transactions older than every running
 * one: those rows are final, so advancing past them can never skip a row committed later.
 */
export async function readAuditRows(q: Queryable, after: AuditPosition, limit: number): Promise<(LoggedAuditRow & { xid: string })[]> {
  const rows = await q.query<Row>(
    // Ordered by the table's columns: a bare `ORDER BY id` would sort the text aliases ('10' < '9').
    `SELECT a.id::text AS id, a.xid::text AS xid, (extract(epoch from a.recorded) * 1000)::float8 AS recorded_ms, a.status, a.patients,
       ${TEXT_COLUMNS.map((c) => `a.${c}`).join(', ')}
     FROM audit_log a
     WHERE (a.xid, a.id) > ($1::xid8, $2::bigint) AND a.xid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY a.xid, a.id LIMIT $3`,
    [after.xid, after.id, limit],
  );
  return rows.map((r) => ({
    id: r.id, xid: r.xid, recorded: new Date(r.recorded_ms), action: r.action, subtype: r.subtype, outcome: r.outcome,
    patients: r.patients, ...defined({
      status: r.status ?? undefined, detail: r.detail, clientId: r.client_id, userId: r.user_id, userName: r.user_name,
      fhirUser: r.fhir_user, role: r.role, tokenId: r.token_id, resourceType: r.res_type, resourceId: r.res_id,
      query: r.query, ip: r.source_ip, userAgent: r.user_agent, requestId: r.request_id,
    }),
  }));
}

/** The ids among `ids` that `resourceType` already has (current or deleted). */
export async function existingIds(q: Queryable, resourceType: string, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await q.query<{ id: string }>('SELECT id FROM resources WHERE res_type = $1 AND id = ANY($2::text[])', [resourceType, ids]);
  return new Set(rows.map((r) => r.id));
}

/** `o` without its null and undefined members. */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], null> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], null> };
}
