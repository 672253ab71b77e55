// The ClinVar knowledge base (migration 013): ClinVar's VCF (NCBI,
// https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/, plain or gzip) streamed into
// clinvar_variants, and read back by position or by condition for the dx-implication operations.
// ClinVar writes one allele per line with its Variation ID in the ID column, bare chromosome names
// (1…22, X, Y, MT) and `##reference=GRCh38`. Its INFO values hold commas
// (`CLNREVSTAT=criteria_provided,_single_submitter`), so INFO is split on `;` only and never
// typed by the header; `|` separates conditions in CLNDN and CLNDISDB, in the same order.
import type { Database, Queryable } from '../db/database.js';
import { accessionFor, parseBuild } from './refseq.js';
import { trimAllele } from './spdi.js';
import type { GenomicBuild, GenomicStudy } from './types.js';
import { VcfError, vcfLines } from './vcf-source.js';

/** One condition of a ClinVar allele: its name and ClinVar's ids for it (`MedGen:C0010674`, `OMIM:219700`…). */
export interface ClinvarCondition {
  name: string;
  ids: string[];
}

/** One ClinVar allele, in the variant store's coordinates (0-based, half-open, trimmed alleles). */
export interface ClinvarEntry {
  build: GenomicBuild;
  sequence: string;
  start: number;
  end: number;
  ref: string;
  alt: string;
  variationId: string;
  /** CLNSIG as ClinVar writes it, e.g. `Pathogenic/Likely_pathogenic|risk_factor`. */
  significance?: string;
  /** CLNREVSTAT as ClinVar writes it, e.g. `criteria_provided,_single_submitter`. */
  reviewStatus?: string;
  conditions: ClinvarCondition[];
  /** GENEINFO: gene symbols with their NCBI Gene ids. */
  genes: { symbol: string; geneId?: string }[];
  /** MC: molecular consequences, `SO:0001583|missense_variant`. */
  consequences: string[];
  /** RS: the dbSNP id without its `rs`. */
  rs?: string;
}

/** What a ClinVar import did. */
export interface ClinvarImportSummary {
  build: GenomicBuild;
  /** Alleles stored. */
  variants: number;
  dataLines: number;
  /** Alleles left out: a contig of no known chromosome, or an ALT that is not bases (`.`, symbolic). */
  skipped: number;
  /** The file's ##fileDate, which names the ClinVar release. */
  fileDate?: string;
}

/** Rows written per statement: a ClinVar VCF has millions of lines, streamed, never held. */
const BATCH = 2_000;

// ClinVar's database names in CLNDISDB (lower case, `_` read as a space) and the key each has in
// clinvar_variants.condition_codes; identifiers of other databases are shown but not matched on.
const DATABASE_KEYS: Record<string, string> = {
  medgen: 'medgen', omim: 'omim', mondo: 'mondo', orphanet: 'orphanet',
  'human phenotype ontology': 'hp', mesh: 'mesh', 'snomed ct': 'snomed',
};

/**
 * The normalised code of a condition in one database: Orphanet ids lose ClinVar's older `ORPHA`
 * prefix, and bare MONDO and HPO numbers get theirs (`0009061` → `MONDO:0009061`).
 */
export function normaliseConditionCode(key: string, code: string): string {
  const c = code.trim();
  if (key === 'orphanet') return c.replace(/^ORPHA:?/i, '');
  if ((key === 'mondo' || key === 'hp') && /^[0-9]+$/.test(c)) return `${key === 'mondo' ? 'MONDO' : 'HP'}:${c}`;
  return c;
}

/** The database key and code of a ClinVar condition id (`MONDO:MONDO:0009061` → mondo, `MONDO:0009061`), if Helix matches on it. */
export function parseConditionId(id: string): { key: string; code: string } | undefined {
  const colon = id.indexOf(':');
  const key = colon > 0 ? DATABASE_KEYS[id.slice(0, colon).replace(/_/g, ' ').trim().toLowerCase()] : undefined;
  const code = key ? normaliseConditionCode(key, id.slice(colon + 1)) : '';
  return key && code ? { key, code } : undefined;
}

