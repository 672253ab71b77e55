// The Genomics Reporting IG 3.0.0 package's profiles for the genomics tests that validate what
// Helix emits, and the validator's known false positives on them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StructureDefinition } from '@medplum/fhirtypes';
import type { Issue } from '../../src/fhir/errors.js';

/** The IG package folder in ../shared. */
export const IG = join(import.meta.dirname, '../../../shared/data/ig/genomics-reporting/hl7.fhir.uv.genomics-reporting-3.0.0/package');

/**
 * What Helix's validator reports on every resource claiming these profiles, conformant or not. The
 * IG profiles all fall back from Helix's compiled profile walk to @medplum/core 4.5.2 (their
 * extension slices are typed by profile), and there:
 * - a slice discriminated by value at `coding` (genomic-base category:labCategory/geCategory,
 *   genomic-report category:Genetics) never matches: checkSliceElement hands the category's array
 *   of Codings to matchDiscriminant as one value, and matchDiscriminant only matches single values;
 * - patternCoding on the repeating Procedure.category.coding (genomic-study, genomic-study-analysis)
 *   is compared with the whole array (matchesSpecifiedValue), which never equals one Coding.
 * The IG's own examples get exactly these (asserted below); the categories themselves are checked by hand above.
 */
export const VALIDATOR_GAPS: { expression: string; diagnostics: RegExp }[] = [
  { expression: 'Observation.category', diagnostics: /^Incorrect number of values provided for slice '(labCategory|geCategory)': expected 1\.\.1, but found 0 / },
  { expression: 'DiagnosticReport.category', diagnostics: /^Incorrect number of values provided for slice 'Genetics': expected 1\.\.1, but found 0 / },
  { expression: 'Procedure.category.coding', diagnostics: /^Value did not match expected pattern / },
];
/** Whether an issue is one of the validator's known false positives. */
export const isGap = (i: Issue): boolean => VALIDATOR_GAPS.some((g) => i.expression?.[0] === g.expression && g.diagnostics.test(i.diagnostics));
/** The issues of severity error or fatal. */
export const errors = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

/** The package's StructureDefinitions, extensions first, then each profile after the one it constrains. */
export function igStructureDefinitions(): StructureDefinition[] {
  const sds = readdirSync(IG).filter((f) => f.startsWith('StructureDefinition-')).sort()
    .map((f) => JSON.parse(readFileSync(join(IG, f), 'utf8')) as StructureDefinition);
  const byUrl = new Map(sds.map((sd) => [sd.url as string, sd]));
  const ordered: StructureDefinition[] = [];
  const placed = new Set<string>();
  const place = (sd: StructureDefinition): void => {
    if (placed.has(sd.url as string)) return;
    placed.add(sd.url as string);
    const base = byUrl.get(sd.baseDefinition as string);
    if (base) place(base);
    ordered.push(sd);
  };
  for (const sd of sds) if (sd.type === 'Extension') place(sd);
  for (const sd of sds) place(sd);
  return ordered;
}

