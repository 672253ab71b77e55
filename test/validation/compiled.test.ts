// Differential test of the compiled base-definition validator (src/validation/compiled) against the
// path it replaced: @medplum/core's validateResource (through issues.ts) plus the required-binding
// walk of bindings.ts. Every issue (severity, code, expression) must be the same on the official
// examples, on a quarter of the Synthea resources, and on resources broken deterministically in many ways.
// The departures are few and deliberate; each is pinned down below with the R4 rule behind it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import { tryGetDataType, validateResource } from '@medplum/core';
import type { InternalSchemaElement } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import type { Issue } from '../../src/fhir/errors.js';
import { requiredBindingIssues } from '../../src/validation/bindings.js';
import { createCompiledValidator, type CompiledValidator } from '../../src/validation/compiled/index.js';
import { medplumIssues, toHelixIssues } from '../../src/validation/issues.js';
import { loadCodeSets, type CodeSets } from '../../src/validation/terminology.js';

const shared = (path: string): string => fileURLToPath(new URL(`../../../shared/data/${path}`, import.meta.url));
const EXAMPLES = shared('fhir-r4-examples');
const SYNTHEA = shared('synthea');

type Json = Record<string, unknown>;
type Step = string | number;

let codeSets: CodeSets;
let compiled: CompiledValidator;
before(() => {
  loadDefinitions();
  codeSets = loadCodeSets();
  compiled = createCompiledValidator(codeSets);
});

/** The replaced path, on a copy (medplum's property getter can write `_x` content into the resource). */
function previous(resource: Resource): Issue[] {
  const copy = structuredClone(resource);
  let bindings: Issue[] = [];
  try {
    bindings = requiredBindingIssues(copy, codeSets);
  } catch {
    bindings = [];
  }
  return [...toHelixIssues(copy, medplumIssues(() => validateResource(copy))), ...bindings];
}

const keyOf = (i: Issue): string => `${i.severity}|${i.code}|${i.expression?.[0] ?? ''}|${i.diagnostics}`;
const summary = (issues: Issue[]): string => issues.map(keyOf).sort().join('\n');
const rejects = (issues: Issue[]): boolean => issues.some((i) => i.severity === 'error' || i.severity === 'fatal');

/**
 * Content @medplum/core cannot walk (a `_x` shadow that is not an object, or shaped unlike its value; a
 * nested resource of unknown type) makes it stop with one issue and no others, so there is no issue set
 * to compare: the compiled validator reports the problem at its location and goes on. Only the verdict
 * must then agree (R4 json.html: a shadow is an object, or an array of them aligned with the values).
 */
function aborted(issues: Issue[]): boolean {
  return issues.some((i) => /^Validation could not complete|^Unknown data type/.test(i.diagnostics) && !i.expression);
}

