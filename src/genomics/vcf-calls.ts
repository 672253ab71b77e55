// From VCF text to VariantCalls: the header (samples, build, annotation field orders) and, for one
// data line and one sample, that sample's non-reference calls, normalised to 0-based half-open
// coordinates on the RefSeq accession (see types.ts). @gmod/vcf splits the columns and types INFO;
// the checks a clinical import needs on top of it (POS, REF, ALT, GT indices) are made here.
import VCF, { parseBreakend, type InfoValue, type Variant } from '@gmod/vcf';
import { accessionFor, chromosomeOf, parseBuild } from './refseq.js';
import { formatSpdi, trimAllele } from './spdi.js';
import type { GenomicBuild, MolecularConsequence, StructuralType, VariantCall } from './types.js';
import { VcfError } from './vcf-source.js';

/** What callsOf needs from the header, and what the importer chooses a sample and build by. */
export interface VcfHeader {
  /** Sample names in column order; callsOf's sampleIndex indexes this. */
  samples: string[];
  /** The build the header names, undefined when it names none or its lines disagree. */
  build: GenomicBuild | undefined;
  /** VEP CSQ subfields in order (from the CSQ Description's `Format:`), undefined without a CSQ header line. */
  csqFields: string[] | undefined;
  /** SnpEff ANN subfields in order: fixed by the ANN spec, so never read from the header. */
  annFields: readonly string[];
  /** The @gmod/vcf parser built from the header (types INFO values by their declarations). */
  parser: VCF;
  /** Whether any INFO line declares CSQ or ANN: without one, no line can carry consequences. */
  annotated: boolean;
  /** CHROM → accession and chromosome name, per build, worked out once per contig. */
  contigs: Map<string, { sequence: string; chromosome: string } | null>;
  /** The last contig looked up: a sorted file asks for the same one line after line (twice a line when sites are kept). */
  lastContig?: { chrom: string; build: GenomicBuild; contig: { sequence: string; chromosome: string } | null };
  /** FORMAT column → where GT, DP, AD, AF, PS and CN are in it (-1: absent), worked out once per FORMAT. */
  formats: Map<string, number[]>;
}

/** The SnpEff ANN subfields (http://pcingola.github.io/SnpEff/adds/VCFannotationformat_v1.0.pdf). */
export const ANN_FIELDS: readonly string[] = [
  'Allele', 'Annotation', 'Annotation_Impact', 'Gene_Name', 'Gene_ID', 'Feature_Type', 'Feature_ID',
  'Transcript_BioType', 'Rank', 'HGVS.c', 'HGVS.p', 'cDNA.pos / cDNA.length', 'CDS.pos / CDS.length',
  'AA.pos / AA.length', 'Distance', 'ERRORS / WARNINGS / INFO',
];

/** Reads the header lines (`##…` and `#CHROM…`, in file order); throws VcfError when there is no usable #CHROM line. */
export function readVcfHeader(lines: string[]): VcfHeader {
  const chrom = lines.findIndex((line) => line.startsWith('#CHROM'));
  // The data line that made the caller stop collecting comes right after the header lines.
  if (chrom < 0) throw new VcfError('the VCF header has no #CHROM line before the first data line', lines.length + 1);
  // Only `##` lines and the #CHROM line reach the parser: it takes the last single-`#` line for the
  // column line, so a stray `#comment` would otherwise replace it.
  const kept = lines.slice(0, chrom).filter((line) => line.startsWith('##'));
  let parser: VCF;
  try {
    parser = new VCF({ header: [...kept, lines[chrom] as string].join('\n') });
  } catch (err) {
    throw new VcfError(`the VCF header is malformed: ${(err as Error).message}`);
  }
  const csq = parser.getMetadata('INFO', 'CSQ', 'Description');
  const format = typeof csq === 'string' ? /Format:\s*(.+)$/i.exec(csq)?.[1] : undefined;
  const annotated = csq !== undefined || parser.getMetadata('INFO', 'ANN') !== undefined;
  return { samples: parser.samples, build: buildOf(parser), csqFields: format?.split('|').map((f) => f.trim()), annFields: ANN_FIELDS, parser, annotated, contigs: new Map(), formats: new Map() };
}

