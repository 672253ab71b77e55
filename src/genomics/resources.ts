// The FHIR resources Helix emits for clinical genomics (HL7 Genomics Reporting IG 3.0.0), each
// claiming its IG profile: the Observations about variants (variant-observation.ts) and the study
// Procedure and report (study-resources.ts), and the diagnostic implications of ClinVar alleles
// (implication-observation.ts). Import the builders from here.
export {
  buildConcept,
  changeTypeOf,
  dnaChangeTypeCoding,
  GENOMICS,
  molecularConsequenceObservation,
  sequenceOntologyCoding,
  sequencePhaseRelationship,
  variantObservation,
  variantObservationJson,
} from './variant-observation.js';
export { genomicReport, genomicStudyProcedure } from './study-resources.js';
export { diagnosticImplicationObservation } from './implication-observation.js';
