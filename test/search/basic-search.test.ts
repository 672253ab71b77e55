// Search basics over HTTP (search.html): token, string, reference, date and quantity semantics,
// :missing, _id, paging with stable cursors, and unknown-parameter handling. Expected results are
// worked out by hand from the fixtures below.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const run = randomUUID().slice(0, 8);
const tag = `urn:test|search-${run}`;
const ids: Record<string, string> = {};

async function search(base: string, query: string): Promise<string[]> {
  const res = await fhir(base, 'GET', `${query}&_tag=${encodeURIComponent(tag)}&_count=100`);
  assert.equal(res.status, 200, res.text);
  return ((res.body.entry ?? []) as any[]).filter((e) => e.search?.mode === 'match').map((e) => e.resource.id).sort();
}
const named = (...keys: string[]) => keys.map((k) => ids[k]).sort();

describe('search basics', () => {
  before(async () => {
    const { base } = await sharedServer();
    const meta = { tag: [{ system: 'urn:test', code: `search-${run}` }] };
    const make = fixtureMaker(base, ids, meta);
    await make('muller', { resourceType: 'Patient', name: [{ family: 'Müller', given: ['Jürgen'] }], gender: 'male', birthDate: '1970-03-04' });
    await make('miller', { resourceType: 'Patient', name: [{ family: 'Miller' }], gender: 'female', birthDate: '1970-11' });
    await make('nobirth', {
      resourceType: 'Patient', name: [{ family: 'Mull' }], gender: 'other',
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:mrn', value: `mr-${run}` }],
    });
    const temp = (key: string, value: number, code: string, subject: string, when: string) => make(key, {
      resourceType: 'Observation', status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] },
      subject: { reference: subject }, effectiveDateTime: when,
      valueQuantity: { value, unit: code, system: 'http://unitsofmeasure.org', code },
    });
    await temp('f986', 98.6, '[degF]', `Patient/${ids.muller}`, '2021-03-04T10:00:00Z');
    await temp('c385', 38.5, 'Cel', `Patient/${ids.miller}`, '2021-06-01');
  });

  it('string: case- and accent-insensitive starts-with; :exact; :contains', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, 'Patient?family=mul'), named('muller', 'nobirth'));
    assert.deepEqual(await search(base, 'Patient?name=JURG'), named('muller'));
    assert.deepEqual(await search(base, 'Patient?family:exact=Müller'), named('muller'));
    assert.deepEqual(await search(base, 'Patient?family:exact=muller'), []);
    assert.deepEqual(await search(base, 'Patient?family:contains=ill'), named('miller'));
  });

  it('token: code, system|code, |code, :not; comma is OR; repetition is AND', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, 'Patient?gender=male,female'), named('muller', 'miller'));
    assert.deepEqual(await search(base, 'Patient?gender:not=male'), named('miller', 'nobirth'));
    assert.deepEqual(await search(base, 'Observation?code=http://loinc.org|8310-5'), named('f986', 'c385'));
    assert.deepEqual(await search(base, 'Observation?code=http://snomed.info/sct|8310-5'), []);
    assert.deepEqual(await search(base, 'Patient?gender=male&gender=female'), []);
  });

  it('reference: Type/id, bare id, absolute URL on this server', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `Observation?subject=Patient/${ids.muller}`), named('f986'));
    assert.deepEqual(await search(base, `Observation?subject=${ids.miller}`), named('c385'));
    assert.deepEqual(await search(base, `Observation?patient=${encodeURIComponent(`${base}/Patient/${ids.muller}`)}`), named('f986'));
  });

  it('date: precision ranges and prefixes', async () => {
    const { base } = await sharedServer();
    // birthDate 1970-03-04 is within 1970 and within 1970-03; 1970-11 (a month) is within 1970 only.
    assert.deepEqual(await search(base, 'Patient?birthdate=1970'), named('muller', 'miller'));
    assert.deepEqual(await search(base, 'Patient?birthdate=1970-03'), named('muller'));
    assert.deepEqual(await search(base, 'Patient?birthdate=lt1970-06-01'), named('muller'));
    assert.deepEqual(await search(base, 'Patient?birthdate=ge1970-11-15'), named('miller'));
    assert.deepEqual(await search(base, 'Patient?birthdate=sa1970-06-30'), named('miller'));
    assert.deepEqual(await search(base, 'Observation?date=2021-03-04'), named('f986'));
    assert.deepEqual(await search(base, 'Observation?date=ge2021-03-05&date=le2021-12-31'), named('c385'));
  });

  it('quantity: compares in canonical UCUM units (98.6 [degF] = 37 Cel)', async () => {
    const { base } = await sharedServer();
    const q = (v: string) => search(base, `Observation?value-quantity=${encodeURIComponent(v)}`);
    assert.deepEqual(await q('37|http://unitsofmeasure.org|Cel'), named('f986'));
    assert.deepEqual(await q('98.6|http://unitsofmeasure.org|[degF]'), named('f986'));
    assert.deepEqual(await q('gt37.5|http://unitsofmeasure.org|Cel'), named('c385'));
    assert.deepEqual(await q('lt100|http://unitsofmeasure.org|[degF]'), named('f986'));
    assert.deepEqual(await q('38.5'), named('c385'));
  });

  it(':of-type on identifiers and :identifier on references', async () => {
    const { base } = await sharedServer();
    const v2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
    assert.deepEqual(await search(base, `Patient?identifier:of-type=${encodeURIComponent(`${v2}|MR|mr-${run}`)}`), named('nobirth'));
    assert.deepEqual(await search(base, `Patient?identifier:of-type=${encodeURIComponent(`${v2}|DL|mr-${run}`)}`), []);
    const obs = await fhir(base, 'POST', 'Observation', {
      resourceType: 'Observation', meta: { tag: [{ system: 'urn:test', code: `search-${run}` }] }, status: 'final', code: { text: 'by identifier' },
      subject: { identifier: { system: 'urn:mrn', value: `mr-${run}` } },
    });
    assert.equal(obs.status, 201, obs.text);
    assert.deepEqual(await search(base, `Observation?subject:identifier=${encodeURIComponent(`urn:mrn|mr-${run}`)}`), [obs.body.id]);
    assert.equal((await fhir(base, 'GET', 'Patient?identifier:of-type=only-two|parts')).status, 400);
  });

  it(':text on Coding.display and CodeableConcept.text (case- and accent-insensitive, any word)', async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids, { tag: [{ system: 'urn:test', code: `search-${run}` }] });
    await make('textA', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] } });
    await make('textB', { resourceType: 'Observation', status: 'final', code: { text: 'Fréquence cardiaque au repos' } });
    assert.deepEqual(await search(base, 'Observation?code:text=heart'), named('textA'));
    assert.deepEqual(await search(base, 'Observation?code:text=RATE'), named('textA'));
    assert.deepEqual(await search(base, 'Observation?code:text=frequence'), named('textB'));
    assert.deepEqual(await search(base, 'Observation?code:text=cardiaque au'), named('textB'));
    assert.deepEqual(await search(base, 'Observation?code:text=art'), []);
  });

  it('_content, _text and _list', async () => {
    const { base } = await sharedServer();
    // Tagged apart, so the other tests' Patient sets stay as they are.
    const make = fixtureMaker(base, ids, { tag: [{ system: 'urn:test', code: `text-${run}` }] });
    const inText = async (query: string): Promise<string[]> => {
      const res = await fhir(base, 'GET', `${query}&_tag=${encodeURIComponent(`urn:test|text-${run}`)}`);
      assert.equal(res.status, 200, res.text);
      return ((res.body.entry ?? []) as any[]).map((e) => e.resource.id).sort();
    };
    await make('narrated', {
      resourceType: 'Patient', name: [{ family: 'Zebedee' }],
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Allergic to peanuts</div>' },
    });
    assert.deepEqual(await inText('Patient?_content=zebedee'), named('narrated'));
    assert.deepEqual(await inText('Patient?_text=peanuts'), named('narrated'));
    assert.deepEqual(await inText('Patient?_text=zebedee'), []);
    await make('list', { resourceType: 'List', status: 'current', mode: 'working', entry: [{ item: { reference: `Patient/${ids.miller}` } }, { item: { reference: `Patient/${ids.narrated}` } }] });
    assert.deepEqual(await search(base, `Patient?_list=${ids.list}`), named('miller'));
    assert.deepEqual(await inText(`Patient?_list=${ids.list}`), named('narrated'));
  });

  it(':missing and _id', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, 'Patient?birthdate:missing=true'), named('nobirth'));
    assert.deepEqual(await search(base, 'Patient?birthdate:missing=false'), named('muller', 'miller'));
    assert.deepEqual(await search(base, `Patient?_id=${ids.miller},${ids.nobirth}`), named('miller', 'nobirth'));
  });

  it('pages with next links that neither repeat nor skip while resources are added', async () => {
    const { base } = await sharedServer();
    const pageTag = `urn:test|paging-${run}`;
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await fhir(base, 'POST', 'Basic', { resourceType: 'Basic', meta: { tag: [{ system: 'urn:test', code: `paging-${run}` }] }, code: { text: String(i) } });
      created.push(res.body.id);
    }
    let url: string | undefined = `Basic?_tag=${encodeURIComponent(pageTag)}&_count=3`;
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      const page: Awaited<ReturnType<typeof fhir>> = await fhir(base, 'GET', url);
      assert.equal(page.status, 200, page.text);
      seen.push(...((page.body.entry ?? []) as any[]).map((e) => e.resource.id));
      if (pages++ === 0) {
        // Written while the client pages: sorts after everything seen so far, so it must appear once.
        const late = await fhir(base, 'POST', 'Basic', { resourceType: 'Basic', meta: { tag: [{ system: 'urn:test', code: `paging-${run}` }] }, code: { text: 'late' } });
        created.push(late.body.id);
      }
      url = ((page.body.link as any[]).find((l) => l.relation === 'next')?.url as string | undefined)?.slice(base.length + 1);
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, created);
  });

  it('_sort on string, date and _id, ascending and descending, missing values last, paged in order', async () => {
    const { base } = await sharedServer();
    const ordered = async (query: string): Promise<string[]> => {
      const out: string[] = [];
      let url: string | undefined = `${query}&_tag=${encodeURIComponent(tag)}`;
      while (url) {
        const page: Awaited<ReturnType<typeof fhir>> = await fhir(base, 'GET', url);
        assert.equal(page.status, 200, page.text);
        out.push(...((page.body.entry ?? []) as any[]).filter((e) => e.search.mode === 'match').map((e) => e.resource.id));
        url = ((page.body.link as any[]).find((l) => l.relation === 'next')?.url as string | undefined)?.slice(base.length + 1);
      }
      return out;
    };
    const inOrder = (...keys: string[]) => keys.map((k) => ids[k]);
    // Normalised family names: miller < mull < muller.
    assert.deepEqual(await ordered('Patient?_sort=family'), inOrder('miller', 'nobirth', 'muller'));
    assert.deepEqual(await ordered('Patient?_sort=-family'), inOrder('muller', 'nobirth', 'miller'));
    // 1970-03-04 before 1970-11; the patient without a birthDate sorts last both ways.
    assert.deepEqual(await ordered('Patient?_sort=birthdate&_count=1'), inOrder('muller', 'miller', 'nobirth'));
    assert.deepEqual(await ordered('Patient?_sort=-birthdate&_count=1'), inOrder('miller', 'muller', 'nobirth'));
    assert.deepEqual(await ordered('Patient?_sort=gender,-family&_count=2'), inOrder('miller', 'muller', 'nobirth'));
    const byId = [ids.muller, ids.miller, ids.nobirth].sort() as string[];
    assert.deepEqual(await ordered('Patient?_sort=_id&_count=2'), byId);
    assert.deepEqual(await ordered('Patient?_sort=-_id'), [...byId].reverse());
  });

  it('reports unknown parameters (lenient) or rejects them (strict)', async () => {
    const { base } = await sharedServer();
    const lenient = await fhir(base, 'GET', `Patient?nonsense=1&_tag=${encodeURIComponent(tag)}`);
    assert.equal(lenient.status, 200);
    const outcome = (lenient.body.entry as any[]).find((e) => e.search?.mode === 'outcome');
    assert.equal(outcome.resource.resourceType, 'OperationOutcome');
    assert.equal(lenient.body.entry.filter((e: any) => e.search?.mode === 'match').length, 3);
    const strict = await fhir(base, 'GET', 'Patient?nonsense=1', undefined, { prefer: 'handling=strict' });
    assert.equal(strict.status, 400);
  });

  it('POST _search gives the same result as GET', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'POST', 'Patient/_search', `family=mul&_tag=${encodeURIComponent(tag)}`, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((res.body.entry as any[]).map((e) => e.resource.id).sort(), named('muller', 'nobirth'));
  });
});
