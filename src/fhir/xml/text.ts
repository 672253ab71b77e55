// Character-level XML handling: the parser runs with entity processing off (so no DTD-driven
// expansion can ever happen), and these helpers decode the five predefined entities and character
// references themselves, rejecting everything else.
import { badStructure } from '../errors.js';

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&([^;&\s]{0,12});?/g;
// Characters XML 1.0 cannot carry at all, even as character references.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function decodeReference(ref: string, whole: string): string {
  if (!whole.endsWith(';')) throw badStructure(`Malformed entity reference '${whole}'`);
  const named = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
  if (named !== undefined) return named;
  const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
  const code = numeric ? parseInt(numeric[1] ?? numeric[2] ?? '', numeric[1] ? 16 : 10) : NaN;
  if (!Number.isInteger(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw badStructure(`Unknown or invalid entity reference '${whole}'`);
  }
  const char = String.fromCodePoint(code);
  if (INVALID_XML_CHARS.test(char)) throw badStructure(`Character reference '${whole}' is not allowed in XML`);
  return char;
}

/** Decodes a raw attribute value: literal whitespace is normalised to spaces, then references expanded. */
export function decodeAttribute(raw: string): string {
  return raw.replace(/[\t\n\r]/g, ' ').replace(REFERENCE, (whole, ref: string) => decodeReference(ref, whole));
}

/** Throws unless every `&` in raw markup starts a predefined entity or a character reference. */
export function checkReferences(raw: string): void {
  const markup = raw.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
  for (const match of markup.matchAll(REFERENCE)) decodeReference(match[1] ?? '', match[0]);
}

/** Escapes a string for use inside a double-quoted attribute, keeping whitespace characters intact. */
export function escapeAttribute(value: string): string {
  if (INVALID_XML_CHARS.test(value)) throw badStructure('String contains characters that cannot be represented in XML');
  return value.replace(/[&<>"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c] ?? c);
}

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
