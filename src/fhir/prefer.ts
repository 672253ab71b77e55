// The Prefer header (http.html#ops, RFC 7240): `return=minimal|representation|OperationOutcome`
// and `handling=strict|lenient`.

/** What a client asked for in its Prefer header. */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  handling?: 'strict' | 'lenient';
  respondAsync?: boolean;
}

/** Parses a Prefer header; unknown preferences are ignored, as RFC 7240 requires. */
export function parsePrefer(header: string | undefined): Preferences {
  const prefs: Preferences = {};
  if (!header) return prefs;
  for (const part of header.split(/[,;]/)) {
    const [rawKey, rawValue] = part.split('=');
    const key = rawKey?.trim().toLowerCase();
    const value = rawValue?.trim().replace(/^"|"$/g, '');
    if (key === 'return' && (value === 'minimal' || value === 'representation' || value === 'OperationOutcome')) prefs.return = value;
    else if (key === 'handling' && (value === 'strict' || value === 'lenient')) prefs.handling = value;
    else if (key === 'respond-async') prefs.respondAsync = true;
  }
  return prefs;
}
