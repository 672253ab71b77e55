// Turns @medplum/core's validation outcome into Helix issues, after removing the two kinds of issue
// it raises on valid R4 content. Each filter re-checks the reported value against the R4 rule itself,
// so it can only ever drop an issue that the specification says is not one.
import { OperationOutcomeError, evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Issue } from '../fhir/errors.js';
import { fhirPathOf, resolvePath } from './paths.js';

/** Runs one medplum validation and returns its issues, whether it threw them or returned them. */
export function medplumIssues(run: () => OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  try {
    return run();
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
    const message = err instanceof Error ? err.message : String(err);
    return [{ severity: 'error', code: 'processing', details: { text: `Validation could not complete: ${message}` } }];
  }
}

/** Drops issues that R4 does not support (see filters below) and maps the rest; `profile` labels profile issues. */
export function toHelixIssues(resource: Resource, raw: OperationOutcomeIssue[], profile?: string): Issue[] {
  const out: Issue[] = [];
  for (const issue of raw) {
    if (isFalseBase64Issue(resource, issue) || isFalseInvariantIssue(resource, issue)) continue;
    const text = issue.details?.text ?? issue.diagnostics ?? 'Invalid resource';
    const path = issue.expression?.[0];
    out.push({
      severity: issue.severity,
      code: helixCode(issue, text),
      diagnostics: profile ? `${text} (profile ${profile})` : text,
      ...(path ? { expression: [fhirPathOf(path)] } : {}),
    });
  }
  return out;
}

function helixCode(issue: OperationOutcomeIssue, text: string): Issue['code'] {
  if (text === 'Missing required property') return 'required';
  if (text === 'Value did not match expected pattern') return 'value';
  return issue.code;
}

// R4 defines base64Binary by the regex `(\s*([0-9a-zA-Z\+\=]){4}\s*)+` (datatypes.html), which allows
// whitespace between quads; @medplum/core's pattern does not, and rejects line-wrapped content such as
// the official Binary-example. Accept the value when it is valid base64 once whitespace is removed.
const BASE64 = /^([A-Za-z\d+/]{4})*([A-Za-z\d+/]{2}==|[A-Za-z\d+/]{3}=)?$/;

function isFalseBase64Issue(resource: Resource, issue: OperationOutcomeIssue): boolean {
  const path = issue.expression?.[0];
  if (issue.details?.text !== 'Invalid base64Binary format' || !path) return false;
  const value = safely(() => resolvePath(resource, path))?.node.value as unknown;
  const raw = typeof value === 'object' && value !== null ? value.valueOf() : value;
  return typeof raw === 'string' && /\S/.test(raw) && BASE64.test(raw.replace(/\s+/g, ''));
}

// FHIRPath's `is` on an empty collection returns empty, so an invariant like R4's ras-2
// `probability is decimal implies (probability as decimal) <= 100` evaluates to empty (a failure)
// when probability is absent. R4's invariants were written for, and its examples validated by, the
// reference implementation, where `x is T` is false for an empty x, making such an invariant true.
// Re-evaluate with that reading, spelled out as `(x.exists() and x is T)`, and keep the failure
// unless it then holds.
const IS_OPERAND = /(^|[\s(])([A-Za-z_][\w.]*)\s+is\s+([A-Za-z][\w.]*)/g;

function isFalseInvariantIssue(resource: Resource, issue: OperationOutcomeIssue): boolean {
  const path = issue.expression?.[0];
  if (issue.code !== 'invariant' || !path || !issue.diagnostics) return false;
  const expression = safely(() => (JSON.parse(issue.diagnostics as string) as { fhirpath?: string }).fhirpath);
  const rewritten = expression?.replace(IS_OPERAND, '$1($2.exists() and $2 is $3)');
  if (!rewritten || rewritten === expression) return false;
  const resolved = safely(() => resolvePath(resource, path));
  if (!resolved) return false;
  const variables: Record<string, TypedValue> = {
    '%context': resolved.node,
    '%resource': toTypedValue(resolved.resource),
    '%rootResource': toTypedValue(resource),
    '%ucum': toTypedValue('http://unitsofmeasure.org'),
  };
  const result = safely(() => evalFhirPathTyped(rewritten, [resolved.node], variables));
  return result?.length === 1 && result[0]?.value === true;
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
