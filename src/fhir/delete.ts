// delete — http.html#delete: DELETE [type]/[id] writes a version recording the deletion (history
// keeps every earlier version; a later read is 410 Gone). Conditional delete (#3.1.0.7.1):
// DELETE [type]?criteria deletes every match, as the CapabilityStatement declares (`multiple`).
import type { Queryable } from '../db/database.js';
import { findMatches } from '../search/search.js';
import { readCurrent, updateResource, type StoredResource } from '../storage/resource-store.js';
import { parseCondition } from './conditional.js';
import { conflict, informational, notFound, preconditionFailed, tooLarge } from './errors.js';
import { parsePrefer } from './prefer.js';
import { etagVersion } from './read.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';

const MAX_CONDITIONAL_DELETES = 1000;

/** Deletes [type]/[id]. */
export async function deleteResource(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string, id: string): Promise<FhirResponse> {
  const expected = req.headers.ifMatch ? etagVersion(req.headers.ifMatch) : undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await readCurrent(s.q, resourceType, id);
    if (!current) throw notFound(`${resourceType}/${id} is not known`);
    if (expected !== undefined && String(current.versionId) !== expected) {
      throw preconditionFailed(`If-Match ${req.headers.ifMatch} does not match the current version (${current.versionId})`);
    }
    if (current.deleted) return deletedResponse(req, current.versionId, `${resourceType}/${id} was already deleted`);
    if (await writeDeletion(ctx, s.q, current)) return deletedResponse(req, current.versionId + 1, `${resourceType}/${id} deleted`);
    if (expected !== undefined) throw preconditionFailed(`If-Match ${req.headers.ifMatch}: the resource was changed concurrently`);
  }
  throw conflict(`${resourceType}/${id} is being updated too often concurrently; retry`);
}

/** Deletes every resource matching DELETE [type]?criteria. */
export async function conditionalDelete(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string): Promise<FhirResponse> {
  const params = parseCondition(req.query.toString());
  return s.atomically(async (q) => {
    const matches = await findMatches(ctx, q, resourceType, params, MAX_CONDITIONAL_DELETES + 1);
    if (matches.length > MAX_CONDITIONAL_DELETES) {
      throw tooLarge(`Conditional delete matched more than ${MAX_CONDITIONAL_DELETES} resources; narrow the criteria`);
    }
    for (const match of matches) {
      if (!(await writeDeletion(ctx, q, match))) throw conflict(`${resourceType}/${match.id} changed during the conditional delete; retry`);
    }
    return deletedResponse(req, undefined, matches.length ? `Deleted ${matches.length} ${resourceType} resource(s)` : `No ${resourceType} matched; nothing deleted`);
  });
}

/** Writes the deletion version after `current`; false if another writer got there first. */
export async function writeDeletion(ctx: FhirContext, q: Queryable, current: StoredResource): Promise<boolean> {
  const written = await updateResource(q, {
    resourceType: current.resourceType,
    id: current.id,
    versionId: current.versionId + 1,
    lastUpdated: ctx.now().toISOString(),
    method: 'DELETE',
    content: null,
    index: null,
  });
  if (written) ctx.statistics.wrote(1);
  return written;
}

function deletedResponse(req: FhirRequest, versionId: number | undefined, message: string): FhirResponse {
  const headers: Record<string, string> = versionId ? { ETag: `W/"${versionId}"` } : {};
  const prefer = parsePrefer(req.headers.prefer).return;
  if (prefer === 'OperationOutcome' || prefer === 'representation') return { status: 200, headers, resource: informational(message) };
  return { status: 204, headers };
}
