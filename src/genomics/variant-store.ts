// The variant store (migrations/012_genomics.sql): genomic studies and their called variants, in
// 0-based half-open coordinates on RefSeq accessions, written in batches and read by range or
// by allele for the HL7 genomics operations.
import type { Queryable } from '../db/database.js';
import { chromosomeOf } from './refseq.js';
import { formatSpdi } from './spdi.js';
import type { GenomicBuild, GenomicRange, GenomicStudy, MolecularConsequence, StructuralType, VariantCall } from './types.js';
import type { SiteGenotype } from './vcf-calls.js';

/** Variants longer than this are "long" (migration 012's partial index); shorter ones are found by start. */
export const SHORT_SPAN = 1000;

/** A stored variant with the study it came from. */
export interface StoredVariant extends VariantCall {
  studyId: string;
  ord: number;
  patientId: string;
  /** The study's build: an accession names it, except the mitochondrion's (NC_012920.1 is in both). */
  build: GenomicBuild;
}

/** The studies a read looks at: their keys, and each key's study. */
function keyed(studies: readonly GenomicStudy[]): { keys: number[]; byKey: Map<number, GenomicStudy> } {
  const byKey = new Map(studies.map((s) => [keyOf(s), s]));
  return { keys: [...byKey.keys()], byKey };
}

/** Which studies an operation looks at (the IG operations' subject and study filters). */
export interface StudyFilter {
  patientId?: string;
  testIdentifiers?: string[];
  specimenIdentifiers?: string[];
  /** Test date bounds, compared as ISO text (FHIR dates sort lexically). */
  testDateFrom?: string;
  testDateTo?: string;
  sourceClass?: string;
}

interface StudyRow {
  id: string; key: number; patient_id: string; test_identifier: string; build: string; source_class: string;
  test_date: string | null; specimen_identifier: string | null; sample_name: string;
  regions_studied: GenomicRange[] | null; report_id: string; change_types: string[];
}

/** Inserts or replaces the study row (same patient and test identifier: same row); returns the study with its key. */
export async function saveStudy(q: Queryable, s: GenomicStudy, variantCount: number): Promise<GenomicStudy & { key: number }> {
  const rows = await q.query<{ key: number }>(
    `INSERT INTO genomic_studies (id, patient_id, test_identifier, build, source_class, test_date, specimen_identifier,
       sample_name, regions_studied, report_id, change_types, variant_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
     ON CONFLICT (id) DO UPDATE SET build = EXCLUDED.build, source_class = EXCLUDED.source_class, test_date = EXCLUDED.test_date,
       specimen_identifier = EXCLUDED.specimen_identifier, sample_name = EXCLUDED.sample_name, regions_studied = EXCLUDED.regions_studied,
       report_id = EXCLUDED.report_id, change_types = EXCLUDED.change_types, variant_count = EXCLUDED.variant_count, imported_at = now()
     RETURNING key`,
    [s.id, s.patientId, s.testIdentifier, s.build, s.sourceClass, s.testDate ?? null, s.specimenIdentifier ?? null,
      s.sampleName, s.regionsStudied ? JSON.stringify(s.regionsStudied) : null, s.reportId, s.changeTypes, variantCount],
  );
  return { ...s, key: (rows[0] as { key: number }).key };
}

/** A saved study's key (studies read from the store always have one). */
const keyOf = (s: GenomicStudy): number => {
  if (s.key === undefined) throw new Error(`study ${s.id} has not been saved`);
  return s.key;
};

/** The study of this patient and test identifier, locked for the rest of the transaction, if any. */
export async function lockStudy(q: Queryable, patientId: string, testIdentifier: string): Promise<GenomicStudy | undefined> {
  const rows = await q.query<StudyRow>(
    'SELECT * FROM genomic_studies WHERE patient_id = $1 AND test_identifier = $2 FOR UPDATE', [patientId, testIdentifier]);
  return rows[0] && toStudy(rows[0]);
}

/** Deletes a study's variants and site genotypes (before it is imported again). */
export async function deleteVariants(q: Queryable, study: GenomicStudy): Promise<void> {
  await q.query('DELETE FROM variants WHERE study_key = $1', [keyOf(study)]);
  await q.query('DELETE FROM site_genotypes WHERE study_key = $1', [keyOf(study)]);
}

/** Stores a study's genotypes at the sites of interest (migration 014), with the line each came from. */
export async function insertSiteGenotypes(q: Queryable, study: GenomicStudy, sites: readonly (SiteGenotype & { line: number })[]): Promise<void> {
  if (sites.length === 0) return;
  await q.query(
    `INSERT INTO site_genotypes (study_key, seq, pos, ref, alt, genotype, phase_set, line)
     SELECT $1::int, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::int[])`,
    [keyOf(study), sites.map((s) => s.sequence), sites.map((s) => s.pos), sites.map((s) => s.ref),
      sites.map((s) => (s.alts.length ? s.alts.join(',') : '.')), sites.map((s) => s.genotype), sites.map((s) => s.phaseSet ?? null), sites.map((s) => s.line)],
  );
}

