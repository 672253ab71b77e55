// FHIR R4 AuditEvent resources from audit_log rows (AuditEvent; the IHE Basic Audit Log Patterns,
// BALP, for RESTful reads, queries and writes; DICOM User Authentication for logins). The layout:
//   type     audit-event-type `rest`, subtype restful-interaction `read`, `search-type`, …; for logins
//            DICOM 110114 User Authentication / 110122 Login; token failures 110114 / Helix `token`.
//   agent    the user (when there is one): extra-security-role-type `humanuser`, who = fhirUser
//            reference plus the account id as identifier, altId = username, role = Helix user role,
//            policy = the token id (as BALP does), requestor.
//            The client software: DICOM 110153 Source Role ID, who.identifier and altId = OAuth
//            client id, name = the HTTP User-Agent (the name the software gives itself; searchable
//            with `agent-name`), network = source IP, requestor when no user is behind it.
//   source   observer "Helix", security-source-type 4 Application Server.
//   entity   the resource (`what` Type/id, audit-entity-type 2, object-role 4 Domain Resource); each
//            patient (`what` Patient/id, audit-entity-type 1 Person, object-role 1 Patient); the search
//            or operation request (object-role 24 Query, base64 `query`); the X-Request-Id (BALP XrequestId).
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { LoggedAuditRow } from '../storage/audit-store.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
/** The system of every subtype but the authentication ones. */
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const HELIX = 'https://helix-fhir.dev';

/** Identifier systems and code systems of Helix's own values in AuditEvents. */
export const AUDIT_SYSTEMS = {
  /** OAuth client ids. */
  client: `${HELIX}/sid/oauth-client`,
  /** User account ids (auth_users.id). */
  user: `${HELIX}/sid/user`,
  /** User roles: admin, practitioner, patient, researcher. */
  role: `${HELIX}/CodeSystem/user-role`,
  /** Subtypes without a standard code (access-token events). */
  subtype: `${HELIX}/CodeSystem/audit-event-subtype`,
} as const;

const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SYSTEM_OBJECT: Coding = { system: ENTITY_TYPE, code: '2', display: 'System Object' };

/** The id of the AuditEvent rendered from audit_log row `logId`. */
export const auditEventId = (logId: string): string => `audit-${logId}`;

/** The audit_log row id an AuditEvent id names (`audit-<n>`, as auditEventId writes it), or undefined. */
export function auditLogId(id: string): string | undefined {
  return /^audit-[1-9][0-9]{0,17}$/.test(id) ? id.slice(6) : undefined;
}

/** Subtypes of authentication events, which render with codes of their own rather than as RESTful operations. */
export const AUTHENTICATION_SUBTYPES: readonly string[] = ['login', 'token'];

/** The AuditEvent (version 1, stamped `lastUpdated`) for one audit_log row. */
export function auditEventOf(row: LoggedAuditRow, lastUpdated: string): AuditEvent {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: auditEventId(row.id),
    meta: { versionId: '1', lastUpdated },
    type: typeOf(row.subtype),
    subtype: [subtypeOf(row.subtype)],
    action: row.action,
    recorded: row.recorded.toISOString(),
    outcome: row.outcome,
    agent: agentsOf(row),
    source: {
      observer: { display: 'Helix' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  if (row.outcome !== '0') event.outcomeDesc = [row.status ? `HTTP ${row.status}` : undefined, row.detail].filter(Boolean).join(': ') || 'failed';
  const entities = entitiesOf(row);
  if (entities.length) event.entity = entities;
  return event;
}

/** AuditEvent.type for a stored subtype. */
export function typeOf(subtype: string): Coding {
  return AUTHENTICATION_SUBTYPES.includes(subtype)
    ? { system: DCM, code: '110114', display: 'User Authentication' }
    : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' };
}

/** AuditEvent.subtype for a stored subtype. */
export function subtypeOf(subtype: string): Coding {
  if (subtype === 'login') return { system: DCM, code: '110122', display: 'Login' };
  if (subtype === 'token') return { system: AUDIT_SYSTEMS.subtype, code: 'token', display: 'Access token' };
  return { system: RESTFUL_INTERACTION, code: subtype };
}

function agentsOf(row: LoggedAuditRow): AuditEventAgent[] {
  const agents: AuditEventAgent[] = [];
  const human = Boolean(row.userId || row.fhirUser || row.userName);
  if (human) {
    const user: AuditEventAgent = {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' }] },
      requestor: true,
    };
    if (row.fhirUser || row.userId) {
      user.who = {
        ...(row.fhirUser ? { reference: row.fhirUser } : {}),
        ...(row.userId ? { identifier: { system: AUDIT_SYSTEMS.user, value: row.userId } } : {}),
      };
    }
    if (row.userName) user.altId = row.userName;
    if (row.role) user.role = [{ coding: [{ system: AUDIT_SYSTEMS.role, code: row.role }] }];
    // policy is a uri: a token id with whitespace (never issued by Helix) would not be one.
    if (row.tokenId && !/\s/.test(row.tokenId)) user.policy = [row.tokenId];
    agents.push(user);
  }
  const client: AuditEventAgent = {
    type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
    who: row.clientId ? { identifier: { system: AUDIT_SYSTEMS.client, value: row.clientId } } : { display: 'unauthenticated client' },
    requestor: !human,
  };
  if (row.clientId) client.altId = row.clientId;
  if (row.userAgent) client.name = row.userAgent;
  if (row.ip) client.network = { address: row.ip, type: '2' };
  agents.push(client);
  return agents;
}

function entitiesOf(row: LoggedAuditRow): AuditEventEntity[] {
  const entities: AuditEventEntity[] = [];
  const patients = new Set(row.patients);
  // A Patient is listed once, in its role as the patient.
  if (row.resourceType && row.resourceId && !(row.resourceType === 'Patient' && patients.has(row.resourceId))) {
    entities.push({
      what: { reference: `${row.resourceType}/${row.resourceId}` },
      type: SYSTEM_OBJECT,
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
    });
  }
  for (const id of patients) {
    entities.push({
      what: { reference: `Patient/${id}` },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  if (row.query) {
    entities.push({ type: SYSTEM_OBJECT, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, query: Buffer.from(row.query, 'utf8').toString('base64') });
  }
  if (row.requestId) {
    entities.push({
      what: { identifier: { value: row.requestId } },
      type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId' },
    });
  }
  return entities;
}
