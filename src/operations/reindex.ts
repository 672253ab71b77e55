// $reindex — rebuilds search-index rows of stored resources as a background job (HAPI FHIR and
// Medplum offer the same operation; it is not part of R4 itself). POST queues a job and answers
// 202 with the job's status URL in Content-Location (the async pattern of Bulk Data 2.0);
// GET [base]/$reindex?job=N reports its progress, GET [base]/$reindex lists the recent jobs.
// Jobs for custom SearchParameters are queued by the server itself (search/custom-params.ts).
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, notFound, operationOutcome } from '../fhir/errors.js';
import { queueReindexJob, readReindexJob, recentReindexJobs, type ReindexJob } from '../storage/reindex-store.js';
import type { FhirResponse } from '../fhir/types.js';
import type { OperationDefinitionEntry } from './registry.js';

/** The $reindex operation (system and type level). */
export const reindexOperation: OperationDefinitionEntry = {
  name: 'reindex',
  definition: 'https://helix-fhir.dev/OperationDefinition/reindex',
  system: true,
  type: true,
  instance: false,
  affectsState: true,
  statusByGet: true,
  async invoke(ctx, s, req, target): Promise<FhirResponse> {
    const base = ctx.config.baseUrl.replace(/\/+$/, '');
    if (req.method === 'GET') {
      const id = req.query.get('job');
      if (id === null) {
        const jobs = await recentReindexJobs(s.q, 20);
        return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter: jobs.map((j) => ({ name: 'job', part: jobParameters(j) })) } };
      }
      if (!/^\d{1,18}$/.test(id)) throw badRequest('job must be the number of a reindex job');
      const job = await readReindexJob(s.q, id);
      if (!job) throw notFound(`Reindex job ${id} is not known`);
      return { status: 200, headers: { 'X-Progress': progressText(job) }, resource: { resourceType: 'Parameters', parameter: jobParameters(job) } };
    }

    const args = inputs(req.body, req.query);
    let types = target.resourceType ? [target.resourceType] : args.types;
    for (const t of types) if (!ctx.defs.resourceTypes.has(t)) throw badRequest(`type ${t.slice(0, 60)} is not a resource type`);
    let codes: string[] | null = null;
    if (args.url) {
      const bases = [...ctx.defs.resourceTypes].filter((t) => ctx.defs.searchParameters(t).some((p) => p.url === args.url));
      if (!bases.length) throw badRequest(`No search parameter with url ${args.url.slice(0, 200)} is registered`);
      const sp = ctx.defs.searchParameters(bases[0] as string).find((p) => p.url === args.url);
      codes = [sp?.code as string];
      types = types.length ? types.filter((t) => bases.includes(t)) : bases;
      if (!types.length) throw badRequest(`${args.url.slice(0, 200)} does not apply to the types named`);
    }
    const job = await queueReindexJob(s.q, types.length ? types : [...ctx.defs.resourceTypes].sort(), codes);
    ctx.reindex.nudge();
    const outcome = operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `Reindex job ${job.id} queued` }]);
    return { status: 202, headers: { 'Content-Location': `${base}/$reindex?job=${job.id}` }, resource: outcome };
  },
};

function inputs(body: unknown, query: URLSearchParams): { types: string[]; url?: string } {
  const types = query.getAll('type').flatMap((t) => t.split(',')).filter(Boolean);
  let url = query.get('url') ?? undefined;
  const params = body as Parameters | undefined;
  if (params && typeof params === 'object' && Object.keys(params).length) {
    if (params.resourceType !== 'Parameters') throw badRequest('$reindex takes a Parameters body (type, url) or none');
    for (const p of params.parameter ?? []) {
      if (p.name === 'type') types.push(...String(p.valueCode ?? p.valueString ?? '').split(',').filter(Boolean));
      else if (p.name === 'url') url = p.valueUri ?? p.valueCanonical ?? p.valueString;
      else throw badRequest(`Unknown $reindex parameter ${String(p.name).slice(0, 60)}`);
    }
  }
  return { types, ...(url ? { url } : {}) };
}

const percent = (j: ReindexJob): number =>
  j.status === 'completed' ? 100 : j.total ? Math.min(99, Math.floor((j.processed / j.total) * 100)) : 0;

function progressText(j: ReindexJob): string {
  return j.status === 'running' ? `${percent(j)}% (${j.phase === 'scan' ? 'indexing' : 'final sweep'})` : j.status;
}

function jobParameters(j: ReindexJob): ParametersParameter[] {
  const out: ParametersParameter[] = [
    { name: 'job', valueString: j.id },
    { name: 'status', valueCode: j.status },
    ...j.resourceTypes.map((t) => ({ name: 'type', valueCode: t })),
    ...(j.codes ?? []).map((c) => ({ name: 'code', valueCode: c })),
    { name: 'processed', valueInteger: j.processed },
    { name: 'progress', valueDecimal: percent(j) },
    { name: 'created', valueInstant: j.created },
  ];
  if (j.total !== null) out.push({ name: 'total', valueInteger: j.total });
  if (j.searchParameter) out.push({ name: 'searchParameter', valueReference: { reference: `SearchParameter/${j.searchParameter.id}/_history/${j.searchParameter.version}` } });
  if (j.started) out.push({ name: 'started', valueInstant: j.started });
  if (j.finished) out.push({ name: 'finished', valueInstant: j.finished });
  if (j.error) out.push({ name: 'error', valueString: j.error });
  return out;
}
