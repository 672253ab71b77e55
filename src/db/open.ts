// Chooses the driver: PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise.
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPostgres } from './pg-driver.js';
import { openPglite } from './pglite-driver.js';

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolSize'>): Promise<Database> {
  let db: Database;
  if (config.databaseUrl) {
    db = openPostgres(config.databaseUrl, config.dbPoolSize);
  } else {
    if (!config.dataDir.startsWith('memory://')) await mkdir(config.dataDir, { recursive: true });
    db = await openPglite(config.dataDir);
  }
  await migrate(db);
  return db;
}
