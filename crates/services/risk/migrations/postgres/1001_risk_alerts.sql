-- Alerts the monitor published (on risk.event.v1, with their audit row), by stable id: each is
-- published once, across restarts and instances.
CREATE TABLE risk_alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
