//! Signals in, orders out: a strategy's decision on a TA signal (or a prediction) goes through
//! the real OMS to the simulator once, carries the strategy's id, and is recorded with its reason; a redelivered
//! signal orders nothing more; a disabled strategy decides nothing.

use std::time::Duration;

use common::bus::Envelope;
use common::bus::topics::{MARKET_TRADE, PREDICTION_SIGNAL, TA_INDICATOR, TA_SIGNAL};
use common::service::testing::{Spawned, spawn};
use market::{Exchange, InstrumentKind};
use serde_json::{Value, json};

use crate::helpers::put_json;
use time::format_description::well_known::Rfc3339;

/// The market clock of `sim` as `<PREFIX>__CLOCK__*` settings.
fn clock(prefix: &str, sim: &fcsim::Local) -> Vec<(String, String)> {
    vec![
        (
            format!("{prefix}__CLOCK__START"),
            sim.sim.now().format(&Rfc3339).unwrap(),
        ),
        (
            format!("{prefix}__CLOCK__ANCHOR"),
            time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap(),
        ),
        (format!("{prefix}__CLOCK__SPEED"), "1".into()),
    ]
}

async fn start(env: Vec<(String, String)>, oms: bool) -> Spawned {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if oms {
        spawn::<oms::App>(&pairs).await.unwrap()
    } else {
        spawn::<decision::App>(&pairs).await.unwrap()
    }
}

