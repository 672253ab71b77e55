// Required bindings on `code` elements. @medplum/core's validator does not look at bindings at all,
// so a status such as Observation.status = "bogus" would pass it; this walk closes that gap for every
// required binding whose value set can be enumerated locally (see terminology.ts).
// It visits only the properties present in the JSON (medplum's crawler visits every element the
// schema defines, which doubled the cost of validation), using medplum's compiled type schemas.
import { getNestedProperty, toTypedValue, tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema, TypedValueWithPath } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Issue } from '../fhir/errors.js';
import { fhirPathOf } from './paths.js';
import type { CodeSets } from './terminology.js';

type Json = Record<string, unknown>;

/** Issues for `code` values outside the enumerable value set of a required binding. */
export function requiredBindingIssues(resource: Resource, codeSets: CodeSets): Issue[] {
  const issues: Issue[] = [];
  const schema = tryGetDataType(resource.resourceType);
  if (schema) walk(resource as unknown as Json, schema, resource.resourceType, codeSets, issues);
  return issues;
}

/**
 * Required bindings as a profile states them on its own element paths, including nested ones such
 * as bodytemp's `value[x].code` (ucum-bodytemp), which the base walk sees only with the base binding.
 */
export function profileBindingIssues(resource: Resource, profile: InternalTypeSchema, codeSets: CodeSets): Issue[] {
  const issues: Issue[] = [];
  const root = { ...toTypedValue(resource), path: resource.resourceType };
  for (const [key, element] of Object.entries(profile.elements)) {
    if (element.binding?.strength !== 'required') continue;
    if (!element.type.some((t) => t.code === 'code')) continue;
    for (const v of getNestedProperty(root, key, { withPath: true }).flat() as TypedValueWithPath[]) {
      const raw: unknown = v.value == null ? undefined : (v.value as object).valueOf();
      checkCode(raw, element, fhirPathOf(v.path), codeSets, issues);
    }
  }
  return issues;
}

function walk(obj: Json, schema: InternalTypeSchema, path: string, codeSets: CodeSets, issues: Issue[]): void {
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'resourceType' || key.startsWith('_') || value === null || value === undefined) continue;
    const found = elementFor(schema, key);
    if (!found) continue;
    const [name, element, typeCode] = found;
    const values = Array.isArray(value) ? value : [value];
    values.forEach((v, i) => {
      const at = `${path}.${name}${Array.isArray(value) ? `[${i}]` : ''}`;
      if (typeCode === 'code') {
        checkCode(v, element, at, codeSets, issues);
      } else if (typeof v === 'object' && v !== null) {
        // Resource-typed elements (contained, Bundle.entry.resource) take their type from the content.
        const type = typeCode === 'Resource' ? (v as Json).resourceType : typeCode;
        const nested = typeof type === 'string' ? tryGetDataType(type) : undefined;
        if (nested) walk(v as Json, nested, at, codeSets, issues);
      }
    });
  }
}

/** The element a JSON key stands for: [FHIRPath name, element, type code], resolving choice types. */
function elementFor(schema: InternalTypeSchema, key: string): [string, InternalSchemaElement, string] | undefined {
  const direct = schema.elements[key];
  if (direct) return direct.type.length === 1 ? [key, direct, (direct.type[0] as { code: string }).code] : undefined;
  for (let i = 1; i < key.length; i++) {
    if (key[i] !== key[i].toUpperCase() || key[i] === key[i].toLowerCase()) continue;
    const name = key.slice(0, i);
    const choice = schema.elements[`${name}[x]`];
    if (!choice) continue;
    const suffix = key.slice(i);
    const type = choice.type.find((t) => t.code.toLowerCase() === suffix.toLowerCase());
    return type ? [name, choice, type.code] : undefined;
  }
  return undefined;
}

function checkCode(value: unknown, element: InternalSchemaElement, at: string, codeSets: CodeSets, issues: Issue[]): void {
  const binding = element.binding;
  if (typeof value !== 'string' || binding?.strength !== 'required' || !binding.valueSet) return;
  const codes = codeSets.codes(binding.valueSet);
  if (!codes || codes.has(value)) return;
  issues.push({
    severity: 'error',
    code: 'code-invalid',
    diagnostics: `The code '${value}' is not in the required value set ${binding.valueSet.split('|')[0]}`,
    expression: [at],
  });
}
