// Key material of the authorization server, shared by every instance through auth_secrets
// (migrations/005): the private signing JWKS (RS256 for id_tokens, as SMART App Launch requires) and
// the keys that sign oidc-provider's cookies, and the id of this installation. The first instance to start creates them; the insert
// races harmlessly (ON CONFLICT DO NOTHING) and every instance then reads the winner's value.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Queryable } from '../db/database.js';

/** The authorization server's secrets. */
export interface AuthSecrets {
  /** Private JWKs, the signing key first. */
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** Identifies this database among others sharing one Redis (it names the audit stream). */
  installationId: string;
}

async function newJwks(): Promise<{ keys: JWK[] }> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { keys: [{ ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}

async function loadOrCreate<T>(q: Queryable, name: string, make: () => Promise<T> | T): Promise<T> {
  const existing = await q.query<{ value: T }>('SELECT value FROM auth_secrets WHERE name = $1', [name]);
  if (existing[0]) return existing[0].value;
  await q.query('INSERT INTO auth_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, JSON.stringify(await make())]);
  const rows = await q.query<{ value: T }>('SELECT value FROM auth_secrets WHERE name = $1', [name]);
  return (rows[0] as { value: T }).value;
}

/** Reads the shared secrets, creating them on first start. */
export async function loadAuthSecrets(q: Queryable): Promise<AuthSecrets> {
  return {
    jwks: await loadOrCreate(q, 'jwks', newJwks),
    cookieKeys: await loadOrCreate(q, 'cookie-keys', () => [randomBytes(32).toString('base64url')]),
    installationId: await loadOrCreate(q, 'installation-id', () => randomUUID()),
  };
}