/// The OMS trading the simulator's demo cash account, without the risk service.
async fn spawn_oms(sim: &fcsim::Local) -> Spawned {
    let mut env = sim.v2_broker_env("OMS");
    env.push(("OMS__ORDERS__ACCOUNTS".into(), "0001001,".into()));
    env.push(("OMS__RISK__ENABLED".into(), "false".into()));
    env.extend(clock("OMS", sim));
    start(env, true).await
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_signal_becomes_one_order_through_the_oms_with_its_reason() {
    let sim = fcsim::Local::start(fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 10:00:00 +7),
        speed: 1.0,
        universe: fcsim::UniverseSize {
            hose: 20,
            hnx: 5,
            upcom: 5,
        },
        history_days: 10,
        ..fcsim::SimConfig::demo()
    })
    .await
    .unwrap();
    let oms = spawn_oms(&sim).await;
    wait_for("the OMS accepting", async || {
        get(oms.http_url("/api/oms/v1/status")).await["accepting"] == true
    })
    .await;
    let mut env = clock("DECISION", &sim);
    env.push(("DECISION__PEERS__OMS".into(), oms.grpc_url()));
    env.push(("DECISION__DECISION__ENABLE_ALL".into(), "true".into()));
    let decision = start(env, false).await;
    // One bus in a deployment: the OMS's order and fill events reach the decision service.
    let (from, to) = (oms.bus.clone(), decision.bus.clone());
    tokio::spawn(async move {
        let mut sub = from
            .subscribe("test.forward", &["oms.order.v1", "oms.fill.v1"])
            .await
            .unwrap();
        while let Ok(Some(d)) = sub.poll(Duration::from_secs(60)).await {
            to.publish(&d.topic, &d.envelope).await.unwrap();
        }
    });

    // A HOSE stock, its last trade at today's floor (a buy there rests), and a golden cross.
    let g = sim.sim.generator();
    let day = g
        .day_index(sim.sim.now().to_offset(market::calendar::VN_OFFSET).date())
        .unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    let floor = g.limits(i, day).unwrap().floor.units();
    let trade = proto::market::v1::Trade {
        symbol: x.symbol.clone(),
        price: floor,
        quantity: 100,
        ..Default::default()
    };
    let bus = decision.bus.clone();
    bus.publish(
        MARKET_TRADE.static_name(),
        &Envelope::new("test", &x.symbol, &trade),
    )
    .await
    .unwrap();
    let signal = |bar: i64| proto::ta::v1::Signal {
        id: format!("{}-1D-{bar}-golden_cross", x.symbol),
        symbol: x.symbol.clone(),
        timeframe: "1D".into(),
        kind: "crossover".into(),
        name: "golden_cross".into(),
        direction: 1,
        value: 1.0,
        detail: "sma50 crossed above sma200".into(),
        ..Default::default()
    };
    // The trade is read before the signal (another topic): wait until the strategy has a
    // price, by the decision being sent rather than rejected for want of one.
    let mut sent = Value::Null;
    wait_for("a sent decision", async || {
        bus.publish(
            TA_SIGNAL.static_name(),
            &Envelope::new("ta", &x.symbol, &signal(1)),
        )
        .await
        .unwrap();
        let list = get(decision.http_url("/api/decision/v1/decisions")).await;
        sent = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["status"] == "sent")
            .cloned()
            .unwrap_or(Value::Null);
        !sent.is_null()
    })
    .await;
    assert_eq!(sent["strategy"], "ma-cross", "{sent}");
    assert_eq!(sent["side"], "buy");
    // 5 % of 1,000,000,000 VND at the floor, in whole lots.
    let expected = (50_000_000 / floor) as u64 / 100 * 100;
    assert_eq!(sent["quantity"].as_u64(), Some(expected), "{sent}");
    assert!(
        sent["reason"].as_str().unwrap().contains("golden_cross"),
        "{sent}"
    );
    // one decision by id, over HTTP and gRPC; an unknown one is not found
    let id = sent["id"].as_str().unwrap();
    let one = get(decision.http_url(&format!("/api/decision/v1/decisions/{id}"))).await;
    assert_eq!(one, sent);
    let mut grpc = proto::decision::v1::decision_service_client::DecisionServiceClient::connect(
        decision.grpc_url(),
    )
    .await
    .unwrap();
    let d = grpc
        .get_decision(proto::decision::v1::GetDecisionRequest { id: id.into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.order_id, sent["order_id"].as_str().unwrap());
    let missing = grpc
        .get_decision(proto::decision::v1::GetDecisionRequest {
            id: "none:x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let order_id = sent["order_id"].as_str().unwrap();
    let order = get(oms.http_url(&format!("/api/oms/v1/orders/{order_id}"))).await;
    assert_eq!(order["strategy"], "ma-cross", "{order}");
    assert_eq!(
        order["client_id"],
        format!("ma-cross:{}-1D-1-golden_cross", x.symbol)
    );
    assert_eq!(order["price"], floor);

    // The OMS's "created" event tells the strategy its buy is open.
    wait_for("the open buy counted", async || {
        let list = get(decision.http_url("/api/decision/v1/strategies")).await;
        list.as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == "ma-cross" && s["open_buys"] == 1)
    })
    .await;
    // The same signal again (a redelivered bar) and a new cross while the buy is open: no
    // order. An oversold RSI signal after them (same symbol, same partition, read in order)
    // shows they were read: the RSI strategy (no open buy) decides on it.
    for s in [signal(1), signal(2)] {
        bus.publish(TA_SIGNAL.static_name(), &Envelope::new("ta", &x.symbol, &s))
            .await
            .unwrap();
    }
    let rsi = proto::ta::v1::Signal {
        id: format!("{}-15m-3-rsi14_left_oversold", x.symbol),
        timeframe: "15m".into(),
        kind: "level".into(),
        name: "rsi14_left_oversold".into(),
        ..signal(3)
    };
    bus.publish(
        TA_SIGNAL.static_name(),
        &Envelope::new("ta", &x.symbol, &rsi),
    )
    .await
    .unwrap();
    wait_for("the RSI decision", async || {
        let list = get(decision.http_url("/api/decision/v1/decisions")).await;
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["strategy"] == "rsi-reversion")
    })
    .await;
    let list = get(decision.http_url("/api/decision/v1/decisions?strategy=ma-cross")).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let orders = get(oms.http_url("/api/oms/v1/orders?symbol=")).await;
    let ma_orders = orders
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["strategy"] == "ma-cross")
        .count();
    assert_eq!(ma_orders, 1, "{orders}");

    // A fixed-size strategy on a symbol with no trade seen yet: its decision waits for a price
    // ("failed", tried again in order) and goes once the trade is in.
    let (j, y) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .filter(|(_, y)| y.exchange == Exchange::Hose && y.kind == InstrumentKind::Stock)
        .nth(1)
        .unwrap();
    let floor_y = g.limits(j, day).unwrap().floor.units();
    let oversold = proto::ta::v1::Signal {
        id: format!("{}-15m-9-rsi14_left_oversold", y.symbol),
        symbol: y.symbol.clone(),
        timeframe: "15m".into(),
        kind: "level".into(),
        name: "rsi14_left_oversold".into(),
        direction: 1,
        value: 31.0,
        detail: "rsi14 rose above 30".into(),
        ..Default::default()
    };
    bus.publish(
        TA_SIGNAL.static_name(),
        &Envelope::new("ta", &y.symbol, &oversold),
    )
    .await
    .unwrap();
    let of_y = |list: &Value, status: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["symbol"] == y.symbol.as_str() && d["status"] == status)
    };
    wait_for("a decision waiting for a price", async || {
        of_y(
            &get(decision.http_url("/api/decision/v1/decisions")).await,
            "failed",
        )
    })
    .await;
    let trade_y = proto::market::v1::Trade {
        symbol: y.symbol.clone(),
        price: floor_y,
        quantity: 100,
        ..Default::default()
    };
    bus.publish(
        MARKET_TRADE.static_name(),
        &Envelope::new("test", &y.symbol, &trade_y),
    )
    .await
    .unwrap();
    wait_for("the waiting decision sent", async || {
        of_y(
            &get(decision.http_url("/api/decision/v1/decisions")).await,
            "sent",
        )
    })
    .await;

    // Volatility-targeted sizing reads the ATR of the signal's symbol and timeframe from
    // ta.indicator.v1: 0.5% of 1,000,000,000 VND per ATR of 400 VND is 12,500 shares, within
    // the cap of 10% of the capital at the floor. The signal comes before the ATR (another
    // topic): the buy waits for it, as a decision waits for a price.
    let breakout = proto::ta::v1::Signal {
        id: format!("{}-1D-20-channel20_up", x.symbol),
        kind: "breakout".into(),
        name: "channel20_up".into(),
        detail: "close above the channel on 2x volume".into(),
        ..signal(20)
    };
    bus.publish(
        TA_SIGNAL.static_name(),
        &Envelope::new("ta", &x.symbol, &breakout),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let snapshot = proto::ta::v1::IndicatorSnapshot {
        symbol: x.symbol.clone(),
        timeframe: "1D".into(),
        bar: None,
        values: vec![proto::ta::v1::IndicatorValue {
            id: "atr14".into(),
            value: 400.0,
        }],
    };
    bus.publish(
        TA_INDICATOR.static_name(),
        &Envelope::new("ta", &x.symbol, &snapshot),
    )
    .await
    .unwrap();
    let mut sized = Value::Null;
    wait_for("the volatility-targeted decision", async || {
        let list =
            get(decision.http_url("/api/decision/v1/decisions?strategy=volume-breakout")).await;
        sized = list
            .as_array()
            .unwrap()
            .first()
            .cloned()
            .unwrap_or(Value::Null);
        !sized.is_null()
    })
    .await;
    let cap = (100_000_000 / floor) as u64 / 100 * 100;
    assert_eq!(
        sized["quantity"].as_u64(),
        Some(12_500u64.min(cap)),
        "{sized}"
    );
    assert!(
        sized["reason"].as_str().unwrap().contains("atr14 400.00"),
        "{sized}"
    );

    // A prediction (prediction.signal.v1): the `prediction` strategy buys what the model ranks
    // in its top share; a `prediction_hold` orders nothing.
    let prediction = |name: &str, direction: i32| proto::prediction::v1::Signal {
        id: format!("prediction-3-2025-06-09-{}-{name}", x.symbol),
        symbol: x.symbol.clone(),
        date: "2025-06-09".into(),
        model_version: 3,
        horizon: 1,
        score: 0.004 * f64::from(direction),
        percentile: if direction > 0 { 0.95 } else { 0.5 },
        name: name.into(),
        direction,
        detail: "model 3 predicts +0.400% over 1 day(s)".into(),
    };
    for p in [
        prediction("prediction_hold", 0),
        prediction("prediction_long", 1),
    ] {
        bus.publish(
            PREDICTION_SIGNAL.static_name(),
            &Envelope::new("prediction", &x.symbol, &p),
        )
        .await
        .unwrap();
    }
    let mut predicted = Value::Null;
    wait_for("the prediction strategy's decision", async || {
        let list = get(decision.http_url("/api/decision/v1/decisions?strategy=prediction")).await;
        predicted = list.clone();
        // Recorded as `sending` before the OMS answers.
        list.as_array()
            .unwrap()
            .first()
            .is_some_and(|d| d["status"] != "sending")
    })
    .await;
    let list = predicted.as_array().unwrap();
    assert_eq!(list.len(), 1, "{predicted}");
    assert_eq!(
        (&list[0]["side"], &list[0]["status"], &list[0]["signal_id"]),
        (
            &json!("buy"),
            &json!("sent"),
            &json!(format!(
                "prediction-3-2025-06-09-{}-prediction_long",
                x.symbol
            ))
        ),
        "{predicted}"
    );
    assert!(
        list[0]["reason"]
            .as_str()
            .unwrap()
            .contains("prediction_long"),
        "{predicted}"
    );

    // Its performance: one decision sent, nothing filled yet (the buy rests at the floor).
    let perf = get(decision.http_url("/api/decision/v1/strategies/ma-cross/performance")).await;
    assert_eq!(perf["decisions_sent"], 1, "{perf}");
    assert_eq!(perf["account"], "0001001", "{perf}");
    assert_eq!(
        (perf["positions"].as_u64(), perf["realised"].as_i64()),
        (Some(0), Some(0)),
        "{perf}"
    );

    // Switched off, the strategy decides nothing; the switch is listed.
    let r = put_json(
        decision.http_url("/api/decision/v1/strategies/ma-cross"),
        &json!({"enabled": false}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let strategies = get(decision.http_url("/api/decision/v1/strategies")).await;
    let ma = strategies
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ma-cross")
        .unwrap();
    assert_eq!(ma["enabled"], false);
    let r = put_json(
        decision.http_url("/api/decision/v1/strategies/nope"),
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(r.status(), 404);

    // Its parameters, set while it runs: listed at once; every bad one named.
    let params = decision.http_url("/api/decision/v1/strategies/ma-cross/params");
    let r = put_json(
        &params,
        &json!({"timeframes": ["1D"], "symbols": ["SSI"],
                      "sizing": {"kind": "fixed", "quantity": 200}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let set: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &set["timeframes"],
            &set["symbols"],
            &set["sizing"]["quantity"]
        ),
        (&json!(["1D"]), &json!(["SSI"]), &json!(200)),
        "{set}"
    );
    let r = put_json(
        &params,
        &json!({"timeframes": ["2h"], "symbols": ["ssi!"],
                      "sizing": {"kind": "fixed", "quantity": 0}}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("2h") && message.contains("ssi!") && message.contains("quantity"),
        "{e}"
    );
    let strategies = get(decision.http_url("/api/decision/v1/strategies")).await;
    let ma = strategies
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ma-cross")
        .unwrap();
    assert_eq!(
        ma["sizing"]["quantity"], 200,
        "the refused change left it: {ma}"
    );
}
