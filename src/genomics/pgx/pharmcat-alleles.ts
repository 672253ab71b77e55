// Converts PharmCAT's published allele definitions (`<GENE>_translation.json`, whose cells are
// CPIC's allele definition tables in VCF spelling, and `exemptions.json`) into Helix's format, and
// carries CPIC activity values from PharmCAT's phenotype files for genes called by lowest function.
// What the converter reads is checked field by field: a malformed file gives an error value naming
// the file and the field, never a half-built definition. This is what `helix kb import pharmcat`
// is meant to call.
//
// Rules that PharmCAT documents in prose rather than in its data files are stated here, each with
// its source (pharmcat.org, "Methods"):
// - DPYD is called by the two lowest-activity alleles found ("Gene Definition Exceptions", DPYD).
// - SLCO1B1 falls back to the rs4149056 genotype when no diplotype can be called (same page).
// - For CACNA1S, DPYD, G6PD, NUDT15, RYR1 and TPMT a base no definition uses is read as reference
//   ("Named Allele Matcher 201", Undocumented Variations).
import {
  ALLELE_DEFINITIONS_FORMAT, assertConsistent, DefinitionError, Fields,
  type CallingMethod, type Checked, type DefinedPosition, type GeneAlleleDefinitions, type NamedAllele,
  type SingleVariantFallback, type SourceCitation,
} from './allele-definitions.js';

const LOWEST_FUNCTION_GENES = new Set(['DPYD']);
const UNDOCUMENTED_AS_REFERENCE = new Set(['CACNA1S', 'DPYD', 'G6PD', 'NUDT15', 'RYR1', 'TPMT']);
const FALLBACK_RSIDS: Readonly<Record<string, string>> = { SLCO1B1: 'rs4149056' };

/** Options for the conversion: the file name errors cite, and citation details to record. */
export interface PharmcatImportOptions {
  file?: string;
  exemptionsFile?: string;
  source?: Partial<SourceCitation>;
}

function variant(f: Fields, v: unknown, path: string): DefinedPosition {
  const o = f.object(v, path);
  // Built field by field in the order the knowledge files show them.
  const p = { position: f.int(o.position, `${path}.position`) } as DefinedPosition;
  const rsid = f.optString(o.rsid, `${path}.rsid`);
  if (rsid !== undefined) p.rsid = rsid;
  const hgvs = f.optString(o.chromosomeHgvsName, `${path}.chromosomeHgvsName`);
  if (hgvs !== undefined) p.hgvs = hgvs;
  p.ref = f.bases(o.ref, `${path}.ref`);
  p.alts = f.array(o.alts, `${path}.alts`).map((a, i) => f.bases(a, `${path}.alts[${i}]`));
  if (o.cpicPosition !== undefined && o.cpicPosition !== null) {
    const cpicPosition = f.int(o.cpicPosition, `${path}.cpicPosition`);
    if (cpicPosition !== p.position) p.cpicPosition = cpicPosition;
  }
  if (o.cpicToVcfAlleleMap !== undefined && o.cpicToVcfAlleleMap !== null) {
    const m = f.object(o.cpicToVcfAlleleMap, `${path}.cpicToVcfAlleleMap`);
    const entries = Object.entries(m).map(([k, x]) => [k, f.bases(x, `${path}.cpicToVcfAlleleMap.${k}`)] as const);
    // Only spellings that differ matter to a reader; SNVs map every allele to itself.
    if (entries.some(([k, x]) => k !== x)) p.cpicToVcf = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  }
  return p;
}

function exemptionFor(f: Fields, exemptions: unknown, gene: string): Record<string, unknown> | undefined {
  if (exemptions === undefined || exemptions === null) return undefined;
  const o = f.object(exemptions, '(root)');
  // exemptions.json is keyed by gene; a caller may also pass the one gene's entry.
  if (typeof o.gene === 'string') return o.gene === gene ? o : undefined;
  return o[gene] === undefined ? undefined : f.object(o[gene], gene);
}

