// The `pg` driver: a connection pool against a real PostgreSQL server.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyStream } from 'pg-copy-streams';
import type { Database, Queryable, QueryOptions } from './database.js';

const MAX_PREPARED = 2_000;

/** Opens a pooled connection to the PostgreSQL server at `url`. */
export function openPostgres(url: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined);
  // Statement names are per SQL text; pg prepares each once per connection on first use. Search
  // SQL has one text per shape of query, which clients choose: past MAX_PREPARED texts, new ones
  // run unnamed, so no client can make the connections accumulate statements without bound.
  const names = new Map<string, string>();
  const nameOf = (sql: string): string | undefined => {
    let name = names.get(sql);
    if (!name && names.size < MAX_PREPARED) names.set(sql, (name = `helix_${names.size}`));
    return name;
  };
  const run = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]> => {
    const values = params as unknown[] | undefined;
    const name = options?.prepare ? nameOf(sql) : undefined;
    const res = await client.query(name ? { name, text: sql, values } : { text: sql, values });
    return res.rows as R[];
  };
  return {
    driver: 'postgres',
    query: (sql, params, options) => run(pool, sql, params, options),
    async copyFrom(sql, data) {
      const client = await pool.connect();
      try {
        await pipeline(Readable.from([data]), client.query(copyStream(sql)));
      } finally {
        client.release();
      }
    },
    async transaction(fn) {
      const client = await pool.connect();
      const tx: Queryable = {
        query: (sql, params, options) => run(client, sql, params, options),
        copyFrom: (sql, data) => pipeline(Readable.from([data]), client.query(copyStream(sql))),
      };
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
