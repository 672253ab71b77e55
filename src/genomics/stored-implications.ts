// Therapeutic-implication Observations stored in Helix (Genomics Reporting IG 3.0.0 profile
// therapeutic-implication) for find-subject-tx-implications and find-population-tx-implications,
// with the genotype, haplotype and variant Observations they are derivedFrom.
//
// An implication answers when it meets every filter given, each filter by any of its items:
// - treatments: a medication-assessed (LOINC 51963-7) or therapy-assessed (associated-therapy)
//   component; conditions: a phenotypic-treatment-context component (LOINC 81259-4). Items are
//   `system|code`, or a code of any system — also taken as the text or display of a coding, since
//   labs often write only the name of a drug (`Gefitinib`);
// - haplotypes: a genotype/haplotype Observation it is derivedFrom has that name (see
//   stored-haplotypes.ts);
// - variants, ranges: a variant Observation it is derivedFrom is that allele, or lies in the
//   range. A variant Observation is located by its SPDI (discrete genetic variant, 81252-9), its
//   genomic HGVS (81290-9), or its reference sequence, exact start-end, coordinate system and
//   alleles. Transcript and protein HGVS items (`NM_…:c.`, `NP_…:p.`) need a transcript map Helix
//   does not hold, so they are compared as written with the Observation's HGVS components.
// The study filters apply to those derivedFrom Observations, which carry the test, specimen and
// date (the IG's examples give an implication none of them): an implication passes when one of
// its genotype/haplotype/variant Observations does.
import type { CodeableConcept, Observation, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirContext, Session } from '../fhir/types.js';
import { parseRange, parseVariantItem, type VariantQuery } from './ranges.js';
import { codedItem, componentConcepts, KIND_CODES, kindOf, loadObservations, matchesHaplotype, parseHaplotypeItem, type HaplotypeItem, type StoredObservation } from './stored-haplotypes.js';
import { filtersStudies, items, type StudyCriteria } from './op-input.js';
import type { GenomicRange } from './types.js';

const TBD = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';
const FINDINGS = [...KIND_CODES.genotype, ...KIND_CODES.haplotype, ...KIND_CODES.variant];
/** The elements a population question reads of implications and of the Observations they derive from. */
const IMPLICATION_FIELDS = ['subject', 'component', 'derivedFrom'];
const FINDING_FIELDS = ['code', 'subject', 'component', 'valueCodeableConcept', 'valueString'];

interface TokenItem { system?: string; code: string }
interface VariantItem { query?: VariantQuery; hgvs?: string }

/** The filters of a tx-implications invocation. */
export interface ImplicationFilters {
  variants: VariantItem[];
  ranges: GenomicRange[];
  haplotypes: HaplotypeItem[];
  treatments: TokenItem[];
  conditions: TokenItem[];
}

// Transcript (c., n., r.) and protein (p.) HGVS: compared as written.
const TRANSCRIPT_HGVS = /^[A-Za-z]{2}_[0-9]+(\.[0-9]+)?:[cnrp]\./;

/** Parses the filters (every item of a parameter is an alternative), or 400 on a malformed item. */
export function implicationFilters(params: URLSearchParams): ImplicationFilters {
  const token = (name: string) => items(params, name).map((t): TokenItem => (t.includes('|') ? codedItem(t, name) : { code: t }));
  return {
    variants: items(params, 'variants').map((t) => (TRANSCRIPT_HGVS.test(t) ? { hgvs: t } : { query: parseVariantItem(t) })),
    ranges: items(params, 'ranges').map((t) => parseRange(t)),
    haplotypes: items(params, 'haplotypes').map(parseHaplotypeItem),
    treatments: token('treatments'),
    conditions: token('conditions'),
  };
}

/** The implications that answer, and the genotype/haplotype/variant Observations they derive from (by id). */
export interface ImplicationAnswer { implications: StoredObservation[]; findings: Map<string, StoredObservation> }

/** Finds the implications of one patient (or, without patientId, of everyone) meeting the filters. */
export async function findImplications(
  ctx: FhirContext, s: Session, f: ImplicationFilters, study: StudyCriteria, patientId?: string,
  called: { implications: StoredObservation[]; findings: StoredObservation[] } = { implications: [], findings: [] },
): Promise<ImplicationAnswer> {
  const population = patientId === undefined;
  const all = await loadObservations(ctx, s, {
    codes: KIND_CODES.implication, ...(population ? { fields: IMPLICATION_FIELDS } : { patientId }),
  });
  // Filters on the implication itself first: fewer derivedFrom targets to read.
  const own = [...all, ...called.implications].filter((i) => tokenMatch(i.resource, f.treatments, '51963-7', `${TBD}|associated-therapy`) &&
    tokenMatch(i.resource, f.conditions, '81259-4'));
  const ids = [...new Set(own.flatMap((i) => derivedIds(ctx, i.resource)))];
  const findings = new Map((await loadObservations(ctx, s, { codes: FINDINGS, ids, ...(population ? { fields: FINDING_FIELDS } : {}) }))
    .map((o) => [o.id, o]));
  // The study filters decide which findings count, not which are shown with a passing implication.
  const passing = filtersStudies(study)
    ? new Set((await loadObservations(ctx, s, { codes: FINDINGS, ids: [...findings.keys()], study, fields: [] })).map((o) => o.id))
    : undefined;
  // Helix's own calls come from studies the study filters already chose.
  for (const o of called.findings) {
    findings.set(o.id, o);
    passing?.add(o.id);
  }
  const implications = own.filter((i) => {
    const from = derivedIds(ctx, i.resource).flatMap((id) => (findings.has(id) ? [findings.get(id) as StoredObservation] : []));
    const variants = from.filter((o) => kindOf(o.resource) === 'variant').map((o) => o.resource);
    const named = from.filter((o) => kindOf(o.resource) !== 'variant').map((o) => o.resource);
    return (!passing || from.some((o) => passing.has(o.id))) &&
      (!f.haplotypes.length || named.some((o) => f.haplotypes.some((h) => matchesHaplotype(o, h)))) &&
      (!f.variants.length || variants.some((o) => f.variants.some((v) => variantMatches(o, v)))) &&
      (!f.ranges.length || variants.some((o) => { const at = locate(o); return at !== undefined && f.ranges.some((r) => inRange(at, r)); }));
  });
  return { implications, findings };
}

