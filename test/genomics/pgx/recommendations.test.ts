// Drug recommendations (src/genomics/pgx/recommendations.ts) and CPIC's warfarin rule
// (warfarin.ts) over Helix's knowledge files. Expected strengths are CPIC's, read from the
// guideline exports in the shared PharmCAT snapshot (guidelines-v2.12.0) or, for tacrolimus and
// atazanavir, from CPIC 2015 Table 2; each phenotype is worked out from the allele table first.
// Warfarin doses are worked by hand from the IWPC equation (Klein et al. 2009):
//   sqrt(weekly mg) = 5.6044 − 0.2614·decades + 0.0087·cm + 0.0128·kg − 0.8677 [VKORC1 A/G]
//     − 1.6974 [A/A] − 0.5211 [*1/*2] − 0.9357 [*1/*3] − 1.0616 [*2/*2] − 1.9206 [*2/*3]
//     − 2.3312 [*3/*3] − 0.1092 [Asian] − 0.2760 [Black] − 0.1032 [mixed/missing]
//     + 1.1816 [enzyme inducer] − 0.5503 [amiodarone].
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateRecommendationKnowledge } from '../../../scripts/kb/pgx-recommendations.js';
import {
  defaultPgxKnowledgeDir, formatActivityScore, loadPhenotypeKnowledge, phenotypeOf, scorePhenotype, type ActivityScore, type DiplotypeInput, type Haplotype,
} from '../../../src/genomics/pgx/phenotypes.js';
import { loadRecommendations, parseDrug, recommend, type RecommendationResult } from '../../../src/genomics/pgx/recommendations.js';
import { cyp2c9IwpcGenotype, iwpcWeeklyDose, warfarinAdvice, warfarinRule } from '../../../src/genomics/pgx/warfarin.js';

const PHARMCAT = process.env.PHARMCAT_DATA ?? fileURLToPath(new URL('../../../../shared/data/pharmcat/', import.meta.url));
const hasData = existsSync(join(PHARMCAT, 'guidelines-v2.12.0'));
const recDir = join(defaultPgxKnowledgeDir, 'recommendations');
const phenotypes = loadPhenotypeKnowledge(join(defaultPgxKnowledgeDir, 'phenotypes'));
const kb = loadRecommendations(recDir);
const pheno = (gene: string, d: DiplotypeInput) => phenotypeOf(phenotypes, gene, d);

// Every activity score two alleles of the table can add up to.
function achievableScores(alleles: ReadonlyMap<string, Haplotype>): ActivityScore[] {
  const scored = [...alleles.values()].filter((h) => h.activityValue != null);
  const seen = new Map<string, ActivityScore>();
  for (const a of scored) {
    for (const b of scored) {
      const value = a.activityValue! + b.activityValue!, atLeast = Boolean(a.atLeast || b.atLeast);
      const text = formatActivityScore(value, atLeast);
      seen.set(text, { value, atLeast, text });
    }
  }
  return [...seen.values()];
}

function only(result: RecommendationResult) {
  assert.ok('matches' in result, `expected matches, got ${result.kind}`);
  assert.equal(result.matches.length, 1, result.matches.map((m) => m.id).join(', '));
  return result.matches[0]!;
}

