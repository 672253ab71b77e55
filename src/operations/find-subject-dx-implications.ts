// $find-subject-dx-implications — Genomics Reporting IG 3.0.0, OperationDefinition find-subject-dx-implications:
// the subject's calls (named by variants or ranges, or all) that carry an allele ClinVar classifies, optionally for
// given conditions, as diagnostic-implication Observations with the variant Observations they derive from.
// Served at [base]/$find-subject-dx-implications by GET or POST (Parameters); answered by src/genomics/dx-implications.ts.
import { subjectDxImplications } from '../genomics/dx-implications.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-subject-dx-implications operation (system level). */
export const findSubjectDxImplicationsOperation = genomicsOperation('find-subject-dx-implications', (_ctx, s, req) => subjectDxImplications(s, req, 'find-subject-dx-implications'));
