// CPIC's 2017 warfarin guidance (Johnson et al., PMID 28198005) as the decision it is, not a table:
// with VKORC1 and CYP2C9 *2/*3 known, dose by a validated pharmacogenetic algorithm, then adjust
// for CYP2C9 *5/*6/*8/*11, CYP4F2 rs2108622 T (non-African ancestry) and rs12777823 A (African
// Americans); without them, or without *5/*6/*8/*11 testing in African ancestry, dose clinically.
// The percentages and strengths come from knowledge/pgx/recommendations/warfarin.json; the
// algorithm Helix can compute is IWPC's (Klein et al., NEJM 2009), given age, height and weight.
import type { Citation, GenePhenotype } from './phenotypes.js';
import type { RecommendationKnowledge, Strength } from './recommendations.js';

/** Self-identified ancestry, the branch point of CPIC's flowchart. */
export type Ancestry = 'african' | 'non-african';
/** VKORC1 -1639G>A genotype as the IWPC equation takes it. */
export type Vkorc1Genotype = 'G/G' | 'A/G' | 'A/A' | 'unknown';
/** CYP2C9 *2/*3 genotype as the IWPC equation takes it (other alleles count as *1). */
export type Cyp2c9IwpcGenotype = '*1/*1' | '*1/*2' | '*1/*3' | '*2/*2' | '*2/*3' | '*3/*3' | 'unknown';

/** The clinical inputs of the IWPC equation. */
export interface IwpcClinical {
  ageYears: number;
  heightCm: number;
  weightKg: number;
  race?: 'asian' | 'black' | 'white' | 'mixed-or-missing';
  /** Carbamazepine, phenytoin, rifampin or rifampicin. */
  enzymeInducer?: boolean;
  amiodarone?: boolean;
}

/** Everything the rule reads about a patient; absent genes were not genotyped. */
export interface WarfarinInput {
  cyp2c9?: GenePhenotype;
  vkorc1?: GenePhenotype;
  cyp4f2?: GenePhenotype;
  ancestry?: Ancestry;
  /** Mainly West African origin: the group CPIC's rs12777823 advice comes from. */
  africanAmerican?: boolean;
  /** Whether the CYP2C9 test covered *5, *6, *8 and *11. */
  cyp2c9AfricanAllelesTested?: boolean;
  /** rs12777823 genotype; absent when not tested. */
  rs12777823?: 'A/A' | 'A/G' | 'G/G';
  clinical?: IwpcClinical;
}

/** One applicable step of CPIC's flowchart, with its strength and any dose change. */
export interface WarfarinStep {
  id: 'pharmacogenetic-algorithm' | 'cyp2c9-african-alleles' | 'cyp4f2' | 'rs12777823' | 'loading-dose';
  strength: Strength;
  advice: string;
  adjustment?: { direction: 'decrease' | 'increase'; percent: { min: number; max: number } };
}

/** The IWPC estimate and the range after CPIC's adjustments. */
export interface WarfarinDose {
  algorithm: 'IWPC';
  calculatedMgPerWeek: number;
  adjustedMgPerWeek: { min: number; max: number };
  adjustedMgPerDay: { min: number; max: number };
}

/** What CPIC's rule says for one patient. */
export interface WarfarinAdvice {
  drug: 'warfarin';
  rxnorm: string;
  approach: 'genotype-guided' | 'dose-clinically' | 'needs-ancestry';
  reason: string;
  steps: WarfarinStep[];
  cautions: string[];
  dose?: WarfarinDose;
  citations: readonly Citation[];
}

type Range = { min: number; max: number };
interface WarfarinRule {
  rxnorm: string;
  citations: readonly Citation[];
  algorithmStrength: { nonAfrican: Strength; african: Strength };
  loadingStrength: Strength;
  africanAlleles: { alleles: readonly string[]; decrease: Range; homozygousDecrease: Range; strength: { nonAfrican: Strength; african: Strength } };
  cyp4f2: { marker: string; increase: Range; strength: Strength };
  rs12777823: { decrease: Range; strength: Strength };
  alternativePhenotypes: readonly string[];
  coefficients: Readonly<Record<string, number>>;
}

