// FHIRPath Patch (http://hl7.org/fhir/R4/fhirpatch.html). Paths are evaluated with @medplum/core's
// typed FHIRPath; to change the JSON we must know where each result lives, so the last navigation step
// of a path is evaluated here (parent by parent, remembering each child's key and index) and the
// filters after it (`where`, `[n]`, `first()`, ...) are re-run by FHIRPath over those located children.
import {
  DotAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  SymbolAtom,
  getTypedPropertyValue,
  parseFhirPath,
  toTypedValue,
  type Atom,
  type TypedValue,
} from '@medplum/core';
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { FhirError, badRequest, unprocessable } from '../errors.js';
import { capitalize, holdsResource, primitiveKind, typeInfo, type ElementInfo } from '../xml/schema.js';

type Json = Record<string, unknown>;
type OpType = 'add' | 'insert' | 'delete' | 'replace' | 'move';
/** A value ready to place: the JSON value and, for primitives, its `_x` shadow (id, extensions). */
type Built = { type: string; value: unknown; shadow?: Json };
type PatchValue = { parts: Json[] } | Built;
type Operation = { type: OpType; path: string; ast: FhirPathAtom; name?: string; value?: PatchValue } & Positions;
type Positions = { index?: number; source?: number; destination?: number };
/** Where an element lives: `owner[key]`, or `owner[key][index]` for repeating elements. */
type Slot = { owner: Json; key: string; index?: number; element: ElementInfo };
/** A path result and its slot; the resource itself has no slot. */
type Located = { tv: TypedValue; slot?: Slot };

const OP_TYPES = new Set<string>(['add', 'insert', 'delete', 'replace', 'move']);
const PART_NAMES = new Set(['type', 'path', 'name', 'value', 'index', 'source', 'destination']);
// Functions that only select from their input collection, so their results keep the input's identity.
const FILTERS = new Set(['where', 'first', 'last', 'tail', 'skip', 'take', 'single', 'ofType']);
const QUANTITIES = new Set(['Quantity', 'SimpleQuantity', 'Age', 'Count', 'Distance', 'Duration', 'MoneyQuantity']);