/** A study's genotypes at the sites of interest on one sequence, in file order. */
export async function siteGenotypes(q: Queryable, study: GenomicStudy, sequence: string): Promise<SiteGenotype[]> {
  const rows = await q.query<{ seq: string; pos: number; ref: string; alt: string; genotype: string; phase_set: string | number | null }>(
    'SELECT seq, pos, ref, alt, genotype, phase_set FROM site_genotypes WHERE study_key = $1 AND seq = $2 ORDER BY line', [keyOf(study), sequence]);
  return rows.map((r) => {
    const site: SiteGenotype = { sequence: r.seq, pos: r.pos, ref: r.ref, alts: r.alt === '.' ? [] : r.alt.split(','), genotype: r.genotype };
    if (r.phase_set !== null) site.phaseSet = Number(r.phase_set);
    return site;
  });
}

/** The studies matching a filter, oldest test first. */
export async function findStudies(q: Queryable, f: StudyFilter): Promise<GenomicStudy[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (v: unknown): string => { params.push(v); return `$${params.length}`; };
  if (f.patientId !== undefined) where.push(`patient_id = ${bind(f.patientId)}`);
  if (f.testIdentifiers?.length) where.push(`test_identifier = ANY(${bind(f.testIdentifiers)}::text[])`);
  if (f.specimenIdentifiers?.length) where.push(`specimen_identifier = ANY(${bind(f.specimenIdentifiers)}::text[])`);
  if (f.testDateFrom) where.push(`test_date >= ${bind(f.testDateFrom)}`);
  if (f.testDateTo) where.push(`test_date < ${bind(f.testDateTo)}`);
  if (f.sourceClass) where.push(`source_class = ${bind(f.sourceClass)}`);
  const rows = await q.query<StudyRow>(
    `SELECT * FROM genomic_studies ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY test_date NULLS FIRST, id`, params);
  return rows.map(toStudy);
}

const COLUMNS = `study_key, ord, seq, start_pos, end_pos, ref, alt, structural_type, copy_number, genotype, phased,
  zygosity, phase_set, depth, allele_freq, filter, gene, ids, consequences, vcf_pos, vcf_ref, vcf_alt`;

/** One call's column values, in COLUMNS order. */
function columnValues(key: number, c: VariantCall, ord: number): unknown[] {
  return [key, ord, c.sequence, c.start, c.end, c.ref, c.alt, c.structuralType ?? null, c.copyNumber ?? null,
    c.genotype, c.phased, c.zygosity, c.phaseSet ?? null, c.depth ?? null, c.alleleFrequency ?? null, c.filter, c.gene ?? null,
    c.ids.length ? c.ids.join(';') : null, c.consequences.length ? JSON.stringify(c.consequences) : null, c.vcf.pos, c.vcf.ref, c.vcf.alt];
}

/** A value in COPY's text format: `\N` for NULL; backslash, tab and line breaks escaped. */
function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v !== 'string') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r')) : v;
}

/**
 * One call as a line of COPY text, in COLUMNS order. Only the free-text fields are escaped: bases,
 * accessions, genotypes and numbers were validated at parse time and cannot hold a tab, newline
 * or backslash. (An array joined, not a template: V8 joins flat strings faster than it flattens
 * a 40-piece template's rope.)
 */
function copyRow(key: number, c: VariantCall, ord: number): string {
  return [key, ord, c.sequence, c.start, c.end, c.ref, c.alt, c.structuralType ?? '\\N', c.copyNumber ?? '\\N', c.genotype, c.phased ? 't' : 'f',
    c.zygosity, c.phaseSet ?? '\\N', c.depth ?? '\\N', c.alleleFrequency ?? '\\N', copyField(c.filter), c.gene === undefined ? '\\N' : copyField(c.gene),
    c.ids.length ? copyField(c.ids.join(';')) : '\\N', c.consequences.length ? copyField(JSON.stringify(c.consequences)) : '\\N',
    c.vcf.pos, c.vcf.ref, copyField(c.vcf.alt)].join('\t') + '\n';
}

/**
 * Calls on their way into the store, numbered from `firstOrd`, written by `write()`: by COPY where
 * the driver has it (about three times faster), else one INSERT. With COPY each call becomes its
 * row text as it is added, so a batch of ten thousand holds ten thousand strings rather than the
 * calls' objects — which then die young instead of being promoted and traced by the GC.
 */
