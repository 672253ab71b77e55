-- Knowledge bases the genomics operations interpret stored calls with. ClinVar first: its VCF
-- (https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/ and vcf_GRCh37/) gives, per allele, the
-- aggregate germline classification (CLNSIG), its review status (CLNREVSTAT) and the conditions
-- (CLNDN, CLNDISDB) that find-subject/population-dx-implications report. One row per allele, in
-- the variant store's coordinates: 0-based, half-open, on RefSeq accessions, alleles trimmed the
-- way stored calls are (src/genomics/spdi.ts trimAllele), so a call and its ClinVar row meet on
-- (seq, start_pos, end_pos, ref, alt). Loaded by `helix kb import clinvar` (src/genomics/clinvar.ts).

CREATE TABLE clinvar_variants (
  -- GRCh37 or GRCh38; a re-import replaces the rows of its build. NC_012920.1 (chrM) is in both.
  build           text NOT NULL,
  seq             text COLLATE "C" NOT NULL,
  start_pos       integer NOT NULL,
  end_pos         integer NOT NULL,
  ref             text COLLATE "C" NOT NULL,
  alt             text COLLATE "C" NOT NULL,
  -- ClinVar's Variation ID (the VCF's ID column), e.g. 7105 for CFTR p.Phe508del.
  variation_id    text NOT NULL,
  -- The INFO values as ClinVar writes them (underscores for spaces, `|` between conditions):
  -- they are parsed when an implication is built, not at every lookup.
  clnsig          text,
  clnrevstat      text,
  clndn           text,
  clndisdb        text,
  -- The condition identifiers of CLNDISDB, normalised (`medgen:C0010674`, `omim:219700`,
  -- `mondo:MONDO:0009061`…), for the `conditions` parameter: an array with a GIN index answers
  -- "which alleles name any of these conditions" on PostgreSQL and PGlite alike.
  condition_codes text[] NOT NULL DEFAULT '{}',
  geneinfo        text,
  mc              text,
  rs              text
);

-- A call's ClinVar rows: looked up by position (the allele is compared on the few rows found).
CREATE INDEX clinvar_variants_by_position ON clinvar_variants (seq, start_pos);
CREATE INDEX clinvar_variants_by_condition ON clinvar_variants USING gin (condition_codes);

-- One row per loaded build: which release is loaded, and a cheap answer to "is any loaded for
-- this build?" (a scan of clinvar_variants for a missing build would read the whole table).
CREATE TABLE clinvar_imports (
  build         text PRIMARY KEY,
  -- The VCF's ##fileDate, which names the ClinVar release.
  file_date     text,
  variant_count integer NOT NULL,
  imported_at   timestamptz NOT NULL DEFAULT now()
);
