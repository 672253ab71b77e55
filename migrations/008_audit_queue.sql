-- Audit entries that arrive through the Redis audit queue (src/smart/audit-queue.ts) carry their
-- stream entry id, so an entry delivered twice (its consumer died before acknowledging it) is
-- stored once. Entries written straight to PostgreSQL (no Redis) leave it NULL.
ALTER TABLE audit_log ADD COLUMN queue_id text;
CREATE UNIQUE INDEX audit_log_queue_id ON audit_log (queue_id) WHERE queue_id IS NOT NULL;
