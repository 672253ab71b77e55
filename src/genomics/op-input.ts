// Input of the HL7 genomics operations (Genomics Reporting IG 3.0.0, OperationDefinition
// find-*): the subject, the study filters every operation shares (testIdentifiers,
// testDateRange, specimenIdentifiers, genomicSourceClass), item lists where a comma means OR and
// a repeated parameter means AND, and the build check: a query on another build than the data's
// is refused (422), never lifted over silently.
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../fhir/errors.js';
import type { FhirRequest, Session } from '../fhir/types.js';
import { checkId } from '../fhir/write.js';
import { invocationParams, listValues } from '../operations/params.js';
import { dateRange, formatInstant } from '../search/values.js';
import { dateTest } from '../subscriptions/match-values.js';
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
export { listValues as items };

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
  checkId(id);
  return id;
}

/** The shared study filters of an invocation: test and specimen identifiers, test date bounds, source class. */
export interface StudyCriteria { tests: string[]; specimens: string[]; dates: string[]; sourceClass?: 'germline' | 'somatic' }

/**
 * Reads the study filters (those the operation accepts; operationParams refused any other). The
 * test date bounds are search date values, compared with search's date semantics wherever they
 * apply: to imported studies here, to stored Observations' effective time in stored-haplotypes.ts.
 */
export function studyCriteria(params: URLSearchParams): StudyCriteria {
  const sourceClass = params.get('genomicSourceClass');
  if (sourceClass !== null && sourceClass !== 'germline' && sourceClass !== 'somatic') throw badRequest('genomicSourceClass must be germline or somatic');
  const ranges = params.getAll('testDateRange');
  if (ranges.length > 1) throw badRequest('testDateRange may be given only once');
  return {
    tests: listValues(params, 'testIdentifiers'), specimens: listValues(params, 'specimenIdentifiers'),
    dates: ranges.flatMap(dateBounds), ...(sourceClass ? { sourceClass } : {}),
  };
}

/** Whether any study filter is set. */
export const filtersStudies = (c: StudyCriteria): boolean => c.tests.length + c.specimens.length + c.dates.length > 0 || c.sourceClass !== undefined;

const DATE = /^(eq|ne|lt|gt|ge|le|sa|eb)?\d{4}(-\d{2}(-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

// A Period from a POST (`start/end`) becomes ge/le bounds; the reference implementation's
// `ge2010-01-01` (comma-separated bounds all apply) is a search date already.
function dateBounds(value: string): string[] {
  const slash = value.indexOf('/');
  const bounds = slash < 0
    ? value.split(',').map((v) => v.trim())
    : [value.slice(0, slash) && `ge${value.slice(0, slash)}`, value.slice(slash + 1) && `le${value.slice(slash + 1)}`].filter(Boolean);
  for (const b of bounds) if (!DATE.test(b)) throw badRequest(`testDateRange ${value.slice(0, 60)} is neither a prefixed date such as ge2020-01-01 nor a Period`);
  return bounds;
}

/** The studies of one patient (or, without a subject, of everyone) passing the shared filters. */
export async function selectStudies(s: Session, params: URLSearchParams, patientId?: string): Promise<GenomicStudy[]> {
  return studiesMatching(s, studyCriteria(params), patientId);
}

/** The imported studies (of one patient, or all) that pass study criteria already read. */
export async function studiesMatching(s: Session, c: StudyCriteria, patientId?: string): Promise<GenomicStudy[]> {
  // The same in-memory date test subscriptions use, so a bound means here what it means in a search.
  const dates = c.dates.map(dateTest);
  const studies = await findStudies(s.q, patientId !== undefined ? { patientId } : {});
  return studies.filter((st) => {
    const when = st.testDate === undefined ? undefined : dateRange(st.testDate);
    return (!c.tests.length || c.tests.includes(st.testIdentifier)) &&
      (!c.specimens.length || (st.specimenIdentifier !== undefined && c.specimens.includes(st.specimenIdentifier))) &&
      (c.sourceClass === undefined || st.sourceClass === c.sourceClass) &&
      dates.every((test) => when !== undefined && test(formatInstant(when.low), formatInstant(when.high)));
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