function cannot(diagnostics: string, path?: string): FhirError {
  return unprocessable([{ severity: 'error', code: 'processing', diagnostics, ...(path ? { expression: [path] } : {}) }]);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---- reading the Parameters document (malformed → 400) ----

function partValue(part: Json, where: string): PatchValue {
  const valueKeys = Object.keys(part).filter((k) => /^value[A-Z]/.test(k));
  const sources = valueKeys.length + (part.resource !== undefined ? 1 : 0) + (part.part !== undefined ? 1 : 0);
  if (sources !== 1) throw badRequest(`${where} must have exactly one of value[x], resource or part`);
  if (part.part !== undefined) {
    if (!Array.isArray(part.part) || !part.part.every(isObject)) throw badRequest(`${where}.part must be a list of parts`);
    return { parts: part.part };
  }
  if (part.resource !== undefined) {
    if (!isObject(part.resource) || typeof part.resource.resourceType !== 'string') throw badRequest(`${where}.resource is not a resource`);
    return { type: part.resource.resourceType, value: copy(part.resource) };
  }
  const key = valueKeys[0] as string;
  const suffix = key.slice(5);
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  const type = primitiveKind(lower) ? lower : suffix;
  if (!typeInfo(type)) throw badRequest(`${where} has an unknown value type '${key}'`);
  const shadow = part[`_${key}`];
  return { type, value: copy(part[key]), ...(isObject(shadow) ? { shadow: copy(shadow) } : {}) };
}

function parseOperation(param: unknown, i: number): Operation {
  const where = `Parameters.parameter[${i}]`;
  if (!isObject(param) || param.name !== 'operation') throw badRequest(`${where} must be a parameter named 'operation'`);
  if (!Array.isArray(param.part)) throw badRequest(`${where} has no parts`);
  const parts = new Map<string, Json>();
  for (const part of param.part as unknown[]) {
    const name = isObject(part) ? part.name : undefined;
    if (typeof name !== 'string' || !PART_NAMES.has(name)) throw badRequest(`${where} has an unknown part '${String(name)}'`);
    if (parts.has(name)) throw badRequest(`${where} repeats the part '${name}'`);
    parts.set(name, part as Json);
  }
  const text = (name: string, required: boolean): string | undefined => {
    const p = parts.get(name);
    const v = p?.valueString ?? p?.valueCode;
    if (typeof v === 'string' && v !== '') return v;
    if (required || p) throw badRequest(`${where} needs a '${name}' part with a string value`);
    return undefined;
  };
  const integer = (name: string, required: boolean): number | undefined => {
    const p = parts.get(name);
    const v = p?.valueInteger ?? p?.valueUnsignedInt ?? p?.valuePositiveInt;
    if (Number.isSafeInteger(v) && (v as number) >= 0) return v as number;
    if (required || p) throw badRequest(`${where} needs a '${name}' part with a non-negative integer`);
    return undefined;
  };
  const type = text('type', true) as string;
  if (!OP_TYPES.has(type)) throw badRequest(`${where} has an unknown operation type '${type}'`);
  const path = text('path', true) as string;
  let ast: FhirPathAtom;
  try {
    ast = parseFhirPath(path);
  } catch (err) {
    throw badRequest(`Invalid FHIRPath '${path}': ${err instanceof Error ? err.message : 'syntax error'}`);
  }
  const valuePart = parts.get('value');
  const needsValue = type === 'add' || type === 'insert' || type === 'replace';
  if (needsValue && !valuePart) throw badRequest(`${where}: '${type}' needs a 'value' part`);
  return {
    type: type as OpType,
    path,
    ast,
    name: text('name', type === 'add'),
    value: needsValue && valuePart ? partValue(valuePart, `${where}.part(value)`) : undefined,
    index: integer('index', type === 'insert'),
    source: integer('source', type === 'move'),
    destination: integer('destination', type === 'move'),
  };
}

// ---- locating path results in the JSON tree ----

/** The element of `type` named `name` (a plain name, a choice base like `value`, or `valueQuantity`). */
function elementOf(type: string, name: string, path: string): ElementInfo {
  const info = typeInfo(type);
  const element = info?.elements.find((e) => e.name === name) ?? info?.properties.get(name)?.element;
  if (!element || (info?.isPrimitive && name === 'value')) throw cannot(`${type} has no element '${name}'`, path);
  return element;
}

/** The JSON key an element currently uses in `owner` (choices: the present variant). */
function currentKey(owner: Json, element: ElementInfo): string | undefined {
  const keys = element.choice ? element.types.map((t) => element.name + capitalize(t)) : [element.name];
  return keys.find((k) => Object.hasOwn(owner, k) || Object.hasOwn(owner, `_${k}`));
}

function slotValue(slot: Slot, shadow = false): unknown {
  const v = slot.owner[shadow ? `_${slot.key}` : slot.key];
  return slot.index === undefined ? v : Array.isArray(v) ? v[slot.index] : undefined;
}

/** The JSON object holding a located element's children; for a primitive that is its `_x` shadow. */
function childrenOf(root: Json, at: Located, create: boolean): Json | undefined {
  if (!at.slot) return root;
  const value = slotValue(at.slot);
  if (isObject(value)) return value;
  const existing = slotValue(at.slot, true);
  if (isObject(existing) || !create) return isObject(existing) ? existing : undefined;
  const shadow: Json = {};
  edit(at.slot, { type: '', value, shadow });
  return shadow;
}

function navigate(root: Json, parents: Located[], name: string, path: string): Located[] {
  const out: Located[] = [];
  for (const parent of parents) {
    const owner = childrenOf(root, parent, false);
    const element = elementOf(parent.tv.type, name, path);
    const key = owner && currentKey(owner, element);
    if (!owner || !key) continue;
    const found = getTypedPropertyValue(parent.tv, key);
    const list = found === undefined ? [] : Array.isArray(found) ? found : [found];
    list.forEach((tv, i) => {
      if (tv.value === undefined || tv.value === null) return;
      out.push({ tv, slot: { owner, key, element, ...(element.isArray ? { index: i } : {}) } });
    });
  }
  return out;
}

function isFilter(atom: Atom): atom is IndexerAtom | DotAtom {
  return atom instanceof IndexerAtom || (atom instanceof DotAtom && atom.right instanceof FunctionAtom && FILTERS.has(atom.right.name));
}

function locate(root: Json, rootTv: TypedValue, atom: Atom, path: string): Located[] {
  if (atom instanceof FhirPathAtom) return locate(root, rootTv, atom.child, path);
  const filters: Array<IndexerAtom | DotAtom> = [];
  let step = atom;
  while (isFilter(step)) {
    filters.unshift(step);
    step = step.left;
  }
  const variables = { '%resource': rootTv, '%rootResource': rootTv, '%context': rootTv };
  let located: Located[];
  if (step instanceof SymbolAtom && step.name === root.resourceType) located = [{ tv: rootTv }];
  else {
    const [parentAtom, last] = step instanceof DotAtom ? [step.left, step.right] : [undefined, step];
    const parents = parentAtom ? locate(root, rootTv, parentAtom, path) : [{ tv: rootTv }];
    if (last instanceof SymbolAtom) located = navigate(root, parents, last.name, path);
    else if (last instanceof FunctionAtom && last.name === 'extension' && last.args.length === 1) {
      // extension(url) is shorthand for extension.where(url = ...), and common in patches.
      const url: unknown = last.args[0]?.eval({ variables }, [rootTv])[0]?.value;
      located = navigate(root, parents, 'extension', path).filter((l) => isObject(l.tv.value) && l.tv.value.url === url);
    } else throw badRequest(`Unsupported FHIRPath for patching: '${path}' must be a path of element names and filters`, [path]);
  }
  if (filters.length === 0) return located;
  // Re-run the filters over the located results; they return the very TypedValue objects they were given.
  let chain: Atom = { eval: () => located.map((l) => l.tv), toString: () => step.toString() };
  for (const f of filters) chain = f instanceof IndexerAtom ? new IndexerAtom(chain, f.expr) : new DotAtom(chain, f.right);
  const byValue = new Map(located.map((l) => [l.tv, l]));
  return new FhirPathAtom(path, chain).eval({ variables }, [rootTv]).map((tv) => {
    const at = byValue.get(tv);
    if (!at) throw cannot(`Cannot patch the result of '${path}': it is not an element of the resource`, path);
    return at;
  });
}

// ---- building and placing values ----

function compatible(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  const [e, a] = [primitiveKind(expected), primitiveKind(actual)];
  if (e && a) return e === a || (e === 'decimal' && a === 'integer') || (e === 'xhtml' && a === 'string');
  if (expected === 'Resource') return holdsResource(actual);
  return QUANTITIES.has(expected) && QUANTITIES.has(actual);
}

/** The JSON key for a value of `type` in `element` (choice elements: name + type). */
function keyFor(element: ElementInfo, type: string, path: string): string {
  const match = element.types.find((t) => t === type) ?? element.types.find((t) => compatible(t, type));
  if (!match) throw cannot(`A ${type} cannot be used for element '${element.name}'`, path);
  return element.choice ? element.name + capitalize(match) : element.name;
}

function build(value: PatchValue, element: ElementInfo, path: string): Built {
  if (!('parts' in value)) return value;
  const type = element.types[0] as string;
  const info = typeInfo(type);
  if (element.choice || !info || info.isPrimitive) throw cannot(`Element '${element.name}' cannot be built from parts`, path);
  const obj: Json = {};
  value.parts.forEach((part, i) => {
    if (typeof part.name !== 'string') throw badRequest(`Part ${i} of the value for '${element.name}' has no name`);
    const child = elementOf(type, part.name, path);
    const built = build(partValue(part, `${path} part '${part.name}'`), child, path);
    const key = keyFor(child, built.type, path);
    if (!child.isArray && currentKey(obj, child)) throw cannot(`Element '${part.name}' given more than once`, path);
    edit({ owner: obj, key, element: child, ...(child.isArray ? { index: lengthOf(obj, key) } : {}) }, built, true);
  });
  return { type, value: obj };
}

function arrayOf(owner: Json, key: string): unknown[] {
  const v = owner[key];
  return Array.isArray(v) ? v : [];
}

/** Items in a repeating element, counting primitives that only have a `_x` shadow. */
function lengthOf(owner: Json, key: string): number {
  return Math.max(arrayOf(owner, key).length, arrayOf(owner, `_${key}`).length);
}

/** Drops the empty objects and arrays a delete can leave behind: FHIR JSON has no empty elements. */
function prune(value: unknown, isShadow = false): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => prune(v, isShadow)).filter((v) => v !== undefined || isShadow);
    const kept = items.map((v) => (v === undefined ? null : v));
    return kept.some((v) => v !== null) ? kept : undefined;
  }
  if (!isObject(value)) return value;
  for (const key of Object.keys(value)) {
    const pruned = prune(value[key], key.startsWith('_'));
    if (pruned === undefined) delete value[key];
    else value[key] = pruned;
  }
  return Object.keys(value).length > 0 ? value : undefined;
}

