-- Every decision a strategy made on a signal: the order's client id at the OMS, why, and what
-- became of it.
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    strategy TEXT NOT NULL,
    symbol TEXT NOT NULL,
    signal_id TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    price BIGINT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    order_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX decisions_by_time ON decisions (at DESC, id);

-- Strategies switched on or off through the API (over the settings).
CREATE TABLE decision_strategy_state (
    id TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
