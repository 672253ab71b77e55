// $find-subject-structural-subsuming-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-subject-structural-subsuming-variants
// (http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-subject-structural-subsuming-variants): for each range, the subject's
// structural variants that cover the whole range.
// Served at [base]/$find-subject-structural-subsuming-variants by GET or POST (Parameters); answered by src/genomics/subject-ranges.ts.
import { answerSubjectRanges } from '../genomics/subject-ranges.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-subject-structural-subsuming-variants operation (system level). */
export const findSubjectStructuralSubsumingVariantsOperation = genomicsOperation('find-subject-structural-subsuming-variants', (_ctx, s, req) => answerSubjectRanges(s, req, 'find-subject-structural-subsuming-variants', 'structural-subsuming'));
