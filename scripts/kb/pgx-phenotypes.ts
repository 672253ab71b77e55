// Writes knowledge/pgx/phenotypes/<GENE>.json — Helix's allele function / activity value tables and
// diplotype → phenotype rules — from the shared PharmCAT snapshot (CPIC content):
//   node --import tsx scripts/kb/pgx-phenotypes.ts ../shared/data/pharmcat
// Rules are kept compact (one per function pair, or one per activity-score range) and the script
// refuses to write a gene whose compact rules do not reproduce every diplotype the source lists.
// CYP2D6 comes from the derived rule table (the snapshot holds no full CYP2D6 phenotype file);
// CYP4F2 has no CPIC function or phenotype, so only the warfarin marker (rs2108622 T) is derived,
// from the CYP4F2 allele definitions. Output is deterministic pretty JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CITATIONS, type Citation } from './pgx-citations.js';
import { formatJson } from './pgx-json.js';

interface SourceDiplotype { diplotype: string; diplotypekey: Record<string, number>; phenotype: string; activityScore: string | null }
interface SourceGene { gene: string; version: string; namedAlleles: Array<{ name: string; functionValue: string; activityValue: string | null }>; diplotypes: SourceDiplotype[] }
interface DerivedGene { version: string; ref: string; alleles: Record<string, { function: string; activityValue: string | null }>; phenotypeRules: Record<string, string[]> }

/** An allele's function and, for activity-score genes, its activity value (null when unscored). */
interface AlleleEntry { function: string; activityValue?: number | null; atLeast?: true }
interface ScoreRange { min: number; max?: number; phenotype: string }

const SCORE_RANGES: Record<string, { ranges: ScoreRange[]; why: string }> = {
  CYP2C9: {
    why: 'CPIC CYP2C9 activity score: 0-0.5 poor, 1-1.5 intermediate, 2 normal metabolizer (NSAID guideline 2020).',
    ranges: [{ min: 0, max: 0.5, phenotype: 'Poor Metabolizer' }, { min: 1, max: 1.5, phenotype: 'Intermediate Metabolizer' }, { min: 2, max: 2, phenotype: 'Normal Metabolizer' }],
  },
  DPYD: {
    why: 'CPIC DPYD activity score: 0-0.5 poor, 1-1.5 intermediate, 2 normal metabolizer (fluoropyrimidine guideline 2017 update).',
    ranges: [{ min: 0, max: 0.5, phenotype: 'Poor Metabolizer' }, { min: 1, max: 1.5, phenotype: 'Intermediate Metabolizer' }, { min: 2, max: 2, phenotype: 'Normal Metabolizer' }],
  },
  CYP2D6: {
    why: 'CPIC/DPWG CYP2D6 consensus: score 0 poor; above 0 and below 1.25 intermediate; 1.25 to 2.25 normal; above 2.25 ultrarapid (scores move in steps of 0.25).',
    ranges: [
      { min: 0, max: 0, phenotype: 'Poor Metabolizer' }, { min: 0.25, max: 1, phenotype: 'Intermediate Metabolizer' },
      { min: 1.25, max: 2.25, phenotype: 'Normal Metabolizer' }, { min: 2.5, phenotype: 'Ultrarapid Metabolizer' },
    ],
  },
};

const GENE_CITATIONS: Record<string, Citation[]> = {
  CYP2C19: [CITATIONS.clopidogrel2022],
  CYP2C9: [CITATIONS.nsaids2020, CITATIONS.warfarin2017],
  CYP2D6: [CITATIONS.cyp2d6Standardization2020, CITATIONS.opioids2021],
  CYP3A5: [CITATIONS.tacrolimus2015],
  CYP4F2: [CITATIONS.warfarin2017],
  VKORC1: [CITATIONS.warfarin2017],
  SLCO1B1: [CITATIONS.statins2022],
  TPMT: [CITATIONS.thiopurines2018],
  NUDT15: [CITATIONS.thiopurines2018],
  DPYD: [CITATIONS.fluoropyrimidines2017],
  UGT1A1: [CITATIONS.atazanavir2015],
};
const DPYD_UNPHASED = 'When DPYD variants are not phased and more than two haplotypes are found, the score is the sum of the two '
  + 'lowest activity values (the variants are assumed to lie on different chromosomes), as PharmCAT applies the CPIC guideline.';
