// Helix's wording of CPIC's thiopurine advice (azathioprine, mercaptopurine, thioguanine) for
// every TPMT × NUDT15 phenotype pair. CPIC's table is built the same way for each pair: the gene
// with the weaker phenotype sets the starting dose (a TPMT poor metabolizer first, then a NUDT15
// poor metabolizer, then intermediate metabolizers), and an unassigned or missing result for the
// other gene adds advice to test TPMT activity or monitor closely. The pair is composed here from
// per-drug dose facts rather than written out 105 times. Intermediate for both genes follows CPIC's
// March 2024 update (start at 20-50% of the usual dose; PMID 38230823), which postdates the export.
import { CITATIONS } from './pgx-citations.js';
import type { DoseAdjustment } from '../../src/genomics/pgx/recommendations.js';
import type { DrugTexts, RecordTemplate } from './pgx-recommendation-texts.js';

const PHENOTYPES = ['Normal Metabolizer', 'Intermediate Metabolizer', 'Possible Intermediate Metabolizer', 'Poor Metabolizer', 'Indeterminate', 'No Result'] as const;
type Phenotype = (typeof PHENOTYPES)[number];
type Kind = 'normal' | 'intermediate' | 'poor' | 'unassigned' | 'missing';
const KIND: Record<Phenotype, Kind> = {
  'Normal Metabolizer': 'normal', 'Intermediate Metabolizer': 'intermediate', 'Possible Intermediate Metabolizer': 'intermediate',
  'Poor Metabolizer': 'poor', Indeterminate: 'unassigned', 'No Result': 'missing',
};
const IM_IM_UPDATE_PMID = CITATIONS.thiopurineImImUpdate2024.pmid;

/** The per-drug facts the composed advice is made of. */
interface ThiopurineFacts {
  drug: string;
  rxnorm: string;
  sourceFile: string;
  normal: string;
  intermediate: { dose: DoseAdjustment; text: string };
  tpmtPoor: { dose: DoseAdjustment; text: string };
  nudt15Poor: { dose: DoseAdjustment; text: string };
  tpmtImplication: Record<'normal' | 'intermediate' | 'poor', string>;
}

const NUDT15_IMPLICATION = {
  normal: 'Usual risk of thiopurine-induced leukopenia, neutropenia and myelosuppression.',
  intermediate: 'Higher risk of thiopurine-induced leukopenia, neutropenia and myelosuppression.',
  poor: 'Much higher risk of thiopurine-induced leukopenia, neutropenia and myelosuppression.',
};
const UNASSIGNED = 'No phenotype could be assigned from the genotype.';
const MISSING = 'No genotype result is available.';
const NON_MALIGNANT = 'For non-malignant conditions, consider an immunosuppressant that is not a thiopurine.';
const ALTERNATIVE = 'a non-thiopurine immunosuppressant (non-malignant conditions)';
const START_VARIES = 'Usual starting doses differ by ancestry and treatment protocol; where the protocol dose is already below the usual recommended dose, an intermediate metabolizer may need no reduction.';
const TPMT_TEST = 'Consider measuring erythrocyte TPMT activity (it can read falsely low at leukaemia diagnosis and is unreliable after a recent red-cell transfusion).';
const MONITOR = 'Where a thiopurine must be given without knowing both TPMT and NUDT15 status, watch closely for toxicity.';

function tpmtImplication(level: string, tgnNote: string): Record<'normal' | 'intermediate' | 'poor', string> {
  return {
    normal: `Lower thioguanine-nucleotide (TGN) levels${tgnNote}, the usual pattern; usual risk of leukopenia, neutropenia and myelosuppression.`,
    intermediate: `Moderate to high TGN levels${tgnNote}${level}; higher risk of leukopenia, neutropenia and myelosuppression.`,
    poor: 'Extremely high TGN levels, with fatal toxicity possible unless the dose is cut; much higher risk of leukopenia, neutropenia and myelosuppression.',
  };
}

