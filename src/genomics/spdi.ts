// SPDI (Sequence:Position:Deletion:Insertion, NCBI; Holmes et al., Bioinformatics 2020,
// https://www.ncbi.nlm.nih.gov/variation/notation/): the allele form Helix stores and compares.
// Position is 0-based (interbase): the deleted interval is [position, position + |deleted|), and
// a pure insertion sits at the boundary `position`, before the 0-based base of that number.
import { badRequest } from '../fhir/errors.js';
import type { SpdiAllele } from './types.js';

// SPDI allows the deleted sequence to be written as its length (`NC_000007.14:117559590:4:T`):
// then `deleted` is '' and `deletedLength` carries the length, so the bases are known to be
// unknown rather than absent. Otherwise deletedLength = deleted.length. The affected reference
// interval is always [position, position + deletedLength).
/** An SPDI as parsed from text, with the length of its deletion. */
export interface ParsedSpdi extends SpdiAllele {
  deletedLength: number;
}

// Upper-case IUPAC nucleic-acid codes, which SPDI uses for nucleotide alleles.
const BASES = /^[ACGTURYSWKMBDHVN]*$/;

/** Trims the bases REF and ALT share (common suffix first, then prefix); position is REF's first base, 0-based. */
export function trimAllele(position: number, ref: string, alt: string): { position: number; deleted: string; inserted: string } {
  let deleted = ref.toUpperCase();
  let inserted = alt.toUpperCase();
  // Suffix first: of the equivalent placements the VCF record itself can show, this keeps the
  // leftmost. REF `AA` ALT `A` at 100 then deletes the A at 100 (prefix-first would say 101), as a
  // left-normalised caller means, and a ClinVar SPDI `…:TCTT:T` meets the VCF `ATCT`→`A` it
  // describes at the same position (the reference itself is never consulted here).
  let suffix = 0;
  while (
    suffix < deleted.length && suffix < inserted.length &&
    deleted[deleted.length - 1 - suffix] === inserted[inserted.length - 1 - suffix]
  ) suffix++;
  deleted = deleted.slice(0, deleted.length - suffix);
  inserted = inserted.slice(0, inserted.length - suffix);
  let prefix = 0;
  while (prefix < deleted.length && prefix < inserted.length && deleted[prefix] === inserted[prefix]) prefix++;
  return { position: position + prefix, deleted: deleted.slice(prefix), inserted: inserted.slice(prefix) };
}

/** Writes an SPDI, `NC_000019.10:11100235:G:A`; a ParsedSpdi whose bases are unknown keeps its length form. */
export function formatSpdi(a: SpdiAllele): string {
  const length = (a as Partial<ParsedSpdi>).deletedLength;
  const deleted = a.deleted === '' && length !== undefined && length > 0 ? String(length) : a.deleted;
  return `${a.sequence}:${a.position}:${deleted}:${a.inserted}`;
}

/** Parses an SPDI (`NC_000019.10:11100235:G:A`, or with the deletion as a length); bases are upper-cased. */
export function parseSpdi(text: string): ParsedSpdi {
  const trimmed = text.trim();
  const parts = trimmed.split(':');
  if (parts.length !== 4) {
    throw badRequest(`'${text}' is not an SPDI: expected sequence:position:deleted:inserted`);
  }
  const [sequence, positionText, deletedText, insertedText] = parts as [string, string, string, string];
  // An accession with its version (NC_000019.10): SPDI names an exact sequence.
  if (!/^[A-Za-z]{1,2}_?[0-9]+\.[0-9]+$/.test(sequence)) {
    throw badRequest(`SPDI '${text}': '${sequence}' is not a versioned sequence accession such as NC_000019.10`);
  }
  if (!/^[0-9]+$/.test(positionText) || !Number.isSafeInteger(Number(positionText))) {
    throw badRequest(`SPDI '${text}': position '${positionText}' is not a non-negative integer (0-based)`);
  }
  const inserted = insertedText.toUpperCase();
  if (!BASES.test(inserted)) throw badRequest(`SPDI '${text}': inserted sequence '${insertedText}' is not nucleotides`);
  let deleted = deletedText.toUpperCase();
  let deletedLength = deleted.length;
  if (/^[0-9]+$/.test(deletedText)) {
    // The length form: the bases are not given (see ParsedSpdi).
    deletedLength = Number(deletedText);
    if (!Number.isSafeInteger(deletedLength)) throw badRequest(`SPDI '${text}': deletion length '${deletedText}' is too large`);
    deleted = '';
  } else if (!BASES.test(deleted)) {
    throw badRequest(`SPDI '${text}': deleted sequence '${deletedText}' is neither nucleotides nor a length`);
  }
  return { sequence, position: Number(positionText), deleted, inserted, deletedLength };
}
