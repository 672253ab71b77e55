// $find-subject-haplotypes — Genomics Reporting IG 3.0.0, OperationDefinition
// find-subject-haplotypes: for each gene item, the subject's haplotype and genotype Observations
// of that gene: those stored in Helix (src/genomics/stored-haplotypes.ts) and those of Helix's own
// star-allele calls on the subject's imported GRCh38 studies (src/genomics/pgx/called-observations.ts).
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/errors.js';
import { items, operationParams, required, studyCriteria, subjectId } from '../genomics/op-input.js';
import { haplotypeParts, KIND_CODES, loadObservations, matchesGene, parseGeneItem } from '../genomics/stored-haplotypes.js';
import { calledObservations } from '../genomics/pgx/called-observations.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-subject-haplotypes';

/** The $find-subject-haplotypes operation (system level). */
export const findSubjectHaplotypesOperation = genomicsOperation(NAME, async (ctx, s, req) => {
  const params = operationParams(req, NAME, ['subject', 'genes', 'testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass']);
  const patientId = subjectId(required(params, 'subject', NAME));
  const genes = items(params, 'genes').map(parseGeneItem);
  if (genes.length === 0) throw badRequest(`$${NAME} requires genes`);
  const study = studyCriteria(params);
  const stored = [
    ...await loadObservations(ctx, s, { codes: [...KIND_CODES.haplotype, ...KIND_CODES.genotype], patientId, study }),
    ...await calledObservations(ctx, s, params, patientId),
  ];
  const parameter: ParametersParameter[] = genes.map((gene) => {
    const found = stored.filter((o) => matchesGene(o.resource, gene));
    return {
      name: 'haplotypes',
      part: [
        { name: 'geneItem', valueString: gene.text },
        ...haplotypeParts(found),
      ],
    };
  });
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter } };
});
