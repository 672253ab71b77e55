// Reads a client's Subscription (untrusted JSON) into a normalised SubscriptionSpec, or rejects it
// with an OperationOutcome naming every problem and where it is (FHIRPath `expression`).
//
// Two kinds share the R4 Subscription resource:
// - criteria-based R4: `criteria` is a search (`Observation?code=…`); the query is checked by the
//   caller's `validateCriteria`, which knows the search parameters.
// - topic-based (Subscriptions R5 Backport IG 1.1.0, profile backport-subscription): `criteria` is
//   a topic canonical and filters ride in backport-filter-criteria extensions on `_criteria`.
//
// Decisions where the IG and R4 leave room (also in the module's tests):
// - status: R4 lets a client submit only `requested` or `off`; on create anything else is
//   rejected (not silently overwritten), so a client never believes it created an active one. On
//   update the client may also echo the current status back. Missing status means `requested`.
// - topic-based without backport-payload-content: the profile makes it 1..1; absent, Helix uses
//   `empty`, the level that discloses least. Criteria-based: R4 rules (payload MIME present means
//   the resource is sent), unless the extension says otherwise.
// - `full-resource` needs an explicit payload MIME type; otherwise notifications are sent as
//   application/fhir+json.
// - HMAC secret: Helix extension SUBSCRIPTION_SECRET_EXTENSION (valueString, 16–256 characters) on
//   Subscription.channel, rest-hook only, for the notifier to sign each POST body with.
import { FhirError, badRequest, unprocessable, type Issue, type IssueCode } from '../fhir/errors.js';
import { builtInTopics, findTopic, parseTopicFilter, type SubscriptionTopicDefinition, type TopicFilter } from './topics.js';

export type { TopicFilter } from './topics.js';

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
/** Extension URLs of the Backport IG 1.1.0 (StructureDefinition pages of the same names). */
export const BACKPORT_EXTENSIONS = {
  filterCriteria: `${IG}backport-filter-criteria`,
  payloadContent: `${IG}backport-payload-content`,
  heartbeatPeriod: `${IG}backport-heartbeat-period`,
  timeout: `${IG}backport-timeout`,
  maxCount: `${IG}backport-max-count`,
  channelType: `${IG}backport-channel-type`,
} as const;
export const BACKPORT_SUBSCRIPTION_PROFILE = `${IG}backport-subscription`;
/** Helix's own extension carrying the shared secret for HMAC-signed rest-hook notifications. */
export const SUBSCRIPTION_SECRET_EXTENSION = 'https://helix-fhir.org/fhir/StructureDefinition/subscription-secret';

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export type SubscriptionStatusCode = 'requested' | 'active' | 'error' | 'off';
export type PayloadMimeType = 'application/fhir+json' | 'application/fhir+xml';

/** One `channel.header`: the string as sent, and its name and value split at the first colon. */
export interface ChannelHeader { raw: string; name: string; value: string }

export interface ChannelSpec {
  type: 'rest-hook' | 'websocket';
  endpoint?: string; // rest-hook only
  headers: ChannelHeader[];
  /** the MIME type notifications are sent in (application/fhir+json when the Subscription names none) */
  payload: PayloadMimeType;
  payloadGiven: boolean;
  content: PayloadContent;
  heartbeatPeriod?: number; // seconds
  timeout?: number; // seconds
  maxCount?: number; // events per notification
  secret?: string;
}

interface SpecCommon { id?: string; status: SubscriptionStatusCode; end?: string; channel: ChannelSpec }
export type CriteriaSubscriptionSpec = SpecCommon & { kind: 'criteria'; resourceType: string; query: string };
export type TopicSubscriptionSpec = SpecCommon & { kind: 'topic'; topic: string; filters: TopicFilter[] };
export type SubscriptionSpec = CriteriaSubscriptionSpec | TopicSubscriptionSpec;

/** Inclusive [min, max] ranges the server accepts for channel settings. */
export type ChannelLimits = Record<'heartbeatSeconds' | 'timeoutSeconds' | 'maxCount', readonly [number, number]>;
export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = {
  heartbeatSeconds: [1, 86_400], // 0 would be a busy loop; over a day is no heartbeat
  timeoutSeconds: [1, 300],
  maxCount: [1, 1000],
};

export interface ParseOptions {
  isResourceType(name: string): boolean;
  /** checks a criteria query for `resourceType`; throws a FhirError when it is not acceptable */
  validateCriteria(resourceType: string, query: string): void;
  mode?: 'create' | 'update';
  /** on update: the stored status, which the client may send back unchanged */
  currentStatus?: SubscriptionStatusCode;
  topics?: readonly SubscriptionTopicDefinition[];
  limits?: Partial<ChannelLimits>;
  /** refuse http: endpoints (the IG strongly recommends HTTPS for rest-hook) */
  requireHttps?: boolean;
}

