// Custom SearchParameters and $reindex over HTTP: a stored active SearchParameter is indexed on
// write at once, searchable once its reindex job (queued by the server) has covered the resources
// stored before it, and gone when it is deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fhir, startServer, type TestServer } from '../harness.js';

const COLOR = 'http://example.org/fhir/StructureDefinition/favourite-colour';
const STRICT = { prefer: 'handling=strict' };

let server: TestServer;
let base: string;
const ids: Record<string, string> = {};

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const param = (p: { parameter?: { name: string; [k: string]: unknown }[] }, name: string): unknown => {
  const found = p.parameter?.find((x) => x.name === name);
  return found && Object.entries(found).find(([k]) => k.startsWith('value'))?.[1];
};

/** The ids of a search's matches, sorted; fails on a non-200. */
async function matches(path: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await fhir(base, 'GET', path, undefined, headers);
  assert.equal(res.status, 200, res.text);
  return (res.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
}

const patient = (colour: string) => ({ resourceType: 'Patient', extension: [{ url: COLOR, valueString: colour }], name: [{ family: 'Colour' }] });

async function jobOf(spId: string): Promise<string> {
  return until('the SearchParameter job', async () => {
    const list = await fhir(base, 'GET', '$reindex');
    assert.equal(list.status, 200, list.text);
    const job = list.body.parameter?.find((j: any) => j.part.some((p: any) => p.name === 'searchParameter' && p.valueReference.reference.startsWith(`SearchParameter/${spId}/`)));
    return job?.part.find((p: any) => p.name === 'job').valueString as string | undefined;
  });
}

async function completed(job: string): Promise<any> {
  return until(`job ${job}`, async () => {
    const res = await fhir(base, 'GET', `$reindex?job=${job}`);
    assert.equal(res.status, 200, res.text);
    assert.notEqual(param(res.body, 'status'), 'failed', res.text);
    return param(res.body, 'status') === 'completed' ? res : undefined;
  });
}

describe('search-index administration', () => {
  before(async () => {
    server = await startServer();
    base = server.base;
  });
  after(async () => server.helix.close());

  describe('custom SearchParameters', () => {
    before(async () => {
      for (const [key, colour] of [['teal', 'Teal'], ['teal2', 'teal green'], ['red', 'red']] as const) {
        const res = await fhir(base, 'POST', 'Patient', patient(colour));
        assert.equal(res.status, 201, res.text);
        ids[key] = res.body.id;
      }
    });

    it('indexes resources stored before the parameter through a job, then searches by it', async () => {
      const sp = {
        resourceType: 'SearchParameter', url: 'http://example.org/fhir/SearchParameter/patient-favourite-colour', name: 'FavouriteColour',
        status: 'active', description: 'A patient\'s favourite colour', code: 'favourite-colour', base: ['Patient'], type: 'string',
        expression: `Patient.extension('${COLOR}').value`,
      };
      const created = await fhir(base, 'POST', 'SearchParameter', sp);
      assert.equal(created.status, 201, created.text);
      ids.sp = created.body.id;
      // Not searchable before its job has run: unknown at first, then "still being indexed".
      assert.equal((await fhir(base, 'GET', 'Patient?favourite-colour=teal', undefined, STRICT)).status, 400);

      const job = await jobOf(ids.sp as string);
      const done = await completed(job);
      assert.equal(param(done.body, 'progress'), 100);
      assert.ok((param(done.body, 'processed') as number) >= 3);
      assert.equal(done.headers.get('x-progress'), 'completed');
      // String semantics: case-insensitive starts-with, and :exact.
      assert.deepEqual(await matches('Patient?favourite-colour=teal', STRICT), [ids.teal, ids.teal2].sort());
      assert.deepEqual(await matches('Patient?favourite-colour:exact=Teal', STRICT), [ids.teal]);
      assert.deepEqual(await matches('Patient?favourite-colour=RED&family=colour', STRICT), [ids.red]);
    });

    it('indexes later creates and updates under the parameter at once', async () => {
      const res = await fhir(base, 'POST', 'Patient', patient('Tealish'));
      assert.equal(res.status, 201, res.text);
      ids.later = res.body.id;
      const update = await fhir(base, 'PUT', `Patient/${ids.red}`, { ...patient('teal blue'), id: ids.red });
      assert.equal(update.status, 200, update.text);
      assert.deepEqual(await matches('Patient?favourite-colour=teal', STRICT), [ids.teal, ids.teal2, ids.later, ids.red].sort());
      assert.deepEqual(await matches('Patient?favourite-colour=red', STRICT), []);
      assert.deepEqual(await matches('Patient?favourite-colour:missing=true&family=colour', STRICT), []);
    });

    it('sorts by the parameter and lists it in the CapabilityStatement', async () => {
      assert.deepEqual(await matches('Patient?favourite-colour=teal&_sort=-favourite-colour', STRICT), [ids.teal, ids.teal2, ids.later, ids.red].sort());
      const cs = await fhir(base, 'GET', 'metadata');
      const patientRest = cs.body.rest[0].resource.find((r: any) => r.type === 'Patient');
      assert.ok(patientRest.searchParam.some((p: any) => p.name === 'favourite-colour' && p.type === 'string'));
    });

    it('reports, and does not register, an active parameter it cannot support', async () => {
      const clash = {
        resourceType: 'SearchParameter', url: 'http://example.org/fhir/SearchParameter/other-family', name: 'OtherFamily', status: 'active',
        description: 'Clashes with the core family parameter', code: 'family', base: ['Patient'], type: 'string', expression: 'Patient.name.given',
      };
      const res = await fhir(base, 'POST', 'SearchParameter', clash, { prefer: 'return=OperationOutcome' });
      assert.equal(res.status, 201, res.text);
      assert.ok(res.body.issue.some((i: any) => i.severity === 'warning' && /already has a search parameter family/.test(i.diagnostics)), res.text);
      const strict = await fhir(base, 'POST', 'SearchParameter', { ...clash, url: `${clash.url}-2` }, STRICT);
      assert.equal(strict.status, 422, strict.text);
      const composite = await fhir(base, 'POST', 'SearchParameter', { ...clash, url: `${clash.url}-3`, code: 'combo', type: 'composite' }, STRICT);
      assert.equal(composite.status, 422, composite.text);
      await new Promise((r) => setTimeout(r, 1500)); // one poll later, core `family` still means the family name
      assert.deepEqual(await matches('Patient?family=colour&favourite-colour=teal', STRICT), [ids.teal, ids.teal2, ids.later, ids.red].sort());
    });

    it('unregisters a deleted parameter', async () => {
      assert.ok([200, 204].includes((await fhir(base, 'DELETE', `SearchParameter/${ids.sp}`)).status));
      await until('unregistration', async () => ((await fhir(base, 'GET', 'Patient?favourite-colour=teal', undefined, STRICT)).status === 400 ? true : undefined));
    });
  });

  describe('$reindex', () => {
    before(async () => {
      for (let i = 0; i < 3; i++) assert.equal((await fhir(base, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: `r${i}` } })).status, 201);
    });

    it('queues a job (202 with its status URL), runs it to completion and reports progress', async () => {
      const res = await fhir(base, 'POST', 'Observation/$reindex');
      assert.equal(res.status, 202, res.text);
      const location = res.headers.get('content-location') ?? '';
      assert.match(location, /\/\$reindex\?job=\d+$/);
      const job = location.split('job=')[1] as string;
      const done = await completed(job);
      assert.equal(param(done.body, 'processed'), 3);
      assert.equal(param(done.body, 'total'), 3);
      assert.deepEqual(done.body.parameter.filter((p: any) => p.name === 'type').map((p: any) => p.valueCode), ['Observation']);
      // The rebuilt rows still answer searches.
      assert.equal((await matches('Observation?code:text=r1')).length, 1);
      assert.equal((await matches('Observation?status=final')).length, 3);
    });

    it('takes type and url parameters, and rejects bad ones with an OperationOutcome', async () => {
      const body = { resourceType: 'Parameters', parameter: [{ name: 'type', valueCode: 'Observation' }, { name: 'url', valueUri: 'http://hl7.org/fhir/SearchParameter/clinical-code' }] };
      const res = await fhir(base, 'POST', '$reindex', body);
      assert.equal(res.status, 202, res.text);
      const done = await completed((res.headers.get('content-location') ?? '').split('job=')[1] as string);
      assert.deepEqual(done.body.parameter.filter((p: any) => p.name === 'code').map((p: any) => p.valueCode), ['code']);
      assert.equal((await matches('Observation?code:text=r2')).length, 1);
      assert.equal((await matches('Observation?status=final')).length, 3);

      for (const [method, path, b, status] of [
        ['POST', '$reindex', { resourceType: 'Parameters', parameter: [{ name: 'type', valueCode: 'NotAType' }] }, 400],
        ['POST', '$reindex', { resourceType: 'Parameters', parameter: [{ name: 'url', valueUri: 'http://example.org/none' }] }, 400],
        ['POST', '$reindex', { resourceType: 'Patient' }, 400],
        ['GET', '$reindex?job=99999999', undefined, 404],
        ['GET', '$reindex?job=abc', undefined, 400],
        ['DELETE', '$reindex', undefined, 405],
      ] as const) {
        const r = await fhir(base, method, path, b);
        assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      }
    });
  });
});

