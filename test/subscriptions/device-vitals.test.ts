// Device ingestion (the subscriptions issue, "Device ingestion"): the HL7 Personal Health Device
// examples in ../shared/data/device-vitals load as devices post them — single resources, and
// transaction Bundles with conditional creates — and their Device and DeviceMetric references
// are kept and searchable.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const DIR = fileURLToPath(new URL('../../../shared/data/device-vitals/hl7-phd-examples/', import.meta.url));
const load = (name: string): any => JSON.parse(readFileSync(DIR + name, 'utf8'));

describe('device vital signs (HL7 PHD examples)', () => {
  it('accepts every example and keeps the Device references', async () => {
    const { base } = await sharedServer();
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => ({ f, r: load(f) }));
    // Referenced resources first: patients and devices, then metrics, then observations.
    const order = ['Patient', 'Device', 'DeviceMetric', 'Observation'];
    const singles = files.filter((x) => x.r.resourceType !== 'Bundle').sort((a, b) => order.indexOf(a.r.resourceType) - order.indexOf(b.r.resourceType));
    for (const { f, r } of singles) {
      const res = await fhir(base, 'PUT', `${r.resourceType}/${r.id}`, r);
      assert.ok(res.status === 200 || res.status === 201, `${f}: ${res.status} ${res.text}`);
    }
    for (const { f, r } of files.filter((x) => x.r.resourceType === 'Bundle')) {
      const res = await fhir(base, 'POST', '', r);
      assert.equal(res.status, 200, `${f}: ${res.text}`);
      for (const [i, e] of (res.body.entry as any[]).entries()) assert.match(e.response.status, /^20[01]/, `${f} entry ${i}`);
    }
    // bundle-continuousnonin.json: 47 pulse-oximeter Observations from one device, all kept with it.
    const device = 'Device/phd-74E8FFFEFF051C00.001C05FFE874';
    const fromDevice = await fhir(base, 'GET', `Observation?device=${device}&_count=200&_summary=count`);
    const expected = files.flatMap((x) => x.r.resourceType === 'Bundle' ? x.r.entry.map((e: any) => e.resource) : [x.r])
      .filter((r: any) => r.resourceType === 'Observation' && r.device?.reference === device).length;
    assert.ok(expected >= 47);
    assert.equal(fromDevice.body.total, expected);
    const spo2 = await fhir(base, 'GET', 'Observation/numeric-spo2-alarm');
    assert.equal(spo2.body.device.reference, device);
    const metric = load('bp-devicemetric-example.json');
    assert.equal((await fhir(base, 'GET', `DeviceMetric/${metric.id}`)).body.source?.reference, metric.source?.reference);
  });
});
