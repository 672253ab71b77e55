// Patient/[id]/$import-vcf — Helix's VCF import (no HL7 OperationDefinition exists for it): a
// VCF 4.x file, plain, gzip or BGZF, as the raw body (text/vcf, application/gzip) or as a
// Parameters body whose `vcf` Attachment carries it, with genomicBuild, sample,
// genomicSourceClass, testIdentifier, testDate, specimenIdentifier, regionStudied (BED) and
// materialize (also store the variant Observations as resources) from the query or the
// Parameters. With `Prefer: respond-async` the upload is spooled to a temporary file and
// imported as a job (src/fhir/async.ts). Output: the study, the report and counts.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Parameters } from '@medplum/fhirtypes';
import { startAsync } from '../fhir/async.js';
import { badRequest } from '../fhir/errors.js';
import { parsePrefer } from '../fhir/prefer.js';
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/types.js';
import { importVcf, type ImportSummary, type VcfImport } from '../genomics/import.js';
import { parseBuild } from '../genomics/refseq.js';
import type { OperationDefinitionEntry } from './registry.js';

const DATE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const KNOWN = new Set(['vcf', 'genomicBuild', 'sample', 'genomicSourceClass', 'testIdentifier', 'testDate', 'specimenIdentifier', 'regionStudied', 'materialize']);

/** The $import-vcf operation on a Patient instance. */
export const importVcfOperation: OperationDefinitionEntry = {
  name: 'import-vcf',
  definition: 'https://helix-fhir.dev/OperationDefinition/import-vcf',
  system: false,
  type: false,
  instance: true,
  affectsState: true,
  streamedBody: true,
  resourceTypes: ['Patient'],
  async invoke(ctx, _s, req, target) {
    const { args, source } = readInvocation(req, target.id as string);
    if (!parsePrefer(req.headers.prefer).respondAsync) return summaryResponse(ctx, await importVcf(ctx, source, args));
    // The request body cannot outlive the request, so the job reads a spooled copy.
    const dir = await mkdtemp(join(tmpdir(), 'helix-vcf-'));
    const file = join(dir, 'upload');
    try {
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, createWriteStream(file));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return startAsync(ctx, req, 'import-vcf', async (job) => {
      try {
        const summary = await importVcf(ctx, createReadStream(file), args, (variants, lines) =>
          job.progress(`${variants.toLocaleString('en')} variants from ${lines.toLocaleString('en')} data lines`));
        return summaryResponse(ctx, summary);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
};

function readInvocation(req: FhirRequest, patientId: string): { args: VcfImport; source: NodeJS.ReadableStream | Buffer } {
  const values = new Map<string, string>();
  let source: NodeJS.ReadableStream | Buffer | undefined;
  for (const [k, v] of req.query) values.set(k, v);
  if (req.body instanceof Readable) {
    source = req.body;
  } else if (req.body !== undefined) {
    const params = req.body as Parameters;
    if (params.resourceType !== 'Parameters') throw badRequest('$import-vcf takes a VCF body (text/vcf, application/gzip) or a Parameters resource');
    for (const p of params.parameter ?? []) {
      const name = p.name ?? '';
      if (name === 'vcf' || (name === 'regionStudied' && p.valueAttachment)) {
        const data = p.valueAttachment?.data;
        if (!data) throw badRequest(`Parameter ${name} needs an Attachment with base64 data`);
        const bytes = Buffer.from(data, 'base64');
        if (name === 'vcf') source = bytes;
        else values.set(name, bytes.toString('utf8'));
      } else {
        const v = p.valueString ?? p.valueCode ?? p.valueDate ?? p.valueDateTime ?? p.valueIdentifier?.value ?? (p.valueBoolean === undefined ? undefined : String(p.valueBoolean));
        if (v === undefined) throw badRequest(`Parameter ${name.slice(0, 60)} needs a string, code, date or Identifier value`);
        values.set(name, v);
      }
    }
  }
  for (const name of values.keys()) {
    if (!KNOWN.has(name) && !name.startsWith('_')) throw badRequest(`Unknown $import-vcf parameter ${name.slice(0, 60)}; known: ${[...KNOWN].join(', ')}`);
  }
  if (!source) throw badRequest('$import-vcf needs the VCF: as the body (Content-Type text/vcf or application/gzip) or as a vcf Attachment in a Parameters body');
  const testIdentifier = values.get('testIdentifier');
  if (!testIdentifier) throw badRequest('testIdentifier is required: it names the test, and importing it again replaces it');
  const buildText = values.get('genomicBuild');
  const build = buildText !== undefined ? parseBuild(buildText) : undefined;
  if (buildText !== undefined && !build) throw badRequest(`genomicBuild ${buildText.slice(0, 40)} is not GRCh37 or GRCh38`);
  const sourceClass = values.get('genomicSourceClass') ?? 'germline';
  if (sourceClass !== 'germline' && sourceClass !== 'somatic') throw badRequest('genomicSourceClass must be germline or somatic');
  const testDate = values.get('testDate');
  if (testDate !== undefined && !DATE.test(testDate)) throw badRequest(`testDate ${testDate.slice(0, 40)} is not a FHIR date or dateTime`);
  const args: VcfImport = { patientId, sourceClass, testIdentifier };
  if (build) args.build = build;
  for (const k of ['sample', 'specimenIdentifier', 'regionStudied'] as const) {
    const v = values.get(k);
    if (v !== undefined) args[k] = v;
  }
  if (testDate) args.testDate = testDate;
  const materialize = values.get('materialize');
  if (materialize !== undefined && materialize !== 'true' && materialize !== 'false') throw badRequest('materialize must be true or false');
  if (materialize === 'true') args.materialize = true;
  return { args, source };
}

function summaryResponse(ctx: FhirContext, s: ImportSummary): FhirResponse {
  const base = ctx.config.baseUrl.replace(/\/+$/, '');
  return {
    status: 200,
    headers: { Location: `${base}/DiagnosticReport/${s.reportId}` },
    resource: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'study', valueReference: { reference: `Procedure/${s.studyId}` } },
        { name: 'report', valueReference: { reference: `DiagnosticReport/${s.reportId}` } },
        { name: 'genomicBuild', valueCode: s.build },
        { name: 'sample', valueString: s.sample },
        { name: 'variants', valueInteger: s.variants },
        { name: 'dataLines', valueInteger: s.dataLines },
        { name: 'replaced', valueBoolean: s.replaced },
      ],
    },
  };
}