describe('pgx recommendations', () => {
  it('has a file per drug with its verified RxNorm ingredient code and CPIC citations', () => {
    // RxNorm codes: cpicpgx/cpic-data drug table (db/drug.sql), clopidogrel also HL7 Vulcan RWD value set.
    const expected: Record<string, string> = {
      atazanavir: '343047', azathioprine: '1256', capecitabine: '194000', clopidogrel: '32968', codeine: '2670', fluorouracil: '4492',
      mercaptopurine: '103', simvastatin: '36567', tacrolimus: '42316', thioguanine: '10485', warfarin: '11289',
    };
    assert.deepEqual(Object.fromEntries([...kb.drugs.values()].map((d) => [d.drug, d.rxnorm.code]).sort()), expected);
    for (const d of kb.drugs.values()) {
      assert.equal(d.rxnorm.system, 'http://www.nlm.nih.gov/research/umls/rxnorm');
      const pmids = new Set(d.citations.map((c) => c.pmid));
      assert.ok(d.citations.every((c) => c.url.startsWith('https://')), d.drug);
      for (const r of d.recommendations) assert.ok(r.cites.length > 0 && r.cites.every((p) => pmids.has(p)), r.id);
    }
  });

  it('every phenotype and activity score the gene rules can produce has a record', () => {
    for (const d of kb.drugs.values()) {
      if (d.recommendations.length === 0) continue;
      for (const gene of d.genes) {
        const rules = phenotypes.genes.get(gene)!;
        const inputs = rules.lookup === 'function-pair'
          ? [...new Set(rules.functionPairs.values())].map((phenotype) => ({ phenotype }))
          : [{ phenotype: rules.unscoredPhenotype }, ...achievableScores(rules.alleles).map((score) => ({ phenotype: scorePhenotype(rules.scoreRanges, score)!, activityScore: score }))];
        for (const input of inputs) {
          // The other gene of a pair (thiopurines) is held at Normal Metabolizer.
          const others = Object.fromEntries(d.genes.filter((g) => g !== gene).map((g) => [g, { phenotype: 'Normal Metabolizer' }]));
          const result = recommend(kb, d.drug, { ...others, [gene]: input });
          const covered = 'matches' in result && result.matches.length > 0;
          // DPYD is always scored, so CPIC files no Indeterminate DPYD record.
          assert.ok(covered || (gene === 'DPYD' && input.phenotype === 'Indeterminate'), `${d.drug} ${gene} ${JSON.stringify(input)}`);
        }
      }
    }
  });

  it('clopidogrel: CYP2C19 *2/*2 is a poor metabolizer; strength differs by indication', () => {
    const pm = { CYP2C19: pheno('CYP2C19', '*2/*2') };
    const acs = only(recommend(kb, 'clopidogrel', pm, { population: 'CVI ACS PCI' }));
    assert.equal(acs.strength, 'Strong');
    assert.equal(acs.action, 'avoid');
    assert.deepEqual(acs.alternatives, ['prasugrel', 'ticagrelor']);
    assert.deepEqual(acs.matchedOn, { CYP2C19: 'Poor Metabolizer' });
    assert.equal(only(recommend(kb, 'clopidogrel', pm, { population: 'NVI' })).strength, 'Moderate');
    const all = recommend(kb, 'clopidogrel', pm);
    assert.equal(all.kind, 'recommendation');
    assert.equal('matches' in all && all.matches.length, 3);
    // *1/*1: normal metabolizer, standard 75 mg in every indication → "no change".
    const normal = recommend(kb, 'clopidogrel', { CYP2C19: pheno('CYP2C19', '*1/*1') });
    assert.equal(normal.kind, 'no-change');
    // *1/*12 (uncertain function) → Indeterminate → CPIC has no recommendation.
    assert.equal(recommend(kb, 'clopidogrel', { CYP2C19: pheno('CYP2C19', '*1/*12') }).kind, 'no-recommendation');
    const missing = recommend(kb, 'clopidogrel', {});
    assert.deepEqual(missing.kind === 'no-genotype' && missing.missingGenes, ['CYP2C19']);
    assert.equal(missing.rxnorm.code, '32968');
  });

  it('codeine: CYP2D6 activity scores', () => {
    // *1x2 (2.0) + *1 (1.0) = 3.0 → ultrarapid → avoid, Strong.
    const um = only(recommend(kb, 'codeine', { CYP2D6: pheno('CYP2D6', '*1x2/*1') }));
    assert.equal(um.strength, 'Strong');
    assert.equal(um.action, 'avoid');
    assert.deepEqual(um.matchedOn, { CYP2D6: 'activity score 3.0' });
    // *1x≥3/*1 (≥4.0) still lands in the open-ended ultrarapid range.
    assert.equal(only(recommend(kb, 'codeine', { CYP2D6: pheno('CYP2D6', '*1x≥3/*1') })).id, 'codeine/ultrarapid');
    // *1/*4 = 1.0 → intermediate → label dose, watch response, Moderate.
    const im = only(recommend(kb, 'codeine', { CYP2D6: pheno('CYP2D6', '*1/*4') }));
    assert.deepEqual([im.strength, im.action], ['Moderate', 'monitor']);
    // An outside call with only a phenotype still finds its record.
    assert.equal(only(recommend(kb, 'codeine', { CYP2D6: { phenotype: 'Poor Metabolizer' } })).strength, 'Strong');
  });

  it('simvastatin: SLCO1B1 function', () => {
    // *5 (no function) + *15 (no function) → Poor Function → another statin, Strong.
    const poor = only(recommend(kb, 'simvastatin', { SLCO1B1: pheno('SLCO1B1', '*5/*15') }));
    assert.deepEqual([poor.strength, poor.action, poor.dose], ['Strong', 'avoid', undefined]);
    // *1/*5 → Decreased Function → another statin, or simvastatin under 20 mg/day, Strong.
    const decreased = only(recommend(kb, 'simvastatin', { SLCO1B1: pheno('SLCO1B1', '*1/*5') }));
    assert.equal(decreased.strength, 'Strong');
    assert.match(decreased.dose!.detail, /20 mg/);
  });

  it('thiopurines: TPMT and NUDT15 together', () => {
    const tpmtIm = pheno('TPMT', '*1/*3A'), tpmtPm = pheno('TPMT', '*3A/*3A'), tpmtNm = pheno('TPMT', '*1/*1');
    const nudtNm = pheno('NUDT15', '*1/*1'), nudtIm = pheno('NUDT15', '*1/*3'), nudtPm = pheno('NUDT15', '*3/*3');
    // Azathioprine, TPMT IM + NUDT15 NM: 30-80% of the normal dose, Strong.
    const aza = only(recommend(kb, 'azathioprine', { TPMT: tpmtIm, NUDT15: nudtNm }));
    assert.deepEqual([aza.strength, aza.action, aza.dose?.percentOfStandard], ['Strong', 'adjust-dose', { min: 30, max: 80 }]);
    // TPMT PM: a tenth of the dose thrice weekly for malignancy, non-thiopurine otherwise, Strong.
    const azaPm = only(recommend(kb, 'azathioprine', { TPMT: tpmtPm, NUDT15: nudtNm }));
    assert.deepEqual([azaPm.strength, azaPm.dose?.percentOfStandard], ['Strong', { min: 10, max: 10 }]);
    assert.equal(azaPm.alternatives?.length, 1);
    // Both intermediate: CPIC's 2024 update, 20-50%.
    const both = only(recommend(kb, 'azathioprine', { TPMT: tpmtIm, NUDT15: nudtIm }));
    assert.deepEqual(both.dose?.percentOfStandard, { min: 20, max: 50 });
    assert.ok(both.cites.includes('38230823'));
    // Mercaptopurine, NUDT15 PM: 10 mg/m2/day for malignancy, Strong.
    const mp = only(recommend(kb, 'mercaptopurine', { TPMT: tpmtNm, NUDT15: nudtPm }));
    assert.equal(mp.strength, 'Strong');
    assert.match(mp.dose!.detail, /10 mg\/m2\/day/);
    // Thioguanine, TPMT IM + NUDT15 NM: 50-80%, Moderate.
    const tg = only(recommend(kb, 'thioguanine', { TPMT: tpmtIm, NUDT15: nudtNm }));
    assert.deepEqual([tg.strength, tg.dose?.percentOfStandard], ['Moderate', { min: 50, max: 80 }]);
    // NUDT15 not genotyped: CPIC's "No Result" record applies (normal TPMT dose, monitor closely).
    const noNudt = only(recommend(kb, 'mercaptopurine', { TPMT: tpmtNm }));
    assert.deepEqual([noNudt.id, noNudt.strength, noNudt.action], ['mercaptopurine/tpmt-normal-metabolizer/nudt15-no-result', 'Strong', 'monitor']);
    const none = recommend(kb, 'thioguanine', {});
    assert.deepEqual(none.kind === 'no-genotype' && none.missingGenes, ['TPMT', 'NUDT15']);
  });

  it('fluorouracil and capecitabine: DPYD activity score', () => {
    // Reference (1.0) + c.2846A>T (0.5) = 1.5 → half dose, Moderate.
    const one5 = only(recommend(kb, 'fluorouracil', { DPYD: pheno('DPYD', { haplotypes: ['Reference', 'c.2846A>T'] }) }));
    assert.deepEqual([one5.strength, one5.dose?.percentOfStandard], ['Moderate', { min: 50, max: 50 }]);
    // Reference (1.0) + *2A (0.0) = 1.0 → half dose, Strong.
    assert.equal(only(recommend(kb, 'fluorouracil', { DPYD: pheno('DPYD', ['Reference', 'c.1905+1G>A (*2A)']) })).strength, 'Strong');
    // *2A/*2A = 0 → avoid fluoropyrimidines, Strong.
    const zero = only(recommend(kb, 'capecitabine', { DPYD: pheno('DPYD', ['c.1905+1G>A (*2A)', 'c.1905+1G>A (*2A)']) }));
    assert.deepEqual([zero.strength, zero.action, zero.id], ['Strong', 'avoid', 'capecitabine/score-0']);
    // A phenotype without a score spans both intermediate records (1.0 and 1.5): both are returned.
    const vague = recommend(kb, 'capecitabine', { DPYD: { phenotype: 'Intermediate Metabolizer' } });
    assert.equal('matches' in vague && vague.matches.length, 2);
  });

  it('tacrolimus and atazanavir: strengths from CPIC 2015 Table 2', () => {
    const expresser = only(recommend(kb, 'tacrolimus', { CYP3A5: pheno('CYP3A5', '*1/*1') }));
    assert.deepEqual([expresser.strength, expresser.dose?.direction, expresser.dose?.percentOfStandard], ['Strong', 'increase', { min: 150, max: 200 }]);
    assert.equal(recommend(kb, 'tacrolimus', { CYP3A5: pheno('CYP3A5', '*3/*3') }).kind, 'no-change');
    const poor = only(recommend(kb, 'atazanavir', { UGT1A1: pheno('UGT1A1', '*28/*28') }));
    assert.deepEqual([poor.strength, poor.action], ['Strong', 'consider-alternative']);
    assert.equal(recommend(kb, 'atazanavir', { UGT1A1: pheno('UGT1A1', '*1/*28') }).kind, 'no-change');
  });

  it('sends warfarin to its rule and rejects malformed files', () => {
    assert.equal(recommend(kb, 'warfarin', {}).kind, 'algorithm');
    assert.throws(() => recommend(kb, 'aspirin', {}), /no recommendation knowledge/);
    const good = JSON.parse(readFileSync(join(recDir, 'codeine.json'), 'utf8')) as { recommendations: Array<Record<string, unknown>> };
    const broken = { ...good, recommendations: [{ ...good.recommendations[0], strength: 'Very strong' }] };
    assert.throws(() => parseDrug(broken, 'codeine.json'), /unknown strength/);
    assert.throws(() => parseDrug({ ...good, rxnorm: { system: 'x', code: 'abc' } }, 'codeine.json'), /RxNorm/);
  });

  describe('against the shared CPIC exports', { skip: !hasData && 'shared PharmCAT data not present' }, () => {
    it('the committed files are what the generator writes', () => {
      const out = mkdtempSync(join(tmpdir(), 'helix-pgx-recs-'));
      try {
        generateRecommendationKnowledge(PHARMCAT, out);
        const json = (d: string) => readdirSync(d).filter((f) => f.endsWith('.json')).sort();
        assert.deepEqual(json(out), json(recDir));
        for (const file of json(recDir)) assert.equal(readFileSync(join(out, file), 'utf8'), readFileSync(join(recDir, file), 'utf8'), file);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });

    it('texts are Helix\'s own words: no run of 8 words is shared with CPIC\'s text', () => {
      // Words of three letters or more, so that shared dose figures and units ("e.g. 2-3 mg/kg/day")
      // do not count as shared prose.
      const words = (t: string) => t.toLowerCase().match(/[a-z]{3,}/g) ?? [];
      const runs = (ws: string[]) => new Set(ws.slice(0, Math.max(0, ws.length - 7)).map((_, i) => ws.slice(i, i + 8).join(' ')));
      for (const d of kb.drugs.values()) {
        const file = readdirSync(join(PHARMCAT, 'guidelines-v2.12.0')).find((f) => f.startsWith(`CPIC_${d.drug}_and_`));
        if (!file || d.recommendations.length === 0) continue;
        const source = JSON.parse(readFileSync(join(PHARMCAT, 'guidelines-v2.12.0', file), 'utf8')) as { recommendations: Array<{ text: { html: string }; implications: string[] }> };
        const cpic = new Set<string>();
        for (const r of source.recommendations) for (const t of [r.text.html.replace(/<[^>]+>/g, ' '), ...r.implications]) for (const run of runs(words(t))) cpic.add(run);
        for (const r of d.recommendations) {
          for (const t of [r.recommendation, ...Object.values(r.implications), ...(r.notes ?? [])]) {
            const shared = [...runs(words(t))].filter((run) => cpic.has(run));
            assert.deepEqual(shared, [], `${r.id}: ${t}`);
          }
        }
      }
    });
  });
});

describe('pgx warfarin rule', () => {
  const rule = warfarinRule(kb);
  const cyp2c9 = (d: string) => pheno('CYP2C9', d);
  const vkorc1 = (g: 'GG' | 'AG' | 'AA') => pheno('VKORC1', {
    GG: 'rs9923231 reference (C)/rs9923231 reference (C)', AG: 'rs9923231 reference (C)/rs9923231 variant (T)', AA: 'rs9923231 variant (T)/rs9923231 variant (T)',
  }[g]);

  it('IWPC equation, worked by hand', () => {
    // Age 65 → 6 decades; 170 cm; 75 kg; VKORC1 A/G; CYP2C9 *1/*3; white; no inducer, no amiodarone:
    // 5.6044 − 1.5684 + 1.4790 + 0.9600 − 0.8677 − 0.9357 = 4.6716 → 4.6716² = 21.8238 mg/week.
    const a = iwpcWeeklyDose(rule.coefficients, { ageYears: 65, heightCm: 170, weightKg: 75, race: 'white', vkorc1: 'A/G', cyp2c9: '*1/*3' });
    assert.ok(Math.abs(a - 4.6716 ** 2) < 1e-9, String(a));
    // Age 72 → 7; 160 cm; 60 kg; VKORC1 A/A; *1/*1; Asian; amiodarone:
    // 5.6044 − 1.8298 + 1.3920 + 0.7680 − 1.6974 − 0.1092 − 0.5503 = 3.5777 → 12.7999 mg/week.
    const b = iwpcWeeklyDose(rule.coefficients, { ageYears: 72, heightCm: 160, weightKg: 60, race: 'asian', amiodarone: true, vkorc1: 'A/A', cyp2c9: '*1/*1' });
    assert.ok(Math.abs(b - 3.5777 ** 2) < 1e-9, String(b));
    assert.equal(cyp2c9IwpcGenotype(['*3', '*1']), '*1/*3');
    assert.equal(cyp2c9IwpcGenotype(['*8', '*2']), '*1/*2');
  });

  it('non-African ancestry: algorithm (Strong) plus the CYP4F2 increase (Optional)', () => {
    const advice = warfarinAdvice(kb, {
      ancestry: 'non-african', cyp2c9: cyp2c9('*1/*3'), vkorc1: vkorc1('AG'), cyp4f2: pheno('CYP4F2', '*1/*3'),
      clinical: { ageYears: 65, heightCm: 170, weightKg: 75, race: 'white' },
    });
    assert.equal(advice.approach, 'genotype-guided');
    assert.deepEqual(advice.steps.map((s) => [s.id, s.strength]), [['pharmacogenetic-algorithm', 'Strong'], ['cyp4f2', 'Optional'], ['loading-dose', 'Optional']]);
    // 21.8238 × 1.05 = 22.915 and × 1.10 = 24.006 mg/week; per day 3.27 and 3.43.
    assert.deepEqual(advice.dose, { algorithm: 'IWPC', calculatedMgPerWeek: 21.8, adjustedMgPerWeek: { min: 22.9, max: 24 }, adjustedMgPerDay: { min: 3.3, max: 3.4 } });
    assert.equal(advice.rxnorm, '11289');
  });

  it('African American: *5/*6/*8/*11 and rs12777823 reductions (Moderate)', () => {
    // Age 55 → 5; 180 cm; 90 kg; VKORC1 G/G; CYP2C9 *1/*8 (counts as *1/*1 in the equation); Black:
    // 5.6044 − 1.3070 + 1.5660 + 1.1520 − 0.2760 = 6.7394 → 45.4195 mg/week. Then *8 carrier −15-30%
    // and rs12777823 A carrier −10-25%: 45.4195 × 0.70 × 0.75 = 23.845; × 0.85 × 0.90 = 34.746.
    const advice = warfarinAdvice(kb, {
      ancestry: 'african', africanAmerican: true, cyp2c9AfricanAllelesTested: true, rs12777823: 'A/G',
      cyp2c9: cyp2c9('*1/*8'), vkorc1: vkorc1('GG'), clinical: { ageYears: 55, heightCm: 180, weightKg: 90, race: 'black' },
    });
    assert.deepEqual(advice.steps.map((s) => [s.id, s.strength]), [
      ['pharmacogenetic-algorithm', 'Moderate'], ['cyp2c9-african-alleles', 'Moderate'], ['rs12777823', 'Moderate'], ['loading-dose', 'Optional'],
    ]);
    assert.deepEqual(advice.dose, { algorithm: 'IWPC', calculatedMgPerWeek: 45.4, adjustedMgPerWeek: { min: 23.8, max: 34.7 }, adjustedMgPerDay: { min: 3.4, max: 5 } });
  });

  it('dose clinically, or ask for ancestry, when the flowchart says so', () => {
    const base = { cyp2c9: cyp2c9('*1/*1'), vkorc1: vkorc1('AG') };
    // African ancestry without *5/*6/*8/*11 testing → dose clinically (footnote c).
    assert.equal(warfarinAdvice(kb, { ...base, ancestry: 'african' }).approach, 'dose-clinically');
    // No VKORC1 genotype → dose clinically.
    assert.equal(warfarinAdvice(kb, { cyp2c9: base.cyp2c9, ancestry: 'non-african' }).approach, 'dose-clinically');
    assert.equal(warfarinAdvice(kb, base).approach, 'needs-ancestry');
  });

  it('cautions: poor CYP2C9 metabolism, CYP4F2 in African ancestry, untested rs12777823, homozygous *8', () => {
    // *3/*3 = 0 → Poor: consider another anticoagulant (footnote e).
    const pm = warfarinAdvice(kb, { ancestry: 'non-african', cyp2c9: cyp2c9('*3/*3'), vkorc1: vkorc1('AA') });
    assert.ok(pm.cautions.some((c) => /other than warfarin/.test(c)));
    const african = warfarinAdvice(kb, {
      ancestry: 'african', africanAmerican: true, cyp2c9AfricanAllelesTested: true, cyp2c9: cyp2c9('*1/*1'), vkorc1: vkorc1('GG'), cyp4f2: pheno('CYP4F2', '*3/*3'),
    });
    assert.ok(!african.steps.some((s) => s.id === 'cyp4f2'));
    assert.ok(african.cautions.some((c) => /CYP4F2/.test(c)) && african.cautions.some((c) => /rs12777823 was not tested/.test(c)));
    // *8/*11 (both African-ancestry alleles) in non-African ancestry: 20-40%, Optional.
    const homozygous = warfarinAdvice(kb, { ancestry: 'non-african', cyp2c9: cyp2c9('*8/*11'), vkorc1: vkorc1('GG') });
    const step = homozygous.steps.find((s) => s.id === 'cyp2c9-african-alleles')!;
    assert.deepEqual([step.strength, step.adjustment?.percent], ['Optional', { min: 20, max: 40 }]);
  });
});
