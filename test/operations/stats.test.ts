// Observation/$stats (http://hl7.org/fhir/R4/observation-operation-stats.html) over a hand-built
// fixture of two patients; every expected statistic is worked out by hand in the comments. The
// fixture is tagged per run; $stats takes no search parameters, but its subjects are this run's own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const ids: Record<string, string> = {};
const tag = { system: 'urn:helix:test:stats', code: randomUUID() };
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const STATS = 'http://terminology.hl7.org/CodeSystem/observation-statistics';
const DAY = 'period=2024-03-01T00:00:00Z/2024-03-01T23:59:59Z';
const ALL = 'statistic=count,total-count,minimum,maximum,average,median,std-dev,sum';
const qty = (value: number, code: string) => ({ valueQuantity: { value, unit: code, system: UCUM, code } });

async function stats(query: string) {
  const { base } = await sharedServer();
  return fhir(base, 'GET', `Observation/$stats?${query}`);
}
/** The `statistics` Observations of a Parameters response. */
const observations = (body: any): any[] => (body.parameter as any[]).filter((p) => p.name === 'statistics').map((p) => p.resource);
/** One statistic's value (valueQuantity.value or valueInteger) in a statistics Observation. */
function value(obs: any, code: string): number | undefined {
  const c = (obs.component as any[]).find((x) => x.code.coding[0].system === STATS && x.code.coding[0].code === code);
  assert.ok(c, `component ${code}`);
  return c.valueQuantity?.value ?? c.valueInteger;
}
const codeOf = (obs: any): string => obs.code.coding[0].code;

