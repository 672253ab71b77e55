// Patient/[id]/$everything — http://hl7.org/fhir/R4/patient-operation-everything.html: the patient,
// every resource in its compartment, and the resources those refer to (practitioners,
// organizations, medications…), paged by a keyset cursor; `_since`, `_type` and `_count` apply.
// Under an access token both parts are confined like a search and its includes.
import { bundleText, linkWith, type EntryPart } from '../fhir/bundle.js';
import { badRequest, notFound } from '../fhir/errors.js';
import { readCurrent } from '../storage/resource-store.js';
import { searchBinder } from '../search/search.js';
import type { Binder } from '../search/sql.js';
import { dateRange, formatInstant } from '../search/values.js';
import type { OperationDefinitionEntry } from './registry.js';

interface Row { rid: string; res_type: string; id: string; content: string }

/** The $everything operation on Patient. */
export const everythingOperation: OperationDefinitionEntry = {
  name: 'everything',
  definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  resourceTypes: ['Patient'],
  async invoke(ctx, s, req, target) {
    const id = target.id as string;
    const patient = await readCurrent(s.q, 'Patient', id);
    if (!patient || patient.deleted) throw notFound(`Patient/${id} is not known`);
    const countRaw = req.query.get('_count');
    if (countRaw !== null && !/^\d{1,7}$/.test(countRaw)) throw badRequest('_count must be a non-negative integer');
    const count = Math.min(countRaw === null ? ctx.config.maxCount : Number(countRaw), ctx.config.maxCount);
    const types = req.query.get('_type')?.split(',').filter(Boolean);
    for (const t of types ?? []) if (!ctx.defs.resourceTypes.has(t)) throw badRequest(`_type names unknown resource type ${t.slice(0, 60)}`);
    const sinceRaw = req.query.get('_since');
    const since = sinceRaw === null ? undefined : dateRange(sinceRaw);
    if (sinceRaw !== null && !since) throw badRequest('_since must be a FHIR instant');
    const cursor = req.query.get('_cursor');
    if (cursor !== null && !/^\d{1,19}$/.test(cursor)) throw badRequest('Invalid _cursor: use the next link the server returned');

    const b = searchBinder(ctx);
    const where = [
      'NOT r.deleted',
      `r.rid IN (SELECT m.rid FROM idx_compartment m WHERE m.comp_type = 'Patient' AND m.comp_id = ${b.bind(id)})`,
    ];
    if (types) where.push(`r.res_type = ANY(${b.bind(types)}::text[])`);
    if (since) where.push(`r.last_updated >= ${b.bind(formatInstant(since.low))}::timestamptz`);
    if (cursor) where.push(`r.rid > ${b.bind(cursor)}::bigint`);
    const members = b.visible?.('s', types, 'r');
    if (members) where.push(members);
    const rows = await s.q.query<Row>(
      `SELECT r.rid::text AS rid, r.res_type, r.id, r.content FROM resources r WHERE ${where.join(' AND ')} ORDER BY r.rid LIMIT ${b.bind(count + 1)}`,
      b.params,
    );
    const page = rows.slice(0, count);
    // Resources the page refers to that live outside the compartment (Practitioner, Organization…).
    const referenced = page.length ? await s.q.query<Row>(...referencedQuery(searchBinder(ctx), page.map((r) => r.rid), id, types)) : [];
    const entry = (r: Row, mode: string): EntryPart => ({
      fullUrl: `${ctx.config.baseUrl}/${r.res_type}/${r.id}`, resourceText: r.content, extra: { search: { mode } },
    });
    const self = `${ctx.config.baseUrl}/Patient/${id}/$everything`;
    const link = [{ relation: 'self', url: linkWith(self, req.query, '_cursor', cursor ?? undefined) }];
    const last = page[page.length - 1];
    if (rows.length > count && last) link.push({ relation: 'next', url: linkWith(self, req.query, '_cursor', last.rid) });
    const entries = [...page.map((r) => entry(r, 'match')), ...referenced.map((r) => entry(r, 'include'))];
    return { status: 200, headers: {}, text: bundleText({ type: 'searchset', link }, entries) };
  },
};

/** The resources outside the compartment that the page's resources refer to, as SQL and parameters. */
function referencedQuery(b: Binder, rids: string[], id: string, types: string[] | undefined): [string, unknown[]] {
  const where = [
    'NOT r.deleted',
    `(r.res_type, r.id) IN (SELECT x.target_type, x.target_id FROM idx_reference x WHERE x.rid = ANY(${b.bind(rids)}::bigint[]) AND x.target_type IS NOT NULL)`,
    `r.rid NOT IN (SELECT m.rid FROM idx_compartment m WHERE m.comp_type = 'Patient' AND m.comp_id = ${b.bind(id)})`,
  ];
  if (types) where.push(`r.res_type = ANY(${b.bind(types)}::text[])`);
  // Like _include: only what the caller could read one by one.
  const visible = b.visible?.('r', types, 'r');
  if (visible) where.push(visible);
  return [`SELECT r.rid::text AS rid, r.res_type, r.id, r.content FROM resources r WHERE ${where.join(' AND ')}`, b.params];
}
