// Diplotype → phenotype, from Helix's own knowledge files (knowledge/pgx/phenotypes/<GENE>.json,
// written by scripts/kb/pgx-phenotypes.ts from CPIC's allele function and diplotype-phenotype
// tables). Genes are looked up either by the pair of allele functions (CYP2C19, TPMT, ...) or by
// the activity score, the sum of the two activity values (CYP2C9, CYP2D6, DPYD). As CPIC does, an
// allele of unknown or uncertain function makes the phenotype Indeterminate rather than a guess.
import { fileURLToPath } from 'node:url';
import { readKnowledgeFiles } from './knowledge-files.js';

/** Where the knowledge files ship, relative to this module (src/ and dist/ alike). */
export const defaultPgxKnowledgeDir = fileURLToPath(new URL('../../../knowledge/pgx/', import.meta.url));

/** A publication a knowledge record cites. */
export interface Citation { title: string; year: number; pmid: string; url: string }

/** One named allele: its CPIC function and, for activity-score genes, its activity value. */
export interface Haplotype {
  name: string;
  function: string;
  /** Null when CPIC gives no value (unknown or uncertain function); absent for function-pair genes. */
  activityValue?: number | null;
  /** The value is a lower bound (CYP2D6 copy numbers written x≥3). */
  atLeast?: boolean;
}

/** An activity score: the sum of two activity values, with CPIC's text form ("1.5", "≥3.0"). */
export interface ActivityScore { value: number; atLeast: boolean; text: string }

/** A score range and the phenotype it means (bounds inclusive; no max means no upper bound). */
export interface ScoreRange { min: number; max?: number; phenotype: string }

/** A variant whose carriage a drug rule reads directly (CYP4F2 rs2108622 T for warfarin). */
export interface Marker { id: string; description: string; alleles: readonly string[] }

/** The phenotype rules of one gene. */
export interface GeneRules {
  gene: string;
  version: string;
  source: string;
  citations: readonly Citation[];
  lookup: 'function-pair' | 'activity-score' | 'none';
  alleles: ReadonlyMap<string, Haplotype>;
  /** Sorted "function / function" → phenotype. */
  functionPairs: ReadonlyMap<string, string>;
  scoreRanges: readonly ScoreRange[];
  unscoredPhenotype: string;
  /** The fixed phenotype of a gene CPIC gives none for. */
  phenotype?: string;
  markers: readonly Marker[];
  /** How more than two unphased haplotypes combine (DPYD). */
  unphased?: 'lowest-two-activity-values';
}

/** Every gene's rules, loaded once and passed to whoever needs them. */
export interface PhenotypeKnowledge { genes: ReadonlyMap<string, GeneRules> }

/** A diplotype as "*1/*2", as two allele names, or (DPYD) as every haplotype found, unphased. */
export type DiplotypeInput = string | readonly [string, string] | { haplotypes: readonly string[] };

/** What a diplotype means for one gene. */
export interface GenePhenotype {
  gene: string;
  /** The two haplotypes the phenotype rests on (for DPYD lists, the two lowest). */
  diplotype: readonly [Haplotype, Haplotype];
  phenotype: string;
  activityScore?: ActivityScore;
  /** The key CPIC recommendations are filed under: the phenotype, or the activity score text. */
  lookupKey: string;
  /** False when CPIC assigns no phenotype (Indeterminate, or a gene without phenotypes). */
  determinate: boolean;
  /** Why the phenotype is Indeterminate, when that was not CPIC's own rule. */
  reason?: string;
  /** Copies of each marker the diplotype carries. */
  markers?: Readonly<Record<string, number>>;
}

const INDETERMINATE = 'Indeterminate';
const FORMAT = 'helix-pgx-phenotypes/1';

/** Loads and validates every <GENE>.json in the knowledge directory (the phenotypes/ folder). */
export function loadPhenotypeKnowledge(dir: string): PhenotypeKnowledge {
  return { genes: readKnowledgeFiles(dir, 'phenotype', parseGeneRules, (rules) => rules.gene) };
}

