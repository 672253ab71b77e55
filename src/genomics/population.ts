// The population questions of the Genomics Reporting IG 3.0.0 (find-population-specific-variants,
// find-population-structural-intersecting/subsuming-variants): for each item — or, with a
// repeated parameter, each conjunction of items — how many of the patients with genomic data
// (denominator) have it (numerator), and which (includePatientList).
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import type { FhirRequest, FhirResponse, Session } from '../fhir/types.js';
import { carryingAll, conjunctions, flag, operationParams, populationParts, selectStudies } from './op-input.js';
import { parseRange, parseVariantItem } from './ranges.js';
import type { GenomicStudy } from './types.js';
import { sameAllele } from './variant-items.js';
import { structuralInRange, variantsAt } from './variant-store.js';

/** What a population operation asks about each item. */
export type PopulationQuestion = 'specific' | 'structural-intersecting' | 'structural-subsuming';

/** Answers one of the population variant operations. */
export async function answerPopulation(s: Session, req: FhirRequest, op: string, question: PopulationQuestion): Promise<FhirResponse> {
  const itemName = question === 'specific' ? 'variants' : 'ranges';
  const params = operationParams(req, op, [itemName, 'genomicSourceClass', 'includePatientList']);
  const asked = conjunctions(params, itemName);
  if (asked.length === 0) throw badRequest(`$${op} requires ${itemName}`);
  const includePatients = flag(params, 'includePatientList');
  const studies = await selectStudies(s, params);
  const byId = new Map(studies.map((st) => [st.id, st]));
  const denominator = new Set(studies.map((st) => st.patientId)).size;
  // Each distinct item is looked up once, however many conjunctions name it.
  const carriers = new Map<string, Set<string>>();
  for (const item of new Set(asked.flat())) carriers.set(item, await patientsWith(s, item, question, byId));
  const parameter: ParametersParameter[] = asked.map((conjunction) => ({
    name: 'variants',
    part: [
      { name: question === 'specific' ? 'variantItem' : 'rangeItem', valueString: conjunction.join(' AND ') },
      ...populationParts(carryingAll(conjunction.map((item) => carriers.get(item) as Set<string>)), denominator, includePatients),
    ],
  }));
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter } };
}

/** The patients (among the selected studies) carrying one item. */
async function patientsWith(s: Session, text: string, question: PopulationQuestion, studies: ReadonlyMap<string, GenomicStudy>): Promise<Set<string>> {
  if (question === 'specific') {
    const item = parseVariantItem(text);
    const found = await variantsAt(s.q, [...studies.values()], [item]);
    return new Set(found.filter((v) => sameAllele(v, item)).map((v) => v.patientId));
  }
  const range = parseRange(text);
  const found = await structuralInRange(s.q, range, [...studies.values()]);
  return new Set(found
    .filter((v) => studies.get(v.studyId)?.build === range.build)
    .filter((v) => question === 'structural-intersecting' || (v.start <= range.start && v.end >= range.end))
    .map((v) => v.patientId));
}
