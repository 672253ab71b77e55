// Storage aliases: R4 defines search parameters whose values are always (part of) another's —
// Observation `patient` is `subject.where(resolve() is Patient)`, `combo-code` is `code` plus the
// component codes. Storing those rows twice costs every write an index insertion per row, so the
// extractor drops them and searches ask for the other parameter's rows instead:
//  - a `narrowed` alias keeps no rows; `patient=X` reads `subject` rows with target type Patient;
//  - a `superset` alias keeps only the rows its bases lack; `combo-code=X` reads all of them.
import type { SearchParameter } from '@medplum/fhirtypes';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { compileExpression } from './extract.js';
import type { IndexRows } from './index-rows.js';

/** How one parameter is stored, relative to another. */
export interface StorageAlias {
  kind: 'narrowed' | 'superset';
  /** The parameters whose rows stand in (one for `narrowed`). */
  bases: string[];
  /** For `narrowed`: the reference target type the rows must have. */
  targetType?: string;
  /** Every row would be dropped (narrowed, or a superset whose bases cover all its branches): skip extracting it. */
  covered: boolean;
}

const cache = new WeakMap<FhirDefinitions, Map<string, { source: readonly SearchParameter[]; aliases: Map<string, StorageAlias> }>>();

/** The storage aliases of a type's parameters (compiled once per type and definitions). */
export function storageAliases(defs: FhirDefinitions, resourceType: string): Map<string, StorageAlias> {
  let byType = cache.get(defs);
  if (!byType) cache.set(defs, (byType = new Map()));
  const source = defs.searchParameters(resourceType);
  const hit = byType.get(resourceType);
  if (hit && hit.source === source) return hit.aliases;
  const aliases = computeAliases(defs, resourceType, source);
  byType.set(resourceType, { source, aliases });
  return aliases;
}

function branches(defs: FhirDefinitions, resourceType: string, sp: SearchParameter): { text: string; resolveIs?: string }[] {
  if (sp.type === 'composite') {
    // A composite is identified by its base branches plus its (fixed) components.
    const parts = (sp.expression ?? '').split(' | ').map((b) => b.trim());
    const components = (sp.component ?? []).map((c) => c.expression).join(';');
    return parts.map((text) => ({ text: `${text}#${components}` }));
  }
  return compileExpression(sp.expression ?? '', resourceType, defs.resourceTypes).map((p) => ({
    text: p.expr.child.toString(),
    ...(p.resolveIs ? { resolveIs: p.resolveIs } : {}),
  }));
}

function computeAliases(defs: FhirDefinitions, resourceType: string, params: readonly SearchParameter[]): Map<string, StorageAlias> {
  const compiled = params
    .filter((p) => p.code && p.expression && !p.code.startsWith('_'))
    .map((p) => ({ code: p.code as string, type: p.type as string, paths: branches(defs, resourceType, p) }))
    .filter((p) => p.paths.length > 0);
  const aliases = new Map<string, StorageAlias>();
  for (const p of compiled) {
    const mine = new Set(p.paths.map((b) => b.text));
    const bases: string[] = [];
    for (const q of compiled) {
      if (q.code === p.code || q.type !== p.type || q.paths.some((b) => b.resolveIs)) continue;
      const only = p.paths[0];
      if (p.paths.length === 1 && q.paths.length === 1 && only?.resolveIs && only.text === q.paths[0]?.text) {
        aliases.set(p.code, { kind: 'narrowed', bases: [q.code], targetType: only.resolveIs, covered: true });
        break;
      }
      if (!p.paths.some((b) => b.resolveIs) && p.paths.length > q.paths.length && q.paths.every((b) => mine.has(b.text))) bases.push(q.code);
    }
    if (!aliases.has(p.code) && bases.length) {
      const basePaths = new Set(compiled.filter((q) => bases.includes(q.code)).flatMap((q) => q.paths.map((b) => b.text)));
      aliases.set(p.code, { kind: 'superset', bases, covered: p.paths.every((b) => basePaths.has(b.text)) });
    }
  }
  // A base must itself be stored in full: never alias onto an alias.
  for (const [code, alias] of aliases) if (alias.bases.some((b) => aliases.has(b))) aliases.delete(code);
  return aliases;
}

const ROW_TABLES = ['string', 'token', 'date', 'number', 'quantity', 'uri', 'reference', 'composite'] as const;

/** Drops the rows that aliases make redundant. */
export function dropAliasedRows(rows: IndexRows, aliases: Map<string, StorageAlias>): IndexRows {
  if (!aliases.size) return rows;
  const out = { ...rows };
  for (const table of ROW_TABLES) {
    const list = rows[table] as { param: string }[];
    if (!list.some((r) => aliases.has(r.param))) continue;
    const key = (r: { param: string }): string => JSON.stringify({ ...r, param: '' });
    const baseRows = new Map<string, Set<string>>();
    for (const r of list) {
      let set = baseRows.get(r.param);
      if (!set) baseRows.set(r.param, (set = new Set()));
      set.add(key(r));
    }
    (out as Record<string, unknown>)[table] = list.filter((r) => {
      const alias = aliases.get(r.param);
      if (!alias) return true;
      if (alias.kind === 'narrowed') return false;
      return !alias.bases.some((base) => baseRows.get(base)?.has(key(r)));
    });
  }
  return out;
}
