// update — http.html#update: PUT [type]/[id], including update-as-create with a client-chosen id
// (#upsert), version-aware updates with If-Match (#concurrency) and conditional update
// (#cond-update): PUT [type]?criteria.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { insertResource, readCurrent, updateResource, type StoredResource } from '../storage/resource-store.js';
import { lockAndMatch, parseCondition } from './conditional.js';
import { badRequest, conflict, type Issue, preconditionFailed } from './errors.js';
import { etagVersion } from './read.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { checkId, requireResource, stamp, validateForWrite, writeResponse } from './write.js';
import type { Queryable } from '../db/database.js';

const MAX_ATTEMPTS = 20;

/** Updates (or creates) the resource at [type]/[id]. */
export async function update(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string, id: string): Promise<FhirResponse> {
  checkId(id);
  const resource = requireResource(ctx, req.body, resourceType);
  if (resource.id === undefined) throw badRequest('Resource in an update must carry the id from the URL', ['id']);
  if (resource.id !== id) throw badRequest(`Resource id "${String(resource.id).slice(0, 80)}" does not match the URL id "${id}"`, ['id']);
  const warnings = validateForWrite(ctx, req, resource, 'update');
  return putVersion(ctx, s.q, req, resource, id, 'PUT', warnings);
}

/** Conditional update: PUT [type]?criteria. */
export async function conditionalUpdate(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string): Promise<FhirResponse> {
  const resource = requireResource(ctx, req.body, resourceType);
  const params = parseCondition(req.query.toString());
  // Validated as a create first (it may lack an id); the id is settled under the lock below.
  const warnings = validateForWrite(ctx, req, resource, 'create');
  return s.atomically(async (q) => {
    const matches = await lockAndMatch(ctx, q, resourceType, params, 2);
    if (matches.length > 1) throw preconditionFailed(`Conditional update matched ${matches.length} or more ${resourceType} resources`);
    const match = matches[0];
    if (match && resource.id !== undefined && resource.id !== match.id) {
      throw badRequest(`Resource id "${resource.id}" differs from the id of the matching resource`, ['id']);
    }
    const id = match?.id ?? resource.id ?? randomUUID();
    checkId(id);
    return putVersion(ctx, q, req, { ...resource, id } as Resource, id, 'PUT', warnings);
  });
}

/**
 * Writes `resource` as the next version of [type]/[id] (or its first), honouring If-Match.
 * Without If-Match a lost race is retried against the newer version, so concurrent plain PUTs
 * all land in some order; with If-Match exactly one writer of a given version wins.
 */
export async function putVersion(
  ctx: FhirContext, q: Queryable, req: FhirRequest, resource: Resource, id: string, method: string, warnings: Issue[],
): Promise<FhirResponse> {
  const expected = req.headers.ifMatch ? etagVersion(req.headers.ifMatch) : undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await readCurrent(q, resource.resourceType, id);
    if (expected !== undefined && (!current || String(current.versionId) !== expected)) {
      throw preconditionFailed(`If-Match ${req.headers.ifMatch} does not match the current version${current ? ` (${current.versionId})` : ''}`);
    }
    const written = await writeNext(ctx, q, resource, id, method, current);
    if (written) {
      const status = !current || current.deleted ? 201 : 200;
      return writeResponse(ctx, req, status, written.stored, written.content, warnings);
    }
    if (expected !== undefined) throw preconditionFailed(`If-Match ${req.headers.ifMatch}: the resource was changed concurrently`);
  }
  throw conflict(`${resource.resourceType}/${id} is being updated too often concurrently; retry`);
}

/** Writes the version after `current` (or version 1); undefined if another writer won the race. */
export async function writeNext(
  ctx: FhirContext, q: Queryable, resource: Resource, id: string, method: string, current: StoredResource | undefined,
): Promise<{ stored: StoredResource; content: string } | undefined> {
  const versionId = (current?.versionId ?? 0) + 1;
  const lastUpdated = ctx.now().toISOString();
  const prepared = stamp(ctx, resource, id, versionId, lastUpdated);
  const w = { resourceType: resource.resourceType, id, versionId, lastUpdated, method, content: prepared.content, index: prepared.index };
  const rid = current ? ((await updateResource(q, w)) ? current.rid : undefined) : await insertResource(q, w);
  if (!rid) return undefined;
  ctx.statistics.wrote(1);
  return { stored: { rid, resourceType: resource.resourceType, id, versionId, lastUpdated, deleted: false, content: prepared.content }, content: prepared.content };
}
