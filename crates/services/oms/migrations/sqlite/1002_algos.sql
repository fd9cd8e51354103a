-- Algorithmic parent orders (TWAP, iceberg): next_slice counts the children placed, whose client
-- ids are <client_id>:<n>; status: active -> done | cancelled.
CREATE TABLE oms_algos (
    client_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    price INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    slices INTEGER,
    start_at INTEGER,
    end_at INTEGER,
    display INTEGER,
    strategy TEXT,
    next_slice INTEGER NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX oms_algos_by_status ON oms_algos (status, created_at);
