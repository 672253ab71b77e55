// The HTTP-independent FHIR router (http.html#summary): maps a FhirRequest to the interaction
// module that implements it. Single requests and transaction entries both come through here.
import { capabilities } from './capabilities.js';
import { conditionalDelete, deleteResource } from './delete.js';
import { create } from './create.js';
import { badRequest, methodNotAllowed, notFound } from './errors.js';
import { history } from './history.js';
import { conditionalPatch, patch } from './patch.js';
import { read } from './read.js';
import { searchSystem, searchType } from './search.js';
import { shapeText } from './summary.js';
import { transactionOrBatch } from './transaction.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { conditionalUpdate, update } from './update.js';
import { vread } from './vread.js';
import { invokeOperation } from '../operations/registry.js';

/** Routes one FHIR request to its interaction. */
export async function route(ctx: FhirContext, s: Session, req: FhirRequest): Promise<FhirResponse> {
  const segments = req.path.split('/').filter((p) => p.length > 0).map(safeDecode);
  const [first, second, third, fourth, ...rest] = segments;
  if (rest.length) throw notFound(`No FHIR endpoint at /${req.path.slice(0, 200)}`);
  const m = req.method === 'HEAD' ? 'GET' : req.method;

  if (first === undefined) {
    if (m === 'POST') return transactionOrBatch(ctx, s, req);
    return only(m, 'GET', () => searchSystem(ctx, s, req, req.query));
  }
  if (first === '_search' && second === undefined) return only(m, 'POST', () => searchSystem(ctx, s, req, mergeForm(req)));
  if (first === 'metadata') return only(m, 'GET', () => capabilities(ctx, req));
  if (first === '_history') return only(m, 'GET', () => history(ctx, s, req));
  if (first.startsWith('$')) return invokeOperation(ctx, s, req, first.slice(1), {});

  const resourceType = first;
  if (!ctx.defs.resourceTypes.has(resourceType)) throw notFound(`Unknown resource type "${resourceType.slice(0, 80)}"`);

  if (second === undefined) {
    switch (m) {
      case 'GET': return searchType(ctx, s, req, resourceType, req.query);
      case 'POST': return create(ctx, s, req, resourceType);
      case 'PUT': return conditionalUpdate(ctx, s, req, resourceType);
      case 'PATCH': return conditionalPatch(ctx, s, req, resourceType);
      case 'DELETE': return conditionalDelete(ctx, s, req, resourceType);
    }
  }
  if (second === '_search' && third === undefined) {
    return only(m, 'POST', () => searchType(ctx, s, req, resourceType, mergeForm(req)));
  }
  if (second === '_history' && third === undefined) return only(m, 'GET', () => history(ctx, s, req, resourceType));
  if (second?.startsWith('$') && third === undefined) return invokeOperation(ctx, s, req, second.slice(1), { resourceType });

  const id = second as string;
  if (third === undefined) {
    switch (m) {
      case 'GET': return shaped(ctx, req, await read(ctx, s, req, resourceType, id));
      case 'PUT': return update(ctx, s, req, resourceType, id);
      case 'PATCH': return patch(ctx, s, req, resourceType, id);
      case 'DELETE': return deleteResource(ctx, s, req, resourceType, id);
      default: throw methodNotAllowed(`${req.method} is not allowed on ${resourceType}/[id]`);
    }
  }
  if (third.startsWith('$') && fourth === undefined) return invokeOperation(ctx, s, req, third.slice(1), { resourceType, id });
  if (resourceType === 'Patient' && ctx.defs.resourceTypes.has(third) && fourth === undefined) {
    // Compartment search (search.html#compartment): GET Patient/[id]/[type]?…
    return only(m, 'GET', () => searchType(ctx, s, req, third, req.query, { type: 'Patient', id }));
  }
  if (third === '_history') {
    if (fourth === undefined) return only(m, 'GET', () => history(ctx, s, req, resourceType, id));
    return only(m, 'GET', async () => shaped(ctx, req, await vread(ctx, s, req, resourceType, id, fourth)));
  }
  throw notFound(`No FHIR endpoint at /${req.path.slice(0, 200)}`);
}

function only(method: string, allowed: string, fn: () => Promise<FhirResponse> | FhirResponse): Promise<FhirResponse> | FhirResponse {
  if (method !== allowed) throw methodNotAllowed(`${method} is not allowed here; use ${allowed}`);
  return fn();
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('Malformed percent-encoding in the URL');
  }
}

/** POST [type]/_search: form fields and URL parameters together. */
function mergeForm(req: FhirRequest): URLSearchParams {
  const merged = new URLSearchParams(req.query);
  if (req.body instanceof URLSearchParams) for (const [k, v] of req.body) merged.append(k, v);
  return merged;
}

/** Applies _summary/_elements to a read's body. */
function shaped(ctx: FhirContext, req: FhirRequest, res: FhirResponse): FhirResponse {
  const summary = req.query.get('_summary') ?? undefined;
  const elements = req.query.get('_elements')?.split(',').filter(Boolean);
  if (!res.text || (!summary && !elements)) return res;
  if (summary && !['true', 'text', 'data', 'count', 'false'].includes(summary)) throw badRequest('_summary must be true, text, data, count or false');
  return { ...res, text: shapeText(ctx, res.text, summary, elements) };
}
