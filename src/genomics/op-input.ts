// Input of the HL7 genomics operations (Genomics Reporting IG 3.0.0, OperationDefinition
// find-*): the subject, the study filters every operation shares (testIdentifiers,
// testDateRange, specimenIdentifiers, genomicSourceClass), item lists where a comma means OR and
// a repeated parameter means AND, and the build check: a query on another build than the data's
// is refused (422), never lifted over silently.
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../fhir/errors.js';
import type { FhirRequest, Session } from '../fhir/types.js';
import { invocationParams } from '../operations/params.js';
import type { GenomicBuild, GenomicStudy } from './types.js';
import { findStudies } from './variant-store.js';

/** The invocation's parameters with the names this operation accepts; any other is a 400. */
export function operationParams(req: FhirRequest, name: string, accepted: readonly string[]): URLSearchParams {
  const params = invocationParams(req);
  for (const key of new Set(params.keys())) {
    if (!accepted.includes(key) && !key.startsWith('_')) {
      throw badRequest(`$${name} has no parameter ${key.slice(0, 60)}; it takes ${accepted.join(', ')}`);
    }
  }
  return params;
}

/** The values of a parameter, every comma-separated item on its own (for per-item outputs). */
export function items(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/**
 * The questions a population operation answers: one per combination of the repeated
 * parameter's alternatives (`a,b` asks a and b separately; `a&b` asks for a AND b).
 */
export function conjunctions(params: URLSearchParams, name: string, max = 100): string[][] {
  let out: string[][] = [[]];
  for (const value of params.getAll(name)) {
    const alternatives = value.split(',').map((v) => v.trim()).filter(Boolean);
    out = out.flatMap((c) => alternatives.map((a) => [...c, a]));
    if (out.length > max) throw badRequest(`${name} asks more than ${max} combinations; ask fewer at once`);
  }
  return out.filter((c) => c.length > 0);
}

/** The patients in every one of `sets`: those answering a conjunction of items. */
export function carryingAll(sets: readonly ReadonlySet<string>[]): Set<string> {
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((p) => rest.every((set) => set.has(p))));
}

/** A population answer's parts: numerator, denominator and, with includePatientList, the subjects in order. */
export function populationParts(patients: ReadonlySet<string>, denominator: number, includePatients: boolean): ParametersParameter[] {
  return [
    { name: 'numerator', valueQuantity: { value: patients.size } },
    { name: 'denominator', valueQuantity: { value: denominator } },
    ...(includePatients ? [...patients].sort().map((p) => ({ name: 'subject', valueString: p })) : []),
  ];
}

/** Reads a required parameter's single value. */
export function required(params: URLSearchParams, name: string, op: string): string {
  const values = params.getAll(name);
  if (values.length === 0 || !values[0]) throw badRequest(`$${op} requires ${name}`);
  if (values.length > 1) throw badRequest(`$${op} takes one ${name}`);
  return values[0];
}

/** Reads an optional boolean parameter. */
export function flag(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  if (v === null) return false;
  if (v !== 'true' && v !== 'false') throw badRequest(`${name} must be true or false`);
  return v === 'true';
}

/** The patient id of a `subject` value (`Patient/123` or `123`). */
export function subjectId(value: string): string {
  const id = value.replace(/^Patient\//, '');
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw badRequest(`subject ${value.slice(0, 80)} is not a Patient id or reference`);
  return id;
}

/** The studies of one patient (or, without a subject, of everyone) passing the shared filters. */
export async function selectStudies(s: Session, params: URLSearchParams, patientId?: string): Promise<GenomicStudy[]> {
  const tests = items(params, 'testIdentifiers');
  const specimens = items(params, 'specimenIdentifiers');
  const sourceClass = params.get('genomicSourceClass');
  if (sourceClass !== null && sourceClass !== 'germline' && sourceClass !== 'somatic') throw badRequest('genomicSourceClass must be germline or somatic');
  const dates = params.getAll('testDateRange').flatMap(parseDateBounds);
  const studies = await findStudies(s.q, patientId !== undefined ? { patientId } : {});
  return studies.filter((st) =>
    (!tests.length || tests.includes(st.testIdentifier)) &&
    (!specimens.length || (st.specimenIdentifier !== undefined && specimens.includes(st.specimenIdentifier))) &&
    (sourceClass === null || st.sourceClass === sourceClass) &&
    dates.every((d) => st.testDate !== undefined && d(st.testDate.slice(0, 10))));
}

/**
 * testDateRange: `ge2010-01-01`-style bounds (the reference implementation's API) or, from a
 * POST Period, `start/end`; each gives a test on the study's test date (day precision).
 */
function parseDateBounds(value: string): ((date: string) => boolean)[] {
  const period = /^(\d{4}-\d{2}-\d{2})?\/(\d{4}-\d{2}-\d{2})?$/.exec(value.replace(/T[^/]*/g, ''));
  if (period) {
    const [, start, end] = period;
    return [(d) => (!start || d >= start) && (!end || d <= end)];
  }
  return value.split(',').map((part) => {
    const m = /^\s*(eq|ne|lt|gt|ge|le|sa|eb)?(\d{4}-\d{2}-\d{2})\s*$/.exec(part);
    if (!m) throw badRequest(`testDateRange ${part.slice(0, 40)} is not a prefixed date such as ge2020-01-01`);
    const day = m[2] as string;
    switch (m[1] ?? 'eq') {
      case 'eq': return (d: string) => d === day;
      case 'ne': return (d: string) => d !== day;
      case 'lt': case 'eb': return (d: string) => d < day;
      case 'gt': case 'sa': return (d: string) => d > day;
      case 'le': return (d: string) => d <= day;
      default: return (d: string) => d >= day;
    }
  });
}

/**
 * The studies on the build a query names; refuses the query (422) when the subject's data is
 * only on the other build, since positions do not carry over between assemblies.
 */
export function studiesOnBuild(studies: readonly GenomicStudy[], build: GenomicBuild, what: string): GenomicStudy[] {
  const same = studies.filter((s) => s.build === build);
  if (same.length === 0 && studies.length > 0) {
    const other = [...new Set(studies.map((s) => s.build))].join(', ');
    throw unprocessable([{ severity: 'error', code: 'business-rule', diagnostics: `${what} is on ${build}, but the selected tests are on ${other}; Helix does not lift positions over between builds — ask in ${other} coordinates` }]);
  }
  return same;
}
