// $find-population-specific-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-population-specific-variants:
// how many patients carry each variant item (SPDI or genomic HGVS), or all items of a
// repeated parameter, out of the patients with genomic data; which ones with includePatientList.
// Served at [base]/$find-population-specific-variants by GET or POST (Parameters); answered by src/genomics/population.ts.
import { answerPopulation } from '../genomics/population.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-population-specific-variants operation (system level). */
export const findPopulationSpecificVariantsOperation = genomicsOperation('find-population-specific-variants', (_ctx, s, req) => answerPopulation(s, req, 'find-population-specific-variants', 'specific'));
