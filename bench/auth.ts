// The cost of SMART authorization on reads: the same GET Observation/[id] load against a second
// server on the same database with authorization on, once with a backend-services token
// (system/Observation.rs: token validation, scope check, audit) and once with a patient-scoped
// token from the real code flow (patient/Observation.rs: plus the compartment check).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { openDatabase } from '../src/db/open.js';
import { auditStream } from '../src/smart/audit-queue.js';
import { addClient } from '../src/smart/clients.js';
import { createUser } from '../src/smart/users.js';
import { authorize, pkce, tokenRequest } from '../test/smart/oauth-client.js';

/** Bearer tokens for the auth read phases. */
export interface BenchTokens {
  system: string;
  patient: string;
  /** The patient the patient-scoped token is confined to. */
  patientId: string;
}

/** Registers a backend client, a user and an app, and obtains one token of each kind from the server at `base`. */
export async function benchTokens(databaseUrl: string, base: string, patientId: string): Promise<BenchTokens> {
  const origin = new URL(base).origin;
  const issuer = `${origin}/auth`;
  const db = await openDatabase({ databaseUrl, dataDir: '', dbPoolSize: 1 });
  try {
    const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
    const kid = randomUUID();
    const backend = await addClient(db, {
      name: 'bench backend', redirectUris: [], auth: 'jwks', backend: true, scope: 'system/Observation.rs',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' }] },
    });
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid }).setIssuer(backend.clientId).setSubject(backend.clientId)
      .setAudience(`${issuer}/token`).setJti(randomUUID()).setIssuedAt().setExpirationTime('4m').sign(privateKey);
    const system = await tokenRequest(`${issuer}/token`, {
      grant_type: 'client_credentials', scope: 'system/Observation.rs',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    if (system.status !== 200) throw new Error(`backend token: ${system.text}`);

    const user = { username: `bench-${Date.now()}`, password: 'a bench password 123' };
    await createUser(db, { ...user, role: 'practitioner', fhirUser: 'Practitioner/bench' });
    const redirectUri = 'http://bench.example/cb';
    const app = await addClient(db, { name: 'bench app', redirectUris: [redirectUri], auth: 'public' });
    const p = pkce();
    const redirect = await authorize(origin, {
      issuer, clientId: app.clientId, redirectUri, scope: 'launch/patient patient/Observation.rs', aud: base, challenge: p.challenge,
    }, user, { patient: patientId });
    const patient = await tokenRequest(`${issuer}/token`, {
      grant_type: 'authorization_code', code: redirect.searchParams.get('code') as string, redirect_uri: redirectUri, client_id: app.clientId, code_verifier: p.verifier,
    });
    if (patient.status !== 200 || patient.json.patient !== patientId) throw new Error(`patient token: ${patient.text}`);
    return { system: system.json.access_token, patient: patient.json.access_token, patientId };
  } finally {
    await db.close();
  }
}

/** Deletes the audit stream of the bench database's installation from Redis. */
export async function dropAuditStream(databaseUrl: string, redisUrl: string): Promise<void> {
  const db = await openDatabase({ databaseUrl, dataDir: '', dbPoolSize: 1 });
  const redis = new Redis(redisUrl);
  try {
    const rows = await db.query<{ value: string }>(`SELECT value #>> '{}' AS value FROM auth_secrets WHERE name = 'installation-id'`);
    if (rows[0]) await redis.del(auditStream(rows[0].value));
  } finally {
    redis.disconnect();
    await db.close();
  }
}
