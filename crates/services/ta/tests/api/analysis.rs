//! The analysis against a real historical service: a symbol first seen live is warmed up from
//! its stored bars (so a 200-bar average is defined on the first live bar), snapshots go to
//! `ta.indicator.v1`, signals are stored and listed, and computations over stored bars give the
//! library's numbers; bad requests get clear errors.

use std::time::Duration;

use common::bus::Envelope;
use common::service::testing::{Spawned, spawn};
use historical::domain::{Bar, DayShape};
use historical::store::{OnConflict, upsert_minute_bars};
use time::macros::date;

use crate::helpers::TestApp;

const WAIT: Duration = Duration::from_secs(30);

/// FPT's minutes of 2025-06-09 and of 2025-06-10 until 10:00, a zig-zag of closes.
fn history() -> Vec<Bar> {
    let cal = market::TradingCalendar::embedded().unwrap();
    let mut minutes = Vec::new();
    for day in [date!(2025 - 06 - 09), date!(2025 - 06 - 10)] {
        minutes.extend(DayShape::hose(&cal, day).continuous_minutes(day));
    }
    let cutoff = minutes
        .iter()
        .position(|t| *t == time::macros::datetime!(2025-06-10 03:00 UTC))
        .unwrap();
    minutes.truncate(cutoff);
    minutes
        .into_iter()
        .enumerate()
        .map(|(i, start)| {
            let close = 100_000 + (i as i64 % 17) * 100 + (i as i64 / 10) * 50;
            Bar {
                symbol: "FPT".into(),
                start,
                seconds: 60,
                open: close - 100,
                high: close + 200,
                low: close - 200,
                close,
                volume: 1_000 + i as i64,
                trades: 4,
            }
        })
        .collect()
}

fn proto_bar(b: &Bar) -> proto::market::v1::Bar {
    proto::market::v1::Bar {
        symbol: b.symbol.clone(),
        start: Some(prost_types::Timestamp {
            seconds: b.start.unix_timestamp(),
            nanos: 0,
        }),
        seconds: 60,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume as u64,
        trades: b.trades as u32,
    }
}

async fn historical_with(bars: &[Bar]) -> Spawned {
    let h = spawn::<historical::App>(&[]).await.unwrap();
    let mut tx = h.db.begin().await.unwrap();
    upsert_minute_bars(&mut tx, bars, OnConflict::Update)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    h
}

