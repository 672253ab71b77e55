// parseSubscription: R4 criteria and Backport IG 1.1.0 topic subscriptions are normalised, and
// every rejection names the element at fault. Fixtures are hand-written; extension URLs and codes
// are typed out here from the IG pages rather than imported, so a typo in the module shows up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FhirError, badRequest } from '../../src/fhir/errors.js';
import { parseSubscription, type ParseOptions } from '../../src/subscriptions/subscription-spec.js';
import { builtInTopics, capabilityTopicExtensions, findTopic, topicAsBasic, topicCanonicals } from '../../src/subscriptions/topics.js';

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const VITALS = 'https://helix-fhir.org/fhir/SubscriptionTopic/vital-signs';
const NEWS2 = 'https://helix-fhir.org/fhir/SubscriptionTopic/news2-alert';
const SECRET = 'https://helix-fhir.org/fhir/StructureDefinition/subscription-secret';

const criteriaCalls: [string, string][] = [];
const options: ParseOptions = {
  isResourceType: (name) => ['Observation', 'Patient', 'Encounter'].includes(name),
  validateCriteria: (type, query) => {
    criteriaCalls.push([type, query]);
    if (query.includes('bogus=')) throw badRequest('Unknown search parameter bogus');
  },
};

type Json = Record<string, any>;
const clone = <T>(v: T): T => structuredClone(v);

const r4Criteria: Json = {
  resourceType: 'Subscription',
  id: 'hr-123',
  status: 'requested',
  reason: 'Heart rate of patient 123',
  criteria: 'Observation?code=http://loinc.org|8867-4&patient=Patient/123',
  channel: {
    type: 'rest-hook',
    endpoint: 'https://hooks.example.org/helix',
    payload: 'application/fhir+json',
    header: ['Authorization: Bearer abc:def', 'X-Trace:  42 '],
  },
};

const backport: Json = {
  resourceType: 'Subscription',
  meta: { profile: [`${IG}backport-subscription`] },
  status: 'requested',
  end: '2030-01-01T00:00:00Z',
  reason: 'Vital signs of patient 123',
  criteria: VITALS,
  _criteria: {
    extension: [
      { url: `${IG}backport-filter-criteria`, valueString: 'Observation?patient=Patient/123' },
      { url: `${IG}backport-filter-criteria`, valueString: 'Observation?code=http://loinc.org|8867-4,http://loinc.org|9279-1' },
    ],
  },
  channel: {
    type: 'rest-hook',
    endpoint: 'https://hooks.example.org/vitals',
    payload: 'application/fhir+json',
    _payload: { extension: [{ url: `${IG}backport-payload-content`, valueCode: 'id-only' }] },
    extension: [
      { url: `${IG}backport-heartbeat-period`, valueUnsignedInt: 86400 },
      { url: `${IG}backport-timeout`, valueUnsignedInt: 60 },
      { url: `${IG}backport-max-count`, valuePositiveInt: 20 },
      { url: SECRET, valueString: 'correct horse battery staple' },
    ],
  },
};

/** Asserts parseSubscription rejects `resource` with an issue of `code` at `expression`. */
function rejects(resource: unknown, code: string, expression: string, message: RegExp, opts: Partial<ParseOptions> = {}, status = 422): void {
  assert.throws(() => parseSubscription(resource, { ...options, ...opts }), (err: unknown) => {
    assert.ok(err instanceof FhirError, 'a FhirError');
    assert.equal(err.status, status);
    const issue = err.issues.find((i) => i.expression?.[0] === expression);
    assert.ok(issue, `an issue at ${expression}; got ${JSON.stringify(err.issues)}`);
    assert.equal(issue.code, code);
    assert.equal(issue.severity, 'error');
    assert.match(issue.diagnostics, message);
    return true;
  });
}

