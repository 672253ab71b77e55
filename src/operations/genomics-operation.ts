// What the 17 operations of the Genomics Reporting IG 3.0.0 share as registry entries: their
// canonical OperationDefinition, system level (`[base]/$name`), and GET as well as POST, since
// none of them changes anything.
import type { OperationDefinitionEntry } from './registry.js';

/** A registry entry for the IG operation `name`, answered by `invoke`. */
export function genomicsOperation(name: string, invoke: OperationDefinitionEntry['invoke']): OperationDefinitionEntry {
  return {
    name,
    definition: `http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition/${name}`,
    system: true,
    type: false,
    instance: false,
    affectsState: false,
    invoke,
  };
}
