// Invariants decided without FHIRPath where the answer is certain from the JSON alone. Most R4
// invariants are guarded by an element that is usually absent (`dataAbsentReason.empty() or ...`,
// `duration.exists() implies ...`, dom-2's `contained.contained.empty()`): when no property of the
// focus can carry that element, medplum's evaluation returns true, so the walk may skip it.
// Everything else, and every focus that is not a plain object, still goes through FHIRPath.
import { AndAtom, DotAtom, FunctionAtom, ImpliesAtom, OrAtom, SymbolAtom, tryGetDataType } from '@medplum/core';
import type { Atom, FhirPathAtom } from '@medplum/core';
import { isEmptyValue } from './values.js';

/** Decides an invariant on a focus: true when it certainly holds, undefined when FHIRPath must decide. */
export type Shortcut = (focus: unknown) => true | false | undefined;

// Functions that map an empty input to an empty output, so a path through them stays empty.
const EMPTY_PRESERVING = new Set(['where', 'select', 'ofType', 'resolve', 'as', 'first', 'last', 'distinct']);

/** The element a path starts from (`contained` in `contained.meta.security`), if every step keeps emptiness. */
function head(atom: Atom): string | undefined {
  if (atom instanceof SymbolAtom) return /^[a-z][A-Za-z]*$/.test(atom.name) ? atom.name : undefined;
  if (!(atom instanceof DotAtom)) return undefined;
  const right = (atom as unknown as { right: Atom }).right;
  const stepOk = right instanceof SymbolAtom || (right instanceof FunctionAtom && EMPTY_PRESERVING.has(right.name));
  return stepOk ? head((atom as unknown as { left: Atom }).left) : undefined;
}

/** `path.empty()` (true when the head is absent) or `path.exists()` (false then): the head. */
function testedHead(atom: Atom, fn: 'empty' | 'exists'): string | undefined {
  if (!(atom instanceof DotAtom)) return undefined;
  const { left, right } = atom as unknown as { left: Atom; right: Atom };
  if (!(right instanceof FunctionAtom) || right.name !== fn || right.args.length) return undefined;
  return head(left);
}

/** Elements whose joint absence makes the expression true, or undefined for other expression shapes. */
function guardOf(root: Atom): string[] | undefined {
  const alone = testedHead(root, 'empty');
  if (alone) return [alone];
  const { left, right } = root as unknown as { left?: Atom; right?: Atom };
  if (!left || !right) return undefined;
  if (root instanceof OrAtom) {
    const h = testedHead(left, 'empty');
    return h ? [h] : undefined;
  }
  if (root instanceof ImpliesAtom) {
    const h = testedHead(left, 'exists');
    return h ? [h] : undefined;
  }
  if (root instanceof AndAtom) {
    const [a, b] = [testedHead(left, 'empty'), testedHead(right, 'empty')];
    return a && b ? [a, b] : undefined;
  }
  return undefined;
}

/** A plain JSON object focus (not a primitive, array or boxed primitive with extensions). */
function plain(focus: unknown): focus is Record<string, unknown> {
  return typeof focus === 'object' && focus !== null && !Array.isArray(focus) && focus.valueOf() === focus;
}

/** The shortcut for a parsed invariant, or undefined when it has none. */
export function shortcutOf(expression: string, atom: FhirPathAtom): Shortcut | undefined {
  if (expression === 'extension.exists() != value.exists()') return ext1();
  const heads = guardOf(atom.child);
  if (!heads) return undefined;
  // A property can carry an element under its name, a choice variant (`valueQuantity`) or a shadow.
  const prefixes = heads.flatMap((h) => [h, `_${h}`]);
  return (focus) => {
    if (!plain(focus)) return undefined;
    for (const k in focus) {
      for (const p of prefixes) if (k.startsWith(p)) return undefined;
    }
    return true;
  };
}

/** ext-1 on an Extension: `extension` present exactly when no value[x] is (medplum reads the first variant in type order). */
function ext1(): Shortcut | undefined {
  const variants = tryGetDataType('Extension')?.elements['value[x]']?.type.map((t) => `value${t.code.charAt(0).toUpperCase()}${t.code.slice(1)}`);
  if (!variants) return undefined;
  return (focus) => {
    if (!plain(focus)) return undefined;
    for (const k in focus) if (k.startsWith('_')) return undefined;
    // FHIRPath exists() is true for a non-empty collection none of whose items is empty.
    const ext = focus.extension;
    if (ext !== undefined && !Array.isArray(ext)) return undefined;
    const hasExtension = ext !== undefined && ext.length > 0 && ext.every((item: unknown) => !isEmptyValue(item));
    let hasValue = false;
    for (const v of variants) {
      const value = focus[v];
      if (value === undefined) continue;
      if (Array.isArray(value)) return undefined;
      hasValue = !isEmptyValue(value);
      break;
    }
    return hasExtension !== hasValue;
  };
}
