// A validator for the R4 base definitions that walks plain JSON against types compiled once (see
// schema.ts and walk.ts) instead of @medplum/core's TypedValue crawl; it also checks required
// bindings (bindings.ts rules), so it replaces both for the base definition.
import { toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Issue } from '../../fhir/errors.js';
import type { CodeSets } from '../terminology.js';
import { createCompiler } from './schema.js';
import type { WalkState } from './state.js';
import { checkInvariants, walkObject } from './walk.js';

/** Validates resources against their base R4 definition. */
export interface CompiledValidator {
  /** The issues of `resource` (whose resourceType is a known R4 resource type). */
  validate(resource: Resource): Issue[];
}

/** Creates a compiled validator; types are compiled on first use and kept for its lifetime. */
export function createCompiledValidator(codeSets: CodeSets): CompiledValidator {
  const compiler = createCompiler(codeSets);
  return {
    validate(resource) {
      const type = compiler.type(resource.resourceType);
      if (!type) {
        return [{ severity: 'error', code: 'invalid', diagnostics: `Unknown data type: ${String(resource.resourceType)}` }];
      }
      const root = toTypedValue(resource);
      const st: WalkState = { issues: [], compiler, root, resources: [root] };
      checkInvariants(st, type.invariants, root.type, resource, type.path);
      walkObject(st, resource as unknown as Record<string, unknown>, type, type.path, type.path, type.path, true);
      return st.issues;
    },
  };
}
