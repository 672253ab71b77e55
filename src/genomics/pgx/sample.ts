// The sample's side of matching: its genotypes at one gene's defined positions, sorted into what
// can be used (sites), what is missing, and how phasing groups the heterozygous sites; and the
// named alleles restricted to the positions the sample has data for ("marshalled"), as PharmCAT's
// method does: a missing position is dropped from every definition, an allele whose defining
// positions are all missing cannot be called, and the rest compete on what remains.
import {
  cellAccepts, isWobble,
  type DefinedPosition, type GeneAlleleDefinitions, type NamedAllele,
} from './allele-definitions.js';

/** One position's genotype as the VCF calls it: bases per haplotype (undefined = no call). */
export interface PositionGenotype {
  alleles: readonly [string | undefined, string | undefined];
  phased: boolean;
  /** VCF FORMAT/PS; phased calls without one share a single phase set, as the VCF spec says. */
  phaseSet?: number;
}

/** A sample's genotypes by VCF POS; a defined position absent from the map is missing, not reference. */
export type SampleGenotypes = ReadonlyMap<number, PositionGenotype>;

/** A defined position the sample has a full call at. */
export interface Site {
  /** Index into the gene's `positions` (and every allele's cells). */
  index: number;
  position: DefinedPosition;
  bases: readonly [string, string];
}

/** The sample's data for one gene, ready to match. */
export interface PreparedSample {
  sites: Site[];
  homozygous: Site[];
  /** Heterozygous sites grouped by phase: one block per phase set, one per unphased site. */
  blocks: Site[][];
  missing: DefinedPosition[];
  /** Positions whose called base no definition uses (read as reference where the gene says so). */
  undocumented: number[];
}

/** A named allele restricted to the sample's sites; undefined cells already defaulted to reference. */
export interface Candidate {
  allele: NamedAllele;
  /** The name reported for it (a sub-allele reports its parent). */
  name: string;
  /** One cell per site. */
  cells: string[];
  /** Whether the allele's own definition (not the reference default) gives the cell, per site. */
  defined: boolean[];
}

/** Sorts a sample's genotypes at a gene's positions into sites, blocks and missing positions. */
export function prepareSample(defs: GeneAlleleDefinitions, sample: SampleGenotypes): PreparedSample {
  const ignored = new Set(defs.method.ignoredPositions);
  const out: PreparedSample = { sites: [], homozygous: [], blocks: [], missing: [], undocumented: [] };
  const phaseBlocks = new Map<string, Site[]>();
  defs.positions.forEach((position, index) => {
    if (ignored.has(position.position)) return;
    const g = sample.get(position.position);
    const [a, b] = g?.alleles ?? [undefined, undefined];
    // A half call says nothing certain about the other haplotype, so it counts as missing.
    if (g === undefined || a === undefined || b === undefined) {
      out.missing.push(position);
      return;
    }
    const known = (base: string): boolean => base === position.ref || position.alts.includes(base);
    if (!known(a) || !known(b)) out.undocumented.push(position.position);
    const asCalled = (base: string): string => (known(base) || !defs.method.undocumentedAsReference ? base : position.ref);
    const site: Site = { index, position, bases: [asCalled(a), asCalled(b)] };
    out.sites.push(site);
    if (site.bases[0] === site.bases[1]) {
      out.homozygous.push(site);
      return;
    }
    const key = g.phased ? `ps:${g.phaseSet ?? ''}` : `pos:${position.position}`;
    const block = phaseBlocks.get(key);
    if (block) block.push(site);
    else phaseBlocks.set(key, [site]);
  });
  out.blocks = [...phaseBlocks.values()];
  return out;
}

/** Whether phasing constrained the call: some phase block joins two or more heterozygous sites. */
export function phasingUsed(sample: PreparedSample): boolean {
  return sample.blocks.some((b) => b.length > 1);
}

/** The allele names the marshalling could not consider fully. */
export interface MarshalReport {
  /** Alleles whose every defining position is missing: they cannot be called. */
  uncallable: string[];
  /** Alleles with some defining positions missing: called on the positions that remain. */
  partlyMissing: string[];
}

/** Restricts every considered named allele to the sample's sites, defaulting undefined cells to reference. */
export function marshalAlleles(defs: GeneAlleleDefinitions, sample: PreparedSample): { candidates: Candidate[]; report: MarshalReport } {
  const ignored = new Set(defs.method.ignoredAlleles);
  const reference = defs.namedAlleles.find((a) => a.reference) as NamedAllele;
  const missingIdx = new Set(sample.missing.map((p) => defs.positions.indexOf(p)));
  const report: MarshalReport = { uncallable: [], partlyMissing: [] };
  const candidates: Candidate[] = [];
  for (const allele of defs.namedAlleles) {
    if (ignored.has(allele.name)) continue;
    const defined = sample.sites.map((s) => allele.alleles[s.index] !== null);
    const lost = allele.reference ? 0 : allele.alleles.filter((c, i) => c !== null && missingIdx.has(i)).length;
    if (!allele.reference && !defined.includes(true)) {
      if (lost > 0) report.uncallable.push(allele.reportedAs ?? allele.name);
      continue;
    }
    if (lost > 0) report.partlyMissing.push(allele.reportedAs ?? allele.name);
    const cells = sample.sites.map((s) => {
      const own = allele.alleles[s.index];
      if (own !== null && own !== undefined) return own;
      const ref = reference.alleles[s.index] as string;
      return isWobble(ref) ? s.position.ref : ref;
    });
    candidates.push({ allele, name: allele.reportedAs ?? allele.name, cells, defined });
  }
  report.uncallable = [...new Set(report.uncallable)];
  report.partlyMissing = [...new Set(report.partlyMissing)];
  return { candidates, report };
}

/** Whether a candidate's cell at a site accepts a base. */
export function accepts(c: Candidate, siteIdx: number, base: string): boolean {
  return cellAccepts(c.cells[siteIdx] as string, base);
}

/**
 * What matching a base at a site adds to an allele's score: one per position the allele defines,
 * except that an ambiguity code only counts when the base it matched is not the reference base —
 * otherwise a wobble would score as if it were evidence. (PharmCAT scores wobbles the same way:
 * its CYP2C19 *2/*2 call on all-reference rs58973490 scores 6, not 8, in the example report.)
 */
export function weight(c: Candidate, siteIdx: number, site: Site, base: string): number {
  if (!c.defined[siteIdx]) return 0;
  return isWobble(c.cells[siteIdx] as string) && base === site.position.ref ? 0 : 1;
}

/**
 * Natural order of allele names, as PharmCAT writes diplotypes: numbers compare as numbers
 * (*2 < *17 < *38 < *80+*28), everything else by character code (so "Reference" precedes "c.…").
 */
export function compareAlleleNames(a: string, b: string): number {
  if (a === b) return 0;
  const parts = (s: string): (string | number)[] => s.split(/(\d+)/).filter((p) => p !== '').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string | number;
    const y = pb[i] as string | number;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return pa.length - pb.length;
}
