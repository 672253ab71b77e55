// $find-population-structural-subsuming-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-population-structural-subsuming-variants:
// how many patients have a structural variant covering each whole range
// (or every range of a repeated parameter); which ones with includePatientList.
// Served at [base]/$find-population-structural-subsuming-variants by GET or POST (Parameters); answered by src/genomics/population.ts.
import { answerPopulation } from '../genomics/population.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-population-structural-subsuming-variants operation (system level). */
export const findPopulationStructuralSubsumingVariantsOperation = genomicsOperation('find-population-structural-subsuming-variants', (_ctx, s, req) => answerPopulation(s, req, 'find-population-structural-subsuming-variants', 'structural-subsuming'));
