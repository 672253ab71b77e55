// Helix's own wording of CPIC's drug recommendations, one template per phenotype (and population)
// a guideline distinguishes. The generator (pgx-recommendations.ts) files each CPIC record of the
// shared guideline exports under the template it matches and takes the classification strength
// from CPIC; tacrolimus and atazanavir have no export in the snapshot, so their strengths are
// entered here from the published guideline tables (read through PharmGKB's annotations
// PA166124619 and PA166128738 of CPIC 2015 Table 2). Texts paraphrase what to do, by how much and
// why; they are not CPIC's sentences.
import type { Action, DoseAdjustment, GeneCondition, Strength } from '../../src/genomics/pgx/recommendations.js';
import { CITATIONS, type Citation } from './pgx-citations.js';
import { thiopurineDrugs } from './pgx-thiopurine-texts.js';

// The record's vocabulary is the server's own (src/genomics/pgx/recommendations.ts), so what the
// generator writes is what the loader checks.
export type { Strength } from '../../src/genomics/pgx/recommendations.js';

/** One recommendation as Helix words it, before CPIC's strength is attached. */
export interface RecordTemplate {
  id: string;
  /** Gene → condition; phenotype 'No Result' means that gene was not genotyped. */
  when: Record<string, GeneCondition>;
  population: string;
  implications: Record<string, string>;
  recommendation: string;
  action: Action;
  /** Named only where CPIC points to an alternative drug. */
  alternatives?: string[];
  dose?: DoseAdjustment;
  notes?: string[];
  /** Only for drugs without a CPIC export in the snapshot. */
  strength?: Strength;
  /** PMIDs this record rests on besides the drug's main guideline. */
  extraCites?: string[];
}

/** Everything Helix writes about one drug. */
export interface DrugTexts {
  drug: string;
  rxnorm: string;
  genes: string[];
  citations: Citation[];
  /** The guideline export (guidelines-v2.12.0/<file>) strengths come from, if any. */
  sourceFile?: string;
  populations: Record<string, string>;
  records: RecordTemplate[];
  notes?: string[];
}

const GENERAL = { general: 'All patients the guideline covers.' };
const NO_CALL = 'The genotype does not let a phenotype be assigned, so the guideline makes no recommendation.';

// --- clopidogrel (CYP2C19) -------------------------------------------------------------------

const clopidogrelImplication: Record<string, string> = {
  'Ultrarapid Metabolizer': 'More clopidogrel is converted to its active metabolite than usual and platelets are inhibited at least as well as in normal metabolizers; no link to extra bleeding has been shown.',
  'Rapid Metabolizer': 'Active-metabolite formation is normal or somewhat raised and on-treatment platelet reactivity normal or lower; no link to extra bleeding has been shown.',
  'Normal Metabolizer': 'Clopidogrel is activated at the usual rate and platelets are inhibited as expected.',
  'Intermediate Metabolizer': 'Less active metabolite is formed, platelets stay more reactive on treatment and the risk of further cardiac and cerebrovascular events rises.',
  'Poor Metabolizer': 'Very little active metabolite is formed, platelets stay markedly reactive on treatment and the risk of cardiac and cerebrovascular events rises.',
};
const LIKELY = 'A "likely" phenotype gets the same advice and strength as the confirmed one; the word only marks some doubt in the phenotype call.';
const STANDARD_75 = 'If clopidogrel is chosen, give it at the usual dose of 75 mg a day.';
const NVI_ALTERNATIVES = 'ticagrelor and ticlopidine are P2Y12 inhibitors that CYP2C19 variants do not affect; prasugrel must not be used after a stroke or transient ischaemic attack. Outcome data for genotype-guided treatment in neurovascular disease are limited, so weigh the individual patient\'s goals and risks.';

