// $find-population-structural-intersecting-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-population-structural-intersecting-variants:
// how many patients have a structural variant overlapping each range
// (or every range of a repeated parameter); which ones with includePatientList.
// Served at [base]/$find-population-structural-intersecting-variants by GET or POST (Parameters); answered by src/genomics/population.ts.
import { answerPopulation } from '../genomics/population.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-population-structural-intersecting-variants operation (system level). */
export const findPopulationStructuralIntersectingVariantsOperation = genomicsOperation('find-population-structural-intersecting-variants', (_ctx, s, req) => answerPopulation(s, req, 'find-population-structural-intersecting-variants', 'structural-intersecting'));
