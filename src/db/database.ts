// One storage layer, two drivers: `pg` against a real PostgreSQL and PGlite embedded in-process.
// Both speak the same SQL, so everything above this file is driver-agnostic.

/** How to run a statement. */
export interface QueryOptions {
  /**
   * Keep the statement prepared on the connection and reuse its plan: planning a multi-CTE write,
   * or a search page, can cost more than executing it. The number of texts kept is bounded (SQL
   * built from request input has one text per query shape), so rare shapes may run unprepared.
   */
  prepare?: boolean;
}

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one parameterised statement and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]>;
  /**
   * Runs `COPY … FROM STDIN` with `data` in COPY's text format: the bulk path for millions of
   * rows (VCF import), several times cheaper than INSERT. Both drivers provide it.
   */
  copyFrom?(sql: string, data: string): Promise<void>;
}

/** A database handle with transactions. */
export interface Database extends Queryable {
  readonly driver: 'postgres' | 'pglite';
  /** Runs `fn` inside one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Releases connections. */
  close(): Promise<void>;
}
