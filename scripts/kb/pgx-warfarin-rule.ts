// The facts of CPIC's 2017 warfarin rule (Johnson et al., Figure 2 "dosing recommendations for
// warfarin dosing based on genotype for adult patients") and of the IWPC pharmacogenetic dose
// equation, as data for knowledge/pgx/recommendations/warfarin.json. The flowchart itself — which
// step applies to whom — is code, in src/genomics/pgx/warfarin.ts; this file only carries the
// numbers and strengths it reads. Sources: CPIC 2017 Figure 2 and its footnotes (read from the
// figure's source in cpicpgx/cpic-data, src/main/design/diagram/warfarin/); IWPC coefficients from
// Klein et al. NEJM 2009 (supplementary appendix), cross-checked against an independent public
// implementation of the same equation.
import { CITATIONS } from './pgx-citations.js';

/** warfarin.json: metadata, the rule's parameters and the IWPC equation. */
export const WARFARIN_RULE = {
  drug: 'warfarin',
  rxnorm: '11289',
  genes: ['CYP2C9', 'VKORC1', 'CYP4F2'],
  citations: [CITATIONS.warfarin2017, CITATIONS.iwpc2009],
  populations: { adult: 'Adults starting warfarin for a target INR of 2-3; CPIC\'s separate paediatric advice is not modelled.' },
  recommendations: [],
  rule: {
    kind: 'cpic-warfarin-2017',
    genotypeGuidedNeeds: 'VKORC1 -1639G>A (rs9923231) and CYP2C9 *2 and *3 genotypes',
    pharmacogeneticAlgorithm: {
      strength: { nonAfrican: 'Strong', african: 'Moderate' },
      examples: ['IWPC (Klein et al. 2009)', 'Gage et al. 2008 (warfarindosing.org)'],
      targetInr: '2-3',
    },
    loadingDose: { strength: 'Optional', note: 'A pharmacogenetic initiation (loading) dose algorithm such as EU-PACT\'s may be considered; it has not been tested in people of African ancestry.' },
    cyp2c9AfricanAlleles: {
      alleles: ['*5', '*6', '*8', '*11'],
      decreasePercent: { min: 15, max: 30 },
      homozygousDecreasePercent: { min: 20, max: 40 },
      strength: { nonAfrican: 'Optional', african: 'Moderate' },
    },
    cyp4f2: { marker: 'rs2108622 T', increasePercent: { min: 5, max: 10 }, strength: 'Optional', appliesTo: 'non-African ancestry' },
    rs12777823: { allele: 'A', decreasePercent: { min: 10, max: 25 }, strength: 'Moderate', appliesTo: 'African American (mainly West African origin)' },
    alternativeAgent: {
      cyp2c9Phenotypes: ['Poor Metabolizer'],
      note: 'Consider another anticoagulant when CYP2C9 predicts poor metabolism (e.g. *2/*3, *3/*3), with or without VKORC1 A/G or A/A.',
    },
    notes: [
      'Evidence is strongest for European and East Asian ancestry and consistent elsewhere.',
      'About 45-50% of people of self-reported African ancestry carry CYP2C9 *5, *6, *8, *11 or rs12777823 A; if *5, *6, *8 and *11 were not tested, dose clinically. The data come mostly from African Americans (largely West African origin).',
      '"Dose clinically" means dosing without genetic information: a clinical algorithm or a standard-dose approach.',
    ],
  },
  iwpc: {
    outcome: 'square root of the weekly warfarin dose (mg)',
    ageUnit: 'decades (floor of age in years / 10), as IWPC recorded age by decade',
    coefficients: {
      intercept: 5.6044, ageDecades: -0.2614, heightCm: 0.0087, weightKg: 0.0128,
      vkorc1AG: -0.8677, vkorc1AA: -1.6974, vkorc1Unknown: -0.4854,
      cyp2c9_1_2: -0.5211, cyp2c9_1_3: -0.9357, cyp2c9_2_2: -1.0616, cyp2c9_2_3: -1.9206, cyp2c9_3_3: -2.3312, cyp2c9Unknown: -0.2188,
      raceAsian: -0.1092, raceBlack: -0.276, raceMissingOrMixed: -0.1032,
      enzymeInducer: 1.1816, amiodarone: -0.5503,
    },
    enzymeInducers: ['carbamazepine', 'phenytoin', 'rifampin (rifampicin)'],
  },
} as const;
