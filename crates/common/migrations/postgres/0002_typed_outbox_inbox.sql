-- Typed columns for the outbox and inbox (docs/adr/0001-typed-storage.md): event ids become
-- uuid, times timestamptz (converted from the unix milliseconds 0001 stored). The outbox gains
-- what the relay needs to retry a row and give up on it; rows it gives up on move to
-- qts_outbox_dead, where an operator sees them (and can requeue them).
DROP INDEX IF EXISTS qts_outbox_pending;

ALTER TABLE qts_outbox
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN created_at_ms TYPE timestamptz USING to_timestamp(created_at_ms / 1000.0),
    ALTER COLUMN published_at_ms TYPE timestamptz USING to_timestamp(published_at_ms / 1000.0);
ALTER TABLE qts_outbox RENAME COLUMN created_at_ms TO created_at;
ALTER TABLE qts_outbox RENAME COLUMN published_at_ms TO published_at;
ALTER TABLE qts_outbox
    -- Failed publish attempts of this row, and the last error (whole chain).
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text;

CREATE INDEX qts_outbox_pending ON qts_outbox (seq) WHERE published_at IS NULL;
-- Pruning published rows after outbox.retention_secs.
CREATE INDEX qts_outbox_published ON qts_outbox (published_at) WHERE published_at IS NOT NULL;

-- Rows the relay gave up on: the envelope did not decode ("undecodable"), or the bus refused
-- it outbox.max_attempts times ("refused"). Never pruned: an operator looks, fixes the cause
-- and requeues (common::store::Outbox::requeue) or deletes.
CREATE TABLE qts_outbox_dead (
    seq bigint PRIMARY KEY,
    event_id uuid NOT NULL,
    topic text NOT NULL,
    envelope bytea NOT NULL,
    created_at timestamptz NOT NULL,
    dead_at timestamptz NOT NULL,
    attempts integer NOT NULL,
    reason text NOT NULL,
    error text NOT NULL
);

ALTER TABLE qts_inbox
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN processed_at_ms TYPE timestamptz USING to_timestamp(processed_at_ms / 1000.0);
ALTER TABLE qts_inbox RENAME COLUMN processed_at_ms TO processed_at;
-- Pruning after inbox.retention_secs.
CREATE INDEX qts_inbox_processed ON qts_inbox (processed_at);
