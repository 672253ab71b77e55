// VCF reading (src/genomics/vcf-source.ts, vcf-calls.ts) on small hand-written records. Every
// expected call is worked out by hand from the VCF 4.3 conventions: 0-based start = POS-1, then the
// common suffix and prefix trimmed (spdi.ts's trimAllele); symbolic alleles start after the
// padding base (0-based POS) and end at END; GRCh38 accessions from the NCBI assembly report.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import type { GenomicBuild, VariantCall } from '../../src/genomics/types.js';
import { callsOf, readVcfHeader, type VcfHeader } from '../../src/genomics/vcf-calls.js';
import { VcfError, vcfLines, type VcfLine } from '../../src/genomics/vcf-source.js';

const CSQ_FORMAT = 'Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp|HGNC_ID';
const ANN_DESCRIPTION = "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' ";

const HEADER_LINES = [
  '##fileformat=VCFv4.3',
  '##reference=GRCh38',
  '##contig=<ID=chr1,length=248956422>',
  '##INFO=<ID=DP,Number=1,Type=Integer,Description="Combined depth">',
  '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
  '##INFO=<ID=END,Number=1,Type=Integer,Description="End position">',
  '##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="Length of structural variant">',
  `##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: ${CSQ_FORMAT}">`,
  `##INFO=<ID=ANN,Number=.,Type=String,Description="${ANN_DESCRIPTION}">`,
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
  '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
  '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
  '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
  '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878',
];
const header: VcfHeader = readVcfHeader(HEADER_LINES);
const row = (...columns: string[]): string => columns.join('\t');
const calls = (line: string, lineNumber = 100, build: GenomicBuild = 'GRCh38'): VariantCall[] => callsOf(header, line, lineNumber, 0, build);
const only = (line: string): VariantCall => {
  const result = calls(line);
  assert.equal(result.length, 1, `one call expected from ${line}`);
  return result[0] as VariantCall;
};
const pick = <K extends keyof VariantCall>(c: VariantCall, ...keys: K[]): Pick<VariantCall, K> =>
  Object.fromEntries(keys.map((k) => [k, c[k]])) as Pick<VariantCall, K>;

