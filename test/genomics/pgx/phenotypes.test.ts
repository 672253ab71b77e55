// Diplotype → phenotype from Helix's knowledge files (src/genomics/pgx/phenotypes.ts).
// 1. The compact rules reproduce every diplotype → phenotype (and activity score / lookup key)
//    CPIC lists in the shared PharmCAT phenotype files for CYP2C19, CYP2C9, CYP3A5, VKORC1,
//    SLCO1B1, TPMT, NUDT15, DPYD and UGT1A1, and every activity score → phenotype of the CYP2D6
//    rule table; the committed files are exactly what the generator writes from that data.
// 2. Hand-worked cases from CPIC's allele tables, the arithmetic beside each. Note CPIC gives
//    CYP2C9 *3 an activity value of 0 (no function), so *1/*3 scores 1.0, not 1.5; it is *1/*2
//    (1.0 + 0.5) that scores 1.5. Both are Intermediate Metabolizers.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generatePhenotypeKnowledge } from '../../../scripts/kb/pgx-phenotypes.js';
import {
  defaultPgxKnowledgeDir, formatActivityScore, loadPhenotypeKnowledge, parseGeneRules, phenotypeOf, scorePhenotype,
} from '../../../src/genomics/pgx/phenotypes.js';

const PHARMCAT = process.env.PHARMCAT_DATA ?? fileURLToPath(new URL('../../../../shared/data/pharmcat/', import.meta.url));
const hasData = existsSync(join(PHARMCAT, 'phenotype'));
const dir = join(defaultPgxKnowledgeDir, 'phenotypes');
const kb = loadPhenotypeKnowledge(dir);
const call = (gene: string, diplotype: Parameters<typeof phenotypeOf>[2]) => phenotypeOf(kb, gene, diplotype);

interface SourceDiplotype { diplotype: string; diplotypekey: Record<string, number>; phenotype: string; activityScore: string | null; lookupkey: string }

