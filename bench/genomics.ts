// The genomics phase of `npm run bench` (`--phases genomics`): VCF import rate into PostgreSQL for
// a generated whole genome (--genome-records, default 4,000,000; the server's peak RSS is sampled
// during a quarter-size import and the full one, to show it does not grow with the file), then
// VACUUM (ANALYZE) of the table (timed and reported), then $find-subject-variants over random 1 Mb ranges (with the variant Observations, ~1,350 of them,
// alone and at concurrency 16) and 50 Mb ranges (presence: a 50 Mb range holds ~65,000 calls, past
// the 10,000 a response may carry) at concurrency 16, and $find-population-specific-variants over --population genomes (default 100)
// that share their sites.
import { appendFileSync, createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { accessionFor } from '../src/genomics/refseq.js';
import type { BenchClient } from './http-client.js';
import { generateVcf } from './genomics/generate-vcf.js';
import { runLoad } from './load.js';
import type { Row } from './report.js';

const TARGETS = { importPerSecond: 100_000, rangeP95: 50, pgxCallingP95: 2_000 };
const CHR1 = { sequence: 'NC_000001.11', length: 248_956_422 };
const PGX_EXAMPLE = fileURLToPath(new URL('../../shared/data/pharmcat/examples/pharmcat.example2.vcf', import.meta.url));

/** Options of the phase. */
export interface GenomicsOptions {
  origin: string;
  /** The bench database, for the VACUUM that settles the table before queries are timed. */
  databaseUrl: string;
  serverPid: number;
  records: number;
  population: number;
  populationRecords: number;
  seconds: number;
  concurrency: number;
  log(msg: string): void;
}

/** Runs the genomics phase and returns its report rows. */
export async function genomicsPhase(client: BenchClient, basePath: string, o: GenomicsOptions): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'helix-bench-vcf-'));
  const rows: Row[] = [];
  try {
    const newPatient = async (): Promise<string> => {
      const res = await client.send('POST', `${basePath}/Patient`, JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Genome' }] }));
      return (JSON.parse(res.body) as { id: string }).id;
    };
    const writeFile = async (file: string, records: number, seed: number, opts?: { keep: number; keepSeed: number }): Promise<void> => {
      const out = createWriteStream(file);
      await generateVcf(records, seed, 'BENCH', (chunk) => (out.write(chunk) ? undefined : new Promise<void>((r) => out.once('drain', () => r()))), opts);
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    };

    // A quarter genome, then the whole one: import rate, and whether memory grows with the file.
    const genome = await newPatient();
    for (const [label, records] of [['quarter', Math.round(o.records / 4)], ['whole', o.records]] as const) {
      const file = join(dir, `${label}.vcf`);
      o.log(`genomics: generating ${records.toLocaleString('en')} VCF records`);
      await writeFile(file, records, 1);
      // The whole genome also carries the data lines of PharmCAT's example2 (every PGx position
      // called), so that star-allele calling below has real genotypes to call from.
      if (label === 'whole' && existsSync(PGX_EXAMPLE)) {
        appendFileSync(file, readFileSync(PGX_EXAMPLE, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join('\n') + '\n');
      }
      o.log(`genomics: importing the ${label} genome`);
      const before = rss(o.serverPid);
      let peak = before;
      const sampler = setInterval(() => { peak = Math.max(peak, rss(o.serverPid)); }, 100);
      const started = performance.now();
      const result = await upload(o.origin, `${basePath}/Patient/${genome}/$import-vcf?testIdentifier=bench-${label}`, file);
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      const variants = (JSON.parse(result) as { parameter: { name: string; valueInteger?: number }[] }).parameter.find((p) => p.name === 'variants')?.valueInteger ?? 0;
      rows.push({ phase: `genomics: import ${label} genome (${records.toLocaleString('en')} records)`, count: variants, unit: 'variants/s', rate: variants / seconds, target: TARGETS.importPerSecond });
      rows.push({ phase: `genomics: server peak RSS during ${label} import (start ${before.toFixed(0)} MB)`, count: 1, unit: 'MB', rate: peak });
      await rm(file);
    }

    // Queries are timed on a settled table, as in the search phase: right after a 4M-row load,
    // autovacuum's first pass over the table competes with them for the two cores for a minute.
    o.log('genomics: VACUUM (ANALYZE) variants');
    const vacuumStarted = performance.now();
    const admin = new pg.Client({ connectionString: o.databaseUrl });
    await admin.connect();
    try {
      await admin.query('VACUUM (ANALYZE) variants');
    } finally {
      await admin.end();
    }
    rows.push({ phase: 'genomics: VACUUM (ANALYZE) of the variant table after the imports', count: 1, unit: 's', rate: (performance.now() - vacuumStarted) / 1000 });

    const range = (size: number, seq: number): string => {
      const start = Math.floor(((seq * 7919) % 1000) / 1000 * (CHR1.length - size));
      return `${CHR1.sequence}:${start}-${start + size}`;
    };
    const shapes = [['1 Mb, with variants', 1_000_000, true, 1], ['1 Mb, with variants', 1_000_000, true, o.concurrency], ['50 Mb, presence', 50_000_000, false, o.concurrency]] as const;
    for (const [label, size, include, concurrency] of shapes) {
      o.log(`genomics: $find-subject-variants ${label}, concurrency ${concurrency}`);
      const load = await runLoad({ concurrency, seconds: o.seconds }, async (seq) => {
        const res = await client.send('GET', `${basePath}/$find-subject-variants?subject=${genome}&ranges=${range(size, seq)}&includeVariants=${include}&testIdentifiers=bench-whole`);
        if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 200)}`;
      });
      // The target is one range query's p95; at concurrency 16 the ~4.7 MB answers queue on two cores.
      const target = concurrency === 1 || !include ? { maxP95: TARGETS.rangeP95 } : {};
      rows.push({ phase: `genomics: $find-subject-variants ${label}, c${concurrency}`, unit: 'req/s', ...load, ...target });
    }

    // Star-allele calling of all ten genes on the imported genome (issue 7: < 2 s once imported).
    o.log('genomics: $find-subject-haplotypes, all PGx genes, concurrency 1');
    const genes = 'CYP2C19,CYP2C9,CYP4F2,CYP3A5,VKORC1,SLCO1B1,TPMT,NUDT15,DPYD,UGT1A1';
    const calling = await runLoad({ concurrency: 1, seconds: Math.min(o.seconds, 5) }, async () => {
      const res = await client.send('GET', `${basePath}/$find-subject-haplotypes?subject=${genome}&genes=${genes}&testIdentifiers=bench-whole`);
      if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 200)}`;
    });
    rows.push({ phase: 'genomics: $find-subject-haplotypes, 10 PGx genes called from the imported genome, c1', unit: 'req/s', ...calling, maxP95: TARGETS.pgxCallingP95 });

    // A population sharing the sites of one generated genome, each keeping half of them.
    o.log(`genomics: importing ${o.population} genomes of ~${o.populationRecords.toLocaleString('en')} calls`);
    const base = Math.round(o.populationRecords * 2);
    for (let k = 0; k < o.population; k++) {
      const file = join(dir, `p${k}.vcf`);
      await writeFile(file, base, 2, { keep: 0.5, keepSeed: 1000 + k });
      await upload(o.origin, `${basePath}/Patient/${await newPatient()}/$import-vcf?testIdentifier=bench-pop`, file);
      await rm(file);
    }
    const sites = await populationSites(dir, base);
    o.log(`genomics: $find-population-specific-variants over ${sites.length} sites`);
    const load = await runLoad({ concurrency: o.concurrency, seconds: o.seconds }, async (seq) => {
      const res = await client.send('GET', `${basePath}/$find-population-specific-variants?variants=${encodeURIComponent(sites[seq % sites.length] as string)}`);
      if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 200)}`;
    });
    rows.push({ phase: `genomics: $find-population-specific-variants, ${o.population} genomes`, unit: 'req/s', ...load });
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** SPDI of the first SNV sites of the population's shared genome. */
async function populationSites(dir: string, records: number): Promise<string[]> {
  const file = join(dir, 'sites.vcf');
  const out = createWriteStream(file);
  await generateVcf(Math.min(records, 20_000), 2, 'BENCH', (chunk) => (out.write(chunk) ? undefined : new Promise<void>((r) => out.once('drain', () => r()))));
  await new Promise<void>((resolve) => out.end(() => resolve()));
  const sites: string[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const [chrom, pos, , ref, alt] = line.split('\t');
    if (!chrom || chrom.startsWith('#') || !ref || !alt || ref.length !== 1 || alt.length !== 1) continue;
    sites.push(`${accessionFor('GRCh38', chrom)}:${Number(pos) - 1}:${ref}:${alt}`);
    if (sites.length === 1000) break;
  }
  return sites;
}

/** POSTs a file as text/vcf, streamed; resolves with the response body (throws unless 200). */
function upload(origin: string, path: string, file: string): Promise<string> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-type': 'text/vcf', accept: 'application/fhir+json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`import: HTTP ${res.statusCode} ${body.slice(0, 300)}`));
      });
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

/** Resident memory of a process in MB (Linux /proc). */
function rss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
