// Migrations: applied once, recorded, safe to run twice and from two processes at once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readdir } from 'node:fs/promises';
import { openPglite } from '../../src/db/pglite-driver.js';
import { openPostgres } from '../../src/db/pg-driver.js';
import { migrate, migrationsDir } from '../../src/db/migrate.js';
import { fhir, startServer } from '../harness.js';
import pg from 'pg';

const allMigrations = async () => (await readdir(migrationsDir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();

describe('migrations', () => {
  it('apply once on the embedded database and are a no-op the second time', async () => {
    const db = await openPglite('memory://');
    try {
      assert.deepEqual(await migrate(db), await allMigrations());
      assert.deepEqual(await migrate(db), []);
      const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      assert.deepEqual(rows.map((r) => r.name), await allMigrations());
    } finally {
      await db.close();
    }
  });

  it('are applied exactly once when two instances start together on PostgreSQL', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL (runs in the PostgreSQL pass of CI)' }, async () => {
    const url = process.env.DATABASE_URL as string;
    const name = `helix_mig_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(url);
    u.pathname = `/${name}`;
    const a = openPostgres(u.toString(), 2);
    const b = openPostgres(u.toString(), 2);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      assert.deepEqual([...ra, ...rb].sort(), await allMigrations());
    } finally {
      await a.close();
      await b.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('embedded database', () => {
  it('keeps data in its data directory across a restart', { skip: !!process.env.DATABASE_URL && 'embedded-only' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helix-data-'));
    try {
      const first = await startServer({ dataDir: dir });
      const created = await fhir(first.base, 'POST', 'Patient', { resourceType: 'Patient', gender: 'other' });
      assert.equal(created.status, 201);
      await first.helix.close();
      const second = await startServer({ dataDir: dir });
      const read = await fhir(second.base, 'GET', `Patient/${created.body.id}`);
      await second.helix.close();
      assert.equal(read.status, 200);
      assert.equal(read.body.gender, 'other');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
