// A generated whole-genome-sized VCF for the genomics benchmark: N records (default 4,000,000)
// over GRCh38 chromosomes 1–22 and X in proportion to their lengths, positions increasing, with a
// realistic mix for a germline genome (about 84 % SNVs, 7 % deletions and 6 % insertions of 1–12
// bases, 3 % multi-allelic sites), genotypes 0/1 (58 %), 1/1 (40 %), 1/2 at multi-allelic sites,
// a third of the heterozygous calls phased, and FORMAT DP/AD. Seeded, so every run writes the same
// file; streamed, so memory stays flat however large N is.
// Usage: node --import tsx bench/genomics/generate-vcf.ts [--records N] [--seed S] [--sample NAME] > genome.vcf
import { parseArgs } from 'node:util';

/** GRCh38 chromosome lengths (NCBI GCF_000001405.40), 1–22 and X. */
const CHROMOSOMES: [string, number][] = [
  ['1', 248956422], ['2', 242193529], ['3', 198295559], ['4', 190214555], ['5', 181538259], ['6', 170805979],
  ['7', 159345973], ['8', 145138636], ['9', 138394717], ['10', 133797422], ['11', 135086622], ['12', 133275309],
  ['13', 114364328], ['14', 107043718], ['15', 101991189], ['16', 90338345], ['17', 83257441], ['18', 80373285],
  ['19', 58617616], ['20', 64444167], ['21', 46709983], ['22', 50818468], ['X', 156040895],
];
const BASES = 'ACGT';

/** A small fast deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes the VCF text in chunks to `write`, which may return a promise for back-pressure. With
 * `keep` < 1 each record is written with that probability (drawn from `keepSeed`), so files of
 * one seed and different keep seeds share their sites: a population of genomes.
 */
export async function generateVcf(
  records: number, seed: number, sample: string, write: (chunk: string) => unknown, opts: { keep?: number; keepSeed?: number } = {},
): Promise<void> {
  const rnd = random(seed);
  const keep = opts.keep ?? 1;
  const keepRnd = random(opts.keepSeed ?? seed + 1);
  const base = (): string => BASES[Math.floor(rnd() * 4)] as string;
  const bases = (n: number): string => Array.from({ length: n }, base).join('');
  const other = (b: string): string => BASES[(BASES.indexOf(b) + 1 + Math.floor(rnd() * 3)) % 4] as string;
  const header = [
    '##fileformat=VCFv4.3', '##reference=GRCh38', '##source=helix-bench-generator',
    ...CHROMOSOMES.map(([c, len]) => `##contig=<ID=chr${c},length=${len},assembly=GRCh38>`),
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
    `#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t${sample}`,
  ];
  await write(header.join('\n') + '\n');
  const genome = CHROMOSOMES.reduce((n, [, len]) => n + len, 0);
  let buffer = '';
  let written = 0;
  for (const [chrom, length] of CHROMOSOMES) {
    const count = Math.round((records * length) / genome);
    const n = chrom === 'X' ? records - written : Math.min(count, records - written);
    const spacing = length / (n + 1);
    let pos = 1;
    for (let i = 0; i < n; i++) {
      pos = Math.max(pos + 1, Math.floor((i + 1) * spacing + (rnd() - 0.5) * spacing * 0.8));
      const kind = rnd();
      const ref0 = base();
      let ref = ref0;
      let alt: string;
      let gt: string;
      if (kind < 0.84) alt = other(ref0);
      else if (kind < 0.91) { ref = ref0 + bases(1 + Math.floor(rnd() * 12)); alt = ref0; }
      else if (kind < 0.97) alt = ref0 + bases(1 + Math.floor(rnd() * 12));
      else alt = `${other(ref0)},${ref0}${bases(2)}`;
      const dp = 20 + Math.floor(rnd() * 40);
      if (alt.includes(',')) gt = '1/2';
      else if (rnd() < 0.4) gt = '1/1';
      else gt = rnd() < 0.33 ? (rnd() < 0.5 ? '0|1' : '1|0') : '0/1';
      const altDepth = gt === '1/1' ? dp : Math.floor(dp / 2);
      const ad = alt.includes(',') ? `0,${altDepth},${dp - altDepth}` : `${dp - altDepth},${altDepth}`;
      const format = gt.includes('|') ? `GT:DP:AD:PS\t${gt}:${dp}:${ad}:${Math.floor(pos / 100000) * 100000 + 1}` : `GT:DP:AD\t${gt}:${dp}:${ad}`;
      if (keep < 1 && keepRnd() >= keep) continue;
      buffer += `chr${chrom}\t${pos}\t.\t${ref}\t${alt}\t${30 + Math.floor(rnd() * 60)}\tPASS\t.\t${format}\n`;
      if (buffer.length > 1 << 16) { await write(buffer); buffer = ''; }
    }
    written += n;
  }
  await write(buffer);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '4000000' }, seed: { type: 'string', default: '1' }, sample: { type: 'string', default: 'BENCH' } } });
  await generateVcf(Number(values.records), Number(values.seed), values.sample, (chunk) =>
    process.stdout.write(chunk) ? undefined : new Promise((r) => process.stdout.once('drain', r)));
}