describe('parseSubscription: accepted subscriptions', () => {
  it('normalises an R4 criteria subscription and hands the query to validateCriteria', () => {
    criteriaCalls.length = 0;
    const spec = parseSubscription(r4Criteria, options);
    assert.deepEqual(spec, {
      kind: 'criteria',
      resourceType: 'Observation',
      query: 'code=http://loinc.org|8867-4&patient=Patient/123',
      id: 'hr-123',
      status: 'requested',
      channel: {
        type: 'rest-hook',
        endpoint: 'https://hooks.example.org/helix',
        headers: [
          { raw: 'Authorization: Bearer abc:def', name: 'Authorization', value: 'Bearer abc:def' },
          { raw: 'X-Trace:  42 ', name: 'X-Trace', value: '42' },
        ],
        payload: 'application/fhir+json',
        payloadGiven: true,
        content: 'full-resource', // R4: a payload MIME type means the resource is sent
      },
    });
    assert.deepEqual(criteriaCalls, [['Observation', 'code=http://loinc.org|8867-4&patient=Patient/123']]);
  });

  it('normalises a backport topic subscription with filters, payload content, heartbeat, timeout, max-count and secret', () => {
    assert.deepEqual(parseSubscription(backport, options), {
      kind: 'topic',
      topic: VITALS,
      filters: [
        { resourceType: 'Observation', parameter: 'patient', value: 'Patient/123' },
        { resourceType: 'Observation', parameter: 'code', value: 'http://loinc.org|8867-4,http://loinc.org|9279-1' },
      ],
      status: 'requested',
      end: '2030-01-01T00:00:00Z',
      channel: {
        type: 'rest-hook',
        endpoint: 'https://hooks.example.org/vitals',
        headers: [],
        payload: 'application/fhir+json',
        payloadGiven: true,
        content: 'id-only',
        heartbeatPeriod: 86400,
        timeout: 60,
        maxCount: 20,
        secret: 'correct horse battery staple',
      },
    });
  });

  it('applies the payload defaults: R4 without payload is empty, topic without payload-content is empty', () => {
    const r4 = clone(r4Criteria);
    delete r4.channel.payload;
    assert.equal(parseSubscription(r4, options).channel.content, 'empty');
    assert.equal(parseSubscription(r4, options).channel.payload, 'application/fhir+json');
    const topic = clone(backport);
    delete topic.channel._payload;
    assert.equal(parseSubscription(topic, options).channel.content, 'empty');
  });

  it('reads MIME parameters off the payload type and honours payload-content on criteria subscriptions', () => {
    const r4 = clone(r4Criteria);
    r4.channel.payload = 'application/fhir+xml; fhirVersion=4.0';
    r4.channel._payload = { extension: [{ url: `${IG}backport-payload-content`, valueCode: 'id-only' }] };
    const spec = parseSubscription(r4, options);
    assert.equal(spec.channel.payload, 'application/fhir+xml');
    assert.equal(spec.channel.content, 'id-only');
  });

  it('accepts a news2-alert topic with level filters, a filter without type prefix and a websocket channel', () => {
    const sub = {
      resourceType: 'Subscription', status: 'off', reason: 'NEWS2', criteria: `${NEWS2}|1.0.0`,
      _criteria: { extension: [{ url: `${IG}backport-filter-criteria`, valueString: 'level=medium,high&patient=Patient/p-1' }] },
      channel: { type: 'websocket' },
    };
    const spec = parseSubscription(sub, options);
    assert.equal(spec.kind, 'topic');
    assert.equal(spec.kind === 'topic' && spec.topic, NEWS2);
    assert.deepEqual(spec.kind === 'topic' && spec.filters, [
      { resourceType: 'Observation', parameter: 'level', value: 'medium,high' },
      { resourceType: 'Observation', parameter: 'patient', value: 'Patient/p-1' },
    ]);
    assert.equal(spec.status, 'off');
    assert.equal(spec.channel.type, 'websocket');
    assert.equal(spec.channel.endpoint, undefined);
  });

  it('lets an update echo the server-set status but not invent one', () => {
    const sub = { ...clone(r4Criteria), status: 'active' };
    assert.equal(parseSubscription(sub, { ...options, mode: 'update', currentStatus: 'active' }).status, 'active');
    rejects(sub, 'business-rule', 'Subscription.status', /requested or off/, { mode: 'update', currentStatus: 'error' });
  });
});

