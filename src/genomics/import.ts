// VCF import into the variant store (Genomics Reporting IG 3.0.0): one transaction per import, so
// a file that fails half-way leaves nothing behind, and the same patient and test identifier
// imported again replaces the earlier study (same Procedure and DiagnosticReport ids, new
// versions) instead of duplicating it. The file is streamed; only one batch of calls is held.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import { badRequest, FhirError, notFound, unprocessable } from '../fhir/errors.js';
import type { FhirContext } from '../fhir/types.js';
import { writeNext } from '../fhir/update.js';
import { lockKey, readCurrent } from '../storage/resource-store.js';
import { accessionFor } from './refseq.js';
import { changeTypeOf, genomicReport, genomicStudyProcedure, variantObservation } from './resources.js';
import type { GenomicBuild, GenomicRange, GenomicSourceClass, GenomicStudy, VariantCall } from './types.js';
import { deleteVariants, insertSiteGenotypes, lockStudy, saveStudy, VariantBatch } from './variant-store.js';
import { callsOf, readVcfHeader, siteGenotypeOf, siteOf, type SiteGenotype, type VcfHeader } from './vcf-calls.js';
import { VcfError, vcfLineBatches } from './vcf-source.js';

/** Calls written per statement: large enough to amortise a round trip, small enough to stream. */
const BATCH = 10_000;

/** What one $import-vcf asks for. */
export interface VcfImport {
  patientId: string;
  /** GRCh37 or GRCh38; else the VCF header's. */
  build?: GenomicBuild;
  /** The sample column to import; required when the file has several. */
  sample?: string;
  sourceClass: GenomicSourceClass;
  testIdentifier: string;
  testDate?: string;
  specimenIdentifier?: string;
  /** BED text of the regions studied (0-based half-open, like the store). */
  regionStudied?: string;
  /** Also store each call's variant Observation as a resource, referenced from the report (small panels only). */
  materialize?: boolean;
  /**
   * Sites whose genotypes are kept whatever they are, reference and no-call included (accession →
   * 1-based VCF POS). Default on GRCh38: the defined positions of the star-allele definitions
   * (ctx.pgx), which must tell "called reference" from "not in the file".
   */
  sites?: SitesOfInterest;
}

/** Accession → 1-based VCF positions. */
export type SitesOfInterest = ReadonlyMap<string, ReadonlySet<number>>;

/** Calls an import may materialise as Observation resources; a larger file is refused (a genome belongs in the store). */
export const MAX_MATERIALIZED = 10_000;

/** What an import did. */
export interface ImportSummary {
  studyId: string;
  reportId: string;
  build: GenomicBuild;
  sample: string;
  variants: number;
  dataLines: number;
  /** True when an earlier import of the same test was replaced. */
  replaced: boolean;
}

/** Imports one sample of a VCF stream for a patient; `progress` is told the count now and then. */
export async function importVcf(
  ctx: FhirContext, source: NodeJS.ReadableStream | Buffer, args: VcfImport, progress?: (variants: number, lines: number) => Promise<void>,
): Promise<ImportSummary> {
  const summary = await ctx.db.transaction(async (q): Promise<ImportSummary> => {
    const patient = await readCurrent(q, 'Patient', args.patientId);
    if (!patient || patient.deleted) throw notFound(`Patient/${args.patientId} is not known`);
    // Concurrent imports of one test wait for each other instead of racing on the unique key.
    await lockKey(q, `genomic-study:${args.patientId}:${args.testIdentifier}`);
    const earlier = await lockStudy(q, args.patientId, args.testIdentifier);
    if (earlier) await deleteVariants(q, earlier);

    const headerLines: string[] = [];
    let header: VcfHeader | undefined;
    let study: GenomicStudy | undefined;
    let sampleIndex = 0;
    let batch: VariantBatch | undefined;
    let written = 0;
    let dataLines = 0;
    const changeTypes = new Set<string>();
    const kept: VariantCall[] = [];
    const sites: (SiteGenotype & { line: number })[] = [];
    let keepSites: SitesOfInterest | undefined;
    // One batch is written while the next is parsed: at most one statement in flight.
    let writing: Promise<void> = Promise.resolve();
    const flush = async (full: VariantBatch): Promise<void> => {
      written += full.size;
      batch = new VariantBatch(q, study as GenomicStudy, written);
      await writing;
      writing = full.write();
      writing.catch(() => undefined); // awaited (and thrown) by the next flush or at the end
      await progress?.(written, dataLines);
    };
    try {
      for await (const lines of vcfLineBatches(source)) {
        for (const { lineNumber, text } of lines) {
          if (!header) {
            if (text.startsWith('#')) { headerLines.push(text); continue; }
            if (text.trim() === '') continue;
            header = readVcfHeader(headerLines);
            const chosen = chooseSample(header, args.sample);
            sampleIndex = chosen.index;
            const build = chooseBuild(header, args.build);
            study = {
              id: earlier?.id ?? randomUUID(), reportId: earlier?.reportId ?? randomUUID(), patientId: args.patientId, build,
              sourceClass: args.sourceClass, testIdentifier: args.testIdentifier, sampleName: chosen.name, changeTypes: [],
              ...(args.testDate ? { testDate: args.testDate } : {}),
              ...(args.specimenIdentifier ? { specimenIdentifier: args.specimenIdentifier } : {}),
              ...(args.regionStudied !== undefined ? { regionsStudied: parseBed(args.regionStudied, build) } : {}),
            };
            study = await saveStudy(q, study, 0);
            batch = new VariantBatch(q, study, 0);
            keepSites = args.sites ?? (build === 'GRCh38' ? ctx.pgx.sites : undefined);
          }
          if (text.trim() === '' || text.startsWith('#')) continue;
          dataLines++;
          if (keepSites) {
            const build = (study as GenomicStudy).build;
            const at = siteOf(header, text, build);
            if (at && keepSites.get(at.sequence)?.has(at.pos)) sites.push({ ...siteGenotypeOf(header, text, lineNumber, sampleIndex, build), line: lineNumber });
          }
          for (const call of callsOf(header, text, lineNumber, sampleIndex, (study as GenomicStudy).build)) {
            changeTypes.add(changeTypeOf(call));
            (batch as VariantBatch).add(call);
            if (args.materialize) {
              if (kept.length === MAX_MATERIALIZED) throw unprocessable([{ severity: 'error', code: 'too-costly', diagnostics: `materialize stores at most ${MAX_MATERIALIZED.toLocaleString('en')} variant Observations; this file has more — import it without materialize and ask the genomics operations` }]);
              kept.push(call);
            }
          }
        }
        if (batch && batch.size >= BATCH) await flush(batch);
      }
    } catch (err) {
      if (err instanceof VcfError) throw badRequest(`VCF ${err.message}`);
      throw err;
    }
    if (!header || !study || !batch) throw badRequest('The VCF has no data lines (or no #CHROM header line)');
    await flush(batch);
    await writing;
    await insertSiteGenotypes(q, study, sites);
    study = { ...study, changeTypes: [...changeTypes].sort() };
    study = await saveStudy(q, study, written);
    const resultIds = await materializeVariants(ctx, q, study, kept);
    await writeStudyResources(ctx, q, study, resultIds);
    return { studyId: study.id, reportId: study.reportId, build: study.build, sample: study.sampleName, variants: written, dataLines, replaced: !!earlier };
  });
  // The variant table's statistics after a load (autovacuum may be slow, or off, and PGlite has none).
  ctx.statistics.wrote(summary.variants);
  return summary;
}

