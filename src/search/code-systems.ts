// The concepts of a stored CodeSystem and their subsumption (codesystem.html#hierarchy): nested
// `concept.concept` (when the hierarchy means is-a) and the `parent`/`child`/`subsumedBy`
// concept properties. Answers :above/:below and the ValueSet.compose filters that need it.
import { badRequest } from '../fhir/errors.js';
import { CodeSet } from './code-set.js';

type Json = Record<string, unknown>;

/** A stored CodeSystem's codes, hierarchy and concept properties. */
export interface CodeSystemIndex {
  url: string;
  codes: Set<string>;
  children: Map<string, Set<string>>;
  parents: Map<string, Set<string>>;
  /** code → property code → values (codes, strings and numbers as text). */
  properties: Map<string, Map<string, string[]>>;
}

const PARENT_URI = 'http://hl7.org/fhir/concept-properties#parent';
const CHILD_URI = 'http://hl7.org/fhir/concept-properties#child';

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isJson) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Indexes a CodeSystem resource's concepts. */
export function indexCodeSystem(cs: Json): CodeSystemIndex {
  const index: CodeSystemIndex = { url: text(cs.url) ?? '', codes: new Set(), children: new Map(), parents: new Map(), properties: new Map() };
  // Only an is-a hierarchy (the default) makes nesting mean subsumption; grouped-by or part-of do not.
  const nestingIsA = cs.hierarchyMeaning === undefined || cs.hierarchyMeaning === 'is-a';
  const declared = new Map(list(cs.property).map((p) => [text(p.code), text(p.uri)]));
  const parentProps = new Set(['parent', 'subsumedBy', ...[...declared].filter(([, uri]) => uri === PARENT_URI).map(([code]) => code)]);
  const childProps = new Set(['child', ...[...declared].filter(([, uri]) => uri === CHILD_URI).map(([code]) => code)]);
  const link = (parent: string, child: string): void => {
    add(index.children, parent, child);
    add(index.parents, child, parent);
  };
  const visit = (concepts: Json[], parent: string | undefined): void => {
    for (const c of concepts) {
      const code = text(c.code);
      if (!code) continue;
      index.codes.add(code);
      if (parent && nestingIsA) link(parent, code);
      for (const p of list(c.property)) {
        const prop = text(p.code);
        const value = propertyValue(p);
        if (!prop || value === undefined) continue;
        let props = index.properties.get(code);
        if (!props) index.properties.set(code, (props = new Map()));
        props.set(prop, [...(props.get(prop) ?? []), value]);
        if (parentProps.has(prop)) link(value, code);
        else if (childProps.has(prop)) link(code, value);
      }
      visit(list(c.concept), code);
    }
  };
  visit(list(cs.concept), undefined);
  return index;
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function propertyValue(p: Json): string | undefined {
  for (const [key, v] of Object.entries(p)) {
    if (!key.startsWith('value')) continue;
    if (isJson(v)) return text(v.code);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return undefined;
}

/** `code` and everything it reaches through `edges` (children: descendants; parents: ancestors). */
export function closure(edges: Map<string, Set<string>>, code: string, includeSelf = true): Set<string> {
  const seen = new Set<string>([code]);
  const queue = [code];
  // Hierarchies declared through properties may contain cycles; `seen` stops them.
  while (queue.length) {
    for (const next of edges.get(queue.pop() as string) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  if (!includeSelf) seen.delete(code);
  return seen;
}

/** The codes a ValueSet.compose.include.filter selects from a code system (valueset.html#filters). */
export function filterCodes(cs: CodeSystemIndex, filter: Json): CodeSet {
  const property = text(filter.property) ?? '';
  const op = text(filter.op) ?? '';
  const value = text(filter.value) ?? '';
  const described = `filter "${property} ${op} ${value}" on ${cs.url}`;
  if (!value) throw badRequest(`ValueSet ${described} has no value`);
  if (property === 'concept' || property === 'code') {
    switch (op) {
      case 'is-a': return CodeSet.of(cs.url, closure(cs.children, value));
      case 'descendent-of': return CodeSet.of(cs.url, closure(cs.children, value, false));
      case 'is-not-a': return CodeSet.wholeSystem(cs.url, closure(cs.children, value));
      case 'generalizes': return CodeSet.of(cs.url, closure(cs.parents, value));
      case '=': return CodeSet.of(cs.url, [value]);
      case 'in': return CodeSet.of(cs.url, value.split(',').map((v) => v.trim()).filter(Boolean));
      case 'not-in': return CodeSet.wholeSystem(cs.url, value.split(',').map((v) => v.trim()).filter(Boolean));
      default: break;
    }
  } else if (op === '=' || op === 'in') {
    const wanted = new Set(op === 'in' ? value.split(',').map((v) => v.trim()) : [value]);
    const codes = [...cs.codes].filter((code) => cs.properties.get(code)?.get(property)?.some((v) => wanted.has(v)));
    return CodeSet.of(cs.url, codes);
  }
  throw badRequest(`ValueSet ${described} uses an operation this server cannot evaluate (supported: concept is-a, descendent-of, is-not-a, generalizes, =, in, not-in; property = and in)`);
}