// Every build the header names: ##reference and ##assembly values, contig assembly= attributes,
// and contig lengths that match exactly one build's chromosome (GATK writes `##contig=<ID=chr1,
// length=248956422>` and a reference path parseBuild may not recognise). One build or none.
function buildOf(parser: VCF): GenomicBuild | undefined {
  const named = new Set<GenomicBuild>();
  const add = (text: unknown): void => {
    const build = typeof text === 'string' ? parseBuild(text) : undefined;
    if (build) named.add(build);
  };
  add(parser.getMetadata('reference'));
  add(parser.getMetadata('assembly'));
  const contigs = parser.getMetadata('contig');
  for (const [id, attrs] of Object.entries(typeof contigs === 'object' && contigs ? contigs : {})) {
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) continue;
    add((attrs as Record<string, unknown>).assembly);
    const length = Number((attrs as Record<string, unknown>).length);
    const matching = (['GRCh37', 'GRCh38'] as const).filter((b) => {
      const accession = accessionFor(b, id);
      return accession !== undefined && chromosomeOf(accession, b)?.length === length;
    });
    if (matching.length === 1) named.add(matching[0] as GenomicBuild);
  }
  return named.size === 1 ? [...named][0] : undefined;
}

/**
 * The non-reference calls of sample `sampleIndex` on one data line: one per distinct ALT index in
 * its GT (`1/2` gives two heterozygous calls, `2/2` one homozygous call, a haploid `1` a
 * hemizygous one; `1/.` is reported heterozygous, since the missing allele may be anything).
 * Throws VcfError, naming the line, for a malformed line or a called variant on a chromosome
 * the build does not have.
 */
