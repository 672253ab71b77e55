#!/usr/bin/env node
// The `helix` command: `helix serve` (default), `helix import <file|dir|->`, `helix user add …`, `helix client …`
// `helix import-vcf <patient> <file>` and `helix kb import clinvar <file>`.
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
    case 'user': {
      const { runUser } = await import('./user.js');
      process.exitCode = await runUser(args);
      break;
    }
    case 'import-vcf': {
      const { runImportVcf } = await import('./import-vcf.js');
      process.exitCode = await runImportVcf(args);
      break;
    }
    case 'kb': {
      const { runKb } = await import('./kb.js');
      process.exitCode = await runKb(args);
      break;
    }
    case 'client': {
      const { runClient } = await import('./client.js');
      process.exitCode = await runClient(args);
      break;
    }
    default:
      process.stderr.write(`Usage: helix [serve] | helix import <file|dir|-> [--url URL | --direct] | helix user add <username> --role R | helix client add <name> … | helix import-vcf <patient> <file.vcf[.gz]> --test-identifier ID | helix kb import clinvar <file.vcf[.gz]>\n`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`helix: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
