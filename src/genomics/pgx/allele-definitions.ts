// Helix's own format for a pharmacogene's allele definitions (GRCh38), the rules the matcher needs
// to read them, and the loader of the knowledge directory the server ships
// (knowledge/pgx/alleles/<GENE>.json). The facts in those files — positions, alleles, allele
// names, activity values — are CPIC's allele definition tables as ClinPGx/PharmCAT publish them;
// each file cites where it came from. The converter from PharmCAT's own files lives in
// pharmcat-alleles.ts and is re-exported here, since importing knowledge starts from this module.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The format tag every Helix allele-definition file carries. */
export const ALLELE_DEFINITIONS_FORMAT = 'helix.pgx.allele-definitions/1';

/** A success or a readable reason, so callers decide how loudly a bad file fails. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Where a knowledge file's facts come from. */
export interface SourceCitation {
  name: string;
  url: string;
  /** The data version of the source (ClinPGx/PharmCAT's definition version). */
  version: string;
  license?: string;
}

/** A genomic position (GRCh38, 1-based VCF POS) that at least one named allele is defined at. */
export interface DefinedPosition {
  position: number;
  rsid?: string;
  /** The genomic HGVS name CPIC gives the variant (e.g. g.94761900C>T). */
  hgvs?: string;
  /** The VCF REF a normalized VCF shows here. */
  ref: string;
  /** The VCF ALTs the definitions use here. */
  alts: string[];
  /** CPIC's own position where it differs from the VCF's (left-aligned indels and repeats). */
  cpicPosition?: number;
  /** CPIC's allele spelling → the VCF's, given only where they differ (indels, repeats). */
  cpicToVcf?: Record<string, string>;
}

/** A named allele (star allele, or named variant) as CPIC defines it. */
export interface NamedAllele {
  name: string;
  /** The ClinPGx/PharmGKB identifier. */
  id?: string;
  /** True for the allele every undefined cell defaults to (e.g. *1, *38, Reference). */
  reference: boolean;
  /** One cell per defined position: the VCF allele or an IUPAC code; null = not part of the allele. */
  alleles: (string | null)[];
  /** The name to report when CPIC defines sub-alleles (e.g. *45.001 is reported as *45). */
  reportedAs?: string;
  /** CPIC activity value, for genes called by lowest function (DPYD). */
  activityValue?: number;
  /** CPIC function, carried with the activity value. */
  function?: string;
}

/** A single-variant call used when no diplotype matches (SLCO1B1's rs4149056 rule). */
export interface SingleVariantFallback {
  position: number;
  rsid: string;
  /** Sorted genotype (`C/T`) → the two allele names that genotype stands for. */
  diplotypes: Record<string, [string, string]>;
}

/** How a gene is called: PharmCAT's general matcher, or DPYD's lowest-function rule. */
export interface CallingMethod {
  kind: 'diplotype' | 'lowest-function';
  /** Alleles never considered (PharmCAT exemptions `ignoredAlleles`). */
  ignoredAlleles: string[];
  /** Positions never considered (PharmCAT exemptions `ignoredPositions`). */
  ignoredPositions: number[];
  /** Positions without which no call is made (PharmCAT exemptions `requiredPositions`). */
  requiredPositions: number[];
  /** Positions reported with the call but not used by it (PharmCAT exemptions `extraPositions`). */
  extraPositions: DefinedPosition[];
  /** Return every possible diplotype, not only the top-scoring ones (PharmCAT `allHits`). */
  allHits: boolean;
  /** An unphased tie resolved to one pick (PharmCAT `unphasedDiplotypePriorities`). */
  unphasedPriorities: { diplotypes: string[]; pick: string }[];
  /** A base at a defined position that no definition uses counts as reference (toxicity genes). */
  undocumentedAsReference: boolean;
  fallback?: SingleVariantFallback;
}

