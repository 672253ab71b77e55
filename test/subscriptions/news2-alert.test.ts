// NEWS2 end to end over HTTP: vital signs posted as a device would (a transaction Bundle) → the
// score Observation is stored → a news2-alert notification whose focus is that score.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';
import { startReceiver, statusOf, waitForStatus, type Receiver } from './receiver.js';

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const VITAL = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];

const vital = (patient: string, code: string, at: string, rest: object) => ({
  request: { method: 'POST', url: 'Observation' },
  resource: { resourceType: 'Observation', status: 'final', category: VITAL, code: { coding: [{ system: LOINC, code }] }, subject: { reference: `Patient/${patient}` }, effectiveDateTime: at, ...rest },
});
const q = (value: number, code: string) => ({ valueQuantity: { value, unit: code, system: UCUM, code } });

const alertSubscription = (patient: string, level: string, endpoint: string) => ({
  resourceType: 'Subscription', meta: { profile: [`${IG}backport-subscription`] }, status: 'requested', reason: 'NEWS2',
  criteria: 'https://helix-fhir.org/fhir/SubscriptionTopic/news2-alert',
  _criteria: { extension: [{ url: `${IG}backport-filter-criteria`, valueString: `Observation?patient=Patient/${patient}&level=${level}` }] },
  channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: `${IG}backport-payload-content`, valueCode: 'full-resource' }] } },
});

describe('NEWS2 alerts', () => {
  let high: Receiver;
  let medium: Receiver;
  before(async () => { [high, medium] = await Promise.all([startReceiver(), startReceiver()]); });
  after(async () => { await Promise.all([high.close(), medium.close()]); });

  it('scores posted vital signs and alerts when the band rises to high', async () => {
    const { base } = await sharedServer();
    const patient = `news2-${randomUUID().slice(0, 8)}`;
    const subHigh = await fhir(base, 'POST', 'Subscription', alertSubscription(patient, 'high', high.url));
    assert.equal(subHigh.status, 201, subHigh.text);
    const subMedium = await fhir(base, 'POST', 'Subscription', alertSubscription(patient, 'medium', medium.url));
    await Promise.all([waitForStatus(base, subHigh.body.id, 'active'), waitForStatus(base, subMedium.body.id, 'active')]);

    // Hand-worked with the RCP 2017 chart: RR 26 → 3, SpO2 90 % (scale 1) → 3, air (no oxygen
    // recorded) → 0, systolic 95 → 2, pulse 115 → 2, temperature 38.5 °C → 1, consciousness not
    // recorded → 0: total 11, high risk (≥ 7).
    const at = '2026-03-01T10:00:00Z';
    const bundle = {
      resourceType: 'Bundle', type: 'transaction', entry: [
        vital(patient, '9279-1', at, q(26, '/min')),
        vital(patient, '59408-5', at, q(90, '%')),
        vital(patient, '85354-9', at, { component: [
          { code: { coding: [{ system: LOINC, code: '8480-6' }] }, ...q(95, 'mm[Hg]') },
          { code: { coding: [{ system: LOINC, code: '8462-4' }] }, ...q(60, 'mm[Hg]') },
        ] }),
        vital(patient, '8867-4', at, q(115, '/min')),
        vital(patient, '8310-5', at, q(38.5, 'Cel')),
      ],
    };
    const posted = await fhir(base, 'POST', '', bundle);
    assert.equal(posted.status, 200, posted.text);
    const inputs = posted.body.entry.map((e: any) => e.response.location.split('/_history')[0].replace(`${base}/`, '')).sort();

    const [note] = await high.waitFor((r) => r.some((x) => statusOf(x.json).type === 'event-notification'), 20_000);
    const events = high.received.filter((x) => statusOf(x.json).type === 'event-notification');
    assert.equal(events.length, 1);
    const status = statusOf(events[0]!.json);
    assert.deepEqual(status.eventNumbers, ['1']);
    const scoreEntry = events[0]!.json.entry[1];
    const score = scoreEntry.resource;
    assert.equal(score.code.coding[0].system, 'http://snomed.info/sct');
    assert.equal(score.code.coding[0].code, '1104051000000101');
    assert.equal(score.valueInteger, 11);
    assert.equal(score.interpretation[0].coding[0].code, 'high');
    assert.equal(score.subject.reference, `Patient/${patient}`);
    assert.deepEqual(score.derivedFrom.map((d: any) => d.reference).sort(), inputs);
    const params = events[0]!.json.entry[0].resource.parameter;
    const event = params.find((p: any) => p.name === 'notification-event');
    assert.equal(event.part.find((p: any) => p.name === 'additional-context').valueReference.reference, `${base}/Patient/${patient}`);
    assert.ok(note);

    // The score is stored and searchable.
    const stored = await fhir(base, 'GET', `Observation?subject=Patient/${patient}&code=http://snomed.info/sct|1104051000000101`);
    assert.equal(stored.body.entry.length, 1);
    // The medium subscription filters on another band: nothing but its handshake.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(medium.received.filter((x) => statusOf(x.json).type === 'event-notification').length, 0);
  });
});