describe('parseSubscription: rejections', () => {
  it('rejects what is not a Subscription with 400', () => {
    assert.throws(() => parseSubscription({ resourceType: 'Patient' }, options), (e: unknown) => e instanceof FhirError && e.status === 400);
    assert.throws(() => parseSubscription('nope', options), (e: unknown) => e instanceof FhirError && e.status === 400);
  });

  it('rejects an unknown topic, or a known one at another version', () => {
    rejects({ ...clone(backport), criteria: 'https://example.org/SubscriptionTopic/admission' }, 'not-supported', 'Subscription.criteria', /Unsupported topic .*supported: https:\/\/helix-fhir.org/);
    rejects({ ...clone(backport), criteria: `${VITALS}|2.0.0` }, 'not-supported', 'Subscription.criteria', /Unsupported topic/);
  });

  it('rejects unknown filter parameters, modifiers, resource types and bad filter values', () => {
    const withFilter = (topic: string, valueString: unknown) => ({
      ...clone(backport), criteria: topic, _criteria: { extension: [{ url: `${IG}backport-filter-criteria`, valueString }] },
    });
    const at = 'Subscription.criteria.extension[0].valueString';
    rejects(withFilter(VITALS, 'Observation?status=final'), 'not-supported', at, /Unknown filter parameter "status".*allowed: patient, code/);
    rejects(withFilter(VITALS, 'Observation?patient:missing=true'), 'not-supported', at, /Unknown filter parameter "patient:missing"/);
    rejects(withFilter(VITALS, 'Encounter?patient=Patient/1'), 'not-supported', at, /cannot be filtered on Encounter/);
    rejects(withFilter(VITALS, 'Observation?patient=Group/1'), 'value', at, /not a reference to Patient/);
    rejects(withFilter(VITALS, 'Observation?patient=https://elsewhere.example.org/fhir/Patient/1'), 'value', at, /not a reference to Patient/);
    rejects(withFilter(VITALS, 'Observation?code='), 'value', at, /empty value/);
    rejects(withFilter(NEWS2, 'Observation?level=low'), 'value', at, /"low" is not one of low-medium, medium, high/);
    rejects(withFilter(VITALS, 42), 'required', at, /valueString/);
    rejects(withFilter(VITALS, 'Observation?'), 'required', at, /names no parameter/);
  });

  it('rejects filter criteria outside _criteria and on criteria subscriptions', () => {
    const misplaced = { ...clone(backport), extension: [{ url: `${IG}backport-filter-criteria`, valueString: 'Observation?patient=Patient/1' }] };
    rejects(misplaced, 'structure', 'Subscription.extension[0]', /belongs on Subscription.criteria/);
    const r4 = { ...clone(r4Criteria), _criteria: { extension: [{ url: `${IG}backport-filter-criteria`, valueString: 'Observation?patient=Patient/1' }] } };
    rejects(r4, 'invalid', 'Subscription.criteria.extension[0]', /topic-based subscriptions only/);
  });

  it('rejects bad criteria: unknown resource type, criteria the caller refuses, missing criteria, a backport profile without topic', () => {
    rejects({ ...clone(r4Criteria), criteria: 'Foo?x=1' }, 'value', 'Subscription.criteria', /"Foo" is not one/);
    rejects({ ...clone(r4Criteria), criteria: 'Observation?bogus=1' }, 'invalid', 'Subscription.criteria', /Unknown search parameter bogus/);
    rejects({ ...clone(r4Criteria), criteria: ' ' }, 'required', 'Subscription.criteria', /criteria is required/);
    rejects({ ...clone(backport), criteria: 'Observation?code=1' }, 'invalid', 'Subscription.criteria', /backport-subscription must name a topic/);
  });

  it('rejects unsupported channel types', () => {
    for (const type of ['email', 'sms', 'message']) {
      rejects({ ...clone(r4Criteria), channel: { type, endpoint: 'mailto:a@example.org' } }, 'not-supported', 'Subscription.channel.type', new RegExp(`"${type}" is not supported`));
    }
    const custom = clone(r4Criteria);
    custom.channel._type = { extension: [{ url: `${IG}backport-channel-type`, valueCoding: { system: 'http://example.org/x', code: 'zulip' } }] };
    rejects(custom, 'not-supported', 'Subscription.channel.type', /Custom channel types/);
    rejects({ ...clone(r4Criteria), channel: undefined }, 'required', 'Subscription.channel', /channel is required/);
  });

  it('rejects bad headers: no colon, CR/LF, invalid names, server-controlled names', () => {
    const withHeader = (h: unknown) => { const s = clone(r4Criteria); s.channel.header = ['X-Ok: 1', h]; return s; };
    const at = 'Subscription.channel.header[1]';
    rejects(withHeader('Authorization Bearer x'), 'value', at, /"Name: value"/);
    rejects(withHeader('X-A: 1\r\nX-Injected: 2'), 'security', at, /CR or LF/);
    rejects(withHeader('X-A: 1\nX-B: 2'), 'security', at, /CR or LF/);
    rejects(withHeader('Bad Name: x'), 'value', at, /not a valid HTTP field name/);
    rejects(withHeader(': x'), 'value', at, /not a valid HTTP field name/);
    rejects(withHeader('X-A: a\u0000b'), 'value', at, /control characters/);
    rejects(withHeader('Content-Length: 5'), 'business-rule', at, /set by the server/);
    rejects(withHeader(7), 'structure', at, /strings/);
  });

  it('rejects unknown payload-content codes, full-resource without MIME type and unknown MIME types', () => {
    const bad = clone(backport);
    bad.channel._payload.extension[0].valueCode = 'everything';
    rejects(bad, 'code-invalid', 'Subscription.channel.payload.extension[0].valueCode', /empty, id-only, full-resource/);
    const full = clone(backport);
    full.channel._payload.extension[0].valueCode = 'full-resource';
    delete full.channel.payload;
    rejects(full, 'required', 'Subscription.channel.payload', /full-resource notifications need channel.payload/);
    rejects({ ...clone(r4Criteria), channel: { ...clone(r4Criteria).channel, payload: 'text/plain' } }, 'not-supported', 'Subscription.channel.payload', /application\/fhir\+json/);
  });

  it('rejects heartbeat, timeout and max-count values out of range or of the wrong type', () => {
    const withExt = (i: number, ext: Json) => { const s = clone(backport); s.channel.extension[i] = ext; return s; };
    const heartbeat = (v: unknown) => withExt(0, { url: `${IG}backport-heartbeat-period`, valueUnsignedInt: v });
    for (const v of [0, -5, 1.5, '60', 10_000_000, undefined]) {
      rejects(heartbeat(v), 'value', 'Subscription.channel.extension[0].valueUnsignedInt', /heartbeat period .* from 1 to 86400/);
    }
    rejects(withExt(1, { url: `${IG}backport-timeout`, valueUnsignedInt: 0 }), 'value', 'Subscription.channel.extension[1].valueUnsignedInt', /timeout/);
    rejects(withExt(2, { url: `${IG}backport-max-count`, valuePositiveInt: 0 }), 'value', 'Subscription.channel.extension[2].valuePositiveInt', /max-count/);
    rejects(withExt(2, { url: `${IG}backport-max-count`, valueUnsignedInt: 5 }), 'value', 'Subscription.channel.extension[2].valuePositiveInt', /max-count/);
    const twice = clone(backport);
    twice.channel.extension.push({ url: `${IG}backport-heartbeat-period`, valueUnsignedInt: 60 });
    rejects(twice, 'structure', 'Subscription.channel.extension[4]', /once/);
  });

  it('rejects rest-hook endpoints that are missing or not http(s), and http when https is required', () => {
    const withEndpoint = (endpoint: unknown) => { const s = clone(r4Criteria); s.channel.endpoint = endpoint; return s; };
    const at = 'Subscription.channel.endpoint';
    rejects(withEndpoint('ftp://files.example.org/x'), 'value', at, /http or https URL/);
    rejects(withEndpoint('mailto:ops@example.org'), 'value', at, /http or https URL/);
    rejects(withEndpoint('not a url'), 'value', at, /http or https URL/);
    rejects(withEndpoint(undefined), 'required', at, /needs an endpoint/);
    rejects(withEndpoint('http://hooks.example.org/x'), 'security', at, /https/, { requireHttps: true });
  });

  it('rejects a status the client may not set, a malformed end and a bad secret', () => {
    rejects({ ...clone(r4Criteria), status: 'active' }, 'business-rule', 'Subscription.status', /active is set by the server/);
    rejects({ ...clone(r4Criteria), status: 'entered-in-error' }, 'code-invalid', 'Subscription.status', /requested, active, error, off/);
    rejects({ ...clone(r4Criteria), end: '2030-01-01' }, 'value', 'Subscription.end', /instant/);
    const short = clone(backport);
    short.channel.extension[3].valueString = 'short';
    rejects(short, 'value', 'Subscription.channel.extension[3].valueString', /16 to 256/);
    const ws = { ...clone(backport), channel: { type: 'websocket', extension: [{ url: SECRET, valueString: 'correct horse battery staple' }] } };
    rejects(ws, 'not-supported', 'Subscription.channel.extension[0]', /rest-hook notifications only/);
  });

  it('reports every problem at once', () => {
    const bad = clone(backport);
    bad.criteria = `${VITALS}`;
    bad._criteria.extension[0].valueString = 'Observation?status=final';
    bad.channel.header = ['nocolon'];
    bad.channel.endpoint = 'ftp://x';
    assert.throws(() => parseSubscription(bad, options), (err: unknown) => {
      assert.ok(err instanceof FhirError);
      assert.deepEqual(err.issues.map((i) => i.expression?.[0]), [
        'Subscription.criteria.extension[0].valueString', 'Subscription.channel.endpoint', 'Subscription.channel.header[0]',
      ]);
      return true;
    });
  });
});

