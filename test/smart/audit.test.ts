// The audit trail: entries derived from finished requests, group-committed writes that fail loudly,
// and AuditEvent served straight from audit_log (read, vread, search, history; writes refused).
// Each describe runs on a database of its own (in-memory PGlite, or a fresh PostgreSQL database
// next to DATABASE_URL), so that nothing else writing audit rows can disturb the counts. Expected
// values are worked out by hand from the rules in src/smart/audit.ts, audit-event.ts and
// audit-query.ts, and from the fixture table below.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { asFhirError, notFound, operationOutcome } from '../../src/fhir/errors.js';
import { route } from '../../src/fhir/router.js';
import { poolSession, type FhirContext, type FhirMethod, type FhirRequest } from '../../src/fhir/types.js';
import { authorization } from '../../src/smart/access.js';
import { auditEntryFor, authAuditEntry, createAuditTrail, type AuditEntry } from '../../src/smart/audit.js';
import { statisticsKeeper } from '../../src/storage/statistics.js';
import { sharedServer } from '../harness.js';

const T1 = new Date('2026-03-04T05:06:07.089Z');
const T2 = new Date('2026-03-04T05:07:00.000Z');
const T3 = new Date('2026-03-04T06:00:00.000Z');
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

const practitioner = authorization('user/*.read', {
  clientId: 'app-1', kind: 'user', subject: 'u-42', role: 'practitioner', fhirUser: 'Practitioner/d1', tokenId: 'tok-1',
});
const source = (requestId: string) => ({ ip: '10.1.2.3', userAgent: 'curl/8.5', requestId });
const request = (method: FhirRequest['method'], path: string, extra: Partial<FhirRequest> = {}): FhirRequest => {
  const [p = '', q = ''] = path.split('?');
  return { method, path: p, query: new URLSearchParams(q), headers: {}, ...extra };
};
const OBSERVATION = '{"resourceType":"Observation","id":"o1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00.000Z"},'
  + '"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/pA","display":"A"}}';

/** The read of Observation/o1 (subject Patient/pA) by practitioner d1 through app-1. */
const readEntry = (requestId: string, recorded = T1): AuditEntry => auditEntryFor(
  request('GET', 'Observation/o1', { auth: practitioner, source: source(requestId) }),
  { status: 200, headers: {}, text: OBSERVATION },
  { recorded },
) as AuditEntry;

