// Genomic coordinates (src/genomics/refseq.ts, spdi.ts, hgvs.ts, ranges.ts) on published
// variants. Every expected value was worked out by hand from the source cited beside it; 1-based
// -> 0-based is always "subtract one from the first base, keep the last". Sources:
// - Accessions, lengths: NCBI assembly reports GCF_000001405.25 (GRCh37.p13), GCF_000001405.40 (GRCh38.p14).
// - HFE C282Y, rs1800562 (dbSNP; SNPedia; MyVariant.info hg19 id chr6:g.26093141G>A): GRCh38
//   chr6:26092913 G>A, GRCh37 chr6:26093141 G>A. HFE S65C, ClinVar RCV000000028:
//   NC_000006.12:g.26090957A>T, NC_000006.11:g.26091185A>T.
// - CFTR F508del, rs113993960, ClinVar RCV000007523: NC_000007.14:g.117559592_117559594del,
//   NC_000007.13:g.117199645_117199647del (shifted 3'); canonical SPDI NC_000007.14:117559590:TCTT:T;
//   VCF (GRCh38) chr7 117559590 ATCT A (GeneBe chr7-117559590-ATCT-A).
// - HGVS nomenclature, recommendations summary: NC_000001.11:g.1234_1235insACGT, g.123delinsAC,
//   g.123_129delinsAC, g.1234_2345del, NC_000023.10:g.33038255C>A.
// - SPDI: https://www.ncbi.nlm.nih.gov/variation/notation/ (0-based position, empty D or I allowed).
// - `ranges`: Genomics Reporting IG find-subject-variants, NC_000007.14:55174721-55174820.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FhirError } from '../../src/fhir/errors.js';
import { formatGenomicHgvs, parseGenomicHgvs } from '../../src/genomics/hgvs.js';
import { formatRange, parseRange, parseVariantItem } from '../../src/genomics/ranges.js';
import { accessionFor, chromosomeOf, parseBuild } from '../../src/genomics/refseq.js';
import { formatSpdi, parseSpdi, trimAllele } from '../../src/genomics/spdi.js';

