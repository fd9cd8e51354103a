-- Limits set through the API (value: JSON), per account or strategy (the defaults come from the settings
-- unless a `global` row overrides them).
CREATE TABLE risk_limits (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Engaged kill switches (value: the reason).
CREATE TABLE risk_kill_switches (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Every change of limits and kill switches, and every rejected order: who, when, what.
CREATE TABLE risk_audit (
    seq BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX risk_audit_by_time ON risk_audit (at DESC);
