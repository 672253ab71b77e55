// Chained parameters, _has, _include and _revinclude over HTTP (search.html#chaining, #has,
// #include). Fixture: two organizations, three patients, observations and a provenance;
// every expected set below is read off that fixture by hand.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const run = randomUUID().slice(0, 8);
const tagParam = `_tag=${encodeURIComponent(`urn:test|refs-${run}`)}`;
const meta = { tag: [{ system: 'urn:test', code: `refs-${run}` }] };
const ids: Record<string, string> = {};
const ref = (key: string, type: string) => ({ reference: `${type}/${ids[key]}` });

async function bundle(base: string, query: string): Promise<any> {
  const res = await fhir(base, 'GET', `${query}${query.includes('?') ? '&' : '?'}${tagParam}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}
const matches = (b: any) => ((b.entry ?? []) as any[]).filter((e) => e.search.mode === 'match').map((e) => e.resource.id).sort();
const includes = (b: any) => ((b.entry ?? []) as any[]).filter((e) => e.search.mode === 'include').map((e) => e.resource.id).sort();
const named = (...keys: string[]) => keys.map((k) => ids[k]).sort();

describe('references in search', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids, meta);
    await make('acme', { resourceType: 'Organization', name: 'Acme Health' });
    await make('beta', { resourceType: 'Organization', name: 'Beta Clinic' });
    await make('ann', { resourceType: 'Patient', name: [{ family: 'Ann' }], managingOrganization: ref('acme', 'Organization') });
    await make('bob', { resourceType: 'Patient', name: [{ family: 'Bob' }], managingOrganization: ref('beta', 'Organization') });
    await make('cat', { resourceType: 'Patient', name: [{ family: 'Cat' }] });
    const obs = (key: string, patient: string, code: string) => make(key, {
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: ref(patient, 'Patient'),
    });
    await obs('annHr', 'ann', '8867-4');
    await obs('annTemp', 'ann', '8310-5');
    await obs('bobHr', 'bob', '8867-4');
    await make('prov', { resourceType: 'Provenance', target: [ref('annHr', 'Observation')], recorded: '2024-01-01T00:00:00Z', agent: [{ who: ref('acme', 'Organization') }] });
  });

  it('chains: subject:Patient.name, and two levels to the organization name', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(matches(await bundle(base, 'Observation?subject:Patient.name=ann')), named('annHr', 'annTemp'));
    assert.deepEqual(matches(await bundle(base, 'Observation?subject.name=bob')), named('bobHr'));
    assert.deepEqual(matches(await bundle(base, 'Observation?subject:Patient.organization.name=acme')), named('annHr', 'annTemp'));
    assert.deepEqual(matches(await bundle(base, 'Observation?subject:Patient.organization.name=nobody')), []);
  });

  it('_has: patients with a heart-rate observation; nested _has', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:code=8867-4')), named('ann', 'bob'));
    assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:code=8310-5')), named('ann'));
    assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:_has:Provenance:target:agent=Organization/' + ids.acme)), named('ann'));
  });

  it('_has gives the same patients whichever way it is planned (has-plan.ts)', async () => {
    const { base, helix } = await sharedServer();
    const saved = helix.ctx.hasPlans;
    try {
      for (const strategy of ['set', 'per-candidate'] as const) {
        // A cache that always answers `strategy` forces it without a million resources.
        helix.ctx.hasPlans = { get: () => strategy, set: () => undefined };
        assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:code=8867-4')), named('ann', 'bob'), strategy);
        assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:code=8310-5')), named('ann'), strategy);
        assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:code=8310-5,8867-4&name=bob')), named('bob'), strategy);
        assert.deepEqual(matches(await bundle(base, 'Patient?_has:Observation:subject:code=9999-9')), [], strategy);
        assert.equal((await bundle(base, 'Patient?_has:Observation:subject:code=8867-4&_summary=count')).total, 2, strategy);
        // Paging: one patient per page, no duplicates, no gaps.
        const first = await bundle(base, 'Patient?_has:Observation:subject:code=8867-4&_count=1');
        const next = first.link.find((l: any) => l.relation === 'next').url.replace(`${base}/`, '');
        const second = await bundle(base, next.replace(/&?_tag=[^&]*/, ''));
        assert.deepEqual([...matches(first), ...matches(second)].sort(), named('ann', 'bob'), strategy);
      }
    } finally {
      helix.ctx.hasPlans = saved;
    }
  });

  it('_include and _include:iterate', async () => {
    const { base } = await sharedServer();
    const b = await bundle(base, 'Observation?code=8867-4&_include=Observation:subject');
    assert.deepEqual(matches(b), named('annHr', 'bobHr'));
    assert.deepEqual(includes(b), named('ann', 'bob'));
    const it2 = await bundle(base, 'Observation?code=8867-4&_include=Observation:subject&_include:iterate=Patient:organization');
    assert.deepEqual(includes(it2), named('ann', 'bob', 'acme', 'beta'));
  });

  it('_revinclude', async () => {
    const { base } = await sharedServer();
    const b = await bundle(base, 'Patient?name=ann,cat&_revinclude=Observation:subject');
    assert.deepEqual(matches(b), named('ann', 'cat'));
    assert.deepEqual(includes(b), named('annHr', 'annTemp'));
    const nested = await bundle(base, 'Patient?name=ann&_revinclude=Observation:subject&_revinclude:iterate=Provenance:target');
    assert.deepEqual(includes(nested), named('annHr', 'annTemp', 'prov'));
  });

  it('reports an unknown _include target as an outcome entry', async () => {
    const { base } = await sharedServer();
    const b = await bundle(base, 'Observation?code=8867-4&_include=Observation:nonsense');
    assert.ok((b.entry as any[]).some((e) => e.search.mode === 'outcome'));
  });
});
