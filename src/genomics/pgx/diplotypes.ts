// Star-allele (diplotype) calling from a sample's genotypes at a gene's defined positions,
// following the method PharmCAT publishes for its Named Allele Matcher (pharmcat.org, "Named
// Allele Matcher 101/201" and "Gene Definition Exceptions"):
// - every defined position is used; a position absent from the sample is missing, is dropped from
//   every definition, and is reported (alleles that lose all their positions cannot be called);
// - an undefined cell in a definition means the reference base;
// - unphased heterozygous sites may pair up either way, phased sites only as their phase set says;
// - a diplotype is possible when both haplotypes can be read off the genotypes at once; it scores
//   the number of defined positions its two alleles matched, and the top score wins — ties are all
//   reported (or every possible diplotype, when asked);
// - DPYD is called by its lowest-function alleles (dpyd.ts); SLCO1B1, when nothing matches, by
//   the rs4149056 genotype alone.
//
// Rather than enumerate every phasing of the sample (2^hets sequences, as PharmCAT does), a pair of
// alleles is tested block by block: unphased sites and phase sets are independent of each other,
// so a pair fits the sample exactly when it fits every block in one of the block's two orientations.
import type { GeneAlleleDefinitions } from './allele-definitions.js';
import { callLowestFunction } from './dpyd.js';
import {
  accepts, compareAlleleNames, marshalAlleles, phasingUsed, prepareSample, weight,
  type Candidate, type PreparedSample, type SampleGenotypes, type Site,
} from './sample.js';

export type { PositionGenotype, SampleGenotypes } from './sample.js';

/** One haplotype of a call: a named allele, or (DPYD, phased) the alleles found together on one strand. */
export interface HaplotypeCall {
  name: string;
  /** The named alleles it consists of (one, except DPYD strands carrying several variants). */
  alleles: string[];
  score: number;
  activityValue?: number;
  function?: string;
}

/** A diplotype and the score it matched with. */
export interface DiplotypeCall {
  /** `h1/h2`, the two names in natural order (*2/*38, Reference/c.1156G>T). */
  name: string;
  haplotypes: [HaplotypeCall, HaplotypeCall];
  score: number;
}

/** A variant reported alongside the call but not used by it. */
export interface VariantOfInterest {
  position: number;
  rsid?: string;
  alleles?: readonly [string | undefined, string | undefined];
}

/** The outcome of calling one gene for one sample. */
export interface GeneCall {
  gene: string;
  knowledgeVersion: string;
  /** named-alleles: the general matcher; lowest-function: DPYD's rule; single-variant: SLCO1B1's fallback. */
  calledBy: 'named-alleles' | 'lowest-function' | 'single-variant';
  /** Best first; several when the sample cannot tell them apart; empty when nothing fits. */
  diplotypes: DiplotypeCall[];
  /** Whether phase information constrained the call. */
  phased: boolean;
  /** False when defined positions were missing, so that alleles may have gone unseen. */
  complete: boolean;
  missingPositions: { position: number; rsid?: string }[];
  /** Alleles whose every defining position is missing. */
  uncallableAlleles: string[];
  /** Alleles called on part of their definition because some positions are missing. */
  partlyMissingAlleles: string[];
  /** Positions where the sample's base is not one any definition uses. */
  undocumentedPositions: number[];
  variantsOfInterest: VariantOfInterest[];
  /** DPYD: every allele found (a homozygous one twice), lowest activity first. */
  foundAlleles?: HaplotypeCall[];
}

/** How much to return and how to look up activity values. */
export interface CallOptions {
  /** 'top' (default): the top-scoring diplotypes; 'all': every possible diplotype, best first. */
  candidates?: 'top' | 'all';
  /** Activity value of an allele, overriding the definitions' own (lowest-function genes). */
  activityOf?: (allele: string) => number | undefined;
}

interface Scored { a: Candidate; b: Candidate; score: number }

