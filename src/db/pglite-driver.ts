// The embedded driver: PostgreSQL compiled to WASM (PGlite), one connection in-process.
// PGlite serialises statements itself; transactions hold its single connection until they end.
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

/** Opens (creating if needed) an embedded database in `dataDir`, or in memory for `memory://`. */
export async function openPglite(dataDir: string): Promise<Database> {
  const db = await PGlite.create(dataDir);
  const run = async <R>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]): Promise<R[]> => {
    const res = await q.query<R>(sql, params as unknown[] | undefined);
    return res.rows;
  };
  // PGlite reads COPY data from a Blob presented as the file /dev/blob.
  const copy = async (q: Pick<PGlite, 'query'>, sql: string, data: string): Promise<void> => {
    await q.query(sql.replace(/FROM STDIN\s*$/i, "FROM '/dev/blob'"), [], { blob: new Blob([data]) });
  };
  return {
    driver: 'pglite',
    query: (sql, params) => run(db, sql, params),
    copyFrom: (sql, data) => copy(db, sql, data),
    transaction: (fn) => db.transaction((t) => fn({ query: (sql, params) => run(t, sql, params), copyFrom: (sql, data) => copy(t, sql, data) } satisfies Queryable)),
    close: () => db.close(),
  };
}
