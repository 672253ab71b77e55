// The matcher's rules on small cases worked out by hand: a made-up four-position gene for the
// general method, and the real SLCO1B1 and DPYD definitions for their exceptions. Expected scores
// count the defined positions each allele matched (PharmCAT's scoring); a wobble counts only when
// it matched a non-reference base.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  ALLELE_DEFINITIONS_FORMAT, checkGeneAlleleDefinitions, loadAlleleDefinitions, type GeneAlleleDefinitions,
} from '../../../src/genomics/pgx/allele-definitions.js';
import { callDiplotypes, type GeneCall, type PositionGenotype } from '../../../src/genomics/pgx/diplotypes.js';
import { KNOWLEDGE } from './pharmcat-cases.js';

// rs1 100 A>T, rs2 200 C>G, rs3 300 G>A, rs4 400 C>CT (an insertion CPIC writes insT).
const TOY_ALLELES: Record<string, (string | null)[]> = {
  '*1': ['A', 'C', 'G', 'C'],
  '*2': ['T', null, null, null],
  '*3': ['T', null, 'A', null],
  '*4': [null, 'G', null, null],
  '*5': ['T', 'G', null, null],
  '*6': [null, null, null, 'CT'],
  '*7': [null, 'S', 'A', null],
};

function toy(method: Partial<GeneAlleleDefinitions['method']> = {}, alleles = TOY_ALLELES): GeneAlleleDefinitions {
  const checked = checkGeneAlleleDefinitions({
    format: ALLELE_DEFINITIONS_FORMAT, gene: 'TOY', build: 'GRCh38', refSeq: 'NC_000000.1', chromosome: 'chr0',
    knowledgeVersion: 'test', source: { name: 'hand-made', url: 'https://example.org', version: 'test' },
    positions: [
      { position: 100, rsid: 'rs1', ref: 'A', alts: ['T'] },
      { position: 200, rsid: 'rs2', ref: 'C', alts: ['G'] },
      { position: 300, rsid: 'rs3', ref: 'G', alts: ['A'] },
      { position: 400, rsid: 'rs4', ref: 'C', alts: ['CT'], cpicToVcf: { C: 'C', insT: 'CT' } },
    ],
    namedAlleles: Object.entries(alleles).map(([name, cells]) => ({ name, reference: name === '*1', alleles: cells })),
    method: {
      kind: 'diplotype', ignoredAlleles: [], ignoredPositions: [], requiredPositions: [], extraPositions: [],
      allHits: false, unphasedPriorities: [], undocumentedAsReference: false, ...method,
    },
  }, 'toy.json');
  assert.ok(checked.ok, checked.ok ? '' : checked.error);
  return checked.value;
}

/** Genotypes from `pos: 'A/T'` (unphased), `'A|T'` (phased), `'A|T@2'` (phase set 2); unlisted toy positions are reference. */
function sample(calls: Record<number, string>, refs: Record<number, string> = { 100: 'A', 200: 'C', 300: 'G', 400: 'C' }): Map<number, PositionGenotype> {
  const out = new Map<number, PositionGenotype>();
  for (const [pos, ref] of Object.entries(refs)) out.set(Number(pos), { alleles: [ref, ref], phased: false });
  for (const [pos, gt] of Object.entries(calls)) {
    if (gt === 'missing') {
      out.delete(Number(pos));
      continue;
    }
    const [call, ps] = gt.split('@');
    const [a, b] = (call as string).split(/[/|]/).map((x) => (x === '.' ? undefined : x));
    const g: PositionGenotype = { alleles: [a, b], phased: (call as string).includes('|') };
    if (ps) g.phaseSet = Number(ps);
    out.set(Number(pos), g);
  }
  return out;
}

const names = (call: GeneCall): string[] => call.diplotypes.map((d) => `${d.name}:${d.score}`);

