// Shared helpers for the PharmCAT agreement tests: where ../shared's PharmCAT data is, how a
// case's genotypes are built, and genotypes transcribed from PharmCAT test VCFs that ../shared does
// not carry. The transcriptions are facts (rsid and the GT as bases) read from
// github.com/PharmGKB/PharmCAT src/test/resources/org/pharmgkb/pharmcat/haplotype/, at the commit
// named per file — the only copy available to us; PharmCAT's HEAD may hold a later one.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GeneAlleleDefinitions } from '../../../src/genomics/pgx/allele-definitions.js';
import { callDiplotypes, type GeneCall, type PositionGenotype } from '../../../src/genomics/pgx/diplotypes.js';
import { compareAlleleNames } from '../../../src/genomics/pgx/sample.js';
import { readVcfGenotypes } from './vcf-genotypes.js';

/** ../shared/data/pharmcat, as tests find it from the repository. */
export const PHARMCAT = fileURLToPath(new URL('../../../../shared/data/pharmcat/', import.meta.url));
/** Whether the shared PharmCAT data is present (tests skip with a message when not). */
export const HAVE_PHARMCAT = existsSync(`${PHARMCAT}derived/pharmcat_expected_calls.json`);
/** The committed knowledge directory the server ships. */
export const KNOWLEDGE = fileURLToPath(new URL('../../../knowledge/pgx/alleles/', import.meta.url));

/** One case of derived/pharmcat_expected_calls.json. */
export interface ExpectedCase {
  gene: string;
  test: string;
  expected: string[];
  phased: boolean;
  variations?: { rsid: string; alleles: [string, string] }[];
  missing?: string[];
  vcf?: string;
  note?: string;
}

/** The expected-call cases (all genes). */
export function expectedCases(): ExpectedCase[] {
  return (JSON.parse(readFileSync(`${PHARMCAT}derived/pharmcat_expected_calls.json`, 'utf8')) as { cases: ExpectedCase[] }).cases;
}

/** A diplotype name with its two allele names in natural order, for order-free comparison. */
export function normalize(diplotype: string): string {
  return diplotype.split('/').sort(compareAlleleNames).join('/');
}

/** The set of diplotype names a call gives, normalized and sorted. */
export function namesOf(call: GeneCall): string[] {
  return call.diplotypes.map((d) => normalize(d.name)).sort();
}

/** Sorted, normalized expected names. */
export function sortedNames(names: readonly string[]): string[] {
  return names.map(normalize).sort();
}

/**
 * PharmCAT's TestVcfBuilder: every defined position of the gene called reference (reference.vcf is
 * all 0/0), the listed rsids set to the given CPIC alleles (spelled as VCF via the definitions),
 * the missing rsids left out; phased only when the case says so.
 */
export function builderGenotypes(defs: GeneAlleleDefinitions, c: Pick<ExpectedCase, 'variations' | 'missing' | 'phased'>): Map<number, PositionGenotype> {
  const out = new Map<number, PositionGenotype>();
  for (const p of [...defs.positions, ...defs.method.extraPositions]) out.set(p.position, { alleles: [p.ref, p.ref], phased: c.phased });
  const byRsid = (rsid: string) => {
    const p = [...defs.positions, ...defs.method.extraPositions].find((x) => x.rsid === rsid);
    if (!p) throw new Error(`${defs.gene} has no position ${rsid}`);
    return p;
  };
  for (const v of c.variations ?? []) {
    const p = byRsid(v.rsid);
    const vcf = (a: string): string => p.cpicToVcf?.[a] ?? a;
    out.set(p.position, { alleles: [vcf(v.alleles[0]), vcf(v.alleles[1])], phased: c.phased });
  }
  for (const rsid of c.missing ?? []) out.delete(byRsid(rsid).position);
  return out;
}

/** A transcribed test VCF: the GT per rsid, as bases (`T/TA`, `C|T`, `./.`); an rsid not listed had no record. */
interface Transcribed { commit: string; calls: Record<string, string> }

const UGT1A1_REF = { rs887829: 'C/C', rs4148323: 'G/G', rs35350960: 'C/C' };