describe('Observation/$stats', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids, { tag: [tag] });
    await make('pa', { resourceType: 'Patient', name: [{ family: 'StatsA' }] });
    await make('pb', { resourceType: 'Patient', name: [{ family: 'StatsB' }] });
    const obs = (p: string, code: string, at: string, extra: Record<string, unknown>) => ({
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code }] },
      subject: { reference: `Patient/${ids[p]}` }, effectiveDateTime: at, ...extra,
    });
    // Heart rate, A: 60, 70, 95 on 03-01; 50 on 02-20 (outside the day); 200 entered-in-error
    // (excluded altogether); one without a value (dataAbsentReason: in total-count only).
    await make('hr0', obs('pa', '8867-4', '2024-02-20T08:00:00Z', qty(50, '/min')));
    await make('hr1', obs('pa', '8867-4', '2024-03-01T08:00:00Z', qty(60, '/min')));
    await make('hrEie', obs('pa', '8867-4', '2024-03-01T10:00:00Z', { ...qty(200, '/min'), status: 'entered-in-error' }));
    await make('hr2', obs('pa', '8867-4', '2024-03-01T12:00:00Z', qty(70, '/min')));
    await make('hrNone', obs('pa', '8867-4', '2024-03-01T14:00:00Z', { dataAbsentReason: { coding: [{ code: 'error' }] } }));
    await make('hr3', obs('pa', '8867-4', '2024-03-01T16:00:00Z', qty(95, '/min')));
    // Temperature in two units: 36.8 Cel and 98.6 [degF] = (98.6 − 32) × 5/9 = 37 Cel.
    await make('t1', obs('pa', '8310-5', '2024-03-01T08:00:00Z', qty(36.8, 'Cel')));
    await make('t2', obs('pa', '8310-5', '2024-03-01T20:00:00Z', qty(98.6, '[degF]')));
    // BP panels: systolic 120, 130, 110; diastolic 80, 85, 70.
    const bp = (sys: number, dia: number) => ({
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, ...qty(sys, 'mm[Hg]') },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, ...qty(dia, 'mm[Hg]') },
      ],
    });
    await make('bp1', obs('pa', '85354-9', '2024-03-01T09:00:00Z', bp(120, 80)));
    await make('bp2', obs('pa', '85354-9', '2024-03-01T13:00:00Z', bp(130, 85)));
    await make('bp3', obs('pa', '85354-9', '2024-03-01T17:00:00Z', bp(110, 70)));
    // Respiratory rate relative to now: 30 minutes ago 16, 3 hours ago 20, 30 hours ago 12.
    const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    await make('rr1', obs('pa', '9279-1', ago(0.5), qty(16, '/min')));
    await make('rr2', obs('pa', '9279-1', ago(3), qty(20, '/min')));
    await make('rr3', obs('pa', '9279-1', ago(30), qty(12, '/min')));
    // Patient B: one heart rate of 100, which A's statistics must not see.
    await make('hrB', obs('pb', '8867-4', '2024-03-01T09:00:00Z', qty(100, '/min')));
  });

  it('computes the statistics of a code over a period', async () => {
    const res = await stats(`subject=Patient/${ids.pa}&code=8867-4&system=${LOINC}&${DAY}&${ALL}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.resourceType, 'Parameters');
    const [hr, ...rest] = observations(res.body);
    assert.equal(rest.length, 0);
    assert.equal(hr.status, 'final');
    assert.deepEqual(hr.code.coding, [{ system: LOINC, code: '8867-4' }]);
    assert.equal(hr.subject.reference, `Patient/${ids.pa}`);
    assert.deepEqual(hr.effectivePeriod, { start: '2024-03-01T00:00:00Z', end: '2024-03-01T23:59:59Z' });
    // Values 60, 70, 95: count 3; total-count 4 (with the one without a value); sum 225; mean 75;
    // median 70; population std-dev √((15² + 5² + 20²)/3) = √(650/3) ≈ 14.7196.
    assert.equal(value(hr, 'count'), 3);
    assert.equal(value(hr, 'total-count'), 4);
    assert.equal(value(hr, 'minimum'), 60);
    assert.equal(value(hr, 'maximum'), 95);
    assert.equal(value(hr, 'average'), 75);
    assert.equal(value(hr, 'median'), 70);
    assert.equal(value(hr, 'sum'), 225);
    assert.ok(Math.abs((value(hr, 'std-dev') as number) - Math.sqrt(650 / 3)) < 1e-9);
    const avg = (hr.component as any[]).find((c) => c.code.coding[0].code === 'average');
    assert.deepEqual(avg.valueQuantity, { value: 75, unit: '/min', system: UCUM, code: '/min' });
    // The definition's own shorthand max/min are the codes maximum/minimum; the subject may be absolute.
    const short = await stats(`subject=${encodeURIComponent(`${(await sharedServer()).base}/Patient/${ids.pa}`)}&coding=${LOINC}|8867-4&${DAY}&statistic=max&statistic=min`);
    assert.equal(short.status, 200, short.text);
    assert.deepEqual((observations(short.body)[0].component as any[]).map((c) => c.code.coding[0].code), ['maximum', 'minimum']);
    assert.equal(value(observations(short.body)[0], 'maximum'), 95);
  });

  it('converts mixed units to the canonical UCUM unit', async () => {
    // 36.8 Cel and 37 Cel (from 98.6 [degF]): mean 36.9, median 36.9, min 36.8, max 37.
    const res = await stats(`subject=Patient/${ids.pa}&coding=${LOINC}|8310-5&${DAY}&statistic=average,median,minimum,maximum`);
    const [t] = observations(res.body);
    assert.equal(value(t, 'average'), 36.9);
    assert.equal(value(t, 'median'), 36.9);
    assert.equal(value(t, 'minimum'), 36.8);
    assert.equal(value(t, 'maximum'), 37);
    assert.equal((t.component as any[])[0].valueQuantity.code, 'Cel');
  });

  it('expands a BP panel into its components, and finds a component code directly', async () => {
    const res = await stats(`subject=Patient/${ids.pa}&coding=${LOINC}|85354-9&${DAY}&statistic=count,average,median,minimum,maximum`);
    assert.equal(res.status, 200, res.text);
    const byCode = new Map(observations(res.body).map((o) => [codeOf(o), o]));
    assert.deepEqual([...byCode.keys()].sort(), ['8462-4', '8480-6']);
    // Systolic 120, 130, 110: mean 120, median 120. Diastolic 80, 85, 70: mean 235/3 ≈ 78.333, median 80.
    const sys = byCode.get('8480-6');
    assert.deepEqual([value(sys, 'count'), value(sys, 'average'), value(sys, 'median'), value(sys, 'minimum'), value(sys, 'maximum')], [3, 120, 120, 110, 130]);
    const dia = byCode.get('8462-4');
    assert.deepEqual([value(dia, 'count'), value(dia, 'median'), value(dia, 'minimum'), value(dia, 'maximum')], [3, 80, 70, 85]);
    assert.ok(Math.abs((value(dia, 'average') as number) - 235 / 3) < 1e-9);
    assert.equal(dia.component[1].valueQuantity.code, 'mm[Hg]');
    const direct = await stats(`subject=Patient/${ids.pa}&code=8480-6&system=${LOINC}&${DAY}&statistic=average`);
    const only = observations(direct.body);
    assert.deepEqual(only.map(codeOf), ['8480-6']);
    assert.equal(value(only[0], 'average'), 120);
  });

  it('takes the last `duration` hours', async () => {
    // 1 h: 16 only. 4 h: 16, 20 → mean 18. 48 h: 16, 20, 12 → mean 16, median 16.
    const one = observations((await stats(`subject=Patient/${ids.pa}&code=9279-1&duration=1&statistic=count,average`)).body)[0];
    assert.deepEqual([value(one, 'count'), value(one, 'average')], [1, 16]);
    assert.ok(one.effectivePeriod.start && one.effectivePeriod.end);
    const four = observations((await stats(`subject=Patient/${ids.pa}&code=9279-1&duration=4&statistic=count,average`)).body)[0];
    assert.deepEqual([value(four, 'count'), value(four, 'average')], [2, 18]);
    const two = observations((await stats(`subject=Patient/${ids.pa}&code=9279-1&duration=48&statistic=count,average,median`)).body)[0];
    assert.deepEqual([value(two, 'count'), value(two, 'average'), value(two, 'median')], [3, 16, 16]);
  });

  it('keeps to the subject and answers no data with count 0, not an error', async () => {
    const b = observations((await stats(`subject=Patient/${ids.pb}&code=8867-4&${DAY}&statistic=count,average`)).body)[0];
    assert.deepEqual([value(b, 'count'), value(b, 'average')], [1, 100]);
    const empty = await stats(`subject=Patient/${ids.pa}&code=8867-4&period=2023-01-01/2023-12-31&statistic=count,total-count,average`);
    assert.equal(empty.status, 200, empty.text);
    const [none, ...more] = observations(empty.body);
    assert.equal(more.length, 0);
    assert.deepEqual([value(none, 'count'), value(none, 'total-count')], [0, 0]);
    assert.equal(none.component[2].valueQuantity, undefined);
    assert.equal(none.component[2].dataAbsentReason.coding[0].code, 'not-applicable');
    const unknown = observations((await stats(`subject=Patient/${ids.pa}&code=no-such-code&statistic=count`)).body);
    assert.deepEqual([unknown.length, value(unknown[0], 'count')], [1, 0]);
  });

  it('returns the source Observations when asked, the most recent `limit`', async () => {
    // Sources are the Observations that gave a value: hr1, hr2, hr3; limit 2 keeps hr2 and hr3.
    const res = await stats(`subject=Patient/${ids.pa}&code=8867-4&${DAY}&statistic=count&include=true&limit=2`);
    const sources = (res.body.parameter as any[]).filter((p) => p.name === 'source').map((p) => p.resource.id).sort();
    assert.deepEqual(sources, [ids.hr2, ids.hr3].sort());
    const none = await stats(`subject=Patient/${ids.pa}&code=8867-4&${DAY}&statistic=count`);
    assert.equal((none.body.parameter as any[]).filter((p) => p.name === 'source').length, 0);
  });

  it('accepts POST with a Parameters body (Coding and Period values)', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'POST', 'Observation/$stats', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'subject', valueUri: `Patient/${ids.pa}` }, { name: 'coding', valueCoding: { system: LOINC, code: '8867-4' } },
        { name: 'period', valuePeriod: { start: '2024-03-01T00:00:00Z', end: '2024-03-01T23:59:59Z' } },
        { name: 'statistic', valueCode: 'average' }, { name: 'statistic', valueCode: 'median' },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const [hr] = observations(res.body);
    assert.deepEqual([value(hr, 'average'), value(hr, 'median')], [75, 70]);
  });

  it('rejects missing or bad parameters', async () => {
    const p = `subject=Patient/${ids.pa}`;
    const cases: [string, RegExp?][] = [
      [`code=8867-4&statistic=count`, /subject/],
      [`${p}&code=8867-4`, /statistic/],
      [`${p}&statistic=count`, /code/],
      [`${p}&code=8867-4&statistic=last`, /\$lastn/],
      [`${p}&code=8867-4&statistic=mean`, /average/],
      [`${p}&code=8867-4&statistic=count&duration=abc`],
      [`${p}&code=8867-4&statistic=count&duration=1&${DAY}`, /not both/],
      [`${p}&code=8867-4&statistic=count&period=yesterday`],
      [`${p}&code=8867-4&statistic=count&include=maybe`],
      [`${p}&code=8867-4&statistic=count&include=true&limit=0`, /limit/],
      [`${p}&code=8867-4&statistic=count&bogus=1`, /bogus/],
    ];
    for (const [query, message] of cases) {
      const res = await stats(query);
      assert.equal(res.status, 400, query);
      if (message) assert.match(res.body.issue[0].diagnostics, message, query);
    }
  });
});
