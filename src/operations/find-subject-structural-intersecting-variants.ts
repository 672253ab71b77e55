// $find-subject-structural-intersecting-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-subject-structural-intersecting-variants
// (http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-subject-structural-intersecting-variants): for each range, the
// subject's structural variants (symbolic or SVTYPE records: deletions, duplications, CNVs…)
// overlapping it.
// Served at [base]/$find-subject-structural-intersecting-variants by GET or POST (Parameters); answered by src/genomics/subject-ranges.ts.
import { answerSubjectRanges } from '../genomics/subject-ranges.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-subject-structural-intersecting-variants operation (system level). */
export const findSubjectStructuralIntersectingVariantsOperation = genomicsOperation('find-subject-structural-intersecting-variants', (_ctx, s, req) => answerSubjectRanges(s, req, 'find-subject-structural-intersecting-variants', 'structural-intersecting'));
