// Loading profiles from profiles/ (manifest and dropped-in files) and at run time.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Observation, StructureDefinition } from '@medplum/fhirtypes';
import { loadDefinitions, type FhirDefinitions } from '../../src/fhir/definitions.js';
import { FhirError } from '../../src/fhir/errors.js';
import { createProfileRegistry, loadProfiles } from '../../src/validation/profiles.js';
import { createValidator } from '../../src/validation/validator.js';

const PROFILES = fileURLToPath(new URL('../../profiles', import.meta.url));
const SD = 'http://hl7.org/fhir/StructureDefinition/';
const VITALS = ['vitalsigns', 'vitalspanel', 'heartrate', 'resprate', 'oxygensat', 'bodytemp', 'bodyheight', 'bodyweight', 'bmi', 'bp', 'headcircum'];
const CUSTOM = 'http://example.org/fhir/StructureDefinition/resting-heart-rate';

let defs: FhirDefinitions;
let dir: string;
before(async () => {
  defs = loadDefinitions();
  dir = await mkdtemp(join(tmpdir(), 'helix-profiles-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A profile derived from R4 heartrate under another URL (same snapshot, so same rules). */
function customProfile(url = CUSTOM): StructureDefinition {
  const heartrate = defs.structureDefinition(`${SD}heartrate`) as StructureDefinition;
  return { ...heartrate, id: 'resting-heart-rate', url, name: 'RestingHeartRate', baseDefinition: `${SD}heartrate` };
}

function observation(profile: string, loinc: string): Observation {
  return {
    resourceType: 'Observation',
    meta: { profile: [profile] },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    subject: { reference: 'Patient/example' },
    effectiveDateTime: '2024-03-01',
    valueQuantity: { value: 60, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

describe('loadProfiles', () => {
  it('loads the eleven R4 vital-signs profiles named in profiles/manifest.json', async () => {
    const registry = await loadProfiles(defs, PROFILES);
    assert.deepEqual(registry.urls().sort(), VITALS.map((v) => SD + v).sort());
    assert.equal(registry.get(`${SD}bp|4.0.1`)?.type, 'Observation');
    assert.equal(registry.has(`${SD}shareablevalueset`), false);
  });

  it('loads StructureDefinitions and Bundles of them dropped into the folder', async () => {
    const sub = await mkdtemp(join(dir, 'drop-'));
    await writeFile(join(sub, 'manifest.json'), JSON.stringify([`${SD}heartrate`]));
    await writeFile(join(sub, 'single.json'), JSON.stringify(customProfile()));
    const bundled = customProfile('http://example.org/fhir/StructureDefinition/other-rate');
    await writeFile(join(sub, 'bundle.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: bundled }] }));
    const registry = await loadProfiles(defs, sub);
    assert.deepEqual(registry.urls().sort(), [`${SD}heartrate`, CUSTOM, bundled.url].sort());
    assert.equal(defs.structureDefinition(CUSTOM)?.name, 'RestingHeartRate');

    const validator = createValidator(defs, registry);
    assert.deepEqual(validator.validate(observation(CUSTOM, '8867-4')), []);
    const wrong = validator.validate(observation(CUSTOM, '9279-1')).filter((i) => i.severity === 'error');
    assert.equal(wrong.length, 1);
    assert.match(wrong[0]?.diagnostics ?? '', /resting-heart-rate/);
  });

  it('fails on a manifest URL that is not in the R4 definitions', async () => {
    const sub = await mkdtemp(join(dir, 'bad-'));
    await writeFile(join(sub, 'manifest.json'), JSON.stringify(['http://example.org/nowhere']));
    await assert.rejects(loadProfiles(defs, sub), /nowhere/);
  });

  it('names the file holding an unusable profile', async () => {
    const sub = await mkdtemp(join(dir, 'nosnap-'));
    await writeFile(join(sub, 'broken.json'), JSON.stringify({ ...customProfile(), snapshot: undefined }));
    await assert.rejects(loadProfiles(defs, sub), /broken\.json.*snapshot/);
  });
});

describe('ProfileRegistry.add', () => {
  it('registers a profile created at run time, and a replacement takes effect', () => {
    const registry = createProfileRegistry(defs);
    const validator = createValidator(defs, registry);
    const url = 'http://example.org/fhir/StructureDefinition/runtime-rate';
    const before = validator.validate(observation(url, '9279-1'));
    assert.equal(before[0]?.severity, 'warning');

    registry.add(customProfile(url));
    assert.ok(registry.has(url));
    assert.equal(validator.validate(observation(url, '9279-1')).filter((i) => i.severity === 'error').length, 1);

    // Replaced by a profile that only constrains Observation like vitalsigns (no heart-rate code).
    const vitals = defs.structureDefinition(`${SD}vitalsigns`) as StructureDefinition;
    registry.add({ ...vitals, url, name: 'RuntimeRate' });
    assert.deepEqual(validator.validate(observation(url, '9279-1')), []);
  });

  it('rejects what cannot be used for validation with a 422', () => {
    const registry = createProfileRegistry(defs);
    const rejects = (sd: unknown, pattern: RegExp): void =>
      assert.throws(() => registry.add(sd as StructureDefinition), (err: unknown) => err instanceof FhirError && err.status === 422 && pattern.test(err.message));
    rejects({ ...customProfile(), snapshot: undefined }, /snapshot/);
    rejects({ ...customProfile(), derivation: 'specialization' }, /constraint/);
    rejects({ ...customProfile(`${SD}Observation`) }, /core definition/);
    rejects({ resourceType: 'ValueSet', url: CUSTOM }, /StructureDefinition/);
    assert.deepEqual(registry.urls(), []);
  });
});
