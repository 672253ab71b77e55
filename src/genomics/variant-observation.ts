// The Observations Helix emits for a called variant, per the HL7 Genomics Reporting IG 3.0.0
// (package hl7.fhir.uv.genomics-reporting#3.0.0): the variant itself, the phase relationship of
// two variants and a variant's molecular consequence. Codes are the ones the IG's profiles pattern
// and its value sets and examples use; where the IG and the genomics-operations reference
// implementation differ (SO and the phase CodeSystem's URLs, the refseq system), the IG wins.
// The variant Observation is written as JSON text, from templates of its constant parts made by
// the object builders below (json-template.ts); its object form is parsed from that text.
//
// This module also holds the vocabulary the study resources (study-resources.ts) share with it.
import { createHash } from 'node:crypto';
import type { CodeableConcept, Coding, Observation, ObservationComponent } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.js';
import { formatGenomicHgvs } from './hgvs.js';
import { jsonArray, JsonTemplate, TEXT, VALUE } from './json-template.js';
import type { GenomicBuild, GenomicSourceClass, GenomicStudy, MolecularConsequence, VariantCall } from './types.js';

const SD = 'http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition';

/** Canonical URLs of the IG profiles and extensions Helix's resources claim or use. */
export const GENOMICS = {
  variant: `${SD}/variant`,
  sequencePhaseRelationship: `${SD}/sequence-phase-relationship`,
  molecularConsequence: `${SD}/molecular-consequence`,
  diagnosticImplication: `${SD}/diagnostic-implication`,
  genomicStudy: `${SD}/genomic-study`,
  genomicStudyAnalysis: `${SD}/genomic-study-analysis`,
  genomicReport: `${SD}/genomic-report`,
  analysisExtension: `${SD}/genomic-study-analysis-ext`,
  genomeBuildExtension: `${SD}/genomic-study-analysis-genome-build`,
  specimenExtension: `${SD}/genomic-study-analysis-specimen`,
  studyReferenceExtension: `${SD}/genomic-study-reference`,
} as const;

/** Code systems, as the IG's value sets and examples spell them. */
export const SYSTEM = {
  loinc: 'http://loinc.org',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  v2DiagnosticService: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  sequenceOntology: 'http://www.sequenceontology.org',
  refseq: 'http://www.ncbi.nlm.nih.gov/refseq',
  ensembl: 'http://www.ensembl.org',
  hgvs: 'http://varnomen.hgvs.org',
  hgnc: 'http://www.genenames.org',
  dbsnp: 'http://www.ncbi.nlm.nih.gov/projects/SNP',
  // No canonical URI exists for SPDI; this is the genomics-operations reference implementation's.
  spdi: 'https://api.ncbi.nlm.nih.gov/variation/v0/',
  ucum: 'http://unitsofmeasure.org',
  tbd: 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs',
  phase: 'http://terminology.hl7.org/CodeSystem/sequence-phase-relationship-cs',
} as const;

/** A LOINC CodeableConcept with its display. */
export const loinc = (code: string, display: string): CodeableConcept => ({ coding: [{ system: SYSTEM.loinc, code, display }] });

/** The laboratory Coding the IG patterns on every genomics resource's category. */
export const LABORATORY: Coding = { system: SYSTEM.observationCategory, code: 'laboratory', display: 'Laboratory' };

/** The HL7 v2 table 0074 Coding for genetics (GE). */
export const GENETICS: Coding = { system: SYSTEM.v2DiagnosticService, code: 'GE', display: 'Genetics' };

