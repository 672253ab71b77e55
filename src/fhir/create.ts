// create — http.html#create: POST [type]; conditional create (#ccreate) with If-None-Exist.
import { randomUUID } from 'node:crypto';
import { insertResource } from '../storage/resource-store.js';
import { lockAndMatch, parseCondition } from './conditional.js';
import { internalError, preconditionFailed } from './errors.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { requireResource, stamp, validateForWrite, versionHeaders, writeResponse } from './write.js';

/** Creates a resource with a server-assigned id. */
export async function create(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string): Promise<FhirResponse> {
  const resource = requireResource(ctx, req.body, resourceType);
  const warnings = validateForWrite(ctx, req, resource, 'create');
  const condition = req.headers.ifNoneExist;
  if (!condition) return insertNew(ctx, s, req, resource, warnings);

  const params = parseCondition(condition);
  return s.atomically(async (q) => {
    const matches = await lockAndMatch(ctx, q, resourceType, params, 2);
    if (matches.length > 1) throw preconditionFailed(`If-None-Exist matched ${matches.length} or more ${resourceType} resources`);
    const match = matches[0];
    if (match?.content) {
      // One match: the create is skipped and the existing resource is reported (http.html#ccreate).
      return { ...writeResponse(ctx, req, 200, match, match.content), headers: versionHeaders(ctx, match) };
    }
    return insertNew(ctx, { q, atomically: (fn) => fn(q) }, req, resource, warnings);
  });
}

async function insertNew(
  ctx: FhirContext, s: Session, req: FhirRequest, resource: Parameters<typeof stamp>[1], warnings: ReturnType<typeof validateForWrite>,
): Promise<FhirResponse> {
  const id = req.assignedId ?? randomUUID();
  const lastUpdated = ctx.now().toISOString();
  const prepared = stamp(ctx, resource, id, 1, lastUpdated);
  const rid = await insertResource(s.q, {
    resourceType: resource.resourceType, id, versionId: 1, lastUpdated, method: 'POST', content: prepared.content, index: prepared.index,
  });
  if (!rid) throw internalError('Generated id collided');
  return writeResponse(ctx, req, 201, { resourceType: resource.resourceType, id, versionId: 1, lastUpdated }, prepared.content, warnings);
}
