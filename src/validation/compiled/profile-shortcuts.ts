// Decides a profile invariant from the JSON alone when it certainly holds, so FHIRPath runs only
// when it might fail. The vital-signs invariants vs-2 (`(component.empty() and hasMember.empty())
// implies (dataAbsentReason.exists() or value.exists())`) and vs-3 (`value.exists() or
// dataAbsentReason.exists()`) are true as soon as the focus carries a non-empty value for one of the
// right elements: `x or true`, `p implies true` and `false implies q` are true whatever the other
// side evaluates to (FHIRPath three-valued logic, fhirpath.html#boolean-logic), and `a.empty()` is
// false when `a` is present. Anything else, or a focus where presence is not certain, goes to FHIRPath.
import { AndAtom, DotAtom, FunctionAtom, ImpliesAtom, OrAtom, SymbolAtom, parseFhirPath } from '@medplum/core';
import type { Atom } from '@medplum/core';
import type { Invariant } from './invariants.js';
import type { Shortcut } from './shortcuts.js';
import type { CompiledType } from './schema.js';
import { isEmptyValue } from './values.js';

/** The invariants with a presence shortcut added where one applies to a focus of `type`. */
export function withPresenceShortcuts(invariants: readonly Invariant[], type: CompiledType | undefined): Invariant[] {
  return invariants.map((inv) => {
    if (inv.shortcut || !type) return inv;
    const shortcut = presenceShortcut(inv.expression, type);
    return shortcut ? { ...inv, shortcut } : inv;
  });
}

function presenceShortcut(expression: string, type: CompiledType): Shortcut | undefined {
  let names: string[] | undefined;
  try {
    names = sufficient(parseFhirPath(expression).child);
  } catch {
    return undefined;
  }
  if (!names?.length) return undefined;
  // JSON properties (value variants, not `_` shadows) carrying each named element of `type`.
  const keys = new Set<string>();
  for (const [key, info] of type.keys) if (info.element && !info.shadow && names.includes(info.element.name)) keys.add(key);
  if (!keys.size) return undefined;
  return (focus) => {
    if (typeof focus !== 'object' || focus === null || Array.isArray(focus) || focus.valueOf() !== focus) return undefined;
    for (const k in focus) {
      if (keys.has(k) && present((focus as Record<string, unknown>)[k])) return true;
    }
    return undefined;
  };
}

/** A value FHIRPath certainly finds: non-empty, and for an array some non-empty item. */
function present(v: unknown): boolean {
  if (Array.isArray(v)) return v.some((item) => !isEmptyValue(item));
  return !isEmptyValue(v);
}

/** Element names the presence of any of which makes `atom` true (`a.exists()`, `x or y`, `p implies q`). */
function sufficient(atom: Atom): string[] | undefined {
  if (atom instanceof OrAtom) return union(sufficient(atom.left), sufficient(atom.right));
  // `false implies q` is true, as is `p implies true`.
  if (atom instanceof ImpliesAtom) return union(falsifying(atom.left), sufficient(atom.right));
  return tested(atom, 'exists');
}

/** Element names the presence of any of which makes `atom` false (`a.empty()`, `x and y`). */
function falsifying(atom: Atom): string[] | undefined {
  if (atom instanceof AndAtom) return union(falsifying(atom.left), falsifying(atom.right));
  return tested(atom, 'empty');
}

/** `name.exists()` or `name.empty()` on a plain element name: that name. */
function tested(atom: Atom, fn: 'exists' | 'empty'): string[] | undefined {
  if (!(atom instanceof DotAtom) || !(atom.left instanceof SymbolAtom) || !(atom.right instanceof FunctionAtom)) return undefined;
  const f = atom.right;
  return f.name === fn && f.args.length === 0 && /^[a-z][A-Za-z]*$/.test(atom.left.name) ? [atom.left.name] : undefined;
}

function union(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  return a && b ? [...a, ...b] : (a ?? b);
}
