-- One-minute bars, built live from trades or backfilled from the broker. (PostgreSQL: range-partitioned by
-- month on `start`; on demand.) SQLite: one table.
CREATE TABLE hist_bars_1m (
    symbol TEXT NOT NULL,
    start INTEGER NOT NULL,
    open INTEGER NOT NULL,
    high INTEGER NOT NULL,
    low INTEGER NOT NULL,
    close INTEGER NOT NULL,
    volume INTEGER NOT NULL,
    trades INTEGER NOT NULL,
    PRIMARY KEY (symbol, start)
);

-- Daily bars from the broker (day start 00:00 Vietnam time).
CREATE TABLE hist_bars_1d (
    symbol TEXT NOT NULL,
    start INTEGER NOT NULL,
    open INTEGER NOT NULL,
    high INTEGER NOT NULL,
    low INTEGER NOT NULL,
    close INTEGER NOT NULL,
    volume INTEGER NOT NULL,
    PRIMARY KEY (symbol, start)
);

-- Daily index values, hundredths of a point.
CREATE TABLE hist_index_daily (
    index_code TEXT NOT NULL,
    day INTEGER NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (index_code, day)
);

-- The broker's daily stock price rows (reference, band, the day's prices), NULL when not sent.
CREATE TABLE hist_daily_prices (
    symbol TEXT NOT NULL,
    day INTEGER NOT NULL,
    reference INTEGER,
    ceiling INTEGER,
    floor INTEGER,
    open INTEGER,
    high INTEGER,
    low INTEGER,
    close INTEGER,
    volume INTEGER,
    foreign_room INTEGER,
    PRIMARY KEY (symbol, day)
);

-- The live bar builder's state per symbol: the open bar, the last closed bar's start and the
-- last cumulative volume seen (duplicate detection). Written in the transaction that stores
-- the closed bars, before the bus offsets are committed.
CREATE TABLE hist_live_state (
    symbol TEXT PRIMARY KEY,
    bar_start INTEGER,
    open INTEGER NOT NULL,
    high INTEGER NOT NULL,
    low INTEGER NOT NULL,
    close INTEGER NOT NULL,
    volume INTEGER NOT NULL,
    trades INTEGER NOT NULL,
    last_closed INTEGER,
    volume_day INTEGER,
    last_total_volume INTEGER NOT NULL
);

-- Backfill jobs and the units of work each has finished (a restarted job skips them).
CREATE TABLE hist_backfill_jobs (
    id BLOB PRIMARY KEY,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    total_units INTEGER NOT NULL,
    done_units INTEGER NOT NULL,
    rows_written INTEGER NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE hist_backfill_units (
    job_id BLOB NOT NULL REFERENCES hist_backfill_jobs (id) ON DELETE CASCADE,
    unit TEXT NOT NULL,
    rows_written INTEGER NOT NULL,
    PRIMARY KEY (job_id, unit)
);
