-- Signals the ta service read off closed bars (also published to ta.signal.v1 through the outbox).
CREATE TABLE ta_signals (
    id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    bar_start INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    direction INTEGER NOT NULL,
    value REAL NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ta_signals_by_time ON ta_signals (bar_start DESC, id);
CREATE INDEX ta_signals_by_symbol ON ta_signals (symbol, bar_start DESC);
