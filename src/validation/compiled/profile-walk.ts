// Validates a resource against a compiled profile (profile-compile.ts) by walking only the JSON
// properties the profile adds rules to. Outside slices, every finding has the code, message and
// path @medplum/core gives it when validating the profile, so the server's dedup of a profile's
// findings against the base validation's keeps working. Inside slices (whose content @medplum/core
// never checks) findings are reported at the value they concern.
import { deepEquals, deepIncludes, toTypedValue } from '@medplum/core';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { Issue } from '../../fhir/errors.js';
import type { CodeSets } from '../terminology.js';
import type { Invariant } from './invariants.js';
import { compileProfile, type CompiledProfile, type TargetType, type ProfileNode, type Slice, type Slicing, type SpecifiedValue, type Variant } from './profile-compile.js';
import { referenceWarning } from './checks.js';
import { createCompiler } from './schema.js';
import { report, type WalkState } from './state.js';
import { isEmptyValue } from './values.js';
import { checkInvariants } from './walk.js';

type Json = Record<string, unknown>;

/** Compiles profiles on first use and validates resources against them. */
export interface CompiledProfiles {
  /** The compiled profile, or why it cannot be compiled (then @medplum/core must validate it). */
  compile(profile: StructureDefinition): CompiledProfile;
  /** The issues of `resource` against a compiled profile (base rules excluded: the base walk checks them). */
  validate(resource: Resource, profile: CompiledProfile & { ok: true }): Issue[];
}

/** Creates a profile compiler whose caches live as long as the returned object; `targetType` resolves target profiles. */
export function createCompiledProfiles(codeSets: CodeSets, targetType: TargetType): CompiledProfiles {
  // Keyed by StructureDefinition object, so a profile replaced at run time is compiled again.
  const compiled = new WeakMap<StructureDefinition, CompiledProfile>();
  const compiler = createCompiler(codeSets);
  const context = { codeSets, cache: new Map<string, Invariant>(), targetType, compiledType: (code: string) => compiler.type(code) };
  return {
    compile(profile) {
      let c = compiled.get(profile);
      if (!c) {
        c = compileProfile(profile, context);
        compiled.set(profile, c);
      }
      return c;
    },
    validate(resource, profile) {
      const root = toTypedValue(resource);
      const st: WalkState = { issues: [], compiler, root, resources: [root] };
      if (profile.invariants.length) checkInvariants(st, profile.invariants, profile.type, resource, profile.type);
      const obj = resource as unknown as Json;
      for (const node of profile.children) checkNode(st, node, obj, profile.type, undefined);
      return st.issues;
    },
  };
}

/** The property carrying `node` in `obj`: the first variant present (as value or `_` shadow), in the order @medplum/core reads them. */
function present(obj: Json, node: ProfileNode): [Variant, unknown] | undefined {
  for (const v of node.variants) {
    const value = obj[v.key];
    if (value !== undefined) return [v, value];
    if (obj[`_${v.key}`] !== undefined) return [v, obj[`_${v.key}`]];
  }
  return undefined;
}

/**
 * Checks one profile element on the object `obj` at path `p`; `slice` names the slice whose content
 * `obj` is part of (its findings are labelled with it: @medplum/core reports nothing there).
 */
