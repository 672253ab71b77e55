// capabilities — http.html#capabilities: GET [base]/metadata returns a CapabilityStatement built
// from what this server really implements (the routed interactions, the indexed search
// parameters, the registered operations), so it cannot drift from the code.
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { operations } from '../operations/registry.js';
import { compositeValueType } from '../search/composite.js';
import { SUPPORTED_MODIFIERS, UNINDEXED } from '../search/parse.js';
import { AUDIT_EVENT, auditEventCapability } from '../smart/audit-search.js';
import { capabilitySecurity } from '../smart/discovery.js';
import { BACKPORT_SERVER_CAPABILITY, subscriptionResourceCapability, websocketCapability } from '../subscriptions/capability.js';
import { websocketUrl } from '../subscriptions/ws-tokens.js';
import type { FhirContext, FhirRequest, FhirResponse } from './types.js';

const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

/** Builds the CapabilityStatement. */
export function capabilities(ctx: FhirContext, _req: FhirRequest): FhirResponse {
  const resource: CapabilityStatementRestResource[] = [...ctx.defs.resourceTypes].sort().map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'modified-since',
    conditionalUpdate: true,
    conditionalDelete: 'multiple',
    referencePolicy: ['literal', 'local'],
    searchParam: ctx.defs
      .searchParameters(type)
      .filter((p) => !UNINDEXED.has(p.code as string) && p.type !== 'special' && p.code !== '_query' && !ctx.defs.isPending(p)
        && (p.type !== 'composite' || compositeValueType(ctx.defs.searchParameters(type), p) !== undefined))
      .map((p) => ({
        name: p.code as string,
        definition: p.url,
        type: p.type,
        documentation: `Modifiers: ${[...(SUPPORTED_MODIFIERS[p.type as string] ?? [])].map((m) => ':' + m).join(' ') || 'none'}`,
      })),
    operation: operations
      .filter((o) => (o.type || o.instance) && (!o.resourceTypes || o.resourceTypes.includes(type)))
      .map((o) => ({ name: o.name, definition: o.definition })),
    // Served from the audit log: read-only, with the parameters the log can answer.
    ...(type === AUDIT_EVENT ? auditEventCapability(ctx) : {}),
    ...(type === 'Subscription' ? subscriptionResourceCapability() : {}),
  }));
  const statement: CapabilityStatement = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Helix',
    kind: 'instance',
    software: { name: 'Helix', version: '0.1.0' },
    implementation: { description: 'Helix FHIR R4 server', url: ctx.config.baseUrl },
    instantiates: [BACKPORT_SERVER_CAPABILITY],
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        // Advertised whenever the authorization server runs, so clients can discover it even in dev mode.
        security: capabilitySecurity(ctx.config.authIssuer),
        extension: [websocketCapability(websocketUrl(ctx.config.baseUrl))],
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        operation: operations.filter((o) => o.system).map((o) => ({ name: o.name, definition: o.definition })),
      },
    ],
  };
  return { status: 200, headers: {}, resource: statement };
}