const COVERED = new Set(['*1', '*2', '*3', '*5', '*6', '*8', '*11']);

/** What CPIC's 2017 warfarin rule advises for this patient (and the IWPC dose when computable). */
export function warfarinAdvice(knowledge: RecommendationKnowledge, input: WarfarinInput): WarfarinAdvice {
  const rule = warfarinRule(knowledge);
  const base = { drug: 'warfarin' as const, rxnorm: rule.rxnorm, citations: rule.citations };
  const vkorc1 = vkorc1Genotype(input.vkorc1);
  if (!input.cyp2c9 || vkorc1 === 'unknown') {
    return { ...base, approach: 'dose-clinically', reason: 'VKORC1 and CYP2C9 *2/*3 genotypes are both needed for genotype-guided dosing; dose without genetic information (clinical algorithm or standard dosing).', steps: [], cautions: [] };
  }
  if (!input.ancestry) {
    return { ...base, approach: 'needs-ancestry', reason: "CPIC's rule branches on self-identified ancestry (African or not); it is needed before the genotype can guide the dose.", steps: [], cautions: [] };
  }
  const african = input.ancestry === 'african';
  if (african && !input.cyp2c9AfricanAllelesTested) {
    return { ...base, approach: 'dose-clinically', reason: 'In African ancestry CYP2C9 *5, *6, *8 and *11 must also be tested (45-50% carry one of them or rs12777823 A); without them, dose clinically.', steps: [], cautions: [] };
  }

  const alleles = input.cyp2c9.diplotype.map((h) => h.name);
  const steps: WarfarinStep[] = [];
  const cautions: string[] = [];
  steps.push({
    id: 'pharmacogenetic-algorithm', strength: african ? rule.algorithmStrength.african : rule.algorithmStrength.nonAfrican,
    advice: 'Calculate the dose with a validated, published pharmacogenetic algorithm (e.g. IWPC or Gage) from VKORC1 -1639G>A and CYP2C9 *2/*3; these algorithms aim at an INR of 2-3.',
  });
  const africanAlleleCopies = alleles.filter((a) => rule.africanAlleles.alleles.includes(a));
  if (africanAlleleCopies.length > 0) {
    const percent = africanAlleleCopies.length === 2 ? rule.africanAlleles.homozygousDecrease : rule.africanAlleles.decrease;
    steps.push({
      id: 'cyp2c9-african-alleles', strength: african ? rule.africanAlleles.strength.african : rule.africanAlleles.strength.nonAfrican,
      advice: `CYP2C9 ${africanAlleleCopies.join(' and ')} ${africanAlleleCopies.length === 2 ? 'on both chromosomes' : 'carrier'}: lower the calculated dose by ${percent.min}-${percent.max}%.`,
      adjustment: { direction: 'decrease', percent },
    });
  }
  const cyp4f2Copies = input.cyp4f2?.markers?.[rule.cyp4f2.marker] ?? 0;
  if (cyp4f2Copies > 0 && !african) {
    steps.push({
      id: 'cyp4f2', strength: rule.cyp4f2.strength, advice: `CYP4F2 ${rule.cyp4f2.marker} carrier: raise the dose by ${rule.cyp4f2.increase.min}-${rule.cyp4f2.increase.max}%.`,
      adjustment: { direction: 'increase', percent: rule.cyp4f2.increase },
    });
  } else if (cyp4f2Copies > 0) {
    cautions.push(`CYP4F2 ${rule.cyp4f2.marker} is carried, but CPIC's flowchart applies the CYP4F2 increase only outside African ancestry.`);
  }
  if (african && input.africanAmerican) {
    if (input.rs12777823 === undefined) cautions.push('rs12777823 was not tested, so the reduction CPIC advises for A carriers among African Americans cannot be applied.');
    else if (input.rs12777823 !== 'G/G') {
      steps.push({
        id: 'rs12777823', strength: rule.rs12777823.strength, advice: `rs12777823 A carrier (${input.rs12777823}): lower the dose by ${rule.rs12777823.decrease.min}-${rule.rs12777823.decrease.max}%.`,
        adjustment: { direction: 'decrease', percent: rule.rs12777823.decrease },
      });
    }
  }
  steps.push({ id: 'loading-dose', strength: rule.loadingStrength, advice: 'A pharmacogenetic initiation (loading) dose algorithm, such as EU-PACT\'s, may be considered; it has not been validated in African ancestry.' });

  if (rule.alternativePhenotypes.includes(input.cyp2c9.phenotype)) {
    cautions.push(`CYP2C9 ${input.cyp2c9.phenotype} (${alleles.join('/')}): consider an anticoagulant other than warfarin, the more so with VKORC1 A/G or A/A (here ${vkorc1}).`);
  }
  const uncovered = alleles.filter((a) => !COVERED.has(a));
  if (uncovered.length > 0) cautions.push(`CYP2C9 ${uncovered.join(', ')} is outside CPIC's warfarin rule; the equation counts it as *1.`);

  const advice: WarfarinAdvice = { ...base, approach: 'genotype-guided', reason: `Genotype-guided dosing for ${african ? 'African' : 'non-African'} ancestry.`, steps, cautions };
  if (input.clinical) {
    const weekly = iwpcWeeklyDose(rule.coefficients, { ...input.clinical, vkorc1, cyp2c9: cyp2c9IwpcGenotype(alleles) });
    advice.dose = adjustDose(weekly, steps);
  }
  return advice;
}

