// The IG `haplotype` and `genotype` Observations of Helix's own star-allele calls (call-study.ts),
// produced on demand from an imported GRCh38 study like its variant Observations, with ids stable
// per study, gene and candidate (`{study}-pgx-{gene}-{n}`, haplotypes `…-h1`/`…-h2`). When the
// sample cannot tell candidates apart (a tie, often from missing positions), each candidate
// diplotype is its own genotype Observation, and a note says so; the missing positions are noted.
// The haplotype operations read these beside any genotype/haplotype Observations stored as resources.
import type { Observation } from '@medplum/fhirtypes';
import type { Session } from '../../fhir/types.js';
import type { FhirContext } from '../../fhir/types.js';
import { studiesMatching, studyCriteria, type StudyCriteria } from '../op-input.js';
import type { StoredObservation } from '../stored-haplotypes.js';
import type { GenomicStudy } from '../types.js';
import { geneConcept, genomicsObservation, loinc } from '../variant-observation.js';
import { callStudy } from './call-study.js';
import type { DiplotypeCall, GeneCall, HaplotypeCall } from './diplotypes.js';

const SD = 'http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition';

// HGNC ids of the genes Helix calls (https://www.genenames.org). CYP4F2's is given by symbol
// only: its id could not be checked against a source here.
const HGNC: Readonly<Record<string, string>> = {
  CYP2C19: 'HGNC:2621', CYP2C9: 'HGNC:2623', CYP2D6: 'HGNC:2625', CYP3A5: 'HGNC:2638', DPYD: 'HGNC:3012',
  NUDT15: 'HGNC:23063', SLCO1B1: 'HGNC:10959', TPMT: 'HGNC:12014', UGT1A1: 'HGNC:12530', VKORC1: 'HGNC:23663',
};


/** Haplotype and genotype Observations of Helix's calls for the subject's studies that pass the operation's study filters. */
export async function calledObservations(ctx: FhirContext, s: Session, params: URLSearchParams, patientId: string): Promise<StoredObservation[]> {
  return observationsOfCalls(await studyCalls(ctx, s, studyCriteria(params), patientId));
}

/** The same for every patient's studies that pass the criteria (the population operations). */
export async function populationCalledObservations(ctx: FhirContext, s: Session, criteria: StudyCriteria): Promise<StoredObservation[]> {
  return observationsOfCalls(await studyCalls(ctx, s, criteria));
}

function observationsOfCalls(called: readonly { study: GenomicStudy; calls: GeneCall[] }[]): StoredObservation[] {
  const out: StoredObservation[] = [];
  for (const { study, calls } of called) {
    for (const call of calls) {
      for (const resource of callObservations(study, call)) out.push({ id: resource.id as string, patientId: study.patientId, resource });
    }
  }
  return out;
}

/** Helix's calls on each GRCh38 study (of one patient, or everyone's) that passes the study criteria. */
export async function studyCalls(ctx: FhirContext, s: Session, criteria: StudyCriteria, patientId?: string): Promise<{ study: GenomicStudy; calls: GeneCall[] }[]> {
  const studies = (await studiesMatching(s, criteria, patientId)).filter((st) => st.build === 'GRCh38');
  const out: { study: GenomicStudy; calls: GeneCall[] }[] = [];
  for (const study of studies) out.push({ study, calls: await callStudy(s.q, ctx.pgx, study) });
  return out;
}

/** The haplotype and genotype Observations of one gene's call (none when nothing could be called). */
export function callObservations(study: GenomicStudy, call: GeneCall): Observation[] {
  const out: Observation[] = [];
  call.diplotypes.forEach((d, n) => {
    const id = `${study.id}-pgx-${call.gene}-${n + 1}`;
    const haplotypes = d.haplotypes.map((h, k) => haplotypeObservation(study, call, h, `${id}-h${k + 1}`));
    out.push(...haplotypes, genotypeObservation(study, call, d, id, haplotypes.map((h) => h.id as string)));
  });
  return out;
}

function genotypeObservation(study: GenomicStudy, call: GeneCall, d: DiplotypeCall, id: string, haplotypeIds: string[]): Observation {
  const notes = [
    ...(call.diplotypes.length > 1 ? [`One of ${call.diplotypes.length} diplotypes the sample cannot tell apart: ${call.diplotypes.map((x) => x.name).join(', ')}.`] : []),
    ...(call.missingPositions.length ? [`Not called in the sample, so not considered: ${call.missingPositions.map((p) => p.rsid ?? `position ${p.position}`).join(', ')}.`] : []),
    ...(call.calledBy === 'single-variant' ? ['No named-allele diplotype fits; called from the rs4149056 genotype alone.'] : []),
  ];
  return {
    ...observationBase(study, call, id, 'genotype', '84413-4', 'Genotype display name'),
    valueCodeableConcept: { text: `${call.gene} ${d.name}` },
    derivedFrom: haplotypeIds.map((h) => ({ reference: `Observation/${h}` })),
    ...(notes.length ? { note: notes.map((text) => ({ text })) } : {}),
  };
}

function haplotypeObservation(study: GenomicStudy, call: GeneCall, h: HaplotypeCall, id: string): Observation {
  return { ...observationBase(study, call, id, 'haplotype', '84414-2', 'Haplotype name'), valueCodeableConcept: { text: `${call.gene} ${h.name}` } };
}

function observationBase(study: GenomicStudy, call: GeneCall, id: string, profile: string, code: string, display: string): Observation {
  const base = genomicsObservation(id, `${SD}/${profile}`, loinc(code, display), study);
  return {
    ...base,
    method: { text: `Helix star-allele calling (PharmCAT's named-allele matching method), ${call.gene} allele definitions ${call.knowledgeVersion}` },
    component: [{ code: loinc('48018-6', 'Gene studied [ID]'), valueCodeableConcept: geneConcept(call.gene, HGNC[call.gene]) }],
  };
}
