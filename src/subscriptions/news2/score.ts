// National Early Warning Score 2 (NEWS2): the scoring chart and clinical risk bands of
// Royal College of Physicians, "National Early Warning Score (NEWS) 2: Standardising the
// assessment of acute-illness severity in the NHS. Updated report of a working party."
// London: RCP, 2017 — Chart 1 (the NEWS2 scoring system) and Chart 2 (clinical response).
// The band edges below were checked against a transcription of Chart 1 ("NEWS2 Chart 1 - The
// NEWS scoring system", © RCP 2017) and Thorax table 1 (scale 1 / scale 2 SpO2 rows).
//
// Pure functions, no I/O: picking the inputs out of FHIR Observations is inputs.ts's job.
//
// Values between chart rows: the chart is written in the precision the values are charted in —
// whole numbers for rates, pressure and saturation, 0.1 °C for temperature — so an instrument
// value with more precision is first rounded half-up to that precision, the way it would be
// written on the paper chart (36.05 °C → 36.1 → 0 points; 90.5 mmHg → 91 → 2 points). Without
// this, 36.05 would fall in the gap between "35.1–36.0" and "36.1–38.0". Rounding is done on the
// decimal representation so that 36.05 (binary 36.04999…) still rounds up.

/** ACVPU: Alert, new Confusion, responds to Voice, responds to Pain, Unresponsive. */
export type Acvpu = 'A' | 'C' | 'V' | 'P' | 'U';

/** The physiological values NEWS2 scores; any may be undefined when not recorded. */
export interface News2Inputs {
  /** breaths per minute */
  respiratoryRate?: number;
  /** peripheral oxygen saturation, % */
  spo2?: number;
  /** 2 only for patients with a prescribed 88–92 % target (hypercapnic respiratory failure); default 1 */
  spo2Scale?: 1 | 2;
  /** true when on supplemental oxygen, false when on air */
  onSupplementalOxygen?: boolean;
  /** systolic blood pressure, mmHg */
  systolicBp?: number;
  /** pulse, beats per minute */
  heartRate?: number;
  consciousness?: Acvpu;
  /** body temperature, °C */
  temperatureCelsius?: number;
}

/** The seven rows of the chart (SpO2 scale 1 and scale 2 are one row: only one applies). */
export const NEWS2_PARAMETERS = [
  'respiratoryRate',
  'spo2',
  'airOrOxygen',
  'systolicBp',
  'heartRate',
  'consciousness',
  'temperature',
] as const;
export type News2Parameter = (typeof NEWS2_PARAMETERS)[number];

export type News2Band = 'low' | 'low-medium' | 'medium' | 'high';

export interface News2Result {
  total: number;
  /** points per chart row; a missing parameter scores 0 here and is listed in `missing` */
  parameters: Record<News2Parameter, number>;
  missing: News2Parameter[];
  band: News2Band;
  /** a single parameter scored 3 (the RCP "red score") */
  anySingleThree: boolean;
  /** which SpO2 scale was applied */
  spo2Scale: 1 | 2;
}

/** Rounds half-up (towards +∞) to `decimals` places, working on the decimal digits, not the binary value. */
export function roundHalfUp(value: number, decimals: number): number {
  // toPrecision(12) drops binary noise (36.05 is stored as 36.0499999…; 100.4 °F converts to
  // 38.00000000000001 °C); shifting through the exponent keeps the arithmetic exact.
  const [mantissa, exponent = '0'] = value.toPrecision(12).split('e');
  const shifted = Number(`${mantissa}e${Number(exponent) + decimals}`);
  return Number(`${Math.round(shifted)}e${-decimals}`);
}

/** Points for respiration rate (per minute): ≤8:3, 9–11:1, 12–20:0, 21–24:2, ≥25:3. */
export function scoreRespiratoryRate(rate: number): number {
  const r = roundHalfUp(rate, 0);
  if (r <= 8) return 3;
  if (r <= 11) return 1;
  if (r <= 20) return 0;
  if (r <= 24) return 2;
  return 3;
}

/** Points for SpO2 on scale 1 (%): ≤91:3, 92–93:2, 94–95:1, ≥96:0. */
export function scoreSpo2Scale1(spo2: number): number {
  const s = roundHalfUp(spo2, 0);
  if (s <= 91) return 3;
  if (s <= 93) return 2;
  if (s <= 95) return 1;
  return 0;
}

/** Points for SpO2 on scale 2 (%): ≤83:3, 84–85:2, 86–87:1, 88–92 or ≥93 on air:0, 93–94/95–96/≥97 on O2: 1/2/3. */
export function scoreSpo2Scale2(spo2: number, onOxygen: boolean): number {
  const s = roundHalfUp(spo2, 0);
  if (s <= 83) return 3;
  if (s <= 85) return 2;
  if (s <= 87) return 1;
  if (s <= 92) return 0;
  // ≥93: scale 2 penalises over-oxygenation only while oxygen is being given.
  if (!onOxygen) return 0;
  if (s <= 94) return 1;
  if (s <= 96) return 2;
  return 3;
}

