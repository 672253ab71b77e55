// Canonical UCUM forms for the units vital signs and common laboratory results use, so that
// `value-quantity=37|http://unitsofmeasure.org|Cel` also finds 98.6 [degF]. One canonical unit per
// dimension; a quantity's canonical value is ((value + offset) × factor) / divisor, computed exactly
// except where a divisor is needed (°F, per-hour rates), where 12 significant digits are kept.
//
// Factors are from the UCUM specification (Regenstrief Institute, "The Unified Code for Units of
// Measure", https://ucum.org/ucum, tables of prefixes, base units and customary units):
//   [in_i] = 2.54 cm; [ft_i] = 12 [in_i]; [lb_av] = 7000 [gr] with [gr] = 64.79891 mg, so 453.59237 g;
//   [oz_av] = [lb_av]/16 = 28.349523125 g; m[Hg] = 133.3220 kPa, so mm[Hg] = 133.322 Pa;
//   [in_i'Hg] = m[Hg]·[in_i]/m = 3386.3788 Pa; Cel = K − 273.15; [degF] = 5/9 K offset 459.67,
//   i.e. Cel = ([degF] − 32) × 5/9; min = 60 s; h = 60 min; d = 24 h; wk = 7 d;
//   a = a_j = 365.25 d; mo = mo_j = a_j/12 = 30.4375 d; L = dm3; annotations such as {beats} are unity.
//
// Canonical units chosen (documented because search must convert query values the same way):
//   temperature Cel · mass g · length m · area m2 · pressure Pa · volume L · time s · rates /min ·
//   fractions % · body-mass index kg/m2 · mass concentration g/L · substance concentration mol/L ·
//   cell counts /L.

// ---------------------------------------------------------------------------------------------
// Exact decimals, value = digits × 10^-scale in BigInt: unit conversions and number ranges
// (values.ts) must not pick up binary floating-point noise.

/** An exact decimal; a negative scale means trailing zeros that are not significant (1e2). */
export interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
// Bounds keep BigInt work small for absurd inputs such as '1e999999' from a lossless parser.
const MAX_EXPONENT = 1000;
const MAX_DIGITS = 1000;

/** Parses a JSON number (via its shortest representation) or a decimal string. */
export function parseDecimal(input: unknown): Decimal | undefined {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return undefined;
    text = String(input);
  } else if (typeof input === 'string') {
    text = input.trim();
  } else {
    return undefined;
  }
  const m = DECIMAL_RE.exec(text);
  if (!m) return undefined;
  const [, sign, int = '', frac = '', exp] = m;
  const exponent = exp === undefined ? 0 : Number(exp);
  if (Math.abs(exponent) > MAX_EXPONENT || int.length + frac.length > MAX_DIGITS) return undefined;
  const magnitude = BigInt(int + frac);
  return { digits: sign === '-' ? -magnitude : magnitude, scale: frac.length - exponent };
}

/** Formats a decimal in plain notation, keeping its scale (1.50 stays '1.50'). */
export function formatDecimal(d: Decimal): string {
  const negative = d.digits < 0n;
  let s = (negative ? -d.digits : d.digits).toString();
  if (d.scale <= 0) {
    if (d.digits !== 0n) s += '0'.repeat(-d.scale);
  } else {
    if (s.length <= d.scale) s = '0'.repeat(d.scale - s.length + 1) + s;
    s = `${s.slice(0, s.length - d.scale)}.${s.slice(s.length - d.scale)}`;
  }
  return negative && d.digits !== 0n ? `-${s}` : s;
}

/** Drops insignificant trailing fractional zeros (used for computed, not written, values). */
export function trimDecimal(d: Decimal): Decimal {
  let { digits, scale } = d;
  while (scale > 0 && digits % 10n === 0n) {
    digits /= 10n;
    scale--;
  }
  return { digits, scale };
}

function rescale(d: Decimal, scale: number): bigint {
  return scale > d.scale ? d.digits * 10n ** BigInt(scale - d.scale) : d.digits;
}

/** Exact sum. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { digits: rescale(a, scale) + rescale(b, scale), scale };
}

/** Exact product. */
export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { digits: a.digits * b.digits, scale: a.scale + b.scale };
}

/** Quotient by a positive integer, rounded half away from zero to `significant` digits. */
export function divideDecimal(a: Decimal, divisor: bigint, significant: number): Decimal {
  const magnitude = a.digits < 0n ? -a.digits : a.digits;
  const extra = Math.max(0, significant + divisor.toString().length - magnitude.toString().length);
  const numerator = a.digits * 10n ** BigInt(extra);
  let quotient = numerator / divisor;
  const remainder = numerator % divisor;
  if ((remainder < 0n ? -remainder : remainder) * 2n >= divisor) quotient += numerator < 0n ? -1n : 1n;
  return { digits: quotient, scale: a.scale + extra };
}

// ---------------------------------------------------------------------------------------------
// UCUM.

/** The UCUM code system URI. */
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

