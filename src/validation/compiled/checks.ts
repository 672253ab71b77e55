// Checks the compiled walk applies beside the structure: required-binding codes (the rules of
// bindings.ts), null values (the rules of @medplum/core's null scan), reference targets (a
// warning, as in @medplum/core) and fixed/pattern values.
import { deepEquals, deepIncludes } from '@medplum/core';
import type { CompiledElement, CompiledType, ReferenceTargets, TypeRef } from './schema.js';
import { report, type WalkState } from './state.js';

type Json = Record<string, unknown>;

/** Required-binding check of one property's raw value (each item of an array), as bindings.ts does it. */
export function checkCodes(st: WalkState, v: unknown, ref: TypeRef, path: string): void {
  const codes = ref.codes;
  if (!codes || v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      if (typeof item === 'string' && !codes.has(item)) badCode(st, item, ref, `${path}[${i}]`);
    }
  } else if (typeof v === 'string' && !codes.has(v)) {
    badCode(st, v, ref, path);
  }
}

function badCode(st: WalkState, code: string, ref: TypeRef, path: string): void {
  const vs = (ref.valueSet ?? '').split('|')[0] as string;
  report(st, 'error', 'code-invalid', `The code '${code}' is not in the required value set ${vs}`, path);
}

/** The bindings.ts walk over content the structural walk does not enter (e.g. a second choice variant). */
export function bindingsOnly(st: WalkState, v: unknown, typeCode: string, path: string): void {
  const isArr = Array.isArray(v);
  const items = (isArr ? v : [v]) as unknown[];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'object' || item === null) continue;
    const name = typeCode === 'Resource' ? (item as Json).resourceType : typeCode;
    const type = typeof name === 'string' ? st.compiler.type(name) : undefined;
    if (type) bindingsOf(st, item as Json, type, isArr ? `${path}[${i}]` : path);
  }
}

function bindingsOf(st: WalkState, obj: Json, type: CompiledType, path: string): void {
  for (const key in obj) {
    const v = obj[key];
    if (key === 'resourceType' || key.startsWith('_') || v === null || v === undefined) continue;
    const info = type.keys.get(key);
    const el = info?.element;
    const ref = info?.type;
    if (!el || !ref) continue;
    if (ref.codes) checkCodes(st, v, ref, `${path}.${el.name}`);
    else if (!ref.check) bindingsOnly(st, v, ref.code, `${path}.${el.name}`);
  }
}

/** Null checks of one property of `obj` (null value, null array items without a shadow partner). */
export function nullsOf(st: WalkState, obj: Json, k: string, v: unknown, np: string): void {
  if (v === null) {
    report(st, 'error', 'structure', 'Invalid null value', `${np}.${k}`);
    return;
  }
  const arr = v as unknown[];
  for (let i = 0; i < arr.length; i++) {
    if (arr[i] === undefined) {
      report(st, 'error', 'structure', 'Invalid undefined value', `${np}.${k}[${i}]`);
    } else if (arr[i] === null) {
      // null is allowed in an array of primitives whose shadow has content at the same index.
      const partner = obj[k.startsWith('_') ? k.slice(1) : `_${k}`] as Record<number, unknown> | undefined;
      if (!partner?.[i]) report(st, 'error', 'structure', 'Invalid null value', `${np}.${k}[${i}]`);
    }
  }
}

/** Null checks of all content nested in `v` (the value of a property at `path`). */
export function nullsIn(v: object, path: string, st: WalkState): void {
  if (!Array.isArray(v)) {
    nullScan(st, v as Json, path);
    return;
  }
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (typeof item === 'object' && item !== null) nullScan(st, item as Json, `${path}[${i}]`);
  }
}

function nullScan(st: WalkState, obj: Json, path: string): void {
  for (const k in obj) {
    const v = obj[k];
    if (v === null || Array.isArray(v)) nullsOf(st, obj, k, v, path);
    if (typeof v === 'object' && v !== null) nullsIn(v, `${path}.${k}`, st);
  }
}

/** @medplum/core's reference target check: a warning when a literal reference names a type no target allows. */
export function referenceWarning(st: WalkState, item: unknown, targets: ReferenceTargets, path: () => string): void {
  if (typeof item !== 'object' || item === null) return;
  const reference = (item as { reference?: unknown }).reference;
  if (typeof reference !== 'string' || reference.charCodeAt(0) === 35 /* # */) return;
  const q = reference.indexOf('?');
  const end = q >= 0 ? q : reference.indexOf('/');
  const type = end >= 0 ? reference.slice(0, end) : reference;
  if (!type || targets.types.has(type)) return;
  report(st, 'warning', 'structure', `Invalid reference: got "${type}", expected "${targets.text}"`, path());
}

/** fixed/pattern comparison of an element's values (the base definitions declare none; profiles may). */
export function sameValue(items: unknown[], isArr: boolean, code: string, el: CompiledElement): boolean {
  const typed = isArr ? items.map((value) => ({ type: code, value })) : { type: code, value: items[0] };
  if (el.pattern !== undefined && !deepIncludes(typed, el.pattern)) return false;
  if (el.fixed !== undefined && !deepEquals(typed, el.fixed)) return false;
  return true;
}
