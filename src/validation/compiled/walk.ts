// Validates a resource by walking its plain JSON against compiled types (schema.ts). The checks,
// their messages and their paths follow @medplum/core's validator (structure, cardinality, JSON
// types and formats of primitives, invariants, reference targets, null values), together with the
// required-binding check of bindings.ts, in one pass; documented departures are in compiled.test.ts.
import { toTypedValue } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import { bindingsOnly, checkCodes, nullsIn, nullsOf, referenceWarning, sameValue } from './checks.js';
import { UCUM_VARIABLE, type Invariant, type Outcome } from './invariants.js';
import type { CompiledElement, CompiledType, KeyInfo, TypeRef } from './schema.js';
import { choicePrefix } from './schema.js';
import { report, type WalkState } from './state.js';
import { ShadowError, isEmptyValue, mergeShadow, unpackPrimitive } from './values.js';

type Json = Record<string, unknown>;

const structure = (st: WalkState, path: string, text: string): void => report(st, 'error', 'structure', text, path);

/**
 * Walks one object of `type`. `p` is the element path with indexes (where most issues are reported),
 * `np` the raw JSON path (where null values are reported), `up` the path @medplum/core reports
 * array-shape problems at (indexes of enclosing arrays dropped); `nulls` is false inside content
 * whose null values were already checked.
 */
export function walkObject(st: WalkState, obj: Json, type: CompiledType, p: string, np: string, up: string, nulls: boolean): void {
  const isResource = 'resourceType' in obj;
  if (isResource) st.resources.push(toTypedValue(obj));
  let present: CompiledElement[] | undefined;
  let pending: string[] | undefined;
  let unwalked: string[] | undefined;
  for (const k in obj) {
    const v = obj[k];
    if (nulls && (v === null || Array.isArray(v))) nullsOf(st, obj, k, v, np);
    if (k === 'resourceType') continue;
    const info = type.keys.get(k) ?? unknownKey(type, k);
    const el = info.element;
    if (el) {
      if (el.min === 0 && (present === undefined || !present.includes(el))) (present ??= []).push(el);
      if (!info.shadow && info.type?.codes) checkCodes(st, v, info.type, `${p}.${el.name}`);
    }
    if (info.choice || !info.known) (pending ??= []).push(k);
    if (typeof v === 'object' && v !== null) {
      const ref = info.type;
      // Only a single-type complex property is sure to be entered by the element walk.
      if (!el || !ref || info.shadow || ref.check || el.types.length > 1) (unwalked ??= []).push(k);
    }
  }
  for (const el of type.required) visitElement(st, obj, el, p, np, up, nulls);
  if (present) for (const el of present) visitElement(st, obj, el, p, np, up, nulls);
  if (pending) additionalProperties(st, obj, type, pending, p);
  if (unwalked) unwalkedContent(st, obj, unwalked, type, p, np, nulls);
  if (isResource) st.resources.pop();
}

function unknownKey(type: CompiledType, k: string): KeyInfo {
  const shadow = k.startsWith('_');
  const known = type.elementKeys.has(shadow ? k.slice(1) : k);
  return { element: undefined, type: undefined, shadow, known, choice: choicePrefix(k, type.choices) };
}

/** The type whose property @medplum/core reads for `el`: the first, in type order, present as value or shadow. */
function chosen(obj: Json, el: CompiledElement): TypeRef | undefined {
  for (const ref of el.types) {
    if (obj[ref.key] !== undefined || obj[ref.shadow] !== undefined) return ref;
  }
  return undefined;
}

/** Content the element walk does not enter: its null values (nested), and the code bindings in it. */
function unwalkedContent(st: WalkState, obj: Json, keys: string[], type: CompiledType, p: string, np: string, nulls: boolean): void {
  for (const k of keys) {
    const v = obj[k] as object;
    const info = type.keys.get(k);
    const ref = info?.type;
    const el = info?.element;
    const walked = !!el && !!ref && !info.shadow && !ref.check && chosen(obj, el) === ref;
    if (walked) continue;
    if (nulls) nullsIn(v, `${np}.${k}`, st);
    // bindings.ts descends every complex property, including a second variant of a choice.
    if (el && ref && !info.shadow && !ref.check) bindingsOnly(st, v, ref.code, `${p}.${el.name}`);
  }
}

