// Picking NEWS2 inputs from FHIR R4 Observations. Expected values are worked by hand from the
// Observations below and the RCP NEWS2 chart, not from running the code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Goal, Observation, ObservationComponent, Quantity } from '@medplum/fhirtypes';
import { hasHypercapnicTarget, pickNews2Inputs } from '../../src/subscriptions/news2/inputs.js';
import { scoreNews2 } from '../../src/subscriptions/news2/score.js';
import { LOINC, obs, qty } from './vitals-fixtures.js';

const SNOMED = 'http://snomed.info/sct';
const AT = '2024-03-01T12:00:00Z';


const rr = (id: string, time: string, value: number, rest: Partial<Observation> = {}): Observation =>
  obs(id, '9279-1', time, { valueQuantity: qty(value, '/min'), ...rest });
const component = (code: string, value: Quantity): ObservationComponent => ({ code: { coding: [{ system: LOINC, code }] }, valueQuantity: value });
const bp = (id: string, time: string, systolic: number, diastolic: number): Observation =>
  obs(id, '85354-9', time, { component: [component('8480-6', qty(systolic, 'mm[Hg]')), component('8462-4', qty(diastolic, 'mm[Hg]'))] });
const temp = (id: string, time: string, value: number, unit: string): Observation =>
  obs(id, '8310-5', time, { valueQuantity: qty(value, unit) });
const avpu = (id: string, system: string | undefined, code: string, text?: string): Observation =>
  obs(id, '67775-7', '11:30:00', { valueCodeableConcept: { coding: [{ system, code }], text } });

describe('latest value within the window', () => {
  it('takes the latest value in [at − 1 h, at], whatever the input order', () => {
    const picked = pickNews2Inputs([rr('mid', '11:30:00', 14), rr('late', '11:50:00', 26), rr('early', '11:10:00', 18)], AT);
    assert.equal(picked.inputs.respiratoryRate, 26);
    assert.equal(picked.sources.respiratoryRate, 'Observation/late');
  });

  it('ignores values outside the window and in the future; both ends are inclusive', () => {
    const before = pickNews2Inputs([rr('old', '10:59:59', 30), rr('future', '12:00:01', 30)], AT);
    assert.equal(before.inputs.respiratoryRate, undefined);
    assert.deepEqual(before.derivedFrom, []);
    assert.equal(pickNews2Inputs([rr('start', '11:00:00', 10)], AT).inputs.respiratoryRate, 10);
    assert.equal(pickNews2Inputs([rr('end', '12:00:00', 22), rr('old', '10:00:00', 30)], AT).inputs.respiratoryRate, 22);
  });

  it('honours a custom window and a Date for at', () => {
    const list = [rr('nine', '09:00:00', 30)];
    assert.equal(pickNews2Inputs(list, new Date(AT)).inputs.respiratoryRate, undefined);
    assert.equal(pickNews2Inputs(list, new Date(AT), { windowMs: 4 * 3600_000 }).inputs.respiratoryRate, 30);
  });

  it('ignores entered-in-error and cancelled Observations', () => {
    const picked = pickNews2Inputs(
      [rr('wrong', '11:55:00', 40, { status: 'entered-in-error' }), rr('void', '11:50:00', 5, { status: 'cancelled' }), rr('ok', '11:30:00', 16)],
      AT,
    );
    assert.equal(picked.inputs.respiratoryRate, 16);
    assert.equal(picked.sources.respiratoryRate, 'Observation/ok');
  });

  it('uses effectiveInstant, effectivePeriod (end, else start), else issued', () => {
    const base = { effectiveDateTime: undefined };
    const instant = rr('instant', '00:00:00', 21, { ...base, effectiveInstant: '2024-03-01T11:40:00Z' });
    assert.equal(pickNews2Inputs([instant], AT).inputs.respiratoryRate, 21);
    // the period started 3 hours ago but ended 30 minutes ago: it counts at its end
    const period = rr('period', '00:00:00', 22, { ...base, effectivePeriod: { start: '2024-03-01T09:00:00Z', end: '2024-03-01T11:30:00Z' } });
    assert.equal(pickNews2Inputs([period], AT).inputs.respiratoryRate, 22);
    const open = rr('open', '00:00:00', 23, { ...base, effectivePeriod: { start: '2024-03-01T11:20:00Z' } });
    assert.equal(pickNews2Inputs([open], AT).inputs.respiratoryRate, 23);
    const issued = rr('issued', '00:00:00', 24, { ...base, issued: '2024-03-01T11:45:00Z' });
    assert.equal(pickNews2Inputs([issued], AT).inputs.respiratoryRate, 24);
    const timeless = rr('timeless', '00:00:00', 25, base);
    assert.equal(pickNews2Inputs([timeless], AT).inputs.respiratoryRate, undefined);
  });
});

