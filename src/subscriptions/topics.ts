// Helix's built-in subscription topics, as data. FHIR R4 has no SubscriptionTopic resource, so a
// topic is only ever referenced by its canonical URL (Subscriptions R5 Backport IG 1.1.0,
// components.html); the server alone knows what each URL means. This module is that knowledge:
// what triggers each topic, which filters a Subscription may set (and checking them), and what a
// notification carries.
//
// Two R4 renderings are offered for discovery:
// - `capabilityTopicExtensions`: the IG 1.1.0 `capabilitystatement-subscriptiontopic-canonical`
//   extension on CapabilityStatement.rest.resource (Subscription), one per topic;
// - `topicAsBasic`: a Basic resource carrying the topic through cross-version extensions, the
//   pattern of the IG's R4 topic example (Basic/r4-encounter-complete, added in 1.2.0-ballot;
//   1.1.0 defines no R4 topic resource). Extension URLs copied from that example.
import type { Basic, Extension } from '@medplum/fhirtypes';

/** One filter a Subscription on the topic may set (R5 SubscriptionTopic.canFilterBy). */
export interface TopicFilterDefinition {
  /** resource type the filter applies to */
  resource: string;
  /** search-parameter-style name used in backport-filter-criteria (`patient=Patient/1`) */
  parameter: string;
  type: 'reference' | 'token';
  description: string;
  /** canonical of the SearchParameter giving the filter its meaning, when there is one */
  definition?: string;
  /** reference filters: the resource types a value may point to */
  targetTypes?: readonly string[];
  /** token filters with a closed set of plain codes */
  codes?: readonly string[];
}

/** A topic Helix can raise events for. */
export interface SubscriptionTopicDefinition {
  url: string;
  version: string;
  name: string;
  title: string;
  description: string;
  status: 'draft' | 'active';
  trigger: {
    resource: string;
    interactions: readonly ('create' | 'update' | 'delete')[];
    description: string;
    /** R5 queryCriteria.current: a search query the new version must match */
    currentCriteria?: string;
    fhirPathCriteria?: string;
  };
  canFilterBy: readonly TopicFilterDefinition[];
  /** what a notification carries: the focus resource type and the _include-style extras */
  notificationShape: { resource: string; include: readonly string[] };
}

/** NEWS2 clinical-risk bands a news2-alert Subscription may filter on (alerts start above "low"). */
export const NEWS2_ALERT_LEVELS = ['low-medium', 'medium', 'high'] as const;

const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

const patientFilter: TopicFilterDefinition = {
  resource: 'Observation',
  parameter: 'patient',
  type: 'reference',
  description: 'Only events about this patient (`Patient/[id]`).',
  definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient',
  targetTypes: ['Patient'],
};

/** The topics this server supports; a Subscription naming any other topic is rejected. */
export const builtInTopics: readonly SubscriptionTopicDefinition[] = [
  {
    url: 'https://helix-fhir.org/fhir/SubscriptionTopic/vital-signs',
    version: '1.0.0',
    name: 'VitalSigns',
    title: 'Vital signs recorded',
    description: 'An Observation in the vital-signs category is created or updated.',
    status: 'active',
    trigger: {
      resource: 'Observation',
      interactions: ['create', 'update'],
      description: 'An Observation with category vital-signs is created or updated.',
      currentCriteria: `category=${OBSERVATION_CATEGORY}|vital-signs`,
      fhirPathCriteria: `%current.category.coding.where(system = '${OBSERVATION_CATEGORY}' and code = 'vital-signs').exists()`,
    },
    canFilterBy: [
      patientFilter,
      {
        resource: 'Observation',
        parameter: 'code',
        type: 'token',
        description: 'Only observations with this code (`[system]|[code]`, comma-separated for any of several).',
        definition: 'http://hl7.org/fhir/SearchParameter/clinical-code',
      },
    ],
    notificationShape: { resource: 'Observation', include: ['Observation:patient'] },
  },
  {
    url: 'https://helix-fhir.org/fhir/SubscriptionTopic/news2-alert',
    version: '1.0.0',
    name: 'News2Alert',
    title: 'NEWS2 alert',
    description: 'Helix computed a NEWS2 score whose clinical-risk band is low-medium or higher.',
    status: 'active',
    trigger: {
      resource: 'Observation',
      interactions: ['create', 'update'],
      description: 'The NEWS2 score Observation Helix writes is created or updated with a band of low-medium or higher.',
    },
    canFilterBy: [
      patientFilter,
      {
        resource: 'Observation',
        parameter: 'level',
        type: 'token',
        description: 'Only alerts in these clinical-risk bands (comma-separated: low-medium, medium, high).',
        codes: NEWS2_ALERT_LEVELS,
      },
    ],
    notificationShape: { resource: 'Observation', include: ['Observation:patient'] },
  },
];

