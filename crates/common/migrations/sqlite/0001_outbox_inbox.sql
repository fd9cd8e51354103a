-- Transactional outbox: events written in the same transaction as the state change they
-- describe, published to the bus afterwards by the relay (at least once, in seq order).
CREATE TABLE IF NOT EXISTS qts_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    envelope BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    published_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS qts_outbox_pending ON qts_outbox (seq) WHERE published_at_ms IS NULL;

-- Inbox: which events a consumer has handled, so redelivered events are handled once.
CREATE TABLE IF NOT EXISTS qts_inbox (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    processed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
