// The genomic data model shared by VCF import, the variant store and the genomics operations
// (Genomics Reporting IG 3.0.0). Coordinates are 0-based and half-open on a RefSeq chromosome
// accession, as SPDI (https://www.ncbi.nlm.nih.gov/variation/notation/) and the genomics
// operations' `ranges` parameter use them; VCF's 1-based POS is converted once, at import.

/** A reference assembly Helix knows the chromosome accessions of. */
export type GenomicBuild = 'GRCh37' | 'GRCh38';

/** Germline or somatic, as the IG's genomic-source-class component (LOINC 48002-0). */
export type GenomicSourceClass = 'germline' | 'somatic';

/** Symbolic structural-variant kinds (VCF 4.x ALT `<DEL>` etc. or INFO SVTYPE). */
export type StructuralType = 'DEL' | 'DUP' | 'INS' | 'INV' | 'CNV' | 'BND';

/** An allele in SPDI form: `sequence:position:deleted:inserted`, position 0-based. */
export interface SpdiAllele {
  /** RefSeq accession with version, e.g. `NC_000019.10`. */
  sequence: string;
  /** 0-based position of the first deleted (or, for a pure insertion, following) base. */
  position: number;
  /** Deleted reference bases (may be empty for an insertion). */
  deleted: string;
  /** Inserted bases (may be empty for a deletion). */
  inserted: string;
}

/** A 0-based half-open region on a chromosome accession, e.g. `NC_000019.10:11089300-11133830`. */
export interface GenomicRange {
  sequence: string;
  build: GenomicBuild;
  /** The chromosome name without prefix: `1`…`22`, `X`, `Y`, `M`. */
  chromosome: string;
  start: number;
  end: number;
}

/** One molecular consequence from a VEP `CSQ` or SnpEff `ANN` annotation. */
export interface MolecularConsequence {
  /** Sequence Ontology term name(s), e.g. `missense_variant` (several joined by `&` in the VCF). */
  terms: string[];
  gene?: string;
  /** HGNC id when the annotation carries it (VEP HGNC_ID), e.g. `HGNC:1100`. */
  hgncId?: string;
  transcript?: string;
  /** HGVS c. and p. notations from the annotation, when present. */
  hgvsc?: string;
  hgvsp?: string;
  /** VEP IMPACT / SnpEff putative impact: HIGH, MODERATE, LOW, MODIFIER. */
  impact?: string;
}

/**
 * One called non-reference allele of one sample at one site, normalised: common leading and
 * trailing bases trimmed (SPDI-style), coordinates 0-based half-open on the RefSeq accession.
 */
export interface VariantCall {
  /** RefSeq accession of the chromosome, e.g. `NC_000019.10`. */
  sequence: string;
  /** Chromosome name without prefix (`1`…`22`, `X`, `Y`, `M`). */
  chromosome: string;
  /** 0-based start of the affected reference interval. */
  start: number;
  /** 0-based exclusive end (for a pure insertion, equal to start). */
  end: number;
  /** Reference bases deleted (trimmed), empty for a pure insertion or a symbolic allele. */
  ref: string;
  /** Bases inserted (trimmed), empty for a pure deletion or a symbolic allele. */
  alt: string;
  /** Canonical key `sequence:position:deleted:inserted`; for symbolic alleles `sequence:start:end:<TYPE>`. */
  spdi: string;
  /** Structural-variant kind for symbolic or SVTYPE-annotated records. */
  structuralType?: StructuralType;
  /** Copy number for CNVs (FORMAT CN or INFO CN), when given. */
  copyNumber?: number;
  /** The VCF's own POS (1-based), REF and this ALT, kept for display and round-tripping. */
  vcf: { pos: number; ref: string; alt: string };
  /** Identifiers from the ID column (e.g. `rs113488022`). */
  ids: string[];
  /** The sample's GT as written, e.g. `0/1`, `1|0`, `1`. */
  genotype: string;
  /** Whether the GT is phased (`|`). */
  phased: boolean;
  /** Heterozygous, homozygous (all called alleles this ALT) or hemizygous (one allele called). */
  zygosity: 'heterozygous' | 'homozygous' | 'hemizygous';
  /** FORMAT PS (phase set), when given. */
  phaseSet?: number;
  /** FORMAT DP, or INFO DP for single-sample files. */
  depth?: number;
  /** Allele frequency in the sample: FORMAT AF, or AD(alt)/DP when AD is given. */
  alleleFrequency?: number;
  /** `PASS`, or the failed filter names joined by `;`; empty when the VCF says `.`. */
  filter: string;
  /** The gene symbol from the annotations (first consequence with one), when present. */
  gene?: string;
  /** Consequences from CSQ/ANN for this ALT allele. */
  consequences: MolecularConsequence[];
}

/** One imported genomic test of one patient: the IG's genomic-study Procedure and its report. */
export interface GenomicStudy {
  /** Helix's id for the study (also the id of its genomic-study Procedure). */
  id: string;
  /** The variant store's compact key of the study, once saved (src/genomics/variant-store.ts). */
  key?: number;
  /** Patient logical id. */
  patientId: string;
  build: GenomicBuild;
  sourceClass: GenomicSourceClass;
  /** The lab's test identifier (`testIdentifier`), the re-import key. */
  testIdentifier: string;
  /** When the test was performed (`testDate`), a FHIR date or dateTime. */
  testDate?: string;
  specimenIdentifier?: string;
  /** The VCF sample this study's calls came from. */
  sampleName: string;
  /** Regions studied (from a BED), when given; absent means whole genome. */
  regionsStudied?: GenomicRange[];
  /** Id of the genomic-report DiagnosticReport. */
  reportId: string;
  /** Structural kinds present among the calls (for find-study-metadata's dnaChangeType). */
  changeTypes: string[];
}
