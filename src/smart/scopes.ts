// SMART on FHIR scopes — SMART App Launch 2.2, "Scopes and Launch Context": clinical-data scopes
// `(patient|user|system)/(Type|*).(cruds|read|write|*)[?query]` in both syntaxes (v1 `read`/`write`/`*`
// are the v2 `rs`/`cud`/`cruds`), launch-context scopes and identity scopes. Parsing is total:
// anything that is not a scope Helix understands is kept in `unknown`, so the authorization server
// can refuse it with invalid_scope instead of dropping it silently.

/** Whose data a clinical scope reaches: the patient in context, what the user may see, or a backend system. */
export type ScopeContext = 'patient' | 'user' | 'system';

/** SMART v2 permissions: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** One clinical-data scope. */
export interface ResourceScope {
  context: ScopeContext;
  /** A resource type, or `*` for all. */
  resourceType: string;
  permissions: ReadonlySet<Permission>;
  /** Granular v2 constraint (`?category=…`): only resources matching this search are covered. */
  query?: URLSearchParams;
  /** The syntax it was written in. */
  version: 1 | 2;
  text: string;
}

/** A parsed `scope` string. */
export interface Scopes {
  resources: ResourceScope[];
  /** `launch` (EHR launch), `launch/patient`, `launch/encounter`. */
  launch: { ehr: boolean; patient: boolean; encounter: boolean };
  openid: boolean;
  fhirUser: boolean;
  profile: boolean;
  offlineAccess: boolean;
  onlineAccess: boolean;
  /** Scopes Helix does not understand, verbatim. */
  unknown: string[];
}

const ORDER = 'cruds';
const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const SCOPE_RE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)(?:\?(.*))?$/;

/** Parses one clinical-data scope, or returns undefined if `text` is not one (or is malformed). */
export function parseResourceScope(text: string): ResourceScope | undefined {
  const m = SCOPE_RE.exec(text);
  if (!m) return undefined;
  const [, context, resourceType, action = '', query] = m;
  const v1 = V1[action];
  // v2 permissions are a non-empty subsequence of "cruds", in that order (patient/Observation.rs, never .sr).
  if (!v1 && !isOrderedSubset(action)) return undefined;
  const letters = v1 ?? action;
  const scope: ResourceScope = {
    context: context as ScopeContext,
    resourceType: resourceType as string,
    permissions: new Set(letters.split('') as Permission[]),
    version: v1 ? 1 : 2,
    text,
  };
  if (query !== undefined) {
    // Granular constraints are a v2 feature and need parameters to mean anything.
    if (v1 || !query) return undefined;
    const params = new URLSearchParams(query);
    if ([...params.keys()].some((k) => !k)) return undefined;
    scope.query = params;
  }
  return scope;
}

function isOrderedSubset(action: string): boolean {
  if (!action) return false;
  let at = -1;
  for (const ch of action) {
    const i = ORDER.indexOf(ch);
    if (i <= at) return false;
    at = i;
  }
  return true;
}

/** Parses a space-separated `scope` string. */
export function parseScopes(scope: string): Scopes {
  const out: Scopes = {
    resources: [], launch: { ehr: false, patient: false, encounter: false },
    openid: false, fhirUser: false, profile: false, offlineAccess: false, onlineAccess: false, unknown: [],
  };
  for (const text of new Set(scope.split(/\s+/).filter(Boolean))) {
    switch (text) {
      case 'launch': out.launch.ehr = true; continue;
      case 'launch/patient': out.launch.patient = true; continue;
      case 'launch/encounter': out.launch.encounter = true; continue;
      case 'openid': out.openid = true; continue;
      case 'fhirUser': out.fhirUser = true; continue;
      case 'profile': out.profile = true; continue;
      case 'offline_access': out.offlineAccess = true; continue;
      case 'online_access': out.onlineAccess = true; continue;
    }
    const parsed = parseResourceScope(text);
    if (parsed) out.resources.push(parsed);
    else out.unknown.push(text);
  }
  return out;
}

/** What a token's scopes allow for one permission on one resource type. */
export interface Grant {
  /** The contexts under which it is allowed (patient: only within the patient's compartment). */
  contexts: ReadonlySet<ScopeContext>;
  /**
   * Per context, the granular constraints that apply (OR of them); an empty list means the
   * permission is not granted in that context, `null` in the list means unconstrained.
   */
  constraints: ReadonlyMap<ScopeContext, readonly (URLSearchParams | null)[]>;
}

/** The grant of `scopes` for `permission` on `resourceType`. */
export function grantFor(scopes: readonly ResourceScope[], resourceType: string, permission: Permission): Grant {
  const constraints = new Map<ScopeContext, (URLSearchParams | null)[]>();
  for (const s of scopes) {
    if (!s.permissions.has(permission) || (s.resourceType !== '*' && s.resourceType !== resourceType)) continue;
    let list = constraints.get(s.context);
    if (!list) constraints.set(s.context, (list = []));
    list.push(s.query ?? null);
  }
  // An unconstrained scope makes the constrained ones in the same context irrelevant.
  for (const [context, list] of constraints) if (list.includes(null)) constraints.set(context, [null]);
  return { contexts: new Set(constraints.keys()), constraints };
}

/** True when `granted` allows everything `requested` asks for (used to narrow scopes on refresh). */
export function covers(granted: ResourceScope, requested: ResourceScope): boolean {
  if (granted.context !== requested.context) return false;
  if (granted.resourceType !== '*' && granted.resourceType !== requested.resourceType) return false;
  for (const p of requested.permissions) if (!granted.permissions.has(p)) return false;
  if (!granted.query) return true;
  // A constrained grant covers only requests at least as constrained: every granted parameter
  // must be asked for with the same value.
  if (!requested.query) return false;
  for (const [k, v] of granted.query) if (!requested.query.getAll(k).includes(v)) return false;
  return true;
}

/**
 * The scopes of `requested` that `granted` allows, for a refresh that narrows scope; the result
 * lists what is refused so the caller can answer invalid_scope (a refresh never widens scope).
 */
export function narrowScopes(granted: string, requested: string): { scope: string; refused: string[] } {
  const g = parseScopes(granted);
  const grantedWords = new Set(granted.split(/\s+/).filter(Boolean));
  const keep: string[] = [];
  const refused: string[] = [];
  for (const word of new Set(requested.split(/\s+/).filter(Boolean))) {
    const asResource = parseResourceScope(word);
    const ok = grantedWords.has(word) || (asResource !== undefined && g.resources.some((s) => covers(s, asResource)));
    (ok ? keep : refused).push(word);
  }
  return { scope: keep.join(' '), refused };
}
