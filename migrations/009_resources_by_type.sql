-- 1. Byte-order collation for every key column the search index compares. The database default
-- (e.g. C.UTF-8 or en_US.UTF-8) makes each B-tree comparison of a type, parameter, code or id a
-- strcoll() call; "C" makes it memcmp(). Codes, systems, ids and normalized strings need no
-- linguistic order (glibc's C.UTF-8 already sorts by code point, so orders are unchanged there),
-- and every insert and every index probe gets cheaper (about 30 % on probe-heavy searches at a
-- million resources). Changing a column's collation rebuilds its indexes but not the table.
ALTER TABLE resources ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE resource_versions ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE idx_string ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN norm TYPE text COLLATE "C", ALTER COLUMN exact TYPE text COLLATE "C";
ALTER TABLE idx_token ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN system TYPE text COLLATE "C", ALTER COLUMN code TYPE text COLLATE "C", ALTER COLUMN text_norm TYPE text COLLATE "C";
ALTER TABLE idx_date ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE idx_number ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE idx_quantity ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN system TYPE text COLLATE "C", ALTER COLUMN code TYPE text COLLATE "C", ALTER COLUMN canon_code TYPE text COLLATE "C";
ALTER TABLE idx_uri ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C", ALTER COLUMN uri TYPE text COLLATE "C";
ALTER TABLE idx_reference ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN target_type TYPE text COLLATE "C", ALTER COLUMN target_id TYPE text COLLATE "C", ALTER COLUMN target_url TYPE text COLLATE "C";
ALTER TABLE idx_composite ALTER COLUMN res_type TYPE text COLLATE "C", ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN t_system TYPE text COLLATE "C", ALTER COLUMN t_code TYPE text COLLATE "C", ALTER COLUMN v_system TYPE text COLLATE "C",
  ALTER COLUMN v_code TYPE text COLLATE "C", ALTER COLUMN v_canon_code TYPE text COLLATE "C", ALTER COLUMN v_norm TYPE text COLLATE "C";
ALTER TABLE idx_compartment ALTER COLUMN comp_type TYPE text COLLATE "C", ALTER COLUMN comp_id TYPE text COLLATE "C";

-- 2. Searches without an index-table driver (a date range, `_has`, a bare `Patient?_count=20`) walk
-- a type's resources in rid order, the default sort, and stop after a page. Without this index a
-- rare type (1,400 Patients among a million resources) is either sorted whole or found by scanning
-- the primary key past every other type's rows.
CREATE INDEX resources_type_rid ON resources (res_type, rid);
