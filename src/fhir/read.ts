// read — http.html#read: GET [type]/[id]. 410 for a deleted resource; 304 when the client's
// If-None-Match or If-Modified-Since shows it already has the current version.
import { gone, notFound } from './errors.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { versionHeaders } from './write.js';

/** Reads the current version of a resource. */
export async function read(ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string, id: string): Promise<FhirResponse> {
  const stored = await s.readCurrent(resourceType, id);
  if (!stored) throw notFound(`${resourceType}/${id} is not known`);
  if (stored.deleted || stored.content === null) {
    const err = gone(`${resourceType}/${id} was deleted`);
    Object.assign(err.headers, { ETag: `W/"${stored.versionId}"` });
    throw err;
  }
  const { Location: _, ...headers } = versionHeaders(ctx, stored);
  if (notModified(req, stored.versionId, stored.lastUpdated)) return { status: 304, headers };
  return { status: 200, headers, text: stored.content };
}

/** True when If-None-Match or If-Modified-Since say the client's copy is current. */
export function notModified(req: FhirRequest, versionId: number, lastUpdated: string): boolean {
  const inm = req.headers.ifNoneMatch;
  if (inm) return inm.split(',').some((tag) => tag.trim() === '*' || etagVersion(tag) === String(versionId));
  const ims = req.headers.ifModifiedSince;
  if (ims) {
    const since = Date.parse(ims);
    // HTTP dates have whole seconds; compare at that precision.
    if (!Number.isNaN(since)) return Math.floor(Date.parse(lastUpdated) / 1000) * 1000 <= since;
  }
  return false;
}

/** The version in an entity tag: `W/"3"` or `"3"` → `3`. */
export function etagVersion(tag: string): string {
  return tag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}
