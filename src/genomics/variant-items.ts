// The calls a question names: variant items — SPDI or genomic HGVS, normalised the way imported
// calls are, matched by build, position and alleles — and ranges, each looked up in the studies
// on its build (a question only on another build than the data's is a 422, studiesOnBuild).
import type { Queryable } from '../db/database.js';
import { studiesOnBuild } from './op-input.js';
import { formatRange, parseVariantItem } from './ranges.js';
import type { GenomicRange, GenomicStudy } from './types.js';
import { variantsAt, variantsInRange, type StoredVariant } from './variant-store.js';

/** A variant item, normalised. */
export type VariantItem = ReturnType<typeof parseVariantItem>;

/** Parses variant items (SPDI or `g.` HGVS); anything else is a 400 from the parser. */
export const parseVariantItems = (texts: readonly string[]): VariantItem[] => texts.map((t) => parseVariantItem(t));

/** Whether a stored call is the allele a variant item names (alleles the item leaves open match any). */
export function sameAllele(v: StoredVariant, item: VariantItem): boolean {
  return v.build === item.build && v.sequence === item.sequence && v.start === item.start && v.end === item.end &&
    (item.inserted !== undefined ? v.alt === item.inserted : item.insertedLength === undefined || v.alt.length === item.insertedLength) &&
    (item.deleted === undefined || v.ref === item.deleted);
}

/** The positions to look up for the items (deduplicated). */
export function positionsOf(items: readonly VariantItem[]): { sequence: string; start: number; end: number }[] {
  const seen = new Map<string, { sequence: string; start: number; end: number }>();
  for (const i of items) seen.set(`${i.sequence}:${i.start}:${i.end}`, { sequence: i.sequence, start: i.start, end: i.end });
  return [...seen.values()];
}

/** What a lookup found: the calls, and the studies it searched (those on the asked builds). */
export interface NamedCalls { calls: StoredVariant[]; searched: GenomicStudy[] }

/** The calls of `studies` that any of the items names. */
export async function callsNamedBy(q: Queryable, studies: readonly GenomicStudy[], items: readonly VariantItem[]): Promise<NamedCalls> {
  const searched = [...new Set(items.flatMap((item) => studiesOnBuild(studies, item.build, `Variant ${item.text}`)))];
  const found = await variantsAt(q, searched, positionsOf(items));
  return { calls: found.filter((v) => items.some((item) => sameAllele(v, item))), searched };
}

/** The calls of `studies` overlapping any of the ranges (each call once, ranges in order). */
export async function callsInRanges(q: Queryable, studies: readonly GenomicStudy[], ranges: readonly GenomicRange[]): Promise<NamedCalls> {
  const calls = new Map<string, StoredVariant>();
  const searched = new Set<GenomicStudy>();
  for (const range of ranges) {
    const onBuild = studiesOnBuild(studies, range.build, `Range ${formatRange(range)}`);
    onBuild.forEach((st) => searched.add(st));
    for (const v of await variantsInRange(q, onBuild, range)) calls.set(`${v.studyId}-${v.ord}`, v);
  }
  return { calls: [...calls.values()], searched: [...searched] };
}
