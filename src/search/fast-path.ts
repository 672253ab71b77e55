// Fast path for search expressions: `Type.a.b`, `(Type.a as T)`, `.ofType(T)`, `.as(T)` and
// `.where(e = 'literal')` walk the JSON directly, with each step's FHIR type resolved at compile
// time exactly as medplum's engine resolves it (same element definitions, same choice-type order),
// so results are identical; anything else returns undefined and takes the full engine.
import { AsAtom, DotAtom, EqualsAtom, FunctionAtom, LiteralAtom, SymbolAtom, getElementDefinition } from '@medplum/core';
import type { Atom, TypedValue } from '@medplum/core';

/** One step of a fast path. */
export type Step =
  | { readonly kind: 'child'; readonly key: string; readonly type: string }
  | { readonly kind: 'choice'; readonly options: readonly (readonly [key: string, type: string])[] }
  | { readonly kind: 'type'; readonly type: string }
  | { readonly kind: 'match'; readonly key: string; readonly literal: string };

type Op = { op: 'child'; name: string } | { op: 'type'; type: string } | { op: 'match'; key: string; literal: string };

/** Evaluates a compiled fast path from the resource's typed value. */
export function evaluateFast(steps: readonly Step[], root: TypedValue): TypedValue[] {
  let current: TypedValue[] = [root];
  for (const step of steps) {
    const next: TypedValue[] = [];
    for (const item of current) {
      if (step.kind === 'type') {
        if (item.type === step.type) next.push(item);
        continue;
      }
      const obj = item.value as Record<string, unknown> | null | undefined;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) continue;
      if (step.kind === 'match') {
        if (obj[step.key] === step.literal) next.push(item);
      } else if (step.kind === 'child') {
        pushValues(next, obj[step.key], step.type);
      } else {
        for (const [key, type] of step.options) {
          const value = obj[key];
          if (value !== undefined) {
            pushValues(next, value, type);
            break;
          }
        }
      }
    }
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}

function pushValues(out: TypedValue[], value: unknown, type: string): void {
  if (value === undefined || value === null || value === '') return;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== undefined && v !== null) out.push({ type, value: v });
  } else if (typeof value !== 'object' || hasKeys(value)) {
    out.push({ type, value });
  }
}

function hasKeys(obj: object): boolean {
  for (const _ in obj) return true;
  return false;
}

/** Compiles a plain navigation path, or returns undefined when it needs the full engine. */
export function compileFast(atom: Atom, resourceType: string, allowEmpty = false): Step[] | undefined {
  const ops: Op[] = [];
  if (!flattenPath(atom, resourceType, ops) || (ops.length === 0 && !allowEmpty)) return undefined;
  const steps: Step[] = [];
  let types: string[] = [resourceType];
  for (const op of ops) {
    if (op.op === 'type') {
      types = types.filter((t) => t === op.type);
      const last = steps[steps.length - 1];
      if (last?.kind === 'choice') steps[steps.length - 1] = { kind: 'choice', options: last.options.filter(([, t]) => t === op.type) };
      else steps.push({ kind: 'type', type: op.type });
      continue;
    }
    if (types.length !== 1) return undefined;
    const element = getElementDefinition(types[0] as string, op.op === 'child' ? op.name : op.key);
    const elementTypes = element?.type?.map((t) => t.code) ?? [];
    if (!element || elementTypes.length === 0) return undefined;
    const name = element.path.slice(element.path.lastIndexOf('.') + 1);
    if (op.op === 'match') {
      if (name !== op.key || element.isArray) return undefined;
      steps.push({ kind: 'match', key: op.key, literal: op.literal });
    } else if (name === `${op.name}[x]`) {
      steps.push({ kind: 'choice', options: elementTypes.map((t) => [op.name + t.charAt(0).toUpperCase() + t.slice(1), t]) });
      types = elementTypes;
    } else if (name === op.name && elementTypes.length === 1 && elementTypes[0] !== 'Resource') {
      steps.push({ kind: 'child', key: op.name, type: elementTypes[0] as string });
      types = elementTypes;
    } else {
      return undefined; // e.g. contained resources, whose type depends on the data
    }
  }
  return steps;
}

/** Flattens `Type.a.b…` into operations; false for anything beyond plain navigation. */
function flattenPath(atom: Atom, resourceType: string, out: Op[]): boolean {
  if (atom instanceof SymbolAtom) return atom.name === resourceType;
  if (atom instanceof AsAtom) {
    if (!(atom.right instanceof SymbolAtom) || !flattenPath(atom.left, resourceType, out)) return false;
    out.push({ op: 'type', type: fhirTypeName(atom.right.name) });
    return true;
  }
  if (!(atom instanceof DotAtom) || !flattenPath(atom.left, resourceType, out)) return false;
  const step = atom.right;
  if (step instanceof SymbolAtom) {
    out.push({ op: 'child', name: step.name });
    return true;
  }
  if (!(step instanceof FunctionAtom) || step.args.length !== 1) return false;
  const arg = step.args[0];
  // FHIRPath's as(T) filters like ofType(T); medplum's engine passes everything through, which would
  // index Condition.onsetDateTime as onset-info text, so these paths must take the fast path.
  if ((step.name === 'ofType' || step.name === 'as') && arg instanceof SymbolAtom) {
    out.push({ op: 'type', type: fhirTypeName(arg.name) });
    return true;
  }
  if (
    step.name === 'where' &&
    arg instanceof EqualsAtom &&
    arg.left instanceof SymbolAtom &&
    arg.right instanceof LiteralAtom &&
    typeof arg.right.value.value === 'string'
  ) {
    out.push({ op: 'match', key: arg.left.name, literal: arg.right.value.value });
    return true;
  }
  return false;
}

// FHIRPath's System types name FHIR's primitives in expressions such as `value.as(DateTime)`
// (Observation code-value-date), where the FHIR type `dateTime` is meant.
const SYSTEM_TO_FHIR: Record<string, string> = {
  Boolean: 'boolean', String: 'string', Integer: 'integer', Decimal: 'decimal', Date: 'date', DateTime: 'dateTime', Time: 'time',
};

function fhirTypeName(name: string): string {
  return SYSTEM_TO_FHIR[name] ?? name;
}