describe('parameters', () => {
  it('extracts systolic BP from the 85354-9 panel component and a standalone 8480-6', () => {
    const panel = pickNews2Inputs([bp('panel', '11:40:00', 118, 76)], AT);
    assert.equal(panel.inputs.systolicBp, 118);
    assert.equal(panel.sources.systolicBp, 'Observation/panel');
    const standalone = obs('sys', '8480-6', '11:50:00', { valueQuantity: qty(95, 'mm[Hg]') });
    assert.equal(pickNews2Inputs([bp('panel', '11:40:00', 118, 76), standalone], AT).inputs.systolicBp, 95);
  });

  it('converts °F to °C: 100.4 °F = 38.0 °C → 0 points, 100.6 °F = 38.1 °C → 1 point', () => {
    const a = pickNews2Inputs([temp('t', '11:30:00', 100.4, '[degF]')], AT);
    assert.equal(scoreNews2(a.inputs).parameters.temperature, 0);
    const b = pickNews2Inputs([temp('t', '11:30:00', 100.6, '[degF]')], AT);
    assert.equal(scoreNews2(b.inputs).parameters.temperature, 1);
    // 95 °F = 35.0 °C → 3 points; Celsius passes through; kelvin is not guessed at
    assert.equal(scoreNews2(pickNews2Inputs([temp('t', '11:30:00', 95, '[degF]')], AT).inputs).parameters.temperature, 3);
    assert.equal(pickNews2Inputs([temp('t', '11:30:00', 37.2, 'Cel')], AT).inputs.temperatureCelsius, 37.2);
    assert.equal(pickNews2Inputs([temp('t', '11:30:00', 310, 'K')], AT).inputs.temperatureCelsius, undefined);
  });

  it('reads SpO2 (2708-6, 59408-5), pulse and respiration rate with their units', () => {
    const picked = pickNews2Inputs(
      [
        obs('sat', '59408-5', '11:30:00', { valueQuantity: qty(94, '%') }),
        obs('hr', '8867-4', '11:30:00', { valueQuantity: qty(72, '{beats}/min') }),
        obs('rr', '9279-1', '11:30:00', { valueQuantity: qty(18, '{breaths}/min') }),
      ],
      AT,
    );
    assert.equal(picked.inputs.spo2, 94);
    assert.equal(picked.inputs.heartRate, 72);
    assert.equal(picked.inputs.respiratoryRate, 18);
    assert.equal(pickNews2Inputs([obs('sat', '2708-6', '11:30:00', { valueQuantity: qty(91, '%') })], AT).inputs.spo2, 91);
  });

  it('maps consciousness answers to ACVPU', () => {
    const level = (o: Observation): string | undefined => pickNews2Inputs([o], AT).inputs.consciousness;
    assert.equal(level(avpu('a', LOINC, 'LA9340-6')), 'A');
    assert.equal(level(avpu('c', LOINC, 'LA6560-2')), 'C');
    assert.equal(level(avpu('v', LOINC, 'LA17108-4')), 'V');
    assert.equal(level(avpu('p', LOINC, 'LA17107-6')), 'P');
    assert.equal(level(avpu('u', LOINC, 'LA9343-0')), 'U');
    assert.equal(level(avpu('a', SNOMED, '248234008')), 'A');
    assert.equal(level(avpu('c', SNOMED, '130987000')), 'C');
    assert.equal(level(avpu('v', SNOMED, '300202002')), 'V');
    assert.equal(level(avpu('p', SNOMED, '450847001')), 'P');
    assert.equal(level(avpu('u', SNOMED, '422768004')), 'U');
    assert.equal(level(avpu('letter', 'urn:local', 'V')), 'V');
    assert.equal(level(obs('text', '67775-7', '11:30:00', { valueCodeableConcept: { text: 'P' } })), 'P');
    assert.equal(level(avpu('unknown', SNOMED, '1104441000000107')), undefined); // the question, not an answer
    // the UK ACVPU observable as Observation.code
    const uk = obs('uk', 'x', '11:30:00', {
      code: { coding: [{ system: SNOMED, code: '1104441000000107' }] },
      valueCodeableConcept: { coding: [{ system: SNOMED, code: '422768004' }] },
    });
    assert.equal(level(uk), 'U');
  });

  it('decides air or oxygen from the latest inhaled-oxygen evidence', () => {
    const flow = (id: string, time: string, value: number): Observation => obs(id, '3151-8', time, { valueQuantity: qty(value, 'L/min') });
    const fio2 = (id: string, time: string, value: number, unit: string): Observation => obs(id, '3150-0', time, { valueQuantity: qty(value, unit) });
    const on = (list: Observation[]): boolean | undefined => pickNews2Inputs(list, AT).inputs.onSupplementalOxygen;
    assert.equal(on([flow('f', '11:30:00', 2)]), true);
    assert.equal(on([flow('f', '11:30:00', 0)]), false);
    assert.equal(on([fio2('x', '11:30:00', 28, '%')]), true);
    assert.equal(on([fio2('x', '11:30:00', 21, '%')]), false);
    assert.equal(on([fio2('x', '11:30:00', 0.4, '1')]), true);
    assert.equal(on([fio2('x', '11:30:00', 0.21, '1')]), false);
    assert.equal(on([flow('f', '11:00:00', 2), fio2('x', '11:40:00', 21, '%')]), false);
    assert.equal(on([flow('f', '10:30:00', 2)]), undefined); // out of the window
    assert.equal(on([]), undefined);
    // US Core style: the flow rate as a component of the SpO2 Observation
    const sat = obs('sat', '59408-5', '11:30:00', { valueQuantity: qty(95, '%'), component: [component('3151-8', qty(4, 'L/min'))] });
    const picked = pickNews2Inputs([sat], AT);
    assert.equal(picked.inputs.onSupplementalOxygen, true);
    assert.deepEqual(picked.derivedFrom, [{ reference: 'Observation/sat' }]);
  });

  it('uses SpO2 scale 2 only when told the patient has a hypercapnic target', () => {
    assert.equal(pickNews2Inputs([], AT).inputs.spo2Scale, 1);
    assert.equal(pickNews2Inputs([], AT, { hypercapnicTarget: true }).inputs.spo2Scale, 2);
  });

  it('lists each Observation used once in derivedFrom', () => {
    const picked = pickNews2Inputs(
      [rr('rr', '11:30:00', 16), bp('bp', '11:30:00', 120, 80), rr('old', '10:00:00', 30), temp('t', '11:31:00', 37, 'Cel')],
      AT,
    );
    assert.deepEqual(picked.derivedFrom, [
      { reference: 'Observation/rr' },
      { reference: 'Observation/bp' },
      { reference: 'Observation/t' },
    ]);
    assert.deepEqual(picked.sources, { respiratoryRate: 'Observation/rr', systolicBp: 'Observation/bp', temperature: 'Observation/t' });
  });
});