/** One gene's allele definitions in Helix's format. */
export interface GeneAlleleDefinitions {
  format: typeof ALLELE_DEFINITIONS_FORMAT;
  gene: string;
  build: 'GRCh38';
  /** RefSeq accession of the chromosome (e.g. NC_000010.11). */
  refSeq: string;
  /** Chromosome as VCFs name it (e.g. chr10). */
  chromosome: string;
  knowledgeVersion: string;
  source: SourceCitation;
  positions: DefinedPosition[];
  namedAlleles: NamedAllele[];
  method: CallingMethod;
}

/** The bases each IUPAC nucleotide code stands for. */
export const IUPAC: Readonly<Record<string, string>> = {
  A: 'A', C: 'C', G: 'G', T: 'T', R: 'AG', Y: 'CT', S: 'CG', W: 'AT', K: 'GT', M: 'AC',
  B: 'CGT', D: 'AGT', H: 'ACT', V: 'ACG', N: 'ACGT',
};

/** Whether a definition cell is an ambiguity code (one letter standing for several bases). */
export function isWobble(cell: string): boolean {
  return cell.length === 1 && (IUPAC[cell]?.length ?? 0) > 1;
}

/** Whether a sample base satisfies a definition cell (exact VCF allele, or a base an IUPAC code allows). */
export function cellAccepts(cell: string, base: string): boolean {
  if (cell === base) return true;
  return isWobble(cell) && base.length === 1 && (IUPAC[cell] as string).includes(base);
}

// ---- validation -------------------------------------------------------------------------------

/** Thrown inside the checkers; turned into an error value at the module's edges. */
export class DefinitionError extends Error {}

/** A reader of untrusted JSON that names the file and field it stopped at. */
export class Fields {
  constructor(readonly file: string) {}

  fail(path: string, expected: string): never {
    throw new DefinitionError(`${this.file}: ${path}: ${expected}`);
  }
  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.fail(path, 'expected an object');
    return v as Record<string, unknown>;
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) return this.fail(path, 'expected an array');
    return v;
  }
  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '') return this.fail(path, 'expected a non-empty string');
    return v;
  }
  optString(v: unknown, path: string): string | undefined {
    return v === undefined || v === null ? undefined : this.string(v, path);
  }
  int(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return this.fail(path, 'expected a positive integer');
    return v;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') return this.fail(path, 'expected true or false');
    return v;
  }
  strings(v: unknown, path: string): string[] {
    return this.array(v, path).map((s, i) => this.string(s, `${path}[${i}]`));
  }
  /** A VCF allele: bases only (an ambiguity code is checked separately). */
  bases(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (!/^[ACGTN]+$/.test(s)) this.fail(path, `expected VCF bases, got ${JSON.stringify(s)}`);
    return s;
  }
}

/** Checks that definitions are internally consistent; the first problem found is thrown. */
export function assertConsistent(defs: GeneAlleleDefinitions, f: Fields): void {
  const n = defs.positions.length;
  if (n === 0) f.fail('positions', 'expected at least one defined position');
  defs.positions.forEach((p, i) => {
    if (i > 0 && p.position <= (defs.positions[i - 1] as DefinedPosition).position) {
      f.fail(`positions[${i}].position`, 'positions must be strictly increasing');
    }
  });
  const references = defs.namedAlleles.filter((a) => a.reference);
  if (references.length !== 1) f.fail('namedAlleles', `expected exactly one reference allele, found ${references.length}`);
  const names = new Set<string>();
  defs.namedAlleles.forEach((a, i) => {
    const path = `namedAlleles[${i}]`;
    if (names.has(a.name)) f.fail(`${path}.name`, `duplicate allele name ${a.name}`);
    names.add(a.name);
    if (a.alleles.length !== n) f.fail(`${path}.alleles`, `expected ${n} cells (one per position), got ${a.alleles.length}`);
    a.alleles.forEach((cell, j) => {
      if (cell === null) {
        if (a.reference) f.fail(`${path}.alleles[${j}]`, 'the reference allele must define every position');
        return;
      }
      const p = defs.positions[j] as DefinedPosition;
      if (!isWobble(cell) && cell !== p.ref && !p.alts.includes(cell)) {
        f.fail(`${path}.alleles[${j}]`, `${cell} is neither REF nor an ALT of position ${p.position}`);
      }
    });
    if (!a.reference && a.alleles.every((c) => c === null)) f.fail(`${path}.alleles`, 'a non-reference allele must define a position');
  });
  if (defs.method.kind === 'lowest-function' && defs.namedAlleles.some((a) => a.activityValue === undefined)) {
    const missing = defs.namedAlleles.find((a) => a.activityValue === undefined) as NamedAllele;
    f.fail('namedAlleles', `lowest-function calling needs an activity value for every allele (${missing.name} has none)`);
  }
}

