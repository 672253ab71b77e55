// Genotype and haplotype Observations stored in Helix — posted by labs or other systems, following
// the Genomics Reporting IG 3.0.0 profiles genotype (LOINC 84413-4) and haplotype (84414-2) — for
// the haplotype and therapeutic-implication operations, until Helix calls star alleles itself.
// They are read with the search machinery's own filter SQL (values bound, row-level access
// applied); names are then compared here, since no index knows that `CYP2C19 *2/*1` is
// `CYP2C19*1/*2`. Entered-in-error Observations are no results.
//
// Study filters, which the stored Observations carry in their own elements:
// - testIdentifiers: an Observation.identifier, or the identifier of a DiagnosticReport whose
//   `result` lists the Observation (the report of the test), as a token (`value` or `system|value`);
// - specimenIdentifiers: an identifier of the Specimen Observation.specimen refers to, or of the
//   reference itself (a logical reference);
// - testDateRange: the effective time (search parameter `date`), prefixes as in search;
// - genomicSourceClass: a genomic-source-class component (LOINC 48002-0).
// An Observation that does not carry the information a filter asks for does not pass it.
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { CodeableConcept, Coding, Observation } from '@medplum/fhirtypes';
import { badRequest, FhirError, internalError } from '../fhir/errors.js';
import type { FhirContext, Session } from '../fhir/types.js';
import { parseSearch } from '../search/parse.js';
import { searchBinder } from '../search/search.js';
import { filterSql, scopeSql, typeIs, type Binder } from '../search/sql.js';
import type { StudyCriteria } from './op-input.js';

const LOINC = 'http://loinc.org';
/** The `system|code` tokens of the Observation kinds these operations read. */
export const KIND_CODES = {
  genotype: [`${LOINC}|84413-4`],
  haplotype: [`${LOINC}|84414-2`],
  variant: [`${LOINC}|69548-6`],
  // The IG 3.0.0 code, and LOINC 51961-1, which earlier releases of the IG used.
  implication: ['http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs|therapeutic-implication', `${LOINC}|51961-1`],
} as const;
/** Observations one question may read; a larger answer is refused rather than truncated. */
export const MAX_OBSERVATIONS = 100_000;

/** A stored Observation and the patient it is about. */
export interface StoredObservation { id: string; patientId?: string; resource: Observation }

/** What to read: Observations of some codes, optionally of one patient or with given ids. */
export interface ObservationQuery {
  codes: readonly string[];
  patientId?: string;
  ids?: readonly string[];
  study?: StudyCriteria;
  /** Top-level elements to read (population questions); the whole stored resource when absent. */
  fields?: readonly string[];
}

/** The Observations a query names, in the order they were created. */
export async function loadObservations(ctx: FhirContext, s: Session, query: ObservationQuery): Promise<StoredObservation[]> {
  if (query.ids?.length === 0) return [];
  const b = searchBinder(ctx);
  const where = whereSql(ctx, b, query);
  // A population question reads only the elements it compares, not whole resources.
  const content = query.fields
    ? `jsonb_strip_nulls(jsonb_build_object(${query.fields.map((f) => `${b.bind(f)}::text, t.j -> ${b.bind(f)}::text`).join(', ')}))::text`
    : 't.content';
  const rows = await s.q.query<{ id: string; content: string }>(`SELECT t.id, ${content} AS content
    FROM (SELECT r.rid, r.id, ${query.fields ? 'r.content::jsonb AS j' : 'r.content'} FROM resources r WHERE ${where}
      ORDER BY r.rid LIMIT ${b.bind(MAX_OBSERVATIONS + 1)}) t ORDER BY t.rid`, b.params);
  if (rows.length > MAX_OBSERVATIONS) {
    throw new FhirError(400, [{ severity: 'error', code: 'too-costly', diagnostics: `More than ${MAX_OBSERVATIONS} stored Observations would have to be read; narrow the question` }]);
  }
  return rows.map((r) => {
    const resource = JSON.parse(r.content) as Observation;
    const patientId = patientOf(resource);
    return { id: r.id, resource, ...(patientId ? { patientId } : {}) };
  });
}

