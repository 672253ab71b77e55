// The write path shared by create, update, patch and delete (http.html#create, #update): check the
// body, validate it, stamp meta, extract index rows, and shape the response per `Prefer`.
import type { Resource } from '@medplum/fhirtypes';
import { searchParameterIssues } from '../search/custom-params.js';
import { subscriptionIssues } from '../subscriptions/validate.js';
import type { IndexRows } from '../search/index-rows.js';
import type { StoredResource } from '../storage/resource-store.js';
import { badRequest, FhirError, informational, operationOutcome, type Issue } from './errors.js';
import { parsePrefer } from './prefer.js';
import type { FhirContext, FhirRequest, FhirResponse } from './types.js';

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Throws 400 unless `id` is a legal FHIR logical id. */
export function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw badRequest(`Invalid resource id "${id.slice(0, 80)}": 1-64 characters of A-Z a-z 0-9 - .`);
}

/** Throws 400 unless `body` is a resource of the expected type; returns it typed. */
export function requireResource(ctx: FhirContext, body: unknown, expectedType: string): Resource {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Request body must be a FHIR resource (JSON object)');
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string') throw badRequest('Resource is missing resourceType', ['resourceType']);
  if (!ctx.defs.resourceTypes.has(resourceType)) throw badRequest(`Unknown resource type "${resourceType.slice(0, 80)}"`, ['resourceType']);
  if (resourceType !== expectedType) {
    throw badRequest(`Resource type "${resourceType}" does not match the URL's type "${expectedType}"`, ['resourceType']);
  }
  return body as Resource;
}

/** Validates for create/update; throws 422 on errors, returns warnings and information. */
export function validateForWrite(ctx: FhirContext, req: FhirRequest, resource: Resource, mode: 'create' | 'update'): Issue[] {
  const strict = parsePrefer(req.headers.prefer).handling === 'strict';
  let issues = ctx.validator.validate(resource, { mode });
  if (resource.resourceType === 'SearchParameter') {
    issues = [...issues, ...searchParameterIssues(ctx.defs, resource, mode === 'update' ? resource.id : undefined)];
  }
  if (resource.resourceType === 'Subscription') issues = [...issues, ...subscriptionIssues(ctx, resource, mode)];
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal' || (strict && i.severity === 'warning'));
  if (errors.length) throw new FhirError(422, errors);
  return issues;
}

/** A resource stamped with its identity and version, ready to store. */
export interface Prepared {
  resource: Resource;
  content: string;
  index: IndexRows;
}

/** Sets id and meta.versionId/lastUpdated (overriding anything the client sent) and indexes. */
export function stamp(ctx: FhirContext, resource: Resource, id: string, versionId: number, lastUpdated: string): Prepared {
  const { resourceType, id: _ignoredId, meta, ...rest } = resource;
  // resourceType, id and meta first, as FHIR JSON conventionally orders them.
  const stamped = { resourceType, id, meta: { ...(meta ?? {}), versionId: String(versionId), lastUpdated }, ...rest } as Resource;
  return { resource: stamped, content: JSON.stringify(stamped), index: ctx.extractor.extract(stamped) };
}

/** HTTP date (RFC 7231) for Last-Modified. */
export const httpDate = (iso: string): string => new Date(iso).toUTCString();

/** ETag, Last-Modified and Location headers for a stored version. */
export function versionHeaders(ctx: FhirContext, s: Pick<StoredResource, 'resourceType' | 'id' | 'versionId' | 'lastUpdated'>): Record<string, string> {
  return {
    ETag: `W/"${s.versionId}"`,
    'Last-Modified': httpDate(s.lastUpdated),
    Location: `${ctx.config.baseUrl}/${s.resourceType}/${s.id}/_history/${s.versionId}`,
  };
}

/** The response to a successful write, honouring `Prefer: return=…`. */
export function writeResponse(
  ctx: FhirContext,
  req: FhirRequest,
  status: number,
  stored: Pick<StoredResource, 'resourceType' | 'id' | 'versionId' | 'lastUpdated'>,
  content: string,
  warnings: Issue[] = [],
): FhirResponse {
  const headers = versionHeaders(ctx, stored);
  const prefer = parsePrefer(req.headers.prefer).return;
  if (prefer === 'minimal') return { status, headers };
  if (prefer === 'OperationOutcome') {
    const outcome = warnings.length ? operationOutcome(warnings) : informational(`${stored.resourceType}/${stored.id} version ${stored.versionId} saved`);
    return { status, headers, resource: outcome };
  }
  return { status, headers, text: content };
}

/** Parses a stored JSON text (always valid: it was produced by JSON.stringify). */
export const parseStored = (content: string): Resource => JSON.parse(content) as Resource;