const FACTS: ThiopurineFacts[] = [
  {
    drug: 'azathioprine', rxnorm: '1256', sourceFile: 'CPIC_azathioprine_and_NUDT15_TPMT.json',
    normal: 'Start at the normal dose (e.g. 2-3 mg/kg/day) and adjust by the disease-specific guidelines, waiting 2 weeks after each change for steady state.',
    intermediate: {
      dose: { direction: 'decrease', percentOfStandard: { min: 30, max: 80 }, detail: '30-80% of the normal dose when that is 2-3 mg/kg/day (e.g. 0.6-2.4 mg/kg/day)' },
      text: 'Start at 30-80% of the normal dose if that would be 2-3 mg/kg/day (e.g. 0.6-2.4 mg/kg/day), then adjust by the degree of myelosuppression and the disease-specific guidelines, waiting 2-4 weeks after each change for steady state.',
    },
    tpmtPoor: {
      dose: { direction: 'decrease', percentOfStandard: { min: 10, max: 10 }, detail: 'one tenth of the normal daily dose, given three times a week instead of daily (malignancy)' },
      text: `${NON_MALIGNANT} For malignancy, start far lower: a tenth of the normal daily dose, given three times a week instead of daily, adjusted by myelosuppression and the disease-specific guidelines, waiting 4-6 weeks after each change for steady state.`,
    },
    nudt15Poor: {
      dose: { direction: 'decrease', percentOfStandard: { min: 10, max: 10 }, detail: 'one tenth of the normal daily dose (malignancy)' },
      text: `${NON_MALIGNANT} For malignancy, start at a tenth of the normal daily dose, adjusted by myelosuppression and the disease-specific guidelines, waiting 4-6 weeks after each change for steady state.`,
    },
    tpmtImplication: tpmtImplication(' and low methylated (MeTIMP) metabolite levels', ''),
  },
  {
    drug: 'mercaptopurine', rxnorm: '103', sourceFile: 'CPIC_mercaptopurine_and_NUDT15_TPMT.json',
    normal: 'Start at the normal dose (e.g. 75 mg/m2/day or 1.5 mg/kg/day) and adjust mercaptopurine together with any other myelosuppressive drugs, without singling it out, waiting at least 2 weeks after each change for steady state.',
    intermediate: {
      dose: { direction: 'decrease', percentOfStandard: { min: 30, max: 80 }, detail: '30-80% of the normal dose when that is at least 75 mg/m2/day or 1.5 mg/kg/day (e.g. 22.5-60 mg/m2/day or 0.45-1.2 mg/kg/day)' },
      text: 'If the normal starting dose is at least 75 mg/m2/day or 1.5 mg/kg/day, start at 30-80% of it (e.g. 22.5-60 mg/m2/day or 0.45-1.2 mg/kg/day); a lower protocol dose may need no cut. Adjust by myelosuppression and the disease-specific guidelines, waiting 2-4 weeks after each change for steady state; if myelosuppression occurs, cut mercaptopurine before other drugs where the regimen allows.',
    },
    tpmtPoor: {
      dose: { direction: 'decrease', percentOfStandard: { min: 10, max: 10 }, detail: 'one tenth of the normal daily dose three days a week, e.g. 10 mg/m2/day on 3 days a week (malignancy)' },
      text: `For malignancy, start far lower: a tenth of the normal daily dose, given on three days a week instead of daily (e.g. 10 mg/m2/day, 3 days a week), adjusted by myelosuppression and the disease-specific guidelines, waiting 4-6 weeks after each change for steady state; if myelosuppression occurs, cut mercaptopurine before other drugs. ${NON_MALIGNANT}`,
    },
    nudt15Poor: {
      dose: { direction: 'decrease', detail: 'start at 10 mg/m2/day (malignancy)' },
      text: `For malignancy, start at 10 mg/m2/day and adjust by myelosuppression and the disease-specific guidelines, waiting 4-6 weeks after each change for steady state; if myelosuppression occurs, cut mercaptopurine before other drugs. ${NON_MALIGNANT}`,
    },
    tpmtImplication: tpmtImplication(' and low methylated (MeTIMP) metabolite levels', ''),
  },
  {
    drug: 'thioguanine', rxnorm: '10485', sourceFile: 'CPIC_thioguanine_and_NUDT15_TPMT.json',
    normal: 'Start at the normal dose (e.g. 40-60 mg/m2/day) and adjust thioguanine together with any other myelosuppressive drugs, without singling it out, waiting 2 weeks after each change for steady state.',
    intermediate: {
      dose: { direction: 'decrease', percentOfStandard: { min: 50, max: 80 }, detail: '50-80% of the normal dose when that is 40-60 mg/m2/day or more (e.g. 20-48 mg/m2/day)' },
      text: 'If the normal starting dose is 40-60 mg/m2/day or more, start at 50-80% of it (e.g. 20-48 mg/m2/day). Adjust by myelosuppression and the disease-specific guidelines, waiting 2-4 weeks after each change for steady state; if myelosuppression occurs, cut thioguanine before other drugs where the regimen allows.',
    },
    tpmtPoor: {
      dose: { direction: 'decrease', percentOfStandard: { min: 10, max: 10 }, detail: 'one tenth of the normal daily dose, given three times a week instead of daily' },
      text: `Start far lower: a tenth of the normal daily dose, given three times a week instead of daily, adjusted by myelosuppression and the disease-specific guidelines, waiting 4-6 weeks after each change for steady state; if myelosuppression occurs, cut thioguanine before other drugs. ${NON_MALIGNANT}`,
    },
    nudt15Poor: {
      dose: { direction: 'decrease', percentOfStandard: { min: 25, max: 25 }, detail: 'a quarter of the normal dose' },
      text: `Start at a quarter of the normal dose and adjust by myelosuppression and the disease-specific guidelines, waiting 4-6 weeks after each change for steady state; if myelosuppression occurs, cut thioguanine before other drugs. ${NON_MALIGNANT}`,
    },
    tpmtImplication: tpmtImplication('', ' (note that thioguanine gives 5-10 times the TGN levels of mercaptopurine or azathioprine)'),
  },
];