// LOINC answer lists: LL1040-6 (assembly), LL378-1 (genomic source class), LL381-5 (allelic state).
const BUILDS: Record<GenomicBuild, Coding> = {
  GRCh37: { system: SYSTEM.loinc, code: 'LA14029-5', display: 'GRCh37' },
  GRCh38: { system: SYSTEM.loinc, code: 'LA26806-2', display: 'GRCh38' },
};
const SOURCE_CLASSES: Record<GenomicSourceClass, Coding> = {
  germline: { system: SYSTEM.loinc, code: 'LA6683-2', display: 'Germline' },
  somatic: { system: SYSTEM.loinc, code: 'LA6684-0', display: 'Somatic' },
};
const ALLELIC_STATES: Record<VariantCall['zygosity'], Coding> = {
  heterozygous: { system: SYSTEM.loinc, code: 'LA6706-1', display: 'Heterozygous' },
  homozygous: { system: SYSTEM.loinc, code: 'LA6705-3', display: 'Homozygous' },
  hemizygous: { system: SYSTEM.loinc, code: 'LA6707-9', display: 'Hemizygous' },
};

/** The LOINC answer (LL1040-6) for a reference assembly. */
export const buildConcept = (build: GenomicBuild): CodeableConcept => ({ coding: [BUILDS[build]] });

/** The subject reference of a study's resources. */
export const patientReference = (study: Pick<GenomicStudy, 'patientId'>): { reference: string } => ({ reference: `Patient/${study.patientId}` });

// DNA change types (component 48019-4, value set dna-change-type-vs: SO descendants of
// sequence_comparison SO:0002072), with the IG ConceptMap dna-change-type-map's SO terms.
const DNA_CHANGE_TYPES: Record<string, [string, string]> = {
  SNV: ['SO:0001483', 'SNV'],
  MNV: ['SO:0002007', 'MNV'],
  INS: ['SO:0000667', 'insertion'],
  DEL: ['SO:0000159', 'deletion'],
  DELINS: ['SO:1000032', 'delins'],
  DUP: ['SO:1000035', 'duplication'],
  INV: ['SO:1000036', 'inversion'],
  CNV: ['SO:0001019', 'copy_number_variation'],
};

/**
 * The SO Coding of a DNA change type (SNV, MNV, INS, DEL, DELINS or a StructuralType), for the
 * 48019-4 component and find-study-metadata's dnaChangeType; undefined for BND, which names an
 * adjacency rather than a change SO has a sequence_comparison term for.
 */
export function dnaChangeTypeCoding(type: string): Coding | undefined {
  const entry = DNA_CHANGE_TYPES[type];
  return entry ? { system: SYSTEM.sequenceOntology, code: entry[0], display: entry[1] } : undefined;
}

/** SNV, MNV, INS, DEL or DELINS from the trimmed alleles, or the call's structural kind. */
export function changeTypeOf(call: VariantCall): string {
  if (call.structuralType) return call.structuralType;
  if (call.ref === '') return 'INS';
  if (call.alt === '') return 'DEL';
  if (call.ref.length === 1 && call.alt.length === 1) return 'SNV';
  return call.ref.length === call.alt.length ? 'MNV' : 'DELINS';
}

const component = (code: string, display: string, value: Omit<ObservationComponent, 'code'>): ObservationComponent => ({
  code: loinc(code, display),
  ...value,
});
const coded = (coding: Coding): { valueCodeableConcept: CodeableConcept } => ({ valueCodeableConcept: { coding: [coding] } });
const unitless = (value: number, unit?: string) => ({ value, ...(unit ? { unit } : {}), system: SYSTEM.ucum, code: '1' });

/** What every genomics Observation shares: status, the two categories the IG requires, subject and date. */
export function genomicsObservation(
  id: string | undefined, profile: string, code: CodeableConcept, study: Pick<GenomicStudy, 'patientId' | 'testDate'>,
): Observation {
  return {
    resourceType: 'Observation',
    ...(id ? { id } : {}),
    meta: { profile: [profile] },
    status: 'final',
    category: [{ coding: [LABORATORY] }, { coding: [GENETICS] }],
    code,
    subject: patientReference(study),
    ...(study.testDate ? { effectiveDateTime: study.testDate } : {}),
  };
}

