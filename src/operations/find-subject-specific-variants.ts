// $find-subject-specific-variants — Genomics Reporting IG 3.0.0, OperationDefinition
// find-subject-specific-variants: for each variant item (SPDI or genomic HGVS), whether the
// subject has that allele, with its variant Observations. Transcript (c.) and protein (p.) HGVS
// need a transcript map Helix does not hold, and are refused with a 400.
import { variantObservationsJson } from '../genomics/emit.js';
import { items, operationParams, required, selectStudies, subjectId } from '../genomics/op-input.js';
import { parameterJson, parametersJson, partsParameterJson, resourceParameterJson } from '../genomics/parameters-json.js';
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
  const parameter = wanted.map((w) => {
    const found = calls.filter((v) => sameAllele(v, w));
    return partsParameterJson('variants', [
      parameterJson({ name: 'variantItem', valueString: w.text }),
      parameterJson({ name: 'presence', valueBoolean: found.length > 0 }),
      ...variantObservationsJson(found, byId).map((text) => resourceParameterJson('variant', text)),
    ]);
  });
  return { status: 200, headers: {}, text: parametersJson(parameter) };
});
