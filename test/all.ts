// Entry point of the suite: imports every *.test.ts below test/ (optionally filtered by the
// TEST_FILTER substring) and closes the shared server when all have run.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after } from 'node:test';
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

after(async () => {
  await closeSharedServer();
});

for (const file of walk(root)) {
  if (filter && !relative(root, file).includes(filter)) continue;
  await import(pathToFileURL(file).href);
}
