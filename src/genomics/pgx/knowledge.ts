// The pharmacogenomic knowledge a Helix instance runs with: allele definitions (alleles/), allele
// functions and phenotype rules (phenotypes/) and CPIC recommendations (recommendations/), read
// once at start from the shipped knowledge/pgx folder (or PGX_KNOWLEDGE_DIR) and passed along in
// the FhirContext. Also the sites an import must keep genotypes at for star-allele calling.
import { join } from 'node:path';
import type { SitesOfInterest } from '../import.js';
import { loadAlleleDefinitions, type GeneAlleleDefinitions } from './allele-definitions.js';
import { loadPhenotypeKnowledge, type PhenotypeKnowledge } from './phenotypes.js';
import { loadRecommendations, type RecommendationKnowledge } from './recommendations.js';

/** Everything star-allele calling and drug advice need. */
export interface PgxKnowledge {
  /** Allele definitions by gene (GRCh38). */
  alleles: ReadonlyMap<string, GeneAlleleDefinitions>;
  phenotypes: PhenotypeKnowledge;
  recommendations: RecommendationKnowledge;
  /** The defined positions of every gene (and the ones reported alongside), by accession: what a GRCh38 import keeps genotypes at. */
  sites: SitesOfInterest;
}

/** Reads and checks a knowledge folder; throws an Error naming the bad file. */
export async function loadPgxKnowledge(dir: string): Promise<PgxKnowledge> {
  const alleles = await loadAlleleDefinitions(join(dir, 'alleles'));
  if (!alleles.ok) throw new Error(`PGx allele definitions: ${alleles.error}`);
  return {
    alleles: alleles.value,
    phenotypes: loadPhenotypeKnowledge(join(dir, 'phenotypes')),
    recommendations: loadRecommendations(join(dir, 'recommendations')),
    sites: sitesOf(alleles.value.values()),
  };
}

function sitesOf(genes: Iterable<GeneAlleleDefinitions>): SitesOfInterest {
  const sites = new Map<string, Set<number>>();
  for (const gene of genes) {
    const positions = sites.get(gene.refSeq) ?? new Set<number>();
    for (const p of [...gene.positions, ...gene.method.extraPositions]) positions.add(p.position);
    sites.set(gene.refSeq, positions);
  }
  return sites;
}