/** Writes the genomic-study Procedure and genomic-report DiagnosticReport (a new version of each when re-imported). */
async function writeStudyResources(ctx: FhirContext, q: Queryable, study: GenomicStudy, resultIds: string[]): Promise<void> {
  for (const resource of [genomicStudyProcedure(study, { id: study.id }), genomicReport(study, { id: study.reportId, resultIds })]) await put(ctx, q, resource);
}

/**
 * Stores the variant Observations of `calls` as resources, with the ids the operations give them
 * (`{study}-{n}`, so a re-import writes new versions of the same resources); returns their ids.
 */
async function materializeVariants(ctx: FhirContext, q: Queryable, study: GenomicStudy, calls: readonly VariantCall[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [ord, call] of calls.entries()) {
    const resource = variantObservation(call, study, { id: `${study.id}-${ord}` });
    await put(ctx, q, resource);
    ids.push(resource.id as string);
  }
  return ids;
}

async function put(ctx: FhirContext, q: Queryable, resource: Resource): Promise<void> {
  const id = resource.id as string;
  const current = await readCurrent(q, resource.resourceType, id);
  const written = await writeNext(ctx, q, resource, id, 'PUT', current);
  if (!written) throw new FhirError(409, [{ severity: 'error', code: 'conflict', diagnostics: `${resource.resourceType}/${id} changed during the import; retry` }]);
}

function chooseSample(header: VcfHeader, wanted: string | undefined): { index: number; name: string } {
  const { samples } = header;
  if (samples.length === 0) throw badRequest('The VCF has no sample columns: there are no genotypes to import');
  if (wanted !== undefined) {
    const index = samples.indexOf(wanted);
    if (index < 0) throw badRequest(`sample ${wanted.slice(0, 80)} is not in the VCF; it has ${samples.slice(0, 20).join(', ')}`);
    return { index, name: wanted };
  }
  if (samples.length > 1) throw badRequest(`The VCF has ${samples.length} samples (${samples.slice(0, 20).join(', ')}); say which with the sample parameter`);
  return { index: 0, name: samples[0] as string };
}

function chooseBuild(header: VcfHeader, asked: GenomicBuild | undefined): GenomicBuild {
  if (asked && header.build && asked !== header.build) {
    throw unprocessable([{ severity: 'error', code: 'business-rule', diagnostics: `genomicBuild ${asked} contradicts the VCF header, which says ${header.build}` }]);
  }
  const build = asked ?? header.build;
  if (!build) throw badRequest('The VCF header does not name its reference genome; give genomicBuild (GRCh37 or GRCh38)');
  return build;
}

/** Parses BED regions (chrom, 0-based start, exclusive end; header and comment lines skipped). */
export function parseBed(text: string, build: GenomicBuild): GenomicRange[] {
  const out: GenomicRange[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '' || /^(#|track|browser)/.test(line)) continue;
    const [chrom, start, end] = line.split(/\t| +/);
    const sequence = chrom ? accessionFor(build, chrom) : undefined;
    const s = Number(start);
    const e = Number(end);
    if (!sequence || !Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e <= s) {
      throw badRequest(`regionStudied line ${i + 1} is not a BED region (chrom, start, end) on ${build}: ${line.slice(0, 80)}`);
    }
    out.push({ sequence, build, chromosome: chrom as string, start: s, end: e });
  }
  return out;
}
