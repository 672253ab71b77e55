// DPYD's calling rule (pharmcat.org, "Gene Definition Exceptions"; CPIC fluoropyrimidine
// guideline, PMID 29152729): every DPYD variant allele is looked for on its own, since a sample may
// carry several; the gene's activity score is the sum of the two lowest allele activity values.
// - Phased (or effectively phased: at most one phase block of heterozygous sites), each strand is
//   reported with every allele found on it (`a + b`, or the reference allele when none).
// - Unphased, every allele found is listed (twice when both copies carry it) and the diplotype is
//   the two lowest-activity ones, the reference allele standing in for a missing second.
// An allele that another allele found on the same copy contains (CPIC's c.1129-5923C>G inside
// HapB3, c.1129-5923C>G plus c.1236G>A) is not reported separately: the larger definition uses up
// the copies it explains before smaller ones are looked for.
import type { DiplotypeCall, GeneCall, HaplotypeCall } from './diplotypes.js';
import { accepts, compareAlleleNames, type Candidate, type PreparedSample, type Site } from './sample.js';

type ActivityOf = ((allele: string) => number | undefined) | undefined;

function activity(c: Candidate, activityOf: ActivityOf): number | undefined {
  return activityOf?.(c.name) ?? c.allele.activityValue;
}

function definedCount(c: Candidate): number {
  return c.defined.filter(Boolean).length;
}

// Larger definitions first, so that they claim the variant copies they explain.
function bySize(a: Candidate, b: Candidate): number {
  return definedCount(b) - definedCount(a) || compareAlleleNames(a.name, b.name);
}

// Lowest activity first; an allele without a known activity value sorts after those with one.
function byActivity(x: HaplotypeCall, y: HaplotypeCall): number {
  return (x.activityValue ?? Infinity) - (y.activityValue ?? Infinity) || compareAlleleNames(x.name, y.name);
}

function hap(c: Candidate, activityOf: ActivityOf): HaplotypeCall {
  const h: HaplotypeCall = { name: c.name, alleles: [c.name], score: definedCount(c) };
  const value = activity(c, activityOf);
  if (value !== undefined) h.activityValue = value;
  if (c.allele.function !== undefined) h.function = c.allele.function;
  return h;
}

function pair(a: HaplotypeCall, b: HaplotypeCall): DiplotypeCall {
  const [x, y] = compareAlleleNames(a.name, b.name) <= 0 ? [a, b] : [b, a];
  return { name: `${x.name}/${y.name}`, haplotypes: [x, y], score: x.score + y.score };
}

// The alleles on one strand: every variant allele whose defined cells all match it, where an
// allele contained in another found allele is left out.
function strandAlleles(strand: string[], variants: Candidate[]): Candidate[] {
  const found = variants.filter((c) => c.defined.some(Boolean) && c.defined.every((d, i) => !d || accepts(c, i, strand[i] as string)));
  return found
    .filter((c) => !found.some((o) => o !== c && definedCount(o) > definedCount(c) && c.defined.every((d, i) => !d || o.defined[i])))
    .sort((a, b) => compareAlleleNames(a.name, b.name));
}

function strandHaplotype(found: Candidate[], ref: Candidate, activityOf: ActivityOf): HaplotypeCall {
  if (found.length === 0) return hap(ref, activityOf);
  const parts = found.map((c) => hap(c, activityOf));
  const lowest = [...parts].sort(byActivity)[0] as HaplotypeCall;
  const h: HaplotypeCall = {
    name: parts.map((p) => p.name).join(' + '),
    alleles: parts.map((p) => p.name),
    score: parts.reduce((n, p) => n + p.score, 0),
  };
  if (lowest.activityValue !== undefined) h.activityValue = lowest.activityValue;
  if (lowest.function !== undefined) h.function = lowest.function;
  return h;
}

// Unphased: how many copies of each variant allele the genotypes hold, larger alleles first.
function foundCopies(sample: PreparedSample, variants: Candidate[]): Candidate[] {
  const remaining = sample.sites.map((s) => [...s.bases] as (string | undefined)[]);
  const found: Candidate[] = [];
  for (const c of [...variants].sort(bySize)) {
    const defined = c.defined.flatMap((d, i) => (d ? [i] : []));
    if (defined.length === 0) continue;
    for (;;) {
      const slots = defined.map((i) => (remaining[i] as (string | undefined)[]).findIndex((b) => b !== undefined && accepts(c, i, b)));
      if (slots.some((k) => k < 0)) break;
      defined.forEach((i, n) => { (remaining[i] as (string | undefined)[])[slots[n] as number] = undefined; });
      found.push(c);
    }
  }
  return found;
}

/** Calls DPYD (or any lowest-function gene) from a prepared sample and its marshalled alleles. */
export function callLowestFunction(sample: PreparedSample, candidates: Candidate[], call: GeneCall, activityOf: ActivityOf): GeneCall {
  const ref = candidates.find((c) => c.allele.reference);
  if (!ref) return call;
  const variants = candidates.filter((c) => !c.allele.reference);
  const refHap = hap(ref, activityOf);

  // One phase block (or none) fixes both strands up to their order: read each strand whole.
  if (sample.blocks.length <= 1) {
    const block: Site[] = sample.blocks[0] ?? [];
    const strand = (o: 0 | 1): string[] => sample.sites.map((s) => (block.includes(s) ? s.bases[o] : s.bases[0]));
    const onStrands = [strandAlleles(strand(0), variants), strandAlleles(strand(1), variants)];
    const [h1, h2] = onStrands.map((found) => strandHaplotype(found, ref, activityOf)) as [HaplotypeCall, HaplotypeCall];
    const found = onStrands.flat().map((c) => hap(c, activityOf)).sort(byActivity);
    return { ...call, foundAlleles: found, diplotypes: [pair(h1, h2)] };
  }

  const found = foundCopies(sample, variants).map((c) => hap(c, activityOf)).sort(byActivity);
  const lowest = [...found.slice(0, 2), refHap, refHap].slice(0, 2) as [HaplotypeCall, HaplotypeCall];
  return { ...call, foundAlleles: found, diplotypes: [pair(lowest[0], lowest[1])] };
}
