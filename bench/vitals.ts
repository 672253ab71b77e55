// Vital-sign Observations as a bedside device would post them (US Vitals / FHIR vital-signs
// profile shape): category vital-signs, a LOINC code, a Patient subject, effectiveDateTime and a
// UCUM valueQuantity — or, for blood pressure, two components.
import type { Observation } from '@medplum/fhirtypes';

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
export const BENCH_PATIENTS = 100;

const category = [{
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }],
  text: 'Vital Signs',
}];

const quantity = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM, code });
const loinc = (code: string, display: string) => ({ coding: [{ system: LOINC, code, display }], text: display });

/** The `seq`-th vital sign: heart rate, blood pressure, SpO2 and temperature in turn; `bump` changes the value. */
export function vitalSign(seq: number, bump = 0): Observation {
  const base: Observation = {
    resourceType: 'Observation',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    status: 'final',
    category,
    code: { text: '' },
    subject: { reference: `Patient/bench-p${seq % BENCH_PATIENTS}` },
    effectiveDateTime: new Date(Date.UTC(2024, 0, 1) + seq * 60_000).toISOString(),
  };
  switch (seq % 4) {
    case 0:
      return { ...base, code: loinc('8867-4', 'Heart rate'), valueQuantity: quantity(60 + ((seq + bump) % 40), 'beats/minute', '/min') };
    case 1:
      return {
        ...base,
        meta: { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] },
        code: loinc('85354-9', 'Blood pressure panel with all children optional'),
        component: [
          { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: quantity(110 + ((seq + bump) % 30), 'mmHg', 'mm[Hg]') },
          { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: quantity(70 + ((seq + bump) % 20), 'mmHg', 'mm[Hg]') },
        ],
      };
    case 2:
      return {
        ...base,
        code: { coding: [{ system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' }, { system: LOINC, code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' }], text: 'SpO2' },
        valueQuantity: quantity(90 + ((seq + bump) % 10), '%', '%'),
      };
    default:
      return { ...base, code: loinc('8310-5', 'Body temperature'), valueQuantity: quantity(36 + ((seq + bump) % 20) / 10, 'Cel', 'Cel') };
  }
}

/** The Patients the vital signs refer to. */
export function benchPatient(i: number): object {
  return { resourceType: 'Patient', id: `bench-p${i}`, active: true, name: [{ family: 'Bench', given: [`P${i}`] }], gender: i % 2 ? 'female' : 'male' };
}
