// The allele-definition knowledge behind the matcher: the PharmCAT converter (and its error values
// for malformed input), the loader of knowledge/pgx/alleles, and that the committed files are
// exactly what scripts/kb/pgx-alleles.ts generates from ../shared. Also the PharmCAT gene tests the
// expected-calls extraction missed (read from PharmCAT's test sources, cited per case).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  fromPharmcatTranslation, loadAlleleDefinitions, withPharmcatActivity, type GeneAlleleDefinitions,
} from '../../../src/genomics/pgx/allele-definitions.js';
import { convertGene, formatKnowledgeJson, pharmcatCommit, PGX_GENES } from '../../../scripts/kb/pgx-alleles.js';
import { builderGenotypes, callCase, HAVE_PHARMCAT, KNOWLEDGE, namesOf, PHARMCAT, sortedNames } from './pharmcat-cases.js';

const skip = !HAVE_PHARMCAT && '../shared/data/pharmcat is not present';
const translation = (gene: string): Record<string, unknown> => JSON.parse(readFileSync(`${PHARMCAT}definition/alleles/${gene}_translation.json`, 'utf8'));
const exemptions = (): unknown => JSON.parse(readFileSync(`${PHARMCAT}definition/alleles/exemptions.json`, 'utf8'));

describe('PharmCAT translation converter', { skip }, () => {
  it('carries positions, alleles, sub-allele names, exemptions and the SLCO1B1 fallback', () => {
    const slco1b1 = fromPharmcatTranslation(translation('SLCO1B1'), exemptions(), { file: 'SLCO1B1_translation.json' });
    assert.ok(slco1b1.ok, slco1b1.ok ? '' : slco1b1.error);
    const d = slco1b1.value;
    assert.deepEqual([d.gene, d.build, d.refSeq, d.chromosome, d.knowledgeVersion], ['SLCO1B1', 'GRCh38', 'NC_000012.12', 'chr12', '2025-11-05-00-25']);
    assert.equal(d.namedAlleles.find((a) => a.name === '*45.001')?.reportedAs, '*45');
    assert.deepEqual(d.method.fallback, { position: 21178615, rsid: 'rs4149056', diplotypes: { 'T/T': ['*1', '*1'], 'C/T': ['*1', '*5'], 'C/C': ['*5', '*5'] } });
    const cyp2c9 = fromPharmcatTranslation(translation('CYP2C9'), exemptions());
    assert.ok(cyp2c9.ok);
    assert.deepEqual(cyp2c9.value.method.extraPositions.map((p) => p.rsid), ['rs12777823']);
    const ugt1a1 = fromPharmcatTranslation(translation('UGT1A1'), exemptions());
    assert.ok(ugt1a1.ok);
    assert.deepEqual(ugt1a1.value.positions.find((p) => p.rsid === 'rs3064744')?.cpicToVcf, { 'TA(6)': 'C', 'TA(7)': 'CAT', 'TA(8)': 'CATAT', 'TA(9)': 'CATATAT' });
    const tpmt = fromPharmcatTranslation(translation('TPMT'));
    assert.ok(tpmt.ok);
    assert.equal(tpmt.value.method.undocumentedAsReference, true);
  });

  it('takes ignored alleles and positions from an exemptions entry', () => {
    const custom = { gene: 'VKORC1', ignoredAlleles: ['rs9923231 variant (T)'], ignoredPositions: [{ position: 31096368 }], allHits: true };
    const d = fromPharmcatTranslation(translation('VKORC1'), custom);
    assert.ok(d.ok);
    assert.deepEqual([d.value.method.ignoredAlleles, d.value.method.ignoredPositions, d.value.method.allHits], [['rs9923231 variant (T)'], [31096368], true]);
  });

  it('names the file and the field of malformed input', () => {
    const bad = (mutate: (j: Record<string, unknown>) => void, gene = 'CYP3A5'): string => {
      const j = translation(gene);
      mutate(j);
      const r = fromPharmcatTranslation(j, undefined, { file: `${gene}_translation.json` });
      assert.ok(!r.ok, 'expected an error');
      return r.error;
    };
    assert.equal(bad((j) => { delete j.variants; }), 'CYP3A5_translation.json: variants: expected an array');
    assert.equal(bad((j) => { j.genomeBuild = 'GRCh37.p13'; }), 'CYP3A5_translation.json: genomeBuild: expected GRCh38, got GRCh37.p13');
    assert.equal(bad((j) => { ((j.namedAlleles as { alleles: unknown[] }[])[1] as { alleles: unknown[] }).alleles.pop(); }),
      'CYP3A5_translation.json: namedAlleles[1].alleles: expected 5 cells (one per position), got 4');
    assert.equal(bad((j) => { ((j.namedAlleles as { alleles: unknown[] }[])[1] as { alleles: unknown[] }).alleles[3] = 'G'; }),
      'CYP3A5_translation.json: namedAlleles[1].alleles[3]: G is neither REF nor an ALT of position 99672916');
    assert.equal(bad((j) => { ((j.variants as Record<string, unknown>[])[2] as Record<string, unknown>).position = -4; }),
      'CYP3A5_translation.json: variants[2].position: expected a positive integer');
    const notObject = fromPharmcatTranslation('not an object', undefined, { file: 'x.json' });
    assert.deepEqual(notObject, { ok: false, error: 'x.json: (root): expected an object' });
  });

  it('adds DPYD activity values from the phenotype file, and refuses an allele without one', () => {
    const dpyd = fromPharmcatTranslation(translation('DPYD'), exemptions());
    assert.ok(dpyd.ok);
    const phenotype = JSON.parse(readFileSync(`${PHARMCAT}phenotype/DPYD.json`, 'utf8')) as { namedAlleles: { name: string }[] };
    const withActivity = withPharmcatActivity(dpyd.value, phenotype, 'DPYD.json');
    assert.ok(withActivity.ok);
    assert.equal(withActivity.value.namedAlleles.find((a) => a.name === 'c.1905+1G>A (*2A)')?.activityValue, 0);
    phenotype.namedAlleles = phenotype.namedAlleles.filter((a) => a.name !== 'c.2846A>T');
    const missing = withPharmcatActivity(dpyd.value, phenotype, 'DPYD.json');
    assert.ok(!missing.ok);
    assert.equal(missing.error, 'DPYD.json: namedAlleles: lowest-function calling needs an activity value for every allele (c.2846A>T has none)');
  });
});

