// $find-subject-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-subject-variants
// (http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-subject-variants): for each range, whether the
// subject has variants overlapping it, with the variant Observations (includeVariants) and the
// sequence-phase-relationships among them (includePhasing).
// Served at [base]/$find-subject-variants by GET or POST (Parameters); answered by src/genomics/subject-ranges.ts.
import { answerSubjectRanges } from '../genomics/subject-ranges.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-subject-variants operation (system level). */
export const findSubjectVariantsOperation = genomicsOperation('find-subject-variants', (_ctx, s, req) => answerSubjectRanges(s, req, 'find-subject-variants', 'overlapping'));
