// Who is behind a FHIR request and what their access token allows (SMART App Launch 2.2, "Scopes and
// Launch Context"; SMART Backend Services). The HTTP layer builds one from a validated bearer token and
// attaches it to the FhirRequest; the FHIR layer enforces it (src/smart/enforce.ts). A request without
// one is unauthenticated and is only served when authorization is switched off.
import type { Role } from './users.js';
import { parseScopes, type Scopes } from './scopes.js';

/** The identity and grants carried by one access token. */
export interface Authorization {
  /** The OAuth client the token was issued to. */
  clientId: string;
  /** `user` for tokens issued to a person through the authorization code flow, `system` for backend services. */
  kind: 'user' | 'system';
  /** The granted scope, parsed. */
  scopes: Scopes;
  /** The user account id (auth_users.id) for user tokens. */
  subject?: string;
  /** The user's role, which decides what `user/` scopes reach (src/smart/roles.ts). */
  role?: Role;
  /** The FHIR resource the user is, e.g. `Practitioner/12` or `Patient/7`. */
  fhirUser?: string;
  /** Launch context: the patient id that `patient/` scopes are confined to. */
  patient?: string;
  /** Launch context: the encounter id. */
  encounter?: string;
  /** The token's id (for audit; never the token itself). */
  tokenId?: string;
}

/** Where a request came from, for the audit trail. */
export interface RequestSource {
  ip: string;
  userAgent?: string;
  requestId?: string;
}

/** Builds an Authorization from a granted scope string and its context. */
export function authorization(scope: string, rest: Omit<Authorization, 'scopes'>): Authorization {
  return { ...rest, scopes: parseScopes(scope) };
}
