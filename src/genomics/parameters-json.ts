// The genomics operations' answers (Parameters) as JSON text, so that the variant Observations
// they carry, thousands in a range's answer, go in as the text they are built as
// (variantObservationJson) instead of as objects serialised again. The text is what
// JSON.stringify gives for the same Parameters: the same keys in the same order.
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { jsonArray, JsonTemplate, TEXT, VALUE } from './json-template.js';

const PARAMETERS = new JsonTemplate({ resourceType: 'Parameters', parameter: VALUE } satisfies Parameters);
const WITH_PARTS = new JsonTemplate({ name: TEXT, part: VALUE } satisfies ParametersParameter);
const WITH_RESOURCE = new JsonTemplate({ name: TEXT, resource: VALUE } satisfies ParametersParameter);

/** The Parameters resource of these parameters (each given as JSON text). */
export const parametersJson = (parameter: readonly string[]): string => PARAMETERS.fill(jsonArray(parameter));

/** A parameter made of parts (each given as JSON text). */
export const partsParameterJson = (name: string, part: readonly string[]): string => WITH_PARTS.fill(name, jsonArray(part));

/** A parameter whose resource is already JSON text. */
export const resourceParameterJson = (name: string, resource: string): string => WITH_RESOURCE.fill(name, resource);

/** A parameter given as an object. */
export const parameterJson = (parameter: ParametersParameter): string => JSON.stringify(parameter);
