// `helix import-vcf <patient> <file>`: a patient's VCF (plain, gzip or BGZF) into Helix, with a
// progress bar on stderr. Over HTTP (`--url`, default the local server) the file is streamed to
// Patient/{id}/$import-vcf with `Prefer: respond-async` and the job's X-Progress is shown while
// it runs; with `--direct` the import runs in-process against the database the server would use.
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { parseArgs } from 'node:util';
import type { VcfImport } from '../genomics/import.js';
import { DEFAULT_URL } from './import-args.js';
import type { ProgressSink } from './import-progress.js';

const USAGE = `Usage: helix import-vcf <patient-id> <file.vcf[.gz]> --test-identifier ID [--url URL | --direct]
  [--build GRCh37|GRCh38] [--sample NAME] [--source-class germline|somatic] [--test-date DATE] [--specimen ID] [--region-studied FILE.bed]
`;
const PARAMETERS = { build: 'genomicBuild', sample: 'sample', 'source-class': 'genomicSourceClass', 'test-date': 'testDate', specimen: 'specimenIdentifier', 'test-identifier': 'testIdentifier' } as const;

/** I/O of {@link runImportVcf}, replaceable in tests. */
export interface ImportVcfIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  stderr: ProgressSink;
}

/** Runs the command; returns the exit code (0 imported, 1 refused or failed, 2 usage). */
export async function runImportVcf(args: string[], io: ImportVcfIo = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true,
      options: {
        url: { type: 'string' }, direct: { type: 'boolean', default: false }, 'region-studied': { type: 'string' },
        build: { type: 'string' }, sample: { type: 'string' }, 'source-class': { type: 'string' }, 'test-date': { type: 'string' },
        specimen: { type: 'string' }, 'test-identifier': { type: 'string' },
      },
    });
    if (parsed.positionals.length !== 2) throw new Error('give a patient id and a VCF file');
    if (!parsed.values['test-identifier']) throw new Error('--test-identifier is required (importing the same test again replaces it)');
    if (parsed.values.direct && parsed.values.url) throw new Error('give either --url or --direct');
  } catch (err) {
    io.stderr.write(`helix import-vcf: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [patient, file] = parsed.positionals as [string, string];
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === undefined) {
    io.stderr.write(`helix import-vcf: ${file} does not exist\n`);
    return 1;
  }
  const bar = progressBar(io.stderr, size);
  const query = new URLSearchParams();
  for (const [option, name] of Object.entries(PARAMETERS)) if (typeof values[option] === 'string') query.set(name, values[option] as string);
  if (typeof values['region-studied'] === 'string') query.set('regionStudied', await readFile(values['region-studied'] as string, 'utf8'));
  const source = createReadStream(file);
  source.on('data', (chunk) => bar.bytes(chunk.length));
  try {
    const summary = values.direct ? await direct(io.env, patient, source, query, bar) : await overHttp(String(values.url ?? io.env.HELIX_URL ?? DEFAULT_URL), patient, source, query, bar);
    bar.stop();
    io.stdout.write(`${summary}\n`);
    return 0;
  } catch (err) {
    bar.stop();
    io.stderr.write(`helix import-vcf: ${(err as Error).message}\n`);
    return 1;
  }
}

async function direct(env: NodeJS.ProcessEnv, patientId: string, source: NodeJS.ReadableStream, query: URLSearchParams, bar: Bar): Promise<string> {
  const [{ createHelix }, { configFromEnv }, { importVcf }, { parseBuild }] = await Promise.all([
    import('../app.js'), import('../config.js'), import('../genomics/import.js'), import('../genomics/refseq.js')]);
  const helix = await createHelix(configFromEnv(env, { logLevel: 'warn' }));
  try {
    const build = query.get('genomicBuild');
    const args: VcfImport = {
      patientId, testIdentifier: query.get('testIdentifier') as string,
      sourceClass: query.get('genomicSourceClass') === 'somatic' ? 'somatic' : 'germline',
    };
    if (build) {
      const parsed = parseBuild(build);
      if (!parsed) throw new Error(`--build ${build} is not GRCh37 or GRCh38`);
      args.build = parsed;
    }
    for (const [k, name] of [['sample', 'sample'], ['testDate', 'testDate'], ['specimenIdentifier', 'specimenIdentifier'], ['regionStudied', 'regionStudied']] as const) {
      const v = query.get(name);
      if (v) args[k] = v;
    }
    const s = await importVcf(helix.ctx, source, args, async (variants) => bar.status(`${variants.toLocaleString('en')} variants`));
    return `${s.variants} variants from ${s.dataLines} data lines (sample ${s.sample}, ${s.build}); Procedure/${s.studyId}, DiagnosticReport/${s.reportId}${s.replaced ? '; replaced the earlier import of this test' : ''}`;
  } catch (err) {
    // FhirErrors carry their OperationOutcome's diagnostics as their message.
    throw new Error((err as Error).message);
  } finally {
    await helix.close();
  }
}

async function overHttp(base: string, patient: string, source: NodeJS.ReadableStream, query: URLSearchParams, bar: Bar): Promise<string> {
  const kickoff = await send(`${base.replace(/\/+$/, '')}/Patient/${encodeURIComponent(patient)}/$import-vcf?${query}`, 'POST', source);
  if (kickoff.status !== 202) throw new Error(`HTTP ${kickoff.status}: ${diagnostics(kickoff.body)}`);
  const status = kickoff.location;
  if (!status) throw new Error('the server gave no status URL');
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const poll = await send(status, 'GET');
    if (poll.status === 202) { bar.status(poll.progress ?? 'importing'); continue; }
    if (poll.status !== 200) throw new Error(`HTTP ${poll.status}: ${diagnostics(poll.body)}`);
    const entry = (JSON.parse(poll.body) as { entry: { response: { status: string }; resource?: { parameter?: { name: string; valueInteger?: number; valueString?: string; valueCode?: string; valueReference?: { reference: string } }[] } }[] }).entry[0];
    if (!entry || entry.response.status !== '200') throw new Error(`import failed (${entry?.response.status}): ${diagnostics(JSON.stringify(entry?.resource ?? {}))}`);
    const p = new Map((entry.resource?.parameter ?? []).map((x) => [x.name, x.valueInteger ?? x.valueString ?? x.valueCode ?? x.valueReference?.reference]));
    return `${p.get('variants')} variants from ${p.get('dataLines')} data lines (sample ${p.get('sample')}, ${p.get('genomicBuild')}); ${p.get('study')}, ${p.get('report')}`;
  }
}

function send(url: string, method: string, body?: NodeJS.ReadableStream): Promise<{ status: number; body: string; location?: string; progress?: string }> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'application/fhir+json', ...(body ? { 'content-type': 'text/vcf', prefer: 'respond-async' } : {}) };
  const token = process.env.HELIX_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? requestTls : request)(u, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'),
        ...(typeof res.headers['content-location'] === 'string' ? { location: res.headers['content-location'] } : {}),
        ...(typeof res.headers['x-progress'] === 'string' ? { progress: res.headers['x-progress'] } : {}),
      }));
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

const diagnostics = (body: string): string => {
  try {
    return (JSON.parse(body) as { issue?: { diagnostics?: string }[] }).issue?.map((i) => i.diagnostics).join('; ') || body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
};

interface Bar { bytes(n: number): void; status(text: string): void; stop(): void }

/** A one-line progress bar: bytes of the file read, and the server's (or importer's) count. */
function progressBar(sink: ProgressSink, total: number): Bar {
  let read = 0;
  let text = '';
  let last = 0;
  const started = performance.now();
  const draw = (force = false): void => {
    const now = performance.now();
    if (!force && now - last < (sink.isTTY ? 100 : 2000)) return;
    last = now;
    const fraction = total > 0 ? Math.min(1, read / total) : 0;
    const filled = Math.round(fraction * 30);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(30 - filled)}] ${(fraction * 100).toFixed(0)}% read, ${((now - started) / 1000).toFixed(0)} s${text ? `, ${text}` : ''}`;
    sink.write(sink.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
  };
  return {
    bytes(n) { read += n; draw(); },
    status(t) { text = t; draw(); },
    stop() { draw(true); if (sink.isTTY) sink.write('\n'); },
  };
}
