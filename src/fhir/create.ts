// create — http.html#create: POST [type]; conditional create (#ccreate) with If-None-Exist.
// A create is prepared (validated, stamped, indexed) and then committed; transactions prepare
// many and commit them in one statement through the same two functions.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { insertResources, type VersionWrite } from '../storage/resource-store.js';
import { lockAndMatch, parseCondition } from './conditional.js';
import { type Issue, preconditionFailed } from './errors.js';
import { transactionSession, type FhirContext, type FhirRequest, type FhirResponse, type Session } from './types.js';
import { requireResource, stamp, validateForWrite, versionHeaders, writeResponse } from './write.js';

/** A validated, stamped and indexed create, ready to commit. */
export interface PreparedCreate {
  write: VersionWrite & { content: string };
  warnings: Issue[];
}

/** Creates a resource with a server-assigned id. */
export async function create(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string): Promise<FhirResponse> {
  const prepared = prepareCreate(ctx, req, resourceType);
  const condition = req.headers.ifNoneExist;
  if (!condition) {
    await s.insertNew(prepared.write);
  } else {
    const params = parseCondition(condition);
    const match = await s.atomically(async (q) => {
      const matches = await lockAndMatch(ctx, q, resourceType, params, 2);
      if (matches.length > 1) throw preconditionFailed(`If-None-Exist matched ${matches.length} or more ${resourceType} resources`);
      if (matches[0]?.content) return matches[0];
      await transactionSession(q).insertNew(prepared.write);
      return undefined;
    });
    // One match: the create is skipped and the existing resource is reported (http.html#ccreate).
    if (match?.content) return { ...writeResponse(ctx, req, 200, match, match.content), headers: versionHeaders(ctx, match) };
  }
  ctx.statistics.wrote(1);
  return createdResponse(ctx, req, prepared);
}

/** Validates and stamps the body of a create (id from the transaction plan, or a new UUID). */
export function prepareCreate(ctx: FhirContext, req: FhirRequest, resourceType: string): PreparedCreate {
  const resource = requireResource(ctx, req.body, resourceType);
  const warnings = validateForWrite(ctx, req, resource, 'create');
  const id = req.assignedId ?? randomUUID();
  const lastUpdated = ctx.now().toISOString();
  const prepared = stamp(ctx, resource, id, 1, lastUpdated);
  return {
    warnings,
    write: { resourceType, id, versionId: 1, lastUpdated, method: 'POST', content: prepared.content, index: prepared.index },
  };
}

/** Commits several prepared creates in one statement; returns their responses in order. */
export async function commitCreates(ctx: FhirContext, q: Queryable, req: FhirRequest, prepared: PreparedCreate[]): Promise<FhirResponse[]> {
  await insertResources(q, prepared.map((p) => p.write));
  ctx.statistics.wrote(prepared.length);
  return prepared.map((p) => createdResponse(ctx, req, p));
}

function createdResponse(ctx: FhirContext, req: FhirRequest, p: PreparedCreate): FhirResponse {
  return writeResponse(ctx, req, 201, p.write, p.write.content, p.warnings);
}
