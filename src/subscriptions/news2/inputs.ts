// Picks NEWS2 inputs out of a patient's FHIR R4 Observations: for each parameter the latest value
// whose effective time lies in [at − window, at]. Pure: the caller fetches the Observations.
//
// Accepted codes (LOINC = http://loinc.org, SCT = http://snomed.info/sct):
//   respiration rate   LOINC 9279-1, valueQuantity in /min (UCUM annotations such as {breaths}/min ok)
//   SpO2               LOINC 2708-6 or 59408-5, valueQuantity in %
//   pulse              LOINC 8867-4, valueQuantity in /min
//   temperature        LOINC 8310-5, valueQuantity in Cel or [degF] (or, with no UCUM code, unit °C/°F);
//                      °F → (F − 32) × 5/9
//   systolic BP        LOINC 8480-6 as Observation.code or as a component (normally of the
//                      85354-9 blood pressure panel), valueQuantity in mm[Hg]
//   consciousness      Observation.code LOINC 67775-7 "Level of responsiveness" or SCT
//                      1104441000000107 "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score"
//                      with valueCodeableConcept — see ACVPU_ANSWERS below
//   air or oxygen      LOINC 3150-0 "Inhaled oxygen concentration" (> 21 % → oxygen, ≤ 21 % → air;
//                      UCUM '1' or a unitless value ≤ 1 is a fraction, so > 0.21) and LOINC 3151-8
//                      "Inhaled oxygen flow rate" (> 0 → oxygen, 0 → air; any flow unit), either as
//                      Observation.code or as a component of an SpO2 Observation (as in the US Core
//                      pulse oximetry profile). No such evidence in the window → unknown.
// A quantity with no UCUM code (and no unit) is taken to be in the expected unit; one in another
// unit is skipped rather than guessed at. Quantity comparators (<, >) are ignored.
import type { CodeableConcept, Coding, Goal, Observation, Quantity, Reference, Resource } from '@medplum/fhirtypes';
import type { Acvpu, News2Inputs, News2Parameter } from './score.js';

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';

export const DEFAULT_WINDOW_MS = 60 * 60 * 1000;

// Answer codes mapped to ACVPU. Sources, checked with the search tool:
// - LOINC LA9340-6 Alert, LA17108-4 Verbal, LA17107-6 Painful, LA9343-0 Unresponsive: the value
//   set the HL7 CDA EMS patient care report (MDHT emspcr LevelOfResponsiveness) binds to 67775-7;
//   LA9343-0 = "Unresponsive" on loinc.org/LL3830-8. LA6560-2 "Confused" (the GCS verbal answer)
//   is used for C with 67775-7 by the Belgian TOTeM telemonitoring IG.
// - SCT 248234008 Mentally alert, 130987000 Acute confusion, 300202002 Responds to voice,
//   450847001 Responds to pain, 422768004 Unresponsive: HL7 UK CareConnect-ACVPU-1 value set.
// Not used as an answer: SCT 1104441000000107, which is the ACVPU scale *observable* (the
// question), not "new confusion"; it is accepted as an Observation.code instead.
const ACVPU_ANSWERS: Record<string, Record<string, Acvpu>> = {
  [LOINC]: { 'LA9340-6': 'A', 'LA6560-2': 'C', 'LA17108-4': 'V', 'LA17107-6': 'P', 'LA9343-0': 'U' },
  [SNOMED]: { '248234008': 'A', '130987000': 'C', '300202002': 'V', '450847001': 'P', '422768004': 'U' },
};
const ACVPU_LETTERS = new Set<string>(['A', 'C', 'V', 'P', 'U']);

const SPO2_CODES = ['2708-6', '59408-5'];
const FIO2 = '3150-0';
const O2_FLOW = '3151-8';

/** The picked inputs plus the Observations each one came from. */
export interface PickedNews2Inputs {
  inputs: News2Inputs;
  /** `Observation/<id>` of the Observation each parameter came from (absent when it has no id) */
  sources: Partial<Record<News2Parameter, string>>;
  /** the distinct Observations used, for the score Observation's derivedFrom */
  derivedFrom: Reference<Observation>[];
}

export interface PickOptions {
  /** look-back window in ms; default 1 hour */
  windowMs?: number;
  /** the patient has a recorded 88–92 % SpO2 target: use SpO2 scale 2 (see hasHypercapnicTarget) */
  hypercapnicTarget?: boolean;
}

interface Candidate<T> {
  value: T;
  time: number;
  observation: Observation;
}

/** True when a CodeableConcept carries the given system and code. */
export function hasCoding(concept: CodeableConcept | undefined, system: string, codes: readonly string[]): boolean {
  return concept?.coding?.some((c) => c.system === system && c.code !== undefined && codes.includes(c.code)) ?? false;
}

/** The clinically relevant time of an Observation in epoch ms, or undefined when it has none. */
export function effectiveTime(observation: Observation): number | undefined {
  const when =
    observation.effectiveDateTime ??
    observation.effectiveInstant ??
    observation.effectivePeriod?.end ??
    observation.effectivePeriod?.start ??
    observation.issued;
  if (when === undefined) return undefined;
  const ms = Date.parse(when);
  return Number.isNaN(ms) ? undefined : ms;
}