describe('VCF header', () => {
  it('gives samples, the build and the CSQ/ANN field orders', () => {
    assert.deepEqual(header.samples, ['NA12878']);
    assert.equal(header.build, 'GRCh38');
    assert.deepEqual(header.csqFields, CSQ_FORMAT.split('|'));
    assert.deepEqual(header.annFields.slice(0, 11), ['Allele', 'Annotation', 'Annotation_Impact', 'Gene_Name', 'Gene_ID', 'Feature_Type', 'Feature_ID', 'Transcript_BioType', 'Rank', 'HGVS.c', 'HGVS.p']);
  });

  it('infers the build from ##assembly, contig assembly= and contig lengths; none when they disagree', () => {
    const chromLine = '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO';
    const build = (...lines: string[]) => readVcfHeader(['##fileformat=VCFv4.2', ...lines, chromLine]).build;
    assert.equal(build('##assembly=hg19'), 'GRCh37');
    assert.equal(build('##contig=<ID=1,length=249250621,assembly=b37>'), 'GRCh37');
    // chr1 of GRCh37 is 249250621 bp, of GRCh38 248956422 bp (NCBI assembly reports).
    assert.equal(build('##contig=<ID=1,length=249250621>'), 'GRCh37');
    assert.equal(build('##contig=<ID=chr1,length=248956422>'), 'GRCh38');
    assert.equal(build('##reference=file:///ref/hg19.fa', '##contig=<ID=chr1,length=248956422>'), undefined);
    assert.equal(build('##source=caller'), undefined);
    assert.equal(readVcfHeader(['##fileformat=VCFv4.2', chromLine]).csqFields, undefined);
  });

  it('refuses a header without #CHROM, naming the first data line', () => {
    assert.throws(() => readVcfHeader(['##fileformat=VCFv4.2', '##source=x']),
      (e: unknown) => e instanceof VcfError && e.lineNumber === 3 && /^line 3: .*#CHROM/.test(e.message));
  });
});

describe('VCF calls', () => {
  it('SNV, heterozygous: AD/DP frequency, FORMAT DP before INFO DP, ids, PASS', () => {
    assert.deepEqual(calls(row('chr1', '100', 'rs123', 'A', 'G', '50', 'PASS', 'DP=30', 'GT:AD:DP', '0/1:12,8:20')), [{
      sequence: 'NC_000001.11', chromosome: '1', start: 99, end: 100, ref: 'A', alt: 'G', spdi: 'NC_000001.11:99:A:G',
      vcf: { pos: 100, ref: 'A', alt: 'G' }, ids: ['rs123'], genotype: '0/1', phased: false, zygosity: 'heterozygous',
      depth: 20, alleleFrequency: 0.4, filter: 'PASS', consequences: [],
    }]);
  });

  it('SNV, homozygous, lower case: FORMAT AF, INFO DP (single sample), FILTER . as empty', () => {
    assert.deepEqual(calls(row('chr17', '7675088', '.', 'c', 't', '.', '.', 'DP=42', 'GT:AF', '1/1:0.98')), [{
      sequence: 'NC_000017.11', chromosome: '17', start: 7675087, end: 7675088, ref: 'C', alt: 'T', spdi: 'NC_000017.11:7675087:C:T',
      vcf: { pos: 7675088, ref: 'c', alt: 't' }, ids: [], genotype: '1/1', phased: false, zygosity: 'homozygous',
      depth: 42, alleleFrequency: 0.98, filter: '', consequences: [],
    }]);
  });

  it('insertion and deletion: padding base trimmed, SPDI with an empty side', () => {
    // A -> ATCT at 117559590: the shared A goes, TCT is inserted before 0-based 117559590.
    assert.deepEqual(pick(only(row('chr7', '117559590', '.', 'A', 'ATCT', '.', 'PASS', '.', 'GT', '0/1')), 'start', 'end', 'ref', 'alt', 'spdi'),
      { start: 117559590, end: 117559590, ref: '', alt: 'TCT', spdi: 'NC_000007.14:117559590::TCT' });
    // ATCT -> A: TCT (1-based 117559591-117559593) deleted.
    assert.deepEqual(pick(only(row('chr7', '117559590', 'rs113993960', 'ATCT', 'A', '.', 'PASS', '.', 'GT', '1/1')), 'start', 'end', 'ref', 'alt', 'spdi', 'zygosity'),
      { start: 117559590, end: 117559593, ref: 'TCT', alt: '', spdi: 'NC_000007.14:117559590:TCT:', zygosity: 'homozygous' });
    // CAA -> CA: the suffix A is trimmed first, then the prefix C: the A at 1-based 1001 is deleted.
    assert.deepEqual(pick(only(row('chr1', '1000', '.', 'CAA', 'CA', '.', 'PASS', '.', 'GT', '0/1')), 'start', 'end', 'spdi'),
      { start: 1000, end: 1001, spdi: 'NC_000001.11:1000:A:' });
  });

  it('multi-allelic 1/2: one heterozygous call per ALT, AD frequencies, VEP allele spellings', () => {
    // VEP drops the shared first base of an indel record: AT/A,ATT is written T/-,TT in CSQ.
    const csq = ['-|frameshift_variant|HIGH|GENE1||Transcript|ENST01|protein_coding||||', 'TT|inframe_insertion|MODERATE|GENE1||Transcript|ENST01|protein_coding||||'].join(',');
    const result = calls(row('chr1', '2000', '.', 'AT', 'A,ATT', '.', 'PASS', `CSQ=${csq}`, 'GT:AD:DP', '1/2:2,15,18:35'));
    assert.deepEqual(result.map((c) => pick(c, 'start', 'end', 'ref', 'alt', 'spdi', 'zygosity', 'alleleFrequency', 'gene')), [
      { start: 2000, end: 2001, ref: 'T', alt: '', spdi: 'NC_000001.11:2000:T:', zygosity: 'heterozygous', alleleFrequency: 15 / 35, gene: 'GENE1' },
      { start: 2000, end: 2000, ref: '', alt: 'T', spdi: 'NC_000001.11:2000::T', zygosity: 'heterozygous', alleleFrequency: 18 / 35, gene: 'GENE1' },
    ]);
    assert.deepEqual(result.map((c) => c.consequences.map((q) => q.terms[0])), [['frameshift_variant'], ['inframe_insertion']]);
  });

  it('2/2 is one homozygous call of ALT 2; * and <NON_REF> alleles make no call; 1/. is heterozygous', () => {
    assert.deepEqual(pick(only(row('chr1', '3000', '.', 'G', 'A,T', '.', 'PASS', '.', 'GT', '2/2')), 'spdi', 'zygosity', 'vcf'),
      { spdi: 'NC_000001.11:2999:G:T', zygosity: 'homozygous', vcf: { pos: 3000, ref: 'G', alt: 'T' } });
    assert.deepEqual(calls(row('chr1', '3100', '.', 'G', 'A,*', '.', 'PASS', '.', 'GT', '1/2')).map((c) => c.spdi), ['NC_000001.11:3099:G:A']);
    assert.deepEqual(calls(row('chr1', '3200', '.', 'A', 'G,<NON_REF>', '.', '.', '.', 'GT', '0/1')).map((c) => c.spdi), ['NC_000001.11:3199:A:G']);
    assert.equal(only(row('chr1', '3300', '.', 'A', 'G', '.', '.', '.', 'GT', '1/.')).zygosity, 'heterozygous');
  });

  it('reference-only and missing genotypes give no call', () => {
    for (const gt of ['0/0', '0|0', './.', '.', '0']) {
      assert.deepEqual(calls(row('chr1', '4000', '.', 'C', 'T', '.', 'PASS', '.', 'GT', gt)), [], gt);
    }
    assert.deepEqual(calls(row('chr1', '4000', '.', 'C', '.', '.', 'PASS', '.', 'GT', '0/0')), []);
    // A reference call on a contig the build lacks is no error: there is nothing to place.
    assert.deepEqual(calls(row('chrUn_KI270742v1', '10', '.', 'C', 'T', '.', 'PASS', '.', 'GT', '0/0')), []);
  });

  it('phased genotype with PS; PS on an unphased genotype is not a phase set', () => {
    assert.deepEqual(pick(only(row('chr1', '5000', '.', 'C', 'T', '.', 'PASS', '.', 'GT:PS', '1|0:4990')), 'phased', 'phaseSet', 'zygosity', 'genotype'),
      { phased: true, phaseSet: 4990, zygosity: 'heterozygous', genotype: '1|0' });
    assert.equal(only(row('chr1', '5000', '.', 'C', 'T', '.', 'PASS', '.', 'GT:PS', '0/1:4990')).phaseSet, undefined);
  });

  it('haploid chrX and chrY calls are hemizygous', () => {
    assert.deepEqual(pick(only(row('chrX', '153000000', '.', 'G', 'A', '.', 'PASS', '.', 'GT', '1')), 'sequence', 'chromosome', 'spdi', 'zygosity'),
      { sequence: 'NC_000023.11', chromosome: 'X', spdi: 'NC_000023.11:152999999:G:A', zygosity: 'hemizygous' });
    assert.deepEqual(pick(only(row('Y', '2787000', '.', 'T', 'C', '.', 'PASS', '.', 'GT', '1')), 'sequence', 'chromosome', 'spdi', 'zygosity'),
      { sequence: 'NC_000024.10', chromosome: 'Y', spdi: 'NC_000024.10:2786999:T:C', zygosity: 'hemizygous' });
  });

  it('<DEL> with END: starts after the padding base, ends at END', () => {
    // The VCF 4.3 example: T <DEL> at 321682 with END=321887 deletes 321683-321887 (1-based).
    const c = only(row('chr1', '321682', '.', 'T', '<DEL>', '6', 'PASS', 'SVTYPE=DEL;END=321887;SVLEN=-205', 'GT', '0/1'));
    assert.deepEqual(pick(c, 'start', 'end', 'ref', 'alt', 'spdi', 'structuralType', 'vcf'), {
      start: 321682, end: 321887, ref: '', alt: '', spdi: 'NC_000001.11:321682:321887:<DEL>', structuralType: 'DEL',
      vcf: { pos: 321682, ref: 'T', alt: '<DEL>' },
    });
  });

  it('<DUP> with SVLEN and FORMAT CN; <DUP:TANDEM> is a DUP; <INS> is a point; SVTYPE on a sequence allele', () => {
    assert.deepEqual(pick(only(row('chr1', '10000', '.', 'N', '<DUP>', '.', 'PASS', 'SVTYPE=DUP;SVLEN=5000', 'GT:CN', '0/1:3')), 'start', 'end', 'spdi', 'structuralType', 'copyNumber'),
      { start: 10000, end: 15000, spdi: 'NC_000001.11:10000:15000:<DUP>', structuralType: 'DUP', copyNumber: 3 });
    assert.equal(only(row('chr1', '10000', '.', 'A', '<DUP:TANDEM>', '.', 'PASS', 'END=10300', 'GT', '0/1')).spdi, 'NC_000001.11:10000:10300:<DUP>');
    assert.equal(only(row('chr1', '10000', '.', 'A', '<INS>', '.', 'PASS', 'SVLEN=300', 'GT', '0/1')).spdi, 'NC_000001.11:10000:10000:<INS>');
    // ACGTACGTAC -> A with SVTYPE=DEL: the sequence alleles stay, the kind is recorded.
    assert.deepEqual(pick(only(row('chr1', '20000', '.', 'ACGTACGTAC', 'A', '.', 'PASS', 'SVTYPE=DEL', 'GT', '0/1')), 'start', 'end', 'ref', 'alt', 'spdi', 'structuralType'),
      { start: 20000, end: 20009, ref: 'CGTACGTAC', alt: '', spdi: 'NC_000001.11:20000:CGTACGTAC:', structuralType: 'DEL' });
  });

  it('VEP CSQ: terms split on &, transcript only for Transcript features, HGNC id, percent-decoded HGVSp', () => {
    const csq = [
      'T|missense_variant&splice_region_variant|MODERATE|LDLR|ENSG00000130164|Transcript|ENST00000558518|protein_coding|4/18||ENST00000558518.6:c.530C>T|ENSP00000454071.1:p.Ser177Leu|HGNC:6547',
      'T|synonymous_variant|LOW|LDLR|ENSG00000130164|Transcript|ENST00000252444|protein_coding|4/18||ENST00000252444.10:c.30C>T|ENSP00000252444.6:p.Leu10%3D|6547',
      'T|regulatory_region_variant|MODIFIER|||RegulatoryFeature|ENSR00000105220||||||',
    ].join(',');
    const c = only(row('chr19', '11102787', '.', 'C', 'T', '.', 'PASS', `CSQ=${csq}`, 'GT', '0/1'));
    assert.equal(c.gene, 'LDLR');
    assert.deepEqual(c.consequences, [
      { terms: ['missense_variant', 'splice_region_variant'], gene: 'LDLR', hgncId: 'HGNC:6547', transcript: 'ENST00000558518', hgvsc: 'ENST00000558518.6:c.530C>T', hgvsp: 'ENSP00000454071.1:p.Ser177Leu', impact: 'MODERATE' },
      { terms: ['synonymous_variant'], gene: 'LDLR', hgncId: 'HGNC:6547', transcript: 'ENST00000252444', hgvsc: 'ENST00000252444.10:c.30C>T', hgvsp: 'ENSP00000252444.6:p.Leu10=', impact: 'LOW' },
      { terms: ['regulatory_region_variant'], impact: 'MODIFIER' },
    ]);
  });

  it('SnpEff ANN: only the entries of this ALT', () => {
    const ann = [
      'G|frameshift_variant|HIGH|BRCA2|ENSG00000139618|transcript|ENST00000380152.8|protein_coding|11/27|c.5946delT|p.Ser1982fs|6173/11954|5946/10257|1982/3418||',
      'GTT|frameshift_variant|HIGH|BRCA2|ENSG00000139618|transcript|ENST00000380152.8|protein_coding|11/27|c.5946dupT|p.Ser1983fs|6173/11954|5946/10257|1982/3418||',
      'G|upstream_gene_variant|MODIFIER|ZAR1L|ENSG00000189167|transcript|ENST00000533490.6|protein_coding||c.-1234delA|||||1234|',
    ].join(',');
    const c = only(row('chr13', '32340300', 'rs80359550', 'GT', 'G,GTT', '.', 'PASS', `ANN=${ann}`, 'GT', '0/1'));
    assert.deepEqual(pick(c, 'spdi', 'gene', 'ids'), { spdi: 'NC_000013.11:32340300:T:', gene: 'BRCA2', ids: ['rs80359550'] });
    assert.deepEqual(c.consequences, [
      { terms: ['frameshift_variant'], gene: 'BRCA2', transcript: 'ENST00000380152.8', hgvsc: 'c.5946delT', hgvsp: 'p.Ser1982fs', impact: 'HIGH' },
      { terms: ['upstream_gene_variant'], gene: 'ZAR1L', transcript: 'ENST00000533490.6', hgvsc: 'c.-1234delA', impact: 'MODIFIER' },
    ]);
  });

  it('breakends are points at their join; <CNV> takes INFO CN', () => {
    // G]17:198982]: the G at 1000 is joined to what lies before 198982, so the join is after 1000.
    assert.deepEqual(pick(only(row('chr1', '1000', 'bnd1', 'G', 'G]chr17:198982]', '.', 'PASS', 'SVTYPE=BND', 'GT', '0/1')), 'start', 'end', 'spdi', 'structuralType'),
      { start: 1000, end: 1000, spdi: 'NC_000001.11:1000:1000:<BND>', structuralType: 'BND' });
    // ]17:198982]G: joined before the G at 1000, i.e. at 0-based 999.
    assert.equal(only(row('chr1', '1000', 'bnd2', 'G', ']chr17:198982]G', '.', 'PASS', '.', 'GT', '0/1')).spdi, 'NC_000001.11:999:999:<BND>');
    assert.deepEqual(pick(only(row('chr1', '50000', '.', 'C', '<CNV>', '.', 'PASS', 'END=60000;CN=0', 'GT', '1/1')), 'start', 'end', 'copyNumber', 'zygosity'),
      { start: 50000, end: 60000, copyNumber: 0, zygosity: 'homozygous' });
  });

  it('picks the asked-for sample of several; INFO DP is not a sample depth then', () => {
    const trio = readVcfHeader([...HEADER_LINES.slice(0, -1), '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tMOTHER\tCHILD']);
    const child = (line: string) => callsOf(trio, line, 9, 1, 'GRCh38').map((c) => pick(c, 'spdi', 'zygosity', 'depth', 'alleleFrequency'));
    assert.deepEqual(child(row('chr1', '100', '.', 'A', 'G,T', '.', 'PASS', 'DP=60', 'GT:AD:DP', '0/1:10,10,0:20', '0/2:12,0,8:20')),
      [{ spdi: 'NC_000001.11:99:A:T', zygosity: 'heterozygous', depth: 20, alleleFrequency: 0.4 }]);
    // No FORMAT DP: no depth, and the frequency is AD(alt)/sum(AD) = 9/9.
    assert.deepEqual(child(row('chr1', '200', '.', 'C', 'T', '.', 'PASS', 'DP=60', 'GT:AD', '0/1:5,5', '1/1:0,9')),
      [{ spdi: 'NC_000001.11:199:C:T', zygosity: 'homozygous', depth: undefined, alleleFrequency: 1 }]);
  });

  it('FILTER names are kept as written', () => {
    assert.equal(only(row('chr1', '6000', '.', 'C', 'T', '.', 'q10;LowQual', '.', 'GT', '0/1')).filter, 'q10;LowQual');
  });
});

describe('malformed VCF lines', () => {
  const rejects = (line: string, message: RegExp, sampleIndex = 0) =>
    assert.throws(() => callsOf(header, line, 57, sampleIndex, 'GRCh38'),
      (e: unknown) => e instanceof VcfError && e.lineNumber === 57 && /^line 57: /.test(e.message) && message.test(e.message));

  it('throws VcfError with the line number', () => {
    rejects(row('chr1', '100', '.', 'A', 'G', '.', 'PASS', '.', 'GT'), /expected 10 tab-separated columns, found 9/);
    rejects('chr1 100 . A G . PASS . GT 0/1', /expected 10 tab-separated columns, found 1/);
    rejects(row('chr1', '10x', '.', 'A', 'G', '.', 'PASS', '.', 'GT', '0/1'), /POS "10x" is not a positive integer/);
    rejects(row('chr1', '0', '.', 'A', 'G', '.', 'PASS', '.', 'GT', '0/1'), /POS "0" is not a positive integer/);
    rejects(row('chr1', '100', '.', 'AXG', 'G', '.', 'PASS', '.', 'GT', '0/1'), /REF "AXG"/);
    rejects(row('chr1', '100', '.', 'A', 'G,T', '.', 'PASS', '.', 'GT', '0/3'), /GT "0\/3" refers to ALT 3 but the record has 2 ALT/);
    rejects(row('chr1', '100', '.', 'A', 'G', '.', 'PASS', '.', 'GT', 'A/G'), /GT "A\/G" is not a genotype/);
    rejects(row('chr1', '100', '.', 'A', 'G', '.', 'PASS', '.', 'GT', '0/1'), /sample index 1 is beyond the 1 sample/, 1);
    rejects(row('chrUn_KI270742v1', '100', '.', 'A', 'G', '.', 'PASS', '.', 'GT', '0/1'), /chromosome "chrUn_KI270742v1" is not a GRCh38 chromosome/);
    rejects(row('chr1', '100', '.', 'A', 'G', '.', 'PASS', 'SVTYPE=DEL;END=50', 'GT', '0/1').replace('\tG\t', '\t<DEL>\t'), /END 50 is before POS 100/);
  });
});

// A small VCF for the byte-level tests: a non-ASCII header line (split across chunks below), a
// blank line 10 (counted, not yielded) and no line break after the last line.
const FIXTURE = [
  '##fileformat=VCFv4.3',
  '##source=Labor München',
  '##contig=<ID=chr1,length=248956422>',
  '##INFO=<ID=DP,Number=1,Type=Integer,Description="Combined depth">',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1',
  row('chr1', '100', 'rs1', 'A', 'G', '.', 'PASS', 'DP=30', 'GT:DP', '0/1:20'),
  row('chr1', '200', '.', 'C', 'T', '.', 'PASS', 'DP=25', 'GT:DP', '0/0:25'),
  '',
  row('chr1', '300', '.', 'G', 'GA', '.', 'PASS', '.', 'GT:DP', '1/1:18'),
].join('\n');
const EXPECTED_LINES: VcfLine[] = FIXTURE.split('\n').map((text, i) => ({ lineNumber: i + 1, text })).filter((l) => l.text !== '');

async function collect(input: NodeJS.ReadableStream | Buffer): Promise<VcfLine[]> {
  const out: VcfLine[] = [];
  for await (const line of vcfLines(input)) out.push(line);
  return out;
}

// One BGZF block (SAM/BAM spec §4.1): a gzip member with FEXTRA holding the `BC` subfield, whose
// value is the block's total size minus 1.
function bgzfBlock(data: Buffer): Buffer {
  const cdata = deflateRawSync(data);
  const head = Buffer.from([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0, 0, 0]);
  head.writeUInt16LE(head.length + cdata.length + 8 - 1, 16);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(crc32(data), 0);
  tail.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, cdata, tail]);
}
// The fixed empty block that ends every BGZF file.
const BGZF_EOF = Buffer.from('1f8b08040000000000ff0600424302001b0003000000000000000000', 'hex');

