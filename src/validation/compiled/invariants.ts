// FHIRPath invariants of the base definitions, parsed once per expression and evaluated the way
// @medplum/core's validator evaluates them (same variables, same "exactly one true" reading), so
// that both validators agree on every constraint.
import { evalFhirPathTyped, parseFhirPath, toTypedValue } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import { shortcutOf, type Shortcut } from './shortcuts.js';

/** Constraint keys @medplum/core does not evaluate (they need descendants() or are back-compat only). */
const SKIPPED = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

/** What one evaluation found: it holds, it fails, or it could not be evaluated. */
export type Outcome = true | false | Error;

/** One error-severity invariant, ready to evaluate on element instances. */
export interface Invariant {
  readonly key: string;
  readonly description: string;
  readonly expression: string;
  /** Decides the invariant from the focus's JSON alone when that is certain (shortcuts.ts). */
  shortcut?: Shortcut;
  /** Evaluates the invariant with FHIRPath, with `context` as its focus. */
  test(context: TypedValue, variables: Record<string, TypedValue>): Outcome;
  /** The R4 reading of an `x is T` invariant on an empty x (see issues.ts); undefined when not applicable. */
  retest?: (context: TypedValue, variables: Record<string, TypedValue>) => boolean;
}

/** The parts of a constraint the compiler needs (medplum's Constraint shape). */
export interface ConstraintSource {
  key: string;
  severity: string;
  expression: string;
  description: string;
}

/** The `%ucum` variable every constraint sees. */
export const UCUM_VARIABLE: TypedValue = toTypedValue('http://unitsofmeasure.org');

// The same rewrite as issues.ts applies to reported invariant failures: `x is T` becomes
// `(x.exists() and x is T)`, the reading under which R4's invariants (ras-2) were validated.
const IS_OPERAND = /(^|[\s(])([A-Za-z_][\w.]*)\s+is\s+([A-Za-z][\w.]*)/g;

/** Compiles the constraints medplum would check (severity error, not skipped); parsed ASTs are shared via `cache`. */
export function compileInvariants(constraints: readonly ConstraintSource[] | undefined, cache: Map<string, Invariant>): Invariant[] {
  const out: Invariant[] = [];
  for (const c of constraints ?? []) {
    if (c.severity !== 'error' || SKIPPED.has(c.key)) continue;
    const id = `${c.key}\u0000${c.expression}\u0000${c.description}`;
    let inv = cache.get(id);
    if (!inv) {
      inv = compileOne(c);
      cache.set(id, inv);
    }
    out.push(inv);
  }
  return out;
}

function compileOne(c: ConstraintSource): Invariant {
  let atom: ReturnType<typeof parseFhirPath> | Error;
  try {
    atom = parseFhirPath(c.expression);
  } catch (err) {
    atom = err instanceof Error ? err : new Error(String(err));
  }
  const rewritten = c.expression.replace(IS_OPERAND, '$1($2.exists() and $2 is $3)');
  let retest: Invariant['retest'];
  if (rewritten !== c.expression) {
    try {
      const alt = parseFhirPath(rewritten);
      retest = (context, variables) => {
        try {
          return isTrue(evalFhirPathTyped(alt, [context], variables));
        } catch {
          return false;
        }
      };
    } catch {
      retest = undefined;
    }
  }
  const shortcut = atom instanceof Error ? undefined : shortcutOf(c.expression, atom);
  const test = (context: TypedValue, variables: Record<string, TypedValue>): Outcome => {
    if (atom instanceof Error) return atom;
    try {
      return isTrue(evalFhirPathTyped(atom, [context], variables));
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };
  return { key: c.key, description: c.description, expression: c.expression, test, ...(retest ? { retest } : {}), ...(shortcut ? { shortcut } : {}) };
}

function isTrue(result: TypedValue[]): boolean {
  return result.length === 1 && result[0]?.value === true;
}
