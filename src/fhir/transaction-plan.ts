// Planning a transaction (http.html#trules): give every created entry its id up front, resolve
// conditional creates/updates and conditional references (`Patient?identifier=…`), then rewrite
// every occurrence of a fullUrl in the Bundle — references, uri-typed values and narrative links —
// to the entry's final `Type/id`.
import { randomUUID } from 'node:crypto';
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import { findMatches } from '../search/search.js';
import { conditionKey, lockAndMatch, parseCondition } from './conditional.js';
import { badRequest, notFound, preconditionFailed } from './errors.js';
import type { FhirContext, FhirMethod, FhirResponse } from './types.js';
import { versionHeaders } from './write.js';

/** One entry, ready to route. */
export interface PlannedEntry {
  method: FhirMethod;
  /** Relative url, e.g. `Patient/1` or `Observation`. */
  url: string;
  entry: BundleEntry;
  assignedId?: string;
  /** Set when planning already settled the entry (a conditional create that matched). */
  resolved?: FhirResponse;
}

/** Resolves ids and references of a transaction's entries, in place. */
export async function planTransaction(ctx: FhirContext, q: Queryable, entries: BundleEntry[]): Promise<PlannedEntry[]> {
  const base = ctx.config.baseUrl + '/';
  const fullUrls = new Map<string, string>();
  const byCondition = new Map<string, string>();
  const plan: PlannedEntry[] = [];

  for (const [i, entry] of entries.entries()) {
    const r = entry.request as NonNullable<BundleEntry['request']>;
    const url = r.url.startsWith(base) ? r.url.slice(base.length) : r.url.replace(/^\//, '');
    const p: PlannedEntry = { method: r.method as FhirMethod, url, entry };
    const resource = entry.resource as Resource | undefined;
    if (p.method === 'POST' && resource) {
      const type = url.split('?')[0] as string;
      let target: string | undefined;
      if (r.ifNoneExist) {
        const params = parseCondition(r.ifNoneExist);
        const key = conditionKey(type, params);
        target = byCondition.get(key);
        if (!target) {
          const matches = await lockAndMatch(ctx, q, type, params, 2);
          if (matches.length > 1) throw preconditionFailed(`Bundle.entry[${i}]: ifNoneExist matched more than one ${type}`);
          const match = matches[0];
          if (match?.content) {
            p.resolved = { status: 200, headers: versionHeaders(ctx, match) };
            target = match.id;
          }
        } else {
          // A second entry with the same condition resolves to the first one's resource.
          p.resolved = { status: 200, headers: {} };
        }
        if (target) byCondition.set(key, target);
      }
      if (!target) {
        target = randomUUID();
        p.assignedId = target;
        if (r.ifNoneExist) byCondition.set(conditionKey(type, parseCondition(r.ifNoneExist)), target);
      }
      if (entry.fullUrl) fullUrls.set(entry.fullUrl, `${type}/${target}`);
    } else if (p.method === 'PUT' && resource) {
      const [path = '', query] = url.split('?', 2);
      if (query !== undefined) {
        const matches = await lockAndMatch(ctx, q, path, parseCondition(query), 2);
        if (matches.length > 1) throw preconditionFailed(`Bundle.entry[${i}]: conditional update matched more than one ${path}`);
        const id = matches[0]?.id ?? resource.id ?? randomUUID();
        p.url = `${path}/${id}`;
        entry.resource = { ...resource, id } as Resource;
      }
      if (entry.fullUrl) fullUrls.set(entry.fullUrl, p.url.replace(/\/_history\/.*$/, ''));
    }
    plan.push(p);
  }

  // Conditional references are looked up once each, then every resource is rewritten in place.
  const conditional = new Map<string, string>();
  for (const [i, p] of plan.entries()) {
    if (!p.entry.resource) continue;
    const refs = new Set<string>();
    collectConditionalReferences(p.entry.resource, refs);
    for (const ref of refs) if (!conditional.has(ref)) conditional.set(ref, await resolveConditionalReference(ctx, q, ref, i));
  }
  for (const p of plan) if (p.entry.resource) rewrite(p.entry.resource, fullUrls, conditional);
  return plan;
}

async function resolveConditionalReference(ctx: FhirContext, q: Queryable, ref: string, i: number): Promise<string> {
  const [type = '', query = ''] = ref.split('?', 2);
  if (!ctx.defs.resourceTypes.has(type)) throw badRequest(`Bundle.entry[${i}]: conditional reference to unknown type in "${ref.slice(0, 100)}"`);
  const matches = await findMatches(ctx, q, type, parseCondition(query), 2);
  if (matches.length === 0) throw notFound(`Bundle.entry[${i}]: conditional reference ${ref.slice(0, 200)} matches no resource`);
  if (matches.length > 1) throw preconditionFailed(`Bundle.entry[${i}]: conditional reference ${ref.slice(0, 200)} matches more than one resource`);
  return `${type}/${(matches[0] as { id: string }).id}`;
}

const CONDITIONAL_REF = /^[A-Z][A-Za-z]+\?.+/;

/** Adds every conditional reference (`Type?query` in a `reference`) found in `node` to `out`. */
function collectConditionalReferences(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const v of node) if (v && typeof v === 'object') collectConditionalReferences(v, out);
  } else if (node && typeof node === 'object') {
    for (const [key, v] of Object.entries(node)) {
      if (key === 'reference' && typeof v === 'string' && CONDITIONAL_REF.test(v)) out.add(v);
      else if (v && typeof v === 'object') collectConditionalReferences(v, out);
    }
  }
}

/**
 * Replaces fullUrls and resolved conditional references everywhere in `node`, in place: the
 * Bundle body belongs to this request, and copying every resource of a 25,000-entry Bundle
 * would double its memory.
 */
function rewrite(node: unknown, fullUrls: Map<string, string>, conditional: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const v: unknown = node[i];
      if (typeof v === 'string') node[i] = rewriteString(v, '', fullUrls, conditional);
      else if (v && typeof v === 'object') rewrite(v, fullUrls, conditional);
    }
  } else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (typeof v === 'string') obj[key] = rewriteString(v, key, fullUrls, conditional);
      else if (v && typeof v === 'object') rewrite(v, fullUrls, conditional);
    }
  }
}

function rewriteString(value: string, key: string, fullUrls: Map<string, string>, conditional: Map<string, string>): string {
  const mapped = fullUrls.get(value) ?? (key === 'reference' ? conditional.get(value) : undefined);
  if (mapped) return mapped;
  if (key === 'div' && fullUrls.size && value.includes('urn:')) return rewriteNarrative(value, fullUrls);
  return value;
}

/** Rewrites href/src attributes in XHTML narrative that point at a fullUrl. */
function rewriteNarrative(div: string, fullUrls: Map<string, string>): string {
  return div.replace(/\b(href|src)=(["'])(urn:[^"']+)\2/g, (all, attr: string, quote: string, url: string) => {
    const mapped = fullUrls.get(url);
    return mapped ? `${attr}=${quote}${mapped}${quote}` : all;
  });
}
