// JSON Patch: the official fhir-test-cases suite plus hand-worked RFC 6902 / 6901 edge cases.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FhirError } from '../../../src/fhir/errors.js';
import { applyJsonPatch } from '../../../src/fhir/patching/json-patch.js';

const SUITE = new URL('../../../../shared/data/fhir-test-cases/fhir-patch-r4/json-patch-tests.json', import.meta.url);

interface SuiteCase {
  comment: string;
  doc: unknown;
  patch: unknown;
  expected?: unknown;
  error?: string;
  disabled?: boolean;
}

function throwsStatus(fn: () => unknown, status: number): void {
  assert.throws(fn, (err: unknown) => err instanceof FhirError && err.status === status);
}

describe('JSON Patch: official test cases', { skip: !existsSync(SUITE) && 'shared test data not present' }, () => {
  const cases = existsSync(SUITE) ? (JSON.parse(readFileSync(SUITE, 'utf8')) as SuiteCase[]) : [];
  for (const c of cases.filter((k) => !k.disabled)) {
    it(c.comment, () => {
      const before = structuredClone(c.doc);
      if (c.error !== undefined) {
        assert.throws(() => applyJsonPatch(c.doc, c.patch), FhirError);
      } else {
        assert.deepEqual(applyJsonPatch(c.doc, c.patch), c.expected);
      }
      assert.deepEqual(c.doc, before, 'the input document must not be mutated');
    });
  }
});

describe('JSON Patch: edge cases', () => {
  it('applies every operation to a copy and keeps the input intact', () => {
    const doc = { a: [1, 2, 3], b: { c: 'x' } };
    const out = applyJsonPatch(doc, [
      { op: 'copy', from: '/b', path: '/d' },
      { op: 'replace', path: '/d/c', value: 'y' },
      { op: 'move', from: '/a/0', path: '/a/-' },
      { op: 'remove', path: '/b' },
    ]);
    assert.deepEqual(out, { a: [2, 3, 1], d: { c: 'y' } });
    assert.deepEqual(doc, { a: [1, 2, 3], b: { c: 'x' } });
  });

  it('applies nothing when a later operation fails', () => {
    const doc = { a: 1 };
    throwsStatus(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a', value: 2 }, { op: 'test', path: '/a', value: 1 }]), 422);
    assert.deepEqual(doc, { a: 1 });
  });

  it('replaces the whole document with an empty path', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1] }]), [1]);
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '', value: { b: 2 } }]), { b: 2 });
  });

  it('decodes ~1 before ~0', () => {
    assert.deepEqual(applyJsonPatch({}, [{ op: 'add', path: '/a~1b~0c', value: 1 }]), { 'a/b~c': 1 });
  });

  it('compares objects ignoring key order and arrays in order in test', () => {
    const doc = { o: { x: 1, y: [1, 2] } };
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'test', path: '/o', value: { y: [1, 2], x: 1 } }]), doc);
    throwsStatus(() => applyJsonPatch(doc, [{ op: 'test', path: '/o/y', value: [2, 1] }]), 422);
    throwsStatus(() => applyJsonPatch(doc, [{ op: 'test', path: '/o/x', value: true }]), 422);
  });

  it('rejects malformed patch documents with 400', () => {
    for (const patch of [
      {},
      [null],
      [{ op: 'frobnicate', path: '/a' }],
      [{ op: 'add', path: 'a', value: 1 }],
      [{ op: 'add', path: '/a' }],
      [{ op: 'move', path: '/a' }],
      [{ op: 'copy', path: '/a', from: 7 }],
      [{ op: 'remove', path: '/a~2' }],
      [{ op: 'remove' }],
    ]) {
      throwsStatus(() => applyJsonPatch({ a: 1 }, patch), 400);
    }
  });

  it('rejects unusable targets with 422', () => {
    const doc = { a: [1, 2], s: 'x' };
    for (const op of [
      { op: 'remove', path: '/missing' },
      { op: 'replace', path: '/missing', value: 1 },
      { op: 'add', path: '/a/3', value: 1 },
      { op: 'add', path: '/a/01', value: 1 },
      { op: 'add', path: '/a/99999999999999999999', value: 1 },
      { op: 'remove', path: '/a/-' },
      { op: 'add', path: '/s/x', value: 1 },
      { op: 'move', from: '/a', path: '/a/0' },
      { op: 'copy', from: '/nothing', path: '/b' },
      { op: 'remove', path: '' },
    ]) {
      throwsStatus(() => applyJsonPatch(doc, [op]), 422);
    }
  });

  it('treats __proto__ and constructor as ordinary keys', () => {
    const out = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    throwsStatus(() => applyJsonPatch({}, [{ op: 'remove', path: '/constructor' }]), 422);
    throwsStatus(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/polluted', value: 1 }]), 422);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('survives deeply nested documents', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    assert.throws(() => applyJsonPatch(deep, [{ op: 'test', path: '/a', value: 1 }]), FhirError);
  });
});