/**
 * Overwrites the item at a slot, inserts before it, or (with no value) removes it, keeping a repeating
 * primitive's values and `_x` shadows aligned, with nulls where one side is absent.
 */
function edit(slot: Slot, built: Built | undefined, insert = false): void {
  const { owner, key, index } = slot;
  const keys = [key, `_${key}`];
  const parts = [built?.value ?? null, built?.shadow ?? null];
  if (index === undefined) {
    keys.forEach((k, i) => {
      if (parts[i] === null) delete owner[k];
      else owner[k] = parts[i];
    });
    return;
  }
  const length = lengthOf(owner, key);
  keys.forEach((k, i) => {
    const list = Array.from({ length }, (_, j) => arrayOf(owner, k)[j] ?? null);
    list.splice(index, insert ? 0 : 1, ...(built ? [parts[i]] : []));
    if (list.some((v) => v !== null)) owner[k] = list;
    else delete owner[k];
  });
}

// ---- the operations ----

function single(found: Located[], op: Operation): Located {
  if (found.length === 0) throw cannot(`No content found at ${op.path} when performing ${op.type}`, op.path);
  if (found.length > 1) throw cannot(`${op.path} matches ${found.length} elements; ${op.type} needs exactly one`, op.path);
  return found[0] as Located;
}

