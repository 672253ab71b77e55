// FHIRPath Patch: the official fhir-test-cases suite (XML, converted with our own FHIR XML reader)
// plus hand-worked cases for primitive extensions, choice types and hostile input.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../../src/fhir/errors.js';
import { applyFhirPathPatch } from '../../../src/fhir/patching/fhirpath-patch.js';
import { fhirXmlToJson } from '../../../src/fhir/xml.js';

const SUITE = new URL('../../../../shared/data/fhir-test-cases/fhir-patch-r4/fhir-patch-tests.xml', import.meta.url);

interface SuiteCase {
  name: string;
  input: string;
  diff: string;
  output?: string;
  error?: string;
}

/** Reads the suite; each case's resources are kept as raw XML for the converter under test. */
function loadSuite(): SuiteCase[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    stopNodes: ['tests.case.input', 'tests.case.diff', 'tests.case.output'],
    isArray: (name) => name === 'case',
    processEntities: false,
  });
  const doc = parser.parse(readFileSync(SUITE, 'utf8')) as { tests: { case: Array<Record<string, unknown>> } };
  return doc.tests.case.map((c) => ({
    name: String(c.name),
    input: String(c.input),
    diff: String(c.diff),
    ...(c.output !== undefined ? { output: String(c.output) } : {}),
    ...(c.error !== undefined ? { error: String((c.error as { msg?: string }).msg ?? 'error') } : {}),
  }));
}

/**
 * Narrative is compared as XHTML, not as characters: the suite's expected div escapes quotes as
 * `&quot;` while the patch value (an XML attribute) carries them decoded.
 */
function normaliseNarrative(resource: Resource): Resource {
  const copy = structuredClone(resource) as Resource & { text?: { div?: string } };
  if (copy.text?.div) copy.text.div = copy.text.div.replace(/&quot;/g, '"').replace(/&apos;/g, "'");
  return copy;
}

function patch(resource: object, ...operations: Array<Array<Record<string, unknown>>>): Resource {
  const parameters = {
    resourceType: 'Parameters',
    parameter: operations.map((part) => ({ name: 'operation', part })),
  } as unknown as Parameters;
  return applyFhirPathPatch(resource as Resource, parameters);
}

