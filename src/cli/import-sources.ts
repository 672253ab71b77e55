// The inputs of `helix import`: finds the files, counts their resources up front (for progress
// and ETA), and turns each file into the Bundles to send. Bundle files are sent as they are;
// NDJSON lines (and lone resources) are wrapped in batch Bundles of PUT Type/id, or POST Type when
// the resource has no id, so that importing the same export twice updates instead of duplicating.
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { gunzipSync, createGunzip } from 'node:zlib';

/** How a file's content is organised. */
export type SourceKind = 'bundle' | 'ndjson' | 'resource';

/** One input file, counted. */
export interface ImportFile {
  /** Shown in messages: the path, or `stdin`. */
  name: string;
  kind: SourceKind;
  /** Bundle entries, or non-blank NDJSON lines (1 for a lone resource). */
  entries: number;
  /** Must finish before ordinary files start (Synthea's `0-*` organisations and practitioners). */
  preload: boolean;
  /** Where to read it again; absent when the content is kept in `data` (stdin, sniffed files). */
  path?: string;
  data?: string;
}

/** One Bundle to send, with the bookkeeping of what it stands for. */
export interface ImportJob {
  file: ImportFile;
  /** Serialised Bundle (a file sent as is) or a Bundle object (built from NDJSON). */
  body: string | object;
  /** Entries in `body`. */
  entries: number;
  /** NDJSON lines that are valid JSON but not resources (e.g. a bulk export's log.ndjson). */
  skipped: number;
  /** NDJSON lines that could not be read, with the reason; they count as failed. */
  invalid: string[];
  /** Set when the rest of the file could not be read: how many entries were lost, and why. */
  error?: { lost: number; message: string };
}

/** A file that could not be read or understood at all. */
export class SourceError extends Error {}

const BUNDLE_EXT = /\.json(\.gz)?$/i;
const NDJSON_EXT = /\.ndjson(\.gz)?$/i;
const GZIP_MAGIC = [0x1f, 0x8b];

/** Expands folders (their Bundle/NDJSON files, by name) and counts every input. */
export async function collectFiles(paths: readonly string[], readStdin: () => Promise<Buffer>): Promise<ImportFile[]> {
  const files: ImportFile[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push(await named('stdin', async () => sniff('stdin', decompress(await readStdin()), false)));
      continue;
    }
    const info = await named(path, () => stat(path));
    if (info.isDirectory()) {
      const names = (await named(path, () => readdir(path))).filter((n) => BUNDLE_EXT.test(n) || NDJSON_EXT.test(n)).sort();
      for (const name of names) files.push(await named(join(path, name), () => countFile(join(path, name))));
    } else {
      files.push(await named(path, () => countFile(path)));
    }
  }
  // Stable: preload files first, each group keeping the order given.
  return [...files.filter((f) => f.preload), ...files.filter((f) => !f.preload)];
}

/** Runs `fn`, turning any failure into a SourceError that names the input. */
async function named<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const code = (err as { code?: string }).code;
    throw new SourceError(`${name}: ${code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`);
  }
}

async function countFile(path: string): Promise<ImportFile> {
  const preload = basename(path).startsWith('0-');
  if (NDJSON_EXT.test(path)) {
    let entries = 0;
    for await (const line of lines(path)) if (line.trim()) entries++;
    return { name: path, kind: 'ndjson', entries, preload, path };
  }
  const text = decompress(await readFile(path));
  if (BUNDLE_EXT.test(path)) {
    const file = classifyJson(path, text, preload);
    // Bundles are read again when sent, so that only the files in flight are held in memory.
    return file.kind === 'bundle' ? { ...file, path } : { ...file, data: text };
  }
  return sniff(path, text, preload);
}

/** Decides between one JSON document and NDJSON by trying to parse the whole text. */
function sniff(name: string, text: string, preload: boolean): ImportFile {
  const doc = parseLine(text);
  if (doc === undefined) {
    // Split like readline does, so that the count matches the lines sent.
    const entries = text.split(/\r\n|\n|\r/).filter((l) => l.trim()).length;
    if (!entries) throw new SourceError(`${name}: empty input`);
    return { name, kind: 'ndjson', entries, preload, data: text };
  }
  return { ...classify(name, doc, preload), data: text };
}

