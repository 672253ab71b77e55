// `helix import-vcf`: a gzip VCF streamed to the shared test server with Prefer: respond-async,
// the job polled to its end, and the calls then answered by $find-subject-variants. The file's
// three records give four calls by hand: an SNV, a `1/2` site (two calls) and a deletion.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runImportVcf } from '../../src/cli/import-vcf.js';
import { fhir, sharedServer } from '../harness.js';

const VCF = [
  '##fileformat=VCFv4.3', '##reference=GRCh38',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS',
  'chr22\t20000000\t.\tA\tG\t50\tPASS\t.\tGT\t0/1',
  'chr22\t20000100\t.\tC\tG,T\t50\tPASS\t.\tGT\t1/2',
  'chr22\t20000200\t.\tCTT\tC\t50\tPASS\t.\tGT\t1/1',
].join('\n') + '\n';
const dir = mkdtempSync(join(tmpdir(), 'helix-cli-vcf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  return { out, sink: { write: (t: string) => void out.push(t) } };
}

describe('helix import-vcf', () => {
  it('uploads over HTTP, shows progress and prints the summary', async () => {
    const { base } = await sharedServer();
    const patient = (await fhir(base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const file = join(dir, 'calls.vcf.gz');
    writeFileSync(file, gzipSync(VCF));
    const stdout = capture();
    const stderr = capture();
    const code = await runImportVcf([patient, file, '--url', base, '--test-identifier', 'CLI-1'], { env: {}, stdout: stdout.sink, stderr: stderr.sink });
    assert.equal(code, 0, stderr.out.join(''));
    assert.match(stdout.out.join(''), /^4 variants from 3 data lines \(sample S, GRCh38\)/);
    assert.match(stderr.out.join(''), /100% read/);
    const found = await fhir(base, 'GET', `$find-subject-variants?subject=${patient}&ranges=NC_000022.11:19999000-20001000&includeVariants=true`);
    assert.equal(found.body.parameter[0].part.filter((p: any) => p.name === 'variant').length, 4);
  });

  it('exits 2 on bad usage and 1 when the server refuses', async () => {
    const { base } = await sharedServer();
    const stderr = capture();
    assert.equal(await runImportVcf(['only-one-argument'], { env: {}, stdout: capture().sink, stderr: stderr.sink }), 2);
    const file = join(dir, 'calls.vcf');
    writeFileSync(file, VCF);
    const refused = capture();
    assert.equal(await runImportVcf(['no-such-patient', file, '--url', base, '--test-identifier', 'x'], { env: {}, stdout: capture().sink, stderr: refused.sink }), 1);
    assert.match(refused.out.join(''), /Patient\/no-such-patient is not known/);
  });
});