export function callsOf(header: VcfHeader, line: string, lineNumber: number, sampleIndex: number, build: GenomicBuild): VariantCall[] {
  const record = readRecord(header, line, lineNumber, sampleIndex);
  const { variant, pos, ref, alts, kinds, sample, alleles } = record;
  const gt = record.gt;
  if (gt === undefined) return [];
  // `*` (allele missing under an upstream deletion) and `<*>`/`<NON_REF>` (gVCF: any other allele) name no variant.
  const called = record.altIndices.filter((a) => kinds[a - 1] !== 'placeholder');
  if (called.length === 0) return [];

  const contig = contigOf(header, variant.CHROM ?? '', build);
  if (!contig) throw new VcfError(`chromosome ${show(variant.CHROM ?? '')} is not a ${build} chromosome Helix knows`, lineNumber);
  const { sequence, chromosome } = contig;
  const info = variant.INFO;
  const svtype = info.SVTYPE === undefined ? undefined : structuralTypeOf(Array.isArray(info.SVTYPE) ? info.SVTYPE[0]?.toString() : undefined);
  const depth = integer(sample.DP) ?? (header.samples.length === 1 ? numberAt(info.DP, 0) : undefined);
  const ad = sample.AD === undefined ? undefined : sample.AD.split(',');
  let adSum = 0;
  if (ad) for (const n of ad) adSum += integer(n) ?? 0;
  const afs = sample.AF === undefined ? undefined : sample.AF.split(',');
  // @gmod/vcf gives `.` as no IDs; an empty ID column is none too.
  const ids = variant.ID === undefined || (variant.ID.length === 1 && variant.ID[0] === '') ? [] : variant.ID;
  const filter = variant.FILTER === undefined ? '' : typeof variant.FILTER === 'string' ? variant.FILTER : variant.FILTER.join(';');
  const phased = gt.includes('|');
  const zygosityOf = (a: number): VariantCall['zygosity'] =>
    alleles.length === 1 ? 'hemizygous' : alleles.every((x) => x === a) ? 'homozygous' : 'heterozygous';
  const vepAlleles = header.csqFields ? vepAllelesOf(ref, alts) : alts;

  const calls: VariantCall[] = [];
  for (const a of called) {
    const alt = alts[a - 1] as string;
    const kind = kinds[a - 1];
    let call: VariantCall;
    let structuralType = svtype;
    const consequences = header.annotated
      ? consequencesOf(header, info, a, alts, [kind === 'bases' ? vepAlleles[a - 1] as string : VEP_SV_NAMES[svtypeOfAlt(kind, alt, svtype) as StructuralType] ?? alt])
      : [];
    if (kind === 'bases') {
      const t = trimAllele(pos - 1, ref, alt);
      if (t.deleted === '' && t.inserted === '') continue; // ALT equal to REF: nothing changed
      const spdi = formatSpdi({ sequence, position: t.position, deleted: t.deleted, inserted: t.inserted });
      call = {
        sequence, chromosome, start: t.position, end: t.position + t.deleted.length, ref: t.deleted, alt: t.inserted, spdi,
        vcf: { pos, ref, alt }, ids, genotype: gt, phased, zygosity: zygosityOf(a), filter, consequences,
      };
    } else {
      structuralType = svtypeOfAlt(kind, alt, svtype);
      if (!structuralType) throw new VcfError(`ALT ${show(alt)} is a symbolic allele of unknown kind (and INFO SVTYPE does not say)`, lineNumber);
      const { start, end } = structuralInterval(structuralType, alt, pos, ref, info, a, lineNumber);
      call = {
        sequence, chromosome, start, end, ref: '', alt: '', spdi: `${sequence}:${start}:${end}:<${structuralType}>`,
        vcf: { pos, ref, alt }, ids, genotype: gt, phased, zygosity: zygosityOf(a), filter, consequences,
      };
    }
    // Optional fields are set only when defined (not set to undefined): calls are compared and stored as JSON.
    if (structuralType !== undefined) call.structuralType = structuralType;
    const copyNumber = structuralType ? decimal(sample.CN) ?? numberAt(info.CN, alts.length > 1 ? a - 1 : 0) : undefined;
    if (copyNumber !== undefined) call.copyNumber = copyNumber;
    // A phase set means nothing on an unphased genotype (VCF 4.3 §1.6.2, PS).
    const phaseSet = phased ? integer(sample.PS) : undefined;
    if (phaseSet !== undefined) call.phaseSet = phaseSet;
    if (depth !== undefined) call.depth = depth;
    const adAlt = ad ? integer(ad[a]) : undefined;
    // AD(alt)/DP; AD(alt)/sum(AD) when FORMAT DP is missing or smaller than AD(alt) (a filtered DP).
    const denominator = sample.DP !== undefined && depth !== undefined && adAlt !== undefined && adAlt <= depth ? depth : adSum;
    const alleleFrequency = decimal(afs?.[a - 1]) ?? (adAlt !== undefined && denominator > 0 ? adAlt / denominator : undefined);
    if (alleleFrequency !== undefined) call.alleleFrequency = alleleFrequency;
    const gene = consequences.find((c) => c.gene)?.gene;
    if (gene !== undefined) call.gene = gene;
    calls.push(call);
  }
  return calls;
}

/** A data line, checked, with the wanted sample's fields: what callsOf and siteGenotypeOf start from. */
interface VcfRecord {
  variant: Variant;
  pos: number;
  ref: string;
  alts: string[];
  kinds: AltKind[];
  sample: Partial<Record<SampleKey, string>>;
  /** The sample's GT, undefined when absent or `.`. */
  gt: string | undefined;
  /** The GT's allele indices (undefined for `.`). */
  alleles: (number | undefined)[];
  /** The distinct ALT indices the GT names, ascending. */
  altIndices: number[];
}