describe('hasHypercapnicTarget', () => {
  const measure = { coding: [{ system: LOINC, code: '59408-5' }] };
  const goal = (rest: Partial<Goal>): Goal => ({
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    description: { text: 'SpO2 target 88–92 %' },
    subject: { reference: 'Patient/p1' },
    ...rest,
  });

  it('recognises an active Goal with an 88–92 % SpO2 detailRange', () => {
    const range = { low: qty(88, '%'), high: qty(92, '%') };
    assert.equal(hasHypercapnicTarget([goal({ target: [{ measure, detailRange: range }] })]), true);
    assert.equal(hasHypercapnicTarget([goal({ lifecycleStatus: 'cancelled', target: [{ measure, detailRange: range }] })]), false);
    assert.equal(hasHypercapnicTarget([goal({ target: [{ measure, detailRange: { low: qty(94, '%'), high: qty(98, '%') } }] })]), false);
    const heartRate = { coding: [{ system: LOINC, code: '8867-4' }] };
    assert.equal(hasHypercapnicTarget([goal({ target: [{ measure: heartRate, detailRange: range }] })]), false);
  });

  it('recognises a Goal with ≥ 88 % and ≤ 92 % detailQuantity targets', () => {
    const targets = [
      { measure, detailQuantity: { ...qty(88, '%'), comparator: '>=' as const } },
      { measure, detailQuantity: { ...qty(92, '%'), comparator: '<=' as const } },
    ];
    assert.equal(hasHypercapnicTarget([goal({ target: targets })]), true);
    assert.equal(hasHypercapnicTarget([goal({ target: targets.slice(0, 1) })]), false);
  });

  it('recognises an SpO2 Observation with an 88–92 % treatment reference range', () => {
    const rangeType = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/referencerange-meaning', code }] });
    const sat = (code: string): Observation =>
      obs('sat', '59408-5', '11:30:00', { valueQuantity: qty(90, '%'), referenceRange: [{ low: qty(88, '%'), high: qty(92, '%'), type: rangeType(code) }] });
    assert.equal(hasHypercapnicTarget([sat('treatment')]), true);
    assert.equal(hasHypercapnicTarget([sat('normal')]), false);
    assert.equal(hasHypercapnicTarget([{ ...sat('treatment'), status: 'entered-in-error' }]), false);
    assert.equal(hasHypercapnicTarget([]), false);
  });
});
