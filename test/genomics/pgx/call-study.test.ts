// Star-allele calling on imported studies: the PharmCAT example VCFs posted to $import-vcf over
// HTTP, the study's kept site genotypes called by callStudy, and each gene's diplotype, match score
// and completeness compared with PharmCAT v3.1.0's reports (examples/*.report.tsv), as the matcher
// tests compare the same VCFs read directly. This proves the import keeps what calling needs:
// reference calls at every defined position (the examples are mostly 0/0).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { callStudy } from '../../../src/genomics/pgx/call-study.js';
import { implicationsOfCalls } from '../../../src/genomics/pgx/called-implications.js';
import { findStudies } from '../../../src/genomics/variant-store.js';
import type { Observation, Parameters, Resource } from '@medplum/fhirtypes';
import { existsSync } from 'node:fs';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { createProfileRegistry } from '../../../src/validation/profiles.js';
import { createValidator } from '../../../src/validation/validator.js';
import { fhir, sharedServer, type TestServer } from '../../harness.js';
import { errors, IG, igStructureDefinitions, isGap } from '../ig-profiles.js';
import { HAVE_PHARMCAT, namesOf, PHARMCAT, sortedNames } from './pharmcat-cases.js';

const GENES = ['CYP2C19', 'CYP2C9', 'CYP4F2', 'CYP3A5', 'VKORC1', 'SLCO1B1', 'TPMT', 'NUDT15', 'DPYD', 'UGT1A1'];
const skip = !HAVE_PHARMCAT && '../shared/data/pharmcat is not present';

