//! The market through the fleet: `qts up`'s simulator synced by master data and streamed
//! through ingestion onto the bus (embedded and Kafka), recorded to day files, and a recorded day
//! replayed into fresh fleets twice to the same bytes.

use std::time::Duration;

use common::bus::SharedBus;
use proto::market::v1 as pb;
use qts::fleet::{Market, SimOptions};
use qts::observability::Plan;

use crate::helpers::{TestFleet, http, options, server, small_market, spawn_fleet_with};

const WAIT: Duration = Duration::from_secs(90);

/// A small simulated market trading from 10:00, 120 times faster than real time.
fn sim_config() -> fcsim::SimConfig {
    small_market(120.0)
}

/// The ingestion service's status.
async fn status(fleet: &TestFleet) -> serde_json::Value {
    let ingestion = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "ingestion")
        .unwrap();
    http()
        .get(format!(
            "http://{}/api/ingestion/v1/status",
            ingestion.addrs.http
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn total(status: &serde_json::Value, section: &str) -> u64 {
    status[section]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_u64().unwrap())
        .sum()
}

fn count(status: &serde_json::Value, section: &str, name: &str) -> u64 {
    status[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map_or(0, |c| c["value"].as_u64().unwrap())
}

/// Waits until ingestion has published `n` trades.
async fn await_trades(fleet: &TestFleet, n: u64) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = status(fleet).await;
        if count(&s, "published", "trade") >= n {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "no trades: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every payload on `topic`, in order per partition (partition by partition), read until the
/// topic has been quiet for a second.
async fn payloads(bus: &SharedBus, topic: &str) -> Vec<(i32, Vec<u8>)> {
    let mut sub = bus
        .subscribe(&format!("test.{}", uuid::Uuid::now_v7()), &[topic])
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(d) = sub.poll(Duration::from_secs(1)).await.unwrap() {
        out.push((d.partition, d.envelope.payload.to_vec()));
    }
    out.sort_by_key(|(p, _)| *p);
    out
}

/// Where a service of the fleet serves HTTP.
fn http_addr(fleet: &TestFleet, name: &str) -> std::net::SocketAddr {
    fleet
        .services
        .iter()
        .find(|s| s.spec.name == name)
        .unwrap()
        .addrs
        .http
}

/// The fleet's OMS trades the simulator's demo account: a market-to-limit buy of a HOSE stock
/// is placed, filled and its fill recorded.
/// Buys 100 of a security and sees it filled; the security.
async fn trade_through_the_oms(fleet: &TestFleet) -> String {
    let addr = |name: &str| http_addr(fleet, name);
    let (oms, md) = (addr("oms"), addr("master-data"));
    let get = |url: String| async move {
        http()
            .get(url)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = get(format!("http://{oms}/api/oms/v1/status")).await;
        if status["accepting"] == true {
            assert_eq!(status["broker"], "v2", "{status}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "OMS not accepting: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = get(format!(
        "http://{md}/api/master-data/v1/securities?exchange=HOSE&kind=stock&limit=1"
    ))
    .await;
    let symbol = page["securities"][0]["symbol"].as_str().unwrap().to_owned();
    // The OMS fails closed while the risk service is still catching up with the bus (on a
    // loaded machine, up to a minute after the start): wait for its verdicts first.
    loop {
        let r = http()
            .post(format!("http://{}/api/risk/v1/check", addr("risk")))
            .json(&serde_json::json!({
                "client_id": "e2e-probe", "account": fcsim::config::DEMO_CASH_ACCOUNT,
                "symbol": symbol, "side": "buy", "order_type": "MTL", "quantity": 100,
                "dry_run": true,
            }))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "risk gives no verdict: {}",
            r.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let placed: serde_json::Value = http()
        .post(format!("http://{oms}/api/oms/v1/orders"))
        .json(&serde_json::json!({
            "client_id": "e2e-1", "account": fcsim::config::DEMO_CASH_ACCOUNT,
            "symbol": symbol, "side": "buy", "order_type": "MTL", "quantity": 100,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = placed["id"].as_str().unwrap_or_else(|| panic!("{placed}"));
    loop {
        let order = get(format!("http://{oms}/api/oms/v1/orders/{id}")).await;
        if order["status"] == "filled" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not filled: {order}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Paper trading: the decision engine's strategies are on.
    let strategies = get(format!(
        "http://{}/api/decision/v1/strategies",
        addr("decision")
    ))
    .await;
    assert!(
        strategies
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["enabled"] == true),
        "{strategies}"
    );
    let fills = get(format!("http://{oms}/api/oms/v1/fills?order_id={id}")).await;
    let filled: u64 = fills
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(filled, 100, "{fills}");
    symbol
}

/// A risk officer activates a rule through the rule service's API: the next order is judged by
/// it, through the OMS, with no restart, and the refusal is in the rule service's audit;
/// retired, the rule lets the same order through again.
async fn a_rule_change_judges_the_next_order(fleet: &TestFleet, symbol: &str) {
    let (rule, risk, oms) = (
        http_addr(fleet, "rule"),
        http_addr(fleet, "risk"),
        http_addr(fleet, "oms"),
    );
    let post = |url: String, body: serde_json::Value| async move {
        let r = http().post(url).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
        )
    };
    let doc = serde_json::json!({
        "name": "e2e-compliance", "target": "order", "description": "house size limit",
        "rules": [{
            "id": "max_quantity",
            "condition": format!("order.symbol == '{symbol}' && order.quantity > 200"),
            "message": "at most 200 {{order.symbol}} per order, not {{order.quantity}}"
        }]
    });
    let (status, created) = post(format!("http://{rule}/api/rule/v1/sets"), doc).await;
    assert_eq!(status, 201, "{created}");
    for step in ["submit", "approve"] {
        let (status, v) = post(
            format!("http://{rule}/api/rule/v1/sets/e2e-compliance/versions/1/{step}"),
            serde_json::json!({}),
        )
        .await;
        assert_eq!(status, 200, "{step}: {v}");
    }
    let check = |quantity: u64| {
        post(
            format!("http://{risk}/api/risk/v1/check"),
            serde_json::json!({
                "client_id": "e2e-rule-probe", "account": fcsim::config::DEMO_CASH_ACCOUNT,
                "symbol": symbol, "side": "buy", "order_type": "MTL", "quantity": quantity,
                "dry_run": true,
            }),
        )
    };
    // The risk service follows rule.set.v1: the change applies within moments.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, v) = check(300).await;
        if v["accepted"] == false {
            assert_eq!(v["rejections"][0]["rule"], "rule_set", "{v}");
            assert_eq!(
                v["rejections"][0]["message"],
                format!("e2e-compliance/max_quantity: at most 200 {symbol} per order, not 300")
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rule never applied: {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(check(100).await.1["accepted"], true);
    // The next order through the OMS is refused by it, and the refusal is audited.
    let (status, placed) = post(
        format!("http://{oms}/api/oms/v1/orders"),
        serde_json::json!({
            "client_id": "e2e-rule-1", "account": fcsim::config::DEMO_CASH_ACCOUNT,
            "symbol": symbol, "side": "buy", "order_type": "MTL", "quantity": 300,
        }),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["status"], "rejected", "{placed}");
    assert!(
        placed["reject_reason"]
            .as_str()
            .unwrap()
            .contains("e2e-compliance/max_quantity"),
        "{placed}"
    );
    loop {
        let audit: serde_json::Value = http()
            .get(format!(
                "http://{rule}/api/rule/v1/evaluations?set=e2e-compliance"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(e) = audit
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["subject"] == "e2e-rule-1")
        {
            assert_eq!(e["service"], "risk", "{e}");
            assert_eq!(e["owner"], fcsim::config::DEMO_CASH_ACCOUNT, "{e}");
            assert_eq!(e["inputs"]["order"]["quantity"], 300, "{e}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not audited: {audit}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Retired: the same order passes again.
    let (status, _) = post(
        format!("http://{rule}/api/rule/v1/sets/e2e-compliance/retire"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 204);
    loop {
        if check(300).await.1["accepted"] == true {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still refused after retirement"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `qts up`'s prediction service backfills the simulated VN30's daily bars through the
/// historical service, trains a model, and publishes its predictions during the session; the
/// decision engine's `prediction` strategy buys what they rank on top, through the OMS.
async fn a_strategy_trades_the_predictions(fleet: &TestFleet) {
    let (prediction, decision) = (http_addr(fleet, "prediction"), http_addr(fleet, "decision"));
    let deadline = tokio::time::Instant::now() + WAIT;
    let latest = loop {
        let r = http()
            .get(format!("http://{prediction}/api/prediction/v1/predictions"))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break r.json::<serde_json::Value>().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no predictions: {}",
            r.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let predictions = latest["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 30, "the VN30: {latest}");
    assert_eq!(latest["date"], "2025-06-09", "{latest}");
    let sent = loop {
        let decisions: serde_json::Value = http()
            .get(format!(
                "http://{decision}/api/decision/v1/decisions?strategy=prediction"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(d) = decisions
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["status"] == "sent")
        {
            break d.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no order from a prediction: {decisions}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(sent["side"], "buy", "{sent}");
    let signal = sent["signal_id"].as_str().unwrap();
    let long = predictions
        .iter()
        .find(|p| p["id"] == signal)
        .unwrap_or_else(|| panic!("{signal} is not a prediction: {latest}"));
    assert_eq!(long["name"], "prediction_long", "{long}");
    assert_eq!(long["symbol"], sent["symbol"]);
    // the llm service explains it from what the engine recorded and the order it placed
    let r = http()
        .post(format!(
            "http://{}/api/llm/v1/tasks/explain",
            http_addr(fleet, "llm")
        ))
        .json(&serde_json::json!({"decision_id": sent["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let why: serde_json::Value = r.json().await.unwrap();
    let sources: Vec<(&str, &str)> = why["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources[0],
        ("decision", sent["id"].as_str().unwrap()),
        "{why}"
    );
    assert_eq!(
        sources[1],
        ("order", sent["order_id"].as_str().unwrap()),
        "{why}"
    );
    let text = why["text"].as_str().unwrap();
    assert!(
        text.contains("strategy prediction decided to buy"),
        "{text}"
    );
    assert!(text.contains(sent["reason"].as_str().unwrap()), "{text}");
    assert!(text.contains("It was sent to the OMS"), "{text}");
}

fn simulated(dir: &std::path::Path) -> qts::fleet::Options {
    let mut o = options(dir);
    // The small market's 30 days of history: a model trained on 12 dates, tested on 5-date
    // blocks.
    for (key, value) in [
        ("PREDICTION__PREDICTION__HISTORY_DAYS", "60"),
        ("PREDICTION__RECIPE__MIN_TRAIN_DATES", "12"),
        ("PREDICTION__RECIPE__TEST_DATES", "5"),
    ] {
        o.env.insert(key.into(), value.into());
    }
    o.market = Market::Simulator(Box::new(SimOptions::new(sim_config())));
    o
}

/// The emotion service collects the simulator's news feed by itself (`qts up` points it there):
/// every item is scored, and sentiment series of tickers and of the market are on the bus.
async fn the_simulated_news_is_scored(fleet: &TestFleet) {
    let emotion = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "emotion")
        .unwrap();
    let url = |path: &str| format!("http://{}/api/emotion/v1{path}", emotion.addrs.http);
    let deadline = tokio::time::Instant::now() + WAIT;
    let status = loop {
        let s: serde_json::Value = http()
            .get(url("/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["sources"][0]["new"].as_u64() > Some(0) {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no news collected: {s}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let source = &status["sources"][0];
    assert!(
        source["feed"]
            .as_str()
            .unwrap()
            .ends_with("/news/rss?limit=200"),
        "{status}"
    );
    assert_eq!(source["rejected"], 0, "{status}");
    let items: serde_json::Value = http()
        .get(url("/items?limit=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = items.as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert!(
            ["negative", "neutral", "positive"]
                .contains(&item["sentiment"]["label"].as_str().unwrap()),
            "{item}"
        );
    }
    let languages: std::collections::BTreeSet<&str> =
        items.iter().map(|i| i["lang"].as_str().unwrap()).collect();
    assert_eq!(languages.into_iter().collect::<Vec<_>>(), ["en", "vi"]);
    let points = payloads(&fleet.bus, "sentiment.series.v1").await;
    let subjects: std::collections::BTreeSet<String> = points
        .iter()
        .map(|(_, bytes)| {
            <proto::emotion::v1::SentimentPoint as prost::Message>::decode(bytes.as_slice())
                .unwrap()
                .subject
        })
        .collect();
    assert!(
        subjects.contains("MARKET") && subjects.len() > 1,
        "{subjects:?}"
    );
}

/// A trader asks the llm service about a symbol in the news and gets an answer citing the
/// news it read and the market data — offline, with no model installed.
async fn the_llm_answers_about_a_symbol_with_sources(fleet: &TestFleet, bought: &str) {
    let find = |name: &str| fleet.services.iter().find(|s| s.spec.name == name).unwrap();
    let (emotion, llm) = (find("emotion"), find("llm"));
    let items: serde_json::Value = http()
        .get(format!(
            "http://{}/api/emotion/v1/items?limit=50",
            emotion.addrs.http
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let symbol = items
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| i["symbols"][0].as_str())
        .expect("an item about a symbol")
        .to_owned();
    let r = http()
        .post(format!("http://{}/api/llm/v1/tasks/ask", llm.addrs.http))
        .json(&serde_json::json!({"question": format!("What is happening with {symbol}?")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["symbols"], serde_json::json!([symbol]), "{answer}");
    let kinds: Vec<&str> = answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"market") && kinds.contains(&"news"),
        "{answer}"
    );
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{symbol} (")) && text.contains("[1]"),
        "{text}"
    );
    assert!(!text.contains("Not available now"), "{text}");
    // the asker's own holding, read from the OMS
    let r = http()
        .post(format!("http://{}/api/llm/v1/tasks/ask", llm.addrs.http))
        .json(&serde_json::json!({
            "question": format!("How many {bought} shares do I hold?"),
            "account": fcsim::config::DEMO_CASH_ACCOUNT,
        }))
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value = r.json().await.unwrap();
    let portfolio = answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "portfolio")
        .unwrap_or_else(|| panic!("no portfolio source: {answer}"));
    assert_eq!(portfolio["id"], fcsim::config::DEMO_CASH_ACCOUNT);
    let text = answer["text"].as_str().unwrap();
    assert!(text.contains(&format!("You hold 100 {bought} (")), "{text}");
    // a company named in Vietnamese is linked to its ticker through master data
    let r = http()
        .post(format!("http://{}/api/llm/v1/tasks/ask", llm.addrs.http))
        .json(&serde_json::json!({"question": "Cổ phiếu Hòa Phát hôm nay thế nào?"}))
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["symbols"], serde_json::json!(["HPG"]), "{answer}");
    assert_eq!(answer["lang"], "vi");
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains("HPG (Công ty Cổ phần Tập đoàn Hòa Phát, HOSE): giá khớp"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_simulated_day_replays_into_fresh_fleets_to_the_same_bytes() {
    // 1. qts up with its simulator, recording the feed.
    let dir = tempfile::tempdir().unwrap();
    let recording = tempfile::tempdir().unwrap();
    let mut live_options = simulated(dir.path());
    // `qts up --observability`: a real Prometheus and Alertmanager on the live fleet.
    let plan = crate::observability::plan(dir.path());
    for (key, value) in plan.iter().flat_map(Plan::env) {
        live_options.env.insert(key, value);
    }
    let secret = live_options
        .env
        .get("NOTIFICATION__ALERTMANAGER__SECRET")
        .cloned();
    let live = spawn_fleet_with(dir, &live_options).await;
    let stack = match plan {
        Some(plan) => Some(plan.start(&live.services, secret.as_deref()).await.unwrap()),
        None => None,
    };
    let stop_recording = common::shutdown::CancellationToken::new();
    let recorder = tokio::spawn(ingestion::record::record_bus(
        live.bus.clone(),
        recording.path().to_owned(),
        Duration::from_millis(200),
        stop_recording.clone(),
    ));
    let s = await_trades(&live, 300).await;
    assert_eq!(s["state"], "connected", "{s}");
    assert_eq!(s["source"], "fastconnect-v2");
    let bought = trade_through_the_oms(&live).await;
    a_rule_change_judges_the_next_order(&live, &bought).await;
    a_strategy_trades_the_predictions(&live).await;
    the_simulated_news_is_scored(&live).await;
    the_llm_answers_about_a_symbol_with_sources(&live, &bought).await;
    if let Some(stack) = &stack {
        crate::observability::every_dashboard_panel_shows_data(&live, stack).await;
    }
    if let Some(stack) = stack {
        stack.stop().await;
    }
    stop_recording.cancel();
    recorder.await.unwrap().unwrap();
    live.stop().await;
    let files: Vec<_> = std::fs::read_dir(recording.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one trading day: {files:?}");
    assert!(files[0].ends_with("2025-06-10.qfeed.gz"));

    // 2. The day replayed as fast as possible into two fresh fleets.
    let mut runs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let replay_options = options(dir.path());
        let fleet = spawn_fleet_with(dir, &replay_options).await;
        let token = common::shutdown::CancellationToken::new();
        let stats = ingestion::record::replay(&files, &fleet.bus, None, &token)
            .await
            .unwrap();
        assert!(stats.securities >= 50, "{stats:?}");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let s = status(&fleet).await;
            let handled = total(&s, "published") + total(&s, "rejected") + total(&s, "duplicates");
            if handled >= stats.events {
                assert_eq!(handled, stats.events, "{s}");
                assert_eq!(total(&s, "rejected"), 0, "{s}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "replay not normalised: {s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let trades = payloads(&fleet.bus, "market.trade.v1").await;
        let quotes = payloads(&fleet.bus, "market.quote.v1").await;
        let mut symbols: Vec<String> = trades
            .iter()
            .map(|(_, bytes)| {
                <pb::Trade as prost::Message>::decode(bytes.as_slice())
                    .unwrap()
                    .symbol
            })
            .collect();
        symbols.sort();
        symbols.dedup();
        let bars = stable_bars(&fleet, &symbols).await;
        // The TA service turned the bars into indicator snapshots on the bus.
        let ta = fleet
            .services
            .iter()
            .find(|s| s.spec.name == "ta")
            .unwrap()
            .addrs
            .http;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let latest: serde_json::Value = http()
                .get(format!("http://{ta}/api/ta/v1/latest/{}", symbols[0]))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if latest
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s["timeframe"] == "1m"))
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no TA snapshot of {}: {latest}",
                symbols[0]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(!payloads(&fleet.bus, "ta.indicator.v1").await.is_empty());
        fleet.stop().await;
        runs.push((trades, quotes, bars));
    }
    assert!(runs[0].0.len() >= 300, "{} trades", runs[0].0.len());
    assert!(runs[0].2.lines().count() > 50, "bars:\n{}", runs[0].2);
    assert!(
        runs[0].0 == runs[1].0,
        "two replays of one day differ in trades"
    );
    assert!(
        runs[0].1 == runs[1].1,
        "two replays of one day differ in quotes"
    );
    assert_eq!(
        runs[0].2, runs[1].2,
        "two replays of one day differ in bars"
    );
}

/// Historical's one-minute bars of `symbols` on the day, as CSV, once two reads half a
/// second apart agree (every bar closed and stored).
async fn stable_bars(fleet: &TestFleet, symbols: &[String]) -> String {
    let historical = fleet
        .services
        .iter()
        .find(|s| s.spec.name == "historical")
        .unwrap()
        .addrs
        .http;
    let read = || async {
        let mut all = String::new();
        for symbol in symbols {
            let csv = http()
                .get(format!(
                    "http://{historical}/api/historical/v1/bars?symbol={symbol}&from=2025-06-10&to=2025-06-10&format=csv"
                ))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            all.push_str(&csv);
        }
        all
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = read().await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = read().await;
        if now == last && now.lines().count() > symbols.len() {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "bars never settled");
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_market_flows_through_ingestion_on_kafka() {
    let Some(brokers) = server("TEST_KAFKA_BROKERS") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut options = simulated(dir.path());
    options.overrides.extend([
        ("bus.kind".to_owned(), "kafka".to_owned()),
        ("bus.kafka.brokers".to_owned(), brokers),
        ("bus.kafka.session_timeout_ms".to_owned(), "6000".to_owned()),
        (
            "bus.kafka.namespace".to_owned(),
            format!("e2e-{}", uuid::Uuid::now_v7().simple()),
        ),
    ]);
    let fleet = spawn_fleet_with(dir, &options).await;
    assert_eq!(fleet.bus.kind(), "kafka");
    let s = await_trades(&fleet, 100).await;
    assert_eq!(s["state"], "connected", "{s}");
    let mut sub = fleet
        .bus
        .subscribe("test.trades", &["market.trade.v1"])
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut trades = Vec::new();
    while trades.len() < 100 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} trades",
            trades.len()
        );
        if let Some(d) = sub.poll(Duration::from_millis(500)).await.unwrap() {
            trades.push(d.envelope.decode::<pb::Trade>().unwrap());
        }
    }
    assert!(trades.iter().all(|t| t.security.is_some() && t.price > 0));
    fleet.stop().await;
}
