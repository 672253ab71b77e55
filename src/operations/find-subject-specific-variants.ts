// $find-subject-specific-variants — Genomics Reporting IG 3.0.0, OperationDefinition
// find-subject-specific-variants: for each variant item (SPDI or genomic HGVS), whether the
// subject has that allele, with its variant Observations. Transcript (c.) and protein (p.) HGVS
// need a transcript map Helix does not hold, and are refused with a 400.
import type { ParametersParameter } from '@medplum/fhirtypes';
import { variantObservations } from '../genomics/emit.js';
import { items, operationParams, required, selectStudies, subjectId } from '../genomics/op-input.js';
import { callsNamedBy, parseVariantItems, sameAllele } from '../genomics/variant-items.js';
import { badRequest } from '../fhir/errors.js';
import { genomicsOperation } from './genomics-operation.js';

const NAME = 'find-subject-specific-variants';

/** The $find-subject-specific-variants operation (system level). */
export const findSubjectSpecificVariantsOperation = genomicsOperation(NAME, async (_ctx, s, req) => {
  const params = operationParams(req, NAME, ['subject', 'variants', 'testIdentifiers', 'testDateRange', 'specimenIdentifiers', 'genomicSourceClass']);
  const patientId = subjectId(required(params, 'subject', NAME));
  const wanted = parseVariantItems(items(params, 'variants'));
  if (wanted.length === 0) throw badRequest(`$${NAME} requires variants`);
  const studies = await selectStudies(s, params, patientId);
  const byId = new Map(studies.map((st) => [st.id, st]));
  const { calls } = await callsNamedBy(s.q, studies, wanted);
  const parameter: ParametersParameter[] = wanted.map((w) => {
    const found = calls.filter((v) => sameAllele(v, w));
    return {
      name: 'variants',
      part: [
        { name: 'variantItem', valueString: w.text },
        { name: 'presence', valueBoolean: found.length > 0 },
        ...variantObservations(found, byId).map((resource) => ({ name: 'variant', resource })),
      ],
    };
  });
  return { status: 200, headers: {}, resource: { resourceType: 'Parameters', parameter } };
});