// A candidate that cannot fit one haplotype of some site is never part of a diplotype.
function fitsSomeStrand(c: Candidate, sample: PreparedSample): boolean {
  return sample.sites.every((s, i) => accepts(c, i, s.bases[0]) || accepts(c, i, s.bases[1]));
}

/** The best score of a pair over the ways the sample's blocks can be oriented; undefined if none fits. */
function pairScore(a: Candidate, b: Candidate, sample: PreparedSample, siteIdx: Map<Site, number>): number | undefined {
  let total = 0;
  for (const s of sample.homozygous) {
    const i = siteIdx.get(s) as number;
    const base = s.bases[0];
    if (!accepts(a, i, base) || !accepts(b, i, base)) return undefined;
    total += weight(a, i, s, base) + weight(b, i, s, base);
  }
  for (const block of sample.blocks) {
    let best: number | undefined;
    for (const o of [0, 1] as const) {
      let sum = 0;
      let fits = true;
      for (const s of block) {
        const i = siteIdx.get(s) as number;
        const mine = s.bases[o];
        const theirs = s.bases[1 - o] as string;
        if (!accepts(a, i, mine) || !accepts(b, i, theirs)) {
          fits = false;
          break;
        }
        sum += weight(a, i, s, mine) + weight(b, i, s, theirs);
      }
      if (fits && (best === undefined || sum > best)) best = sum;
    }
    if (best === undefined) return undefined;
    total += best;
  }
  return total;
}

/** A haplotype call for a named allele (no DPYD combinations here). */
export function haplotypeOf(c: Candidate, score: number): HaplotypeCall {
  const h: HaplotypeCall = { name: c.name, alleles: [c.name], score };
  if (c.allele.activityValue !== undefined) h.activityValue = c.allele.activityValue;
  if (c.allele.function !== undefined) h.function = c.allele.function;
  return h;
}

/** Builds a diplotype with its haplotypes in natural name order. */
export function diplotypeOf(h1: HaplotypeCall, h2: HaplotypeCall): DiplotypeCall {
  const [x, y] = compareAlleleNames(h1.name, h2.name) <= 0 ? [h1, h2] : [h2, h1];
  return { name: `${x.name}/${y.name}`, haplotypes: [x, y], score: x.score + y.score };
}

// Each allele's own score in a pair: what it matched, in the orientation that gave the pair's best.
function splitScore(a: Candidate, b: Candidate, sample: PreparedSample, siteIdx: Map<Site, number>): [number, number] {
  const solo = (c: Candidate, other: Candidate): number => {
    let s = 0;
    for (const site of sample.homozygous) s += weight(c, siteIdx.get(site) as number, site, site.bases[0]);
    for (const block of sample.blocks) {
      let best = -1;
      for (const o of [0, 1] as const) {
        if (!block.every((site) => accepts(c, siteIdx.get(site) as number, site.bases[o]) && accepts(other, siteIdx.get(site) as number, site.bases[1 - o] as string))) continue;
        best = Math.max(best, block.reduce((n, site) => n + weight(c, siteIdx.get(site) as number, site, site.bases[o]), 0));
      }
      s += Math.max(best, 0);
    }
    return s;
  };
  return [solo(a, b), solo(b, a)];
}

function baseCall(defs: GeneAlleleDefinitions, sample: PreparedSample, sampleGenotypes: SampleGenotypes, report: { uncallable: string[]; partlyMissing: string[] }): GeneCall {
  return {
    gene: defs.gene,
    knowledgeVersion: defs.knowledgeVersion,
    calledBy: defs.method.kind === 'lowest-function' ? 'lowest-function' : 'named-alleles',
    diplotypes: [],
    phased: phasingUsed(sample),
    complete: sample.missing.length === 0,
    missingPositions: sample.missing.map((p) => (p.rsid ? { position: p.position, rsid: p.rsid } : { position: p.position })),
    uncallableAlleles: report.uncallable,
    partlyMissingAlleles: report.partlyMissing,
    undocumentedPositions: sample.undocumented,
    variantsOfInterest: defs.method.extraPositions.map((p) => {
      const v: VariantOfInterest = { position: p.position };
      if (p.rsid) v.rsid = p.rsid;
      const g = sampleGenotypes.get(p.position);
      if (g) v.alleles = g.alleles;
      return v;
    }),
  };
}

