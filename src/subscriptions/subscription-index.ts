// Which subscriptions a write must evaluate. Subscriptions are grouped by resource type and,
// within a type, filed under one key their criteria require (CompiledCriteria.keys): a reference
// (`patient=Patient/X`) or a token code (`code=http://loinc.org|8867-4`). A write looks up the
// keys its own index rows yield, so with thousands of subscriptions on distinct codes or patients
// it evaluates only the few that name its own; criteria without a usable key are always checked.
import type { IndexRows } from '../search/index-rows.js';
import type { CompiledCriteria, IndexKey } from './match.js';

// Key parts are joined by NUL, which FHIR strings cannot contain; two other control characters
// stand for "no system" and "any system/type", so they cannot collide with real values.
const SEP = '\u0000';
const NONE = '\u0001';
const ANY = '\u0002';

/** The key of a token: `system` null for "no system" (`|code`), undefined for any system (`code`). */
export function tokenKey(param: string, system: string | null | undefined, code: string): string {
  return ['t', param, system === undefined ? ANY : system === null ? NONE : system, code].join(SEP);
}

/** The key of a local reference target: `type` undefined for a bare id, which any type matches. */
export function referenceKey(param: string, type: string | undefined, id: string): string {
  return ['r', param, type ?? ANY, id].join(SEP);
}

/** Every key a resource's index rows yield: each coded token and local reference, exact and wildcarded. */
export function resourceKeys(rows: IndexRows): Set<string> {
  const keys = new Set<string>();
  for (const t of rows.token) {
    if (t.code === null) continue;
    keys.add(tokenKey(t.param, t.system, t.code));
    keys.add(tokenKey(t.param, undefined, t.code));
  }
  for (const r of rows.reference) {
    if (r.targetId === null) continue;
    keys.add(referenceKey(r.param, r.targetType ?? undefined, r.targetId));
    keys.add(referenceKey(r.param, undefined, r.targetId));
  }
  return keys;
}

/** The most selective key: a reference over a token, a system|code over a bare code, then the fewest alternatives. */
export function bestKey(keys: readonly IndexKey[]): IndexKey | undefined {
  let best: IndexKey | undefined;
  for (const k of keys) {
    if (!best || k.rank > best.rank || (k.rank === best.rank && k.keys.length < best.keys.length)) best = k;
  }
  return best;
}

interface TypeIndex {
  /** Subscriptions without a key: evaluated on every write of the type. */
  always: Set<string>;
  byKey: Map<string, Set<string>>;
}

/** Subscriptions by resource type and key; ids are the caller's (Subscription ids). */
export class SubscriptionIndex {
  private readonly types = new Map<string, TypeIndex>();
  private readonly entries = new Map<string, { resourceType: string; keys: readonly string[] }>();

  /** Adds (or replaces) a subscription's compiled criteria. */
  add(id: string, compiled: CompiledCriteria): void {
    this.remove(id);
    let index = this.types.get(compiled.resourceType);
    if (!index) this.types.set(compiled.resourceType, (index = { always: new Set(), byKey: new Map() }));
    const key = bestKey(compiled.keys);
    const keys = key ? [...new Set(key.keys)] : [];
    if (!keys.length) index.always.add(id);
    for (const k of keys) {
      let ids = index.byKey.get(k);
      if (!ids) index.byKey.set(k, (ids = new Set()));
      ids.add(id);
    }
    this.entries.set(id, { resourceType: compiled.resourceType, keys });
  }

  /** Removes a subscription; false if it was not there. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    const index = this.types.get(entry.resourceType);
    if (!index) return true;
    index.always.delete(id);
    for (const k of entry.keys) {
      const ids = index.byKey.get(k);
      ids?.delete(id);
      if (ids && !ids.size) index.byKey.delete(k);
    }
    if (!index.always.size && !index.byKey.size) this.types.delete(entry.resourceType);
    return true;
  }

  /** The subscriptions that may match a resource of `resourceType` with these index rows (a superset of the matches). */
  candidates(resourceType: string, rows: IndexRows): string[] {
    const index = this.types.get(resourceType);
    if (!index) return [];
    const out = new Set(index.always);
    // Only worth computing the resource's keys when some subscription of the type is keyed.
    if (index.byKey.size) {
      for (const k of resourceKeys(rows)) for (const id of index.byKey.get(k) ?? []) out.add(id);
    }
    return [...out];
  }

  /** Whether any subscription of this resource type is held. */
  hasType(resourceType: string): boolean {
    return this.types.has(resourceType);
  }

  /** How many subscriptions are held. */
  get size(): number {
    return this.entries.size;
  }
}
