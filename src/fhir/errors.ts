// Every failure in Helix is a FhirError: a value carrying the HTTP status and the OperationOutcome
// issues that describe it. It is turned into an OperationOutcome in exactly one place
// (`operationOutcomeOf`), so that no code path can leak a stack trace or a 5xx for bad input.
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

/** One issue of an OperationOutcome, as Helix produces it. */
export interface Issue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  expression?: string[];
}

/** The single error type of the server. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: Issue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(issues.map((i) => i.diagnostics).join('; '));
    this.name = 'FhirError';
  }
}

function error(status: number, code: IssueCode, diagnostics: string, expression?: string[]): FhirError {
  return new FhirError(status, [{ severity: 'error', code, diagnostics, ...(expression ? { expression } : {}) }]);
}

/** 400: the request itself is malformed. */
export const badRequest = (msg: string, expression?: string[]): FhirError => error(400, 'invalid', msg, expression);
/** 400 with code 'structure' (unparseable body). */
export const badStructure = (msg: string): FhirError => error(400, 'structure', msg);
/** 403 when the caller's access token does not allow the interaction. */
export const forbidden = (msg: string): FhirError => error(403, 'forbidden', msg);
/** 404 for an unknown resource or route. */
export const notFound = (msg: string): FhirError => error(404, 'not-found', msg);
/** 405 for an interaction the route does not support. */
export const methodNotAllowed = (msg: string): FhirError => error(405, 'not-supported', msg);
/** 406 for an unsupported Accept/_format. */
export const notAcceptable = (msg: string): FhirError => error(406, 'not-supported', msg);
/** 409 for version or identity conflicts. */
export const conflict = (msg: string): FhirError => error(409, 'conflict', msg);
/** 410 for a deleted resource. */
export const gone = (msg: string): FhirError => error(410, 'deleted', msg);
/** 412 for failed preconditions (If-Match, conditional matches). */
export const preconditionFailed = (msg: string): FhirError => error(412, 'conflict', msg);
/** 413 for bodies over the limit. */
export const tooLarge = (msg: string): FhirError => error(413, 'too-costly', msg);
/** 415 for unsupported Content-Type. */
export const unsupportedMediaType = (msg: string): FhirError => error(415, 'not-supported', msg);
/** 422 for resources that violate business rules or profiles. */
export const unprocessable = (issues: Issue[]): FhirError => new FhirError(422, issues);
/** 401 for a missing or invalid access token, with the RFC 6750 challenge. */
export const unauthorized = (msg: string, error: 'invalid_request' | 'invalid_token'): FhirError =>
  new FhirError(401, [{ severity: 'error', code: 'login', diagnostics: msg }], {
    'WWW-Authenticate': `Bearer realm="helix", error="${error}", error_description="${msg.replace(/["\\]/g, '')}"`,
  });
/** 500 for failures that are the server's fault; never for bad input. */
export const internalError = (msg: string): FhirError => error(500, 'exception', msg);

/** Builds an OperationOutcome resource from a list of issues. */
export function operationOutcome(issues: Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression && i.expression.length ? { expression: i.expression } : {}),
    })),
  };
}

/** An informational OperationOutcome (for Prefer: return=OperationOutcome and successful deletes). */
export function informational(diagnostics: string): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]);
}

/** Maps any thrown value to a FhirError; unknown errors become an opaque 500 without internals. */
export function asFhirError(err: unknown): FhirError {
  if (err instanceof FhirError) return err;
  const pgCode = (err as { code?: unknown } | null)?.code;
  // Serialisation failures and deadlocks are transient conflicts the client may retry.
  if (pgCode === '40001' || pgCode === '40P01') return conflict('Concurrent modification; retry the request');
  if (pgCode === '23505') return conflict('A resource with this identity was created concurrently; retry the request');
  // Class 22 (data exception: NUL bytes, out-of-range numbers or dates) and 54000 (a value too
  // large to index) are caused by what the client sent.
  if (typeof pgCode === 'string' && (pgCode.startsWith('22') || pgCode === '54000')) {
    return badRequest('A value in the request cannot be stored or searched (out of range, too large, or containing NUL characters)');
  }
  if (err instanceof RangeError && /call stack/i.test(err.message)) return badRequest('Resource is nested too deeply');
  return internalError('Internal server error');
}
