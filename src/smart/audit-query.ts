// AuditEvent search parameters (R4 auditevent.html#search, search.html) as predicates over
// audit_log rows. An AuditEvent is rendered from its row (audit-event.ts), so each parameter is
// answered from the columns its rendered element comes from, and matches exactly the AuditEvents
// the parameter's expression would select in the rendered resources:
//   _id            audit-<n> → id                     date, _lastUpdated   recorded (lastUpdated is recorded)
//   patient        entity Patient/x or agent Patient/x → patients, fhir_user
//   entity         entity.what: the resource, each patient → res_type/res_id, patients
//   agent          agent.who: fhirUser reference → fhir_user (a bare id also user_id); :identifier → user_id, client_id
//   altid          agent.altId: client id, username → client_id, user_name
//   agent-name     agent.name (the User-Agent)  → user_agent     address   agent.network.address → source_ip
//   action, outcome, subtype, type   the codes as rendered → action, outcome, subtype
// Anything else (other parameters, chains, _has, other modifiers) cannot be answered from the log,
// and the caller reports it like any unknown parameter.
import type { Filter } from '../search/parse.js';
import { rangeCompare, type Binder } from '../search/sql.js';
import { AUDIT_SYSTEMS, AUTHENTICATION_SUBTYPES, RESTFUL_INTERACTION, auditLogId, subtypeOf, typeOf } from './audit-event.js';

/** The values (ORed) and modifier of one parameter occurrence. */
export interface AuditFilter {
  values: string[];
  modifier?: string;
}

/** What the predicates need to know about the server. */
export interface AuditSearchEnv {
  baseUrl: string;
  resourceTypes: ReadonlySet<string>;
  /** The types an `agent` reference may name (the R4 SearchParameter's targets). */
  agentTypes: readonly string[];
}

/** One supported parameter: the modifiers it takes, and its predicate over `audit_log a`. */
interface AuditParam {
  /** Modifiers besides none; `type` for the resource-type modifiers of a reference. */
  modifiers: readonly string[];
  sql(f: AuditFilter, b: Binder, env: AuditSearchEnv): string;
  /** Names a patient or a resource, so its matches are few (AuditCondition.selective). */
  selective?: true;
}

const TYPE_MODIFIER = 'type';

const dates = (f: AuditFilter, b: Binder): string => any(f.values.map((v) => rangeCompare(v, 'a.recorded', 'a.recorded', b, 'date')));

/** The supported parameters, by code. */
export const AUDIT_PARAMS: Readonly<Record<string, AuditParam>> = {
  _id: {
    modifiers: [],
    selective: true,
    sql: (f, b) => {
      const ids = f.values.map(auditLogId).filter((id): id is string => id !== undefined);
      return ids.length ? `a.id = ANY(${b.bind(ids)}::bigint[])` : 'false';
    },
  },
  date: { modifiers: [], sql: dates },
  _lastUpdated: { modifiers: [], sql: dates },
  patient: { modifiers: [TYPE_MODIFIER], sql: patientSql, selective: true },
  entity: { modifiers: [TYPE_MODIFIER], sql: entitySql, selective: true },
  agent: { modifiers: [TYPE_MODIFIER, 'identifier'], sql: agentSql },
  altid: {
    modifiers: [],
    // A token on a string: a code alone (or `|code`), never a system.
    sql: (f, b) => {
      const codes = f.values.map(token).filter((t) => !t.system && t.code !== undefined).map((t) => t.code as string);
      if (!codes.length) return 'false';
      const list = b.bind(codes);
      return `(a.client_id = ANY(${list}::text[]) OR a.user_name = ANY(${list}::text[]))`;
    },
  },
  'agent-name': { modifiers: ['exact', 'contains'], sql: (f, b) => stringSql(f, b, 'a.user_agent') },
  address: { modifiers: ['exact', 'contains'], sql: (f, b) => stringSql(f, b, 'a.source_ip') },
  action: { modifiers: ['not'], sql: (f, b) => negatable(f, codedSql(f, b, 'http://hl7.org/fhir/audit-event-action', 'a.action')) },
  outcome: { modifiers: ['not'], sql: (f, b) => negatable(f, codedSql(f, b, 'http://hl7.org/fhir/audit-event-outcome', 'a.outcome')) },
  subtype: { modifiers: ['not'], sql: (f, b) => negatable(f, subtypeSql(f, b)) },
  type: { modifiers: ['not'], sql: (f, b) => negatable(f, typeSql(f, b)) },
};