const op = (type: string, path: string, extra: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> => [
  { name: 'type', valueCode: type },
  { name: 'path', valueString: path },
  ...extra,
];

function throwsStatus(fn: () => unknown, status: number): void {
  assert.throws(fn, (err: unknown) => err instanceof FhirError && err.status === status);
}

describe('FHIRPath Patch: official test cases', { skip: !existsSync(SUITE) && 'shared test data not present' }, () => {
  for (const c of existsSync(SUITE) ? loadSuite() : []) {
    it(c.name, () => {
      const input = fhirXmlToJson(c.input);
      const before = structuredClone(input);
      const diff = fhirXmlToJson(c.diff) as Parameters;
      if (c.error !== undefined) {
        assert.throws(() => applyFhirPathPatch(input, diff), FhirError);
      } else {
        const expected = fhirXmlToJson(c.output as string);
        assert.deepEqual(normaliseNarrative(applyFhirPathPatch(input, diff)), normaliseNarrative(expected));
      }
      assert.deepEqual(input, before, 'the input resource must not be mutated');
    });
  }
});

describe('FHIRPath Patch: primitives, extensions and choice types', () => {
  const ext = { url: 'http://example.org/t', valueDateTime: '1920-01-01T10:00:00Z' };

  it('replacing a primitive replaces its extensions too', () => {
    const patient = { resourceType: 'Patient', birthDate: '1920-01-01', _birthDate: { extension: [ext] } };
    const out = patch(patient, op('replace', 'Patient.birthDate', [{ name: 'value', valueDate: '1930-01-01' }]));
    assert.deepEqual(out, { resourceType: 'Patient', birthDate: '1930-01-01' });
  });

  it('deleting a primitive removes its shadow element', () => {
    const patient = { resourceType: 'Patient', gender: 'male', birthDate: '1920-01-01', _birthDate: { id: 'b' } };
    const out = patch(patient, op('delete', 'Patient.birthDate'));
    assert.deepEqual(out, { resourceType: 'Patient', gender: 'male' });
  });

  it('keeps repeating primitives aligned with their shadows', () => {
    const patient = { resourceType: 'Patient', name: [{ given: ['a', 'b', 'c'], _given: [null, { id: 'x' }, null] }] };
    assert.deepEqual(patch(patient, op('delete', 'Patient.name[0].given[1]')), { resourceType: 'Patient', name: [{ given: ['a', 'c'] }] });
    assert.deepEqual(patch(patient, op('delete', 'Patient.name[0].given[0]')), {
      resourceType: 'Patient',
      name: [{ given: ['b', 'c'], _given: [{ id: 'x' }, null] }],
    });
    const insert = op('insert', 'Patient.name[0].given', [{ name: 'index', valueInteger: 1 }, { name: 'value', valueString: 'z' }]);
    assert.deepEqual(patch(patient, insert), {
      resourceType: 'Patient',
      name: [{ given: ['a', 'z', 'b', 'c'], _given: [null, null, { id: 'x' }, null] }],
    });
    const move = op('move', 'Patient.name[0].given', [{ name: 'source', valueInteger: 1 }, { name: 'destination', valueInteger: 2 }]);
    assert.deepEqual(patch(patient, move), {
      resourceType: 'Patient',
      name: [{ given: ['a', 'c', 'b'], _given: [null, null, { id: 'x' }] }],
    });
  });

  it('adds an extension to a primitive and then edits it through the path', () => {
    const added = patch(
      { resourceType: 'Patient', birthDate: '1920-01-01' },
      op('add', 'Patient.birthDate', [
        { name: 'name', valueString: 'extension' },
        { name: 'value', part: [{ name: 'url', valueUri: 'http://example.org/t' }, { name: 'value', valueString: 'x' }] },
      ]),
    );
    const withExtension = (value: string): object => ({
      resourceType: 'Patient',
      birthDate: '1920-01-01',
      _birthDate: { extension: [{ url: 'http://example.org/t', valueString: value }] },
    });
    assert.deepEqual(added, withExtension('x'));
    const path = "Patient.birthDate.extension.where(url = 'http://example.org/t').value";
    assert.deepEqual(patch(added, op('replace', path, [{ name: 'value', valueString: 'y' }])), withExtension('y'));
  });

  it('switches the property name when a choice element changes type', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, unit: 'mg' } };
    assert.deepEqual(patch(obs, op('replace', 'Observation.value', [{ name: 'value', valueString: 'high' }])), {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      valueString: 'high',
    });
    const add = op('add', 'Patient', [{ name: 'name', valueString: 'deceased' }, { name: 'value', valueBoolean: true }]);
    assert.deepEqual(patch({ resourceType: 'Patient' }, add), {
      resourceType: 'Patient',
      deceasedBoolean: true,
    });
  });

  it('uses FHIRPath filters to pick the target', () => {
    const patient = {
      resourceType: 'Patient',
      name: [{ use: 'usual', family: 'A' }, { use: 'official', family: 'B' }],
      telecom: [{ system: 'email', value: 'e' }, { system: 'phone', value: '1' }, { system: 'phone', value: '2' }],
    };
    const out = patch(
      patient,
      op('replace', "Patient.name.where(use = 'official').family", [{ name: 'value', valueString: 'C' }]),
      op('delete', "Patient.telecom.where(system = 'phone').first()"),
      op('replace', 'Patient.telecom.last().value', [{ name: 'value', valueString: '3' }]),
    );
    assert.deepEqual(out, {
      resourceType: 'Patient',
      name: [{ use: 'usual', family: 'A' }, { use: 'official', family: 'C' }],
      telecom: [{ system: 'email', value: 'e' }, { system: 'phone', value: '3' }],
    });
  });

  it('inserts into an absent list and patches inside contained and bundled resources', () => {
    const identifier = { name: 'value', valueIdentifier: { system: 'http://s', value: '1' } };
    assert.deepEqual(patch({ resourceType: 'Patient' }, op('insert', 'Patient.identifier', [{ name: 'index', valueInteger: 0 }, identifier])), {
      resourceType: 'Patient',
      identifier: [{ system: 'http://s', value: '1' }],
    });
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'male' } }] };
    assert.deepEqual(patch(bundle, op('replace', 'Bundle.entry[0].resource.gender', [{ name: 'value', valueCode: 'female' }])), {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', gender: 'female' } }],
    });
  });

  it('understands extension(url) in paths', () => {
    const patient = {
      resourceType: 'Patient',
      extension: [
        { url: 'http://example.org/a', valueString: 'a' },
        { url: 'http://example.org/b', valueString: 'b' },
      ],
    };
    assert.deepEqual(patch(patient, op('replace', "Patient.extension('http://example.org/b').value", [{ name: 'value', valueInteger: 2 }])), {
      resourceType: 'Patient',
      extension: [
        { url: 'http://example.org/a', valueString: 'a' },
        { url: 'http://example.org/b', valueInteger: 2 },
      ],
    });
    assert.deepEqual(patch(patient, op('delete', "extension('http://example.org/a')")), {
      resourceType: 'Patient',
      extension: [{ url: 'http://example.org/b', valueString: 'b' }],
    });
  });

  it('treats a delete that matches nothing as a no-op', () => {
    const patient = { resourceType: 'Patient', gender: 'male' };
    assert.deepEqual(patch(patient, op('delete', 'Patient.birthDate')), patient);
  });
});