function position(f: Fields, v: unknown, path: string): DefinedPosition {
  const o = f.object(v, path);
  const p: DefinedPosition = {
    position: f.int(o.position, `${path}.position`),
    ref: f.bases(o.ref, `${path}.ref`),
    alts: f.array(o.alts, `${path}.alts`).map((a, i) => f.bases(a, `${path}.alts[${i}]`)),
  };
  const rsid = f.optString(o.rsid, `${path}.rsid`);
  if (rsid !== undefined) p.rsid = rsid;
  const hgvs = f.optString(o.hgvs, `${path}.hgvs`);
  if (hgvs !== undefined) p.hgvs = hgvs;
  if (o.cpicPosition !== undefined) p.cpicPosition = f.int(o.cpicPosition, `${path}.cpicPosition`);
  if (o.cpicToVcf !== undefined) {
    const m = f.object(o.cpicToVcf, `${path}.cpicToVcf`);
    p.cpicToVcf = Object.fromEntries(Object.entries(m).map(([k, x]) => [k, f.bases(x, `${path}.cpicToVcf.${k}`)]));
  }
  return p;
}

function namedAllele(f: Fields, v: unknown, path: string): NamedAllele {
  const o = f.object(v, path);
  const a: NamedAllele = {
    name: f.string(o.name, `${path}.name`),
    reference: f.bool(o.reference, `${path}.reference`),
    alleles: f.array(o.alleles, `${path}.alleles`).map((c, i) => (c === null ? null : f.string(c, `${path}.alleles[${i}]`))),
  };
  const id = f.optString(o.id, `${path}.id`);
  if (id !== undefined) a.id = id;
  const reportedAs = f.optString(o.reportedAs, `${path}.reportedAs`);
  if (reportedAs !== undefined) a.reportedAs = reportedAs;
  if (o.activityValue !== undefined) {
    if (typeof o.activityValue !== 'number' || !(o.activityValue >= 0)) f.fail(`${path}.activityValue`, 'expected a number ≥ 0');
    a.activityValue = o.activityValue;
  }
  const fn = f.optString(o.function, `${path}.function`);
  if (fn !== undefined) a.function = fn;
  return a;
}

