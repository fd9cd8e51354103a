-- One-minute bars, built live from trades or backfilled from the broker. Range-partitioned by
-- month on `start`; partitions are created on demand by the writer (store.rs).
CREATE TABLE hist_bars_1m (
    symbol text NOT NULL,
    start timestamptz NOT NULL,
    open bigint NOT NULL,
    high bigint NOT NULL,
    low bigint NOT NULL,
    close bigint NOT NULL,
    volume bigint NOT NULL,
    trades integer NOT NULL,
    PRIMARY KEY (symbol, start)
) PARTITION BY RANGE (start);

-- Daily bars from the broker (day start 00:00 Vietnam time).
CREATE TABLE hist_bars_1d (
    symbol text NOT NULL,
    start timestamptz NOT NULL,
    open bigint NOT NULL,
    high bigint NOT NULL,
    low bigint NOT NULL,
    close bigint NOT NULL,
    volume bigint NOT NULL,
    PRIMARY KEY (symbol, start)
);

-- Daily index values, hundredths of a point.
CREATE TABLE hist_index_daily (
    index_code text NOT NULL,
    day timestamptz NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (index_code, day)
);

-- The broker's daily stock price rows (reference, band, the day's prices), NULL when not sent.
CREATE TABLE hist_daily_prices (
    symbol text NOT NULL,
    day timestamptz NOT NULL,
    reference bigint,
    ceiling bigint,
    floor bigint,
    open bigint,
    high bigint,
    low bigint,
    close bigint,
    volume bigint,
    foreign_room bigint,
    PRIMARY KEY (symbol, day)
);

-- The live bar builder's state per symbol: the open bar, the last closed bar's start and the
-- last cumulative volume seen (duplicate detection). Written in the transaction that stores
-- the closed bars, before the bus offsets are committed.
CREATE TABLE hist_live_state (
    symbol text PRIMARY KEY,
    bar_start timestamptz,
    open bigint NOT NULL,
    high bigint NOT NULL,
    low bigint NOT NULL,
    close bigint NOT NULL,
    volume bigint NOT NULL,
    trades integer NOT NULL,
    last_closed timestamptz,
    volume_day timestamptz,
    last_total_volume bigint NOT NULL
);

-- Backfill jobs and the units of work each has finished (a restarted job skips them).
CREATE TABLE hist_backfill_jobs (
    id uuid PRIMARY KEY,
    request text NOT NULL,
    state text NOT NULL,
    total_units bigint NOT NULL,
    done_units bigint NOT NULL,
    rows_written bigint NOT NULL,
    error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE hist_backfill_units (
    job_id uuid NOT NULL REFERENCES hist_backfill_jobs (id) ON DELETE CASCADE,
    unit text NOT NULL,
    rows_written bigint NOT NULL,
    PRIMARY KEY (job_id, unit)
);
