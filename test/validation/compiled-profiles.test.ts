// Differential test of the compiled profile validation (src/validation/compiled/profile-*.ts) against
// the path it replaces: @medplum/core validating each claimed profile (profile-schema.ts, issues.ts,
// bindings.ts). Both run inside the full validator (base validation + profiles + dedup), so what is
// compared is what a client sees: every error (code + expression) the old path reports must be reported
// by the compiled one, and every error only the compiled path reports must be one of the documented
// kinds below (rules of R4 profiling.html that @medplum/core does not apply). No resource the old path
// accepts as it stands may be rejected.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import type { Bundle, Observation, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { loadDefinitions, type FhirDefinitions } from '../../src/fhir/definitions.js';
import type { Issue } from '../../src/fhir/errors.js';
import { createCompiledProfiles } from '../../src/validation/compiled/profile-walk.js';
import { loadProfiles, type ProfileRegistry } from '../../src/validation/profiles.js';
import { loadCodeSets } from '../../src/validation/terminology.js';
import { createValidator, type ValidateOptions, type Validator } from '../../src/validation/validator.js';

const shared = (path: string): string => fileURLToPath(new URL(`../../../shared/data/${path}`, import.meta.url));
const EXAMPLES = shared('fhir-r4-examples');
const SYNTHEA = shared('synthea');
const DEVICES = shared('device-vitals/hl7-phd-examples');
const PROFILES = fileURLToPath(new URL('../../profiles', import.meta.url));
const SD = 'http://hl7.org/fhir/StructureDefinition/';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** The R4 vital-signs profile whose code slice a LOINC code satisfies. */
const PROFILE_OF_LOINC: Record<string, string> = {
  '8867-4': 'heartrate',
  '9279-1': 'resprate',
  '2708-6': 'oxygensat',
  '8310-5': 'bodytemp',
  '8302-2': 'bodyheight',
  '29463-7': 'bodyweight',
  '39156-5': 'bmi',
  '85354-9': 'bp',
  '9843-4': 'headcircum',
  '85353-1': 'vitalspanel',
};

/**
 * Errors only the compiled path reports, each a rule of R4 profiling.html @medplum/core 4.5.2 skips:
 * - slice content: a slice's own element rules apply to the values in that slice (medplum only uses
 *   them to match discriminators; e.g. bp's SystolicBP.valueQuantity.code fixed to mm[Hg]);
 * - a choice narrowed by the profile below the root (bp SystolicBP.value[x] is Quantity only; medplum
 *   reads nested choices through the base type, where every type is allowed);
 * - closed slicing: a value matching no slice is not allowed (heartrate's value[x] is closed);
 * - a slice with min > 0 of an element that is absent (heartrate's HeartRateCode when `code` has no
 *   coding at all): slice cardinality counts the element's values, none is none; medplum counts only
 *   when some value is present.
 */