/** The subject answer: each implication, then the Observations they derive from (once each, variants, haplotypes, genotypes). */
export function implicationParameters(ctx: FhirContext, answer: ImplicationAnswer): ParametersParameter[] {
  const out: ParametersParameter[] = answer.implications.map((i) => ({ name: 'implication', resource: i.resource }));
  const from = [...new Set(answer.implications.flatMap((i) => derivedIds(ctx, i.resource)))]
    .flatMap((id) => (answer.findings.has(id) ? [answer.findings.get(id) as StoredObservation] : []));
  for (const kind of ['variant', 'haplotype', 'genotype'] as const) {
    for (const o of from) if (kindOf(o.resource) === kind) out.push({ name: kind, resource: o.resource });
  }
  return out;
}

// A filter with no items passes every implication.
function tokenMatch(o: Observation, wanted: readonly TokenItem[], ...componentCodes: string[]): boolean {
  if (!wanted.length) return true;
  const concepts = componentConcepts(o, ...componentCodes);
  return wanted.some((t) => concepts.some((cc) => conceptHas(cc, t)));
}

function conceptHas(cc: CodeableConcept, t: TokenItem): boolean {
  if ((cc.coding ?? []).some((c) => c.code === t.code && (t.system === undefined || c.system === t.system))) return true;
  const name = t.code.toLowerCase();
  return t.system === undefined && [cc.text, ...(cc.coding ?? []).map((c) => c.display)].some((x) => x?.toLowerCase() === name);
}

/** The ids of the Observations on this server an Observation is derivedFrom. */
function derivedIds(ctx: FhirContext, o: Observation): string[] {
  const base = `${ctx.config.baseUrl}/`;
  return (o.derivedFrom ?? []).flatMap((d) => {
    const ref = d.reference?.startsWith(base) ? d.reference.slice(base.length) : d.reference ?? '';
    const m = /^Observation\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
    return m ? [m[1] as string] : [];
  });
}

// ---- Variants ---------------------------------------------------------------------------------

const parsed = (text: string): VariantQuery | undefined => {
  try {
    return parseVariantItem(text);
  } catch {
    return undefined; // not an allele Helix can place (e.g. a wild-type call with equal alleles)
  }
};
const values = (o: Observation, code: string): string[] => componentConcepts(o, code).flatMap((cc) => (cc.coding ?? []).map((c) => c.code ?? ''));
const componentOf = (o: Observation, code: string) =>
  (o.component ?? []).find((c) => c.code?.coding?.some((k) => k.system === 'http://loinc.org' && k.code === code));

/** Where a stored variant Observation's allele is, normalised like a variants item, if it says. */
function locate(o: Observation): VariantQuery | undefined {
  for (const spdi of values(o, '81252-9')) if (spdi.split(':').length === 4) { const v = parsed(spdi); if (v) return v; }
  for (const hgvs of values(o, '81290-9')) { const v = parsed(hgvs); if (v) return v; }
  // Reference sequence + exact start-end + coordinate system + REF/ALT, as the IG's PGx examples give them.
  const sequence = values(o, '48013-7')[0];
  const low = componentOf(o, '81254-5')?.valueRange?.low?.value;
  const system = values(o, '92822-6')[0];
  const ref = componentOf(o, '69547-8')?.valueString;
  const alt = componentOf(o, '69551-0')?.valueString;
  if (!sequence || low === undefined || ref === undefined || alt === undefined) return undefined;
  // LA30100-4: 0-based interval counting; LA30102-0: 1-based character counting.
  const start = system === 'LA30100-4' ? low : system === 'LA30102-0' ? low - 1 : undefined;
  return start === undefined ? undefined : parsed(`${sequence}:${start}:${ref}:${alt}`);
}

function variantMatches(o: Observation, item: VariantItem): boolean {
  if (item.hgvs) return ['48004-6', '48005-3', '81290-9'].some((code) => values(o, code).some((v) => v.trim() === item.hgvs));
  const at = locate(o);
  const q = item.query as VariantQuery;
  if (!at || at.sequence !== q.sequence || at.start !== q.start || at.end !== q.end) return false;
  const inserted = q.inserted !== undefined ? at.inserted === q.inserted : q.insertedLength === undefined || at.inserted?.length === q.insertedLength;
  return inserted && (q.deleted === undefined || at.deleted === undefined || at.deleted === q.deleted);
}

// As the range operations count a variant: overlapping the range, or an insertion inside it.
const inRange = (v: VariantQuery, r: GenomicRange): boolean =>
  v.sequence === r.sequence && v.start < r.end && (v.end > r.start || (v.start === v.end && v.start >= r.start));