/** The patients with at least one Observation a query names (population denominators). */
export async function patientsWith(ctx: FhirContext, s: Session, query: ObservationQuery): Promise<Set<string>> {
  const b = searchBinder(ctx);
  const where = whereSql(ctx, b, query);
  const rows = await s.q.query<{ id: string }>(`SELECT DISTINCT x.target_id AS id FROM idx_reference x JOIN resources r ON r.rid = x.rid
    WHERE ${scopeSql(b, 'Observation', 'subject')} AND x.target_type = 'Patient' AND ${where}`, b.params);
  return new Set(rows.map((r) => r.id));
}

// Search parameters compiled by the search's own SQL; `\` is escaped since splitOr unescapes it.
const esc = (v: string): string => v.replace(/[\\,]/g, (c) => `\\${c}`);

function whereSql(ctx: FhirContext, b: Binder, query: ObservationQuery): string {
  const main: [string, string][] = [['code', query.codes.join(',')], ['status:not', 'entered-in-error']];
  if (query.patientId !== undefined) main.push(['subject', `Patient/${query.patientId}`]);
  if (query.ids) main.push(['_id', query.ids.join(',')]);
  const where = [typeIs('r.res_type', 'Observation', b), 'NOT r.deleted', ...compile(ctx, b, main)];
  const study = query.study;
  if (study?.tests.length) {
    const v = study.tests.map(esc).join(',');
    where.push(anyOf(ctx, b, [['identifier', v]], [['_has:DiagnosticReport:result:identifier', v]]));
  }
  if (study?.specimens.length) {
    const v = study.specimens.map(esc).join(',');
    where.push(anyOf(ctx, b, [['specimen.identifier', v]], [['specimen:identifier', v]]));
  }
  if (study?.dates.length) where.push(...compile(ctx, b, study.dates.map((d) => ['date', d])));
  if (study?.sourceClass) {
    const answer = study.sourceClass === 'germline' ? 'LA6683-2' : 'LA6684-0';
    where.push(...compile(ctx, b, [['component-code-value-concept', `${LOINC}|48002-0$${LOINC}|${answer}`]]));
  }
  const visible = b.visible?.('s', 'Observation', 'r');
  if (visible) where.push(visible);
  return where.join(' AND ');
}

function anyOf(ctx: FhirContext, b: Binder, ...alternatives: [string, string][][]): string {
  return `(${alternatives.map((a) => `(${compile(ctx, b, a).join(' AND ')})`).join(' OR ')})`;
}

function compile(ctx: FhirContext, b: Binder, pairs: [string, string][]): string[] {
  const search = parseSearch(ctx.defs, 'Observation', new URLSearchParams(pairs), ctx.config);
  if (search.unknown.length) throw internalError(`Stored genomics Observations cannot be searched: ${search.unknown.map((u) => u.reason).join('; ')}`);
  return search.filters.map((f) => filterSql(f, 'Observation', b, ctx.config.baseUrl));
}

/** The patient id of an Observation's subject (relative, absolute or versioned reference). */
export function patientOf(o: Observation): string | undefined {
  return /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(o.subject?.reference ?? '')?.[1];
}

/** Which kind of genomic Observation this is, by its code. */
export function kindOf(o: Observation): 'genotype' | 'haplotype' | 'variant' | undefined {
  const codes = new Set((o.code?.coding ?? []).map((c) => `${c.system}|${c.code}`));
  for (const kind of ['genotype', 'haplotype', 'variant'] as const) if (KIND_CODES[kind].some((k) => codes.has(k))) return kind;
  return undefined;
}

/** The codings of the components with a LOINC code (e.g. 48018-6, gene studied). */
export function componentConcepts(o: Observation, ...codes: string[]): CodeableConcept[] {
  return (o.component ?? [])
    .filter((c) => c.code?.coding?.some((k) => codes.some((code) => `${k.system}|${k.code}` === code || (k.system === LOINC && k.code === code))))
    .flatMap((c) => (c.valueCodeableConcept ? [c.valueCodeableConcept] : []));
}

