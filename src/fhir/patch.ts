// patch — http.html#patch: PATCH [type]/[id] with a JSON Patch (application/json-patch+json) or a
// FHIRPath Patch (a Parameters resource, fhirpatch.html); conditional patch: PATCH [type]?criteria.
// The patched resource is validated like an update and written with the same optimistic locking.
import type { Parameters, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import { readCurrent } from '../storage/resource-store.js';
import { lockAndMatch, parseCondition } from './conditional.js';
import { badRequest, conflict, gone, notFound, preconditionFailed, unsupportedMediaType } from './errors.js';
import { applyFhirPathPatch } from './patching/fhirpath-patch.js';
import { applyJsonPatch } from './patching/json-patch.js';
import { etagVersion } from './read.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { parseStored, validateForWrite, writeResponse } from './write.js';
import { writeNext } from './update.js';

/** Patches [type]/[id]. */
export async function patch(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string, id: string): Promise<FhirResponse> {
  return patchResource(ctx, s.q, req, resourceType, id);
}

/** Patches the single resource matching PATCH [type]?criteria. */
export async function conditionalPatch(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string): Promise<FhirResponse> {
  const params = parseCondition(req.query.toString());
  return s.atomically(async (q) => {
    const matches = await lockAndMatch(ctx, q, resourceType, params, 2);
    if (matches.length === 0) throw notFound(`No ${resourceType} matches the conditional patch`);
    if (matches.length > 1) throw preconditionFailed(`Conditional patch matched ${matches.length} or more ${resourceType} resources`);
    return patchResource(ctx, q, req, resourceType, (matches[0] as { id: string }).id);
  });
}

async function patchResource(ctx: FhirContext, q: Queryable, req: FhirRequest, resourceType: string, id: string): Promise<FhirResponse> {
  const expected = req.headers.ifMatch ? etagVersion(req.headers.ifMatch) : undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await readCurrent(q, resourceType, id);
    if (!current) throw notFound(`${resourceType}/${id} is not known`);
    if (current.deleted || current.content === null) throw gone(`${resourceType}/${id} was deleted`);
    if (expected !== undefined && String(current.versionId) !== expected) {
      throw preconditionFailed(`If-Match ${req.headers.ifMatch} does not match the current version (${current.versionId})`);
    }
    const patched = applyPatchBody(req, parseStored(current.content));
    if (patched.resourceType !== resourceType || patched.id !== id) {
      throw badRequest('A patch may not change resourceType or id');
    }
    const warnings = validateForWrite(ctx, req, patched, 'update');
    const written = await writeNext(ctx, q, patched, id, 'PATCH', current);
    if (written) return writeResponse(ctx, req, 200, written.stored, written.content, warnings);
    if (expected !== undefined) throw preconditionFailed(`If-Match ${req.headers.ifMatch}: the resource was changed concurrently`);
  }
  throw conflict(`${resourceType}/${id} is being updated too often concurrently; retry`);
}

function applyPatchBody(req: FhirRequest, resource: Resource): Resource {
  const type = req.contentType;
  if (type === 'application/json-patch+json') return applyJsonPatch(resource, req.body) as Resource;
  if (type === 'application/fhir+json' || type === 'application/json' || type === 'application/fhir+xml' || type === 'application/xml') {
    const body = req.body as { resourceType?: string } | undefined;
    if (body?.resourceType !== 'Parameters') throw badRequest('A FHIRPath Patch body must be a Parameters resource');
    return applyFhirPathPatch(resource, body as Parameters);
  }
  throw unsupportedMediaType(`PATCH accepts application/json-patch+json or a FHIRPath Patch as application/fhir+json, not ${type ?? 'no Content-Type'}`);
}
