// `helix import`: Synthea transaction Bundles, bulk NDJSON, stdin and --direct, against the shared
// test server. Expected counts come from walking the source files here, never from the importer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { importPaths, runImport } from '../../src/cli/import.js';
import { formatProgress } from '../../src/cli/import-progress.js';
import { tallyReply } from '../../src/cli/import-results.js';
import { jobsOf, type ImportFile } from '../../src/cli/import-sources.js';
import { fhir, sharedServer } from '../harness.js';

const SYNTHEA = new URL('../../../shared/data/synthea/', import.meta.url).pathname;
const NDJSON = new URL('../../../shared/data/bulk-ndjson-10-patients/', import.meta.url).pathname;
// The full load (~59,000 resources) is only affordable on a real PostgreSQL server.
const FULL = Boolean(process.env.DATABASE_URL);

interface Entry {
  fullUrl?: string;
  resource: { resourceType: string; id?: string; identifier?: { system?: string; value?: string }[]; [k: string]: unknown };
  request: { method: string; url: string; ifNoneExist?: string };
}

const readBundle = (path: string): { type: string; entry: Entry[] } => JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));

/** The Synthea files this run loads: reference data first, then the patients. */
function syntheaFiles(): string[] {
  const names = readdirSync(SYNTHEA).filter((n) => n.endsWith('.json.gz'));
  const preload = names.filter((n) => n.startsWith('0-')).sort();
  let patients = names.filter((n) => !n.startsWith('0-')).sort();
  if (!FULL) patients = patients.sort((a, b) => statSync(join(SYNTHEA, a)).size - statSync(join(SYNTHEA, b)).size).slice(0, 10);
  return [...preload, ...patients].map((n) => join(SYNTHEA, n));
}

/** How many conditional-create conditions already match on the server (they will answer 200, not 201). */
async function preexistingMatches(base: string, conditions: string[]): Promise<number> {
  let matched = 0;
  for (let i = 0; i < conditions.length; i += 100) {
    const entry = conditions.slice(i, i + 100).map((url) => ({ request: { method: 'GET', url: `${url}&_summary=count` } }));
    const res = await fhir(base, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry });
    assert.equal(res.status, 200, res.text);
    for (const e of res.body.entry) {
      assert.match(e.response.status, /^200/);
      if (e.resource.total > 0) matched++;
    }
  }
  return matched;
}

const identifierOf = (r: Entry['resource'], system: string): string => {
  const id = r.identifier?.find((i) => i.system === system)?.value;
  assert.ok(id, `${r.resourceType} without a ${system} identifier`);
  return id;
};