// ---- Haplotype and genotype names -------------------------------------------------------------
// A name is split into its sides (two for a genotype), each a list of alternatives, each allele
// with its gene: `CYP2C19 *1/*2` → [[CYP2C19*1], [CYP2C19*2]]; a GL string
// `HLA-A*01:01+HLA-A*02:01/HLA-A*02:02` → [[A*01:01], [A*02:01, A*02:02]]. Names are upper-cased,
// spaces around `*`, `/` and `+` dropped, and the `HLA-` prefix too (IMGT/HLA writes `A*24:02`).
type Name = string[][];

/** A haplotypes item: a name, or a coded value (`system|code`) matched exactly. */
export interface HaplotypeItem { text: string; name?: Name; coding?: { system: string; code: string } }

/** Parses a haplotypes item (`CYP2C19 *1/*2`, `HLA-B*57:01`, `CYP2C19`, or `system|code`), or 400. */
export function parseHaplotypeItem(text: string): HaplotypeItem {
  const t = text.trim();
  if (t.length > 200 || /[\u0000-\u001f]/.test(t)) throw badRequest(`haplotypes item ${t.slice(0, 60)} is too long or not text`);
  if (t.includes('|')) return { text: t, coding: codedItem(t, 'haplotypes') };
  const name = parseName(t);
  if (!name || name.length > 2 || name.flat().some((a) => a.startsWith('*'))) {
    throw badRequest(`haplotypes item '${t.slice(0, 60)}' is neither a haplotype or genotype name with its gene (e.g. CYP2C19 *1/*2) nor system|code`);
  }
  return { text: t, name };
}

/** `system|code`, both given, or 400. */
export function codedItem(t: string, param: string): { system: string; code: string } {
  const [system = '', code = '', ...rest] = t.split('|');
  if (!system || !code.trim() || rest.length || /\s/.test(system)) throw badRequest(`${param} item '${t.slice(0, 60)}' must be system|code or a code`);
  return { system, code: code.trim() };
}

function parseName(raw: string, fallbackGene?: string): Name | undefined {
  const s = raw.slice(raw.lastIndexOf('#') + 1).toUpperCase().trim() // glstring.org codes: namespace#version#GL string
    .replace(/\s*([*/+])\s*/g, '$1').replace(/\s+/g, ' ').replace(/(^|[/+])HLA-/g, '$1');
  if (!/[A-Z0-9]/.test(s)) return undefined;
  const sides = s.includes('+') ? s.split('+').map((side) => side.split('/')) : s.split('/').map((a) => [a]);
  if (sides.flat().some((a) => !a)) return undefined;
  const first = sides[0]?.[0] ?? '';
  const cut = first.search(/[* ]/);
  const gene = cut > 0 ? first.slice(0, cut) : fallbackGene;
  const glue = cut > 0 ? first[cut] : '*';
  return sides.map((side) => side.map((a, i) => {
    if (a.startsWith('*') && gene) return gene + a;
    // The second allele of `APOE e1/e4` or `CYP2C19*1/2` carries no gene of its own.
    return gene && cut > 0 && (side !== sides[0] || i > 0) && !/[* ]/.test(a) ? `${gene}${glue}${a}` : a;
  }));
}

// A stored allele refines an asked one when it names it at a finer resolution: gene → star allele
// → suballele (`CYP2D6` → `CYP2D6*1` → `CYP2D6*1.001`), HLA fields (`A*01` → `A*01:01:01`).
const refines = (asked: string, stored: string): boolean =>
  stored === asked || (stored.startsWith(asked) && '*:. '.includes(stored[asked.length] as string));
const sideMatches = (asked: string[], stored: string[]): boolean => asked.some((a) => stored.some((s) => refines(a, s)));

// One haplotype asked: any side of a stored genotype, or the stored haplotype, carrying it. A
// genotype asked: a stored genotype whose two sides carry the two asked, in either order.
function nameMatches(asked: Name, stored: Name): boolean {
  const [a0 = [], a1 = []] = asked;
  if (asked.length === 1) return stored.some((side) => sideMatches(a0, side));
  const [s0 = [], s1 = []] = stored;
  return stored.length === 2 && ((sideMatches(a0, s0) && sideMatches(a1, s1)) || (sideMatches(a0, s1) && sideMatches(a1, s0)));
}

