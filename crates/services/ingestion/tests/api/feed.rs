//! The feed end to end: the simulator's whole market through the service into the bus,
//! validated against master data, with rejects, snapshots, a dropped stream and bad input.

use std::collections::HashMap;
use std::time::Duration;

use common::bus::Envelope;
use proto::ingestion::v1 as api;
use proto::market::v1 as pb;

use crate::market::{
    Proxy, config, publish_master_data, read_until, spawn_ingestion, start_sim, symbols,
};

const WAIT: Duration = Duration::from_secs(60);

/// Cumulative volumes of each symbol's published trades rise strictly: nothing twice.
fn assert_no_duplicate_trades(trades: &[pb::Trade]) {
    let mut last: HashMap<&str, u64> = HashMap::new();
    for t in trades {
        if t.total_volume == 0 {
            continue;
        }
        let prev = last.insert(&t.symbol, t.total_volume).unwrap_or(0);
        assert!(
            t.total_volume > prev,
            "{}: cumulative volume {} after {prev}",
            t.symbol,
            t.total_volume
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_market_flows_validated_and_enriched_and_an_unlisted_symbol_is_rejected() {
    let sim = start_sim(config()).await;
    let all = symbols(&sim);
    let left_out = all[3].clone();
    let app = spawn_ingestion(&sim, &sim.data_url).await;
    let bus = app.app.bus.clone();
    let listed = publish_master_data(&bus, &sim, &left_out).await;
    assert_eq!(listed, all.len() - 1);

    let trades: Vec<pb::Trade> = read_until(&bus, "market.trade.v1", WAIT, |t: &[pb::Trade]| {
        t.len() >= 200
    })
    .await;
    for t in &trades {
        let s = t.security.as_ref().expect("enriched");
        assert!(!s.exchange.is_empty() && s.lot_size > 0, "{t:?}");
        assert_ne!(t.symbol, left_out);
        let time = ingestion::domain::to_time(t.exchange_time.unwrap());
        assert_eq!(
            market::TradingCalendar::local(time).0,
            time::macros::date!(2025 - 06 - 10)
        );
    }
    assert_no_duplicate_trades(&trades);

    // The unlisted symbol's messages are refused with the reason and the original message.
    let rejects: Vec<pb::FeedReject> = read_until(
        &bus,
        "market.rejected.v1",
        WAIT,
        |r: &[pb::FeedReject]| r.iter().any(|r| r.reason == "unknown_symbol"),
    )
    .await;
    let reject = rejects
        .iter()
        .find(|r| r.reason == "unknown_symbol")
        .unwrap();
    assert!(reject.detail.contains(&left_out), "{reject:?}");
    assert!(reject.event.is_some());
    assert!(
        rejects.iter().all(|r| r.reason == "unknown_symbol"),
        "the simulator sends nothing else wrong: {rejects:?}"
    );

    // Quotes and indexes flow too.
    read_until(&bus, "market.quote.v1", WAIT, |q: &[pb::Quote]| {
        !q.is_empty()
    })
    .await;
    read_until(&bus, "market.index.v1", WAIT, |i: &[pb::IndexTick]| {
        !i.is_empty()
    })
    .await;

    // The status counts it all.
    let status = app.status().await;
    assert_eq!(status["state"], "connected", "{status}");
    assert_eq!(status["securities"], listed as u64);
    assert_eq!(status["reference_day"], "2025-06-10");
    assert!(app.count("published", "trade").await >= 200);
    assert!(app.count("rejected", "unknown_symbol").await >= 1);
    let metrics = app.app.metrics().await.unwrap();
    assert!(metrics.contains("ingestion_feed_messages_total{channel=\"trade\"}"));
    assert!(metrics.contains("ingestion_lag_seconds_bucket"));

    // Snapshots: REST and gRPC agree on a traded symbol; an unseen one is "missing".
    let traded = trades.last().unwrap().symbol.clone();
    let body: serde_json::Value = app
        .get(&format!(
            "/api/ingestion/v1/snapshots?symbols={traded},{left_out}"
        ))
        .await
        .json()
        .await
        .unwrap();
    let snap = &body["snapshots"][0];
    assert_eq!(snap["symbol"], traded.as_str());
    assert!(snap["last_price"].as_i64().unwrap() > 0);
    assert!(snap["high"].as_i64() >= snap["low"].as_i64());
    assert_eq!(body["missing"][0], left_out.as_str());
    let grpc = app
        .grpc()
        .await
        .get_snapshots(api::GetSnapshotsRequest {
            symbols: vec![traded.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grpc.snapshots[0].symbol, traded);
    assert!(grpc.snapshots[0].last_trade.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_reconnects_reports_the_gap_and_publishes_nothing_twice() {
    let sim = start_sim(config()).await;
    let proxy = Proxy::start(&sim.data_url).await;
    let app = spawn_ingestion(&sim, &proxy.url).await;
    let bus = app.app.bus.clone();
    publish_master_data(&bus, &sim, "").await;
    read_until(&bus, "market.trade.v1", WAIT, |t: &[pb::Trade]| {
        t.len() >= 50
    })
    .await;
    let before = app.count("published", "trade").await;

    proxy.cut();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = app.status().await;
        let reconnected = status["reconnects"].as_u64().unwrap() >= 1
            && status["gaps"].as_u64().unwrap() >= 1
            && status["state"] == "connected";
        if reconnected && app.count("published", "trade").await > before + 50 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reconnect: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The gap is on the feed topic, and the trades before and after it never repeat.
    let has = |s: &[pb::FeedState], state: pb::feed_state::State| {
        s.iter().any(|s| s.state == state as i32)
    };
    read_until(&bus, "market.feed.v1", WAIT, |s: &[pb::FeedState]| {
        has(s, pb::feed_state::State::Connected)
            && has(s, pb::feed_state::State::Gap)
            && has(s, pb::feed_state::State::Reconnected)
    })
    .await;
    let n = app.count("published", "trade").await as usize;
    let trades: Vec<pb::Trade> = read_until(&bus, "market.trade.v1", WAIT, |t: &[pb::Trade]| {
        t.len() >= n
    })
    .await;
    assert_no_duplicate_trades(&trades);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_feed_messages_land_in_the_rejected_topic_with_their_reason() {
    let app = crate::helpers::spawn_app().await;
    let bus = app.app.bus.clone();
    assert_eq!(app.status().await["state"], "disabled");
    let security = pb::Security {
        symbol: "SSI".into(),
        exchange: "HOSE".into(),
        kind: "stock".into(),
        lot_size: 100,
        trading_day: "2025-06-10".into(),
        reference: 25_000,
        ceiling: 26_750,
        floor: 23_250,
        ..Default::default()
    };
    bus.publish(
        "masterdata.security.v1",
        &Envelope::new("test", "SSI", &security),
    )
    .await
    .unwrap();
    let at = |hms: time::Time| {
        Some(ingestion::domain::to_timestamp(
            time::PrimitiveDateTime::new(time::macros::date!(2025 - 06 - 10), hms)
                .assume_offset(market::calendar::VN_OFFSET),
        ))
    };
    let trade = |seq: u64, price: i64, total: u64| pb::FeedEvent {
        source: "replay".into(),
        sequence: seq,
        received_at: at(time::macros::time!(10:00:01)),
        trading_day: "2025-06-10".into(),
        event: Some(pb::feed_event::Event::Trade(pb::Trade {
            symbol: "SSI".into(),
            price,
            quantity: 100,
            total_volume: total,
            exchange_time: at(time::macros::time!(10:00)),
            ..Default::default()
        })),
    };
    for event in [
        trade(1, 25_000, 100),
        trade(2, 25_010, 200), // off tick
        trade(3, 27_000, 300), // above the ceiling
        trade(4, 25_050, 50),  // cumulative volume went down
        trade(5, 25_000, 100), // a repeat: dropped as a duplicate
    ] {
        bus.publish("market.raw.v1", &Envelope::new("test", "SSI", &event))
            .await
            .unwrap();
    }
    // A record that claims to be a feed event but is not one.
    let mut garbage = Envelope::new("test", "SSI", &trade(6, 25_000, 400));
    garbage.payload = bytes::Bytes::from_static(b"\xff\xff\xff\xff");
    bus.publish("market.raw.v1", &garbage).await.unwrap();

    let rejects: Vec<pb::FeedReject> = read_until(
        &bus,
        "market.rejected.v1",
        WAIT,
        |r: &[pb::FeedReject]| r.len() >= 4,
    )
    .await;
    let reasons: Vec<&str> = rejects.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["off_tick", "outside_band", "volume_backwards", "bad_value"]
    );
    assert!(rejects[0].detail.contains("tick"), "{:?}", rejects[0]);
    assert_eq!(rejects[0].event.as_ref().unwrap().sequence, 2);
    let trades: Vec<pb::Trade> = read_until(&bus, "market.trade.v1", WAIT, |t: &[pb::Trade]| {
        !t.is_empty()
    })
    .await;
    assert_eq!(trades.len(), 1);
    assert_eq!(app.count("duplicates", "trade").await, 1);

    // Bad API input gets a clear error.
    let r = app.get("/api/ingestion/v1/snapshots?symbols=").await;
    assert_eq!(r.status(), 400);
    let r = app
        .get("/api/ingestion/v1/snapshots?symbols=NOT%20A%20SYMBOL")
        .await;
    assert_eq!(r.status(), 400);
    let many: Vec<String> = (0..501).map(|i| format!("A{i:02}")).collect();
    let err = app
        .grpc()
        .await
        .get_snapshots(api::GetSnapshotsRequest { symbols: many })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("at most 500"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_disconnects_after_the_close_and_waits_for_the_next_trading_day() {
    // 14:58 on Tuesday 2025-06-10, 600 times faster: the last session ends at 15:00, the feed
    // lingers 5 minutes, then waits for Wednesday's pre-open (08:45 − 15 minutes).
    let sim = start_sim(fcsim::SimConfig {
        start: time::macros::datetime!(2025-06-10 14:58:00 +7),
        speed: 600.0,
        ..config()
    })
    .await;
    let app = spawn_ingestion(&sim, &sim.data_url).await;
    let bus = app.app.bus.clone();
    publish_master_data(&bus, &sim, "").await;
    let states: Vec<pb::FeedState> =
        read_until(&bus, "market.feed.v1", WAIT, |s: &[pb::FeedState]| {
            s.iter()
                .any(|s| s.state == pb::feed_state::State::Disconnected as i32)
        })
        .await;
    assert_eq!(states[0].state, pb::feed_state::State::Connected as i32);
    let closed = states.last().unwrap();
    assert_eq!(closed.reason, "the market closed");
    let at = ingestion::domain::to_time(closed.at.unwrap());
    assert!(
        at >= time::macros::datetime!(2025-06-10 15:05 +7),
        "disconnected at {at}"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = app.status().await;
        if status["state"] == "waiting" {
            assert_eq!(
                status["next_change"], "2025-06-11T08:30:00+07:00",
                "{status}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
