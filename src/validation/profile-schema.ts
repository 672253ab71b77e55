// Profiles as @medplum/core's validator can use them, compiled once.
//
// Limits of @medplum/core 4.5.2 are handled here, on the profile, rather than per resource:
// 1. Its StructureDefinition parser keeps one slicing context at a time. A slice nested inside
//    another slice's content (R4 `bp`: component:SystolicBP.code.coding:SBPCode) is taken for a new
//    sibling of the outer slices, so the outer slice loses the fixed values its discriminator needs
//    and every blood-pressure Observation fails with "slice 'SystolicBP' expected 1..1, found 0".
//    Dropping the nested slice-start element makes its children (which the parser files by path,
//    e.g. `code.coding.code` = 8480-6) part of the outer slice again. medplum uses slice content
//    only to match discriminators, so nothing else is lost. Where one outer slice holds several
//    nested slices of the same element their fixed values cannot be merged; the outer slicing is
//    then not checked.
// 2. Slicing it cannot evaluate (discriminator types other than value/pattern/type, or paths with
//    functions such as `resolve()`) makes its parser throw; such slicing is left unchecked.
// 3. Slice content is never validated. For a choice element narrowed to one type and sliced by that
//    type (heartrate: value[x]:valueQuantity) the slice is the value itself, so its content is turned
//    into plain elements (`value[x].code` fixed to /min), which medplum does check.
// `validateResource(…, { profile })` also re-parses the profile on every call (2–5 ms for a vital
// sign, ten times the cost of the base validation), so each profile is parsed once and registered
// in medplum's type map under a private name, then validated with `validateTypedValue`.
import { getAllDataTypes, parseStructureDefinition, validateTypedValue } from '@medplum/core';
import type { InternalTypeSchema } from '@medplum/core';
import type { ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';

const SUPPORTED_DISCRIMINATORS = new Set(['value', 'pattern', 'type']);

/** Compiles profiles once and validates resources against them with @medplum/core. */
export interface ProfileSchemas {
  /** The compiled form of `profile`. */
  schema(profile: StructureDefinition): InternalTypeSchema;
  /** medplum's issues for `resource` against `profile` (it throws OperationOutcomeError on errors). */
  validate(resource: Resource, profile: StructureDefinition): OperationOutcomeIssue[];
}

/** Creates a compile cache keyed by StructureDefinition object, so a replaced profile is recompiled. */
export function createProfileSchemas(): ProfileSchemas {
  const compiled = new WeakMap<StructureDefinition, { typeName: string; schema: InternalTypeSchema }>();
  const compile = (profile: StructureDefinition): { typeName: string; schema: InternalTypeSchema } => {
    let entry = compiled.get(profile);
    if (!entry) {
      const schema = parseStructureDefinition(medplumReadableProfile(profile));
      // A private, collision-free name: profile schemas must never replace a core type. Without a
      // `kind`, medplum's getResourceTypes() does not list the profile as a resource type.
      entry = { typeName: `helix-profile:${randomUUID()}`, schema };
      getAllDataTypes()[entry.typeName] = { ...schema, kind: undefined };
      compiled.set(profile, entry);
    }
    return entry;
  };
  return {
    schema: (profile) => compile(profile).schema,
    validate: (resource, profile) => validateTypedValue({ type: compile(profile).typeName, value: resource }),
  };
}

const idSegments = (id: string): string[] => id.split('.');
const isSliced = (segment: string): boolean => segment.includes(':');

/** A copy of `sd` whose snapshot @medplum/core's parser reads as the profile means it (see above). */
export function medplumReadableProfile(sd: StructureDefinition): StructureDefinition {
  const elements = sd.snapshot?.element ?? [];
  const dropSlicingOf = new Set<string>();
  const dropNested = new Set<string>();

  for (const el of elements) {
    const ds = el.slicing?.discriminator ?? [];
    if (ds.some((d) => !SUPPORTED_DISCRIMINATORS.has(d.type) || /[()]/.test(d.path))) dropSlicingOf.add(idOf(el));
  }

  // Nested slices, grouped by the (outer-slice-qualified) element they slice.
  const nested = new Map<string, string[]>();
  for (const el of elements) {
    const segs = idSegments(idOf(el));
    if (!el.sliceName || segs.filter(isSliced).length < 2) continue;
    const last = segs[segs.length - 1] as string;
    const group = [...segs.slice(0, -1), last.slice(0, last.indexOf(':'))].join('.');
    nested.set(group, [...(nested.get(group) ?? []), idOf(el)]);
  }
  for (const [group, sliceIds] of nested) {
    if (sliceIds.length === 1) {
      dropNested.add(sliceIds[0] as string);
      continue;
    }
    for (const id of sliceIds) dropNested.add(id);
    // Their contents would overwrite each other; drop them, and the outer slicing if it looks inside.
    const segs = idSegments(group);
    const outerIdx = segs.findIndex(isSliced);
    const outerSeg = segs[outerIdx] as string;
    const outerElement = [...segs.slice(0, outerIdx), outerSeg.slice(0, outerSeg.indexOf(':'))].join('.');
    const relative = segs.slice(outerIdx + 1).join('.');
    const outer = elements.find((e) => idOf(e) === outerElement);
    const paths = outer?.slicing?.discriminator?.map((d) => d.path) ?? [];
    if (paths.some((p) => p === relative || p.startsWith(relative + '.'))) dropSlicingOf.add(outerElement);
  }

  const promote = promotableTypeSlices(elements);
  const kept: ElementDefinition[] = [];
  for (const el of elements) {
    const id = idOf(el);
    const promoted = promotedId(promote, id);
    if (promoted !== undefined) {
      if (!promoted.includes(':')) kept.push({ ...el, id: promoted });
      continue;
    }
    if ([...dropSlicingOf].some((d) => id.startsWith(d + ':'))) continue;
    if (dropNested.has(id)) continue;
    if ([...dropNested].some((d) => id.startsWith(d + '.')) && nestedGroupSize(nested, id) > 1) continue;
    kept.push(dropSlicingOf.has(id) ? withoutSlicing(el) : el);
  }
  return { ...sd, snapshot: { ...sd.snapshot, element: kept } };
}

/**
 * Type slices of a choice element restricted to that single type (heartrate: value[x] is only
 * Quantity, sliced as value[x]:valueQuantity with code fixed to /min). The slice is the value, so
 * its content can become plain elements (`value[x].code`) that medplum checks; as slice content it
 * would be ignored. Returns slice id → id of the choice element.
 */
function promotableTypeSlices(elements: ElementDefinition[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const el of elements) {
    const id = idOf(el);
    const only = el.type?.length === 1 ? el.type[0]?.code : undefined;
    const byType = el.slicing?.discriminator?.every((d) => d.type === 'type' && d.path === '$this');
    if (!id.endsWith('[x]') || id.includes(':') || !only || !byType) continue;
    for (const slice of elements) {
      if (slice.sliceName && idOf(slice) === `${id}:${slice.sliceName}` && slice.type?.[0]?.code === only) {
        out.set(idOf(slice), id);
      }
    }
  }
  return out;
}

/** The plain-element id of content inside a promotable type slice (undefined when not inside one). */
function promotedId(promote: Map<string, string>, id: string): string | undefined {
  for (const [sliceId, choiceId] of promote) {
    if (id.startsWith(sliceId + '.')) return choiceId + id.slice(sliceId.length);
  }
  return undefined;
}

function idOf(el: ElementDefinition): string {
  return el.id ?? el.path ?? '';
}

function withoutSlicing(el: ElementDefinition): ElementDefinition {
  const { slicing: _slicing, ...rest } = el;
  return rest;
}

/** How many nested slices share the group of the nested slice that `id` lies inside. */
function nestedGroupSize(nested: Map<string, string[]>, id: string): number {
  for (const ids of nested.values()) if (ids.some((s) => id.startsWith(s + '.'))) return ids.length;
  return 0;
}
