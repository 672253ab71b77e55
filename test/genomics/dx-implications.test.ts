// The ClinVar knowledge base and the dx-implication operations over HTTP. The shared server's
// database gets the hand-written fixture (fixtures/clinvar-mini.vcf, 19 ClinVar alleles on
// GRCh38) through the loader itself, and three patients get hand-written VCFs. Expected answers
// are worked out by hand from the fixture's lines, in the variant store's 0-based coordinates
// (start = POS − 1, common bases trimmed):
//
// Patient 1 (GRCh38), its calls and the ClinVar allele each carries:
//   chr1   2000000  C>G       not in ClinVar
//   chr6  26090951  C>G  het  → 10    HFE H63D    Conflicting; conditions HH type 1, hereditary HH, cystic fibrosis
//   chr6  26091041  G>C  het  → 13    HFE G93R    Uncertain significance; HH type 1
//   chr6  26091078  T>G  het     ClinVar has T>C here (12): other allele, no implication
//   chr6  26092913  G>A  hom  → 9     HFE C282Y   Pathogenic/Pathogenic, low penetrance; risk factor
//   chr6  26093008  G>A  het  → 14    HFE intron  Benign
//   chr7 117559590  ATCT>A    → 7105  CFTR F508del (NC_000007.14:117559590:TCT:), Pathogenic, practice guideline
//   chr17 43124027  ACT>A     → 17662 BRCA1 185delAG (NC_000017.11:43124027:CT:), Pathogenic, expert panel
// Patient 2 (GRCh38): C282Y het → 9; FOXRED1 11:126277517 A>G → 6 (Likely pathogenic);
//   BRCA1 17:43057062 T>TG → 17677 (NC_000017.11:43057062::G, the insertion after the T).
// Patient 3 (GRCh37): HFE C282Y at GRCh37 6:26093141 — no GRCh37 ClinVar is loaded.
// Population answers are checked through the patient lists, since other tests' patients may
// share the database.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { runKb } from '../../src/cli/kb.js';
import { importClinvar } from '../../src/genomics/clinvar.js';
import { VcfError } from '../../src/genomics/vcf-source.js';
import { fhir, sharedServer } from '../harness.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'clinvar-mini.vcf');
const MEDGEN = 'https://www.ncbi.nlm.nih.gov/medgen';
const LOINC = 'http://loinc.org';
const STARS = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/clinvar-evidence-level-custom-cs';

const row = (...cols: (string | number)[]): string => cols.join('\t');
const vcf = (reference: string, sample: string, rows: string[]): string => [
  '##fileformat=VCFv4.3', `##reference=${reference}`, '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  `#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t${sample}`, ...rows,
].join('\n') + '\n';
const call = (chrom: string, pos: number, ref: string, alt: string, gt = '0/1') => row(chrom, pos, '.', ref, alt, 50, 'PASS', '.', 'GT', gt);
const VCF_1 = vcf('GRCh38', 'P1', [
  call('chr1', 2000000, 'C', 'G'), call('chr6', 26090951, 'C', 'G'), call('chr6', 26091041, 'G', 'C'), call('chr6', 26091078, 'T', 'G'),
  call('chr6', 26092913, 'G', 'A', '1/1'), call('chr6', 26093008, 'G', 'A'), call('chr7', 117559590, 'ATCT', 'A'), call('chr17', 43124027, 'ACT', 'A'),
]);
const VCF_2 = vcf('GRCh38', 'P2', [call('chr6', 26092913, 'G', 'A'), call('chr11', 126277517, 'A', 'G'), call('chr17', 43057062, 'T', 'TG')]);
const VCF_3 = vcf('GRCh37', 'P3', [call('6', 26093141, 'G', 'A')]);

const ids: Record<string, string> = {};
let base = '';
const op = (name: string, query: string) => fhir(base, 'GET', `$${name}?${query}`);
const named = (body: any, name: string): any[] => ((body.parameter ?? []) as any[]).filter((p) => p.name === name);
const component = (o: any, code: string): any[] => (o.component ?? []).filter((c: any) => c.code.coding[0].code === code);
/** The ClinVar Variation IDs of a subject answer's implications, in order. */
const variations = (body: any): string[] => named(body, 'implication').map((p) => p.resource.extension[0].valueRelatedArtifact.label.replace('ClinVar ', ''));

