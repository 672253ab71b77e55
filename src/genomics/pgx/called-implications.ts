// Therapeutic implications of Helix's own star-allele calls: each called gene's phenotype
// (phenotypes.ts) and, for every drug whose genes were called, CPIC's recommendation
// (recommendations.ts) as IG `therapeutic-implication` Observations derivedFrom the genotype
// Observations they rest on (called-observations.ts), each with a `medication-recommendation`
// Task where CPIC says to change drug or dose. One implication per recommendation record that
// applies (clopidogrel's differ by indication, given as the phenotypic treatment context).
// A gene whose candidate diplotypes disagree on the phenotype counts as not called; warfarin,
// whose CPIC guidance is a dosing algorithm needing age, height and weight, is not answered here.
import type { CodeableConcept, Observation, ObservationComponent, Task } from '@medplum/fhirtypes';
import type { FhirContext, Session } from '../../fhir/types.js';
import type { StudyCriteria } from '../op-input.js';
import type { StoredObservation } from '../stored-haplotypes.js';
import type { GenomicStudy } from '../types.js';
import { genomicsObservation, loinc, patientReference, SYSTEM } from '../variant-observation.js';
import { callObservations, studyCalls } from './called-observations.js';
import type { GeneCall } from './diplotypes.js';
import type { PgxKnowledge } from './knowledge.js';
import { phenotypeOf, type GenePhenotype } from './phenotypes.js';
import { recommend, type MatchedRecommendation, type PhenotypeInput } from './recommendations.js';

const SD = 'http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition';
const TBD = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';

// LOINC answers of the IG value set genetic-therapeutic-implications-vs for CPIC's phenotype terms.
const PHENOTYPE_ANSWERS: Readonly<Record<string, [string, string]>> = {
  'Ultrarapid Metabolizer': ['LA10315-2', 'Ultrarapid metabolizer'],
  'Rapid Metabolizer': ['LA25390-8', 'Rapid metabolizer'],
  'Normal Metabolizer': ['LA25391-6', 'Normal metabolizer'],
  'Intermediate Metabolizer': ['LA10317-8', 'Intermediate metabolizer'],
  'Poor Metabolizer': ['LA9657-3', 'Poor metabolizer'],
  'Increased Function': ['LA25392-4', 'Increased function'],
  'Normal Function': ['LA25393-2', 'Normal function'],
  'Decreased Function': ['LA25395-7', 'Decreased function'],
  'Poor Function': ['LA25394-0', 'Poor function'],
};

// LOINC answer list LL4049-4 (the medication-recommendation Task's code), as the IG's examples use it.
const TASK_CODES = {
  alternative: ['LA26421-0', 'Consider alternative medication'],
  decrease: ['LA26422-8', 'Decrease dose'],
  increase: ['LA26423-6', 'Increase dose'],
} as const;

/** The implications of Helix's calls on the studies (of one patient, or everyone's) that pass the study criteria, with the genotypes they rest on, as stored-implications.ts reads them. */
export async function calledImplications(
  ctx: FhirContext, s: Session, criteria: StudyCriteria, patientId?: string,
): Promise<{ implications: StoredObservation[]; findings: StoredObservation[] }> {
  const implications: StoredObservation[] = [];
  const findings = new Map<string, StoredObservation>();
  for (const { study, calls } of await studyCalls(ctx, s, criteria, patientId)) {
    for (const found of implicationsOfCalls(ctx.pgx, study, calls)) {
      implications.push({ id: found.implication.id as string, patientId: study.patientId, resource: found.implication });
      for (const g of found.genotypes) findings.set(g.id as string, { id: g.id as string, patientId: study.patientId, resource: g });
    }
  }
  return { implications, findings: [...findings.values()] };
}

/** One implication of a study's calls, with the genotype Observations it is derivedFrom and its Task, if any. */
export interface CalledImplication { implication: Observation; genotypes: Observation[]; task?: Task }

