// Composite search parameters (search.html#composite), e.g. Observation component-code-value-quantity:
// both components must come from the same element (the same component of a blood pressure), so
// each element's first component (a token) is paired with its second (token, quantity, date or
// string) in one row. Expressions are compiled once per type.
import { evalFhirPathTyped, parseFhirPath, type TypedValue } from '@medplum/core';
import type { FhirPathAtom } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { FhirDefinitions } from '../fhir/definitions.js';
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
      });
    } catch {
      // An expression the engine cannot parse is not indexed (and so reported as unsupported).
    }
  }
  return out;
}

/** Adds the composite rows of one resource. */
export function addCompositeRows(
  rows: RowSet, ctx: ValueContext, composites: readonly CompiledComposite[], root: TypedValue, variables: Record<string, TypedValue>,
): void {
  for (const c of composites) {
    let elements: TypedValue[];
    try {
      elements = evalFhirPathTyped(c.base, [root], variables);
    } catch {
      continue;
    }
    for (const element of elements) {
      const parts = new RowSet();
      try {
        for (const v of evalFhirPathTyped(c.token, [element], variables)) addValueRows(parts, ctx, 't', 'token', v, false);
        for (const v of evalFhirPathTyped(c.value, [element], variables)) addValueRows(parts, ctx, 'v', c.valueType, v, false);
      } catch {
        continue;
      }
      const found = parts.toIndexRows();
      for (const t of found.token.filter((x) => x.param === 't' && (x.code || x.system))) {
        const base = { param: c.code, tSystem: t.system, tCode: t.code };
        const none = { vSystem: null, vCode: null, vValue: null, vCanonCode: null, vCanonValue: null, vLow: null, vHigh: null, vNorm: null };
        for (const v of found.token.filter((x) => x.param === 'v' && (x.code || x.system))) rows.composite({ ...base, ...none, vSystem: v.system, vCode: v.code });
        for (const q of found.quantity) {
          rows.composite({
            ...base, ...none, vSystem: q.system, vCode: q.code, vValue: q.value, vCanonCode: q.canonCode ?? q.code, vCanonValue: q.canonValue ?? q.value,
          });
        }
        for (const d of found.date) rows.composite({ ...base, ...none, vLow: d.low, vHigh: d.high });
        for (const s of found.string) rows.composite({ ...base, ...none, vNorm: s.norm });
      }
    }
  }
}
