// Scope enforcement of the genomics operations (src/smart/enforce.ts), through the FHIR router with
// hand-made access tokens: patient A and patient B each have one imported test. Expected answers
// from the rules: subject operations need read and search on the subject's Observations,
// population operations unrestricted Observation search, $import-vcf create and update on the
// patient's Procedures and DiagnosticReports and sight of the Patient.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { asFhirError } from '../../src/fhir/errors.js';
import { route } from '../../src/fhir/router.js';
import type { FhirContext, FhirMethod } from '../../src/fhir/types.js';
import { authorization, type Authorization } from '../../src/smart/access.js';
import { fhir, sharedServer } from '../harness.js';

const VCF = '##fileformat=VCFv4.3\n##reference=GRCh38\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\nchr6\t26092913\t.\tG\tA\t50\tPASS\t.\tGT\t0/1\n';
const HFE = 'NC_000006.12:26092912:G:A';
const ids: Record<string, string> = {};
let ctx: FhirContext;

async function call(auth: Authorization, method: FhirMethod, path: string, body?: unknown, contentType?: string): Promise<number> {
  const [p = '', q = ''] = path.split('?', 2);
  try {
    const res = await route(ctx, ctx.pool, { method, path: p, query: new URLSearchParams(q), headers: {}, body, ...(contentType ? { contentType } : {}), auth });
    return res.status;
  } catch (err) {
    return asFhirError(err).status;
  }
}
const user = (scope: string, patient?: string): Authorization =>
  authorization(scope, { clientId: 'genomics-app', kind: 'user', role: 'practitioner', ...(patient ? { patient } : {}) });
const system = (scope: string): Authorization => authorization(scope, { clientId: 'lab', kind: 'system' });
const importAs = (auth: Authorization, patient: string, test: string): Promise<number> =>
  call(auth, 'POST', `Patient/${patient}/$import-vcf?testIdentifier=${test}`, Readable.from([VCF]), 'text/vcf');

describe('genomics: authorization', () => {
  before(async () => {
    const { base, helix } = await sharedServer();
    ctx = helix.ctx;
    for (const key of ['a', 'b']) {
      ids[key] = (await fhir(base, 'POST', 'Patient', { resourceType: 'Patient' })).body.id;
      const res = await fetch(`${base}/Patient/${ids[key]}/$import-vcf?testIdentifier=AUTH-${key}`, { method: 'POST', body: VCF, headers: { 'content-type': 'text/vcf' } });
      assert.equal(res.status, 200);
    }
  });

  it("subject operations answer for the patient in context and refuse another patient's data", async () => {
    const patientA = user('patient/Observation.rs', ids.a);
    assert.equal(await call(patientA, 'GET', `$find-subject-specific-variants?subject=${ids.a}&variants=${HFE}`), 200);
    assert.equal(await call(patientA, 'GET', `$find-subject-specific-variants?subject=${ids.b}&variants=${HFE}`), 403);
    assert.equal(await call(patientA, 'GET', `$find-study-metadata?subject=${ids.b}`), 403);
    // Reading Observations is what the answers are: a Procedure-only token gets nothing.
    assert.equal(await call(user('patient/Procedure.rs', ids.a), 'GET', `$find-study-metadata?subject=${ids.a}`), 403);
  });

  it('population operations need unrestricted Observation search', async () => {
    const q = `$find-population-specific-variants?variants=${HFE}`;
    assert.equal(await call(user('patient/Observation.rs', ids.a), 'GET', q), 403);
    assert.equal(await call(system('system/Observation.rs'), 'GET', q), 200);
  });

  it('$import-vcf needs create and update on the patient\'s Procedures and DiagnosticReports', async () => {
    assert.equal(await importAs(user('patient/Observation.cruds', ids.a), ids.a as string, 'AUTH-x1'), 403);
    assert.equal(await importAs(user('patient/Procedure.cu patient/DiagnosticReport.cu patient/Patient.r', ids.a), ids.b as string, 'AUTH-x2'), 403);
    assert.equal(await importAs(user('patient/Procedure.cu patient/DiagnosticReport.cu patient/Patient.r', ids.a), ids.a as string, 'AUTH-x3'), 200);
    assert.equal(await importAs(system('system/Procedure.cu system/DiagnosticReport.cu system/Patient.r'), ids.b as string, 'AUTH-x4'), 200);
  });
});