/** A quantity in canonical units, as decimal strings. */
export interface CanonicalQuantity {
  code: string;
  value: string;
}

interface Conversion {
  canon: string;
  factor: Decimal;
  divisor?: bigint;
  offset?: Decimal;
}

// Digits kept when a conversion needs a division: well beyond any clinical measurement precision.
const DIVISION_DIGITS = 12;

function dec(text: string): Decimal {
  return parseDecimal(text) as Decimal;
}

/** [unit, canonical unit, factor, divisor?, offset?]; canonical units list themselves with factor 1. */
const TABLE: ReadonlyArray<readonly [string, string, string, bigint?, string?]> = [
  // temperature
  ['Cel', 'Cel', '1'],
  ['K', 'Cel', '1', undefined, '-273.15'],
  ['[degF]', 'Cel', '5', 9n, '-32'],
  // mass
  ['g', 'g', '1'],
  ['kg', 'g', '1000'],
  ['mg', 'g', '0.001'],
  ['ug', 'g', '0.000001'],
  ['ng', 'g', '0.000000001'],
  ['[lb_av]', 'g', '453.59237'],
  ['[oz_av]', 'g', '28.349523125'],
  // length
  ['m', 'm', '1'],
  ['km', 'm', '1000'],
  ['cm', 'm', '0.01'],
  ['mm', 'm', '0.001'],
  ['[in_i]', 'm', '0.0254'],
  ['[ft_i]', 'm', '0.3048'],
  // area
  ['m2', 'm2', '1'],
  ['cm2', 'm2', '0.0001'],
  // pressure
  ['Pa', 'Pa', '1'],
  ['kPa', 'Pa', '1000'],
  ['mm[Hg]', 'Pa', '133.322'],
  ["[in_i'Hg]", 'Pa', '3386.3788'],
  // volume
  ['L', 'L', '1'],
  ['l', 'L', '1'],
  ['dL', 'L', '0.1'],
  ['mL', 'L', '0.001'],
  ['uL', 'L', '0.000001'],
  // time
  ['s', 's', '1'],
  ['ms', 's', '0.001'],
  ['min', 's', '60'],
  ['h', 's', '3600'],
  ['d', 's', '86400'],
  ['wk', 's', '604800'],
  ['mo', 's', '2629800'],
  ['a', 's', '31557600'],
  // rates (heart and respiratory rate)
  ['/min', '/min', '1'],
  ['1/min', '/min', '1'],
  ['{beats}/min', '/min', '1'],
  ['{beat}/min', '/min', '1'],
  ['{breaths}/min', '/min', '1'],
  ['{breath}/min', '/min', '1'],
  ['/s', '/min', '60'],
  ['/h', '/min', '1', 60n],
  // fractions
  ['%', '%', '1'],
  // body-mass index
  ['kg/m2', 'kg/m2', '1'],
  ['g/m2', 'kg/m2', '0.001'],
  // mass concentration
  ['g/L', 'g/L', '1'],
  ['g/dL', 'g/L', '10'],
  ['mg/dL', 'g/L', '0.01'],
  ['mg/L', 'g/L', '0.001'],
  ['ug/mL', 'g/L', '0.001'],
  ['ug/dL', 'g/L', '0.00001'],
  ['ug/L', 'g/L', '0.000001'],
  ['ng/mL', 'g/L', '0.000001'],
  ['pg/mL', 'g/L', '0.000000001'],
  // substance concentration
  ['mol/L', 'mol/L', '1'],
  ['mmol/L', 'mol/L', '0.001'],
  ['umol/L', 'mol/L', '0.000001'],
  ['nmol/L', 'mol/L', '0.000000001'],
  ['pmol/L', 'mol/L', '0.000000000001'],
  // cell counts
  ['/L', '/L', '1'],
  ['/uL', '/L', '1000000'],
  ['10*3/uL', '/L', '1000000000'],
  ['10*9/L', '/L', '1000000000'],
  ['10*6/uL', '/L', '1000000000000'],
  ['10*12/L', '/L', '1000000000000'],
];

const CONVERSIONS: ReadonlyMap<string, Conversion> = new Map(
  TABLE.map(([unit, canon, factor, divisor, offset]) => [
    unit,
    { canon, factor: dec(factor), ...(divisor ? { divisor } : {}), ...(offset ? { offset: dec(offset) } : {}) },
  ]),
);

/** Converts a UCUM quantity to its canonical unit; undefined for units outside the table. */
export function toCanonical(code: string, value: unknown): CanonicalQuantity | undefined {
  const conversion = CONVERSIONS.get(code);
  if (!conversion) return undefined;
  const parsed = parseDecimal(value);
  if (!parsed) return undefined;
  let result = multiplyDecimal(conversion.offset ? addDecimal(parsed, conversion.offset) : parsed, conversion.factor);
  if (conversion.divisor) result = divideDecimal(result, conversion.divisor, DIVISION_DIGITS);
  return { code: conversion.canon, value: formatDecimal(trimDecimal(result)) };
}
