// NEWS2 scoring. Every expected value is read off the RCP NEWS2 chart (Royal College of Physicians,
// NEWS2, 2017, Chart 1 and Chart 2) by hand — both sides of every threshold — not from running the code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bandRank,
  riskBand,
  roundHalfUp,
  scoreNews2,
  type News2Inputs,
  type News2Parameter,
} from '../../src/subscriptions/news2/score.js';

/** Asserts the points one parameter gets for each [inputs, points] row, through scoreNews2. */
function rows(parameter: News2Parameter, table: [News2Inputs, number][]): void {
  for (const [inputs, points] of table) {
    const result = scoreNews2(inputs);
    assert.equal(result.parameters[parameter], points, `${parameter} ${JSON.stringify(inputs)}`);
    assert.ok(!result.missing.includes(parameter), `${parameter} should not be missing for ${JSON.stringify(inputs)}`);
  }
}

describe('NEWS2 chart rows', () => {
  it('respiration rate: ≤8 → 3, 9–11 → 1, 12–20 → 0, 21–24 → 2, ≥25 → 3', () => {
    const rr = (respiratoryRate: number, points: number): [News2Inputs, number] => [{ respiratoryRate }, points];
    rows('respiratoryRate', [
      rr(0, 3), rr(8, 3), rr(9, 1), rr(11, 1), rr(12, 0), rr(20, 0), rr(21, 2), rr(24, 2), rr(25, 3), rr(60, 3),
    ]);
  });

  it('SpO2 scale 1: ≤91 → 3, 92–93 → 2, 94–95 → 1, ≥96 → 0 (on air or oxygen alike)', () => {
    for (const onSupplementalOxygen of [false, true]) {
      const s = (spo2: number, points: number): [News2Inputs, number] => [{ spo2, spo2Scale: 1, onSupplementalOxygen }, points];
      rows('spo2', [s(70, 3), s(91, 3), s(92, 2), s(93, 2), s(94, 1), s(95, 1), s(96, 0), s(100, 0)]);
    }
  });

  it('SpO2 scale 2 on air: ≤83 → 3, 84–85 → 2, 86–87 → 1, 88–92 → 0, ≥93 on air → 0', () => {
    const s = (spo2: number, points: number): [News2Inputs, number] => [{ spo2, spo2Scale: 2, onSupplementalOxygen: false }, points];
    rows('spo2', [
      s(75, 3), s(83, 3), s(84, 2), s(85, 2), s(86, 1), s(87, 1), s(88, 0), s(92, 0),
      s(93, 0), s(94, 0), s(95, 0), s(96, 0), s(97, 0), s(100, 0),
    ]);
  });

  it('SpO2 scale 2 on oxygen: ≤83 → 3 … 88–92 → 0, 93–94 → 1, 95–96 → 2, ≥97 → 3', () => {
    const s = (spo2: number, points: number): [News2Inputs, number] => [{ spo2, spo2Scale: 2, onSupplementalOxygen: true }, points];
    rows('spo2', [
      s(75, 3), s(83, 3), s(84, 2), s(85, 2), s(86, 1), s(87, 1), s(88, 0), s(92, 0),
      s(93, 1), s(94, 1), s(95, 2), s(96, 2), s(97, 3), s(100, 3),
    ]);
  });

  it('air or oxygen: oxygen → 2, air → 0', () => {
    rows('airOrOxygen', [[{ onSupplementalOxygen: true }, 2], [{ onSupplementalOxygen: false }, 0]]);
  });

  it('systolic BP: ≤90 → 3, 91–100 → 2, 101–110 → 1, 111–219 → 0, ≥220 → 3', () => {
    const bp = (systolicBp: number, points: number): [News2Inputs, number] => [{ systolicBp }, points];
    rows('systolicBp', [
      bp(60, 3), bp(90, 3), bp(91, 2), bp(100, 2), bp(101, 1), bp(110, 1), bp(111, 0), bp(219, 0), bp(220, 3), bp(260, 3),
    ]);
  });

  it('pulse: ≤40 → 3, 41–50 → 1, 51–90 → 0, 91–110 → 1, 111–130 → 2, ≥131 → 3', () => {
    const hr = (heartRate: number, points: number): [News2Inputs, number] => [{ heartRate }, points];
    rows('heartRate', [
      hr(30, 3), hr(40, 3), hr(41, 1), hr(50, 1), hr(51, 0), hr(90, 0), hr(91, 1), hr(110, 1),
      hr(111, 2), hr(130, 2), hr(131, 3), hr(180, 3),
    ]);
  });

  it('consciousness: Alert → 0; new Confusion, Voice, Pain, Unresponsive → 3', () => {
    rows('consciousness', [
      [{ consciousness: 'A' }, 0], [{ consciousness: 'C' }, 3], [{ consciousness: 'V' }, 3],
      [{ consciousness: 'P' }, 3], [{ consciousness: 'U' }, 3],
    ]);
  });

  it('temperature: ≤35.0 → 3, 35.1–36.0 → 1, 36.1–38.0 → 0, 38.1–39.0 → 1, ≥39.1 → 2', () => {
    const t = (temperatureCelsius: number, points: number): [News2Inputs, number] => [{ temperatureCelsius }, points];
    rows('temperature', [
      t(33, 3), t(35.0, 3), t(35.1, 1), t(36.0, 1), t(36.1, 0), t(38.0, 0), t(38.1, 1), t(39.0, 1), t(39.1, 2), t(41, 2),
    ]);
  });
});

