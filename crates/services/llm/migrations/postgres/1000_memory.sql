-- Long-term memory: facts per user (scope 'user', subject their id) and per security (scope
-- 'symbol', subject its ticker, '' for the market), each with the embedding it is found by
-- (little-endian f32s of `model`) and the sources it was learnt from (JSON, newest first).
CREATE TABLE memories (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BYTEA NOT NULL,
    sources TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL,
    revision INTEGER NOT NULL
);
CREATE INDEX memories_by_subject ON memories (scope, subject, updated DESC);

-- Every change to a memory: add, keep (cited again), update, delete; with the text before and
-- after, the source that caused it (JSON) and who (a user id, 'news', 'capacity').
CREATE TABLE memory_audit (
    seq BIGSERIAL PRIMARY KEY,
    memory_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX memory_audit_by_memory ON memory_audit (memory_id, seq);
CREATE INDEX memory_audit_by_subject ON memory_audit (scope, subject, seq);
