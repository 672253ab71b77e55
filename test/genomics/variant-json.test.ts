// The variant Observation's JSON text (src/genomics/variant-observation.ts), which the subject
// range operations return ~1,000s of per request, against Observations written out by hand here:
// the text must be exactly their JSON (same keys in the same order) and the object form must parse
// to them, for every shape of call (alleles present or not, structural, optional components) and
// for values that need JSON escaping; and the operations' Parameters written around such texts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { JsonTemplate, TEXT, VALUE } from '../../src/genomics/json-template.js';
import { parameterJson, parametersJson, partsParameterJson, resourceParameterJson } from '../../src/genomics/parameters-json.js';
import { variantObservation, variantObservationJson } from '../../src/genomics/variant-observation.js';
import type { GenomicStudy, VariantCall } from '../../src/genomics/types.js';

const LOINC = 'http://loinc.org';
const SO = 'http://www.sequenceontology.org';
const UCUM = 'http://unitsofmeasure.org';

const germline38: GenomicStudy = {
  id: 'st-1', patientId: 'pat-1', build: 'GRCh38', sourceClass: 'germline', testIdentifier: 'T-1', testDate: '2024-03-05',
  sampleName: 'S', reportId: 'r-1', changeTypes: [],
};
const somatic37Undated: GenomicStudy = { ...germline38, id: 'st-2', build: 'GRCh37', sourceClass: 'somatic', testDate: undefined };

/** A heterozygous PASS call with no identifiers, annotations, depth or AF unless given. */
function call(c: Pick<VariantCall, 'sequence' | 'start' | 'end' | 'ref' | 'alt' | 'spdi'> & Partial<VariantCall>): VariantCall {
  return {
    chromosome: '1', vcf: { pos: c.start + 1, ref: 'N', alt: 'N' }, ids: [], genotype: '0/1', phased: false,
    zygosity: 'heterozygous', filter: 'PASS', consequences: [], ...c,
  };
}

// Written out by hand from the IG's variant profile and LOINC's answer lists.
const head = (id: string, patient: string, date?: string) => ({
  resourceType: 'Observation',
  id,
  meta: { profile: ['http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant'] },
  status: 'final',
  category: [
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] },
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE', display: 'Genetics' }] },
  ],
  code: { coding: [{ system: LOINC, code: '69548-6', display: 'Genetic variant assessment' }] },
  subject: { reference: `Patient/${patient}` },
  ...(date ? { effectiveDateTime: date } : {}),
  valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA9633-4', display: 'Present' }] },
});
const loincCode = (code: string, display: string) => ({ coding: [{ system: LOINC, code, display }] });
const germline = { code: loincCode('48002-0', 'Genomic source class [Type]'), valueCodeableConcept: loincCode('LA6683-2', 'Germline') };
const somatic = { code: loincCode('48002-0', 'Genomic source class [Type]'), valueCodeableConcept: loincCode('LA6684-0', 'Somatic') };
const grch38 = { code: loincCode('62374-4', 'Human reference sequence assembly version'), valueCodeableConcept: loincCode('LA26806-2', 'GRCh38') };
const grch37 = { code: loincCode('62374-4', 'Human reference sequence assembly version'), valueCodeableConcept: loincCode('LA14029-5', 'GRCh37') };
const refseq = (accession: string) => ({
  code: loincCode('48013-7', 'Genomic reference sequence [ID]'),
  valueCodeableConcept: { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/refseq', code: accession }] },
});
const zeroBased = { code: loincCode('92822-6', 'Genomic coordinate system [Type]'), valueCodeableConcept: loincCode('LA30100-4', '0-based interval counting') };
const startEnd = (low: number, high: number) => ({ code: loincCode('81254-5', 'Genomic allele start-end'), valueRange: { low: { value: low }, high: { value: high } } });
const refAllele = (bases: string) => ({ code: loincCode('69547-8', 'Genomic ref allele [ID]'), valueString: bases });
const altAllele = (bases: string) => ({ code: loincCode('69551-0', 'Genomic alt allele [ID]'), valueString: bases });
const hgvs = (text: string) => ({
  code: loincCode('81290-9', 'Genomic DNA change (gHGVS)'), valueCodeableConcept: { coding: [{ system: 'http://varnomen.hgvs.org', code: text, display: text }] },
});
const spdi = (text: string) => ({
  code: loincCode('81252-9', 'Discrete genetic variant'),
  valueCodeableConcept: { coding: [{ system: 'https://api.ncbi.nlm.nih.gov/variation/v0/', code: text, display: text }] },
});
const dbsnp = (rs: string) => ({
  code: loincCode('81252-9', 'Discrete genetic variant'),
  valueCodeableConcept: { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/projects/SNP', code: rs, display: rs }] },
});
const changeType = (code: string, display: string) => ({
  code: loincCode('48019-4', 'DNA change type'), valueCodeableConcept: { coding: [{ system: SO, code, display }] },
});
const copyNumber = (value: number) => ({
  code: loincCode('82155-3', 'Genomic structural variant copy number'), valueQuantity: { value, system: UCUM, code: '1' },
});
const heterozygous = { code: loincCode('53034-5', 'Allelic state'), valueCodeableConcept: loincCode('LA6706-1', 'Heterozygous') };
const homozygous = { code: loincCode('53034-5', 'Allelic state'), valueCodeableConcept: loincCode('LA6705-3', 'Homozygous') };
const hemizygous = { code: loincCode('53034-5', 'Allelic state'), valueCodeableConcept: loincCode('LA6707-9', 'Hemizygous') };
const alleleFrequency = (value: number) => ({
  code: loincCode('81258-6', 'Sample variant allelic frequency [NFr]'),
  valueQuantity: { value, unit: 'relative frequency of a particular allele in the specimen', system: UCUM, code: '1' },
});
const depth = (value: number) => ({
  code: loincCode('82121-5', 'Allelic read depth'), valueQuantity: { value, unit: 'reads per base pair', system: UCUM, code: '1' },
});
const geneCoded = (hgnc: string, symbol: string) => ({
  code: loincCode('48018-6', 'Gene studied [ID]'), valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: hgnc, display: symbol }] },
});
const geneText = (symbol: string) => ({ code: loincCode('48018-6', 'Gene studied [ID]'), valueCodeableConcept: { text: symbol } });