// The number in a quantity when its unit is one of `units` (or it has no unit at all).
function quantityIn(quantity: Quantity | undefined, units: readonly string[]): number | undefined {
  if (quantity?.value === undefined || !Number.isFinite(quantity.value)) return undefined;
  const unit = unitOf(quantity);
  if (unit !== undefined && !units.includes(unit)) return undefined;
  return quantity.value;
}

function unitOf(quantity: Quantity): string | undefined {
  if (quantity.code !== undefined && (quantity.system === undefined || quantity.system === UCUM)) return quantity.code;
  return quantity.unit;
}

const PER_MINUTE = /^(\{[^}]*\})?\/min$/;
function perMinute(quantity: Quantity | undefined): number | undefined {
  if (quantity?.value === undefined || !Number.isFinite(quantity.value)) return undefined;
  const unit = unitOf(quantity);
  return unit === undefined || PER_MINUTE.test(unit) ? quantity.value : undefined;
}

/** Degrees Celsius from a Cel or [degF] quantity; undefined for other units. */
export function celsius(quantity: Quantity | undefined): number | undefined {
  if (quantity?.value === undefined || !Number.isFinite(quantity.value)) return undefined;
  const unit = unitOf(quantity);
  if (unit === undefined || unit === 'Cel' || unit === '°C') return quantity.value;
  if (unit === '[degF]' || unit === '°F') return ((quantity.value - 32) * 5) / 9;
  return undefined;
}

// Whether an inhaled-oxygen quantity (3150-0 or 3151-8) means the patient is on oxygen.
function oxygenFrom(code: CodeableConcept, quantity: Quantity | undefined): boolean | undefined {
  if (quantity?.value === undefined || !Number.isFinite(quantity.value)) return undefined;
  if (hasCoding(code, LOINC, [O2_FLOW])) return quantity.value > 0;
  if (!hasCoding(code, LOINC, [FIO2])) return undefined;
  const unit = unitOf(quantity);
  const fraction = unit === '1' || (unit === undefined && quantity.value <= 1);
  if (!fraction && unit !== undefined && unit !== '%') return undefined;
  return fraction ? quantity.value > 0.21 : quantity.value > 21;
}

/** ACVPU level from a consciousness answer, or undefined when it is not one we recognise. */
export function acvpuFrom(answer: CodeableConcept | undefined): Acvpu | undefined {
  for (const coding of answer?.coding ?? []) {
    const level = acvpuFromCoding(coding);
    if (level !== undefined) return level;
  }
  const text = answer?.text?.trim();
  return text !== undefined && ACVPU_LETTERS.has(text) ? (text as Acvpu) : undefined;
}

function acvpuFromCoding(coding: Coding): Acvpu | undefined {
  if (coding.code === undefined) return undefined;
  const mapped = coding.system === undefined ? undefined : ACVPU_ANSWERS[coding.system]?.[coding.code];
  if (mapped !== undefined) return mapped;
  return ACVPU_LETTERS.has(coding.code) ? (coding.code as Acvpu) : undefined;
}

// Newer wins; equal times fall back to meta.lastUpdated, then id, so input order never matters.
function newer(a: Candidate<unknown>, b: Candidate<unknown>): boolean {
  if (a.time !== b.time) return a.time > b.time;
  const aUpdated = a.observation.meta?.lastUpdated ?? '';
  const bUpdated = b.observation.meta?.lastUpdated ?? '';
  if (aUpdated !== bUpdated) return aUpdated > bUpdated;
  return (a.observation.id ?? '') > (b.observation.id ?? '');
}

class Latest<T> {
  best: Candidate<T> | undefined;
  offer(candidate: Candidate<T> | undefined): void {
    if (candidate !== undefined && (this.best === undefined || newer(candidate, this.best))) this.best = candidate;
  }
}

const IGNORED_STATUS = new Set(['entered-in-error', 'cancelled']);

