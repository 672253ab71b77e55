// RFC 6902 JSON Patch over RFC 6901 JSON Pointers. The patch is validated as a whole first (400),
// then applied to a private deep copy, so a failing operation (422) leaves nothing half-applied.
import { badRequest, unprocessable, type FhirError } from '../errors.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

/** One validated JSON Patch operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string[]; value: Json }
  | { op: 'remove'; path: string[] }
  | { op: 'move' | 'copy'; path: string[]; from: string[] };

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

function failed(diagnostics: string, pointer: string): FhirError {
  return unprocessable([{ severity: 'error', code: 'processing', diagnostics, expression: [pointer] }]);
}

/** Splits an RFC 6901 pointer into unescaped reference tokens. */
export function parsePointer(pointer: string, where: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`${where}: JSON pointer must be empty or start with '/'`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) throw badRequest(`${where}: invalid escape in JSON pointer '${pointer}'`);
      // ~1 first: '~01' means the literal '~1', not '/'.
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function format(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Checks the shape of a JSON Patch document and returns its operations; malformed documents are 400. */
export function parseJsonPatch(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) throw badRequest('A JSON Patch document must be an array of operations');
  return patch.map((raw, i): JsonPatchOperation => {
    const where = `operation ${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest(`${where} must be an object`);
    const op = (raw as Record<string, unknown>).op;
    const path = (raw as Record<string, unknown>).path;
    if (typeof op !== 'string' || !OPS.has(op)) throw badRequest(`${where}: unknown op '${String(op)}'`);
    if (typeof path !== 'string') throw badRequest(`${where}: 'path' must be a string`);
    const tokens = parsePointer(path, where);
    if (op === 'move' || op === 'copy') {
      const from = (raw as Record<string, unknown>).from;
      if (typeof from !== 'string') throw badRequest(`${where}: '${op}' needs a 'from' string`);
      return { op, path: tokens, from: parsePointer(from, where) };
    }
    if (op === 'remove') return { op, path: tokens };
    if (!Object.hasOwn(raw, 'value') || (raw as Record<string, unknown>).value === undefined) {
      throw badRequest(`${where}: '${op}' needs a 'value'`);
    }
    // The value is copied once here, so every use of it below works on the patch's private copy.
    return { op: op as 'add' | 'replace' | 'test', path: tokens, value: copyJson((raw as { value: unknown }).value) };
  });
}

/** Deep copy through JSON text: drops nothing valid, and own `__proto__` keys stay plain data. */
function copyJson(value: unknown): Json {
  try {
    return JSON.parse(JSON.stringify(value)) as Json;
  } catch {
    throw badRequest('Value is not valid JSON or is nested too deeply');
  }
}

function isContainer(v: Json | undefined): v is Container {
  return typeof v === 'object' && v !== null;
}

function hasMember(obj: Container, key: string): boolean {
  return Array.isArray(obj) ? ARRAY_INDEX.test(key) && Number(key) < obj.length : Object.hasOwn(obj, key);
}

function member(obj: Container, key: string): Json | undefined {
  if (!hasMember(obj, key)) return undefined;
  return Array.isArray(obj) ? obj[Number(key)] : obj[key];
}

function setMember(obj: { [key: string]: Json }, key: string, value: Json): void {
  // defineProperty keeps a key like "__proto__" an ordinary own property instead of a prototype swap.
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Resolves the container holding the last token of `path` (which must exist). */
function parentOf(doc: Json, path: readonly string[]): Container {
  let node: Json | undefined = doc;
  for (let i = 0; i < path.length - 1; i++) {
    node = isContainer(node) ? member(node, path[i] as string) : undefined;
    if (node === undefined) throw failed(`Path ${format(path.slice(0, i + 1))} does not exist`, format(path));
  }
  if (!isContainer(node)) throw failed(`Path ${format(path.slice(0, -1))} is not an object or array`, format(path));
  return node;
}

function get(doc: Json, path: readonly string[]): Json {
  if (path.length === 0) return doc;
  const value = member(parentOf(doc, path), path[path.length - 1] as string);
  if (value === undefined) throw failed(`Path ${format(path)} does not exist`, format(path));
  return value;
}

function add(doc: Json, path: readonly string[], value: Json): Json {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path);
  const key = path[path.length - 1] as string;
  if (!Array.isArray(parent)) {
    setMember(parent, key, value);
    return doc;
  }
  const index = key === '-' ? parent.length : ARRAY_INDEX.test(key) ? Number(key) : NaN;
  if (!(index <= parent.length)) throw failed(`Array index ${format(path)} is out of range`, format(path));
  parent.splice(index, 0, value);
  return doc;
}

function remove(doc: Json, path: readonly string[]): Json {
  if (path.length === 0) throw failed('Cannot remove the whole document', '');
  const parent = parentOf(doc, path);
  const key = path[path.length - 1] as string;
  if (!hasMember(parent, key)) throw failed(`Path ${format(path)} does not exist`, format(path));
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
  return doc;
}

function replace(doc: Json, path: readonly string[], value: Json): Json {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path);
  const key = path[path.length - 1] as string;
  if (!hasMember(parent, key)) throw failed(`Path ${format(path)} does not exist`, format(path));
  if (Array.isArray(parent)) parent[Number(key)] = value;
  else setMember(parent, key, value);
  return doc;
}

/** Structural equality as RFC 6902 `test` defines it: same types, same members, arrays in order. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i] as Json));
  const objA = a as { [key: string]: Json };
  const objB = b as { [key: string]: Json };
  const keys = Object.keys(objA);
  if (keys.length !== Object.keys(objB).length) return false;
  return keys.every((k) => Object.hasOwn(objB, k) && jsonEqual(objA[k] as Json, objB[k] as Json));
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length < path.length && prefix.every((t, i) => t === path[i]);
}

function applyOne(doc: Json, op: JsonPatchOperation): Json {
  switch (op.op) {
    case 'add':
      return add(doc, op.path, op.value);
    case 'remove':
      return remove(doc, op.path);
    case 'replace':
      return replace(doc, op.path, op.value);
    case 'test':
      if (!jsonEqual(get(doc, op.path), op.value)) throw failed(`Test failed at ${format(op.path)}`, format(op.path));
      return doc;
    case 'copy':
      return add(doc, op.path, copyJson(get(doc, op.from)));
    case 'move': {
      if (isPrefix(op.from, op.path)) throw failed(`Cannot move ${format(op.from)} into its own child`, format(op.path));
      const value = get(doc, op.from);
      return add(remove(doc, op.from), op.path, value);
    }
  }
}

/** Applies an RFC 6902 JSON Patch to a copy of `doc`; the input is never mutated. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = parseJsonPatch(patch);
  let result = copyJson(doc);
  try {
    for (const op of ops) result = applyOne(result, op);
  } catch (err) {
    if (err instanceof RangeError) throw badRequest('Document is nested too deeply');
    throw err;
  }
  return result;
}
