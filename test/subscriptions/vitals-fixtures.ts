// Vital-sign Observations for the NEWS2 tests, written the way devices post them.
import type { Observation, Quantity } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';

/** A UCUM quantity whose unit is its code. */
export const qty = (value: number, code: string): Quantity => ({ value, unit: code, system: UCUM, code });

/** A final Observation of Patient/p1 coded in LOINC, taken on 2024-03-01 at `time` (UTC). */
export function obs(id: string, code: string, time: string, rest: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: `2024-03-01T${time}Z`,
    ...rest,
  };
}
