-- The audit trail of access to patient data (SMART issue, "Audit"; FHIR R4 AuditEvent, security.html#audit).
-- `audit_log` is the durable record: one compact row per audited request, login or token failure,
-- written by a group-committed multi-row INSERT before the request is answered (src/smart/audit.ts).
-- A background materializer turns the rows into AuditEvent resources for search
-- (src/smart/audit-materializer.ts), advancing `audit_cursor` in the same transaction.

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  -- The inserting transaction. bigserial ids are taken before commit, so rows become visible out of
  -- id order; the materializer reads in (xid, id) order and only below the oldest running
  -- transaction, where nothing can appear any more, so a late commit is never skipped.
  xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  recorded    timestamptz NOT NULL,
  -- AuditEvent.action (C R U D E) and the interaction: a restful-interaction code, `login` or `token`.
  action      text NOT NULL CHECK (action IN ('C', 'R', 'U', 'D', 'E')),
  subtype     text NOT NULL,
  -- AuditEvent.outcome: 0 success, 4 minor failure (4xx), 8 serious failure (5xx), 12 major failure.
  outcome     text NOT NULL CHECK (outcome IN ('0', '4', '8', '12')),
  status      smallint,
  -- Why it failed, as a short code or message (never a password or token).
  detail      text,
  -- Who: the OAuth client, the user account, its username (logins), FHIR identity and role, the token id.
  client_id   text,
  user_id     text,
  user_name   text,
  fhir_user   text,
  role        text,
  token_id    text,
  -- What: the resource, the patients whose data it touched, and the search or operation request.
  res_type    text,
  res_id      text,
  patients    text[] NOT NULL DEFAULT '{}',
  query       text,
  -- Where from.
  source_ip   text,
  user_agent  text,
  request_id  text
);
CREATE INDEX audit_log_commit_order ON audit_log (xid, id);

-- Append-only: rows are never changed or removed through SQL statements (retention would drop this
-- trigger in its own migration). A statement trigger costs nothing on INSERT.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Where the materializer has got to. Its row is locked FOR UPDATE SKIP LOCKED by the instance
-- working a batch, so one instance materializes at a time.
CREATE TABLE audit_cursor (
  name        text PRIMARY KEY,
  last_xid    xid8 NOT NULL DEFAULT '0',
  last_id     bigint NOT NULL DEFAULT 0,
  updated     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_cursor (name) VALUES ('AuditEvent');