/** The IG `variant` Observation of one call (coordinates 0-based interval counting, as stored). */
export function variantObservation(call: VariantCall, study: GenomicStudy, opts: { id: string }): Observation {
  // Parsed from the text form, so that there is one implementation of the two.
  return JSON.parse(variantObservationJson(call, study, opts.id)) as Observation;
}

/**
 * The JSON text of a call's variant Observation (see variantObservation), filled into templates of
 * its constant parts: the range operations return thousands of these in one answer.
 */
export function variantObservationJson(call: VariantCall, study: GenomicStudy, id: string): string {
  // A symbolic allele or breakend names an interval, not bases: no alleles, HGVS or SPDI then.
  const symbolic = call.ref === '' && call.alt === '';
  const components = [
    SOURCE_CLASS_COMPONENTS[study.sourceClass],
    BUILD_COMPONENTS[study.build],
    VARIANT_TEMPLATES.sequence.fill(call.sequence),
    COORDINATE_SYSTEM_COMPONENT,
    VARIANT_TEMPLATES.startEnd.fill(numberJson(call.start), numberJson(call.end)),
  ];
  // LOINC 69547-8/69551-0: an insertion has no reference bases and a deletion no alternate ones.
  if (call.ref) components.push(VARIANT_TEMPLATES.ref.fill(call.ref));
  if (call.alt) components.push(VARIANT_TEMPLATES.alt.fill(call.alt));
  if (!symbolic) {
    const hgvs = genomicHgvs(call);
    if (hgvs) components.push(VARIANT_TEMPLATES.hgvs.fill(hgvs, hgvs));
    components.push(VARIANT_TEMPLATES.spdi.fill(call.spdi, call.spdi));
  }
  for (const rs of call.ids) {
    if (/^rs[0-9]+$/.test(rs)) components.push(VARIANT_TEMPLATES.dbsnp.fill(rs, rs));
  }
  const changeType = changeTypeOf(call);
  components.push(CHANGE_TYPE_COMPONENTS.get(changeType) ?? changeTypeComponent(changeType));
  if (call.copyNumber !== undefined) components.push(VARIANT_TEMPLATES.copyNumber.fill(numberJson(call.copyNumber)));
  components.push(ALLELIC_STATE_COMPONENTS[call.zygosity]);
  if (call.alleleFrequency !== undefined) components.push(VARIANT_TEMPLATES.alleleFrequency.fill(numberJson(call.alleleFrequency)));
  if (call.depth !== undefined) components.push(VARIANT_TEMPLATES.depth.fill(numberJson(call.depth)));
  if (call.gene) {
    const hgncId = call.consequences.find((c) => c.gene === call.gene && c.hgncId)?.hgncId;
    components.push(hgncId ? VARIANT_TEMPLATES.geneCoded.fill(hgncCode(hgncId), call.gene) : VARIANT_TEMPLATES.geneText.fill(call.gene));
  }
  const shell = VARIANT_SHELLS[(id ? 2 : 0) + (study.testDate ? 1 : 0)] as JsonTemplate;
  const holes = [...(id ? [id] : []), study.patientId, ...(study.testDate ? [study.testDate] : []), jsonArray(components)];
  return shell.fill(...holes);
}

// The variant Observation's parts, made once by the object builders: constant components as JSON,
// the rest as templates whose holes are the call's values (in the order they appear).
const numberJson = (n: number): string => JSON.stringify(n);
const constantComponents = <K extends string>(codes: Record<K, Coding>, code: string, display: string): Record<K, string> =>
  Object.fromEntries(Object.entries<Coding>(codes).map(([k, c]) => [k, JSON.stringify(component(code, display, coded(c)))])) as Record<K, string>;
