// Search-index extraction: evaluates every indexed SearchParameter of a resource's type and turns
// the values into the rows of src/search/index-rows.ts (rules in values.ts). This runs on every
// write, so each type's expressions are compiled once: multi-base expressions are cut down to the
// branches for that type, and plain navigation paths (most of them) get a direct JSON walker typed
// from the StructureDefinitions; anything else is evaluated by @medplum/core's FHIRPath engine.
import {
  AsAtom,
  DotAtom,
  EqualsAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  IsAtom,
  LiteralAtom,
  SymbolAtom,
  UnionAtom,
  evalFhirPathTyped,
  getElementDefinition,
  parseFhirPath,
  toTypedValue,
} from '@medplum/core';
import type { Atom, TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { IndexRows } from './index-rows.js';
import { dropAliasedRows, storageAliases } from './aliases.js';
import { addCompositeRows, compileComposites, type CompiledComposite } from './composite.js';
import { RowSet, addValueRows, targetTypeOf } from './values.js';
import type { ValueContext } from './values.js';

/** Turns resources into their search-index rows. */
export interface IndexExtractor {
  /** All index rows of `resource`; never throws, whatever the resource contains. */
  extract(resource: Resource): IndexRows;
}

/** Options for {@link createIndexExtractor}. */
export interface IndexExtractorOptions {
  /** The server's base URL; absolute references under it are treated as local. */
  baseUrl: string;
  /**
   * Keep the rows that storage aliases make redundant (see aliases.ts). Off for storage; on to see
   * every parameter's own rows, as the tests of extraction semantics do.
   */
  keepAliasedRows?: boolean;
}

// Stored on the resource row itself, or not an index at all.
const SKIPPED_CODES = new Set(['_id', '_lastUpdated', '_text', '_content', '_query', '_list']);
const INDEXED_TYPES = new Set(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);
const BASE_ROOT_RE = /^(\(*)(?:Resource|DomainResource)\./;
const ROOT_RE = /^\(*([A-Za-z]+)/;
// Path steps that yield nothing from nothing, so a path through them is empty when its first element is.
const EMPTY_PRESERVING = new Set(['where', 'ofType', 'as', 'resolve', 'first', 'last', 'extension']);

/** One union branch of a search expression, ready to evaluate. */
export interface CompiledPath {
  readonly expr: FhirPathAtom;
  /** Direct evaluation of `expr` when it is plain navigation (see compileFast). */
  readonly fast?: readonly Step[];
  /** The resource's first element on the path when an absent element implies no result. */
  readonly field?: string;
  /** Set for `X.where(resolve() is T)`: keep only references whose target type is T. */
  readonly resolveIs?: string;
}

interface CompiledParam {
  readonly code: string;
  readonly type: string;
  readonly paths: readonly CompiledPath[];
  readonly patientCompartment: boolean;
}

interface TypeEntry {
  readonly source: readonly SearchParameter[];
  readonly params: readonly CompiledParam[];
  readonly composites: readonly CompiledComposite[];
}

/** Creates an extractor that compiles each type's search expressions on first use. */
export function createIndexExtractor(defs: FhirDefinitions, options: IndexExtractorOptions): IndexExtractor {
  const ctx: ValueContext = { baseUrl: options.baseUrl.replace(/\/+$/, ''), resourceTypes: defs.resourceTypes };
  const compiled = new Map<string, TypeEntry>();

  const entryOf = (resourceType: string): TypeEntry => {
    const source = defs.searchParameters(resourceType);
    let entry = compiled.get(resourceType);
    // definitions hands out a new list after addSearchParameter, which invalidates ours.
    if (!entry || entry.source !== source) {
      // Parameters whose every row a storage alias would drop are not extracted at all — unless
      // they place the resource in a Patient compartment (Encounter's is `patient`).
      const compartmentCodes = new Set(defs.patientCompartmentParams(resourceType));
      const covered = options.keepAliasedRows
        ? new Set<string>()
        : new Set([...storageAliases(defs, resourceType)].filter(([code, a]) => a.covered && !compartmentCodes.has(code)).map(([code]) => code));
      entry = {
        source,
        params: compileParams(defs, resourceType, source).filter((p) => !covered.has(p.code)),
        composites: compileComposites(defs, resourceType).filter((c) => !covered.has(c.code)),
      };
      compiled.set(resourceType, entry);
    }
    return entry;
  };

  return {
    extract(resource) {
      const rows = new RowSet();
      const resourceType = (resource as { resourceType?: unknown } | null)?.resourceType;
      if (typeof resourceType !== 'string' || !defs.resourceTypes.has(resourceType)) return rows.toIndexRows();
      const root = toTypedValue(resource);
      const variables = { '%resource': root, '%rootResource': root, '%context': root };
      const present = presentElements(resource);
      const entry = entryOf(resourceType);
      for (const param of entry.params) {
        for (const path of param.paths) {
          if (path.field !== undefined && !present.has(path.field)) continue;
          try {
            const values = path.fast ? evaluateFast(path.fast, root) : evalFhirPathTyped(path.expr, [root], variables);
            for (const value of values) {
              if (path.resolveIs && targetTypeOf(value.value, resource, ctx) !== path.resolveIs) continue;
              addValueRows(rows, ctx, param.code, param.type, value, param.patientCompartment);
            }
          } catch {
            // An expression that cannot evaluate on odd data contributes nothing.
          }
        }
      }
      addCompositeRows(rows, ctx, entry.composites, root, variables);
      if (resourceType === 'Patient' && typeof resource.id === 'string' && resource.id) {
        rows.compartment('Patient', resource.id);
      }
      return options.keepAliasedRows ? rows.toIndexRows() : dropAliasedRows(rows.toIndexRows(), storageAliases(defs, resourceType));
    },
  };
}

function compileParams(defs: FhirDefinitions, resourceType: string, params: readonly SearchParameter[]): CompiledParam[] {
  const compartmentCodes = new Set(defs.patientCompartmentParams(resourceType));
  const result: CompiledParam[] = [];
  for (const sp of params) {
    const code = sp.code;
    if (!code || SKIPPED_CODES.has(code) || !INDEXED_TYPES.has(sp.type) || !sp.expression) continue;
    const paths = compileExpression(sp.expression, resourceType, defs.resourceTypes);
    if (paths.length === 0) continue;
    result.push({ code, type: sp.type, paths, patientCompartment: compartmentCodes.has(code) });
  }
  return result;
}

/** Compiles the union branches of a (possibly multi-base) expression that apply to `resourceType`. */
export function compileExpression(
  expression: string,
  resourceType: string,
  resourceTypes: ReadonlySet<string>,
): CompiledPath[] {
  let parsed: FhirPathAtom;
  try {
    parsed = parseFhirPath(expression);
  } catch {
    return [];
  }
  const leaves: Atom[] = [];
  collectUnionLeaves(parsed.child, leaves);
  const paths: CompiledPath[] = [];
  for (const leaf of leaves) {
    const text = leaf.toString();
    const root = ROOT_RE.exec(text)?.[1] ?? '';
    let atom = leaf;
    if (root === 'Resource' || root === 'DomainResource') {
      // medplum's evaluator matches a leading type name against resourceType, so name the concrete type.
      try {
        atom = parseFhirPath(text.replace(BASE_ROOT_RE, `$1${resourceType}.`)).child;
      } catch {
        continue;
      }
    } else if (root !== resourceType && resourceTypes.has(root)) {
      continue; // a branch for another base type
    }
    paths.push(compilePath(atom, expression, resourceType));
  }
  return paths;
}

function collectUnionLeaves(atom: Atom, out: Atom[]): void {
  if (atom instanceof UnionAtom) {
    collectUnionLeaves(atom.left, out);
    collectUnionLeaves(atom.right, out);
  } else {
    out.push(atom);
  }
}

/** Replaces a trailing `.where(resolve() is T)` by our own target-type filter (see targetTypeOf). */
function compilePath(atom: Atom, original: string, resourceType: string): CompiledPath {
  let resolveIs: string | undefined;
  if (atom instanceof DotAtom && atom.right instanceof FunctionAtom && atom.right.name === 'where') {
    const condition = atom.right.args[0];
    if (
      atom.right.args.length === 1 &&
      condition instanceof IsAtom &&
      condition.left instanceof FunctionAtom &&
      condition.left.name === 'resolve'
    ) {
      resolveIs = condition.right.toString();
      atom = atom.left;
    }
  }
  const field = firstField(atom, resourceType);
  const fast = compileFast(atom, resourceType);
  return {
    expr: new FhirPathAtom(original, atom),
    ...(fast ? { fast } : {}),
    ...(field !== undefined ? { field } : {}),
    ...(resolveIs !== undefined ? { resolveIs } : {}),
  };
}

/** For `Type.field…` paths made only of navigation and filters, `field`; otherwise undefined. */
function firstField(atom: Atom, resourceType: string): string | undefined {
  let a = atom;
  for (;;) {
    if (a instanceof AsAtom || a instanceof IndexerAtom) {
      a = a.left;
    } else if (a instanceof DotAtom) {
      if (a.left instanceof SymbolAtom) {
        return a.left.name === resourceType && a.right instanceof SymbolAtom ? a.right.name : undefined;
      }
      const step = a.right;
      if (!(step instanceof SymbolAtom || (step instanceof FunctionAtom && EMPTY_PRESERVING.has(step.name)))) return undefined;
      a = a.left;
    } else {
      return undefined;
    }
  }
}

/** Element names present on the resource, with choice elements also under their base name (valueQuantity → value). */
function presentElements(resource: object): Set<string> {
  const names = new Set<string>();
  for (const key of Object.keys(resource)) {
    names.add(key);
    const upper = key.search(/[A-Z]/);
    if (upper > 0) names.add(key.slice(0, upper));
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Fast path: `Type.a.b`, `(Type.a as T)`, `.ofType(T)`, `.as(T)` and `.where(e = 'literal')` walk the JSON
// directly, with each step's FHIR type resolved at compile time exactly as medplum's engine
// resolves it (same element definitions, same choice-type order), so results are identical.

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
function compileFast(atom: Atom, resourceType: string): Step[] | undefined {
  const ops: Op[] = [];
  if (!flattenPath(atom, resourceType, ops) || ops.length === 0) return undefined;
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
    out.push({ op: 'type', type: atom.right.name });
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
    out.push({ op: 'type', type: arg.name });
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