/** The predicate of a parsed filter (and whether it is selective), or why the log cannot answer it. */
export function auditFilterSql(f: Filter, b: Binder, env: AuditSearchEnv): { sql: string; selective: boolean } | { reason: string } {
  const param = Object.hasOwn(AUDIT_PARAMS, f.code) ? AUDIT_PARAMS[f.code] : undefined;
  if (!param) return { reason: `search parameter ${f.code} is not supported for AuditEvent (AuditEvents are served from the audit log; see the CapabilityStatement)` };
  if (f.chain || f.has) return { reason: 'chained parameters and _has are not supported for AuditEvent' };
  if (f.modifier !== undefined) {
    const kind = env.resourceTypes.has(f.modifier) ? TYPE_MODIFIER : f.modifier;
    if (!param.modifiers.includes(kind)) return { reason: `modifier :${f.modifier} is not supported on AuditEvent parameter ${f.code}` };
  }
  return { sql: param.sql(f, b, env), selective: param.selective === true };
}

/** `(a OR b …)`, or `false` for no alternatives. */
function any(parts: string[]): string {
  if (!parts.length) return 'false';
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

function negatable(f: AuditFilter, sql: string): string {
  // The coded columns hold exactly one code each, so "none of these" is the plain negation.
  return f.modifier === 'not' ? `NOT (${sql})` : sql;
}

// ---------------------------------------------------------------------------------------------
// References: Type/id, [base]/Type/id, id (typed by a :Type modifier or not at all), or a URL.

type Ref = { type?: string; id: string } | { url: string };

function refOf(value: string, modifier: string | undefined, baseUrl: string): Ref {
  let ref = value.startsWith(`${baseUrl}/`) ? value.slice(baseUrl.length + 1) : value;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return { url: value };
  ref = ref.replace(/\/_history\/.*$/, '');
  const slash = ref.indexOf('/');
  if (slash > 0) return { type: ref.slice(0, slash), id: ref.slice(slash + 1) };
  return modifier && modifier !== 'identifier' ? { type: modifier, id: ref } : { id: ref };
}

/** R4 `patient` (and AuditEvent's Patient compartment): a patient entity, or a patient user as the agent. */
export function patientSql(f: AuditFilter, b: Binder, { baseUrl }: AuditSearchEnv): string {
  const ids: string[] = [];
  for (const v of f.values) {
    const r = refOf(v, f.modifier, baseUrl);
    if (!('url' in r) && (r.type === undefined || r.type === 'Patient')) ids.push(r.id);
  }
  if (!ids.length) return 'false';
  const users = ids.flatMap((id) => [`Patient/${id}`, `${baseUrl}/Patient/${id}`]);
  return `(a.patients && ${b.bind(ids)}::text[] OR a.fhir_user = ANY(${b.bind(users)}::text[]))`;
}

/** `entity.what`: the resource the request named, and each patient (a Patient resource is listed as a patient). */
function entitySql(f: AuditFilter, b: Binder, { baseUrl }: AuditSearchEnv): string {
  const patients: string[] = [];
  const bare: string[] = [];
  const parts: string[] = [];
  for (const v of f.values) {
    const r = refOf(v, f.modifier, baseUrl);
    if ('url' in r) continue;
    if (r.type === undefined) bare.push(r.id);
    else if (r.type === 'Patient') patients.push(r.id);
    else parts.push(`(a.res_id = ${b.bind(r.id)} AND a.res_type = ${b.bind(r.type)})`);
  }
  if (patients.length || bare.length) parts.push(`a.patients && ${b.bind([...patients, ...bare])}::text[]`);
  if (bare.length) parts.push(`a.res_id = ANY(${b.bind(bare)}::text[])`);
  return any(parts);
}

/**
 * `agent.who`: the user's fhirUser reference (a bare id: of any type agent may name, or the user
 * account id); `:identifier` the account id (system AUDIT_SYSTEMS.user) or the OAuth client id
 * (AUDIT_SYSTEMS.client).
 */
function agentSql(f: AuditFilter, b: Binder, { baseUrl, agentTypes }: AuditSearchEnv): string {
  if (f.modifier === 'identifier') {
    const users: string[] = [];
    const clients: string[] = [];
    const parts: string[] = [];
    for (const t of f.values.map(token)) {
      if (t.system === undefined && t.code !== undefined) {
        users.push(t.code);
        clients.push(t.code);
      } else if (t.system === AUDIT_SYSTEMS.user) {
        if (t.code === undefined) parts.push('a.user_id IS NOT NULL');
        else users.push(t.code);
      } else if (t.system === AUDIT_SYSTEMS.client) {
        if (t.code === undefined) parts.push('a.client_id IS NOT NULL');
        else clients.push(t.code);
      }
    }
    if (users.length) parts.push(`a.user_id = ANY(${b.bind(users)}::text[])`);
    if (clients.length) parts.push(`a.client_id = ANY(${b.bind(clients)}::text[])`);
    return any(parts);
  }
  const refs: string[] = [];
  const accounts: string[] = [];
  for (const v of f.values) {
    const r = refOf(v, f.modifier, baseUrl);
    if ('url' in r) refs.push(r.url);
    else {
      for (const type of r.type === undefined ? agentTypes : [r.type]) refs.push(`${type}/${r.id}`, `${baseUrl}/${type}/${r.id}`);
      if (r.type === undefined) accounts.push(r.id);
    }
  }
  // Equalities only, so that the fhir_user and user_id indexes answer them.
  const parts = refs.length ? [`a.fhir_user = ANY(${b.bind(refs)}::text[])`] : [];
  if (accounts.length) parts.push(`a.user_id = ANY(${b.bind(accounts)}::text[])`);
  return any(parts);
}

// ---------------------------------------------------------------------------------------------
// Strings: starts with, ignoring case (lower() on both sides: the stored values are HTTP header
// text, not folded for accents the way indexed FHIR strings are); :exact and :contains.

const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => '\\' + c);