/** The phenotype a diplotype of a gene implies, or an Indeterminate value saying why not. */
export function phenotypeOf(knowledge: PhenotypeKnowledge, gene: string, input: DiplotypeInput): GenePhenotype {
  const rules = knowledge.genes.get(gene.trim().toUpperCase());
  if (!rules) throw new Error(`no phenotype knowledge for gene '${gene}'`);
  const names = alleleNames(rules, input);
  const resolved = names.map((n) => haplotypeOf(rules, n));
  const unknown = names.filter((_, i) => resolved[i] === undefined);
  if (unknown.length > 0) {
    const diplotype = names.slice(0, 2).map((name, i) => resolved[i] ?? { name, function: 'Unknown function' });
    return indeterminate(rules, [diplotype[0]!, diplotype[1]!], `${rules.gene} allele ${unknown.join(', ')} is not in Helix's table`);
  }
  const haplotypes = resolved as Haplotype[];
  const pair = choosePair(rules, haplotypes);
  const markers = markerCounts(rules, pair);
  if (rules.lookup === 'none') {
    const phenotype = rules.phenotype ?? 'n/a';
    return { gene: rules.gene, diplotype: pair, phenotype, lookupKey: phenotype, determinate: false, ...markers };
  }
  if (rules.lookup === 'function-pair') {
    const phenotype = rules.functionPairs.get(functionKey(pair[0].function, pair[1].function));
    if (phenotype === undefined) return indeterminate(rules, pair, `CPIC gives no ${rules.gene} phenotype for ${pair[0].function} with ${pair[1].function}`);
    return { gene: rules.gene, diplotype: pair, phenotype, lookupKey: phenotype, determinate: phenotype !== INDETERMINATE, ...markers };
  }
  const score = activityScore(pair);
  if (!score) return { gene: rules.gene, diplotype: pair, phenotype: rules.unscoredPhenotype, lookupKey: 'n/a', determinate: false, ...markers };
  const phenotype = scorePhenotype(rules.scoreRanges, score);
  if (phenotype === undefined) return indeterminate(rules, pair, `no ${rules.gene} phenotype covers activity score ${score.text}`);
  return { gene: rules.gene, diplotype: pair, phenotype, activityScore: score, lookupKey: score.text, determinate: true, ...markers };
}

/** The phenotype an activity score falls in, if any range covers it. */
export function scorePhenotype(ranges: readonly ScoreRange[], score: ActivityScore): string | undefined {
  // A lower-bound score (≥3.0) lies in a range only if the range has no upper bound.
  return ranges.find((r) => score.value >= r.min && (r.max === undefined || (!score.atLeast && score.value <= r.max)))?.phenotype;
}

/** CPIC's text form of an activity score: "1.0", "0.25", "≥3.0". */
export function formatActivityScore(value: number, atLeast = false): string {
  const text = Number.isInteger(value * 2) ? value.toFixed(1) : value.toFixed(2);
  return atLeast ? `≥${text}` : text;
}

/** The key a pair of allele functions is filed under, independent of order. */
export function functionKey(a: string, b: string): string {
  return [a, b].sort().join(' / ');
}

function activityScore(pair: readonly [Haplotype, Haplotype]): ActivityScore | undefined {
  const [a, b] = pair;
  if (a.activityValue == null || b.activityValue == null) return undefined;
  const value = a.activityValue + b.activityValue;
  const atLeast = Boolean(a.atLeast || b.atLeast);
  return { value, atLeast, text: formatActivityScore(value, atLeast) };
}

function indeterminate(rules: GeneRules, pair: readonly [Haplotype, Haplotype], reason: string): GenePhenotype {
  const lookupKey = rules.lookup === 'activity-score' ? 'n/a' : INDETERMINATE;
  return { gene: rules.gene, diplotype: pair, phenotype: INDETERMINATE, lookupKey, determinate: false, reason };
}

function alleleNames(rules: GeneRules, input: DiplotypeInput): string[] {
  const clean = (name: string) => {
    const trimmed = name.trim();
    // Lab reports often repeat the gene in each allele ("CYP2C19*2"); Helix's tables do not.
    return trimmed.toUpperCase().startsWith(rules.gene) ? trimmed.slice(rules.gene.length).trim() : trimmed;
  };
  if (typeof input === 'string') {
    const body = input.trim().toUpperCase().startsWith(`${rules.gene} `) ? input.trim().slice(rules.gene.length) : input;
    const parts = body.split('/');
    if (parts.length !== 2 || parts.some((p) => p.trim() === '')) throw new Error(`'${input}' is not a ${rules.gene} diplotype of two alleles`);
    return parts.map(clean);
  }
  if ('haplotypes' in input) {
    const names = input.haplotypes.map(clean);
    if (names.length < 2) throw new Error(`${rules.gene}: list every haplotype copy found (at least two), including the reference`);
    if (names.length > 2 && rules.unphased !== 'lowest-two-activity-values') {
      throw new Error(`${rules.gene}: more than two haplotypes only combine for genes scored by their lowest two activity values`);
    }
    return names;
  }
  return [clean(input[0]), clean(input[1])];
}

// A phased DPYD strand carrying several variant alleles is written "a + b"; the strand counts as
// its weakest allele, as in the lowest-two scoring of unphased calls.
function haplotypeOf(rules: GeneRules, name: string): Haplotype | undefined {
  const known = rules.alleles.get(name);
  if (known || rules.unphased !== 'lowest-two-activity-values' || !name.includes(' + ')) return known;
  const parts = name.split(' + ').map((p) => rules.alleles.get(p.trim()));
  if (parts.some((p) => p === undefined)) return undefined;
  const weakest = [...(parts as Haplotype[])].sort((x, y) => (x.activityValue ?? -1) - (y.activityValue ?? -1))[0]!;
  return { ...weakest, name };
}