type Json = Record<string, unknown>;
/** The object without its undefined members, so specs compare and serialise cleanly. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `[extension, index]` pairs of an element's extensions with the given url. */
const extensionsWith = (element: unknown, url: string): [Json, number][] => {
  const list = isObj(element) && Array.isArray(element.extension) ? element.extension : [];
  return list.flatMap((e, i): [Json, number][] => (isObj(e) && e.url === url ? [[e, i]] : []));
};

class Problems {
  readonly issues: Issue[] = [];
  add(code: IssueCode, diagnostics: string, expression: string): void {
    this.issues.push({ severity: 'error', code, diagnostics, expression: [expression] });
  }
}

const STATUSES: readonly string[] = ['requested', 'active', 'error', 'off'];
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A stored Subscription as the server serves it, or undefined when it no longer parses (e.g. its
 * topic was withdrawn): it was validated when written, so its criteria are not checked again and
 * whatever status it holds is accepted.
 */
export function parseStoredSubscription(resource: unknown, isResourceType: (name: string) => boolean): SubscriptionSpec | undefined {
  try {
    const status = (resource as { status?: SubscriptionStatusCode } | null)?.status;
    return parseSubscription(resource, { isResourceType, validateCriteria: () => undefined, mode: 'update', ...(status ? { currentStatus: status } : {}) });
  } catch {
    return undefined;
  }
}

/** Parses and validates a Subscription; throws a FhirError (400/422) describing every problem. */
export function parseSubscription(resource: unknown, options: ParseOptions): SubscriptionSpec {
  if (!isObj(resource) || resource.resourceType !== 'Subscription') throw badRequest('Expected a Subscription resource');
  const p = new Problems();
  const status = parseStatus(resource.status, options, p);
  const end = resource.end;
  if (end !== undefined && (typeof end !== 'string' || !INSTANT.test(end) || Number.isNaN(Date.parse(end)))) {
    p.add('value', 'end must be an instant with a time zone (e.g. 2030-01-01T00:00:00Z)', 'Subscription.end');
  }
  // A filter outside `_criteria` would be ignored and the subscription would match more than asked.
  for (const [where, element] of [['Subscription', resource], ['Subscription.channel', resource.channel]] as const) {
    for (const [, i] of extensionsWith(element, BACKPORT_EXTENSIONS.filterCriteria)) {
      p.add('structure', 'backport-filter-criteria belongs on Subscription.criteria (JSON: _criteria.extension)', `${where}.extension[${i}]`);
    }
  }
  const criteria = resource.criteria;
  const filterExts = extensionsWith(resource._criteria, BACKPORT_EXTENSIONS.filterCriteria);
  const profiles = isObj(resource.meta) && Array.isArray(resource.meta.profile) ? resource.meta.profile : [];
  // A URL (scheme first) names a topic; a search starts with a resource type.
  const kind = typeof criteria === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(criteria) ? 'topic' : 'criteria';
  let spec: { kind: 'criteria'; resourceType: string; query: string } | { kind: 'topic'; topic: string; filters: TopicFilter[] } | undefined;
  if (typeof criteria !== 'string' || criteria.trim() === '') {
    p.add('required', 'criteria is required: a search such as Observation?code=… or a topic canonical URL', 'Subscription.criteria');
  } else if (kind === 'topic') {
    spec = parseTopicCriteria(criteria, filterExts, options.topics ?? builtInTopics, p);
  } else {
    if (profiles.includes(BACKPORT_SUBSCRIPTION_PROFILE)) {
      p.add('invalid', 'A backport-subscription must name a topic canonical URL in criteria', 'Subscription.criteria');
    }
    for (const [, i] of filterExts) {
      p.add('invalid', 'Filter criteria apply to topic-based subscriptions only; put the parameters in the criteria query', `Subscription.criteria.extension[${i}]`);
    }
    spec = parseSearchCriteria(criteria, options, p);
  }
  const channel = parseChannel(resource.channel, kind, options, p);
  if (p.issues.length || !spec || !channel) throw unprocessable(p.issues);
  const id = typeof resource.id === 'string' ? resource.id : undefined;
  return defined<SubscriptionSpec>({ ...spec, id, status, end: typeof end === 'string' ? end : undefined, channel });
}

function parseStatus(value: unknown, options: ParseOptions, p: Problems): SubscriptionStatusCode {
  if (value === undefined) return 'requested';
  if (typeof value !== 'string' || !STATUSES.includes(value)) {
    p.add('code-invalid', `status must be one of ${STATUSES.join(', ')}`, 'Subscription.status');
    return 'requested';
  }
  const status = value as SubscriptionStatusCode;
  if (status === 'requested' || status === 'off') return status;
  if ((options.mode ?? 'create') === 'update' && status === options.currentStatus) return status;
  p.add('business-rule', `A client may set status to requested or off only; ${status} is set by the server`, 'Subscription.status');
  return 'requested';
}

