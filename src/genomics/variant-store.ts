// The variant store (migrations/012_genomics.sql): genomic studies and their called variants, in
// 0-based half-open coordinates on RefSeq accessions, written in batches and read by range or
// by allele for the HL7 genomics operations.
import type { Queryable } from '../db/database.js';
import type { GenomicRange, GenomicStudy, MolecularConsequence, StructuralType, VariantCall } from './types.js';

/** Variants longer than this are "long" (migration 012's partial index); shorter ones are found by start. */
export const SHORT_SPAN = 1000;

/** A stored variant with the study it came from. */
export interface StoredVariant extends VariantCall {
  studyId: string;
  ord: number;
  patientId: string;
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
  id: string; patient_id: string; test_identifier: string; build: string; source_class: string;
  test_date: string | null; specimen_identifier: string | null; sample_name: string;
  regions_studied: GenomicRange[] | null; report_id: string; change_types: string[];
}

/** Inserts or replaces the study row (same patient and test identifier: same row). */
export async function saveStudy(q: Queryable, s: GenomicStudy, variantCount: number): Promise<void> {
  await q.query(
    `INSERT INTO genomic_studies (id, patient_id, test_identifier, build, source_class, test_date, specimen_identifier,
       sample_name, regions_studied, report_id, change_types, variant_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
     ON CONFLICT (id) DO UPDATE SET build = EXCLUDED.build, source_class = EXCLUDED.source_class, test_date = EXCLUDED.test_date,
       specimen_identifier = EXCLUDED.specimen_identifier, sample_name = EXCLUDED.sample_name, regions_studied = EXCLUDED.regions_studied,
       report_id = EXCLUDED.report_id, change_types = EXCLUDED.change_types, variant_count = EXCLUDED.variant_count, imported_at = now()`,
    [s.id, s.patientId, s.testIdentifier, s.build, s.sourceClass, s.testDate ?? null, s.specimenIdentifier ?? null,
      s.sampleName, s.regionsStudied ? JSON.stringify(s.regionsStudied) : null, s.reportId, s.changeTypes, variantCount],
  );
}

/** The study of this patient and test identifier, locked for the rest of the transaction, if any. */
export async function lockStudy(q: Queryable, patientId: string, testIdentifier: string): Promise<GenomicStudy | undefined> {
  const rows = await q.query<StudyRow>(
    'SELECT * FROM genomic_studies WHERE patient_id = $1 AND test_identifier = $2 FOR UPDATE', [patientId, testIdentifier]);
  return rows[0] && toStudy(rows[0]);
}

