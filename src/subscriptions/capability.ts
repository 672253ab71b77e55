// What the CapabilityStatement says about subscriptions (Backport IG 1.1.0 conformance.html and
// its CapabilityStatement backport-subscription-server-r4): the backport profile on Subscription,
// one topic-canonical extension per built-in topic, and the channels and payloads served.
import type { CapabilityStatementRestResource, Extension } from '@medplum/fhirtypes';
import { BACKPORT_SUBSCRIPTION_PROFILE } from './subscription-spec.js';
import { capabilityTopicExtensions } from './topics.js';

/** The Backport IG's CapabilityStatement for servers, which Helix's instantiates. */
export const BACKPORT_SERVER_CAPABILITY = 'http://hl7.org/fhir/uv/subscriptions-backport/CapabilityStatement/backport-subscription-server-r4';
/** R4 core extension on CapabilityStatement.rest naming the websocket endpoint. */
export const WEBSOCKET_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket';

/** The additions to the Subscription entry of CapabilityStatement.rest.resource. */
export function subscriptionResourceCapability(): Partial<CapabilityStatementRestResource> {
  return {
    supportedProfile: [BACKPORT_SUBSCRIPTION_PROFILE],
    extension: capabilityTopicExtensions() as Extension[],
    documentation: 'Channels: rest-hook and websocket. Payloads: application/fhir+json or application/fhir+xml, with content '
      + 'empty, id-only or full-resource (backport-payload-content). Criteria: an R4 search on any resource type, or a '
      + 'topic listed in the subscriptiontopic-canonical extensions with its filters. Operations: $status, $events, '
      + '$get-ws-binding-token.',
  };
}

/** The websocket extension on CapabilityStatement.rest, for a server that serves websocket subscriptions at `url`. */
export function websocketCapability(url: string): Extension {
  return { url: WEBSOCKET_EXTENSION, valueUri: url };
}
