// The genomics resources (src/genomics/resources.ts) on synthetic calls: the codes each carries,
// checked against values looked up by hand in the Genomics Reporting IG 3.0.0 package (profiles,
// value sets, examples) and LOINC's answer lists, and every resource validated against its IG
// profile by Helix's own validator with the IG's StructureDefinitions loaded.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Coding, Observation, ObservationComponent, Procedure, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import {
  genomicReport, genomicStudyProcedure, molecularConsequenceObservation, sequencePhaseRelationship, variantObservation,
} from '../../src/genomics/resources.js';
import type { GenomicStudy, MolecularConsequence, VariantCall } from '../../src/genomics/types.js';
import { createProfileRegistry } from '../../src/validation/profiles.js';
import { createValidator } from '../../src/validation/validator.js';
import { errors, IG, igStructureDefinitions, isGap } from './ig-profiles.js';

const SD = 'http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/';
const LOINC = 'http://loinc.org';
const SO = 'http://www.sequenceontology.org';

const germline: GenomicStudy = {
  id: 'study-1', patientId: 'pat-1', build: 'GRCh38', sourceClass: 'germline', testIdentifier: 'LAB-T-42',
  testDate: '2024-03-05', specimenIdentifier: 'SPEC-7', sampleName: 'NA12878', reportId: 'report-1', changeTypes: ['DEL', 'SNV'],
};
const somatic: GenomicStudy = { ...germline, id: 'study-2', reportId: 'report-2', sourceClass: 'somatic', testIdentifier: 'LAB-T-43' };

/** A normalised call with an SPDI made of its fields; the rest defaults to a heterozygous PASS call. */
function call(c: Pick<VariantCall, 'sequence' | 'chromosome' | 'start' | 'end' | 'ref' | 'alt'> & Partial<VariantCall>): VariantCall {
  return {
    spdi: `${c.sequence}:${c.start}:${c.ref}:${c.alt}`, vcf: { pos: c.start + 1, ref: c.ref || 'N', alt: c.alt || 'N' },
    ids: [], genotype: '0/1', phased: false, zygosity: 'heterozygous', filter: 'PASS', consequences: [], ...c,
  };
}

const brafConsequence: MolecularConsequence = {
  terms: ['missense_variant'], gene: 'BRAF', hgncId: 'HGNC:1097', transcript: 'NM_004333.6',
  hgvsc: 'NM_004333.6:c.1799T>A', hgvsp: 'NP_004324.2:p.Val600Glu', impact: 'MODERATE',
};
const calls = {
  snvHet: call({
    sequence: 'NC_000019.10', chromosome: '19', start: 11100235, end: 11100236, ref: 'G', alt: 'A', ids: ['rs121908025'],
    depth: 40, alleleFrequency: 0.475, gene: 'LDLR', consequences: [{ terms: ['missense_variant'], gene: 'LDLR', hgncId: '6547' }],
  }),
  deletion: call({ sequence: 'NC_000007.14', chromosome: '7', start: 117559590, end: 117559593, ref: 'CTT', alt: '' }),
  insertion: call({ sequence: 'NC_000017.11', chromosome: '17', start: 43045700, end: 43045700, ref: '', alt: 'AG', zygosity: 'homozygous', genotype: '1/1' }),
  symbolicDel: call({
    sequence: 'NC_000001.11', chromosome: '1', start: 1000000, end: 1005000, ref: '', alt: '', spdi: 'NC_000001.11:1000000:1005000:<DEL>',
    vcf: { pos: 1000000, ref: 'T', alt: '<DEL>' }, structuralType: 'DEL', copyNumber: 1,
  }),
  symbolicDup: call({
    sequence: 'NC_000002.12', chromosome: '2', start: 5000, end: 9000, ref: '', alt: '', spdi: 'NC_000002.12:5000:9000:<DUP>',
    vcf: { pos: 5000, ref: 'A', alt: '<DUP>' }, structuralType: 'DUP', copyNumber: 3,
  }),
  breakend: call({
    sequence: 'NC_000002.12', chromosome: '2', start: 321681, end: 321681, ref: '', alt: '', spdi: 'NC_000002.12:321681:321681:<BND>',
    vcf: { pos: 321681, ref: 'G', alt: 'G]17:198982]' }, structuralType: 'BND',
  }),
  hemizygousX: call({ sequence: 'NC_000023.11', chromosome: 'X', start: 153000000, end: 153000001, ref: 'C', alt: 'T', genotype: '1', zygosity: 'hemizygous' }),
  somaticSnv: call({
    sequence: 'NC_000007.14', chromosome: '7', start: 140753335, end: 140753336, ref: 'A', alt: 'T', alleleFrequency: 0.1793, depth: 145,
    gene: 'BRAF', consequences: [brafConsequence],
  }),
};

