// $find-subject-tx-implications — Genomics Reporting IG 3.0.0, OperationDefinition
// find-subject-tx-implications: the subject's therapeutic implications meeting the filters
// (variants, ranges, haplotypes, treatments, conditions; each filter by any of its items, all
// filters given), each with the genotype, haplotype and variant Observations it is derivedFrom,
// as the definition asks. Answered from the Observations stored in Helix
// (src/genomics/stored-implications.ts) and from Helix's own star-allele calls on the subject's
// GRCh38 studies with CPIC's recommendations (src/genomics/pgx/called-implications.ts).
import { operationParams, required, studyCriteria, subjectId } from '../genomics/op-input.js';

import { findImplications, implicationFilters, implicationParameters } from '../genomics/stored-implications.js';
import { calledImplications } from '../genomics/pgx/called-implications.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-subject-tx-implications';

/** The $find-subject-tx-implications operation (system level). */
export const findSubjectTxImplicationsOperation = genomicsOperation(NAME, async (ctx, s, req) => {
  const params = operationParams(req, NAME, [
    'subject', 'variants', 'ranges', 'haplotypes', 'treatments', 'conditions', 'testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass',
  ]);
  const patientId = subjectId(required(params, 'subject', NAME));
  const filters = implicationFilters(params);
  const study = studyCriteria(params);
  const answer = await findImplications(ctx, s, filters, study, patientId, await calledImplications(ctx, s, study, patientId));
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter: implicationParameters(ctx, answer) } };
});