/** The list an insert or move works on: the path must end in an element name, and have one parent. */
function listAt(root: Json, rootTv: TypedValue, op: Operation): Slot {
  const step = op.ast.child;
  const [parentAtom, last] = step instanceof DotAtom ? [step.left, step.right] : [undefined, step];
  const name = last instanceof SymbolAtom ? last.name : undefined;
  if (!name) throw badRequest(`${op.type} needs a path ending in the name of a list, not '${op.path}'`, [op.path]);
  const parent = single(parentAtom ? locate(root, rootTv, parentAtom, op.path) : [{ tv: rootTv }], op);
  const element = elementOf(parent.tv.type, name, op.path);
  if (!element.isArray) throw cannot(`${op.path} is not a list`, op.path);
  const owner = childrenOf(root, parent, op.type === 'insert');
  if (!owner) throw cannot(`No content found at ${op.path}`, op.path);
  return { owner, key: element.name, element };
}

function apply(root: Json, op: Operation): void {
  const rootTv = toTypedValue(root);
  if (op.type === 'insert' || op.type === 'move') {
    const list = listAt(root, rootTv, op);
    const length = lengthOf(list.owner, list.key);
    if (op.type === 'insert') {
      if ((op.index as number) > length) throw cannot(`Index ${op.index} is beyond the end of ${op.path}`, op.path);
      const built = build(op.value as PatchValue, list.element, op.path);
      keyFor(list.element, built.type, op.path);
      edit({ ...list, index: op.index }, built, true);
      return;
    }
    const [from, to] = [op.source as number, op.destination as number];
    if (from >= length || to >= length) throw cannot(`Move ${from} → ${to} is outside ${op.path} (${length} items)`, op.path);
    const [value, shadow] = [arrayOf(list.owner, list.key)[from], arrayOf(list.owner, `_${list.key}`)[from]];
    const moved: Built = { type: '', value, shadow: shadow as Json };
    edit({ ...list, index: from }, undefined);
    edit({ ...list, index: to }, moved, true);
    return;
  }
  const found = locate(root, rootTv, op.ast, op.path);
  if (op.type === 'delete') {
    if (found.length === 0) return;
    const { slot } = single(found, op);
    if (!slot) throw cannot('The resource itself cannot be deleted by a patch', op.path);
    edit(slot, undefined);
    return;
  }
  const target = single(found, op);
  if (op.type === 'replace') {
    if (!target.slot) throw cannot('The resource itself cannot be replaced by a patch', op.path);
    const built = build(op.value as PatchValue, target.slot.element, op.path);
    const key = keyFor(target.slot.element, built.type, op.path);
    if (key !== target.slot.key) edit(target.slot, undefined);
    edit({ ...target.slot, key }, built);
    return;
  }
  const owner = childrenOf(root, target, true) as Json;
  const element = elementOf(target.tv.type, op.name as string, op.path);
  const built = build(op.value as PatchValue, element, op.path);
  const key = keyFor(element, built.type, op.path);
  if (!element.isArray && currentKey(owner, element)) throw cannot(`${op.path}.${op.name} already has a value`, op.path);
  edit({ owner, key, element, ...(element.isArray ? { index: lengthOf(owner, key) } : {}) }, built, true);
}

/** Applies a FHIRPath Patch (a Parameters resource) to a copy of `resource`; on any failure nothing is applied. */
export function applyFhirPathPatch(resource: Resource, parameters: Parameters): Resource {
  if (!isObject(parameters) || parameters.resourceType !== 'Parameters') throw badRequest('A FHIRPath Patch must be a Parameters resource');
  const params: unknown = parameters.parameter ?? [];
  if (!Array.isArray(params)) throw badRequest('Parameters.parameter must be a list');
  try {
    const ops = params.map(parseOperation);
    const root = copy(resource) as unknown as Json;
    if (!isObject(root) || typeof root.resourceType !== 'string') throw badRequest('The patch target is not a resource');
    for (const op of ops) apply(root, op);
    return (prune(root) ?? { resourceType: root.resourceType }) as unknown as Resource;
  } catch (err) {
    if (err instanceof FhirError) throw err;
    if (err instanceof RangeError) throw badRequest('Resource or patch is nested too deeply');
    throw badRequest(`FHIRPath Patch could not be evaluated: ${err instanceof Error ? err.message : String(err)}`);
  }
}
