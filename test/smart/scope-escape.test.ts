// Scope-escape attempts over HTTP with a real patient-scoped token from the code flow, and the audit
// trail those requests leave. Two patients: A (the launch patient) and B.
//
//   obsA  subject A     obsB  subject B     obsAB  subject A, hasMember → obsB
//   encB  subject B     condB subject B, encounter → encB
//
// Every expectation is worked out from this table by hand: the token may see obsA, obsAB and
// Patient A; nothing of B's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { route } from '../../src/fhir/router.js';
import { addClient } from '../../src/smart/clients.js';
import { createUser } from '../../src/smart/users.js';
import { startServer, type TestServer } from '../harness.js';
import { authorize, CookieJar, follow, formAction, pkce, step, tokenRequest } from './oauth-client.js';

describe('scope escapes over HTTP, and their audit trail', () => {
  let srv: TestServer;
  let issuer: string;
  let token = '';
  let adminToken = '';
  const ids: Record<string, string> = {};
  const doctor = { username: 'escape-doc', password: 'no escape from here 1' };
  const root = { username: 'escape-admin', password: 'auditors read it all 1' };

  before(async () => {
    srv = await startServer({ auth: true });
    issuer = srv.helix.ctx.config.authIssuer;
    const { ctx } = srv.helix;
    const make = async (key: string, body: Record<string, unknown>) => {
      const res = await route(ctx, ctx.pool, { method: 'POST', path: body.resourceType as string, query: new URLSearchParams(), headers: {}, body });
      ids[key] = (res.resource ?? JSON.parse(res.text as string)).id;
    };
    await make('pa', { resourceType: 'Patient', name: [{ family: 'Able' }] });
    await make('pb', { resourceType: 'Patient', name: [{ family: 'Baker' }] });
    const obs = (subject: string, extra: Record<string, unknown> = {}) => ({
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/${subject}` }, ...extra,
    });
    await make('obsA', obs(ids.pa as string));
    await make('obsB', obs(ids.pb as string));
    await make('obsAB', obs(ids.pa as string, { hasMember: [{ reference: `Observation/${ids.obsB}` }] }));
    await make('encB', { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${ids.pb}` } });
    await make('condB', { resourceType: 'Condition', subject: { reference: `Patient/${ids.pb}` }, encounter: { reference: `Encounter/${ids.encB}` } });
    await createUser(ctx.db, { ...doctor, role: 'practitioner' });
    await createUser(ctx.db, { ...root, role: 'admin' });
    const redirectUri = 'http://escape.example/cb';
    const app = await addClient(ctx.db, { name: 'Escape app', redirectUris: [redirectUri], auth: 'public' });
    const tokenOf = async (user: typeof doctor, scope: string, patient?: string) => {
      const p = pkce();
      const redirect = await authorize(new URL(issuer).origin, { issuer, clientId: app.clientId, redirectUri, scope, aud: srv.base, challenge: p.challenge }, user, patient ? { patient } : {});
      const tok = await tokenRequest(`${issuer}/token`, { grant_type: 'authorization_code', code: redirect.searchParams.get('code') as string, redirect_uri: redirectUri, client_id: app.clientId, code_verifier: p.verifier });
      assert.equal(tok.status, 200, tok.text);
      return tok.json;
    };
    const tok = await tokenOf(doctor, 'launch/patient patient/*.cruds', ids.pa);
    assert.equal(tok.patient, ids.pa);
    token = tok.access_token;
    adminToken = (await tokenOf(root, 'user/AuditEvent.rs')).access_token;
  });
  after(async () => srv.helix.close());

  const get = async (path: string, bearer = token) => {
    const res = await fetch(`${srv.base}/${path}`, { headers: { authorization: `Bearer ${bearer}`, 'user-agent': 'escape-test/1.0' } });
    return { status: res.status, body: await res.json() as any };
  };
  const ids_ = (bundle: any, mode?: string) => ((bundle.entry ?? []) as any[]).filter((e) => !mode || e.search?.mode === mode).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
  const nothingOrRefused = (r: { status: number; body: any }, what: string) => {
    assert.ok([403, 404].includes(r.status) || (r.status === 200 && ids_(r.body).filter((x) => !x.startsWith('OperationOutcome')).length === 0), `${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  };

  it('sees its own patient\'s data', async () => {
    assert.equal((await get(`Patient/${ids.pa}`)).status, 200);
    assert.deepEqual(ids_((await get('Observation')).body, 'match'), [`Observation/${ids.obsA}`, `Observation/${ids.obsAB}`].sort());
  });

  it('cannot reach the other patient by any route', async () => {
    nothingOrRefused(await get(`Patient/${ids.pb}`), 'read');
    nothingOrRefused(await get(`Observation/${ids.obsB}`), 'read by id');
    nothingOrRefused(await get(`Observation/${ids.obsB}/_history/1`), 'vread');
    nothingOrRefused(await get(`Observation?subject=Patient/${ids.pb}`), 'search by subject');
    nothingOrRefused(await get(`Observation?patient=${ids.pb}`), 'search by patient');
    nothingOrRefused(await get('Observation?subject:Patient.name=Baker'), 'chain');
    nothingOrRefused(await get(`Patient?_has:Observation:subject:_id=${ids.obsB}`), '_has');
    nothingOrRefused(await get(`Encounter?_id=${ids.encB}&_revinclude=Condition:encounter`), '_revinclude');
    nothingOrRefused(await get(`Observation/${ids.obsB}/_history`), 'instance history');
    nothingOrRefused(await get(`Patient/${ids.pb}/$everything`), '$everything');
    nothingOrRefused(await get(`Patient/${ids.pb}/Observation`), 'compartment search');
    // _include from an own resource that points at B's: the match stays, B's resource does not come along.
    const include = await get(`Observation?_id=${ids.obsAB}&_include=Observation:has-member`);
    assert.deepEqual(ids_(include.body, 'match'), [`Observation/${ids.obsAB}`]);
    assert.deepEqual(ids_(include.body, 'include'), []);
    // System search and type history show only A's.
    const system = await get('?_type=Observation,Encounter,Condition');
    assert.deepEqual(ids_(system.body, 'match'), [`Observation/${ids.obsA}`, `Observation/${ids.obsAB}`].sort());
    const history = await get('Observation/_history');
    assert.ok(!ids_(history.body).includes(`Observation/${ids.obsB}`));
    // A transaction entry that reads or writes B's data fails the whole transaction.
    const tx = await fetch(`${srv.base}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${ids.pb}` } }, request: { method: 'POST', url: 'Observation' } },
      ] }),
    });
    assert.ok([403, 404].includes(tx.status), String(tx.status));
    // Moving an own Observation to B is refused, and nothing changed.
    const move = await fetch(`${srv.base}/Observation/${ids.obsA}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Observation', id: ids.obsA, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${ids.pb}` } }),
    });
    assert.equal(move.status, 403);
    assert.equal((await get(`Observation/${ids.obsA}`)).body.subject.reference, `Patient/${ids.pa}`);
  });

  it('records every access, refused tokens and failed sign-ins; admins search them as AuditEvents', async () => {
    const before = Number((await srv.helix.ctx.db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log'))[0]?.n);
    assert.equal((await get(`Observation/${ids.obsA}`)).status, 200);
    assert.equal((await fetch(`${srv.base}/Observation`, { headers: { authorization: 'Bearer forged' } })).status, 401);
    const jar = new CookieJar();
    const p = pkce();
    const app = await addClient(srv.helix.ctx.db, { name: 'Login probe', redirectUris: ['http://probe.example/cb'], auth: 'public' });
    const login = await follow(jar, new URL(issuer).origin, await step(jar, `${issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: 'http://probe.example/cb', scope: 'openid', aud: srv.base, code_challenge: p.challenge, code_challenge_method: 'S256', state: 's' })}`));
    assert.equal((await step(jar, formAction(login.text, new URL(issuer).origin), { username: doctor.username, password: 'wrong password 000' })).status, 401);

    // With Redis the entries reach audit_log through the queue's drainer, a moment after the responses.
    type LogRow = { subtype: string; outcome: string; patients: string[]; user_agent: string | null };
    let rows: LogRow[] = [];
    for (let i = 0; i < 100; i++) {
      rows = await srv.helix.ctx.db.query<LogRow>('SELECT subtype, outcome, patients, user_agent FROM audit_log ORDER BY id OFFSET $1', [before]);
      if (['read', 'token', 'login'].every((k) => rows.some((r) => r.subtype === k))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const read = rows.find((r) => r.subtype === 'read');
    assert.ok(read, JSON.stringify(rows));
    assert.deepEqual(read.patients, [ids.pa]);
    assert.equal(read.user_agent, 'escape-test/1.0');
    assert.ok(rows.some((r) => r.subtype === 'token' && r.outcome === '4'), 'refused token');
    assert.ok(rows.some((r) => r.subtype === 'login' && r.outcome === '4'), 'failed sign-in');

    // AuditEvents are served from the log, so an admin finds them at once; the loop only waits for
    // the Redis audit queue (when there is one) to drain into the log.
    let found: string[] = [];
    for (let i = 0; i < 60 && !found.length; i++) {
      const res = await get(`AuditEvent?patient=Patient/${ids.pa}&_count=200`, adminToken);
      assert.equal(res.status, 200);
      found = ids_(res.body, 'match');
      if (!found.length) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(found.length > 0, 'AuditEvents about patient A');
    assert.equal((await get('AuditEvent', token)).status, 403, 'a patient-scoped app cannot read the audit trail');
  });
});