describe('pgx phenotypes', () => {
  it('loads a rule file for each of the eleven genes', () => {
    assert.deepEqual([...kb.genes.keys()].sort(), ['CYP2C19', 'CYP2C9', 'CYP2D6', 'CYP3A5', 'CYP4F2', 'DPYD', 'NUDT15', 'SLCO1B1', 'TPMT', 'UGT1A1', 'VKORC1']);
    for (const rules of kb.genes.values()) {
      assert.ok(rules.citations.length > 0 && rules.citations.every((c) => /^\d+$/.test(c.pmid) && c.url.startsWith('https://')), rules.gene);
    }
  });

  describe('reproduces every diplotype in the shared PharmCAT phenotype files', { skip: !hasData && 'shared PharmCAT data not present' }, () => {
    for (const gene of ['CYP2C19', 'CYP2C9', 'CYP3A5', 'VKORC1', 'SLCO1B1', 'TPMT', 'NUDT15', 'DPYD', 'UGT1A1']) {
      it(gene, () => {
        const source = JSON.parse(readFileSync(join(PHARMCAT, 'phenotype', `${gene}.json`), 'utf8')) as { diplotypes: SourceDiplotype[] };
        let checked = 0;
        for (const d of source.diplotypes) {
          const names = Object.entries(d.diplotypekey).flatMap(([n, k]) => Array<string>(k).fill(n));
          const got = call(gene, [names[0]!, names[1]!]);
          assert.equal(got.phenotype, d.phenotype, `${gene} ${d.diplotype}`);
          assert.equal(got.lookupKey, d.lookupkey, `${gene} ${d.diplotype} lookup key`);
          assert.equal(got.activityScore?.text ?? (got.lookupKey === 'n/a' ? 'n/a' : null), d.activityScore, `${gene} ${d.diplotype} score`);
          checked++;
        }
        assert.equal(checked, source.diplotypes.length);
        assert.ok(checked > 0);
      });
    }

    it('CYP2D6: allele activity values and score → phenotype of the derived rule table', () => {
      const derived = JSON.parse(readFileSync(join(PHARMCAT, 'derived', 'pharmcat_gene_phenotype_rules.json'), 'utf8')) as {
        genes: { CYP2D6: { alleles: Record<string, { function: string; activityValue: string }>; phenotypeRules: Record<string, string[]> } };
      };
      const rules = kb.genes.get('CYP2D6')!;
      for (const [name, a] of Object.entries(derived.genes.CYP2D6.alleles)) {
        const h = rules.alleles.get(name)!;
        assert.equal(h.function, a.function, name);
        assert.equal(h.activityValue == null ? 'n/a' : formatActivityScore(h.activityValue, h.atLeast), a.activityValue, name);
      }
      assert.equal(rules.alleles.size, Object.keys(derived.genes.CYP2D6.alleles).length);
      for (const [score, [phenotype]] of Object.entries(derived.genes.CYP2D6.phenotypeRules)) {
        if (score === 'n/a') continue;
        const atLeast = score.startsWith('≥');
        const value = Number(atLeast ? score.slice(1) : score);
        assert.equal(scorePhenotype(rules.scoreRanges, { value, atLeast, text: score }), phenotype, `CYP2D6 score ${score}`);
      }
    });

    it('the committed files are what the generator writes', () => {
      const out = mkdtempSync(join(tmpdir(), 'helix-pgx-phenotypes-'));
      try {
        generatePhenotypeKnowledge(PHARMCAT, out);
        const json = (d: string) => readdirSync(d).filter((f) => f.endsWith('.json')).sort();
        assert.deepEqual(json(out), json(dir));
        for (const file of json(dir)) assert.equal(readFileSync(join(out, file), 'utf8'), readFileSync(join(dir, file), 'utf8'), file);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });

  describe('hand-worked cases', () => {
    it('CYP2C19: function pairs', () => {
      // *2 and *2 are both no function → Poor; *1 normal + *17 increased → Rapid; *1 + *2 → Intermediate.
      assert.equal(call('CYP2C19', '*2/*2').phenotype, 'Poor Metabolizer');
      assert.equal(call('CYP2C19', '*1/*17').phenotype, 'Rapid Metabolizer');
      assert.equal(call('CYP2C19', '*17/*17').phenotype, 'Ultrarapid Metabolizer');
      // Gene-prefixed allele names, as labs often write them, and either order.
      const im = call('cyp2c19', 'CYP2C19*2/CYP2C19*1');
      assert.equal(im.phenotype, 'Intermediate Metabolizer');
      assert.equal(im.lookupKey, 'Intermediate Metabolizer');
      assert.deepEqual(im.diplotype.map((h) => [h.name, h.function]), [['*2', 'No function'], ['*1', 'Normal function']]);
      // *9 is decreased function: with *2 (no function) CPIC says "Likely Poor".
      assert.equal(call('CYP2C19', ['*9', '*2']).phenotype, 'Likely Poor Metabolizer');
    });

    it('CYP2C19: an uncertain-function or unknown allele makes the phenotype Indeterminate', () => {
      const uncertain = call('CYP2C19', '*1/*12');
      assert.equal(uncertain.phenotype, 'Indeterminate');
      assert.equal(uncertain.determinate, false);
      assert.equal(uncertain.reason, undefined, 'CPIC\'s own rule, not a gap');
      const unknown = call('CYP2C19', '*1/*99');
      assert.equal(unknown.phenotype, 'Indeterminate');
      assert.match(unknown.reason!, /\*99/);
    });

    it('CYP2C9: activity scores', () => {
      // *1 (1.0) + *3 (0.0) = 1.0 → Intermediate; *1 (1.0) + *2 (0.5) = 1.5 → Intermediate.
      const oneThree = call('CYP2C9', '*1/*3');
      assert.equal(oneThree.activityScore?.text, '1.0');
      assert.equal(oneThree.phenotype, 'Intermediate Metabolizer');
      const oneTwo = call('CYP2C9', '*1/*2');
      assert.deepEqual(oneTwo.activityScore, { value: 1.5, atLeast: false, text: '1.5' });
      assert.equal(oneTwo.phenotype, 'Intermediate Metabolizer');
      assert.equal(oneTwo.lookupKey, '1.5');
      // *2/*3 = 0.5 + 0.0 = 0.5 → Poor (CPIC: 0-0.5); *1/*1 = 2.0 → Normal.
      assert.equal(call('CYP2C9', '*2/*3').phenotype, 'Poor Metabolizer');
      assert.equal(call('CYP2C9', '*1/*1').phenotype, 'Normal Metabolizer');
      // *1/*18: *18 has uncertain function and no activity value → n/a → Indeterminate.
      const unscored = call('CYP2C9', '*1/*18');
      assert.equal(unscored.phenotype, 'Indeterminate');
      assert.equal(unscored.lookupKey, 'n/a');
      assert.equal(unscored.activityScore, undefined);
    });

    it('CYP2D6: activity scores from outside calls, copy numbers included', () => {
      // *1 (1.0) + *4 (0.0) = 1.0 → Intermediate; *1 + *10 (0.25) = 1.25 → Normal.
      assert.equal(call('CYP2D6', '*1/*4').phenotype, 'Intermediate Metabolizer');
      assert.equal(call('CYP2D6', '*1/*10').activityScore?.text, '1.25');
      assert.equal(call('CYP2D6', '*1/*10').phenotype, 'Normal Metabolizer');
      // *1x2 (2.0) + *1 (1.0) = 3.0 → Ultrarapid; *4/*4 = 0 → Poor.
      assert.equal(call('CYP2D6', '*1x2/*1').phenotype, 'Ultrarapid Metabolizer');
      assert.equal(call('CYP2D6', '*4/*4').phenotype, 'Poor Metabolizer');
      // *1x≥3 (≥3.0) + *4 (0) = ≥3.0, a lower bound, still Ultrarapid.
      const atLeast = call('CYP2D6', '*1x≥3/*4');
      assert.deepEqual(atLeast.activityScore, { value: 3, atLeast: true, text: '≥3.0' });
      assert.equal(atLeast.phenotype, 'Ultrarapid Metabolizer');
    });

    it('DPYD: the two lowest activity values of unphased haplotypes', () => {
      // Reference (1.0) + c.2846A>T (0.5) = 1.5 → Intermediate.
      assert.equal(call('DPYD', { haplotypes: ['Reference', 'c.2846A>T'] }).activityScore?.text, '1.5');
      // Three haplotypes found unphased: *2A (0.0), c.2846A>T (0.5), Reference (1.0); the lowest two
      // are assumed to be on different chromosomes: 0.0 + 0.5 = 0.5 → Poor.
      const three = call('DPYD', { haplotypes: ['Reference', 'c.2846A>T', 'c.1905+1G>A (*2A)'] });
      assert.deepEqual(three.diplotype.map((h) => h.name), ['c.1905+1G>A (*2A)', 'c.2846A>T']);
      assert.equal(three.activityScore?.text, '0.5');
      assert.equal(three.phenotype, 'Poor Metabolizer');
      assert.equal(three.lookupKey, '0.5');
      // The same two variants phased on one strand: that strand counts as its weakest allele (0.0),
      // the other strand is Reference (1.0) → 1.0 → Intermediate.
      const phased = call('DPYD', ['c.1905+1G>A (*2A) + c.2846A>T', 'Reference']);
      assert.equal(phased.activityScore?.text, '1.0');
      assert.equal(phased.phenotype, 'Intermediate Metabolizer');
      // HapB3 (0.5) homozygous = 1.0 → Intermediate.
      assert.equal(call('DPYD', { haplotypes: ['c.1129-5923C>G, c.1236G>A (HapB3)', 'c.1129-5923C>G, c.1236G>A (HapB3)'] }).phenotype, 'Intermediate Metabolizer');
      assert.throws(() => call('DPYD', { haplotypes: ['c.2846A>T'] }), /at least two/);
      assert.throws(() => call('TPMT', { haplotypes: ['*1', '*3A', '*3C'] }), /lowest two/);
    });

    it('TPMT and NUDT15 for thiopurines', () => {
      assert.equal(call('TPMT', '*1/*1').phenotype, 'Normal Metabolizer');
      assert.equal(call('TPMT', '*1/*3A').phenotype, 'Intermediate Metabolizer');
      assert.equal(call('TPMT', '*3A/*3C').phenotype, 'Poor Metabolizer');
      assert.equal(call('NUDT15', '*1/*3').phenotype, 'Intermediate Metabolizer');
      assert.equal(call('NUDT15', '*3/*3').phenotype, 'Poor Metabolizer');
    });

    it('VKORC1, CYP3A5, SLCO1B1, UGT1A1 and the CYP4F2 warfarin marker', () => {
      assert.equal(call('VKORC1', 'rs9923231 reference (C)/rs9923231 variant (T)').phenotype, '-1639 AG');
      assert.equal(call('CYP3A5', '*1/*3').phenotype, 'Intermediate Metabolizer');
      assert.equal(call('CYP3A5', '*3/*3').phenotype, 'Poor Metabolizer');
      assert.equal(call('SLCO1B1', '*5/*15').phenotype, 'Poor Function');
      assert.equal(call('UGT1A1', '*28/*28').phenotype, 'Poor Metabolizer');
      const cyp4f2 = call('CYP4F2', '*1/*3');
      assert.equal(cyp4f2.phenotype, 'n/a');
      assert.equal(cyp4f2.determinate, false);
      assert.deepEqual(cyp4f2.markers, { 'rs2108622 T': 1 });
      assert.deepEqual(call('CYP4F2', '*3/*4').markers, { 'rs2108622 T': 2 });
      assert.deepEqual(call('CYP4F2', '*1/*2').markers, { 'rs2108622 T': 0 });
    });
  });

  it('rejects malformed knowledge and unknown genes', () => {
    assert.throws(() => parseGeneRules({ gene: 'X', format: 'helix-pgx-phenotypes/1' }, 'X.json'), /X\.json/);
    const good = JSON.parse(readFileSync(join(dir, 'CYP3A5.json'), 'utf8')) as Record<string, unknown>;
    assert.throws(() => parseGeneRules({ ...good, lookup: 'guess' }, 'CYP3A5.json'), /unknown lookup/);
    assert.throws(() => parseGeneRules({ ...good, citations: [] }, 'CYP3A5.json'), /citation/);
    assert.throws(() => call('ABC1', '*1/*1'), /no phenotype knowledge/);
    assert.throws(() => call('CYP2C19', '*1'), /two alleles/);
  });
});