const SOURCE_CLASS_COMPONENTS = constantComponents(SOURCE_CLASSES, '48002-0', 'Genomic source class [Type]');
const BUILD_COMPONENTS = constantComponents(BUILDS, '62374-4', 'Human reference sequence assembly version');
const ALLELIC_STATE_COMPONENTS = constantComponents(ALLELIC_STATES, '53034-5', 'Allelic state');
const COORDINATE_SYSTEM_COMPONENT = JSON.stringify(component('92822-6', 'Genomic coordinate system [Type]',
  coded({ system: SYSTEM.loinc, code: 'LA30100-4', display: '0-based interval counting' })));
const VARIANT_TEMPLATES = {
  sequence: new JsonTemplate(component('48013-7', 'Genomic reference sequence [ID]', coded({ system: SYSTEM.refseq, code: TEXT }))),
  // Half-open [start, end): an insertion is the empty interval at its position (low = high).
  startEnd: new JsonTemplate(component('81254-5', 'Genomic allele start-end', { valueRange: { low: { value: VALUE }, high: { value: VALUE } } })),
  ref: new JsonTemplate(component('69547-8', 'Genomic ref allele [ID]', { valueString: TEXT })),
  alt: new JsonTemplate(component('69551-0', 'Genomic alt allele [ID]', { valueString: TEXT })),
  hgvs: new JsonTemplate(component('81290-9', 'Genomic DNA change (gHGVS)', coded({ system: SYSTEM.hgvs, code: TEXT, display: TEXT }))),
  // The SPDI as the reference implementation gives it: a variation code (the variation-code slice).
  spdi: new JsonTemplate(component('81252-9', 'Discrete genetic variant', coded({ system: SYSTEM.spdi, code: TEXT, display: TEXT }))),
  dbsnp: new JsonTemplate(component('81252-9', 'Discrete genetic variant', coded({ system: SYSTEM.dbsnp, code: TEXT, display: TEXT }))),
  copyNumber: new JsonTemplate(component('82155-3', 'Genomic structural variant copy number', { valueQuantity: unitless(VALUE) })),
  alleleFrequency: new JsonTemplate(component('81258-6', 'Sample variant allelic frequency [NFr]', {
    valueQuantity: unitless(VALUE, 'relative frequency of a particular allele in the specimen'),
  })),
  // The IG's examples give the locus depth (VCF DP) here, not the reads carrying the allele.
  depth: new JsonTemplate(component('82121-5', 'Allelic read depth', { valueQuantity: unitless(VALUE, 'reads per base pair') })),
  // Holes: the HGNC code (hgncCode passes the placeholder through), then the symbol.
  geneCoded: new JsonTemplate(component('48018-6', 'Gene studied [ID]', { valueCodeableConcept: geneConcept(TEXT, TEXT) })),
  geneText: new JsonTemplate(component('48018-6', 'Gene studied [ID]', { valueCodeableConcept: geneConcept(TEXT, undefined) })),
};

/** The 48019-4 component of a change type: its SO coding, else its name as text (a breakend's as `breakend`). */
function changeTypeComponent(changeType: string): string {
  const coding = dnaChangeTypeCoding(changeType);
  return JSON.stringify(component('48019-4', 'DNA change type', {
    valueCodeableConcept: coding ? { coding: [coding] } : { text: changeType === 'BND' ? 'breakend' : changeType },
  }));
}
const CHANGE_TYPE_COMPONENTS = new Map([...Object.keys(DNA_CHANGE_TYPES), 'BND'].map((t) => [t, changeTypeComponent(t)]));

// The Observation around its components, by whether it has an id (bit 2) and its study a test
// date (bit 1). Holes: id, patient, test date, the components' array.
const VARIANT_SHELLS = [false, true].flatMap((hasId) => [false, true].map((hasDate) => new JsonTemplate({
  ...genomicsObservation(hasId ? TEXT : undefined, GENOMICS.variant, loinc('69548-6', 'Genetic variant assessment'),
    { patientId: TEXT, ...(hasDate ? { testDate: TEXT } : {}) }),
  valueCodeableConcept: { coding: [{ system: SYSTEM.loinc, code: 'LA9633-4', display: 'Present' }] },
  component: VALUE,
})));

