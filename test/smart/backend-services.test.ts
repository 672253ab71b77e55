// SMART Backend Services (client_credentials with private_key_jwt, RS384 and ES384), EHR launch,
// RFC 7591 dynamic registration, and tokens honoured by a second instance on the same database.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { route } from '../../src/fhir/router.js';
import { addClient } from '../../src/smart/clients.js';
import { createUser } from '../../src/smart/users.js';
import { startServer, type TestServer } from '../harness.js';
import { authorize, pkce, tokenRequest } from './oauth-client.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Signer { alg: string; kid: string; key: CryptoKey; publicJwk: JWK }

async function signer(alg: 'RS384' | 'ES384'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { alg, kid, key: privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

describe('SMART Backend Services, EHR launch and registration', () => {
  let srv: TestServer;
  let issuer: string;
  let tokenUrl: string;
  let rs384: Signer;
  let es384: Signer;
  let backend: string;
  let viaUri: string;
  let jwksServer: Server;
  const ids: Record<string, string> = {};

  before(async () => {
    srv = await startServer({ auth: true, registrationToken: 'initial-access-secret' });
    issuer = srv.helix.ctx.config.authIssuer;
    tokenUrl = `${issuer}/token`;
    const { ctx } = srv.helix;
    for (const key of ['p1', 'p2']) {
      const res = await route(ctx, ctx.pool, { method: 'POST', path: 'Patient', query: new URLSearchParams(), headers: {}, body: { resourceType: 'Patient', name: [{ family: key }] } });
      ids[key] = (res.resource ?? JSON.parse(res.text as string)).id;
    }
    rs384 = await signer('RS384');
    es384 = await signer('ES384');
    backend = (await addClient(ctx.db, { name: 'Analytics', redirectUris: [], auth: 'jwks', backend: true, jwks: { keys: [rs384.publicJwk, es384.publicJwk] }, scope: 'system/Observation.rs system/Patient.rs' })).clientId;
    // A second client whose keys are fetched from its JWKS URL.
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [es384.publicJwk] })));
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
    viaUri = (await addClient(ctx.db, { name: 'Via URI', redirectUris: [], auth: 'jwks', backend: true, jwksUri, scope: 'system/Patient.rs' })).clientId;
  });
  after(async () => {
    jwksServer.close();
    await srv.helix.close();
  });

  const assertion = (s: Signer, clientId: string, over: { aud?: string; exp?: number; jti?: string } = {}) =>
    new SignJWT({}).setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'JWT' }).setIssuer(clientId).setSubject(clientId)
      .setAudience(over.aud ?? tokenUrl).setJti(over.jti ?? randomUUID()).setIssuedAt()
      .setExpirationTime(over.exp ?? Math.floor(Date.now() / 1000) + 240).sign(s.key);
  const credentials = async (clientAssertion: string, scope = 'system/Observation.rs') =>
    tokenRequest(tokenUrl, { grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion });

  it('issues short-lived tokens without refresh tokens for RS384 and ES384 client assertions', async () => {
    for (const s of [rs384, es384]) {
      const tok = await credentials(await assertion(s, backend));
      assert.equal(tok.status, 200, `${s.alg}: ${tok.text}`);
      assert.equal(tok.json.token_type, 'Bearer');
      assert.ok(tok.json.expires_in > 0 && tok.json.expires_in <= 300, String(tok.json.expires_in));
      assert.equal(tok.json.refresh_token, undefined);
      assert.equal(tok.json.scope, 'system/Observation.rs');
      assert.equal(tok.headers.get('cache-control'), 'no-store');
      const res = await fetch(`${srv.base}/Observation`, { headers: { authorization: `Bearer ${tok.json.access_token}` } });
      assert.equal(res.status, 200);
    }
    const fromUri = await credentials(await assertion(es384, viaUri), 'system/Patient.rs');
    assert.equal(fromUri.status, 200, fromUri.text);
  });

  it('rejects replayed jti, far exp, wrong aud, alg none, HMAC and scopes beyond the registration', async () => {
    const jti = randomUUID();
    assert.equal((await credentials(await assertion(rs384, backend, { jti }))).status, 200);
    const replay = await credentials(await assertion(rs384, backend, { jti }));
    assert.equal(replay.json.error, 'invalid_client', 'replayed jti');
    const far = await credentials(await assertion(rs384, backend, { exp: Math.floor(Date.now() / 1000) + 600 }));
    assert.equal(far.json.error, 'invalid_client', 'exp ten minutes ahead');
    const aud = await credentials(await assertion(rs384, backend, { aud: 'http://elsewhere.example/token' }));
    assert.equal(aud.json.error, 'invalid_client', 'wrong aud');
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { iss: backend, sub: backend, aud: tokenUrl, jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 200 };
    const none = await credentials(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`);
    assert.equal(none.json.error, 'invalid_client', 'alg none');
    const hmac = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(backend).setSubject(backend).setAudience(tokenUrl)
      .setJti(randomUUID()).setExpirationTime('2m').sign(new TextEncoder().encode('a shared secret that is long enough'));
    assert.equal((await credentials(hmac)).json.error, 'invalid_client', 'HMAC');
    const wide = await credentials(await assertion(rs384, backend), 'system/Observation.cruds');
    assert.equal(wide.status, 400);
    assert.equal(wide.json.error, 'invalid_scope');
    const user = await credentials(await assertion(rs384, backend), 'user/Observation.rs');
    assert.equal(user.json.error, 'invalid_scope', 'backend services get system/ scopes only');
  });

  it('binds an EHR launch to the patient and encounter the EHR chose', async () => {
    const sys = await credentials(await assertion(rs384, backend));
    const launchRes = await fetch(`${issuer}/launch`, {
      method: 'POST', headers: { authorization: `Bearer ${sys.json.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patient: ids.p2, encounter: 'enc-7', fhirContext: [{ reference: `Patient/${ids.p2}` }] }),
    });
    assert.equal(launchRes.status, 201);
    const { launch } = await launchRes.json() as { launch: string };
    assert.ok(launch);
    assert.equal((await fetch(`${issuer}/launch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);

    const { ctx } = srv.helix;
    const doctor = { username: 'ehr-doc', password: 'launched from the EHR 7' };
    await createUser(ctx.db, { ...doctor, role: 'practitioner', fhirUser: 'Practitioner/d7' });
    const redirectUri = 'http://ehr-app.example/cb';
    const app = await addClient(ctx.db, { name: 'EHR app', redirectUris: [redirectUri], auth: 'public' });
    const p = pkce();
    const r = { issuer, clientId: app.clientId, redirectUri, scope: 'launch openid fhirUser patient/Observation.rs', aud: srv.base, challenge: p.challenge, launch };
    const redirect = await authorize(new URL(issuer).origin, r, doctor);
    const tok = await tokenRequest(`${issuer}/token`, { grant_type: 'authorization_code', code: redirect.searchParams.get('code') as string, redirect_uri: redirectUri, client_id: app.clientId, code_verifier: p.verifier });
    assert.equal(tok.status, 200, tok.text);
    assert.equal(tok.json.patient, ids.p2);
    assert.equal(tok.json.encounter, 'enc-7');
    assert.deepEqual(tok.json.fhirContext, [{ reference: `Patient/${ids.p2}` }]);

    // An unknown launch value gets no code.
    const refused = await authorize(new URL(issuer).origin, { ...r, launch: 'no-such-launch' }, doctor);
    assert.equal(refused.searchParams.get('error'), 'invalid_request');
    assert.equal(refused.searchParams.get('code'), null);
  });

  it('registers clients dynamically (RFC 7591) only with the initial access token', async () => {
    const body = JSON.stringify({ client_name: 'Dynamic', redirect_uris: ['http://dyn.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] });
    const headers = { 'content-type': 'application/json' };
    const refused = await fetch(`${issuer}/register`, { method: 'POST', headers, body });
    assert.ok(refused.status === 400 || refused.status === 401, String(refused.status));
    const ok = await fetch(`${issuer}/register`, { method: 'POST', headers: { ...headers, authorization: 'Bearer initial-access-secret' }, body });
    assert.equal(ok.status, 201);
    const client = await ok.json() as { client_id: string; redirect_uris: string[] };
    assert.ok(client.client_id);
    assert.deepEqual(client.redirect_uris, ['http://dyn.example/cb']);
  });

  it('honours a token on a second instance of the same database, and revocation reaches it', { skip: !process.env.DATABASE_URL && 'the embedded database belongs to one process' }, async () => {
    const second = await startServer({ auth: true, databaseUrl: srv.helix.ctx.config.databaseUrl, baseUrl: srv.base, authIssuer: issuer });
    try {
      const tok = await credentials(await assertion(es384, backend), 'system/Patient.rs');
      assert.equal(tok.status, 200);
      const at = (root: string) => fetch(`${root}/fhir/Patient/${ids.p1}`, { headers: { authorization: `Bearer ${tok.json.access_token}` } });
      assert.equal((await at(second.root)).status, 200, 'issued by the first instance, served by the second');
      const revoked = await tokenRequest(`${issuer}/revoke`, { token: tok.json.access_token, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(es384, backend, { aud: `${issuer}/revoke` }) });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal((await at(srv.root)).status, 401);
      // Across instances the revocation travels over Redis at once; without Redis, within the cache lifetime.
      if (process.env.REDIS_URL) assert.equal((await at(second.root)).status, 401);
    } finally {
      await second.helix.close();
    }
  });
});
