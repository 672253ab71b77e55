-- AuditEvent served straight from the audit log (FHIR R4 AuditEvent; src/smart/audit-search.ts,
-- audit-query.ts): AuditEvents are rendered from audit_log rows on request instead of being
-- materialized as resources, so the log carries the indexes its searches need. Every index here is
-- paid on every audited request; there is one per search that must not scan the log, no more:
--   recorded, id   date and _lastUpdated ranges, and every page: newest first, keyset-paged on
--                  (recorded, id) straight off the index, so the latest events cost a few row reads
--                  however large the log (a BRIN index is no cheaper to append to — measured — but
--                  gives no order, so each page would sort every match).
--   patients       patient and entity=Patient/…: GIN, for "contains any of".
--   res_id         entity: the resource read or written (partial: searches and logins name none).
--   fhir_user      agent, and patient (a patient user is the agent).
--   user_id        agent by account id (agent=<id>, agent:identifier).
--   client_id      altid and agent:identifier by OAuth client.
--   user_name      altid by username: failed logins only, so it costs the other rows nothing.
-- The user and client columns hold few distinct values, which B-tree deduplication stores
-- compactly; the cost is in res_id (unique values) and the GIN index. Not indexed, so answered by
-- scanning what the other conditions leave (add a date range on a large log): agent-name,
-- address, action, subtype, type and outcome, which alone select large parts of the log anyway.

CREATE INDEX audit_log_recorded ON audit_log (recorded, id);
CREATE INDEX audit_log_patients ON audit_log USING gin (patients);
CREATE INDEX audit_log_resource ON audit_log (res_id, res_type) WHERE res_id IS NOT NULL;
CREATE INDEX audit_log_fhir_user ON audit_log (fhir_user) WHERE fhir_user IS NOT NULL;
CREATE INDEX audit_log_user ON audit_log (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX audit_log_client ON audit_log (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX audit_log_user_name ON audit_log (user_name) WHERE user_name IS NOT NULL;

-- The materializer's state and its commit-order reads go with it.
DROP TABLE audit_cursor;
DROP INDEX audit_log_commit_order;
ALTER TABLE audit_log DROP COLUMN xid;

-- The AuditEvents it wrote (ids audit-<log id>) repeat the log, and would still show up in system
-- history, system search and $everything: removed with their index rows. AuditEvents created through
-- the API before this migration (authorization off) are left alone, though no AuditEvent URL reaches them.
DELETE FROM idx_string WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_token WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_date WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_number WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_quantity WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_uri WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_reference WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_composite WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM idx_compartment WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM resource_versions WHERE rid IN (SELECT rid FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$');
DELETE FROM resources WHERE res_type = 'AuditEvent' AND id ~ '^audit-[0-9]+$';