/** The therapeutic implications of one study's calls, for every drug Helix has recommendations for. */
export function implicationsOfCalls(knowledge: PgxKnowledge, study: GenomicStudy, calls: readonly GeneCall[]): CalledImplication[] {
  const phenotypes = new Map<string, { phenotype: GenePhenotype; genotypes: Observation[] }>();
  for (const call of calls) {
    if (call.diplotypes.length === 0 || !knowledge.phenotypes.genes.has(call.gene)) continue;
    const candidates = call.diplotypes.map((d) => phenotypeOf(knowledge.phenotypes, call.gene, [d.haplotypes[0].name, d.haplotypes[1].name]));
    const first = candidates[0] as GenePhenotype;
    if (!first.determinate || candidates.some((p) => p.lookupKey !== first.lookupKey)) continue;
    const genotypes = callObservations(study, call).filter((o) => o.meta?.profile?.[0] === `${SD}/genotype`);
    phenotypes.set(call.gene, { phenotype: first, genotypes });
  }
  const inputs: Record<string, PhenotypeInput> = {};
  for (const [gene, { phenotype }] of phenotypes) {
    inputs[gene] = { phenotype: phenotype.phenotype, ...(phenotype.activityScore ? { activityScore: phenotype.activityScore } : {}) };
  }
  const out: CalledImplication[] = [];
  for (const drug of knowledge.recommendations.drugs.values()) {
    if (!drug.genes.some((g) => phenotypes.has(g))) continue;
    const result = recommend(knowledge.recommendations, drug.drug, inputs);
    if (result.kind === 'no-genotype' || result.kind === 'algorithm') continue;
    result.matches.forEach((match, n) => {
      const genes = drug.genes.filter((g) => phenotypes.has(g));
      const genotypes = genes.flatMap((g) => phenotypes.get(g)?.genotypes ?? []);
      const implication = implicationObservation(study, `${study.id}-pgx-${drug.drug}-${n + 1}`, drug.rxnorm, match, genes.map((g) => phenotypes.get(g)?.phenotype as GenePhenotype), genotypes, drug.populations[match.population], drug.citations[0]?.url);
      const task = recommendationTask(study, implication, match);
      out.push({ implication, genotypes, ...(task ? { task } : {}) });
    });
  }
  return out;
}

function implicationObservation(
  study: GenomicStudy, id: string, rxnorm: { system: string; code: string; display: string }, match: MatchedRecommendation,
  phenotypes: GenePhenotype[], genotypes: Observation[], population: string | undefined, url: string | undefined,
): Observation {
  const component: ObservationComponent[] = [
    { code: loinc('51963-7', 'Medication assessed [ID]'), valueCodeableConcept: { coding: [{ system: rxnorm.system, code: rxnorm.code, display: rxnorm.display }] } },
    ...phenotypes.map((p) => ({
      code: { coding: [{ system: TBD, code: 'therapeutic-implication', display: 'Therapeutic Implication' }] },
      valueCodeableConcept: phenotypeConcept(p),
    })),
    { code: loinc('93044-6', 'Level of evidence'), valueCodeableConcept: { text: `CPIC classification of recommendation: ${match.strength}` } },
    ...(population ? [{ code: loinc('81259-4', 'Associated phenotype'), valueCodeableConcept: { text: population } }] : []),
  ];
  const notes = [
    ...phenotypes.map((p) => `${p.gene} ${p.phenotype}${p.activityScore ? ` (activity score ${p.activityScore.text})` : ''}: ${match.implications[p.gene] ?? ''}`.trim()),
    `Recommendation (CPIC, ${match.strength}): ${match.recommendation}${url ? ` Source: ${url}` : ''}`,
  ];
  return {
    ...genomicsObservation(id, `${SD}/therapeutic-implication`, { coding: [{ system: TBD, code: 'therapeutic-implication', display: 'Therapeutic Implication' }] }, study),
    derivedFrom: genotypes.map((g) => ({ reference: `Observation/${g.id}` })),
    component,
    note: notes.map((text) => ({ text })),
  };
}

function phenotypeConcept(p: GenePhenotype): CodeableConcept {
  const answer = PHENOTYPE_ANSWERS[p.phenotype];
  return { ...(answer ? { coding: [{ system: SYSTEM.loinc, code: answer[0], display: answer[1] }] } : {}), text: `${p.gene} ${p.phenotype}` };
}

/** The IG medication-recommendation Task of an implication whose record says to change drug or dose. */
function recommendationTask(study: GenomicStudy, implication: Observation, match: MatchedRecommendation): Task | undefined {
  const code = match.action === 'avoid' || match.action === 'consider-alternative' ? TASK_CODES.alternative
    : match.action === 'adjust-dose' && match.dose ? TASK_CODES[match.dose.direction] : undefined;
  if (!code) return undefined;
  return {
    resourceType: 'Task',
    id: `${implication.id}-task`,
    meta: { profile: [`${SD}/medication-recommendation`] },
    status: 'requested',
    intent: 'proposal',
    code: { coding: [{ system: SYSTEM.loinc, code: code[0], display: code[1] }] },
    description: match.recommendation,
    for: patientReference(study),
    reasonReference: { reference: `Observation/${implication.id}` },
  };
}
