// The SMART authorization server over HTTP: discovery, the code flow with PKCE through the real
// pages (sign-in, second factor, consent, patient picker), EHR launch, token response, single-use
// codes, refresh rotation and narrowing, introspection, revocation, and the 401s of the FHIR API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { route } from '../../src/fhir/router.js';
import { addClient } from '../../src/smart/clients.js';
import { beginTotpEnrolment, confirmTotpEnrolment, createUser } from '../../src/smart/users.js';
import { startServer, type TestServer } from '../harness.js';
import { authorize, authorizeUrl, CookieJar, follow, formAction, pkce, step, tokenRequest } from './oauth-client.js';

describe('SMART authorization server', () => {
  let srv: TestServer;
  let issuer: string;
  let app: { clientId: string };
  let rs: { clientId: string; clientSecret: string };
  const redirectUri = 'http://app.example/callback';
  const ids: Record<string, string> = {};
  let totpSecret = '';
  const doctor = { username: 'dr-who', password: 'sonic screwdriver 42' };
  const mfaUser = { username: 'dr-mfa', password: 'two factors are best', totp: () => new TOTP({ secret: Secret.fromBase32(totpSecret) }).generate({ timestamp: Date.now() + 30_000 }) };

  before(async () => {
    srv = await startServer({ auth: true });
    issuer = srv.helix.ctx.config.authIssuer;
    const { ctx } = srv.helix;
    for (const [key, family] of [['alice', 'Alpha'], ['bob', 'Beta']] as const) {
      const res = await route(ctx, ctx.pool, { method: 'POST', path: 'Patient', query: new URLSearchParams(), headers: {}, body: { resourceType: 'Patient', name: [{ family }] } });
      ids[key] = (res.resource ?? JSON.parse(res.text as string)).id;
    }
    await route(ctx, ctx.pool, { method: 'PUT', path: 'Practitioner/p1', query: new URLSearchParams(), headers: {}, body: { resourceType: 'Practitioner', id: 'p1', name: [{ family: 'Who' }] } });
    await createUser(ctx.db, { ...doctor, role: 'practitioner', fhirUser: 'Practitioner/p1' });
    const mfa = await createUser(ctx.db, { ...mfaUser, role: 'practitioner' });
    totpSecret = (await beginTotpEnrolment(ctx.db, mfa.id)).secret;
    await confirmTotpEnrolment(ctx.db, mfa.id, new TOTP({ secret: Secret.fromBase32(totpSecret) }).generate());
    app = await addClient(ctx.db, { name: 'Growth Chart', redirectUris: [redirectUri], auth: 'public' });
    rs = (await addClient(ctx.db, { name: 'Resource server', redirectUris: ['http://rs.example/cb'], auth: 'secret' })) as { clientId: string; clientSecret: string };
  });
  after(async () => srv.helix.close());

  const request = (scope: string, extra: Partial<Parameters<typeof authorizeUrl>[0]> = {}) => {
    const p = pkce();
    return { p, r: { issuer, clientId: app.clientId, redirectUri, scope, aud: srv.base, challenge: p.challenge, ...extra } };
  };
  const exchange = (code: string, verifier: string) =>
    tokenRequest(`${issuer}/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: app.clientId, code_verifier: verifier });
  const fhirGet = (path: string, token?: string) =>
    fetch(`${srv.base}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('publishes SMART discovery, OpenID configuration and the CapabilityStatement security block', async () => {
    const res = await fetch(`${srv.base}/.well-known/smart-configuration`, { headers: { origin: 'http://app.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://app.example');
    const conf = await res.json() as Record<string, any>;
    assert.equal(conf.issuer, issuer);
    assert.deepEqual(conf.code_challenge_methods_supported, ['S256']);
    assert.ok(conf.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    for (const c of ['launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
      'context-passthrough-banner', 'context-passthrough-style', 'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient',
      'permission-offline', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2', 'sso-openid-connect', 'authorize-post']) {
      assert.ok(conf.capabilities.includes(c), c);
    }
    for (const k of ['jwks_uri', 'authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'registration_endpoint']) {
      assert.ok(String(conf[k]).startsWith(issuer), k);
    }
    const oidc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Record<string, any>;
    assert.equal(oidc.issuer, issuer);
    const meta = await (await fhirGet('metadata')).json() as any;
    const ext = meta.rest[0].security.extension[0];
    assert.equal(ext.url, 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    assert.equal(ext.extension.find((e: any) => e.url === 'token').valueUri, `${issuer}/token`);
  });

  it('answers FHIR requests without a valid token with 401 and WWW-Authenticate', async () => {
    let res = await fhirGet('Patient');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await res.json() as any).resourceType, 'OperationOutcome');
    res = await fhirGet('Patient', 'not-a-token');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('runs a standalone launch: sign-in, consent, patient picker, token response with context and id_token', async () => {
    const { p, r } = request('launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs user/Practitioner.rs');
    const redirect = await authorize(new URL(issuer).origin, r, doctor, { patient: ids.bob });
    assert.equal(`${redirect.origin}${redirect.pathname}`, redirectUri);
    assert.equal(redirect.searchParams.get('state'), 'st-1');
    const code = redirect.searchParams.get('code') as string;
    assert.ok(code);
    const tok = await exchange(code, p.verifier);
    assert.equal(tok.status, 200, tok.text);
    assert.equal(tok.headers.get('cache-control'), 'no-store');
    assert.equal(tok.headers.get('pragma'), 'no-cache');
    assert.equal(tok.json.patient, ids.bob);
    assert.equal(tok.json.need_patient_banner, true);
    assert.equal(tok.json.smart_style_url, `${issuer}/smart-style.json`);
    assert.equal(tok.json.token_type, 'Bearer');
    assert.ok(tok.json.refresh_token, 'offline_access gives a refresh token');
    assert.deepEqual(new Set(tok.json.scope.split(' ')), new Set(['launch/patient', 'openid', 'fhirUser', 'offline_access', 'patient/Patient.rs', 'patient/Observation.rs', 'user/Practitioner.rs']));
    const [header, payload] = (tok.json.id_token as string).split('.').slice(0, 2).map((s: string) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    assert.equal(header.alg, 'RS256');
    assert.equal(payload.fhirUser, `${srv.base}/Practitioner/p1`);
    assert.equal(payload.aud, app.clientId);
    // fhirUser resolves to a resource the token can read.
    const me = await fetch(payload.fhirUser, { headers: { authorization: `Bearer ${tok.json.access_token}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json() as { id: string }).id, 'p1');
    assert.equal((await fetch(tok.json.smart_style_url)).status, 200);
    // The token opens the FHIR API.
    assert.equal((await fhirGet(`Patient/${ids.bob}`, tok.json.access_token)).status, 200);

    // Authorization codes are single-use; a replay is refused and revokes what the code issued.
    const replay = await exchange(code, p.verifier);
    assert.equal(replay.status, 400);
    assert.equal(replay.json.error, 'invalid_grant');
    assert.equal((await fhirGet(`Patient/${ids.bob}`, tok.json.access_token)).status, 401);
  });

  it('grants only the scopes the user leaves checked, and rotates refresh tokens that may narrow but not widen', async () => {
    const { p, r } = request('launch/patient offline_access patient/Patient.rs patient/Observation.rs');
    const redirect = await authorize(new URL(issuer).origin, r, doctor, { grant: ['launch/patient', 'offline_access', 'patient/Patient.rs'], patient: ids.alice });
    const tok = await exchange(redirect.searchParams.get('code') as string, p.verifier);
    assert.equal(tok.status, 200, tok.text);
    assert.deepEqual(new Set(tok.json.scope.split(' ')), new Set(['launch/patient', 'offline_access', 'patient/Patient.rs']));
    assert.equal(tok.json.patient, ids.alice);

    const refresh = (token: string, scope?: string) => tokenRequest(`${issuer}/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId, ...(scope ? { scope } : {}) });
    const wider = await refresh(tok.json.refresh_token, 'offline_access patient/Patient.rs patient/Observation.rs');
    assert.equal(wider.status, 400);
    assert.equal(wider.json.error, 'invalid_scope');
    const narrowed = await refresh(tok.json.refresh_token, 'offline_access patient/Patient.rs');
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.equal(narrowed.json.patient, ids.alice, 'the launch context survives a refresh');
    assert.notEqual(narrowed.json.refresh_token, tok.json.refresh_token, 'rotated');
    // The used refresh token is spent; reusing it revokes the grant.
    assert.equal((await refresh(tok.json.refresh_token)).json.error, 'invalid_grant');
    assert.equal((await refresh(narrowed.json.refresh_token)).json?.error, 'invalid_grant');
  });

  it('gives a refresh token for online_access too, and none without offline or online access', async () => {
    let { p, r } = request('launch/patient online_access patient/Patient.rs');
    let tok = await exchange((await authorize(new URL(issuer).origin, r, doctor, { patient: ids.alice })).searchParams.get('code') as string, p.verifier);
    assert.equal(tok.status, 200, tok.text);
    assert.ok(tok.json.refresh_token);
    ({ p, r } = request('launch/patient patient/Patient.rs'));
    tok = await exchange((await authorize(new URL(issuer).origin, r, doctor, { patient: ids.alice })).searchParams.get('code') as string, p.verifier);
    assert.equal(tok.json.refresh_token, undefined);
  });

  it('requires a second factor when the user enrolled one', async () => {
    const { p, r } = request('openid fhirUser user/Patient.rs');
    const redirect = await authorize(new URL(issuer).origin, r, mfaUser);
    assert.equal((await exchange(redirect.searchParams.get('code') as string, p.verifier)).status, 200);
    // A code already used (this time step) and a wrong code do not pass.
    await assert.rejects(authorize(new URL(issuer).origin, request('openid user/Patient.rs').r, mfaUser), /flow stopped at 401/);
    await assert.rejects(authorize(new URL(issuer).origin, request('openid user/Patient.rs').r, { ...mfaUser, totp: () => '000000' }), /flow stopped at 401/);
  });

  it('refuses bad authorization requests: no PKCE, plain PKCE, wrong aud (no code), unregistered redirect_uri (no redirect)', async () => {
    const jar = new CookieJar();
    const origin = new URL(issuer).origin;
    const errorOf = async (url: string) => {
      const res = await follow(jar, origin, await step(jar, url));
      return res.location ? new URL(res.location) : undefined;
    };
    let back = await errorOf(authorizeUrl({ ...request('user/Patient.rs').r, challenge: null }));
    assert.equal(back?.searchParams.get('error'), 'invalid_request');
    assert.equal(back?.searchParams.get('code'), null);
    back = await errorOf(authorizeUrl({ ...request('user/Patient.rs').r, challenge: 'abc'.repeat(15), method: 'plain' }));
    assert.equal(back?.searchParams.get('error'), 'invalid_request');
    back = await errorOf(authorizeUrl({ ...request('user/Patient.rs').r, aud: 'http://elsewhere.example/fhir' }));
    assert.equal(back?.searchParams.get('error'), 'invalid_request');
    assert.equal(back?.searchParams.get('state'), 'st-1');
    const bad = await step(jar, authorizeUrl({ ...request('user/Patient.rs').r, redirectUri: 'http://evil.example/cb' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.location, undefined);
    assert.match(bad.text, /redirect_uri/);
  });

  it('introspects (RFC 7662) and revokes (RFC 7009) tokens', async () => {
    const { p, r } = request('launch/patient patient/Observation.rs');
    const redirect = await authorize(new URL(issuer).origin, r, doctor, { patient: ids.alice });
    const tok = await exchange(redirect.searchParams.get('code') as string, p.verifier);
    const basic = { id: rs.clientId, secret: rs.clientSecret };
    const info = await tokenRequest(`${issuer}/introspect`, { token: tok.json.access_token }, basic);
    assert.equal(info.status, 200);
    assert.equal(info.json.active, true);
    assert.equal(info.json.client_id, app.clientId);
    assert.equal(info.json.patient, ids.alice);
    assert.equal(info.json.fhirUser, 'Practitioner/p1');
    assert.match(info.json.scope, /patient\/Observation\.rs/);
    assert.ok(info.json.exp > Date.now() / 1000);
    assert.deepEqual((await tokenRequest(`${issuer}/introspect`, { token: 'nonsense' }, basic)).json, { active: false });

    assert.equal((await fhirGet(`Observation?patient=${ids.alice}`, tok.json.access_token)).status, 200);
    const revoked = await tokenRequest(`${issuer}/revoke`, { token: tok.json.access_token, client_id: app.clientId });
    assert.equal(revoked.status, 200);
    assert.equal((await fhirGet(`Observation?patient=${ids.alice}`, tok.json.access_token)).status, 401, 'revoked at once, not at cache expiry');
    assert.equal((await tokenRequest(`${issuer}/introspect`, { token: tok.json.access_token }, basic)).json.active, false);
  });

  it('lets a user enrol TOTP through the account pages: QR code, first code, recovery codes once', async () => {
    const { ctx } = srv.helix;
    const user = { username: 'enrol-me', password: 'enrolling is easy 9' };
    await createUser(ctx.db, { ...user, role: 'patient' });
    const jar = new CookieJar();
    const enrol = `${issuer}/account/mfa`;
    assert.equal((await step(jar, enrol)).status, 200);
    assert.equal((await step(jar, enrol, { username: user.username, password: 'wrong password 123' })).status, 401);
    const qr = await step(jar, enrol, { ...user });
    assert.equal(qr.status, 200);
    assert.match(qr.text, /<svg/);
    const secret = /Key: <code>([A-Z2-7]+)<\/code>/.exec(qr.text)?.[1] as string;
    const ticket = /name="ticket" value="([^"]+)"/.exec(qr.text)?.[1] as string;
    assert.equal((await step(jar, `${enrol}/confirm`, { ticket, code: '000000' })).status, 400);
    const done = await step(jar, `${enrol}/confirm`, { ticket, code: new TOTP({ secret: Secret.fromBase32(secret) }).generate() });
    assert.equal(done.status, 200);
    assert.equal([...done.text.matchAll(/<li><code>/g)].length, 10);
    // From now on, sign-in asks for the second factor.
    const { r } = request('openid user/Patient.rs');
    const jar2 = new CookieJar();
    const login = await follow(jar2, new URL(issuer).origin, await step(jar2, authorizeUrl(r)));
    const mfa = await step(jar2, formAction(login.text, new URL(issuer).origin), { ...user });
    assert.match(mfa.text, /name="ticket"/);
  });

  it('serves the admin users API to admin tokens only', async () => {
    const { ctx } = srv.helix;
    const root = { username: 'root-admin', password: 'administrators rule 1' };
    await createUser(ctx.db, { ...root, role: 'admin' });
    const tokenFor = async (u: { username: string; password: string }) => {
      const { p, r } = request('openid user/Patient.rs');
      const redirect = await authorize(new URL(issuer).origin, r, u);
      return (await exchange(redirect.searchParams.get('code') as string, p.verifier)).json.access_token as string;
    };
    const adminToken = await tokenFor(root);
    const post = (token: string | undefined, body: unknown) => fetch(`${issuer}/admin/users`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
    });
    const created = await post(adminToken, { username: 'nurse-1', password: 'night shift nurse 12', role: 'practitioner', fhirUser: 'Practitioner/n1' });
    assert.equal(created.status, 201);
    assert.equal((await created.json() as { role: string }).role, 'practitioner');
    assert.equal((await post(adminToken, { username: 'nurse-2', password: 'short', role: 'practitioner' })).status, 400);
    assert.equal((await post(adminToken, { username: 'nurse-1', password: 'night shift nurse 12', role: 'practitioner' })).status, 409);
    assert.equal((await post(undefined, { username: 'x-1' })).status, 401);
    assert.equal((await post(await tokenFor(doctor), { username: 'x-2', password: 'not an admin at all', role: 'admin' })).status, 403);
    const list = await (await fetch(`${issuer}/admin/users`, { headers: { authorization: `Bearer ${adminToken}` } })).json() as { users: { username: string }[] };
    assert.ok(list.users.some((u) => u.username === 'nurse-1'));
    assert.ok(!JSON.stringify(list).includes('password'), 'no password hashes in the API');
  });
});