const FUNCTION_PAIR_GENES = ['CYP2C19', 'CYP3A5', 'VKORC1', 'SLCO1B1', 'TPMT', 'NUDT15', 'UGT1A1'];
const SNAPSHOT = 'PharmGKB/PharmCAT 5431bf1 (2025-11-19), shared snapshot ../shared/data/pharmcat';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const pairKey = (a: string, b: string): string => [a, b].sort().join(' / ');

/** Parses a CPIC activity value ("1.0", "≥3.0", "n/a") into Helix's typed form. */
function activity(text: string | null): Pick<AlleleEntry, 'activityValue' | 'atLeast'> {
  if (text === null || text === 'n/a') return { activityValue: null };
  const atLeast = text.startsWith('≥');
  const value = Number(atLeast ? text.slice(1) : text);
  if (!Number.isFinite(value)) throw new Error(`unreadable activity value '${text}'`);
  return atLeast ? { activityValue: value, atLeast: true } : { activityValue: value };
}

function rangePhenotype(ranges: ScoreRange[], score: number): string | undefined {
  return ranges.find((r) => score >= r.min && (r.max === undefined || score <= r.max))?.phenotype;
}

function allelesOf(diplotype: SourceDiplotype): [string, string] {
  const names = Object.entries(diplotype.diplotypekey).flatMap(([name, n]) => Array<string>(n).fill(name));
  if (names.length !== 2) throw new Error(`diplotype ${diplotype.diplotype} does not have two alleles`);
  return [names[0]!, names[1]!];
}

function header(gene: string, version: string, source: string): Record<string, unknown> {
  return { gene, format: 'helix-pgx-phenotypes/1', version, source, citations: GENE_CITATIONS[gene] };
}

function functionPairGene(src: SourceGene): Record<string, unknown> {
  const alleles: Record<string, AlleleEntry> = {};
  for (const a of src.namedAlleles) alleles[a.name] = { function: a.functionValue };
  const pairs = new Map<string, string>();
  for (const d of src.diplotypes) {
    const [a, b] = allelesOf(d);
    const key = pairKey(alleles[a]!.function, alleles[b]!.function);
    const seen = pairs.get(key);
    if (seen !== undefined && seen !== d.phenotype) throw new Error(`${src.gene}: ${key} gives both ${seen} and ${d.phenotype}`);
    pairs.set(key, d.phenotype);
  }
  const functionPairs = [...pairs.keys()].sort().map((key) => ({ functions: key.split(' / '), phenotype: pairs.get(key) }));
  return {
    ...header(src.gene, src.version, `${SNAPSHOT}: phenotype/${src.gene}.json`),
    lookup: 'function-pair', alleles: sortedObject(alleles), functionPairs,
  };
}

function activityGene(src: SourceGene): Record<string, unknown> {
  const { ranges, why } = SCORE_RANGES[src.gene]!;
  const alleles: Record<string, AlleleEntry> = {};
  for (const a of src.namedAlleles) alleles[a.name] = { function: a.functionValue, ...activity(a.activityValue) };
  for (const d of src.diplotypes) {
    const [a, b] = allelesOf(d).map((name) => alleles[name]!);
    const unscored = a!.activityValue === null || b!.activityValue === null;
    const expected = unscored ? 'Indeterminate' : rangePhenotype(ranges, a!.activityValue! + b!.activityValue!);
    if (expected !== d.phenotype) throw new Error(`${src.gene} ${d.diplotype}: rules give ${expected}, source ${d.phenotype}`);
  }
  return {
    ...header(src.gene, src.version, `${SNAPSHOT}: phenotype/${src.gene}.json`),
    lookup: 'activity-score', alleles: sortedObject(alleles), scoreRanges: ranges, unscoredPhenotype: 'Indeterminate',
    ...(src.gene === 'DPYD' ? { unphased: 'lowest-two-activity-values' } : {}),
    notes: src.gene === 'DPYD' ? [why, DPYD_UNPHASED] : [why],
  };
}

