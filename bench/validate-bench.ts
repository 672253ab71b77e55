// Micro benchmark of base-definition validation: @medplum/core's validateResource plus the
// required-binding walk (the path before the compiled validator) against the compiled validator,
// in µs per resource by type, median of ROUNDS rounds, over Synthea resources and vital signs.
// Then profiled vital signs through the whole validator: profiles checked by @medplum/core (old)
// against the compiled profile walk (new).
// Run: node --import tsx bench/validate-bench.ts [bundles=12] [rounds=5]
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { validateResource } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { requiredBindingIssues } from '../src/validation/bindings.js';
import { createCompiledValidator } from '../src/validation/compiled/index.js';
import { medplumIssues, toHelixIssues } from '../src/validation/issues.js';
import { loadProfiles } from '../src/validation/profiles.js';
import { loadCodeSets } from '../src/validation/terminology.js';
import { createValidator } from '../src/validation/validator.js';

const SYNTHEA = fileURLToPath(new URL('../../shared/data/synthea', import.meta.url));
const BUNDLES = Number(process.argv[2] ?? 12);
const ROUNDS = Number(process.argv[3] ?? 5);

const defs = loadDefinitions();
const codeSets = loadCodeSets();
const compiled = createCompiledValidator(codeSets);
const validators: Record<'old' | 'new', (r: Resource) => unknown> = {
  old: (r) => [...toHelixIssues(r, medplumIssues(() => validateResource(r))), ...requiredBindingIssues(r, codeSets)],
  new: (r) => compiled.validate(r),
};

/** Resources by type: the first BUNDLES Synthea bundles, and 2,000 vital signs (profiles removed: base only). */
function corpus(): Map<string, Resource[]> {
  const byType = new Map<string, Resource[]>();
  const add = (label: string, r: Resource): void => {
    const list = byType.get(label) ?? [];
    list.push(r);
    byType.set(label, list);
  };
  const files = readdirSync(SYNTHEA).filter((f) => f.endsWith('.json.gz')).sort().slice(0, BUNDLES);
  for (const f of files) {
    const bundle = JSON.parse(gunzipSync(readFileSync(`${SYNTHEA}/${f}`)).toString('utf8')) as Bundle;
    for (const e of bundle.entry ?? []) if (e.resource) add(e.resource.resourceType, e.resource);
  }
  for (let i = 0; i < 2000; i++) add('(vital-sign Observation)', heartRate(i));
  return byType;
}

