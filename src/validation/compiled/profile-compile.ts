// Compiles a constraint profile's snapshot into a tree of the rules it adds to its base type, once
// per profile. Elements whose rules the base definition already states (same cardinality, no
// fixed/pattern value, no new invariant or binding, no slicing, no type restriction) are left out,
// because the compiled base walk has already checked them; what remains is walked by
// profile-walk.ts on the plain JSON. A profile using anything this compiler cannot evaluate exactly
// is reported as unsupported (with the reason), and the caller falls back to @medplum/core for it.
import { tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import type { CodeSets } from '../terminology.js';
import { compileInvariants, type Invariant } from './invariants.js';
import { isPrimitiveCode } from './primitives.js';
import { withPresenceShortcuts } from './profile-shortcuts.js';
import type { CompiledType, ReferenceTargets } from './schema.js';

/** The resource type a target profile URL constrains, when known (core types and loaded profiles). */
export type TargetType = (url: string) => string | undefined;

/** A fixed or pattern value with its FHIR type, in the shape @medplum/core's deepEquals/deepIncludes compare. */
export interface SpecifiedValue {
  readonly type: string;
  readonly value: unknown;
}

/** A JSON property that can carry an element, with the FHIR type it then has. */
export interface Variant {
  readonly key: string;
  readonly code: string;
}

/** One element of the profile (or of a slice's content) with the rules it adds to the base. */
export interface ProfileNode {
  /** Name in FHIRPath (`value` for `value[x]`). */
  readonly name: string;
  /** The snapshot path without `[x]` (`Observation.component`), where @medplum/core reports counts and values. */
  readonly path: string;
  readonly min: number;
  readonly max: number;
  /** The profile changes min or max. */
  readonly counted: boolean;
  /** The base element repeats (the JSON value is an array). */
  readonly isArray: boolean;
  /** JSON properties for the element, in the base type order @medplum/core reads them in. */
  readonly variants: readonly Variant[];
  /** Type codes the profile allows, when it restricts a choice of the base (below the root). */
  readonly allowed: ReadonlySet<string> | undefined;
  /** On the root: JSON properties of choice variants the profile removes (and their shadows). */
  readonly rejected: readonly string[] | undefined;
  readonly fixed: SpecifiedValue | undefined;
  readonly pattern: SpecifiedValue | undefined;
  /** Invariants the profile adds (error severity, not in the base element). */
  readonly invariants: readonly Invariant[];
  /** Codes of a required binding the profile adds on a `code` element, when enumerable. */
  readonly codes: ReadonlySet<string> | undefined;
  readonly valueSet: string | undefined;
  /** Reference targets the profile narrows (for @medplum/core's warning on a literal reference of another type). */
  readonly targets: ReferenceTargets | undefined;
  readonly slicing: Slicing | undefined;
  readonly children: readonly ProfileNode[];
}

/** How the values of a sliced element are assigned to slices. */
export interface Slicing {
  readonly discriminators: readonly Discriminator[];
  readonly closed: boolean;
  readonly slices: readonly Slice[];
}

/** A discriminator: `type` on `$this`, or value/pattern at a dotted path inside the value. */
export interface Discriminator {
  readonly type: 'value' | 'type';
  readonly path: readonly string[];
}

/** A slice: its cardinality, its type(s), what its discriminator paths must hold, and its content rules. */
export interface Slice {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly types: ReadonlySet<string>;
  /** Per discriminator (same order): the fixed/pattern values one of which a value must match. */
  readonly expected: readonly (readonly { fixed?: SpecifiedValue; pattern?: SpecifiedValue }[])[];
  readonly children: readonly ProfileNode[];
}

/** A compiled profile, or the reason it must be validated by @medplum/core. */
export type CompiledProfile =
  | { readonly ok: true; readonly type: string; readonly invariants: readonly Invariant[]; readonly children: readonly ProfileNode[] }
  | { readonly ok: false; readonly reason: string };

/** What compiling profiles needs: code sets, a shared invariant cache, and type lookups. */
export interface ProfileCompileContext {
  readonly codeSets: CodeSets;
  readonly cache: Map<string, Invariant>;
  readonly targetType: TargetType;
  /** The compiled base type of a focus, for invariant shortcuts (profile-shortcuts.ts). */
  readonly compiledType: (code: string) => CompiledType | undefined;
}

type Ctx = ProfileCompileContext;

/** The snapshot as a tree: element definitions by id segment, slices by name. */
interface RawNode {
  el?: ElementDefinition;
  children: Map<string, RawNode>;
  slices: Map<string, RawNode>;
}

class Unsupported extends Error {}

const newRaw = (): RawNode => ({ children: new Map(), slices: new Map() });
const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const maxOf = (max: string | undefined): number => (max === undefined || max === '*' ? Infinity : Number(max));

/** Compiles `sd` (a constraint on a resource type) against its base type; never throws. */
export function compileProfile(sd: StructureDefinition, ctx: ProfileCompileContext): CompiledProfile {
  try {
    const elements = sd.snapshot?.element ?? [];
    const base = tryGetDataType(sd.type as string);
    if (!base || !elements.length) throw new Unsupported('no snapshot or unknown base type');
    const root = newRaw();
    for (const el of elements) place(root, el, sd.type as string);
    const rootEl = root.el as ElementDefinition;
    const invariants = withPresenceShortcuts(addedInvariants(rootEl, base.constraints ?? [], ctx.cache), ctx.compiledType(sd.type as string));
    const children = compileChildren(root, base, sd.type as string, ctx);
    return { ok: true, type: sd.type as string, invariants, children };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, reason: err.message };
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function place(root: RawNode, el: ElementDefinition, type: string): void {
  const id = el.id ?? el.path ?? '';
  const segs = id.split('.');
  if (segs[0] !== type) throw new Unsupported(`element ${id} is outside ${type}`);
  let node = root;
  for (const seg of segs.slice(1)) {
    const [name, slice, extra] = seg.split(':');
    if (extra !== undefined || slice?.includes('/')) throw new Unsupported(`re-slicing at ${id}`);
    let child = node.children.get(name as string);
    if (!child) node.children.set(name as string, (child = newRaw()));
    if (slice !== undefined) {
      let s = child.slices.get(slice);
      if (!s) child.slices.set(slice, (s = newRaw()));
      child = s;
    }
    node = child;
  }
  node.el = el;
}

function addedInvariants(el: ElementDefinition, baseConstraints: readonly { key: string }[], cache: Map<string, Invariant>): Invariant[] {
  const known = new Set(baseConstraints.map((c) => c.key));
  const added = (el.constraint ?? [])
    .filter((c) => !known.has(c.key as string))
    .map((c) => ({ key: c.key as string, severity: c.severity as string, expression: c.expression ?? '', description: c.human ?? '' }));
  for (const c of added) if (c.severity === 'error' && !c.expression) throw new Unsupported(`constraint ${c.key} has no FHIRPath expression`);
  return compileInvariants(added, cache);
}

/** The compiled children of `raw` (an instance of base type `type`); only those adding rules. */
function compileChildren(raw: RawNode, type: InternalTypeSchema, where: string, ctx: Ctx): ProfileNode[] {
  const out: ProfileNode[] = [];
  for (const [seg, child] of raw.children) {
    const node = compileNode(seg, child, type, `${where}.${seg}`, !where.includes('.'), ctx);
    if (node) out.push(node);
  }
  return out;
}

function compileNode(
  seg: string,
  raw: RawNode,
  parent: InternalTypeSchema,
  where: string,
  atRoot: boolean,
  ctx: Ctx,
): ProfileNode | undefined {
  const el = raw.el;
  const baseEl = parent.elements[seg];
  if (!el || !baseEl) {
    if (!el && !raw.children.size && !raw.slices.size) return undefined;
    throw new Unsupported(`${where} is not an element of ${parent.name}`);
  }
  unsupportedRules(el, where, baseEl);
  const choice = seg.endsWith('[x]');
  const name = choice ? seg.slice(0, -3) : seg;
  const last = baseEl.path.slice(baseEl.path.lastIndexOf('.') + 1);
  const variantOf = (code: string): Variant => ({ key: choice ? last.replace('[x]', upperFirst(code)) : name, code });
  const profileTypes = new Set((el.type ?? []).map((t) => t.code));
  const restricted = choice && profileTypes.size > 0 && baseEl.type.some((t) => !profileTypes.has(t.code));
  // @medplum/core reads a root choice through the profile's types (a removed variant is then an
  // additional property) and a nested one through the base type's.
  const rootRestricted = restricted && atRoot;
  const variants = rootRestricted ? [...profileTypes].map(variantOf) : baseEl.type.map((t) => variantOf(t.code));
  const allowed = restricted && !atRoot ? profileTypes : undefined;
  const rejected = rootRestricted ? baseEl.type.filter((t) => !profileTypes.has(t.code)).flatMap((t) => [variantOf(t.code).key, `_${variantOf(t.code).key}`]) : undefined;
  const min = el.min ?? baseEl.min;
  const max = el.max === undefined ? baseEl.max : maxOf(el.max);
  const [fixed, pattern] = specified(el);
  const focusType = variants.length === 1 ? ctx.compiledType((variants[0] as Variant).code) : undefined;
  const invariants = withPresenceShortcuts(addedInvariants(el, baseEl.constraints ?? [], ctx.cache), focusType);
  const [codes, valueSet] = addedBinding(el, baseEl, ctx.codeSets);
  const targets = narrowedTargets(el, baseEl, ctx.targetType);

  const contentType = nestedType(baseEl, el, where, raw);
  const children = contentType ? compileChildren(raw, contentType, where, ctx) : [];
  const slicing = compileSlicing(el, raw, baseEl, contentType, where, ctx);
  const counted = min !== baseEl.min || max !== baseEl.max;
  const adds = counted || allowed || rejected || targets || fixed || pattern || invariants.length || codes || slicing || children.length;
  if (!adds) return undefined;
  return { name, path: where.replace(/\[x\]/g, ''), min, max, counted, isArray: baseEl.isArray === true, variants, allowed, rejected, fixed, pattern, invariants, codes, valueSet, targets, slicing, children };
}

/** Rules neither this compiler nor @medplum/core checks; a profile stating one falls back (and says why). */
function unsupportedRules(el: ElementDefinition, where: string, baseEl: InternalSchemaElement): void {
  for (const k of Object.keys(el)) {
    if (/^(minValue|maxValue)/.test(k) || k === 'maxLength') throw new Unsupported(`${k} at ${where}`);
  }
  // A type profile the base element states too (R4 referenceRange.low: SimpleQuantity) is a base rule.
  const baseProfiles = new Set(baseEl.type.flatMap((t) => t.profile ?? []));
  if ((el.type ?? []).some((t) => t.profile?.some((u) => !baseProfiles.has(u)))) throw new Unsupported(`type profile at ${where}`);
}

function specified(el: ElementDefinition): [SpecifiedValue | undefined, SpecifiedValue | undefined] {
  let fixed: SpecifiedValue | undefined;
  let pattern: SpecifiedValue | undefined;
  for (const [k, v] of Object.entries(el)) {
    if (k.startsWith('fixed')) fixed = { type: lowerType(k.slice(5)), value: v };
    else if (k.startsWith('pattern')) pattern = { type: lowerType(k.slice(7)), value: v };
  }
  return [fixed, pattern];
}

/** The type of a `fixedUri`/`patternCodeableConcept` suffix: primitive type names start in lower case. */
function lowerType(suffix: string): string {
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return isPrimitiveCode(lower) ? lower : suffix;
}

/** A required binding on a `code` element that the base does not state already (what bindings.ts adds). */
function addedBinding(el: ElementDefinition, baseEl: InternalSchemaElement, codeSets: CodeSets): [ReadonlySet<string> | undefined, string | undefined] {
  const b = el.binding;
  if (b?.strength !== 'required' || !b.valueSet || !(el.type ?? []).some((t) => t.code === 'code')) return [undefined, undefined];
  const canonical = (u: string): string => u.split('|')[0] as string;
  const baseVs = baseEl.binding?.strength === 'required' ? baseEl.binding.valueSet : undefined;
  if (baseVs && canonical(baseVs) === canonical(b.valueSet) && (baseEl.type.length === 1 || baseEl.path.endsWith('[x]'))) return [undefined, undefined];
  const codes = codeSets.codes(b.valueSet);
  return codes ? [codes, b.valueSet] : [undefined, undefined];
}

/** The base type of the element's content, for compiling nested rules; undefined when there are none. */
function nestedType(baseEl: InternalSchemaElement, el: ElementDefinition, where: string, raw: RawNode): InternalTypeSchema | undefined {
  const hasContent = raw.children.size > 0 || [...raw.slices.values()].some((s) => s.children.size > 0);
  if (!hasContent) return undefined;
  const profileTypes = el.type ?? [];
  let code: string | undefined;
  if (baseEl.type.length === 1) code = baseEl.type[0]?.code;
  else if (profileTypes.length === 1) code = profileTypes[0]?.code;
  if (!code) throw new Unsupported(`rules inside a choice of several types at ${where}`);
  const type = tryGetDataType(code);
  if (!type) throw new Unsupported(`unknown type ${code} at ${where}`);
  return type;
}

function compileSlicing(
  el: ElementDefinition,
  raw: RawNode,
  baseEl: InternalSchemaElement,
  contentType: InternalTypeSchema | undefined,
  where: string,
  ctx: Ctx,
): Slicing | undefined {
  const slicing = el.slicing;
  if (!slicing || !raw.slices.size) {
    if (raw.slices.size) throw new Unsupported(`slices without slicing at ${where}`);
    return undefined;
  }
  if (slicing.ordered) throw new Unsupported(`ordered slicing at ${where}`);
  const discriminators: Discriminator[] = (slicing.discriminator ?? []).map((d) => {
    if (d.type === 'type' && d.path === '$this') return { type: 'type', path: [] };
    if ((d.type === 'value' || d.type === 'pattern') && /^[A-Za-z]+(\.[A-Za-z]+)*$/.test(d.path)) return { type: 'value', path: d.path.split('.') };
    throw new Unsupported(`discriminator ${d.type} ${d.path} at ${where}`);
  });
  if (!discriminators.length) throw new Unsupported(`slicing without discriminator at ${where}`);
  const slices: Slice[] = [];
  for (const [name, s] of raw.slices) {
    const sel = s.el;
    if (!sel) throw new Unsupported(`slice ${name} without definition at ${where}`);
    unsupportedRules(sel, `${where}:${name}`, baseEl);
    const [fixed, pattern] = specified(sel);
    const own = (el.constraint ?? []).map((c) => ({ key: c.key as string }));
    if (fixed || pattern || addedInvariants(sel, own, ctx.cache).length) throw new Unsupported(`rules on slice ${name} itself at ${where}`);
    const types = new Set((sel.type ?? []).map((t) => t.code));
    const expected = discriminators.map((d) => (d.type === 'type' ? [] : expectedAt(s, d.path, `${where}:${name}`)));
    const sliceType = s.children.size ? sliceContentType(baseEl, sel, where) ?? contentType : contentType;
    const children = sliceType ? compileChildren(s, sliceType, where, ctx) : [];
    slices.push({ name, min: sel.min ?? 0, max: maxOf(sel.max), types, expected, children });
  }
  return { discriminators, closed: slicing.rules === 'closed', slices };
}

function sliceContentType(baseEl: InternalSchemaElement, sel: ElementDefinition, where: string): InternalTypeSchema | undefined {
  const code = baseEl.type.length === 1 ? baseEl.type[0]?.code : sel.type?.length === 1 ? sel.type[0]?.code : undefined;
  if (!code) throw new Unsupported(`slice content of a choice of several types at ${where}`);
  return tryGetDataType(code);
}

/** The fixed/pattern values a slice states at a discriminator path, looking into nested slices too. */
function expectedAt(slice: RawNode, path: readonly string[], where: string): { fixed?: SpecifiedValue; pattern?: SpecifiedValue }[] {
  let nodes: RawNode[] = [slice];
  for (const seg of path) {
    const next: RawNode[] = [];
    for (const n of nodes) {
      const c = n.children.get(seg);
      if (!c) continue;
      next.push(c, ...c.slices.values());
    }
    nodes = next;
  }
  const out: { fixed?: SpecifiedValue; pattern?: SpecifiedValue }[] = [];
  for (const n of nodes) {
    if (!n.el) continue;
    const [fixed, pattern] = specified(n.el);
    if (fixed || pattern) out.push({ ...(fixed ? { fixed } : {}), ...(pattern ? { pattern } : {}) });
  }
  // One value to match is exact; several (from sibling nested slices) would need per-item matching.
  if (out.length !== 1) throw new Unsupported(`${out.length} fixed or pattern values for discriminator ${path.join('.')} at ${where}`);
  return out;
}

/**
 * Reference targets the profile narrows (vitalsigns: subject is a Patient), with a target profile read
 * as the type it constrains (hasMember may be a vitalsigns Observation); undefined when unchanged, or
 * when a target's type is unknown (as schema.ts does, nothing is then warned about).
 */
function narrowedTargets(el: ElementDefinition, baseEl: InternalSchemaElement, targetType: TargetType): ReferenceTargets | undefined {
  const urls = (el.type ?? []).find((t) => t.code === 'Reference')?.targetProfile;
  const baseUrls = baseEl.type.find((t) => t.code === 'Reference')?.targetProfile ?? [];
  if (!urls?.length || (urls.length === baseUrls.length && urls.every((u) => baseUrls.includes(u)))) return undefined;
  const types = new Set<string>();
  for (const url of urls) {
    const type = targetType(url);
    if (!type || type === 'Resource') return undefined;
    types.add(type);
  }
  return { types, text: urls.join('", "') };
}
