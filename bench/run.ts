// `npm run bench`: Helix on the real PostgreSQL, in one run — vital-sign Observation create, read
// and update at concurrency 16; Synthea transaction ingestion; and the raw `pg` limit for the same
// writes on the same database. Prints a table and writes bench/results/latest.json.
// Options: --seconds N (per load phase, 15), --warmup N (3), --bundles N (per Synthea mode, 20),
// --synthea-seconds N (per Synthea mode, 40), --phases create,raw,read,auth,update,synthea (all),
// --profile (CPU profile of the server, summarised at the end), --keep-db.
// Opt-in subscriptions phase (`--phases subscriptions`, see bench/subscriptions.ts): vitals
// ingestion with 1,000 active Subscriptions and notification latency (`--notify-rate N`, default
// 1000 per second), on PostgreSQL and Redis.
// Opt-in search phase (`--phases search`, see bench/search.ts): fills the database with Synthea copies
// up to --search-resources N (1000000; skipped when it already holds N), then measures the search
// types of the issue at concurrency 16 and writes their plans to bench/results/search-plans.txt. --db NAME runs on an existing
// database (created if missing, never dropped), e.g. one a `--keep-db` run left behind;
// --search-only token,chained runs just the query types whose names contain those words.
// Opt-in genomics phase (`--phases genomics`, see bench/genomics.ts): VCF import of a generated
// genome of --genome-records N (4000000), range queries on it, and population queries over
// --population N genomes (100) of about --population-records N calls (20000) each.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchTokens, dropAuditStream } from './auth.js';
import { benchClient } from './http-client.js';
import { runLoad, type LoadResult } from './load.js';
import { summariseProfile } from './profile.js';
import { rawInsertPhase } from './raw.js';
import { table, withVerdicts, type Row } from './report.js';
import { buildServer, createBenchDatabase, startBenchServer, type BenchAuth } from './server.js';
import { genomicsPhase } from './genomics.js';
import { searchPhase } from './search.js';
import { subscriptionsPhase } from './subscriptions.js';
import { loadSearchData } from './search-data.js';
import { syntheaPhases } from './synthea.js';
import { BENCH_PATIENTS, benchPatient, vitalSign } from './vitals.js';

const CONCURRENCY = 16;
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const SYNTHEA = fileURLToPath(new URL('../../shared/data/synthea/', import.meta.url));
const TARGETS = { create: 1_500, read: 5_000, synthea: 3_000, rawRatioPercent: 50 };

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    bundles: { type: 'string', default: '20' },
    'synthea-seconds': { type: 'string', default: '40' },
    phases: { type: 'string', default: 'create,raw,read,auth,update,synthea' },
    profile: { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
    'search-resources': { type: 'string', default: '1000000' },
    db: { type: 'string' },
    'search-only': { type: 'string' },
    'notify-rate': { type: 'string', default: '1000' },
    'genome-records': { type: 'string', default: '4000000' },
    population: { type: 'string', default: '100' },
    'population-records': { type: 'string', default: '20000' },
  },
});
const seconds = Number(opts.seconds);
const warmup = Number(opts.warmup);
const phases = new Set(opts.phases.split(','));

const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const db = await createBenchDatabase(adminUrl, opts.db);
const keepDb = opts['keep-db'] || opts.db !== undefined;
const profileDir = opts.profile ? join(RESULTS, 'profiles', String(Date.now())) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
log(`database ${db.name} on ${db.postgresVersion}; ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);

log('compiling the server (npm run build)');
buildServer();
const server = await startBenchServer(db.url, profileDir).catch(async (err: unknown) => {
  if (!keepDb) await db.drop();
  throw err;
});
const client = benchClient(server.origin, CONCURRENCY);
const basePath = new URL(server.base).pathname;
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  client.close();
  await server.stop();
  if (keepDb) log(`database ${db.name} kept (reuse it with --db ${db.name})`);
  else await db.drop();
}
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

const rows: Row[] = [];
let indexRowsPerInsert: number | undefined;
const row = (phase: string, unit: string, r: LoadResult, target?: number, rate = r.rate): Row => {
  const entry: Row = { phase, count: r.count, unit, rate, p50: r.p50, p95: r.p95, p99: r.p99, errors: r.errors, target };
  rows.push(entry);
  if (r.firstError) log(`${phase}: ${r.errors} errors, first: ${r.firstError}`);
  log(`${phase}: ${Math.round(rate)} ${unit}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
  return entry;
};