describe('values between chart rows are rounded half-up to the chart precision first', () => {
  it('rounds on the decimal digits', () => {
    assert.equal(roundHalfUp(36.05, 1), 36.1); // stored in binary as 36.0499999…
    assert.equal(roundHalfUp(36.04, 1), 36);
    assert.equal(roundHalfUp(20.5, 0), 21);
    assert.equal(roundHalfUp(20.49, 0), 20);
    assert.equal(roundHalfUp(38.00000000000001, 1), 38);
  });

  it('temperature to 0.1 °C', () => {
    const t = (temperatureCelsius: number, points: number): [News2Inputs, number] => [{ temperatureCelsius }, points];
    // 35.04 → 35.0 → 3; 35.05 → 35.1 → 1; 36.04 → 36.0 → 1; 36.05 → 36.1 → 0;
    // 38.04 → 38.0 → 0; 38.05 → 38.1 → 1; 39.04 → 39.0 → 1; 39.05 → 39.1 → 2
    rows('temperature', [
      t(35.04, 3), t(35.05, 1), t(36.04, 1), t(36.05, 0), t(38.04, 0), t(38.05, 1), t(39.04, 1), t(39.05, 2),
    ]);
  });

  it('rates, pressure and saturation to whole numbers', () => {
    rows('respiratoryRate', [[{ respiratoryRate: 20.4 }, 0], [{ respiratoryRate: 20.5 }, 2], [{ respiratoryRate: 8.5 }, 1]]);
    rows('heartRate', [[{ heartRate: 90.4 }, 0], [{ heartRate: 90.5 }, 1], [{ heartRate: 130.5 }, 3]]);
    rows('systolicBp', [[{ systolicBp: 90.4 }, 3], [{ systolicBp: 90.5 }, 2], [{ systolicBp: 219.5 }, 3]]);
    rows('spo2', [[{ spo2: 95.4 }, 1], [{ spo2: 95.5 }, 0], [{ spo2: 92.5, spo2Scale: 2, onSupplementalOxygen: true }, 1]]);
  });
});

