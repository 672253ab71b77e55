// The state of one compiled validation, shared by the walk and its checks.
import type { TypedValue } from '@medplum/core';
import type { Issue } from '../../fhir/errors.js';
import type { Compiler } from './schema.js';

/** The state of one validation. */
export interface WalkState {
  readonly issues: Issue[];
  readonly compiler: Compiler;
  /** `%rootResource`. */
  readonly root: TypedValue;
  /** Enclosing resources; the last is `%resource`. */
  readonly resources: TypedValue[];
}

/** Records one issue at `path` (a FHIRPath expression). */
export function report(st: WalkState, severity: Issue['severity'], code: Issue['code'], diagnostics: string, path: string): void {
  st.issues.push({ severity, code, diagnostics, expression: [path] });
}
