// Rejects JSON nested deeper than a limit before it is parsed, so hostile bodies cannot exhaust
// the stack in the recursive code (validation, reference rewriting) that walks resources.
import { badRequest } from '../fhir/errors.js';

/** Throws 400 if `text` nests objects/arrays deeper than `maxDepth`. */
export function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) throw badRequest(`JSON is nested deeper than ${maxDepth} levels`);
    } else if (c === 125 || c === 93) depth--;
  }
}