describe('diplotype matching rules (hand-worked)', () => {
  it('one heterozygous position makes *1/*2; a homozygous one *2/*2', () => {
    assert.deepEqual(names(callDiplotypes(toy(), sample({ 100: 'A/T' }))), ['*1/*2:5']);
    assert.deepEqual(names(callDiplotypes(toy(), sample({ 100: 'T/T' }))), ['*2/*2:2']);
    assert.deepEqual(names(callDiplotypes(toy(), sample({}))), ['*1/*1:8']);
  });

  it('a missing position shared by two alleles makes a tie, reported with what was missing', () => {
    const call = callDiplotypes(toy(), sample({ 100: 'A/T', 300: 'missing' }));
    // Without rs3, *3 is read on rs1 alone — exactly *2 — and *1 keeps its other three positions.
    assert.deepEqual(names(call), ['*1/*2:4', '*1/*3:4']);
    assert.equal(call.complete, false);
    assert.deepEqual(call.missingPositions, [{ position: 300, rsid: 'rs3' }]);
    assert.deepEqual(call.partlyMissingAlleles, ['*3', '*7']);
  });

  it('an allele whose every defining position is missing cannot be called', () => {
    const call = callDiplotypes(toy(), sample({ 100: 'missing', 200: 'C/G' }));
    assert.deepEqual(call.uncallableAlleles, ['*2']);
    assert.deepEqual(names(call), ['*1/*4:4', '*1/*5:4']);
  });

  it('unphased, the higher-scoring pairing wins; all candidates are available on request', () => {
    const genotypes = sample({ 100: 'A/T', 200: 'C/G' });
    assert.deepEqual(names(callDiplotypes(toy(), genotypes)), ['*1/*5:6']);
    assert.deepEqual(names(callDiplotypes(toy(), genotypes, { candidates: 'all' })), ['*1/*5:6', '*2/*4:2']);
  });

  it('phased data choose between the pairings', () => {
    const trans = callDiplotypes(toy(), sample({ 100: 'A|T', 200: 'G|C' }));
    assert.deepEqual(names(trans), ['*2/*4:2']);
    assert.equal(trans.phased, true);
    assert.deepEqual(names(callDiplotypes(toy(), sample({ 100: 'A|T', 200: 'C|G' }))), ['*1/*5:6']);
  });

  it('different phase sets do not phase against each other', () => {
    const call = callDiplotypes(toy(), sample({ 100: 'A|T@1', 200: 'G|C@2' }), { candidates: 'all' });
    assert.deepEqual(names(call), ['*1/*5:6', '*2/*4:2']);
    assert.equal(call.phased, false);
  });

  it('an insertion matches in VCF spelling', () => {
    assert.deepEqual(names(callDiplotypes(toy(), sample({ 400: 'C/CT' }))), ['*1/*6:5']);
  });

  it('an ambiguity code matches either base and scores only a non-reference one', () => {
    // *7 is S (C or G) at rs2 and A at rs3.
    assert.deepEqual(names(callDiplotypes(toy(), sample({ 300: 'G/A' }))), ['*1/*7:5']);
    assert.deepEqual(names(callDiplotypes(toy(), sample({ 200: 'C/G', 300: 'G/A' }), { candidates: 'all' })), ['*1/*7:6', '*4/*7:2']);
  });

  it('an undocumented base is no call, or reference where the gene says so', () => {
    const strict = callDiplotypes(toy(), sample({ 100: 'A/C' }));
    assert.deepEqual(names(strict), []);
    assert.deepEqual(strict.undocumentedPositions, [100]);
    assert.deepEqual(names(callDiplotypes(toy({ undocumentedAsReference: true }), sample({ 100: 'A/C' }))), ['*1/*1:8']);
  });

  it('half calls and no calls count as missing; no data is no call', () => {
    const half = callDiplotypes(toy(), sample({ 100: 'T/.' }));
    assert.deepEqual(half.missingPositions.map((p) => p.position), [100]);
    const none = callDiplotypes(toy(), new Map());
    assert.deepEqual(names(none), []);
    assert.equal(none.missingPositions.length, 4);
  });

  it('honours ignored alleles, required positions, all-hits genes and unphased priorities', () => {
    const genotypes = sample({ 100: 'A/T', 200: 'C/G' });
    assert.deepEqual(names(callDiplotypes(toy({ ignoredAlleles: ['*5'] }), genotypes)), ['*2/*4:2']);
    assert.deepEqual(names(callDiplotypes(toy({ requiredPositions: [300] }), sample({ 300: 'missing' }))), []);
    assert.deepEqual(names(callDiplotypes(toy({ allHits: true }), genotypes)), ['*1/*5:6', '*2/*4:2']);
    const tie = sample({ 100: 'A/T', 300: 'missing' });
    assert.deepEqual(names(callDiplotypes(toy({ unphasedPriorities: [{ diplotypes: ['*1/*3', '*1/*2'], pick: '*1/*3' }] }), tie)), ['*1/*3:4']);
  });
});

