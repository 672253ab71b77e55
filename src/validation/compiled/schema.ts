// Compiles @medplum/core's parsed R4 type schemas (built from the StructureDefinition snapshots)
// into lookup tables keyed by JSON property name, once per type and only when a type is first met.
// The walk in walk.ts then needs one Map lookup per JSON property instead of schema crawling.
import { tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import type { CodeSets } from '../terminology.js';
import { compileInvariants, type Invariant } from './invariants.js';
import { primitiveCheck, type PrimitiveCheck } from './primitives.js';

/** One allowed type of an element, with the JSON property that carries it. */
export interface TypeRef {
  /** FHIR type code (`Quantity`, `code`, `ObservationComponent`, `Resource`). */
  readonly code: string;
  /** JSON property name (`valueQuantity`, or `status` for a single-type element). */
  readonly key: string;
  /** The primitive's `_` shadow property. */
  readonly shadow: string;
  /** The value check for primitive types; undefined for complex types. */
  readonly check: PrimitiveCheck | undefined;
  /** Codes allowed by a required binding of a `code` element, when enumerable (see bindings.ts). */
  readonly codes: ReadonlySet<string> | undefined;
  /** The bound value set (for messages). */
  readonly valueSet: string | undefined;
}

/** An element of a type, as the walk uses it. */
export interface CompiledElement {
  /** Name in FHIRPath (`value` for `value[x]`). */
  readonly name: string;
  /** Element path without `[x]`, where @medplum/core reports cardinality (`Observation.component`). */
  readonly path: string;
  readonly min: number;
  readonly max: number;
  readonly isArray: boolean;
  readonly types: readonly TypeRef[];
  readonly invariants: readonly Invariant[];
  /** Reference targets, for the (warning-only) reference type check; undefined when it cannot warn. */
  readonly targets: ReferenceTargets | undefined;
  readonly fixed: unknown;
  readonly pattern: unknown;
}

/** The resource types a Reference element names as targets, and the list for the warning text. */
export interface ReferenceTargets {
  readonly types: ReadonlySet<string>;
  readonly text: string;
}

const HL7 = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM = 'https://medplum.com/fhir/StructureDefinition/';

/**
 * @medplum/core warns about a literal reference to a type no target names, unless a target is
 * `Resource` or a profile outside the core namespaces (which it cannot check): decided here once.
 */
function referenceTargets(targets: readonly string[] | undefined): ReferenceTargets | undefined {
  if (!targets) return undefined;
  const types = new Set<string>();
  for (const t of targets) {
    if (t === `${HL7}Resource`) return undefined;
    if (t.startsWith(HL7)) types.add(t.slice(HL7.length));
    else if (t.startsWith(MEDPLUM)) types.add(t.slice(MEDPLUM.length));
    else return undefined;
  }
  return { types, text: targets.join('", "') };
}

/** What a JSON property of an object of this type means. */
export interface KeyInfo {
  /** The element whose value (or `_` shadow) this property carries. */
  readonly element: CompiledElement | undefined;
  readonly type: TypeRef | undefined;
  /** The property starts with `_`. */
  readonly shadow: boolean;
  /** The property, or the property without its `_`, is an element name: never an additional property. */
  readonly known: boolean;
  /** The choice element @medplum/core's camel-case prefix scan finds for this property. */
  readonly choice: CompiledElement | undefined;
}

/** A compiled type: elements and the meaning of every JSON property its instances may carry. */
export interface CompiledType {
  readonly name: string;
  readonly path: string;
  readonly required: readonly CompiledElement[];
  readonly keys: ReadonlyMap<string, KeyInfo>;
  /** Choice elements by name (`value`), for properties not in `keys`. */
  readonly choices: ReadonlyMap<string, CompiledElement>;
  /** Invariants of the type itself, checked on the root resource only (as @medplum/core does). */
  readonly invariants: readonly Invariant[];
  /** Element names (with `[x]`) as the schema lists them. */
  readonly elementKeys: ReadonlySet<string>;
}

/** Compiles types on first use and keeps them; one per validator. */
export interface Compiler {
  /** The compiled type, or undefined when @medplum/core does not know `name`. */
  type(name: string): CompiledType | undefined;
}

/** Creates a compiler whose required-binding code sets come from `codeSets`. */
export function createCompiler(codeSets: CodeSets): Compiler {
  const types = new Map<string, CompiledType | null>();
  const invariantCache = new Map<string, Invariant>();
  return {
    type(name) {
      let t = types.get(name);
      if (t === undefined) {
        const schema = Object.hasOwn(dataTypesGuard, name) ? undefined : tryGetDataType(name);
        t = schema ? compileType(schema, codeSets, invariantCache) : null;
        types.set(name, t);
      }
      return t ?? undefined;
    },
  };
}

// Object.prototype names that a plain-object registry lookup would wrongly resolve.
const dataTypesGuard: Record<string, true> = Object.create(null) as Record<string, true>;
for (const n of Object.getOwnPropertyNames(Object.prototype)) dataTypesGuard[n] = true;

function compileType(schema: InternalTypeSchema, codeSets: CodeSets, cache: Map<string, Invariant>): CompiledType {
  const keys = new Map<string, KeyInfo>();
  const choices = new Map<string, CompiledElement>();
  const required: CompiledElement[] = [];
  const compiled: CompiledElement[] = [];
  const elementKeys = new Set(Object.keys(schema.elements));
  for (const [key, element] of Object.entries(schema.elements)) {
    const el = compileElement(key, element, codeSets, cache);
    compiled.push(el);
    if (el.min > 0) required.push(el);
    if (key.endsWith('[x]')) choices.set(el.name, el);
  }
  const scan = (prop: string): CompiledElement | undefined => choicePrefix(prop, choices);
  for (const key of elementKeys) {
    keys.set(key, { element: undefined, type: undefined, shadow: false, known: true, choice: scan(key) });
    keys.set(`_${key}`, { element: undefined, type: undefined, shadow: true, known: true, choice: scan(`_${key}`) });
  }
  for (const el of compiled) {
    for (const ref of el.types) {
      keys.set(ref.key, { element: el, type: ref, shadow: false, known: elementKeys.has(ref.key), choice: scan(ref.key) });
      keys.set(ref.shadow, { element: el, type: ref, shadow: true, known: elementKeys.has(ref.key), choice: scan(ref.shadow) });
    }
  }
  return {
    name: schema.name,
    path: schema.path,
    required,
    keys,
    choices,
    invariants: compileInvariants(schema.constraints, cache),
    elementKeys,
  };
}

function compileElement(key: string, element: InternalSchemaElement, codeSets: CodeSets, cache: Map<string, Invariant>): CompiledElement {
  const choice = key.endsWith('[x]');
  // @medplum/core reads a value from the last segment of the element path, with `[x]` replaced by the type.
  const last = element.path.slice(element.path.lastIndexOf('.') + 1);
  const binding = element.binding?.strength === 'required' ? element.binding.valueSet : undefined;
  // bindings.ts checks `code` values of single-type elements and of choice variants.
  const bindable = choice || element.type.length === 1;
  const types: TypeRef[] = element.type.map((t) => {
    const prop = last.replace('[x]', t.code.charAt(0).toUpperCase() + t.code.slice(1));
    const codes = t.code === 'code' && binding && bindable ? codeSets.codes(binding) : undefined;
    return { code: t.code, key: prop, shadow: `_${prop}`, check: primitiveCheck(t.code), codes, valueSet: codes ? binding : undefined };
  });
  const targets = element.type.find((t) => t.code === 'Reference')?.targetProfile;
  return {
    name: choice ? key.slice(0, -3) : key,
    path: element.path.replace(/\[x\]/g, ''),
    min: element.min,
    max: element.max,
    isArray: element.isArray === true,
    types,
    invariants: compileInvariants(element.constraints, cache),
    targets: referenceTargets(targets),
    fixed: element.fixed,
    pattern: element.pattern,
  };
}

/** @medplum/core's reading of a property as a choice: the first camel-case prefix naming a `[x]` element. */
export function choicePrefix(prop: string, choices: ReadonlyMap<string, CompiledElement>): CompiledElement | undefined {
  if (choices.size === 0) return undefined;
  const key = prop.startsWith('_') ? prop.slice(1) : prop;
  for (let i = 1; i <= key.length; i++) {
    if (i < key.length && !isUpper(key.charCodeAt(i))) continue;
    const found = choices.get(key.slice(0, i));
    if (found) return found;
  }
  return undefined;
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
