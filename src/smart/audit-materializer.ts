// The audit materializer: turns audit_log rows into FHIR R4 AuditEvent resources, stored through the
// normal write path (resource row, version 1, index rows) so that admins search them with the
// ordinary engine: AuditEvent?patient=…&date=…&agent=…&entity=…&action=…
// One batch is one transaction: lock the cursor row (FOR UPDATE SKIP LOCKED, so one instance works at
// a time and the others find nothing to do), read the next rows in commit order, insert the
// AuditEvents whose deterministic ids (`audit-<log id>`) do not exist yet, move the cursor. A crash
// rolls all of it back; a rerun over the same rows inserts nothing twice. These writes do not pass
// through the HTTP layer, so they are not audited themselves.
import type { Database, Queryable } from '../db/database.js';
import type { IndexExtractor } from '../search/extract.js';
import { existingIds, lockAuditCursor, moveAuditCursor, readAuditRows } from '../storage/audit-store.js';
import { insertResources, type VersionWrite } from '../storage/resource-store.js';
import { auditEventId, auditEventOf } from './audit-event.js';

/** The cursor the server's materializer uses (migrations/006 creates its row). */
export const AUDIT_CURSOR = 'AuditEvent';

/** What one batch did. */
export interface AuditBatchResult {
  /** audit_log rows the cursor moved over. */
  read: number;
  /** AuditEvents inserted (fewer than `read` when some existed already). */
  written: number;
}

/** Tuning of a batch. */
export interface AuditBatchOptions {
  batchSize: number;
  /** Clock for meta.lastUpdated. */
  now?(): Date;
  /** The audit_cursor row to use; AUDIT_CURSOR unless a test keeps its own. */
  cursor?: string;
}

/** Tuning of the runner. */
export interface AuditMaterializerOptions extends AuditBatchOptions {
  /** How often to look for new rows when caught up. */
  pollMs: number;
  onError(err: unknown): void;
  /** Called after each committed batch (e.g. to count `written` toward the statistics keeper). */
  onBatch?(result: AuditBatchResult): void;
}

/** A running materializer. */
export interface AuditMaterializer {
  /** Looks for rows now instead of at the next poll. */
  nudge(): void;
  /** Stops after the batch in progress, if any. */
  stop(): Promise<void>;
}

// Index extraction is synchronous CPU work; a batch yields to the event loop between slices so
// that requests are not held up behind it.
const SLICE = 50;

/** Materializes the next batch; 'busy' when another instance holds the cursor. */
export async function materializeAuditBatch(db: Database, extractor: IndexExtractor, options: AuditBatchOptions): Promise<AuditBatchResult | 'busy'> {
  const cursor = options.cursor ?? AUDIT_CURSOR;
  return db.transaction(async (tx): Promise<AuditBatchResult | 'busy'> => {
    const at = await lockAuditCursor(tx, cursor);
    if (!at) return 'busy';
    const rows = await readAuditRows(tx, at, options.batchSize);
    const last = rows[rows.length - 1];
    if (!last) return { read: 0, written: 0 };
    const written = await insertEvents(tx, extractor, rows, (options.now?.() ?? new Date()).toISOString());
    await moveAuditCursor(tx, cursor, { xid: last.xid, id: last.id });
    return { read: rows.length, written };
  });
}

async function insertEvents(
  tx: Queryable, extractor: IndexExtractor, rows: Awaited<ReturnType<typeof readAuditRows>>, lastUpdated: string,
): Promise<number> {
  // Only a replay after a cursor reset, or an AuditEvent created through the API under such an id,
  // can have taken an id already: skip those rather than fail the batch for ever.
  const taken = await existingIds(tx, 'AuditEvent', rows.map((r) => auditEventId(r.id)));
  const writes: VersionWrite[] = [];
  for (const row of rows) {
    if (taken.has(auditEventId(row.id))) continue;
    const event = auditEventOf(row, lastUpdated);
    writes.push({
      resourceType: 'AuditEvent', id: event.id as string, versionId: 1, lastUpdated, method: 'POST',
      content: JSON.stringify(event), index: extractor.extract(event),
    });
    if (writes.length % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await insertResources(tx, writes);
  return writes.length;
}

/** Starts the background loop: full batches back to back, then a poll every `pollMs`. */
export function startAuditMaterializer(db: Database, extractor: IndexExtractor, options: AuditMaterializerOptions): AuditMaterializer {
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { wake = undefined; resolve(); }, ms);
    t.unref();
    wake = () => { clearTimeout(t); wake = undefined; resolve(); };
  });

  const loop = async (): Promise<void> => {
    while (!stopped) {
      let full = false;
      try {
        const result = await materializeAuditBatch(db, extractor, options);
        if (result !== 'busy') {
          if (result.read) options.onBatch?.(result);
          full = result.read >= options.batchSize;
        }
      } catch (err) {
        if (stopped) return;
        options.onError(withoutRowContent(err));
      }
      if (!full && !stopped) await sleep(options.pollMs);
    }
  };
  const running = loop();

  return {
    nudge: () => wake?.(),
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}

// A database error's detail and message can quote the values of a row, which here are PHI; the
// error handed on (and logged) keeps only the SQLSTATE and the constraint.
function withoutRowContent(err: unknown): Error {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    const constraint = typeof e.constraint === 'string' ? `, constraint ${e.constraint}` : '';
    return new Error(`audit materialization failed: SQLSTATE ${e.code}${constraint}`);
  }
  return err instanceof Error ? err : new Error('audit materialization failed');
}
