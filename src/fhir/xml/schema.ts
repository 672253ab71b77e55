// The shape of each FHIR type as the XML and JSON serialisers need it, compiled from @medplum/core's
// type registry. The compiled form is immutable and cached per type name.
import { getAllDataTypes, type InternalTypeSchema } from '@medplum/core';
import { loadDefinitions } from '../definitions.js';

export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
/** Deepest element nesting accepted in either direction; real resources stay far below it. */
export const MAX_XML_DEPTH = 400;

/** How a primitive's value is represented in JSON. */
export type PrimitiveKind = 'string' | 'integer' | 'decimal' | 'boolean' | 'xhtml';

const PRIMITIVE_KINDS: ReadonlyMap<string, PrimitiveKind> = new Map<string, PrimitiveKind>([
  ['boolean', 'boolean'],
  ['integer', 'integer'],
  ['positiveInt', 'integer'],
  ['unsignedInt', 'integer'],
  ['decimal', 'decimal'],
  ['xhtml', 'xhtml'],
  ...[
    'string', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid', 'markdown', 'base64Binary',
    'instant', 'date', 'dateTime', 'time',
  ].map((code): [string, PrimitiveKind] => [code, 'string']),
]);

/** The JSON representation of a FHIR primitive type code, or undefined for complex types. */
export function primitiveKind(typeCode: string): PrimitiveKind | undefined {
  const kind = PRIMITIVE_KINDS.get(typeCode);
  if (kind) return kind;
  // The registry types a few internal ids as FHIRPath system types; they are plain strings.
  return typeCode.startsWith('http://hl7.org/fhirpath/System.') ? 'string' : undefined;
}

/** One element of a type. */
export interface ElementInfo {
  /** Element name without the `[x]` suffix. */
  readonly name: string;
  readonly isArray: boolean;
  /** Serialised as an XML attribute (`id` of datatypes, `Extension.url`, a primitive's `value`). */
  readonly isAttribute: boolean;
  readonly choice: boolean;
  readonly types: readonly string[];
}

/** A property name (`valueQuantity`, `birthDate`) resolved to its element and concrete type. */
export interface PropertyInfo {
  readonly element: ElementInfo;
  readonly type: string;
}

/** A compiled type: its elements in StructureDefinition order and a lookup by property name. */
export interface TypeInfo {
  readonly name: string;
  readonly isResource: boolean;
  readonly isPrimitive: boolean;
  readonly elements: readonly ElementInfo[];
  readonly properties: ReadonlyMap<string, PropertyInfo>;
}

const ABSTRACT_RESOURCES = new Set(['Resource', 'DomainResource']);
const compiled = new Map<string, TypeInfo>();

/** Capitalises the first letter, as choice-type property names do (`value` + `Quantity`). */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function registryLookup(name: string): InternalTypeSchema | undefined {
  // The registry is process-wide in @medplum/core; fill it on first use if nobody has yet.
  if (!Object.hasOwn(getAllDataTypes(), 'Patient')) loadDefinitions();
  const types = getAllDataTypes();
  // Names come from untrusted documents: never let `constructor` and friends reach Object.prototype.
  return Object.hasOwn(types, name) ? types[name] : undefined;
}

function compile(name: string): TypeInfo | undefined {
  const schema = registryLookup(name);
  if (!schema) return undefined;
  // The definitions package also carries one R4B resource (SubscriptionStatus); it has no R4 form.
  if (schema.kind === 'resource' && schema.version !== undefined && schema.version !== '4.0.1') return undefined;
  const isResource = schema.kind === 'resource';
  const isPrimitive = primitiveKind(name) !== undefined;
  const elements: ElementInfo[] = [];
  const properties = new Map<string, PropertyInfo>();
  for (const [key, def] of Object.entries(schema.elements)) {
    // Dotted keys belong to nested backbone elements, which base types expose as inner types instead.
    if (key.includes('.')) continue;
    const choice = key.endsWith('[x]');
    const base = choice ? key.slice(0, -3) : key;
    const element: ElementInfo = {
      name: base,
      isArray: def.isArray ?? def.max !== 1,
      isAttribute:
        (base === 'id' && !isResource) || (base === 'url' && name === 'Extension') || (base === 'value' && isPrimitive),
      choice,
      types: def.type.map((t) => t.code),
    };
    elements.push(element);
    if (choice) for (const type of element.types) properties.set(base + capitalize(type), { element, type });
    else properties.set(base, { element, type: element.types[0] ?? 'string' });
  }
  return { name, isResource, isPrimitive, elements, properties };
}

/** The compiled form of a FHIR type (datatype, backbone element or resource), or undefined. */
export function typeInfo(name: string): TypeInfo | undefined {
  let info = compiled.get(name);
  if (!info) {
    info = compile(name);
    // Unknown names are not remembered, so hostile input cannot grow the cache.
    if (info) compiled.set(name, info);
  }
  return info;
}

/** The compiled form of a concrete resource type, or undefined when `name` is not one. */
export function resourceTypeInfo(name: string): TypeInfo | undefined {
  if (ABSTRACT_RESOURCES.has(name)) return undefined;
  const info = typeInfo(name);
  return info?.isResource ? info : undefined;
}

/** True when an element of this type holds a whole resource (wrapped in XML, `resourceType` in JSON). */
export function holdsResource(type: string): boolean {
  return type === 'Resource' || resourceTypeInfo(type) !== undefined;
}
