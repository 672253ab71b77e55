// A real SMART client in a real browser: the small app in browser-app/ (fhirclient 2, served from its
// own origin) does a standalone launch against Helix in headless Chromium — discovery, PKCE, the
// sign-in, second-factor, patient picker and consent pages, the token exchange over CORS — then
// reads its patient's Observations and tries another patient's. Skipped where Chromium is not
// installed (CI installs it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { route } from '../../src/fhir/router.js';
import { addClient } from '../../src/smart/clients.js';
import { beginTotpEnrolment, confirmTotpEnrolment, createUser } from '../../src/smart/users.js';
import { startServer, type TestServer } from '../harness.js';

const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT = 30_000;
const APP_DIR = fileURLToPath(new URL('./browser-app/', import.meta.url));
const FHIR_CLIENT = fileURLToPath(new URL('../../node_modules/fhirclient/build/fhir-client.js', import.meta.url));

/** Serves the app's pages, fhirclient's browser build and a generated config.js on a free port. */
async function serveApp(config: () => Record<string, string>): Promise<{ server: Server; origin: string }> {
  const files: Record<string, { path: string; type: string }> = {
    '/launch.html': { path: `${APP_DIR}launch.html`, type: 'text/html; charset=utf-8' },
    '/index.html': { path: `${APP_DIR}index.html`, type: 'text/html; charset=utf-8' },
    '/fhir-client.js': { path: FHIR_CLIENT, type: 'text/javascript; charset=utf-8' },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    const send = (status: number, type: string, body: string | Buffer) => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (path === '/config.js') return send(200, 'text/javascript; charset=utf-8', `window.HELIX_APP = ${JSON.stringify(config())};`);
    const file = files[path];
    if (!file) return send(404, 'text/plain', 'not found');
    readFile(file.path).then((body) => send(200, file.type, body), (err: Error) => send(500, 'text/plain', err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('SMART standalone launch in a browser (fhirclient + Chromium)', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let srv: TestServer;
  let app: { server: Server; origin: string };
  let browser: Browser | undefined;
  let clientId = '';
  let totpSecret = '';
  const ids: Record<string, string> = {};
  const user = { username: 'dr-browser', password: 'a browser is a client too' };

  before(async () => {
    srv = await startServer({ auth: true });
    const { ctx } = srv.helix;
    const create = async (resource: Record<string, unknown>): Promise<string> => {
      const res = await route(ctx, ctx.pool, { method: 'POST', path: resource.resourceType as string, query: new URLSearchParams(), headers: {}, body: resource });
      const id = (res.resource ?? JSON.parse(res.text as string)).id as string | undefined;
      if (res.status !== 201 || !id) throw new Error(`fixture: ${res.status} ${res.text ?? ''}`);
      return id;
    };
    ids.alice = await create({ resourceType: 'Patient', name: [{ given: ['Alice'], family: 'Alpha' }] });
    ids.bob = await create({ resourceType: 'Patient', name: [{ given: ['Bob'], family: 'Beta' }] });
    const observation = (patient: string, code: string) => create({
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: `Patient/${patient}` },
    });
    ids.alice1 = await observation(ids.alice, '8302-2');
    ids.alice2 = await observation(ids.alice, '29463-7');
    ids.bob1 = await observation(ids.bob, '8302-2');

    const created = await createUser(ctx.db, { ...user, role: 'practitioner', fhirUser: 'Practitioner/p-browser' });
    totpSecret = (await beginTotpEnrolment(ctx.db, created.id)).secret;
    await confirmTotpEnrolment(ctx.db, created.id, new TOTP({ secret: Secret.fromBase32(totpSecret) }).generate());

    app = await serveApp(() => ({ clientId, appOrigin: app.origin, fhirBase: srv.base, otherPatient: ids.bob as string, otherObservation: ids.bob1 as string }));
    clientId = (await addClient(ctx.db, { name: 'Browser test app', redirectUris: [`${app.origin}/index.html`], auth: 'public' })).clientId;

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM, timeout: TIMEOUT,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    if (app) await new Promise<void>((resolve) => app.server.close(() => resolve()));
    await srv?.helix.close();
  });

  it('signs in with a second factor, picks a patient, consents, and reads only that patient’s data', { timeout: 4 * TIMEOUT }, async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.setDefaultNavigationTimeout(TIMEOUT);
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    try {
      const issuerOrigin = new URL(srv.helix.ctx.config.authIssuer).origin;
      await page.goto(`${app.origin}/launch.html`);

      // Sign-in page of the authorization server (fhirclient redirected there after discovery).
      await page.waitForSelector('input[name="password"]');
      assert.equal(new URL(page.url()).origin, issuerOrigin);
      await page.fill('input[name="username"]', user.username);
      await page.fill('input[name="password"]', user.password);
      await Promise.all([page.waitForSelector('input[name="code"]'), page.click('button[type="submit"]')]);

      // Second factor (the enrolment used the current 30 s step; a code is good once per step).
      await page.fill('input[name="code"]', new TOTP({ secret: Secret.fromBase32(totpSecret) }).generate({ timestamp: Date.now() + 30_000 }));
      await Promise.all([page.waitForSelector('select[name="patient"]'), page.click('button[type="submit"]')]);

      // Consent with the patient picker: every requested scope is offered, checked.
      const offered = await page.$$eval('input[name="scope"]', (els) => els.map((e) => (e as HTMLInputElement).value));
      assert.deepEqual(new Set(offered), new Set(['launch/patient', 'openid', 'fhirUser', 'patient/Patient.rs', 'patient/Observation.rs']));
      const options = await page.$$eval('select[name="patient"] option', (els) => els.map((e) => (e as HTMLOptionElement).value));
      assert.ok(options.includes(ids.alice as string) && options.includes(ids.bob as string), `picker offers both patients: ${options}`);
      await page.selectOption('select[name="patient"]', ids.alice as string);
      await Promise.all([
        page.waitForURL((url) => url.origin === app.origin && url.pathname === '/index.html'),
        page.click('button[name="decision"][value="allow"]'),
      ]);

      // The app exchanged the code and ran its requests.
      await page.waitForSelector('#result, #error', { state: 'attached' });
      const error = await page.$('#error');
      if (error) assert.fail(`${await error.textContent()}\n${consoleLines.join('\n')}`);
      const result = JSON.parse((await page.textContent('#result')) as string);

      assert.equal(result.patient, ids.alice, 'the token response carries the chosen patient');
      assert.deepEqual(new Set(String(result.scope).split(' ')), new Set(['launch/patient', 'openid', 'fhirUser', 'patient/Patient.rs', 'patient/Observation.rs']));
      assert.equal(result.hasIdToken, true);
      assert.equal(result.fhirUser, 'Practitioner/p-browser');

      assert.equal(result.own.ok, true, JSON.stringify(result.own));
      assert.equal(result.own.resourceType, 'Bundle');
      assert.deepEqual(new Set(result.own.entries), new Set([`Observation/${ids.alice1}`, `Observation/${ids.alice2}`]), 'exactly the chosen patient’s Observations');

      // Another patient's Observation is out of reach: by id (403/404) and by search (refused or empty).
      assert.equal(result.otherRead.ok, false, `read of another patient's Observation: ${JSON.stringify(result.otherRead)}`);
      assert.ok([403, 404].includes(result.otherRead.status), JSON.stringify(result.otherRead));
      if (result.otherSearch.ok) assert.deepEqual(result.otherSearch.entries, [], `search of another patient's Observations: ${JSON.stringify(result.otherSearch)}`);
      else assert.ok([403, 404].includes(result.otherSearch.status), JSON.stringify(result.otherSearch));
    } finally {
      await context.close();
    }
  });
});