/** Deletes a study's variants (before it is imported again). */
export async function deleteVariants(q: Queryable, studyId: string): Promise<void> {
  await q.query('DELETE FROM variants WHERE study_id = $1', [studyId]);
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

/** Writes one batch of calls, numbered from `firstOrd`. */
export async function insertVariants(q: Queryable, study: GenomicStudy, calls: readonly VariantCall[], firstOrd: number): Promise<void> {
  if (calls.length === 0) return;
  const col = <T>(f: (c: VariantCall) => T): T[] => calls.map(f);
  await q.query(
    `INSERT INTO variants (study_id, patient_id, ord, seq, start_pos, end_pos, ref, alt, spdi, structural_type, copy_number,
       genotype, phased, zygosity, phase_set, depth, allele_freq, filter, gene, ids, consequences, vcf_pos, vcf_ref, vcf_alt)
     SELECT $1, $2, $3::int + n - 1, seq, s, e, ref, alt, spdi, st, cn, gt, ph, zy, ps, dp, af, fi, ge, ids, cq::jsonb, vp, vr, va
     FROM unnest($4::text[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[], $11::real[], $12::text[],
       $13::bool[], $14::text[], $15::bigint[], $16::int[], $17::real[], $18::text[], $19::text[], $20::text[], $21::text[],
       $22::int[], $23::text[], $24::text[])
       WITH ORDINALITY AS t(seq, s, e, ref, alt, spdi, st, cn, gt, ph, zy, ps, dp, af, fi, ge, ids, cq, vp, vr, va, n)`,
    [study.id, study.patientId, firstOrd,
      col((c) => c.sequence), col((c) => c.start), col((c) => c.end), col((c) => c.ref), col((c) => c.alt), col((c) => c.spdi),
      col((c) => c.structuralType ?? null), col((c) => c.copyNumber ?? null), col((c) => c.genotype), col((c) => c.phased),
      col((c) => c.zygosity), col((c) => c.phaseSet ?? null), col((c) => c.depth ?? null), col((c) => c.alleleFrequency ?? null),
      col((c) => c.filter), col((c) => c.gene ?? null), col((c) => (c.ids.length ? c.ids.join(';') : null)),
      col((c) => (c.consequences.length ? JSON.stringify(c.consequences) : null)),
      col((c) => c.vcf.pos), col((c) => c.vcf.ref), col((c) => c.vcf.alt)],
  );
}

/**
 * The variants of the given studies overlapping a range (a pure insertion overlaps when it lies
 * strictly inside, or at the start of, the range). Short variants are probed by start within the
 * range widened by SHORT_SPAN; long ones through their own partial index.
 */
export async function variantsInRange(
  q: Queryable, studyIds: readonly string[], patientId: string, r: GenomicRange, structuralOnly = false, limit = 1_000_000,
): Promise<StoredVariant[]> {
  if (studyIds.length === 0) return [];
  const sv = structuralOnly ? 'AND structural_type IS NOT NULL' : '';
  const rows = await q.query<VariantRow>(
    `SELECT * FROM variants WHERE patient_id = $1 AND seq = $2 AND start_pos >= $3::int - ${SHORT_SPAN} AND start_pos < $4
       AND end_pos - start_pos <= ${SHORT_SPAN} AND (end_pos > $3 OR (start_pos = end_pos AND start_pos >= $3)) AND study_id = ANY($5::text[]) ${sv}
     UNION ALL
     SELECT * FROM variants WHERE seq = $2 AND end_pos - start_pos > ${SHORT_SPAN} AND start_pos < $4 AND end_pos > $3
       AND patient_id = $1 AND study_id = ANY($5::text[]) ${sv}
     ORDER BY start_pos, end_pos, study_id, ord LIMIT $6`,
    [patientId, r.sequence, r.start, r.end, studyIds, limit],
  );
  return rows.map(toVariant);
}

/** The variants of the given studies (all studies when undefined) at exactly these positions. */
export async function variantsAt(
  q: Queryable, studyIds: readonly string[] | undefined, at: readonly { sequence: string; start: number; end: number }[],
): Promise<StoredVariant[]> {
  if (at.length === 0 || studyIds?.length === 0) return [];
  const rows = await q.query<VariantRow>(
    `SELECT v.* FROM unnest($1::text[], $2::int[], $3::int[]) AS k(seq, s, e)
       JOIN variants v ON v.seq = k.seq AND v.start_pos = k.s AND v.end_pos = k.e
     ${studyIds ? 'WHERE v.study_id = ANY($4::text[])' : ''} ORDER BY v.start_pos, v.study_id, v.ord`,
    [at.map((a) => a.sequence), at.map((a) => a.start), at.map((a) => a.end), ...(studyIds ? [studyIds] : [])],
  );
  return rows.map(toVariant);
}

/** Structural variants of any patient overlapping a range (population operations). */
export async function structuralInRange(q: Queryable, r: GenomicRange, studyIds?: readonly string[]): Promise<StoredVariant[]> {
  const rows = await q.query<VariantRow>(
    `SELECT * FROM variants WHERE seq = $1 AND structural_type IS NOT NULL AND start_pos < $3 AND end_pos > $2
       AND ((end_pos - start_pos > ${SHORT_SPAN}) OR start_pos >= $2::int - ${SHORT_SPAN}) ${studyIds ? 'AND study_id = ANY($4::text[])' : ''}
     ORDER BY start_pos, study_id, ord`,
    [r.sequence, r.start, r.end, ...(studyIds ? [studyIds] : [])],
  );
  return rows.map(toVariant);
}

/** One variant by its study and position in the file (the Observation id `{studyId}-{ord}`). */
export async function variantByOrd(q: Queryable, studyId: string, ord: number): Promise<StoredVariant | undefined> {
  const rows = await q.query<VariantRow>('SELECT * FROM variants WHERE study_id = $1 AND ord = $2', [studyId, ord]);
  return rows[0] && toVariant(rows[0]);
}

interface VariantRow {
  study_id: string; ord: number; patient_id: string; seq: string; start_pos: number; end_pos: number; ref: string; alt: string;
  spdi: string; structural_type: string | null; copy_number: number | null; genotype: string; phased: boolean; zygosity: string;
  phase_set: string | number | null; depth: number | null; allele_freq: number | null; filter: string; gene: string | null;
  ids: string | null; consequences: MolecularConsequence[] | string | null; vcf_pos: number; vcf_ref: string; vcf_alt: string;
}

function toVariant(r: VariantRow): StoredVariant {
  const consequences = typeof r.consequences === 'string' ? JSON.parse(r.consequences) as MolecularConsequence[] : (r.consequences ?? []);
  return {
    studyId: r.study_id, ord: r.ord, patientId: r.patient_id, sequence: r.seq, chromosome: chromosomeName(r.seq),
    start: r.start_pos, end: r.end_pos, ref: r.ref, alt: r.alt, spdi: r.spdi,
    ...(r.structural_type ? { structuralType: r.structural_type as StructuralType } : {}),
    ...(r.copy_number !== null ? { copyNumber: r.copy_number } : {}),
    vcf: { pos: r.vcf_pos, ref: r.vcf_ref, alt: r.vcf_alt }, ids: r.ids ? r.ids.split(';') : [],
    genotype: r.genotype, phased: r.phased, zygosity: r.zygosity as VariantCall['zygosity'],
    ...(r.phase_set !== null ? { phaseSet: Number(r.phase_set) } : {}),
    ...(r.depth !== null ? { depth: r.depth } : {}),
    ...(r.allele_freq !== null ? { alleleFrequency: r.allele_freq } : {}),
    filter: r.filter, ...(r.gene ? { gene: r.gene } : {}), consequences,
  };
}

/** NC_000019.10 → 19 (23 → X, 24 → Y, NC_012920 → M); accessions were validated at import. */
function chromosomeName(seq: string): string {
  if (seq.startsWith('NC_012920')) return 'M';
  const n = Number(seq.slice(3, 9));
  return n === 23 ? 'X' : n === 24 ? 'Y' : String(n);
}

function toStudy(r: StudyRow): GenomicStudy {
  return {
    id: r.id, patientId: r.patient_id, testIdentifier: r.test_identifier, build: r.build as GenomicStudy['build'],
    sourceClass: r.source_class as GenomicStudy['sourceClass'], sampleName: r.sample_name, reportId: r.report_id,
    changeTypes: r.change_types,
    ...(r.test_date ? { testDate: r.test_date } : {}),
    ...(r.specimen_identifier ? { specimenIdentifier: r.specimen_identifier } : {}),
    ...(r.regions_studied ? { regionsStudied: typeof r.regions_studied === 'string' ? JSON.parse(r.regions_studied) as GenomicRange[] : r.regions_studied } : {}),
  };
}