function checkNode(st: WalkState, node: ProfileNode, obj: Json, p: string, slice: string | undefined): void {
  const at = `${p}.${node.name}`;
  const tag = slice === undefined ? '' : ` (in slice '${slice}')`;
  const found = present(obj, node);
  if (node.rejected && !found) {
    for (const k of node.rejected) if (k in obj) report(st, 'error', 'structure', `Invalid additional property "${k}"`, `${p}.${k}`);
  }
  if (!found || isEmptyValue(found[1])) {
    if (node.min > 0) report(st, 'error', 'required', `Missing required property${tag}`, at);
    // A required slice of an optional element that is absent is missing too (R4 profiling.html:
    // slice cardinality counts the element's values); @medplum/core only counts present values.
    else if (node.slicing) sliceCounts(st, node.slicing, new Array<number>(node.slicing.slices.length).fill(0), slice === undefined ? node.path : at, tag);
    return;
  }
  const [variant, raw] = found;
  const isArr = Array.isArray(raw);
  // A value of the wrong shape is reported by the base walk, and @medplum/core checks nothing further.
  if (isArr !== node.isArray) return;
  const items = (isArr ? raw : [raw]) as unknown[];
  const where = slice === undefined ? node.path : at;
  if (node.counted && (items.length < node.min || items.length > node.max)) {
    const max = Number.isFinite(node.max) ? node.max : '*';
    report(st, 'error', 'structure', `Invalid number of values: expected ${node.min}..${max}, but found ${items.length}${tag}`, where);
  }
  if (node.allowed && !node.allowed.has(variant.code)) {
    report(st, 'error', 'structure', `Type ${variant.code} is not allowed by the profile (allowed: ${[...node.allowed].join(', ')})`, at);
  }
  if ((node.fixed || node.pattern) && !specifiedMatch(node, items, isArr, variant.code)) {
    report(st, 'error', 'value', `Value did not match expected pattern${tag}`, where);
  }
  const counts = node.slicing ? new Array<number>(node.slicing.slices.length).fill(0) : undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const ip = isArr ? `${at}[${i}]` : at;
    if (node.invariants.length) checkInvariants(st, node.invariants, variant.code, item, ip);
    if (node.targets && variant.code === 'Reference') referenceWarning(st, item, node.targets, () => ip);
    if (node.codes && variant.code === 'code' && typeof item === 'string' && !node.codes.has(item)) {
      const vs = (node.valueSet ?? '').split('|')[0] as string;
      report(st, 'error', 'code-invalid', `The code '${item}' is not in the required value set ${vs}${tag}`, ip);
    }
    if (typeof item !== 'object' || item === null) continue;
    if (node.slicing && counts) {
      const s = sliceOf(node.slicing, item as Json, variant.code);
      if (s >= 0) {
        counts[s] = (counts[s] as number) + 1;
        const matched = node.slicing.slices[s] as Slice;
        for (const child of matched.children) checkNode(st, child, item as Json, ip, matched.name);
      } else if (node.slicing.closed) {
        report(st, 'error', 'structure', `Value matches no slice of the closed slicing of ${node.path}`, ip);
      }
    }
    for (const child of node.children) checkNode(st, child, item as Json, ip, slice);
  }
  if (node.slicing && counts) sliceCounts(st, node.slicing, counts, where, tag);
}

function sliceCounts(st: WalkState, slicing: Slicing, counts: number[], where: string, tag: string): void {
  for (let s = 0; s < slicing.slices.length; s++) {
    const slice = slicing.slices[s] as Slice;
    const n = counts[s] as number;
    if (n < slice.min || n > slice.max) {
      const max = Number.isFinite(slice.max) ? slice.max : '*';
      report(st, 'error', 'structure', `Incorrect number of values provided for slice '${slice.name}': expected ${slice.min}..${max}, but found ${n}${tag}`, where);
    }
  }
}

/** @medplum/core's fixed/pattern comparison (of the whole value: an array is compared as one). */
function specifiedMatch(node: ProfileNode, items: unknown[], isArr: boolean, code: string): boolean {
  // A single primitive against a primitive: deepEquals/deepIncludes of {type, value} pairs is equality of both.
  const only = node.fixed ?? node.pattern;
  if (!isArr && !(node.fixed && node.pattern) && only && isScalar(only.value) && isScalar(items[0])) {
    return only.type === code && only.value === items[0];
  }
  const typed = isArr ? items.map((value) => ({ type: code, value })) : { type: code, value: items[0] };
  if (node.pattern && !deepIncludes(typed, node.pattern)) return false;
  if (node.fixed && !deepEquals(typed, node.fixed)) return false;
  return true;
}

/** The index of the first slice whose discriminators all match `item`, or -1 (R4 profiling.html#discriminator). */
function sliceOf(slicing: Slicing, item: Json, code: string): number {
  const { discriminators, slices } = slicing;
  for (let s = 0; s < slices.length; s++) {
    const slice = slices[s] as Slice;
    let all = true;
    for (let d = 0; d < discriminators.length && all; d++) {
      const disc = discriminators[d] as (typeof discriminators)[number];
      if (disc.type === 'type') all = slice.types.has(code);
      else all = valuesAt(item, disc.path).some((v) => matchesExpected(v, (slice.expected[d] as { fixed?: SpecifiedValue; pattern?: SpecifiedValue }[])[0]));
    }
    if (all) return s;
  }
  return -1;
}

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function matchesExpected(value: unknown, want: { fixed?: SpecifiedValue; pattern?: SpecifiedValue } | undefined): boolean {
  if (!want) return false;
  const expected = (want.pattern ?? want.fixed)?.value;
  if (isScalar(expected) || isScalar(value)) return value === expected;
  if (want.pattern) return deepIncludes(value, want.pattern.value);
  return deepEquals(value, want.fixed?.value);
}

/** The single values at a dotted path inside `item` (arrays along the way are flattened). */
function valuesAt(item: unknown, path: readonly string[]): unknown[] {
  let current: unknown[] = [item];
  for (const seg of path) {
    const next: unknown[] = [];
    for (const c of current) {
      if (typeof c !== 'object' || c === null) continue;
      const v = (c as Json)[seg];
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined && v !== null) next.push(v);
    }
    current = next;
  }
  return current;
}
