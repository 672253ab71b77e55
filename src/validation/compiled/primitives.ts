// Checks of one primitive JSON value against its FHIR primitive type, as closures built once per
// type code. Messages and the order of the checks follow @medplum/core's validator, so a resource
// is reported the same way whichever validator runs; the rules themselves are R4's (datatypes.html).

/** A problem with a primitive value, or undefined when it is acceptable. */
export type PrimitiveCheck = (value: unknown) => string | undefined;

type JsType = 'string' | 'boolean' | 'number';

/** The JSON type each FHIR primitive takes (R4 json.html: decimal and the integers are numbers). */
const JS_TYPES: Record<string, JsType> = {
  base64Binary: 'string',
  boolean: 'boolean',
  canonical: 'string',
  code: 'string',
  date: 'string',
  dateTime: 'string',
  decimal: 'number',
  id: 'string',
  instant: 'string',
  integer: 'number',
  integer64: 'string',
  markdown: 'string',
  oid: 'string',
  positiveInt: 'number',
  string: 'string',
  time: 'string',
  unsignedInt: 'number',
  uri: 'string',
  url: 'string',
  uuid: 'string',
  xhtml: 'string',
  'http://hl7.org/fhirpath/System.String': 'string',
};

const YEAR = '(\\d(\\d(\\d[1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const TIME = '([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d{1,9})?';
const ZONE = 'Z|[+-]((0\\d|1[0-3]):[0-5]\\d|14:00)';

/** Lexical forms of R4 primitives (datatypes.html), anchored. */
const FORMATS: Record<string, RegExp> = {
  // R4: `(\s*([0-9a-zA-Z\+\=]){4}\s*)+` allows whitespace between quads; checked with whitespace removed.
  base64Binary: /^([A-Za-z\d+/]{4})*([A-Za-z\d+/]{2}==|[A-Za-z\d+/]{3}=)?$/,
  canonical: /^\S*$/,
  code: /^[^\s]+( [^\s]+)*$/,
  date: new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2]\\d|3[0-1]))?)?$`),
  dateTime: new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2]\\d|3[0-1])(T([01]\\d|2[0-3])(:[0-5]\\d:([0-5]\\d|60)(\\.\\d{1,9})?)?)?)?(${ZONE})?)?$`),
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  instant: new RegExp(`^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2]\\d|3[0-1])T${TIME}(${ZONE})$`),
  markdown: /^[\r\n\t\u0020-\uFFFF]+$/,
  oid: /^urn:oid:[0-2](\.(0|[1-9]\d*))+$/,
  string: /^[\r\n\t\u0020-\uFFFF]+$/,
  time: new RegExp(`^${TIME}$`),
  uri: /^\S*$/,
  url: /^\S*$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

const MAX_STRING = 1024 * 1024;
// R4 datatypes.html: integer is a signed 32-bit value.
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** True for the type codes validated as primitives (their values are JSON scalars, not objects). */
export function isPrimitiveCode(code: string): boolean {
  return Object.hasOwn(JS_TYPES, code);
}

/** The check for values of primitive type `code`; undefined for non-primitive codes. */
export function primitiveCheck(code: string): PrimitiveCheck | undefined {
  if (!Object.hasOwn(JS_TYPES, code)) return undefined;
  const jsType = JS_TYPES[code] as JsType;
  if (jsType === 'string') {
    const format = FORMATS[code];
    const strip = code === 'base64Binary';
    const invalid = `Invalid ${code} format`;
    return (value) => {
      if (typeof value !== 'string') return value === null ? undefined : wrongJsType(jsType, value);
      if (!value.trim()) return 'String must contain non-whitespace content';
      if (value.length > MAX_STRING) return 'String cannot be larger than 1 MB';
      if (format && !format.test(strip ? value.replace(/\s+/g, '') : value)) return invalid;
      return undefined;
    };
  }
  if (jsType === 'boolean') {
    return (value) => (typeof value === 'boolean' || value === null ? undefined : wrongJsType(jsType, value));
  }
  const integer = code === 'integer' || code === 'positiveInt' || code === 'unsignedInt';
  return (value) => {
    if (typeof value !== 'number') return value === null ? undefined : wrongJsType(jsType, value);
    if (!Number.isFinite(value)) return 'Invalid numeric value';
    if (!integer) return undefined;
    if (!Number.isInteger(value)) return 'Expected number to be an integer';
    if (code === 'positiveInt' && value <= 0) return 'Expected number to be positive';
    if (code === 'unsignedInt' && value < 0) return 'Expected number to be non-negative';
    if (value < INT_MIN || value > INT_MAX) return 'Integer is outside the 32-bit range R4 allows';
    return undefined;
  };
}

function wrongJsType(expected: JsType, value: unknown): string {
  return `Invalid JSON type: expected ${expected}, but got ${typeof value}`;
}
