// Composite parameters (search.html#composite): both components must match in the same element,
// so a blood pressure's diastolic code never pairs with its systolic value.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const run = randomUUID().slice(0, 8);
const meta = { tag: [{ system: 'urn:test', code: `comp-${run}` }] };
const tagParam = `_tag=${encodeURIComponent(`urn:test|comp-${run}`)}`;
const ids: Record<string, string> = {};
const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
const mmHg = (value: number) => ({ value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });

async function search(base: string, query: string): Promise<string[]> {
  const res = await fhir(base, 'GET', `Observation?${query}&${tagParam}`);
  assert.equal(res.status, 200, res.text);
  return ((res.body.entry ?? []) as any[]).filter((e) => e.search.mode === 'match').map((e) => e.resource.id).sort();
}
const named = (...keys: string[]) => keys.map((k) => ids[k]).sort();
const q = (s: string) => encodeURIComponent(s);

describe('composite search parameters', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = async (key: string, resource: Record<string, unknown>) => {
      const res = await fhir(base, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', meta, ...resource });
      assert.equal(res.status, 201, res.text);
      ids[key] = res.body.id;
    };
    await make('bp', {
      code: loinc('85354-9'),
      component: [{ code: loinc('8480-6'), valueQuantity: mmHg(120) }, { code: loinc('8462-4'), valueQuantity: mmHg(80) }],
    });
    await make('hr', { code: loinc('8867-4'), valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } });
    await make('blood', { code: loinc('882-1'), valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '112144000' }] } });
    await make('note', { code: loinc('8251-1'), valueString: 'Feels Better' });
    await make('when', { code: loinc('21612-7'), valueDateTime: '2020-05-06' });
  });

  it('component-code-value-quantity correlates code and value within one component', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `component-code-value-quantity=${q('http://loinc.org|8480-6$gt100')}`), named('bp'));
    assert.deepEqual(await search(base, `component-code-value-quantity=${q('http://loinc.org|8462-4$gt100')}`), []);
    assert.deepEqual(await search(base, `component-code-value-quantity=${q('8462-4$80|http://unitsofmeasure.org|mm[Hg]')}`), named('bp'));
  });

  it('code-value-quantity and combo-code-value-quantity', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `code-value-quantity=${q('http://loinc.org|8867-4$gt60')}`), named('hr'));
    assert.deepEqual(await search(base, `code-value-quantity=${q('http://loinc.org|8867-4$lt60')}`), []);
    assert.deepEqual(await search(base, `combo-code-value-quantity=${q('8480-6$120')}`), named('bp'));
    assert.deepEqual(await search(base, `combo-code-value-quantity=${q('8867-4$72')}`), named('hr'));
  });

  it('code-value-concept, code-value-string and code-value-date', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `code-value-concept=${q('http://loinc.org|882-1$http://snomed.info/sct|112144000')}`), named('blood'));
    assert.deepEqual(await search(base, `code-value-concept=${q('882-1$999')}`), []);
    assert.deepEqual(await search(base, `code-value-string=${q('8251-1$feels')}`), named('note'));
    assert.deepEqual(await search(base, `code-value-date=${q('21612-7$2020-05')}`), named('when'));
    assert.deepEqual(await search(base, `code-value-date=${q('21612-7$gt2021')}`), []);
  });

  it('rejects a composite value without $ as a 400', async () => {
    const { base } = await sharedServer();
    assert.equal((await fhir(base, 'GET', 'Observation?code-value-quantity=8867-4')).status, 400);
  });
});
