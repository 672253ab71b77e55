// Composite search parameters (search.html#composite), e.g. Observation component-code-value-quantity:
// both components must come from the same element (the same component of a blood pressure), so
// each element's first component (a token) is paired with its second (token, quantity, date or
// string) in one row. Expressions are compiled once per type; where every branch is plain
// navigation, the composite is walked with the fast path instead of the FHIRPath engine.
import { evalFhirPathTyped, parseFhirPath, type TypedValue } from '@medplum/core';
import type { FhirPathAtom } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { collectUnionLeaves } from './extract.js';
import { compileFast, evaluateFast, type Step } from './fast-path.js';
import { RowSet, addValueRows, type ValueContext } from './values.js';

/** The component value kinds Helix indexes (the second component's parameter type). */
const VALUE_TYPES = new Set(['token', 'quantity', 'date', 'string']);

/** A composite parameter ready to evaluate. */
export interface CompiledComposite {
  code: string;
  base: FhirPathAtom;
  token: FhirPathAtom;
  value: FhirPathAtom;
  valueType: string;
  /** Fast-path steps per base branch, with component steps relative to the base element. */
  fast?: FastBranch[];
}

interface FastBranch {
  base: readonly Step[];
  token: (readonly Step[])[];
  value: (readonly Step[])[];
}

/** The second component's type when Helix indexes `sp` (token then token/quantity/date/string). */
export function compositeValueType(params: readonly SearchParameter[], sp: SearchParameter): string | undefined {
  if (sp.type !== 'composite' || sp.component?.length !== 2) return undefined;
  const typeOf = (url: string): string | undefined => params.find((p) => p.url === url)?.type;
  const [first, second] = sp.component;
  const valueType = second ? typeOf(second.definition) : undefined;
  return first && typeOf(first.definition) === 'token' && valueType && VALUE_TYPES.has(valueType) ? valueType : undefined;
}

/** The composite parameters of a type that Helix can index: two components, token then value. */
export function compileComposites(defs: FhirDefinitions, resourceType: string): CompiledComposite[] {
  const params = defs.searchParameters(resourceType);
  const out: CompiledComposite[] = [];
  for (const sp of params) {
    const valueType = compositeValueType(params, sp);
    if (!valueType || !sp.code || !sp.expression) continue;
    const [first, second] = sp.component as [NonNullable<SearchParameter['component']>[number], NonNullable<SearchParameter['component']>[number]];
    try {
      out.push({
        code: sp.code,
        base: parseFhirPath(sp.expression),
        token: parseFhirPath(first.expression),
        value: parseFhirPath(second.expression),
        valueType,
        ...fastComposite(resourceType, sp.expression, first.expression, second.expression),
      });
    } catch {
      // An expression the engine cannot parse is not indexed (and so reported as unsupported).
    }
  }
  return out;
}

/**
 * Compiles `base` and its components for the fast path: each component branch is compiled as
 * `<base branch>.<component branch>` from the resource type (so element types resolve exactly as
 * for any other path) and the base's steps are then cut off the front.
 */
function fastComposite(resourceType: string, base: string, token: string, value: string): { fast?: FastBranch[] } {
  try {
    const leaves = (text: string): string[] => {
      const out: Parameters<typeof collectUnionLeaves>[1] = [];
      collectUnionLeaves(parseFhirPath(text).child, out);
      return out.map((a) => a.toString());
    };
    const steps = (text: string): Step[] | undefined => compileFast(parseFhirPath(text).child, resourceType, true);
    const branches: FastBranch[] = [];
    for (const b of leaves(base)) {
      const root = /^[A-Za-z]+/.exec(b)?.[0];
      if (root !== resourceType) {
        if (root && /^[A-Z]/.test(root) && !/^(Resource|DomainResource)$/.test(root)) continue; // another base type's branch
        return {};
      }
      const baseSteps = steps(b);
      if (!baseSteps) return {};
      const relative = (component: string): Step[][] | undefined => {
        const out: Step[][] = [];
        for (const c of leaves(component)) {
          const full = steps(`${b}.${c}`);
          if (!full || JSON.stringify(full.slice(0, baseSteps.length)) !== JSON.stringify(baseSteps)) return undefined;
          out.push(full.slice(baseSteps.length));
        }
        return out;
      };
      const t = relative(token);
      const v = relative(value);
      if (!t || !v) return {};
      branches.push({ base: baseSteps, token: t, value: v });
    }
    return { fast: branches };
  } catch {
    return {};
  }
}

/** Adds the composite rows of one resource. */
export function addCompositeRows(
  rows: RowSet, ctx: ValueContext, composites: readonly CompiledComposite[], root: TypedValue, variables: Record<string, TypedValue>,
): void {
  for (const c of composites) {
    const element = (tokens: TypedValue[], values: TypedValue[]): void => {
      const parts = new RowSet();
      for (const v of tokens) addValueRows(parts, ctx, 't', 'token', v, false);
      for (const v of values) addValueRows(parts, ctx, 'v', c.valueType, v, false);
      addPairs(rows, c, parts);
    };
    if (c.fast) {
      const walk = (branches: readonly (readonly Step[])[], from: TypedValue): TypedValue[] => branches.flatMap((steps) => evaluateFast(steps, from));
      for (const branch of c.fast) {
        for (const e of evaluateFast(branch.base, root)) element(walk(branch.token, e), walk(branch.value, e));
      }
      continue;
    }
    // The engine can throw on odd data; such an element (or resource) contributes nothing.
    const evaluate = (atom: FhirPathAtom, from: TypedValue): TypedValue[] | undefined => {
      try {
        return evalFhirPathTyped(atom, [from], variables);
      } catch {
        return undefined;
      }
    };
    for (const e of evaluate(c.base, root) ?? []) {
      const tokens = evaluate(c.token, e);
      const values = tokens && evaluate(c.value, e);
      if (tokens && values) element(tokens, values);
    }
  }
}

/** Pairs each token of one element with each of its values. */
function addPairs(rows: RowSet, c: CompiledComposite, parts: RowSet): void {
  const found = parts.toIndexRows();
  const none = { vSystem: null, vCode: null, vValue: null, vCanonCode: null, vCanonValue: null, vLow: null, vHigh: null, vNorm: null };
  for (const t of found.token) {
    if (t.param !== 't' || !(t.code || t.system)) continue;
    const base = { param: c.code, tSystem: t.system, tCode: t.code };
    for (const v of found.token) {
      if (v.param === 'v' && (v.code || v.system)) rows.composite({ ...base, ...none, vSystem: v.system, vCode: v.code });
    }
    for (const q of found.quantity) {
      rows.composite({
        ...base, ...none, vSystem: q.system, vCode: q.code, vValue: q.value, vCanonCode: q.canonCode ?? q.code, vCanonValue: q.canonValue ?? q.value,
      });
    }
    for (const d of found.date) rows.composite({ ...base, ...none, vLow: d.low, vHigh: d.high });
    for (const s of found.string) rows.composite({ ...base, ...none, vNorm: s.norm });
  }
}
