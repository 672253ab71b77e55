// The diagnostic-implication operations of the Genomics Reporting IG 3.0.0
// (find-subject-dx-implications, find-population-dx-implications), answered from the ClinVar
// knowledge base (clinvar.ts): a stored call carrying an allele ClinVar classifies — same
// accession, start, end and trimmed alleles, on the study's build — has one diagnostic
// implication per ClinVar record of that allele, carrying ClinVar's aggregate classification,
// conditions and review status. `conditions` items are `system|code` (e.g.
// `https://www.ncbi.nlm.nih.gov/medgen|C3469186`) or a bare code, matched against ClinVar's
// CLNDISDB identifiers. As in every genomics operation here, a comma means OR and a repeated
// parameter AND.
import { createHash } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { badRequest, unprocessable } from '../fhir/errors.js';
import type { FhirRequest, FhirResponse, Session } from '../fhir/types.js';
import { classifiedCalls, clinvarAt, clinvarBuilds, normaliseConditionCode, parseConditionId, type ClinvarEntry } from './clinvar.js';
import { variantObservationId, variantObservationsJson } from './emit.js';
import { CONDITION_SYSTEMS, diagnosticImplicationObservation } from './implication-observation.js';
import { flag, items, operationParams, populationParts, required, selectStudies, subjectId } from './op-input.js';
import { parameterJson, parametersJson, resourceParameterJson } from './parameters-json.js';
import { parseRange } from './ranges.js';
import type { GenomicStudy } from './types.js';
import { callsInRanges, callsNamedBy, parseVariantItems, positionsOf, sameAllele } from './variant-items.js';
import { variantsAt, type StoredVariant } from './variant-store.js';

const FILTERS = ['testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass'];

// What a bare code (no `system|`) may be, by the shape of each database's ids; a code several
// shapes fit (a six-digit number: OMIM or SNOMED CT) is looked up in all of them.
const BARE_CODES: Record<string, RegExp> = {
  medgen: /^CN?[0-9]{6,7}$/, omim: /^(PS)?[0-9]{6}$/, mondo: /^MONDO:[0-9]{7}$/, orphanet: /^ORPHA:?[0-9]+$/i,
  hp: /^HP:[0-9]{7}$/, mesh: /^[CD][0-9]{6,9}$/, snomed: /^[0-9]{6,18}$/,
};
const KNOWN = 'MedGen, OMIM, MONDO, Orphanet, HPO, MeSH or SNOMED CT';
const normaliseSystem = (system: string): string => system.trim().toLowerCase().replace(/\/+$/, '');

/** The condition codes (`medgen:C3469186`…) one `conditions` item may mean; 400 for what no ClinVar condition id can be. */
export function conditionCodesOf(item: string): string[] {
  const parts = item.split('|').map((p) => p.trim());
  const show = item.slice(0, 100);
  if (parts.length > 2) throw badRequest(`conditions ${show} is not system|code (one |)`);
  if (parts.length === 2) {
    const [system = '', code = ''] = parts;
    if (!system || !code || /\s/.test(code)) throw badRequest(`conditions ${show} is not system|code: both are needed, the code without spaces`);
    const key = Object.keys(CONDITION_SYSTEMS).find((k) => CONDITION_SYSTEMS[k]?.some((url) => normaliseSystem(url) === normaliseSystem(system)));
    if (!key) throw badRequest(`conditions ${show}: ClinVar names conditions in ${KNOWN}, and ${system.slice(0, 80)} is none of their systems`);
    return [`${key}:${normaliseConditionCode(key, code)}`];
  }
  const code = parts[0] ?? '';
  const keys = Object.keys(BARE_CODES).filter((k) => BARE_CODES[k]?.test(code));
  if (keys.length === 0) throw badRequest(`conditions ${show} is neither system|code nor a ${KNOWN} code`);
  return keys.map((k) => `${k}:${normaliseConditionCode(k, code)}`);
}

