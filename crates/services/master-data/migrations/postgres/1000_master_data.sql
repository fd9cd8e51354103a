-- Master data: securities (synced and edited), indexes and their members, the audit trail of
-- manual edits and the sync runs.
CREATE TABLE md_securities (
    symbol        TEXT PRIMARY KEY,
    exchange      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    name_en       TEXT NOT NULL DEFAULT '',
    sector        TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'normal',
    lot_size      BIGINT NOT NULL,
    listed_shares BIGINT NOT NULL DEFAULT 0,
    foreign_room  BIGINT,
    trading_day   TEXT NOT NULL DEFAULT '',
    reference     BIGINT NOT NULL DEFAULT 0,
    ceiling       BIGINT NOT NULL DEFAULT 0,
    floor         BIGINT NOT NULL DEFAULT 0,
    band_derived  BOOLEAN NOT NULL DEFAULT FALSE,
    -- Fields set by a manual edit, comma-separated: a sync leaves them alone.
    pinned        TEXT NOT NULL DEFAULT '',
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX md_securities_exchange ON md_securities (exchange, symbol);

CREATE TABLE md_indexes (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    exchange   TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE md_index_members (
    index_code TEXT NOT NULL REFERENCES md_indexes (code) ON DELETE CASCADE,
    symbol     TEXT NOT NULL,
    PRIMARY KEY (index_code, symbol)
);
CREATE INDEX md_index_members_symbol ON md_index_members (symbol);

CREATE TABLE md_audit (
    id          BIGSERIAL PRIMARY KEY,
    symbol      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    before_json TEXT NOT NULL,
    after_json  TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX md_audit_symbol ON md_audit (symbol, id);

CREATE TABLE md_sync_runs (
    trading_day TEXT PRIMARY KEY,
    finished_at TIMESTAMPTZ NOT NULL,
    securities  BIGINT NOT NULL,
    changed     BIGINT NOT NULL,
    derived     BIGINT NOT NULL
);