/** The IWPC pharmacogenetic estimate of the weekly warfarin dose in mg (the square of the equation). */
export function iwpcWeeklyDose(
  c: Readonly<Record<string, number>>, input: IwpcClinical & { vkorc1: Vkorc1Genotype; cyp2c9: Cyp2c9IwpcGenotype },
): number {
  // IWPC recorded age in decade bands (10-19 → 1, ..., 90+ → 9).
  const decades = Math.floor(input.ageYears / 10);
  const vk = { 'G/G': 0, 'A/G': c.vkorc1AG!, 'A/A': c.vkorc1AA!, unknown: c.vkorc1Unknown! }[input.vkorc1];
  const cyp = {
    '*1/*1': 0, '*1/*2': c.cyp2c9_1_2!, '*1/*3': c.cyp2c9_1_3!, '*2/*2': c.cyp2c9_2_2!, '*2/*3': c.cyp2c9_2_3!, '*3/*3': c.cyp2c9_3_3!, unknown: c.cyp2c9Unknown!,
  }[input.cyp2c9];
  const race = { asian: c.raceAsian!, black: c.raceBlack!, white: 0, 'mixed-or-missing': c.raceMissingOrMixed! }[input.race ?? 'mixed-or-missing'];
  const root = c.intercept! + c.ageDecades! * decades + c.heightCm! * input.heightCm + c.weightKg! * input.weightKg + vk + cyp + race
    + (input.enzymeInducer ? c.enzymeInducer! : 0) + (input.amiodarone ? c.amiodarone! : 0);
  return root * root;
}

/** VKORC1 genotype from its phenotype ("-1639 AG" and so on). */
export function vkorc1Genotype(vkorc1: GenePhenotype | undefined): Vkorc1Genotype {
  const m = vkorc1 && /^-1639 ([AG])([AG])$/.exec(vkorc1.phenotype);
  if (!m) return 'unknown';
  return m[1] === m[2] ? (`${m[1]}/${m[2]}` as Vkorc1Genotype) : 'A/G';
}

