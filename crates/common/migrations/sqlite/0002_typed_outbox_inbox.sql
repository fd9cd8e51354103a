-- Typed columns for the outbox and inbox (docs/adr/0001-typed-storage.md), SQLite side:
-- event ids become 16-byte BLOBs (sqlx's uuid encoding), times INTEGER unix microseconds
-- (common::store::Timestamp; 0001 stored milliseconds). SQLite cannot change a column's type,
-- so each table is rebuilt and its rows copied. The outbox gains what the relay needs to retry
-- a row and give up on it; rows it gives up on move to qts_outbox_dead.
CREATE TABLE qts_outbox_v2 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BLOB NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    envelope BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    published_at INTEGER,
    -- Failed publish attempts of this row, and the last error (whole chain).
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
INSERT INTO qts_outbox_v2 (seq, event_id, topic, envelope, created_at, published_at)
SELECT seq, unhex(replace(event_id, '-', '')), topic, envelope,
       created_at_ms * 1000, published_at_ms * 1000
FROM qts_outbox;
DROP TABLE qts_outbox;
ALTER TABLE qts_outbox_v2 RENAME TO qts_outbox;
CREATE INDEX qts_outbox_pending ON qts_outbox (seq) WHERE published_at IS NULL;
-- Pruning published rows after outbox.retention_secs.
CREATE INDEX qts_outbox_published ON qts_outbox (published_at) WHERE published_at IS NOT NULL;

-- Rows the relay gave up on: the envelope did not decode ("undecodable"), or the bus refused
-- it outbox.max_attempts times ("refused"). Never pruned: an operator looks, fixes the cause
-- and requeues (common::store::Outbox::requeue) or deletes.
CREATE TABLE qts_outbox_dead (
    seq INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL,
    topic TEXT NOT NULL,
    envelope BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    dead_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    error TEXT NOT NULL
);

CREATE TABLE qts_inbox_v2 (
    consumer TEXT NOT NULL,
    event_id BLOB NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
INSERT INTO qts_inbox_v2 (consumer, event_id, processed_at)
SELECT consumer, unhex(replace(event_id, '-', '')), processed_at_ms * 1000
FROM qts_inbox;
DROP TABLE qts_inbox;
ALTER TABLE qts_inbox_v2 RENAME TO qts_inbox;
-- Pruning after inbox.retention_secs.
CREATE INDEX qts_inbox_processed ON qts_inbox (processed_at);
