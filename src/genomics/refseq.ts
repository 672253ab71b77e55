// Chromosome names <-> RefSeq chromosome accessions for the two human builds Helix knows. Every
// genomic coordinate in Helix is keyed by the accession (it names the build and the chromosome at
// once, as SPDI and the genomics operations' `ranges` do), so VCF contig names and the
// `genomicBuild` parameter are mapped here, once.
//
// Source: the NCBI assembly reports (columns RefSeq-Accn and Sequence-Length of the
// assembled-molecule rows):
//   GCF_000001405.25_GRCh37.p13_assembly_report.txt (GRCh37.p13)
//   GCF_000001405.40_GRCh38.p14_assembly_report.txt (GRCh38.p14)
// Patch releases add scaffolds only: the chromosome accessions and lengths are those of GRCh37 and
// GRCh38 themselves. The mitochondrion is NC_012920.1 (rCRS, GenBank J01415.2, 16569 bp) in both:
// the GRC added it to GRCh37 in a patch release (GRC blog, "The non-nuclear genome", 2013) and
// kept it in GRCh38. Caveat: UCSC hg19's own chrM is the older NC_001807.4 (16571 bp), not rCRS;
// Helix maps hg19 `chrM` to NC_012920.1 like b37's `MT`, which is right for b37/GRCh37 files only.
import type { GenomicBuild } from './types.js';

/** A chromosome of one build, as the assembly report describes it. */
interface Molecule {
  build: GenomicBuild;
  chromosome: string;
  accession: string;
  length: number;
}

// [chromosome, accession, length], in assembly-report order.
type Row = readonly [string, string, number];

const GRCH37: readonly Row[] = [
  ['1', 'NC_000001.10', 249250621], ['2', 'NC_000002.11', 243199373], ['3', 'NC_000003.11', 198022430],
  ['4', 'NC_000004.11', 191154276], ['5', 'NC_000005.9', 180915260], ['6', 'NC_000006.11', 171115067],
  ['7', 'NC_000007.13', 159138663], ['8', 'NC_000008.10', 146364022], ['9', 'NC_000009.11', 141213431],
  ['10', 'NC_000010.10', 135534747], ['11', 'NC_000011.9', 135006516], ['12', 'NC_000012.11', 133851895],
  ['13', 'NC_000013.10', 115169878], ['14', 'NC_000014.8', 107349540], ['15', 'NC_000015.9', 102531392],
  ['16', 'NC_000016.9', 90354753], ['17', 'NC_000017.10', 81195210], ['18', 'NC_000018.9', 78077248],
  ['19', 'NC_000019.9', 59128983], ['20', 'NC_000020.10', 63025520], ['21', 'NC_000021.8', 48129895],
  ['22', 'NC_000022.10', 51304566], ['X', 'NC_000023.10', 155270560], ['Y', 'NC_000024.9', 59373566],
  ['M', 'NC_012920.1', 16569],
];

const GRCH38: readonly Row[] = [
  ['1', 'NC_000001.11', 248956422], ['2', 'NC_000002.12', 242193529], ['3', 'NC_000003.12', 198295559],
  ['4', 'NC_000004.12', 190214555], ['5', 'NC_000005.10', 181538259], ['6', 'NC_000006.12', 170805979],
  ['7', 'NC_000007.14', 159345973], ['8', 'NC_000008.11', 145138636], ['9', 'NC_000009.12', 138394717],
  ['10', 'NC_000010.11', 133797422], ['11', 'NC_000011.10', 135086622], ['12', 'NC_000012.12', 133275309],
  ['13', 'NC_000013.11', 114364328], ['14', 'NC_000014.9', 107043718], ['15', 'NC_000015.10', 101991189],
  ['16', 'NC_000016.10', 90338345], ['17', 'NC_000017.11', 83257441], ['18', 'NC_000018.10', 80373285],
  ['19', 'NC_000019.10', 58617616], ['20', 'NC_000020.11', 64444167], ['21', 'NC_000021.9', 46709983],
  ['22', 'NC_000022.11', 50818468], ['X', 'NC_000023.11', 156040895], ['Y', 'NC_000024.10', 57227415],
  ['M', 'NC_012920.1', 16569],
];

const byChromosome = new Map<GenomicBuild, Map<string, Molecule>>();
// Upper-cased accession -> its molecules: two for NC_012920.1 (one per build), one otherwise.
const byAccession = new Map<string, Molecule[]>();