function choosePair(rules: GeneRules, haplotypes: Haplotype[]): readonly [Haplotype, Haplotype] {
  if (haplotypes.length === 2) return [haplotypes[0]!, haplotypes[1]!];
  // Unphased DPYD: assume the variants sit on different chromosomes and score the two weakest.
  if (rules.unphased !== 'lowest-two-activity-values') throw new Error(`${rules.gene}: cannot combine ${haplotypes.length} haplotypes`);
  // An unscored haplotype ranks lowest, so it makes the result Indeterminate rather than vanishing.
  const ranked = [...haplotypes].sort((x, y) => (x.activityValue ?? -1) - (y.activityValue ?? -1) || x.name.localeCompare(y.name));
  return [ranked[0]!, ranked[1]!];
}

function markerCounts(rules: GeneRules, pair: readonly [Haplotype, Haplotype]): { markers?: Record<string, number> } {
  if (rules.markers.length === 0) return {};
  return { markers: Object.fromEntries(rules.markers.map((m) => [m.id, pair.filter((h) => m.alleles.includes(h.name)).length])) };
}

// --- validation of the knowledge files ------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function need<T>(ok: boolean, file: string, what: string, value: T): T {
  if (!ok) throw new Error(`${file}: ${what}`);
  return value;
}

function str(o: Json, key: string, file: string): string {
  return need(typeof o[key] === 'string' && (o[key] as string).length > 0, file, `'${key}' must be a non-empty string`, o[key] as string);
}

/** Checks one gene file's shape and turns it into the rules Helix applies. */
export function parseGeneRules(raw: unknown, file: string): GeneRules {
  if (!isObject(raw)) throw new Error(`${file}: not a JSON object`);
  need(raw.format === FORMAT, file, `format must be '${FORMAT}'`, null);
  const gene = str(raw, 'gene', file);
  const lookup = raw.lookup as GeneRules['lookup'];
  need(lookup === 'function-pair' || lookup === 'activity-score' || lookup === 'none', file, `unknown lookup '${String(raw.lookup)}'`, null);
  const citations = need(Array.isArray(raw.citations) && raw.citations.length > 0, file, 'needs at least one citation', raw.citations as unknown[]);
  for (const c of citations) {
    need(isObject(c) && typeof c.title === 'string' && typeof c.pmid === 'string' && typeof c.url === 'string' && typeof c.year === 'number',
      file, 'citations need title, year, pmid and url', null);
  }
  need(isObject(raw.alleles), file, "'alleles' must be an object", null);
  const alleles = new Map<string, Haplotype>();
  for (const [name, a] of Object.entries(raw.alleles as Json)) {
    need(isObject(a) && typeof a.function === 'string', file, `allele ${name} needs a function`, null);
    const entry = a as Json;
    const haplotype: Haplotype = { name, function: entry.function as string };
    if (lookup === 'activity-score') {
      need(entry.activityValue === null || typeof entry.activityValue === 'number', file, `allele ${name} needs an activityValue (number or null)`, null);
      haplotype.activityValue = entry.activityValue as number | null;
      if (entry.atLeast === true) haplotype.atLeast = true;
    }
    alleles.set(name, haplotype);
  }
  const functionPairs = new Map<string, string>();
  if (lookup === 'function-pair') {
    need(Array.isArray(raw.functionPairs), file, "'functionPairs' must be an array", null);
    for (const rule of raw.functionPairs as unknown[]) {
      const ok = isObject(rule) && Array.isArray(rule.functions) && rule.functions.length === 2 && typeof rule.phenotype === 'string';
      need(ok, file, 'each function pair needs two functions and a phenotype', null);
      const [a, b] = (rule as Json).functions as [string, string];
      functionPairs.set(functionKey(a, b), (rule as Json).phenotype as string);
    }
  }
  const scoreRanges: ScoreRange[] = [];
  if (lookup === 'activity-score') {
    need(Array.isArray(raw.scoreRanges), file, "'scoreRanges' must be an array", null);
    for (const r of raw.scoreRanges as unknown[]) {
      const ok = isObject(r) && typeof r.min === 'number' && (r.max === undefined || typeof r.max === 'number') && typeof r.phenotype === 'string';
      need(ok, file, 'each score range needs a numeric min, an optional numeric max and a phenotype', null);
      scoreRanges.push(r as unknown as ScoreRange);
    }
  }
  const markers = Array.isArray(raw.markers) ? (raw.markers as Marker[]) : [];
  return {
    gene, version: str(raw, 'version', file), source: str(raw, 'source', file), citations: citations as Citation[], lookup,
    alleles, functionPairs, scoreRanges,
    unscoredPhenotype: typeof raw.unscoredPhenotype === 'string' ? raw.unscoredPhenotype : INDETERMINATE,
    ...(typeof raw.phenotype === 'string' ? { phenotype: raw.phenotype } : {}),
    markers,
    ...(raw.unphased === 'lowest-two-activity-values' ? { unphased: 'lowest-two-activity-values' as const } : {}),
  };
}
