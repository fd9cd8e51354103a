-- Orders of the OMS: one row per order, its current state (every change is in oms_order_events).
CREATE TABLE oms_orders (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    price INTEGER,
    quantity INTEGER NOT NULL,
    status TEXT NOT NULL,
    pending TEXT,
    filled INTEGER NOT NULL,
    filled_value INTEGER NOT NULL,
    reconciled_open INTEGER NOT NULL,
    request_day TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    broker_order_id TEXT,
    confirmed INTEGER NOT NULL,
    reject_reason TEXT,
    strategy TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    UNIQUE (request_day, request_id)
);
CREATE INDEX oms_orders_by_time ON oms_orders (created_at DESC, id);
CREATE INDEX oms_orders_by_broker_id ON oms_orders (broker_order_id);
CREATE INDEX oms_orders_open ON oms_orders (status) WHERE status IN ('pending_new', 'new', 'partially_filled');

-- Every change of every order, in order (seq is the order's version after the change).
CREATE TABLE oms_order_events (
    order_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (order_id, seq)
);

-- Fills, once each: the broker's fill event id or `cum:<quantity>` for a fill derived from the
-- order book; `counted` is what added to the order's filled quantity (less when it confirmed a
-- derived one).
CREATE TABLE oms_fills (
    order_id TEXT NOT NULL,
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    reconciled INTEGER NOT NULL,
    strategy TEXT,
    time INTEGER NOT NULL,
    PRIMARY KEY (order_id, id)
);
CREATE INDEX oms_fills_by_time ON oms_fills (time DESC);

-- SSI requestIDs are unique per trading day: the last one given out each day.
CREATE TABLE oms_request_ids (
    day TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Every requestID the OMS used, and for what: failures on the stream name only the id.
CREATE TABLE oms_actions (
    day TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (day, request_id)
);
