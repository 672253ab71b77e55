// The byte side of VCF import: turns an uploaded body (plain text, gzip or BGZF) into numbered text
// lines, streaming, so a whole-genome VCF never has to fit in memory. Parsing the lines is
// vcf-calls.ts's job; every failure either module reports about the file is a VcfError.
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** A problem with the uploaded VCF itself (callers answer it with a 400), with its 1-based line when known. */
export class VcfError extends Error {
  readonly lineNumber?: number;
  constructor(message: string, lineNumber?: number) {
    super(lineNumber === undefined ? message : `line ${lineNumber}: ${message}`);
    this.name = 'VcfError';
    if (lineNumber !== undefined) this.lineNumber = lineNumber;
  }
}

/** One line of the file: its 1-based number (header lines counted) and its text without the line break. */
export interface VcfLine {
  lineNumber: number;
  text: string;
}

/**
 * A line longer than this is refused rather than buffered: without a cap, a file with no line
 * breaks (a mislabelled binary upload) would be held whole. 64 MiB is far beyond any real record,
 * even a many-thousand-sample one.
 */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

/**
 * The lines of a VCF, plain or gzip/BGZF-compressed (recognised by the 1f 8b magic, not by a name
 * or a header), CRLF or LF. Empty lines are counted but not yielded. Throws VcfError for corrupt or
 * truncated gzip data and for overlong lines; errors of the input stream itself pass through.
 */
export async function* vcfLines(input: NodeJS.ReadableStream | Buffer): AsyncGenerator<VcfLine> {
  for await (const lines of vcfLineBatches(input)) yield* lines;
}

/**
 * vcfLines a chunk at a time: the lines completed by each decoded chunk (about a thousand for a
 * 64 KiB read) in one array, so a whole-genome import pays one async step per chunk, not per line.
 */
export async function* vcfLineBatches(input: NodeJS.ReadableStream | Buffer): AsyncGenerator<VcfLine[]> {
  const chunks = Buffer.isBuffer(input) ? [input][Symbol.iterator]() : (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  // Peek at the first two bytes (a stream may hand them over one at a time) to choose the decoder.
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < 2) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headLength += chunk.length;
  }
  const first = Buffer.concat(head);
  async function* raw(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!ended) {
        const next = await chunks.next();
        ended = next.done === true;
        if (!next.done) yield toBuffer(next.value);
      }
    } finally {
      // An early stop of the consumer (or a gunzip error) must release the input stream too.
      if (!ended) await chunks.return?.();
    }
  }
  const gzipped = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  yield* splitLines(gzipped ? gunzip(raw()) : raw());
}

/**
 * Node's Gunzip continues with the next member when one ends, so BGZF (a series of small gzip
 * members, ending with an empty one) and `cat a.gz b.gz` are read whole, not just their first member.
 */
async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // pipeline() destroys the source when the gunzip fails or the consumer stops; the callback is
  // required by the non-promise form, and the error it would report is thrown by the loop below.
  const output = pipeline(source, createGunzip(), () => {});
  try {
    for await (const chunk of output) yield chunk as Buffer;
  } catch (err) {
    // zlib's own errors carry a Z_* code ('incorrect header check', 'unexpected end of file').
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new VcfError(`the gzip data is corrupt or truncated (${(err as Error).message})`);
    }
    throw err;
  }
}

async function* splitLines(bytes: AsyncIterable<Buffer>): AsyncGenerator<VcfLine[]> {
  // A streaming TextDecoder keeps a UTF-8 sequence split across chunks intact (and drops a BOM).
  const decoder = new TextDecoder('utf-8');
  // The unfinished line, kept as pieces so a long line spread over many chunks is joined once.
  let parts: string[] = [];
  let partsLength = 0;
  let lineNumber = 0;
  const finishLine = (out: VcfLine[]): void => {
    const line = parts.length === 1 ? parts[0] as string : parts.join('');
    parts = [];
    partsLength = 0;
    lineNumber += 1;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text !== '') out.push({ lineNumber, text });
  };
  const linesOf = (text: string): VcfLine[] => {
    const out: VcfLine[] = [];
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      parts.push(text.slice(from, nl));
      finishLine(out);
      from = nl + 1;
    }
    if (from < text.length) {
      parts.push(text.slice(from));
      partsLength += text.length - from;
      if (partsLength > MAX_LINE_CHARS) {
        throw new VcfError(`the line is longer than ${MAX_LINE_CHARS} characters`, lineNumber + 1);
      }
    }
    return out;
  };
  for await (const chunk of bytes) {
    const lines = linesOf(decoder.decode(chunk, { stream: true }));
    if (lines.length > 0) yield lines;
  }
  const rest = linesOf(decoder.decode());
  // The last line need not end with a line break.
  if (parts.length > 0) finishLine(rest);
  if (rest.length > 0) yield rest;
}

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
}