try {
  // Bodies are prepared up front so that the client spends its time sending, not serialising.
  const bodies = Array.from({ length: 1024 }, (_, i) => JSON.stringify(vitalSign(i)));
  const created: { id: string; seq: number }[] = [];
  const idOf = (location: unknown): string | undefined => /\/Observation\/([^/]+)\/_history\//.exec(String(location))?.[1];
  const create = async (seq: number): Promise<string | void> => {
    const res = await client.send('POST', `${basePath}/Observation`, bodies[seq % bodies.length]);
    const id = idOf(res.headers.location);
    if (res.status !== 201 || !id) return `HTTP ${res.status} ${res.body.slice(0, 300)}`;
    created.push({ id, seq: seq % bodies.length });
  };
  const pick = (): { id: string; seq: number } => created[Math.floor(Math.random() * created.length)] as { id: string; seq: number };
  const read = async (): Promise<string | void> => {
    const res = await client.send('GET', `${basePath}/Observation/${pick().id}`);
    if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 300)}`;
  };

  // The warm-up serves the Observation phases; a search-only run skips it.
  const warm = ['create', 'raw', 'read', 'auth', 'update'].some((p) => phases.has(p));
  if (warm) {
    log('warm-up');
    await runLoad({ concurrency: CONCURRENCY, seconds: 60, maxOps: BENCH_PATIENTS }, async (i) => {
      const res = await client.send('PUT', `${basePath}/Patient/bench-p${i}`, JSON.stringify(benchPatient(i)));
      if (res.status >= 300) throw new Error(`Patient PUT: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    });
    await runLoad({ concurrency: CONCURRENCY, seconds: warmup }, create);
    await runLoad({ concurrency: CONCURRENCY, seconds: Math.min(warmup, 2) }, read);
  }

  let createRow: Row | undefined;
  if (phases.has('create')) {
    log(`create: POST Observation, concurrency ${CONCURRENCY}, ${seconds} s`);
    createRow = row('create Observation', 'req/s', await runLoad({ concurrency: CONCURRENCY, seconds }, create), TARGETS.create);
  }

  if (phases.has('raw')) {
    // Right after the creates, so that both write into tables of about the same size.
    log(`raw limit: the same insert statement over plain pg, concurrency ${CONCURRENCY}, ${seconds} s`);
    const raw = await rawInsertPhase(db.url, server.base, { concurrency: CONCURRENCY, seconds });
    row('raw pg insert (same rows)', 'inserts/s', raw);
    if (createRow) rows.push({ phase: 'create / raw limit', count: createRow.count, unit: '%', rate: (100 * createRow.rate) / raw.rate, target: TARGETS.rawRatioPercent });
    indexRowsPerInsert = raw.indexRowsPerInsert;
    log(`raw insert writes ${raw.indexRowsPerInsert.toFixed(1)} index rows per Observation on average`);
  }

  let readRow: Row | undefined;
  if (phases.has('read')) {
    log(`read: GET Observation/[id], concurrency ${CONCURRENCY}, ${seconds} s`);
    readRow = row('read Observation', 'req/s', await runLoad({ concurrency: CONCURRENCY, seconds }, read), TARGETS.read);
  }

  if (phases.has('auth')) {
    // Second servers on the same database with SMART authorization on, one at a time; the first idles.
    // Without the audit trail, the reads measure token validation and scope checks (the target);
    // with it, what a HIPAA deployment pays in all (the trail queued through Redis).
    const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    const own = created.filter((c) => c.seq % BENCH_PATIENTS === 0);
    const measure = async (label: string, auth: BenchAuth, patientToo: boolean): Promise<Row> => {
      log(`auth: reads with SMART tokens, ${label}, concurrency ${CONCURRENCY}, ${seconds} s each`);
      const authServer = await startBenchServer(db.url, undefined, auth);
      const authClient = benchClient(authServer.origin, CONCURRENCY);
      try {
        const authPath = new URL(authServer.base).pathname;
        const tokens = await benchTokens(db.url, authServer.base, 'bench-p0');
        const readWith = (token: string, ids: { id: string }[]) => async (seq: number): Promise<string | void> => {
          const target = ids[seq % ids.length] as { id: string };
          const res = await authClient.send('GET', `${authPath}/Observation/${target.id}`, undefined, { authorization: `Bearer ${token}` });
          if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 300)}`;
        };
        await runLoad({ concurrency: CONCURRENCY, seconds: Math.min(warmup, 2) }, readWith(tokens.system, created));
        const system = row(`read, auth on, ${label} (system/ token)`, 'req/s', await runLoad({ concurrency: CONCURRENCY, seconds }, readWith(tokens.system, created)));
        if (patientToo) row(`read, auth on, ${label} (patient/ token)`, 'req/s', await runLoad({ concurrency: CONCURRENCY, seconds }, readWith(tokens.patient, own)));
        return system;
      } finally {
        authClient.close();
        await authServer.stop();
      }
    };
    const checks = await measure('no audit', { audit: false }, true);
    const audited = await measure('audit via Redis', { audit: true, redisUrl }, false);
    // The database is dropped after the run: so is what its audit stream still holds.
    await dropAuditStream(db.url, redisUrl);
    if (readRow) {
      // Target: token validation and scope checks cost less than 10 % of read throughput.
      rows.push({ phase: 'read, token + scope checks / auth off', count: checks.count, unit: '%', rate: (100 * checks.rate) / readRow.rate, target: 90 });
      rows.push({ phase: 'read, token + scope + audit / auth off', count: audited.count, unit: '%', rate: (100 * audited.rate) / readRow.rate });
    }
  }

  if (phases.has('update')) {
    log(`update: PUT Observation/[id] with a new value, concurrency ${CONCURRENCY}, ${seconds} s`);
    const updated = [...created];
    row('update Observation', 'req/s', await runLoad({ concurrency: CONCURRENCY, seconds }, async (seq) => {
      // Round robin over distinct resources: concurrent updates of one resource would measure conflicts.
      const target = updated[seq % updated.length] as { id: string; seq: number };
      const body = JSON.stringify({ ...vitalSign(target.seq, seq + 1), id: target.id });
      const res = await client.send('PUT', `${basePath}/Observation/${target.id}`, body);
      if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 300)}`;
    }));
  }

  if (phases.has('synthea')) {
    log(`Synthea: reference data, then up to ${opts.bundles} patient bundles sequentially and ${opts.bundles} two at a time`);
    const synthea = await syntheaPhases(client, basePath, SYNTHEA, { bundles: Number(opts.bundles), seconds: Number(opts['synthea-seconds']) });
    row('Synthea 0-* reference batches', 'resources/s', synthea.preload, undefined, synthea.preload.resourcesPerSecond);
    row('Synthea patients, sequential', 'resources/s', synthea.sequential, TARGETS.synthea, synthea.sequential.resourcesPerSecond);
    row('Synthea patients, 2 parallel', 'resources/s', synthea.parallel, TARGETS.synthea, synthea.parallel.resourcesPerSecond);
    for (const [name, r] of Object.entries(synthea)) log(`Synthea ${name}: ${r.resources} resources in ${r.count} bundles, ${r.seconds.toFixed(1)} s`);
  }

  if (phases.has('subscriptions')) {
    // A server of its own with Redis, as subscriptions run in production (BullMQ dispatch).
    const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    const subServer = await startBenchServer(db.url, profileDir, false, { REDIS_URL: redisUrl });
    const subClient = benchClient(subServer.origin, 16);
    try {
      rows.push(...await subscriptionsPhase(subClient, new URL(subServer.base).pathname, { seconds, rate: Number(opts['notify-rate']), log }));
    } finally {
      subClient.close();
      await subServer.stop();
    }
  }

  if (phases.has('genomics')) {
    rows.push(...await genomicsPhase(client, basePath, {
      origin: server.origin, databaseUrl: db.url, serverPid: server.pid, records: Number(opts['genome-records']), population: Number(opts.population),
      populationRecords: Number(opts['population-records']), seconds, concurrency: CONCURRENCY, log,
    }));
  }

  let search: Record<string, unknown> | undefined;
  if (phases.has('search')) {
    const target = Number(opts['search-resources']);
    const loaded = await loadSearchData(db.url, SYNTHEA, target, log);
    if (loaded.inserted) rows.push({ phase: 'search data load (storage, VACUUM)', count: loaded.inserted, unit: 'resources/s', rate: loaded.inserted / loaded.seconds });
    log(`search: concurrency ${CONCURRENCY}, ${seconds} s per query type after ${warmup} s warm-up`);
    mkdirSync(RESULTS, { recursive: true });
    const plansFile = join(RESULTS, 'search-plans.txt');
    const result = await searchPhase(client, basePath, { databaseUrl: db.url, serverPid: server.pid, concurrency: CONCURRENCY, seconds, warmup, plansFile, only: opts['search-only'] ? opts['search-only'].split(',') : [], log });
    rows.push(...result.rows);
    const plans = result.plans.map((p) => ({
      name: p.name, path: p.path, statements: p.statements.map((st) => ({ executionMs: st.executionMs, planningMs: st.planningMs, scans: st.scans })),
    }));
    search = { database: db.name, load: loaded, ...result.facts, plans };
  }

  await cleanup();
  const environment = { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, node: process.version, postgres: db.postgresVersion, concurrency: CONCURRENCY };
  process.stdout.write(`\nHelix benchmark — ${environment.cpus} CPUs, Node ${environment.node}, ${environment.postgres}\n`);
  process.stdout.write('Latencies are per request (per Bundle for Synthea); Synthea count is Bundles.\n\n');
  process.stdout.write(`${table(rows)}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, 'latest.json');
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), environment, options: opts, indexRowsPerInsert, rows: withVerdicts(rows), search }, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${file}\n`);
  if (profileDir) {
    // The largest profile is the server's main thread (tsx's loader thread writes a small one).
    const profiles = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, f));
    const main = profiles.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (main) process.stdout.write(`\n${summariseProfile(main, 20)}\n`);
  }
} finally {
  await cleanup();
}
