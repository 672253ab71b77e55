// Star-allele calling on an imported study: the genotypes the import kept at the genes' defined
// positions (site_genotypes, reference calls included) turned into the matcher's input, and each
// gene called. Only GRCh38 studies: the allele definitions are GRCh38 and there is no liftover.
import type { Queryable } from '../../db/database.js';
import type { GenomicStudy } from '../types.js';
import { siteGenotypes } from '../variant-store.js';
import { genotypeAlleles, type SiteGenotype } from '../vcf-calls.js';
import type { GeneAlleleDefinitions } from './allele-definitions.js';
import { callDiplotypes, type GeneCall, type PositionGenotype, type SampleGenotypes } from './diplotypes.js';
import type { PgxKnowledge } from './knowledge.js';

/** The calls of the given genes (every gene Helix defines when none are named) for one GRCh38 study. */
export async function callStudy(q: Queryable, knowledge: PgxKnowledge, study: GenomicStudy, genes?: readonly string[]): Promise<GeneCall[]> {
  if (study.build !== 'GRCh38') return [];
  const wanted = [...knowledge.alleles.values()].filter((d) => !genes || genes.includes(d.gene));
  const bySequence = new Map<string, SiteGenotype[]>();
  const calls: GeneCall[] = [];
  for (const defs of wanted) {
    let sites = bySequence.get(defs.refSeq);
    if (!sites) {
      sites = await siteGenotypes(q, study, defs.refSeq);
      bySequence.set(defs.refSeq, sites);
    }
    calls.push(callDiplotypes(defs, sampleGenotypes(defs, sites)));
  }
  return calls;
}

/**
 * The sample's genotypes at one gene's positions, from the sites the import kept. Where a file has
 * several records at one position (an SNV and an indel starting there), the first that calls the
 * sample counts; a no-call is a missing position.
 */
export function sampleGenotypes(defs: GeneAlleleDefinitions, sites: readonly SiteGenotype[]): SampleGenotypes {
  const wanted = new Set([...defs.positions, ...defs.method.extraPositions].map((p) => p.position));
  const out = new Map<number, PositionGenotype>();
  for (const site of sites) {
    if (!wanted.has(site.pos) || out.has(site.pos)) continue;
    const genotype = positionGenotype(site);
    if (genotype) out.set(site.pos, genotype);
  }
  return out;
}

function positionGenotype(site: SiteGenotype): PositionGenotype | undefined {
  const bases = genotypeAlleles(site.genotype).map((i) => (i === undefined ? undefined : i === 0 ? site.ref : site.alts[i - 1]));
  if (bases.every((b) => b === undefined)) return undefined;
  const phased = site.genotype.includes('|');
  const genotype: PositionGenotype = { alleles: [bases[0], bases.length > 1 ? bases[1] : undefined], phased };
  if (phased && site.phaseSet !== undefined) genotype.phaseSet = site.phaseSet;
  return genotype;
}
