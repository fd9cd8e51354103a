//! Live bars: trades in, closed one-minute bars stored and published; duplicates dropped; a
//! restart mid-minute loses and duplicates nothing.

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{MARKET_BAR, SYSTEM_DEADLETTER};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::helpers::{
    TestApp, clock_env, dir_value, eventually, pairs, postgres_url, publish, spawn_with, trade,
};

const DAY: &str = "from=2025-06-10&to=2025-06-10";

/// A clock showing 09:00 of the test day, so the market clock never closes a bar during a test
/// (grace of a day): only later trades close bars.
fn env_no_clock_close(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = clock_env("2025-06-10T09:00:00+07:00", 1.0);
    env.push(("HISTORICAL__BARS__GRACE_MS".into(), "86400000".into()));
    env.extend(
        extra
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
    );
    env
}

fn at(minute: i64, second: i64) -> OffsetDateTime {
    datetime!(2025-06-10 09:00 +7)
        + time::Duration::minutes(minute)
        + time::Duration::seconds(second)
}

async fn bars_of(app: &TestApp, symbol: &str) -> Vec<serde_json::Value> {
    app.bars(&format!("symbol={symbol}&{DAY}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_become_bars_stored_and_published_and_duplicates_are_dropped() {
    let env = env_no_clock_close(&[]);
    let app = spawn_with(&pairs(&env)).await;
    let mut bars_sub = app
        .app
        .bus
        .subscribe("test.bars", &[MARKET_BAR.name.as_ref()])
        .await
        .unwrap();
    let first = trade("SSI", at(0, 5), 25_000, 100, 100);
    let trades = vec![
        first.clone(),
        trade("SSI", at(0, 20), 25_100, 200, 300),
        // A redelivery of an earlier trade (same cumulative volume): dropped.
        trade("SSI", at(0, 20), 25_100, 200, 300),
        trade("SSI", at(0, 40), 24_900, 300, 600),
        trade("SSI", at(1, 10), 25_050, 400, 1_000),
        // The same envelope again (at-least-once bus): dropped.
        first,
        trade("SSI", at(2, 0), 25_000, 100, 1_100),
    ];
    publish(&app.app.bus, &trades).await;
    let bars = eventually(20, "two closed bars", || async {
        let b = bars_of(&app, "SSI").await;
        (b.len() == 2).then_some(b)
    })
    .await;
    assert_eq!(bars[0]["start"], "2025-06-10T02:00:00Z");
    assert_eq!(
        (
            bars[0]["open"].as_i64(),
            bars[0]["high"].as_i64(),
            bars[0]["low"].as_i64(),
            bars[0]["close"].as_i64()
        ),
        (Some(25_000), Some(25_100), Some(24_900), Some(24_900))
    );
    assert_eq!(bars[0]["volume"], 600);
    assert_eq!(bars[0]["trades"], 3);
    assert_eq!(bars[1]["start"], "2025-06-10T02:01:00Z");
    assert_eq!(bars[1]["volume"], 400);

    let mut published = Vec::new();
    while published.len() < 2 {
        let d = tokio::time::timeout(
            Duration::from_secs(10),
            bars_sub.poll(Duration::from_secs(1)),
        )
        .await
        .expect("bars published")
        .unwrap();
        if let Some(d) = d {
            let bar: proto::market::v1::Bar = d.envelope.decode().unwrap();
            published.push(bar);
        }
    }
    assert_eq!(published[0].symbol, "SSI");
    assert_eq!(published[0].seconds, 60);
    assert_eq!((published[0].volume, published[0].trades), (600, 3));
    assert_eq!(published[1].volume, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_market_clock_closes_a_quiet_bar_after_the_grace() {
    // A clock at 09:00:30 running 600 times faster: the 09:00 bar ends 30 market seconds later,
    // plus a 5 s grace: closed after about 60 wall milliseconds, with no later trade.
    let mut env = clock_env("2025-06-10T09:00:30+07:00", 600.0);
    env.push(("HISTORICAL__BARS__GRACE_MS".into(), "5000".into()));
    let app = spawn_with(&pairs(&env)).await;
    publish(&app.app.bus, &[trade("FPT", at(0, 10), 120_000, 100, 100)]).await;
    let bars = eventually(20, "the clock to close the bar", || async {
        let b = bars_of(&app, "FPT").await;
        (b.len() == 1).then_some(b)
    })
    .await;
    assert_eq!(bars[0]["volume"], 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_trade_is_merged_into_its_closed_bar_and_the_amended_bar_published() {
    // The clock closes the 09:00 bar (as above); then a later trade of that minute arrives.
    let mut env = clock_env("2025-06-10T09:00:30+07:00", 600.0);
    env.push(("HISTORICAL__BARS__GRACE_MS".into(), "5000".into()));
    let app = spawn_with(&pairs(&env)).await;
    let mut bars_sub = app
        .app
        .bus
        .subscribe("test.late", &[MARKET_BAR.name.as_ref()])
        .await
        .unwrap();
    publish(&app.app.bus, &[trade("FPT", at(0, 10), 120_000, 100, 100)]).await;
    eventually(20, "the clock to close the bar", || async {
        (bars_of(&app, "FPT").await.len() == 1).then_some(())
    })
    .await;
    publish(&app.app.bus, &[trade("FPT", at(0, 50), 121_000, 200, 300)]).await;
    let bars = eventually(20, "the late trade merged", || async {
        let b = bars_of(&app, "FPT").await;
        (b.len() == 1 && b[0]["volume"] == 300).then_some(b)
    })
    .await;
    assert_eq!(
        (
            bars[0]["open"].as_i64(),
            bars[0]["high"].as_i64(),
            bars[0]["close"].as_i64(),
            bars[0]["trades"].as_i64()
        ),
        (Some(120_000), Some(121_000), Some(121_000), Some(2))
    );
    // Published twice: as closed, then as amended; the latest is the bar.
    let mut published = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while published.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "{published:?}");
        if let Some(d) = bars_sub.poll(Duration::from_millis(200)).await.unwrap() {
            published.push(d.envelope.decode::<proto::market::v1::Bar>().unwrap());
        }
    }
    assert_eq!((published[0].volume, published[1].volume), (100, 300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_trade_goes_to_the_dead_letter_topic_with_the_reason() {
    let env = env_no_clock_close(&[]);
    let app = spawn_with(&pairs(&env)).await;
    let mut dead = app
        .app
        .bus
        .subscribe("test.dead", &[SYSTEM_DEADLETTER.name.as_ref()])
        .await
        .unwrap();
    publish(&app.app.bus, &[trade("VNM", at(0, 1), 0, 100, 100)]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let letter = loop {
        assert!(tokio::time::Instant::now() < deadline, "no dead letter");
        let Some(d) = dead.poll(Duration::from_millis(200)).await.unwrap() else {
            continue;
        };
        let l: proto::events::v1::DeadLetter = d.envelope.decode().unwrap();
        if l.consumer == "historical.bars" {
            break l;
        }
    };
    assert_eq!(letter.reason, "rejected");
    assert!(letter.error.contains("price 0"), "{}", letter.error);
    assert!(!letter.envelope.is_empty(), "the original trade is kept");
}

/// Three symbols, five minutes, three trades a minute, then one trade at 09:05 closing the
/// 09:04 bars. `XYZ` has no cumulative volume (de-duplicated by the inbox).
fn day_of_trades() -> Vec<Envelope> {
    let mut out = Vec::new();
    for minute in 0..5 {
        for (k, second) in [5, 25, 45].into_iter().enumerate() {
            for (j, symbol) in ["AAA", "BBB", "XYZ"].into_iter().enumerate() {
                let n = (minute * 3 + k as i64) as u64 + 1;
                let total = if symbol == "XYZ" { 0 } else { n * 100 };
                let price = 10_000 + 50 * ((minute * 7 + k as i64 * 3 + j as i64) % 11);
                out.push(trade(symbol, at(minute, second), price, 100, total));
            }
        }
    }
    for symbol in ["AAA", "BBB", "XYZ"] {
        let total = if symbol == "XYZ" { 0 } else { 1_600 };
        out.push(trade(symbol, at(5, 0), 10_000, 100, total));
    }
    out
}

async fn all_bars(app: &TestApp) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for s in ["AAA", "BBB", "XYZ"] {
        all.extend(bars_of(app, s).await);
    }
    all
}

async fn wait_all_bars(app: &TestApp) -> Vec<serde_json::Value> {
    eventually(30, "15 closed bars", || async {
        let b = all_bars(app).await;
        (b.len() == 15).then_some(b)
    })
    .await
}

async fn restart_loses_and_duplicates_nothing(database: Option<(String, String)>) {
    let trades = day_of_trades();
    // Uninterrupted.
    let dir_a = tempfile::tempdir().unwrap();
    let mut extra = vec![("HISTORICAL__DATA_DIR".to_owned(), dir_value(dir_a.path()))];
    if let Some((a, _)) = &database {
        extra.push(("HISTORICAL__DATABASE__URL".into(), a.clone()));
    }
    let env = env_no_clock_close(&pairs(&extra));
    let app = spawn_with(&pairs(&env)).await;
    publish(&app.app.bus, &trades).await;
    let expected = wait_all_bars(&app).await;
    app.app.stop().await.unwrap();

    // Stopped mid-minute (09:02:25), restarted on the same data, the first part redelivered.
    let dir_b = tempfile::tempdir().unwrap();
    let mut extra = vec![("HISTORICAL__DATA_DIR".to_owned(), dir_value(dir_b.path()))];
    if let Some((_, b)) = &database {
        extra.push(("HISTORICAL__DATABASE__URL".into(), b.clone()));
    }
    let env = env_no_clock_close(&pairs(&extra));
    let cut = trades
        .iter()
        .position(|e| {
            e.key == "AAA"
                && e.decode::<proto::market::v1::Trade>()
                    .unwrap()
                    .exchange_time
                    .unwrap()
                    .seconds
                    == at(2, 45).unix_timestamp()
        })
        .unwrap();
    let app = spawn_with(&pairs(&env)).await;
    publish(&app.app.bus, &trades[..cut]).await;
    // Wait until every published trade is applied: the 09:02 bars are open with two trades.
    let db = app.app.db.clone();
    eventually(20, "the first part applied", || async {
        let n: i64 = common::on_engine!(db.pool(), |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM hist_live_state WHERE trades = 2 AND bar_start = $1"
        )
        .bind(common::store::Timestamp::from(at(2, 0)))
        .fetch_one(p)
        .await)
        .unwrap();
        (n == 3).then_some(())
    })
    .await;
    app.app.stop().await.unwrap();

    let app = spawn_with(&pairs(&env)).await;
    publish(&app.app.bus, &trades[..cut]).await;
    publish(&app.app.bus, &trades[cut..]).await;
    let got = wait_all_bars(&app).await;
    assert_eq!(got, expected, "the interrupted run stored the same bars");
    // And nothing more arrives later (no duplicate bar for a redelivered minute).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(all_bars(&app).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_minute_loses_no_bar_and_duplicates_none_on_sqlite() {
    restart_loses_and_duplicates_nothing(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_minute_loses_no_bar_and_duplicates_none_on_postgres() {
    let Some(a) = postgres_url().await else {
        return;
    };
    let b = postgres_url().await.unwrap();
    restart_loses_and_duplicates_nothing(Some((a, b))).await;
}