const cases: { name: string; call: VariantCall; study: GenomicStudy; id: string; expected: Observation }[] = [
  {
    name: 'an SNV with an rs id, AF, depth and a gene with a bare HGNC number',
    call: call({
      sequence: 'NC_000019.10', start: 11100235, end: 11100236, ref: 'G', alt: 'A', spdi: 'NC_000019.10:11100235:G:A',
      ids: ['rs121908025'], depth: 40, alleleFrequency: 0.475, gene: 'LDLR', consequences: [{ terms: ['missense_variant'], gene: 'LDLR', hgncId: '6547' }],
    }),
    study: germline38,
    id: 'st-1-0',
    expected: {
      ...head('st-1-0', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000019.10'), zeroBased, startEnd(11100235, 11100236), refAllele('G'), altAllele('A'),
        hgvs('NC_000019.10:g.11100236G>A'), spdi('NC_000019.10:11100235:G:A'), dbsnp('rs121908025'), changeType('SO:0001483', 'SNV'),
        heterozygous, alleleFrequency(0.475), depth(40), geneCoded('HGNC:6547', 'LDLR'),
      ],
    } as Observation,
  },
  {
    name: 'an insertion (no ref allele), homozygous, somatic GRCh37 study without a test date',
    call: call({ sequence: 'NC_000017.10', start: 41245000, end: 41245000, ref: '', alt: 'AG', spdi: 'NC_000017.10:41245000::AG', zygosity: 'homozygous', genotype: '1/1' }),
    study: somatic37Undated,
    id: 'st-2-7',
    expected: {
      ...head('st-2-7', 'pat-1'),
      component: [
        somatic, grch37, refseq('NC_000017.10'), zeroBased, startEnd(41245000, 41245000), altAllele('AG'),
        hgvs('NC_000017.10:g.41245000_41245001insAG'), spdi('NC_000017.10:41245000::AG'), changeType('SO:0000667', 'insertion'), homozygous,
      ],
    } as Observation,
  },
  {
    name: 'an insertion before the first base: no HGVS can be written',
    call: call({ sequence: 'NC_000001.11', start: 0, end: 0, ref: '', alt: 'T', spdi: 'NC_000001.11:0::T' }),
    study: germline38,
    id: 'ins0',
    expected: {
      ...head('ins0', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000001.11'), zeroBased, startEnd(0, 0), altAllele('T'), spdi('NC_000001.11:0::T'),
        changeType('SO:0000667', 'insertion'), heterozygous,
      ],
    } as Observation,
  },
  {
    name: 'a deletion (no alt allele), a non-rs id ignored, a gene without an HGNC id, depth and AF of 0',
    call: call({
      sequence: 'NC_000007.14', start: 117559590, end: 117559593, ref: 'CTT', alt: '', spdi: 'NC_000007.14:117559590:CTT:',
      ids: ['COSV123'], depth: 0, alleleFrequency: 0, gene: 'CFTR', consequences: [{ terms: ['inframe_deletion'], gene: 'OTHER', hgncId: '1' }],
    }),
    study: germline38,
    id: 'del',
    expected: {
      ...head('del', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000007.14'), zeroBased, startEnd(117559590, 117559593), refAllele('CTT'),
        hgvs('NC_000007.14:g.117559591_117559593del'), spdi('NC_000007.14:117559590:CTT:'), changeType('SO:0000159', 'deletion'),
        heterozygous, alleleFrequency(0), depth(0), geneText('CFTR'),
      ],
    } as Observation,
  },
  {
    name: 'an MNV with two rs ids and a prefixed HGNC id',
    call: call({
      sequence: 'NC_000007.14', start: 140753335, end: 140753337, ref: 'CA', alt: 'TT', spdi: 'NC_000007.14:140753335:CA:TT',
      ids: ['rs1', 'esv2', 'rs22'], gene: 'BRAF', consequences: [{ terms: ['missense_variant'], gene: 'BRAF', hgncId: 'HGNC:1097' }],
    }),
    study: germline38,
    id: 'mnv',
    expected: {
      ...head('mnv', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000007.14'), zeroBased, startEnd(140753335, 140753337), refAllele('CA'), altAllele('TT'),
        hgvs('NC_000007.14:g.140753336_140753337delinsTT'), spdi('NC_000007.14:140753335:CA:TT'), dbsnp('rs1'), dbsnp('rs22'),
        changeType('SO:0002007', 'MNV'), heterozygous, geneCoded('HGNC:1097', 'BRAF'),
      ],
    } as Observation,
  },
  {
    name: 'a delins, on the mitochondrion (m.)',
    call: call({ sequence: 'NC_012920.1', start: 3242, end: 3243, ref: 'A', alt: 'GC', spdi: 'NC_012920.1:3242:A:GC', genotype: '1', zygosity: 'hemizygous' }),
    study: germline38,
    id: 'mt',
    expected: {
      ...head('mt', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_012920.1'), zeroBased, startEnd(3242, 3243), refAllele('A'), altAllele('GC'),
        hgvs('NC_012920.1:m.3243delinsGC'), spdi('NC_012920.1:3242:A:GC'), changeType('SO:1000032', 'delins'), hemizygous,
      ],
    } as Observation,
  },
  {
    name: 'a symbolic <DEL> with copy number 0: no alleles, HGVS or SPDI',
    call: call({
      sequence: 'NC_000001.11', start: 1000000, end: 1005000, ref: '', alt: '', spdi: 'NC_000001.11:1000000:1005000:<DEL>',
      structuralType: 'DEL', copyNumber: 0, depth: 12,
    }),
    study: germline38,
    id: 'sv-del',
    expected: {
      ...head('sv-del', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000001.11'), zeroBased, startEnd(1000000, 1005000), changeType('SO:0000159', 'deletion'),
        copyNumber(0), heterozygous, depth(12),
      ],
    } as Observation,
  },
  {
    name: 'a breakend: its change type as text',
    call: call({ sequence: 'NC_000002.12', start: 321681, end: 321681, ref: '', alt: '', spdi: 'NC_000002.12:321681:321681:<BND>', structuralType: 'BND' }),
    study: somatic37Undated,
    id: 'bnd',
    expected: {
      ...head('bnd', 'pat-1'),
      component: [
        somatic, grch37, refseq('NC_000002.12'), zeroBased, startEnd(321681, 321681),
        { code: loincCode('48019-4', 'DNA change type'), valueCodeableConcept: { text: 'breakend' } }, heterozygous,
      ],
    } as Observation,
  },
  {
    name: 'a hemizygous X call',
    call: call({ sequence: 'NC_000023.11', start: 153000000, end: 153000001, ref: 'C', alt: 'T', spdi: 'NC_000023.11:153000000:C:T', genotype: '1', zygosity: 'hemizygous' }),
    study: germline38,
    id: 'x',
    expected: {
      ...head('x', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000023.11'), zeroBased, startEnd(153000000, 153000001), refAllele('C'), altAllele('T'),
        hgvs('NC_000023.11:g.153000001C>T'), spdi('NC_000023.11:153000000:C:T'), changeType('SO:0001483', 'SNV'), hemizygous,
      ],
    } as Observation,
  },
  {
    name: 'a <CNV> with copy number 3 and a fractional AF',
    call: call({
      sequence: 'NC_000002.12', start: 5000, end: 9000, ref: '', alt: '', spdi: 'NC_000002.12:5000:9000:<CNV>',
      structuralType: 'CNV', copyNumber: 3, alleleFrequency: 1 / 3,
    }),
    study: germline38,
    id: 'cnv',
    expected: {
      ...head('cnv', 'pat-1', '2024-03-05'),
      component: [
        germline, grch38, refseq('NC_000002.12'), zeroBased, startEnd(5000, 9000), changeType('SO:0001019', 'copy_number_variation'),
        copyNumber(3), heterozygous, alleleFrequency(0.3333333333333333),
      ],
    } as Observation,
  },
  {
    name: 'strings that need escaping: quotes, backslashes, control and non-ASCII characters',
    call: call({
      sequence: 'NC_000019.10', start: 10, end: 11, ref: 'G', alt: 'A', spdi: 'NC_000019.10:10:G:A',
      gene: 'A"B\\C\n\u0000\u0001é', consequences: [{ terms: [], gene: 'A"B\\C\n\u0000\u0001é', hgncId: 'HGNC:"9"' }],
    }),
    study: { ...germline38, patientId: 'p"\\1', testDate: '2024-03-05T10:00:00+01:00' },
    id: 'id"\\\u2028',
    expected: {
      ...head('id"\\\u2028', 'p"\\1', '2024-03-05T10:00:00+01:00'),
      component: [
        germline, grch38, refseq('NC_000019.10'), zeroBased, startEnd(10, 11), refAllele('G'), altAllele('A'),
        hgvs('NC_000019.10:g.11G>A'), spdi('NC_000019.10:10:G:A'), changeType('SO:0001483', 'SNV'), heterozygous,
        geneCoded('HGNC:"9"', 'A"B\\C\n\u0000\u0001é'),
      ],
    } as Observation,
  },
];