/** Canonical URLs of the built-in topics, for CapabilityStatement and $topic-list style listings. */
export const topicCanonicals: readonly string[] = builtInTopics.map((t) => t.url);

/** Finds a topic by canonical (`url` or `url|version`); undefined when unsupported or the version differs. */
export function findTopic(
  canonical: string, topics: readonly SubscriptionTopicDefinition[] = builtInTopics,
): SubscriptionTopicDefinition | undefined {
  const bar = canonical.indexOf('|');
  const url = bar < 0 ? canonical : canonical.slice(0, bar);
  const version = bar < 0 ? undefined : canonical.slice(bar + 1);
  return topics.find((t) => t.url === url && (version === undefined || version === t.version));
}

/** One parsed filter, e.g. `{ resourceType: 'Observation', parameter: 'patient', value: 'Patient/1' }`. */
export interface TopicFilter { resourceType: string; parameter: string; value: string }

/** Why a filter was refused, as an OperationOutcome issue code and message. */
export interface FilterProblem { code: 'not-supported' | 'value' | 'required'; message: string }

/**
 * Parses one backport-filter-criteria value (`Observation?patient=Patient/1&code=…`; without the
 * `Type?` prefix the topic's own resource type is meant) against the topic's can-filter-by.
 * Unknown parameters and modifiers are refused: ignoring one would widen the subscription.
 */
export function parseTopicFilter(topic: SubscriptionTopicDefinition, text: string): { filters: TopicFilter[]; problems: FilterProblem[] } {
  const filters: TopicFilter[] = [];
  const problems: FilterProblem[] = [];
  const q = text.indexOf('?');
  const resourceType = q < 0 ? topic.trigger.resource : text.slice(0, q);
  const allowed = topic.canFilterBy.filter((f) => f.resource === resourceType);
  if (!allowed.length) {
    problems.push({ code: 'not-supported', message: `Topic ${topic.url} cannot be filtered on ${resourceType.slice(0, 64)}` });
    return { filters, problems };
  }
  const params = [...new URLSearchParams(q < 0 ? text : text.slice(q + 1))];
  if (!params.length) problems.push({ code: 'required', message: 'The filter names no parameter' });
  for (const [name, value] of params) {
    const def = allowed.find((f) => f.parameter === name);
    if (!def) {
      const known = allowed.map((f) => f.parameter).join(', ');
      problems.push({ code: 'not-supported', message: `Unknown filter parameter ${JSON.stringify(name.slice(0, 64))} for topic ${topic.url}; allowed: ${known} (no modifiers)` });
      continue;
    }
    const problem = filterValueProblem(def, value);
    if (problem) problems.push({ code: 'value', message: `Filter ${name}: ${problem}` });
    else filters.push({ resourceType, parameter: name, value });
  }
  return { filters, problems };
}

