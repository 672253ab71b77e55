// Operation parameters (operations.html#executing): from the query string of a GET, a form body,
// or a Parameters resource of a POST, read the same way by every operation.
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import type { FhirRequest } from '../fhir/types.js';

/**
 * The invocation's parameters as name=value pairs (operations.html#request): the URL's, a form
 * body's, or a Parameters body's, whose Coding values become `system|code`, Periods `start/end`
 * and References their reference, so that GET and POST are parsed by the same code.
 */
export function invocationParams(req: FhirRequest): URLSearchParams {
  const out = new URLSearchParams(req.query);
  const body = req.body;
  if (body instanceof URLSearchParams) {
    for (const [k, v] of body) out.append(k, v);
  } else if (body !== undefined && body !== null) {
    if ((body as Parameters).resourceType !== 'Parameters') throw badRequest('The body of this operation must be a Parameters resource');
    for (const p of (body as Parameters).parameter ?? []) out.append(p.name ?? '', parameterText(p));
  }
  return out;
}

function parameterText(p: ParametersParameter): string {
  if (p.valueCoding) return p.valueCoding.system ? `${p.valueCoding.system}|${p.valueCoding.code ?? ''}` : (p.valueCoding.code ?? '');
  if (p.valuePeriod) return `${p.valuePeriod.start ?? ''}/${p.valuePeriod.end ?? ''}`;
  if (p.valueReference?.reference) return p.valueReference.reference;
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) return String(v);
  }
  throw badRequest(`Parameter ${String(p.name).slice(0, 60)} needs a primitive, Coding, Period or Reference value`);
}

/** The values of one parameter, comma-separated lists split and every item trimmed. */
export function listValues(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** The values of the named parameters, comma-separated lists split (for id-list style parameters). */
export function listParams(req: FhirRequest, names: readonly string[]): Record<string, string[]> {
  const all = invocationParams(req);
  return Object.fromEntries(names.map((n) => [n, listValues(all, n)]));
}