describe('knowledge/pgx/alleles', () => {
  it('loads the ten genes, each citing its source and data version', async () => {
    const loaded = await loadAlleleDefinitions(KNOWLEDGE);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
    assert.deepEqual([...loaded.value.keys()].sort(), [...PGX_GENES].sort());
    for (const d of loaded.value.values()) {
      assert.match(d.source.url, /^https:\/\/github\.com\/PharmGKB\/PharmCAT\/blob\/[0-9a-f]{40}\//);
      assert.equal(d.source.version, d.knowledgeVersion);
    }
  });

  it('is exactly what scripts/kb/pgx-alleles.ts generates from ../shared', { skip }, async () => {
    const ex = exemptions();
    const commit = await pharmcatCommit(PHARMCAT);
    for (const gene of PGX_GENES) {
      const generated = `${formatKnowledgeJson(await convertGene(PHARMCAT, gene, ex, commit))}\n`;
      assert.equal(readFileSync(join(KNOWLEDGE, `${gene}.json`), 'utf8'), generated, `${gene}.json is stale: rerun the script`);
    }
  });

  it('reports a malformed knowledge file by file and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helix-pgx-'));
    try {
      const good = JSON.parse(readFileSync(join(KNOWLEDGE, 'VKORC1.json'), 'utf8')) as GeneAlleleDefinitions;
      good.namedAlleles[0]!.alleles = ['X'];
      writeFileSync(join(dir, 'VKORC1.json'), JSON.stringify(good));
      const loaded = await loadAlleleDefinitions(dir);
      assert.ok(!loaded.ok);
      assert.equal(loaded.error, `${join(dir, 'VKORC1.json')}: namedAlleles[0].alleles[0]: X is neither REF nor an ALT of position 31096368`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Cases from PharmCAT's gene tests (src/test/java/org/pharmgkb/pharmcat/haplotype/
// NamedAlleleMatcher{Cyp2c19,Cyp2c9,Slco1b1}Test.java) that derived/pharmcat_expected_calls.json
// does not contain; TestVcfBuilder genotypes, CPIC allele spellings, all candidates unless `top`.
const MISSED: { gene: string; test: string; expected: string[]; top?: boolean; variations?: { rsid: string; alleles: [string, string] }[]; missing?: string[] }[] = [
  { gene: 'CYP2C19', test: 's1s4', top: true, expected: ['*1/*4'], variations: [{ rsid: 'rs12248560', alleles: ['C', 'T'] }, { rsid: 'rs28399504', alleles: ['A', 'G'] }, { rsid: 'rs3758581', alleles: ['G', 'G'] }] },
  { gene: 'CYP2C19', test: 's1s28', expected: ['*1/*28'], variations: [{ rsid: 'rs17882687', alleles: ['A', 'C'] }, { rsid: 'rs3758581', alleles: ['G', 'G'] }, { rsid: 'rs113934938', alleles: ['G', 'A'] }] },
  { gene: 'CYP2C19', test: 's4as4b', expected: ['*4/*4'], variations: [{ rsid: 'rs12248560', alleles: ['C', 'T'] }, { rsid: 'rs28399504', alleles: ['G', 'G'] }], missing: ['rs3758581'] },
  { gene: 'CYP2C19', test: 'sUnks17', expected: [], variations: [{ rsid: 'rs12248560', alleles: ['T', 'T'] }, { rsid: 'rs28399504', alleles: ['A', 'G'] }] },
  { gene: 'CYP2C19', test: 's4bs17rs28399504missing', expected: [], variations: [{ rsid: 'rs12248560', alleles: ['T', 'T'] }], missing: ['rs28399504'] },
  { gene: 'CYP2C19', test: 's2s35', expected: [], variations: [{ rsid: 'rs12769205', alleles: ['A', 'G'] }, { rsid: 'rs4244285', alleles: ['A', 'A'] }] },
  { gene: 'CYP2C9', test: 's2_s24', expected: ['*2/*24'], variations: [{ rsid: 'rs1799853', alleles: ['C', 'T'] }, { rsid: 'rs749060448', alleles: ['A', 'G'] }] },
  { gene: 'CYP2C9', test: 's2_s25', expected: ['*2/*25'], variations: [{ rsid: 'rs1799853', alleles: ['C', 'T'] }, { rsid: 'rs1304490498', alleles: ['AGAAATGGAA', 'delAGAAATGGAA'] }] },
  { gene: 'SLCO1B1', test: 'slco1b1s1s1', expected: ['*1/*1'] },
  { gene: 'SLCO1B1', test: 'slco1b1s1s15', expected: ['*1/*15', '*5/*37'], variations: [{ rsid: 'rs2306283', alleles: ['A', 'G'] }, { rsid: 'rs4149056', alleles: ['T', 'C'] }] },
];

describe('PharmCAT gene tests the extraction missed', { skip }, () => {
  let defs: Map<string, GeneAlleleDefinitions>;
  before(async () => {
    const loaded = await loadAlleleDefinitions(KNOWLEDGE);
    assert.ok(loaded.ok);
    defs = loaded.value;
  });
  for (const c of MISSED) {
    it(`${c.gene} ${c.test} → ${c.expected.join(', ') || 'no call'}`, () => {
      const d = defs.get(c.gene) as GeneAlleleDefinitions;
      const call = callCase(d, builderGenotypes(d, { ...c, phased: false }), c.top === true);
      assert.deepEqual(namesOf(call), sortedNames(c.expected));
    });
  }
});