const DOCUMENTED: [string, RegExp][] = [
  ['slice content', / \(in slice '[^']+'\)/],
  ['narrowed choice', /is not allowed by the profile/],
  ['closed slicing', /matches no slice of the closed slicing/],
  ['required slice of an absent element', /^Incorrect number of values provided for slice '[^']+': expected [1-9]\d*\.\.[^,]+, but found 0/],
];

/**
 * Errors only the old path reports. When a profile removes a type from a root choice (heartrate's
 * value[x] is Quantity only), both paths reject the variant as an additional property; medplum also
 * evaluates the profile's invariants on a resource typed as the profile, so FHIRPath does not see the
 * removed variant and vs-2 ("value or dataAbsentReason") fails too. R4 FHIRPath resolves `value` on
 * the instance (fhirpath.html), where it exists: the compiled path reports only the type problem.
 */
const invariantBlindToRemovedVariant = (missed: Issue, now: Issue[]): boolean =>
  missed.code === 'invariant' && missed.expression?.[0] === 'Observation' && now.some((i) => /^Invalid additional property "[a-z]+[A-Z]/.test(i.diagnostics));

/**
 * Warnings only the old path reports: @medplum/core reads a target profile's URL as a type name, so a
 * vitalsigns panel's `hasMember` reference to an Observation is "not a vitalsigns". R4 (references.html,
 * targetProfile) means the type the profile constrains; the compiled path resolves it (vitalsigns →
 * Observation) and warns only about references of other types.
 */
function targetProfileMisread(missed: Issue): boolean {
  const m = /^Invalid reference: got "([A-Za-z]+)", expected "(.*)"/.exec(missed.diagnostics);
  if (!m) return false;
  const urls = (m[2] as string).replace(/" \(profile [^)]*\)$|"$/, '').split('", "');
  return urls.some((u) => (registry.get(u) ?? defs.structureDefinition(u))?.type === m[1]);
}

let defs: FhirDefinitions;
let registry: ProfileRegistry;
let previous: Validator;
let compiled: Validator;
before(async () => {
  defs = loadDefinitions();
  registry = await loadProfiles(defs, PROFILES);
  previous = createValidator(defs, registry, { profiles: 'medplum' });
  compiled = createValidator(defs, registry);
});

const errors = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
const warnings = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'warning');
const warningKey = (i: Issue): string => `${keyOf(i)}|${i.diagnostics}`;
const keyOf = (i: Issue): string => `${i.code}|${i.expression?.[0] ?? ''}`;

/** Tallies the comparison of both paths over a set of cases. */
class Tally {
  cases = 0;
  verdicts = 0;
  identical = 0;
  rejectedBefore = 0;
  stricter = 0;
  /** Old-path-only findings accepted as documented: vs-2 blind to a removed variant, misread target profiles. */
  blindInvariants = 0;
  misreadTargets = 0;
  kinds = new Map<string, number>();
  problems: string[] = [];
  compare(label: string, resource: Resource, options: ValidateOptions, original: boolean): void {
    const all = [previous.validate(structuredClone(resource), options), compiled.validate(structuredClone(resource), options)];
    const [before, now] = all.map(errors) as [Issue[], Issue[]];
    // Warnings (reference targets, choice conflicts) must agree too, message included.
    const [warnedBefore, warnedNow] = all.map((is) => warnings(is).map(warningKey)) as [string[], string[]];
    const warnedOnlyBefore = warnings(all[0] as Issue[]).filter((i) => !warnedNow.includes(warningKey(i)));
    const warningsMissed = warnedOnlyBefore.filter((i) => !targetProfileMisread(i));
    this.misreadTargets += warnedOnlyBefore.length - warningsMissed.length;
    if (warningsMissed.length) this.problems.push(`${label}: warnings missed [${warningsMissed.map(warningKey).join(' ; ')}]`);
    const warningsAdded = warnedNow.filter((w) => !warnedBefore.includes(w));
    if (warningsAdded.length) this.problems.push(`${label}: warnings added [${warningsAdded.join(' ; ')}]`);
    this.cases++;
    if (before.length) this.rejectedBefore++;
    if (!before.length === !now.length) this.verdicts++;
    const nowKeys = new Set(now.map(keyOf));
    const beforeKeys = new Set(before.map(keyOf));
    const onlyBefore = before.filter((i) => !nowKeys.has(keyOf(i)));
    const missed = onlyBefore.filter((i) => !invariantBlindToRemovedVariant(i, now));
    this.blindInvariants += onlyBefore.length - missed.length;
    const extra = now.filter((i) => !beforeKeys.has(keyOf(i)));
    const undocumented = extra.filter((i) => !DOCUMENTED.some(([, re]) => re.test(i.diagnostics)));
    const show = (is: Issue[]): string => is.map((i) => `${keyOf(i)} ${i.diagnostics}`).join(' ; ');
    if (missed.length || undocumented.length) this.problems.push(`${label}: missed [${show(missed)}] undocumented [${show(undocumented)}]`);
    else if (original && !before.length && now.length) this.problems.push(`${label}: valid resource rejected [${show(now)}]`);
    if (!extra.length) this.identical++;
    else {
      this.stricter++;
      for (const i of extra) {
        const kind = DOCUMENTED.find(([, re]) => re.test(i.diagnostics))?.[0] ?? 'undocumented';
        this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
      }
    }
  }
  assertAll(t: { diagnostic(msg: string): void }, what: string): void {
    t.diagnostic(
      `${what}: ${this.cases} cases (${this.rejectedBefore} rejected by the old path), same verdict ${this.verdicts}, identical errors ${this.identical}, ` +
        `compiled path stricter ${this.stricter} (${[...this.kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}); ` +
        `old-path-only: vs-2 on a removed variant ${this.blindInvariants}, misread target profile warnings ${this.misreadTargets}`,
    );
    assert.deepEqual(this.problems.slice(0, 10), []);
  }
}

/** Every Observation in a file's content (bundles opened). */
function observationsIn(content: Resource): Observation[] {
  if (content.resourceType === 'Observation') return [content];
  if (content.resourceType === 'Bundle') return (content.entry ?? []).flatMap((e) => (e.resource ? observationsIn(e.resource) : []));
  return [];
}

const claimsLoaded = (r: Resource): boolean => (r.meta?.profile ?? []).some((p) => registry.has(p));
const loincCodes = (o: Observation): string[] => (o.code?.coding ?? []).filter((c) => c.system === LOINC && c.code).map((c) => c.code as string);

/** The profiles to validate `o` against beyond those it claims: vitalsigns and the one its LOINC code names. */
function extraProfiles(o: Observation): string[] {
  const named = loincCodes(o).map((c) => PROFILE_OF_LOINC[c]).filter((p): p is string => !!p);
  return [...new Set(['vitalsigns', ...named])].map((p) => SD + p);
}

/** Validates `o` as claimed and against each extra profile, and the mutations of it against its LOINC profile. */
function exercise(tally: Tally, label: string, o: Observation, withMutations: boolean): void {
  tally.compare(label, o, {}, true);
  for (const profile of extraProfiles(o)) tally.compare(`${label} as ${profile}`, o, { profile }, true);
  if (!withMutations) return;
  const profile = extraProfiles(o).at(-1) as string;
  for (const [name, broken] of mutations(o)) tally.compare(`${label}: ${name}`, broken, { profile }, false);
}

// ---- Deterministic mutations ------------------------------------------------------------------

type Mutable = Observation & Record<string, unknown>;

const variant = (o: Observation, f: (m: Mutable) => void): Observation => {
  const copy = structuredClone(o) as Mutable;
  f(copy);
  return copy;
};

/** Broken variants of a vital sign, each breaking one rule of the vital-signs profiles. */
function* mutations(o: Observation): Generator<[string, Observation]> {
  const isLoinc = (c: { system?: string }): boolean => c.system === LOINC;
  yield ['remove the code slice', variant(o, (m) => { m.code = { ...m.code, coding: (m.code?.coding ?? []).filter((c) => !isLoinc(c)) }; })];
  yield ['change the LOINC code', variant(o, (m) => { for (const c of m.code?.coding ?? []) if (isLoinc(c)) c.code = '00000-0'; })];
  yield ['duplicate the code slice', variant(o, (m) => { const c = m.code?.coding ?? []; m.code = { ...m.code, coding: [...c, ...c.filter(isLoinc)] }; })];
  yield ['wrong category', variant(o, (m) => { m.category = [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory' }] }]; })];
  yield ['no category', variant(o, (m) => { delete m.category; })];
  yield ['duplicate the category slice', variant(o, (m) => { m.category = [...(m.category ?? []), ...(m.category ?? [])]; })];
  yield ['second coding in the category slice', variant(o, (m) => { m.category?.[0]?.coding?.push({ system: 'http://snomed.info/sct', code: '46680005' }); })];
  yield ['no subject', variant(o, (m) => { delete m.subject; })];
  yield ['no effective', variant(o, (m) => { delete m.effectiveDateTime; delete m.effectivePeriod; })];
  yield ['effective year only', variant(o, (m) => { delete m.effectivePeriod; m.effectiveDateTime = '2020'; })];
  yield ['effective instant', variant(o, (m) => { delete m.effectiveDateTime; delete m.effectivePeriod; m.effectiveInstant = '2020-01-01T00:00:00Z'; })];
  yield ['no value', variant(o, (m) => { delete m.valueQuantity; delete m.dataAbsentReason; })];
  yield ['wrong value type', variant(o, (m) => { delete m.valueQuantity; m.valueString = '60'; })];
  yield ['value CodeableConcept', variant(o, (m) => { delete m.valueQuantity; m.valueCodeableConcept = { text: 'high' }; })];
  yield ['value where the profile forbids it', variant(o, (m) => { m.valueQuantity = { value: 1, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' }; })];
  if (o.valueQuantity) {
    yield ['wrong unit', variant(o, (m) => { if (m.valueQuantity) m.valueQuantity.code = 'kg'; })];
    yield ['wrong unit system', variant(o, (m) => { if (m.valueQuantity) m.valueQuantity.system = 'http://example.org/units'; })];
    yield ['no unit', variant(o, (m) => { if (m.valueQuantity) delete m.valueQuantity.unit; })];
  }
  const components = o.component ?? [];
  if (components.length) {
    yield ['remove a component slice', variant(o, (m) => { m.component = components.slice(1); })];
    yield ['duplicate a component slice', variant(o, (m) => { m.component = [...components, components[0] as NonNullable<Observation['component']>[number]]; })];
    yield ['component of another code', variant(o, (m) => { m.component?.push({ code: { coding: [{ system: LOINC, code: '8478-0' }] }, valueQuantity: { value: 80, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } }); })];
    yield ['component wrong unit', variant(o, (m) => { const q = m.component?.[0]?.valueQuantity; if (q) q.code = 'kg'; })];
    yield ['component no unit system', variant(o, (m) => { const q = m.component?.[0]?.valueQuantity; if (q) delete q.system; })];
    yield ['component without value', variant(o, (m) => { const c = m.component?.[0] as Record<string, unknown> | undefined; if (c) delete c.valueQuantity; })];
    yield ['component wrong value type', variant(o, (m) => { const c = m.component?.[0] as Record<string, unknown> | undefined; if (c) { delete c.valueQuantity; c.valueString = '120'; } })];
    yield ['component LOINC changed', variant(o, (m) => { for (const c of m.component?.[0]?.code.coding ?? []) if (isLoinc(c)) c.code = '00000-0'; })];
  }
}

// ---- Sources ----------------------------------------------------------------------------------

function readJson(path: string): Resource {
  return JSON.parse(readFileSync(path, 'utf8')) as Resource;
}

function* syntheaBundles(): Generator<[string, Bundle]> {
  if (!existsSync(SYNTHEA)) return;
  for (const f of readdirSync(SYNTHEA).filter((n) => n.endsWith('.json.gz')).sort()) {
    yield [f, JSON.parse(gunzipSync(readFileSync(`${SYNTHEA}/${f}`)).toString('utf8')) as Bundle];
  }
}

describe('compiled profile validation agrees with the @medplum/core path', () => {
  it('compiles every loaded vital-signs profile (none falls back)', () => {
    const profiles = createCompiledProfiles(loadCodeSets(), () => undefined);
    for (const url of registry.urls()) {
      const c = profiles.compile(registry.get(url) as StructureDefinition);
      assert.ok(c.ok, `${url}: ${c.ok ? '' : c.reason}`);
    }
  });

  it('on the official examples that claim a loaded profile, and every Observation example as a vital sign', { skip: existsSync(EXAMPLES) ? false : 'examples not present' }, (t) => {
    const tally = new Tally();
    let claiming = 0;
    for (const f of readdirSync(EXAMPLES).filter((n) => n.endsWith('.json') && n !== '_package.json').sort()) {
      const content = readJson(`${EXAMPLES}/${f}`);
      for (const o of observationsIn(content)) {
        const claims = claimsLoaded(o);
        if (claims) claiming++;
        exercise(tally, f, o, claims || loincCodes(o).some((c) => PROFILE_OF_LOINC[c]));
      }
    }
    assert.ok(claiming >= 12, `only ${claiming} examples claim a loaded profile`);
    tally.assertAll(t, 'examples');
  });

  it('on every 3rd profiled Synthea Observation, and mutations of them', { skip: existsSync(SYNTHEA) ? false : 'Synthea not present' }, (t) => {
    const tally = new Tally();
    let n = 0;
    for (const [f, bundle] of syntheaBundles()) {
      for (const e of bundle.entry ?? []) {
        const r = e.resource;
        if (r?.resourceType !== 'Observation' || !claimsLoaded(r) || n++ % 3 !== 0) continue;
        exercise(tally, `${f} Observation/${r.id}`, r, n % 9 === 1);
      }
    }
    assert.ok(tally.cases > 3000);
    tally.assertAll(t, 'Synthea');
  });

  it('on the HL7 personal-health-device examples validated as vital signs', { skip: existsSync(DEVICES) ? false : 'device examples not present' }, (t) => {
    const tally = new Tally();
    for (const f of readdirSync(DEVICES).filter((n) => n.endsWith('.json')).sort()) {
      for (const o of observationsIn(readJson(`${DEVICES}/${f}`))) exercise(tally, f, o, true);
    }
    assert.ok(tally.cases > 50);
    tally.assertAll(t, 'devices');
  });
});

describe('documented departures and fallback', () => {
  const errorsOf = (v: Validator, r: Resource, profile?: string): string[] =>
    errors(v.validate(structuredClone(r), profile ? { profile } : {})).map(keyOf).sort();

  /** A blood pressure as a device posts it, claiming the R4 bp profile. */
  const bp = (systolicUnit: string): Observation => ({
    resourceType: 'Observation',
    meta: { profile: [`${SD}bp`] },
    status: 'final',
    category: [{ coding: [{ system: OBS_CATEGORY, code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-03-01T10:00:00Z',
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg', system: UCUM, code: systolicUnit } },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 80, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    ],
  });

  it('checks the content of repeating slices (bp component units), which @medplum/core does not', () => {
    assert.deepEqual(errorsOf(previous, bp('mm[Hg]')), []);
    assert.deepEqual(errorsOf(compiled, bp('mm[Hg]')), []);
    assert.deepEqual(errorsOf(previous, bp('kg')), []);
    assert.deepEqual(errorsOf(compiled, bp('kg')), ['value|Observation.component[0].value.code']);
  });

  it('applies a slice element fixed value to every value in the slice (R4 vitalsigns VSCat.coding.code)', () => {
    const o = bp('mm[Hg]');
    o.category?.[0]?.coding?.push({ system: 'http://snomed.info/sct', code: '46680005' });
    assert.deepEqual(errorsOf(previous, o), []);
    assert.deepEqual(errorsOf(compiled, o), ['value|Observation.category[0].coding[1].code', 'value|Observation.category[0].coding[1].system']);
  });

  it('requires a required slice when the sliced element is absent (heartrate code without coding)', () => {
    const o = bp('mm[Hg]');
    o.meta = { profile: [`${SD}heartrate`] };
    o.code = { text: 'heart rate' };
    o.component = undefined;
    o.valueQuantity = { value: 60, unit: '/min', system: UCUM, code: '/min' };
    assert.deepEqual(errorsOf(previous, o), []);
    assert.deepEqual(errorsOf(compiled, o), ['structure|Observation.code.coding']);
  });

  it('honours closed slicing: a value matching no slice is rejected', () => {
    const heartrate = registry.get(`${SD}heartrate`) as StructureDefinition;
    const closed: StructureDefinition = {
      ...heartrate,
      url: 'http://example.org/fhir/StructureDefinition/closed-category-rate',
      snapshot: {
        element: (heartrate.snapshot?.element ?? []).map((e) => (e.id === 'Observation.category' && e.slicing ? { ...e, slicing: { ...e.slicing, rules: 'closed' } } : e)),
      },
    };
    registry.add(closed);
    const o = bp('mm[Hg]');
    o.meta = undefined;
    o.code = { coding: [{ system: LOINC, code: '8867-4' }] };
    o.component = undefined;
    o.valueQuantity = { value: 60, unit: '/min', system: UCUM, code: '/min' };
    assert.deepEqual(errorsOf(compiled, o, closed.url), []);
    o.category?.push({ coding: [{ system: OBS_CATEGORY, code: 'exam' }] });
    assert.deepEqual(errorsOf(compiled, o, closed.url), ['structure|Observation.category[1]']);
  });

  it('falls back to @medplum/core for a profile using rules it cannot compile (ordered slicing)', () => {
    const heartrate = registry.get(`${SD}heartrate`) as StructureDefinition;
    const ordered: StructureDefinition = {
      ...heartrate,
      url: 'http://example.org/fhir/StructureDefinition/ordered-rate',
      snapshot: {
        element: (heartrate.snapshot?.element ?? []).map((e) => (e.id === 'Observation.code.coding' && e.slicing ? { ...e, slicing: { ...e.slicing, ordered: true } } : e)),
      },
    };
    const c = createCompiledProfiles(loadCodeSets(), () => undefined).compile(ordered);
    assert.equal(c.ok, false);
    assert.match(c.ok ? '' : c.reason, /ordered slicing at Observation\.code\.coding/);
    registry.add(ordered);
    const o = bp('mm[Hg]');
    // Still validated (by @medplum/core): the blood-pressure code is not a heart rate.
    assert.ok(errorsOf(compiled, o, ordered.url).includes('structure|Observation.code.coding'));
    assert.deepEqual(errorsOf(compiled, o, ordered.url), errorsOf(previous, o, ordered.url));
  });
});