describe('totals and clinical risk bands', () => {
  const normal: News2Inputs = {
    respiratoryRate: 16, spo2: 97, spo2Scale: 1, onSupplementalOxygen: false, systolicBp: 120,
    heartRate: 70, consciousness: 'A', temperatureCelsius: 37.0,
  };

  it('all normal → 0, low, nothing missing', () => {
    const r = scoreNews2(normal);
    assert.deepEqual(r, {
      total: 0,
      parameters: { respiratoryRate: 0, spo2: 0, airOrOxygen: 0, systolicBp: 0, heartRate: 0, consciousness: 0, temperature: 0 },
      missing: [],
      band: 'low',
      anySingleThree: false,
      spo2Scale: 1,
    });
  });

  it('4 without a single 3 → low', () => {
    // RR 22 → 2, pulse 95 → 1, temperature 38.5 → 1
    const r = scoreNews2({ ...normal, respiratoryRate: 22, heartRate: 95, temperatureCelsius: 38.5 });
    assert.equal(r.total, 4);
    assert.equal(r.band, 'low');
    assert.equal(r.anySingleThree, false);
  });

  it('a 3 in one parameter with a total under 5 → low-medium', () => {
    const three = scoreNews2({ ...normal, respiratoryRate: 25 }); // RR 25 → 3
    assert.equal(three.total, 3);
    assert.equal(three.band, 'low-medium');
    assert.equal(three.anySingleThree, true);
    const four = scoreNews2({ ...normal, consciousness: 'V', heartRate: 95 }); // 3 + 1
    assert.equal(four.total, 4);
    assert.equal(four.band, 'low-medium');
  });

  it('5 and 6 → medium, with or without a single 3', () => {
    // RR 22 → 2, oxygen → 2, pulse 95 → 1
    assert.equal(scoreNews2({ ...normal, respiratoryRate: 22, onSupplementalOxygen: true, heartRate: 95 }).total, 5);
    assert.equal(scoreNews2({ ...normal, respiratoryRate: 22, onSupplementalOxygen: true, heartRate: 95 }).band, 'medium');
    // RR 22 → 2, oxygen → 2, pulse 115 → 2
    const six = scoreNews2({ ...normal, respiratoryRate: 22, onSupplementalOxygen: true, heartRate: 115 });
    assert.equal(six.total, 6);
    assert.equal(six.band, 'medium');
    // systolic 90 → 3, RR 22 → 2: the single 3 no longer lowers the band to low-medium
    const withThree = scoreNews2({ ...normal, systolicBp: 90, respiratoryRate: 22 });
    assert.equal(withThree.total, 5);
    assert.equal(withThree.band, 'medium');
    assert.equal(withThree.anySingleThree, true);
  });

  it('7 or more → high', () => {
    // RR 22 → 2, oxygen → 2, pulse 115 → 2, temperature 38.5 → 1
    const seven = scoreNews2({ ...normal, respiratoryRate: 22, onSupplementalOxygen: true, heartRate: 115, temperatureCelsius: 38.5 });
    assert.equal(seven.total, 7);
    assert.equal(seven.band, 'high');
    // worst value of every row: 3 + 3 + 2 + 3 + 3 + 3 + 3 = 20
    const worst = scoreNews2({
      respiratoryRate: 30, spo2: 85, onSupplementalOxygen: true, systolicBp: 80, heartRate: 140,
      consciousness: 'U', temperatureCelsius: 34,
    });
    assert.equal(worst.total, 20);
    assert.equal(worst.band, 'high');
  });

  it('scale 2 on oxygen adds the SpO2 and the oxygen rows', () => {
    // SpO2 97 on oxygen, scale 2 → 3; oxygen → 2
    const r = scoreNews2({ ...normal, spo2: 97, spo2Scale: 2, onSupplementalOxygen: true });
    assert.equal(r.parameters.spo2, 3);
    assert.equal(r.parameters.airOrOxygen, 2);
    assert.equal(r.total, 5);
    assert.equal(r.band, 'medium');
    assert.equal(r.spo2Scale, 2);
  });

  it('scale 1 unless scale 2 is asked for', () => {
    assert.equal(scoreNews2({ spo2: 90 }).parameters.spo2, 3); // scale 1: ≤91 → 3
    assert.equal(scoreNews2({ spo2: 90, spo2Scale: 2 }).parameters.spo2, 0); // scale 2: 88–92 → 0
  });
});

describe('missing parameters', () => {
  it('score 0 and are listed in chart order', () => {
    const none = scoreNews2({});
    assert.equal(none.total, 0);
    assert.equal(none.band, 'low');
    assert.deepEqual(none.missing, [
      'respiratoryRate', 'spo2', 'airOrOxygen', 'systolicBp', 'heartRate', 'consciousness', 'temperature',
    ]);
    const some = scoreNews2({ respiratoryRate: 25, heartRate: 95, onSupplementalOxygen: false });
    assert.equal(some.total, 4); // 3 + 1
    assert.equal(some.band, 'low-medium');
    assert.deepEqual(some.missing, ['spo2', 'systolicBp', 'consciousness', 'temperature']);
  });

  it('a non-finite number counts as missing', () => {
    const r = scoreNews2({ heartRate: Number.NaN, temperatureCelsius: Number.POSITIVE_INFINITY });
    assert.ok(r.missing.includes('heartRate'));
    assert.ok(r.missing.includes('temperature'));
    assert.equal(r.total, 0);
  });

  it('unknown air/oxygen is missing and SpO2 is scored as on air', () => {
    const r = scoreNews2({ spo2: 97, spo2Scale: 2 }); // ≥93 on air → 0
    assert.equal(r.parameters.spo2, 0);
    assert.equal(r.parameters.airOrOxygen, 0);
    assert.ok(r.missing.includes('airOrOxygen'));
  });
});

describe('bands', () => {
  it('riskBand follows RCP Chart 2', () => {
    assert.equal(riskBand(0, false), 'low');
    assert.equal(riskBand(4, false), 'low');
    assert.equal(riskBand(3, true), 'low-medium');
    assert.equal(riskBand(4, true), 'low-medium');
    assert.equal(riskBand(5, false), 'medium');
    assert.equal(riskBand(6, true), 'medium');
    assert.equal(riskBand(7, false), 'high');
    assert.equal(riskBand(20, true), 'high');
  });

  it('bandRank orders low < low-medium < medium < high', () => {
    assert.deepEqual(
      (['low', 'low-medium', 'medium', 'high'] as const).map(bandRank),
      [0, 1, 2, 3],
    );
    assert.ok(bandRank('medium') > bandRank('low-medium'));
  });
});
