// The diagnostic-implication Observation (src/genomics/implication-observation.ts) on synthetic
// ClinVar entries: its codes, checked against values looked up by hand in the Genomics Reporting
// IG 3.0.0 package (StructureDefinition-implication and -diagnostic-implication,
// CodeSystem-clinvar-evidence-level-custom-cs) and LOINC's answer list LL4034-6, and the
// Observation validated against the IG profile the way resources.test.ts validates the others
// (IG StructureDefinitions loaded into Helix's validator; the same known validator gaps).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import type { ClinvarEntry } from '../../src/genomics/clinvar.js';
import { conditionCodesOf } from '../../src/genomics/dx-implications.js';
import { diagnosticImplicationObservation } from '../../src/genomics/resources.js';
import type { GenomicStudy } from '../../src/genomics/types.js';
import { createProfileRegistry } from '../../src/validation/profiles.js';
import { createValidator } from '../../src/validation/validator.js';
import { errors, IG, igStructureDefinitions, isGap } from './ig-profiles.js';

const SD = 'http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/';
const LOINC = 'http://loinc.org';

const study: GenomicStudy = {
  id: 'study-1', patientId: 'pat-1', build: 'GRCh38', sourceClass: 'germline', testIdentifier: 'LAB-T-42',
  testDate: '2024-03-05', sampleName: 'NA12878', reportId: 'report-1', changeTypes: ['SNV'],
};
/** CFTR p.Phe508del as the fixture writes it (ClinVar Variation 7105). */
const f508del: ClinvarEntry = {
  build: 'GRCh38', sequence: 'NC_000007.14', start: 117559590, end: 117559593, ref: 'TCT', alt: '', variationId: '7105',
  significance: 'Pathogenic', reviewStatus: 'practice_guideline',
  conditions: [
    { name: 'Cystic fibrosis', ids: ['MONDO:MONDO:0009061', 'MedGen:C0010674', 'OMIM:219700', 'Orphanet:ORPHA586', 'SNOMED_CT:190905008'] },
    { name: 'not provided', ids: ['MedGen:C3661900'] },
    { name: 'Some phenotype', ids: ['Human_Phenotype_Ontology:HP:0001638', 'Gene:1080'] },
  ],
  genes: [{ symbol: 'CFTR', geneId: '1080' }], consequences: ['SO:0001822|inframe_deletion'], rs: '113993960',
};
const implication = (entry: ClinvarEntry = f508del) => diagnosticImplicationObservation(entry, { id: 'study-1-7' }, study, { id: 'study-1-7-dx7105' });
const components = (o: ReturnType<typeof implication>, code: string) => (o.component ?? []).filter((c) => c.code.coding?.[0]?.code === code);