function positionsOf(f: Fields, v: unknown, path: string): number[] {
  if (v === undefined || v === null) return [];
  return f.array(v, path).map((p, i) => (typeof p === 'number' ? f.int(p, `${path}[${i}]`) : f.int(f.object(p, `${path}[${i}]`).position, `${path}[${i}].position`)));
}

function methodFor(gene: string, e: Record<string, unknown> | undefined, ef: Fields): CallingMethod {
  const list = (key: string): unknown[] => (e?.[key] === undefined || e[key] === null ? [] : ef.array(e[key], `${gene}.${key}`));
  return {
    kind: LOWEST_FUNCTION_GENES.has(gene) ? 'lowest-function' : 'diplotype',
    ignoredAlleles: list('ignoredAlleles').map((a, i) => ef.string(a, `${gene}.ignoredAlleles[${i}]`)),
    ignoredPositions: positionsOf(ef, e?.ignoredPositions, `${gene}.ignoredPositions`),
    requiredPositions: positionsOf(ef, e?.requiredPositions, `${gene}.requiredPositions`),
    extraPositions: list('extraPositions').map((p, i) => variant(ef, p, `${gene}.extraPositions[${i}]`)),
    allHits: e?.allHits === true,
    unphasedPriorities: list('unphasedDiplotypePriorities').map((p, i) => {
      const o = ef.object(p, `${gene}.unphasedDiplotypePriorities[${i}]`);
      return { diplotypes: ef.strings(o.list, `${gene}.unphasedDiplotypePriorities[${i}].list`), pick: ef.string(o.pick, `${gene}.unphasedDiplotypePriorities[${i}].pick`) };
    }),
    undocumentedAsReference: UNDOCUMENTED_AS_REFERENCE.has(gene),
  };
}

// SLCO1B1's rule maps rs4149056 genotypes onto the reference allele (its base) and the allele
// defined by the variant base alone; both are read from the definitions rather than written here.
function fallbackFor(gene: string, positions: DefinedPosition[], alleles: NamedAllele[], f: Fields): SingleVariantFallback | undefined {
  const rsid = FALLBACK_RSIDS[gene];
  if (rsid === undefined) return undefined;
  const idx = positions.findIndex((p) => p.rsid === rsid);
  if (idx < 0) f.fail('variants', `${gene} fallback variant ${rsid} is not a defined position`);
  const p = positions[idx] as DefinedPosition;
  const reference = alleles.find((a) => a.reference) as NamedAllele;
  const refBase = reference.alleles[idx] as string;
  const alt = p.alts[0] as string;
  const single = alleles.find((a) => !a.reference && a.alleles[idx] === alt && a.alleles.every((c, i) => i === idx || c === null));
  if (single === undefined) f.fail('namedAlleles', `${gene} has no allele defined by ${rsid} ${alt} alone`);
  const key = (a: string, b: string): string => [a, b].sort().join('/');
  return {
    position: p.position,
    rsid,
    diplotypes: {
      [key(refBase, refBase)]: [reference.name, reference.name],
      [key(refBase, alt)]: [reference.name, single.name],
      [key(alt, alt)]: [single.name, single.name],
    },
  };
}