/** Why a filter value is unacceptable, or undefined; commas separate alternatives (OR). */
function filterValueProblem(def: TopicFilterDefinition, value: string): string | undefined {
  const alternatives = value.split(',');
  if (alternatives.some((a) => a.trim() === '')) return 'empty value';
  for (const a of alternatives) {
    if (def.type === 'reference') {
      // Relative only: the filter reads as a search on this server (`patient=Patient/1`).
      const m = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9.-]{1,64}$/.exec(a);
      if (!m || !(def.targetTypes ?? []).includes(m[1] as string)) return `${JSON.stringify(a.slice(0, 80))} is not a reference to ${(def.targetTypes ?? []).join(' or ')}`;
    } else if (def.codes) {
      if (!def.codes.includes(a)) return `${JSON.stringify(a.slice(0, 80))} is not one of ${def.codes.join(', ')}`;
    } else if (a === '|' || /[\t\n\r\f\v]/.test(a)) {
      return `${JSON.stringify(a.slice(0, 80))} is not a token ([system]|[code])`;
    }
  }
  return undefined;
}


/** IG 1.1.0 extension listing a supported topic on CapabilityStatement.rest.resource (Subscription). */
export const CAPABILITY_TOPIC_EXTENSION =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';

/** The CapabilityStatement extensions advertising every topic (for the Subscription resource entry). */
export function capabilityTopicExtensions(topics: readonly SubscriptionTopicDefinition[] = builtInTopics): Extension[] {
  return topics.map((t) => ({ url: CAPABILITY_TOPIC_EXTENSION, valueCanonical: t.url }));
}

// Cross-version extension bases, as used by the IG's R4 topic example: elements that exist in R4B
// SubscriptionTopic use the 4.3 namespace, the rest 5.0.
const R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.';
const R4B = 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic.';

const sub = (url: string, value: Omit<Extension, 'url'>): Extension => ({ url, ...value });

function triggerExtension(t: SubscriptionTopicDefinition): Extension {
  const parts: Extension[] = [
    sub('description', { valueMarkdown: t.trigger.description }),
    sub('resource', { valueUri: `http://hl7.org/fhir/StructureDefinition/${t.trigger.resource}` }),
    ...t.trigger.interactions.map((i) => sub('supportedInteraction', { valueCode: i })),
  ];
  if (t.trigger.currentCriteria) {
    parts.push({ url: 'queryCriteria', extension: [sub('current', { valueString: t.trigger.currentCriteria })] });
  }
  if (t.trigger.fhirPathCriteria) parts.push(sub('fhirPathCriteria', { valueString: t.trigger.fhirPathCriteria }));
  return { url: `${R4B}resourceTrigger`, extension: parts };
}

function filterExtension(f: TopicFilterDefinition): Extension {
  const parts: Extension[] = [
    sub('description', { valueMarkdown: f.description }),
    sub('resource', { valueUri: f.resource }),
    sub('filterParameter', { valueString: f.parameter }),
  ];
  if (f.definition) parts.push(sub('filterDefinition', { valueUri: f.definition }));
  return { url: `${R4B}canFilterBy`, extension: parts };
}

/** Renders a topic as an R4 Basic resource with the IG's cross-version SubscriptionTopic extensions. */
export function topicAsBasic(t: SubscriptionTopicDefinition): Basic {
  const id = t.url.slice(t.url.lastIndexOf('/') + 1);
  return {
    resourceType: 'Basic',
    id,
    extension: [
      sub(`${R5}url`, { valueUri: t.url }),
      sub(`${R5}version`, { valueString: t.version }),
      sub(`${R5}name`, { valueString: t.name }),
      sub(`${R5}title`, { valueString: t.title }),
      sub(`${R5}description`, { valueMarkdown: t.description }),
      triggerExtension(t),
      ...t.canFilterBy.map(filterExtension),
      {
        url: `${R4B}notificationShape`,
        extension: [
          sub('resource', { valueUri: t.notificationShape.resource }),
          ...t.notificationShape.include.map((i) => sub('include', { valueString: i })),
        ],
      },
    ],
    // status is a modifier in R5 SubscriptionTopic, so it travels as a modifierExtension.
    modifierExtension: [sub(`${R5}status`, { valueCode: t.status })],
    code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
  };
}
