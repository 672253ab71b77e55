// JSON text from templates: the constant part of a resource serialised once, with holes each use
// fills with its own values. The genomics operations return thousands of Observations that are
// mostly the same codes, and JSON.stringify of those objects was most of a request's time. A
// template is the JSON of an object made by the same builders as the resources themselves, with
// placeholders where the values go, so the text cannot drift from the objects' shape.

/** Placeholder for a string's content, or part of it (`Patient/${TEXT}`). */
export const TEXT = '\u0000';

/**
 * Placeholder for a whole JSON value (a number, an array). Typed `never` so that it can stand where
 * the builders' types want a number or an array.
 */
export const VALUE = '\u0001' as never;

// How JSON.stringify writes the placeholders (\u0000 inside a string; "\u0001" as the whole value).
// The constant parts hold no control characters, so these appear nowhere else.
const HOLES = /\\u0000|"\\u0001"/g;
// What JSON.stringify would escape in a string (surrogates: lone ones); most values have none of it.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON text with holes, filled in document order. */
export class JsonTemplate {
  private readonly pieces: string[] = [];
  private readonly inString: boolean[] = [];

  constructor(shape: unknown) {
    const json = JSON.stringify(shape);
    let last = 0;
    for (const m of json.matchAll(HOLES)) {
      this.pieces.push(json.slice(last, m.index));
      this.inString.push(m[0] === '\\u0000');
      last = m.index + m[0].length;
    }
    this.pieces.push(json.slice(last));
    if (this.pieces.some((p) => p.includes('\\u0001'))) throw new Error('A VALUE placeholder must be a whole value, not part of a string');
  }

  /** The text with its holes filled in order: a TEXT hole with the value escaped as string content, a VALUE hole with the value as JSON text. */
  fill(...values: string[]): string {
    if (values.length !== this.inString.length) throw new Error(`The template takes ${this.inString.length} value(s), not ${values.length}`);
    let out = this.pieces[0] as string;
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as string;
      out += (this.inString[i] && NEEDS_ESCAPE.test(value) ? JSON.stringify(value).slice(1, -1) : value) + (this.pieces[i + 1] as string);
    }
    return out;
  }
}

/** The JSON array of already-serialised elements. */
export function jsonArray(elements: readonly string[]): string {
  // Concatenated, not joined: the elements are ropes (fill's `+=`), and a join flattens each one;
  // left as a rope, the whole answer is flattened once, when it is encoded for the socket.
  let out = '[';
  for (let i = 0; i < elements.length; i++) out += (i === 0 ? '' : ',') + (elements[i] as string);
  return `${out}]`;
}
