// The IG `diagnostic-implication` Observation (Genomics Reporting IG 3.0.0,
// StructureDefinition-diagnostic-implication, on `implication` and `genomic-base`) Helix builds
// from a ClinVar allele a stored call matches: ClinVar's aggregate germline classification as
// the clinical-significance component (LOINC 53037-8, answer list LL4034-6), each condition as a
// predicted-phenotype component (LOINC 81259-4) and the review status as the evidence-level
// component (LOINC 93044-6) coded in the IG's clinvar-evidence-level-custom-cs, derived from the
// variant Observation of the call. value[x] is 0..0 on implications.
import type { CodeableConcept, Coding, Observation, ObservationComponent } from '@medplum/fhirtypes';
import type { ClinvarCondition, ClinvarEntry } from './clinvar.js';
import { parseConditionId } from './clinvar.js';
import type { GenomicStudy } from './types.js';
import { GENOMICS, genomicsObservation, loinc, SYSTEM } from './variant-observation.js';

/**
 * The FHIR systems of the condition databases ClinVar cites, by their key in
 * clinvar_variants.condition_codes; the first URL is the one Helix writes, all are understood in
 * a `conditions` parameter. MedGen's is the genomics-operations reference implementation's (it
 * has no HL7 canonical URI); MONDO's and HPO's are the IG's; the others are HL7 terminology's.
 */
export const CONDITION_SYSTEMS: Readonly<Record<string, readonly string[]>> = {
  medgen: ['https://www.ncbi.nlm.nih.gov/medgen', 'http://www.ncbi.nlm.nih.gov/medgen'],
  omim: ['https://omim.org', 'http://omim.org', 'https://www.omim.org', 'http://www.omim.org'],
  mondo: ['http://purl.obolibrary.org/obo/mondo.owl', 'http://purl.obolibrary.org/obo/mondo'],
  orphanet: ['http://www.orpha.net', 'https://www.orpha.net'],
  hp: ['http://human-phenotype-ontology.org', 'http://purl.obolibrary.org/obo/hp.owl'],
  mesh: ['http://id.nlm.nih.gov/mesh', 'urn:oid:2.16.840.1.113883.6.177'],
  snomed: ['http://snomed.info/sct'],
};

// The order codings are listed in: MedGen first, ClinVar's own condition vocabulary.
const KEY_ORDER = Object.keys(CONDITION_SYSTEMS);

const CLINVAR_EVIDENCE = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/clinvar-evidence-level-custom-cs';
const RELATED_ARTIFACT = 'http://hl7.org/fhir/StructureDefinition/workflow-relatedArtifact';

// LOINC LL4034-6, the answer list the IG binds clinical-significance to (ACMG/AMP's five tiers),
// keyed by ClinVar's term in lower case.
const SIGNIFICANCE: Record<string, [string, string]> = {
  pathogenic: ['LA6668-3', 'Pathogenic'],
  'likely pathogenic': ['LA26332-9', 'Likely pathogenic'],
  'uncertain significance': ['LA26333-7', 'Uncertain significance'],
  'likely benign': ['LA26334-5', 'Likely benign'],
  benign: ['LA6675-8', 'Benign'],
};

// ClinVar's review statuses and their stars (ClinVar, "Review status in ClinVar"), as the codes
// of the IG's clinvar-evidence-level-custom-cs. Older releases' spellings are kept.
const STARS: Record<string, string> = {
  practice_guideline: '4-star',
  reviewed_by_expert_panel: '3-star',
  'criteria_provided,_multiple_submitters,_no_conflicts': '2-star',
  'criteria_provided,_multiple_submitters': '2-star',
  'criteria_provided,_single_submitter': '1-star',
  'criteria_provided,_conflicting_classifications': '1-star',
  'criteria_provided,_conflicting_interpretations': '1-star',
  no_assertion_criteria_provided: 'no-star',
  no_assertion_provided: 'no-star',
  no_classification_provided: 'no-star',
  no_interpretation_for_the_single_variant: 'no-star',
  no_classification_for_the_single_variant: 'no-star',
};

// ClinVar's placeholder conditions name no phenotype, so they make no predicted-phenotype component.
const PLACEHOLDERS = new Set(['not provided', 'not specified', 'see cases']);

