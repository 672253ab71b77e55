// FHIR XML → FHIR JSON (http://hl7.org/fhir/R4/xml.html), driven by the compiled type definitions.
// fast-xml-parser does the tokenising with entity processing off; narrative divs are kept as raw
// markup (stop nodes) so that the JSON `div` string is the XHTML exactly as it was sent.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { badStructure } from '../errors.js';
import { checkReferences, decodeAttribute } from './text.js';
import { FHIR_NS, MAX_XML_DEPTH, XHTML_NS, holdsResource, primitiveKind, resourceTypeInfo, typeInfo } from './schema.js';
import type { ElementInfo, TypeInfo } from './schema.js';

const ATTR_PREFIX = '@_';
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR_PREFIX,
  allowBooleanAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  stopNodes: ['*.div'],
  maxNestedTags: MAX_XML_DEPTH,
});

type Json = Record<string, unknown>;
interface XmlElement {
  readonly qname: string;
  readonly attributes: ReadonlyArray<readonly [string, string]>;
  readonly children: readonly unknown[];
}
type Node = { text: string; element?: undefined } | { text?: undefined; element: XmlElement };
interface Scope {
  readonly defaultNs: string;
  readonly prefixes: ReadonlyMap<string, string>;
}

function classify(node: unknown): Node {
  const obj = node as Record<string, unknown>;
  if (Object.hasOwn(obj, '#text')) return { text: String(obj['#text']) };
  if (Object.hasOwn(obj, '#cdata')) {
    const parts = obj['#cdata'] as Array<Record<string, unknown>>;
    return { text: parts.map((p) => String(p['#text'] ?? '')).join('') };
  }
  const qname = Object.keys(obj).find((k) => k !== ':@');
  if (qname === undefined) throw badStructure('Malformed XML element');
  const rawAttributes = (obj[':@'] ?? {}) as Record<string, unknown>;
  const attributes = Object.entries(rawAttributes).map(([k, v]) => [k.slice(ATTR_PREFIX.length), String(v)] as const);
  return { element: { qname, attributes, children: obj[qname] as unknown[] } };
}

function enterScope(el: XmlElement, parent: Scope): Scope {
  let scope = parent;
  for (const [name, raw] of el.attributes) {
    if (name === 'xmlns') scope = { ...scope, defaultNs: decodeAttribute(raw) };
    else if (name.startsWith('xmlns:')) {
      scope = { ...scope, prefixes: new Map([...scope.prefixes, [name.slice(6), decodeAttribute(raw)]]) };
    }
  }
  return scope;
}

function resolveName(qname: string, scope: Scope): { ns: string; local: string } {
  const colon = qname.indexOf(':');
  if (colon < 0) return { ns: scope.defaultNs, local: qname };
  const ns = scope.prefixes.get(qname.slice(0, colon));
  if (ns === undefined) throw badStructure(`Undeclared namespace prefix in <${qname}>`);
  return { ns, local: qname.slice(colon + 1) };
}

/** Attributes that carry data; namespace declarations and foreign (prefixed) attributes are skipped. */
function dataAttributes(el: XmlElement): Array<readonly [string, string]> {
  return el.attributes.filter(([name]) => name !== 'xmlns' && !name.includes(':'));
}

function childElements(el: XmlElement, context: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of el.children) {
    const node = classify(child);
    if (node.element) out.push(node.element);
    else if (node.text.trim() !== '') throw badStructure(`Unexpected text content in ${context}`);
  }
  return out;
}

function readResource(el: XmlElement, parentScope: Scope): Json {
  const scope = enterScope(el, parentScope);
  const { ns, local } = resolveName(el.qname, scope);
  if (ns !== FHIR_NS) throw badStructure(`Element <${el.qname}> is not in the FHIR namespace`);
  const info = resourceTypeInfo(local);
  if (!info) throw badStructure(`Unknown resource type '${local}'`);
  if (dataAttributes(el).length > 0) throw badStructure(`Unexpected attributes on <${local}>`);
  const out: Json = { resourceType: info.name };
  readContent(el, info, out, scope);
  return out;
}

function readComplex(el: XmlElement, info: TypeInfo, scope: Scope): Json {
  const out: Json = {};
  for (const [name, raw] of dataAttributes(el)) {
    const prop = info.properties.get(name);
    if (!prop?.element.isAttribute) throw badStructure(`Unknown attribute '${name}' on an element of type ${info.name}`);
    out[name] = decodeAttribute(raw);
  }
  readContent(el, info, out, scope);
  return out;
}

interface Collected {
  readonly key: string;
  readonly values: unknown[];
  readonly shadows: Array<Json | null>;
}

