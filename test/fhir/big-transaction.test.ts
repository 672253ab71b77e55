// The 25,000-entry Synthea transaction (../shared/data/synthea-big-transaction): accepted whole,
// every entry created, and the stored counts per type equal an independent count of the Bundle.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const dir = new URL('../../../shared/data/synthea-big-transaction/', import.meta.url);
const available = existsSync(dir);

describe('a 25,000-entry transaction', { skip: !available && '../shared/data/synthea-big-transaction is not present' }, () => {
  it('commits every entry and stores exactly what the Bundle holds', { timeout: 20 * 60_000 }, async () => {
    const { base } = await sharedServer();
    const file = readdirSync(dir).find((f) => f.endsWith('.json.gz')) as string;
    const raw = gunzipSync(readFileSync(new URL(file, dir)));
    const bundle = JSON.parse(raw.toString('utf8'));
    const expected = new Map<string, number>();
    const conditionalTargets = new Set<string>();
    for (const e of bundle.entry) {
      expected.set(e.resource.resourceType, (expected.get(e.resource.resourceType) ?? 0) + 1);
      JSON.stringify(e.resource).replace(/"reference":"([A-Za-z]+\?[^"]+)"/g, (_m, ref: string) => {
        conditionalTargets.add(ref);
        return '';
      });
    }
    // The Bundle refers to practitioners, organizations and locations of the Synthea run that
    // made it by identifier; a server holding them is what it expects.
    for (const ref of conditionalTargets) {
      const [type, query] = ref.split('?') as [string, string];
      const [system, value] = (new URLSearchParams(query).get('identifier') as string).split('|');
      const seeded = await fhir(base, 'PUT', `${ref}`, { resourceType: type, identifier: [{ system, value }] });
      assert.ok(seeded.status === 201 || seeded.status === 200, seeded.text);
    }
    const tag = `big-${Date.now()}`;
    const res = await fetch(base, { method: 'POST', body: raw, headers: { 'content-type': 'application/fhir+json', 'x-request-id': tag } });
    const body = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(body).slice(0, 500));
    assert.equal(body.type, 'transaction-response');
    assert.equal(body.entry.length, bundle.entry.length);
    assert.ok(body.entry.every((e: any) => e.response.status.startsWith('201')));
    const patientId = body.entry[0].response.location.split('/Patient/')[1].split('/')[0];
    for (const type of ['Observation', 'Encounter', 'Claim', 'MedicationRequest', 'DiagnosticReport', 'Procedure']) {
      const stored = await fhir(base, 'GET', `${type}?patient=Patient/${patientId}&_summary=count`);
      assert.equal(stored.status, 200, stored.text);
      assert.equal(stored.body.total, expected.get(type), type);
    }
  });
});
