// Shared by the conditional interactions (http.html#ccreate, #cond-update, #3.1.0.7.1): resolve
// a search condition to the resources it matches, under an advisory lock on the condition so
// that two identical conditional writes cannot both see "no match" and both create.
import type { Queryable } from '../db/database.js';
import { findMatches } from '../search/search.js';
import { lockKey, type StoredResource } from '../storage/resource-store.js';
import { badRequest } from './errors.js';
import type { FhirContext } from './types.js';

/** Parses a condition (`identifier=x|y&…`, with or without a leading `?` or `Type?`). */
export function parseCondition(condition: string): URLSearchParams {
  const query = condition.includes('?') ? condition.slice(condition.indexOf('?') + 1) : condition;
  const params = new URLSearchParams(query);
  if (![...params.keys()].length) throw badRequest('A conditional request needs at least one search parameter');
  return params;
}

/** A stable key for a condition: the same parameters in any order give the same key. */
export function conditionKey(resourceType: string, params: URLSearchParams): string {
  const pairs = [...params.entries()].map(([k, v]) => `${k}=${v}`).sort();
  return `${resourceType}?${pairs.join('&')}`;
}

/** Locks the condition for the rest of the transaction and returns up to `limit` matches. */
export async function lockAndMatch(
  ctx: FhirContext, q: Queryable, resourceType: string, params: URLSearchParams, limit: number,
): Promise<StoredResource[]> {
  await lockKey(q, conditionKey(resourceType, params));
  return findMatches(ctx, q, resourceType, params, limit);
}