function readRecord(header: VcfHeader, line: string, lineNumber: number, sampleIndex: number): VcfRecord {
  const { samples } = header;
  if (!Number.isInteger(sampleIndex) || sampleIndex < 0 || sampleIndex >= samples.length) {
    throw new VcfError(`sample index ${sampleIndex} is beyond the ${samples.length} sample(s) of the header`, lineNumber);
  }
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  // Count the columns, noting where the wanted sample's begins and ends.
  let columns = 1;
  let sampleStart = -1;
  let sampleEnd = text.length;
  for (let i = text.indexOf('\t'); i !== -1; i = text.indexOf('\t', i + 1)) {
    columns++;
    if (columns === 10 + sampleIndex) sampleStart = i + 1;
    else if (columns === 11 + sampleIndex) sampleEnd = i;
  }
  if (columns !== 9 + samples.length) throw new VcfError(`expected ${9 + samples.length} tab-separated columns, found ${columns}`, lineNumber);
  const variant = parseLine(header.parser, text, lineNumber);
  // @gmod/vcf has split the fixed columns; POS is checked as written, before it became a number.
  const posEnd = text.indexOf('\t', text.indexOf('\t') + 1);
  const posText = text.slice(text.indexOf('\t') + 1, posEnd);
  if (!/^[1-9][0-9]{0,11}$/.test(posText)) throw new VcfError(`POS ${show(posText)} is not a positive integer`, lineNumber);
  const ref = variant.REF ?? '';
  if (!/^[ACGTN]+$/i.test(ref)) throw new VcfError(`REF ${show(ref)} is not a sequence of A, C, G, T and N`, lineNumber);
  const alts = variant.ALT ?? [];
  const kinds: AltKind[] = [];
  for (const alt of alts) {
    const kind = altKind(alt);
    if (!kind) throw new VcfError(`ALT ${show(alt)} is neither bases, a symbolic allele nor a breakend`, lineNumber);
    kinds.push(kind);
  }
  const sample = sampleFields(header, variant.FORMAT, text, sampleStart, sampleEnd);
  const gt = sample.GT;
  const record: VcfRecord = { variant, pos: Number(posText), ref, alts, kinds, sample, gt, alleles: [], altIndices: [] };
  if (gt === undefined) return record;
  if (!/^[|/]?(?:\.|[0-9]+)(?:[|/](?:\.|[0-9]+))*$/.test(gt)) throw new VcfError(`GT ${show(gt)} is not a genotype`, lineNumber);
  record.alleles = genotypeAlleles(gt);
  const altIndices = record.altIndices;
  for (const a of record.alleles) if (a !== undefined && a > 0 && !altIndices.includes(a)) altIndices.push(a);
  if (altIndices.length > 1) altIndices.sort((a, b) => a - b);
  const beyond = altIndices.find((a) => a > alts.length);
  if (beyond !== undefined) throw new VcfError(`GT ${show(gt)} refers to ALT ${beyond} but the record has ${alts.length} ALT allele(s)`, lineNumber);
  return record;
}

/** Where a data line is: its chromosome's accession on `build` and its 1-based POS (undefined for a chromosome the build lacks). Cheap: no parsing beyond the two columns. */
export function siteOf(header: VcfHeader, line: string, build: GenomicBuild): { sequence: string; pos: number } | undefined {
  const chromEnd = line.indexOf('\t');
  const posEnd = line.indexOf('\t', chromEnd + 1);
  if (chromEnd < 0 || posEnd < 0) return undefined;
  const contig = contigOf(header, line.slice(0, chromEnd), build);
  return contig ? { sequence: contig.sequence, pos: Number(line.slice(chromEnd + 1, posEnd)) } : undefined;
}

/** The sample's genotype at one site as written, reference calls and no-calls included (star-allele calling needs both). */
export interface SiteGenotype {
  sequence: string;
  /** 1-based VCF POS, with REF and ALT untrimmed: allele definitions are written in VCF coordinates. */
  pos: number;
  ref: string;
  alts: string[];
  /** GT as written; `.` when the sample has none. */
  genotype: string;
  /** FORMAT PS of a phased genotype. */
  phaseSet?: number;
}

