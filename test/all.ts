// Entry point of the suite: imports every *.test.ts below test/ (optionally filtered by the
// TEST_FILTER substring) and closes the shared server when all have run.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe } from 'node:test';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { closeSharedServer } from './harness.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const filter = process.env.TEST_FILTER;

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

// One suite around every file: the runner awaits its (async) body before running anything, so all
// files are registered before the first test starts and `after` runs only when all have finished.
// (Imported at top level instead, a slow import could finish after the root's `after` had run.)
describe('helix', async () => {
  after(async () => {
    await closeSharedServer();
  });
  for (const file of walk(root)) {
    if (filter && !relative(root, file).includes(filter)) continue;
    await import(pathToFileURL(file).href);
  }
});
