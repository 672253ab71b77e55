// Element paths as @medplum/core reports them, turned into FHIRPath a client can evaluate.
import { evalFhirPathTyped, isResource, toTypedValue } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/** FHIRPath for a medplum element path: choice elements lose their `[x]` (`Observation.value[x]` → `Observation.value`). */
export function fhirPathOf(path: string): string {
  return path.replace(/\[x\]/g, '');
}

/** The node a medplum path points at, with the innermost resource enclosing it (for `%resource`). */
export interface ResolvedNode {
  node: TypedValue;
  resource: Resource;
}

/** Resolves a medplum element path (`RiskAssessment.prediction[0]`) inside `root`; undefined unless exactly one node. */
export function resolvePath(root: Resource, path: string): ResolvedNode | undefined {
  const start = toTypedValue(root);
  const steps = fhirPathOf(path).split('.');
  // The first step names the root type; indexers like `item[0]` are valid FHIRPath as they stand.
  let current: TypedValue[] = [start];
  let resource = root;
  for (const step of steps.slice(1)) {
    // Back-quote the name so elements called like keywords (`div`, `contains`) still parse.
    current = evalFhirPathTyped(step.replace(/^([^[]+)/, '`$1`'), current);
    if (current.length !== 1) return undefined;
    const value = (current[0] as TypedValue).value as unknown;
    if (isResource(value)) resource = value as Resource;
  }
  return current.length === 1 ? { node: current[0] as TypedValue, resource } : undefined;
}