/** The genotype of sample `sampleIndex` on one data line; throws VcfError like callsOf for a malformed line. */
export function siteGenotypeOf(header: VcfHeader, line: string, lineNumber: number, sampleIndex: number, build: GenomicBuild): SiteGenotype {
  const record = readRecord(header, line, lineNumber, sampleIndex);
  const chrom = record.variant.CHROM ?? '';
  const contig = contigOf(header, chrom, build);
  if (!contig) throw new VcfError(`chromosome ${show(chrom)} is not a ${build} chromosome Helix knows`, lineNumber);
  const site: SiteGenotype = { sequence: contig.sequence, pos: record.pos, ref: record.ref, alts: record.alts, genotype: record.gt ?? '.' };
  const phaseSet = record.gt?.includes('|') ? integer(record.sample.PS) : undefined;
  if (phaseSet !== undefined) site.phaseSet = phaseSet;
  return site;
}

/** The structural kind of a non-bases ALT: a breakend's, else the symbolic ID's, else INFO SVTYPE's. */
function svtypeOfAlt(kind: AltKind | undefined, alt: string, svtype: StructuralType | undefined): StructuralType | undefined {
  return kind === 'breakend' ? 'BND' : structuralTypeOf(alt.slice(1, -1)) ?? svtype;
}

/**
 * The allele indices of a GT (undefined for `.`), in order. VCF 4.4 allows a leading phase marker
 * (`|0/1`); it only says how the first allele is phased.
 */
export function genotypeAlleles(gt: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  let from = gt.charCodeAt(0) === 124 || gt.charCodeAt(0) === 47 ? 1 : 0;
  for (let i = from; i <= gt.length; i++) {
    const c = i === gt.length ? 47 : gt.charCodeAt(i);
    if (c !== 124 && c !== 47) continue; // neither | nor /
    const allele = gt.slice(from, i);
    out.push(allele === '.' ? undefined : Number(allele));
    from = i + 1;
  }
  return out;
}

/** A CHROM's accession and chromosome name on `build` (null when the build has no such chromosome), cached on the header. */
function contigOf(header: VcfHeader, chrom: string, build: GenomicBuild): { sequence: string; chromosome: string } | null {
  const last = header.lastContig;
  if (last && last.chrom === chrom && last.build === build) return last.contig;
  const key = `${build}\t${chrom}`;
  let contig = header.contigs.get(key);
  if (contig === undefined) {
    const sequence = accessionFor(build, chrom);
    contig = sequence ? { sequence, chromosome: (chromosomeOf(sequence, build) as { chromosome: string }).chromosome } : null;
    header.contigs.set(key, contig);
  }
  header.lastContig = { chrom, build, contig };
  return contig;
}

type AltKind = 'bases' | 'symbolic' | 'breakend' | 'placeholder';

function altKind(alt: string): AltKind | undefined {
  if (/^[ACGTN]+$/i.test(alt)) return 'bases';
  if (alt === '*' || alt === '<*>' || alt === '<NON_REF>') return 'placeholder';
  if (/^<[^<>,]+>$/.test(alt)) return 'symbolic';
  const breakend = parseBreakend(alt);
  return breakend && /^[ACGTN]+$/i.test(breakend.Replacement) ? 'breakend' : undefined;
}

// `DEL`, `DEL:ME:ALU`, `DUP:TANDEM`, `CN0`… (an ALT's ID or an SVTYPE value) -> the StructuralType.
function structuralTypeOf(id: string | undefined): StructuralType | undefined {
  const base = id?.split(':')[0]?.toUpperCase();
  if (base === 'DEL' || base === 'DUP' || base === 'INS' || base === 'INV' || base === 'CNV' || base === 'BND') return base;
  if (base !== undefined && /^CN[0-9]+$/.test(base)) return 'CNV';
  return base === 'TRA' ? 'BND' : undefined;
}

/**
 * The 0-based half-open interval of a symbolic allele. VCF 4.3 §1.6.1 (REF): a symbolic record's
 * REF is a padding base and POS is the base *before* the event, so the event's first base is
 * 1-based POS+1, i.e. 0-based POS; INFO END is the 1-based inclusive last base, i.e. the 0-based
 * exclusive end (spec example `2 321682 T <DEL> END=321887;SVLEN=-205` deletes 321683–321887:
 * [321682, 321887)). Without END, the end is POS+|SVLEN|, else END's default POS+len(REF)-1.
 * An insertion and a breakend are points: after the padding base for `<INS>`; for a breakend,
 * where its join is (after POS for `t[p[`/`t]p]`/`t.`, before it for `[p[t`/`]p]t`/`.t`).
 */