// A 400 whose message names the offending value.
function rejects(fn: () => unknown, value: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FhirError, `expected a FhirError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.ok(err.message.includes(value), `'${err.message}' should name '${value}'`);
    return true;
  });
}

describe('genomics coordinates', () => {
  describe('refseq', () => {
    it('maps chromosome spellings, and accessions of the same build only, to accessions', () => {
      const cases: Array<['GRCh37' | 'GRCh38', string, string | undefined]> = [
        ['GRCh38', '1', 'NC_000001.11'], ['GRCh37', '1', 'NC_000001.10'], ['GRCh38', 'chr1', 'NC_000001.11'],
        ['GRCh38', 'CHR7', 'NC_000007.14'], ['GRCh37', '7', 'NC_000007.13'], ['GRCh38', 'X', 'NC_000023.11'],
        ['GRCh37', 'chrX', 'NC_000023.10'], ['GRCh38', 'chrY', 'NC_000024.10'], ['GRCh37', 'Y', 'NC_000024.9'],
        ['GRCh38', 'NC_000019.10', 'NC_000019.10'], ['GRCh37', 'NC_000019.9', 'NC_000019.9'],
        ['GRCh37', 'NC_000019.10', undefined], ['GRCh38', 'NC_012920.1', 'NC_012920.1'],
        ['GRCh38', 'chr23', undefined], ['GRCh37', 'chrUn_gl000220', undefined], ['GRCh38', '', undefined],
      ];
      for (const [build, name, accession] of cases) assert.equal(accessionFor(build, name), accession, `${build} ${name}`);
      for (const name of ['M', 'MT', 'chrM', 'chrMT', 'mt']) {
        assert.equal(accessionFor('GRCh37', name), 'NC_012920.1', name);
        assert.equal(accessionFor('GRCh38', name), 'NC_012920.1', name);
      }
    });

    it('knows the build, chromosome and length of each accession', () => {
      assert.deepEqual(chromosomeOf('NC_000019.10'), { build: 'GRCh38', chromosome: '19', length: 58617616 });
      assert.deepEqual(chromosomeOf('NC_000007.13'), { build: 'GRCh37', chromosome: '7', length: 159138663 });
      assert.deepEqual(chromosomeOf('NC_000001.10'), { build: 'GRCh37', chromosome: '1', length: 249250621 });
      assert.deepEqual(chromosomeOf('NC_000023.11'), { build: 'GRCh38', chromosome: 'X', length: 156040895 });
      assert.deepEqual(chromosomeOf('NC_000024.9'), { build: 'GRCh37', chromosome: 'Y', length: 59373566 });
      // rCRS is in both builds: GRCh38 unless the caller says which.
      assert.deepEqual(chromosomeOf('NC_012920.1'), { build: 'GRCh38', chromosome: 'M', length: 16569 });
      assert.deepEqual(chromosomeOf('NC_012920.1', 'GRCh37'), { build: 'GRCh37', chromosome: 'M', length: 16569 });
      for (const accession of ['NC_000001.12', 'NC_000001', 'NM_000492.4']) assert.equal(chromosomeOf(accession), undefined, accession);
    });

    it('covers 1-22, X, Y and M in both builds, each accession back to its name', () => {
      const names = [...Array.from({ length: 22 }, (_, i) => String(i + 1)), 'X', 'Y', 'M'];
      for (const build of ['GRCh37', 'GRCh38'] as const) {
        const accessions = new Set<string>();
        for (const name of names) {
          const accession = accessionFor(build, name);
          assert.ok(accession !== undefined && accession.startsWith('NC_'), `${build} ${name}`);
          const found = chromosomeOf(accession, build);
          assert.deepEqual([found?.build, found?.chromosome], [build, name]);
          accessions.add(accession);
        }
        assert.equal(accessions.size, 25);
      }
    });

    it('reads the build from its usual names', () => {
      for (const text of ['GRCh37', 'grch37', 'hg19', 'b37', 'GRCh37.p13', 'NCBI37', 'GCF_000001405.25',
        'file:///refs/human_g1k_v37.fasta', 'ucsc.hg19.fasta', 'hs37d5']) {
        assert.equal(parseBuild(text), 'GRCh37', text);
      }
      for (const text of ['GRCh38', 'hg38', 'HG38', 'GRCh38.p14', 'GCF_000001405.40', 'GCA_000001405.15',
        'GRCh38_full_analysis_set_plus_decoy_hla.fa', 'Homo_sapiens_assembly38.fasta', ' 38 ']) {
        assert.equal(parseBuild(text), 'GRCh38', text);
      }
      for (const text of ['', 'hg18', 'NCBI36', 'GRCh39', 'CHM13', 'hg19 lifted to hg38', 'GCF_000001405.41']) {
        assert.equal(parseBuild(text), undefined, text);
      }
    });
  });

  describe('trimAllele', () => {
    it('trims the common suffix first, then the common prefix, and upper-cases', () => {
      // [0-based position, REF, ALT] -> [position, deleted, inserted], each worked out by hand.
      const cases: Array<[number, string, string, number, string, string]> = [
        // The brief's example: the A at 100 goes (prefix first would say 101).
        [100, 'AA', 'A', 100, 'A', ''],
        // Shared padding at a multi-allelic site: suffix CA first leaves GCA -> G, then prefix G:
        // CA deleted at 201 (prefix first would remove GCA and say 203).
        [200, 'GCACA', 'GCA', 201, 'CA', ''],
        // rs1800562 (GRCh38 1-based 26092913) and an MNV: nothing shared.
        [26092912, 'G', 'A', 26092912, 'G', 'A'],
        [50, 'AT', 'GC', 50, 'AT', 'GC'],
        // ag -> aT: no common suffix (G/T); prefix A -> G>T at 11.
        [10, 'ag', 'aT', 11, 'G', 'T'],
        // VCF POS 4 (0-based 3) A -> ACTT: no suffix (A/T), prefix A -> CTT inserted at 4.
        [3, 'A', 'ACTT', 4, '', 'CTT'],
        // F508del as VCF POS 117559590 ATCT -> A (no suffix, prefix A) and as ClinVar's canonical
        // SPDI 117559590 TCTT -> T (suffix T): the same allele.
        [117559589, 'ATCT', 'A', 117559590, 'TCT', ''],
        [117559590, 'TCTT', 'T', 117559590, 'TCT', ''],
        [5, 'A', 'A', 5, '', ''],
      ];
      for (const [position, ref, alt, p, deleted, inserted] of cases) {
        assert.deepEqual(trimAllele(position, ref, alt), { position: p, deleted, inserted }, `${position} ${ref}>${alt}`);
      }
    });
  });

  describe('SPDI', () => {
    it('parses and formats SPDI', () => {
      const spdi = (sequence: string, position: number, deleted: string, inserted: string, deletedLength: number) =>
        ({ sequence, position, deleted, inserted, deletedLength });
      assert.deepEqual(parseSpdi('NC_000006.12:26092912:G:A'), spdi('NC_000006.12', 26092912, 'G', 'A', 1));
      assert.deepEqual(parseSpdi('NC_000007.14:117559590:TCTT:T'), spdi('NC_000007.14', 117559590, 'TCTT', 'T', 4));
      // An empty deleted sequence (insertion); lower case and spaces.
      assert.deepEqual(parseSpdi('NC_000001.11:1234::ACGT'), spdi('NC_000001.11', 1234, '', 'ACGT', 0));
      assert.deepEqual(parseSpdi(' NC_000006.12:26092912:g:a '), spdi('NC_000006.12', 26092912, 'G', 'A', 1));
      assert.equal(formatSpdi({ sequence: 'NC_000019.10', position: 11100235, deleted: 'G', inserted: 'A' }), 'NC_000019.10:11100235:G:A');
      for (const text of ['NC_000006.12:26092912:G:A', 'NC_000007.14:117559590:TCTT:T', 'NC_000001.11:1234::ACGT',
        'NC_000007.14:117559590:TCT:', 'NC_012920.1:8992:T:G']) {
        assert.equal(formatSpdi(parseSpdi(text)), text);
      }
      // A deletion given as a length keeps its length apart from an empty deletion.
      const byLength = parseSpdi('NC_000007.14:117559590:4:T');
      assert.deepEqual(byLength, spdi('NC_000007.14', 117559590, '', 'T', 4));
      assert.equal(formatSpdi(byLength), 'NC_000007.14:117559590:4:T');
      assert.equal(parseSpdi('NC_000007.14:117559590:0:T').deletedLength, 0);
    });

    it('refuses malformed SPDI with 400', () => {
      for (const text of ['NC_000006.12:26092912:G', 'NC_000006.12:-1:G:A', 'NC_000006.12:12.5:G:A',
        'NC_000006.12:1:X:A', 'NC_000006.12:1:G:A1', 'NC_000006:1:G:A', ':1:G:A', 'NC_000006.12:1:G:A:C']) {
        rejects(() => parseSpdi(text), text);
      }
    });
  });

  describe('genomic HGVS', () => {
    it('parses each change type into a 0-based half-open interval', () => {
      // [text, start, end, kind, bases]: base n (1-based) is [n-1, n), range n_m is [n-1, m).
      const cases: Array<[string, number, number, string, { deleted?: string; inserted?: string }]> = [
        // HFE C282Y, both builds; HGVS summary example.
        ['NC_000006.12:g.26092913G>A', 26092912, 26092913, 'sub', { deleted: 'G', inserted: 'A' }],
        ['NC_000006.11:g.26093141G>A', 26093140, 26093141, 'sub', { deleted: 'G', inserted: 'A' }],
        ['NC_000023.10:g.33038255C>A', 33038254, 33038255, 'sub', { deleted: 'C', inserted: 'A' }],
        // HGVS writes rCRS with m. (syntax example: MT-ATP6 m.8993T>G).
        ['NC_012920.1:m.8993T>G', 8992, 8993, 'sub', { deleted: 'T', inserted: 'G' }],
        // F508del (ClinVar), with and without the bases; GRCh37; HGVS summary; one base.
        ['NC_000007.14:g.117559592_117559594del', 117559591, 117559594, 'del', { inserted: '' }],
        ['NC_000007.14:g.117559592_117559594delCTT', 117559591, 117559594, 'del', { deleted: 'CTT', inserted: '' }],
        ['NC_000007.13:g.117199645_117199647del', 117199644, 117199647, 'del', { inserted: '' }],
        ['NC_000001.11:g.1234_2345del', 1233, 2345, 'del', { inserted: '' }],
        ['NC_000001.11:g.100del', 99, 100, 'del', { inserted: '' }],
        // Insertion: bases 1234 and 1235 are [1233, 1234) and [1234, 1235); the boundary is 1234.
        ['NC_000001.11:g.1234_1235insACGT', 1234, 1234, 'ins', { deleted: '', inserted: 'ACGT' }],
        ['NC_000001.11:g.5_6insat', 5, 5, 'ins', { deleted: '', inserted: 'AT' }],
        // A dup names the duplicated interval; written bases S read as S -> SS.
        ['NC_000001.11:g.5_7dup', 4, 7, 'dup', {}],
        ['NC_000001.11:g.5dup', 4, 5, 'dup', {}],
        ['NC_000001.11:g.5_7dupCTT', 4, 7, 'dup', { deleted: 'CTT', inserted: 'CTTCTT' }],
        // HGVS summary examples, and the older delXinsY spelling.
        ['NC_000001.11:g.123delinsAC', 122, 123, 'delins', { inserted: 'AC' }],
        ['NC_000001.11:g.123_129delinsAC', 122, 129, 'delins', { inserted: 'AC' }],
        ['NC_000001.11:g.5_7delCATinsTT', 4, 7, 'delins', { deleted: 'CAT', inserted: 'TT' }],
      ];
      for (const [text, start, end, kind, bases] of cases) {
        assert.deepEqual(parseGenomicHgvs(text), { sequence: text.split(':')[0], start, end, ...bases, kind }, text);
      }
    });

    it('refuses transcript, protein, non-chromosome and malformed HGVS with 400', () => {
      for (const text of ['NM_000492.4:c.1521_1523del', 'NP_000483.3:p.Phe508del', 'NG_016465.4:g.98809_98811del',
        'NC_000007:g.117559592_117559594del', 'NC_000006.12:g.26092913_26092914G>A', 'NC_000006.12:g.26092913G>G',
        'NC_000001.11:g.5insA', 'NC_000001.11:g.5_7insA', 'NC_000001.11:g.7_5del', 'NC_000001.11:g.5_5del',
        'NC_000001.11:g.(?_5)del', 'NC_000001.11:g.0A>G', 'NC_000007.14:g.117559592_117559594delCT',
        'NC_000001.11:g.5_7dupCT', 'NC_000001.11:g.5_7DEL', 'NC_000001.11:g.5_7inv', 'NC_000006.12:26092913G>A',
        'NC_000001.11:m.5A>G', 'rs1800562']) {
        rejects(() => parseGenomicHgvs(text), text);
      }
    });

    it('writes normalised calls as HGVS and reads them back', () => {
      const cases: Array<[string, number, number, string, string, string]> = [
        ['NC_000006.12', 26092912, 26092913, 'G', 'A', 'NC_000006.12:g.26092913G>A'],
        ['NC_000006.11', 26091184, 26091185, 'A', 'T', 'NC_000006.11:g.26091185A>T'], // HFE S65C, GRCh37
        // F508del trimmed from the VCF: TCT at [117559590, 117559593), bases 117559591..117559593.
        // The same allele as ClinVar's 3'-shifted g.117559592_117559594del: the reference there is
        // A T C T T (117559590..117559594, from VCF REF ATCT and SPDI TCTT); deleting TCT or CTT
        // from it both leave A T.
        ['NC_000007.14', 117559590, 117559593, 'TCT', '', 'NC_000007.14:g.117559591_117559593del'],
        ['NC_000001.11', 99, 100, 'A', '', 'NC_000001.11:g.100del'],
        ['NC_000001.11', 4, 4, '', 'CTT', 'NC_000001.11:g.4_5insCTT'],
        ['NC_000001.11', 4, 7, 'CAT', 'GG', 'NC_000001.11:g.5_7delinsGG'],
        ['NC_000001.11', 4, 5, 'A', 'GG', 'NC_000001.11:g.5delinsGG'],
        ['NC_012920.1', 8992, 8993, 'T', 'G', 'NC_012920.1:m.8993T>G'],
      ];
      for (const [sequence, start, end, ref, alt, hgvs] of cases) {
        assert.equal(formatGenomicHgvs({ sequence, start, end, ref, alt }), hgvs);
      }
      // Interval and bases disagree; nothing at all; an insertion before base 1 has no flanks.
      assert.throws(() => formatGenomicHgvs({ sequence: 'NC_000001.11', start: 4, end: 6, ref: 'A', alt: 'G' }), FhirError);
      assert.throws(() => formatGenomicHgvs({ sequence: 'NC_000001.11', start: 4, end: 4, ref: '', alt: '' }), FhirError);
      assert.throws(() => formatGenomicHgvs({ sequence: 'NC_000001.11', start: 0, end: 0, ref: '', alt: 'A' }), FhirError);
      // Round trips back to the same interval and inserted bases.
      const calls = [
        { sequence: 'NC_000006.12', start: 26090956, end: 26090957, ref: 'A', alt: 'T' }, // HFE S65C, g.26090957A>T
        { sequence: 'NC_000007.14', start: 117559590, end: 117559593, ref: 'TCT', alt: '' },
        { sequence: 'NC_000001.11', start: 1234, end: 1234, ref: '', alt: 'ACGT' },
        { sequence: 'NC_000001.11', start: 122, end: 129, ref: 'ACGTACG', alt: 'AC' },
      ];
      for (const call of calls) {
        const parsed = parseGenomicHgvs(formatGenomicHgvs(call));
        assert.deepEqual([parsed.start, parsed.end, parsed.inserted], [call.start, call.end, call.alt]);
      }
    });
  });

  describe('ranges and variant items', () => {
    // The expected GenomicRange / VariantQuery, spelled compactly.
    const range = (sequence: string, build: string, chromosome: string, start: number, end: number) =>
      ({ sequence, build, chromosome, start, end });
    const item = (text: string, build: string, chromosome: string, start: number, end: number, kind: string,
      bases: { deleted?: string; inserted?: string }) =>
      ({ text, sequence: text.split(':')[0], build, chromosome, start, end, ...bases, kind });

    it('parses the ranges parameter', () => {
      // The IG's example, 0-based half-open, kept as written.
      assert.deepEqual(parseRange('NC_000007.14:55174721-55174820'), range('NC_000007.14', 'GRCh38', '7', 55174721, 55174820));
      assert.deepEqual(parseRange(' nc_000019.10:11089300-11133830 '), range('NC_000019.10', 'GRCh38', '19', 11089300, 11133830));
      assert.deepEqual(parseRange('NC_000006.11:26093140-26093141'), range('NC_000006.11', 'GRCh37', '6', 26093140, 26093141));
      // The last base of chromosome 7 (GRCh38 length 159345973) is [159345972, 159345973).
      assert.deepEqual(parseRange('NC_000007.14:159345972-159345973'), range('NC_000007.14', 'GRCh38', '7', 159345972, 159345973));
      // An end past the chromosome is clipped; rCRS is placed in the build asked for.
      assert.deepEqual(parseRange('NC_012920.1:16000-20000'), range('NC_012920.1', 'GRCh38', 'M', 16000, 16569));
      assert.deepEqual(parseRange('NC_012920.1:0-100', 'GRCh37'), range('NC_012920.1', 'GRCh37', 'M', 0, 100));
      for (const text of ['NC_000007.14:55174721-55174820', 'NC_000019.10:11089300-11133830']) {
        assert.equal(formatRange(parseRange(text)), text);
      }
    });

    it('refuses bad ranges with 400 naming the value', () => {
      for (const text of ['NC_000007.14:100-100', 'NC_000007.14:200-100', 'NC_000007.15:1-2', 'NC_000007.14:55174721',
        'chr7:1-2', 'NC_000007.14:-5-10', 'NC_000007.14:1.5-10', 'NC_000007.14:159345973-159345974',
        'NM_000492.4:1-2', 'NC_000007.14:1-2,NC_000007.14:3-4']) {
        rejects(() => parseRange(text), text);
      }
    });

    it('reads SPDI and HGVS alike, trimmed like stored calls', () => {
      const snv = { deleted: 'G', inserted: 'A' };
      assert.deepEqual(parseVariantItem('NC_000006.12:26092912:G:A'), item('NC_000006.12:26092912:G:A', 'GRCh38', '6', 26092912, 26092913, 'sub', snv));
      assert.deepEqual(parseVariantItem('NC_000006.12:g.26092913G>A'), item('NC_000006.12:g.26092913G>A', 'GRCh38', '6', 26092912, 26092913, 'sub', snv));
      assert.deepEqual(parseVariantItem('NC_000006.11:g.26093141G>A'), item('NC_000006.11:g.26093141G>A', 'GRCh37', '6', 26093140, 26093141, 'sub', snv));
      // ClinVar's canonical SPDI of F508del trims to TCT deleted at [117559590, 117559593), as the
      // VCF record chr7 117559590 ATCT A does (see trimAllele above).
      const text = 'NC_000007.14:117559590:TCTT:T';
      assert.deepEqual(parseVariantItem(text), item(text, 'GRCh38', '7', 117559590, 117559593, 'del', { deleted: 'TCT', inserted: '' }));
    });

    it('keeps what HGVS and length-form SPDI leave unknown', () => {
      // A del without bases cannot be trimmed or shifted without the reference: as written.
      const del = 'NC_000007.14:g.117559592_117559594del';
      assert.deepEqual(parseVariantItem(del), item(del, 'GRCh38', '7', 117559591, 117559594, 'del', { inserted: '' }));
      const byLength = 'NC_000007.14:117559590:4:T';
      assert.deepEqual(parseVariantItem(byLength), item(byLength, 'GRCh38', '7', 117559590, 117559594, 'delins', { inserted: 'T' }));
      // A dup without bases: 3 unknown bases inserted at 4, before bases 5..7 ([4, 7)).
      const dup = 'NC_000001.11:g.5_7dup';
      assert.deepEqual(parseVariantItem(dup), { ...item(dup, 'GRCh38', '1', 4, 4, 'dup', { deleted: '' }), insertedLength: 3 });
    });

    it('normalises a dup with its bases to an insertion, and keeps insertions', () => {
      // CTT -> CTTCTT: the common suffix CTT goes, leaving CTT inserted at 4, before base 5.
      const dup = 'NC_000001.11:g.5_7dupCTT';
      assert.deepEqual(parseVariantItem(dup), item(dup, 'GRCh38', '1', 4, 4, 'ins', { deleted: '', inserted: 'CTT' }));
      const ins = 'NC_000001.11:g.1234_1235insACGT';
      assert.deepEqual(parseVariantItem(ins), item(ins, 'GRCh38', '1', 1234, 1234, 'ins', { deleted: '', inserted: 'ACGT' }));
      // The SPDI of that insertion reads the same.
      const spdi = 'NC_000001.11:1234::ACGT';
      assert.deepEqual(parseVariantItem(spdi), item(spdi, 'GRCh38', '1', 1234, 1234, 'ins', { deleted: '', inserted: 'ACGT' }));
    });

    it('refuses items that are not variants on a known chromosome with 400', () => {
      for (const text of ['NC_000006.12:26092912:G:G', 'NC_000006.12:170805979:G:A', 'NC_000006.13:1:G:A',
        'NM_000410.4:c.845G>A', 'rs1800562', 'NC_000006.12:g.170805980G>A', 'NC_000001.11:g.5_7delAATinsAAT',
        'NC_000006.12:26092912:G:A:T', '']) {
        rejects(() => parseVariantItem(text), text);
      }
    });
  });
});
