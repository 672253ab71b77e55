// Acceptance of a Subscription on write (Backport IG, "Subscription": a server SHALL reject a
// subscription it cannot serve — unknown topic, filter, channel type or payload — rather than
// accept it and never notify). Returns the problems as issues for the write path's 422.
import type { Resource } from '@medplum/fhirtypes';
import { FhirError, type Issue } from '../fhir/errors.js';
import type { FhirContext } from '../fhir/types.js';
import { compileCriteria } from './match.js';
import { parseSubscription } from './subscription-spec.js';

/** The errors that make `resource` (a Subscription) unacceptable; none when it can be served. */
export function subscriptionIssues(ctx: FhirContext, resource: Resource, mode: 'create' | 'update'): Issue[] {
  try {
    parseSubscription(resource, {
      isResourceType: (t) => ctx.defs.resourceTypes.has(t),
      validateCriteria: (type, query) => {
        const compiled = compileCriteria(ctx.defs, type, query, { baseUrl: ctx.config.baseUrl });
        if (compiled instanceof FhirError) throw compiled;
      },
      mode,
      // On update a client may send back whatever status the server last set.
      ...(mode === 'update' ? { currentStatus: (resource as { status?: never }).status } : {}),
    });
    return [];
  } catch (err) {
    if (err instanceof FhirError) return err.issues;
    throw err;
  }
}
