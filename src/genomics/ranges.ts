// The genomics operations' (Genomics Reporting IG 3.0.0) coordinate parameters: `ranges`
// (`NC_000007.14:55174721-55174820`, 0-based half-open on a chromosome accession) and the
// `variants` items of find-subject-specific-variants and friends (SPDI or HGVS), each turned
// into the shape the variant store compares with its normalised calls.
import { badRequest } from '../fhir/errors.js';
import { parseGenomicHgvs, type HgvsKind } from './hgvs.js';
import { canonicalAccession, chromosomeOf } from './refseq.js';
import { parseSpdi, trimAllele } from './spdi.js';
import type { GenomicBuild, GenomicRange } from './types.js';

// A VariantQuery is 0-based half-open [start, end) replaced by `inserted`, trimmed with trimAllele
// whenever both sides are known. `deleted` is absent when the input did not give the bases (HGVS
// `del` without them, SPDI with a deletion length). A `dup` without bases is an insertion of
// `insertedLength` unknown bases at start = end, just before the duplicated interval: where a
// left-normalised VCF call of it sits (its `inserted` is then absent).
/** One sought variant (a `variants` item), normalised like stored calls. */
export interface VariantQuery {
  /** The item as the client wrote it, for echoing back in the operation's output. */
  text: string;
  sequence: string;
  build: GenomicBuild;
  chromosome: string;
  start: number;
  end: number;
  deleted?: string;
  inserted?: string;
  /** For a `dup` without bases: how many bases it inserts. */
  insertedLength?: number;
  // From the trimmed bases when both sides are known (a dup with its bases written reads 'ins'),
  // else as written: 'dup' only for a dup without bases.
  /** The change type of the normalised shape. */
  kind: HgvsKind;
}

// accession:start-end, both integers; the accession is checked against the known builds.
const RANGE = /^([A-Za-z]{2}_[0-9]+\.[0-9]+):([0-9]+)-([0-9]+)$/;

// The chromosome an accession names, or 400 naming the value it came from.
function chromosomeFor(accession: string, value: string, build?: GenomicBuild) {
  const sequence = canonicalAccession(accession);
  const chromosome = sequence === undefined ? undefined : chromosomeOf(sequence, build);
  if (sequence === undefined || chromosome === undefined) {
    throw badRequest(`'${value}': '${accession}' is not a GRCh37 or GRCh38 chromosome accession (NC_…)`);
  }
  return { sequence, ...chromosome };
}

// An end past the chromosome is clipped to its length. `build` decides which build NC_012920.1
// is reported under.
/** Parses a `ranges` value, `NC_000019.10:11089300-11133830` (0-based, half-open), or 400. */
export function parseRange(text: string, build?: GenomicBuild): GenomicRange {
  const match = RANGE.exec(text.trim());
  if (!match) {
    throw badRequest(`'${text}' is not a genomic range: expected accession:start-end (0-based, half-open), e.g. NC_000007.14:55174721-55174820`);
  }
  const [, accession, startText, endText] = match as unknown as [string, string, string, string];
  const start = Number(startText);
  const end = Number(endText);
  const { sequence, build: rangeBuild, chromosome, length } = chromosomeFor(accession, text, build);
  if (!(start < end)) throw badRequest(`'${text}': the start must be below the end (0-based, half-open)`);
  if (start >= length) throw badRequest(`'${text}': the start is past the end of ${sequence} (${length} bases)`);
  // Clipping rather than refusing: a range "to the end of the chromosome" is a reasonable ask.
  return { sequence, build: rangeBuild, chromosome, start, end: Math.min(end, length) };
}

/** Writes a range as the operations take it: `NC_000019.10:11089300-11133830`. */
export function formatRange(r: { sequence: string; start: number; end: number }): string {
  return `${r.sequence}:${r.start}-${r.end}`;
}

// SPDI items have three colons; HGVS ones one, followed by a coordinate type (`g.`, `c.`, `p.`).
const HGVS_LIKE = /^[^:]+:[a-z]\./;

// `build` decides which build NC_012920.1 is reported under.
/** Parses a `variants` item, SPDI (`NC_000006.12:26092912:G:A`) or genomic HGVS (`NC_000006.12:g.26092913G>A`), or 400. */
export function parseVariantItem(text: string, build?: GenomicBuild): VariantQuery {
  const value = text.trim();
  if (HGVS_LIKE.test(value)) {
    const hgvs = parseGenomicHgvs(value);
    const where = chromosomeFor(hgvs.sequence, text, build);
    if (hgvs.end > where.length) throw badRequest(`'${text}': the position is past the end of ${where.sequence} (${where.length} bases)`);
    // With both sides known, trimmed like an SPDI: a dup S -> SS becomes S inserted before the
    // duplicated interval (the placement a left-normalised VCF call of it has), and an old-style
    // `delCTTinsCT` loses its shared bases. Otherwise taken as written.
    if (hgvs.deleted !== undefined && hgvs.inserted !== undefined) return trimmedQuery(text, where, hgvs.start, hgvs.deleted, hgvs.inserted);
    if (hgvs.kind === 'dup') {
      return { ...query(text, where, hgvs.start, hgvs.start, '', undefined, 'dup'), insertedLength: hgvs.end - hgvs.start };
    }
    return query(text, where, hgvs.start, hgvs.end, hgvs.deleted, hgvs.inserted, hgvs.kind);
  }
  if (value.split(':').length === 4) {
    const spdi = parseSpdi(value);
    const where = chromosomeFor(spdi.sequence, text, build);
    const end = spdi.position + spdi.deletedLength;
    if (end > where.length) throw badRequest(`'${text}': the position is past the end of ${where.sequence} (${where.length} bases)`);
    if (spdi.deleted === '' && spdi.deletedLength > 0) {
      // Deleted bases given as a length: nothing to trim against, so taken as written.
      return query(text, where, spdi.position, end, undefined, spdi.inserted, spdi.inserted === '' ? 'del' : 'delins');
    }
    return trimmedQuery(text, where, spdi.position, spdi.deleted, spdi.inserted);
  }
  throw badRequest(`'${text}' is neither an SPDI (sequence:position:deleted:inserted) nor a genomic HGVS (NC_…:g.…)`);
}

type Where = { sequence: string; build: GenomicBuild; chromosome: string };

function trimmedQuery(text: string, where: Where, position: number, deleted: string, inserted: string): VariantQuery {
  const trimmed = trimAllele(position, deleted, inserted);
  if (trimmed.deleted === '' && trimmed.inserted === '') {
    throw badRequest(`'${text}': the same bases are deleted and inserted, so it describes no variant`);
  }
  const end = trimmed.position + trimmed.deleted.length;
  return query(text, where, trimmed.position, end, trimmed.deleted, trimmed.inserted, kindOf(trimmed.deleted, trimmed.inserted));
}

function kindOf(deleted: string, inserted: string): HgvsKind {
  if (deleted.length === 1 && inserted.length === 1) return 'sub';
  if (inserted === '') return 'del';
  if (deleted === '') return 'ins';
  return 'delins';
}

function query(
  text: string, where: Where, start: number, end: number, deleted: string | undefined, inserted: string | undefined, kind: HgvsKind,
): VariantQuery {
  return {
    text, sequence: where.sequence, build: where.build, chromosome: where.chromosome, start, end,
    ...(deleted !== undefined ? { deleted } : {}), ...(inserted !== undefined ? { inserted } : {}), kind,
  };
}
