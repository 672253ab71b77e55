// Builds Bundle JSON as text around stored resource texts, so that search and history pages are
// served without parsing and re-serialising every resource.
import type { Resource } from '@medplum/fhirtypes';

/** One entry: the resource as stored text or as an object, plus the entry's other members. */
export interface EntryPart {
  fullUrl?: string;
  resourceText?: string;
  resource?: Resource;
  extra?: Record<string, unknown>;
}

/** Serialises a Bundle; `head` holds every member except `entry`. */
export function bundleText(head: Record<string, unknown>, entries: EntryPart[]): string {
  const parts = entries.map((e) => {
    const members: string[] = [];
    if (e.fullUrl) members.push(`"fullUrl":${JSON.stringify(e.fullUrl)}`);
    if (e.resourceText !== undefined) members.push(`"resource":${e.resourceText}`);
    else if (e.resource) members.push(`"resource":${JSON.stringify(e.resource)}`);
    for (const [k, v] of Object.entries(e.extra ?? {})) members.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    return `{${members.join(',')}}`;
  });
  const headText = JSON.stringify({ resourceType: 'Bundle', ...head });
  if (!parts.length) return headText;
  return `${headText.slice(0, -1)},"entry":[${parts.join(',')}]}`;
}

/** Rebuilds `path?query` with one parameter replaced (or removed when value is undefined). */
export function linkWith(base: string, query: URLSearchParams, name: string, value: string | undefined): string {
  const q = new URLSearchParams(query);
  q.delete(name);
  if (value !== undefined) q.set(name, value);
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}
