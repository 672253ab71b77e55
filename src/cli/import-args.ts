// Command-line arguments of `helix import`, parsed into plain options.
import { parseArgs } from 'node:util';

/** Where and how `helix import` sends its data. */
export interface ImportArgs {
  paths: string[];
  /** FHIR base URL for HTTP mode; ignored with `direct`. */
  url: string;
  /** Open the database from the environment and call the router in-process. */
  direct: boolean;
  concurrency: number;
  batchSize: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080/fhir';

export const USAGE = `Usage: helix import <file|dir|-> ... [--url URL | --direct] [--concurrency N] [--batch-size N]

  <file>            a transaction/batch Bundle (.json, .json.gz) or NDJSON (.ndjson, .ndjson.gz)
  <dir>             every such file in the folder, by name; files named 0-* are loaded first
  -                 standard input (Bundle or NDJSON, optionally gzipped)
  --url URL         FHIR base to POST Bundles to (default $HELIX_URL or ${DEFAULT_URL})
  --direct          write through the database configured in the environment (DATABASE_URL, or
                    the embedded database in DATA_DIR: stop the server first), without HTTP
  --concurrency N   Bundles in flight at once (default 2)
  --batch-size N    NDJSON resources per batch Bundle (default 500)
`;

/** Thrown for malformed command lines; the message is meant for the user. */
export class UsageError extends Error {}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Parses `helix import` arguments; throws UsageError on bad input. */
export function parseImportArgs(args: string[], env: NodeJS.ProcessEnv): ImportArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (!positionals.length) throw new UsageError('Nothing to import: give a file, a folder or -');
  if (values.direct && values.url !== undefined) throw new UsageError('--url and --direct exclude each other');
  return {
    paths: positionals,
    url: (values.url ?? env.HELIX_URL ?? DEFAULT_URL).replace(/\/+$/, ''),
    direct: values.direct ?? false,
    concurrency: positiveInt(values.concurrency, 2, '--concurrency'),
    batchSize: positiveInt(values['batch-size'], 500, '--batch-size'),
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      direct: { type: 'boolean' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
    },
  });
}