/** The call's genomic HGVS, or undefined where HGVS cannot write it (an insertion before base 1). */
function genomicHgvs(call: VariantCall): string | undefined {
  try {
    return formatGenomicHgvs(call);
  } catch (err) {
    if (err instanceof FhirError) return undefined;
    throw err;
  }
}

/** An HGNC gene: coded when its HGNC id is known, else by symbol. */
export function geneConcept(symbol: string, hgncId: string | undefined): CodeableConcept {
  if (!hgncId) return { text: symbol };
  return { coding: [{ system: SYSTEM.hgnc, code: hgncCode(hgncId), display: symbol }] };
}

/** An HGNC id as the IG writes it: VEP writes `HGNC:1100` or `1100`. */
function hgncCode(hgncId: string): string {
  return /^[0-9]+$/.test(hgncId) ? `HGNC:${hgncId}` : hgncId;
}

/**
 * The IG `sequence-phase-relationship` Observation between two variant Observations. Without
 * `opts.id` the id is derived from the two variants' ids, so the same pair keeps its id across
 * requests that emit it again.
 */
export function sequencePhaseRelationship(
  a: { id: string }, b: { id: string }, relation: 'Cis' | 'Trans', study: GenomicStudy, opts: { id?: string } = {},
): Observation {
  const id = opts.id ?? `phase-${createHash('sha256').update(`${a.id}\n${b.id}`).digest('hex').slice(0, 40)}`;
  return {
    ...genomicsObservation(id, GENOMICS.sequencePhaseRelationship, loinc('82120-7', 'Allelic phase'), study),
    valueCodeableConcept: { coding: [{ system: SYSTEM.phase, code: relation, display: relation }] },
    derivedFrom: [{ reference: `Observation/${a.id}` }, { reference: `Observation/${b.id}` }],
  };
}

/** The IG `molecular-consequence` Observation of one annotated consequence, derived from its variant Observation. */
export function molecularConsequenceObservation(
  consequence: MolecularConsequence, variant: { id: string }, study: GenomicStudy, opts: { id: string },
): Observation {
  const hgvs = (code: string, display: string, text: string) => component(code, display, coded({ system: SYSTEM.hgvs, code: text, display: text }));
  const components: ObservationComponent[] = [];
  if (consequence.hgvsc) components.push(hgvs('48004-6', 'DNA change (c.HGVS)', consequence.hgvsc));
  if (consequence.transcript) {
    components.push(component('51958-7', 'Transcript reference sequence [ID]', { valueCodeableConcept: transcriptConcept(consequence.transcript) }));
  }
  if (consequence.hgvsp) components.push(hgvs('48005-3', 'Amino acid change (pHGVS)', consequence.hgvsp));
  // One component per term (the slice repeats): several codings in one concept would claim to be synonyms.
  for (const term of consequence.terms) {
    const coding = sequenceOntologyCoding(term);
    components.push({
      code: { coding: [{ system: SYSTEM.tbd, code: 'feature-consequence', display: 'Feature Consequence' }] },
      valueCodeableConcept: coding ? { coding: [coding] } : { text: term },
    });
  }
  if (consequence.gene) {
    components.push(component('48018-6', 'Gene studied [ID]', { valueCodeableConcept: geneConcept(consequence.gene, consequence.hgncId) }));
  }
  const code = { coding: [{ system: SYSTEM.tbd, code: 'molecular-consequence', display: 'Molecular Consequence' }] };
  return {
    ...genomicsObservation(opts.id, GENOMICS.molecularConsequence, code, study),
    // VEP IMPACT / SnpEff putative impact have no code system; the IG's example invents one, text does not.
    ...(consequence.impact ? { interpretation: [{ text: consequence.impact }] } : {}),
    derivedFrom: [{ reference: `Observation/${variant.id}` }],
    ...(components.length ? { component: components } : {}),
  };
}