describe('custom SearchParameters across instances', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL (two servers on one PostgreSQL)' }, () => {
  it('a parameter stored through one instance is indexed and searchable on another', async () => {
    const a = await startServer();
    const b = await startServer({ databaseUrl: a.helix.ctx.config.databaseUrl });
    try {
      const before = await fhir(b.base, 'POST', 'Patient', patient('Ochre'));
      assert.equal(before.status, 201, before.text);
      const sp = {
        resourceType: 'SearchParameter', url: 'http://example.org/fhir/SearchParameter/shared-colour', name: 'SharedColour', status: 'active',
        description: 'Favourite colour, on two instances', code: 'shared-colour', base: ['Patient'], type: 'string', expression: `Patient.extension('${COLOR}').value`,
      };
      assert.equal((await fhir(a.base, 'POST', 'SearchParameter', sp)).status, 201);
      // B learns of the parameter by polling, and indexes its own writes under it.
      await until('registration on b', async () => ((await fhir(b.base, 'GET', 'Patient?shared-colour=ochre', undefined, STRICT)).status === 200 ? true : undefined));
      const later = await fhir(b.base, 'POST', 'Patient', patient('Ochre yellow'));
      assert.equal(later.status, 201, later.text);
      for (const server of [a, b]) {
        // Either instance may have run the reindex job; the other learns it completed by polling.
        await until('registration', async () => ((await fhir(server.base, 'GET', 'Patient?shared-colour=ochre', undefined, STRICT)).status === 200 ? true : undefined));
        const res = await fhir(server.base, 'GET', 'Patient?shared-colour=ochre', undefined, STRICT);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.entry.map((e: any) => e.resource.id).sort(), [before.body.id, later.body.id].sort());
      }
    } finally {
      await b.helix.close();
      await a.helix.close();
    }
  });
});
