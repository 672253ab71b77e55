// The HTTP-independent shapes of the FHIR layer: a request in, a response out. The HTTP plugin and
// the transaction interaction both speak these, so a Bundle entry takes exactly the path a single
// request takes.
import type { Resource } from '@medplum/fhirtypes';
import type { Config } from '../config.js';
import type { Database, Queryable } from '../db/database.js';
import type { IndexExtractor } from '../search/extract.js';
import type { Validator } from '../validation/validator.js';
import type { FhirDefinitions } from './definitions.js';

export type FhirMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A FHIR request with the path relative to the base, e.g. `Patient/1/_history/2`. */
export interface FhirRequest {
  method: FhirMethod;
  path: string;
  query: URLSearchParams;
  headers: FhirRequestHeaders;
  /** Parsed JSON body (resource, Parameters, JSON Patch array, or form fields for _search). */
  body?: unknown;
  /** Media type of the body, lower-cased, without parameters. */
  contentType?: string;
  /** Id for a create, chosen in advance by the transaction interaction (fullUrl resolution). */
  assignedId?: string;
}

/** The request headers the FHIR interactions look at. */
export interface FhirRequestHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifNoneExist?: string;
  prefer?: string;
}

/** The outcome of one interaction. Exactly one of `resource`/`text` carries the body, if any. */
export interface FhirResponse {
  status: number;
  resource?: Resource;
  /** Already-serialised resource JSON (stored content served without re-parsing). */
  text?: string;
  headers: Record<string, string>;
}

/** Everything an interaction needs, passed explicitly. */
export interface FhirContext {
  config: Config;
  db: Database;
  defs: FhirDefinitions;
  extractor: IndexExtractor;
  validator: Validator;
  /** Clock, injectable for tests. */
  now(): Date;
}

/** Where SQL goes for one request: the pool, or the enclosing Bundle transaction. */
export interface Session {
  q: Queryable;
  /** Runs `fn` inside a transaction, reusing the enclosing one when there is one. */
  atomically<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
}

/** A session over the whole database: every `atomically` opens its own transaction. */
export function poolSession(db: Database): Session {
  return { q: db, atomically: (fn) => db.transaction(fn) };
}

/** A session inside an open transaction: everything joins it. */
export function transactionSession(tx: Queryable): Session {
  return { q: tx, atomically: (fn) => fn(tx) };
}
