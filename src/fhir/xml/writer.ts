// FHIR JSON → FHIR XML (http://hl7.org/fhir/R4/xml.html): elements in StructureDefinition order,
// primitives as `value` attributes with their `_x` shadow (id, extensions) merged back in.
import { XMLValidator } from 'fast-xml-parser';
import { badStructure } from '../errors.js';
import { escapeAttribute } from './text.js';
import { FHIR_NS, MAX_XML_DEPTH, XHTML_NS, capitalize, holdsResource, primitiveKind, resourceTypeInfo, typeInfo } from './schema.js';
import type { ElementInfo, TypeInfo } from './schema.js';

type Json = Record<string, unknown>;

/** Output options. */
export interface XmlWriteOptions {
  /** Indent nested elements by two spaces per level. */
  readonly pretty?: boolean;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function where(info: TypeInfo, name: string): string {
  return `${info.name}.${name}`;
}

function indent(pretty: boolean, depth: number): string {
  return pretty ? `\n${'  '.repeat(depth)}` : '';
}

function tagged(tag: string, attributes: string, children: string[], depth: number, pretty: boolean): string {
  const pad = indent(pretty, depth);
  if (children.length === 0) return `${pad}<${tag}${attributes}/>`;
  return `${pad}<${tag}${attributes}>${children.join('')}${pad}</${tag}>`;
}

function writeResource(resource: unknown, wrapper: string | undefined, depth: number, pretty: boolean): string {
  if (depth > MAX_XML_DEPTH) throw badStructure('Resource is nested too deeply');
  if (!isObject(resource) || typeof resource.resourceType !== 'string') {
    throw badStructure('Expected a resource with a resourceType');
  }
  const info = resourceTypeInfo(resource.resourceType);
  if (!info) throw badStructure(`Unknown resource type '${resource.resourceType}'`);
  if (wrapper === undefined) return writeComplex(info.name, resource, info, depth, pretty, ` xmlns="${FHIR_NS}"`);
  return tagged(wrapper, '', [writeComplex(info.name, resource, info, depth + 1, pretty)], depth, pretty);
}

/** Finds the JSON key an element uses in `obj` (for choices: the one present), or undefined. */
function keyOf(obj: Json, element: ElementInfo, info: TypeInfo): { key: string; type: string } | undefined {
  if (!element.choice) {
    const present = Object.hasOwn(obj, element.name) || Object.hasOwn(obj, `_${element.name}`);
    return present ? { key: element.name, type: element.types[0] ?? 'string' } : undefined;
  }
  let found: { key: string; type: string } | undefined;
  for (const type of element.types) {
    const key = element.name + capitalize(type);
    if (!Object.hasOwn(obj, key) && !Object.hasOwn(obj, `_${key}`)) continue;
    if (found) throw badStructure(`Element ${where(info, element.name)}[x] has more than one type`);
    found = { key, type };
  }
  return found;
}

function checkKeys(obj: Json, info: TypeInfo): void {
  for (const key of Object.keys(obj)) {
    if (key === 'resourceType' && info.isResource) continue;
    const shadow = key.startsWith('_');
    const prop = info.properties.get(shadow ? key.slice(1) : key);
    // A primitive's own value never appears inside its `_x` shadow object.
    const shadowless = !primitiveKind(prop?.type ?? '') || prop?.type === 'xhtml';
    if (!prop || (shadow && shadowless) || (info.isPrimitive && key === 'value')) {
      throw badStructure(`Unknown property '${key}' in ${info.name}`);
    }
  }
}

function writeComplex(tag: string, obj: Json, info: TypeInfo, depth: number, pretty: boolean, extra = ''): string {
  checkKeys(obj, info);
  let attributes = '';
  const children: string[] = [];
  for (const element of info.elements) {
    if (element.isAttribute) {
      if (!Object.hasOwn(obj, element.name)) continue;
      const value = obj[element.name];
      if (typeof value !== 'string') throw badStructure(`${where(info, element.name)} must be a string`);
      attributes += ` ${element.name}="${escapeAttribute(value)}"`;
      continue;
    }
    const found = keyOf(obj, element, info);
    if (found) children.push(...writeProperty(obj, found.key, found.type, element, info, depth + 1, pretty));
  }
  return tagged(tag, attributes + extra, children, depth, pretty);
}

function writeProperty(
  obj: Json,
  key: string,
  type: string,
  element: ElementInfo,
  info: TypeInfo,
  depth: number,
  pretty: boolean,
): string[] {
  const value = obj[key];
  const shadow = obj[`_${key}`];
  const path = where(info, key);
  if (!element.isArray) {
    if (Array.isArray(value) || Array.isArray(shadow)) throw badStructure(`${path} must not be an array`);
    return [writeValue(key, type, value, shadow, path, depth, pretty)];
  }
  if ((value !== undefined && !Array.isArray(value)) || (shadow !== undefined && !Array.isArray(shadow))) {
    throw badStructure(`${path} must be an array`);
  }
  const values = (value ?? []) as unknown[];
  const shadows = (shadow ?? []) as unknown[];
  const out: string[] = [];
  for (let i = 0; i < Math.max(values.length, shadows.length); i++) {
    out.push(writeValue(key, type, values[i], shadows[i], `${path}[${i}]`, depth, pretty));
  }
  return out;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function writeValue(tag: string, type: string, value: unknown, shadow: unknown, path: string, depth: number, pretty: boolean): string {
  if (depth > MAX_XML_DEPTH) throw badStructure('Resource is nested too deeply');
  if (type === 'xhtml') return indent(pretty, depth) + narrativeDiv(value, path);
  if (holdsResource(type)) return writeResource(value, tag, depth, pretty);
  const info = typeInfo(type);
  if (!info) throw badStructure(`Unsupported element type '${type}' at ${path}`);
  if (!info.isPrimitive) {
    if (!isObject(value)) throw badStructure(`${path} must be an object`);
    return writeComplex(tag, value, info, depth, pretty);
  }
  if (!present(value) && !present(shadow)) throw badStructure(`${path} has neither a value nor extensions`);
  if (present(shadow) && !isObject(shadow)) throw badStructure(`The _ shadow of ${path} must be an object`);
  const valueAttribute = present(value) ? ` value="${escapeAttribute(primitiveToXml(value, type, path))}"` : '';
  return writeComplex(tag, present(shadow) ? (shadow as Json) : {}, info, depth, pretty, valueAttribute);
}

function primitiveToXml(value: unknown, type: string, path: string): string {
  const kind = primitiveKind(type);
  const ok =
    kind === 'boolean'
      ? typeof value === 'boolean'
      : kind === 'integer'
        ? Number.isSafeInteger(value)
        : kind === 'decimal'
          ? typeof value === 'number' && Number.isFinite(value)
          : typeof value === 'string';
  if (!ok) throw badStructure(`Invalid ${type} value at ${path}`);
  return String(value);
}

function narrativeDiv(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^\s*<div[\s>/]/.test(value)) throw badStructure(`${path} must be an XHTML div`);
  if (/<!DOCTYPE|<!ENTITY/i.test(value) || XMLValidator.validate(value) !== true) {
    throw badStructure(`${path} is not well-formed XHTML`);
  }
  const div = value.trim();
  const start = /^<div[^>]*>/.exec(div)?.[0] ?? '';
  // Without its own namespace declaration the div would land in the FHIR namespace.
  return /\sxmlns\s*=/.test(start) ? div : div.replace(/^<div/, `<div xmlns="${XHTML_NS}"`);
}

/** Serialises a FHIR JSON resource as FHIR XML; invalid content is a 400 FhirError. */
export function writeFhirXml(resource: unknown, options: XmlWriteOptions = {}): string {
  return writeResource(resource, undefined, 0, options.pretty === true).replace(/^\n/, '');
}
