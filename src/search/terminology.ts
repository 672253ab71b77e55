// Terminology-aware token modifiers (search.html#modifiers): `:in`/`:not-in` a ValueSet the server
// holds, `:above`/`:below` a code in a CodeSystem it holds. SQL building is synchronous, so the
// value sets and hierarchies are resolved beforehand into a CodeSet on each such filter (nested
// chain and _has filters included); anything that cannot be resolved exactly is a 400 rather
// than a silently wrong result.
import type { Queryable } from '../db/database.js';
import { badRequest } from '../fhir/errors.js';
import { readCurrent } from '../storage/resource-store.js';
import type { FhirContext } from '../fhir/types.js';
import { CodeSet, needsTerminology } from './code-set.js';
import { closure, filterCodes, indexCodeSystem, type CodeSystemIndex } from './code-systems.js';
import type { Filter, SearchRequest } from './parse.js';
import { binder, scopeSql } from './sql.js';

type Json = Record<string, unknown>;

/** Expansions larger than this are refused: each code becomes a bind parameter of the query. */
export const MAX_CODES = 10_000;
const MAX_VALUE_SET_DEPTH = 10;
/** Versions of one canonical URL considered (newest first). */
const MAX_VERSIONS = 50;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isJson) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Resolves every terminology modifier of a search (nested filters too) into its CodeSet. */
export async function resolveTerminology(ctx: FhirContext, q: Queryable, req: SearchRequest): Promise<void> {
  const pending: Filter[] = [];
  const walk = (f: Filter): void => {
    if (needsTerminology(f) && !f.codes) pending.push(f);
    for (const c of f.chain ?? []) walk(c.filter);
    if (f.has) walk(f.has.filter);
  };
  req.filters.forEach(walk);
  if (!pending.length) return;
  const resolver = new Resolver(ctx, q);
  for (const f of pending) f.codes = await resolver.filter(f);
}

/** Resolves references within one search, loading each ValueSet and CodeSystem once. */
class Resolver {
  private readonly valueSets = new Map<string, CodeSet>();
  private readonly codeSystems = new Map<string, CodeSystemIndex>();
  /** The parameter being resolved, for error messages. */
  private what = '';

  constructor(private readonly ctx: FhirContext, private readonly q: Queryable) {}

  /** The union of a filter's values: value sets for :in/:not-in, hierarchies for :above/:below. */
  async filter(f: Filter): Promise<CodeSet> {
    this.what = `${f.code}:${f.modifier}`;
    let set = new CodeSet();
    for (const value of f.values) {
      const part = f.modifier === 'in' || f.modifier === 'not-in' ? await this.valueSet(value, []) : await this.subsumption(f, value);
      set = set.union(part);
      this.checkSize(set, value);
    }
    set.systemless = f.modifier === 'in' || f.modifier === 'not-in';
    return set;
  }

  /** `system|code` and its descendants (:below) or ancestors (:above). */
  private async subsumption(f: Filter, value: string): Promise<CodeSet> {
    const bar = value.indexOf('|');
    const system = bar < 0 ? '' : value.slice(0, bar);
    const code = value.slice(bar + 1);
    if (!system || !code) throw badRequest(`${this.what} needs system|code (the code system decides the hierarchy), got "${value.slice(0, 80)}"`);
    const cs = await this.codeSystem(system, undefined);
    return CodeSet.of(system, closure(f.modifier === 'below' ? cs.children : cs.parents, code));
  }

  /** The codes of a ValueSet given by canonical URL (optionally `|version`) or `ValueSet/id`. */
  private async valueSet(ref: string, via: string[]): Promise<CodeSet> {
    const found = await this.findValueSet(ref);
    const context = via.length ? ` (included by ${via[via.length - 1]})` : '';
    if (!found) throw badRequest(`ValueSet ${ref.slice(0, 200)}${context} is not held by this server, so ${this.what} cannot be evaluated`);
    const { key, resource } = found;
    if (via.includes(key)) throw badRequest(`ValueSet ${key} includes itself (${[...via, key].join(' → ')}), so ${this.what} cannot be evaluated`);
    if (via.length >= MAX_VALUE_SET_DEPTH) throw badRequest(`ValueSets include each other more than ${MAX_VALUE_SET_DEPTH} deep (${via.join(' → ')})`);
    const cached = this.valueSets.get(key);
    if (cached) return cached;
    const set = fromExpansion(resource) ?? (await this.compose(resource, [...via, key], key));
    this.checkSize(set, key);
    this.valueSets.set(key, set);
    return set;
  }

  /** ValueSet.compose: the union of the includes less the union of the excludes. */
  private async compose(vs: Json, via: string[], key: string): Promise<CodeSet> {
    const compose = vs.compose;
    if (!isJson(compose)) throw badRequest(`ValueSet ${key} has neither a complete expansion nor a compose, so ${this.what} cannot be evaluated`);
    let set = new CodeSet();
    for (const inc of list(compose.include)) {
      set = set.union(await this.include(inc, via, key));
      this.checkSize(set, key);
    }
    for (const exc of list(compose.exclude)) set = set.minus(await this.include(exc, via, key));
    return set;
  }

