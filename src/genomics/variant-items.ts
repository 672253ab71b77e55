// Specific-variant questions (find-subject-specific-variants, find-population-specific-variants):
// a variant item — SPDI or genomic HGVS — normalised the way imported calls are, and matched
// against stored calls by position and alleles.
import type { GenomicBuild } from './types.js';
import { parseVariantItem } from './ranges.js';
import type { StoredVariant } from './variant-store.js';

/** A variant item, normalised. */
export type VariantItem = ReturnType<typeof parseVariantItem>;

/** Parses variant items (SPDI or `g.` HGVS); anything else is a 400 from the parser. */
export const parseVariantItems = (texts: readonly string[]): VariantItem[] => texts.map((t) => parseVariantItem(t));

/** Whether a stored call is the allele a variant item names (alleles the item leaves open match any). */
export function sameAllele(v: StoredVariant, item: VariantItem): boolean {
  return v.sequence === item.sequence && v.start === item.start && v.end === item.end &&
    (item.inserted !== undefined ? v.alt === item.inserted : item.insertedLength === undefined || v.alt.length === item.insertedLength) &&
    (item.deleted === undefined || v.ref === item.deleted);
}

/** The positions to look up for the items (deduplicated). */
export function positionsOf(items: readonly VariantItem[]): { sequence: string; start: number; end: number }[] {
  const seen = new Map<string, { sequence: string; start: number; end: number }>();
  for (const i of items) seen.set(`${i.sequence}:${i.start}:${i.end}`, { sequence: i.sequence, start: i.start, end: i.end });
  return [...seen.values()];
}

/** The builds the items are on. */
export const buildsOf = (items: readonly VariantItem[]): GenomicBuild[] => [...new Set(items.map((i) => i.build))];