describe('genomics: the variant Observation as JSON text', () => {
  for (const c of cases) {
    it(c.name, () => {
      const text = variantObservationJson(c.call, c.study, c.id);
      // The same keys in the same order as the hand-written Observation, not only equal values.
      assert.equal(text, JSON.stringify(c.expected));
      assert.deepEqual(JSON.parse(text), c.expected);
      assert.deepEqual(variantObservation(c.call, c.study, { id: c.id }), c.expected);
    });
  }

  it('an empty id is left out, as the object form always did', () => {
    const [first] = cases;
    const { id: _id, ...expected } = first?.expected as Observation;
    assert.equal(variantObservationJson(first?.call as VariantCall, germline38, ''), JSON.stringify(expected));
  });
});

describe('genomics: JSON templates', () => {
  it('fills string holes with escaped text (whole or part of a string) and value holes with JSON as given', () => {
    const t = new JsonTemplate({ a: TEXT, b: `x/${TEXT}/y`, c: [VALUE], d: { e: VALUE, f: 'k' } });
    assert.equal(t.fill('q"\\', '1\n', '{"z":1}', '2.5'), '{"a":"q\\"\\\\","b":"x/1\\n/y","c":[{"z":1}],"d":{"e":2.5,"f":"k"}}');
    assert.deepEqual(JSON.parse(t.fill('', '', 'null', '[]')), { a: '', b: 'x//y', c: [null], d: { e: [], f: 'k' } });
  });

  it('escapes exactly what JSON.stringify escapes', () => {
    const t = new JsonTemplate([TEXT]);
    for (const s of ['plain', '\ud800 lone', 'pair \ud83d\ude00', '\u007f \u2028 \u2029', '\t\r\b\f\u001f', 'é', '']) {
      assert.equal(t.fill(s), JSON.stringify([s]));
    }
  });

  it('refuses a VALUE placeholder inside a string, and a fill with the wrong number of values', () => {
    assert.throws(() => new JsonTemplate({ a: `x${VALUE as string}` }), /whole value/);
    assert.throws(() => new JsonTemplate({ a: TEXT }).fill(), /1 value/);
    assert.throws(() => new JsonTemplate({ a: TEXT }).fill('x', 'y'), /1 value/);
  });
});

