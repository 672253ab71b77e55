// Micro benchmark of search-index extraction on the write path: µs per vital-sign Observation.
// Run: node --import tsx bench/extract-bench.ts
import type { Observation } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { createIndexExtractor } from '../src/search/extract.js';

const WARMUP = 10_000;
const ROUNDS = 7;
const ITERATIONS = 5_000;

function vitalSign(i: number): Observation {
  return {
    resourceType: 'Observation',
    id: `bench-${i}`,
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' },
        ],
      },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
    subject: { reference: `Patient/p${i % 100}` },
    encounter: { reference: `Encounter/e${i % 1000}` },
    effectiveDateTime: '2021-03-04T10:20:30+02:00',
    issued: '2021-03-04T10:25:00.123+02:00',
    performer: [{ reference: 'Practitioner/dr-1' }],
    valueQuantity: { value: 60 + (i % 40), unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

function bloodPressure(i: number): Observation {
  const component = (code: string, value: number): NonNullable<Observation['component']>[number] => ({
    code: { coding: [{ system: 'http://loinc.org', code }] },
    valueQuantity: { value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  });
  return {
    ...vitalSign(i),
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }] },
    valueQuantity: undefined,
    component: [component('8480-6', 110 + (i % 30)), component('8462-4', 70 + (i % 20))],
  };
}

function measure(label: string, make: (i: number) => Observation): void {
  const defs = loadDefinitions();
  const extractor = createIndexExtractor(defs, { baseUrl: 'https://helix.example/fhir' });
  const inputs = Array.from({ length: 1_000 }, (_, i) => make(i));
  let rows = 0;
  for (let i = 0; i < WARMUP; i++) rows += extractor.extract(inputs[i % inputs.length] as Observation).token.length;
  // Several rounds, reporting median and best: on a shared machine single runs are noisy.
  const perRound: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) rows += extractor.extract(inputs[i % inputs.length] as Observation).token.length;
    perRound.push(Number(process.hrtime.bigint() - start) / 1_000 / ITERATIONS);
  }
  perRound.sort((a, b) => a - b);
  const median = perRound[Math.floor(ROUNDS / 2)] as number;
  const best = perRound[0] as number;
  console.log(`${label}: median ${median.toFixed(1)} µs, best ${best.toFixed(1)} µs per extraction (checksum ${rows})`);
}

measure('vital-sign Observation (heart rate)', vitalSign);
measure('blood-pressure Observation (2 components)', bloodPressure);