function visitElement(st: WalkState, obj: Json, el: CompiledElement, p: string, np: string, up: string, nulls: boolean): void {
  const ref = chosen(obj, el);
  let value: unknown;
  if (ref) {
    try {
      value = mergeShadow(obj[ref.key], obj[ref.shadow]);
    } catch (err) {
      if (!(err instanceof ShadowError)) throw err;
      structure(st, `${np}.${ref.shadow}`, err.message);
      return;
    }
  }
  if (!ref || isEmptyValue(value)) {
    if (el.min > 0) report(st, 'error', 'required', 'Missing required property', `${p}.${el.name}`);
    return;
  }
  const r = ref;
  const isArr = Array.isArray(value);
  const items = (isArr ? value : [value]) as unknown[];
  if (isArr && !el.isArray) {
    structure(st, `${up}.${el.name}`, 'Expected single value for property');
  } else if (!isArr && el.isArray) {
    structure(st, `${up}.${el.name}`, 'Expected array of values for property');
  } else {
    if (items.length < el.min || items.length > el.max) {
      const max = Number.isFinite(el.max) ? el.max : '*';
      structure(st, el.path, `Invalid number of values: expected ${el.min}..${max}, but found ${items.length}`);
    }
    if ((el.fixed !== undefined || el.pattern !== undefined) && !sameValue(items, isArr, r.code, el)) {
      report(st, 'error', 'value', 'Value did not match expected pattern', `${up}.${el.name}`);
    }
    // Paths are built only when something is reported: most values pass.
    for (let i = 0; i < items.length; i++) checkItem(st, el, r, items[i], p, isArr ? i : -1);
  }
  if (r.check) return;
  const nestedUp = `${up}.${el.name}`;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const ip = itemPath(p, el, isArr ? i : -1);
    if (item === null || item === undefined) {
      // @medplum/core still enters a null item of an array, and finds its required elements missing.
      for (const child of st.compiler.type(r.code)?.required ?? []) report(st, 'error', 'required', 'Missing required property', `${ip}.${child.name}`);
      continue;
    }
    if (typeof item !== 'object' || Array.isArray(item)) {
      structure(st, ip, `Expected a JSON object for ${r.code}`);
      continue;
    }
    const typeName = r.code === 'Resource' && 'resourceType' in item ? String((item as Json).resourceType) : r.code;
    const nested = st.compiler.type(typeName);
    if (!nested) {
      report(st, 'error', 'invalid', `Unknown data type: ${typeName}`, ip);
      continue;
    }
    walkObject(st, item as Json, nested, ip, isArr ? `${np}.${r.key}[${i}]` : `${np}.${r.key}`, nestedUp, nulls);
  }
}

/** The path of one value of `el` under `p`; `i` is its array index, or -1 for a single value. */
function itemPath(p: string, el: CompiledElement, i: number): string {
  return i < 0 ? `${p}.${el.name}` : `${p}.${el.name}[${i}]`;
}

