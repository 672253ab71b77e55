// $find-population-molecular-consequences — Genomics Reporting IG 3.0.0, OperationDefinition find-population-molecular-consequences:
// how many patients carry each variant (or all variants of a repeated parameter) with the wanted consequence; which ones with includePatientList.
// Answered by src/genomics/consequences.ts.
import { populationConsequences } from '../genomics/consequences.js';
import type { OperationDefinitionEntry } from './registry.js';

/** The $find-population-molecular-consequences operation (system level). */
export const findPopulationMolecularConsequencesOperation: OperationDefinitionEntry = {
  name: 'find-population-molecular-consequences',
  definition: 'http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-population-molecular-consequences',
  system: true,
  type: false,
  instance: false,
  affectsState: false,
  invoke: (_ctx, s, req) => populationConsequences(s, req, 'find-population-molecular-consequences'),
};
