// _summary and _elements (search.html#summary, #elements): return a subset of each resource,
// marked with the SUBSETTED tag so no client mistakes it for the whole resource.
import type { Resource } from '@medplum/fhirtypes';
import type { FhirDefinitions } from './definitions.js';
import type { FhirContext } from './types.js';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const ALWAYS = new Set(['resourceType', 'id', 'meta', 'implicitRules']);

interface TopLevel { summary: Set<string>; mandatory: Set<string> }
const topLevelCache = new WeakMap<FhirDefinitions, Map<string, TopLevel>>();

/** The top-level element names of a type marked isSummary, and those with min > 0. */
function topLevel(defs: FhirDefinitions, resourceType: string): TopLevel {
  let byType = topLevelCache.get(defs);
  if (!byType) topLevelCache.set(defs, (byType = new Map()));
  let t = byType.get(resourceType);
  if (t) return t;
  t = { summary: new Set(), mandatory: new Set() };
  const sd = defs.structureDefinition(`http://hl7.org/fhir/StructureDefinition/${resourceType}`);
  for (const el of sd?.snapshot?.element ?? []) {
    const parts = el.path?.split('.') ?? [];
    if (parts.length !== 2) continue;
    const name = (parts[1] as string).replace('[x]', '');
    if (el.isSummary) t.summary.add(name);
    if ((el.min ?? 0) > 0) t.mandatory.add(name);
  }
  byType.set(resourceType, t);
  return t;
}

/** Whether a key (possibly a choice like valueQuantity or a primitive shadow `_x`) belongs to `names`. */
function inSet(key: string, names: Set<string>): boolean {
  const k = key.startsWith('_') ? key.slice(1) : key;
  if (names.has(k)) return true;
  for (const n of names) if (k.startsWith(n) && /^[A-Z]/.test(k.slice(n.length))) return true;
  return false;
}

/** Applies _summary / _elements to a resource. */
export function shapeResource(ctx: FhirContext, resource: Resource, summary?: string, elements?: string[]): Resource {
  if ((!summary || summary === 'false') && !elements?.length) return resource;
  const t = topLevel(ctx.defs, resource.resourceType);
  let keep: (key: string) => boolean;
  if (summary === 'true') keep = (k) => inSet(k, t.summary);
  else if (summary === 'text') keep = (k) => k === 'text' || inSet(k, t.mandatory);
  else if (summary === 'data') keep = (k) => k !== 'text';
  else if (elements?.length) {
    const wanted = new Set(elements.map((e) => (e.includes('.') ? e.slice(e.indexOf('.') + 1) : e)));
    keep = (k) => inSet(k, wanted);
  } else return resource;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) if (ALWAYS.has(k) || keep(k)) out[k] = v;
  const meta = { ...(resource.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []), SUBSETTED];
  out.meta = meta;
  return out as unknown as Resource;
}

/** Applies _summary / _elements to stored JSON text, returning it untouched when neither is set. */
export function shapeText(ctx: FhirContext, content: string, summary?: string, elements?: string[]): string {
  if ((!summary || summary === 'false') && !elements?.length) return content;
  return JSON.stringify(shapeResource(ctx, JSON.parse(content) as Resource, summary, elements));
}
