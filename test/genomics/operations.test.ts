// VCF import and the HL7 genomics operations over HTTP, on a hand-written GRCh38 VCF whose calls
// are worked out by hand below (0-based half-open coordinates: start = POS − 1, then common
// leading/trailing bases trimmed). Two patients: A from a single-sample file, B from sample S2 of
// a two-sample file. Population answers are checked through the patient lists, since other
// tests' patients may share the database.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const HEADER = [
  '##fileformat=VCFv4.3',
  '##reference=GRCh38',
  '##FILTER=<ID=LowQual,Description="Low quality">',
  '##INFO=<ID=END,Number=1,Type=Integer,Description="End position">',
  '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">',
  '##INFO=<ID=SVLEN,Number=.,Type=Integer,Description="SV length">',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
  '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
];
const row = (...cols: (string | number)[]): string => cols.join('\t');
// Patient A (C gets the same file, compressed, and a broken copy). Calls (13):
//  1 chr6 26092913 G>A 0/1        → NC_000006.12:26092912:G:A het (HFE C282Y position)
//  2 chr7 117559590 ATCT>A 0/1    → deletion: no common suffix; leading A trimmed → 117559590:TCT: (start
//    117559590, end 117559593), i.e. g.117559591_117559593del, the HGVS position of CFTR F508del
//  3-5 chr19 phased hets, PS 11100236: 0|1, 1|0, 0|1 → neighbours Trans, Trans
//  6-7 chr1 1000000 A>G,T 1/2    → two het calls, 999999:A:G and 999999:A:T
//  8 chr1 2000000 C>G 1/1         → homozygous
//  - chr1 3000000 0/0             → reference only: no call
//  9 chr2 500000 A>AT 0/1         → insertion: start = end = 500000, inserted T
// 10 chr17 43044000 <DEL> END=43126000 → structural, 43044000–43126000 (covers BRCA1 range)
// 11 chr13 32315000 <DUP> SVLEN=50000 → structural, 32315000–32365000 (overlaps, does not cover, BRCA2 range)
// 12 chrX 153000000 G>A GT 1     → hemizygous
// 13 chr1 4000000 T>C 0/1 LowQual → kept, FILTER LowQual
const VCF_A = [
  ...HEADER,
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA00001',
  row('chr1', 1000000, '.', 'A', 'G,T', 50, 'PASS', '.', 'GT:DP', '1/2:30'),
  row('chr1', 2000000, '.', 'C', 'G', 50, 'PASS', '.', 'GT:DP', '1/1:30'),
  row('chr1', 3000000, '.', 'G', 'A', 50, 'PASS', '.', 'GT:DP', '0/0:30'),
  row('chr1', 4000000, '.', 'T', 'C', 5, 'LowQual', '.', 'GT:DP', '0/1:4'),
  row('chr2', 500000, '.', 'A', 'AT', 50, 'PASS', '.', 'GT:DP', '0/1:30'),
  row('chr6', 26092913, 'rs1800562', 'G', 'A', 50, 'PASS', '.', 'GT:DP', '0/1:30'),
  row('chr7', 117559590, '.', 'ATCT', 'A', 50, 'PASS', '.', 'GT:DP', '0/1:30'),
  row('chr13', 32315000, '.', 'N', '<DUP>', 50, 'PASS', 'SVTYPE=DUP;SVLEN=50000', 'GT', '0/1'),
  row('chr17', 43044000, '.', 'N', '<DEL>', 50, 'PASS', 'SVTYPE=DEL;END=43126000', 'GT', '0/1'),
  row('chr19', 11100236, '.', 'C', 'T', 50, 'PASS', '.', 'GT:PS', '0|1:11100236'),
  row('chr19', 11110000, '.', 'G', 'A', 50, 'PASS', '.', 'GT:PS', '1|0:11100236'),
  row('chr19', 11120000, '.', 'A', 'G', 50, 'PASS', '.', 'GT:PS', '0|1:11100236'),
  row('chrX', 153000000, '.', 'G', 'A', 50, 'PASS', '.', 'GT', '1'),
].join('\n') + '\n';
// Patient B is sample S2: HFE position homozygous, and a <DEL> overlapping only the start of the BRCA1 range.
const VCF_B = [
  ...HEADER,
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2',
  row('chr6', 26092913, 'rs1800562', 'G', 'A', 50, 'PASS', '.', 'GT', '0/0', '1/1'),
  row('chr17', 43040000, '.', 'N', '<DEL>', 50, 'PASS', 'SVTYPE=DEL;END=43050000', 'GT', '0/0', '0/1'),
].join('\n') + '\n';

