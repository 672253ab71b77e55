// The haplotype and therapeutic-implication operations over HTTP, answered from hand-written
// Observations following the Genomics Reporting IG 3.0.0 profiles (genotype, haplotype, variant,
// therapeutic-implication), posted like a lab would. Answers are worked out by hand below; other
// test files' patients may share the database, so population answers are checked through the
// patient lists and through the denominators' growth since before these Observations existed.
//
// P1: haplotypes CYP2C19 *1 and *2 and genotype CYP2C19 *1/*2 (specimen SPEC-H1, test TEST-H1,
//     2023-03-01); genotype CYP2D6 written "CYP2D6*4/*1" (test TEST-H0, 2019-06-01, no specimen);
//     HLA-B genotype as a GL string (HLA-B*57:01:01+HLA-B*08:01), reported by DiagnosticReport
//     REPORT-H3; a germline variant for CYP2C19*2
//     (NC_000010.11:94781858:G:A, NM_000769.4:c.681G>A, specimen SPEC-H1, 2023-03-01).
//     Implications: clopidogrel (RxNorm 32968) from the CYP2C19 genotype, with condition SNOMED
//     22298006; codeine (2670) from the CYP2D6 genotype, coded with LOINC 51961-1 as earlier IG
//     releases did; voriconazole (121243) from the variant.
// P2: genotype CYP2C19 *1/*1 (gene by HGNC id only, .../geneId system), HLA-B*08:01/HLA-B*44:02
//     (specimen by logical reference, SPEC-L2);
//     clopidogrel implication from the CYP2C19 genotype; a CYP2C19 *2/*2 entered in error.
// P3: genotype "CYP2C19 *2/*17" with no gene component, germline.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const LOINC = 'http://loinc.org';
const TBD = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';
const SD = 'http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const CATEGORY = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE' }] },
];
const ids: Record<string, string> = {};
let base = '';

const concept = (system: string, code: string, display?: string) => ({ coding: [{ system, code, ...(display ? { display } : {}) }] });
const gene = (code: string, display?: string, system = 'http://www.genenames.org') => ({ code: concept(LOINC, '48018-6'), valueCodeableConcept: concept(system, code, display) });
const germline = { code: concept(LOINC, '48002-0'), valueCodeableConcept: concept(LOINC, 'LA6683-2', 'Germline') };
const ref = (key: string, type = 'Observation') => ({ reference: `${type}/${ids[key]}` });

function finding(profile: 'genotype' | 'haplotype', patient: string, value: object, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Observation', meta: { profile: [`${SD}/${profile}`] }, status: 'final', category: CATEGORY,
    code: concept(LOINC, profile === 'genotype' ? '84413-4' : '84414-2'), subject: ref(patient, 'Patient'), valueCodeableConcept: value, ...extra,
  };
}

function implication(patient: string, from: string, drug: [string, string], phenotype: string, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Observation', meta: { profile: [`${SD}/therapeutic-implication`] }, status: 'final', category: CATEGORY,
    code: concept(TBD, 'therapeutic-implication'), subject: ref(patient, 'Patient'), derivedFrom: [ref(from)],
    component: [
      { code: concept(LOINC, '51963-7'), valueCodeableConcept: concept(RXNORM, drug[0], drug[1]) },
      { code: concept(TBD, 'therapeutic-implication'), valueCodeableConcept: { text: phenotype } },
    ],
    ...extra,
  };
}

async function make(key: string, build: () => Record<string, unknown>): Promise<void> {
  const resource = build();
  const res = await fhir(base, 'POST', resource.resourceType as string, resource);
  assert.equal(res.status, 201, `${key}: ${res.text.slice(0, 400)}`);
  ids[key] = res.body.id;
}