function stringSql(f: AuditFilter, b: Binder, column: string): string {
  return any(f.values.map((v) => {
    if (f.modifier === 'exact') return `${column} = ${b.bind(v)}`;
    const norm = likeEscape(v.toLowerCase());
    return `lower(${column}) LIKE ${b.bind(f.modifier === 'contains' ? `%${norm}%` : `${norm}%`)}`;
  }));
}

// ---------------------------------------------------------------------------------------------
// Tokens: `code`, `system|code`, `|code` (no system), `system|` (any code of the system).

interface Token { system?: string; code?: string }

function token(value: string): Token {
  const bar = value.indexOf('|');
  if (bar < 0) return { code: value };
  const code = value.slice(bar + 1);
  return { system: value.slice(0, bar), ...(code ? { code } : {}) };
}

const fits = (t: Token, coding: { system?: string; code?: string }): boolean =>
  (t.system === undefined || t.system === coding.system) && (t.code === undefined || t.code === coding.code);

/** A column holding the rendered code itself, under one fixed system. */
function codedSql(f: AuditFilter, b: Binder, system: string, column: string): string {
  const codes: string[] = [];
  for (const t of f.values.map(token)) {
    if (t.system !== undefined && t.system !== system) continue;
    if (t.code === undefined) return 'true';
    codes.push(t.code);
  }
  return codes.length ? `${column} = ANY(${b.bind(codes)}::text[])` : 'false';
}

/** AuditEvent.subtype: authentication subtypes have codes of their own; the rest are restful-interaction codes. */
function subtypeSql(f: AuditFilter, b: Binder): string {
  const stored = new Set<string>();
  let allRestful = false;
  for (const t of f.values.map(token)) {
    for (const s of AUTHENTICATION_SUBTYPES) if (fits(t, subtypeOf(s))) stored.add(s);
    if (t.system !== undefined && t.system !== RESTFUL_INTERACTION) continue;
    if (t.code === undefined) allRestful = true;
    else if (!AUTHENTICATION_SUBTYPES.includes(t.code)) stored.add(t.code);
  }
  const parts = stored.size ? [`a.subtype = ANY(${b.bind([...stored])}::text[])`] : [];
  if (allRestful) parts.push(`a.subtype <> ALL(${b.bind(AUTHENTICATION_SUBTYPES)}::text[])`);
  return any(parts);
}

/** AuditEvent.type: one code for authentication events, another for every RESTful operation. */
function typeSql(f: AuditFilter, b: Binder): string {
  const tokens = f.values.map(token);
  const authentication = tokens.some((t) => fits(t, typeOf(AUTHENTICATION_SUBTYPES[0] as string)));
  const restful = tokens.some((t) => fits(t, typeOf('read')));
  if (authentication && restful) return 'true';
  if (authentication) return `a.subtype = ANY(${b.bind(AUTHENTICATION_SUBTYPES)}::text[])`;
  if (restful) return `a.subtype <> ALL(${b.bind(AUTHENTICATION_SUBTYPES)}::text[])`;
  return 'false';
}