describe('diagnostic-implication Observation: codes', () => {
  it('carries the IG code, ClinVar citation, derivedFrom and the three components', () => {
    const o = implication();
    assert.deepEqual(o.meta?.profile, [`${SD}diagnostic-implication`]);
    assert.equal(o.id, 'study-1-7-dx7105');
    assert.deepEqual(o.code.coding?.[0], { system: 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs', code: 'diagnostic-implication', display: 'Diagnostic Implication' });
    assert.deepEqual(o.derivedFrom, [{ reference: 'Observation/study-1-7' }]);
    assert.equal(o.valueCodeableConcept, undefined);
    assert.deepEqual(o.subject, { reference: 'Patient/pat-1' });
    assert.equal(o.extension?.[0]?.valueRelatedArtifact?.url, 'https://www.ncbi.nlm.nih.gov/clinvar/variation/7105/');
    assert.deepEqual(components(o, '53037-8')[0]?.valueCodeableConcept, { coding: [{ system: LOINC, code: 'LA6668-3', display: 'Pathogenic' }], text: 'Pathogenic' });
    assert.deepEqual(components(o, '93044-6')[0]?.valueCodeableConcept, {
      coding: [{ system: 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/clinvar-evidence-level-custom-cs', code: '4-star', display: '4 star' }],
      text: 'practice guideline',
    });
    // "not provided" names no phenotype; a database Helix has no system for (Gene) is left uncoded.
    const phenotypes = components(o, '81259-4').map((c) => c.valueCodeableConcept);
    assert.deepEqual(phenotypes.map((c) => c?.coding?.map((x) => `${x.system}|${x.code}`)), [[
      'https://www.ncbi.nlm.nih.gov/medgen|C0010674', 'https://omim.org|219700', 'http://purl.obolibrary.org/obo/mondo.owl|MONDO:0009061',
      'http://www.orpha.net|586', 'http://snomed.info/sct|190905008',
    ], ['http://human-phenotype-ontology.org|HP:0001638']]);
    assert.equal(phenotypes[0]?.text, 'Cystic fibrosis');
  });

  it('maps the five ACMG tiers to LL4034-6 and the review statuses to stars', () => {
    const sig = (significance: string, reviewStatus = 'criteria_provided,_single_submitter') => {
      const o = implication({ ...f508del, significance, reviewStatus });
      return [components(o, '53037-8')[0]?.valueCodeableConcept, components(o, '93044-6')[0]?.valueCodeableConcept?.coding?.[0]?.code];
    };
    assert.deepEqual(sig('Likely_pathogenic')[0], { coding: [{ system: LOINC, code: 'LA26332-9', display: 'Likely pathogenic' }], text: 'Likely pathogenic' });
    assert.equal((sig('Uncertain_significance')[0] as any).coding[0].code, 'LA26333-7');
    assert.equal((sig('Likely_benign')[0] as any).coding[0].code, 'LA26334-5');
    assert.equal((sig('Benign|other')[0] as any).coding[0].code, 'LA6675-8');
    assert.deepEqual(sig('Pathogenic/Likely_pathogenic')[0], { text: 'Pathogenic/Likely pathogenic' });
    assert.deepEqual(sig('drug_response')[0], { text: 'drug response' });
    assert.equal(sig('Benign', 'reviewed_by_expert_panel')[1], '3-star');
    assert.equal(sig('Benign', 'criteria_provided,_multiple_submitters,_no_conflicts')[1], '2-star');
    assert.equal(sig('Benign', 'criteria_provided,_conflicting_classifications')[1], '1-star');
    assert.equal(sig('Benign', 'no_assertion_criteria_provided')[1], 'no-star');
    const bare = implication({ ...f508del, significance: undefined, reviewStatus: undefined, conditions: [] });
    assert.equal(bare.component, undefined);
  });

  it('reads conditions parameters as system|code or a bare code', () => {
    assert.deepEqual(conditionCodesOf('https://www.ncbi.nlm.nih.gov/medgen|C3469186'), ['medgen:C3469186']);
    assert.deepEqual(conditionCodesOf('http://www.ncbi.nlm.nih.gov/medgen/|C3469186'), ['medgen:C3469186']);
    assert.deepEqual(conditionCodesOf('http://www.orpha.net|ORPHA:586'), ['orphanet:586']);
    assert.deepEqual(conditionCodesOf('http://purl.obolibrary.org/obo/mondo.owl|0009061'), ['mondo:MONDO:0009061']);
    assert.deepEqual(conditionCodesOf('MONDO:0009061'), ['mondo:MONDO:0009061']);
    assert.deepEqual(conditionCodesOf('219700'), ['omim:219700', 'snomed:219700']);
    for (const bad of ['a|b|c', '|C3469186', 'https://www.ncbi.nlm.nih.gov/medgen|', 'http://example.org|1', 'hemochromatosis']) {
      assert.throws(() => conditionCodesOf(bad), (err: any) => err.status === 400, bad);
    }
  });
});

describe('diagnostic-implication Observation: IG profile validation', { skip: !existsSync(IG) && '../shared/data/ig/genomics-reporting is absent' }, () => {
  it('conforms to diagnostic-implication, as the IG example does, with no error but the known gap', () => {
    const defs = loadDefinitions();
    const registry = createProfileRegistry(defs);
    for (const sd of igStructureDefinitions()) registry.add(sd);
    const validator = createValidator(defs, registry);
    const example = JSON.parse(readFileSync(join(IG, 'example', 'Observation-MSH2-del-disease.json'), 'utf8'));
    const exampleErrors = errors(validator.validate(example));
    assert.ok(exampleErrors.length > 0 && exampleErrors.every(isGap), JSON.stringify(exampleErrors));
    for (const resource of [implication(), implication({ ...f508del, significance: 'Conflicting_classifications_of_pathogenicity|other', reviewStatus: 'odd_status' })]) {
      const issues = validator.validate(resource);
      assert.ok(!issues.some((i) => i.code === 'not-found'), 'the profile is known to the validator');
      assert.deepEqual(errors(issues).filter((i) => !isGap(i)), []);
    }
    // The profile is applied: the wrong code fails its pattern.
    const wrong = { ...implication(), code: { coding: [{ system: LOINC, code: '8310-5' }] } };
    assert.ok(errors(validator.validate(wrong)).some((i) => i.expression?.[0] === 'Observation.code'));
  });
});