function parseSearchCriteria(criteria: string, options: ParseOptions, p: Problems) {
  const q = criteria.indexOf('?');
  const resourceType = q < 0 ? criteria : criteria.slice(0, q);
  const query = q < 0 ? '' : criteria.slice(q + 1);
  if (!/^[A-Z][A-Za-z]{0,63}$/.test(resourceType) || !options.isResourceType(resourceType)) {
    p.add('value', `criteria must start with a resource type (e.g. Observation?code=…); ${JSON.stringify(resourceType.slice(0, 64))} is not one`, 'Subscription.criteria');
    return undefined;
  }
  try {
    options.validateCriteria(resourceType, query);
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    for (const i of err.issues) p.issues.push({ ...i, expression: i.expression?.length ? i.expression : ['Subscription.criteria'] });
  }
  return { kind: 'criteria' as const, resourceType, query };
}

function parseTopicCriteria(
  canonical: string, filterExts: [Json, number][], topics: readonly SubscriptionTopicDefinition[], p: Problems,
) {
  const topic = findTopic(canonical, topics);
  if (!topic) {
    // Only topics Helix implements raise events: accepting another would promise notifications that never come.
    p.add('not-supported', `Unsupported topic ${canonical.slice(0, 200)}; supported: ${topics.map((t) => t.url).join(', ')}`, 'Subscription.criteria');
    return undefined;
  }
  const filters: TopicFilter[] = [];
  for (const [ext, i] of filterExts) {
    const path = `Subscription.criteria.extension[${i}].valueString`;
    const text = ext.valueString;
    if (typeof text !== 'string' || text.trim() === '') {
      p.add('required', 'backport-filter-criteria needs a valueString such as Observation?patient=Patient/123', path);
      continue;
    }
    const parsed = parseTopicFilter(topic, text);
    filters.push(...parsed.filters);
    for (const problem of parsed.problems) p.add(problem.code, problem.message, path);
  }
  return { kind: 'topic' as const, topic: topic.url, filters };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Headers the HTTP client must control itself: letting a Subscription set them breaks framing.
const SERVER_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection']);
const MIME_TYPES: readonly string[] = ['application/fhir+json', 'application/fhir+xml'];
const CONTENT_CODES: readonly string[] = ['empty', 'id-only', 'full-resource'];

function parseChannel(raw: unknown, kind: 'criteria' | 'topic', options: ParseOptions, p: Problems): ChannelSpec | undefined {
  if (!isObj(raw)) {
    p.add('required', 'channel is required', 'Subscription.channel');
    return undefined;
  }
  const type = raw.type;
  if (extensionsWith(raw._type, BACKPORT_EXTENSIONS.channelType).length) {
    p.add('not-supported', 'Custom channel types (backport-channel-type) are not supported; use rest-hook or websocket', 'Subscription.channel.type');
  }
  if (type !== 'rest-hook' && type !== 'websocket') {
    if (typeof type !== 'string') p.add('required', 'channel.type is required', 'Subscription.channel.type');
    else p.add('not-supported', `Channel type ${JSON.stringify(type.slice(0, 40))} is not supported; use rest-hook or websocket`, 'Subscription.channel.type');
    return undefined;
  }
  const endpoint = type === 'rest-hook' ? parseEndpoint(raw.endpoint, options, p) : undefined;
  const headers = parseHeaders(raw.header, p);

  const payloadGiven = raw.payload !== undefined;
  let payload: PayloadMimeType = 'application/fhir+json';
  if (payloadGiven) {
    const base = typeof raw.payload === 'string' ? (raw.payload.split(';')[0] ?? '').trim().toLowerCase() : '';
    if (MIME_TYPES.includes(base)) payload = base as PayloadMimeType;
    else p.add('not-supported', `channel.payload must be ${MIME_TYPES.join(' or ')}`, 'Subscription.channel.payload');
  }
  const contentExts = extensionsWith(raw._payload, BACKPORT_EXTENSIONS.payloadContent);
  let content: PayloadContent = kind === 'criteria' && payloadGiven ? 'full-resource' : 'empty';
  for (const [ext, i] of contentExts) {
    const path = `Subscription.channel.payload.extension[${i}]`;
    if (contentExts.length > 1) p.add('structure', 'backport-payload-content may appear once', path);
    else if (typeof ext.valueCode === 'string' && CONTENT_CODES.includes(ext.valueCode)) content = ext.valueCode as PayloadContent;
    else p.add('code-invalid', `backport-payload-content valueCode must be one of ${CONTENT_CODES.join(', ')}`, `${path}.valueCode`);
  }
  if (content === 'full-resource' && !payloadGiven) {
    p.add('required', 'full-resource notifications need channel.payload (application/fhir+json or application/fhir+xml)', 'Subscription.channel.payload');
  }

  const limits = { ...DEFAULT_CHANNEL_LIMITS, ...options.limits };
  const heartbeatPeriod = integerExtension(raw, BACKPORT_EXTENSIONS.heartbeatPeriod, 'valueUnsignedInt', 'heartbeat period (seconds)', limits.heartbeatSeconds, p);
  const timeout = integerExtension(raw, BACKPORT_EXTENSIONS.timeout, 'valueUnsignedInt', 'timeout (seconds)', limits.timeoutSeconds, p);
  const maxCount = integerExtension(raw, BACKPORT_EXTENSIONS.maxCount, 'valuePositiveInt', 'max-count (events per notification)', limits.maxCount, p);
  const secret = parseSecret(raw, type, p);
  return defined<ChannelSpec>({ type, endpoint, headers, payload, payloadGiven, content, heartbeatPeriod, timeout, maxCount, secret });
}

function parseEndpoint(value: unknown, options: ParseOptions, p: Problems): string | undefined {
  const path = 'Subscription.channel.endpoint';
  if (typeof value !== 'string' || value === '') {
    p.add('required', 'A rest-hook channel needs an endpoint (http or https URL)', path);
    return undefined;
  }
  let url: URL | undefined;
  try { url = new URL(value); } catch { /* reported below */ }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    p.add('value', 'channel.endpoint must be an absolute http or https URL', path);
    return undefined;
  }
  if (options.requireHttps && url.protocol === 'http:') p.add('security', 'channel.endpoint must use https', path);
  return value;
}

