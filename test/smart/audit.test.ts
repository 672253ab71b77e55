// The audit trail: entries derived from finished requests, group-committed writes that fail loudly,
// and the materializer that turns audit_log rows into searchable AuditEvents. Runs on a database of
// its own (in-memory PGlite, or a fresh PostgreSQL database next to DATABASE_URL), so that nothing
// else writing audit rows in the shared server can disturb the counts. Expected values are worked
// out by hand from the rules in src/smart/audit.ts and audit-event.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { notFound } from '../../src/fhir/errors.js';
import { route } from '../../src/fhir/router.js';
import { poolSession, type FhirContext, type FhirRequest } from '../../src/fhir/types.js';
import { authorization } from '../../src/smart/access.js';
import { auditEntryFor, authAuditEntry, createAuditTrail, type AuditEntry } from '../../src/smart/audit.js';
import { materializeAuditBatch, startAuditMaterializer, type AuditBatchResult } from '../../src/smart/audit-materializer.js';
import { statisticsKeeper } from '../../src/storage/statistics.js';
import { sharedServer } from '../harness.js';

const T1 = new Date('2026-03-04T05:06:07.089Z');
const T2 = new Date('2026-03-04T05:07:00.000Z');
const T3 = new Date('2026-03-04T06:00:00.000Z');
const STAMP = new Date('2026-03-05T00:00:00.000Z');
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