function clopidogrelRecord(population: string, phenotype: string): RecordTemplate {
  const base = phenotype.replace(/^Likely /, '');
  const likely = phenotype !== base ? [LIKELY] : [];
  const id = `clopidogrel/${population.toLowerCase().replace(/\s+/g, '-')}/${phenotype.toLowerCase().replace(/\s+/g, '-')}`;
  const common = { id, when: { CYP2C19: { phenotype } }, population };
  if (base === 'Indeterminate') {
    return { ...common, implications: { CYP2C19: NO_CALL }, recommendation: 'No recommendation.', action: 'no-recommendation' };
  }
  const implications = { CYP2C19: clopidogrelImplication[base]! };
  if (base === 'Normal Metabolizer' || (population === 'CVI ACS PCI' && (base === 'Ultrarapid Metabolizer' || base === 'Rapid Metabolizer'))) {
    return { ...common, implications, recommendation: STANDARD_75, action: 'no-change', notes: likely };
  }
  if (base === 'Ultrarapid Metabolizer' || base === 'Rapid Metabolizer' || (population === 'CVI non-ACS non-PCI' && base === 'Intermediate Metabolizer')) {
    return { ...common, implications, recommendation: 'No recommendation for this indication.', action: 'no-recommendation', notes: likely };
  }
  if (population === 'NVI') {
    const poor = base === 'Poor Metabolizer';
    return {
      ...common, implications, action: poor ? 'avoid' : 'consider-alternative', alternatives: ['ticagrelor', 'ticlopidine'], notes: [NVI_ALTERNATIVES, ...likely],
      recommendation: `${poor ? 'Avoid clopidogrel where possible. ' : ''}Consider another P2Y12 inhibitor at its usual dose when clinically appropriate and not contraindicated.`,
    };
  }
  const intermediateAcs = base === 'Intermediate Metabolizer';
  return {
    ...common, implications, action: 'avoid', alternatives: ['prasugrel', 'ticagrelor'], notes: likely,
    recommendation: `${intermediateAcs ? 'Where possible, do not give clopidogrel at its standard 75 mg dose' : 'Where possible, do not use clopidogrel'}; give prasugrel or ticagrelor at the usual dose unless contraindicated.`,
  };
}

const clopidogrel: DrugTexts = {
  drug: 'clopidogrel', rxnorm: '32968', genes: ['CYP2C19'], citations: [CITATIONS.clopidogrel2022], sourceFile: 'CPIC_clopidogrel_and_CYP2C19.json',
  populations: {
    'CVI ACS PCI': 'Cardiovascular use for acute coronary syndrome and/or percutaneous coronary intervention (PCI for ACS or for an elective indication).',
    'CVI non-ACS non-PCI': 'Other cardiovascular use, such as peripheral arterial disease or stable coronary disease after a recent myocardial infarction managed without PCI.',
    NVI: 'Neurovascular use: acute ischaemic stroke or TIA, secondary stroke prevention, or preventing thromboembolism after neurointerventions such as carotid stenting or stent-assisted coiling of aneurysms.',
  },
  records: ['CVI ACS PCI', 'CVI non-ACS non-PCI', 'NVI'].flatMap((population) =>
    ['Ultrarapid Metabolizer', 'Rapid Metabolizer', 'Normal Metabolizer', 'Likely Intermediate Metabolizer', 'Intermediate Metabolizer',
      'Likely Poor Metabolizer', 'Poor Metabolizer', 'Indeterminate'].map((phenotype) => clopidogrelRecord(population, phenotype))),
};

// --- codeine (CYP2D6) ------------------------------------------------------------------------

const NON_TRAMADOL = 'If an opioid is needed, choose one other than tramadol.';
const codeine: DrugTexts = {
  drug: 'codeine', rxnorm: '2670', genes: ['CYP2D6'], citations: [CITATIONS.opioids2021], sourceFile: 'CPIC_codeine_and_CYP2D6.json', populations: GENERAL,
  records: [
    {
      id: 'codeine/poor', when: { CYP2D6: { phenotype: 'Poor Metabolizer', activityScore: { min: 0, max: 0 } } }, population: 'general',
      implications: { CYP2D6: 'Codeine is barely turned into morphine, so it is unlikely to relieve pain.' },
      recommendation: `Do not use codeine, as it is unlikely to work. ${NON_TRAMADOL}`, action: 'avoid', alternatives: ['an opioid other than tramadol'],
    },
    {
      id: 'codeine/intermediate', when: { CYP2D6: { phenotype: 'Intermediate Metabolizer', activityScore: { min: 0.25, max: 1 } } }, population: 'general',
      implications: { CYP2D6: 'Less morphine is formed from codeine than usual.' },
      recommendation: "Give codeine at the label dose for the patient's age or weight. If it does not relieve pain and an opioid is still needed, choose one other than tramadol.", action: 'monitor',
    },
    {
      id: 'codeine/normal', when: { CYP2D6: { phenotype: 'Normal Metabolizer', activityScore: { min: 1.25, max: 2.25 } } }, population: 'general',
      implications: { CYP2D6: 'Morphine is formed from codeine at the expected rate.' },
      recommendation: "Give codeine at the label dose for the patient's age or weight.", action: 'no-change',
    },
    {
      id: 'codeine/ultrarapid', when: { CYP2D6: { phenotype: 'Ultrarapid Metabolizer', activityScore: { min: 2.5 } } }, population: 'general',
      implications: { CYP2D6: 'More morphine than usual is formed from codeine, raising the risk of toxicity.' },
      recommendation: `Do not use codeine, because of the risk of serious toxicity. ${NON_TRAMADOL}`, action: 'avoid', alternatives: ['an opioid other than tramadol'],
    },
    {
      id: 'codeine/indeterminate', when: { CYP2D6: { phenotype: 'Indeterminate' } }, population: 'general',
      implications: { CYP2D6: NO_CALL }, recommendation: 'No recommendation.', action: 'no-recommendation',
    },
  ],
};