function readContent(el: XmlElement, info: TypeInfo, out: Json, scope: Scope): void {
  const found = new Map<ElementInfo, Collected>();
  for (const child of childElements(el, `an element of type ${info.name}`)) {
    const childScope = enterScope(child, scope);
    const { ns, local } = resolveName(child.qname, childScope);
    const prop = info.properties.get(local);
    if (!prop || prop.element.isAttribute) throw badStructure(`Unknown element '${local}' in ${info.name}`);
    if (ns !== (prop.type === 'xhtml' ? XHTML_NS : FHIR_NS)) {
      throw badStructure(`Element <${child.qname}> is in the wrong namespace`);
    }
    let entry = found.get(prop.element);
    if (!entry) found.set(prop.element, (entry = { key: local, values: [], shadows: [] }));
    else if (entry.key !== local) throw badStructure(`Element ${info.name}.${prop.element.name}[x] has more than one type`);
    else if (!prop.element.isArray) throw badStructure(`Element ${info.name}.${local} cannot repeat`);
    const { value, shadow } = readValue(child, prop.type, childScope);
    entry.values.push(value);
    entry.shadows.push(shadow);
  }
  for (const element of info.elements) {
    const entry = found.get(element);
    if (!entry) continue;
    if (element.isArray) {
      if (entry.values.some((v) => v !== null)) out[entry.key] = entry.values;
      if (entry.shadows.some((s) => s !== null)) out[`_${entry.key}`] = entry.shadows;
    } else {
      if (entry.values[0] !== null) out[entry.key] = entry.values[0];
      if (entry.shadows[0]) out[`_${entry.key}`] = entry.shadows[0];
    }
  }
}

function readValue(el: XmlElement, type: string, scope: Scope): { value: unknown; shadow: Json | null } {
  if (type === 'xhtml') return { value: rebuildDiv(el), shadow: null };
  if (holdsResource(type)) {
    if (dataAttributes(el).length > 0) throw badStructure(`Unexpected attributes on <${el.qname}>`);
    const inner = childElements(el, `<${el.qname}>`);
    if (inner.length !== 1) throw badStructure(`<${el.qname}> must contain exactly one resource`);
    return { value: readResource(inner[0] as XmlElement, scope), shadow: null };
  }
  const info = typeInfo(type);
  if (!info) throw badStructure(`Unsupported element type '${type}'`);
  if (!info.isPrimitive) return { value: readComplex(el, info, scope), shadow: null };
  const shadow = readComplex(el, info, scope);
  const raw = shadow.value;
  delete shadow.value;
  if (raw === undefined && Object.keys(shadow).length === 0) {
    throw badStructure(`Element <${el.qname}> has neither a value nor extensions`);
  }
  return {
    value: raw === undefined ? null : primitiveFromXml(String(raw), type, el.qname),
    shadow: Object.keys(shadow).length > 0 ? shadow : null,
  };
}

const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const INTEGER = /^[-+]?[0-9]+$/;

function primitiveFromXml(raw: string, type: string, where: string): string | number | boolean {
  const kind = primitiveKind(type);
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw badStructure(`Invalid boolean '${raw}' in <${where}>`);
    return raw === 'true';
  }
  if (kind === 'integer' || kind === 'decimal') {
    const n = Number(raw);
    const ok = kind === 'integer' ? INTEGER.test(raw) && Number.isSafeInteger(n) : DECIMAL.test(raw) && Number.isFinite(n);
    if (!ok) throw badStructure(`Invalid ${type} '${raw}' in <${where}>`);
    return n;
  }
  return raw;
}

/** Re-creates the narrative `<div>` as markup, exactly as received apart from the start tag's quoting. */
function rebuildDiv(el: XmlElement): string {
  if (el.qname !== 'div') throw badStructure('The narrative div must use the default XHTML namespace');
  let attributes = '';
  for (const [name, raw] of el.attributes) {
    checkReferences(raw);
    attributes += ` ${name}="${raw.replace(/"/g, '&quot;')}"`;
  }
  let inner = '';
  for (const child of el.children) inner += classify(child).text ?? '';
  checkReferences(inner);
  return `<div${attributes}>${inner}</div>`;
}

/** Parses FHIR XML into FHIR JSON; every problem with the document is a 400 FhirError. */
export function readFhirXml(xml: string): Json {
  if (typeof xml !== 'string') throw badStructure('An XML document must be a string');
  // Line-end normalisation is what any XML processor does before parsing.
  const text = xml.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw badStructure('DTDs and entity declarations are not allowed');
  const check = XMLValidator.validate(text);
  if (check !== true) throw badStructure(`Malformed XML: ${check.err.msg} (line ${check.err.line})`);
  let nodes: unknown[];
  try {
    nodes = parser.parse(text) as unknown[];
  } catch (err) {
    throw badStructure(`Malformed XML: ${err instanceof Error ? err.message : 'unreadable document'}`);
  }
  const top = childElements({ qname: '#document', attributes: [], children: nodes }, 'the document');
  if (top.length !== 1) throw badStructure('An XML document must have exactly one root element');
  return readResource(top[0] as XmlElement, { defaultNs: '', prefixes: new Map() });
}
