// Runs the whole suite in one Node test-runner process (test/all.ts imports every *.test.ts), so
// test files share one server and one database instead of each paying the start-up cost.
import { spawnSync } from 'node:child_process';

const args = ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/all.ts', ...process.argv.slice(2)];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });
process.exit(result.status ?? 1);