const variant = (name: keyof typeof calls, study = germline): Observation => variantObservation(calls[name], study, { id: `v-${name}` });

/** The components coded with LOINC `code`. */
const components = (o: Observation, code: string): ObservationComponent[] =>
  (o.component ?? []).filter((c) => c.code.coding?.some((x) => x.system === LOINC && x.code === code));

/** The one component coded with LOINC `code`. */
function only(o: Observation, code: string): ObservationComponent {
  const found = components(o, code);
  assert.equal(found.length, 1, `one ${code} component`);
  return found[0] as ObservationComponent;
}

const firstCoding = (c: ObservationComponent): Coding | undefined => c.valueCodeableConcept?.coding?.[0];
const pick = (c: Coding | undefined) => c && { system: c.system, code: c.code };

function assertGenomicsObservation(o: Observation, profile: string): void {
  assert.deepEqual(o.meta?.profile, [SD + profile]);
  assert.equal(o.status, 'final');
  // The two category slices of genomic-base (patternCoding on category.coding).
  const categories = (o.category ?? []).map((c) => pick(c.coding?.[0]));
  assert.deepEqual(categories, [
    { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
    { system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE' },
  ]);
  assert.deepEqual(o.subject, { reference: 'Patient/pat-1' });
  // Every component code carries a display.
  for (const c of o.component ?? []) for (const coding of c.code.coding ?? []) assert.ok(coding.display, `display of ${coding.code}`);
}

describe('genomics resources: codes', () => {
  it('an SNV het: the IG variant profile codes, SPDI, HGVS g., dbSNP, AF, depth and HGNC gene', () => {
    const o = variant('snvHet');
    assertGenomicsObservation(o, 'variant');
    assert.equal(o.id, 'v-snvHet');
    assert.deepEqual(pick(o.code.coding?.[0]), { system: LOINC, code: '69548-6' });
    assert.deepEqual(pick(o.valueCodeableConcept?.coding?.[0]), { system: LOINC, code: 'LA9633-4' });
    assert.equal(o.effectiveDateTime, '2024-03-05');
    assert.deepEqual(pick(firstCoding(only(o, '48002-0'))), { system: LOINC, code: 'LA6683-2' });
    assert.deepEqual(pick(firstCoding(only(o, '62374-4'))), { system: LOINC, code: 'LA26806-2' });
    assert.deepEqual(pick(firstCoding(only(o, '48013-7'))), { system: 'http://www.ncbi.nlm.nih.gov/refseq', code: 'NC_000019.10' });
    // LOINC LL5323-2: LA30100-4 is 0-based interval counting (LA30102-0 is 1-based character counting).
    assert.deepEqual(pick(firstCoding(only(o, '92822-6'))), { system: LOINC, code: 'LA30100-4' });
    assert.deepEqual(only(o, '81254-5').valueRange, { low: { value: 11100235 }, high: { value: 11100236 } });
    assert.equal(only(o, '69547-8').valueString, 'G');
    assert.equal(only(o, '69551-0').valueString, 'A');
    // 0-based 11100235 is 1-based base 11100236.
    assert.deepEqual(pick(firstCoding(only(o, '81290-9'))), { system: 'http://varnomen.hgvs.org', code: 'NC_000019.10:g.11100236G>A' });
    const codes = components(o, '81252-9').map((c) => pick(firstCoding(c)));
    assert.deepEqual(codes, [
      { system: 'https://api.ncbi.nlm.nih.gov/variation/v0/', code: 'NC_000019.10:11100235:G:A' },
      { system: 'http://www.ncbi.nlm.nih.gov/projects/SNP', code: 'rs121908025' },
    ]);
    assert.deepEqual(pick(firstCoding(only(o, '48019-4'))), { system: SO, code: 'SO:0001483' });
    assert.deepEqual(pick(firstCoding(only(o, '53034-5'))), { system: LOINC, code: 'LA6706-1' });
    assert.deepEqual(only(o, '81258-6').valueQuantity, {
      value: 0.475, unit: 'relative frequency of a particular allele in the specimen', system: 'http://unitsofmeasure.org', code: '1',
    });
    assert.equal(only(o, '82121-5').valueQuantity?.value, 40);
    // VEP's bare HGNC_ID number gets the HGNC: prefix the IG's examples use.
    assert.deepEqual(firstCoding(only(o, '48018-6')), { system: 'http://www.genenames.org', code: 'HGNC:6547', display: 'LDLR' });
    assert.equal(components(o, '82155-3').length, 0);
  });

  it('a deletion has no alt allele, SO deletion and an HGVS range del', () => {
    const o = variant('deletion');
    assertGenomicsObservation(o, 'variant');
    assert.equal(only(o, '69547-8').valueString, 'CTT');
    assert.equal(components(o, '69551-0').length, 0);
    assert.deepEqual(only(o, '81254-5').valueRange, { low: { value: 117559590 }, high: { value: 117559593 } });
    assert.equal(firstCoding(only(o, '81290-9'))?.code, 'NC_000007.14:g.117559591_117559593del');
    assert.deepEqual(pick(firstCoding(only(o, '48019-4'))), { system: SO, code: 'SO:0000159' });
  });

  it('an insertion is the empty interval at its position, with HGVS between the flanking bases', () => {
    const o = variant('insertion');
    assert.equal(components(o, '69547-8').length, 0);
    assert.equal(only(o, '69551-0').valueString, 'AG');
    assert.deepEqual(only(o, '81254-5').valueRange, { low: { value: 43045700 }, high: { value: 43045700 } });
    assert.equal(firstCoding(only(o, '81290-9'))?.code, 'NC_000017.11:g.43045700_43045701insAG');
    assert.deepEqual(pick(firstCoding(only(o, '48019-4'))), { system: SO, code: 'SO:0000667' });
    assert.deepEqual(pick(firstCoding(only(o, '53034-5'))), { system: LOINC, code: 'LA6705-3' });
  });

  it('a <DEL> structural variant: interval, SO deletion and copy number, but no alleles, HGVS or SPDI', () => {
    const o = variant('symbolicDel');
    assertGenomicsObservation(o, 'variant');
    assert.deepEqual(only(o, '81254-5').valueRange, { low: { value: 1000000 }, high: { value: 1005000 } });
    for (const absent of ['69547-8', '69551-0', '81290-9', '81252-9']) assert.equal(components(o, absent).length, 0, absent);
    assert.deepEqual(pick(firstCoding(only(o, '48019-4'))), { system: SO, code: 'SO:0000159' });
    assert.deepEqual(only(o, '82155-3').valueQuantity, { value: 1, system: 'http://unitsofmeasure.org', code: '1' });
  });

  it('a <DUP> is SO duplication (IG ConceptMap dna-change-type-map); a breakend has its type as text', () => {
    const dup = variant('symbolicDup');
    assert.deepEqual(pick(firstCoding(only(dup, '48019-4'))), { system: SO, code: 'SO:1000035' });
    assert.equal(only(dup, '82155-3').valueQuantity?.value, 3);
    const bnd = variant('breakend');
    assert.deepEqual(only(bnd, '48019-4').valueCodeableConcept, { text: 'breakend' });
  });

  it('a hemizygous X call and a somatic call', () => {
    const x = variant('hemizygousX');
    assert.deepEqual(pick(firstCoding(only(x, '53034-5'))), { system: LOINC, code: 'LA6707-9' });
    assert.deepEqual(pick(firstCoding(only(x, '48013-7'))), { system: 'http://www.ncbi.nlm.nih.gov/refseq', code: 'NC_000023.11' });
    const s = variant('somaticSnv', somatic);
    assert.deepEqual(pick(firstCoding(only(s, '48002-0'))), { system: LOINC, code: 'LA6684-0' });
    assert.equal(firstCoding(only(s, '81290-9'))?.code, 'NC_000007.14:g.140753336A>T');
    assert.equal(only(s, '81258-6').valueQuantity?.value, 0.1793);
  });

  it('a phase relationship: LOINC 82120-7, the IG phase code, both variants, a stable id', () => {
    const o = sequencePhaseRelationship({ id: 'v-a' }, { id: 'v-b' }, 'Trans', germline);
    assertGenomicsObservation(o, 'sequence-phase-relationship');
    assert.deepEqual(pick(o.code.coding?.[0]), { system: LOINC, code: '82120-7' });
    assert.deepEqual(pick(o.valueCodeableConcept?.coding?.[0]), { system: 'http://terminology.hl7.org/CodeSystem/sequence-phase-relationship-cs', code: 'Trans' });
    assert.deepEqual(o.derivedFrom, [{ reference: 'Observation/v-a' }, { reference: 'Observation/v-b' }]);
    assert.match(o.id ?? '', /^[A-Za-z0-9\-.]{1,64}$/);
    assert.equal(sequencePhaseRelationship({ id: 'v-a' }, { id: 'v-b' }, 'Trans', germline).id, o.id);
    assert.notEqual(sequencePhaseRelationship({ id: 'v-b' }, { id: 'v-a' }, 'Trans', germline).id, o.id);
    assert.equal(sequencePhaseRelationship({ id: 'v-a' }, { id: 'v-b' }, 'Cis', germline, { id: 'given' }).id, 'given');
  });

  it('a molecular consequence: SO terms per component, HGVS c./p., transcript, impact, derived from its variant', () => {
    const o = molecularConsequenceObservation({ ...brafConsequence, terms: ['missense_variant', 'splice_region_variant', 'made_up_term'] },
      { id: 'v-somaticSnv' }, somatic, { id: 'mc-1' });
    assertGenomicsObservation(o, 'molecular-consequence');
    assert.deepEqual(pick(o.code.coding?.[0]), { system: 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs', code: 'molecular-consequence' });
    assert.equal(o.valueCodeableConcept, undefined); // implication: value[x] 0..0
    assert.deepEqual(o.derivedFrom, [{ reference: 'Observation/v-somaticSnv' }]);
    const features = (o.component ?? []).filter((c) => c.code.coding?.[0]?.code === 'feature-consequence').map((c) => c.valueCodeableConcept);
    assert.deepEqual(features, [
      { coding: [{ system: SO, code: 'SO:0001583', display: 'missense_variant' }] },
      { coding: [{ system: SO, code: 'SO:0001630', display: 'splice_region_variant' }] },
      { text: 'made_up_term' },
    ]);
    assert.equal(firstCoding(only(o, '48004-6'))?.code, 'NM_004333.6:c.1799T>A');
    assert.equal(firstCoding(only(o, '48005-3'))?.code, 'NP_004324.2:p.Val600Glu');
    assert.deepEqual(pick(firstCoding(only(o, '51958-7'))), { system: 'http://www.ncbi.nlm.nih.gov/refseq', code: 'NM_004333.6' });
    assert.deepEqual(o.interpretation, [{ text: 'MODERATE' }]);
  });

  it('the genomic-study Procedure: test identifier, and build and specimen on its contained analysis', () => {
    const p = genomicStudyProcedure(germline);
    assert.equal(p.id, 'study-1');
    assert.deepEqual(p.meta?.profile, [`${SD}genomic-study`]);
    assert.deepEqual(p.identifier, [{ value: 'LAB-T-42' }]);
    assert.equal(p.status, 'completed');
    assert.deepEqual(pick(p.category?.coding?.[0]), { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' });
    assert.equal(p.performedDateTime, '2024-03-05');
    assert.deepEqual(p.extension, [{ url: `${SD}genomic-study-analysis-ext`, valueReference: { reference: '#analysis' } }]);
    const analysis = p.contained?.[0] as Procedure;
    assert.equal(analysis.id, 'analysis');
    assert.deepEqual(analysis.meta?.profile, [`${SD}genomic-study-analysis`]);
    assert.deepEqual(analysis.extension, [
      { url: `${SD}genomic-study-analysis-genome-build`, valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA26806-2', display: 'GRCh38' }] } },
      { url: `${SD}genomic-study-analysis-specimen`, valueReference: { identifier: { value: 'SPEC-7' } } },
    ]);
    assert.equal(genomicStudyProcedure(germline, { id: 'other' }).id, 'other');
  });

  it('the genomic-report DiagnosticReport: 51969-4, GE, the study reference and the results', () => {
    const r = genomicReport(germline, { resultIds: ['v-snvHet', 'v-deletion'] });
    assert.equal(r.id, 'report-1');
    assert.deepEqual(r.meta?.profile, [`${SD}genomic-report`]);
    assert.deepEqual(pick(r.code.coding?.[0]), { system: LOINC, code: '51969-4' });
    assert.deepEqual(r.category?.map((c) => pick(c.coding?.[0])), [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE' }]);
    assert.deepEqual(r.extension, [{ url: `${SD}genomic-study-reference`, valueReference: { reference: 'Procedure/study-1' } }]);
    assert.deepEqual(r.identifier, [{ value: 'LAB-T-42' }]);
    assert.equal(r.effectiveDateTime, '2024-03-05');
    assert.deepEqual(r.result, [{ reference: 'Observation/v-snvHet' }, { reference: 'Observation/v-deletion' }]);
    assert.equal('result' in genomicReport(germline, { id: 'r', resultIds: [] }), false);
  });
});

describe('genomics resources: IG profile validation', { skip: !existsSync(IG) && '../shared/data/ig/genomics-reporting is absent' }, () => {
  const defs = loadDefinitions();
  const registry = createProfileRegistry(defs);
  const sds = existsSync(IG) ? igStructureDefinitions() : [];
  for (const sd of sds) registry.add(sd);
  const validator = createValidator(defs, registry);

  it('loads all 42 StructureDefinitions of the IG package', () => {
    assert.equal(sds.length, 42);
    for (const profile of ['variant', 'sequence-phase-relationship', 'molecular-consequence', 'genomic-study', 'genomic-study-analysis', 'genomic-report']) {
      assert.ok(registry.has(SD + profile), profile);
    }
  });

  it("the IG's own examples get the validator's known false positives and no other error", () => {
    const examples = ['Observation-variant-with-molec-consequences', 'Observation-molec-conseq1', 'Observation-SequencePhaseRelationExample1',
      'Procedure-PGXGenomicStudy', 'Procedure-PGXGenomicStudyAnalysis', 'DiagnosticReport-GenomicReportExample01'];
    for (const name of examples) {
      const found = errors(validator.validate(JSON.parse(readFileSync(join(IG, 'example', `${name}.json`), 'utf8')) as Resource));
      // When this fails because the gaps are gone, the validator was fixed: drop VALIDATOR_GAPS.
      assert.ok(found.length > 0 && found.every(isGap), `${name}: ${JSON.stringify(found)}`);
    }
  });

  it('the profiles are applied: a variant or report with the wrong code fails its pattern', () => {
    const wrong = { coding: [{ system: LOINC, code: '8310-5' }] };
    for (const resource of [{ ...variant('snvHet'), code: wrong }, { ...genomicReport(germline, { resultIds: [] }), code: wrong }]) {
      const found = errors(validator.validate(resource)).filter((i) => !isGap(i));
      assert.deepEqual(found.map((i) => [i.diagnostics.replace(/ \(profile .*/, ''), i.expression]), [
        ['Value did not match expected pattern', [`${resource.resourceType}.code`]],
      ]);
    }
  });

  it('every resource built here conforms to its IG profile', () => {
    const procedure = genomicStudyProcedure(germline);
    const built: Resource[] = [
      ...(Object.keys(calls) as (keyof typeof calls)[]).map((name) => variant(name, name === 'somaticSnv' ? somatic : germline)),
      sequencePhaseRelationship({ id: 'v-snvHet' }, { id: 'v-hemizygousX' }, 'Cis', germline),
      molecularConsequenceObservation(brafConsequence, { id: 'v-somaticSnv' }, somatic, { id: 'mc-1' }),
      procedure,
      // The contained analysis claims its own profile, which only a validation of it on its own checks.
      procedure.contained?.[0] as Procedure,
      genomicStudyProcedure({ ...germline, specimenIdentifier: undefined, testDate: undefined }),
      genomicReport(germline, { resultIds: ['v-snvHet', 'v-deletion'] }),
      genomicReport({ ...germline, testDate: undefined }, { resultIds: [] }),
    ];
    for (const resource of built) {
      const issues = validator.validate(resource);
      const claimed = resource.meta?.profile?.[0] as string;
      assert.ok(!issues.some((i) => i.code === 'not-found'), `${claimed} is known to the validator`);
      const unexplained = errors(issues).filter((i) => !isGap(i));
      assert.deepEqual(unexplained, [], `${resource.resourceType}/${resource.id} against ${claimed}`);
    }
  });
});
