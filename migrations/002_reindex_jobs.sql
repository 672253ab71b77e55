-- Reindex jobs: rebuilding index rows of stored resources, after a custom SearchParameter is
-- created or changed (one job per SearchParameter version) or when $reindex is invoked. A job is
-- claimed by one server instance at a time (FOR UPDATE SKIP LOCKED) and resumes from its cursor
-- on another instance if its owner stops sending heartbeats.
CREATE TABLE reindex_jobs (
  id             bigserial PRIMARY KEY,
  status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  -- The resource types to reindex, and the search parameter codes (NULL: every parameter).
  res_types      text[] NOT NULL,
  codes          text[],
  -- The SearchParameter whose version this job indexes, if any.
  sp_id          text,
  sp_version     integer,
  cursor_rid     bigint NOT NULL DEFAULT 0,
  processed      bigint NOT NULL DEFAULT 0,
  total          bigint,
  -- Phase 'scan' walks every resource by rid; 'sweep' re-reads those written since the job was
  -- created, which covers writes that were extracted before every instance knew the parameter.
  phase          text NOT NULL DEFAULT 'scan' CHECK (phase IN ('scan', 'sweep')),
  owner          text,
  heartbeat      timestamptz,
  error          text,
  created        timestamptz NOT NULL DEFAULT now(),
  started        timestamptz,
  finished       timestamptz,
  UNIQUE (sp_id, sp_version)
);
CREATE INDEX reindex_jobs_open ON reindex_jobs (id) WHERE status IN ('queued', 'running');
