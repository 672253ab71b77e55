// $find-population-tx-implications — Genomics Reporting IG 3.0.0, OperationDefinition
// find-population-tx-implications: how many patients have a therapeutic implication meeting the
// filters (variants, haplotypes, treatments, conditions; each by any of its items, all filters
// given), and which (includePatientList). The denominator is the patients with any stored
// genotype, haplotype or variant Observation — plus the numerator's, since an implication may
// derive from findings Helix does not hold — and the patients Helix has called genotypes for.
// Answered from the Observations stored in Helix (src/genomics/stored-implications.ts) and from
// Helix's own calls with CPIC's advice on every GRCh38 study (src/genomics/pgx/called-implications.ts).
import { flag, operationParams, populationParts, studyCriteria } from '../genomics/op-input.js';
import { KIND_CODES, patientsWith } from '../genomics/stored-haplotypes.js';
import { findImplications, implicationFilters } from '../genomics/stored-implications.js';
import { calledImplications } from '../genomics/pgx/called-implications.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-population-tx-implications';

/** The $find-population-tx-implications operation (system level). */
export const findPopulationTxImplicationsOperation = genomicsOperation(NAME, async (ctx, s, req) => {
  const params = operationParams(req, NAME, ['variants', 'haplotypes', 'treatments', 'conditions', 'genomicSourceClass', 'includePatientList']);
  const filters = implicationFilters(params);
  const includePatients = flag(params, 'includePatientList');
  const study = studyCriteria(params);
  const called = await calledImplications(ctx, s, study);
  const answer = await findImplications(ctx, s, filters, study, undefined, called);
  const patients = new Set(answer.implications.flatMap((i) => (i.patientId ? [i.patientId] : [])));
  const cohort = await patientsWith(ctx, s, { codes: [...KIND_CODES.genotype, ...KIND_CODES.haplotype, ...KIND_CODES.variant], study });
  for (const p of [...patients, ...called.findings.map((f) => f.patientId as string)]) cohort.add(p);
  const part = populationParts(patients, cohort.size, includePatients);
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter: [{ name: 'implications', part }] } };
});
