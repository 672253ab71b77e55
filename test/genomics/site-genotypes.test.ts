// Genotypes kept at sites of interest during import (migration 014): reference calls and no-calls
// are kept there — unlike the variant store, which holds non-reference calls only — so a
// star-allele caller can tell a position called reference from one absent from the file.
// Hand-made VCF on GRCh38 chr10 (NC_000010.11); the sites of interest are 94761900, 94775367,
// 94781859, 94842866 and 94852738 (CYP2C19 defined positions); 94775367 is not in the file.
// Without `sites`, a GRCh38 import keeps the star-allele definitions' positions (ctx.pgx).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { importVcf } from '../../src/genomics/import.js';
import { findStudies, siteGenotypes } from '../../src/genomics/variant-store.js';
import { fhir, sharedServer, type TestServer } from '../harness.js';

const VCF = [
  '##fileformat=VCFv4.2',
  '##contig=<ID=chr10,length=133797422,assembly=GRCh38>',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1',
  'chr10\t94761900\trs12248560\tC\tT\t.\tPASS\t.\tGT\t0/0',
  'chr10\t94780000\t.\tA\tG\t.\tPASS\t.\tGT\t0/1',
  'chr10\t94781859\trs4244285\tG\tA\t.\tPASS\t.\tGT:PS\t1|0:94781000',
  'chr10\t94842866\trs3758581\tA\tG\t.\tPASS\t.\tGT\t./.',
  'chr10\t94852738\t.\tC\tT,<DEL>\t.\tPASS\t.\tGT\t0/1',
  '',
].join('\n');

const SITES = new Map([['NC_000010.11', new Set([94761900, 94775367, 94781859, 94842866, 94852738])]]);

describe('genotypes at sites of interest', () => {
  let server: TestServer;
  let patientId = '';
  before(async () => {
    server = await sharedServer();
    patientId = (await fhir(server.base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id as string;
  });

  it('keeps every site in the file, reference and no-call included, and no other line', async () => {
    await importVcf(server.helix.ctx, Buffer.from(VCF), { patientId, sourceClass: 'germline', testIdentifier: 'SITES-1', sites: SITES });
    const [study] = await findStudies(server.helix.ctx.db, { patientId, testIdentifiers: ['SITES-1'] });
    assert.ok(study);
    assert.deepEqual(await siteGenotypes(server.helix.ctx.db, study, 'NC_000010.11'), [
      { sequence: 'NC_000010.11', pos: 94761900, ref: 'C', alts: ['T'], genotype: '0/0' },
      { sequence: 'NC_000010.11', pos: 94781859, ref: 'G', alts: ['A'], genotype: '1|0', phaseSet: 94781000 },
      { sequence: 'NC_000010.11', pos: 94842866, ref: 'A', alts: ['G'], genotype: './.' },
      { sequence: 'NC_000010.11', pos: 94852738, ref: 'C', alts: ['T', '<DEL>'], genotype: '0/1' },
    ]);
    assert.deepEqual(await siteGenotypes(server.helix.ctx.db, study, 'NC_000001.11'), []);
  });

  it('a re-import replaces the sites; empty sites keep none; by default a GRCh38 import keeps the star-allele positions', async () => {
    const changed = VCF.replace('94761900\trs12248560\tC\tT\t.\tPASS\t.\tGT\t0/0', '94761900\trs12248560\tC\tT\t.\tPASS\t.\tGT\t0/1');
    await importVcf(server.helix.ctx, Buffer.from(changed), { patientId, sourceClass: 'germline', testIdentifier: 'SITES-1', sites: SITES });
    const [study] = await findStudies(server.helix.ctx.db, { patientId, testIdentifiers: ['SITES-1'] });
    assert.ok(study);
    const sites = await siteGenotypes(server.helix.ctx.db, study, 'NC_000010.11');
    assert.deepEqual(sites.map((s) => [s.pos, s.genotype]), [[94761900, '0/1'], [94781859, '1|0'], [94842866, './.'], [94852738, '0/1']]);

    await importVcf(server.helix.ctx, Buffer.from(VCF), { patientId, sourceClass: 'germline', testIdentifier: 'SITES-2', sites: new Map() });
    const [none] = await findStudies(server.helix.ctx.db, { patientId, testIdentifiers: ['SITES-2'] });
    assert.ok(none);
    assert.deepEqual(await siteGenotypes(server.helix.ctx.db, none, 'NC_000010.11'), []);

    // CYP2C19's defined positions (knowledge/pgx/alleles/CYP2C19.json) include all four lines'
    // sites but not 94780000 (the plain het line).
    await importVcf(server.helix.ctx, Buffer.from(VCF), { patientId, sourceClass: 'germline', testIdentifier: 'SITES-3' });
    const [byDefault] = await findStudies(server.helix.ctx.db, { patientId, testIdentifiers: ['SITES-3'] });
    assert.ok(byDefault);
    const kept = await siteGenotypes(server.helix.ctx.db, byDefault, 'NC_000010.11');
    assert.deepEqual(kept.map((k) => k.pos), [94761900, 94781859, 94842866, 94852738]);
  });
});
