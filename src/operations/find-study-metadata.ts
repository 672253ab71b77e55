// $find-study-metadata — Genomics Reporting IG 3.0.0, OperationDefinition find-study-metadata:
// the subject's genomic tests (one `tests` parameter each: id, date, specimen, build, the kinds
// of DNA change found, the regions studied), filtered by the shared study filters and, with
// `ranges`, to the tests whose studied regions overlap one of them (a test without a BED studied
// the whole genome, and has no regionStudied part). Helix does not record uncallable regions, so that part is never present.
import type { ParametersParameter } from '@medplum/fhirtypes';
import { items, operationParams, required, selectStudies, subjectId } from '../genomics/op-input.js';
import { formatRange, parseRange } from '../genomics/ranges.js';
import { buildConcept, dnaChangeTypeCoding } from '../genomics/resources.js';
import type { GenomicRange, GenomicStudy } from '../genomics/types.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-study-metadata';

/** The $find-study-metadata operation (system level). */
export const findStudyMetadataOperation = genomicsOperation(NAME, async (_ctx, s, req) => {
  const params = operationParams(req, NAME, ['subject', 'testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'ranges']);
  const patientId = subjectId(required(params, 'subject', NAME));
  const ranges = items(params, 'ranges').map((t) => parseRange(t));
  const studies = (await selectStudies(s, params, patientId)).filter((st) => !ranges.length || ranges.some((r) => studied(st, r)));
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter: studies.map(testParameter) } };
});

/** Whether a study looked at any part of a range. */
function studied(st: GenomicStudy, r: GenomicRange): boolean {
  if (st.build !== r.build) return false;
  return !st.regionsStudied || st.regionsStudied.some((g) => g.sequence === r.sequence && g.start < r.end && g.end > r.start);
}

function testParameter(st: GenomicStudy): ParametersParameter {
  const part: ParametersParameter[] = [{ name: 'testId', valueString: st.testIdentifier }];
  if (st.testDate) part.push({ name: 'testDate', valueDateTime: st.testDate });
  if (st.specimenIdentifier) part.push({ name: 'specimenId', valueString: st.specimenIdentifier });
  part.push({ name: 'genomicBuild', valueCodeableConcept: buildConcept(st.build) });
  const kinds = st.changeTypes.flatMap((t) => dnaChangeTypeCoding(t) ?? []);
  if (kinds.length) part.push({ name: 'dnaChangeType', valueCodeableConcept: { coding: kinds } });
  if (st.regionsStudied) part.push({ name: 'regionStudied', valueString: st.regionsStudied.map(formatRange).join(',') });
  return { name: 'tests', part };
}