/** Per-value checks: invariants, reference target, primitive value or non-empty object. */
function checkItem(st: WalkState, el: CompiledElement, ref: TypeRef, item: unknown, p: string, i: number): void {
  if (el.invariants.length) {
    const type = ref.code === 'Resource' && typeof item === 'object' && item !== null && 'resourceType' in item ? String(item.resourceType) : ref.code;
    checkInvariants(st, el.invariants, type, item, p, el, i);
  }
  if (el.targets && ref.code === 'Reference') referenceWarning(st, item, el.targets, () => itemPath(p, el, i));
  const check = ref.check;
  if (!check) {
    if (isEmptyValue(item)) structure(st, itemPath(p, el, i), 'Invalid empty non-primitive value');
    return;
  }
  if (typeof item !== 'object' || item === null) {
    const problem = check(item);
    if (problem) structure(st, itemPath(p, el, i), problem);
    return;
  }
  const [prim, hasPrim, extension] = unpackPrimitive(item);
  const ip = itemPath(p, el, i);
  if (hasPrim) {
    const problem = check(prim);
    if (problem) {
      structure(st, ip, problem);
      if (problem.startsWith('Invalid JSON type')) return;
    }
  }
  if (extension) {
    const elementType = st.compiler.type('Element');
    if (elementType) walkObject(st, extension, elementType, ip, ip, ip, false);
  }
}

/**
 * Evaluates invariants on one focus (of FHIR type `type`), stopping at the first failure as
 * @medplum/core does; the focus is reported at `p` (plus `el` and index `i` when given).
 */
export function checkInvariants(st: WalkState, invariants: readonly Invariant[], type: string, value: unknown, p: string, el?: CompiledElement, i = -1): void {
  let env: Environment | undefined;
  for (const inv of invariants) {
    const known = inv.shortcut?.(value);
    if (known === true) continue;
    let outcome: Outcome = false;
    if (known === undefined) {
      env ??= environment(st, type, value);
      outcome = inv.test(env.context, env.variables);
      if (outcome === true) continue;
    }
    const path = el ? itemPath(p, el, i) : p;
    if (outcome instanceof Error) report(st, 'error', 'processing', 'Error evaluating invariant expression', path);
    env ??= environment(st, type, value);
    if (!inv.retest?.(env.context, env.variables)) report(st, 'error', 'invariant', `Constraint ${inv.key} not met: ${inv.description}`, path);
    return;
  }
}

interface Environment {
  context: TypedValue;
  variables: Record<string, TypedValue>;
}

/** The focus and the variables @medplum/core gives an invariant (built only when FHIRPath runs). */
function environment(st: WalkState, type: string, value: unknown): Environment {
  const context: TypedValue = { type, value };
  const variables: Record<string, TypedValue> = {
    '%context': context,
    '%ucum': UCUM_VARIABLE,
    '%resource': st.resources[st.resources.length - 1] ?? st.root,
    '%rootResource': st.root,
  };
  return { context, variables };
}

/** @medplum/core's additional-property rules: unknown names are errors, competing choice variants warnings. */
function additionalProperties(st: WalkState, obj: Json, type: CompiledType, keys: string[], p: string): void {
  const choiceKeys: Record<string, string> = {};
  for (const k of keys) {
    const info = type.keys.get(k) ?? unknownKey(type, k);
    const choice = info.choice;
    if (choice && choiceHasValue(obj, choice)) {
      const elementName = `${info.shadow ? '_' : ''}${choice.name}[x]`;
      const related = info.shadow ? elementName.slice(1) : `_${elementName}`;
      const requiredRelated = info.shadow ? k.slice(1) : `_${k}`;
      if (related in choiceKeys && choiceKeys[related] !== requiredRelated) {
        report(st, 'warning', 'structure', `Type of primitive extension does not match the type of property "${choice.name}[x]"`, elementName.replace('[x]', ''));
      }
      if (choiceKeys[elementName]) {
        report(st, 'warning', 'structure', `Conflicting choice of type properties: "${k}", "${choiceKeys[elementName]}"`, k);
      }
      choiceKeys[elementName] = k;
      continue;
    }
    if (!info.known) structure(st, `${p}.${k}`, `Invalid additional property "${k}"`);
  }
}

function choiceHasValue(obj: Json, el: CompiledElement): boolean {
  const ref = chosen(obj, el);
  if (!ref) return false;
  try {
    return !isEmptyValue(mergeShadow(obj[ref.key], obj[ref.shadow]));
  } catch {
    return false;
  }
}
