// The HTTP-independent FHIR router (http.html#summary): maps a FhirRequest to the interaction
// module that implements it. Single requests and transaction entries both come through here, and
// so does authorization: a request carrying an access token is checked (src/smart/enforce.ts)
// before, around and after its interaction runs. AuditEvent is the one type not stored as
// resources: it is served from the audit log.
import { Readable } from 'node:stream';
import { asyncStatus } from './async.js';
import { capabilities } from './capabilities.js';
import { conditionalDelete, deleteResource } from './delete.js';
import { create } from './create.js';
import { badRequest, unsupportedMediaType } from './errors.js';
import { history } from './history.js';
import { classify, type Interaction } from './interaction.js';
import { conditionalPatch, patch } from './patch.js';
import { read } from './read.js';
import { searchSystem, searchType } from './search.js';
import { shapeText } from './summary.js';
import { transactionOrBatch } from './transaction.js';
import type { FhirContext, FhirRequest, FhirResponse, Session } from './types.js';
import { conditionalUpdate, update } from './update.js';
import { vread } from './vread.js';
import { invokeOperation, operations } from '../operations/registry.js';
import { AUDIT_EVENT, auditEventInteraction, refuseAuditEventInSystemSearch } from '../smart/audit-search.js';
import { enforce } from '../smart/enforce.js';

/** Routes one FHIR request to its interaction. */
export async function route(ctx: FhirContext, s: Session, req: FhirRequest): Promise<FhirResponse> {
  const stream = req.body instanceof Readable ? req.body : undefined;
  let interaction: Interaction;
  try {
    interaction = classify(ctx, req);
    if (stream && !readsStream(interaction)) {
      throw unsupportedMediaType(`Content-Type ${req.contentType ?? 'of this body'} is accepted only by operations that read a file ($import-vcf); use application/fhir+json`);
    }
  } catch (err) {
    stream?.resume(); // drained, so that the connection can carry the answer
    throw err;
  }
  if (req.auth) return enforce(ctx, s, req, interaction, dispatch);
  return dispatch(ctx, s, req, interaction);
}

/** Whether the interaction is an operation that reads its body as a stream. */
function readsStream(i: Interaction): boolean {
  if (i.kind !== 'operation') return false;
  return operations.find((o) => o.name === i.name)?.streamedBody === true;
}

/** Runs a classified interaction. */
export async function dispatch(ctx: FhirContext, s: Session, req: FhirRequest, i: Interaction): Promise<FhirResponse> {
  // AuditEvents are rendered from the audit log, not stored (src/smart/audit-search.ts). Here,
  // after enforcement, so that only callers allowed to read the trail get this far.
  if ('resourceType' in i && i.resourceType === AUDIT_EVENT) {
    const res = await auditEventInteraction(ctx, s, req, i);
    return i.kind === 'read' || i.kind === 'vread' ? shaped(ctx, req, res) : res;
  }
  switch (i.kind) {
    case 'transaction': return transactionOrBatch(ctx, s, req);
    case 'capabilities': return capabilities(ctx, req);
    case 'search-system':
      refuseAuditEventInSystemSearch(i.params);
      return searchSystem(ctx, s, req, i.params);
    case 'history-system': return history(ctx, s, req);
    case 'async-status': return asyncStatus(ctx, req, i.id);
    case 'operation': return invokeOperation(ctx, s, req, i.name, i.target);
    case 'search-type': return searchType(ctx, s, req, i.resourceType, i.params, i.compartment);
    case 'create': return create(ctx, s, req, i.resourceType);
    case 'conditional-update': return conditionalUpdate(ctx, s, req, i.resourceType);
    case 'conditional-patch': return conditionalPatch(ctx, s, req, i.resourceType);
    case 'conditional-delete': return conditionalDelete(ctx, s, req, i.resourceType);
    case 'history-type': return history(ctx, s, req, i.resourceType);
    case 'read': return shaped(ctx, req, await read(ctx, s, req, i.resourceType, i.id));
    case 'update': return update(ctx, s, req, i.resourceType, i.id);
    case 'patch': return patch(ctx, s, req, i.resourceType, i.id);
    case 'delete': return deleteResource(ctx, s, req, i.resourceType, i.id);
    case 'history-instance': return history(ctx, s, req, i.resourceType, i.id);
    case 'vread': return shaped(ctx, req, await vread(ctx, s, req, i.resourceType, i.id, i.vid));
  }
}

/** Applies _summary/_elements to a read's body. */
function shaped(ctx: FhirContext, req: FhirRequest, res: FhirResponse): FhirResponse {
  const summary = req.query.get('_summary') ?? undefined;
  const elements = req.query.get('_elements')?.split(',').filter(Boolean);
  if (!res.text || (!summary && !elements)) return res;
  if (summary && !['true', 'text', 'data', 'count', 'false'].includes(summary)) throw badRequest('_summary must be true, text, data, count or false');
  return { ...res, text: shapeText(ctx, res.text, summary, elements) };
}
