// The subject range operations of the Genomics Reporting IG 3.0.0 — find-subject-variants and
// find-subject-structural-intersecting/subsuming-variants: for each range item, whether the
// subject has a variant there (presence) and, with includeVariants, the variant Observations;
// find-subject-variants can add the sequence-phase-relationships among them (includePhasing).
import { FhirError, badRequest } from '../fhir/errors.js';
import type { FhirRequest, FhirResponse, Session } from '../fhir/types.js';
import { phaseRelationships, variantObservationsJson } from './emit.js';
import { flag, items, operationParams, required, selectStudies, studiesOnBuild, subjectId } from './op-input.js';
import { parameterJson, parametersJson, partsParameterJson, resourceParameterJson } from './parameters-json.js';
import { formatRange, parseRange } from './ranges.js';
import { variantsInRange } from './variant-store.js';

/** Which variants answer a range. */
export type RangeQuestion = 'overlapping' | 'structural-intersecting' | 'structural-subsuming';

/** Variant Observations one range may return; a larger answer is refused rather than truncated. */
export const MAX_VARIANTS_PER_RANGE = 10_000;

const FILTERS = ['subject', 'ranges', 'testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass', 'includeVariants'];

/** Answers one of the subject range operations. */
export async function answerSubjectRanges(s: Session, req: FhirRequest, op: string, question: RangeQuestion): Promise<FhirResponse> {
  const phasingAllowed = question === 'overlapping';
  const params = operationParams(req, op, phasingAllowed ? [...FILTERS, 'includePhasing'] : FILTERS);
  const patientId = subjectId(required(params, 'subject', op));
  const ranges = items(params, 'ranges').map((t) => parseRange(t));
  if (ranges.length === 0) throw badRequest(`$${op} requires ranges`);
  const includeVariants = flag(params, 'includeVariants');
  const includePhasing = phasingAllowed && flag(params, 'includePhasing');
  const studies = await selectStudies(s, params, patientId);
  const byId = new Map(studies.map((st) => [st.id, st]));
  const parameter: string[] = [];
  for (const range of ranges) {
    const onBuild = studiesOnBuild(studies, range.build, `Range ${formatRange(range)}`);
    // Presence alone needs one row; the variants themselves are bounded by the cap (+1 to notice it).
    const limit = includeVariants || includePhasing || question === 'structural-subsuming' ? MAX_VARIANTS_PER_RANGE + 1 : 1;
    let found = await variantsInRange(s.q, onBuild, range, question !== 'overlapping', limit);
    if (question === 'structural-subsuming') found = found.filter((v) => v.start <= range.start && v.end >= range.end);
    if (found.length > MAX_VARIANTS_PER_RANGE) {
      throw new FhirError(422, [{ severity: 'error', code: 'too-costly', diagnostics: `${formatRange(range)} holds more than ${MAX_VARIANTS_PER_RANGE} variants of the subject; ask for smaller ranges` }]);
    }
    // As JSON text: a 1 Mb range holds ~1,350 variant Observations (~4.7 MB of JSON).
    const part = [
      parameterJson({ name: 'rangeItem', valueString: formatRange(range) }),
      parameterJson({ name: 'presence', valueBoolean: found.length > 0 }),
    ];
    if (includeVariants) for (const text of variantObservationsJson(found, byId)) part.push(resourceParameterJson('variant', text));
    if (includePhasing) for (const resource of phaseRelationships(found, byId)) part.push(parameterJson({ name: 'sequencePhaseRelationship', resource }));
    parameter.push(partsParameterJson('variants', part));
  }
  return { status: 200, headers: {}, text: parametersJson(parameter) };
}
