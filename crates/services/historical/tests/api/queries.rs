//! Queries: resampling that respects the lunch break and the day, latest bars, CSV export,
//! gaps, and clear errors, over HTTP and gRPC, on SQLite and PostgreSQL.

use historical::domain::Bar;
use historical::store::{OnConflict, upsert_minute_bars};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::helpers::{TestApp, postgres_url, spawn_with};

fn minute(h: u8, m: u8) -> OffsetDateTime {
    datetime!(2025-06-10 00:00 +7)
        .replace_hour(h)
        .unwrap()
        .replace_minute(m)
        .unwrap()
        .to_offset(time::UtcOffset::UTC)
}

/// SSI: a bar every minute 09:00–11:29 and 13:00–14:29 except 10:00, plus the ATC at 14:45;
/// each bar's volume is 100, its price rises by 50 per minute.
fn day() -> Vec<Bar> {
    let mut out = Vec::new();
    let mut price = 20_000;
    let mut push = |t: OffsetDateTime| {
        price += 50;
        out.push(Bar {
            symbol: "SSI".into(),
            start: t,
            seconds: 60,
            open: price,
            high: price + 50,
            low: price - 50,
            close: price + 10,
            volume: 100,
            trades: 2,
        });
    };
    for h in 9..=14u8 {
        for m in 0..60u8 {
            let morning = (9..11).contains(&h) || (h == 11 && m < 30);
            let afternoon = h == 13 || (h == 14 && m < 30);
            if (morning || afternoon) && !(h == 10 && m == 0) {
                push(minute(h, m));
            }
        }
    }
    push(minute(14, 45));
    out
}

