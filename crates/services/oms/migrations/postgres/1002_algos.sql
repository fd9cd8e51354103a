-- Algorithmic parent orders (TWAP, iceberg): next_slice counts the children placed, whose client
-- ids are <client_id>:<n>; status: active -> done | cancelled.
CREATE TABLE oms_algos (
    client_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    price BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    slices BIGINT,
    start_at TIMESTAMPTZ,
    end_at TIMESTAMPTZ,
    display BIGINT,
    strategy TEXT,
    next_slice BIGINT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oms_algos_by_status ON oms_algos (status, created_at);
