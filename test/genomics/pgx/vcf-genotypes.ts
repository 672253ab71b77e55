// A test-local VCF genotype reader for the PharmCAT example and test VCFs: the first sample's GT
// (and PS) at every record, by chromosome and POS. 0/0 is a call (reference), `./.` is no call,
// and a position without a record is absent. Only what the matcher tests need; not a VCF parser.
import { readFileSync } from 'node:fs';
import type { PositionGenotype } from '../../../src/genomics/pgx/diplotypes.js';

/** Genotypes by chromosome, then VCF POS. */
export type VcfGenotypes = Map<string, Map<number, PositionGenotype>>;

/** Reads the first sample's genotypes from VCF text. */
export function parseVcfGenotypes(text: string): VcfGenotypes {
  const out: VcfGenotypes = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cols = line.split('\t');
    const [chrom, pos, , ref, alt, , , , format, sample] = cols;
    if (!chrom || !pos || !ref || !format || sample === undefined) continue;
    const keys = format.split(':');
    const values = sample.split(':');
    const gt = values[keys.indexOf('GT')] ?? '.';
    const ps = keys.includes('PS') ? Number(values[keys.indexOf('PS')]) : undefined;
    const alleles = [ref, ...(alt && alt !== '.' ? alt.split(',') : [])];
    const idx = gt.split(/[/|]/);
    const base = (i: string | undefined): string | undefined => (i === undefined || i === '.' ? undefined : alleles[Number(i)]);
    const g: PositionGenotype = { alleles: [base(idx[0]), base(idx[1] ?? idx[0])], phased: gt.includes('|') };
    if (ps !== undefined && Number.isFinite(ps)) g.phaseSet = ps;
    const byPos = out.get(chrom) ?? new Map<number, PositionGenotype>();
    if (!byPos.has(Number(pos))) byPos.set(Number(pos), g);
    out.set(chrom, byPos);
  }
  return out;
}

/** Reads the first sample's genotypes from a VCF file. */
export function readVcfGenotypes(path: string): VcfGenotypes {
  return parseVcfGenotypes(readFileSync(path, 'utf8'));
}
