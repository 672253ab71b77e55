// $find-population-molecular-consequences — Genomics Reporting IG 3.0.0, OperationDefinition find-population-molecular-consequences:
// how many patients carry each variant (or all variants of a repeated parameter) with the wanted consequence; which ones with includePatientList.
// Answered by src/genomics/consequences.ts.
import { populationConsequences } from '../genomics/consequences.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-population-molecular-consequences operation (system level). */
export const findPopulationMolecularConsequencesOperation = genomicsOperation('find-population-molecular-consequences', (_ctx, s, req) => populationConsequences(s, req, 'find-population-molecular-consequences'));
