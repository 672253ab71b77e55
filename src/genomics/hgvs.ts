// Genomic HGVS (`NC_000006.12:g.26092913G>A`) for the genomics operations' `variants` parameter
// and for display, per the HGVS nomenclature (https://hgvs-nomenclature.org, formerly
// varnomen.hgvs.org). Only what names a precise change on a chromosome accession is taken:
// substitution, deletion, duplication, insertion and deletion-insertion, at one position or a
// range. Transcript and protein descriptions (`c.`, `n.`, `r.`, `p.`) need a transcript mapping
// Helix does not have, and uncertain positions (`(?_100)`) or intronic offsets do not name one
// allele, so both are refused with 400.
//
// HGVS positions are 1-based and inclusive; Helix's are 0-based and half-open. Base n (1-based)
// is the 0-based interval [n-1, n), so a range n_m is [n-1, m), and the boundary between bases n
// and n+1 is the 0-based interbase coordinate n.
import { badRequest } from '../fhir/errors.js';

/** The HGVS change types Helix reads. */
export type HgvsKind = 'sub' | 'del' | 'dup' | 'ins' | 'delins';

// An HgvsAllele is the reference interval [start, end) (0-based, half-open) replaced by
// `inserted`. `deleted`/`inserted` are absent when the expression does not give the bases: `del`
// and `dup` written without them (the current HGVS recommendation) need the reference to fill in.
// - sub `g.5A>G`: [4, 5), deleted A, inserted G.
// - del `g.5_7del`: [4, 7), inserted ''.
// - ins `g.5_6insAT`: the flanking bases 5 and 6 are [4, 5) and [5, 6); the insertion falls on
//   their boundary, so start = end = 5, deleted ''.
// - dup `g.5_7dup`: the duplicated interval [4, 7); when the bases S are written, deleted = S and
//   inserted = SS (S replaced by two copies: the same allele as S inserted before or after it).
// - delins `g.5_7delinsTT`: [4, 7), inserted TT.
/** A genomic HGVS as a 0-based half-open reference interval, what replaces it, and the change type. */
export interface HgvsAllele {
  sequence: string;
  start: number;
  end: number;
  deleted?: string;
  inserted?: string;
  kind: HgvsKind;
}

// An accession, a coordinate type, and the change. The position and edit grammar is checked
// separately so that each kind of mistake gets its own message.
const EXPRESSION = /^([A-Za-z]{2}_[0-9]+(?:\.[0-9]+)?):([a-z])\.(.+)$/;
// Position or range, then one edit. Bases are the nucleotides A, C, G, T and N (any), accepted in
// either case and upper-cased; the keywords are lower case, as HGVS writes them.
const B = '[ACGTNacgtn]';
const EDIT = new RegExp(
  `^([0-9]+)(?:_([0-9]+))?(?:(${B})>(${B})|(delins)(${B}+)|del(${B}*)ins(${B}+)|(del)(${B}*)|(dup)(${B}*)|(ins)(${B}+))$`,
);
// rCRS, which HGVS describes with `m.` rather than `g.`.
const MITOCHONDRION = 'NC_012920.1';

