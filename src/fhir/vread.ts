// vread — http.html#vread: GET [type]/[id]/_history/[vid]. A version that records a deletion is
// 410 Gone; an unknown version is 404.
import { readVersion } from '../storage/resource-store.js';
import { gone, notFound } from './errors.js';
import { notModified } from './read.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { versionHeaders } from './write.js';

/** Reads one version of a resource. */
export async function vread(
  ctx: FhirContext, s: Session, req: FhirRequest, resourceType: string, id: string, vid: string,
): Promise<FhirResponse> {
  const versionId = /^\d{1,9}$/.test(vid) ? Number(vid) : NaN;
  const stored = Number.isNaN(versionId) ? undefined : await readVersion(s.q, resourceType, id, versionId);
  if (!stored) throw notFound(`${resourceType}/${id}/_history/${vid.slice(0, 20)} is not known`);
  if (stored.content === null) throw gone(`${resourceType}/${id} version ${vid} records a deletion`);
  const { Location: _, ...headers } = versionHeaders(ctx, stored);
  if (notModified(req, stored.versionId, stored.lastUpdated)) return { status: 304, headers };
  return { status: 200, headers, text: stored.content };
}
