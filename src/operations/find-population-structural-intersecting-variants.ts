// $find-population-structural-intersecting-variants — Genomics Reporting IG 3.0.0, OperationDefinition find-population-structural-intersecting-variants:
// how many patients have a structural variant overlapping each range
// (or every range of a repeated parameter); which ones with includePatientList.
// Served at [base]/$find-population-structural-intersecting-variants by GET or POST (Parameters); answered by src/genomics/population.ts.
import { answerPopulation } from '../genomics/population.js';
import type { OperationDefinitionEntry } from './registry.js';

/** The $find-population-structural-intersecting-variants operation (system level). */
export const findPopulationStructuralIntersectingVariantsOperation: OperationDefinitionEntry = {
  name: 'find-population-structural-intersecting-variants',
  definition: 'http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-population-structural-intersecting-variants',
  system: true,
  type: false,
  instance: false,
  affectsState: false,
  invoke: (_ctx, s, req) => answerPopulation(s, req, 'find-population-structural-intersecting-variants', 'structural-intersecting'),
};