  /** One include (or exclude): its system part, intersected with every value set it names. */
  private async include(inc: Json, via: string[], key: string): Promise<CodeSet> {
    const system = text(inc.system);
    let set: CodeSet | undefined;
    if (system) {
      const concepts = list(inc.concept).map((c) => text(c.code)).filter((c): c is string => c !== undefined);
      set = concepts.length ? CodeSet.of(system, concepts) : CodeSet.wholeSystem(system);
      for (const filter of list(inc.filter)) set = set.intersect(filterCodes(await this.codeSystem(system, text(inc.version), key), filter));
    }
    for (const ref of Array.isArray(inc.valueSet) ? inc.valueSet : []) {
      if (typeof ref !== 'string') continue;
      const other = await this.valueSet(ref, via);
      set = set ? set.intersect(other) : other;
    }
    if (!set) throw badRequest(`ValueSet ${key} has an include or exclude with neither system nor valueSet`);
    return set;
  }

  /** A stored CodeSystem by URL (and version, if given), or a 400 naming what needed it. */
  private async codeSystem(url: string, version: string | undefined, forValueSet?: string): Promise<CodeSystemIndex> {
    const cacheKey = `${url}|${version ?? ''}`;
    const cached = this.codeSystems.get(cacheKey);
    if (cached) return cached;
    const purpose = forValueSet ? `ValueSet ${forValueSet} (and so ${this.what})` : this.what;
    const candidates = (await this.byUrl('CodeSystem', url)).filter((cs) => cs.content !== 'supplement');
    const cs = version ? candidates.find((c) => c.version === version) : candidates[0];
    if (!cs) throw badRequest(`code system ${url}${version ? ` version ${version}` : ''} is not held by this server, so ${purpose} cannot be evaluated`);
    if (cs.content === 'not-present') throw badRequest(`code system ${url} is held without its concepts (content = not-present), so ${purpose} cannot be evaluated`);
    const index = indexCodeSystem(cs);
    index.url = url;
    this.codeSystems.set(cacheKey, index);
    return index;
  }

  /** The ValueSet `ref` names, keyed by its id (one key however it was referred to, for cycles). */
  private async findValueSet(ref: string): Promise<{ key: string; resource: Json } | undefined> {
    const base = `${this.ctx.config.baseUrl}/`;
    const local = /^ValueSet\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]*)?$/.exec(ref.startsWith(base) ? ref.slice(base.length) : ref);
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(ref);
    if (absolute) {
      const bar = ref.lastIndexOf('|');
      const url = bar < 0 ? ref : ref.slice(0, bar);
      const version = bar < 0 ? undefined : ref.slice(bar + 1);
      const candidates = await this.byUrl('ValueSet', url);
      const vs = version ? candidates.find((c) => c.version === version) : candidates[0];
      if (vs) return { key: `ValueSet/${text(vs.id) ?? url}`, resource: vs };
    }
    // A relative reference, or a literal URL on this server whose ValueSet has another canonical URL.
    if (local && (!absolute || ref.startsWith(base))) {
      const content = (await readCurrent(this.q, 'ValueSet', local[1] as string))?.content;
      if (content) return { key: `ValueSet/${local[1] as string}`, resource: JSON.parse(content) as Json };
    }
    return undefined;
  }

  /** The current resources of `type` whose canonical `url` is `url`, most recently updated first. */
  private async byUrl(type: string, url: string): Promise<Json[]> {
    const b = binder(this.ctx.defs);
    const rows = await this.q.query<{ content: string }>(
      `SELECT r.content FROM resources r WHERE r.res_type = ${b.bind(type)} AND NOT r.deleted
        AND r.rid IN (SELECT x.rid FROM idx_uri x WHERE ${scopeSql(b, type, 'url')} AND x.uri = ${b.bind(url)})
      ORDER BY r.last_updated DESC, r.rid DESC LIMIT ${MAX_VERSIONS}`,
      b.params,
    );
    return rows.map((r) => JSON.parse(r.content) as Json);
  }

  private checkSize(set: CodeSet, of: string): void {
    if (set.size > MAX_CODES) throw badRequest(`value set ${of.slice(0, 200)} is too large to search by (more than ${MAX_CODES} codes), so ${this.what} cannot be evaluated`);
  }
}

/** The codes of a complete ValueSet.expansion, or undefined if it has none or only part of one. */
function fromExpansion(vs: Json): CodeSet | undefined {
  const expansion = vs.expansion;
  if (!isJson(expansion) || !Array.isArray(expansion.contains)) return undefined;
  const bySystem = new Map<string, Set<string>>();
  let entries = 0;
  const visit = (contains: Json[]): void => {
    for (const c of contains) {
      entries++;
      const system = text(c.system);
      const code = text(c.code);
      if (system && code) {
        const set = bySystem.get(system);
        if (set) set.add(code);
        else bySystem.set(system, new Set([code]));
      }
      visit(list(c.contains));
    }
  };
  visit(list(expansion.contains));
  // A paged expansion (offset, or fewer entries than its total) is not the whole value set.
  const offset = typeof expansion.offset === 'number' ? expansion.offset : 0;
  if (offset > 0 || (typeof expansion.total === 'number' && expansion.total > entries)) return undefined;
  let set = new CodeSet();
  for (const [system, codes] of bySystem) set = set.union(CodeSet.of(system, codes));
  return set;
}