function parseHeaders(value: unknown, p: Problems): ChannelHeader[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    p.add('structure', 'channel.header must be an array of strings', 'Subscription.channel.header');
    return [];
  }
  const out: ChannelHeader[] = [];
  value.forEach((raw, i) => {
    const path = `Subscription.channel.header[${i}]`;
    if (typeof raw !== 'string') return p.add('structure', 'channel.header entries must be strings', path);
    // CR/LF would let a Subscription inject extra headers or a body into the notification request.
    if (/[\r\n]/.test(raw)) return p.add('security', 'A header must not contain CR or LF characters', path);
    const colon = raw.indexOf(':');
    if (colon < 0) return p.add('value', 'A header must be "Name: value"', path);
    const name = raw.slice(0, colon);
    const headerValue = raw.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!HEADER_NAME.test(name)) return p.add('value', `Header name ${JSON.stringify(name.slice(0, 40))} is not a valid HTTP field name`, path);
    // What Node's HTTP client accepts in a field value; anything else would fail every delivery.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(headerValue)) return p.add('value', 'A header value must not contain control characters or characters beyond Latin-1', path);
    if (SERVER_HEADERS.has(name.toLowerCase())) return p.add('business-rule', `Header ${name} is set by the server`, path);
    out.push({ raw, name, value: headerValue });
  });
  return out;
}

function integerExtension(
  channel: Json, url: string, key: 'valueUnsignedInt' | 'valuePositiveInt', label: string,
  [min, max]: readonly [number, number], p: Problems,
): number | undefined {
  const found = extensionsWith(channel, url);
  for (const [, i] of found.slice(1)) p.add('structure', `${label} may appear once`, `Subscription.channel.extension[${i}]`);
  const first = found[0];
  if (!first) return undefined;
  const [ext, i] = first;
  const v = ext[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.add('value', `${label} must be an integer (${key}) from ${min} to ${max}`, `Subscription.channel.extension[${i}].${key}`);
    return undefined;
  }
  return v;
}

function parseSecret(channel: Json, type: ChannelSpec['type'], p: Problems): string | undefined {
  const found = extensionsWith(channel, SUBSCRIPTION_SECRET_EXTENSION);
  const first = found[0];
  if (!first) return undefined;
  const path = `Subscription.channel.extension[${first[1]}]`;
  if (found.length > 1) p.add('structure', 'The subscription secret may appear once', path);
  if (type !== 'rest-hook') p.add('not-supported', 'A subscription secret signs rest-hook notifications only', path);
  const v = first[0].valueString;
  if (typeof v !== 'string' || v.length < 16 || v.length > 256 || /[\x00-\x1f\x7f]/.test(v)) {
    p.add('value', 'The subscription secret must be a valueString of 16 to 256 printable characters', `${path}.valueString`);
    return undefined;
  }
  return v;
}
