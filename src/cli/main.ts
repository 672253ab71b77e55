#!/usr/bin/env node
// The `helix` command: `helix serve` (default) and `helix import <file|dir|->`.
import { serve } from './serve.js';

const [command = 'serve', ...args] = process.argv.slice(2);

async function main(): Promise<void> {
  switch (command) {
    case 'serve':
      await serve();
      break;
    case 'import': {
      const { runImport } = await import('./import.js');
      process.exitCode = await runImport(args);
      break;
    }
    default:
      process.stderr.write(`Usage: helix [serve] | helix import <file|dir|-> [--url URL | --direct]\n`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`helix: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
