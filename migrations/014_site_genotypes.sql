-- Genotypes an import keeps at the sites star-allele calling reads (the defined positions of the
-- pharmacogenomic allele definitions), reference calls and no-calls included. The variant store
-- holds non-reference calls only, but a star-allele caller must tell a position called reference
-- from one absent from the file: a missing position lowers the certainty of a call (PharmCAT's
-- NamedAlleleMatcher treats it so). A few hundred rows per study, read whole per gene.
CREATE TABLE site_genotypes (
  study_key  integer NOT NULL,
  seq        text COLLATE "C" NOT NULL,
  -- VCF coordinates as written (1-based POS, untrimmed REF/ALT): allele definitions are in them.
  pos        integer NOT NULL,
  ref        text NOT NULL,
  -- ALT as written: comma-separated, `.` for none.
  alt        text NOT NULL,
  -- The sample's GT as written (`0/1`, `1|0`, `./.`, `1`); `phase_set` is FORMAT PS when phased.
  genotype   text NOT NULL,
  phase_set  bigint,
  line       integer NOT NULL
);

CREATE INDEX site_genotypes_by_study ON site_genotypes (study_key, seq, pos);
