// Robustness: mutated and hostile bodies on every write interaction must get a 4xx
// OperationOutcome (or succeed), never a 5xx — and a rejected write must leave no trace.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const dir = new URL('../../../shared/data/fhir-r4-examples/', import.meta.url);

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [null, 0, -1e308, 1e400, '', ' ', 'x'.repeat(5000), true, [], {}, [null], { resourceType: 'Patient' }, '\u0000', '\ud800', '__proto__', { __proto__: { polluted: true } }];

/** Replaces one random value somewhere in `node` with a weird one. */
function mutate(node: any, rand: () => number): void {
  const paths: [any, string | number][] = [];
  const walk = (n: any): void => {
    if (Array.isArray(n)) n.forEach((v, i) => { paths.push([n, i]); if (v && typeof v === 'object') walk(v); });
    else if (n && typeof n === 'object') for (const k of Object.keys(n)) { if (k !== 'resourceType') paths.push([n, k]); if (n[k] && typeof n[k] === 'object') walk(n[k]); }
  };
  walk(node);
  const target = paths[Math.floor(rand() * paths.length)];
  if (target) target[0][target[1]] = WEIRD[Math.floor(rand() * WEIRD.length)];
}

describe('hostile input', { skip: !existsSync(dir) && '../shared/data/fhir-r4-examples is not present' }, () => {
  it('never answers 5xx to mutated resources on create, update and transaction', async () => {
    const { base } = await sharedServer();
    const rand = prng(20261126);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== '_package.json').sort();
    const failures: string[] = [];
    for (let n = 0; n < 150; n++) {
      const file = files[Math.floor(rand() * files.length)] as string;
      const resource = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
      for (let m = 0; m < 1 + Math.floor(rand() * 3); m++) mutate(resource, rand);
      const kind = n % 3;
      const res = kind === 0
        ? await fhir(base, 'POST', resource.resourceType, resource)
        : kind === 1
          ? await fhir(base, 'PUT', `${resource.resourceType}/hostile-${n}`, { ...resource, id: `hostile-${n}` })
          : await fhir(base, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource, request: { method: 'POST', url: resource.resourceType } }] });
      if (res.status >= 500 || (res.status >= 400 && res.body?.resourceType !== 'OperationOutcome')) failures.push(`${file} #${n}: ${res.status} ${res.text.slice(0, 200)}`);
      if (kind === 1 && res.status >= 400) {
        const after = await fhir(base, 'GET', `${resource.resourceType}/hostile-${n}`);
        if (after.status !== 404) failures.push(`${file} #${n}: rejected update left ${after.status}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(({} as any).polluted, undefined);
  });

  it('handles odd URLs and headers without 5xx', async () => {
    const { base } = await sharedServer();
    const cases: [string, string, Record<string, string>?][] = [
      ['GET', 'Patient/%E0%A4%A'], ['GET', 'Patient/..%2F..%2Fetc'], ['GET', `Patient?name=${'a'.repeat(10000)}`],
      ['GET', 'Patient?_sort=' + ','.repeat(100)], ['GET', 'Patient?_count=99999999999'], ['GET', 'Patient?birthdate=ge'],
      ['GET', 'Patient?identifier=%00'], ['GET', 'Observation?value-quantity=abc'], ['GET', 'Patient/1', { 'if-none-match': '"' }],
      ['GET', 'Patient/1', { 'if-modified-since': 'not a date' }], ['PUT', 'Patient/x', { 'if-match': 'W/"abc"' }],
      ['DELETE', 'Patient?'], ['DELETE', 'Patient'], ['PATCH', 'Patient/nope'], ['GET', '_history?_since=2020-13-45'],
    ];
    for (const [method, path, headers] of cases) {
      const res = await fhir(base, method, path, method === 'PUT' ? { resourceType: 'Patient', id: 'x' } : undefined, headers);
      assert.ok(res.status < 500, `${method} ${path.slice(0, 60)} → ${res.status} ${res.text.slice(0, 200)}`);
    }
  });
});