/** Picks the latest value of each NEWS2 parameter within [at − window, at] from a patient's Observations. */
export function pickNews2Inputs(
  observations: readonly Observation[],
  at: Date | string,
  options: PickOptions = {},
): PickedNews2Inputs {
  const end = typeof at === 'string' ? Date.parse(at) : at.getTime();
  const start = end - (options.windowMs ?? DEFAULT_WINDOW_MS);
  const rr = new Latest<number>();
  const spo2 = new Latest<number>();
  const hr = new Latest<number>();
  const temp = new Latest<number>();
  const sbp = new Latest<number>();
  const avpu = new Latest<Acvpu>();
  const oxygen = new Latest<boolean>();

  for (const observation of observations) {
    if (IGNORED_STATUS.has(observation.status)) continue;
    const time = effectiveTime(observation);
    if (time === undefined || time < start || time > end) continue;
    const code = observation.code;
    const q = observation.valueQuantity;
    const candidate = <T>(value: T | undefined): Candidate<T> | undefined =>
      value === undefined ? undefined : { value, time, observation };

    if (hasCoding(code, LOINC, ['9279-1'])) rr.offer(candidate(perMinute(q)));
    if (hasCoding(code, LOINC, ['8867-4'])) hr.offer(candidate(perMinute(q)));
    if (hasCoding(code, LOINC, SPO2_CODES)) spo2.offer(candidate(quantityIn(q, ['%'])));
    if (hasCoding(code, LOINC, ['8310-5'])) temp.offer(candidate(celsius(q)));
    if (hasCoding(code, LOINC, ['8480-6'])) sbp.offer(candidate(quantityIn(q, ['mm[Hg]'])));
    if (hasCoding(code, LOINC, ['67775-7']) || hasCoding(code, SNOMED, ['1104441000000107'])) {
      avpu.offer(candidate(acvpuFrom(observation.valueCodeableConcept)));
    }
    oxygen.offer(candidate(oxygenFrom(code, q)));
    for (const component of observation.component ?? []) {
      if (hasCoding(component.code, LOINC, ['8480-6'])) {
        sbp.offer(candidate(quantityIn(component.valueQuantity, ['mm[Hg]'])));
      }
      oxygen.offer(candidate(oxygenFrom(component.code, component.valueQuantity)));
    }
  }

  const inputs: News2Inputs = {
    respiratoryRate: rr.best?.value,
    spo2: spo2.best?.value,
    spo2Scale: options.hypercapnicTarget === true ? 2 : 1,
    onSupplementalOxygen: oxygen.best?.value,
    systolicBp: sbp.best?.value,
    heartRate: hr.best?.value,
    consciousness: avpu.best?.value,
    temperatureCelsius: temp.best?.value,
  };
  const picked: [News2Parameter, Latest<unknown>][] = [
    ['respiratoryRate', rr],
    ['spo2', spo2],
    ['airOrOxygen', oxygen],
    ['systolicBp', sbp],
    ['heartRate', hr],
    ['consciousness', avpu],
    ['temperature', temp],
  ];
  const sources: Partial<Record<News2Parameter, string>> = {};
  const derivedFrom: Reference<Observation>[] = [];
  for (const [name, latest] of picked) {
    const id = latest.best?.observation.id;
    if (id === undefined) continue;
    const reference = `Observation/${id}`;
    sources[name] = reference;
    if (!derivedFrom.some((r) => r.reference === reference)) derivedFrom.push({ reference });
  }
  return { inputs, sources, derivedFrom };
}

// The prescribed 88–92 % target that puts a patient on SpO2 scale 2. There is no standard code for
// "target saturation", so Helix recognises the target where FHIR R4 naturally puts it:
// - a Goal (lifecycleStatus active or accepted) with a target whose measure is SpO2 (LOINC 59408-5
//   or 2708-6) and whose detailRange is 88–92 %, or two such targets with detailQuantity ≥ 88 %
//   and ≤ 92 % (a single detailQuantity cannot state a range);
// - an SpO2 Observation (not entered-in-error/cancelled) carrying a referenceRange of 88–92 %
//   typed http://terminology.hl7.org/CodeSystem/referencerange-meaning#treatment.
// Which resources to pass (the patient's, current ones) is the caller's decision.
const REFERENCE_RANGE_MEANING = 'http://terminology.hl7.org/CodeSystem/referencerange-meaning';
const ACTIVE_GOAL = new Set(['active', 'accepted']);

function percent(quantity: Quantity | undefined): number | undefined {
  return quantityIn(quantity, ['%']);
}

function is88to92(low: Quantity | undefined, high: Quantity | undefined): boolean {
  return percent(low) === 88 && percent(high) === 92;
}

function goalHasTarget(goal: Goal): boolean {
  if (!ACTIVE_GOAL.has(goal.lifecycleStatus)) return false;
  const targets = (goal.target ?? []).filter((t) => hasCoding(t.measure, LOINC, SPO2_CODES));
  if (targets.some((t) => t.detailRange !== undefined && is88to92(t.detailRange.low, t.detailRange.high))) return true;
  const bound = (comparator: string, value: number): boolean =>
    targets.some((t) => t.detailQuantity?.comparator === comparator && percent(t.detailQuantity) === value);
  return bound('>=', 88) && bound('<=', 92);
}

function observationHasTarget(observation: Observation): boolean {
  if (IGNORED_STATUS.has(observation.status) || !hasCoding(observation.code, LOINC, SPO2_CODES)) return false;
  return (observation.referenceRange ?? []).some(
    (range) => hasCoding(range.type, REFERENCE_RANGE_MEANING, ['treatment']) && is88to92(range.low, range.high),
  );
}

/** True when a Goal or Observation among `resources` records a prescribed 88–92 % SpO2 target. */
export function hasHypercapnicTarget(resources: readonly Resource[]): boolean {
  return resources.some(
    (resource) =>
      (resource.resourceType === 'Goal' && goalHasTarget(resource)) ||
      (resource.resourceType === 'Observation' && observationHasTarget(resource)),
  );
}
