// $find-population-specific-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-population-specific-variants:
// how many patients carry each variant item (SPDI or genomic HGVS), or all items of a
// repeated parameter, out of the patients with genomic data; which ones with includePatientList.
// Served at [base]/$find-population-specific-variants by GET or POST (Parameters); answered by src/genomics/population.ts.
import { answerPopulation } from '../genomics/population.js';
import type { OperationDefinitionEntry } from './registry.js';

/** The $find-population-specific-variants operation (system level). */
export const findPopulationSpecificVariantsOperation: OperationDefinitionEntry = {
  name: 'find-population-specific-variants',
  definition: 'http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-population-specific-variants',
  system: true,
  type: false,
  instance: false,
  affectsState: false,
  invoke: (_ctx, s, req) => answerPopulation(s, req, 'find-population-specific-variants', 'specific'),
};