/** Pairs CLNDN's names with CLNDISDB's id lists, condition by condition (`.` means no ids). */
export function parseConditions(clndn: string | null | undefined, clndisdb: string | null | undefined): ClinvarCondition[] {
  const names = clndn ? clndn.split('|') : [];
  const idLists = clndisdb ? clndisdb.split('|') : [];
  return Array.from({ length: Math.max(names.length, idLists.length) }, (_, i) => ({
    name: (names[i] ?? '').replace(/_/g, ' ').trim(),
    ids: (idLists[i] ?? '').split(/[,;]/).map((s) => s.trim()).filter((s) => s !== '' && s !== '.'),
  })).filter((c) => (c.name !== '' && c.name !== '.') || c.ids.length > 0);
}

/** Reads INFO `k=v;k=v`, undoing the percent-escapes newer ClinVar files use for `,;=%` in values. */
function parseInfo(text: string): Map<string, string> {
  const info = new Map<string, string>();
  if (text === '.') return info;
  for (const field of text.split(';')) {
    const eq = field.indexOf('=');
    if (eq <= 0) continue;
    info.set(field.slice(0, eq), field.slice(eq + 1).replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
  }
  return info;
}

type Row = Omit<ClinvarEntry, 'build' | 'conditions' | 'genes' | 'consequences'> & { info: Map<string, string> };

const BASES = /^[ACGTN]+$/i;

/** The alleles of one data line; throws VcfError for a line that is not a ClinVar record. */
function rowsOf(text: string, lineNumber: number, build: GenomicBuild): { rows: Row[]; skipped: number } {
  const cols = text.split('\t');
  if (cols.length < 8) throw new VcfError(`expected 8 tab-separated columns, found ${cols.length}`, lineNumber);
  const [chrom, posText, id, ref, alts, , , infoText] = cols as [string, string, string, string, string, string, string, string];
  const pos = Number(posText);
  if (!/^[0-9]+$/.test(posText) || pos < 1) throw new VcfError(`POS ${posText.slice(0, 20)} is not a 1-based position`, lineNumber);
  if (!/^[0-9]+$/.test(id)) throw new VcfError(`ID ${id.slice(0, 20)} is not a ClinVar Variation ID: is this ClinVar's VCF?`, lineNumber);
  if (!BASES.test(ref)) throw new VcfError(`REF ${ref.slice(0, 20)} is not bases`, lineNumber);
  const sequence = accessionFor(build, chrom);
  const alleles = alts.split(',');
  if (!sequence) return { rows: [], skipped: alleles.length };
  const info = parseInfo(infoText);
  const rows: Row[] = [];
  for (const alt of alleles) {
    if (!BASES.test(alt)) continue;
    const t = trimAllele(pos - 1, ref, alt);
    if (t.deleted === '' && t.inserted === '') continue;
    rows.push({ sequence, start: t.position, end: t.position + t.deleted.length, ref: t.deleted, alt: t.inserted, variationId: id, info });
  }
  return { rows, skipped: alleles.length - rows.length };
}

/** The condition_codes of an allele's CLNDISDB: `medgen:C0010674`, `omim:219700`… */
export function conditionCodes(clndisdb: string | null | undefined): string[] {
  const codes = new Set<string>();
  for (const c of parseConditions(undefined, clndisdb)) {
    for (const id of c.ids) {
      const parsed = parseConditionId(id);
      if (parsed) codes.add(`${parsed.key}:${parsed.code}`);
    }
  }
  return [...codes];
}

async function insertRows(q: Queryable, build: GenomicBuild, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(f: (r: Row) => T): T[] => rows.map(f);
  const info = (key: string) => col((r) => r.info.get(key) ?? null);
  // condition_codes travel as one `|`-joined text per row: unnest cannot pass an array of arrays.
  await q.query(
    `INSERT INTO clinvar_variants (build, seq, start_pos, end_pos, ref, alt, variation_id, clnsig, clnrevstat, clndn, clndisdb,
       condition_codes, geneinfo, mc, rs)
     SELECT $1, seq, s, e, r, a, vid, sig, rev, dn, ddb, string_to_array(cc, '|'), gi, mc, rs
     FROM unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
       $11::text[], $12::text[], $13::text[], $14::text[], $15::text[]) AS t(seq, s, e, r, a, vid, sig, rev, dn, ddb, cc, gi, mc, rs)`,
    [build, col((r) => r.sequence), col((r) => r.start), col((r) => r.end), col((r) => r.ref), col((r) => r.alt),
      col((r) => r.variationId), info('CLNSIG'), info('CLNREVSTAT'), info('CLNDN'), info('CLNDISDB'),
      col((r) => conditionCodes(r.info.get('CLNDISDB')).join('|')), info('GENEINFO'), info('MC'), info('RS')],
  );
}

/**
 * Loads a ClinVar VCF (plain or gzip) into the knowledge base, in one transaction that first
 * removes the rows of the same build: a failed load leaves the previous release in place. The
 * build is the header's `##reference` unless `opts.build` gives it; both given must agree.
 */
export async function importClinvar(
  db: Database, source: NodeJS.ReadableStream | Buffer, opts: { build?: GenomicBuild; progress?: (variants: number) => void } = {},
): Promise<ClinvarImportSummary> {
  return db.transaction(async (q) => {
    let build: GenomicBuild | undefined;
    let fileDate: string | undefined;
    let headerBuild: GenomicBuild | undefined;
    let batch: Row[] = [];
    const summary = { variants: 0, dataLines: 0, skipped: 0 };
    const flush = async (b: GenomicBuild): Promise<void> => {
      await insertRows(q, b, batch);
      summary.variants += batch.length;
      batch = [];
      opts.progress?.(summary.variants);
    };
    // At the first data line (or the end), once the header has been read: the build, then the old rows go.
    const begin = async (): Promise<GenomicBuild> => {
      const chosen = opts.build ?? headerBuild;
      if (!chosen) throw new VcfError('the header names no build (##reference=GRCh38 or GRCh37): give the build');
      if (opts.build && headerBuild && opts.build !== headerBuild) {
        throw new VcfError(`the header says ${headerBuild}, not ${opts.build}`);
      }
      await q.query('DELETE FROM clinvar_variants WHERE build = $1', [chosen]);
      build = chosen;
      return chosen;
    };
    for await (const { lineNumber, text } of vcfLines(source)) {
      if (text.startsWith('##')) {
        const [key, value = ''] = text.slice(2).split(/=(.*)/s);
        if (key === 'reference' || key === 'assembly') headerBuild = parseBuild(value) ?? headerBuild;
        if (key === 'fileDate') fileDate = value.trim();
        continue;
      }
      if (text.startsWith('#')) continue;
      const b = build ?? await begin();
      summary.dataLines += 1;
      const { rows, skipped } = rowsOf(text, lineNumber, b);
      summary.skipped += skipped;
      batch.push(...rows);
      if (batch.length >= BATCH) await flush(b);
    }
    const b = build ?? await begin();
    await flush(b);
    await q.query(
      `INSERT INTO clinvar_imports (build, file_date, variant_count) VALUES ($1, $2, $3)
       ON CONFLICT (build) DO UPDATE SET file_date = EXCLUDED.file_date, variant_count = EXCLUDED.variant_count, imported_at = now()`,
      [b, fileDate ?? null, summary.variants],
    );
    return { build: b, ...summary, ...(fileDate ? { fileDate } : {}) };
  });
}

/** The builds a ClinVar release is loaded for. */
export async function clinvarBuilds(q: Queryable): Promise<Set<GenomicBuild>> {
  const rows = await q.query<{ build: GenomicBuild }>('SELECT build FROM clinvar_imports');
  return new Set(rows.map((r) => r.build));
}

interface EntryRow {
  build: GenomicBuild; seq: string; start_pos: number; end_pos: number; ref: string; alt: string; variation_id: string;
  clnsig: string | null; clnrevstat: string | null; clndn: string | null; clndisdb: string | null;
  geneinfo: string | null; mc: string | null; rs: string | null;
}

function toEntry(r: EntryRow): ClinvarEntry {
  return {
    build: r.build, sequence: r.seq, start: r.start_pos, end: r.end_pos, ref: r.ref, alt: r.alt, variationId: r.variation_id,
    ...(r.clnsig ? { significance: r.clnsig } : {}),
    ...(r.clnrevstat ? { reviewStatus: r.clnrevstat } : {}),
    conditions: parseConditions(r.clndn, r.clndisdb),
    genes: (r.geneinfo ?? '').split('|').filter(Boolean).map((g) => {
      const [symbol = '', geneId] = g.split(':');
      return { symbol, ...(geneId ? { geneId } : {}) };
    }),
    consequences: (r.mc ?? '').split(',').filter(Boolean),
    ...(r.rs ? { rs: r.rs } : {}),
  };
}

/** The ClinVar alleles at exactly these positions, any build (the caller compares build and alleles). */
export async function clinvarAt(q: Queryable, at: readonly { sequence: string; start: number; end: number }[]): Promise<ClinvarEntry[]> {
  const keys = new Map(at.map((a) => [`${a.sequence}:${a.start}:${a.end}`, a]));
  if (keys.size === 0) return [];
  const unique = [...keys.values()];
  const rows = await q.query<EntryRow>(
    `SELECT c.* FROM unnest($1::text[], $2::int[], $3::int[]) AS k(seq, s, e)
       JOIN clinvar_variants c ON c.seq = k.seq AND c.start_pos = k.s AND c.end_pos = k.e
     ORDER BY c.seq, c.start_pos, c.variation_id`,
    [unique.map((a) => a.sequence), unique.map((a) => a.start), unique.map((a) => a.end)],
  );
  return rows.map(toEntry);
}

/** A stored call ClinVar classifies: whose it is, where, and the condition codes of its ClinVar row. */
export interface ClassifiedCall {
  patientId: string;
  sequence: string;
  start: number;
  end: number;
  codes: string[];
}

/**
 * The calls of the given studies that ClinVar classifies on the study's build, only those whose
 * ClinVar row names one of `codes` when given. The join runs in the database, so a whole genome's
 * calls never come back just to be matched; it enters the variants through their one index,
 * (study_key, seq, start_pos), study by study, as variant-store.ts does.
 */
export async function classifiedCalls(q: Queryable, studies: readonly GenomicStudy[], codes?: readonly string[]): Promise<ClassifiedCall[]> {
  const keys = studies.flatMap((st) => (st.key === undefined ? [] : [st.key]));
  if (keys.length === 0 || codes?.length === 0) return [];
  const rows = await q.query<{ patient_id: string; seq: string; start_pos: number; end_pos: number; condition_codes: string[] }>(
    `SELECT DISTINCT s.patient_id, v.seq, v.start_pos, v.end_pos, c.condition_codes
       FROM unnest($1::int[]) AS st(key)
       JOIN genomic_studies s ON s.key = st.key
       JOIN variants v ON v.study_key = st.key
       JOIN clinvar_variants c ON c.seq = v.seq AND c.start_pos = v.start_pos AND c.end_pos = v.end_pos
         AND c.ref = v.ref AND c.alt = v.alt AND c.build = s.build
     ${codes ? 'WHERE c.condition_codes && $2::text[]' : ''}`,
    [keys, ...(codes ? [codes] : [])],
  );
  return rows.map((r) => ({ patientId: r.patient_id, sequence: r.seq, start: r.start_pos, end: r.end_pos, codes: r.condition_codes }));
}
