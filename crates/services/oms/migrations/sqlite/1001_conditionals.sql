-- Conditional orders held by the OMS (stop, stop-limit, take-profit, trailing stop; OCO groups).
-- status: active -> triggered (once: the update is guarded by status = 'active') or cancelled;
-- placed: the child order (client id <client_id>:fire) is stored by the OMS.
CREATE TABLE oms_conditionals (
    client_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    trigger_price INTEGER,
    limit_price INTEGER,
    trail_amount INTEGER,
    trail_bps INTEGER,
    quantity INTEGER NOT NULL,
    oco_group TEXT,
    strategy TEXT,
    status TEXT NOT NULL,
    extreme INTEGER,
    fired_at_price INTEGER,
    placed INTEGER NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX oms_conditionals_by_status ON oms_conditionals (status, created_at);
CREATE INDEX oms_conditionals_by_group ON oms_conditionals (account, oco_group);