/** A transcript accession: RefSeq (NM_, NR_, XM_, XR_) or Ensembl (ENST), else as text. */
function transcriptConcept(transcript: string): CodeableConcept {
  if (/^[NX][MR]_[0-9]+/.test(transcript)) return { coding: [{ system: SYSTEM.refseq, code: transcript, display: transcript }] };
  if (/^ENST[0-9]+/.test(transcript)) return { coding: [{ system: SYSTEM.ensembl, code: transcript, display: transcript }] };
  return { text: transcript };
}

// Consequence terms VEP and SnpEff write, with their Sequence Ontology accessions (Eilbeck et al.,
// Genome Biology 2005; http://www.sequenceontology.org): VEP's set as Ensembl's "Calculated
// variant consequences" table lists it (most to least severe), then SnpEff's own terms.
const SO_TERMS: Record<string, string> = {
  transcript_ablation: 'SO:0001893', splice_acceptor_variant: 'SO:0001574', splice_donor_variant: 'SO:0001575',
  stop_gained: 'SO:0001587', frameshift_variant: 'SO:0001589', stop_lost: 'SO:0001578', start_lost: 'SO:0002012',
  transcript_amplification: 'SO:0001889', feature_elongation: 'SO:0001907', feature_truncation: 'SO:0001906',
  inframe_insertion: 'SO:0001821', inframe_deletion: 'SO:0001822', missense_variant: 'SO:0001583',
  protein_altering_variant: 'SO:0001818', splice_donor_5th_base_variant: 'SO:0001787', splice_region_variant: 'SO:0001630',
  splice_donor_region_variant: 'SO:0002170', splice_polypyrimidine_tract_variant: 'SO:0002169',
  incomplete_terminal_codon_variant: 'SO:0001626', start_retained_variant: 'SO:0002019', stop_retained_variant: 'SO:0001567',
  synonymous_variant: 'SO:0001819', coding_sequence_variant: 'SO:0001580', mature_miRNA_variant: 'SO:0001620',
  '5_prime_UTR_variant': 'SO:0001623', '3_prime_UTR_variant': 'SO:0001624', non_coding_transcript_exon_variant: 'SO:0001792',
  intron_variant: 'SO:0001627', NMD_transcript_variant: 'SO:0001621', non_coding_transcript_variant: 'SO:0001619',
  coding_transcript_variant: 'SO:0001968', upstream_gene_variant: 'SO:0001631', downstream_gene_variant: 'SO:0001632',
  TFBS_ablation: 'SO:0001895', TFBS_amplification: 'SO:0001892', TF_binding_site_variant: 'SO:0001782',
  regulatory_region_ablation: 'SO:0001894', regulatory_region_amplification: 'SO:0001891',
  regulatory_region_variant: 'SO:0001566', intergenic_variant: 'SO:0001628', sequence_variant: 'SO:0001060',
  // SnpEff
  exon_loss_variant: 'SO:0001572', initiator_codon_variant: 'SO:0001582', gene_fusion: 'SO:0001565',
  conservative_inframe_insertion: 'SO:0001823', disruptive_inframe_insertion: 'SO:0001824',
  conservative_inframe_deletion: 'SO:0001825', disruptive_inframe_deletion: 'SO:0001826',
  '5_prime_UTR_premature_start_codon_gain_variant': 'SO:0001988', intragenic_variant: 'SO:0002011',
};

/** The SO Coding of a VEP/SnpEff consequence term (`missense_variant` → SO:0001583), or undefined when unknown. */
export function sequenceOntologyCoding(term: string): Coding | undefined {
  const code = Object.hasOwn(SO_TERMS, term) ? SO_TERMS[term] : undefined;
  return code ? { system: SYSTEM.sequenceOntology, code, display: term } : undefined;
}
