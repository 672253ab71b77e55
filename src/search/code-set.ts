// Sets of codes for the terminology modifiers (:in, :not-in, :above, :below): explicit
// (system, code) pairs plus whole code systems less some exceptions. A value set that includes
// "every code of system S" stays a match on the system, so it needs neither the code system nor
// an enumeration of it, and the set algebra of ValueSet.compose (include = union, include.valueSet
// = intersection, exclude = difference) stays exact in that form.
import type { Filter } from './parse.js';
import type { Binder } from './sql.js';

/** Token modifiers answered from value sets and code systems the server holds. */
const TERMINOLOGY_MODIFIERS: ReadonlySet<string> = new Set(['in', 'not-in', 'above', 'below']);

/** True if the filter needs `resolveTerminology` (terminology.ts) before SQL can be built from it. */
export function needsTerminology(f: Filter): boolean {
  return f.type === 'token' && f.modifier !== undefined && TERMINOLOGY_MODIFIERS.has(f.modifier);
}

/** A set of codes: listed (system, code) pairs, and whole systems less the codes excepted. */
export class CodeSet {
  /** system → the codes listed one by one (a system is never both listed and whole). */
  readonly listed = new Map<string, Set<string>>();
  /** system → the codes excepted from that otherwise whole system. */
  readonly whole = new Map<string, Set<string>>();
  /**
   * Also match token rows indexed without a system by their code: primitive `code` elements
   * (status, gender) carry their system only through the binding, so :in could never match them.
   */
  systemless = false;

  /** The codes `codes` of `system`. */
  static of(system: string, codes: Iterable<string>): CodeSet {
    const s = new CodeSet();
    const set = new Set(codes);
    if (set.size) s.listed.set(system, set);
    return s;
  }

  /** Every code of `system` except `except`. */
  static wholeSystem(system: string, except: Iterable<string> = []): CodeSet {
    const s = new CodeSet();
    s.whole.set(system, new Set(except));
    return s;
  }

  /** How many entries the set holds (listed codes, whole systems and their exceptions). */
  get size(): number {
    let n = this.whole.size;
    for (const c of this.listed.values()) n += c.size;
    for (const c of this.whole.values()) n += c.size;
    return n;
  }

  /** Codes in this set or `other`. */
  union(other: CodeSet): CodeSet {
    return combine(this, other, (a, b) => {
      if (a.whole && b.whole) return { whole: intersect(a.whole, b.whole) };
      if (a.whole) return { whole: minus(a.whole, b.listed) };
      if (b.whole) return { whole: minus(b.whole, a.listed) };
      return { listed: new Set([...a.listed, ...b.listed]) };
    });
  }

  /** Codes in both this set and `other`. */
  intersect(other: CodeSet): CodeSet {
    return combine(this, other, (a, b) => {
      if (a.whole && b.whole) return { whole: new Set([...a.whole, ...b.whole]) };
      if (a.whole) return { listed: minus(b.listed, a.whole) };
      if (b.whole) return { listed: minus(a.listed, b.whole) };
      return { listed: intersect(a.listed, b.listed) };
    });
  }

  /** Codes in this set but not in `other`. */
  minus(other: CodeSet): CodeSet {
    return combine(this, other, (a, b) => {
      // (S \ A) \ (S \ B) = B \ A: what the other excepted is all that survives.
      if (a.whole && b.whole) return { listed: minus(b.whole, a.whole) };
      if (a.whole) return { whole: new Set([...a.whole, ...b.listed]) };
      if (b.whole) return { listed: intersect(a.listed, b.whole) };
      return { listed: minus(a.listed, b.listed) };
    });
  }

  /** The predicate on token index rows aliased `x` that are in the set; every code is bound. */
  sql(b: Binder, x = 'x'): string {
    const parts: string[] = [];
    const pairs = flatten(this.listed);
    if (pairs.systems.length) parts.push(`(${x}.system, ${x}.code) IN (${unnest(b, pairs)})`);
    if (this.systemless && pairs.codes.length) {
      parts.push(`(${x}.system IS NULL AND ${x}.code = ANY(${b.bind([...new Set(pairs.codes)])}::text[]))`);
    }
    if (this.whole.size) {
      // A row with a system but no code (an Identifier without value) holds no code of the system.
      let whole = `${x}.system = ANY(${b.bind([...this.whole.keys()])}::text[]) AND ${x}.code IS NOT NULL`;
      const except = flatten(this.whole);
      if (except.systems.length) whole += ` AND (${x}.system, ${x}.code) NOT IN (${unnest(b, except)})`;
      parts.push(`(${whole})`);
    }
    return parts.length ? `(${parts.join(' OR ')})` : 'false';
  }
}

type Side = { listed: Set<string>; whole?: Set<string> };

/** Applies `op` per system to the two sides' codes of that system, keeping the form normalised. */
function combine(a: CodeSet, b: CodeSet, op: (a: Side, b: Side) => { listed?: Set<string>; whole?: Set<string> }): CodeSet {
  const out = new CodeSet();
  out.systemless = a.systemless || b.systemless;
  const systems = new Set([...a.listed.keys(), ...a.whole.keys(), ...b.listed.keys(), ...b.whole.keys()]);
  const side = (s: CodeSet, system: string): Side => ({ listed: s.listed.get(system) ?? new Set(), whole: s.whole.get(system) });
  for (const system of systems) {
    const r = op(side(a, system), side(b, system));
    if (r.whole) out.whole.set(system, r.whole);
    else if (r.listed?.size) out.listed.set(system, r.listed);
  }
  return out;
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  return new Set([...a].filter((c) => b.has(c)));
}

function minus(a: Set<string>, b: Set<string>): Set<string> {
  return new Set([...a].filter((c) => !b.has(c)));
}

function flatten(bySystem: Map<string, Set<string>>): { systems: string[]; codes: string[] } {
  const systems: string[] = [];
  const codes: string[] = [];
  for (const [system, set] of bySystem) {
    for (const code of set) {
      systems.push(system);
      codes.push(code);
    }
  }
  return { systems, codes };
}

function unnest(b: Binder, pairs: { systems: string[]; codes: string[] }): string {
  return `SELECT v.s, v.c FROM unnest(${b.bind(pairs.systems)}::text[], ${b.bind(pairs.codes)}::text[]) AS v(s, c)`;
}