const op = (name: string, query: [string, string][]) => fhir(base, 'GET', `$${name}?${new URLSearchParams(query)}`);
const parts = (p: any, name: string): any[] => (p.part as any[]).filter((x) => x.name === name);
const idsOf = (list: any[]): string[] => list.map((x) => x.resource.id);
const named = (body: any, name: string): string[] => idsOf((body.parameter as any[]).filter((p) => p.name === name));
const mine = (p: any): string[] => parts(p, 'subject').map((x) => x.valueString).filter((s: string) => [ids.p1, ids.p2, ids.p3].includes(s));
const count = (p: any, name: string): number => parts(p, name)[0].valueQuantity.value;
const baseline: Record<string, number> = {};

describe('genomics: haplotype and therapeutic-implication operations on stored Observations', () => {
  before(async () => {
    base = (await sharedServer()).base;
    const d1 = await op('find-population-specific-haplotypes', [['haplotypes', 'CYP2C19']]);
    assert.equal(d1.status, 200, d1.text);
    baseline.haplotypes = count(d1.body.parameter[0], 'denominator');
    baseline.tx = count((await op('find-population-tx-implications', [])).body.parameter[0], 'denominator');
    for (const key of ['p1', 'p2', 'p3']) await make(key, () => ({ resourceType: 'Patient', name: [{ family: `Haplo${key}` }] }));
    await make('spec1', () => ({ resourceType: 'Specimen', identifier: [{ system: 'http://lab.example/specimen', value: 'SPEC-H1' }], subject: ref('p1', 'Patient') }));
    const test1 = { specimen: ref('spec1', 'Specimen'), effectiveDateTime: '2023-03-01', identifier: [{ system: 'http://lab.example/test', value: 'TEST-H1' }] };
    const cyp2c19 = gene('HGNC:2621', 'CYP2C19');
    await make('hap1', () => finding('haplotype', 'p1', { text: 'CYP2C19*1' }, { ...test1, component: [cyp2c19] }));
    await make('hap2', () => finding('haplotype', 'p1', { text: 'CYP2C19*2' }, { ...test1, component: [cyp2c19] }));
    await make('geno1', () => finding('genotype', 'p1', concept('https://www.pharmvar.org', 'CYP2C19 *1/*2', 'CYP2C19 *1/*2'),
      { ...test1, component: [cyp2c19], derivedFrom: [ref('hap1'), ref('hap2')] }));
    await make('geno2', () => finding('genotype', 'p1', { text: 'CYP2D6*4/*1' },
      { effectiveDateTime: '2019-06-01', identifier: [{ system: 'http://lab.example/test', value: 'TEST-H0' }], component: [gene('HGNC:2625', 'CYP2D6')] }));
    await make('geno3', () => finding('genotype', 'p1', concept('http://glstring.org', 'hla#3.31.0#HLA-B*57:01:01+HLA-B*08:01'),
      { effectiveDateTime: '2023-03-01', component: [gene('HGNC:4932', 'HLA-B')] }));
    // The HLA typing is reported by a DiagnosticReport whose identifier names the test.
    await make('report3', () => ({ resourceType: 'DiagnosticReport', status: 'final', code: concept(LOINC, '51969-4'), subject: ref('p1', 'Patient'),
      identifier: [{ system: 'http://lab.example/test', value: 'REPORT-H3' }], result: [ref('geno3')] }));
    await make('var1', () => ({
      resourceType: 'Observation', meta: { profile: [`${SD}/variant`] }, status: 'final', category: CATEGORY, code: concept(LOINC, '69548-6'),
      subject: ref('p1', 'Patient'), ...test1, valueCodeableConcept: concept(LOINC, 'LA9633-4', 'Present'),
      component: [
        { code: concept(LOINC, '81252-9'), valueCodeableConcept: concept('https://api.ncbi.nlm.nih.gov/variation/v0/', 'NC_000010.11:94781858:G:A') },
        { code: concept(LOINC, '48004-6'), valueCodeableConcept: concept('http://varnomen.hgvs.org', 'NM_000769.4:c.681G>A') },
        cyp2c19, germline,
      ],
    }));
    await make('tx1', () => {
      const tx = implication('p1', 'geno1', ['32968', 'clopidogrel'], 'Intermediate metabolizer');
      tx.component.push({ code: concept(LOINC, '81259-4'), valueCodeableConcept: concept('http://snomed.info/sct', '22298006', 'Myocardial infarction') });
      return tx;
    });
    await make('tx2', () => implication('p1', 'geno2', ['2670', 'codeine'], 'Intermediate metabolizer', { code: concept(LOINC, '51961-1') }));
    await make('tx3', () => implication('p1', 'var1', ['121243', 'voriconazole'], 'Poor metabolizer'));
    await make('geno4', () => finding('genotype', 'p2', concept('https://www.pharmvar.org', 'CYP2C19*1/*1', 'CYP2C19*1/*1'),
      { effectiveDateTime: '2024-01-10', component: [gene('HGNC:2621', undefined, 'http://www.genenames.org/geneId')] }));
    await make('geno5', () => finding('genotype', 'p2', { text: 'HLA-B*08:01/HLA-B*44:02' },
      { specimen: { identifier: { system: 'http://lab.example/specimen', value: 'SPEC-L2' } }, component: [gene('HGNC:4932', 'HLA-B')] }));
    await make('geno6', () => finding('genotype', 'p2', { text: 'CYP2C19 *2/*2' }, { status: 'entered-in-error', component: [cyp2c19] }));
    await make('tx4', () => implication('p2', 'geno4', ['32968', 'clopidogrel'], 'Normal metabolizer'));
    await make('geno7', () => finding('genotype', 'p3', { text: 'CYP2C19 *2/*17' }, { component: [germline] }));
  });

  it('$find-subject-haplotypes: haplotypes and genotypes per gene, by HGNC id or symbol', async () => {
    const res = await op('find-subject-haplotypes', [['subject', `Patient/${ids.p1}`], ['genes', 'http://www.genenames.org/geneId|HGNC:2621,CYP2D6,HLA-B,HGNC:9999']]);
    assert.equal(res.status, 200, res.text);
    const [c19, d6, hla, none] = res.body.parameter;
    assert.deepEqual(res.body.parameter.map((p: any) => p.name), ['haplotypes', 'haplotypes', 'haplotypes', 'haplotypes']);
    assert.equal(parts(c19, 'geneItem')[0].valueString, 'http://www.genenames.org/geneId|HGNC:2621');
    assert.deepEqual(idsOf(parts(c19, 'haplotype')), [ids.hap1, ids.hap2]);
    assert.deepEqual(idsOf(parts(c19, 'genotype')), [ids.geno1]);
    // The stored resource itself is returned.
    assert.equal(parts(c19, 'genotype')[0].resource.valueCodeableConcept.coding[0].code, 'CYP2C19 *1/*2');
    assert.deepEqual(idsOf(parts(d6, 'genotype')), [ids.geno2]);
    assert.deepEqual(idsOf(parts(hla, 'genotype')), [ids.geno3]);
    assert.deepEqual(none.part.map((p: any) => p.name), ['geneItem']);
    // P2's gene is coded without a display: the symbol comes from the genotype's name. Entered in error is no result.
    const p2 = await op('find-subject-haplotypes', [['subject', ids.p2 as string], ['genes', 'CYP2C19'], ['genes', 'http://www.genenames.org|HGNC:2621']]);
    for (const p of p2.body.parameter) assert.deepEqual(idsOf(parts(p, 'genotype')), [ids.geno4]);
  });

  it('$find-subject-haplotypes applies the study filters to the Observations that carry them', async () => {
    const subject: [string, string] = ['subject', ids.p1 as string];
    const genes: [string, string] = ['genes', 'CYP2C19,CYP2D6'];
    const bySpecimen = await op('find-subject-haplotypes', [subject, genes, ['specimenIdentifiers', 'SPEC-H1']]);
    assert.equal(bySpecimen.status, 200, bySpecimen.text);
    assert.deepEqual(idsOf(parts(bySpecimen.body.parameter[0], 'genotype')), [ids.geno1]);
    assert.deepEqual(idsOf(parts(bySpecimen.body.parameter[1], 'genotype')), []);
    const byDate = await op('find-subject-haplotypes', [subject, genes, ['testDateRange', 'ge2020-01-01']]);
    assert.equal(parts(byDate.body.parameter[0], 'haplotype').length, 2);
    assert.equal(parts(byDate.body.parameter[1], 'genotype').length, 0);
    const byTest = await op('find-subject-haplotypes', [subject, genes, ['testIdentifiers', 'http://lab.example/test|TEST-H0']]);
    assert.equal(parts(byTest.body.parameter[0], 'genotype').length, 0);
    assert.deepEqual(idsOf(parts(byTest.body.parameter[1], 'genotype')), [ids.geno2]);
    const byReport = await op('find-subject-haplotypes', [subject, ['genes', 'HLA-B,CYP2C19'], ['testIdentifiers', 'REPORT-H3']]);
    assert.deepEqual(idsOf(parts(byReport.body.parameter[0], 'genotype')), [ids.geno3]);
    assert.equal(parts(byReport.body.parameter[1], 'genotype').length + parts(byReport.body.parameter[1], 'haplotype').length, 0);
    // A logical reference carries the specimen's identifier itself.
    const logical = await op('find-subject-haplotypes', [['subject', ids.p2 as string], ['genes', 'HLA-B,CYP2C19'], ['specimenIdentifiers', 'SPEC-L2']]);
    assert.deepEqual(idsOf(parts(logical.body.parameter[0], 'genotype')), [ids.geno5]);
    assert.equal(parts(logical.body.parameter[1], 'genotype').length, 0);
    // POST with a Period, as the definition types testDateRange.
    const posted = await fhir(base, 'POST', '$find-subject-haplotypes', { resourceType: 'Parameters', parameter: [
      { name: 'subject', valueString: `Patient/${ids.p1}` }, { name: 'genes', valueString: 'CYP2D6' },
      { name: 'testDateRange', valuePeriod: { start: '2019-01-01', end: '2019-12-31' } }] });
    assert.equal(posted.status, 200, posted.text);
    assert.deepEqual(idsOf(parts(posted.body.parameter[0], 'genotype')), [ids.geno2]);
  });

  it('$find-subject-specific-haplotypes: presence, in either allele order and at finer resolution', async () => {
    const asked = ['CYP2C19 *2/*1', 'CYP2C19 *2', 'CYP2C19*17', 'CYP2D6 *1/*4', 'HLA-B*57:01', 'https://www.pharmvar.org|CYP2C19 *1/*2', 'CYP2C19 *1/*1'];
    const res = await op('find-subject-specific-haplotypes', [['subject', ids.p1 as string], ['haplotypes', asked.join(',')]]);
    assert.equal(res.status, 200, res.text);
    const answers = res.body.parameter;
    assert.deepEqual(answers.map((p: any) => parts(p, 'haplotypeItem')[0].valueString), asked);
    assert.deepEqual(answers.map((p: any) => parts(p, 'presence')[0].valueBoolean), [true, true, false, true, true, true, false]);
    assert.deepEqual(idsOf(parts(answers[0], 'genotype')), [ids.geno1]);
    assert.deepEqual(idsOf(parts(answers[0], 'haplotype')), []);
    assert.deepEqual(idsOf(parts(answers[1], 'haplotype')), [ids.hap2]);
    assert.deepEqual(idsOf(parts(answers[1], 'genotype')), [ids.geno1]);
    assert.deepEqual(idsOf(parts(answers[3], 'genotype')), [ids.geno2]);
    assert.deepEqual(idsOf(parts(answers[4], 'genotype')), [ids.geno3]);
    assert.equal(parts(answers[2], 'genotype').length + parts(answers[2], 'haplotype').length, 0);
    const p2 = await op('find-subject-specific-haplotypes', [['subject', ids.p2 as string], ['haplotypes', 'CYP2C19 *2/*2,HLA-B*08']]);
    assert.deepEqual(p2.body.parameter.map((p: any) => parts(p, 'presence')[0].valueBoolean), [false, true]);
  });

  it('$find-population-specific-haplotypes: comma asks apart, repetition asks for both', async () => {
    const res = await op('find-population-specific-haplotypes', [['haplotypes', 'CYP2C19 *2,HLA-B*08'], ['includePatientList', 'true']]);
    assert.equal(res.status, 200, res.text);
    const [c19, hla] = res.body.parameter;
    assert.equal(parts(c19, 'haplotypeItem')[0].valueString, 'CYP2C19 *2');
    assert.deepEqual(mine(c19).sort(), [ids.p1, ids.p3].sort());
    assert.deepEqual(mine(hla).sort(), [ids.p1, ids.p2].sort());
    assert.equal(count(c19, 'denominator'), baseline.haplotypes + 3);
    const both = await op('find-population-specific-haplotypes', [['haplotypes', 'CYP2C19 *2'], ['haplotypes', 'HLA-B*08'], ['includePatientList', 'true']]);
    assert.equal(both.body.parameter.length, 1);
    assert.equal(parts(both.body.parameter[0], 'haplotypeItem')[0].valueString, 'CYP2C19 *2 AND HLA-B*08');
    assert.deepEqual(mine(both.body.parameter[0]), [ids.p1]);
    const germ = await op('find-population-specific-haplotypes', [['haplotypes', 'CYP2C19 *2'], ['genomicSourceClass', 'germline'], ['includePatientList', 'true']]);
    assert.deepEqual(mine(germ.body.parameter[0]), [ids.p3]);
    const counted = await op('find-population-specific-haplotypes', [['haplotypes', 'CYP2C19 *1/*1']]);
    assert.equal(parts(counted.body.parameter[0], 'subject').length, 0);
  });

  it('$find-subject-tx-implications: implications with the Observations they derive from', async () => {
    const p1: [string, string] = ['subject', ids.p1 as string];
    const all = await op('find-subject-tx-implications', [p1]);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(named(all.body, 'implication'), [ids.tx1, ids.tx2, ids.tx3]);
    assert.deepEqual(named(all.body, 'variant'), [ids.var1]);
    assert.deepEqual(named(all.body, 'genotype'), [ids.geno1, ids.geno2]);
    assert.deepEqual(all.body.parameter.map((p: any) => p.name), ['implication', 'implication', 'implication', 'variant', 'genotype', 'genotype']);
    const cases: [[string, string][], string[]][] = [
      [[['treatments', `${RXNORM}|32968`]], [ids.tx1 as string]],
      [[['treatments', 'Clopidogrel,2670']], [ids.tx1 as string, ids.tx2 as string]],
      [[['haplotypes', 'CYP2C19 *1/*2']], [ids.tx1 as string]],
      [[['haplotypes', 'CYP2D6 *4']], [ids.tx2 as string]],
      [[['variants', 'NC_000010.11:94781858:G:A']], [ids.tx3 as string]],
      [[['variants', 'NC_000010.11:g.94781859G>A']], [ids.tx3 as string]],
      [[['variants', 'NM_000769.4:c.681G>A']], [ids.tx3 as string]],
      [[['ranges', 'NC_000010.11:94700000-94800000']], [ids.tx3 as string]],
      [[['ranges', 'NC_000010.11:1-1000']], []],
      [[['conditions', 'http://snomed.info/sct|22298006']], [ids.tx1 as string]],
      [[['conditions', 'http://snomed.info/sct|22298006'], ['treatments', `${RXNORM}|2670`]], []],
      [[['specimenIdentifiers', 'SPEC-H1']], [ids.tx1 as string, ids.tx3 as string]],
      [[['testDateRange', 'ge2020-01-01']], [ids.tx1 as string, ids.tx3 as string]],
      [[['genomicSourceClass', 'germline']], [ids.tx3 as string]],
    ];
    for (const [query, expected] of cases) {
      const res = await op('find-subject-tx-implications', [p1, ...query]);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(named(res.body, 'implication'), expected, JSON.stringify(query));
    }
    const clopidogrel = await fhir(base, 'POST', '$find-subject-tx-implications', { resourceType: 'Parameters', parameter: [
      { name: 'subject', valueString: ids.p1 }, { name: 'treatments', valueCoding: { system: RXNORM, code: '32968' } }] });
    assert.equal(clopidogrel.status, 200, clopidogrel.text);
    assert.deepEqual(named(clopidogrel.body, 'implication'), [ids.tx1]);
    assert.deepEqual(named(clopidogrel.body, 'genotype'), [ids.geno1]);
    assert.equal(clopidogrel.body.parameter[0].resource.component[0].valueCodeableConcept.coding[0].display, 'clopidogrel');
    const p2 = await op('find-subject-tx-implications', [['subject', ids.p2 as string]]);
    assert.deepEqual(named(p2.body, 'implication'), [ids.tx4]);
    assert.deepEqual(named(p2.body, 'genotype'), [ids.geno4]);
  });

  it('$find-population-tx-implications counts patients with a matching implication', async () => {
    const res = await op('find-population-tx-implications', [['treatments', `${RXNORM}|32968`], ['includePatientList', 'true']]);
    assert.equal(res.status, 200, res.text);
    const [answer] = res.body.parameter;
    assert.equal(answer.name, 'implications');
    assert.deepEqual(mine(answer).sort(), [ids.p1, ids.p2].sort());
    assert.equal(count(answer, 'denominator'), baseline.tx + 3);
    const byHaplotype = await op('find-population-tx-implications', [['haplotypes', 'CYP2C19 *1/*1'], ['includePatientList', 'true']]);
    assert.deepEqual(mine(byHaplotype.body.parameter[0]), [ids.p2]);
    const byVariant = await op('find-population-tx-implications', [['variants', 'NC_000010.11:94781858:G:A'], ['includePatientList', 'true']]);
    assert.deepEqual(mine(byVariant.body.parameter[0]), [ids.p1]);
    const none = await op('find-population-tx-implications', [['treatments', `${RXNORM}|32968`], ['conditions', 'http://snomed.info/sct|1'], ['includePatientList', 'true']]);
    assert.equal(count(none.body.parameter[0], 'numerator'), 0);
  });

  it('refuses a missing subject or required item and malformed items with 400', async () => {
    const refused: [string, [string, string][]][] = [
      ['find-subject-haplotypes', [['genes', 'CYP2C19']]],
      ['find-subject-haplotypes', [['subject', ids.p1 as string]]],
      ['find-subject-haplotypes', [['subject', ids.p1 as string], ['genes', 'CYP2C19 *1']]],
      ['find-subject-haplotypes', [['subject', ids.p1 as string], ['genes', 'CYP2C19'], ['testDateRange', 'yesterday']]],
      ['find-subject-haplotypes', [['subject', ids.p1 as string], ['genes', 'CYP2C19'], ['includeVariants', 'true']]],
      ['find-subject-specific-haplotypes', [['haplotypes', 'CYP2C19 *1/*2']]],
      ['find-subject-specific-haplotypes', [['subject', ids.p1 as string], ['haplotypes', '*1/*2']]],
      ['find-subject-specific-haplotypes', [['subject', ids.p1 as string], ['haplotypes', '|CYP2C19 *1/*2']]],
      ['find-subject-specific-haplotypes', [['subject', ids.p1 as string], ['haplotypes', 'CYP2C19 *1/']]],
      ['find-population-specific-haplotypes', [['genomicSourceClass', 'germline']]],
      ['find-population-specific-haplotypes', [['haplotypes', 'CYP2C19'], ['genomicSourceClass', 'both']]],
      ['find-subject-tx-implications', [['treatments', `${RXNORM}|32968`]]],
      ['find-subject-tx-implications', [['subject', ids.p1 as string], ['treatments', '|32968']]],
      ['find-subject-tx-implications', [['subject', ids.p1 as string], ['variants', 'rs4244285']]],
      ['find-subject-tx-implications', [['subject', ids.p1 as string], ['ranges', 'NC_000010.11:500-100']]],
      ['find-population-tx-implications', [['ranges', 'NC_000010.11:94700000-94800000']]],
    ];
    for (const [name, query] of refused) {
      const res = await op(name, query);
      assert.equal(res.status, 400, `${name} ${JSON.stringify(query)}: ${res.text.slice(0, 200)}`);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
  });
});