/** The names a stored genotype/haplotype Observation gives its value (codes, displays, text). */
function storedNames(o: Observation): Name[] {
  const gene = geneSymbols(o, false)[0];
  const v = o.valueCodeableConcept;
  const texts = [...(v?.coding ?? []).flatMap((c) => [c.code, c.display]), v?.text, o.valueString];
  return texts.flatMap((t) => (t ? [parseName(t, gene)].filter((n): n is Name => n !== undefined) : []));
}

/** Whether a stored genotype/haplotype Observation has the haplotype or genotype an item names. */
export function matchesHaplotype(o: Observation, item: HaplotypeItem): boolean {
  if (item.coding) {
    const { system, code } = item.coding;
    return (o.valueCodeableConcept?.coding ?? []).some((c) => c.system === system && c.code === code);
  }
  return storedNames(o).some((n) => nameMatches(item.name as Name, n));
}

// ---- Genes ------------------------------------------------------------------------------------

/** A genes item: an HGNC id or symbol, or `system|code`. */
export interface GeneItem { text: string; system?: string; code: string }

const HGNC_SYSTEM = /^https?:\/\/(www\.)?genenames\.org(\/geneId)?\/?$/;
const hgncId = (code: string): string => (/^\d+$/.test(code) ? `HGNC:${code}` : code.toUpperCase());
const symbol = (s: string): string => s.trim().toUpperCase().replace(/^HLA-/, '');

/** Parses a genes item (`http://www.genenames.org/geneId|HGNC:2621`, `HGNC:2621`, `CYP2C19`), or 400. */
export function parseGeneItem(text: string): GeneItem {
  const t = text.trim();
  if (t.includes('|')) return { text: t, ...codedItem(t, 'genes') };
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/.test(t)) throw badRequest(`genes item '${t.slice(0, 60)}' is not a gene symbol, HGNC id or system|code`);
  return { text: t, code: t };
}

// The gene symbols an Observation names: its gene-studied components' displays and text, and
// (with fromValue) the gene of its value's name, e.g. CYP2C19 from `CYP2C19 *1/*2`.
function geneSymbols(o: Observation, fromValue: boolean): string[] {
  const concepts = componentConcepts(o, '48018-6');
  const out = concepts.flatMap((cc) => [cc.text, ...(cc.coding ?? []).map((c) => c.display)]).filter((x): x is string => !!x).map(symbol);
  if (fromValue) for (const n of storedNames(o)) out.push(...n.flat().map((a) => a.split(/[* ]/)[0] as string));
  return out;
}

/** Whether a genotype/haplotype Observation is about the gene an item names. */
export function matchesGene(o: Observation, g: GeneItem): boolean {
  const codings: Coding[] = componentConcepts(o, '48018-6').flatMap((cc) => cc.coding ?? []);
  if (g.system && HGNC_SYSTEM.test(g.system)) {
    // http://www.genenames.org (the IG's examples) and …/geneId (the operations' examples) are one system.
    return codings.some((c) => HGNC_SYSTEM.test(c.system ?? '') && hgncId(c.code ?? '') === hgncId(g.code));
  }
  if (g.system) return codings.some((c) => c.system === g.system && c.code === g.code);
  if (/^HGNC:\d+$/i.test(g.code)) return codings.some((c) => hgncId(c.code ?? '') === hgncId(g.code));
  const wanted = symbol(g.code);
  return codings.some((c) => symbol(c.code ?? '') === wanted) || geneSymbols(o, true).includes(wanted);
}

/** The haplotype, then the genotype Observations among `found` as output parts (the OperationDefinitions' order). */
export function haplotypeParts(found: readonly StoredObservation[]): ParametersParameter[] {
  return [
    ...found.filter((o) => kindOf(o.resource) === 'haplotype').map((o) => ({ name: 'haplotype', resource: o.resource })),
    ...found.filter((o) => kindOf(o.resource) === 'genotype').map((o) => ({ name: 'genotype', resource: o.resource })),
  ];
}
