// Fills the bench database with Synthea data for the search phase, straight through storage (no
// HTTP): the `0-*` reference data once, then the patient bundles again and again under new ids
// (copy k gives entry `<uuid>` the id `<k>-<uuid>`), until the database holds `target` resources.
// Each bundle is parsed, its `urn:uuid:` references rewritten to `Type/<new id>`, its conditional
// references (`Practitioner?identifier=…`) resolved against the reference data, stamped with meta,
// indexed by the server's own extractor and written with `insertResources` — one transaction per
// patient bundle, so an interrupted load resumes at the first bundle whose Patient is missing.
// Patient family names get the copy number appended (`Cormier289-07`) so string searches stay
// selective. Afterwards VACUUM (ANALYZE): statistics for the planner, and the visibility map that
// index-only scans need (autovacuum would get there too on an insert-only table, but later).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { openPostgres } from '../src/db/pg-driver.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { createIndexExtractor, type IndexExtractor } from '../src/search/extract.js';
import { insertResources, type VersionWrite } from '../src/storage/resource-store.js';

const BATCH = 500;
/** Patient bundles written concurrently while the next one is being prepared. */
const IN_FLIGHT = 2;

interface Entry { fullUrl?: string; resource?: Resource }
interface Bundle { entry?: Entry[] }

/** What the loader did. */
export interface SearchDataSummary {
  /** Resources in the database afterwards. */
  resources: number;
  /** Resources this run inserted (0 when the database was already big enough). */
  inserted: number;
  seconds: number;
}

/** The family name a Patient of copy `k` gets. */
export const copyFamily = (family: string, k: number): string => `${family}-${String(k).padStart(2, '0')}`;

const readBundle = (dir: string, name: string): string => gunzipSync(readFileSync(join(dir, name))).toString('utf8');

/**
 * Rewrites a parsed bundle in place: ids via `newId`, references to entries via their fullUrls,
 * conditional references via `conditional` (dropped when unresolvable), family names via `family`.
 */
function rewrite(bundle: Bundle, newId: (id: string) => string, conditional: ReadonlyMap<string, string>, family?: (f: string) => string): Resource[] {
  const byFullUrl = new Map<string, string>();
  const resources: Resource[] = [];
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (!r?.id) continue;
    r.id = newId(r.id);
    if (e.fullUrl) byFullUrl.set(e.fullUrl, `${r.resourceType}/${r.id}`);
    resources.push(r);
  }
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const v of node) if (v && typeof v === 'object') walk(v);
      return;
    }
    const obj = node as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      if (key === 'reference' && typeof v === 'string') {
        const target = byFullUrl.get(v) ?? (v.includes('?') ? conditional.get(v) : v);
        if (target === undefined) delete obj[key];
        else obj[key] = target;
      } else if (v && typeof v === 'object') walk(v);
    }
  };
  for (const r of resources) {
    walk(r);
    if (family && r.resourceType === 'Patient') for (const n of r.name ?? []) if (n.family) n.family = family(n.family);
  }
  return resources;
}

/** Stamps meta as the server does (resourceType, id, meta first) and extracts the index rows. */
function toWrites(extractor: IndexExtractor, resources: Resource[], lastUpdated: string): VersionWrite[] {
  return resources.map((resource) => {
    const { resourceType, id, meta, ...rest } = resource;
    const stamped = { resourceType, id, meta: { ...(meta ?? {}), versionId: '1', lastUpdated }, ...rest } as Resource;
    return {
      resourceType, id: id as string, versionId: 1, lastUpdated, method: 'POST',
      content: JSON.stringify(stamped), index: extractor.extract(stamped),
    };
  });
}

async function writeAll(db: Database, writes: VersionWrite[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (let i = 0; i < writes.length; i += BATCH) await insertResources(tx, writes.slice(i, i + BATCH));
  });
}

async function count(db: Database): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM resources'))[0]?.n ?? 0);
}

