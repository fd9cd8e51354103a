-- Each account's net asset value by trading day (Vietnam date): cash as the broker reports it
-- plus its positions at the last trade price. The OMS values the accounts every
-- orders.nav_interval_secs; the day's last valuation stays, so a past day holds its close.
CREATE TABLE oms_nav (
    account TEXT NOT NULL,
    day TEXT NOT NULL,
    cash BIGINT NOT NULL,
    holdings BIGINT NOT NULL,
    nav BIGINT NOT NULL,
    valued_at TEXT NOT NULL,
    PRIMARY KEY (account, day)
);
