// The molecular-consequence operations of the Genomics Reporting IG 3.0.0
// (find-subject-molecular-consequences, find-population-molecular-consequences). Consequences
// come from the VEP `CSQ` / SnpEff `ANN` annotations stored with each call at import; a
// featureConsequences item (`http://sequenceontology.org|SO:0001583`, either SO system URL, or a
// bare SO id) keeps the consequences carrying that Sequence Ontology term.
import type { Observation, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import type { FhirRequest, FhirResponse, Session } from '../fhir/types.js';
import { variantObservationId, variantObservationsJson } from './emit.js';
import { carryingAll, conjunctions, flag, items, operationParams, populationParts, required, selectStudies, subjectId } from './op-input.js';
import { parameterJson, parametersJson, resourceParameterJson } from './parameters-json.js';
import { parseRange } from './ranges.js';
import { molecularConsequenceObservation, sequenceOntologyCoding } from './resources.js';
import type { GenomicStudy, MolecularConsequence } from './types.js';
import { callsInRanges, callsNamedBy, parseVariantItems, sameAllele } from './variant-items.js';
import { variantsAt, type StoredVariant } from './variant-store.js';

const SO_SYSTEMS = new Set(['http://sequenceontology.org', 'http://www.sequenceontology.org', 'http://purl.obolibrary.org/obo/so.owl']);
const FILTERS = ['testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass'];

/** The SO ids a featureConsequences parameter asks for (any of them matches). */
function wantedTerms(params: URLSearchParams): Set<string> {
  return new Set(items(params, 'featureConsequences').map((item) => {
    const bar = item.lastIndexOf('|');
    const system = bar >= 0 ? item.slice(0, bar) : '';
    const code = bar >= 0 ? item.slice(bar + 1) : item;
    if ((system && !SO_SYSTEMS.has(system)) || !/^SO:\d{7}$/.test(code)) {
      throw badRequest(`featureConsequences ${item.slice(0, 80)} is not a Sequence Ontology code such as http://sequenceontology.org|SO:0001583`);
    }
    return code;
  }));
}

/** Whether a consequence carries one of the wanted SO terms (all when none are wanted). */
const carries = (c: MolecularConsequence, wanted: ReadonlySet<string>): boolean =>
  wanted.size === 0 || c.terms.some((t) => wanted.has(sequenceOntologyCoding(t)?.code ?? ''));

/** Answers $find-subject-molecular-consequences. */
export async function subjectConsequences(s: Session, req: FhirRequest, op: string): Promise<FhirResponse> {
  const params = operationParams(req, op, ['subject', 'variants', 'ranges', 'featureConsequences', ...FILTERS]);
  const patientId = subjectId(required(params, 'subject', op));
  const wanted = wantedTerms(params);
  const variantItems = parseVariantItems(items(params, 'variants'));
  const ranges = items(params, 'ranges').map((t) => parseRange(t));
  if (!variantItems.length && !ranges.length) throw badRequest(`$${op} requires variants or ranges`);
  const studies = await selectStudies(s, params, patientId);
  const byId = new Map(studies.map((st) => [st.id, st]));
  const found = new Map<string, StoredVariant>();
  const named = variantItems.length ? (await callsNamedBy(s.q, studies, variantItems)).calls : [];
  for (const v of [...named, ...(await callsInRanges(s.q, studies, ranges)).calls]) found.set(variantObservationId(v), v);
  const parameter: string[] = [];
  const variants: StoredVariant[] = [];
  for (const v of found.values()) {
    const matching = consequenceObservations(v, byId.get(v.studyId) as GenomicStudy, wanted);
    if (!matching.length) continue;
    variants.push(v);
    parameter.push(...matching.map((resource) => parameterJson({ name: 'consequence', resource })));
  }
  parameter.push(...variantObservationsJson(variants, byId).map((text) => resourceParameterJson('variant', text)));
  return { status: 200, headers: {}, text: parametersJson(parameter) };
}

/** The consequence Observations of one call, ids `{variant}-c{n}` (n = position among its annotations). */
function consequenceObservations(v: StoredVariant, study: GenomicStudy, wanted: ReadonlySet<string>): Observation[] {
  const variantId = variantObservationId(v);
  return v.consequences.flatMap((c, n) => (carries(c, wanted)
    ? [molecularConsequenceObservation(c, { id: variantId }, study, { id: `${variantId}-c${n}` })] : []));
}

/** Answers $find-population-molecular-consequences. */
export async function populationConsequences(s: Session, req: FhirRequest, op: string): Promise<FhirResponse> {
  const params = operationParams(req, op, ['variants', 'featureConsequences', 'genomicSourceClass', 'includePatientList']);
  const asked = conjunctions(params, 'variants');
  if (!asked.length) throw badRequest(`$${op} requires variants`);
  const wanted = wantedTerms(params);
  const includePatients = flag(params, 'includePatientList');
  const studies = await selectStudies(s, params);
  const denominator = new Set(studies.map((st) => st.patientId)).size;
  const carriers = new Map<string, Set<string>>();
  for (const text of new Set(asked.flat())) {
    const [item] = parseVariantItems([text]);
    const found = item ? await variantsAt(s.q, studies, [item]) : [];
    carriers.set(text, new Set(found
      .filter((v) => item && sameAllele(v, item) && v.consequences.some((c) => carries(c, wanted)))
      .map((v) => v.patientId)));
  }
  const parameter: ParametersParameter[] = asked.map((conjunction) => ({
    name: 'consequences',
    part: populationParts(carryingAll(conjunction.map((text) => carriers.get(text) as Set<string>)), denominator, includePatients),
  }));
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter } };
}