describe('audit entries from requests', () => {
  it('a read: who, what, the patient from the served subject reference, where from', () => {
    assert.deepEqual(readEntry('req-1'), {
      recorded: T1, action: 'R', subtype: 'read', outcome: '0', status: 200, patients: ['pA'],
      clientId: 'app-1', userId: 'u-42', fhirUser: 'Practitioner/d1', role: 'practitioner', tokenId: 'tok-1',
      resourceType: 'Observation', resourceId: 'o1', ip: '10.1.2.3', userAgent: 'curl/8.5', requestId: 'req-1',
    });
  });

  it('searches keep their query and name patients from the compartment, parameters and the page', () => {
    const bundle = '{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://h/fhir/Observation/o2",'
      + '"resource":{"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/pC"}}},'
      + '{"fullUrl":"http://h/fhir/Patient/pD","resource":{"resourceType":"Patient","id":"pD","contained":[{"resourceType":"Patient","id":"local"}]}}]}';
    const compartment = auditEntryFor(request('GET', 'Patient/pA/Observation?code=1234-5'), { status: 200, text: '{"resourceType":"Bundle","type":"searchset"}' }, { recorded: T1 });
    assert.deepEqual(compartment, {
      recorded: T1, action: 'E', subtype: 'search-type', outcome: '0', status: 200, patients: ['pA'],
      resourceType: 'Observation', query: 'Patient/pA/Observation?code=1234-5',
    });
    const bySubject = auditEntryFor(request('GET', 'Observation?subject=Patient/pB&_include=Observation:subject'), { status: 200, text: bundle });
    // pB from the parameter; pC from a served subject; pD from the included Patient (its contained one is local).
    assert.deepEqual(bySubject?.patients, ['pB', 'pC', 'pD']);
    assert.equal(bySubject?.query, 'Observation?subject=Patient%2FpB&_include=Observation%3Asubject');
    const form = auditEntryFor(request('POST', 'Observation/_search', { body: new URLSearchParams('patient=pE,pF') }), { status: 200, text: '{}' });
    assert.deepEqual([form?.subtype, form?.patients, form?.query], ['search-type', ['pE', 'pF'], 'Observation/_search?patient=pE%2CpF']);
    const byId = auditEntryFor(request('GET', 'Patient?_id=pG'), { status: 200, text: '{}' });
    assert.deepEqual(byId?.patients, ['pG']);
  });

  it('writes: the created id from Location, create-by-update is C, and a minimal response falls back to the body', () => {
    const created = auditEntryFor(
      request('POST', 'Observation', { body: { resourceType: 'Observation', subject: { reference: 'Patient/p5' } }, auth: practitioner }),
      { status: 201, headers: { Location: 'http://h/fhir/Observation/new1/_history/1' } },
    );
    assert.deepEqual([created?.action, created?.subtype, created?.resourceType, created?.resourceId, created?.patients], ['C', 'create', 'Observation', 'new1', ['p5']]);
    const put = auditEntryFor(request('PUT', 'Patient/p6', { body: { resourceType: 'Patient', id: 'p6' } }), { status: 201, headers: { Location: 'http://h/fhir/Patient/p6/_history/1' } });
    assert.deepEqual([put?.action, put?.subtype, put?.resourceId, put?.patients], ['C', 'update', 'p6', ['p6']]);
    const patch = auditEntryFor(request('PATCH', 'Condition/c1', { body: [{ op: 'add', path: '/x', value: 1 }] }), { status: 200, text: '{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p7"}}' });
    assert.deepEqual([patch?.action, patch?.subtype, patch?.patients], ['U', 'patch', ['p7']]);
    const del = auditEntryFor(request('DELETE', 'Patient/p8'), { status: 204 });
    assert.deepEqual([del?.action, del?.subtype, del?.resourceId, del?.patients], ['D', 'delete', 'p8', ['p8']]);
  });

  it('transactions name the patients of their requests and responses; vread, history and operations', () => {
    const body = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Observation/o9' }, resource: { resourceType: 'Observation', subject: { reference: 'Patient/p9' } } }] };
    const response = '{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created","location":"http://h/fhir/Patient/p10/_history/1"}}]}';
    const tx = auditEntryFor(request('POST', '', { body }), { status: 200, text: response });
    assert.deepEqual([tx?.action, tx?.subtype, tx?.patients], ['E', 'transaction', ['p10', 'p9']]);
    assert.equal(auditEntryFor(request('POST', '', { body: { ...body, type: 'batch' } }), { status: 200 })?.subtype, 'batch');
    const vread = auditEntryFor(request('GET', 'Patient/p11/_history/2'), { status: 200 });
    assert.deepEqual([vread?.action, vread?.subtype, vread?.resourceId, vread?.patients, vread?.query], ['R', 'vread', 'p11', ['p11'], undefined]);
    const everything = auditEntryFor(request('GET', 'Patient/p12/$everything?_count=5'), { status: 200 });
    assert.deepEqual([everything?.action, everything?.subtype, everything?.patients, everything?.query], ['E', 'operation', ['p12'], 'Patient/p12/$everything?_count=5']);
    const history = auditEntryFor(request('GET', '_history'), { status: 200 });
    assert.deepEqual([history?.action, history?.subtype], ['R', 'history-system']);
  });

  it('failures: outcome 4 for client errors, 8 for server errors; the launch patient counts', () => {
    const patientApp = authorization('patient/*.read', { clientId: 'app-2', kind: 'user', subject: 'u-7', role: 'patient', fhirUser: 'Patient/p13', patient: 'p13' });
    const missing = auditEntryFor(request('GET', 'Observation/zz', { auth: patientApp }), notFound('gone'), { recorded: T2 });
    assert.deepEqual(missing, {
      recorded: T2, action: 'R', subtype: 'read', outcome: '4', status: 404, patients: ['p13'],
      clientId: 'app-2', userId: 'u-7', fhirUser: 'Patient/p13', role: 'patient', resourceType: 'Observation', resourceId: 'zz',
    });
    assert.equal(auditEntryFor(request('GET', 'Observation/o1'), { status: 503 })?.outcome, '8');
  });

  it('conformance and terminology requests are not audited', () => {
    for (const path of ['metadata', 'StructureDefinition/x', 'ValueSet/$expand?url=http://x', 'CodeSystem?url=http://y', 'SearchParameter']) {
      assert.equal(auditEntryFor(request('GET', path), { status: 200 }), undefined, path);
    }
    assert.notEqual(auditEntryFor(request('GET', 'AuditEvent?patient=p1'), { status: 200 }), undefined);
  });

  it('failed logins and token failures', () => {
    assert.deepEqual(authAuditEntry({ kind: 'login', ok: false, reason: 'invalid-credentials', status: 401, username: 'mallory', clientId: 'app-1', source: source('req-3'), recorded: T3 }), {
      recorded: T3, action: 'E', subtype: 'login', outcome: '4', status: 401, patients: [], detail: 'invalid-credentials', userName: 'mallory',
      clientId: 'app-1', ip: '10.1.2.3', userAgent: 'curl/8.5', requestId: 'req-3',
    });
    assert.deepEqual(authAuditEntry({ kind: 'token', ok: false, reason: 'expired', status: 401, recorded: T3 }), {
      recorded: T3, action: 'E', subtype: 'token', outcome: '4', status: 401, patients: [], detail: 'expired',
    });
  });
});

let databases = 0;