describe('built-in topics', () => {
  it('lists both canonicals for the CapabilityStatement (IG 1.1.0 capabilitystatement-subscriptiontopic-canonical)', () => {
    assert.deepEqual(topicCanonicals, [VITALS, NEWS2]);
    assert.deepEqual(capabilityTopicExtensions(), [
      { url: `${IG}capabilitystatement-subscriptiontopic-canonical`, valueCanonical: VITALS },
      { url: `${IG}capabilitystatement-subscriptiontopic-canonical`, valueCanonical: NEWS2 },
    ]);
    assert.equal(findTopic(`${NEWS2}|1.0.0`)?.url, NEWS2);
    assert.equal(findTopic(`${NEWS2}|9`), undefined);
  });

  it('declares filters and notification shapes: focus Observation, Patient included', () => {
    for (const t of builtInTopics) {
      assert.deepEqual(t.notificationShape, { resource: 'Observation', include: ['Observation:patient'] });
      assert.deepEqual(t.trigger.interactions, ['create', 'update']);
    }
    assert.deepEqual(builtInTopics.map((t) => t.canFilterBy.map((f) => `${f.parameter}:${f.type}`)), [
      ['patient:reference', 'code:token'], ['patient:reference', 'level:token'],
    ]);
  });

  it('renders a topic as an R4 Basic with cross-version SubscriptionTopic extensions', () => {
    const basic = topicAsBasic(builtInTopics[0]!);
    const R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.';
    const R4B = 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic.';
    assert.equal(basic.resourceType, 'Basic');
    assert.equal(basic.id, 'vital-signs');
    assert.deepEqual(basic.code, { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] });
    assert.deepEqual(basic.modifierExtension, [{ url: `${R5}status`, valueCode: 'active' }]);
    assert.deepEqual(basic.extension?.map((e) => e.url), [
      `${R5}url`, `${R5}version`, `${R5}name`, `${R5}title`, `${R5}description`,
      `${R4B}resourceTrigger`, `${R4B}canFilterBy`, `${R4B}canFilterBy`, `${R4B}notificationShape`,
    ]);
    assert.deepEqual(basic.extension?.[0], { url: `${R5}url`, valueUri: VITALS });
    const trigger = basic.extension?.[5]?.extension ?? [];
    assert.deepEqual(trigger.filter((e) => e.url === 'supportedInteraction').map((e) => e.valueCode), ['create', 'update']);
    assert.deepEqual(trigger.find((e) => e.url === 'queryCriteria')?.extension, [
      { url: 'current', valueString: 'category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs' },
    ]);
    assert.deepEqual(basic.extension?.[6]?.extension?.slice(1), [
      { url: 'resource', valueUri: 'Observation' },
      { url: 'filterParameter', valueString: 'patient' },
      { url: 'filterDefinition', valueUri: 'http://hl7.org/fhir/SearchParameter/clinical-patient' },
    ]);
    assert.deepEqual(basic.extension?.[8]?.extension, [
      { url: 'resource', valueUri: 'Observation' }, { url: 'include', valueString: 'Observation:patient' },
    ]);
  });
});
