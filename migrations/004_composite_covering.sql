-- Composite lookups (e.g. code-value-quantity=http://loinc.org|8480-6$gt140) constrain the first
-- component by equality and the second by a range or a code. Keyed on (type, param, first code,
-- rid) and carrying every value column, the index returns a page's matches in rid order without
-- visiting the table, instead of fetching every row with that code to test its value.
DROP INDEX idx_composite_lookup;
CREATE INDEX idx_composite_lookup ON idx_composite (res_type, param, t_code, rid)
  INCLUDE (t_system, v_system, v_code, v_value, v_canon_code, v_canon_value, v_low, v_high, v_norm);