function implicationFor(facts: ThiopurineFacts, gene: 'TPMT' | 'NUDT15', kind: Kind): string {
  if (kind === 'unassigned') return UNASSIGNED;
  if (kind === 'missing') return MISSING;
  return gene === 'TPMT' ? facts.tpmtImplication[kind] : NUDT15_IMPLICATION[kind];
}

function compose(facts: ThiopurineFacts, tpmt: Phenotype, nudt15: Phenotype): RecordTemplate {
  const t = KIND[tpmt], n = KIND[nudt15];
  const known = (k: Kind) => k !== 'unassigned' && k !== 'missing';
  const slug = (p: Phenotype) => p.toLowerCase().replace(/\s+/g, '-');
  const base = {
    id: `${facts.drug}/tpmt-${slug(tpmt)}/nudt15-${slug(nudt15)}`,
    when: { TPMT: { phenotype: tpmt }, NUDT15: { phenotype: nudt15 } }, population: 'general',
    implications: { TPMT: implicationFor(facts, 'TPMT', t), NUDT15: implicationFor(facts, 'NUDT15', n) },
  };
  // Advice about the gene(s) without a usable result, appended to whatever the other gene decides.
  const caveats: string[] = [];
  if (t === 'unassigned') caveats.push(`TPMT: ${UNASSIGNED.toLowerCase()} ${TPMT_TEST}`);
  if (t === 'missing') caveats.push(`TPMT: ${MISSING.toLowerCase()} ${TPMT_TEST}`);
  if (n === 'unassigned') caveats.push(`NUDT15: ${UNASSIGNED.toLowerCase()}`);
  if (n === 'missing') caveats.push(`NUDT15: ${MISSING.toLowerCase()}`);
  if (caveats.length > 0) caveats.push(MONITOR);
  const onlyOne = known(t) !== known(n) ? `Going by ${known(t) ? 'TPMT' : 'NUDT15'} alone: ` : '';
  const text = (advice: string) => [onlyOne ? onlyOne + advice[0]!.toLowerCase() + advice.slice(1) : advice, ...caveats].join(' ');

  if (!known(t) && !known(n)) {
    return { ...base, recommendation: caveats.join(' '), action: 'monitor' };
  }
  if (t === 'poor' || n === 'poor') {
    const poor = t === 'poor' ? facts.tpmtPoor : facts.nudt15Poor;
    return { ...base, recommendation: text(poor.text), action: 'adjust-dose', dose: poor.dose, alternatives: [ALTERNATIVE] };
  }
  if (t === 'intermediate' && n === 'intermediate') {
    return {
      ...base, action: 'adjust-dose', notes: [START_VARIES], extraCites: [IM_IM_UPDATE_PMID],
      recommendation: 'Intermediate for both TPMT and NUDT15: start at 20-50% of the normal dose, depending on the starting dose, and adjust by myelosuppression and the disease-specific guidelines (CPIC update of March 2024; reductions for one intermediate gene are not enough).',
      dose: { direction: 'decrease', percentOfStandard: { min: 20, max: 50 }, detail: '20-50% of the normal starting dose, depending on that dose' },
    };
  }
  if (t === 'intermediate' || n === 'intermediate') {
    return { ...base, recommendation: text(facts.intermediate.text), action: 'adjust-dose', dose: facts.intermediate.dose, notes: [START_VARIES] };
  }
  return { ...base, recommendation: text(facts.normal), action: caveats.length > 0 ? 'monitor' : 'no-change' };
}

/** The three thiopurines' texts, one record per TPMT × NUDT15 pair CPIC files (not both missing). */
export function thiopurineDrugs(): DrugTexts[] {
  return FACTS.map((facts) => ({
    drug: facts.drug, rxnorm: facts.rxnorm, genes: ['TPMT', 'NUDT15'], citations: [CITATIONS.thiopurines2018, CITATIONS.thiopurineImImUpdate2024], sourceFile: facts.sourceFile,
    populations: { general: 'All patients the guideline covers.' },
    notes: ['"No Result" stands for a gene that was not genotyped; Helix applies those records when the gene is absent from the request.'],
    records: PHENOTYPES.flatMap((tpmt) => PHENOTYPES.filter((nudt15) => !(tpmt === 'No Result' && nudt15 === 'No Result')).map((nudt15) => compose(facts, tpmt, nudt15))),
  }));
}
