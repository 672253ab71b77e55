-- FHIR Subscriptions (R4 and the R5 Backport IG): the transactional outbox, per-subscription state
-- and the stored events that are delivered and replayed by $events.

-- Resource types some subscription (or a built-in feature such as NEWS2) is watching. A write adds
-- its outbox row only when its type is listed here, in the same statement, so unwatched types pay
-- one index probe and nothing else.
CREATE TABLE change_watch (
  res_type text COLLATE "C" NOT NULL,
  -- 'subscription:<id>' or a feature name ('news2').
  reason   text COLLATE "C" NOT NULL,
  PRIMARY KEY (res_type, reason)
);

-- The transactional outbox: one row per written version of a watched type, inserted by the write's
-- own statement, so a committed write always has its row (and an aborted one never does). The event
-- processor (src/subscriptions/processor.ts) turns rows into subscription events and deletes them in
-- one transaction. `topic` rows are events raised by Helix itself (e.g. a NEWS2 alert), with the
-- resource as focus and `context` as additional context.
CREATE TABLE change_outbox (
  seq       bigserial PRIMARY KEY,
  res_type  text COLLATE "C" NOT NULL,
  res_id    text COLLATE "C" NOT NULL,
  version   integer NOT NULL,
  at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  topic     text,
  context   text[],
  detail    jsonb
);

-- One row per Subscription the server has taken on: its status, persistent and gap-free event
-- counter, delivery progress and failure bookkeeping. Survives restarts; shared by all instances.
CREATE TABLE subscription_state (
  id                 text COLLATE "C" PRIMARY KEY,
  version            integer NOT NULL,
  status             text NOT NULL CHECK (status IN ('requested', 'active', 'error', 'off')),
  -- Writes older than this transaction may not be watched yet: activation waits until none runs.
  watch_xid          xid8,
  events_since_start bigint NOT NULL DEFAULT 0,
  delivered_through  bigint NOT NULL DEFAULT 0,
  failures           integer NOT NULL DEFAULT 0,
  first_failure_at   timestamptz,
  last_error         text,
  last_sent_at       timestamptz,
  -- No retry before this (exponential backoff after a failed notification).
  next_attempt_at    timestamptz,
  -- One deliverer at a time per subscription, whichever instance: notifications stay in order.
  lease_owner        text,
  lease_until        timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Every event of every subscription, numbered from 1: delivered in order, replayed by $events.
CREATE TABLE subscription_events (
  subscription_id text COLLATE "C" NOT NULL,
  event_number    bigint NOT NULL,
  at              timestamptz NOT NULL,
  focus_type      text NOT NULL,
  focus_id        text NOT NULL,
  focus_version   integer NOT NULL,
  interaction     text NOT NULL CHECK (interaction IN ('create', 'update', 'delete')),
  context         text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (subscription_id, event_number)
);

-- Patients whose vital signs changed and whose NEWS2 is to be (re)scored: filled by the event
-- processor in its own transaction, drained by the NEWS2 calculator (src/subscriptions/news2/).
CREATE TABLE news2_pending (
  patient   text COLLATE "C" PRIMARY KEY,
  -- The newest effective time among the queued readings: the moment to score.
  at        timestamptz NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now()
);

-- Every instance reads the Subscriptions written lately, twice a second and inside each outbox
-- batch; only Subscription rows are in this index, so other writes do not maintain it.
CREATE INDEX resources_subscriptions ON resources (last_updated) WHERE res_type = 'Subscription';