describe('FHIRPath Patch: failures', () => {
  const patient = { resourceType: 'Patient', gender: 'male', name: [{ family: 'A' }, { family: 'B' }] };

  it('rejects malformed patch documents with 400', () => {
    throwsStatus(() => applyFhirPathPatch(patient as Resource, { resourceType: 'Patient' } as unknown as Parameters), 400);
    const bad: Array<Array<Record<string, unknown>>> = [
      op('frobnicate', 'Patient'),
      [{ name: 'type', valueCode: 'delete' }],
      op('delete', 'Patient.name.where('),
      op('insert', 'Patient.name', [{ name: 'value', valueHumanName: { family: 'C' } }]),
      op('replace', 'Patient.gender'),
      op('replace', 'Patient.gender', [{ name: 'value', valueCode: 'female', valueString: 'x' }]),
      op('delete', 'Patient.gender', [{ name: 'colour', valueString: 'red' }]),
      op('move', 'Patient.name', [{ name: 'source', valueInteger: -1 }, { name: 'destination', valueInteger: 0 }]),
      op('delete', 'Patient.name | Patient.gender'),
      op('delete', 'Patient.name.single()'),
    ];
    for (const operation of bad) throwsStatus(() => patch(patient, operation), 400);
    const misnamed = { resourceType: 'Parameters', parameter: [{ name: 'op', part: [] }] } as Parameters;
    throwsStatus(() => applyFhirPathPatch(patient as Resource, misnamed), 400);
  });

  it('rejects patches that cannot be applied with 422, leaving the input alone', () => {
    const before = structuredClone(patient);
    const failing: Array<Array<Record<string, unknown>>> = [
      op('replace', 'Patient.name.family', [{ name: 'value', valueString: 'C' }]),
      op('delete', 'Patient.name'),
      op('replace', 'Patient.birthDate', [{ name: 'value', valueDate: '2000-01-01' }]),
      op('replace', 'Patient.gender', [{ name: 'value', valueBoolean: true }]),
      op('add', 'Patient', [{ name: 'name', valueString: 'gender' }, { name: 'value', valueCode: 'female' }]),
      op('add', 'Patient', [{ name: 'name', valueString: 'colour' }, { name: 'value', valueString: 'red' }]),
      op('insert', 'Patient.name', [{ name: 'index', valueInteger: 3 }, { name: 'value', valueHumanName: { family: 'C' } }]),
      op('insert', 'Patient.gender', [{ name: 'index', valueInteger: 0 }, { name: 'value', valueCode: 'male' }]),
      op('move', 'Patient.name', [{ name: 'source', valueInteger: 0 }, { name: 'destination', valueInteger: 9007199254740991 }]),
      op('replace', 'Patient', [{ name: 'value', valueString: 'x' }]),
    ];
    const first = op('replace', 'Patient.name[0].family', [{ name: 'value', valueString: 'Z' }]);
    for (const operation of failing) throwsStatus(() => patch(patient, first, operation), 422);
    assert.deepEqual(patient, before);
  });

  it('cannot reach prototype properties', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      throwsStatus(() => patch(patient, op('add', 'Patient', [{ name: 'name', valueString: name }, { name: 'value', valueString: 'x' }])), 422);
      throwsStatus(() => patch(patient, op('replace', `Patient.${name}`, [{ name: 'value', valueString: 'x' }])), 422);
    }
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('survives deeply nested resources', () => {
    let extension: Record<string, unknown> = { url: 'http://x', valueString: 'v' };
    for (let i = 0; i < 50_000; i++) extension = { url: 'http://x', extension: [extension] };
    const deep = { resourceType: 'Patient', extension: [extension] };
    assert.throws(() => patch(deep, op('delete', 'Patient.gender')), FhirError);
  });
});