// --- simvastatin (SLCO1B1) -------------------------------------------------------------------

const STATIN_CHECKS = 'Before starting any statin, check for interacting drugs and for dose limits set by kidney or liver function (and, for usual-risk genotypes, ancestry).';
const STATIN_INTERACTIONS = 'Interacting drugs may raise the myopathy risk further in this genotype.';
const ALT_STATIN = 'a different statin chosen for the intensity needed (CPIC 2022 Figure 1)';
const usualStatin = (phenotype: string): RecordTemplate => ({
  id: `simvastatin/${phenotype.toLowerCase().replace(/\s+/g, '-')}`, when: { SLCO1B1: { phenotype } }, population: 'general',
  implications: { SLCO1B1: 'Simvastatin exposure and myopathy risk are as usual.' },
  recommendation: 'Start at the dose wanted and adjust it by the disease-specific guidelines.', action: 'no-change', notes: [STATIN_CHECKS],
});
const decreasedStatin = (phenotype: string): RecordTemplate => ({
  id: `simvastatin/${phenotype.toLowerCase().replace(/\s+/g, '-')}`, when: { SLCO1B1: { phenotype } }, population: 'general',
  implications: { SLCO1B1: 'Simvastatin acid exposure is higher than with normal transporter function, and so is the myopathy risk.' },
  recommendation: `Prescribe ${ALT_STATIN}. If simvastatin is still the right choice, keep the dose under 20 mg a day.`,
  action: 'avoid', alternatives: [ALT_STATIN], dose: { direction: 'decrease', detail: 'less than 20 mg/day if simvastatin is used' },
  notes: [STATIN_CHECKS, STATIN_INTERACTIONS],
});
const simvastatin: DrugTexts = {
  drug: 'simvastatin', rxnorm: '36567', genes: ['SLCO1B1'], citations: [CITATIONS.statins2022], sourceFile: 'CPIC_simvastatin_and_SLCO1B1.json', populations: GENERAL,
  records: [
    usualStatin('Increased Function'), usualStatin('Normal Function'), decreasedStatin('Decreased Function'), decreasedStatin('Possible Decreased Function'),
    {
      id: 'simvastatin/poor-function', when: { SLCO1B1: { phenotype: 'Poor Function' } }, population: 'general',
      implications: { SLCO1B1: 'Simvastatin acid exposure is well above that of normal or decreased transporter function; the myopathy risk is high.' },
      recommendation: `Prescribe ${ALT_STATIN} instead of simvastatin.`, action: 'avoid', alternatives: [ALT_STATIN], notes: [STATIN_CHECKS, STATIN_INTERACTIONS],
    },
    { id: 'simvastatin/indeterminate', when: { SLCO1B1: { phenotype: 'Indeterminate' } }, population: 'general', implications: { SLCO1B1: NO_CALL }, recommendation: 'No recommendation.', action: 'no-recommendation' },
  ],
};

// --- fluorouracil and capecitabine (DPYD) ----------------------------------------------------

