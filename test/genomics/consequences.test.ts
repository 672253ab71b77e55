// $find-subject-molecular-consequences and $find-population-molecular-consequences over HTTP,
// on a hand-written GRCh38 VCF annotated by VEP (CSQ) on one line and SnpEff (ANN) on another.
// SO ids from the Sequence Ontology: missense_variant SO:0001583, stop_gained SO:0001587,
// frameshift_variant SO:0001589.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const VCF = [
  '##fileformat=VCFv4.3',
  '##reference=GRCh38',
  '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|HGVSc|HGVSp|HGNC_ID">',
  '##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: \'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO\'">',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS',
  // 0-based 152785039 G>T: SPDI NC_000001.11:152785039:G:T, one VEP consequence (missense).
  'chr1\t152785040\t.\tG\tT\t50\tPASS\tCSQ=T|missense_variant|MODERATE|LCE1A|ENSG00000186844|Transcript|NM_178348.3|protein_coding|NM_178348.3:c.118G>T|NP_848125.1:p.Val40Phe|HGNC:29461\tGT\t0/1',
  // 0-based 37008812 C>T: SPDI NC_000003.12:37008812:C:T, one SnpEff consequence (stop gained).
  'chr3\t37008813\t.\tC\tT\t50\tPASS\tANN=T|stop_gained|HIGH|MLH1|MLH1|transcript|NM_000249.4|protein_coding|3/19|c.199C>T|p.Arg67*|||||\tGT\t0/1',
].join('\n') + '\n';
const MISSENSE = 'NC_000001.11:152785039:G:T';
const STOP = 'NC_000003.12:37008812:C:T';
let base = '';
let patient = '';
const op = (name: string, query: string) => fhir(base, 'GET', `$${name}?${query}`);
const named = (body: any, name: string): any[] => (body.parameter ?? []).filter((p: any) => p.name === name);
const soCodes = (obs: any): string[] => (obs.component as any[]).flatMap((c: any) => (c.valueCodeableConcept?.coding ?? [])).filter((c: any) => /^SO:/.test(c.code)).map((c: any) => c.code);

describe('genomics: molecular consequences', () => {
  before(async () => {
    base = (await sharedServer()).base;
    patient = (await fhir(base, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Consequence' }] })).body.id;
    const res = await fetch(`${base}/Patient/${patient}/$import-vcf?testIdentifier=MC-1`, { method: 'POST', body: VCF, headers: { 'content-type': 'text/vcf' } });
    assert.equal(res.status, 200, await res.text());
  });

  it('returns the consequence and its variant for the asked SO term', async () => {
    const res = await op('find-subject-molecular-consequences', `subject=${patient}&variants=${MISSENSE},${STOP}&featureConsequences=http://sequenceontology.org|SO:0001583`);
    assert.equal(res.status, 200, res.text);
    const [consequence, ...more] = named(res.body, 'consequence');
    assert.equal(more.length, 0);
    assert.deepEqual(soCodes(consequence.resource), ['SO:0001583']);
    const variants = named(res.body, 'variant');
    assert.equal(variants.length, 1);
    assert.deepEqual(consequence.resource.derivedFrom, [{ reference: `Observation/${variants[0].resource.id}` }]);
  });

  it('without featureConsequences returns every annotated consequence; by range too', async () => {
    const all = await op('find-subject-molecular-consequences', `subject=${patient}&variants=${MISSENSE},${STOP}`);
    assert.deepEqual(named(all.body, 'consequence').flatMap((c) => soCodes(c.resource)).sort(), ['SO:0001583', 'SO:0001587']);
    const ranged = await op('find-subject-molecular-consequences', `subject=${patient}&ranges=NC_000003.12:37000000-37100000`);
    assert.deepEqual(named(ranged.body, 'consequence').flatMap((c) => soCodes(c.resource)), ['SO:0001587']);
    const none = await op('find-subject-molecular-consequences', `subject=${patient}&variants=${STOP}&featureConsequences=SO:0001589`);
    assert.equal(named(none.body, 'consequence').length, 0);
  });

  it('refuses a non-SO consequence and a call without variants or ranges', async () => {
    assert.equal((await op('find-subject-molecular-consequences', `subject=${patient}&variants=${STOP}&featureConsequences=http://sequenceontology.org|SO:0001589a`)).status, 400);
    assert.equal((await op('find-subject-molecular-consequences', `subject=${patient}`)).status, 400);
  });

  it('counts carriers of a variant with the consequence across the population', async () => {
    const res = await op('find-population-molecular-consequences', `variants=${MISSENSE}&featureConsequences=http://sequenceontology.org|SO:0001583&includePatientList=true`);
    assert.equal(res.status, 200, res.text);
    const [answer] = named(res.body, 'consequences');
    assert.ok(answer.part.some((p: any) => p.name === 'subject' && p.valueString === patient));
    const other = await op('find-population-molecular-consequences', `variants=${MISSENSE}&featureConsequences=SO:0001587&includePatientList=true`);
    assert.ok(!named(other.body, 'consequences')[0].part.some((p: any) => p.name === 'subject' && p.valueString === patient));
  });
});