describe('helix import', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'helix-import-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it(`loads Synthea over HTTP: ${FULL ? 'all 80 patients (PostgreSQL)' : '10 smallest patients (embedded database; all 80 with DATABASE_URL)'}`, { timeout: 600_000, skip: !existsSync(SYNTHEA) && '../shared/data/synthea is absent' }, async () => {
    const { base } = await sharedServer();
    const files = syntheaFiles();
    let entries = 0;
    const conditions: string[] = [];
    const patients: string[] = [];
    let encounter: Entry | undefined;
    for (const file of files) {
      for (const e of readBundle(file).entry) {
        entries++;
        assert.equal(e.request.method, 'POST', 'Synthea bundles only create');
        if (e.request.ifNoneExist) conditions.push(`${e.request.url}?${e.request.ifNoneExist}`);
        if (e.resource.resourceType === 'Patient') patients.push(identifierOf(e.resource, 'https://github.com/synthetichealth/synthea'));
        const individual = (e.resource.participant as { individual?: { reference?: string } }[] | undefined)?.[0]?.individual?.reference;
        if (!encounter && e.resource.resourceType === 'Encounter' && individual?.startsWith('Practitioner?')) encounter = e;
      }
    }
    assert.equal(new Set(conditions).size, conditions.length, 'each condition appears once, so each creates at most once');
    const matchedBefore = await preexistingMatches(base, conditions);

    const summary = await importPaths(files, { url: base, concurrency: 2 });

    assert.deepEqual(summary.errors, []);
    assert.equal(summary.files, files.length);
    assert.equal(summary.resources, entries);
    assert.equal(summary.failed, 0);
    assert.equal(summary.created, entries - matchedBefore);
    assert.equal(summary.updated, matchedBefore);

    // Each Patient exists exactly once, found by its Synthea identifier.
    const ids = patients.map((p) => `https://github.com/synthetichealth/synthea|${p}`).join(',');
    const count = await fhir(base, 'GET', `Patient?identifier=${encodeURIComponent(ids)}&_summary=count`);
    assert.equal(count.body.total, patients.length);

    // The Encounter's conditional reference now points at the Practitioner it named.
    assert.ok(encounter, 'an Encounter with a conditional Practitioner reference');
    const condition = (encounter.resource.participant as { individual: { reference: string } }[])[0]!.individual.reference;
    const practitioner = await fhir(base, 'GET', condition.replace(/\|/g, '%7C'));
    assert.equal(practitioner.body.entry?.length, 1, practitioner.text);
    const encId = identifierOf(encounter.resource, 'https://github.com/synthetichealth/synthea');
    const stored = await fhir(base, 'GET', `Encounter?identifier=${encodeURIComponent(`https://github.com/synthetichealth/synthea|${encId}`)}`);
    assert.equal(stored.body.entry?.length, 1, stored.text);
    assert.equal(stored.body.entry[0].resource.participant[0].individual.reference, `Practitioner/${practitioner.body.entry[0].resource.id}`);
  });

  it('loads bulk NDJSON as batches of PUTs; importing again updates instead of duplicating', { timeout: 300_000, skip: !existsSync(NDJSON) && '../shared/data/bulk-ndjson-10-patients is absent' }, async () => {
    const { base } = await sharedServer();
    const names = readdirSync(NDJSON).filter((n) => n.endsWith('.ndjson'));
    let resources = 0;
    let others = 0;
    const patientIds: string[] = [];
    for (const name of names) {
      for (const line of readFileSync(join(NDJSON, name), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const doc = JSON.parse(line);
        if (typeof doc.resourceType !== 'string') {
          others++; // the export's log.ndjson
          continue;
        }
        resources++;
        if (doc.resourceType === 'Patient') patientIds.push(doc.id);
      }
    }

    const first = await importPaths([NDJSON], { url: base, batchSize: 200 });
    assert.deepEqual(first.errors, []);
    assert.equal(first.files, names.length);
    assert.equal(first.resources, resources + others);
    assert.equal(first.skipped, others);
    assert.equal(first.failed, 0);
    assert.equal(first.created + first.updated, resources);

    // Importing the patients again updates them in place (re-importing everything would only cost time).
    const second = await importPaths([join(NDJSON, 'Patient.000.ndjson')], { url: base });
    assert.deepEqual(second.errors, []);
    assert.equal(second.created, 0);
    assert.equal(second.updated, patientIds.length);

    const count = await fhir(base, 'GET', `Patient?_id=${patientIds.join(',')}&_summary=count`);
    assert.equal(count.body.total, patientIds.length);
  });

  it('--direct writes a gzipped transaction through the database, resolving urn:uuid references', async () => {
    const { base, helix } = await sharedServer();
    const tag = randomUUID();
    const patientUrl = `urn:uuid:${randomUUID()}`;
    const observation = (value: number) => ({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'Observation', status: 'final', meta: { tag: [{ system: 'urn:test', code: tag }] },
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: patientUrl },
        valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'POST', url: 'Observation' },
    });
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: patientUrl, resource: { resourceType: 'Patient', meta: { tag: [{ system: 'urn:test', code: tag }] } }, request: { method: 'POST', url: 'Patient' } },
        observation(61),
        observation(62),
      ],
    };
    const file = join(scratch, 'direct.json.gz');
    writeFileSync(file, gzipSync(JSON.stringify(bundle)));

    const summary = await importPaths([file], { direct: helix.ctx });
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.created, 3);

    const obs = await fhir(base, 'GET', `Observation?_tag=urn:test%7C${tag}`);
    assert.equal(obs.body.entry.length, 2);
    const patients = await fhir(base, 'GET', `Patient?_tag=urn:test%7C${tag}`);
    assert.equal(patients.body.entry.length, 1);
    for (const e of obs.body.entry) assert.equal(e.resource.subject.reference, `Patient/${patients.body.entry[0].resource.id}`);
  });

  it('a failed transaction counts all its entries as failed and names the file (exit code 1)', async () => {
    const { base } = await sharedServer();
    const file = join(scratch, 'broken.json');
    const missing = `Patient?identifier=urn:test|${randomUUID()}`;
    writeFileSync(file, JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: missing } }, request: { method: 'POST', url: 'Observation' } },
      ],
    }));
    let out = '';
    let err = '';
    const code = await runImport([file, '--url', base], {
      env: {}, stdin: Readable.from([]), stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) },
    });
    assert.equal(code, 1);
    assert.match(out, /2 failed/);
    assert.match(out, /0 created/);
    assert.ok(err.includes(`${file}: HTTP 404`), err);
    assert.ok(err.includes('matches no resource'), err);
  });

  it('reads NDJSON from stdin: PUT for resources with an id, POST for the others', async () => {
    const { base } = await sharedServer();
    const id = `imp-${randomUUID()}`;
    const lines = [
      { resourceType: 'Patient', id, gender: 'female' },
      { resourceType: 'Patient', gender: 'male' },
      { resourceType: 'Basic', code: { text: 'note' } },
    ].map((r) => JSON.stringify(r)).join('\n');
    let out = '';
    const code = await runImport(['-', '--url', base, '--batch-size', '2'], {
      env: {}, stdin: Readable.from([Buffer.from(`${lines}\n`)]), stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true },
    });
    assert.equal(code, 0, out);
    assert.match(out, /Resources: +3 \(3 created, 0 updated, 0 failed\)/);
    const read = await fhir(base, 'GET', `Patient/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.gender, 'female');
  });

  it('rejects bad command lines with exit code 2', async () => {
    let err = '';
    const io = { env: {}, stdin: Readable.from([]), stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } };
    assert.equal(await runImport([], io), 2);
    assert.equal(await runImport(['x.json', '--concurrency', '0'], io), 2);
    assert.equal(await runImport(['x.json', '--direct', '--url', 'http://h/fhir'], io), 2);
    assert.match(err, /Usage: helix import/);
  });

  it('splits NDJSON into batches of --batch-size lines, skipping non-resources and reporting bad lines', async () => {
    const text = [
      '{"resourceType":"Patient","id":"a"}',
      '',
      '{"resourceType":"Patient"}',
      '{"exportId":"log line"}',
      'not json',
      '{"resourceType":"Observation","id":"o1"}',
    ].join('\n');
    const file: ImportFile = { name: 'mem', kind: 'ndjson', entries: 5, preload: false, data: text };
    const jobs = [];
    for await (const job of jobsOf(file, 2)) jobs.push(job);
    // Lines 1+3 fill the first batch; the log line and the bad line the second; line 6 the third.
    assert.deepEqual(jobs.map((j) => [j.entries, j.skipped, j.invalid.length]), [[2, 0, 0], [0, 1, 1], [1, 0, 0]]);
    assert.deepEqual(jobs[1]!.invalid, ['line 5: not valid JSON']);
    assert.deepEqual((jobs[0]!.body as { entry: { request: unknown }[] }).entry.map((e) => e.request), [
      { method: 'PUT', url: 'Patient/a' },
      { method: 'POST', url: 'Patient' },
    ]);
  });

  it('counts a batch-response by entry status and keeps the failures\' diagnostics', () => {
    const reply = {
      status: 200,
      text: JSON.stringify({
        resourceType: 'Bundle', type: 'batch-response',
        entry: [
          { response: { status: '201 Created' } },
          { response: { status: '200 OK' } },
          { response: { status: '422', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'bad code' }] } } },
        ],
      }),
    };
    // Four entries were sent but only three answered: the fourth counts as failed too.
    assert.deepEqual(tallyReply(reply, 4), {
      created: 1, updated: 1, failed: 2, messages: ['entry 2: 422 bad code', '1 entries have no response entry'],
    });
    const rejected = { status: 400, text: JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'nope' }] }) };
    assert.deepEqual(tallyReply(rejected, 7), { created: 0, updated: 0, failed: 7, messages: ['HTTP 400: nope'] });
  });

  it('formats progress with rate and ETA', () => {
    // 250 of 1,000 in 5 s: 50/s, 750 left → 15 s.
    assert.equal(formatProgress(250, 1000, 5), '250 / 1,000 resources (25.0%)  50/s  ETA 0:15');
    assert.equal(formatProgress(0, 58_935, 0), '0 / 58,935 resources (0.0%)  0/s  ETA ?');
  });
});
