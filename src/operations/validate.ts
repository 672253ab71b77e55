// $validate — http://hl7.org/fhir/R4/resource-operation-validate.html: validates a resource (the
// body, or a Parameters with `resource`, optional `mode` and `profile`) and returns an
// OperationOutcome; an invalid resource is a successful operation whose outcome lists errors.
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { badRequest, notFound, operationOutcome } from '../fhir/errors.js';
import { readCurrent } from '../storage/resource-store.js';
import type { OperationDefinitionEntry } from './registry.js';

const MODES = new Set(['create', 'update', 'delete']);

/** The $validate operation. */
export const validateOperation: OperationDefinitionEntry = {
  name: 'validate',
  definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  system: false,
  type: true,
  instance: true,
  affectsState: false,
  async invoke(ctx, s, req, target) {
    let resource: Resource | undefined;
    let mode = req.query.get('mode') ?? undefined;
    let profile = req.query.get('profile') ?? undefined;
    const body = req.body as Resource | undefined;
    if (body?.resourceType === 'Parameters') {
      for (const p of (body as Parameters).parameter ?? []) {
        if (p.name === 'resource') resource = p.resource;
        else if (p.name === 'mode') mode = p.valueCode ?? p.valueString;
        else if (p.name === 'profile') profile = p.valueUri ?? p.valueCanonical ?? p.valueString;
      }
    } else if (body && typeof body === 'object') {
      resource = body;
    }
    if (mode !== undefined && !MODES.has(mode)) throw badRequest(`mode must be create, update or delete, not "${mode.slice(0, 40)}"`);
    if (!resource && target.id && target.resourceType) {
      const stored = await readCurrent(s.q, target.resourceType, target.id);
      if (!stored?.content) throw notFound(`${target.resourceType}/${target.id} is not known`);
      resource = JSON.parse(stored.content) as Resource;
    }
    if (mode === 'delete') {
      return { status: 200, headers: {}, resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: 'Delete is allowed' }]) };
    }
    if (!resource || typeof resource !== 'object') throw badRequest('$validate needs a resource in the body or a Parameters.resource');
    if (target.resourceType && resource.resourceType !== target.resourceType) {
      throw badRequest(`Resource type ${String(resource.resourceType)} does not match ${target.resourceType}`);
    }
    const issues = ctx.validator.validate(resource, { profile, mode: mode as 'create' | 'update' | undefined });
    const outcome = issues.length
      ? operationOutcome(issues)
      : operationOutcome([{ severity: 'information', code: 'informational', diagnostics: 'Validation successful: no issues' }]);
    return { status: 200, headers: {}, resource: outcome };
  },
};