/** CYP2C9 *2/*3 genotype for the IWPC equation; alleles other than *2 and *3 count as *1. */
export function cyp2c9IwpcGenotype(alleles: readonly string[]): Cyp2c9IwpcGenotype {
  const rank = (a: string) => (a === '*2' || a === '*3' ? a : '*1');
  const [x, y] = alleles.map(rank).sort() as [string, string];
  return `${x}/${y}` as Cyp2c9IwpcGenotype;
}

function adjustDose(weekly: number, steps: readonly WarfarinStep[]): WarfarinDose {
  let low = weekly, high = weekly;
  for (const s of steps) {
    if (!s.adjustment) continue;
    const { min, max } = s.adjustment.percent;
    // The widest reasonable range: each step's smallest factor for the low end, largest for the high.
    const factors = s.adjustment.direction === 'decrease' ? [1 - max / 100, 1 - min / 100] : [1 + min / 100, 1 + max / 100];
    low *= factors[0]!;
    high *= factors[1]!;
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    algorithm: 'IWPC', calculatedMgPerWeek: round(weekly),
    adjustedMgPerWeek: { min: round(low), max: round(high) }, adjustedMgPerDay: { min: round(low / 7), max: round(high / 7) },
  };
}

// --- the rule's facts, read from warfarin.json ----------------------------------------------

type Json = Record<string, unknown>;

function at(o: unknown, path: string): unknown {
  let v: unknown = o;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Json)[key] : undefined;
  if (v === undefined) throw new Error(`warfarin.json: '${path}' is missing`);
  return v;
}

function range(o: unknown, path: string): Range {
  const r = at(o, path) as Json;
  if (typeof r.min !== 'number' || typeof r.max !== 'number') throw new Error(`warfarin.json: '${path}' needs numeric min and max`);
  return { min: r.min, max: r.max };
}

/** Reads and checks the parameters of the warfarin rule from the loaded knowledge. */
export function warfarinRule(knowledge: RecommendationKnowledge): WarfarinRule {
  const entry = knowledge.drugs.get('warfarin');
  if (!entry?.rule || !entry.iwpc) throw new Error('no warfarin rule in the recommendation knowledge');
  const rule = entry.rule;
  const coefficients = at(entry.iwpc, 'coefficients') as Record<string, number>;
  for (const key of ['intercept', 'ageDecades', 'heightCm', 'weightKg', 'vkorc1AG', 'vkorc1AA', 'vkorc1Unknown', 'cyp2c9_1_2', 'cyp2c9_1_3', 'cyp2c9_2_2',
    'cyp2c9_2_3', 'cyp2c9_3_3', 'cyp2c9Unknown', 'raceAsian', 'raceBlack', 'raceMissingOrMixed', 'enzymeInducer', 'amiodarone']) {
    if (typeof coefficients[key] !== 'number') throw new Error(`warfarin.json: IWPC coefficient '${key}' is missing`);
  }
  return {
    rxnorm: entry.rxnorm.code,
    citations: entry.citations,
    algorithmStrength: at(rule, 'pharmacogeneticAlgorithm.strength') as WarfarinRule['algorithmStrength'],
    loadingStrength: at(rule, 'loadingDose.strength') as Strength,
    africanAlleles: {
      alleles: at(rule, 'cyp2c9AfricanAlleles.alleles') as string[],
      decrease: range(rule, 'cyp2c9AfricanAlleles.decreasePercent'),
      homozygousDecrease: range(rule, 'cyp2c9AfricanAlleles.homozygousDecreasePercent'),
      strength: at(rule, 'cyp2c9AfricanAlleles.strength') as WarfarinRule['africanAlleles']['strength'],
    },
    cyp4f2: { marker: at(rule, 'cyp4f2.marker') as string, increase: range(rule, 'cyp4f2.increasePercent'), strength: at(rule, 'cyp4f2.strength') as Strength },
    rs12777823: { decrease: range(rule, 'rs12777823.decreasePercent'), strength: at(rule, 'rs12777823.strength') as Strength },
    alternativePhenotypes: at(rule, 'alternativeAgent.cyp2c9Phenotypes') as string[],
    coefficients,
  };
}