// SLCO1B1: CPIC's guideline lets rs4149056 alone stand for the star alleles when no diplotype fits.
function fallbackCall(defs: GeneAlleleDefinitions, call: GeneCall, sample: PreparedSample): GeneCall {
  const fb = defs.method.fallback;
  if (!fb) return call;
  const site = sample.sites.find((s) => s.position.position === fb.position);
  if (!site) return call;
  const names = fb.diplotypes[[...site.bases].sort().join('/')];
  if (!names) return call;
  const hap = (name: string): HaplotypeCall => ({ name, alleles: [name], score: 1 });
  return { ...call, calledBy: 'single-variant', diplotypes: [diplotypeOf(hap(names[0]), hap(names[1]))] };
}

/** Calls one gene's diplotype(s) from a sample's genotypes at its defined positions. */
export function callDiplotypes(defs: GeneAlleleDefinitions, genotypes: SampleGenotypes, options: CallOptions = {}): GeneCall {
  const sample = prepareSample(defs, genotypes);
  const { candidates, report } = marshalAlleles(defs, sample);
  const call = baseCall(defs, sample, genotypes, report);
  if (sample.sites.length === 0) return call;
  const required = new Set(defs.method.requiredPositions);
  if (sample.missing.some((p) => required.has(p.position))) return call;
  if (defs.method.kind === 'lowest-function') return callLowestFunction(sample, candidates, call, options.activityOf);

  const siteIdx = new Map(sample.sites.map((s, i) => [s, i] as const));
  const viable = candidates.filter((c) => fitsSomeStrand(c, sample));
  const scored: Scored[] = [];
  for (let i = 0; i < viable.length; i++) {
    for (let j = i; j < viable.length; j++) {
      const a = viable[i] as Candidate;
      const b = viable[j] as Candidate;
      const score = pairScore(a, b, sample, siteIdx);
      if (score !== undefined) scored.push({ a, b, score });
    }
  }
  // Sub-alleles reported under one name collapse into one diplotype, keeping its best score.
  const byName = new Map<string, DiplotypeCall>();
  for (const { a, b, score } of scored) {
    const [sa, sb] = splitScore(a, b, sample, siteIdx);
    const d = diplotypeOf(haplotypeOf(a, sa), haplotypeOf(b, sb));
    d.score = score;
    const seen = byName.get(d.name);
    if (!seen || seen.score < score) byName.set(d.name, d);
  }
  let diplotypes = [...byName.values()].sort((x, y) => y.score - x.score
    || compareAlleleNames(x.haplotypes[0].name, y.haplotypes[0].name)
    || compareAlleleNames(x.haplotypes[1].name, y.haplotypes[1].name));
  const wantAll = options.candidates === 'all' || defs.method.allHits;
  if (!wantAll && diplotypes.length > 0) {
    const top = (diplotypes[0] as DiplotypeCall).score;
    diplotypes = diplotypes.filter((d) => d.score === top);
  }
  if (!call.phased && diplotypes.length > 1) {
    const names = diplotypes.map((d) => d.name).sort().join('|');
    const rule = defs.method.unphasedPriorities.find((p) => [...p.diplotypes].sort().join('|') === names);
    if (rule) diplotypes = diplotypes.filter((d) => d.name === rule.pick);
  }
  call.diplotypes = diplotypes;
  return diplotypes.length > 0 ? call : fallbackCall(defs, call, sample);
}
