// $find-subject-molecular-consequences — Genomics Reporting IG 3.0.0, OperationDefinition find-subject-molecular-consequences:
// the subject's calls named by variants or ranges whose annotations have the wanted Sequence Ontology consequences, as molecular-consequence Observations with their variant Observations.
// Answered by src/genomics/consequences.ts.
import { subjectConsequences } from '../genomics/consequences.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-subject-molecular-consequences operation (system level). */
export const findSubjectMolecularConsequencesOperation = genomicsOperation('find-subject-molecular-consequences', (_ctx, s, req) => subjectConsequences(s, req, 'find-subject-molecular-consequences'));