function classifyJson(name: string, text: string, preload: boolean): ImportFile {
  const doc = parseLine(text);
  if (doc === undefined) throw new SourceError(`${name}: not valid JSON`);
  return classify(name, doc, preload);
}

function classify(name: string, doc: unknown, preload: boolean): ImportFile {
  if (!isResource(doc)) throw new SourceError(`${name}: not a FHIR resource (no resourceType)`);
  if (doc.resourceType === 'Bundle') {
    const entry = (doc as { entry?: unknown }).entry;
    return { name, kind: 'bundle', entries: Array.isArray(entry) ? entry.length : 0, preload };
  }
  return { name, kind: 'resource', entries: 1, preload };
}

/** The Bundles to send for all files, in order; a file that breaks midway yields an error job. */
export async function* jobsOfAll(files: readonly ImportFile[], batchSize: number): AsyncGenerator<ImportJob> {
  for (const file of files) {
    let seen = 0;
    try {
      for await (const job of jobsOf(file, batchSize)) {
        seen += job.entries + job.skipped + job.invalid.length;
        yield job;
      }
    } catch (err) {
      const message = `cannot read: ${(err as Error).message.slice(0, 200)}`;
      yield { file, body: '', entries: 0, skipped: 0, invalid: [], error: { lost: Math.max(0, file.entries - seen), message } };
    }
  }
}

/** The Bundles to send for one file, in order. */
export async function* jobsOf(file: ImportFile, batchSize: number): AsyncGenerator<ImportJob> {
  if (file.kind === 'bundle') {
    const body = file.data ?? decompress(await readFile(file.path as string));
    yield { file, body, entries: file.entries, skipped: 0, invalid: [] };
    return;
  }
  if (file.kind === 'resource') {
    yield { file, body: batchOf([entryFor(JSON.parse(file.data as string) as Resource)]), entries: 1, skipped: 0, invalid: [] };
    return;
  }
  let entries: object[] = [];
  let skipped = 0;
  let invalid: string[] = [];
  const flush = (): ImportJob => {
    const job = { file, body: batchOf(entries), entries: entries.length, skipped, invalid };
    entries = [];
    skipped = 0;
    invalid = [];
    return job;
  };
  let lineNo = 0;
  for await (const line of file.data !== undefined ? textLines(file.data) : lines(file.path as string)) {
    lineNo++;
    if (!line.trim()) continue;
    const doc = parseLine(line);
    if (doc === undefined) invalid.push(`line ${lineNo}: not valid JSON`);
    else if (isResource(doc)) entries.push(entryFor(doc));
    else skipped++;
    if (entries.length + skipped + invalid.length >= batchSize) yield flush();
  }
  if (entries.length + skipped + invalid.length) yield flush();
}

/** The parsed text, or undefined when it is not JSON (JSON itself has no undefined). */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

interface Resource {
  resourceType: string;
  id?: unknown;
}

function isResource(doc: unknown): doc is Resource {
  return !!doc && typeof doc === 'object' && !Array.isArray(doc) && typeof (doc as Resource).resourceType === 'string';
}

function entryFor(resource: Resource): object {
  const id = typeof resource.id === 'string' && resource.id ? resource.id : undefined;
  const request = id ? { method: 'PUT', url: `${resource.resourceType}/${encodeURIComponent(id)}` } : { method: 'POST', url: resource.resourceType };
  return { resource, request };
}

function batchOf(entry: object[]): object {
  return { resourceType: 'Bundle', type: 'batch', entry };
}

function decompress(buf: Buffer): string {
  const gz = buf.length >= 2 && buf[0] === GZIP_MAGIC[0] && buf[1] === GZIP_MAGIC[1];
  return (gz ? gunzipSync(buf) : buf).toString('utf8');
}

/** Lines of a (possibly gzipped) file, streamed. */
async function* lines(path: string): AsyncGenerator<string> {
  const head = Buffer.alloc(2);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const raw = createReadStream(path);
  const input = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1] ? raw.pipe(createGunzip()) : raw;
  yield* createInterface({ input, crlfDelay: Infinity });
}

function textLines(text: string): AsyncIterable<string> {
  return createInterface({ input: Readable.from([text]), crlfDelay: Infinity });
}