function method(f: Fields, v: unknown): CallingMethod {
  const o = f.object(v, 'method');
  if (o.kind !== 'diplotype' && o.kind !== 'lowest-function') f.fail('method.kind', 'expected "diplotype" or "lowest-function"');
  const m: CallingMethod = {
    kind: o.kind,
    ignoredAlleles: f.strings(o.ignoredAlleles, 'method.ignoredAlleles'),
    ignoredPositions: f.array(o.ignoredPositions, 'method.ignoredPositions').map((p, i) => f.int(p, `method.ignoredPositions[${i}]`)),
    requiredPositions: f.array(o.requiredPositions, 'method.requiredPositions').map((p, i) => f.int(p, `method.requiredPositions[${i}]`)),
    extraPositions: f.array(o.extraPositions, 'method.extraPositions').map((p, i) => position(f, p, `method.extraPositions[${i}]`)),
    allHits: f.bool(o.allHits, 'method.allHits'),
    unphasedPriorities: f.array(o.unphasedPriorities, 'method.unphasedPriorities').map((p, i) => {
      const e = f.object(p, `method.unphasedPriorities[${i}]`);
      return { diplotypes: f.strings(e.diplotypes, `method.unphasedPriorities[${i}].diplotypes`), pick: f.string(e.pick, `method.unphasedPriorities[${i}].pick`) };
    }),
    undocumentedAsReference: f.bool(o.undocumentedAsReference, 'method.undocumentedAsReference'),
  };
  if (o.fallback !== undefined) {
    const fb = f.object(o.fallback, 'method.fallback');
    const table = f.object(fb.diplotypes, 'method.fallback.diplotypes');
    m.fallback = {
      position: f.int(fb.position, 'method.fallback.position'),
      rsid: f.string(fb.rsid, 'method.fallback.rsid'),
      diplotypes: Object.fromEntries(Object.entries(table).map(([k, pair]) => {
        const names = f.strings(pair, `method.fallback.diplotypes.${k}`);
        if (names.length !== 2) f.fail(`method.fallback.diplotypes.${k}`, 'expected two allele names');
        return [k, [names[0] as string, names[1] as string]];
      })),
    };
  }
  return m;
}

/** Reads and checks one Helix allele-definition document (already parsed JSON). */
export function checkGeneAlleleDefinitions(json: unknown, file: string): Checked<GeneAlleleDefinitions> {
  const f: Fields = new Fields(file);
  try {
    const o = f.object(json, '(root)');
    if (o.format !== ALLELE_DEFINITIONS_FORMAT) f.fail('format', `expected "${ALLELE_DEFINITIONS_FORMAT}"`);
    if (o.build !== 'GRCh38') f.fail('build', 'expected "GRCh38"');
    const src = f.object(o.source, 'source');
    const source: SourceCitation = {
      name: f.string(src.name, 'source.name'),
      url: f.string(src.url, 'source.url'),
      version: f.string(src.version, 'source.version'),
    };
    const license = f.optString(src.license, 'source.license');
    if (license !== undefined) source.license = license;
    const defs: GeneAlleleDefinitions = {
      format: ALLELE_DEFINITIONS_FORMAT,
      gene: f.string(o.gene, 'gene'),
      build: 'GRCh38',
      refSeq: f.string(o.refSeq, 'refSeq'),
      chromosome: f.string(o.chromosome, 'chromosome'),
      knowledgeVersion: f.string(o.knowledgeVersion, 'knowledgeVersion'),
      source,
      positions: f.array(o.positions, 'positions').map((p, i) => position(f, p, `positions[${i}]`)),
      namedAlleles: f.array(o.namedAlleles, 'namedAlleles').map((a, i) => namedAllele(f, a, `namedAlleles[${i}]`)),
      method: method(f, o.method),
    };
    assertConsistent(defs, f);
    return { ok: true, value: defs };
  } catch (err) {
    if (err instanceof DefinitionError) return { ok: false, error: err.message };
    throw err;
  }
}

/** Reads every `<GENE>.json` in a knowledge directory, keyed by gene; the first bad file is the error. */
export async function loadAlleleDefinitions(dir: string): Promise<Checked<Map<string, GeneAlleleDefinitions>>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    return { ok: false, error: `${dir}: cannot list allele definitions (${(err as Error).message})` };
  }
  const genes = new Map<string, GeneAlleleDefinitions>();
  for (const name of names) {
    const file = join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      return { ok: false, error: `${file}: not readable JSON (${(err as Error).message})` };
    }
    const checked = checkGeneAlleleDefinitions(json, file);
    if (!checked.ok) return checked;
    if (`${checked.value.gene}.json` !== name) return { ok: false, error: `${file}: gene: ${checked.value.gene} does not match the file name` };
    genes.set(checked.value.gene, checked.value);
  }
  return { ok: true, value: genes };
}

export { fromPharmcatTranslation, withPharmcatActivity } from './pharmcat-alleles.js';
