// Search-index extraction: evaluates every indexed SearchParameter of a resource's type and turns
// the values into the rows of src/search/index-rows.ts (rules in values.ts). This runs on every
// write, so each type's expressions are compiled once: multi-base expressions are cut down to the
// branches for that type, and plain navigation paths (most of them) get a direct JSON walker typed
// from the StructureDefinitions; anything else is evaluated by @medplum/core's FHIRPath engine.
import {
  AsAtom,
  DotAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  IsAtom,
  SymbolAtom,
  UnionAtom,
  evalFhirPathTyped,
  parseFhirPath,
  toTypedValue,
} from '@medplum/core';
import type { Atom } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { IndexRows } from './index-rows.js';
import { dropAliasedRows, storageAliases } from './aliases.js';
import { addCompositeRows, compileComposites, type CompiledComposite } from './composite.js';
import { compileFast, evaluateFast, type Step } from './fast-path.js';
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
export const INDEXED_TYPES: ReadonlySet<string> = new Set(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);
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

/** The branches of a union expression (`a | b | c` → a, b, c); one branch for anything else. */
export function collectUnionLeaves(atom: Atom, out: Atom[]): void {
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