/** A database of this describe's own, dropped at the end. */
async function ownDatabase(): Promise<{ db: Database; url?: string; close(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const db = await openDatabase({ dataDir: 'memory://', dbPoolSize: 1 });
    return { db, close: () => db.close() };
  }
  const name = `helix_audit_${process.pid}_${Date.now().toString(36)}_${++databases}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: u.toString(), dataDir: '', dbPoolSize: 8 });
  return {
    db, url: u.toString(),
    async close() {
      await db.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A database wrapper counting the audit INSERTs that reach it, optionally failing them. */
function counting(db: Database, fail?: Error): Database & { inserts: () => number } {
  let n = 0;
  return {
    driver: db.driver,
    inserts: () => n,
    async query(sql, params, options) {
      if (sql.startsWith('INSERT INTO audit_log')) {
        n++;
        if (fail) throw fail;
      }
      return db.query(sql, params, options);
    },
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}

/** The shared server's definitions, extractor and validator over database `db`. */
async function contextOver(db: Database): Promise<FhirContext> {
  const shared = (await sharedServer()).helix.ctx;
  return { ...shared, db, pool: poolSession(db), statistics: statisticsKeeper(db, { threshold: 1e9, minIntervalMs: 0, onError: () => undefined }) };
}

describe('audit trail', () => {
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  before(async () => {
    own = await ownDatabase();
  });
  after(async () => {
    await own?.close();
  });

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await own.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`, params))[0]?.n);

  it('group-commits the entries of one turn in one INSERT, resolving each caller after the commit', async () => {
    const db = counting(own.db);
    const trail = createAuditTrail(db);
    const ids = Array.from({ length: 20 }, (_, i) => `gc-${i}`);
    const seen = await Promise.all(ids.map((id) => trail.record(readEntry(id)).then(() => count('audit_log WHERE request_id = $1', [id]))));
    assert.deepEqual(seen, ids.map(() => 1));
    assert.equal(db.inserts(), 1);
    assert.equal(await count("audit_log WHERE request_id LIKE 'gc-%'"), 20);
  });

  it('a failed INSERT rejects every caller of its batch with a 500 that quotes no row content', async () => {
    const refusal = Object.assign(new Error('new row violates constraint; Failing row contains (Patient pA, secret)'), { code: '08006' });
    const db = counting(own.db, refusal);
    const trail = createAuditTrail(db);
    const results = await Promise.allSettled(['f-1', 'f-2', 'f-3', 'f-4', 'f-5'].map((id) => trail.record(readEntry(id))));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason;
      assert.equal(err.status, 500);
      assert.equal(err.issues[0].diagnostics, 'The audit trail could not be written (SQLSTATE 08006); the request was not completed');
      assert.doesNotMatch(err.message, /Failing row|pA|secret/);
    }
    // The batch, then each entry alone (coalesce's retry): all refused, nothing stored.
    assert.equal(db.inserts(), 6);
    assert.equal(await count("audit_log WHERE request_id LIKE 'f-%'"), 0);
  });

  it('a row the database refuses fails its own caller only; NUL bytes from clients are stored, not refused', async () => {
    const trail = createAuditTrail(own.db);
    const bad = { ...readEntry('bad-1'), outcome: '5' as AuditEntry['outcome'] };
    const odd = { ...readEntry('nul-1'), userAgent: 'x\u0000y', query: 'Observation?code=\u0000' };
    const results = await Promise.allSettled([trail.record(readEntry('ok-1')), trail.record(bad), trail.record(odd), trail.record(readEntry('ok-2'))]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason.issues[0].diagnostics, 'The audit trail could not be written (SQLSTATE 23514); the request was not completed');
    assert.equal(await count("audit_log WHERE request_id IN ('ok-1', 'ok-2', 'bad-1')"), 2);
    assert.deepEqual(await own.db.query("SELECT user_agent, query FROM audit_log WHERE request_id = 'nul-1'"), [{ user_agent: 'x\uFFFDy', query: 'Observation?code=\uFFFD' }]);
  });

  it('audit_log is append-only', async () => {
    await assert.rejects(own.db.query("UPDATE audit_log SET detail = 'x'"), /append-only/);
    await assert.rejects(own.db.query('DELETE FROM audit_log'), /append-only/);
  });
});

