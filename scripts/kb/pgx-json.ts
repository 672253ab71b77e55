// Deterministic pretty JSON for the knowledge files: two-space indentation like JSON.stringify,
// but any object or array that fits on one line (within WIDTH columns) stays on one line, so an
// allele table reads one allele per line and diffs between releases stay small.
const WIDTH = 120;

/** Formats a JSON value with short containers inlined; keys keep their insertion order. */
export function formatJson(value: unknown): string {
  return `${render(value, '', 0)}\n`;
}

// `lead` is how many columns the key in front of this value takes on its line.
function render(value: unknown, indent: string, lead: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Array.isArray(value)
    ? value.map((v) => ['', v] as const)
    : Object.entries(value).filter(([, v]) => v !== undefined);
  const open = Array.isArray(value) ? '[' : '{';
  const close = Array.isArray(value) ? ']' : '}';
  if (entries.length === 0) return open + close;
  const key = (k: string) => (Array.isArray(value) ? '' : `${JSON.stringify(k)}: `);
  const inline = `${open}${Array.isArray(value) ? '' : ' '}${entries.map(([k, v]) => key(k) + render(v, '', 0)).join(', ')}${Array.isArray(value) ? '' : ' '}${close}`;
  if (!inline.includes('\n') && indent.length + lead + inline.length <= WIDTH) return inline;
  const inner = `${indent}  `;
  return `${open}\n${entries.map(([k, v]) => inner + key(k) + render(v, inner, key(k).length)).join(',\n')}\n${indent}${close}`;
}