describe('star-allele calls of imported studies', { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await sharedServer();
  });

  for (const example of ['pharmcat.example', 'pharmcat.example2']) {
    it(`${example}.vcf imported over HTTP: every gene as PharmCAT reports it`, async () => {
      const patient = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
      const res = await fetch(`${server.base}/Patient/${patient}/$import-vcf?testIdentifier=${example}&genomicBuild=GRCh38`, {
        method: 'POST', headers: { 'content-type': 'text/vcf' }, body: readFileSync(`${PHARMCAT}examples/${example}.vcf`),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const [study] = await findStudies(server.helix.ctx.db, { patientId: patient, testIdentifiers: [example] });
      assert.ok(study);
      const calls = await callStudy(server.helix.ctx.db, server.helix.ctx.pgx, study, GENES);
      assert.deepEqual(calls.map((c) => c.gene).sort(), [...GENES].sort());

      const lines = readFileSync(`${PHARMCAT}examples/${example}.report.tsv`, 'utf8').split('\n');
      const header = (lines[1] as string).split('\t');
      const rows = lines.slice(2).filter(Boolean).map((l) => l.split('\t'));
      const col = (name: string): number => header.indexOf(name);
      for (const call of calls) {
        const row = rows.find((r) => r[0] === call.gene);
        assert.ok(row, `${call.gene} has no row in the report`);
        assert.deepEqual(namesOf(call), sortedNames([row[col('Source Diplotype')] as string]), call.gene);
        assert.equal(call.diplotypes[0]?.score, Number(row[col('Match Score')]), `${call.gene} match score`);
        assert.equal(call.complete, row[col('Missing positions')] === 'no', `${call.gene} missing positions`);
      }
    });
  }

  it('the haplotype operations answer from the calls: example2 is CYP2C19 *2/*2 (IG genotype and haplotype Observations)', async () => {
    const patient = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const res = await fetch(`${server.base}/Patient/${patient}/$import-vcf?testIdentifier=PGX-2&testDate=2024-05-02`, {
      method: 'POST', headers: { 'content-type': 'text/vcf' }, body: readFileSync(`${PHARMCAT}examples/pharmcat.example2.vcf`),
    });
    assert.equal(res.status, 200, await res.clone().text());

    const byGene = (await fhir(server.base, 'GET', `$find-subject-haplotypes?subject=Patient/${patient}&genes=CYP2C19,http://www.genenames.org/geneId|HGNC:3012`)).body as Parameters;
    const [cyp2c19, dpyd] = byGene.parameter ?? [];
    const values = (p: typeof cyp2c19) => (p?.part ?? []).filter((x) => x.resource).map((x) => [x.name, (x.resource as Observation).valueCodeableConcept?.text]);
    // Haplotypes first, then the genotype (the OperationDefinition's order).
    assert.deepEqual(values(cyp2c19), [['haplotype', 'CYP2C19 *2'], ['haplotype', 'CYP2C19 *2'], ['genotype', 'CYP2C19 *2/*2']]);
    assert.deepEqual(values(dpyd), [['haplotype', 'DPYD Reference'], ['haplotype', 'DPYD Reference'], ['genotype', 'DPYD Reference/Reference']]);
    const genotype = cyp2c19?.part?.find((x) => x.name === 'genotype')?.resource as Observation;
    assert.equal(genotype.effectiveDateTime, '2024-05-02');
    assert.deepEqual(genotype.component?.[0]?.valueCodeableConcept, { coding: [{ system: 'http://www.genenames.org', code: 'HGNC:2621', display: 'CYP2C19' }] });
    assert.deepEqual(genotype.derivedFrom?.map((r) => r.reference), (cyp2c19?.part ?? []).filter((x) => x.name === 'haplotype').map((x) => `Observation/${(x.resource as Observation).id}`));
    assert.equal(genotype.note, undefined, 'a complete, unambiguous call has no notes');

    const specific = (await fhir(server.base, 'GET', `$find-subject-specific-haplotypes?subject=${patient}&haplotypes=${encodeURIComponent('CYP2C19 *2/*2,CYP2C19 *1/*2,CYP2C19 *2')}`)).body as Parameters;
    assert.deepEqual(specific.parameter?.map((p) => [p.part?.[0]?.valueString, p.part?.[1]?.valueBoolean]),
      [['CYP2C19 *2/*2', true], ['CYP2C19 *1/*2', false], ['CYP2C19 *2', true]]);
    // A study filter that excludes the study excludes its calls.
    const filtered = (await fhir(server.base, 'GET', `$find-subject-specific-haplotypes?subject=${patient}&haplotypes=${encodeURIComponent('CYP2C19 *2/*2')}&testIdentifiers=OTHER`)).body as Parameters;
    assert.equal(filtered.parameter?.[0]?.part?.[1]?.valueBoolean, false);

    if (existsSync(IG)) {
      const defs = loadDefinitions();
      const registry = createProfileRegistry(defs);
      for (const sd of igStructureDefinitions()) registry.add(sd);
      const validator = createValidator(defs, registry);
      for (const part of cyp2c19?.part ?? []) {
        if (!part.resource) continue;
        const found = errors(validator.validate(part.resource as Resource)).filter((i) => !isGap(i));
        assert.deepEqual(found, [], `${part.name}: ${JSON.stringify(found)}`);
      }
    }
  });

  it('find-subject-tx-implications answers from the calls with CPIC advice: example2 (CYP2C19 *2/*2) and clopidogrel', async () => {
    const patient = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const res = await fetch(`${server.base}/Patient/${patient}/$import-vcf?testIdentifier=PGX-TX`, {
      method: 'POST', headers: { 'content-type': 'text/vcf' }, body: readFileSync(`${PHARMCAT}examples/pharmcat.example2.vcf`),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const answer = (await fhir(server.base, 'GET', `$find-subject-tx-implications?subject=${patient}&treatments=http://www.nlm.nih.gov/research/umls/rxnorm|32968`)).body as Parameters;
    const implications = (answer.parameter ?? []).filter((p) => p.name === 'implication').map((p) => p.resource as Observation);
    // CPIC 2022 (PMID 35034351): a CYP2C19 poor metabolizer should avoid clopidogrel — Strong for
    // ACS/PCI, Moderate for other cardiovascular and for neurovascular indications.
    const context = (o: Observation) => o.component?.find((c) => c.code?.coding?.[0]?.code === '81259-4')?.valueCodeableConcept?.text ?? '';
    const strength = (o: Observation) => o.component?.find((c) => c.code?.coding?.[0]?.code === '93044-6')?.valueCodeableConcept?.text;
    assert.equal(implications.length, 3);
    assert.deepEqual(implications.map((o) => [/coronary syndrome/i.test(context(o)), strength(o)]).sort(),
      [[false, 'CPIC classification of recommendation: Moderate'], [false, 'CPIC classification of recommendation: Moderate'], [true, 'CPIC classification of recommendation: Strong']]);
    for (const o of implications) {
      assert.deepEqual(o.component?.[0]?.valueCodeableConcept?.coding, [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '32968', display: 'clopidogrel' }]);
      assert.deepEqual(o.component?.[1]?.valueCodeableConcept, { coding: [{ system: 'http://loinc.org', code: 'LA9657-3', display: 'Poor metabolizer' }], text: 'CYP2C19 Poor Metabolizer' });
    }
    const genotypes = (answer.parameter ?? []).filter((p) => p.name === 'genotype').map((p) => (p.resource as Observation).valueCodeableConcept?.text);
    assert.deepEqual(genotypes, ['CYP2C19 *2/*2']);
    // The implications rest on that genotype.
    const genotypeId = (answer.parameter ?? []).find((p) => p.name === 'genotype')?.resource?.id;
    for (const o of implications) assert.deepEqual(o.derivedFrom, [{ reference: `Observation/${genotypeId}` }]);
    // A haplotypes filter the calls do not meet, or a drug without a CYP2C19 record, finds none.
    const other = (await fhir(server.base, 'GET', `$find-subject-tx-implications?subject=${patient}&treatments=32968&haplotypes=${encodeURIComponent('CYP2C19 *1/*1')}`)).body as Parameters;
    assert.equal((other.parameter ?? []).length, 0);
  });

  it('implications of calls carry medication-recommendation Tasks where CPIC changes drug or dose (tacrolimus, clopidogrel)', async () => {
    const patient = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const res = await fetch(`${server.base}/Patient/${patient}/$import-vcf?testIdentifier=PGX-TASK`, {
      method: 'POST', headers: { 'content-type': 'text/vcf' }, body: readFileSync(`${PHARMCAT}examples/pharmcat.example2.vcf`),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const [study] = await findStudies(server.helix.ctx.db, { patientId: patient, testIdentifiers: ['PGX-TASK'] });
    assert.ok(study);
    const found = implicationsOfCalls(server.helix.ctx.pgx, study, await callStudy(server.helix.ctx.db, server.helix.ctx.pgx, study));
    const drugOf = (o: Observation) => o.component?.[0]?.valueCodeableConcept?.coding?.[0]?.display;
    // CYP3A5 *1/*1 is a normal metabolizer (an expresser): CPIC 2015 (PMID 25801146) raises the
    // tacrolimus starting dose 1.5–2 times, Strong — a Task "Increase dose".
    const tacrolimus = found.filter((f) => drugOf(f.implication) === 'tacrolimus');
    assert.equal(tacrolimus.length, 1);
    assert.deepEqual(tacrolimus[0]?.task?.code?.coding, [{ system: 'http://loinc.org', code: 'LA26423-6', display: 'Increase dose' }]);
    assert.deepEqual(tacrolimus[0]?.task?.reasonReference, { reference: `Observation/${tacrolimus[0]?.implication.id}` });
    assert.equal(tacrolimus[0]?.task?.for?.reference, `Patient/${patient}`);
    for (const f of found.filter((x) => drugOf(x.implication) === 'clopidogrel')) {
      assert.deepEqual(f.task?.code?.coding?.[0]?.code, 'LA26421-0');
    }
    // Normal metabolizers for the thiopurines, fluoropyrimidines and atazanavir: advice without a Task;
    // codeine (CYP2D6 is not called from a VCF) and warfarin (an algorithm) are not answered.
    const drugs = new Set(found.map((f) => drugOf(f.implication)));
    for (const drug of ['azathioprine', 'fluorouracil', 'atazanavir', 'simvastatin']) {
      assert.ok(drugs.has(drug), drug);
      assert.ok(found.filter((f) => drugOf(f.implication) === drug).every((f) => !f.task), drug);
    }
    assert.ok(!drugs.has('codeine') && !drugs.has('warfarin'));

    if (existsSync(IG)) {
      const defs = loadDefinitions();
      const registry = createProfileRegistry(defs);
      for (const sd of igStructureDefinitions()) registry.add(sd);
      const validator = createValidator(defs, registry);
      for (const resource of [tacrolimus[0]?.implication, tacrolimus[0]?.task] as Resource[]) {
        const problems = errors(validator.validate(resource)).filter((i) => !isGap(i));
        assert.deepEqual(problems, [], `${resource.resourceType}: ${JSON.stringify(problems)}`);
      }
    }
  });

  it('find-population-specific-haplotypes counts patients by the calls: example2 carries CYP2C19 *2/*2, example (*38/*38) does not', async () => {
    const carrier = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const other = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const ask = async () => ((await fhir(server.base, 'GET', `$find-population-specific-haplotypes?haplotypes=${encodeURIComponent('CYP2C19 *2/*2,CYP2C19 *38/*38')}&includePatientList=true`)).body as Parameters).parameter ?? [];
    const before = await ask();
    for (const [patient, example] of [[carrier, 'pharmcat.example2'], [other, 'pharmcat.example']] as const) {
      const res = await fetch(`${server.base}/Patient/${patient}/$import-vcf?testIdentifier=POP-${example}&genomicBuild=GRCh38`, {
        method: 'POST', headers: { 'content-type': 'text/vcf' }, body: readFileSync(`${PHARMCAT}examples/${example}.vcf`),
      });
      assert.equal(res.status, 200, await res.clone().text());
    }
    const after = await ask();
    const count = (ps: typeof after, i: number, name: string) => ps[i]?.part?.find((p) => p.name === name)?.valueQuantity?.value ?? 0;
    const subjects = (ps: typeof after, i: number) => (ps[i]?.part ?? []).filter((p) => p.name === 'subject').map((p) => p.valueString);
    // Two more patients have a called genotype; one more carries each genotype.
    for (const i of [0, 1]) assert.equal(count(after, i, 'denominator'), count(before, i, 'denominator') + 2);
    assert.equal(count(after, 0, 'numerator'), count(before, 0, 'numerator') + 1);
    assert.equal(count(after, 1, 'numerator'), count(before, 1, 'numerator') + 1);
    assert.ok(subjects(after, 0).includes(carrier) && !subjects(after, 0).includes(other));
    assert.ok(subjects(after, 1).includes(other) && !subjects(after, 1).includes(carrier));

    // Both have clopidogrel advice (avoid; usual dose); only the carrier's rests on CYP2C19 *2/*2.
    const tx = async (query: string) => ((await fhir(server.base, 'GET', `$find-population-tx-implications?${query}&includePatientList=true`)).body as Parameters).parameter?.[0]?.part ?? [];
    const listed = (parts: NonNullable<Parameters['parameter']>) => parts.filter((p) => p.name === 'subject').map((p) => p.valueString);
    const clopidogrel = listed(await tx('treatments=http://www.nlm.nih.gov/research/umls/rxnorm|32968'));
    assert.ok(clopidogrel.includes(carrier) && clopidogrel.includes(other));
    const poor = listed(await tx(`treatments=32968&haplotypes=${encodeURIComponent('CYP2C19 *2/*2')}`));
    assert.ok(poor.includes(carrier) && !poor.includes(other));
  });

  it('a GRCh37 study has no calls (the definitions are GRCh38; no liftover)', async () => {
    const patient = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
    const vcf = readFileSync(`${PHARMCAT}examples/pharmcat.example2.vcf`, 'utf8').replace(/^##contig=.*\n/gm, '').replace(/^##reference=.*\n/gm, '');
    const res = await fetch(`${server.base}/Patient/${patient}/$import-vcf?testIdentifier=b37&genomicBuild=GRCh37`, {
      method: 'POST', headers: { 'content-type': 'text/vcf' }, body: vcf,
    });
    assert.equal(res.status, 200, await res.clone().text());
    const [study] = await findStudies(server.helix.ctx.db, { patientId: patient, testIdentifiers: ['b37'] });
    assert.ok(study);
    assert.deepEqual(await callStudy(server.helix.ctx.db, server.helix.ctx.pgx, study), []);
  });
});
