// Synthea ingestion: the reference-data batches first, then patient transaction Bundles one at a
// time and two at a time, each mode bounded by a count and a time budget. Bundles are read and
// gunzipped before the clock starts; a bundle is never posted twice.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BenchClient } from './http-client.js';
import { runLoad, type LoadResult } from './load.js';

/** A Bundle ready to post. */
interface Loaded {
  name: string;
  text: string;
  entries: number;
}

/** One ingestion mode's result: per-bundle latencies plus resource throughput. */
export interface IngestResult extends LoadResult {
  resources: number;
  resourcesPerSecond: number;
}

function load(dir: string, name: string): Loaded {
  const text = gunzipSync(readFileSync(join(dir, name))).toString('utf8');
  return { name, text, entries: (JSON.parse(text) as { entry?: unknown[] }).entry?.length ?? 0 };
}

/** Posts a Bundle; returns an error text unless every entry succeeded. */
async function post(client: BenchClient, basePath: string, b: Loaded): Promise<string | void> {
  const res = await client.send('POST', basePath, b.text);
  if (res.status !== 200) return `${b.name}: HTTP ${res.status} ${res.body.slice(0, 300)}`;
  const entries = (JSON.parse(res.body) as { entry?: { response?: { status?: string } }[] }).entry ?? [];
  const bad = entries.filter((e) => !/^20[01]/.test(e.response?.status ?? ''));
  if (entries.length !== b.entries || bad.length) return `${b.name}: ${bad.length} failed entries, ${entries.length}/${b.entries} answered`;
}

/** Loads the `0-*` reference data, then measures sequential and 2-parallel ingestion. */
export async function syntheaPhases(
  client: BenchClient, basePath: string, dir: string, opts: { bundles: number; seconds: number },
): Promise<{ preload: IngestResult; sequential: IngestResult; parallel: IngestResult }> {
  const names = readdirSync(dir).filter((n) => n.endsWith('.json.gz')).sort();
  const preloadFiles = names.filter((n) => n.startsWith('0-')).map((n) => load(dir, n));
  const patients = names.filter((n) => !n.startsWith('0-')).slice(0, 2 * opts.bundles).map((n) => load(dir, n));
  // Both patient modes draw from one queue, so that no bundle is posted twice.
  const queue = (files: Loaded[]) => ({ files, next: 0 });
  const mode = async (q: ReturnType<typeof queue>, concurrency: number, maxOps: number, seconds: number): Promise<IngestResult> => {
    let resources = 0;
    const result = await runLoad({ concurrency, seconds, maxOps }, async () => {
      const b = q.files[q.next++];
      if (!b) return 'out of bundles';
      const failure = await post(client, basePath, b);
      if (!failure) resources += b.entries;
      return failure;
    });
    return { ...result, resources, resourcesPerSecond: resources / result.seconds };
  };
  const preload = await mode(queue(preloadFiles), 1, preloadFiles.length, 600);
  const patientQueue = queue(patients);
  const sequential = await mode(patientQueue, 1, opts.bundles, opts.seconds);
  const parallel = await mode(patientQueue, 2, opts.bundles, opts.seconds);
  return { preload, sequential, parallel };
}