/** Tallies agreement of the two validators over a set of resources. */
class Tally {
  resources = 0;
  verdicts = 0;
  identical = 0;
  rejected = 0;
  aborted = 0;
  mismatches: string[] = [];
  kinds = new Map<string, number>();
  compare(label: string, resource: Resource, kind?: string): void {
    const before = previous(resource);
    const now = compiled.validate(resource);
    this.resources++;
    if (kind) this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (rejects(before) === rejects(now)) this.verdicts++;
    if (rejects(before)) this.rejected++;
    const [a, b] = [summary(before), summary(now)];
    if (a === b) this.identical++;
    else if (aborted(before) && rejects(now)) this.aborted++;
    else if (this.mismatches.length < 10) this.mismatches.push(`${label}\n  before: ${a.replace(/\n/g, ' ; ').slice(0, 400)}\n  now:    ${b.replace(/\n/g, ' ; ').slice(0, 400)}`);
  }
  assertAll(t: { diagnostic(msg: string): void }, what: string): void {
    t.diagnostic(
      `${what}: ${this.resources} resources (${this.rejected} rejected before), verdict agreement ${this.verdicts}, ` +
        `identical issues ${this.identical}, medplum aborted ${this.aborted}`,
    );
    if (this.kinds.size) t.diagnostic(`by kind: ${[...this.kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    assert.deepEqual(this.mismatches, [], this.mismatches.join('\n'));
    assert.equal(this.identical + this.aborted, this.resources);
    assert.equal(this.verdicts, this.resources);
  }
}

function examples(): [string, Resource][] {
  if (!existsSync(EXAMPLES)) return [];
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json') && f !== '_package.json')
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(`${EXAMPLES}/${f}`, 'utf8')) as Resource]);
}

function* syntheaResources(): Generator<[string, Resource]> {
  if (!existsSync(SYNTHEA)) return;
  for (const f of readdirSync(SYNTHEA).filter((n) => n.endsWith('.json.gz')).sort()) {
    const bundle = JSON.parse(gunzipSync(readFileSync(`${SYNTHEA}/${f}`)).toString('utf8')) as Bundle;
    for (const e of bundle.entry ?? []) if (e.resource) yield [`${f} ${e.resource.resourceType}/${e.resource.id}`, e.resource];
  }
}

// ---- Deterministic mutations ------------------------------------------------------------------

/** A property of the resource (at any depth) with the element definition it stands for. */
interface Site {
  path: Step[];
  element: InternalSchemaElement;
  type: string;
  value: unknown;
}

/** Every property whose element the schema defines, found by walking the JSON with @medplum/core's schemas. */
function sites(obj: Json, typeName: string, path: Step[], out: Site[]): Site[] {
  const schema = tryGetDataType(typeName);
  if (!schema) return out;
  for (const [key, value] of Object.entries(obj)) {
    const found = elementOf(schema.elements, key);
    if (!found) continue;
    const [element, type] = found;
    out.push({ path: [...path, key], element, type, value });
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      if (typeof item !== 'object' || item === null) return;
      const nested = type === 'Resource' ? String((item as Json).resourceType) : type;
      sites(item as Json, nested, Array.isArray(value) ? [...path, key, i] : [...path, key], out);
    });
  }
  return out;
}

function elementOf(elements: Record<string, InternalSchemaElement>, key: string): [InternalSchemaElement, string] | undefined {
  const direct = elements[key];
  if (direct && !key.endsWith('[x]')) return [direct, direct.type[0]?.code ?? ''];
  for (const [name, el] of Object.entries(elements)) {
    if (!name.endsWith('[x]') || !key.startsWith(name.slice(0, -3))) continue;
    const t = el.type.find((ty) => name.slice(0, -3) + ty.code.charAt(0).toUpperCase() + ty.code.slice(1) === key);
    if (t) return [el, t.code];
  }
  return undefined;
}

const PRIMITIVE_JS: Record<string, string> = { boolean: 'boolean', decimal: 'number', integer: 'number', positiveInt: 'number', unsignedInt: 'number' };
const isPrimitive = (type: string): boolean => /^[a-z]/.test(type) || type.startsWith('http://');

/** A copy of `resource` with the value at `path` replaced (undefined deletes it). */
function mutate(resource: Resource, path: Step[], value: unknown): Resource {
  const copy = structuredClone(resource) as unknown as Json;
  let node: Json = copy;
  for (const step of path.slice(0, -1)) node = node[step as string] as Json;
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy as unknown as Resource;
}

/** Picks the `n`-th entry (wrapping) so different resources exercise different sites. */
const pick = <T>(list: T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);

const EXT = 'http://example.org/fhir/StructureDefinition/probe';

/** Broken (and a few valid) variants of `resource`; `seed` varies which site each kind hits. */
function* mutations(resource: Resource, seed: number): Generator<[string, Resource]> {
  const all = sites(resource as unknown as Json, resource.resourceType, [], []);
  const at = (s: Site): string => s.path.join('.');
  const lastKey = (s: Site): string => s.path[s.path.length - 1] as string;
  const shadowPath = (s: Site): Step[] => [...s.path.slice(0, -1), `_${lastKey(s)}`];

  const required = all.filter((s) => s.element.min > 0);
  for (const s of new Set([required[0], pick(required, seed)])) if (s) yield [`delete ${at(s)}`, mutate(resource, s.path, undefined)];

  const prims = all.filter((s) => isPrimitive(s.type) && !Array.isArray(s.value));
  const p = pick(prims, seed);
  if (p) {
    const js = PRIMITIVE_JS[p.type] ?? 'string';
    yield [`wrong JSON type ${at(p)}`, mutate(resource, p.path, js === 'string' ? 12345 : js === 'number' ? '12' : 'true')];
    yield [`null ${at(p)}`, mutate(resource, p.path, null)];
    yield [`blank ${at(p)}`, mutate(resource, p.path, js === 'string' ? '   ' : 1.5)];
    yield [`shadow ${at(p)}`, mutate(resource, shadowPath(p), { extension: [{ url: EXT, valueString: 'y' }], foo: 1 })];
    yield [`valid shadow ${at(p)}`, mutate(resource, shadowPath(p), { id: 'a', extension: [{ url: EXT, valueCode: 'y' }] })];
  }
  const formatted = prims.filter((s) => ['date', 'dateTime', 'instant', 'id', 'code', 'uri', 'time', 'oid', 'uuid', 'base64Binary'].includes(s.type));
  const f = pick(formatted, seed);
  if (f) yield [`bad format ${at(f)}`, mutate(resource, f.path, f.type === 'code' ? 'two  spaces' : '2020-13-45 x')];

  const singles = all.filter((s) => !s.element.isArray && !Array.isArray(s.value));
  const one = pick(singles, seed);
  if (one) yield [`duplicate ${at(one)}`, mutate(resource, one.path, [one.value, one.value])];
  const arrays = all.filter((s) => s.element.isArray && Array.isArray(s.value));
  const many = pick(arrays, seed);
  if (many) {
    const items = many.value as unknown[];
    yield [`unwrap ${at(many)}`, mutate(resource, many.path, items[0])];
    yield [`empty item ${at(many)}`, mutate(resource, many.path, [...items, isPrimitive(many.type) ? '' : {}])];
    yield [`null item ${at(many)}`, mutate(resource, many.path, [null, ...items])];
  }

  yield ['unknown-root-property', mutate(resource, ['nickname'], 'Bob')];
  const objects = all.filter((s) => !isPrimitive(s.type) && typeof s.value === 'object' && s.value !== null && !Array.isArray(s.value));
  const obj = pick(objects, seed);
  if (obj) yield [`unknown in ${at(obj)}`, mutate(resource, [...obj.path, 'bogusProperty'], { deep: null })];

  const bound = all.filter((s) => s.type === 'code' && s.element.binding?.strength === 'required');
  for (const b of new Set([bound[0], pick(bound, seed)])) {
    if (b) yield [`zzz ${at(b)}`, mutate(resource, b.path, Array.isArray(b.value) ? ['zzz'] : 'zzz')];
  }

  // Invariants: ext-1 (value and extensions), Extension.url 1..1, dom-2/dom-4 on contained resources.
  yield ['ext-1', mutate(resource, ['extension'], [{ url: EXT, valueString: 'v', extension: [{ url: 'a', valueString: 'b' }] }])];
  yield ['extension-without-url', mutate(resource, ['modifierExtension'], [{ valueBoolean: true }])];
  yield ['dom-2', mutate(resource, ['contained'], [{ resourceType: 'Basic', id: 'c1', code: { text: 'x' }, contained: [{ resourceType: 'Basic', id: 'c2', code: { text: 'y' } }] }])];
  yield ['dom-4', mutate(resource, ['contained'], [{ resourceType: 'Basic', id: 'c1', meta: { versionId: '1' }, code: { text: 'x' } }])];
  yield ['dom-5', mutate(resource, ['contained'], [{ resourceType: 'Basic', id: 'c1', meta: { security: [{ code: 'R' }] }, code: { text: 'x' } }])];
  // Invariants guarded by a usually absent element (obs-6, con-4, tim-1): add that element.
  if (resource.resourceType === 'Observation') yield ['obs-6', mutate(resource, ['dataAbsentReason'], { text: 'lost' })];
  if (resource.resourceType === 'Condition') yield ['con-4', mutate(resource, ['abatementString'], 'resolved')];
  const timing = all.find((s) => s.type === 'Timing' && !Array.isArray(s.value));
  if (timing) yield ['tim-1', mutate(resource, [...timing.path, 'repeat'], { duration: 5 })];
  // The resource's own invariants: empty the first element carrying one (e.g. pat-1, obs-3, ...).
  const constrained = all.filter((s) => (s.element.constraints ?? []).some((c) => c.severity === 'error' && !['ele-1', 'ext-1'].includes(c.key)));
  const c = pick(constrained, seed);
  if (c) {
    const item = (Array.isArray(c.value) ? c.value[0] : c.value) as unknown;
    const keys = typeof item === 'object' && item !== null ? Object.keys(item) : [];
    const k = pick(keys, seed);
    if (k) yield [`invariant ${at(c)}.${k}`, mutate(resource, Array.isArray(c.value) ? [...c.path, 0, k] : [...c.path, k], undefined)];
  }
  // A second variant of a choice element.
  const choice = all.find((s) => s.element.path.endsWith('[x]') && s.element.type.length > 1);
  if (choice) {
    const other = choice.element.type.find((t) => t.code !== choice.type && isPrimitive(t.code) && !PRIMITIVE_JS[t.code]);
    const name = choice.element.path.slice(choice.element.path.lastIndexOf('.') + 1, -3);
    if (other) yield [`second variant ${at(choice)}`, mutate(resource, [...choice.path.slice(0, -1), name + other.code.charAt(0).toUpperCase() + other.code.slice(1)], 'x')];
  }
}

/** The kind of a mutation label (`wrong JSON type Patient.gender` → `wrong JSON type`). */
const kindOf = (label: string): string => label.replace(/ [A-Za-z_]+[.\d][\w.[\]]*$| [a-z][\w]*$/, '');

describe('compiled validator agrees with the @medplum/core path', () => {
  it('on the 748 official examples', { skip: existsSync(EXAMPLES) ? false : 'examples not present' }, (t) => {
    const tally = new Tally();
    for (const [name, resource] of examples()) tally.compare(name, resource);
    assert.equal(tally.resources, 748);
    tally.assertAll(t, 'examples');
  });

  // Every 4th resource keeps the run short (the suite runs twice in CI); corpus.test.ts still
  // validates all 58,935 with the compiled validator.
  it('on every 4th Synthea resource', { skip: existsSync(SYNTHEA) ? false : 'Synthea not present' }, (t) => {
    const tally = new Tally();
    let i = 0;
    for (const [name, resource] of syntheaResources()) if (i++ % 4 === 0) tally.compare(name, resource);
    assert.equal(i, 58935);
    assert.equal(tally.resources, Math.ceil(58935 / 4));
    tally.assertAll(t, 'Synthea');
  });

  it('on mutations of the examples and of a sample of Synthea resources', (t) => {
    const tally = new Tally();
    // Every 2nd example and every 200th Synthea resource: every kind of mutation still occurs (the
    // rarest, con-4, a dozen times), in a third of the time of the former sample.
    let seed = 0;
    for (const [name, resource] of examples().filter((_, n) => n % 2 === 0)) {
      for (const [label, broken] of mutations(resource, seed++)) tally.compare(`${name}: ${label}`, broken, kindOf(label));
    }
    let i = 0;
    for (const [name, resource] of syntheaResources()) {
      if (i++ % 200 !== 0) continue;
      for (const [label, broken] of mutations(resource, seed++)) tally.compare(`${name}: ${label}`, broken, kindOf(label));
    }
    assert.ok(tally.resources > 10_000);
    tally.assertAll(t, 'mutations');
  });
});

describe('documented departures from @medplum/core (each follows an R4 rule it does not apply)', () => {
  const errorsOf = (issues: Issue[]): string[] => issues.filter((i) => i.severity === 'error').map((i) => `${i.code}|${i.expression?.[0] ?? ''}`);

  it('a complex element must be a JSON object (R4 json.html); medplum accepts numbers and booleans', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: 5, subject: true } as unknown as Resource;
    assert.deepEqual(errorsOf(previous(obs)), []);
    assert.deepEqual(errorsOf(compiled.validate(obs)).sort(), ['structure|Observation.code', 'structure|Observation.subject']);
    // A string is rejected by both, by medplum once per character ("Invalid additional property "0"").
    const text = { resourceType: 'Observation', status: 'final', code: 'ab' } as unknown as Resource;
    assert.deepEqual(errorsOf(previous(text)).sort(), ['structure|Observation.code.0', 'structure|Observation.code.1']);
    assert.deepEqual(errorsOf(compiled.validate(text)), ['structure|Observation.code']);
  });

  it('integer is 32-bit (R4 datatypes.html, integer: -2,147,483,648..2,147,483,647); medplum has no range', () => {
    const patient = { resourceType: 'Patient', multipleBirthInteger: 3_000_000_000 } as unknown as Resource;
    assert.deepEqual(errorsOf(previous(patient)), []);
    assert.deepEqual(errorsOf(compiled.validate(patient)), ['structure|Patient.multipleBirth']);
    assert.deepEqual(errorsOf(compiled.validate({ ...patient, multipleBirthInteger: 2_147_483_647 } as Resource)), []);
  });

  it('a `_x` shadow must be an object (R4 json.html); medplum stops at it, the compiled validator reports it there', () => {
    const patient = { resourceType: 'Patient', gender: 'male', _gender: 'x', nickname: 'Bob' } as unknown as Resource;
    assert.deepEqual(errorsOf(previous(patient)), ['processing|']);
    assert.deepEqual(errorsOf(compiled.validate(patient)).sort(), ['structure|Patient._gender', 'structure|Patient.nickname']);
  });

  it('a contained resource of unknown type is reported where it is, and validation goes on', () => {
    const patient = { resourceType: 'Patient', contained: [{ resourceType: 'Foo', id: 'f' }], gender: 'boy' } as unknown as Resource;
    // medplum's walk stops; only the separate binding walk of the old path still reported the gender.
    assert.deepEqual(errorsOf(previous(patient)).sort(), ['code-invalid|Patient.gender', 'invalid|']);
    assert.deepEqual(errorsOf(compiled.validate(patient)).sort(), ['code-invalid|Patient.gender', 'invalid|Patient.contained[0]']);
  });

  it('an element name is a name the definition lists (R4 json.html); medplum also accepts JavaScript object keys', () => {
    const patient = JSON.parse('{"resourceType":"Patient","constructor":1,"toString":"x"}') as Resource;
    assert.deepEqual(errorsOf(previous(patient)), []);
    assert.deepEqual(errorsOf(compiled.validate(patient)).sort(), ['structure|Patient.constructor', 'structure|Patient.toString']);
  });

  it('keeps medplum severities where R4 is stricter but the server has always been lenient', () => {
    // Two variants of one choice element: a warning in both (the first variant in type order is validated).
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueBoolean: true } as unknown as Resource;
    const warnings = (issues: Issue[]): string[] => issues.filter((i) => i.severity === 'warning').map((i) => i.diagnostics);
    assert.deepEqual(errorsOf(compiled.validate(obs)), errorsOf(previous(obs)));
    assert.deepEqual(warnings(compiled.validate(obs)), warnings(previous(obs)));
    assert.equal(warnings(compiled.validate(obs)).length, 1);
  });
});
