// Worker for corpus.test.ts: validates every resource of the Synthea bundles it is given and
// reports those with error issues. Splitting the 59,000 resources over the cores keeps the test fast.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parentPort, workerData } from 'node:worker_threads';
import type { Bundle } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { loadProfiles } from '../../src/validation/profiles.js';
import { createValidator } from '../../src/validation/validator.js';

/** What a worker sends back. */
export interface CorpusResult {
  resources: number;
  failures: { file: string; resource: string; issues: string[] }[];
}

const defs = loadDefinitions();
const validator = createValidator(defs, await loadProfiles(defs, fileURLToPath(new URL('../../profiles', import.meta.url))));
const result: CorpusResult = { resources: 0, failures: [] };
for (const path of workerData.files as string[]) {
  const bundle = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Bundle;
  for (const entry of bundle.entry ?? []) {
    if (!entry.resource) continue;
    result.resources++;
    const errors = validator.validate(entry.resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length) {
      result.failures.push({
        file: path.split('/').pop() as string,
        resource: `${entry.resource.resourceType}/${entry.resource.id}`,
        issues: errors.map((i) => `${i.expression?.join(',') ?? ''}: ${i.diagnostics}`),
      });
    }
  }
}
parentPort?.postMessage(result);
