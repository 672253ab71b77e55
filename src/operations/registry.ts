// Operations ($name) at system, type and instance level (operations.html). Each operation lives in
// its own file and is listed here, so routing and the CapabilityStatement see the same set.
import { methodNotAllowed, notFound } from '../fhir/errors.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from '../fhir/types.js';
import { everythingOperation } from './everything.js';
import { importVcfOperation } from './import-vcf.js';
import { findSubjectVariantsOperation } from './find-subject-variants.js';
import { findSubjectSpecificVariantsOperation } from './find-subject-specific-variants.js';
import { findSubjectStructuralIntersectingVariantsOperation } from './find-subject-structural-intersecting-variants.js';
import { findSubjectStructuralSubsumingVariantsOperation } from './find-subject-structural-subsuming-variants.js';
import { findStudyMetadataOperation } from './find-study-metadata.js';
import { findPopulationMolecularConsequencesOperation } from './find-population-molecular-consequences.js';
import { findSubjectMolecularConsequencesOperation } from './find-subject-molecular-consequences.js';
import { findPopulationSpecificVariantsOperation } from './find-population-specific-variants.js';
import { findPopulationStructuralIntersectingVariantsOperation } from './find-population-structural-intersecting-variants.js';
import { findPopulationStructuralSubsumingVariantsOperation } from './find-population-structural-subsuming-variants.js';
import { findSubjectHaplotypesOperation } from './find-subject-haplotypes.js';
import { findSubjectSpecificHaplotypesOperation } from './find-subject-specific-haplotypes.js';
import { findPopulationSpecificHaplotypesOperation } from './find-population-specific-haplotypes.js';
import { findSubjectTxImplicationsOperation } from './find-subject-tx-implications.js';
import { findPopulationTxImplicationsOperation } from './find-population-tx-implications.js';
import { findSubjectDxImplicationsOperation } from './find-subject-dx-implications.js';
import { findPopulationDxImplicationsOperation } from './find-population-dx-implications.js';
import { getWsBindingTokenOperation } from './get-ws-binding-token.js';
import { lastnOperation } from './lastn.js';
import { reindexOperation } from './reindex.js';
import { subscriptionEventsOperation } from './subscription-events.js';
import { subscriptionStatusOperation } from './subscription-status.js';
import { statsOperation } from './stats.js';
import { validateOperation } from './validate.js';

/** Where an operation was invoked. */
export interface OperationTarget { resourceType?: string; id?: string }

/** An operation the server implements. */
export interface OperationDefinitionEntry {
  name: string;
  /** Canonical URL of the OperationDefinition it implements. */
  definition: string;
  system: boolean;
  type: boolean;
  instance: boolean;
  /** Whether GET is allowed (operations without side effects). */
  affectsState: boolean;
  /** GET reports status even though POST affects state (e.g. a job's progress). */
  statusByGet?: boolean;
  /** Reads its body as a stream (e.g. a VCF); every other interaction refuses a streamed body with 415. */
  streamedBody?: boolean;
  /** Resource types it applies to at type/instance level; all when absent. */
  resourceTypes?: readonly string[];
  invoke(ctx: FhirContext, s: Session, req: FhirRequest, target: OperationTarget): Promise<FhirResponse>;
}

/** Every operation Helix implements. */
export const operations: readonly OperationDefinitionEntry[] = [validateOperation, everythingOperation, reindexOperation, lastnOperation, statsOperation, subscriptionStatusOperation, subscriptionEventsOperation, getWsBindingTokenOperation,
  importVcfOperation, findSubjectVariantsOperation, findSubjectSpecificVariantsOperation, findSubjectStructuralIntersectingVariantsOperation, findSubjectStructuralSubsumingVariantsOperation, findStudyMetadataOperation, findPopulationSpecificVariantsOperation, findPopulationStructuralIntersectingVariantsOperation, findPopulationStructuralSubsumingVariantsOperation,
  findSubjectMolecularConsequencesOperation, findPopulationMolecularConsequencesOperation,
  findSubjectHaplotypesOperation, findSubjectSpecificHaplotypesOperation, findPopulationSpecificHaplotypesOperation,
  findSubjectTxImplicationsOperation, findPopulationTxImplicationsOperation, findSubjectDxImplicationsOperation, findPopulationDxImplicationsOperation];

/** Invokes `$name` on the target. */
export async function invokeOperation(
  ctx: FhirContext, s: Session, req: FhirRequest, name: string, target: OperationTarget,
): Promise<FhirResponse> {
  const op = operations.find((o) => o.name === name);
  const level = target.id ? 'instance' : target.resourceType ? 'type' : 'system';
  const typeOk = !op?.resourceTypes || (target.resourceType !== undefined && op.resourceTypes.includes(target.resourceType));
  if (!op || !op[level] || !typeOk) throw notFound(`Operation $${name.slice(0, 60)} is not supported at ${level} level`);
  if (req.method !== 'POST' && !(req.method === 'GET' && (!op.affectsState || op.statusByGet))) {
    throw methodNotAllowed(`$${name} must be invoked with POST${op.affectsState ? '' : ' or GET'}`);
  }
  return op.invoke(ctx, s, req, target);
}