async fn seeded(env: &[(&str, &str)]) -> TestApp {
    let app = spawn_with(env).await;
    let mut tx = app.app.db.begin().await.unwrap();
    upsert_minute_bars(&mut tx, &day(), OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app
}

async fn resampling_respects_sessions(app: &TestApp) {
    let q = "symbol=ssi&from=2025-06-10&to=2025-06-10";
    let m1 = app.bars(&format!("{q}&resolution=1m")).await;
    assert_eq!(m1.len(), 150 + 90 - 1 + 1);

    let m5 = app.bars(&format!("{q}&resolution=5m")).await;
    assert_eq!(m5[0]["start"], "2025-06-10T02:00:00Z");
    assert_eq!(m5[0]["volume"], 500);
    assert_eq!(m5[0]["open"], m1[0]["open"]);
    assert_eq!(m5[0]["close"], m1[4]["close"]);
    assert_eq!(m5[0]["seconds"], 300);

    let h1 = app.bars(&format!("{q}&resolution=1h")).await;
    let starts: Vec<&str> = h1.iter().map(|b| b["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        [
            "2025-06-10T02:00:00Z",
            "2025-06-10T03:00:00Z",
            "2025-06-10T04:00:00Z",
            "2025-06-10T06:00:00Z",
            "2025-06-10T07:00:00Z"
        ],
        "11:00 and 13:00 are separate bars: none spans the lunch break"
    );
    assert_eq!(h1[1]["volume"], 5_900, "10:00 has 59 minutes");
    assert_eq!(
        h1[2]["volume"], 3_000,
        "the 11:00 bar holds 11:00-11:29 only"
    );
    assert_eq!(h1[4]["volume"], 3_100, "14:00-14:29 and the ATC");

    let d1 = app.bars(&format!("{q}&resolution=1D")).await;
    assert_eq!(d1.len(), 1);
    assert_eq!(d1[0]["start"], "2025-06-09T17:00:00Z", "00:00 Vietnam time");
    assert_eq!(d1[0]["volume"], 100 * 240);
    assert_eq!(d1[0]["close"], m1.last().unwrap()["close"]);
    let high = m1
        .iter()
        .map(|b| b["high"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(d1[0]["high"], high);

    // gRPC answers the same.
    let got = app
        .grpc()
        .await
        .get_bars(proto::historical::v1::GetBarsRequest {
            symbol: "SSI".into(),
            resolution: "15m".into(),
            from: "2025-06-10T02:00:00Z".into(),
            to: "2025-06-10T03:00:00Z".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.bars.len(), 4);
    assert_eq!(
        got.bars[3].volume, 1_500,
        "09:45-09:59, the range ends at 10:00"
    );
}

async fn latest_csv_gaps_and_errors(app: &TestApp) {
    let r = app
        .get("/api/historical/v1/bars/latest?symbols=SSI,NOPE")
        .await;
    assert_eq!(r.status(), 200);
    let latest: serde_json::Value = r.json().await.unwrap();
    assert_eq!(latest.as_array().unwrap().len(), 1);
    assert_eq!(latest[0]["start"], "2025-06-10T07:45:00Z");

    let r = app
        .get("/api/historical/v1/bars?symbol=SSI&from=2025-06-10&to=2025-06-10&resolution=30m&format=csv")
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "symbol,start,seconds,open,high,low,close,volume,trades"
    );
    assert_eq!(
        lines.len(),
        1 + 5 + 3 + 1,
        "09:00..11:00, 13:00..14:00, and 14:30 (ATC)"
    );
    assert!(
        lines[1].starts_with("SSI,2025-06-10T02:00:00Z,1800,"),
        "{}",
        lines[1]
    );

    let r = app
        .get("/api/historical/v1/gaps?symbol=SSI&from=2025-06-10&to=2025-06-10")
        .await;
    assert_eq!(r.status(), 200);
    let gaps: serde_json::Value = r.json().await.unwrap();
    assert_eq!(gaps[0]["date"], "2025-06-10");
    assert_eq!(
        gaps[0]["missing"],
        serde_json::json!(["2025-06-10T03:00:00Z"])
    );

    for (query, needle) in [
        (
            "symbol=SSI&from=2025-06-10&to=2025-06-10&resolution=2m",
            "unknown resolution",
        ),
        (
            "symbol=SSI&from=2025-06-11&to=2025-06-10",
            "is not before to",
        ),
        (
            "symbol=SSI&from=2020-01-01&to=2025-06-10",
            "range too large",
        ),
        (
            "from=2025-06-10&to=2025-06-10",
            "missing query parameter symbol",
        ),
        (
            "symbol=SSI&from=yesterday&to=2025-06-10",
            "neither an RFC 3339 time nor a date",
        ),
        (
            "symbol=S%20SI&from=2025-06-10&to=2025-06-10",
            "not a ticker",
        ),
    ] {
        let r = app.get(&format!("/api/historical/v1/bars?{query}")).await;
        assert_eq!(r.status(), 400, "{query}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "invalid_argument", "{query}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{query}: {body}"
        );
    }
    let err = app
        .grpc()
        .await
        .get_bars(proto::historical::v1::GetBarsRequest {
            symbol: "SSI".into(),
            resolution: "7m".into(),
            from: "2025-06-10".into(),
            to: "2025-06-10".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("unknown resolution"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_on_sqlite() {
    let app = seeded(&[]).await;
    resampling_respects_sessions(&app).await;
    latest_csv_gaps_and_errors(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_on_postgres_with_partitions_created_on_demand() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let app = seeded(&[("HISTORICAL__DATABASE__URL", &url)]).await;
    resampling_respects_sessions(&app).await;
    latest_csv_gaps_and_errors(&app).await;
    let pool = app.app.db.postgres().unwrap();
    let parts: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'hist_bars_1m'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(parts, ["hist_bars_1m_y2025m06"]);
    // A second write of the same bars (and one into a new month) is an idempotent upsert.
    let mut bars = day();
    bars.push(Bar {
        start: datetime!(2025-07-01 02:00 UTC),
        ..bars[0].clone()
    });
    let mut tx = app.app.db.begin().await.unwrap();
    upsert_minute_bars(&mut tx, &bars, OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hist_bars_1m")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(n, 241);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qts_export_writes_csv_from_a_database_without_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("h.db").display());
    let db = common::store::Db::connect(&url, 2, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    db.migrate(Some(&historical::MIGRATIONS)).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    upsert_minute_bars(&mut tx, &day(), OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    let out = dir.path().join("ssi.csv");
    historical::cli::export(historical::cli::ExportArgs {
        database_url: url,
        symbol: "SSI".into(),
        from: "2025-06-01".into(),
        to: "2025-07-15".into(),
        resolution: "15m".into(),
        out: Some(out.clone()),
    })
    .await
    .unwrap();
    let text = std::fs::read_to_string(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "symbol,start,seconds,open,high,low,close,volume,trades"
    );
    assert_eq!(
        lines.len(),
        1 + 10 + 6 + 1,
        "one header across two monthly chunks"
    );
    assert!(lines[1].starts_with("SSI,2025-06-10T02:00:00Z,900,"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_bars_racing_a_writer_of_the_same_bars_fall_back_to_the_upsert_on_postgres() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let app = spawn_with(&[("HISTORICAL__DATABASE__URL", &url)]).await;
    let pool = app.app.db.postgres().unwrap().clone();
    let bars = day();
    // The month's partition exists (its creation would otherwise be what the writers wait on).
    let mut tx = app.app.db.begin().await.unwrap();
    let unrelated = Bar {
        symbol: "VNM".into(),
        ..bars[0].clone()
    };
    upsert_minute_bars(&mut tx, &[unrelated], OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Another writer holds one of the bars, not committed yet: the check finds nothing, so
    // the write goes for a direct COPY and waits on that writer's key.
    let mut other = app.app.db.begin().await.unwrap();
    let held = Bar {
        close: 1,
        ..bars[5].clone()
    };
    upsert_minute_bars(&mut other, std::slice::from_ref(&held), OnConflict::Update)
        .await
        .unwrap();
    let db = app.app.db.clone();
    let writer = tokio::spawn(async move {
        let mut tx = db.begin().await.unwrap();
        let n = upsert_minute_bars(&mut tx, &bars, OnConflict::Update)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        n
    });
    crate::helpers::eventually(20, "the COPY waits on the other writer", || {
        let pool = pool.clone();
        async move {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' \
                 AND query LIKE 'COPY hist_bars_1m %'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            (waiting > 0).then_some(())
        }
    })
    .await;
    other.commit().await.unwrap();
    // The COPY fails on the key; the savepoint undoes it and the upsert writes every bar.
    let n = day().len();
    assert_eq!(writer.await.unwrap(), n as u64);
    let stored: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT COUNT(*), SUM(close)::bigint FROM hist_bars_1m WHERE symbol = 'SSI'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let closes: i64 = day().iter().map(|b| b.close).sum();
    assert_eq!(
        stored,
        [(n as i64, closes)],
        "the racing write's values won"
    );
}

/// Writes `bars` in one transaction; returns the rows written and whether they went through
/// the staging table (not when the batch was copied straight into `hist_bars_1m`).
async fn write_counting_staged(db: &common::store::Db, bars: &[Bar]) -> (u64, bool) {
    let mut tx = db.begin().await.unwrap();
    let n = upsert_minute_bars(&mut tx, bars, OnConflict::Update)
        .await
        .unwrap();
    let common::store::PerEngine::Postgres(c) = tx.conn() else {
        panic!("a PostgreSQL test");
    };
    // Scans of the staging table by this transaction (its row counts are reset by the
    // TRUNCATE that empties it).
    let staged: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(seq_scan), 0)::bigint FROM pg_stat_xact_user_tables \
         WHERE relname = 'hist_stage_1m'",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (n, staged > 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_new_bars_go_straight_in_and_a_range_is_read_from_the_covering_key() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let app = spawn_with(&[("HISTORICAL__DATABASE__URL", &url)]).await;
    let db = &app.app.db;
    let bars = day();
    // The first part of SSI's day, then the rest of it with VNM's bars of the same minutes:
    // both batches are new rows (checked per symbol and its own minutes), copied straight in.
    assert_eq!(write_counting_staged(db, &bars[..100]).await, (100, false));
    let mut second: Vec<Bar> = bars[100..].to_vec();
    second.extend(bars[..100].iter().map(|b| Bar {
        symbol: "VNM".into(),
        ..b.clone()
    }));
    assert_eq!(write_counting_staged(db, &second).await, (240, false));
    // A stored bar again (changed) with a new one: the staged upsert, which updates it.
    let again = vec![
        Bar {
            close: 7,
            ..bars[150].clone()
        },
        Bar {
            symbol: "FPT".into(),
            ..bars[0].clone()
        },
    ];
    assert_eq!(write_counting_staged(db, &again).await, (2, true));

    // The primary key is (symbol, start) and carries every other column.
    let pool = db.postgres().unwrap();
    let (keys, all): (i16, i16) = sqlx::query_as(
        "SELECT i.indnkeyatts, i.indnatts FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'hist_bars_1m_y2025m06_pkey'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!((keys, all), (2, 8));

    // A backfill's vacuum: the months of the range that have a partition.
    let store = historical::store::Store::new(db.clone());
    let done = store
        .vacuum_minute_bars(
            datetime!(2025-05-01 00:00 UTC),
            datetime!(2025-08-31 00:00 UTC),
        )
        .await
        .unwrap();
    assert_eq!(done, ["hist_bars_1m_y2025m06"]);

    // Read back through the binary COPY: every bar, in order, the update included; a limit.
    let (from, to) = (minute(0, 0), minute(23, 0));
    let read = store.minute_bars("SSI", from, to, i64::MAX).await.unwrap();
    let mut expected = bars.clone();
    expected[150].close = 7;
    assert_eq!(read, expected);
    let first = store.minute_bars("VNM", from, to, 10).await.unwrap();
    assert_eq!(first.len(), 10);
    assert_eq!(first[0].start, bars[0].start);
    assert!(
        store
            .minute_bars("NONE", from, to, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// LONG and OTHER (same minutes, other prices): ten minutes from 09:00 Vietnam time on the
/// 1st, 15th and 28th of every month from January 2025 to February 2026, plus LONG bars at
/// the edges of each month in UTC (23:59 on its last day, 00:00 on its first).
fn months_of_bars() -> Vec<Bar> {
    let mut out = Vec::new();
    let mut push = |symbol: &str, start: OffsetDateTime, i: i64| {
        out.push(Bar {
            symbol: symbol.into(),
            start,
            seconds: 60,
            open: 10_000 + i,
            high: 10_050 + i,
            low: 9_950 + i,
            close: 10_010 + i,
            volume: 100 + i,
            trades: 1 + i % 7,
        });
    };
    let mut i = 0;
    for (y, m) in (1..=12u8)
        .map(|m| (2025, m))
        .chain([(2026, 1u8), (2026, 2u8)])
    {
        let month = time::Month::try_from(m).unwrap();
        let first = time::Date::from_calendar_date(y, month, 1).unwrap();
        let midnight = first.midnight().assume_utc();
        push("LONG", midnight, i);
        push("LONG", midnight - time::Duration::minutes(1), i + 1);
        for day in [1u8, 15, 28] {
            let at = datetime!(2025-01-01 09:00 +7)
                .replace_date(first.replace_day(day).unwrap())
                .to_offset(time::UtcOffset::UTC);
            for k in 0..10 {
                i += 3;
                push("LONG", at + time::Duration::minutes(k), i);
                push("OTHER", at + time::Duration::minutes(k), i + 1);
            }
        }
    }
    out.sort_by(|a, b| (&a.symbol, a.start).cmp(&(&b.symbol, b.start)));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_long_range_read_over_several_connections_is_every_bar_in_order_within_limits()
 {
    let Some(url) = postgres_url().await else {
        return;
    };
    let app = spawn_with(&[("HISTORICAL__DATABASE__URL", &url)]).await;
    let bars = months_of_bars();
    let mut tx = app.app.db.begin().await.unwrap();
    upsert_minute_bars(&mut tx, &bars, OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let long: Vec<Bar> = bars
        .iter()
        .filter(|b| b.symbol == "LONG")
        .cloned()
        .collect();
    let between = |from: OffsetDateTime, to: OffsetDateTime| -> Vec<Bar> {
        long.iter()
            .filter(|b| b.start >= from && b.start < to)
            .cloned()
            .collect()
    };
    // The service's pool, and a pool of one connection (the parts then wait their turn).
    let one = common::store::Db::connect(&url, 1, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    for db in [app.app.db.clone(), one] {
        let store = historical::store::Store::new(db);
        let ranges = [
            // Every month, bounds on month starts.
            (
                datetime!(2024-12-01 00:00 UTC),
                datetime!(2026-03-01 00:00 UTC),
            ),
            // Mid-month bounds in Vietnam time, ending inside a day's bars.
            (
                datetime!(2025-01-15 09:05 +7),
                datetime!(2026-02-15 09:03 +7),
            ),
            // A bound in a negative offset whose local month is not its UTC month.
            (
                datetime!(2025-02-28 22:00 -5),
                datetime!(2025-06-01 00:00 UTC),
            ),
            // Within one month; across one month start.
            (
                datetime!(2025-03-02 00:00 UTC),
                datetime!(2025-03-30 00:00 UTC),
            ),
            (
                datetime!(2025-03-31 23:59 UTC),
                datetime!(2025-04-01 00:01 UTC),
            ),
        ];
        for (from, to) in ranges {
            let expected = between(from, to);
            assert!(!expected.is_empty());
            let read = store.minute_bars("LONG", from, to, i64::MAX).await.unwrap();
            assert_eq!(read, expected, "{from} .. {to}");
            // Limits inside the first month, across the parts' boundaries, at and past the end.
            let n = expected.len();
            for limit in [1, 2, 5, 31, 32, 33, n / 3, n / 2 + 1, n - 1, n, n + 10] {
                let read = store
                    .minute_bars("LONG", from, to, limit as i64)
                    .await
                    .unwrap();
                assert_eq!(
                    read,
                    expected[..limit.min(n)],
                    "{from} .. {to} limit {limit}"
                );
            }
        }
        assert!(
            store
                .minute_bars(
                    "LONG",
                    datetime!(2027-01-01 00:00 UTC),
                    datetime!(2028-01-01 00:00 UTC),
                    i64::MAX
                )
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .minute_bars(
                    "NONE",
                    datetime!(2025-01-01 00:00 UTC),
                    datetime!(2026-01-01 00:00 UTC),
                    i64::MAX
                )
                .await
                .unwrap()
                .is_empty()
        );

        // The resampled resolutions of the service, from the same minutes.
        let calendar = std::sync::Arc::new(market::TradingCalendar::embedded().unwrap());
        let queries = historical::service::Queries::new(
            store.clone(),
            calendar.clone(),
            historical::settings::QuerySettings {
                max_intraday_days: 500,
                max_daily_days: 500,
                max_symbols: 1,
            },
        );
        let (from, to) = (
            datetime!(2025-01-01 00:00 +7),
            datetime!(2026-03-01 00:00 +7),
        );
        let minutes = between(from, to);
        let shape =
            historical::domain::DayShape::hose(&calendar, historical::domain::vn_date(from));
        for resolution in ["1m", "5m", "15m", "30m", "1h", "1D"] {
            let q = historical::service::BarsQuery {
                symbol: "LONG".into(),
                resolution: resolution.parse().unwrap(),
                from,
                to,
            };
            let got = queries.bars(&q).await.unwrap();
            let want = historical::domain::resample(&minutes, q.resolution, &shape);
            assert!(!got.is_empty());
            assert_eq!(got, want, "{resolution}");
        }
    }
}