for (const [build, rows] of [['GRCh37', GRCH37], ['GRCh38', GRCH38]] as const) {
  const names = new Map<string, Molecule>();
  for (const [chromosome, accession, length] of rows) {
    const molecule: Molecule = { build, chromosome, accession, length };
    names.set(chromosome, molecule);
    const key = accession.toUpperCase();
    byAccession.set(key, [...(byAccession.get(key) ?? []), molecule]);
  }
  byChromosome.set(build, names);
}

// `chr1`, `CHRX`, `chrMT`, `MT`, `m` -> `1`, `X`, `M`: the spellings of VCF contigs from NCBI,
// Ensembl/b37 and UCSC files.
function chromosomeName(text: string): string {
  const bare = text.trim().replace(/^chr/i, '').toUpperCase();
  return bare === 'MT' ? 'M' : bare;
}

/** The RefSeq accession of a chromosome (`1`, `chr1`, `X`, `MT`, `chrM`… or an accession of that build) in a build. */
export function accessionFor(build: GenomicBuild, chromosome: string): string | undefined {
  const asAccession = byAccession.get(chromosome.trim().toUpperCase());
  if (asAccession) return asAccession.find((m) => m.build === build)?.accession;
  return byChromosome.get(build)?.get(chromosomeName(chromosome))?.accession;
}

// NC_012920.1 belongs to both builds: it is reported under `build` when given, else GRCh38.
/** The build, chromosome (`1`…`22`, `X`, `Y`, `M`) and length of a chromosome accession. */
export function chromosomeOf(accession: string, build?: GenomicBuild): { build: GenomicBuild; chromosome: string; length: number } | undefined {
  const molecules = byAccession.get(accession.trim().toUpperCase());
  if (!molecules) return undefined;
  const molecule = molecules.find((m) => m.build === (build ?? 'GRCh38')) ?? molecules[0]!;
  return { build: molecule.build, chromosome: molecule.chromosome, length: molecule.length };
}

/** The canonical spelling (`NC_000001.11`) of a known chromosome accession, whatever its case. */
export function canonicalAccession(accession: string): string | undefined {
  return byAccession.get(accession.trim().toUpperCase())?.[0]!.accession;
}

// Names of each build as VCF `##reference`/`##assembly` headers, reference FASTA file names and
// clients write them, found anywhere in the lower-cased text that is not preceded by a letter or
// digit (so `hg19` is found in `file:///ref/ucsc.hg19.fasta` and `grch38` in
// `GRCh38_full_analysis_set.fa`; a patch suffix such as `.p13` is simply not looked at). The
// assembly accessions are those of the NCBI reports above: GRCh37.p13 is GCF_000001405.25 /
// GCA_000001405.14; GRCh38 is GCF_000001405.26 to .40 (p14) and GCA_000001405.15 to .29 (p14), one
// version per patch release. Homo_sapiens_assembly19 and human_g1k_v37 are the Broad and 1000
// Genomes GRCh37 (b37) FASTAs, Homo_sapiens_assembly38 the Broad GRCh38 one.
const BUILD_NAMES: ReadonlyArray<readonly [GenomicBuild, RegExp]> = [
  ['GRCh37', /(?<![a-z0-9])(?:grch37|hg19|b37|hs37d5|hs37|ncbi-?(?:build-?)?37|human_g1k_v37|homo_sapiens_assembly19|gcf_000001405\.25|gca_000001405\.14)(?![0-9])/],
  ['GRCh38', /(?<![a-z0-9])(?:grch38|hg38|b38|hs38dh|hs38|ncbi-?(?:build-?)?38|homo_sapiens_assembly38|gcf_000001405\.(?:2[6-9]|3[0-9]|40)|gca_000001405\.(?:1[5-9]|2[0-9]))(?![0-9])/],
];

/** The build a VCF header value or `genomicBuild` parameter names (GRCh37, hg19, b37, GRCh38.p14, hg38…), if exactly one. */
export function parseBuild(text: string): GenomicBuild | undefined {
  const lower = text.trim().toLowerCase();
  // A bare build number, as some clients send it.
  if (lower === '37') return 'GRCh37';
  if (lower === '38') return 'GRCh38';
  const found = BUILD_NAMES.filter(([, pattern]) => pattern.test(lower)).map(([build]) => build);
  // Text naming both builds (`lifted from hg19 to hg38`) names neither.
  return found.length === 1 ? found[0] : undefined;
}