function fluoropyrimidine(drug: string, rxnorm: string, sourceFile: string): DrugTexts {
  const reduced = 'Decreased DPD activity (white-cell DPD about 30-70% of normal) and a higher risk of severe or fatal fluoropyrimidine toxicity.';
  const deficient = 'Complete DPD deficiency and a high risk of severe or fatal fluoropyrimidine toxicity.';
  const titrate = 'Raise the dose in patients with no or tolerable toxicity over the first two cycles, to keep efficacy; lower it in those who do not tolerate the starting dose.';
  const halve = 'Start at half the usual dose, then titrate by toxicity or by drug-level monitoring where available.';
  const avoid = 'Avoid 5-fluorouracil and its prodrugs, capecitabine included.';
  const half = { direction: 'decrease' as const, percentOfStandard: { min: 50, max: 50 }, detail: 'starting dose halved, then titrated' };
  const id = (s: string) => `${drug}/${s}`;
  return {
    drug, rxnorm, genes: ['DPYD'], citations: [CITATIONS.fluoropyrimidines2017], sourceFile, populations: GENERAL,
    records: [
      {
        id: id('score-2'), when: { DPYD: { phenotype: 'Normal Metabolizer', activityScore: { min: 2, max: 2 } } }, population: 'general',
        implications: { DPYD: 'Normal DPD activity and the usual risk of fluoropyrimidine toxicity.' },
        recommendation: 'The genotype gives no reason to change drug or dose; use the labelled dose and schedule.', action: 'no-change',
      },
      {
        id: id('score-1.5'), when: { DPYD: { phenotype: 'Intermediate Metabolizer', activityScore: { min: 1.5, max: 1.5 } } }, population: 'general',
        implications: { DPYD: reduced }, recommendation: halve, action: 'adjust-dose', dose: half, notes: [titrate],
      },
      {
        id: id('score-1'), when: { DPYD: { phenotype: 'Intermediate Metabolizer', activityScore: { min: 1, max: 1 } } }, population: 'general',
        implications: { DPYD: reduced }, recommendation: `${halve} People homozygous for c.2846A>T may need a larger reduction than half.`,
        action: 'adjust-dose', dose: half, notes: [titrate],
      },
      {
        id: id('score-0.5'), when: { DPYD: { phenotype: 'Poor Metabolizer', activityScore: { min: 0.5, max: 0.5 } } }, population: 'general',
        implications: { DPYD: deficient },
        recommendation: `${avoid} If, on clinical advice, no alternative is suitable, give 5-fluorouracil at a much reduced dose with early drug-level monitoring.`,
        action: 'avoid', alternatives: ['a regimen without 5-fluorouracil or its prodrugs'],
        dose: { direction: 'decrease', percentOfStandard: { min: 0, max: 25 }, detail: 'below 25% of the usual starting dose when no DPD phenotyping test guides it (alleles assumed to act additively)' },
        notes: ['Where available, a DPD phenotyping test should set the starting dose.', 'Measure drug levels as early as possible (e.g. at the first steady-state time point) so therapy can be stopped at once if they are too high.'],
      },
      {
        id: id('score-0'), when: { DPYD: { phenotype: 'Poor Metabolizer', activityScore: { min: 0, max: 0 } } }, population: 'general',
        implications: { DPYD: deficient }, recommendation: avoid, action: 'avoid', alternatives: ['a regimen without 5-fluorouracil or its prodrugs'],
      },
    ],
  };
}

// --- tacrolimus (CYP3A5), strengths from CPIC 2015 Table 2 -----------------------------------

const TAC_SCOPE = 'Applies to kidney, heart, lung and haematopoietic stem-cell transplant recipients, and to liver transplants where donor and recipient CYP3A5 genotypes match.';
const TAC_OTHER = 'Interacting drugs, liver function and other clinical factors may call for further dose changes or a different drug.';
const expresser = (phenotype: string): RecordTemplate => ({
  id: `tacrolimus/${phenotype.toLowerCase().replace(/\s+/g, '-')}`, when: { CYP3A5: { phenotype } }, population: 'transplant',
  implications: { CYP3A5: 'CYP3A5 is expressed: trough concentrations per dose are lower and target concentrations are less often reached.' },
  recommendation: 'Start at 1.5 to 2 times the recommended starting dose, with the total starting dose no higher than 0.3 mg/kg/day, and guide later changes by therapeutic drug monitoring.',
  action: 'adjust-dose', dose: { direction: 'increase', percentOfStandard: { min: 150, max: 200 }, detail: 'starting dose 1.5-2 times the usual, at most 0.3 mg/kg/day' },
  notes: [TAC_OTHER], strength: 'Strong',
});
const tacrolimus: DrugTexts = {
  drug: 'tacrolimus', rxnorm: '42316', genes: ['CYP3A5'], citations: [CITATIONS.tacrolimus2015],
  populations: { transplant: TAC_SCOPE },
  notes: ['CPIC 2015 called CYP3A5 normal metabolizers "extensive metabolizers"; for tacrolimus it is the expressers (normal and intermediate) who need a higher dose.'],
  records: [
    expresser('Normal Metabolizer'), expresser('Intermediate Metabolizer'),
    {
      id: 'tacrolimus/possible-intermediate-metabolizer', when: { CYP3A5: { phenotype: 'Possible Intermediate Metabolizer' } }, population: 'transplant',
      implications: { CYP3A5: 'One *1 (expressing) allele with an allele of unknown function: CYP3A5 is probably expressed.' },
      recommendation: 'CPIC gives no recommendation for this phenotype. The 2015 guideline expects a *1 allele with an unknown-function allele to behave as an intermediate metabolizer, so the intermediate-metabolizer advice (1.5-2 times the starting dose, at most 0.3 mg/kg/day, with drug monitoring) may be weighed.',
      action: 'no-recommendation', strength: 'No recommendation',
    },
    {
      id: 'tacrolimus/poor-metabolizer', when: { CYP3A5: { phenotype: 'Poor Metabolizer' } }, population: 'transplant',
      implications: { CYP3A5: 'CYP3A5 is not expressed (the commonest pattern): trough concentrations per dose are the usual, higher ones and targets are more often reached.' },
      recommendation: 'Start at the standard recommended dose and adjust by therapeutic drug monitoring.', action: 'no-change', strength: 'Strong',
    },
    { id: 'tacrolimus/indeterminate', when: { CYP3A5: { phenotype: 'Indeterminate' } }, population: 'transplant', implications: { CYP3A5: NO_CALL }, recommendation: 'No recommendation.', action: 'no-recommendation', strength: 'No recommendation' },
  ],
};

