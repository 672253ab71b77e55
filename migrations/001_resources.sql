-- Resources, their versions and the search index.
-- `resources` holds the current version of each resource (content is the exact JSON text served);
-- `resource_versions` holds the earlier versions: an update moves the replaced version there, so a
-- create — the commonest write — touches one resource row and its index rows only.
-- Index rows are keyed by the internal surrogate `rid` and are rewritten with each version.
-- Every index here is paid for on every write: add one only for a query that needs it.

CREATE SEQUENCE resource_rid_seq;

CREATE TABLE resources (
  rid          bigint PRIMARY KEY,
  res_type     text NOT NULL,
  id           text NOT NULL,
  version      integer NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean NOT NULL DEFAULT false,
  method       text NOT NULL,
  content      text,
  CONSTRAINT resources_identity UNIQUE (res_type, id)
);
-- For history and _lastUpdated: one index by time serves every type (filtered by res_type).
CREATE INDEX resources_updated ON resources (last_updated);

CREATE TABLE resource_versions (
  rid          bigint NOT NULL,
  version      integer NOT NULL,
  res_type     text NOT NULL,
  id           text NOT NULL,
  last_updated timestamptz NOT NULL,
  method       text NOT NULL,
  content      text,
  PRIMARY KEY (rid, version)
);
CREATE INDEX resource_versions_updated ON resource_versions (last_updated);

-- string: `norm` is lower-cased and accent-stripped for the default starts-with match; `exact` as written.
CREATE TABLE idx_string (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  norm text NOT NULL, exact text NOT NULL
);
CREATE INDEX idx_string_lookup ON idx_string (res_type, param, norm text_pattern_ops, rid);
CREATE INDEX idx_string_rid ON idx_string (rid);

-- token: text_norm (Coding.display or CodeableConcept.text, normalised like strings) serves :text by
-- a scan of the parameter's rows; it adds no index to the write path.
CREATE TABLE idx_token (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  system text, code text, text_norm text
);
CREATE INDEX idx_token_lookup ON idx_token (res_type, param, code, system, rid);
CREATE INDEX idx_token_rid ON idx_token (rid);

-- date: every value is the range [low, high] its precision implies (search.html#date).
CREATE TABLE idx_date (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  low timestamptz NOT NULL, high timestamptz NOT NULL
);
CREATE INDEX idx_date_lookup ON idx_date (res_type, param, low, high, rid);
CREATE INDEX idx_date_rid ON idx_date (rid);

-- number: the value and the range its significant figures imply.
CREATE TABLE idx_number (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  value numeric NOT NULL, low numeric NOT NULL, high numeric NOT NULL
);
CREATE INDEX idx_number_lookup ON idx_number (res_type, param, value, rid);
CREATE INDEX idx_number_rid ON idx_number (rid);

-- quantity: as written, and (canon_code, canon_value) in the canonical UCUM unit where a conversion
-- is known — else the code and value as written — so one index serves every search with a unit.
CREATE TABLE idx_quantity (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  system text, code text, value numeric NOT NULL, low numeric NOT NULL, high numeric NOT NULL,
  canon_code text, canon_value numeric NOT NULL
);
CREATE INDEX idx_quantity_canon ON idx_quantity (res_type, param, canon_code, canon_value, rid);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE idx_uri (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  uri text NOT NULL
);
CREATE INDEX idx_uri_lookup ON idx_uri (res_type, param, uri, rid);
CREATE INDEX idx_uri_rid ON idx_uri (rid);

-- reference: local references resolved to (target_type, target_id); others kept as `target_url`.
CREATE TABLE idx_reference (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  target_type text, target_id text, target_url text
);
CREATE INDEX idx_reference_lookup ON idx_reference (res_type, param, target_id, target_type, rid);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

-- composite (search.html#composite): a token component paired with a value component of the same
-- element — token (v_system, v_code), quantity (as written, and v_canon_* in canonical UCUM),
-- date (v_low, v_high) or string (v_norm).
CREATE TABLE idx_composite (
  rid bigint NOT NULL, res_type text NOT NULL, param text NOT NULL,
  t_system text, t_code text,
  v_system text, v_code text, v_value numeric, v_canon_code text, v_canon_value numeric,
  v_low timestamptz, v_high timestamptz, v_norm text
);
CREATE INDEX idx_composite_lookup ON idx_composite (res_type, param, t_code, v_code, rid);
CREATE INDEX idx_composite_rid ON idx_composite (rid);

-- Compartment membership (Patient, Encounter, ...), per the R4 CompartmentDefinitions.
CREATE TABLE idx_compartment (
  rid bigint NOT NULL, comp_type text NOT NULL, comp_id text NOT NULL
);
CREATE INDEX idx_compartment_lookup ON idx_compartment (comp_type, comp_id, rid);
CREATE INDEX idx_compartment_rid ON idx_compartment (rid);