async fn ta_with_peer(historical: &Spawned) -> TestApp {
    let url = historical.grpc_url();
    TestApp::spawn(&[("TA__PEERS__HISTORICAL", url.as_str())]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbol_first_seen_live_starts_warm_and_its_snapshot_goes_to_the_bus() {
    let mut bars = history();
    let live = bars.pop().unwrap();
    let historical = historical_with(&bars).await;
    let ta = ta_with_peer(&historical).await;
    let mut snapshots = ta
        .app
        .bus
        .subscribe("test.snapshots", &["ta.indicator.v1"])
        .await
        .unwrap();
    ta.app
        .bus
        .publish(
            "market.bar.v1",
            &Envelope::new("historical", "FPT", &proto_bar(&live)),
        )
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + WAIT;
    let snapshot = loop {
        let d = snapshots.poll(Duration::from_millis(500)).await.unwrap();
        if let Some(d) = d {
            let s: proto::ta::v1::IndicatorSnapshot = d.envelope.decode().unwrap();
            if s.timeframe == "1m" {
                break s;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no 1m snapshot");
    };
    assert_eq!(snapshot.bar.as_ref().unwrap().close, live.close);
    let value = |id: &str| snapshot.values.iter().find(|v| v.id == id).map(|v| v.value);
    let mut closes: Vec<f64> = bars.iter().map(|b| b.close as f64).collect();
    closes.push(live.close as f64);
    let expected: f64 = closes[closes.len() - 200..].iter().sum::<f64>() / 200.0;
    let got = value("sma200").expect("sma200 defined on the first live bar: warmed up");
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    assert!(value("rsi14").is_some() && value("macd.macdsignal").is_some());

    let latest = ta.get_json("/api/ta/v1/latest/fpt", 200).await;
    let one_minute = latest
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["timeframe"] == "1m")
        .expect("a 1m snapshot");
    assert_eq!(one_minute["bar_start"], "2025-06-10T02:59:00Z");
    assert!((one_minute["values"]["sma200"].as_f64().unwrap() - expected).abs() < 1e-6);
    let metrics = ta.metrics().await;
    assert!(
        metrics.contains("ta_warmups_total{result=\"ok\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computations_over_stored_bars_give_the_librarys_numbers() {
    let bars = history();
    let historical = historical_with(&bars).await;
    let ta = ta_with_peer(&historical).await;
    let body = serde_json::json!({
        "symbol": "FPT", "resolution": "1m", "from": "2025-06-09", "to": "2025-06-10",
        "function": "macd", "params": {"fastperiod": 5, "slowperiod": 13, "signalperiod": 4}
    });
    let got = ta.post_json("/api/ta/v1/compute", &body, 200).await;
    assert_eq!(got["function"], "MACD");
    assert_eq!(
        got["outputs"],
        serde_json::json!(["macd", "macdsignal", "macdhist"])
    );
    let points = got["points"].as_array().unwrap();
    assert_eq!(points.len(), bars.len());
    let closes: Vec<f64> = bars.iter().map(|b| b.close as f64).collect();
    let mut macd = indicators::build(
        "MACD",
        &[
            ("fastperiod", 5.0),
            ("slowperiod", 13.0),
            ("signalperiod", 4.0),
        ],
    )
    .unwrap();
    let want = macd.batch(&[&closes]).unwrap();
    let lookback = got["lookback"].as_u64().unwrap() as usize;
    assert_eq!(lookback, macd.lookback());
    assert!(
        points[lookback - 1]["values"][0].is_null(),
        "undefined in the lookback"
    );
    for (i, p) in points.iter().enumerate().skip(lookback) {
        for (k, series) in want.iter().enumerate() {
            let v = p["values"][k].as_f64().unwrap();
            assert!(
                (v - series[i]).abs() <= 1e-9 * series[i].abs().max(1.0),
                "bar {i} output {k}"
            );
        }
    }
    // An hour resolution reads resampled bars; patterns output ±100.
    let body = serde_json::json!({
        "symbol": "FPT", "resolution": "1h", "from": "2025-06-09", "to": "2025-06-10",
        "function": "CDLENGULFING"
    });
    let got = ta.post_json("/api/ta/v1/compute", &body, 200).await;
    assert!(!got["points"].as_array().unwrap().is_empty());

    // Clear refusals.
    for (body, needle) in [
        (
            serde_json::json!({"symbol": "FPT", "from": "2025-06-09", "to": "2025-06-10", "function": "NOPE"}),
            "NOPE",
        ),
        (
            serde_json::json!({"symbol": "FPT", "from": "2025-06-09", "to": "2025-06-10", "function": "RSI", "params": {"timeperiod": 0}}),
            "timeperiod",
        ),
        (
            serde_json::json!({"symbol": "FPT", "from": "2025-06-09", "to": "2025-06-10", "function": "RSI", "resolution": "2m"}),
            "2m",
        ),
        (
            serde_json::json!({"symbol": "FPT", "from": "2025-06-09", "to": "2025-06-10", "function": "MAVP"}),
            "periods",
        ),
        (
            serde_json::json!({"symbol": "FPT", "function": "RSI"}),
            "from",
        ),
    ] {
        let err = ta.post_json("/api/ta/v1/compute", &body, 400).await;
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
    }
    let err = ta.get_json("/api/ta/v1/signals?kind=magic", 400).await;
    assert!(err["message"].as_str().unwrap().contains("magic"), "{err}");
    let err = ta.get_json("/api/ta/v1/signals?limit=100000", 400).await;
    assert!(
        err["message"].as_str().unwrap().contains("at most"),
        "{err}"
    );

    // Over gRPC: the same computation.
    let mut client = proto::ta::v1::ta_service_client::TaServiceClient::connect(ta.app.grpc_url())
        .await
        .unwrap();
    let r = client
        .compute(proto::ta::v1::ComputeRequest {
            symbol: "FPT".into(),
            resolution: "1m".into(),
            from: "2025-06-09".into(),
            to: "2025-06-10".into(),
            function: "SMA".into(),
            params: [("timeperiod".to_owned(), 3.0)].into(),
        })
        .await
        .unwrap()
        .into_inner();
    let last = r.points.last().unwrap().values[0];
    let n = closes.len();
    assert!((last - (closes[n - 1] + closes[n - 2] + closes[n - 3]) / 3.0).abs() < 1e-9);
    let functions = client
        .list_functions(proto::ta::v1::ListFunctionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .functions;
    assert!(functions.iter().any(|f| f.name == "CDLMORNINGSTAR"));
    assert!(functions.len() >= 130, "{} functions", functions.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_historical_service_live_bars_still_build_and_signals_are_stored_once() {
    signals_are_stored_once(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_are_stored_once_on_postgresql() {
    let Some(admin) = common::service::testing::server("TEST_DATABASE_URL") else {
        return;
    };
    let url = common::service::testing::fresh_database(&admin, "qts_ta")
        .await
        .unwrap();
    signals_are_stored_once(&[("TA__DATABASE__URL", url.as_str())]).await;
}

async fn signals_are_stored_once(env: &[(&str, &str)]) {
    // A peer nobody listens on: warm-ups fail, the symbol starts cold.
    let mut env = env.to_vec();
    env.push(("TA__PEERS__HISTORICAL", "http://127.0.0.1:9"));
    let ta = TestApp::spawn(&env).await;
    let bars = history();
    // The closes rise, fall and rise again: the RSI leaves overbought and oversold.
    let mut batch = Vec::new();
    for (i, b) in bars.iter().take(120).enumerate() {
        let swing = if (i / 20) % 2 == 0 {
            i % 20
        } else {
            20 - i % 20
        } as i64;
        let close = 100_000 + swing * 500;
        let bar = Bar {
            open: close - 50,
            high: close + 60,
            low: close - 60,
            close,
            ..b.clone()
        };
        batch.push((
            "market.bar.v1",
            Envelope::new("historical", "FPT", &proto_bar(&bar)),
        ));
    }
    ta.app.bus.publish_batch(&batch).await.unwrap();
    // Redelivered: nothing new.
    ta.app.bus.publish_batch(&batch[100..]).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let signals = loop {
        // The latest values move before the bar's signals are stored: read them after, and
        // until both levels are in.
        let latest = ta.get_json("/api/ta/v1/latest/FPT", 200).await;
        let s = ta
            .get_json("/api/ta/v1/signals?symbol=FPT&kind=level", 200)
            .await;
        let done = latest
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["timeframe"] == "1m" && s["bar_start"] == "2025-06-09T04:14:00Z");
        let both = ["rsi14_left_overbought", "rsi14_left_oversold"]
            .iter()
            .all(|n| s.as_array().unwrap().iter().any(|x| x["name"] == *n));
        if done && both {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bars not applied: {latest}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let names: Vec<&str> = signals
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"rsi14_left_overbought"), "{names:?}");
    assert!(names.contains(&"rsi14_left_oversold"), "{names:?}");
    let ids: std::collections::HashSet<&str> = signals
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), names.len(), "no signal stored twice");
    let metrics = ta.metrics().await;
    assert!(
        metrics.contains("ta_warmups_total{result=\"error\"} 1"),
        "{metrics}"
    );
}