describe('genomics: Parameters as JSON text', () => {
  it('is the JSON of the same Parameters, resources given as text or as objects', () => {
    const observation = { resourceType: 'Observation', id: 'v"1', status: 'final' };
    const text = parametersJson([
      partsParameterJson('variants', [
        parameterJson({ name: 'rangeItem', valueString: 'NC_000001.11:10-20' }),
        parameterJson({ name: 'presence', valueBoolean: true }),
        resourceParameterJson('variant', JSON.stringify(observation)),
      ]),
      partsParameterJson('na"me', []),
      parameterJson({ name: 'consequence', resource: { resourceType: 'Observation', id: 'c', status: 'final', code: { text: 'x' } } }),
    ]);
    assert.equal(text, JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'variants',
          part: [
            { name: 'rangeItem', valueString: 'NC_000001.11:10-20' },
            { name: 'presence', valueBoolean: true },
            { name: 'variant', resource: { resourceType: 'Observation', id: 'v"1', status: 'final' } },
          ],
        },
        { name: 'na"me', part: [] },
        { name: 'consequence', resource: { resourceType: 'Observation', id: 'c', status: 'final', code: { text: 'x' } } },
      ],
    }));
    assert.equal(parametersJson([]), '{"resourceType":"Parameters","parameter":[]}');
  });
});