describe('gene exceptions on the shipped definitions', () => {
  let slco1b1: GeneAlleleDefinitions;
  let dpyd: GeneAlleleDefinitions;
  before(async () => {
    const loaded = await loadAlleleDefinitions(KNOWLEDGE);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
    slco1b1 = loaded.value.get('SLCO1B1') as GeneAlleleDefinitions;
    dpyd = loaded.value.get('DPYD') as GeneAlleleDefinitions;
  });
  const reference = (defs: GeneAlleleDefinitions, calls: Record<string, string>): Map<number, PositionGenotype> => {
    const refs = Object.fromEntries(defs.positions.map((p) => [p.position, p.ref]));
    const byRsid = Object.fromEntries(Object.entries(calls).map(([rsid, gt]) => [defs.positions.find((p) => p.rsid === rsid)?.position as number, gt]));
    return sample(byRsid, refs);
  };

  it('SLCO1B1 falls back to rs4149056 when no diplotype fits', () => {
    // *2 (rs56101265 C) and *4 (rs11045819 A) homozygous with rs4149056 C/C: no copy fits one allele.
    const call = callDiplotypes(slco1b1, reference(slco1b1, { rs56101265: 'C/C', rs11045819: 'A/A', rs4149056: 'C/C' }));
    assert.equal(call.calledBy, 'single-variant');
    assert.deepEqual(call.diplotypes.map((d) => d.name), ['*5/*5']);
    const without = callDiplotypes(slco1b1, reference(slco1b1, { rs56101265: 'C/C', rs11045819: 'A/A', rs4149056: 'missing' }));
    assert.deepEqual(without.diplotypes, []);
  });

  it('DPYD unphased: every variant is listed and the two lowest-activity ones make the diplotype', () => {
    const call = callDiplotypes(dpyd, reference(dpyd, { rs3918290: 'C/T', rs67376798: 'T/A', rs1801265: 'A/G' }));
    assert.equal(call.calledBy, 'lowest-function');
    assert.deepEqual(call.foundAlleles?.map((h) => `${h.name}=${h.activityValue}`), ['c.1905+1G>A (*2A)=0', 'c.2846A>T=0.5', 'c.85T>C (*9A)=1']);
    assert.deepEqual(call.diplotypes.map((d) => d.name), ['c.1905+1G>A (*2A)/c.2846A>T']);
    const hom = callDiplotypes(dpyd, reference(dpyd, { rs67376798: 'A/A' }));
    assert.deepEqual(hom.diplotypes.map((d) => d.name), ['c.2846A>T/c.2846A>T']);
    // An activity lookup passed in takes precedence over the file's values.
    const swapped = callDiplotypes(dpyd, reference(dpyd, { rs3918290: 'C/T', rs67376798: 'T/A', rs1801265: 'A/G' }), { activityOf: (a) => (a === 'c.85T>C (*9A)' ? 0 : undefined) });
    assert.deepEqual(swapped.diplotypes.map((d) => d.name), ['c.85T>C (*9A)/c.1905+1G>A (*2A)']);
  });

  it('DPYD HapB3: both variants make HapB3; an extra intronic copy is c.1129-5923C>G; the exonic one alone is normal', () => {
    const hapB3 = 'c.1129-5923C>G, c.1236G>A (HapB3)';
    const both = callDiplotypes(dpyd, reference(dpyd, { rs75017182: 'G/C', rs56038477: 'C/T', rs67376798: 'T/A' }));
    assert.deepEqual(both.foundAlleles?.map((h) => h.name), [hapB3, 'c.2846A>T']);
    const extra = callDiplotypes(dpyd, reference(dpyd, { rs75017182: 'C/C', rs56038477: 'C/T', rs67376798: 'T/A' }));
    assert.deepEqual(extra.foundAlleles?.map((h) => h.name).sort(), [hapB3, 'c.1129-5923C>G', 'c.2846A>T'].sort());
    const exonic = callDiplotypes(dpyd, reference(dpyd, { rs56038477: 'C/T' }));
    assert.deepEqual(exonic.diplotypes.map((d) => d.name), ['Reference/Reference']);
  });

  it('DPYD phased: each strand lists what it carries, and keeps its lowest activity', () => {
    const call = callDiplotypes(dpyd, reference(dpyd, { rs3918290: 'C|T', rs1801265: 'A|G', rs67376798: 'A|T' }));
    assert.equal(call.phased, true);
    const [d] = call.diplotypes;
    assert.equal(d?.name, 'c.85T>C (*9A) + c.1905+1G>A (*2A)/c.2846A>T');
    assert.deepEqual(d?.haplotypes.map((h) => [h.alleles, h.activityValue]), [[['c.85T>C (*9A)', 'c.1905+1G>A (*2A)'], 0], [['c.2846A>T'], 0.5]]);
  });
});