function structuralInterval(
  type: StructuralType, alt: string, pos: number, ref: string, info: Record<string, InfoValue>, a: number, lineNumber: number,
): { start: number; end: number } {
  if (type === 'BND' && !alt.startsWith('<')) {
    const at = parseBreakend(alt)?.Join === 'left' ? pos - 1 : pos;
    return { start: at, end: at };
  }
  if (type === 'INS') return { start: pos, end: pos };
  const endText = info.END;
  if (endText !== undefined) {
    const end = numberAt(endText, 0);
    if (end === undefined || !Number.isInteger(end)) throw new VcfError('INFO END is not an integer', lineNumber);
    if (end < pos) throw new VcfError(`INFO END ${end} is before POS ${pos}`, lineNumber);
    return { start: pos, end };
  }
  const svlen = numberAt(info.SVLEN, a - 1) ?? numberAt(info.SVLEN, 0);
  return { start: pos, end: svlen !== undefined && Number.isInteger(svlen) ? pos + Math.abs(svlen) : pos + ref.length - 1 };
}

/**
 * The Allele VEP writes in CSQ for each ALT (its VCF parser): for an indel record it drops the
 * first base when every allele (REF and the ALTs but `*`) starts with it, `-` standing for nothing
 * left; SNVs, MNVs and records whose alleles start differently keep their ALT.
 */
function vepAllelesOf(ref: string, alts: string[]): string[] {
  const indel = alts.some((alt) => alt.length !== ref.length);
  const firsts = new Set([ref, ...alts.filter((alt) => alt !== '*')].map((allele) => allele[0]));
  if (!indel || firsts.size !== 1) return alts;
  return alts.map((alt) => (alt === '*' ? alt : alt.slice(1) || '-'));
}

// VEP names a structural ALT by its SO class in CSQ (`deletion`, not `<DEL>`).
const VEP_SV_NAMES: Partial<Record<StructuralType, string>> = { DEL: 'deletion', DUP: 'duplication', INS: 'insertion', INV: 'inversion', CNV: 'copy_number_variation' };

// Where each MolecularConsequence field is in a CSQ or ANN entry, by subfield name.
interface Columns {
  allele: string; alleleNum?: string; terms: string; gene: string; hgncId?: string;
  featureType: string; transcript: string; hgvsc: string; hgvsp: string; impact: string;
}
const CSQ_COLUMNS: Columns = {
  allele: 'Allele', alleleNum: 'ALLELE_NUM', terms: 'Consequence', gene: 'SYMBOL', hgncId: 'HGNC_ID',
  featureType: 'Feature_type', transcript: 'Feature', hgvsc: 'HGVSc', hgvsp: 'HGVSp', impact: 'IMPACT',
};
const ANN_COLUMNS: Columns = {
  allele: 'Allele', terms: 'Annotation', gene: 'Gene_Name', featureType: 'Feature_Type',
  transcript: 'Feature_ID', hgvsc: 'HGVS.c', hgvsp: 'HGVS.p', impact: 'Annotation_Impact',
};

/**
 * The CSQ then ANN consequences of ALT number `a`. CSQ entries match by ALLELE_NUM when VEP wrote
 * it, else by VEP's Allele spelling of the ALT (`vepSpellings`); on a single-ALT record every CSQ
 * entry is that ALT's, whichever spelling the VEP version chose. ANN entries match by Allele equal
 * to the ALT as written (SnpEff's cancer-mode `ALT-REF` entries are thus left out).
 */
function consequencesOf(header: VcfHeader, info: Record<string, InfoValue>, a: number, alts: string[], vepSpellings: string[]): MolecularConsequence[] {
  const alt = alts[a - 1] as string;
  return [
    ...entriesOf(info.CSQ, header.csqFields, CSQ_COLUMNS, (allele, num) =>
      num !== undefined ? Number(num) === a : alts.length === 1 || (allele !== undefined && vepSpellings.includes(allele))),
    ...entriesOf(info.ANN, header.annFields, ANN_COLUMNS, (allele) => allele === alt),
  ];
}