const BRCA1 = 'NC_000017.11:43044294-43125364';
const BRCA2 = 'NC_000013.11:32315507-32400268';
const LDLR = 'NC_000019.10:11089431-11133820';
const ids: Record<string, string> = {};
let base = '';

async function upload(patient: string, body: string | Buffer, query: string, contentType = 'text/vcf', headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/Patient/${patient}/$import-vcf?${query}`, { method: 'POST', body: body as BodyInit, headers: { 'content-type': contentType, accept: 'application/fhir+json', ...headers } });
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
}
const param = (body: any, name: string): any => (body.parameter as any[]).find((p) => p.name === name);
const parts = (p: any, name: string): any[] => (p.part as any[]).filter((x) => x.name === name);
const op = (name: string, query: string) => fhir(base, 'GET', `$${name}?${query}`);

describe('genomics: $import-vcf and the HL7 genomics operations', () => {
  before(async () => {
    base = (await sharedServer()).base;
    for (const key of ['a', 'b', 'c']) {
      const res = await fhir(base, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: `Genome${key}` }] });
      ids[key] = res.body.id;
    }
    const a = await upload(ids.a as string, VCF_A, 'testIdentifier=T-A1&testDate=2024-05-01&specimenIdentifier=SP-A1');
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const b = await upload(ids.b as string, VCF_B, 'testIdentifier=T-B1&sample=S2&testDate=2024-06-01');
    assert.equal(b.status, 200, JSON.stringify(b.body));
  });

  it('imports every non-reference call and creates the study and report resources', async () => {
    const again = await upload(ids.a as string, VCF_A, 'testIdentifier=T-A1&testDate=2024-05-01&specimenIdentifier=SP-A1');
    assert.equal(again.status, 200);
    assert.equal(param(again.body, 'variants').valueInteger, 13);
    assert.equal(param(again.body, 'dataLines').valueInteger, 13);
    assert.equal(param(again.body, 'replaced').valueBoolean, true);
    const report = await fhir(base, 'GET', param(again.body, 'report').valueReference.reference);
    assert.equal(report.status, 200);
    assert.equal(report.body.subject.reference, `Patient/${ids.a}`);
    const study = await fhir(base, 'GET', param(again.body, 'study').valueReference.reference);
    assert.equal(study.status, 200);
    assert.equal(study.body.resourceType, 'Procedure');
    // Re-importing the same test replaced it: still one test for the patient.
    const meta = await op('find-study-metadata', `subject=${ids.a}`);
    assert.equal(meta.status, 200);
    assert.equal(meta.body.parameter.length, 1);
  });

  it('reads gzip and multi-member (BGZF-style) bodies the same as plain text', async () => {
    const half = VCF_A.indexOf('chr6\t');
    const members = Buffer.concat([gzipSync(VCF_A.slice(0, half)), gzipSync(VCF_A.slice(half))]);
    for (const [i, body] of [gzipSync(VCF_A), members].entries()) {
      const res = await upload(ids.c as string, body, `testIdentifier=T-C-gz${i}`, 'application/gzip');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(param(res.body, 'variants').valueInteger, 13);
    }
  });

  it('refuses a malformed line with its line number and keeps nothing of the import', async () => {
    const bad = VCF_A.replace('chr2\t500000', 'chr2\tfive');
    const res = await upload(ids.c as string, bad, 'testIdentifier=T-C-bad');
    assert.equal(res.status, 400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    // The header is 10 lines (9 ## lines and #CHROM), so the chr2 record is line 15.
    assert.match(res.body.issue[0].diagnostics, /line 15/);
    const meta = await op('find-study-metadata', `subject=${ids.c}&testIdentifiers=T-C-bad`);
    assert.equal(meta.body.parameter?.length ?? 0, 0);
  });

  it('refuses bad parameters with 400', async () => {
    assert.equal((await upload(ids.a as string, VCF_A, '')).status, 400); // no testIdentifier
    assert.equal((await upload(ids.a as string, VCF_A, 'testIdentifier=x&genomicBuild=hg17')).status, 400);
    assert.equal((await upload(ids.a as string, VCF_B, 'testIdentifier=x')).status, 400); // two samples, none chosen
    assert.equal((await upload(ids.a as string, VCF_A, 'testIdentifier=x&genomicBuild=GRCh37')).status, 422); // header says GRCh38
    assert.equal((await upload('no-such-patient', VCF_A, 'testIdentifier=x')).status, 404);
    // A VCF body anywhere but $import-vcf is refused as a media type.
    const misplaced = await fetch(`${base}/Patient`, { method: 'POST', body: VCF_A, headers: { 'content-type': 'text/vcf' } });
    assert.equal(misplaced.status, 415);
  });

  it('$find-subject-variants: presence, variants and phasing per range', async () => {
    const res = await op('find-subject-variants', `subject=Patient/${ids.a}&ranges=${LDLR},NC_000019.10:1-1000&includeVariants=true&includePhasing=true`);
    assert.equal(res.status, 200, res.text);
    const [ldlr, empty] = res.body.parameter;
    assert.equal(parts(ldlr, 'rangeItem')[0].valueString, LDLR);
    assert.equal(parts(ldlr, 'presence')[0].valueBoolean, true);
    assert.equal(parts(ldlr, 'variant').length, 3);
    const phases = parts(ldlr, 'sequencePhaseRelationship');
    assert.equal(phases.length, 2);
    for (const p of phases) assert.equal(p.resource.valueCodeableConcept.coding[0].code, 'Trans');
    assert.equal(parts(empty, 'presence')[0].valueBoolean, false);
    assert.equal(parts(empty, 'variant').length, 0);
  });

  it('$find-subject-variants refuses another build with 422 and a range without subject with 400', async () => {
    assert.equal((await op('find-subject-variants', `subject=${ids.a}&ranges=NC_000019.9:11200138-11244496`)).status, 422);
    assert.equal((await op('find-subject-variants', `ranges=${LDLR}`)).status, 400);
    assert.equal((await op('find-subject-variants', `subject=${ids.a}&ranges=NC_000019.10:500-100`)).status, 400);
    assert.equal((await op('find-subject-variants', `subject=${ids.a}&testDateRange=ge2010-01-01`)).status, 400);
  });

  it('$find-subject-specific-variants by HGVS and SPDI', async () => {
    const res = await op('find-subject-specific-variants',
      `subject=${ids.a}&variants=NC_000006.12:g.26092913G>A,NC_000006.12:26092912:G:T,NC_000007.14:g.117559591_117559593del`);
    assert.equal(res.status, 200, res.text);
    const [hfe, other, cftr] = res.body.parameter;
    assert.equal(parts(hfe, 'presence')[0].valueBoolean, true);
    assert.equal(parts(hfe, 'variant').length, 1);
    assert.equal(parts(other, 'presence')[0].valueBoolean, false);
    assert.equal(parts(cftr, 'presence')[0].valueBoolean, true);
    assert.equal((await op('find-subject-specific-variants', `subject=${ids.a}&variants=NM_000410.4:c.845G>A`)).status, 400);
  });

  it('$find-subject-structural-intersecting/subsuming-variants', async () => {
    const inter = await op('find-subject-structural-intersecting-variants', `subject=${ids.a}&ranges=${BRCA1},${BRCA2},${LDLR}`);
    assert.equal(inter.status, 200, inter.text);
    assert.deepEqual(inter.body.parameter.map((p: any) => parts(p, 'presence')[0].valueBoolean), [true, true, false]);
    const sub = await op('find-subject-structural-subsuming-variants', `subject=${ids.a}&ranges=${BRCA1},${BRCA2}&includeVariants=true`);
    assert.deepEqual(sub.body.parameter.map((p: any) => parts(p, 'presence')[0].valueBoolean), [true, false]);
    assert.equal(parts(sub.body.parameter[0], 'variant').length, 1);
  });

  it('$find-study-metadata lists the tests with build and change types', async () => {
    const res = await op('find-study-metadata', `subject=${ids.a}&testIdentifiers=T-A1`);
    assert.equal(res.status, 200, res.text);
    const [test] = res.body.parameter;
    assert.equal(parts(test, 'testId')[0].valueString, 'T-A1');
    assert.equal(parts(test, 'specimenId')[0].valueString, 'SP-A1');
    assert.equal(parts(test, 'genomicBuild')[0].valueCodeableConcept.coding[0].code, 'LA26806-2');
    // SNVs, a deletion, an insertion, a <DEL> and a <DUP>.
    const kinds = parts(test, 'dnaChangeType')[0].valueCodeableConcept.coding.map((c: any) => c.display).sort();
    assert.deepEqual(kinds, ['SNV', 'deletion', 'duplication', 'insertion']);
    const dated = await op('find-study-metadata', `subject=${ids.a}&testDateRange=ge2024-06-01`);
    assert.equal(dated.body.parameter?.length ?? 0, 0);
  });

  it('population operations count carriers, with AND for repeated parameters', async () => {
    const mine = (p: any): string[] => parts(p, 'subject').map((x) => x.valueString).filter((s: string) => s === ids.a || s === ids.b).sort();
    const hfe = 'NC_000006.12:26092912:G:A';
    const res = await op('find-population-specific-variants', `variants=${hfe},NC_000002.12:500000::T&includePatientList=true`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(mine(res.body.parameter[0]), [ids.a, ids.b].sort());
    assert.deepEqual(mine(res.body.parameter[1]), [ids.a]);
    const both = await op('find-population-specific-variants', `variants=${hfe}&variants=NC_000002.12:500000::T&includePatientList=true`);
    assert.equal(both.body.parameter.length, 1);
    assert.equal(parts(both.body.parameter[0], 'variantItem')[0].valueString, `${hfe} AND NC_000002.12:500000::T`);
    assert.deepEqual(mine(both.body.parameter[0]), [ids.a]);
    const sv = await op('find-population-structural-intersecting-variants', `ranges=${BRCA1}&includePatientList=true`);
    assert.deepEqual(mine(sv.body.parameter[0]), [ids.a, ids.b].sort());
    const covering = await op('find-population-structural-subsuming-variants', `ranges=${BRCA1}&includePatientList=true`);
    assert.deepEqual(mine(covering.body.parameter[0]), [ids.a]);
    assert.equal((await op('find-population-specific-variants', 'genomicSourceClass=germline')).status, 400);
  });

  it('takes a Parameters body and, with materialize, stores the variant Observations as resources', async () => {
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'vcf', valueAttachment: { contentType: 'text/vcf', data: Buffer.from(VCF_A).toString('base64') } },
        { name: 'testIdentifier', valueString: 'T-C-mat' },
        { name: 'materialize', valueBoolean: true },
      ],
    };
    const res = await fhir(base, 'POST', `Patient/${ids.c}/$import-vcf`, body);
    assert.equal(res.status, 200, res.text);
    const report = await fhir(base, 'GET', param(res.body, 'report').valueReference.reference);
    assert.equal(report.body.result.length, 13);
    const first = await fhir(base, 'GET', report.body.result[0].reference);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.meta.profile, ['http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant']);
    // The stored Observations are ordinary resources: searchable by subject and code.
    const found = await fhir(base, 'GET', `Observation?subject=Patient/${ids.c}&code=http://loinc.org|69548-6&_summary=count`);
    assert.equal(found.body.total, 13);
  });

  it('publishes the 17 IG operations in the CapabilityStatement', async () => {
    const cs = await fhir(base, 'GET', 'metadata');
    const published = new Map((cs.body.rest[0].operation as any[]).map((o) => [o.name, o.definition]));
    const names = ['find-subject-variants', 'find-subject-specific-variants', 'find-subject-structural-intersecting-variants',
      'find-subject-structural-subsuming-variants', 'find-subject-haplotypes', 'find-subject-specific-haplotypes', 'find-subject-tx-implications',
      'find-subject-dx-implications', 'find-subject-molecular-consequences', 'find-study-metadata', 'find-population-specific-variants',
      'find-population-structural-intersecting-variants', 'find-population-structural-subsuming-variants', 'find-population-specific-haplotypes',
      'find-population-tx-implications', 'find-population-dx-implications', 'find-population-molecular-consequences'];
    for (const name of names) assert.equal(published.get(name), `http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/${name}`, name);
  });

  it('imports asynchronously with Prefer: respond-async and a status URL', async () => {
    const res = await upload(ids.b as string, VCF_B, 'testIdentifier=T-B-async&sample=S2', 'text/vcf', { prefer: 'respond-async' });
    assert.equal(res.status, 202);
    const status = res.headers.get('content-location') as string;
    assert.match(status, /\/_async\//);
    let done: any;
    for (let i = 0; i < 100 && !done; i++) {
      const poll = await fetch(status, { headers: { accept: 'application/fhir+json' } });
      if (poll.status === 200) done = await poll.json();
      else { assert.equal(poll.status, 202); await new Promise((r) => setTimeout(r, 100)); }
    }
    assert.ok(done, 'the job finished');
    assert.equal(done.type, 'batch-response');
    assert.equal(done.entry[0].response.status, '200');
    assert.equal(param(done.entry[0].resource, 'variants').valueInteger, 2);
  });
});