/** Genotypes of PharmCAT test VCFs that ../shared does not include, keyed by the path the case names. */
export const TRANSCRIBED: Readonly<Record<string, Transcribed>> = {
  'cyp3a5/s1s7.vcf': { commit: '8b76318a', calls: { rs41303343: 'T/TA', rs28383479: 'C/C', rs10264272: 'C/C', rs776746: 'T/T', rs55817950: 'G/G' } },
  // Both stored copies (bfd37d86, c01cdb0c) call rs28383479 T/T and rs776746 T/C.
  'cyp3a5/s3s9-homozygous.vcf': { commit: 'bfd37d86', calls: { rs41303343: 'T/T', rs28383479: 'T/T', rs10264272: 'C/C', rs776746: 'T/C', rs55817950: 'G/G' } },
  'cyp3a5/s1s1rs776746missing.vcf': { commit: '13a9fc2a', calls: { rs41303343: 'T/T', rs28383479: 'C/C', rs10264272: 'C/C', rs776746: './.', rs55817950: 'G/G' } },
  // s1s1 and s6s6 spell the TA repeat unnormalized at 233760234, so rs3064744 (233760233) has no record.
  'UGT1A1/s1s1.vcf': { commit: '141ba498', calls: { ...UGT1A1_REF } },
  'UGT1A1/s6s6.vcf': { commit: '141ba498', calls: { ...UGT1A1_REF, rs4148323: 'A/A' } },
  'UGT1A1/s1s60s80unphased.vcf': { commit: '24ced406', calls: { ...UGT1A1_REF, rs887829: 'C/T', rs3064744: 'CAT/CAT' } },
  'UGT1A1/s1s60s80phased.vcf': { commit: '279634ac', calls: { ...UGT1A1_REF, rs887829: 'C|T', rs3064744: 'CAT/CAT' } },
  'UGT1A1/s28s80s6s60phased.vcf': { commit: '80fbd5f1', calls: { rs887829: 'T|C', rs3064744: 'CATAT|CAT', rs4148323: 'G|A', rs35350960: 'C/C' } },
  'UGT1A1/s6s60s80s28missingunphased.vcf': { commit: '540ce5cf', calls: { rs887829: 'C/T', rs4148323: 'G/A', rs35350960: 'C/C' } },
  'UGT1A1/s28s80unphased.vcf': { commit: '84b35b0b', calls: { ...UGT1A1_REF, rs887829: 'C/T', rs3064744: 'CAT/CATAT' } },
  // Two copies are stored: at 593e0574 the repeat is GT 0|2 (ALT CATAT,C,CATATAT: TA(6), *36),
  // at 84b35b0b — the commit that also rewrote s28s80unphased — 0|1 (TA(8), *28). Only the latter
  // fits the test PharmCAT runs at HEAD, so it is the one transcribed.
  'UGT1A1/s28s80phased.vcf': { commit: '84b35b0b', calls: { rs887829: 'C|T', rs3064744: 'CAT|CATAT', rs4148323: 'G|G', rs35350960: 'C|C' } },
  'UGT1A1/HG00436.vcf': { commit: '61d29c53', calls: { rs887829: 'T|C', rs3064744: 'CATAT|CAT', rs4148323: 'G|G', rs35350960: 'A|C' } },
};

function transcribedGenotypes(defs: GeneAlleleDefinitions, t: Transcribed): Map<number, PositionGenotype> {
  const out = new Map<number, PositionGenotype>();
  for (const [rsid, gt] of Object.entries(t.calls)) {
    const p = defs.positions.find((x) => x.rsid === rsid);
    if (!p) throw new Error(`${defs.gene} has no position ${rsid}`);
    const [a, b] = gt.split(/[/|]/).map((x) => (x === '.' ? undefined : x));
    out.set(p.position, { alleles: [a, b], phased: gt.includes('|') });
  }
  return out;
}

/** The genotypes a test VCF named by a case gives for its gene: from ../shared, else transcribed. */
export function vcfCaseGenotypes(defs: GeneAlleleDefinitions, vcf: string): Map<number, PositionGenotype> {
  const relative = vcf.slice(vcf.indexOf('haplotype/') + 'haplotype/'.length);
  const shared = `${PHARMCAT}test-vcfs/haplotype/${relative}`;
  if (existsSync(shared)) return readVcfGenotypes(shared).get(defs.chromosome) ?? new Map();
  const t = TRANSCRIBED[relative];
  if (!t) throw new Error(`no genotypes for ${vcf}`);
  return transcribedGenotypes(defs, t);
}

/** Runs the matcher the way PharmCAT's test for the case does. */
export function callCase(defs: GeneAlleleDefinitions, genotypes: Map<number, PositionGenotype>, topOnly: boolean): GeneCall {
  return callDiplotypes(defs, genotypes, { candidates: topOnly ? 'top' : 'all' });
}
