// $find-subject-molecular-consequences — Genomics Reporting IG 3.0.0, OperationDefinition find-subject-molecular-consequences:
// the subject's calls named by variants or ranges whose annotations have the wanted Sequence Ontology consequences, as molecular-consequence Observations with their variant Observations.
// Answered by src/genomics/consequences.ts.
import { subjectConsequences } from '../genomics/consequences.js';
import type { OperationDefinitionEntry } from './registry.js';

/** The $find-subject-molecular-consequences operation (system level). */
export const findSubjectMolecularConsequencesOperation: OperationDefinitionEntry = {
  name: 'find-subject-molecular-consequences',
  definition: 'http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/find-subject-molecular-consequences',
  system: true,
  type: false,
  instance: false,
  affectsState: false,
  invoke: (_ctx, s, req) => subjectConsequences(s, req, 'find-subject-molecular-consequences'),
};