/** The condition codes a ClinVar allele names (as conditionCodesOf spells them). */
function entryCodes(entry: ClinvarEntry): Set<string> {
  return new Set(entry.conditions.flatMap((c) => c.ids.flatMap((id) => {
    const parsed = parseConditionId(id);
    return parsed ? [`${parsed.key}:${parsed.code}`] : [];
  })));
}

/** Refuses (422) a question about studies on a build no ClinVar release is loaded for: "no implications" would be false. */
async function requireClinvar(q: Queryable, studies: readonly GenomicStudy[]): Promise<void> {
  const loaded = await clinvarBuilds(q);
  const missing = [...new Set(studies.map((st) => st.build))].filter((b) => !loaded.has(b));
  if (missing.length) {
    throw unprocessable([{
      severity: 'error', code: 'not-found',
      diagnostics: `No ClinVar release is loaded for ${missing.join(' or ')}, so the diagnostic implications of those tests are unknown; load one with: helix kb import clinvar <clinvar.vcf.gz>`,
    }]);
  }
}

/** A stored call and a ClinVar allele it carries. */
interface Implication {
  call: StoredVariant;
  entry: ClinvarEntry;
}

/** The ClinVar alleles the calls carry (on their study's build), only those naming one of `codes` when given. */
async function implicationsOf(
  q: Queryable, calls: readonly StoredVariant[], studies: ReadonlyMap<string, GenomicStudy>, codes?: readonly string[],
): Promise<Implication[]> {
  const at = new Map<string, ClinvarEntry[]>();
  for (const e of await clinvarAt(q, calls)) {
    const key = `${e.sequence}:${e.start}:${e.end}`;
    at.set(key, [...(at.get(key) ?? []), e]);
  }
  return calls.flatMap((call) => (at.get(`${call.sequence}:${call.start}:${call.end}`) ?? [])
    .filter((e) => e.build === studies.get(call.studyId)?.build && e.ref === call.ref && e.alt === call.alt)
    .filter((e) => !codes || codes.some((c) => entryCodes(e).has(c)))
    .map((entry) => ({ call, entry })));
}

