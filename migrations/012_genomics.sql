-- Genomic studies and their called variants (Genomics Reporting IG 3.0.0; HL7 genomics operations).
-- Variants are not FHIR resources: a genome holds millions, and the operations ask range
-- questions ("which of this patient's variants overlap NC_000019.10:11089300-11133830?") that an
-- interval key answers and a resource search cannot. Observations are produced from these rows.
-- Coordinates are 0-based, half-open, on RefSeq accessions, as SPDI and the operations' ranges.

CREATE TABLE genomic_studies (
  -- Also the id of the study's genomic-study Procedure.
  id                  text COLLATE "C" PRIMARY KEY,
  -- The compact key variant rows carry (4 bytes instead of a 36-character id in every row and index entry).
  key                 integer GENERATED ALWAYS AS IDENTITY UNIQUE,
  patient_id          text COLLATE "C" NOT NULL,
  -- The lab's test identifier: importing the same test again replaces the study.
  test_identifier     text COLLATE "C" NOT NULL,
  build               text NOT NULL,
  source_class        text NOT NULL,
  test_date           text,
  specimen_identifier text COLLATE "C",
  sample_name         text NOT NULL,
  -- The regions studied from a BED, as [{sequence, start, end}]; NULL means the whole genome.
  regions_studied     jsonb,
  report_id           text COLLATE "C" NOT NULL,
  change_types        text[] NOT NULL DEFAULT '{}',
  variant_count       integer NOT NULL DEFAULT 0,
  imported_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (patient_id, test_identifier)
);

-- No foreign key to genomic_studies: a per-row check would cost the bulk load (COPY) dearly;
-- the import deletes a study's rows itself, in the transaction that replaces it.
CREATE TABLE variants (
  study_key       integer NOT NULL,
  -- Position of the call in its file: with the study, the stable id of its Observation.
  ord             integer NOT NULL,
  seq             text COLLATE "C" NOT NULL,
  start_pos       integer NOT NULL,
  end_pos         integer NOT NULL,
  ref             text COLLATE "C" NOT NULL,
  alt             text COLLATE "C" NOT NULL,
  structural_type text,
  copy_number     real,
  genotype        text NOT NULL,
  phased          boolean NOT NULL,
  zygosity        text NOT NULL,
  phase_set       bigint,
  depth           integer,
  allele_freq     real,
  filter          text NOT NULL,
  gene            text,
  ids             text,
  consequences    jsonb,
  vcf_pos         integer NOT NULL,
  vcf_ref         text NOT NULL,
  vcf_alt         text NOT NULL
);

-- The one B-tree the variants need: a study's variants overlapping a range are found by start
-- within the range widened by the longest short span (src/genomics/variant-store.ts); population
-- questions probe it once per study (thousands of probes cost milliseconds, and a second
-- position-first index would slow every import).
CREATE INDEX variants_by_study ON variants (study_key, seq, start_pos);
-- Variants spanning more than 1,000 bases (mostly structural) are few; range queries scan them
-- separately, through this small index (keyed like the main one, so the planner prefers it).
CREATE INDEX variants_long ON variants (study_key, seq, start_pos) WHERE end_pos - start_pos > 1000;

-- Asynchronous requests (FHIR async pattern, async.html; Prefer: respond-async), e.g. a VCF import.
-- Any instance answers the status URL; the instance running the job beats `heartbeat_at`, so a
-- job whose instance died is reported as failed instead of running forever.
CREATE TABLE async_jobs (
  id           text COLLATE "C" PRIMARY KEY,
  kind         text NOT NULL,
  request_url  text NOT NULL,
  -- in-progress | completed | failed | cancelled
  status       text NOT NULL,
  progress     text,
  -- Who asked (client or user): only they may read the result.
  owner        text,
  -- The response of the finished request: HTTP status, Location, and body JSON.
  response_status integer,
  response_location text,
  response_body text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