/** Loads Synthea copies into the database at `url` until it holds at least `target` resources. */
export async function loadSearchData(
  url: string, dir: string, target: number, log: (msg: string) => void,
): Promise<SearchDataSummary> {
  const started = performance.now();
  const db = openPostgres(url, IN_FLIGHT + 1);
  try {
    await migrate(db);
    let total = await count(db);
    if (total >= target) {
      log(`search data: ${total.toLocaleString('en-US')} resources already loaded (≥ ${target.toLocaleString('en-US')}), skipping the load`);
      return { resources: total, inserted: 0, seconds: (performance.now() - started) / 1000 };
    }
    const extractor = createIndexExtractor(loadDefinitions(), { baseUrl: 'http://localhost/fhir' });
    const names = readdirSync(dir).filter((n) => n.endsWith('.json.gz')).sort();
    const lastUpdated = new Date().toISOString();

    // Reference data: Organizations, Locations, Practitioners and roles, kept under their own ids.
    const conditional = new Map<string, string>();
    const referenceData: Resource[] = [];
    for (const name of names.filter((n) => n.startsWith('0-'))) {
      for (const r of rewrite(JSON.parse(readBundle(dir, name)) as Bundle, (id) => id, new Map())) {
        referenceData.push(r);
        for (const ident of (r as { identifier?: { system?: string; value?: string }[] }).identifier ?? []) {
          if (ident.system && ident.value) conditional.set(`${r.resourceType}?identifier=${ident.system}|${ident.value}`, `${r.resourceType}/${r.id}`);
        }
      }
    }
    const first = referenceData[0];
    if (first && !(await db.query('SELECT 1 FROM resources WHERE res_type = $1 AND id = $2', [first.resourceType, first.id])).length) {
      await writeAll(db, toWrites(extractor, referenceData, lastUpdated));
      total += referenceData.length;
      log(`search data: ${referenceData.length} reference resources (Organization, Location, Practitioner, PractitionerRole)`);
    }

    // Patient bundles already written (resumed load): their Patient exists.
    const done = new Set((await db.query<{ id: string }>("SELECT id FROM resources WHERE res_type = 'Patient'")).map((r) => r.id));
    const texts = names.filter((n) => !n.startsWith('0-')).map((n) => readBundle(dir, n));
    if (!texts.length) throw new Error(`no Synthea patient bundles in ${dir}`);
    const initial = total;
    let inserted = 0;
    let lastLog = performance.now();
    const inflight = new Set<Promise<void>>();
    log(`search data: loading Synthea copies into the database until it holds ${target.toLocaleString('en-US')} resources (now ${total.toLocaleString('en-US')})`);
    for (let k = 0; total < target; k++) {
      for (let i = 0; i < texts.length && total < target; i++) {
        const bundle = JSON.parse(texts[i] as string) as Bundle;
        const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource;
        if (patient?.id && done.has(`${k}-${patient.id}`)) continue;
        const writes = toWrites(extractor, rewrite(bundle, (id) => `${k}-${id}`, conditional, (f) => copyFamily(f, k)), lastUpdated);
        // Patient first: the bundle counts as written once its Patient is there (one transaction).
        writes.sort((a, b) => Number(b.resourceType === 'Patient') - Number(a.resourceType === 'Patient'));
        while (inflight.size >= IN_FLIGHT) await Promise.race(inflight);
        const p: Promise<void> = writeAll(db, writes).then(() => {
          inserted += writes.length;
        }).finally(() => inflight.delete(p));
        p.catch(() => undefined); // raced below; a failure surfaces there
        inflight.add(p);
        total += writes.length;
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          const s = (lastLog - started) / 1000;
          log(`search data: copy ${k}, ${(initial + inserted).toLocaleString('en-US')} resources, ${Math.round(inserted / s)} resources/s`);
        }
      }
    }
    await Promise.all(inflight);
    const loadSeconds = (performance.now() - started) / 1000;
    log(`search data: inserted ${inserted.toLocaleString('en-US')} resources in ${loadSeconds.toFixed(0)} s (${Math.round(inserted / loadSeconds)} resources/s); VACUUM (ANALYZE)`);
    await db.query('VACUUM (ANALYZE)');
    const resources = await count(db);
    const seconds = (performance.now() - started) / 1000;
    log(`search data: ${resources.toLocaleString('en-US')} resources, ready after ${seconds.toFixed(0)} s`);
    return { resources, inserted, seconds };
  } finally {
    await db.close();
  }
}
