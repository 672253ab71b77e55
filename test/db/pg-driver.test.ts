// The pg driver keeps statements prepared per SQL text, but only up to a bound: search SQL has one
// text per query shape, which clients choose.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgres } from '../../src/db/pg-driver.js';

describe('pg driver', () => {
  it('prepares at most 2,000 statement texts per connection and runs the rest unnamed', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL (runs in the PostgreSQL pass of CI)' }, async () => {
    const db = openPostgres(process.env.DATABASE_URL as string, 1);
    try {
      for (let i = 0; i < 2_050; i++) {
        const [row] = await db.query<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1], { prepare: true });
        assert.equal(row?.n, i + 1);
      }
      const [count] = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM pg_prepared_statements WHERE name LIKE 'helix\\_%'");
      assert.equal(count?.n, '2000');
    } finally {
      await db.close();
    }
  });
});