/** Points for the "air or oxygen?" row: oxygen 2, air 0. */
export function scoreAirOrOxygen(onOxygen: boolean): number {
  return onOxygen ? 2 : 0;
}

/** Points for systolic blood pressure (mmHg): ≤90:3, 91–100:2, 101–110:1, 111–219:0, ≥220:3. */
export function scoreSystolicBp(systolic: number): number {
  const p = roundHalfUp(systolic, 0);
  if (p <= 90) return 3;
  if (p <= 100) return 2;
  if (p <= 110) return 1;
  if (p <= 219) return 0;
  return 3;
}

/** Points for pulse (per minute): ≤40:3, 41–50:1, 51–90:0, 91–110:1, 111–130:2, ≥131:3. */
export function scoreHeartRate(rate: number): number {
  const r = roundHalfUp(rate, 0);
  if (r <= 40) return 3;
  if (r <= 50) return 1;
  if (r <= 90) return 0;
  if (r <= 110) return 1;
  if (r <= 130) return 2;
  return 3;
}

/** Points for consciousness: Alert 0; new Confusion, Voice, Pain or Unresponsive 3. */
export function scoreConsciousness(level: Acvpu): number {
  return level === 'A' ? 0 : 3;
}

/** Points for temperature (°C): ≤35.0:3, 35.1–36.0:1, 36.1–38.0:0, 38.1–39.0:1, ≥39.1:2. */
export function scoreTemperature(celsius: number): number {
  const t = roundHalfUp(celsius, 1);
  if (t <= 35.0) return 3;
  if (t <= 36.0) return 1;
  if (t <= 38.0) return 0;
  if (t <= 39.0) return 1;
  return 2;
}

// RCP Chart 2: an aggregate of 0–4 is low risk, but a 3 in any single parameter is "low–medium"
// (urgent ward-based response); 5–6 is medium; 7 or more is high.
/** Clinical risk band for an aggregate score (RCP Chart 2). */
export function riskBand(total: number, anySingleThree: boolean): News2Band {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  return anySingleThree ? 'low-medium' : 'low';
}

const BAND_RANK: Record<News2Band, number> = { low: 0, 'low-medium': 1, medium: 2, high: 3 };

/** Orders bands from low (0) to high (3), for detecting a rising band. */
export function bandRank(band: News2Band): number {
  return BAND_RANK[band];
}

// A NaN or infinite number is as good as no measurement.
function present(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

// Missing parameters score 0 and are listed in `missing`. Scale 1 is used unless spo2Scale is 2
// (RCP: scale 2 only for a prescribed 88–92 % target). An unknown air/oxygen state is listed as
// missing and the SpO2 row is then scored as on air: scale 2 scores ≥93 % only when on oxygen, and
// guessing "oxygen" would add points nobody measured.
/** Scores a set of inputs with the RCP NEWS2 chart. */
export function scoreNews2(inputs: News2Inputs): News2Result {
  const spo2Scale = inputs.spo2Scale === 2 ? 2 : 1;
  const onOxygen = inputs.onSupplementalOxygen;
  const parameters: Record<News2Parameter, number> = {
    respiratoryRate: 0,
    spo2: 0,
    airOrOxygen: 0,
    systolicBp: 0,
    heartRate: 0,
    consciousness: 0,
    temperature: 0,
  };
  const missing: News2Parameter[] = [];
  const set = (name: News2Parameter, score: number | undefined): void => {
    if (score === undefined) missing.push(name);
    else parameters[name] = score;
  };

  set('respiratoryRate', present(inputs.respiratoryRate) ? scoreRespiratoryRate(inputs.respiratoryRate) : undefined);
  set(
    'spo2',
    !present(inputs.spo2)
      ? undefined
      : spo2Scale === 2
        ? scoreSpo2Scale2(inputs.spo2, onOxygen === true)
        : scoreSpo2Scale1(inputs.spo2),
  );
  set('airOrOxygen', onOxygen === undefined ? undefined : scoreAirOrOxygen(onOxygen));
  set('systolicBp', present(inputs.systolicBp) ? scoreSystolicBp(inputs.systolicBp) : undefined);
  set('heartRate', present(inputs.heartRate) ? scoreHeartRate(inputs.heartRate) : undefined);
  set('consciousness', inputs.consciousness === undefined ? undefined : scoreConsciousness(inputs.consciousness));
  set(
    'temperature',
    present(inputs.temperatureCelsius) ? scoreTemperature(inputs.temperatureCelsius) : undefined,
  );

  const scores = NEWS2_PARAMETERS.map((name) => parameters[name]);
  const total = scores.reduce((sum, score) => sum + score, 0);
  const anySingleThree = scores.some((score) => score === 3);
  return { total, parameters, missing, band: riskBand(total, anySingleThree), anySingleThree, spo2Scale };
}