/** Parses a genomic HGVS on an NC_ accession (`NC_000007.14:g.117559592_117559594del`) into 0-based coordinates. */
export function parseGenomicHgvs(text: string): HgvsAllele {
  const trimmed = text.trim();
  const expression = EXPRESSION.exec(trimmed);
  if (!expression) {
    throw badRequest(`'${text}' is not an HGVS expression: expected accession:g.change, e.g. NC_000006.12:g.26092913G>A`);
  }
  const [, accession, type, change] = expression as unknown as [string, string, string, string];
  const sequence = accession.toUpperCase();
  const genomic = type === 'g' || (type === 'm' && sequence === MITOCHONDRION);
  if (!genomic) {
    throw badRequest(`HGVS '${text}': only genomic (g.) descriptions are supported, not '${type}.'; give the variant on its NC_ chromosome accession`);
  }
  if (!sequence.startsWith('NC_') || !sequence.includes('.')) {
    throw badRequest(`HGVS '${text}': the reference sequence must be a versioned NC_ chromosome accession, not '${accession}'`);
  }
  const match = EDIT.exec(change);
  if (!match) {
    throw badRequest(`HGVS '${text}': '${change}' is not a supported change (substitution, del, dup, ins or delins at exact positions)`);
  }
  const edit = match.map((group) => group?.toUpperCase());
  const first = Number(edit[1]);
  const last = edit[2] === undefined ? first : Number(edit[2]);
  if (first < 1 || !Number.isSafeInteger(last)) throw badRequest(`HGVS '${text}': positions are 1-based`);
  if (edit[2] !== undefined && last <= first) {
    throw badRequest(`HGVS '${text}': a range must run from a lower to a higher position`);
  }
  const start = first - 1;
  const end = last;
  // Written deleted (or duplicated) bases must cover the range exactly.
  const checkDeleted = (bases: string | undefined): string | undefined => {
    if (!bases) return undefined;
    if (bases.length !== end - start) {
      throw badRequest(`HGVS '${text}': ${bases.length} bases given for a range of ${end - start}`);
    }
    return bases;
  };

  if (edit[3] !== undefined) {
    if (edit[2] !== undefined) throw badRequest(`HGVS '${text}': a substitution is one base; use delins for more`);
    if (edit[3] === edit[4]) throw badRequest(`HGVS '${text}': the substitution changes nothing`);
    return { sequence, start, end, deleted: edit[3], inserted: edit[4]!, kind: 'sub' };
  }
  if (edit[5] !== undefined) return { sequence, start, end, inserted: edit[6]!, kind: 'delins' };
  if (edit[8] !== undefined) {
    // The older `delCTTinsTT` spelling of delins.
    const deleted = checkDeleted(edit[7]);
    return { sequence, start, end, ...(deleted ? { deleted } : {}), inserted: edit[8], kind: 'delins' };
  }
  if (edit[9] !== undefined) {
    const deleted = checkDeleted(edit[10]);
    return { sequence, start, end, ...(deleted ? { deleted } : {}), inserted: '', kind: 'del' };
  }
  if (edit[11] !== undefined) {
    const copied = checkDeleted(edit[12]);
    return { sequence, start, end, ...(copied ? { deleted: copied, inserted: copied + copied } : {}), kind: 'dup' };
  }
  // Insertion: HGVS names the two flanking positions, which must be neighbours.
  if (edit[2] === undefined || last !== first + 1) {
    throw badRequest(`HGVS '${text}': an insertion is written between two neighbouring positions, e.g. g.5_6insAT`);
  }
  return { sequence, start: first, end: first, deleted: '', inserted: edit[14]!, kind: 'ins' };
}

// No reference is consulted, so an insertion is not recognised as a dup, nor is anything shifted
// 3' as HGVS prefers: the output is a correct description, not always the preferred one.
/** Writes a normalised call (0-based half-open, trimmed ref/alt) as genomic HGVS: sub, del, ins or delins. */
export function formatGenomicHgvs(call: { sequence: string; start: number; end: number; ref: string; alt: string }): string {
  const { sequence, start, end } = call;
  const ref = call.ref.toUpperCase();
  const alt = call.alt.toUpperCase();
  if (end - start !== ref.length || (ref === '' && alt === '')) {
    throw badRequest(`Cannot write ${sequence}:${start}-${end} ${ref || '-'}>${alt || '-'} as HGVS: the interval and bases disagree`);
  }
  const prefix = `${sequence}:${sequence === MITOCHONDRION ? 'm' : 'g'}.`;
  // 1-based inclusive positions of the reference bases [start, end).
  const range = end - start === 1 ? `${start + 1}` : `${start + 1}_${end}`;
  if (ref.length === 1 && alt.length === 1) return `${prefix}${start + 1}${ref}>${alt}`;
  if (alt === '') return `${prefix}${range}del`;
  if (ref === '') {
    // Interbase `start` lies between 1-based bases `start` and `start + 1`.
    if (start === 0) throw badRequest(`Cannot write an insertion before the first base of ${sequence} as HGVS`);
    return `${prefix}${start}_${start + 1}ins${alt}`;
  }
  return `${prefix}${range}delins${alt}`;
}