export class VariantBatch {
  private readonly rows: string[] = [];
  private readonly calls: VariantCall[] = [];
  private readonly key: number;
  constructor(private readonly q: Queryable, study: GenomicStudy, readonly firstOrd: number) {
    this.key = keyOf(study);
  }

  /** Calls added so far. */
  get size(): number {
    return this.rows.length + this.calls.length;
  }

  /** Adds the next call. */
  add(call: VariantCall): void {
    if (this.q.copyFrom) this.rows.push(copyRow(this.key, call, this.firstOrd + this.rows.length));
    else this.calls.push(call);
  }

  /** Writes the batch's calls. */
  async write(): Promise<void> {
    if (this.rows.length > 0 && this.q.copyFrom) {
      await this.q.copyFrom(`COPY variants (${COLUMNS}) FROM STDIN`, this.rows.join(''));
      return;
    }
    if (this.calls.length === 0) return;
    const rows = this.calls.map((c, i) => columnValues(this.key, c, this.firstOrd + i));
    const width = rows[0]?.length ?? 0;
    const columns = Array.from({ length: width }, (_, k) => rows.map((r) => r[k]));
    const types = ['int', 'int', 'text', 'int', 'int', 'text', 'text', 'text', 'real', 'text', 'bool', 'text', 'bigint', 'int', 'real', 'text', 'text', 'text', 'jsonb', 'int', 'text', 'text'];
    await this.q.query(`INSERT INTO variants (${COLUMNS}) SELECT * FROM unnest(${types.map((t, k) => `$${k + 1}::${t}[]`).join(', ')})`, columns);
  }
}

/**
 * The variants of the given studies overlapping a range (a pure insertion overlaps when it lies
 * strictly inside, or at the start of, the range). Short variants are probed by start within the
 * range widened by SHORT_SPAN; long ones through their own partial index. With `limit` 1 the
 * question is presence: any row answers it, so nothing is sorted and the scan stops at the first.
 *
 * The two kinds are two statements, not one UNION ALL: PostgreSQL plans a UNION's branches for
 * their total cost, so on an analyzed table "any variant in 50 Mb?" became a parallel bitmap scan
 * of all 65,000 entries (15 ms, and worker start-ups under load) instead of one index probe.
 */
export async function variantsInRange(
  q: Queryable, studies: readonly GenomicStudy[], r: GenomicRange, structuralOnly = false, limit = 1_000_000,
): Promise<StoredVariant[]> {
  if (studies.length === 0) return [];
  const { keys, byKey } = keyed(studies);
  const sv = structuralOnly ? 'AND structural_type IS NOT NULL' : '';
  const order = limit === 1 ? '' : 'ORDER BY start_pos, end_pos, study_key, ord';
  const params = [keys, r.sequence, r.start, r.end, limit];
  const short = await q.query<VariantRow>(
    `SELECT * FROM variants WHERE study_key = ANY($1::int[]) AND seq = $2 AND start_pos >= $3::int - ${SHORT_SPAN} AND start_pos < $4
       AND end_pos - start_pos <= ${SHORT_SPAN} AND (end_pos > $3 OR (start_pos = end_pos AND start_pos >= $3)) ${sv} ${order} LIMIT $5`,
    params,
  );
  if (limit === 1 && short.length > 0) return short.map((row) => toVariant(row, byKey));
  const long = await q.query<VariantRow>(
    `SELECT * FROM variants WHERE seq = $2 AND end_pos - start_pos > ${SHORT_SPAN} AND start_pos < $4 AND end_pos > $3
       AND study_key = ANY($1::int[]) ${sv} ${order} LIMIT $5`,
    params,
  );
  const rows = long.length === 0 ? short : [...short, ...long].sort(byPosition).slice(0, limit);
  return rows.map((row) => toVariant(row, byKey));
}

// The order of a range's answer: start, end, study, then the call's place in its file.
const byPosition = (a: VariantRow, b: VariantRow): number =>
  a.start_pos - b.start_pos || a.end_pos - b.end_pos || a.study_key - b.study_key || a.ord - b.ord;

/** The variants of the given studies at exactly these positions, probed study by study. */
export async function variantsAt(
  q: Queryable, studies: readonly GenomicStudy[], at: readonly { sequence: string; start: number; end: number }[],
): Promise<StoredVariant[]> {
  if (at.length === 0 || studies.length === 0) return [];
  const { keys, byKey } = keyed(studies);
  const rows = await q.query<VariantRow>(
    `SELECT v.* FROM unnest($1::int[]) AS st(key) CROSS JOIN unnest($2::text[], $3::int[], $4::int[]) AS k(seq, s, e)
       JOIN variants v ON v.study_key = st.key AND v.seq = k.seq AND v.start_pos = k.s AND v.end_pos = k.e
     ORDER BY v.start_pos, v.study_key, v.ord`,
    [keys, at.map((a) => a.sequence), at.map((a) => a.start), at.map((a) => a.end)],
  );
  return rows.map((row) => toVariant(row, byKey));
}

