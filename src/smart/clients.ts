// OAuth clients (SMART apps and backend services), registered by an operator with
// `helix client add` — the same metadata RFC 7591 dynamic registration stores, in oidc-provider's
// Client model, so both paths produce identical clients.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { badRequest } from '../fhir/errors.js';
import { parseResourceScope } from './scopes.js';
import { splitSmartScope, STATIC_SCOPES } from './auth-server.js';

/** What an operator says about a new client. */
export interface NewClient {
  name: string;
  /** Apps: the exact redirect URIs. Backend services have none. */
  redirectUris: string[];
  /** `public` (PKCE only), `secret` (client_secret_basic) or `jwks` (private_key_jwt). */
  auth: 'public' | 'secret' | 'jwks';
  jwksUri?: string;
  jwks?: { keys: unknown[] };
  /** The most a client may ask for; requests beyond it are refused. */
  scope?: string;
  /** `client_credentials` for backend services; apps get authorization_code and refresh_token. */
  backend?: boolean;
}

/** The registered client: its id and, for `secret` clients, the secret (shown once). */
export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  metadata: Record<string, unknown>;
}

/** Validates and stores a client. */
export async function addClient(q: Queryable, c: NewClient): Promise<RegisteredClient> {
  if (!c.name.trim()) throw badRequest('A client needs a name');
  for (const uri of c.redirectUris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw badRequest(`redirect URI ${uri} is not an absolute URL`);
    }
    if (url.hash) throw badRequest('redirect URIs must not have a fragment');
  }
  if (!c.backend && !c.redirectUris.length) throw badRequest('An app needs at least one --redirect-uri');
  if (c.auth === 'jwks' && !c.jwksUri && !c.jwks) throw badRequest('A private_key_jwt client needs --jwks-uri or --jwks');
  if (c.backend && c.auth !== 'jwks') throw badRequest('Backend services authenticate with private_key_jwt (--jwks or --jwks-uri)');
  for (const word of (c.scope ?? '').split(/\s+/).filter(Boolean)) {
    if (!STATIC_SCOPES.includes(word) && !parseResourceScope(word)) throw badRequest(`Unknown scope ${word}`);
  }
  const clientId = randomUUID();
  const clientSecret = c.auth === 'secret' ? randomBytes(32).toString('base64url') : undefined;
  const metadata: Record<string, unknown> = splitSmartScope({
    client_id: clientId,
    client_name: c.name,
    client_id_issued_at: Math.floor(Date.now() / 1000),
    redirect_uris: c.redirectUris,
    grant_types: c.backend ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
    response_types: c.backend ? [] : ['code'],
    token_endpoint_auth_method: c.auth === 'public' ? 'none' : c.auth === 'secret' ? 'client_secret_basic' : 'private_key_jwt',
    ...(clientSecret ? { client_secret: clientSecret } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.scope ? { scope: c.scope } : {}),
  });
  await q.query(`INSERT INTO oauth_models (kind, id, payload) VALUES ('Client', $1, $2)`, [clientId, JSON.stringify(metadata)]);
  return { clientId, ...(clientSecret ? { clientSecret } : {}), metadata };
}
