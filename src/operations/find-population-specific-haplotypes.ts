// $find-population-specific-haplotypes — Genomics Reporting IG 3.0.0, OperationDefinition
// find-population-specific-haplotypes: for each haplotype or genotype item — or, with a repeated
// parameter, each conjunction of items (`a,b` asks a and b apart; `a&b` asks for both, as
// population.ts does) — how many patients have it (numerator) among those with any stored
// genotype or haplotype Observation (denominator), and which (includePatientList). Answered from
// the Observations stored in Helix (src/genomics/stored-haplotypes.ts) and from Helix's own
// star-allele calls on every GRCh38 study (src/genomics/pgx/called-observations.ts).
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import { carryingAll, conjunctions, flag, operationParams, populationParts, studyCriteria } from '../genomics/op-input.js';
import { KIND_CODES, loadObservations, matchesHaplotype, parseHaplotypeItem, patientsWith } from '../genomics/stored-haplotypes.js';
import { populationCalledObservations } from '../genomics/pgx/called-observations.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-population-specific-haplotypes';
const CODES = [...KIND_CODES.haplotype, ...KIND_CODES.genotype];

/** The $find-population-specific-haplotypes operation (system level). */
export const findPopulationSpecificHaplotypesOperation = genomicsOperation(NAME, async (ctx, s, req) => {
  const params = operationParams(req, NAME, ['haplotypes', 'genomicSourceClass', 'includePatientList']);
  const asked = conjunctions(params, 'haplotypes');
  if (asked.length === 0) throw badRequest(`$${NAME} requires haplotypes`);
  const parsed = new Map([...new Set(asked.flat())].map((t) => [t, parseHaplotypeItem(t)]));
  const includePatients = flag(params, 'includePatientList');
  const study = studyCriteria(params);
  // Only the elements names are compared on are read, not whole resources; Helix's own calls join them.
  const stored = [
    ...await loadObservations(ctx, s, { codes: CODES, study, fields: ['subject', 'component', 'valueCodeableConcept', 'valueString'] }),
    ...await populationCalledObservations(ctx, s, study),
  ];
  const withAny = await patientsWith(ctx, s, { codes: CODES, study });
  for (const o of stored) if (o.patientId !== undefined) withAny.add(o.patientId);
  const denominator = withAny.size;
  // Each distinct item is matched once, however many conjunctions name it.
  const carriers = new Map([...parsed].map(([text, item]) => [text, new Set(stored
    .filter((o) => o.patientId !== undefined && matchesHaplotype(o.resource, item)).map((o) => o.patientId as string))]));
  const parameter: ParametersParameter[] = asked.map((conjunction) => ({
    name: 'haplotypes',
    part: [
      { name: 'haplotypeItem', valueString: conjunction.join(' AND ') },
      ...populationParts(carryingAll(conjunction.map((item) => carriers.get(item) as Set<string>)), denominator, includePatients),
    ],
  }));
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter } };
});
