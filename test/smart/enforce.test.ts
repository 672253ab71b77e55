// SMART scope and role enforcement (src/smart/enforce.ts, roles.ts, src/search/restrict.ts), driven
// through the FHIR router with hand-made access tokens. Two patients, A and B, each with
// Observations, an Encounter and a Condition; A's vital-signs Observation names B as performer,
// which (Observation's compartment params are subject and performer) puts it in both compartments.
//
//   A's compartment: pa, obsA1, obsA2, encA, condA        B's: pb, obsB1, obsB2, encB, condB, obsA1
//   shared (no compartment definition): doc (Practitioner), med (Medication)
//   obsA1 vital-signs 8867-4 subject A performer B     obsB1 vital-signs 8867-4 subject B
//   obsA2 laboratory 2339-0 subject A performer doc    obsB2 laboratory 718-7 subject B
//
// Every expected set below is worked out from this table by hand.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { asFhirError, operationOutcome } from '../../src/fhir/errors.js';
import { route } from '../../src/fhir/router.js';
import type { FhirContext, FhirMethod } from '../../src/fhir/types.js';
import { authorization, type Authorization } from '../../src/smart/access.js';
import { createAuditTrail } from '../../src/smart/audit.js';
import { sharedServer } from '../harness.js';

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const run = Date.now().toString(36);
const ids: Record<string, string> = {};
let ctx: FhirContext;
let t0 = '';

interface Result { status: number; body: any; headers: Record<string, string> }

/** One request through the router, as the HTTP layer would send it (errors become OperationOutcomes). */
async function call(auth: Authorization | undefined, method: FhirMethod, path: string, body?: unknown, extra: { headers?: Record<string, string>; contentType?: string } = {}): Promise<Result> {
  const [p = '', q = ''] = path.split('?', 2);
  try {
    const res = await route(ctx, ctx.pool, {
      method, path: p, query: new URLSearchParams(q), headers: extra.headers ?? {}, body,
      ...(body !== undefined ? { contentType: extra.contentType ?? 'application/fhir+json' } : {}),
      ...(auth ? { auth } : {}),
    });
    return { status: res.status, body: res.text ? JSON.parse(res.text) : res.resource, headers: res.headers };
  } catch (err) {
    const e = asFhirError(err);
    return { status: e.status, body: operationOutcome(e.issues), headers: e.headers };
  }
}

const user = (scope: string, rest: Partial<Authorization> = {}): Authorization =>
  authorization(scope, { clientId: 'test-app', kind: 'user', role: 'practitioner', ...rest });
const system = (scope: string): Authorization => authorization(scope, { clientId: 'backend', kind: 'system' });

const named = (...keys: string[]): string[] => keys.map((k) => ids[k] as string).sort();
const matches = (r: Result, mode = 'match'): string[] =>
  ((r.body?.entry ?? []) as any[]).filter((e) => e.search?.mode === mode).map((e) => e.resource.id as string).sort();
const diagnostics = (r: Result): string => ((r.body?.issue ?? []) as any[]).map((i) => i.diagnostics).join('; ');
const versionOf = async (type: string, key: string): Promise<string> => (await call(undefined, 'GET', `${type}/${ids[key]}`)).body.meta.versionId;

function observation(subject: string, category: string, code: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Observation', status: 'final',
    category: [{ coding: [{ system: CATEGORY, code: category }] }],
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${subject}` },
    ...extra,
  };
}

async function make(key: string, resource: Record<string, unknown>): Promise<void> {
  const res = await call(undefined, 'POST', resource.resourceType as string, resource);
  if (res.status !== 201) throw new Error(`fixture ${key}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  ids[key] = res.body.id;
}

