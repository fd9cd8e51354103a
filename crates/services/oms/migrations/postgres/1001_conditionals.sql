-- Conditional orders held by the OMS (stop, stop-limit, take-profit, trailing stop; OCO groups).
-- status: active -> triggered (once: the update is guarded by status = 'active') or cancelled;
-- placed: the child order (client id <client_id>:fire) is stored by the OMS.
CREATE TABLE oms_conditionals (
    client_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    trigger_price BIGINT,
    limit_price BIGINT,
    trail_amount BIGINT,
    trail_bps BIGINT,
    quantity BIGINT NOT NULL,
    oco_group TEXT,
    strategy TEXT,
    status TEXT NOT NULL,
    extreme BIGINT,
    fired_at_price BIGINT,
    placed BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oms_conditionals_by_status ON oms_conditionals (status, created_at);
CREATE INDEX oms_conditionals_by_group ON oms_conditionals (account, oco_group);
