// SMART discovery: `[fhir-base]/.well-known/smart-configuration` (SMART App Launch 2.2, "Conformance")
// and the `rest.security` block of the CapabilityStatement with the oauth-uris extension.
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import { AUTH_ROUTES, CLIENT_ASSERTION_ALGS, STATIC_SCOPES } from './auth-server.js';

/** What SMART clients are told the server can do. */
export const SMART_CAPABILITIES = [
  'launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
  'context-passthrough-banner', 'context-passthrough-style', 'context-ehr-patient', 'context-ehr-encounter',
  'context-standalone-patient', 'permission-offline', 'permission-online', 'permission-patient', 'permission-user',
  'permission-v1', 'permission-v2', 'sso-openid-connect', 'authorize-post',
];

/** The endpoints of the authorization server at `issuer`. */
export function authEndpoints(issuer: string) {
  const at = (path: string): string => `${issuer}${path}`;
  return {
    authorization: at(AUTH_ROUTES.authorization), token: at(AUTH_ROUTES.token), introspection: at(AUTH_ROUTES.introspection),
    revocation: at(AUTH_ROUTES.revocation), registration: at(AUTH_ROUTES.registration), jwks: at(AUTH_ROUTES.jwks),
    userinfo: at(AUTH_ROUTES.userinfo), management: at('/launch'),
  };
}

/** The `.well-known/smart-configuration` document. */
export function smartConfiguration(issuer: string): Record<string, unknown> {
  const e = authEndpoints(issuer);
  return {
    issuer,
    jwks_uri: e.jwks,
    authorization_endpoint: e.authorization,
    token_endpoint: e.token,
    introspection_endpoint: e.introspection,
    revocation_endpoint: e.revocation,
    registration_endpoint: e.registration,
    userinfo_endpoint: e.userinfo,
    management_endpoint: e.management,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    scopes_supported: [
      ...STATIC_SCOPES, 'patient/*.rs', 'patient/*.cruds', 'user/*.rs', 'user/*.cruds', 'system/*.rs', 'system/*.cruds',
      'patient/*.read', 'patient/*.write', 'user/*.read', 'user/*.write', 'system/*.read', 'system/*.write',
    ],
    capabilities: SMART_CAPABILITIES,
  };
}

/** `CapabilityStatement.rest.security` advertising SMART on FHIR and its OAuth endpoints. */
export function capabilitySecurity(issuer: string): CapabilityStatementRestSecurity {
  const e = authEndpoints(issuer);
  const uri = (url: string, valueUri: string) => ({ url, valueUri });
  return {
    cors: true,
    service: [{
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
      text: 'OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)',
    }],
    extension: [{
      url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
      extension: [
        uri('authorize', e.authorization), uri('token', e.token), uri('introspect', e.introspection),
        uri('revoke', e.revocation), uri('register', e.registration), uri('manage', e.management),
      ],
    }],
  };
}
