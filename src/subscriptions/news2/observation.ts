// Builds the FHIR R4 Observation that records a NEWS2 score.
//
// Codes (SNOMED CT UK edition, checked with the search tool):
// - total: 1104051000000101 "Royal College of Physicians NEWS2 (National Early Warning Score 2)
//   total score" — as fixed by the Yorkshire & Humber care record IG (InterweaveObservationNEWS2Score),
//   used in the Synanetics emergency-department IG examples and NHS England's virtual ward
//   Observation guidance ("Total NEWS2 Score ... SCTID: 1104051000000101").
// - sub-scores: the UK Core EarlyWarningSubScore value set (HL7 UK, 2023) lists the eight
//   "Royal College of Physicians National Early Warning Score 2 - … score" concepts used below.
// Category survey and valueInteger follow the NHS England guidance; the UK Core profile prefers a
// valueQuantity with {ScoreOf} — valueInteger keeps search and comparison simple for Helix.
import type { Annotation, CodeableConcept, Observation, ObservationComponent, Patient, Reference } from '@medplum/fhirtypes';
import type { News2Band, News2Parameter, News2Result } from './score.js';
import { NEWS2_PARAMETERS } from './score.js';

const SNOMED = 'http://snomed.info/sct';

export const NEWS2_TOTAL_CODE = '1104051000000101';
export const NEWS2_TOTAL_DISPLAY = 'Royal College of Physicians NEWS2 (National Early Warning Score 2) total score';

/** Helix's code system for the RCP clinical risk bands (no standard code distinguishes low–medium). */
export const NEWS2_RISK_SYSTEM = 'https://helix-fhir.org/fhir/CodeSystem/news2-risk';

export const NEWS2_RISK_DISPLAY: Record<News2Band, string> = {
  low: 'Low clinical risk (NEWS2 0–4)',
  'low-medium': 'Low–medium clinical risk (a score of 3 in a single parameter)',
  medium: 'Medium clinical risk (NEWS2 5–6)',
  high: 'High clinical risk (NEWS2 7 or more)',
};

const RCP = 'Royal College of Physicians National Early Warning Score 2 - ';
// SpO2 has two concepts: which one applies depends on the scale used.
const SUB_SCORE: Record<Exclude<News2Parameter, 'spo2'>, [string, string]> = {
  respiratoryRate: ['1104301000000104', `${RCP}respiration rate score`],
  airOrOxygen: ['1104331000000105', `${RCP}air or oxygen score`],
  systolicBp: ['1104341000000101', `${RCP}systolic blood pressure score`],
  heartRate: ['1104351000000103', `${RCP}pulse score`],
  consciousness: ['1104361000000100', `${RCP}consciousness score`],
  temperature: ['1104371000000107', `${RCP}temperature score`],
};
const SPO2_SUB_SCORE: Record<1 | 2, [string, string]> = {
  1: ['1104311000000102', `${RCP}oxygen saturation scale 1 score`],
  2: ['1104321000000108', `${RCP}oxygen saturation scale 2 score`],
};

const PARAMETER_LABEL: Record<News2Parameter, string> = {
  respiratoryRate: 'respiration rate',
  spo2: 'oxygen saturation',
  airOrOxygen: 'air or oxygen',
  systolicBp: 'systolic blood pressure',
  heartRate: 'pulse',
  consciousness: 'consciousness',
  temperature: 'temperature',
};

export interface News2ObservationOptions {
  /** the patient, as a Reference or a 'Patient/<id>' string */
  subject: Reference<Patient> | string;
  /** when the score applies (the `at` the inputs were picked for) */
  at: Date | string;
  /** the input Observations (PickedNews2Inputs.derivedFrom) */
  derivedFrom?: Reference<Observation>[];
}

function concept(system: string, [code, display]: [string, string]): CodeableConcept {
  return { coding: [{ system, code, display }], text: display };
}

/** Human-readable list of the parameters a result is missing ("respiration rate, temperature"). */
export function describeMissing(missing: readonly News2Parameter[]): string {
  return missing.map((name) => PARAMETER_LABEL[name]).join(', ');
}

/** Builds the NEWS2 score Observation (FHIR R4 JSON) for a result. */
export function buildNews2Observation(result: News2Result, options: News2ObservationOptions): Observation {
  const subject: Reference<Patient> =
    typeof options.subject === 'string' ? { reference: options.subject } : options.subject;
  const effectiveDateTime = typeof options.at === 'string' ? options.at : options.at.toISOString();
  const missing = new Set(result.missing);

  const component: ObservationComponent[] = NEWS2_PARAMETERS.map((name) => {
    const code = concept(SNOMED, name === 'spo2' ? SPO2_SUB_SCORE[result.spo2Scale] : SUB_SCORE[name]);
    // A parameter with no value in the window: say so rather than record a 0 nobody measured.
    if (missing.has(name)) {
      return {
        code,
        dataAbsentReason: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown', display: 'Unknown' }],
        },
      };
    }
    return { code, valueInteger: result.parameters[name] };
  });

  const note: Annotation[] =
    result.missing.length === 0
      ? []
      : [{ text: `Not recorded within the scoring window, scored 0: ${describeMissing(result.missing)}.` }];

  const observation: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' },
        ],
      },
    ],
    code: concept(SNOMED, [NEWS2_TOTAL_CODE, NEWS2_TOTAL_DISPLAY]),
    subject,
    effectiveDateTime,
    valueInteger: result.total,
    interpretation: [
      {
        coding: [{ system: NEWS2_RISK_SYSTEM, code: result.band, display: NEWS2_RISK_DISPLAY[result.band] }],
        text: NEWS2_RISK_DISPLAY[result.band],
      },
    ],
    component,
  };
  if (options.derivedFrom !== undefined && options.derivedFrom.length > 0) observation.derivedFrom = options.derivedFrom;
  if (note.length > 0) observation.note = note;
  return observation;
}