async function clinvarCount(): Promise<number> {
  const rows = await (await sharedServer()).helix.ctx.db.query<{ n: number | string }>("SELECT count(*) AS n FROM clinvar_variants WHERE build = 'GRCh38'");
  return Number(rows[0]?.n);
}

describe('genomics: ClinVar knowledge base and the dx-implication operations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helix-kb-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    const server = await sharedServer();
    base = server.base;
    const summary = await importClinvar(server.helix.ctx.db, readFileSync(FIXTURE));
    assert.deepEqual(summary, { build: 'GRCh38', variants: 19, dataLines: 19, skipped: 0 });
    for (const [key, body] of [['p1', VCF_1], ['p2', VCF_2], ['p3', VCF_3]] as const) {
      const patient = await fhir(base, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: `Clinvar${key}` }] });
      ids[key] = patient.body.id;
      const res = await fetch(`${base}/Patient/${ids[key]}/$import-vcf?testIdentifier=DX-${key}&testDate=2025-01-15`, {
        method: 'POST', body, headers: { 'content-type': 'text/vcf', accept: 'application/fhir+json' },
      });
      assert.equal(res.status, 200, await res.text());
    }
  });

  it('loads ClinVar VCFs, plain or gzip; a re-import replaces its build; bad files change nothing', async () => {
    const db = (await sharedServer()).helix.ctx.db;
    const again = await importClinvar(db, gzipSync(readFileSync(FIXTURE)));
    assert.equal(again.variants, 19);
    assert.equal(await clinvarCount(), 19);
    // No build in the header and none given; a build the header contradicts; a VCF of calls, not ClinVar.
    const header = '##fileformat=VCFv4.1\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
    const line = '7\t117559590\t7105\tATCT\tA\t.\t.\tCLNSIG=Pathogenic\n';
    await assert.rejects(importClinvar(db, Buffer.from(header + line)), /names no build/);
    await assert.rejects(importClinvar(db, Buffer.from(`##reference=GRCh38\n${header}${line}`), { build: 'GRCh37' }), /says GRCh38/);
    await assert.rejects(importClinvar(db, Buffer.from(`##reference=GRCh38\n${header}7\t117559590\trs113993960\tATCT\tA\t.\t.\t.\n`)),
      (err: unknown) => err instanceof VcfError && /line 4: ID rs113993960 is not a ClinVar Variation ID/.test(err.message));
    assert.equal(await clinvarCount(), 19, 'the failed loads left the release in place');
    // Other contigs and symbolic ALTs are skipped; fileDate names the release. Then the fixture again.
    const odd = `##fileDate=2025-06-01\n##reference=GRCh38\n${header}NW_009646201.1\t10\t1\tA\tG\t.\t.\t.\n1\t100\t2\tA\t<DEL>\t.\t.\t.\n${line}`;
    assert.deepEqual(await importClinvar(db, Buffer.from(odd)), { build: 'GRCh38', variants: 1, dataLines: 3, skipped: 2, fileDate: '2025-06-01' });
    await importClinvar(db, readFileSync(FIXTURE));
    assert.equal(await clinvarCount(), 19);
  });

  it('helix kb import clinvar loads into the database the environment names', async () => {
    const databaseUrl = process.env.DATABASE_URL ? (await sharedServer()).helix.ctx.config.databaseUrl : undefined;
    const env: NodeJS.ProcessEnv = databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dir };
    let out = '';
    assert.equal(await runKb(['import', 'clinvar', FIXTURE], env, (t) => void (out += t)), 0);
    assert.equal(out, 'Loaded 19 ClinVar variants (GRCh38) from 19 records\n');
    assert.equal(await runKb(['import', 'dbsnp', FIXTURE], env), 2);
    assert.equal(await runKb(['import', 'clinvar', FIXTURE, '--build', 'hg17'], env), 2);
    assert.equal(await runKb(['import', 'clinvar', join(dir, 'absent.vcf')], env), 1);
  });

  it('$find-subject-dx-implications: every implication of the subject, with its variant', async () => {
    const res = await op('find-subject-dx-implications', `subject=Patient/${ids.p1}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(variations(res.body), ['10', '13', '9', '14', '7105', '17662']);
    const implications = named(res.body, 'implication').map((p) => p.resource);
    const variants = named(res.body, 'variant').map((p) => p.resource);
    assert.equal(variants.length, 6);
    assert.deepEqual(implications.map((o) => o.derivedFrom[0].reference), variants.map((v) => `Observation/${v.id}`));
    for (const o of implications) {
      assert.deepEqual(o.meta.profile, ['http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/diagnostic-implication']);
      assert.equal(o.subject.reference, `Patient/${ids.p1}`);
      assert.equal(o.valueCodeableConcept, undefined);
    }
    const [h63d, g93r, c282y, benign, f508del, brca1] = implications;
    // Clinical significance (53037-8): LOINC LL4034-6 answers for the five tiers, text for the rest.
    const significance = (o: any) => component(o, '53037-8')[0].valueCodeableConcept;
    assert.deepEqual(significance(h63d), { text: 'Conflicting classifications of pathogenicity; other' });
    assert.deepEqual(significance(g93r).coding, [{ system: LOINC, code: 'LA26333-7', display: 'Uncertain significance' }]);
    assert.deepEqual(significance(c282y), { text: 'Pathogenic/Pathogenic, low penetrance; risk factor' });
    assert.equal(significance(benign).coding[0].code, 'LA6675-8');
    assert.equal(significance(f508del).coding[0].code, 'LA6668-3');
    assert.equal(significance(brca1).coding[0].code, 'LA6668-3');
    // Evidence level (93044-6) in stars, from CLNREVSTAT.
    const stars = (o: any) => component(o, '93044-6')[0].valueCodeableConcept.coding[0];
    assert.deepEqual([h63d, g93r, c282y, benign, f508del, brca1].map((o) => stars(o).code), ['1-star', '1-star', '2-star', '1-star', '4-star', '3-star']);
    assert.equal(stars(f508del).system, STARS);
    assert.equal(component(f508del, '93044-6')[0].valueCodeableConcept.text, 'practice guideline');
    // Conditions (81259-4), placeholders (not provided, not specified) left out; MedGen coded first.
    const conditions = (o: any) => component(o, '81259-4').map((c: any) => c.valueCodeableConcept);
    assert.deepEqual(conditions(h63d).map((c: any) => c.text), ['Hemochromatosis type 1', 'Hereditary hemochromatosis', 'Cystic fibrosis']);
    assert.deepEqual(conditions(h63d)[0].coding.map((c: any) => `${c.system}|${c.code}`), [
      `${MEDGEN}|C3469186`, 'https://omim.org|235200', 'http://purl.obolibrary.org/obo/mondo.owl|MONDO:0021001', 'http://www.orpha.net|465508',
    ]);
    assert.deepEqual(conditions(benign), [{ text: 'HFE INTRONIC POLYMORPHISM' }]);
    assert.deepEqual(conditions(f508del).map((c: any) => c.coding[0].code), ['C0010674', 'C0403814']);
    // The variant Observations are the subject's calls: F508del is the 3-base deletion after 117559590.
    const f508Variant = variants[4];
    assert.equal(component(f508Variant, '81252-9')[0].valueCodeableConcept.coding[0].code, 'NC_000007.14:117559590:TCT:');
    assert.equal(component(variants[2], '53034-5')[0].valueCodeableConcept.coding[0].code, 'LA6705-3'); // C282Y homozygous
  });

  it('$find-subject-dx-implications filtered by variants, ranges and conditions', async () => {
    const subject = `subject=${ids.p1}`;
    const ask = async (query: string) => {
      const res = await op('find-subject-dx-implications', `${subject}&${query}`);
      assert.equal(res.status, 200, res.text);
      return variations(res.body);
    };
    assert.deepEqual(await ask(`conditions=${MEDGEN}|C3469186`), ['10', '13', '9']);
    assert.deepEqual(await ask('conditions=C0010674'), ['10', '7105']);
    assert.deepEqual(await ask('conditions=http://purl.obolibrary.org/obo/mondo.owl|MONDO:0009061'), ['10', '7105']);
    assert.deepEqual(await ask(`conditions=https://omim.org|219700,${MEDGEN}|C2676676`), ['10', '7105', '17662']);
    assert.deepEqual(await ask('variants=NC_000007.14:117559590:TCT:'), ['7105']);
    assert.deepEqual(await ask('variants=NC_000006.12:g.26091078T>G'), []); // carried, but not the allele ClinVar classifies
    assert.deepEqual(await ask('ranges=NC_000017.11:43044294-43125364'), ['17662']);
    assert.deepEqual(await ask(`variants=NC_000006.12:26092912:G:A&conditions=${MEDGEN}|C0010674`), []);
    assert.deepEqual(await ask('testIdentifiers=DX-p2'), []);
    assert.deepEqual(await ask('genomicSourceClass=somatic'), []);
    const both = await op('find-subject-dx-implications', `${subject}&variants=NC_000006.12:26092912:G:A`);
    assert.deepEqual(named(both.body, 'variant').length, 1);
    assert.deepEqual(variations((await op('find-subject-dx-implications', `subject=${ids.p2}`)).body), ['9', '6', '17677']);
  });

  it('$find-subject-dx-implications refuses bad requests', async () => {
    const status = async (query: string) => (await op('find-subject-dx-implications', query)).status;
    assert.equal(await status(`conditions=${MEDGEN}|C3469186`), 400); // no subject
    assert.equal(await status(`subject=${ids.p1}&conditions=a|b|c`), 400);
    assert.equal(await status(`subject=${ids.p1}&conditions=|C3469186`), 400);
    assert.equal(await status(`subject=${ids.p1}&conditions=http://example.org/diseases|X1`), 400);
    assert.equal(await status(`subject=${ids.p1}&conditions=hemochromatosis`), 400);
    assert.equal(await status(`subject=${ids.p1}&variants=NM_000410.4:c.845G>A`), 400);
    assert.equal(await status(`subject=${ids.p1}&treatments=x`), 400);
    // Data on GRCh37 only, and no GRCh37 ClinVar loaded: the answer is unknown, not empty.
    const res = await op('find-subject-dx-implications', `subject=${ids.p3}&conditions=${MEDGEN}|C3469186`);
    assert.equal(res.status, 422, res.text);
    assert.match(res.body.issue[0].diagnostics, /No ClinVar release is loaded for GRCh37/);
  });

  it('$find-population-dx-implications counts patients, with AND for repeated parameters', async () => {
    const ask = async (query: string) => {
      const res = await op('find-population-dx-implications', `${query}&includePatientList=true`);
      assert.equal(res.status, 200, res.text);
      const [implications] = named(res.body, 'implications');
      const part = (name: string) => (implications.part as any[]).filter((p) => p.name === name);
      const subjects = part('subject').map((p) => p.valueString as string);
      assert.equal(part('numerator')[0].valueQuantity.value, subjects.length);
      // Every patient with data on a build ClinVar is loaded for: p1 and p2 at least, none when nothing is selected.
      assert.ok(part('denominator')[0].valueQuantity.value >= (query.includes('somatic') ? 0 : 2));
      const mine = Object.entries(ids).filter(([, id]) => subjects.includes(id)).map(([key]) => key);
      return mine.sort();
    };
    assert.deepEqual(await ask(`conditions=${MEDGEN}|C3469186`), ['p1', 'p2']); // p3 is on GRCh37: outside the cohort searched
    assert.deepEqual(await ask(`conditions=${MEDGEN}|C3469186&conditions=C0010674`), ['p1']);
    assert.deepEqual(await ask(`conditions=C0010674,${MEDGEN}|C2676676`), ['p1', 'p2']);
    assert.deepEqual(await ask('variants=NC_000006.12:26092912:G:A'), ['p1', 'p2']);
    assert.deepEqual(await ask('variants=NC_000017.11:43057062::G&variants=NC_000006.12:26092912:G:A'), ['p2']);
    assert.deepEqual(await ask(`variants=NC_000006.12:26092912:G:A&conditions=${MEDGEN}|C0010674`), []);
    assert.deepEqual(await ask(`conditions=${MEDGEN}|C3469186&genomicSourceClass=somatic`), []);
    const counted = await op('find-population-dx-implications', `conditions=${MEDGEN}|C3469186`);
    assert.deepEqual((counted.body.parameter[0].part as any[]).map((p) => p.name), ['numerator', 'denominator']);
    const status = async (query: string) => (await op('find-population-dx-implications', query)).status;
    assert.equal(await status('haplotypes=APOE*4'), 400);
    assert.equal(await status('includePatientList=true'), 400);
    assert.equal(await status('conditions=a|b|c'), 400);
    assert.equal(await status('subject=x&conditions=C0010674'), 400);
  });
});
