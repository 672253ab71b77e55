// FHIR XML ⇄ JSON conversion (http://hl7.org/fhir/R4/xml.html and json.html), driven by the R4
// type definitions. The reader and writer live in ./xml/; this module is the public face.
import type { Resource } from '@medplum/fhirtypes';
import { asFhirError, badStructure } from './errors.js';
import { readFhirXml } from './xml/reader.js';
import { writeFhirXml, type XmlWriteOptions } from './xml/writer.js';

export type { XmlWriteOptions } from './xml/writer.js';

/** Converts a FHIR XML document to a FHIR JSON resource; malformed or unknown content is a 400 FhirError. */
export function fhirXmlToJson(xml: string): Resource {
  return guard(() => readFhirXml(xml) as unknown as Resource);
}

/** Serialises a FHIR JSON resource as FHIR XML, elements in StructureDefinition order. */
export function fhirJsonToXml(resource: Resource, options: XmlWriteOptions = {}): string {
  return guard(() => writeFhirXml(resource, options));
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // Exhausted stacks on hostile nesting become a 400 like every other bad document.
    if (err instanceof RangeError) throw badStructure('Document is nested too deeply');
    throw asFhirError(err);
  }
}