/** Structural variants of the given studies overlapping a range (population operations), probed study by study. */
export async function structuralInRange(q: Queryable, r: GenomicRange, studies: readonly GenomicStudy[]): Promise<StoredVariant[]> {
  if (studies.length === 0) return [];
  const { keys, byKey } = keyed(studies);
  const rows = await q.query<VariantRow>(
    `SELECT v.* FROM unnest($4::int[]) AS st(key)
       JOIN variants v ON v.study_key = st.key AND v.seq = $1 AND v.start_pos >= $2::int - ${SHORT_SPAN} AND v.start_pos < $3
     WHERE v.structural_type IS NOT NULL AND v.end_pos > $2 AND v.end_pos - v.start_pos <= ${SHORT_SPAN}
     UNION ALL
     SELECT v.* FROM variants v WHERE v.seq = $1 AND v.end_pos - v.start_pos > ${SHORT_SPAN} AND v.start_pos < $3 AND v.end_pos > $2
       AND v.structural_type IS NOT NULL AND v.study_key = ANY($4::int[])
     ORDER BY start_pos, study_key, ord`,
    [r.sequence, r.start, r.end, keys],
  );
  return rows.map((row) => toVariant(row, byKey));
}

interface VariantRow {
  study_key: number; ord: number; seq: string; start_pos: number; end_pos: number; ref: string; alt: string;
  structural_type: string | null; copy_number: number | null; genotype: string; phased: boolean; zygosity: string;
  phase_set: string | number | null; depth: number | null; allele_freq: number | null; filter: string; gene: string | null;
  ids: string | null; consequences: MolecularConsequence[] | string | null; vcf_pos: number; vcf_ref: string; vcf_alt: string;
}

function toVariant(r: VariantRow, studies: ReadonlyMap<number, GenomicStudy>): StoredVariant {
  const consequences = typeof r.consequences === 'string' ? JSON.parse(r.consequences) as MolecularConsequence[] : (r.consequences ?? []);
  const study = studies.get(r.study_key) as GenomicStudy;
  const structuralType = (r.structural_type ?? undefined) as StructuralType | undefined;
  // Symbolic alleles have no bases: their key is the interval and kind (as at import).
  const spdi = structuralType && r.ref === '' && r.alt === ''
    ? `${r.seq}:${r.start_pos}:${r.end_pos}:<${structuralType}>`
    : formatSpdi({ sequence: r.seq, position: r.start_pos, deleted: r.ref, inserted: r.alt });
  return {
    studyId: study.id, ord: r.ord, patientId: study.patientId, build: study.build, sequence: r.seq, chromosome: chromosomeOf(r.seq, study.build)?.chromosome ?? r.seq,
    start: r.start_pos, end: r.end_pos, ref: r.ref, alt: r.alt, spdi,
    ...(structuralType ? { structuralType } : {}),
    ...(r.copy_number !== null ? { copyNumber: r.copy_number } : {}),
    vcf: { pos: r.vcf_pos, ref: r.vcf_ref, alt: r.vcf_alt }, ids: r.ids ? r.ids.split(';') : [],
    genotype: r.genotype, phased: r.phased, zygosity: r.zygosity as VariantCall['zygosity'],
    ...(r.phase_set !== null ? { phaseSet: Number(r.phase_set) } : {}),
    ...(r.depth !== null ? { depth: r.depth } : {}),
    ...(r.allele_freq !== null ? { alleleFrequency: r.allele_freq } : {}),
    filter: r.filter, ...(r.gene ? { gene: r.gene } : {}), consequences,
  };
}


function toStudy(r: StudyRow): GenomicStudy {
  return {
    id: r.id, key: r.key, patientId: r.patient_id, testIdentifier: r.test_identifier, build: r.build as GenomicStudy['build'],
    sourceClass: r.source_class as GenomicStudy['sourceClass'], sampleName: r.sample_name, reportId: r.report_id,
    changeTypes: r.change_types,
    ...(r.test_date ? { testDate: r.test_date } : {}),
    ...(r.specimen_identifier ? { specimenIdentifier: r.specimen_identifier } : {}),
    ...(r.regions_studied ? { regionsStudied: typeof r.regions_studied === 'string' ? JSON.parse(r.regions_studied) as GenomicRange[] : r.regions_studied } : {}),
  };
}
