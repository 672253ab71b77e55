// The resources describing one imported genomic test, per the HL7 Genomics Reporting IG 3.0.0: the
// `genomic-study` Procedure and the `genomic-report` DiagnosticReport that points to it.
import type { DiagnosticReport, Extension, Procedure } from '@medplum/fhirtypes';
import type { GenomicStudy } from './types.js';
import { buildConcept, GENETICS, GENOMICS, LABORATORY, loinc, patientReference } from './variant-observation.js';

// Local id of the analysis contained in the study Procedure.
const ANALYSIS = 'analysis';

/**
 * The IG `genomic-study` Procedure of a study (id: the study's unless `opts.id`), identified by the
 * lab's test identifier. The IG records the genome build and specimen on a `genomic-study-analysis`
 * Procedure the study references; Helix has one analysis per study and no id of its own for it,
 * so the analysis is contained.
 */
export function genomicStudyProcedure(study: GenomicStudy, opts: { id?: string } = {}): Procedure {
  const performed = study.testDate ? { performedDateTime: study.testDate } : {};
  const analysisExtensions: Extension[] = [{ url: GENOMICS.genomeBuildExtension, valueCodeableConcept: buildConcept(study.build) }];
  if (study.specimenIdentifier) {
    // Only the lab's specimen identifier is known, so the Specimen is referenced logically.
    analysisExtensions.push({ url: GENOMICS.specimenExtension, valueReference: { identifier: { value: study.specimenIdentifier } } });
  }
  const analysis: Procedure = {
    resourceType: 'Procedure',
    id: ANALYSIS,
    meta: { profile: [GENOMICS.genomicStudyAnalysis] },
    extension: analysisExtensions,
    status: 'completed',
    category: { coding: [LABORATORY] },
    subject: patientReference(study),
    ...performed,
  };
  return {
    resourceType: 'Procedure',
    id: opts.id ?? study.id,
    meta: { profile: [GENOMICS.genomicStudy] },
    contained: [analysis],
    extension: [{ url: GENOMICS.analysisExtension, valueReference: { reference: `#${ANALYSIS}` } }],
    identifier: [{ value: study.testIdentifier }],
    status: 'completed',
    category: { coding: [LABORATORY] },
    subject: patientReference(study),
    ...performed,
  };
}

/**
 * The IG `genomic-report` DiagnosticReport of a study (id: the study's reportId unless `opts.id`),
 * referring to the study Procedure and to the result Observations with the given ids.
 */
export function genomicReport(study: GenomicStudy, opts: { id?: string; resultIds: string[] }): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport',
    id: opts.id ?? study.reportId,
    meta: { profile: [GENOMICS.genomicReport] },
    extension: [{ url: GENOMICS.studyReferenceExtension, valueReference: { reference: `Procedure/${study.id}` } }],
    identifier: [{ value: study.testIdentifier }],
    status: 'final',
    category: [{ coding: [GENETICS] }],
    code: loinc('51969-4', 'Genetic analysis report'),
    subject: patientReference(study),
    ...(study.testDate ? { effectiveDateTime: study.testDate } : {}),
    // FHIR JSON has no empty arrays: a report without results leaves `result` out.
    ...(opts.resultIds.length ? { result: opts.resultIds.map((id) => ({ reference: `Observation/${id}` })) } : {}),
  };
}