describe('SMART enforcement', () => {
  // A practitioner's EHR launch with patient A in context: patient/ scopes confine to A.
  let tA: Authorization;
  const admin = (): Authorization => user('user/*.cruds', { role: 'admin' });

  before(async () => {
    ctx = (await sharedServer()).helix.ctx;
    t0 = new Date().toISOString();
    await make('doc', { resourceType: 'Practitioner', name: [{ family: `Doc${run}` }] });
    await make('med', { resourceType: 'Medication', code: { text: 'aspirin' } });
    await make('pa', { resourceType: 'Patient', name: [{ family: `Alpha${run}` }] });
    await make('pb', { resourceType: 'Patient', name: [{ family: `Bravo${run}` }] });
    await make('obsA1', observation(ids.pa!, 'vital-signs', '8867-4', { performer: [{ reference: `Patient/${ids.pb}` }] }));
    await make('obsA2', observation(ids.pa!, 'laboratory', '2339-0', { performer: [{ reference: `Practitioner/${ids.doc}` }] }));
    await make('obsB1', observation(ids.pb!, 'vital-signs', '8867-4'));
    await make('obsB2', observation(ids.pb!, 'laboratory', '718-7'));
    for (const [key, patient] of [['encA', ids.pa], ['encB', ids.pb]] as const) {
      await make(key, { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${patient}` }, participant: [{ individual: { reference: `Practitioner/${ids.doc}` } }] });
    }
    await make('condA', { resourceType: 'Condition', subject: { reference: `Patient/${ids.pa}` }, code: { text: 'asthma' } });
    await make('condB', { resourceType: 'Condition', subject: { reference: `Patient/${ids.pb}` }, code: { text: 'diabetes' } });
    // AuditEvents are served from the audit log: one row there is one AuditEvent.
    await createAuditTrail(ctx.db).record({ recorded: new Date('2024-01-01T00:00:00Z'), action: 'R', subtype: 'read', outcome: '0', patients: [ids.pa!], requestId: `enforce-${run}` });
    const [logged] = await ctx.db.query<{ id: string }>('SELECT id::text AS id FROM audit_log WHERE request_id = $1', [`enforce-${run}`]);
    ids.audit = `audit-${logged?.id}`;
    tA = user('patient/*.cruds', { patient: ids.pa });
  });

  describe('patient confinement: reads', () => {
    it('shows the patient its own data in full, and shared data', async () => {
      assert.deepEqual(matches(await call(tA, 'GET', 'Observation')), named('obsA1', 'obsA2'));
      assert.deepEqual(matches(await call(tA, 'GET', 'Encounter')), named('encA'));
      assert.deepEqual(matches(await call(tA, 'GET', 'Condition')), named('condA'));
      assert.deepEqual(matches(await call(tA, 'GET', 'Patient')), named('pa'));
      assert.deepEqual(matches(await call(tA, 'GET', `Observation?subject=Patient/${ids.pa}`)), named('obsA1', 'obsA2'));
      assert.equal((await call(tA, 'GET', 'Observation?_summary=count')).body.total, 2);
      for (const [type, key] of [['Observation', 'obsA1'], ['Patient', 'pa'], ['Practitioner', 'doc'], ['Medication', 'med']]) {
        const res = await call(tA, 'GET', `${type}/${ids[key]}`);
        assert.equal(res.status, 200, `${type} ${diagnostics(res)}`);
      }
      assert.equal((await call(tA, 'GET', `Observation/${ids.obsA1}/_history/1`)).status, 200);
    });

    it('answers 404 for the other patient\'s resources, as if they did not exist', async () => {
      for (const path of [`Observation/${ids.obsB1}`, `Observation/${ids.obsB1}/_history/1`, `Patient/${ids.pb}`, `Encounter/${ids.encB}`]) {
        const res = await call(tA, 'GET', path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.issue[0].code, 'not-found');
      }
      // Without a token nothing changes.
      assert.equal((await call(undefined, 'GET', `Observation/${ids.obsB1}`)).status, 200);
    });

    it('finds nothing of the other patient by reference, patient, chain or _has', async () => {
      for (const query of [`subject=Patient/${ids.pb}`, `patient=${ids.pb}`, `subject:Patient.name=Bravo${run}`, `_id=${ids.obsB1},${ids.obsB2}`]) {
        assert.deepEqual(matches(await call(tA, 'GET', `Observation?${query}`)), [], query);
        assert.deepEqual(matches(await call(admin(), 'GET', `Observation?${query}`)), named('obsB1', 'obsB2'), `admin ${query}`);
      }
      assert.equal((await call(tA, 'GET', `Observation?subject=Patient/${ids.pb}&_total=accurate`)).body.total, 0);
      // A chain through a hidden target is no oracle: obsA1 is A's, but its performer is B.
      assert.deepEqual(matches(await call(tA, 'GET', `Observation?performer:Patient.name=Bravo${run}`)), []);
      assert.deepEqual(matches(await call(admin(), 'GET', `Observation?performer:Patient.name=Bravo${run}`)), named('obsA1'));
      // Only obsB2 has 718-7; A has 2339-0.
      assert.deepEqual(matches(await call(tA, 'GET', 'Patient?_has:Observation:subject:code=718-7')), []);
      assert.deepEqual(matches(await call(tA, 'GET', 'Patient?_has:Observation:subject:code=2339-0')), named('pa'));
      assert.deepEqual(matches(await call(admin(), 'GET', `Patient?_id=${ids.pa},${ids.pb}&_has:Observation:subject:code=718-7`)), named('pb'));
    });

    it('leaves out included resources outside the compartment', async () => {
      const performer = await call(tA, 'GET', `Observation?_id=${ids.obsA1}&_include=Observation:performer`);
      assert.deepEqual(matches(performer), named('obsA1'));
      assert.deepEqual(matches(performer, 'include'), []);
      assert.deepEqual(matches(await call(admin(), 'GET', `Observation?_id=${ids.obsA1}&_include=Observation:performer`), 'include'), named('pb'));
      assert.deepEqual(matches(await call(tA, 'GET', `Observation?_id=${ids.obsA1}&_include=Observation:*`), 'include'), named('pa'));
      assert.deepEqual(matches(await call(tA, 'GET', `Observation?_id=${ids.obsA2}&_include=Observation:performer`), 'include'), named('doc'));

      const rev = await call(tA, 'GET', `Patient?_id=${ids.pa},${ids.pb}&_revinclude=Observation:subject`);
      assert.deepEqual(matches(rev), named('pa'));
      assert.deepEqual(matches(rev, 'include'), named('obsA1', 'obsA2'));
      const revAdmin = await call(admin(), 'GET', `Patient?_id=${ids.pa},${ids.pb}&_revinclude=Observation:subject`);
      assert.deepEqual(matches(revAdmin, 'include'), named('obsA1', 'obsA2', 'obsB1', 'obsB2'));
    });

    it('confines system searches, and needs search scope on every _type', async () => {
      assert.deepEqual(matches(await call(tA, 'GET', '?_type=Observation,Condition&_count=100')), named('obsA1', 'obsA2', 'condA'));
      assert.deepEqual(matches(await call(tA, 'GET', `?_type=Observation&subject=Patient/${ids.pb}`)), []);
      assert.deepEqual(matches(await call(tA, 'GET', `?_id=${ids.obsB1},${ids.pb},${ids.obsA2}`)), named('obsA2'));
      assert.deepEqual(matches(await call(admin(), 'GET', `?_id=${ids.obsB1},${ids.pb},${ids.obsA2}`)), named('obsB1', 'pb', 'obsA2'));
      const audit = await call(tA, 'GET', '?_type=Observation,AuditEvent');
      assert.equal(audit.status, 403);
      assert.equal(audit.body.issue[0].code, 'forbidden');
    });

    it('confines type, instance and system history', async () => {
      const historyIds = (r: Result): string[] => ((r.body.entry ?? []) as any[]).map((e) => e.resource.id as string).sort();
      const type = await call(tA, 'GET', `Observation/_history?_since=${t0}&_count=100`);
      assert.deepEqual(historyIds(type), named('obsA1', 'obsA2'));
      assert.equal(type.body.total, 2);
      assert.deepEqual(historyIds(await call(admin(), 'GET', `Observation/_history?_since=${t0}&_count=100`)), named('obsA1', 'obsA2', 'obsB1', 'obsB2'));
      const other = await call(tA, 'GET', `Observation/${ids.obsB1}/_history`);
      assert.equal(other.status, 200);
      assert.equal(other.body.total, 0);
      assert.equal((await call(admin(), 'GET', `Observation/${ids.obsB1}/_history`)).body.total, 1);
      // Everything written since the fixtures began that A may search: its compartment and shared types.
      assert.deepEqual(historyIds(await call(tA, 'GET', `_history?_since=${t0}&_count=100`)), named('pa', 'obsA1', 'obsA2', 'encA', 'condA', 'doc', 'med'));
    });

    it('refuses compartment searches and $everything on the other patient, and confines its own', async () => {
      for (const path of [`Patient/${ids.pb}/Observation`, `Patient/${ids.pb}/$everything`]) {
        assert.equal((await call(tA, 'GET', path)).status, 404, path);
      }
      assert.deepEqual(matches(await call(tA, 'GET', `Patient/${ids.pa}/Observation`)), named('obsA1', 'obsA2'));
      const everything = await call(tA, 'GET', `Patient/${ids.pa}/$everything`);
      assert.equal(everything.status, 200);
      assert.deepEqual(matches(everything), named('pa', 'obsA1', 'obsA2', 'encA', 'condA'));
      assert.deepEqual(matches(everything, 'include'), named('doc'));
      const full = await call(admin(), 'GET', `Patient/${ids.pa}/$everything`);
      assert.deepEqual(matches(full), named('pa', 'obsA1', 'obsA2', 'encA', 'condA'));
      assert.deepEqual(matches(full, 'include'), named('doc', 'pb'));
      // $everything needs Patient r and s.
      const noPatient = await call(user('patient/Observation.rs', { patient: ids.pa }), 'GET', `Patient/${ids.pa}/$everything`);
      assert.equal(noPatient.status, 403);
      assert.match(diagnostics(noPatient), /patient\/Patient\.r or user\/Patient\.r/);
    });

    it('confines $lastn to the caller\'s rows and guards the Subscription operations', async () => {
      const own = await call(tA, 'GET', `Observation/$lastn?patient=Patient/${ids.pa}&category=vital-signs`);
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.ok(matches(own).includes(ids.obsA1 as string));
      // B's vital signs are not A's to see: the operation returns nothing rather than leaking them.
      assert.deepEqual(matches(await call(tA, 'GET', `Observation/$lastn?patient=Patient/${ids.pb}&category=vital-signs`)), []);
      const status = await call(tA, 'GET', 'Subscription/$status');
      assert.equal(status.status, 403);
      assert.equal((await call(admin(), 'GET', 'Subscription/$status')).status, 200);
    });

    it('shows an earlier version only if it was in the compartment too', async () => {
      // Filed under B by mistake, then moved to A by someone allowed to.
      const filed = await call(admin(), 'POST', 'Procedure', { resourceType: 'Procedure', status: 'completed', subject: { reference: `Patient/${ids.pb}` }, code: { text: 'misfiled' } });
      const id = filed.body.id as string;
      assert.equal((await call(admin(), 'PUT', `Procedure/${id}`, { ...filed.body, subject: { reference: `Patient/${ids.pa}` } })).status, 200);
      assert.equal((await call(tA, 'GET', `Procedure/${id}`)).status, 200);
      assert.equal((await call(tA, 'GET', `Procedure/${id}/_history/2`)).status, 200);
      assert.equal((await call(tA, 'GET', `Procedure/${id}/_history/1`)).status, 404);
      const tB = user('patient/*.rs', { patient: ids.pb });
      assert.equal((await call(tB, 'GET', `Procedure/${id}`)).status, 404);
      assert.equal((await call(tB, 'GET', `Procedure/${id}/_history/1`)).status, 404);
    });

    it('validates bodies freely but stored resources only where they may be read', async () => {
      assert.equal((await call(tA, 'POST', 'Observation/$validate', observation(ids.pb!, 'vital-signs', '8867-4'))).status, 200);
      assert.equal((await call(tA, 'GET', `Observation/${ids.obsA1}/$validate`)).status, 200);
      assert.equal((await call(tA, 'GET', `Observation/${ids.obsB1}/$validate`)).status, 404);
    });

    it('answers the CapabilityStatement to any token', async () => {
      assert.equal((await call(user(''), 'GET', 'metadata')).status, 200);
      assert.equal((await call(system(''), 'GET', 'metadata')).status, 200);
    });
  });

  describe('scopes: v1, v2 and granular', () => {
    it('reads v1 read/write as v2 rs/cud', async () => {
      const v1 = user('patient/Observation.read', { patient: ids.pa });
      assert.equal((await call(v1, 'GET', `Observation/${ids.obsA1}`)).status, 200);
      assert.deepEqual(matches(await call(v1, 'GET', 'Observation')), named('obsA1', 'obsA2'));
      const create = await call(v1, 'POST', 'Observation', observation(ids.pa!, 'vital-signs', '8867-4'));
      assert.equal(create.status, 403);
      assert.equal(create.body.issue[0].code, 'forbidden');
      assert.match(diagnostics(create), /needs patient\/Observation\.c or user\/Observation\.c/);
      const writeOnly = await call(user('patient/Observation.write', { patient: ids.pa }), 'GET', `Observation/${ids.obsA1}`);
      assert.equal(writeOnly.status, 403);
      assert.match(diagnostics(writeOnly), /needs patient\/Observation\.r or user\/Observation\.r/);
    });

    it('separates v2 read from search', async () => {
      const readOnly = user('patient/Observation.r', { patient: ids.pa });
      assert.equal((await call(readOnly, 'GET', `Observation/${ids.obsA1}`)).status, 200);
      const search = await call(readOnly, 'GET', 'Observation');
      assert.equal(search.status, 403);
      assert.match(diagnostics(search), /needs patient\/Observation\.s or user\/Observation\.s/);
      // Includes need read on the included type: Patient is not granted, so it is left out.
      const rs = user('patient/Observation.rs', { patient: ids.pa });
      assert.deepEqual(matches(await call(rs, 'GET', `Observation?_id=${ids.obsA1}&_include=Observation:subject`), 'include'), []);
      assert.equal((await call(rs, 'GET', `Patient/${ids.pa}`)).status, 403);
    });

    it('restricts to granular category constraints, ORed across scopes', async () => {
      const vitals = user(`patient/Observation.rs?category=${CATEGORY}|vital-signs`, { patient: ids.pa });
      assert.deepEqual(matches(await call(vitals, 'GET', 'Observation')), named('obsA1'));
      assert.deepEqual(matches(await call(vitals, 'GET', 'Observation?code=2339-0')), []);
      assert.equal((await call(vitals, 'GET', `Observation/${ids.obsA1}`)).status, 200);
      assert.equal((await call(vitals, 'GET', `Observation/${ids.obsA2}`)).status, 404);
      const both = user(`patient/Observation.rs?category=${CATEGORY}|vital-signs patient/Observation.rs?category=${CATEGORY}|laboratory`, { patient: ids.pa });
      assert.deepEqual(matches(await call(both, 'GET', 'Observation')), named('obsA1', 'obsA2'));
      // Unconfined but constrained: any patient's laboratory results.
      const labs = user(`user/Observation.rs?category=${CATEGORY}|laboratory`);
      assert.deepEqual(matches(await call(labs, 'GET', `Observation?subject=Patient/${ids.pb}`)), named('obsB2'));
      assert.equal((await call(labs, 'GET', `Observation/${ids.obsB1}`)).status, 404);
    });

    it('lets a user/ scope win over a patient/ scope for the same type', async () => {
      const both = user('patient/Observation.rs user/Observation.rs', { patient: ids.pa });
      assert.equal((await call(both, 'GET', `Observation/${ids.obsB1}`)).status, 200);
      const noLaunch = await call(user('patient/Observation.rs'), 'GET', 'Observation');
      assert.equal(noLaunch.status, 403);
      assert.match(diagnostics(noLaunch), /launch context/);
    });
  });

  describe('roles', () => {
    it('researchers read and search but never write', async () => {
      const researcher = user('user/*.cruds', { role: 'researcher' });
      assert.equal((await call(researcher, 'GET', `Observation/${ids.obsB1}`)).status, 200);
      assert.deepEqual(matches(await call(researcher, 'GET', `Observation?subject=Patient/${ids.pb}`)), named('obsB1', 'obsB2'));
      const create = await call(researcher, 'POST', 'Observation', observation(ids.pa!, 'vital-signs', '8867-4'));
      assert.equal(create.status, 403);
      assert.match(diagnostics(create), /researcher role may not create Observation/);
      assert.equal((await call(researcher, 'DELETE', `Observation/${ids.obsB1}`)).status, 403);
    });

    it('only administrators read AuditEvents and run $reindex', async () => {
      const practitioner = user('user/*.cruds');
      assert.equal((await call(practitioner, 'GET', `Observation/${ids.obsB1}`)).status, 200);
      assert.equal((await call(practitioner, 'GET', `AuditEvent/${ids.audit}`)).status, 403);
      assert.equal((await call(practitioner, 'GET', '$reindex')).status, 403);
      assert.equal((await call(admin(), 'GET', `AuditEvent/${ids.audit}`)).status, 200);
      assert.equal((await call(admin(), 'GET', '$reindex')).status, 200);
      assert.equal((await call(user('user/*.rs', { role: 'admin' }), 'GET', '$reindex')).status, 403);
      // The trail is read-only through the API, even for administrators and backend services.
      const forged = { resourceType: 'AuditEvent', type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' }, recorded: '2024-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
      assert.equal((await call(admin(), 'POST', 'AuditEvent', forged)).status, 403);
      assert.equal((await call(admin(), 'DELETE', `AuditEvent/${ids.audit}`)).status, 403);
      assert.equal((await call(system('system/*.cruds'), 'PUT', `AuditEvent/${ids.audit}`, { ...forged, id: ids.audit })).status, 403);
    });

    it('confines a patient user\'s user/ scopes to its own compartment', async () => {
      const me = user('user/*.cruds', { role: 'patient', fhirUser: `Patient/${ids.pa}` });
      assert.equal((await call(me, 'GET', `Observation/${ids.obsB1}`)).status, 404);
      assert.deepEqual(matches(await call(me, 'GET', 'Observation')), named('obsA1', 'obsA2'));
      assert.equal((await call(me, 'GET', `AuditEvent/${ids.audit}`)).status, 403);
      assert.equal((await call(me, 'GET', `Patient/${ids.pb}/$everything`)).status, 404);
      assert.equal((await call(me, 'POST', 'Observation', observation(ids.pb!, 'vital-signs', '8867-4'))).status, 403);
      const notAPatient = await call(user('user/*.cruds', { role: 'patient', fhirUser: `Practitioner/${ids.doc}` }), 'GET', `Observation/${ids.obsA1}`);
      assert.equal(notAPatient.status, 403);
      assert.match(diagnostics(notAPatient), /fhirUser must be a Patient/);
      assert.equal((await call(user('user/*.cruds', { role: undefined }), 'GET', `Observation/${ids.obsA1}`)).status, 403);
    });

    it('gives backend services exactly their system/ scopes', async () => {
      const obs = system('system/Observation.rs');
      assert.equal((await call(obs, 'GET', `Observation/${ids.obsB1}`)).status, 200);
      assert.deepEqual(matches(await call(obs, 'GET', `Observation?subject=Patient/${ids.pb}`)), named('obsB1', 'obsB2'));
      const patient = await call(obs, 'GET', `Patient/${ids.pb}`);
      assert.equal(patient.status, 403);
      assert.match(diagnostics(patient), /needs system\/Patient\.r/);
      assert.equal((await call(obs, 'POST', 'Observation', observation(ids.pa!, 'vital-signs', '8867-4'))).status, 403);
      assert.equal((await call(system('system/*.cruds'), 'GET', `AuditEvent/${ids.audit}`)).status, 200);
      assert.equal((await call(system('system/*.*'), 'GET', '$reindex')).status, 200);
      assert.equal((await call(system('system/*.rs'), 'GET', '$reindex')).status, 403);
      // user/ scopes on a backend token, system/ scopes on a user token: nothing.
      assert.equal((await call(authorization('user/*.cruds', { clientId: 'b', kind: 'system' }), 'GET', `Observation/${ids.obsA1}`)).status, 403);
      assert.equal((await call(user('system/*.cruds', { role: 'admin' }), 'GET', `Observation/${ids.obsA1}`)).status, 403);
    });
  });

  describe('patient confinement: writes', () => {
    const code = (c: string): Record<string, unknown> => ({ code: { coding: [{ system: 'urn:test', code: `${c}-${run}` }] } });
    const countByCode = async (c: string): Promise<number> => matches(await call(undefined, 'GET', `Observation?code=urn:test|${c}-${run}`)).length;

    it('refuses to move an own Observation to the other patient, by update or patch', async () => {
      const current = (await call(undefined, 'GET', `Observation/${ids.obsA2}`)).body;
      const moved = await call(tA, 'PUT', `Observation/${ids.obsA2}`, { ...current, subject: { reference: `Patient/${ids.pb}` } });
      assert.equal(moved.status, 403, diagnostics(moved));
      assert.equal(moved.body.issue[0].code, 'forbidden');
      const patched = await call(tA, 'PATCH', `Observation/${ids.obsA2}`, [{ op: 'replace', path: '/subject/reference', value: `Patient/${ids.pb}` }], { contentType: 'application/json-patch+json' });
      assert.equal(patched.status, 403, diagnostics(patched));
      assert.equal(await versionOf('Observation', 'obsA2'), '1');
    });

    it('refuses to touch the other patient\'s resources, and to create outside the compartment', async () => {
      const theirs = (await call(undefined, 'GET', `Observation/${ids.obsB1}`)).body;
      assert.equal((await call(tA, 'PUT', `Observation/${ids.obsB1}`, { ...theirs, subject: { reference: `Patient/${ids.pa}` } })).status, 404);
      assert.equal((await call(tA, 'PATCH', `Observation/${ids.obsB1}`, [{ op: 'add', path: '/status', value: 'amended' }], { contentType: 'application/json-patch+json' })).status, 404);
      assert.equal((await call(tA, 'DELETE', `Observation/${ids.obsB1}`)).status, 404);
      assert.equal(await versionOf('Observation', 'obsB1'), '1');
      assert.equal((await call(tA, 'POST', 'Observation', observation(ids.pb!, 'vital-signs', '8867-4', code('outside')))).status, 403);
      // Naming B as performer would put it in B's record too.
      assert.equal((await call(tA, 'POST', 'Observation', observation(ids.pa!, 'vital-signs', '8867-4', { ...code('inject'), performer: [{ reference: `Patient/${ids.pb}` }] }))).status, 403);
      assert.equal(await countByCode('outside') + await countByCode('inject'), 0);
      const patient = await call(tA, 'POST', 'Patient', { resourceType: 'Patient', link: [{ other: { reference: `Patient/${ids.pa}` }, type: 'seealso' }] });
      assert.equal(patient.status, 403);
      assert.match(diagnostics(patient), /needs user\/Patient\.c/);
      assert.equal((await call(tA, 'POST', 'Practitioner', { resourceType: 'Practitioner' })).status, 403);
    });

    it('keeps conditional writes to what the token may search', async () => {
      // The condition names only obsB2, which A cannot see: no match, so the update creates.
      const body = observation(ids.pb!, 'laboratory', '718-7', code('cond-b'));
      assert.equal((await call(tA, 'PUT', `Observation?_id=${ids.obsB2}`, body)).status, 403);
      const mine = await call(tA, 'PUT', `Observation?_id=${ids.obsB2}`, observation(ids.pa!, 'laboratory', '718-7', code('cond-a')));
      assert.equal(mine.status, 201, diagnostics(mine));
      assert.notEqual(mine.body.id, ids.obsB2);
      assert.equal((await call(tA, 'PATCH', `Observation?_id=${ids.obsB2}`, [{ op: 'add', path: '/status', value: 'amended' }], { contentType: 'application/json-patch+json' })).status, 404);
      assert.equal((await call(tA, 'DELETE', `Observation?_id=${ids.obsB2}`)).status, 204);
      assert.equal(await versionOf('Observation', 'obsB2'), '1');
      // If-None-Exist does not see B's resource either.
      const created = await call(tA, 'POST', 'Observation', observation(ids.pa!, 'laboratory', '718-7', code('ine')), { headers: { ifNoneExist: `_id=${ids.obsB2}` } });
      assert.equal(created.status, 201);
      assert.notEqual(created.body.id, ids.obsB2);
    });

    it('fails a transaction with one forbidden entry as a whole, and a batch entry by entry', async () => {
      const tx = (entry: unknown[]): Record<string, unknown> => ({ resourceType: 'Bundle', type: 'transaction', entry });
      const ownCreate = { fullUrl: 'urn:uuid:4b0d7a0e-2f7b-4a43-9d9a-0c0e7a2b1f01', resource: observation(ids.pa!, 'vital-signs', '8867-4', code('tx')), request: { method: 'POST', url: 'Observation' } };
      const theirs = (await call(undefined, 'GET', `Observation/${ids.obsB1}`)).body;
      assert.equal((await call(tA, 'POST', '', tx([ownCreate, { request: { method: 'GET', url: `Observation/${ids.obsB1}` } }]))).status, 404);
      assert.equal((await call(tA, 'POST', '', tx([ownCreate, { resource: { ...theirs, subject: { reference: `Patient/${ids.pa}` } }, request: { method: 'PUT', url: `Observation/${ids.obsB1}` } }]))).status, 404);
      const outside = await call(tA, 'POST', '', tx([ownCreate, { resource: observation(ids.pb!, 'vital-signs', '8867-4', code('tx')), request: { method: 'POST', url: 'Observation' } }]));
      assert.equal(outside.status, 403);
      assert.match(diagnostics(outside), /Bundle\.entry\[1\]/);
      const audit = await call(tA, 'POST', '', tx([ownCreate, { resource: { resourceType: 'AuditEvent' }, request: { method: 'POST', url: 'AuditEvent' } }]));
      assert.equal(audit.status, 403);
      // A conditional reference resolves only among what A may search.
      const ref = await call(tA, 'POST', '', tx([{ resource: { ...observation(ids.pa!, 'vital-signs', '8867-4', code('tx')), performer: [{ reference: `Patient?name=Bravo${run}` }] }, request: { method: 'POST', url: 'Observation' } }]));
      assert.equal(ref.status, 404);
      assert.equal(await countByCode('tx'), 0);
      // So does an ifNoneExist condition: B's obsB2 is not seen, so the entry creates.
      const ine = await call(tA, 'POST', '', tx([{ resource: observation(ids.pa!, 'laboratory', '718-7', code('tx-ine')), request: { method: 'POST', url: 'Observation', ifNoneExist: `_id=${ids.obsB2}` } }]));
      assert.equal(ine.status, 200, diagnostics(ine));
      assert.equal(ine.body.entry[0].response.status, '201 Created');
      assert.equal(await countByCode('tx-ine'), 1);
      assert.equal(await versionOf('Observation', 'obsB1'), '1');

      const batch = await call(tA, 'POST', '', {
        resourceType: 'Bundle', type: 'batch', entry: [
          { request: { method: 'GET', url: `Observation/${ids.obsA1}` } },
          { request: { method: 'GET', url: `Observation/${ids.obsB1}` } },
          { resource: observation(ids.pb!, 'vital-signs', '8867-4', code('batch')), request: { method: 'POST', url: 'Observation' } },
          { resource: observation(ids.pa!, 'vital-signs', '8867-4', code('batch')), request: { method: 'POST', url: 'Observation' } },
        ],
      });
      assert.equal(batch.status, 200);
      assert.deepEqual((batch.body.entry as any[]).map((e) => e.response.status), ['200 OK', '404', '403', '201 Created']);
      assert.equal(await countByCode('batch'), 1);
    });

    it('allows writes that stay within the compartment', async () => {
      const created = await call(tA, 'POST', 'Observation', observation(ids.pa!, 'vital-signs', '8867-4', code('own')));
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      const updated = await call(tA, 'PUT', `Observation/${id}`, { ...created.body, status: 'amended' });
      assert.equal(updated.status, 200, diagnostics(updated));
      assert.equal((await call(tA, 'PATCH', `Observation/${id}`, [{ op: 'replace', path: '/status', value: 'corrected' }], { contentType: 'application/json-patch+json' })).status, 200);
      // obsA1 already was in B's compartment too (performer): keeping that is no move.
      const a1 = (await call(undefined, 'GET', `Observation/${ids.obsA1}`)).body;
      assert.equal((await call(tA, 'PUT', `Observation/${ids.obsA1}`, { ...a1, status: 'amended' })).status, 200);
      assert.equal((await call(tA, 'DELETE', `Observation/${id}`)).status, 204);
      const inTx = await call(tA, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:0d7f7c5e-8a43-4f0e-9b5e-7a1c2d3e4f50', resource: observation(ids.pa!, 'vital-signs', '8867-4', code('own-tx')), request: { method: 'POST', url: 'Observation' } },
      ] });
      assert.equal(inTx.status, 200, diagnostics(inTx));
      assert.equal(await countByCode('own-tx'), 1);
    });

    it('checks writes against granular constraints', async () => {
      const vitals = user(`patient/Observation.crus?category=${CATEGORY}|vital-signs`, { patient: ids.pa });
      assert.equal((await call(vitals, 'POST', 'Observation', observation(ids.pa!, 'laboratory', '2339-0', code('granular')))).status, 403);
      assert.equal((await call(vitals, 'POST', 'Observation', observation(ids.pa!, 'vital-signs', '8867-4', code('granular')))).status, 201);
      assert.equal(await countByCode('granular'), 1);
      // Updating obsA2 (laboratory) is outside the constraint, though visible to nobody under it: 404.
      const a2 = (await call(undefined, 'GET', `Observation/${ids.obsA2}`)).body;
      assert.equal((await call(vitals, 'PUT', `Observation/${ids.obsA2}`, { ...a2, status: 'amended' })).status, 404);
      // Readable through another scope but not writable: 403.
      const readAll = user(`patient/Observation.rs patient/Observation.u?category=${CATEGORY}|vital-signs`, { patient: ids.pa });
      assert.equal((await call(readAll, 'PUT', `Observation/${ids.obsA2}`, { ...a2, status: 'amended' })).status, 403);
      assert.equal(await versionOf('Observation', 'obsA2'), '1');
    });
  });
});
