// The raw limit: what plain `pg` achieves writing exactly what one Helix Observation create
// writes (resource row, version row, index rows — Helix's own single statement from
// resource-store.ts), with index rows computed once per sample by Helix's own extractor. The gap
// between this and the HTTP create rate is the cost of HTTP, JSON, validation and extraction.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../src/db/database.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { createIndexExtractor } from '../src/search/extract.js';
import type { IndexRows } from '../src/search/index-rows.js';
import { insertResource } from '../src/storage/resource-store.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { vitalSign } from './vitals.js';

const ID = '__BENCH_ID__';
const LAST_UPDATED = '__BENCH_LU__';
const SAMPLES = 64;

interface Sample {
  /** Stored JSON text with placeholders for id and lastUpdated. */
  template: string;
  index: IndexRows;
}

/** The load result plus the shape of what was written. */
export interface RawResult extends LoadResult {
  /** Average index rows per insert. */
  indexRowsPerInsert: number;
}

/** Builds samples shaped like Helix's stamp(): id and meta first, index rows from the extractor. */
function samples(baseUrl: string): Sample[] {
  const extractor = createIndexExtractor(loadDefinitions(), { baseUrl });
  return Array.from({ length: SAMPLES }, (_, i) => {
    const { resourceType, meta, ...rest } = vitalSign(i);
    const stamped = { resourceType, id: ID, meta: { ...meta, versionId: '1', lastUpdated: LAST_UPDATED }, ...rest } as Resource;
    return { template: JSON.stringify(stamped), index: extractor.extract(stamped) };
  });
}

const countRows = (r: IndexRows): number => Object.values(r).reduce((n, rows: unknown[]) => n + rows.length, 0);

/** Inserts Observations with plain pg at `options.concurrency` (pool of the same size). */
export async function rawInsertPhase(databaseUrl: string, baseUrl: string, options: LoadOptions): Promise<RawResult> {
  const prepared = samples(baseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.concurrency });
  const q: Queryable = { query: async (sql, params) => (await pool.query(sql, params as unknown[] | undefined)).rows };
  const insert = async (seq: number): Promise<string | void> => {
    const sample = prepared[seq % SAMPLES] as Sample;
    const id = randomUUID();
    const lastUpdated = new Date().toISOString();
    const rid = await insertResource(q, {
      resourceType: 'Observation', id, versionId: 1, lastUpdated, method: 'POST',
      content: sample.template.replace(ID, id).replace(LAST_UPDATED, lastUpdated), index: sample.index,
    });
    if (!rid) return 'id collision';
  };
  try {
    await runLoad({ concurrency: options.concurrency, seconds: 2 }, insert); // fill the pool, warm the plans
    const result = await runLoad(options, insert);
    const indexRowsPerInsert = prepared.reduce((n, s) => n + countRows(s.index), 0) / prepared.length;
    return { ...result, indexRowsPerInsert };
  } finally {
    await pool.end();
  }
}