function cyp2d6(derived: DerivedGene): Record<string, unknown> {
  const { ranges, why } = SCORE_RANGES.CYP2D6!;
  const alleles: Record<string, AlleleEntry> = {};
  for (const [name, a] of Object.entries(derived.alleles)) alleles[name] = { function: a.function, ...activity(a.activityValue) };
  for (const [score, phenotypes] of Object.entries(derived.phenotypeRules)) {
    const { activityValue } = activity(score);
    const expected = activityValue === null || activityValue === undefined ? 'Indeterminate' : rangePhenotype(ranges, activityValue);
    if (phenotypes.length !== 1 || phenotypes[0] !== expected) throw new Error(`CYP2D6 score ${score}: rules give ${expected}, source ${phenotypes.join()}`);
  }
  return {
    ...header('CYP2D6', `CPIC data ${derived.version} via PharmCAT ${derived.ref}`, `${SNAPSHOT}: derived/pharmcat_gene_phenotype_rules.json (CYP2D6 from PharmCAT ${derived.ref})`),
    lookup: 'activity-score', alleles: sortedObject(alleles), scoreRanges: ranges, unscoredPhenotype: 'Indeterminate',
    notes: [why, 'CYP2D6 arrives as an outside call (diplotype with copy-number notation such as *1x2); ≥ activity values make an at-least score.'],
  };
}

interface Translation { version: string; variants: Array<{ rsid: string | null }>; namedAlleles: Array<{ name: string; alleles: Array<string | null> }> }

function cyp4f2(translation: Translation): Record<string, unknown> {
  const at = translation.variants.findIndex((v) => v.rsid === 'rs2108622');
  if (at < 0) throw new Error('CYP4F2 definitions lack rs2108622');
  const alleles: Record<string, AlleleEntry> = {};
  const carriers: string[] = [];
  for (const a of translation.namedAlleles) {
    alleles[a.name] = { function: 'n/a' };
    if (a.alleles[at] === 'T') carriers.push(a.name);
  }
  return {
    ...header('CYP4F2', translation.version, `${SNAPSHOT}: definition/alleles/CYP4F2_translation.json`),
    lookup: 'none', alleles: sortedObject(alleles), phenotype: 'n/a',
    markers: [{ id: 'rs2108622 T', description: 'CYP4F2 V433M (c.1297G>A), the allele CPIC\'s warfarin rule adjusts for', alleles: carriers.sort(byAlleleName) }],
    notes: ['CPIC assigns CYP4F2 neither allele functions nor phenotypes; the warfarin guideline acts on carriage of rs2108622 T.'],
  };
}

/** Orders star alleles numerically (*2 before *10) and other names alphabetically after them. */
function byAlleleName(a: string, b: string): number {
  const star = (s: string) => /^\*(\d+)(.*)$/.exec(s);
  const x = star(a), y = star(b);
  if (x && y) return Number(x[1]) - Number(y[1]) || x[2]!.localeCompare(y[2]!);
  if (x || y) return x ? -1 : 1;
  return a.localeCompare(b);
}

function sortedObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort(byAlleleName).map((k) => [k, o[k]!]));
}

/** Generates every gene file from the shared PharmCAT directory into the knowledge directory. */
export function generatePhenotypeKnowledge(sourceDir: string, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const files: Array<[string, Record<string, unknown>]> = [];
  for (const gene of [...FUNCTION_PAIR_GENES, 'CYP2C9', 'DPYD']) {
    const src = readJson<SourceGene>(join(sourceDir, 'phenotype', `${gene}.json`));
    files.push([gene, gene in SCORE_RANGES ? activityGene(src) : functionPairGene(src)]);
  }
  const derived = readJson<{ genes: Record<string, DerivedGene> }>(join(sourceDir, 'derived', 'pharmcat_gene_phenotype_rules.json'));
  files.push(['CYP2D6', cyp2d6(derived.genes.CYP2D6!)]);
  files.push(['CYP4F2', cyp4f2(readJson<Translation>(join(sourceDir, 'definition', 'alleles', 'CYP4F2_translation.json')))]);
  for (const [gene, body] of files) writeFileSync(join(outDir, `${gene}.json`), formatJson(body));
  return files.map(([gene]) => gene).sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const source = process.argv[2];
  if (!source) {
    console.error('usage: node --import tsx scripts/kb/pgx-phenotypes.ts <pharmcat-data-dir>');
    process.exit(2);
  }
  const out = fileURLToPath(new URL('../../knowledge/pgx/phenotypes/', import.meta.url));
  console.log(`wrote ${generatePhenotypeKnowledge(resolve(source), out).join(', ')} to ${out}`);
}