// --- atazanavir (UGT1A1), strengths from CPIC 2015 Table 2 -----------------------------------

const atazanavir: DrugTexts = {
  drug: 'atazanavir', rxnorm: '343047', genes: ['UGT1A1'], citations: [CITATIONS.atazanavir2015],
  populations: { general: 'Adults on atazanavir boosted with ritonavir or cobicistat; CPIC expects the same genotype effect in children.' },
  records: [
    {
      id: 'atazanavir/normal-metabolizer', when: { UGT1A1: { phenotype: 'Normal Metabolizer' } }, population: 'general',
      implications: { UGT1A1: 'Reference UGT1A1 activity; stopping atazanavir because of raised bilirubin is very unlikely.' },
      recommendation: 'The genotype gives no reason to avoid atazanavir.', action: 'no-change', strength: 'Strong',
    },
    {
      id: 'atazanavir/intermediate-metabolizer', when: { UGT1A1: { phenotype: 'Intermediate Metabolizer' } }, population: 'general',
      implications: { UGT1A1: 'Somewhat reduced UGT1A1 activity; stopping atazanavir because of raised bilirubin is unlikely.' },
      recommendation: 'The genotype gives no reason to avoid atazanavir. Tell the patient that some people stop it because of jaundice (yellow eyes and skin), but that with this genotype that is unlikely.',
      action: 'no-change', strength: 'Strong',
    },
    {
      id: 'atazanavir/poor-metabolizer', when: { UGT1A1: { phenotype: 'Poor Metabolizer' } }, population: 'general',
      implications: { UGT1A1: 'Markedly reduced UGT1A1 activity; stopping atazanavir because of raised bilirubin is likely.' },
      recommendation: 'Consider another antiretroviral, above all if jaundice would trouble the patient.', action: 'consider-alternative',
      alternatives: ['another antiretroviral agent'], strength: 'Strong',
      notes: ['Homozygous *6 (seen almost only in people of East Asian ancestry) causes Gilbert syndrome; whether it raises the risk of severe atazanavir-related hyperbilirubinaemia is not known.'],
    },
    { id: 'atazanavir/indeterminate', when: { UGT1A1: { phenotype: 'Indeterminate' } }, population: 'general', implications: { UGT1A1: NO_CALL }, recommendation: 'No recommendation.', action: 'no-recommendation', strength: 'No recommendation' },
  ],
};

/** Every drug Helix writes recommendation records for (warfarin's rule lives in pgx-warfarin-rule.ts). */
export const DRUG_TEXTS: DrugTexts[] = [
  clopidogrel, codeine, simvastatin,
  fluoropyrimidine('fluorouracil', '4492', 'CPIC_fluorouracil_and_DPYD.json'),
  fluoropyrimidine('capecitabine', '194000', 'CPIC_capecitabine_and_DPYD.json'),
  ...thiopurineDrugs(),
  tacrolimus, atazanavir,
];
