// Observations produced from the variant store for the genomics operations' outputs: a variant
// Observation per stored call (id `{study}-{ord}`, stable across requests) and sequence-phase-
// relationship Observations between phased heterozygous calls of one phase set.
import type { Observation } from '@medplum/fhirtypes';
import { sequencePhaseRelationship, variantObservationJson } from './resources.js';
import type { GenomicStudy } from './types.js';
import type { StoredVariant } from './variant-store.js';

/** The stable id of a stored call's variant Observation. */
export const variantObservationId = (v: StoredVariant): string => `${v.studyId}-${v.ord}`;

/** The variant Observation of each stored call, as JSON text (the operations answer in text; see parameters-json.ts). */
export function variantObservationsJson(variants: readonly StoredVariant[], studies: ReadonlyMap<string, GenomicStudy>): string[] {
  return variants.map((v) => variantObservationJson(v, studies.get(v.studyId) as GenomicStudy, variantObservationId(v)));
}

/**
 * Cis/Trans relationships between the phased heterozygous calls of each phase set among
 * `variants` (VCF 4.3 §1.6.2: phased genotypes without PS share one phase set per chromosome).
 * A call's haplotype is the GT position carrying a non-reference allele; multi-allelic and
 * homozygous calls have no single haplotype and are left out. Neighbours in position order are
 * related (n − 1 Observations, from which every other pair follows), not every pair: a 50 Mb
 * range can hold thousands of phased calls.
 */
export function phaseRelationships(variants: readonly StoredVariant[], studies: ReadonlyMap<string, GenomicStudy>): Observation[] {
  const sets = new Map<string, { v: StoredVariant; haplotype: number }[]>();
  for (const v of variants) {
    if (!v.phased || v.zygosity !== 'heterozygous') continue;
    const alleles = v.genotype.split('|');
    const carrying = alleles.flatMap((a, i) => (a !== '0' && a !== '.' ? [i] : []));
    if (alleles.length !== 2 || carrying.length !== 1) continue;
    const key = `${v.studyId}|${v.sequence}|${v.phaseSet ?? 'chromosome'}`;
    const set = sets.get(key) ?? [];
    set.push({ v, haplotype: carrying[0] as number });
    sets.set(key, set);
  }
  const out: Observation[] = [];
  for (const set of sets.values()) {
    for (let i = 1; i < set.length; i++) {
      const a = set[i - 1] as { v: StoredVariant; haplotype: number };
      const b = set[i] as { v: StoredVariant; haplotype: number };
      out.push(sequencePhaseRelationship(
        { id: variantObservationId(a.v) }, { id: variantObservationId(b.v) },
        a.haplotype === b.haplotype ? 'Cis' : 'Trans', studies.get(a.v.studyId) as GenomicStudy,
      ));
    }
  }
  return out;
}
