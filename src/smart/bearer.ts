// Bearer-token validation for the FHIR API (RFC 6750; SMART App Launch 2.2, "Access token"):
// resolves an access token to the Authorization it carries. Tokens are opaque handles stored by
// the authorization server in PostgreSQL, so any instance can validate any instance's tokens. A
// short-lived cache of validated tokens keeps the database off the hot path; revocations are fanned
// out (revocation-bus.ts) so a revoked token stops working everywhere at once, not at cache expiry.
import type { Queryable } from '../db/database.js';
import { authorization, type Authorization } from './access.js';
import { modelKey } from './oidc-adapter.js';
import type { Revocation, RevocationBus } from './revocation-bus.js';
import type { Role } from './users.js';

/** Why a token was refused (the RFC 6750 error and a description for WWW-Authenticate). */
export interface TokenProblem {
  error: 'invalid_request' | 'invalid_token';
  description: string;
}

/** Validates bearer tokens. */
export interface BearerValidator {
  /** The token's Authorization, or the reason it is refused. */
  validate(header: string | undefined): Promise<Authorization | TokenProblem>;
}

interface Payload {
  kind: string;
  jti: string;
  clientId: string;
  accountId?: string;
  scope?: string;
  grantId?: string;
  aud?: string | string[];
  exp?: number;
  extra?: { patient?: string; encounter?: string; fhirUser?: string; role?: Role };
}

interface Cached {
  /** The token's row key (SHA-256), which revocations name. */
  key: string;
  auth: Authorization;
  grantId?: string;
  /** Milliseconds since the epoch after which the entry must be re-read. */
  until: number;
}

// A cached validation is re-checked against the database at least this often, which bounds how
// long a revocation can go unnoticed if a fan-out message is ever lost.
const CACHE_MS = 15_000;
const CACHE_MAX = 10_000;

/** Creates the validator for tokens whose audience is `fhirBase`. */
export function bearerValidator(db: Queryable, fhirBase: string, bus: RevocationBus): BearerValidator {
  // Keyed by the token itself, so a hit costs no hashing; revocations (rare) scan for their key.
  const cache = new Map<string, Cached>();
  bus.subscribe((r: Revocation) => {
    for (const [token, v] of cache) if (v.key === r.key || (r.grantId && v.grantId === r.grantId)) cache.delete(token);
  });

  async function lookup(key: string): Promise<Cached | TokenProblem> {
    const rows = await db.query<{ payload: Payload }>(
      `SELECT payload FROM oauth_models WHERE id = $1 AND kind IN ('AccessToken', 'ClientCredentials')
         AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [key],
    );
    const p = rows[0]?.payload;
    if (!p) return { error: 'invalid_token', description: 'The access token is unknown, expired or revoked' };
    const audiences = Array.isArray(p.aud) ? p.aud : p.aud ? [p.aud] : [];
    if (!audiences.includes(fhirBase)) return { error: 'invalid_token', description: 'The access token was not issued for this FHIR server' };
    const extra = p.extra ?? {};
    const auth = authorization(p.scope ?? '', {
      clientId: p.clientId,
      kind: p.kind === 'ClientCredentials' ? 'system' : 'user',
      tokenId: key.slice(0, 16),
      ...(p.accountId ? { subject: p.accountId } : {}),
      ...(extra.role ? { role: extra.role } : {}),
      ...(extra.fhirUser ? { fhirUser: extra.fhirUser } : {}),
      ...(extra.patient ? { patient: extra.patient } : {}),
      ...(extra.encounter ? { encounter: extra.encounter } : {}),
    });
    const expiresMs = (p.exp ?? 0) * 1000;
    return { key, auth, ...(p.grantId ? { grantId: p.grantId } : {}), until: Math.min(Date.now() + CACHE_MS, expiresMs || Infinity) };
  }

  return {
    async validate(header) {
      const m = header ? /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header) : null;
      if (!m) return { error: 'invalid_request', description: header ? 'Authorization must be "Bearer <token>"' : 'An access token is required' };
      const token = m[1] as string;
      const hit = cache.get(token);
      if (hit && hit.until > Date.now()) return hit.auth;
      const found = await lookup(modelKey('AccessToken', token));
      if ('error' in found) {
        cache.delete(token);
        return found;
      }
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
      cache.set(token, found);
      return found.auth;
    },
  };
}