describe('VCF bytes', () => {
  const bytes = Buffer.from(FIXTURE, 'utf8');

  it('plain, gzip, multi-member gzip and BGZF give the same numbered lines', async () => {
    const cut = bytes.indexOf('chr1\t200') + 5; // mid-line, so a line spans two members
    const multi = Buffer.concat([gzipSync(bytes.subarray(0, cut)), gzipSync(bytes.subarray(cut))]);
    const bgzf = Buffer.concat([bgzfBlock(bytes.subarray(0, 100)), bgzfBlock(bytes.subarray(100, cut)), bgzfBlock(bytes.subarray(cut)), BGZF_EOF]);
    // The builder is right if it makes the spec's EOF block out of no data.
    assert.deepEqual(bgzfBlock(Buffer.alloc(0)), BGZF_EOF);
    for (const [name, input] of [['plain', bytes], ['gzip', gzipSync(bytes)], ['multi-member', multi], ['bgzf', bgzf]] as const) {
      assert.deepEqual(await collect(input), EXPECTED_LINES, name);
    }
  });

  it('streams: one-byte chunks (split UTF-8 and gzip magic), CRLF', async () => {
    const oneByteChunks = (b: Buffer) => Readable.from([...b].map((byte) => Buffer.from([byte])));
    assert.deepEqual(await collect(oneByteChunks(bytes)), EXPECTED_LINES);
    assert.deepEqual(await collect(oneByteChunks(gzipSync(bytes))), EXPECTED_LINES);
    assert.deepEqual(await collect(Buffer.from(FIXTURE.replace(/\n/g, '\r\n') + '\r\n')), EXPECTED_LINES);
    assert.deepEqual(await collect(Buffer.alloc(0)), []);
  });

  it('corrupt or truncated gzip is a VcfError', async () => {
    const gz = gzipSync(bytes);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 20, 40);
    for (const input of [corrupt, gz.subarray(0, gz.length - 12), Buffer.concat([gz, Buffer.from('trailing junk')])]) {
      await assert.rejects(collect(input), (e: unknown) => e instanceof VcfError && /gzip data is corrupt or truncated/.test(e.message));
    }
  });

  it('header, then calls; a malformed data line is reported by its number in the file', async () => {
    const read = async (text: string): Promise<VariantCall[]> => {
      const headerLines: string[] = [];
      let h: VcfHeader | undefined;
      const out: VariantCall[] = [];
      for await (const { lineNumber, text: line } of vcfLines(Buffer.from(text))) {
        if (!h && line.startsWith('#')) headerLines.push(line);
        else out.push(...callsOf((h ??= readVcfHeader(headerLines)), line, lineNumber, 0, 'GRCh38'));
      }
      return out;
    };
    assert.deepEqual((await read(FIXTURE)).map((c) => c.spdi), ['NC_000001.11:99:A:G', 'NC_000001.11:300::A']);
    await assert.rejects(read(FIXTURE.replace('chr1\t300', 'chr1\tx300')),
      (e: unknown) => e instanceof VcfError && e.lineNumber === 11 && e.message === 'line 11: POS "x300" is not a positive integer');
  });
});