/** A database of this file's own, dropped at the end. */
async function ownDatabase(): Promise<{ db: Database; url?: string; close(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const db = await openDatabase({ dataDir: 'memory://', dbPoolSize: 1 });
    return { db, close: () => db.close() };
  }
  const name = `helix_audit_${process.pid}_${Date.now().toString(36)}`;
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

describe('audit trail and materializer', () => {
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let ctx: FhirContext;
  before(async () => {
    own = await ownDatabase();
    const shared = (await sharedServer()).helix.ctx;
    // The shared server's definitions, extractor and validator over this file's database.
    ctx = { ...shared, db: own.db, pool: poolSession(own.db), statistics: statisticsKeeper(own.db, { threshold: 1e9, minIntervalMs: 0, onError: () => undefined }) };
  });
  after(async () => {
    await own?.close();
  });

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await own.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`, params))[0]?.n);
  const logId = async (requestId: string): Promise<string> =>
    (await own.db.query<{ id: string }>('SELECT id::text AS id FROM audit_log WHERE request_id = $1', [requestId]))[0]?.id as string;
  const drain = async (options: { batchSize?: number } = {}): Promise<AuditBatchResult> => {
    const total = { read: 0, written: 0 };
    for (;;) {
      const r = await materializeAuditBatch(own.db, ctx.extractor, { batchSize: options.batchSize ?? 500, now: () => STAMP });
      assert.notEqual(r, 'busy');
      if (r === 'busy' || !r.read) return total;
      total.read += r.read;
      total.written += r.written;
    }
  };
  const search = async (query: string): Promise<string[]> => {
    const res = await route(ctx, ctx.pool, { method: 'GET', path: 'AuditEvent', query: new URLSearchParams(`${query}&_count=100`), headers: {} });
    assert.equal(res.status, 200);
    return ((JSON.parse(res.text as string).entry ?? []) as { resource: { id: string } }[]).map((e) => e.resource.id).sort();
  };

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

  it('materializes searchable AuditEvents with the hand-worked content', async () => {
    const trail = createAuditTrail(own.db);
    await trail.record(readEntry('m-read'));
    await trail.record(auditEntryFor(
      request('GET', 'Patient/pA/Observation?code=1234-5', { auth: practitioner, source: source('m-search') }),
      { status: 200, text: '{"resourceType":"Bundle","type":"searchset"}' },
      { recorded: T2 },
    ) as AuditEntry);
    await trail.recordFailure({ kind: 'login', reason: 'invalid-credentials', status: 401, username: 'mallory', clientId: 'app-1', source: { ip: '10.9.9.9', userAgent: 'evil/1.0', requestId: 'm-login' }, recorded: T3 });
    const before = await count('audit_log');
    const done = await drain();
    assert.deepEqual(done, { read: before, written: before });
    assert.equal(await count("resources WHERE res_type = 'AuditEvent'"), before);

    const [read, searched, login] = [`audit-${await logId('m-read')}`, `audit-${await logId('m-search')}`, `audit-${await logId('m-login')}`];
    const stored = async (id: string) => JSON.parse((await own.db.query<{ content: string }>("SELECT content FROM resources WHERE res_type = 'AuditEvent' AND id = $1", [id]))[0]?.content as string);
    const client = (ip: string, ua: string, requestor: boolean) => ({
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: { identifier: { system: 'https://helix-fhir.dev/sid/oauth-client', value: 'app-1' } },
      requestor, altId: 'app-1', name: ua, network: { address: ip, type: '2' },
    });
    const doctor = {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' }] },
      requestor: true,
      who: { reference: 'Practitioner/d1', identifier: { system: 'https://helix-fhir.dev/sid/user', value: 'u-42' } },
      role: [{ coding: [{ system: 'https://helix-fhir.dev/CodeSystem/user-role', code: 'practitioner' }] }],
      policy: ['tok-1'],
    };
    const helix = { observer: { display: 'Helix' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] };
    const patientA = { what: { reference: 'Patient/pA' }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } };
    const requestId = (v: string) => ({ what: { identifier: { value: v } }, type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId' } });
    assert.deepEqual(await stored(read), {
      resourceType: 'AuditEvent', id: read, meta: { versionId: '1', lastUpdated: '2026-03-05T00:00:00.000Z' },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R', recorded: '2026-03-04T05:06:07.089Z', outcome: '0',
      agent: [doctor, client('10.1.2.3', 'curl/8.5', false)],
      source: helix,
      entity: [
        { what: { reference: 'Observation/o1' }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } },
        patientA,
        requestId('m-read'),
      ],
    });
    const s = await stored(searched);
    assert.deepEqual([s.subtype, s.action, s.recorded, s.entity], [
      [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }], 'E', '2026-03-04T05:07:00.000Z',
      [patientA, { type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, query: 'UGF0aWVudC9wQS9PYnNlcnZhdGlvbj9jb2RlPTEyMzQtNQ==' }, requestId('m-search')],
    ]);
    assert.deepEqual(await stored(login), {
      resourceType: 'AuditEvent', id: login, meta: { versionId: '1', lastUpdated: '2026-03-05T00:00:00.000Z' },
      type: { system: DCM, code: '110114', display: 'User Authentication' },
      subtype: [{ system: DCM, code: '110122', display: 'Login' }],
      action: 'E', recorded: '2026-03-04T06:00:00.000Z', outcome: '4',
      agent: [
        { type: doctor.type, requestor: true, altId: 'mallory' },
        client('10.9.9.9', 'evil/1.0', false),
      ],
      source: helix,
      outcomeDesc: 'HTTP 401: invalid-credentials',
      entity: [requestId('m-login')],
    });
    for (const id of [read, searched, login]) {
      const errors = ctx.validator.validate(await stored(id), { mode: 'create' }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      assert.deepEqual(errors, [], id);
    }

    // Every row above that was about pA: the 20 group-commit reads, ok-1, ok-2, nul-1, m-read, m-search.
    const aboutA = await search('patient=Patient/pA');
    assert.equal(aboutA.length, 25);
    assert.ok(aboutA.includes(read) && aboutA.includes(searched) && !aboutA.includes(login));
    assert.deepEqual(await search('patient=Patient/pA&action=E'), [searched]);
    assert.deepEqual(await search('patient=pA&date=2026-03-04T05:07:00Z&agent=Practitioner/d1'), [searched]);
    assert.equal((await search('entity=Observation/o1&action=R')).length, 24);
    assert.deepEqual(await search(`subtype=${DCM}|110122&outcome=4`), [login]);
    assert.deepEqual(await search('altid=mallory'), [login]);
    assert.deepEqual(await search('address=10.9.9.9'), [login]);
    assert.deepEqual(await search('agent-name=evil'), [login]);
  });

  it('is idempotent over the same rows, and a batch that fails half-way leaves nothing behind', async () => {
    const events = await count("resources WHERE res_type = 'AuditEvent'");
    const rows = await count('audit_log');
    await own.db.query("UPDATE audit_cursor SET last_xid = '0', last_id = 0 WHERE name = 'AuditEvent'");
    assert.deepEqual(await drain({ batchSize: 7 }), { read: rows, written: 0 });
    assert.equal(await count("resources WHERE res_type = 'AuditEvent'"), events);

    const trail = createAuditTrail(own.db);
    await Promise.all(['r-1', 'r-2', 'r-3'].map((id) => trail.record(readEntry(id))));
    const cursorBefore = await own.db.query('SELECT last_id::text AS id FROM audit_cursor');
    let calls = 0;
    const crashing = { extract: (r: Parameters<FhirContext['extractor']['extract']>[0]) => { if (++calls === 2) throw new Error('crash'); return ctx.extractor.extract(r); } };
    await assert.rejects(materializeAuditBatch(own.db, crashing, { batchSize: 500 }), /crash/);
    assert.deepEqual(await own.db.query('SELECT last_id::text AS id FROM audit_cursor'), cursorBefore);
    assert.equal(await count("resources WHERE res_type = 'AuditEvent'"), events);
    // Resumes from the cursor: exactly the three new rows.
    assert.deepEqual(await drain(), { read: 3, written: 3 });
    assert.deepEqual(await own.db.query('SELECT last_id::text AS id FROM audit_cursor'), [{ id: await logId('r-3') }]);
    assert.equal(await count("resources WHERE res_type = 'AuditEvent'"), events + 3);
  });

  it('the runner reports a failed batch without the row content, and retries it', async () => {
    await createAuditTrail(own.db).record(readEntry('err-1'));
    const errors: Error[] = [];
    let failing = true;
    const refusing = {
      extract: (r: Parameters<FhirContext['extractor']['extract']>[0]) => {
        if (failing) throw Object.assign(new Error('invalid input syntax: "Patient/pA"'), { code: '22P02', detail: 'Failing row contains (pA)' });
        return ctx.extractor.extract(r);
      },
    };
    const batches: AuditBatchResult[] = [];
    const runner = startAuditMaterializer(own.db, refusing, { batchSize: 500, pollMs: 10, onError: (e) => errors.push(e as Error), onBatch: (b) => batches.push(b) });
    try {
      while (!errors.length) await new Promise((r) => setTimeout(r, 5));
      assert.equal(errors[0]?.message, 'audit materialization failed: SQLSTATE 22P02');
      assert.deepEqual(batches, []);
      failing = false;
      while (!batches.length) await new Promise((r) => setTimeout(r, 5));
    } finally {
      await runner.stop();
    }
    assert.deepEqual(batches, [{ read: 1, written: 1 }]);
  });

  it('never skips a row whose transaction commits after a later row (PostgreSQL)', { skip: !process.env.DATABASE_URL && 'needs concurrent transactions' }, async () => {
    const trail = createAuditTrail(own.db);
    let release!: () => void;
    let inserted!: () => void;
    const wait = new Promise<void>((r) => (release = r));
    const insertedEarly = new Promise<void>((r) => (inserted = r));
    // An audit row that takes a low id and commits late (as a slow connection's INSERT would).
    const slow = own.db.transaction(async (tx) => {
      await createAuditTrail({ driver: 'postgres', query: (sql, params, options) => tx.query(sql, params, options) }).record(readEntry('late-low'));
      inserted();
      await wait;
    });
    await insertedEarly;
    await trail.record(readEntry('early-high'));
    assert.ok(Number(await logId('early-high')) > 0);
    // The committed row with the higher id waits behind the open transaction.
    assert.deepEqual(await drain(), { read: 0, written: 0 });
    release();
    await slow;
    assert.deepEqual(await drain(), { read: 2, written: 2 });
    const ids = await own.db.query<{ id: string }>("SELECT id::text AS id FROM audit_log WHERE request_id IN ('late-low', 'early-high') ORDER BY request_id DESC");
    assert.ok(Number(ids[0]?.id) < Number(ids[1]?.id), 'late-low took the lower id');
  });

  it('two runners share the work without processing a row twice', async () => {
    const trail = createAuditTrail(own.db);
    const events = await count("resources WHERE res_type = 'AuditEvent'");
    const results: AuditBatchResult[][] = [[], []];
    const errors: unknown[] = [];
    const runners = results.map((mine) => startAuditMaterializer(own.db, ctx.extractor, {
      batchSize: 7, pollMs: 10, onError: (e) => errors.push(e), onBatch: (r) => mine.push(r),
    }));
    try {
      for (let round = 0; round < 6; round++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => trail.record(readEntry(`two-${round}-${i}`))));
        runners.forEach((r) => r.nudge());
      }
      const deadline = Date.now() + 20_000;
      while ((await count("resources WHERE res_type = 'AuditEvent'")) < events + 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
    }
    const sum = (key: 'read' | 'written') => results.flat().reduce((n, r) => n + r[key], 0);
    assert.deepEqual(errors, []);
    assert.equal(sum('read'), 60);
    assert.equal(sum('written'), 60);
    assert.equal(await count("resources WHERE res_type = 'AuditEvent'"), events + 60);
    assert.equal(await count('audit_log'), await count("resources WHERE res_type = 'AuditEvent'"));
  });
});
