// The Subscriptions this instance matches against (Backport IG components.html, "Subscription"):
// parsed once, compiled into in-memory matchers and indexed by resource type and code, so a write
// is checked against the few subscriptions it could match rather than all of them. Every instance
// keeps its own copy, refreshed from the stored Subscription resources (a nudge through Redis when
// one changes, a poll as the fallback), so no instance needs another to be up.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { IndexRows } from '../search/index-rows.js';
import { compileCriteria, type CompiledCriteria } from './match.js';
import { SubscriptionIndex } from './subscription-index.js';
import { parseStoredSubscription, type SubscriptionSpec } from './subscription-spec.js';
import { findTopic, type SubscriptionTopicDefinition } from './topics.js';

/** The canonical of the topic Helix raises itself when a NEWS2 band rises. */
export const NEWS2_ALERT_TOPIC = 'https://helix-fhir.org/fhir/SubscriptionTopic/news2-alert';

/** A Subscription as the server works with it. */
export interface LiveSubscription {
  id: string;
  /** The stored version this was parsed from. */
  version: number;
  spec: SubscriptionSpec;
  /** For resource-triggered subscriptions (criteria, or a topic with a resource trigger). */
  matcher?: CompiledCriteria;
  /** Interactions that raise events. */
  interactions: ReadonlySet<string>;
  /** For topics raised by Helix itself (news2-alert): the accepted values per filter. */
  topicFilters?: Map<string, Set<string>>;
}

/** An event raised by Helix itself (a change_outbox row with a topic). */
export interface TopicEvent { topic: string; focus: string; context: string[]; detail: Record<string, string> }

/** The live subscriptions of one instance. */
export class LiveSubscriptions {
  private readonly byId = new Map<string, LiveSubscription>();
  private readonly index = new SubscriptionIndex();
  private readonly byTopic = new Map<string, Set<string>>();

  constructor(private readonly defs: FhirDefinitions, private readonly baseUrl: string) {}

  /** The subscription with this id, if it is live. */
  get(id: string): LiveSubscription | undefined {
    return this.byId.get(id);
  }

  /** Every live subscription. */
  all(): IterableIterator<LiveSubscription> {
    return this.byId.values();
  }

  /** Takes in a stored Subscription version (deleted: content null); returns what it became. */
  accept(id: string, version: number, content: string | null): LiveSubscription | undefined {
    this.drop(id);
    if (content === null) return undefined;
    const live = this.compile(id, version, JSON.parse(content) as Resource);
    if (!live) return undefined;
    this.byId.set(id, live);
    if (live.matcher) this.index.add(id, live.matcher);
    if (live.topicFilters && live.spec.kind === 'topic') {
      let ids = this.byTopic.get(live.spec.topic);
      if (!ids) this.byTopic.set(live.spec.topic, (ids = new Set()));
      ids.add(id);
    }
    return live;
  }

  /** Forgets a subscription. */
  drop(id: string): void {
    const live = this.byId.get(id);
    if (!live) return;
    this.byId.delete(id);
    this.index.remove(id);
    if (live.spec.kind === 'topic') this.byTopic.get(live.spec.topic)?.delete(id);
  }

  /** Whether any subscription matches resources of this type (if none, a write needs no index rows). */
  watches(resourceType: string): boolean {
    return this.index.hasType(resourceType);
  }

  /** Subscriptions whose matcher may match a written resource with these index rows. */
  candidates(resourceType: string, rows: IndexRows): LiveSubscription[] {
    return this.index.candidates(resourceType, rows).map((id) => this.byId.get(id)).filter((s): s is LiveSubscription => !!s);
  }

  /** Subscriptions on a topic raised by Helix whose filters accept the event. */
  topicMatches(e: TopicEvent): LiveSubscription[] {
    const out: LiveSubscription[] = [];
    for (const id of this.byTopic.get(e.topic) ?? []) {
      const live = this.byId.get(id);
      if (!live?.topicFilters) continue;
      const accepts = [...live.topicFilters].every(([param, values]) => {
        const value = param === 'patient' ? e.context.find((c) => c.startsWith('Patient/')) : e.detail[param];
        return value !== undefined && values.has(value);
      });
      if (accepts) out.push(live);
    }
    return out;
  }

  private compile(id: string, version: number, resource: Resource): LiveSubscription | undefined {
    const spec = parseStoredSubscription(resource, (t) => this.defs.resourceTypes.has(t));
    if (!spec) return undefined;
    if (spec.status === 'off' || (spec.end && Date.parse(spec.end) <= Date.now())) return undefined;
    if (spec.kind === 'criteria') {
      const matcher = compileCriteria(this.defs, spec.resourceType, spec.query, { baseUrl: this.baseUrl });
      return matcher instanceof Error ? undefined : { id, version, spec, matcher, interactions: new Set(['create', 'update']) };
    }
    const topic = findTopic(spec.topic) as SubscriptionTopicDefinition;
    if (topic.url === NEWS2_ALERT_TOPIC) {
      const topicFilters = new Map<string, Set<string>>();
      for (const f of spec.filters) topicFilters.set(f.parameter, new Set(f.value.split(',')));
      return { id, version, spec, topicFilters, interactions: new Set(topic.trigger.interactions) };
    }
    // A resource-triggered topic is its trigger's query plus the subscriber's filters.
    const query = new URLSearchParams(topic.trigger.currentCriteria ?? '');
    for (const f of spec.filters) query.append(f.parameter, f.value);
    const matcher = compileCriteria(this.defs, topic.trigger.resource, query.toString(), { baseUrl: this.baseUrl });
    return matcher instanceof Error ? undefined : { id, version, spec, matcher, interactions: new Set(topic.trigger.interactions) };
  }
}

/** A changed Subscription: its stored version and what it became (undefined: not served). */
export interface LiveChange { id: string; version: number; live?: LiveSubscription }

/**
 * Keeps a LiveSubscriptions in step with the stored Subscriptions: `update(q)` reads those written
 * since the last read (with an overlap, as a late commit may carry an earlier timestamp) and
 * returns each that changed, once.
 */
export class LiveRefresher {
  private readonly seen = new Map<string, number>();
  private since: string | undefined;
  constructor(readonly live: LiveSubscriptions) {}

  /** Reads what changed through `q` (the caller's transaction, so the caller sees what it reads). */
  async update(q: Queryable): Promise<LiveChange[]> {
    const started = new Date(Date.now() - 10_000).toISOString();
    const rows = await q.query<{ id: string; version: number; content: string | null }>(
      `SELECT id, version, content FROM resources WHERE res_type = 'Subscription' ${this.since ? 'AND last_updated > $1::timestamptz' : ''}`,
      this.since ? [this.since] : [],
    );
    this.since = started;
    const changed: LiveChange[] = [];
    for (const r of rows) {
      if (this.seen.get(r.id) === r.version) continue;
      this.seen.set(r.id, r.version);
      const accepted = this.live.accept(r.id, r.version, r.content);
      changed.push({ id: r.id, version: r.version, ...(accepted ? { live: accepted } : {}) });
    }
    return changed;
  }
}
