// Resource validation for create, update and $validate: the R4 base definition (structure,
// cardinality, types, fixed/pattern values, invariants, and required bindings to enumerable value
// sets) through the compiled validator (compiled/, equivalent to @medplum/core's validateResource
// plus bindings.ts, several times faster), and every claimed profile the server knows through the
// compiled profile walk (compiled/profile-*.ts), or through @medplum/core when a profile uses rules
// that walk cannot evaluate. Issues are returned, never thrown: the caller decides between 400/422 and a report.
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { Issue } from '../fhir/errors.js';
import { profileBindingIssues } from './bindings.js';
import { createCompiledValidator } from './compiled/index.js';
import { createCompiledProfiles, type CompiledProfiles } from './compiled/profile-walk.js';
import { medplumIssues, toHelixIssues } from './issues.js';
import { createProfileSchemas } from './profile-schema.js';
import type { ProfileRegistry } from './profiles.js';
import { loadCodeSets } from './terminology.js';

/** Options of one validation; `mode` follows the $validate operation. */
export interface ValidateOptions {
  /** A profile to validate against in addition to those in meta.profile. */
  profile?: string;
  mode?: 'create' | 'update' | 'delete';
}

/** Validates resources; an empty list or one without errors means the resource is acceptable. */
export interface Validator {
  /** All issues found in `resource` (errors, warnings and information). */
  validate(resource: Resource, options?: ValidateOptions): Issue[];
}

/** How claimed profiles are checked: compiled (default; unsupported profiles fall back) or all by @medplum/core. */
export interface ValidatorOptions {
  profiles?: 'compiled' | 'medplum';
}

/** Creates a validator over the R4 definitions and the server's profiles. */
export function createValidator(defs: FhirDefinitions, profiles: ProfileRegistry, options: ValidatorOptions = {}): Validator {
  const codeSets = loadCodeSets();
  const schemas = createProfileSchemas();
  const baseDefinition = createCompiledValidator(codeSets);
  // A target profile stands for the type it constrains (vitalsigns.hasMember may be a vitalsigns Observation).
  const targetType = (url: string): string | undefined => (profiles.get(url) ?? defs.structureDefinition(url))?.type;
  const compiledProfiles = options.profiles === 'medplum' ? undefined : createCompiledProfiles(codeSets, targetType);

  /** One profile's findings: compiled when it compiles (see compiled/profile-compile.ts), else @medplum/core's. */
  const oneProfile = (resource: Resource, sd: StructureDefinition): Issue[] => {
    const compiled = compiledProfiles?.compile(sd);
    if (compiled?.ok) return withProfile(validateBase(() => (compiledProfiles as CompiledProfiles).validate(resource, compiled)), sd.url);
    const found = toHelixIssues(resource, medplumIssues(() => schemas.validate(resource, sd)), sd.url);
    found.push(...withProfile(safeList(() => profileBindingIssues(resource, schemas.schema(sd), codeSets)), sd.url));
    return found;
  };

  const profileIssues = (resource: Resource, urls: string[], base: Issue[]): Issue[] => {
    const issues: Issue[] = [];
    const known: StructureDefinition[] = [];
    for (const url of urls) {
      const sd = profiles.get(url);
      if (sd) {
        if (sd.type === resource.resourceType) known.push(sd);
        else issues.push(typeMismatch(resource, url, sd));
      } else if (!isCoreDefinitionOf(defs, url, resource.resourceType)) {
        issues.push({
          severity: 'warning',
          code: 'not-found',
          diagnostics: `Profile ${url} is not known to this server; the resource was not validated against it`,
          expression: [`${resource.resourceType}.meta.profile`],
        });
      }
    }
    const seen = new Set(base.map(issueKey));
    for (const sd of mostSpecific(known, profiles)) {
      for (const issue of oneProfile(resource, sd)) {
        // A profile's snapshot repeats the base rules; report each finding once.
        const key = issueKey({ ...issue, diagnostics: issue.diagnostics.replace(/ \(profile [^)]*\)$/, '') });
        if (seen.has(key)) continue;
        seen.add(key);
        issues.push(issue);
      }
    }
    return issues;
  };

  return {
    validate(resource, options = {}) {
      if (options.mode === 'delete') return [];
      if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
        return [{ severity: 'error', code: 'structure', diagnostics: 'A resource must be a JSON object' }];
      }
      const type = (resource as { resourceType?: unknown }).resourceType;
      if (typeof type !== 'string' || !defs.resourceTypes.has(type)) {
        return [{ severity: 'error', code: 'structure', diagnostics: `Unknown resource type '${String(type)}'` }];
      }

      const issues = validateBase(() => baseDefinition.validate(resource));
      if (options.mode === 'update' && !resource.id) {
        issues.push({ severity: 'error', code: 'required', diagnostics: 'An update must carry the resource id', expression: [`${type}.id`] });
      }
      const claimed = [...(resource.meta?.profile ?? []), ...(options.profile ? [options.profile] : [])];
      const urls = [...new Set(claimed.filter((u) => typeof u === 'string').map((u) => u.split('|')[0] as string))];
      issues.push(...profileIssues(resource, urls, issues));
      return issues;
    },
  };
}

/** Runs the base validation; an unexpected failure becomes an error issue, never a 500. */
function validateBase(run: () => Issue[]): Issue[] {
  try {
    return run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return [{ severity: 'error', code: 'processing', diagnostics: `Validation could not complete: ${message}` }];
  }
}

/** Runs a binding walk; it only fails on content the structural check has already reported. */
function safeList(run: () => Issue[]): Issue[] {
  try {
    return run();
  } catch {
    return [];
  }
}

function withProfile(issues: Issue[], url: string | undefined): Issue[] {
  return issues.map((i) => ({ ...i, diagnostics: `${i.diagnostics} (profile ${url})` }));
}

function issueKey(issue: Issue): string {
  return `${issue.severity}|${issue.code}|${issue.expression?.join(',') ?? ''}|${issue.diagnostics}`;
}

function typeMismatch(resource: Resource, url: string, sd: StructureDefinition): Issue {
  return {
    severity: 'error',
    code: 'invalid',
    diagnostics: `Profile ${url} constrains ${sd.type}, not ${resource.resourceType}`,
    expression: [`${resource.resourceType}.meta.profile`],
  };
}

/** True for the resource's own core definition (claiming it adds nothing to the base validation). */
function isCoreDefinitionOf(defs: FhirDefinitions, url: string, resourceType: string): boolean {
  const sd = defs.structureDefinition(url);
  return sd?.derivation === 'specialization' && sd.type === resourceType;
}

/** Drops profiles another claimed profile derives from: a snapshot already carries its ancestors' rules. */
function mostSpecific(sds: StructureDefinition[], profiles: ProfileRegistry): StructureDefinition[] {
  const ancestors = new Set<string>();
  for (const sd of sds) {
    let base = sd.baseDefinition;
    for (let depth = 0; base && depth < 20; depth++) {
      ancestors.add(base.split('|')[0] as string);
      base = profiles.get(base)?.baseDefinition;
    }
  }
  return sds.filter((sd) => !ancestors.has(sd.url as string));
}
