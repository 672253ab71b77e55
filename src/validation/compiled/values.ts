// Small JSON-value helpers that reproduce @medplum/core's reading of FHIR JSON (emptiness, and the
// merge of a primitive with its `_` shadow), so the compiled validator sees values as it does.

/** @medplum/core's isEmpty: null, undefined, '', and objects or arrays without content. */
export function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v === '';
  if (typeof v !== 'object') return false;
  if ('length' in v && (v as { length: number }).length > 0) return false;
  for (const _k in v) return false;
  return true;
}

/** Thrown when a `_` shadow is not an object (@medplum/core stops validating there). */
export class ShadowError extends Error {}

/** A value with its shadow's properties added, as @medplum/core builds it (boxed for primitives). */
export function withShadow(value: unknown, shadow: unknown): unknown {
  if (!shadow) return value;
  if (typeof shadow !== 'object') throw new ShadowError('A primitive extension (_ property) must be a JSON object');
  if (value === undefined || value === null) return { ...shadow };
  if (typeof value === 'object') return Object.assign({}, value, shadow);
  try {
    return Object.assign(Object(value) as object, shadow);
  } catch {
    // An array shadow of a string writes to its read-only indexes; R4 wants shadows shaped like their values.
    throw new ShadowError('A primitive extension must have the shape of its value');
  }
}

/** Merges a property and its shadow (arrays item by item), as @medplum/core's property getter does. */
export function mergeShadow(value: unknown, shadow: unknown): unknown {
  if (!shadow) return value;
  if (typeof shadow !== 'object') throw new ShadowError('A primitive extension (_ property) must be a JSON object');
  const items = shadow as Record<number, unknown> & { length?: number };
  if (Array.isArray(value)) {
    const out = value.slice();
    const n = Math.max(value.length, Array.isArray(shadow) ? shadow.length : 0);
    for (let i = 0; i < n; i++) out[i] = withShadow(out[i], items[i]);
    return out;
  }
  if (!value && Array.isArray(shadow)) return shadow.map((s: unknown) => withShadow(undefined, s));
  return withShadow(value, shadow);
}

/** The primitive inside a value and the extension content beside it (@medplum/core's unpacking). */
export function unpackPrimitive(item: unknown): [primitive: unknown, hasPrimitive: boolean, extension: Record<string, unknown> | undefined] {
  if (typeof item !== 'object' || item === null) return [item, true, undefined];
  const prim = item.valueOf();
  if (prim === item) return [undefined, false, item as Record<string, unknown>];
  const own = typeof prim === 'string' ? prim.length : 0;
  let ext: Record<string, unknown> | undefined;
  for (const k of Object.keys(item)) {
    if (own && /^\d+$/.test(k) && Number(k) < own) continue;
    (ext ??= {})[k] = (item as Record<string, unknown>)[k];
  }
  return [prim, true, ext];
}