/** An implication's id: its variant Observation's id and the ClinVar Variation ID, hashed if that is too long for an id. */
function implicationId(i: Implication): string {
  const id = `${variantObservationId(i.call)}-dx${i.entry.variationId}`;
  return id.length <= 64 ? id : `dx-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

/** Answers $find-subject-dx-implications: the implications, then the variant Observations they derive from. */
export async function subjectDxImplications(s: Session, req: FhirRequest, op: string): Promise<FhirResponse> {
  const params = operationParams(req, op, ['subject', 'variants', 'ranges', 'conditions', ...FILTERS]);
  const patientId = subjectId(required(params, 'subject', op));
  const variantItems = parseVariantItems(items(params, 'variants'));
  const ranges = items(params, 'ranges').map((t) => parseRange(t));
  const conditionItems = items(params, 'conditions');
  const codes = conditionItems.length ? [...new Set(conditionItems.flatMap(conditionCodesOf))] : undefined;
  const studies = await selectStudies(s, params, patientId);
  const byId = new Map(studies.map((st) => [st.id, st]));
  const calls = new Map<string, StoredVariant>();
  const searched = new Set<GenomicStudy>();
  for (const found of [variantItems.length ? await callsNamedBy(s.q, studies, variantItems) : undefined, await callsInRanges(s.q, studies, ranges)]) {
    found?.searched.forEach((st) => searched.add(st));
    found?.calls.forEach((v) => calls.set(variantObservationId(v), v));
  }
  if (!variantItems.length && !ranges.length) {
    // Conditions only, or nothing: the subject's classified calls, found by the database's join.
    studies.forEach((st) => searched.add(st));
    for (const v of await variantsAt(s.q, studies, await classifiedCalls(s.q, studies, codes))) calls.set(variantObservationId(v), v);
  }
  await requireClinvar(s.q, [...searched]);
  const found = (await implicationsOf(s.q, [...calls.values()], byId, codes)).sort((a, b) =>
    a.call.sequence.localeCompare(b.call.sequence) || a.call.start - b.call.start || a.call.end - b.call.end ||
    a.call.studyId.localeCompare(b.call.studyId) || a.call.ord - b.call.ord || Number(a.entry.variationId) - Number(b.entry.variationId));
  const parameter = found.map((i) => parameterJson({
    name: 'implication',
    resource: diagnosticImplicationObservation(i.entry, { id: variantObservationId(i.call) }, byId.get(i.call.studyId) as GenomicStudy, { id: implicationId(i) }),
  }));
  const derivedFrom = [...new Map(found.map((i) => [variantObservationId(i.call), i.call])).values()];
  parameter.push(...variantObservationsJson(derivedFrom, byId).map((text) => resourceParameterJson('variant', text)));
  return { status: 200, headers: {}, text: parametersJson(parameter) };
}

/**
 * Answers $find-population-dx-implications: how many of the patients with genomic data have a
 * diagnostic implication for the variants and conditions asked (the IG's one `implications`
 * output), among the patients whose tests are on a build a ClinVar release is loaded for. Within a parameter a comma means OR; every repeated `variants` and `conditions`
 * parameter must be met, each by some implication of the patient (one implication meets a
 * `variants` and a `conditions` parameter together: the variant's, for that condition).
 */
export async function populationDxImplications(s: Session, req: FhirRequest, op: string): Promise<FhirResponse> {
  const params = operationParams(req, op, ['variants', 'haplotypes', 'conditions', 'genomicSourceClass', 'includePatientList']);
  if (items(params, 'haplotypes').length) {
    throw badRequest(`$${op}: Helix calls no haplotypes, so it cannot answer haplotypes; ask by variants or conditions`);
  }
  const split = (value: string): string[] => value.split(',').map((v) => v.trim()).filter(Boolean);
  const variantGroups = params.getAll('variants').map((v) => parseVariantItems(split(v))).filter((g) => g.length);
  const conditionGroups = params.getAll('conditions').map((v) => split(v).flatMap(conditionCodesOf)).filter((g) => g.length);
  if (!variantGroups.length && !conditionGroups.length) throw badRequest(`$${op} requires variants or conditions`);
  const includePatients = flag(params, 'includePatientList');
  const selected = await selectStudies(s, params);
  // The cohort searched is the tests on a build ClinVar is loaded for (the denominator counts
  // only patients whose implications could be found); none such among the selected is a 422.
  const loaded = await clinvarBuilds(s.q);
  const studies = selected.filter((st) => loaded.has(st.build));
  if (selected.length && !studies.length) await requireClinvar(s.q, selected);
  const byId = new Map(studies.map((st) => [st.id, st]));
  // The implications that may answer any part of the question; each part is then checked on them.
  let candidates: { patientId: string; call?: StoredVariant; codes: Set<string> }[];
  if (variantGroups.length) {
    const asked = variantGroups.flat();
    const calls = (await variantsAt(s.q, studies, positionsOf(asked))).filter((v) => asked.some((item) => sameAllele(v, item)));
    candidates = (await implicationsOf(s.q, calls, byId)).map((i) => ({ patientId: i.call.patientId, call: i.call, codes: entryCodes(i.entry) }));
  } else {
    const found = await classifiedCalls(s.q, studies, [...new Set(conditionGroups.flat())]);
    candidates = found.map((c) => ({ patientId: c.patientId, codes: new Set(c.codes) }));
  }
  let patients: Set<string> | undefined;
  for (const gv of variantGroups.length ? variantGroups : [undefined]) {
    for (const gc of conditionGroups.length ? conditionGroups : [undefined]) {
      const meeting = new Set(candidates
        .filter((c) => !gv || (c.call !== undefined && gv.some((item) => sameAllele(c.call as StoredVariant, item))))
        .filter((c) => !gc || gc.some((code) => c.codes.has(code)))
        .map((c) => c.patientId));
      patients = patients ? new Set([...patients].filter((p) => meeting.has(p))) : meeting;
    }
  }
  const part = populationParts(patients ?? new Set(), new Set(studies.map((st) => st.patientId)).size, includePatients);
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter: [{ name: 'implications', part }] } };
}
