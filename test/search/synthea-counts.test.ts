// Search totals on loaded Synthea data against an independent count over the source bundles
// (./synthea-walk.ts, no code from src/). Query values are picked from the data at run time so the
// counts are non-trivial whichever patients are loaded.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fhir, startServer, type TestServer } from '../harness.js';
import {
  codings, Corpus, dateMatches, dateRange, families, fold, isoSeconds, periodRange, readBundle, SYNTHEA, syntheaFiles, tokenMatches,
  type Json, type Range,
} from './synthea-walk.js';

// Twenty patients are affordable on PostgreSQL; the embedded database gets the five smallest.
const FULL = Boolean(process.env.DATABASE_URL);
const SYNTHEA_ID = 'https://github.com/synthetichealth/synthea';
const UCUM = 'http://unitsofmeasure.org';

/** `Type?k=v&…` with every value percent-encoded; the server decodes before splitting on `|`, `$` and `,`. */
const url = (type: string, params: [string, string][]) => `${type}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;

/** The entry with the highest count, first seen winning ties, so the choice is stable. */
function mostCommon<T>(items: T[]): T {
  const counts = new Map<T, number>();
  for (const x of items) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best: [T, number] | undefined;
  for (const [x, n] of counts) if (!best || n > best[1]) best = [x, n];
  assert.ok(best, 'no values to choose from');
  return best[0];
}

/**
 * A threshold midway across the widest gap between neighbouring distinct values in the middle half
 * of the data: a search value's implicit precision (search.html#number) then cannot reach any
 * stored value, so `gt t` means plainly `value > t`.
 */
function threshold(values: number[]): string {
  const v = [...new Set(values)].sort((a, b) => a - b);
  assert.ok(v.length >= 2, 'need two distinct values for a threshold');
  const from = Math.max(0, Math.floor(v.length / 4) - 1);
  const to = Math.min(v.length - 1, Math.ceil((3 * v.length) / 4));
  let best = from;
  for (let i = from; i < to; i++) if (v[i + 1]! - v[i]! > v[best + 1]! - v[best]!) best = i;
  const [below, above] = [v[best]!, v[best + 1]!];
  const t = Number(((below + above) / 2).toPrecision(8));
  assert.ok(t > below && t < above);
  return String(t);
}

/**
 * A seconds-precision search instant near `ms` at least two seconds from every stored bound, so
 * whether a bound equal to the search second counts (the fine print of the prefixes) never matters.
 */
function clearInstant(ms: number, bounds: number[]): number {
  for (let k = 0; k < 1000; k++) {
    const x = Math.floor(ms / 1000) * 1000 + (k % 2 ? -1 : 1) * Math.ceil(k / 2) * 7_000;
    if (!bounds.some((b) => Math.abs(b - x) < 2000)) return x;
  }
  throw new Error('no search instant clear of the data');
}

describe('search counts on Synthea data match an independent walk over the bundles', {
  skip: !existsSync(SYNTHEA) && '../shared/data/synthea is absent',
}, () => {
  let server: TestServer;
  let corpus: Corpus;
  let patients: { url: string; resource: Json }[];
  let observations: Json[];
  let encounters: Json[];

  before(async () => {
    // NEWS2 off: it would add score Observations for the Synthea vital signs a few seconds after
    // the load, which no walk over the bundles counts (a slow machine let them land mid-test).
    server = await startServer({ news2WindowMs: 0 });
    const bundles = syntheaFiles(FULL ? 20 : 5, !FULL).map(readBundle);
    // In file order: the patient bundles' conditional references name the 0-* resources.
    for (const bundle of bundles) {
      const res = await fhir(server.base, 'POST', '', bundle);
      assert.equal(res.status, 200, res.text.slice(0, 500));
    }
    corpus = new Corpus(bundles);
    patients = corpus.patients();
    observations = corpus.of('Observation');
    encounters = corpus.of('Encounter');
  }, { timeout: 900_000 });

  after(async () => {
    await server?.helix.close();
  });

  async function total(query: string): Promise<number> {
    const res = await fhir(server.base, 'GET', `${query}${query.includes('?') ? '&' : '?'}_summary=count`);
    assert.equal(res.status, 200, `${query}: ${res.text.slice(0, 500)}`);
    assert.equal(typeof res.body.total, 'number', `${query}: ${res.text.slice(0, 500)}`);
    return res.body.total;
  }

  /** Asserts the server's total; `trivial` allows an expected 0 (a negative check). */
  async function expectCount(query: string, expected: number, trivial = false): Promise<void> {
    if (!trivial) assert.ok(expected > 0, `${query}: the data should give a non-zero count`);
    assert.equal(await total(query), expected, `${query} (independent count ${expected})`);
  }

  const subjectOf = (r: Json) => corpus.target(r.subject);

  it('holds exactly the resources the bundles create', async () => {
    for (const type of ['Patient', 'Observation', 'Encounter', 'Condition']) {
      await expectCount(type, corpus.of(type).length);
    }
  });

  it('token: system|code on a CodeableConcept, code alone, system| alone, :not', async () => {
    const conditionCode = mostCommon(corpus.of('Condition').flatMap((c) => codings(c.code).map((x) => `${x.system}|${x.code}`)));
    await expectCount(url('Condition', [['code', conditionCode]]),
      corpus.of('Condition').filter((c) => tokenMatches(codings(c.code), conditionCode)).length);

    // Without a system any coding with that code matches, whatever its system.
    const obsCode = mostCommon(observations.flatMap((o) => codings(o.code).map((x) => x.code as string)));
    await expectCount(url('Observation', [['code', obsCode]]),
      observations.filter((o) => codings(o.code).some((x) => x.code === obsCode)).length);

    // `value-concept` is (Observation.value as CodeableConcept): only coded results have one.
    const valueSystem = mostCommon(observations.flatMap((o) => codings(o.valueCodeableConcept).map((x) => x.system as string)));
    const withValueSystem = observations.filter((o) => codings(o.valueCodeableConcept).some((x) => x.system === valueSystem)).length;
    assert.ok(withValueSystem < observations.length, 'system| should select a proper subset');
    await expectCount(url('Observation', [['value-concept', `${valueSystem}|`]]), withValueSystem);

    // :not also matches resources without the element (search.html#token, ":not").
    const loincCode = `http://loinc.org|${obsCode}`;
    await expectCount(url('Observation', [['code:not', loincCode]]),
      observations.filter((o) => !tokenMatches(codings(o.code), loincCode)).length);
  });

  it('token: Identifier (with OR), code and Coding elements', async () => {
    const [first, second] = patients.map((p) => `${SYNTHEA_ID}|${p.resource.identifier.find((i: Json) => i.system === SYNTHEA_ID).value}`);
    const ors = [first!, second!];
    await expectCount(url('Patient', [['identifier', ors.join(',')]]),
      patients.filter((p) => ors.some((v) => tokenMatches(p.resource.identifier, v, 'value'))).length);
    const ssn = patients[0]!.resource.identifier.find((i: Json) => i.system === 'http://hl7.org/fhir/sid/us-ssn');
    await expectCount(url('Patient', [['identifier', `${ssn.system}|${ssn.value}`]]),
      patients.filter((p) => tokenMatches(p.resource.identifier, `${ssn.system}|${ssn.value}`, 'value')).length);

    await expectCount('Patient?gender=female', patients.filter((p) => p.resource.gender === 'female').length);
    await expectCount('Encounter?status=finished', encounters.filter((e) => e.status === 'finished').length);
    // Encounter.class is a bare Coding; the ambulatory class is Synthea's most common.
    const cls = mostCommon(encounters.map((e) => `${e.class.system}|${e.class.code}`));
    await expectCount(url('Encounter', [['class', cls]]), encounters.filter((e) => tokenMatches(codings(e.class), cls)).length);
  });

  it('string: default starts-with ignoring case and accents, and :exact', async () => {
    const names = patients.flatMap((p) => families(p.resource));
    // The two-letter start most families share (but not all), sent upper-case.
    const prefix = mostCommon(names.map((n) => fold(n).slice(0, 2)));
    const withPrefix = (p: Json) => families(p).some((f) => fold(f).startsWith(prefix));
    assert.ok(patients.filter((p) => withPrefix(p.resource)).length < patients.length, 'prefix should select a proper subset');
    await expectCount(url('Patient', [['family', prefix.toUpperCase()]]), patients.filter((p) => withPrefix(p.resource)).length);

    // An accented family (Guzmán, León, …) is found without its accents when one is loaded.
    const accented = names.find((n) => fold(n) !== n.toLowerCase()) ?? names[0]!;
    const folded = fold(accented);
    await expectCount(url('Patient', [['family', folded]]),
      patients.filter((p) => families(p.resource).some((f) => fold(f).startsWith(folded))).length);

    // :exact compares the whole string, case and accents included.
    const exact = names[0]!;
    await expectCount(url('Patient', [['family:exact', exact]]), patients.filter((p) => families(p.resource).includes(exact)).length);
    await expectCount(url('Patient', [['family:exact', exact.toLowerCase()]]),
      patients.filter((p) => families(p.resource).includes(exact.toLowerCase())).length, true);
    await expectCount(url('Patient', [['family:exact', exact.slice(0, -1)]]),
      patients.filter((p) => families(p.resource).includes(exact.slice(0, -1))).length, true);
  });

  it('reference: Patient/[id] and a bare id, the id assigned by the server for a urn:uuid entry', async () => {
    const patient = patients[patients.length - 1]!;
    const syntheaId = patient.resource.identifier.find((i: Json) => i.system === SYNTHEA_ID).value;
    const found = await fhir(server.base, 'GET', url('Patient', [['identifier', `${SYNTHEA_ID}|${syntheaId}`]]));
    assert.equal(found.body.entry?.length, 1, found.text.slice(0, 500));
    const id = found.body.entry[0].resource.id as string;
    const expected = observations.filter((o) => o.subject?.reference === patient.url).length;
    await expectCount(url('Observation', [['subject', `Patient/${id}`]]), expected);
    await expectCount(url('Observation', [['subject', id]]), expected);
    await expectCount(url('Encounter', [['patient', `Patient/${id}`]]), encounters.filter((e) => e.subject?.reference === patient.url).length);
  });

  it('date: prefixes on dateTime (Observation.effective) and Period (Encounter.period)', async () => {
    // Every Synthea Observation has an effectiveDateTime: an instant at seconds precision.
    const when = (o: Json): Range => {
      assert.equal(typeof o.effectiveDateTime, 'string', 'Synthea Observations use effectiveDateTime');
      return dateRange(o.effectiveDateTime);
    };
    const lows = observations.map((o) => when(o).low).sort((a, b) => a - b);
    const at = (q: number) => clearInstant(lows[Math.floor(q * (lows.length - 1))]!, lows);
    const [from, mid, to] = [at(0.25), at(0.5), at(0.75)];
    const count = (...terms: ['ge' | 'lt', number][]) =>
      observations.filter((o) => terms.every(([p, x]) => dateMatches(p, dateRange(isoSeconds(x)), when(o)))).length;
    await expectCount(url('Observation', [['date', `ge${isoSeconds(mid)}`]]), count(['ge', mid]));
    await expectCount(url('Observation', [['date', `lt${isoSeconds(mid)}`]]), count(['lt', mid]));
    await expectCount(url('Observation', [['date', `ge${isoSeconds(from)}`], ['date', `lt${isoSeconds(to)}`]]), count(['ge', from], ['lt', to]));

    // A bare year is the whole year (eq); pick one with nothing within 14 hours of New Year, where
    // the server's time zone for a zone-less value could matter.
    const years = [...new Set(lows.map((ms) => new Date(ms).getUTCFullYear()))];
    const clear = (y: number) => lows.every((ms) => [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)].every((b) => Math.abs(ms - b) > 14 * 3_600_000));
    const year = years.find(clear);
    assert.ok(year, 'a year clear of New Year observations');
    await expectCount(url('Observation', [['date', String(year)]]), observations.filter((o) => dateMatches('eq', dateRange(String(year)), when(o))).length);

    // An Encounter matches `ge x` when its period ends at or after x and `lt x` when it starts
    // before x, so one spanning x is counted by both.
    const periods = encounters.map((e) => periodRange(e.period));
    const longest = periods.reduce((a, b) => (b.high - b.low > a.high - a.low ? b : a));
    const x = clearInstant((longest.low + longest.high) / 2, periods.flatMap((p) => [p.low, p.high]));
    assert.ok(longest.low < x && x + 1000 < longest.high, 'the longest encounter spans the search instant');
    const search = dateRange(isoSeconds(x));
    const ge = periods.filter((p) => dateMatches('ge', search, p)).length;
    const lt = periods.filter((p) => dateMatches('lt', search, p)).length;
    assert.ok(ge + lt > periods.length, 'an encounter spans the search instant');
    await expectCount(url('Encounter', [['date', `ge${isoSeconds(x)}`]]), ge);
    await expectCount(url('Encounter', [['date', `lt${isoSeconds(x)}`]]), lt);
  });

  it('quantity with a UCUM unit, and the code-value-quantity composite', async () => {
    // Helix compares UCUM quantities in canonical units, so the unit must have no commensurable
    // unit elsewhere in the data: /min (heart and respiratory rate) is Synthea's only frequency.
    const quantities = observations.filter((o) => o.valueQuantity?.system === UCUM);
    const frequencies = new Set(quantities.map((o) => o.valueQuantity.code as string).filter((c) => /^\/|^1\/|Hz|\{.*\}\/(min|s|h)$/.test(c)));
    assert.deepEqual([...frequencies], ['/min']);
    const perMinute = quantities.filter((o) => o.valueQuantity.code === '/min');
    const t = threshold(perMinute.map((o) => o.valueQuantity.value));
    await expectCount(url('Observation', [['value-quantity', `gt${t}|${UCUM}|/min`]]),
      perMinute.filter((o) => o.valueQuantity.value > Number(t)).length);
    await expectCount(url('Observation', [['value-quantity', `lt${t}|${UCUM}|/min`]]),
      perMinute.filter((o) => o.valueQuantity.value < Number(t)).length);

    // The LOINC code with the most quantity results, compared in its own unit, code and value on
    // the same Observation.
    const code = mostCommon(quantities.flatMap((o) => codings(o.code).filter((c) => c.system === 'http://loinc.org').map((c) => c.code as string)));
    const ofCode = quantities.filter((o) => tokenMatches(codings(o.code), `http://loinc.org|${code}`));
    const c = threshold(ofCode.map((o) => o.valueQuantity.value));
    await expectCount(url('Observation', [['code-value-quantity', `http://loinc.org|${code}$gt${c}`]]),
      ofCode.filter((o) => o.valueQuantity.value > Number(c)).length);
  });

  it('chained parameters: subject:Patient.family and subject:Patient.gender', async () => {
    const prefix = fold(families(patients[0]!.resource)[0]!).slice(0, 3);
    await expectCount(url('Observation', [['subject:Patient.family', prefix]]),
      observations.filter((o) => { const p = subjectOf(o); return p?.resourceType === 'Patient' && families(p).some((f) => fold(f).startsWith(prefix)); }).length);
    await expectCount('Encounter?subject:Patient.gender=female',
      encounters.filter((e) => { const p = subjectOf(e); return p?.resourceType === 'Patient' && p.gender === 'female'; }).length);
  });

  it('_has: Patients with an Observation of a given code', async () => {
    // The code held by about half the patients, so the reverse chain really filters.
    const holders = new Map<string, Set<string>>();
    for (const o of observations) {
      for (const c of codings(o.code)) {
        const key = `${c.system}|${c.code}`;
        if (!holders.has(key)) holders.set(key, new Set());
        holders.get(key)!.add(String(o.subject?.reference));
      }
    }
    const half = patients.length / 2;
    const [code] = [...holders].reduce((a, b) => (Math.abs(b[1].size - half) < Math.abs(a[1].size - half) ? b : a));
    const expected = patients.filter((p) => observations.some((o) => o.subject?.reference === p.url && tokenMatches(codings(o.code), code))).length;
    await expectCount(url('Patient', [['_has:Observation:subject:code', code]]), expected);
  });

  it(':missing on a choice-type date and on a quantity', async () => {
    // death-date is (Patient.deceased as dateTime); Synthea records deaths that way.
    const deceased = patients.filter((p) => typeof p.resource.deceasedDateTime === 'string').length;
    await expectCount('Patient?death-date:missing=false', deceased);
    await expectCount('Patient?death-date:missing=true', patients.length - deceased);
    // Panels (components only) and coded results have no value[x] Quantity.
    await expectCount('Observation?value-quantity:missing=true', observations.filter((o) => o.valueQuantity === undefined).length);
  });
});
