// The HTTP-independent shapes of the FHIR layer: a request in, a response out. The HTTP plugin and
// the transaction interaction both speak these, so a Bundle entry takes exactly the path a single
// request takes.
import type { Resource } from '@medplum/fhirtypes';
import type { Config } from '../config.js';
import type { Authorization, RequestSource } from '../smart/access.js';
import type { Database, Queryable } from '../db/database.js';
import type { PgxKnowledge } from '../genomics/pgx/knowledge.js';
import type { IndexExtractor } from '../search/extract.js';
import type { HasPlanCache } from '../search/has-plan.js';
import type { AccessPolicy } from '../search/restrict.js';
import type { Validator } from '../validation/validator.js';
import { coalesce } from '../storage/coalesce.js';
import type { StatisticsKeeper } from '../storage/statistics.js';
import { insertResource, insertResources, readCompartmentsMany, readCurrent, readCurrentMany, type StoredCompartments, type StoredResource, type VersionWrite } from '../storage/resource-store.js';
import type { FhirDefinitions } from './definitions.js';
import { internalError } from './errors.js';

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
  /** The caller's access token, validated; absent when authorization is off (src/smart/access.ts). */
  auth?: Authorization;
  /** Client address and agent, for the audit trail. */
  source?: RequestSource;
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
  /** The session of requests outside a Bundle transaction (one per server: it owns the coalescers). */
  pool: Session;
  /** Counts writes and refreshes planner statistics after bulk loads (storage/statistics.ts). */
  statistics: StatisticsKeeper;
  /** Strategies chosen for `_has` filters (src/search/has-plan.ts); without it every `_has` collects its set. */
  hasPlans?: HasPlanCache;
  /** Pharmacogenomic knowledge (src/genomics/pgx/knowledge.ts): where star alleles are defined, phenotypes, CPIC advice. */
  pgx: PgxKnowledge;
  /** The reindex job runner of this instance (src/search/reindex.ts). */
  reindex: { nudge(): void };
  /** Clock, injectable for tests. */
  now(): Date;
  /**
   * The caller's row-level access, on the per-request context that src/smart/enforce.ts derives
   * for an authorized request: every search, include, history and $everything statement run
   * under this context is confined to the rows it allows. Absent when authorization is off.
   */
  rowAccess?: AccessPolicy;
}

/** Where SQL goes for one request: the pool, or the enclosing Bundle transaction. */
export interface Session {
  q: Queryable;
  /** Runs `fn` inside a transaction, reusing the enclosing one when there is one. */
  atomically<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** The current version of a resource (possibly deleted), or undefined if it never existed. */
  readCurrent(resourceType: string, id: string): Promise<StoredResource | undefined>;
  /** Inserts version 1 of a resource whose id the server generated. */
  insertNew(write: VersionWrite): Promise<void>;
  /** The current version with its Patient compartments (for scope checks), or undefined if it never existed. */
  compartments(resourceType: string, id: string): Promise<StoredCompartments | undefined>;
}

/**
 * A session over the whole database: every `atomically` opens its own transaction, and concurrent
 * reads and creates are coalesced into shared statements (storage/coalesce.ts). One per server.
 */
export function poolSession(db: Database): Session {
  // PGlite runs one statement at a time, so more than one in flight would only queue in the driver.
  // On PostgreSQL a few in flight keep both cores busy; more would only shrink the batches.
  const pglite = db.driver === 'pglite';
  const read = coalesce((keys: { resourceType: string; id: string }[]) => readCurrentMany(db, keys), { maxBatch: 64, maxInFlight: pglite ? 1 : 4 });
  const insert = coalesce(async (writes: VersionWrite[]) => {
    await insertResources(db, writes);
    return writes.map(() => undefined);
  }, { maxBatch: 64, maxInFlight: pglite ? 1 : 2 });
  const compartments = coalesce((keys: { resourceType: string; id: string }[]) => readCompartmentsMany(db, keys), { maxBatch: 64, maxInFlight: pglite ? 1 : 4 });
  return {
    q: db,
    atomically: (fn) => db.transaction(fn),
    readCurrent: (resourceType, id) => read({ resourceType, id }),
    compartments: (resourceType, id) => compartments({ resourceType, id }),
    insertNew: insert,
  };
}

/** A session inside an open transaction: everything joins it. */
export function transactionSession(tx: Queryable): Session {
  return {
    q: tx,
    atomically: (fn) => fn(tx),
    readCurrent: (resourceType, id) => readCurrent(tx, resourceType, id),
    compartments: async (resourceType, id) => (await readCompartmentsMany(tx, [{ resourceType, id }]))[0],
    insertNew: async (write) => {
      if (!(await insertResource(tx, write))) throw internalError('Generated id collided');
    },
  };
}

/** `s`, answering reads of `stored` with it: a read already fetched (for its scope check) is not fetched twice. */
export function withPrefetched(s: Session, stored: StoredResource): Session {
  return {
    ...s,
    readCurrent: (resourceType, id) =>
      (resourceType === stored.resourceType && id === stored.id ? Promise.resolve(stored) : s.readCurrent(resourceType, id)),
  };
}