function entriesOf(
  value: InfoValue | undefined, fields: readonly string[] | undefined, columns: Columns,
  matches: (allele: string | undefined, alleleNum: string | undefined) => boolean,
): MolecularConsequence[] {
  if (!fields || !Array.isArray(value)) return [];
  const index = (name: string | undefined): number => (name === undefined ? -1 : fields.indexOf(name));
  const out: MolecularConsequence[] = [];
  for (const entry of value) {
    if (typeof entry !== 'string') continue;
    const values = entry.split('|');
    const get = (name: string | undefined): string | undefined => values[index(name)]?.trim() || undefined;
    const terms = (get(columns.terms) ?? '').split('&').filter(Boolean);
    if (terms.length === 0 || !matches(get(columns.allele), get(columns.alleleNum))) continue;
    const featureType = get(columns.featureType);
    const hgncId = get(columns.hgncId);
    out.push(assignDefined<MolecularConsequence>({ terms }, {
      gene: get(columns.gene),
      // Older VEP releases write the bare HGNC number.
      hgncId: hgncId && /^[0-9]+$/.test(hgncId) ? `HGNC:${hgncId}` : hgncId,
      // A Feature may be a regulatory region or motif; only a transcript is a transcript.
      transcript: featureType === undefined || featureType.toLowerCase() === 'transcript' ? get(columns.transcript) : undefined,
      hgvsc: get(columns.hgvsc),
      hgvsp: get(columns.hgvsp),
      impact: get(columns.impact),
    }));
  }
  return out;
}

function parseLine(parser: VCF, text: string, lineNumber: number): Variant {
  try {
    return parser.parseLine(text);
  } catch (err) {
    throw new VcfError((err as Error).message, lineNumber);
  }
}

type SampleKey = 'GT' | 'DP' | 'AD' | 'AF' | 'PS' | 'CN';
const SAMPLE_KEYS: readonly SampleKey[] = ['GT', 'DP', 'AD', 'AF', 'PS', 'CN'];

/**
 * The sample's GT, DP, AD, AF, PS and CN as written (undefined when absent or `.`), read from its
 * column `[start, end)` of the line by where the FORMAT column puts them (worked out once per
 * distinct FORMAT: a file has a handful).
 */
function sampleFields(header: VcfHeader, format: string | undefined, text: string, start: number, end: number): Partial<Record<SampleKey, string>> {
  let at = header.formats.get(format ?? '');
  if (!at) {
    const keys = (format ?? '').split(':');
    at = SAMPLE_KEYS.map((key) => keys.indexOf(key));
    header.formats.set(format ?? '', at);
  }
  const values = text.slice(start, end).split(':');
  const out: Partial<Record<SampleKey, string>> = {};
  for (let k = 0; k < SAMPLE_KEYS.length; k++) {
    const i = at[k] as number;
    const value = i < 0 ? undefined : values[i];
    if (value !== undefined && value !== '' && value !== '.') out[SAMPLE_KEYS[k] as SampleKey] = value;
  }
  return out;
}

function numberAt(value: InfoValue | undefined, index: number): number | undefined {
  return Array.isArray(value) ? decimal(value[index]?.toString()) : undefined;
}

function decimal(text: string | undefined): number | undefined {
  const n = text === undefined || text === '' || text === '.' ? NaN : Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function integer(text: string | undefined): number | undefined {
  const n = decimal(text);
  return Number.isInteger(n) ? n : undefined;
}

// Quoted and cut short, so a message never carries a whole sequence or a whole line.
function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

// Optional fields are set only when defined rather than set to undefined (or deleted, which
// would turn the object into a slow dictionary): calls are compared and stored as JSON.
function assignDefined<T extends object>(target: T, values: Partial<T>): T {
  for (const key of Object.keys(values) as (keyof T)[]) if (values[key] !== undefined) target[key] = values[key] as T[keyof T];
  return target;
}
