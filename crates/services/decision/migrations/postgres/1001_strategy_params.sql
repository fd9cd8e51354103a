-- Strategy parameters set through the API (over the settings): timeframes, symbols and sizing
-- as JSON (`service::Params`).
CREATE TABLE decision_strategy_params (
    id TEXT PRIMARY KEY,
    params TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
