// Real-world corpus: the 748 official R4 examples (hl7.fhir.r4.examples 4.0.1, `_package.json` is the
// package manifest) and every resource of the Synthea bundles must be accepted. The one example that is
// rejected was checked by hand against the R4 definitions (see the second test).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import type { Issue } from '../../src/fhir/errors.js';
import { loadProfiles } from '../../src/validation/profiles.js';
import { createValidator, type Validator } from '../../src/validation/validator.js';
import type { CorpusResult } from './corpus-worker.js';

const shared = (path: string): string => fileURLToPath(new URL(`../../../shared/data/${path}`, import.meta.url));
const EXAMPLES = shared('fhir-r4-examples');
const SYNTHEA = shared('synthea');
const PROFILES = fileURLToPath(new URL('../../profiles', import.meta.url));

// Established on this corpus: 747 of 748; the reject is Questionnaire-qs1 (checked below).
const MIN_EXAMPLES_ACCEPTED = 747;

// Workers do not inherit the TypeScript loader, so each registers tsx before importing its script.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ register }) => { register(); return import(workerData.entry); });`;

function runWorker(files: string[]): Promise<CorpusResult> {
  return new Promise((resolve, reject) => {
    const workerData = {
      files,
      tsx: import.meta.resolve('tsx/esm/api'),
      entry: new URL('./corpus-worker.ts', import.meta.url).href,
    };
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData });
    worker.once('message', (result: CorpusResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`corpus worker exited with ${code}`));
    });
  });
}

// 80 patient bundles plus the hospital and practitioner bundles, validated in worker threads that
// start at once, so they run while the examples are checked on the main thread.
const syntheaFiles = existsSync(SYNTHEA)
  ? readdirSync(SYNTHEA).filter((f) => f.endsWith('.json.gz')).map((f) => join(SYNTHEA, f))
  : [];
const workers = Math.max(1, Math.min(4, availableParallelism()));
const synthea = Promise.all(
  Array.from({ length: syntheaFiles.length ? workers : 0 }, (_, w) => syntheaFiles.filter((_f, i) => i % workers === w)).map(runWorker),
);
// Awaited in the Synthea test; this only keeps an early failure from being reported as unhandled.
synthea.catch(() => undefined);

const errorsOf = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

describe('official R4 examples', { skip: existsSync(EXAMPLES) ? false : `${EXAMPLES} is not present` }, () => {
  let validator: Validator;
  const read = (file: string): Resource => JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Resource;
  before(async () => {
    const defs = loadDefinitions();
    validator = createValidator(defs, await loadProfiles(defs, PROFILES));
  });

  it(`accepts at least ${MIN_EXAMPLES_ACCEPTED} of the 748 examples`, (t) => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json') && f !== '_package.json');
    assert.equal(files.length, 748);
    let accepted = 0;
    for (const file of files.sort()) {
      const errors = errorsOf(validator.validate(read(file)));
      if (!errors.length) {
        accepted++;
        continue;
      }
      const shown = errors.slice(0, 3).map((i) => `${i.expression?.join(',') ?? ''}: ${i.diagnostics}`);
      t.diagnostic(`rejected ${file} (${errors.length} errors): ${shown.join(' | ')}`);
    }
    t.diagnostic(`accepted ${accepted}/${files.length}`);
    assert.ok(accepted >= MIN_EXAMPLES_ACCEPTED, `only ${accepted} accepted`);
  });

  it('rejects Questionnaire-qs1, whose nested items lack the mandatory linkId (Questionnaire.item.linkId 1..1)', () => {
    const errors = errorsOf(validator.validate(read('Questionnaire-qs1.json')));
    assert.ok(errors.length > 0);
    assert.ok(errors.every((i) => i.code === 'required' && /^Questionnaire(\.item\[\d+\])+\.linkId$/.test(i.expression?.[0] ?? '')));
    assert.ok(errors.some((i) => i.expression?.[0] === 'Questionnaire.item[0].item[0].linkId'));
  });
});

describe('Synthea bundles', { skip: existsSync(SYNTHEA) ? false : `${SYNTHEA} is not present` }, () => {
  it('accepts every resource of every bundle', async (t) => {
    assert.equal(syntheaFiles.length, 82);
    const results = await synthea;
    const resources = results.reduce((n, r) => n + r.resources, 0);
    const failures = results.flatMap((r) => r.failures);
    for (const f of failures.slice(0, 20)) t.diagnostic(`${f.file} ${f.resource}: ${f.issues.join(' | ')}`);
    t.diagnostic(`validated ${resources} resources in ${workers} workers, ${failures.length} rejected`);
    assert.equal(resources, 58935);
    assert.equal(failures.length, 0);
  });
});