/** A heart-rate Observation as a bedside device posts it (vital-signs shape, no profile claimed). */
function heartRate(i: number): Resource {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
    subject: { reference: `Patient/p${i % 100}` },
    effectiveDateTime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    valueQuantity: { value: 60 + (i % 40), unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function timeOne(run: (r: Resource) => unknown, resources: Resource[]): number {
  const start = process.hrtime.bigint();
  for (const r of resources) run(r);
  return Number(process.hrtime.bigint() - start) / 1000 / resources.length;
}

const byType = corpus();
const all = [...byType.entries()].filter(([t]) => !t.startsWith('(')).flatMap(([, rs]) => rs);
// Warm both paths (JIT, lazily compiled types, medplum's FHIRPath cache) before measuring.
for (const run of Object.values(validators)) for (const r of all) run(r);

const results = new Map<string, { old: number[]; new: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [type, resources] of [['(all Synthea)', all] as const, ...byType.entries()]) {
    const entry = results.get(type) ?? { old: [], new: [] };
    entry.old.push(timeOne(validators.old, resources));
    entry.new.push(timeOne(validators.new, resources));
    results.set(type, entry);
  }
}

console.log(`${all.length} Synthea resources from ${BUNDLES} bundles, median of ${ROUNDS} rounds (µs/resource)`);
console.log(`${'type'.padEnd(28)} ${'n'.padStart(6)} ${'old'.padStart(8)} ${'new'.padStart(8)} ${'speedup'.padStart(8)}`);
for (const [type, { old, new: now }] of results) {
  const n = type === '(all Synthea)' ? all.length : (byType.get(type)?.length ?? 0);
  const [o, c] = [median(old), median(now)];
  console.log(`${type.padEnd(28)} ${String(n).padStart(6)} ${o.toFixed(1).padStart(8)} ${c.toFixed(1).padStart(8)} ${(o / c).toFixed(1).padStart(7)}x`);
}

// ---- Profiled vital signs (whole validator: base + claimed profiles) ---------------------------

const SD = 'http://hl7.org/fhir/StructureDefinition/';
const registry = await loadProfiles(defs, fileURLToPath(new URL('../profiles', import.meta.url)));
const whole: Record<'old' | 'new', (r: Resource) => unknown> = {
  old: ((v) => (r: Resource) => v.validate(r))(createValidator(defs, registry, { profiles: 'medplum' })),
  new: ((v) => (r: Resource) => v.validate(r))(createValidator(defs, registry)),
};

/** A vital sign as a device posts it, claiming vitalsigns and its specific profile. */
function vital(kind: 'heartrate' | 'bp' | 'bodytemp', i: number): Resource {
  const quantity = (value: number, unit: string, code: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code });
  const loinc = (code: string, display: string) => ({ coding: [{ system: 'http://loinc.org', code, display }], text: display });
  const base = { ...(heartRate(i) as unknown as Record<string, unknown>), meta: { profile: [`${SD}vitalsigns`, `${SD}${kind}`] } };
  if (kind === 'heartrate') return base as unknown as Resource;
  if (kind === 'bodytemp') return { ...base, code: loinc('8310-5', 'Body temperature'), valueQuantity: quantity(36.5 + (i % 20) / 10, 'C', 'Cel') } as unknown as Resource;
  const rest: Record<string, unknown> = { ...base };
  delete rest.valueQuantity;
  return {
    ...rest,
    code: loinc('85354-9', 'Blood pressure panel'),
    component: [
      { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: quantity(110 + (i % 30), 'mmHg', 'mm[Hg]') },
      { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: quantity(70 + (i % 20), 'mmHg', 'mm[Hg]') },
    ],
  } as unknown as Resource;
}

const vitals = (['heartrate', 'bp', 'bodytemp'] as const).map((k) => [k, Array.from({ length: 1000 }, (_, i) => vital(k, i))] as const);
for (const [kind, rs] of vitals) {
  for (const side of ['old', 'new'] as const) {
    const issues = whole[side](rs[0] as Resource) as { severity: string }[];
    if (issues.some((x) => x.severity === 'error')) throw new Error(`${kind} (${side}) is not valid: ${JSON.stringify(issues)}`);
  }
}
for (const run of Object.values(whole)) for (const [, rs] of vitals) for (const r of rs) run(r);
const profiled = new Map<string, { old: number[]; new: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [kind, rs] of vitals) {
    const entry = profiled.get(kind) ?? { old: [], new: [] };
    entry.old.push(timeOne(whole.old, [...rs]));
    entry.new.push(timeOne(whole.new, [...rs]));
    profiled.set(kind, entry);
  }
}
console.log(`\nprofiled vital signs, whole validator (base + profiles), median of ${ROUNDS} rounds (µs/resource)`);
console.log(`${'profile'.padEnd(28)} ${'n'.padStart(6)} ${'old'.padStart(8)} ${'new'.padStart(8)} ${'speedup'.padStart(8)}`);
for (const [kind, { old, new: now }] of profiled) {
  const [o, c] = [median(old), median(now)];
  console.log(`${`vitalsigns + ${kind}`.padEnd(28)} ${'1000'.padStart(6)} ${o.toFixed(1).padStart(8)} ${c.toFixed(1).padStart(8)} ${(o / c).toFixed(1).padStart(7)}x`);
}