/** Converts a PharmCAT `<GENE>_translation.json` (parsed) and optional `exemptions.json` into Helix's format. */
export function fromPharmcatTranslation(json: unknown, exemptions?: unknown, options: PharmcatImportOptions = {}): Checked<GeneAlleleDefinitions> {
  const f: Fields = new Fields(options.file ?? 'translation.json');
  try {
    const o = f.object(json, '(root)');
    const gene = f.string(o.gene, 'gene');
    const build = f.string(o.genomeBuild, 'genomeBuild');
    if (!build.startsWith('GRCh38')) f.fail('genomeBuild', `expected GRCh38, got ${build}`);
    const version = f.string(o.version, 'version');
    const positions = f.array(o.variants, 'variants').map((v, i) => variant(f, v, `variants[${i}]`));
    const subAlleles = o.suballelesMap === undefined || o.suballelesMap === null ? {} : f.object(o.suballelesMap, 'suballelesMap');
    const alleles = f.array(o.namedAlleles, 'namedAlleles').map((v, i): NamedAllele => {
      const path = `namedAlleles[${i}]`;
      const a = f.object(v, path);
      const cells = f.array(a.alleles, `${path}.alleles`).map((c, j) => (c === null ? null : f.string(c, `${path}.alleles[${j}]`)));
      const name = f.string(a.name, `${path}.name`);
      const allele = { name } as NamedAllele;
      const id = f.optString(a.id, `${path}.id`);
      if (id !== undefined) allele.id = id;
      allele.reference = f.bool(a.reference, `${path}.reference`);
      const parent = subAlleles[name];
      if (parent !== undefined) allele.reportedAs = f.string(parent, `suballelesMap.${name}`);
      allele.alleles = cells;
      return allele;
    });
    const ef: Fields = new Fields(options.exemptionsFile ?? 'exemptions.json');
    const method = methodFor(gene, exemptionFor(ef, exemptions, gene), ef);
    const fallback = fallbackFor(gene, positions, alleles, f);
    if (fallback) method.fallback = fallback;
    const source: SourceCitation = {
      name: options.source?.name ?? 'CPIC allele definition tables (ClinPGx), as published by PharmCAT',
      url: options.source?.url ?? 'https://github.com/PharmGKB/PharmCAT',
      version: options.source?.version ?? version,
    };
    if (options.source?.license) source.license = options.source.license;
    const defs: GeneAlleleDefinitions = {
      format: ALLELE_DEFINITIONS_FORMAT,
      gene,
      build: 'GRCh38',
      refSeq: f.string(o.refSeqChromosomeId, 'refSeqChromosomeId'),
      chromosome: f.string(o.chromosome, 'chromosome'),
      knowledgeVersion: version,
      source,
      positions,
      namedAlleles: alleles,
      method,
    };
    // Activity values arrive later (withPharmcatActivity), so that check waits for them.
    assertConsistent({ ...defs, method: { ...method, kind: 'diplotype' } }, f);
    return { ok: true, value: defs };
  } catch (err) {
    if (err instanceof DefinitionError) return { ok: false, error: err.message };
    throw err;
  }
}

/** Adds CPIC activity values and functions from a PharmCAT `phenotype/<GENE>.json` to the named alleles. */
export function withPharmcatActivity(defs: GeneAlleleDefinitions, phenotype: unknown, file = `${defs.gene}.json`): Checked<GeneAlleleDefinitions> {
  const f: Fields = new Fields(file);
  try {
    const o = f.object(phenotype, '(root)');
    if (f.string(o.gene, 'gene') !== defs.gene) f.fail('gene', `expected ${defs.gene}`);
    const byName = new Map<string, { activity?: number; fn?: string }>();
    f.array(o.namedAlleles, 'namedAlleles').forEach((v, i) => {
      const a = f.object(v, `namedAlleles[${i}]`);
      const entry: { activity?: number; fn?: string } = {};
      const raw = f.optString(a.activityValue, `namedAlleles[${i}].activityValue`);
      if (raw !== undefined) {
        const n = Number(raw);
        if (!Number.isFinite(n) || n < 0) f.fail(`namedAlleles[${i}].activityValue`, `expected a number, got ${raw}`);
        entry.activity = n;
      }
      const fn = f.optString(a.functionValue, `namedAlleles[${i}].functionValue`);
      if (fn !== undefined) entry.fn = fn;
      byName.set(f.string(a.name, `namedAlleles[${i}].name`), entry);
    });
    const namedAlleles = defs.namedAlleles.map((a) => {
      const e = byName.get(a.reportedAs ?? a.name) ?? byName.get(a.name);
      const out: NamedAllele = { ...a };
      if (e?.activity !== undefined) out.activityValue = e.activity;
      if (e?.fn !== undefined) out.function = e.fn;
      return out;
    });
    const next = { ...defs, namedAlleles };
    assertConsistent(next, f);
    return { ok: true, value: next };
  } catch (err) {
    if (err instanceof DefinitionError) return { ok: false, error: err.message };
    throw err;
  }
}