// The fixture: ten audit rows, committed one by one (so log ids rise in this order), each with
// request id = its key. Newest first, the log reads e10 e9 e8 e7 e6 e5 e4 e3 e2 e1 (e8 and e9 share
// their instant; e9 has the higher id).
//
//   key  recorded (UTC)               who                      what                     action/subtype    outcome/status  patients
//   e1   2025-01-10T08:00:00.000      doctor                   Observation/o1           R read            0 200           pA
//   e2   2025-01-10T08:00:30.500      doctor                   Observation?patient=pB   E search-type     0 200           pB
//   e3   2025-01-10T09:15:00.000      nurse                    Patient/pB               R read            0 200           pB
//   e4   2025-01-11T00:00:00.000      nurse                    Observation/o5           C create          0 201           pA
//   e5   2025-01-31T23:59:59.999      doctor                   Observation/o1           R read            0 200           pA
//   e6   2025-02-01T00:00:00.000      backend etl-1            Observation/o7           D delete          0 204           —
//   e7   2025-02-01T00:00:01.000      patient user (Patient/pA) Observation/o9          R read            4 404           —
//   e8   2025-02-02T12:00:00.000      login "mallory" via app-1 —                        E login           4 401           —
//   e9   2025-02-02T12:00:00.000      token failure, no client —                        E token           4 401           —
//   e10  2025-02-03T10:00:00.000      nurse                    Patient/pA $everything   E operation       8 500           pA
//
//   doctor  u-42 Practitioner/d1 app-1 10.1.2.3 "curl/8.5"      nurse  u-7 Practitioner/n2 app-2 10.1.2.4 "Mozilla/5.0 (X11; Linux x86_64)"
//   patient user u-9 Patient/pA app-3 192.168.0.9 "HelixMobile/2.0"    backend etl-1 10.9.0.1 "etl/1.0"    e8, e9 from 10.6.6.6 "evil/1.0"
const doctor = { clientId: 'app-1', userId: 'u-42', fhirUser: 'Practitioner/d1', role: 'practitioner', tokenId: 'tok-1', ip: '10.1.2.3', userAgent: 'curl/8.5' };
const nurse = { clientId: 'app-2', userId: 'u-7', fhirUser: 'Practitioner/n2', role: 'practitioner', tokenId: 'tok-2', ip: '10.1.2.4', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' };
const patientUser = { clientId: 'app-3', userId: 'u-9', fhirUser: 'Patient/pA', role: 'patient', tokenId: 'tok-3', ip: '192.168.0.9', userAgent: 'HelixMobile/2.0' };
const backend = { clientId: 'etl-1', tokenId: 'tok-4', ip: '10.9.0.1', userAgent: 'etl/1.0' };
const row = (key: string, recorded: string, who: Partial<AuditEntry>, what: Partial<AuditEntry>): AuditEntry =>
  ({ recorded: new Date(recorded), outcome: '0', patients: [], requestId: key, ...who, ...what }) as AuditEntry;
const ok = (subtype: string, action: AuditEntry['action'], status: number) => ({ subtype, action, status });
const FIXTURE: AuditEntry[] = [
  row('e1', '2025-01-10T08:00:00.000Z', doctor, { ...ok('read', 'R', 200), resourceType: 'Observation', resourceId: 'o1', patients: ['pA'] }),
  row('e2', '2025-01-10T08:00:30.500Z', doctor, { ...ok('search-type', 'E', 200), resourceType: 'Observation', patients: ['pB'], query: 'Observation?patient=pB' }),
  row('e3', '2025-01-10T09:15:00.000Z', nurse, { ...ok('read', 'R', 200), resourceType: 'Patient', resourceId: 'pB', patients: ['pB'] }),
  row('e4', '2025-01-11T00:00:00.000Z', nurse, { ...ok('create', 'C', 201), resourceType: 'Observation', resourceId: 'o5', patients: ['pA'] }),
  row('e5', '2025-01-31T23:59:59.999Z', doctor, { ...ok('read', 'R', 200), resourceType: 'Observation', resourceId: 'o1', patients: ['pA'] }),
  row('e6', '2025-02-01T00:00:00.000Z', backend, { ...ok('delete', 'D', 204), resourceType: 'Observation', resourceId: 'o7' }),
  row('e7', '2025-02-01T00:00:01.000Z', patientUser, { ...ok('read', 'R', 404), outcome: '4', resourceType: 'Observation', resourceId: 'o9' }),
  authAuditEntry({ kind: 'login', ok: false, reason: 'invalid-credentials', status: 401, username: 'mallory', clientId: 'app-1', source: { ip: '10.6.6.6', userAgent: 'evil/1.0', requestId: 'e8' }, recorded: new Date('2025-02-02T12:00:00.000Z') }),
  authAuditEntry({ kind: 'token', ok: false, reason: 'expired', status: 401, source: { ip: '10.6.6.6', userAgent: 'evil/1.0', requestId: 'e9' }, recorded: new Date('2025-02-02T12:00:00.000Z') }),
  row('e10', '2025-02-03T10:00:00.000Z', nurse, { ...ok('operation', 'E', 500), outcome: '8', resourceType: 'Patient', resourceId: 'pA', patients: ['pA'], query: 'Patient/pA/$everything' }),
];
const NEWEST_FIRST = ['e10', 'e9', 'e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1'];
const XREQUEST = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';

interface Result { status: number; body: any; headers: Record<string, string> }

describe('AuditEvent served from the audit log', () => {
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let ctx: FhirContext;
  const logIds: Record<string, string> = {};
  before(async () => {
    own = await ownDatabase();
    ctx = await contextOver(own.db);
    const trail = createAuditTrail(own.db);
    for (const entry of FIXTURE) await trail.record(entry);
    for (const r of await own.db.query<{ id: string; request_id: string }>('SELECT id::text AS id, request_id FROM audit_log')) logIds[r.request_id] = r.id;
  });
  after(async () => {
    await own?.close();
  });

  const auditId = (key: string): string => `audit-${logIds[key]}`;
  /** One request through the router, errors turned into OperationOutcomes as the HTTP layer does. */
  const call = async (method: FhirMethod, path: string, extra: Partial<FhirRequest> = {}, c: FhirContext = ctx): Promise<Result> => {
    const [p = '', q = ''] = path.split('?', 2);
    try {
      const res = await route(c, c.pool, { method, path: p, query: new URLSearchParams(q), headers: {}, ...extra });
      return { status: res.status, body: res.text ? JSON.parse(res.text) : res.resource, headers: res.headers };
    } catch (err) {
      const e = asFhirError(err);
      return { status: e.status, body: operationOutcome(e.issues), headers: e.headers };
    }
  };
  /** The keys (request ids) of the matches, in the order served. */
  const keys = (bundle: any): string[] => ((bundle.entry ?? []) as any[]).filter((e) => e.search?.mode === 'match')
    .map((e) => (e.resource.entity as any[]).find((x) => x.type?.system === XREQUEST).what.identifier.value as string);
  const search = async (query: string): Promise<string[]> => {
    const res = await call('GET', `AuditEvent?${query}`);
    assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body).slice(0, 300)}`);
    return keys(res.body);
  };
  const warnings = (bundle: any): string[] => ((bundle.entry ?? []) as any[]).filter((e) => e.search?.mode === 'outcome').flatMap((e) => e.resource.issue.map((i: any) => i.diagnostics));

  it('reads an AuditEvent by id, rendered from its row, with version headers; unknown ids are 404', async () => {
    const res = await call('GET', `AuditEvent/${auditId('e1')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, { ETag: 'W/"1"', 'Last-Modified': 'Fri, 10 Jan 2025 08:00:00 GMT' });
    const helix = { observer: { display: 'Helix' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] };
    const human = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' }] };
    const client = (id: string | undefined, ip: string, ua: string) => ({
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: id ? { identifier: { system: 'https://helix-fhir.dev/sid/oauth-client', value: id } } : { display: 'unauthenticated client' },
      requestor: false, ...(id ? { altId: id } : {}), name: ua, network: { address: ip, type: '2' },
    });
    const requestId = (v: string) => ({ what: { identifier: { value: v } }, type: { system: XREQUEST, code: 'XrequestId' } });
    const patientA = { what: { reference: 'Patient/pA' }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } };
    assert.deepEqual(res.body, {
      resourceType: 'AuditEvent', id: auditId('e1'), meta: { versionId: '1', lastUpdated: '2025-01-10T08:00:00.000Z' },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R', recorded: '2025-01-10T08:00:00.000Z', outcome: '0',
      agent: [
        {
          type: human, requestor: true,
          who: { reference: 'Practitioner/d1', identifier: { system: 'https://helix-fhir.dev/sid/user', value: 'u-42' } },
          role: [{ coding: [{ system: 'https://helix-fhir.dev/CodeSystem/user-role', code: 'practitioner' }] }],
          policy: ['tok-1'],
        },
        client('app-1', '10.1.2.3', 'curl/8.5'),
      ],
      source: helix,
      entity: [
        { what: { reference: 'Observation/o1' }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } },
        patientA,
        requestId('e1'),
      ],
    });
    const searched = (await call('GET', `AuditEvent/${auditId('e2')}`)).body;
    assert.deepEqual(searched.entity, [
      { what: { reference: 'Patient/pB' }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } },
      // base64 of "Observation?patient=pB"
      { type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, query: 'T2JzZXJ2YXRpb24/cGF0aWVudD1wQg==' },
      requestId('e2'),
    ]);
    assert.deepEqual((await call('GET', `AuditEvent/${auditId('e8')}`)).body, {
      resourceType: 'AuditEvent', id: auditId('e8'), meta: { versionId: '1', lastUpdated: '2025-02-02T12:00:00.000Z' },
      type: { system: DCM, code: '110114', display: 'User Authentication' },
      subtype: [{ system: DCM, code: '110122', display: 'Login' }],
      action: 'E', recorded: '2025-02-02T12:00:00.000Z', outcome: '4',
      agent: [{ type: human, requestor: true, altId: 'mallory' }, client('app-1', '10.6.6.6', 'evil/1.0')],
      source: helix,
      outcomeDesc: 'HTTP 401: invalid-credentials',
      entity: [requestId('e8')],
    });
    assert.deepEqual((await call('GET', `AuditEvent/${auditId('e9')}`)).body.agent, [{ ...client(undefined, '10.6.6.6', 'evil/1.0'), requestor: true }]);
    for (const key of ['e1', 'e2', 'e6', 'e8', 'e9', 'e10']) {
      const event = (await call('GET', `AuditEvent/${auditId(key)}`)).body;
      const errors = ctx.validator.validate(event, { mode: 'create' }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      assert.deepEqual(errors, [], key);
    }

    for (const id of ['audit-999999', 'audit-0', `audit-0${logIds.e1}`, 'e1', logIds.e1 as string]) {
      const missing = await call('GET', `AuditEvent/${id}`);
      assert.equal(missing.status, 404, id);
      assert.equal(missing.body.issue[0].code, 'not-found');
    }
    assert.equal((await call('GET', `AuditEvent/${auditId('e1')}/_history/1`)).status, 200);
    assert.deepEqual((await call('GET', `AuditEvent/${auditId('e1')}/_history/1`)).body, res.body);
    assert.equal((await call('GET', `AuditEvent/${auditId('e1')}/_history/2`)).status, 404);
    assert.equal((await call('GET', `AuditEvent/${auditId('e1')}`, { headers: { ifNoneMatch: 'W/"1"' } })).status, 304);
    assert.deepEqual(Object.keys((await call('GET', `AuditEvent/${auditId('e1')}?_elements=action`)).body), ['resourceType', 'id', 'meta', 'action']);
  });

  it('searches by patient: a patient entity, or a patient user as the agent', async () => {
    assert.deepEqual(await search('patient=Patient/pA'), ['e10', 'e7', 'e5', 'e4', 'e1']);
    assert.deepEqual(await search('patient=pB'), ['e3', 'e2']);
    assert.deepEqual(await search('patient:Patient=pB'), ['e3', 'e2']);
    assert.deepEqual(await search(`patient=${ctx.config.baseUrl}/Patient/pB`), ['e3', 'e2']);
    assert.deepEqual(await search('patient=pA,pB'), ['e10', 'e7', 'e5', 'e4', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('patient=Group/pA'), []);
    assert.deepEqual(await search('patient=pZ'), []);
    // Compartment search: AuditEvent's Patient compartment is its patient parameter.
    assert.deepEqual(keys((await call('GET', 'Patient/pB/AuditEvent')).body), ['e3', 'e2']);
    assert.deepEqual(keys((await call('GET', 'Patient/pB/AuditEvent?action=R')).body), ['e3']);
    // POST _search with form fields.
    assert.deepEqual(keys((await call('POST', 'AuditEvent/_search', { body: new URLSearchParams('patient=pB'), contentType: 'application/x-www-form-urlencoded' })).body), ['e3', 'e2']);
  });

  it('searches by date with every prefix, at the precision of the value', async () => {
    assert.deepEqual(await search('date=2025-01-10'), ['e3', 'e2', 'e1']);
    assert.deepEqual(await search('date=2025-01-10T08:00'), ['e2', 'e1']);
    assert.deepEqual(await search('date=2025-01-10T08:00:30Z'), ['e2']);
    assert.deepEqual(await search('date=2025-01-10T10:15:00%2B01:00'), ['e3']);
    assert.deepEqual(await search('date=2025-01'), ['e5', 'e4', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('date=eq2025'), NEWEST_FIRST);
    assert.deepEqual(await search('date=ne2025-01'), ['e10', 'e9', 'e8', 'e7', 'e6']);
    assert.deepEqual(await search('date=ge2025-02-01'), ['e10', 'e9', 'e8', 'e7', 'e6']);
    assert.deepEqual(await search('date=gt2025-01-31'), ['e10', 'e9', 'e8', 'e7', 'e6']);
    assert.deepEqual(await search('date=lt2025-02'), ['e5', 'e4', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('date=le2025-01-10'), ['e3', 'e2', 'e1']);
    assert.deepEqual(await search('date=sa2025-01-11'), ['e10', 'e9', 'e8', 'e7', 'e6', 'e5']);
    assert.deepEqual(await search('date=eb2025-01-11'), ['e3', 'e2', 'e1']);
    // ANDed across parameters, ORed within one.
    assert.deepEqual(await search('date=ge2025-01-10T09:00:00Z&date=lt2025-02-01T00:00:01Z'), ['e6', 'e5', 'e4', 'e3']);
    assert.deepEqual(await search('date=2025-01-10,2025-02-03'), ['e10', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('_lastUpdated=2025-02-02'), ['e9', 'e8']);
    const bad = await call('GET', 'AuditEvent?date=2025-13');
    assert.equal(bad.status, 400);
  });

  it('searches by entity, agent, altid, agent-name and address', async () => {
    assert.deepEqual(await search('entity=Observation/o1'), ['e5', 'e1']);
    assert.deepEqual(await search('entity=o1'), ['e5', 'e1']);
    assert.deepEqual(await search('entity:Observation=o5'), ['e4']);
    assert.deepEqual(await search('entity=Patient/pB'), ['e3', 'e2']);
    assert.deepEqual(await search('entity=Patient/pA'), ['e10', 'e5', 'e4', 'e1']);
    assert.deepEqual(await search('entity=Encounter/o1'), []);

    assert.deepEqual(await search('agent=Practitioner/d1'), ['e5', 'e2', 'e1']);
    assert.deepEqual(await search('agent=n2'), ['e10', 'e4', 'e3']);
    assert.deepEqual(await search('agent=u-42'), ['e5', 'e2', 'e1']);
    assert.deepEqual(await search('agent=Patient/pA'), ['e7']);
    assert.deepEqual(await search('agent=Practitioner/d1,Practitioner/n2&action=C'), ['e4']);
    assert.deepEqual(await search('agent:identifier=https://helix-fhir.dev/sid/oauth-client|etl-1'), ['e6']);
    assert.deepEqual(await search('agent:identifier=https://helix-fhir.dev/sid/user|u-7'), ['e10', 'e4', 'e3']);
    assert.deepEqual(await search('agent:identifier=app-3'), ['e7']);

    assert.deepEqual(await search('altid=mallory'), ['e8']);
    assert.deepEqual(await search('altid=etl-1'), ['e6']);
    assert.deepEqual(await search('altid=app-1'), ['e8', 'e5', 'e2', 'e1']);
    assert.deepEqual(await search('altid=http://example.org|app-1'), []);

    assert.deepEqual(await search('agent-name=mozilla'), ['e10', 'e4', 'e3']);
    assert.deepEqual(await search('agent-name:contains=LINUX'), ['e10', 'e4', 'e3']);
    assert.deepEqual(await search('agent-name:exact=evil/1.0'), ['e9', 'e8']);
    assert.deepEqual(await search('agent-name:exact=EVIL/1.0'), []);
    assert.deepEqual(await search('address=10.1.2'), ['e10', 'e5', 'e4', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('address:exact=10.6.6.6'), ['e9', 'e8']);
    assert.deepEqual(await search('address=10.1.2&agent-name=curl'), ['e5', 'e2', 'e1']);
  });

  it('searches by action, subtype, type, outcome and _id', async () => {
    assert.deepEqual(await search('action=R'), ['e7', 'e5', 'e3', 'e1']);
    assert.deepEqual(await search('action=C,D'), ['e6', 'e4']);
    assert.deepEqual(await search('action=http://hl7.org/fhir/audit-event-action|D'), ['e6']);
    assert.deepEqual(await search('action=http://example.org|D'), []);
    assert.deepEqual(await search('action:not=E'), ['e7', 'e6', 'e5', 'e4', 'e3', 'e1']);

    assert.deepEqual(await search('subtype=read'), ['e7', 'e5', 'e3', 'e1']);
    assert.deepEqual(await search('subtype=http://hl7.org/fhir/restful-interaction|create'), ['e4']);
    assert.deepEqual(await search(`subtype=${DCM}|110122`), ['e8']);
    assert.deepEqual(await search('subtype=110122'), ['e8']);
    // Logins render as DICOM 110122, not as a code "login".
    assert.deepEqual(await search('subtype=login'), []);
    assert.deepEqual(await search('subtype=https://helix-fhir.dev/CodeSystem/audit-event-subtype|token'), ['e9']);
    assert.deepEqual(await search('subtype=http://hl7.org/fhir/restful-interaction|'), ['e10', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('subtype:not=read,search-type'), ['e10', 'e9', 'e8', 'e6', 'e4']);

    assert.deepEqual(await search('type=110114'), ['e9', 'e8']);
    assert.deepEqual(await search('type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest'), ['e10', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1']);
    assert.deepEqual(await search('type:not=rest'), ['e9', 'e8']);

    assert.deepEqual(await search('outcome=4'), ['e9', 'e8', 'e7']);
    assert.deepEqual(await search('outcome=8'), ['e10']);
    assert.deepEqual(await search('outcome:not=0'), ['e10', 'e9', 'e8', 'e7']);

    assert.deepEqual(await search(`_id=${auditId('e4')},${auditId('e6')}`), ['e6', 'e4']);
    assert.deepEqual(await search('_id=audit-0,e1'), []);
    assert.deepEqual(await search('patient=pA&action=R&date=2025-01'), ['e5', 'e1']);
  });

  it('pages newest first on (recorded, id), ascending with _sort=date; totals and _summary=count', async () => {
    const walk = async (first: string): Promise<{ pages: string[][]; totals: (number | undefined)[] }> => {
      const pages: string[][] = [];
      const totals: (number | undefined)[] = [];
      let url: string | undefined = first;
      while (url) {
        const res = await call('GET', url.slice(ctx.config.baseUrl.length + 1));
        assert.equal(res.status, 200);
        pages.push(keys(res.body));
        totals.push(res.body.total);
        url = (res.body.link as any[]).find((l) => l.relation === 'next')?.url;
      }
      return { pages, totals };
    };
    const base = `${ctx.config.baseUrl}/AuditEvent`;
    // The page boundary after e9 falls between e9 and e8, which share their instant.
    assert.deepEqual((await walk(`${base}?_count=2`)).pages, [['e10', 'e9'], ['e8', 'e7'], ['e6', 'e5'], ['e4', 'e3'], ['e2', 'e1']]);
    assert.deepEqual((await walk(`${base}?_count=4&_sort=date`)).pages, [['e1', 'e2', 'e3', 'e4'], ['e5', 'e6', 'e7', 'e8'], ['e9', 'e10']]);
    assert.deepEqual((await walk(`${base}?_count=3&_sort=-date&patient=pA`)).pages, [['e10', 'e7', 'e5'], ['e4', 'e1']]);
    assert.deepEqual(await search('_sort=_lastUpdated&date=2025-01-10'), ['e1', 'e2', 'e3']);
    // A page holding every match counts them for free; otherwise only _total=accurate does.
    assert.deepEqual((await walk(`${base}?_count=3&patient=pA`)).totals, [undefined, undefined]);
    assert.equal((await call('GET', 'AuditEvent?patient=pB')).body.total, 2);
    const accurate = await call('GET', 'AuditEvent?_count=1&_total=accurate');
    assert.deepEqual([accurate.body.total, keys(accurate.body)], [10, ['e10']]);
    assert.ok((await call('GET', 'AuditEvent?_count=2&_total=estimate')).body.total >= 3);
    const counted = await call('GET', 'AuditEvent?patient=pA&_summary=count');
    assert.deepEqual([counted.body.total, counted.body.entry], [5, undefined]);
    assert.equal((await call('GET', 'AuditEvent?_summary=count')).body.total, 10);
    assert.equal((await call('GET', 'AuditEvent?_count=0')).body.entry, undefined);
    assert.equal((await call('GET', 'AuditEvent?_cursor=bm9wZQ')).status, 400);
  });

  it('reports parameters the log cannot answer, and refuses them under handling=strict', async () => {
    const cases: [string, RegExp][] = [
      ['foo=bar', /^foo: unknown search parameter foo for AuditEvent; ignored$/],
      ['source=Device/x', /^source: search parameter source is not supported for AuditEvent/],
      ['entity-name=x', /^entity-name: search parameter entity-name is not supported for AuditEvent/],
      ['_include=AuditEvent:agent', /^_include=AuditEvent:agent: _include is not supported for AuditEvent; ignored$/],
      ['_revinclude=Provenance:target', /^_revinclude=Provenance:target: _revinclude is not supported for AuditEvent; ignored$/],
      ['agent:Practitioner.name=x', /^agent: chained parameters and _has are not supported for AuditEvent; ignored$/],
      ['_has:Provenance:target:agent=x', /^_has: search parameter _has is not supported for AuditEvent/],
      ['action:text=read', /^action:text: modifier :text is not supported on AuditEvent parameter action; ignored$/],
      ['patient:identifier=x', /^patient:identifier: modifier :identifier is not supported on AuditEvent parameter patient; ignored$/],
      ['_sort=action', /^_sort=action: AuditEvents sort by date only/],
      ['_tag=x', /^_tag: search parameter _tag is not supported for AuditEvent/],
    ];
    for (const [query, diagnostics] of cases) {
      const lenient = await call('GET', `AuditEvent?${query}&patient=pB`);
      assert.equal(lenient.status, 200, query);
      // The other parameters still apply; the ignored one is named in an OperationOutcome entry.
      assert.deepEqual(keys(lenient.body), ['e3', 'e2'], query);
      const [warning, ...more] = warnings(lenient.body);
      assert.match(warning ?? '', diagnostics, query);
      assert.deepEqual(more, [], query);
      const strict = await call('GET', `AuditEvent?${query}&patient=pB`, { headers: { prefer: 'handling=strict' } });
      assert.equal(strict.status, 400, query);
      assert.equal(strict.body.issue[0].code, 'invalid');
    }
    assert.deepEqual(warnings((await call('GET', 'AuditEvent?patient=pB')).body), []);
  });

  it('lists type and instance history from the log', async () => {
    const history = await call('GET', 'AuditEvent/_history?_count=3');
    assert.equal(history.body.type, 'history');
    assert.deepEqual(history.body.entry.map((e: any) => e.resource.id), [auditId('e10'), auditId('e9'), auditId('e8')]);
    assert.deepEqual(history.body.entry[0].request, { method: 'POST', url: 'AuditEvent' });
    assert.deepEqual(history.body.entry[0].response, { status: '201', etag: 'W/"1"', lastModified: '2025-02-03T10:00:00.000Z' });
    const next = (history.body.link as any[]).find((l) => l.relation === 'next')?.url as string;
    const second = await call('GET', next.slice(ctx.config.baseUrl.length + 1));
    assert.deepEqual(second.body.entry.map((e: any) => e.resource.id), [auditId('e7'), auditId('e6'), auditId('e5')]);
    const since = await call('GET', 'AuditEvent/_history?_since=2025-02-02');
    assert.deepEqual([since.body.total, since.body.entry.map((e: any) => e.resource.id)], [3, [auditId('e10'), auditId('e9'), auditId('e8')]]);
    const at = await call('GET', 'AuditEvent/_history?_at=2025-01-10');
    assert.deepEqual(at.body.entry.map((e: any) => e.resource.id), [auditId('e3'), auditId('e2'), auditId('e1')]);
    const one = await call('GET', `AuditEvent/${auditId('e1')}/_history`);
    assert.deepEqual([one.body.total, one.body.entry.map((e: any) => e.resource.id)], [1, [auditId('e1')]]);
    assert.equal((await call('GET', 'AuditEvent/nope/_history')).body.total, 0);
  });

  it('refuses every write: the audit trail is written by the server', async () => {
    const before = await own.db.query('SELECT count(*)::text AS n FROM audit_log');
    const event = { resourceType: 'AuditEvent', type: { system: DCM, code: '110110' }, recorded: '2025-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
    const attempts: [FhirMethod, string, unknown][] = [
      ['POST', 'AuditEvent', event],
      ['PUT', `AuditEvent/${auditId('e1')}`, { ...event, id: auditId('e1') }],
      ['PATCH', `AuditEvent/${auditId('e1')}`, [{ op: 'replace', path: '/outcome', value: '0' }]],
      ['DELETE', `AuditEvent/${auditId('e1')}`, undefined],
      ['PUT', 'AuditEvent?patient=pA', event],
      ['DELETE', 'AuditEvent?patient=pA', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, body === undefined ? {} : { body, contentType: method === 'PATCH' ? 'application/json-patch+json' : 'application/fhir+json' });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.Allow, 'GET, HEAD');
      assert.match(res.body.issue[0].diagnostics, /AuditEvents are written by the server/);
    }
    const tx = await call('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: event, request: { method: 'POST', url: 'AuditEvent' } }] } });
    assert.equal(tx.status, 405);
    assert.match(tx.body.issue[0].diagnostics, /^Bundle\.entry\[0\] \(POST AuditEvent\): AuditEvents are written by the server/);
    const batch = await call('POST', '', { body: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: event, request: { method: 'POST', url: 'AuditEvent' } }] } });
    assert.equal(batch.body.entry[0].response.status, '405');
    assert.deepEqual(await own.db.query("SELECT count(*)::text AS n FROM resources WHERE res_type = 'AuditEvent'"), [{ n: '0' }]);
    assert.deepEqual(await own.db.query('SELECT count(*)::text AS n FROM audit_log'), before);
    assert.equal((await call('GET', `AuditEvent/${auditId('e1')}`)).body.outcome, '0');
  });

  it('a system search naming AuditEvent is 400; confined access is 403; the CapabilityStatement says what is served', async () => {
    const system = await call('GET', '?_type=Patient,AuditEvent&_id=x');
    assert.equal(system.status, 400);
    assert.match(system.body.issue[0].diagnostics, /search it on its own/);
    assert.equal((await call('GET', '?_type=Patient&_id=x')).status, 200);

    const confined: FhirContext = { ...ctx, rowAccess: () => [{ patients: ['pA'] }] };
    for (const path of ['AuditEvent?patient=pA', `AuditEvent/${auditId('e1')}`, `AuditEvent/${auditId('e1')}/_history/1`, 'AuditEvent/_history', 'Patient/pA/AuditEvent']) {
      const res = await call('GET', path, {}, confined);
      assert.equal(res.status, 403, path);
      assert.equal(res.body.issue[0].code, 'forbidden');
    }
    const granular: FhirContext = { ...ctx, rowAccess: () => [{ patients: [], query: new URLSearchParams('action=R') }] };
    assert.equal((await call('GET', 'AuditEvent?patient=pA', {}, granular)).status, 403);
    const unrestricted: FhirContext = { ...ctx, rowAccess: () => 'all' };
    assert.deepEqual(keys((await call('GET', 'AuditEvent?patient=pB', {}, unrestricted)).body), ['e3', 'e2']);

    const metadata = (await call('GET', 'metadata')).body;
    const audit = metadata.rest[0].resource.find((r: any) => r.type === 'AuditEvent');
    assert.deepEqual(audit.interaction.map((i: any) => i.code), ['read', 'vread', 'search-type', 'history-instance', 'history-type']);
    assert.deepEqual(audit.searchParam.map((p: any) => p.name).sort(), [
      '_id', '_lastUpdated', 'action', 'address', 'agent', 'agent-name', 'altid', 'date', 'entity', 'outcome', 'patient', 'subtype', 'type',
    ]);
    assert.equal(metadata.rest[0].resource.find((r: any) => r.type === 'Observation').interaction.length, 9);
  });

  it('a new row is searchable at once, and keyset paging neither repeats nor skips around it', async () => {
    const first = await call('GET', 'AuditEvent?_count=2');
    assert.deepEqual(keys(first.body), ['e10', 'e9']);
    await createAuditTrail(own.db).record(row('e11', '2025-03-01T00:00:00.000Z', doctor, { ...ok('read', 'R', 200), resourceType: 'Observation', resourceId: 'o1', patients: ['pA'] }));
    const next = (first.body.link as any[]).find((l) => l.relation === 'next').url as string;
    assert.deepEqual(keys((await call('GET', next.slice(ctx.config.baseUrl.length + 1))).body), ['e8', 'e7']);
    assert.deepEqual(await search('_count=2'), ['e11', 'e10']);
    assert.deepEqual(await search('entity=Observation/o1'), ['e11', 'e5', 'e1']);
  });
});