/** ClinVar's text with its underscores read as spaces and `|` as `; ` (how ClinVar's pages show CLNSIG). */
const readable = (text: string): string => text.split('|').map((p) => p.replace(/_/g, ' ').trim()).join('; ');

/**
 * CLNSIG as a LOINC LL4034-6 answer when its germline classification (the part before `|`) is
 * one of the five tiers; combined or other terms (`Pathogenic/Likely_pathogenic`,
 * `Conflicting_classifications_of_pathogenicity`, `drug_response`) have no LOINC answer and are
 * given as text only, rather than rounded to a tier ClinVar did not assign.
 */
export function significanceConcept(clnsig: string): CodeableConcept {
  const answer = SIGNIFICANCE[(clnsig.split('|')[0] ?? '').replace(/_/g, ' ').trim().toLowerCase()];
  const text = readable(clnsig);
  return answer ? { coding: [{ system: SYSTEM.loinc, code: answer[0], display: answer[1] }], text } : { text };
}

/** CLNREVSTAT as the IG's ClinVar evidence level (stars), with ClinVar's wording as text. */
export function evidenceLevelConcept(clnrevstat: string): CodeableConcept {
  const stars = STARS[clnrevstat.trim().toLowerCase()];
  const text = clnrevstat.replace(/_/g, ' ').trim();
  return stars ? { coding: [{ system: CLINVAR_EVIDENCE, code: stars, display: stars.replace('-', ' ') }], text } : { text };
}

/** A condition as ClinVar names it, coded in every database Helix knows the FHIR system of. */
export function conditionConcept(condition: ClinvarCondition): CodeableConcept {
  const coded = condition.ids.flatMap((id) => {
    const parsed = parseConditionId(id);
    const system = parsed && CONDITION_SYSTEMS[parsed.key]?.[0];
    return parsed && system ? [{ key: parsed.key, coding: { system, code: parsed.code } as Coding }] : [];
  });
  coded.sort((a, b) => KEY_ORDER.indexOf(a.key) - KEY_ORDER.indexOf(b.key));
  const coding = coded.map((c) => (condition.name ? { ...c.coding, display: condition.name } : c.coding));
  return { ...(coding.length ? { coding } : {}), ...(condition.name ? { text: condition.name } : {}) };
}

/** The IG `diagnostic-implication` Observation of a ClinVar allele a call carries, derived from the call's variant Observation. */
export function diagnosticImplicationObservation(
  entry: ClinvarEntry, variant: { id: string }, study: GenomicStudy, opts: { id: string },
): Observation {
  const components: ObservationComponent[] = [];
  if (entry.significance) {
    components.push({ code: loinc('53037-8', 'Genetic variation clinical significance [Imp]'), valueCodeableConcept: significanceConcept(entry.significance) });
  }
  for (const condition of entry.conditions) {
    if (PLACEHOLDERS.has(condition.name.toLowerCase())) continue;
    components.push({ code: loinc('81259-4', 'Associated phenotype'), valueCodeableConcept: conditionConcept(condition) });
  }
  if (entry.reviewStatus) {
    components.push({ code: loinc('93044-6', 'Level of evidence'), valueCodeableConcept: evidenceLevelConcept(entry.reviewStatus) });
  }
  const code = { coding: [{ system: SYSTEM.tbd, code: 'diagnostic-implication', display: 'Diagnostic Implication' }] };
  const base = genomicsObservation(opts.id, GENOMICS.diagnosticImplication, code, study);
  return {
    ...base,
    // Where the knowledge came from, with the IG's own slot for it (implication extension:workflow-relatedArtifact).
    extension: [{
      url: RELATED_ARTIFACT,
      valueRelatedArtifact: {
        type: 'citation', label: `ClinVar ${entry.variationId}`,
        display: `ClinVar Variation ID ${entry.variationId}`, url: `https://www.ncbi.nlm.nih.gov/clinvar/variation/${entry.variationId}/`,
      },
    }],
    derivedFrom: [{ reference: `Observation/${variant.id}` }],
    ...(components.length ? { component: components } : {}),
  };
}
