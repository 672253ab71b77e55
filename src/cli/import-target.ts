// Where `helix import` sends Bundles: a FHIR server over HTTP, or the FHIR router in-process
// (`--direct`), which skips HTTP and JSON round trips but runs exactly the same interactions.
import { asFhirError, operationOutcome } from '../fhir/errors.js';
import { route } from '../fhir/router.js';
import { type FhirContext } from '../fhir/types.js';

/** The HTTP status and body of one Bundle's processing. */
export interface Reply {
  status: number;
  text: string;
}

/** Sends one transaction/batch Bundle (text or object) and returns the server's answer. */
export type Target = (bundle: string | object) => Promise<Reply>;

// The server says it did not process the request: waiting and sending again is safe.
const RETRY_STATUSES = new Set([429, 503]);
const RETRIES = 3;

/** POSTs Bundles to the FHIR base `url`. Network failures reject. */
export function httpTarget(url: string): Target {
  return async (bundle) => {
    const body = typeof bundle === 'string' ? bundle : JSON.stringify(bundle);
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
        body,
      });
      const text = await res.text();
      if (!RETRY_STATUSES.has(res.status) || attempt >= RETRIES) return { status: res.status, text };
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(res.headers.get('retry-after'), attempt)));
    }
  };
}

function retryDelayMs(retryAfter: string | null, attempt: number): number {
  const seconds = Number(retryAfter);
  if (retryAfter && Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 30) * 1000;
  return 500 * 2 ** attempt;
}

/** Routes Bundles through `ctx` in this process, on the pool (one database transaction per Bundle). */
export function directTarget(ctx: FhirContext): Target {
  return async (bundle) => {
    try {
      const body = typeof bundle === 'string' ? (JSON.parse(bundle) as unknown) : bundle;
      const res = await route(ctx, ctx.pool, {
        method: 'POST', path: '', query: new URLSearchParams(), headers: {}, body, contentType: 'application/fhir+json',
      });
      return { status: res.status, text: res.text ?? JSON.stringify(res.resource ?? {}) };
    } catch (err) {
      const e = err instanceof SyntaxError ? { status: 400, issues: [{ severity: 'error' as const, code: 'structure' as const, diagnostics: `Bundle is not valid JSON: ${err.message}` }] } : asFhirError(err);
      return { status: e.status, text: JSON.stringify(operationOutcome(e.issues)) };
    }
  };
}
