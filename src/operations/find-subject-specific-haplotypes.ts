// $find-subject-specific-haplotypes — Genomics Reporting IG 3.0.0, OperationDefinition
// find-subject-specific-haplotypes: for each haplotype or genotype item, whether the subject has
// it, with the haplotype and genotype Observations that say so: those stored in Helix
// (src/genomics/stored-haplotypes.ts, which defines how names match) and those of Helix's own
// star-allele calls on the subject's imported GRCh38 studies (src/genomics/pgx/called-observations.ts).
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import { items, operationParams, required, studyCriteria, subjectId } from '../genomics/op-input.js';
import { haplotypeParts, KIND_CODES, loadObservations, matchesHaplotype, parseHaplotypeItem } from '../genomics/stored-haplotypes.js';
import { calledObservations } from '../genomics/pgx/called-observations.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-subject-specific-haplotypes';

/** The $find-subject-specific-haplotypes operation (system level). */
export const findSubjectSpecificHaplotypesOperation = genomicsOperation(NAME, async (ctx, s, req) => {
  const params = operationParams(req, NAME, ['subject', 'haplotypes', 'testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass']);
  const patientId = subjectId(required(params, 'subject', NAME));
  const wanted = items(params, 'haplotypes').map(parseHaplotypeItem);
  if (wanted.length === 0) throw badRequest(`$${NAME} requires haplotypes`);
  const study = studyCriteria(params);
  const stored = [
    ...await loadObservations(ctx, s, { codes: [...KIND_CODES.haplotype, ...KIND_CODES.genotype], patientId, study }),
    ...await calledObservations(ctx, s, params, patientId),
  ];
  const parameter: ParametersParameter[] = wanted.map((item) => {
    const found = stored.filter((o) => matchesHaplotype(o.resource, item));
    return {
      name: 'haplotypes',
      part: [
        { name: 'haplotypeItem', valueString: item.text },
        { name: 'presence', valueBoolean: found.length > 0 },
        ...haplotypeParts(found),
      ],
    };
  });
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter } };
});
