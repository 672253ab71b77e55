// Which FHIR interaction a request is (http.html#summary, operations.html, search.html#compartment):
// the path and method decide it, before anything runs. The router dispatches on the result and
// authorization (src/smart/enforce.ts) checks it, so both agree on what a request does.
import type { OperationTarget } from '../operations/registry.js';
import { badRequest, methodNotAllowed, notFound } from './errors.js';
import type { FhirContext, FhirRequest } from './types.js';

/** One interaction, with what identifies its target. */
export type Interaction =
  | { kind: 'transaction' }
  | { kind: 'capabilities' }
  | { kind: 'search-system'; params: URLSearchParams }
  | { kind: 'history-system' }
  | { kind: 'async-status'; id: string }
  | { kind: 'operation'; name: string; target: OperationTarget }
  | { kind: 'search-type'; resourceType: string; params: URLSearchParams; compartment?: { type: string; id: string } }
  | { kind: 'create' | 'conditional-update' | 'conditional-patch' | 'conditional-delete' | 'history-type'; resourceType: string }
  | { kind: 'read' | 'update' | 'patch' | 'delete' | 'history-instance'; resourceType: string; id: string }
  | { kind: 'vread'; resourceType: string; id: string; vid: string };

/** Classifies a request; unknown endpoints are 404 and wrong methods 405, as before anything runs. */
export function classify(ctx: FhirContext, req: FhirRequest): Interaction {
  const segments = req.path.split('/').filter((p) => p.length > 0).map(safeDecode);
  const [first, second, third, fourth, ...rest] = segments;
  if (rest.length) throw notFound(`No FHIR endpoint at /${req.path.slice(0, 200)}`);
  const m = req.method === 'HEAD' ? 'GET' : req.method;

  if (first === undefined) {
    if (m === 'POST') return { kind: 'transaction' };
    return only(m, 'GET', { kind: 'search-system', params: req.query });
  }
  if (first === '_search' && second === undefined) return only(m, 'POST', { kind: 'search-system', params: mergeForm(req) });
  if (first === 'metadata') return only(m, 'GET', { kind: 'capabilities' });
  if (first === '_history') return only(m, 'GET', { kind: 'history-system' });
  if (first === '_async' && second !== undefined && third === undefined) {
    if (m !== 'GET' && m !== 'DELETE') throw methodNotAllowed(`${req.method} is not allowed on a status URL; use GET or DELETE`);
    return { kind: 'async-status', id: second };
  }
  if (first.startsWith('$')) return { kind: 'operation', name: first.slice(1), target: {} };

  const resourceType = first;
  if (!ctx.defs.resourceTypes.has(resourceType)) throw notFound(`Unknown resource type "${resourceType.slice(0, 80)}"`);

  if (second === undefined) {
    switch (m) {
      case 'GET': return { kind: 'search-type', resourceType, params: req.query };
      case 'POST': return { kind: 'create', resourceType };
      case 'PUT': return { kind: 'conditional-update', resourceType };
      case 'PATCH': return { kind: 'conditional-patch', resourceType };
      case 'DELETE': return { kind: 'conditional-delete', resourceType };
    }
  }
  if (second === '_search' && third === undefined) {
    return only(m, 'POST', { kind: 'search-type', resourceType, params: mergeForm(req) });
  }
  if (second === '_history' && third === undefined) return only(m, 'GET', { kind: 'history-type', resourceType });
  if (second?.startsWith('$') && third === undefined) return { kind: 'operation', name: second.slice(1), target: { resourceType } };

  const id = second as string;
  if (third === undefined) {
    switch (m) {
      case 'GET': return { kind: 'read', resourceType, id };
      case 'PUT': return { kind: 'update', resourceType, id };
      case 'PATCH': return { kind: 'patch', resourceType, id };
      case 'DELETE': return { kind: 'delete', resourceType, id };
      default: throw methodNotAllowed(`${req.method} is not allowed on ${resourceType}/[id]`);
    }
  }
  if (third.startsWith('$') && fourth === undefined) return { kind: 'operation', name: third.slice(1), target: { resourceType, id } };
  if (resourceType === 'Patient' && ctx.defs.resourceTypes.has(third) && fourth === undefined) {
    // Compartment search (search.html#compartment): GET Patient/[id]/[type]?…
    return only(m, 'GET', { kind: 'search-type', resourceType: third, params: req.query, compartment: { type: 'Patient', id } });
  }
  if (third === '_history') {
    if (fourth === undefined) return only(m, 'GET', { kind: 'history-instance', resourceType, id });
    return only(m, 'GET', { kind: 'vread', resourceType, id, vid: fourth });
  }
  throw notFound(`No FHIR endpoint at /${req.path.slice(0, 200)}`);
}

function only(method: string, allowed: string, interaction: Interaction): Interaction {
  if (method !== allowed) throw methodNotAllowed(`${method} is not allowed here; use ${allowed}`);
  return interaction;
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
