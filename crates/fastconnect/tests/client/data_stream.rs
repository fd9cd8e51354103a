//! FC Data streaming: SignalR handshake, SwitchChannels, double-decoded Broadcasts,
//! reconnect with resubscription, backpressure.

use std::time::Duration;

use fastconnect::data::stream::PriceLevel;
use fastconnect::{Channel, ChannelKind, Decimal, MarketEvent, MarketEvents};
use serde_json::json;

use crate::fake_ssi::{FakeSsi, MARKET_HUB, eventually, market_frame};
use crate::helpers::{data_client, data_config};

async fn next(events: &mut MarketEvents) -> MarketEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("stream still open")
}

/// Skips lifecycle events.
async fn next_data(events: &mut MarketEvents) -> MarketEvent {
    loop {
        match next(events).await {
            MarketEvent::Connected | MarketEvent::Disconnected { .. } => {}
            other => return other,
        }
    }
}

#[tokio::test]
async fn handshake_subscribes_and_decodes_broadcasts() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    let quote = Channel::symbols(ChannelKind::Quote, ["SSI", "ACB"]).unwrap();
    let index = Channel::symbols(ChannelKind::Index, ["VN30"]).unwrap();
    let (_sub, mut events) = client.stream([quote, index]).unwrap();
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    eventually("two SwitchChannels", || fake.switch_channels().len() == 2).await;
    assert_eq!(fake.switch_channels(), ["X-QUOTE:SSI-ACB", "MI:VN30"]);
    let invocation = &fake.invocations()[0];
    assert_eq!(invocation["H"], MARKET_HUB);
    assert_eq!(invocation["I"], 0);

    let negotiate = &fake.hub_requests("/negotiate")[0];
    assert!(
        negotiate
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    assert_eq!(negotiate.query["clientProtocol"], "1.5");
    assert_eq!(
        negotiate.query["connectionData"],
        r#"[{"name":"FcMarketDataV2Hub"}]"#
    );
    let connect = &fake.hub_requests("/connect")[0];
    assert_eq!(connect.query["transport"], "webSockets");
    assert_eq!(connect.query["connectionToken"], "tok/en+with=chars");
    assert_eq!(fake.hub_requests("/start").len(), 1);

    fake.broadcast_market(json!({
        "RType": "X-QUOTE", "TradingDate": "04/06/2024", "Time": "10:01:02", "Exchange": "HOSE",
        "Symbol": "SSI", "BidPrice1": 34950.0, "BidVol1": 12000.0, "BidPrice2": 34900.0, "BidVol2": 500.0,
        "BidPrice3": 0.0, "BidVol3": 0.0, "AskPrice1": 35000.0, "AskVol1": 300.0, "AskPrice2": 35050.0,
        "AskVol2": 100.0, "AskPrice3": 35100.0, "AskVol3": 1000.0, "TradingSession": "LO"
    }));
    let MarketEvent::Quote(q) = next_data(&mut events).await else {
        panic!("expected a quote")
    };
    assert_eq!(q.symbol, "SSI");
    assert_eq!(
        q.bids,
        vec![
            PriceLevel {
                price: Decimal::from_i64(34_950),
                volume: 12_000
            },
            PriceLevel {
                price: Decimal::from_i64(34_900),
                volume: 500
            }
        ]
    );
    assert_eq!(q.asks.len(), 3);
    assert_eq!(q.time, Some(time::macros::time!(10:01:02)));
}

#[tokio::test]
async fn every_channel_type_is_decoded() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    let channels = [
        ChannelKind::SecurityStatus,
        ChannelKind::Snapshot,
        ChannelKind::Quote,
        ChannelKind::Trade,
        ChannelKind::ForeignRoom,
        ChannelKind::Index,
        ChannelKind::Bar,
        ChannelKind::OddLot,
    ]
    .map(Channel::all);
    let (_sub, mut events) = client.stream(channels).unwrap();
    eventually("eight SwitchChannels", || fake.switch_channels().len() == 8).await;
    assert_eq!(
        fake.switch_channels(),
        [
            "F:ALL",
            "X:ALL",
            "X-QUOTE:ALL",
            "X-TRADE:ALL",
            "R:ALL",
            "MI:ALL",
            "B:ALL",
            "OL:ALL"
        ]
    );
    let samples = [
        json!({"RType": "F", "MarketId": "HOSE", "TradingDate": "04/06/2024", "Time": "09:00:00",
            "Symbol": "SSI", "TradingSession": "ATO", "TradingStatus": "N", "Exchange": "HOSE"}),
        json!({"RType": "X", "Symbol": "ACB", "Ceiling": 26100.0, "Floor": 22700.0, "RefPrice": 24400.0,
            "Open": 24400.0, "High": 24600.0, "Low": 24300.0, "Close": 24500.0, "LastPrice": 24500.0,
            "LastVol": 1000.0, "TotalVol": 500000.0, "TotalVal": 12225000000.0,
            "BidPrice1": 24450.0, "BidVol1": 200.0, "AskPrice1": 24500.0, "AskVol1": 300.0, "Exchange": "HOSE"}),
        json!({"RType": "X-QUOTE", "Symbol": "VN30F2406", "BidPrice1": 1259.4, "BidVol1": 12.0,
            "AskPrice1": 1259.6, "AskVol1": 3.0, "Exchange": "DER"}),
        json!({"RType": "X-TRADE", "Symbol": "SSI", "Isin": "VN000000SSI1", "LastPrice": 35000.0,
            "LastVol": 200.0, "Side": "BU", "TotalVol": 100200.0, "Exchange": "HOSE", "TradingSession": "LO"}),
        json!({"RType": "R", "Symbol": "FPT", "TotalRoom": 600000000.0, "CurrentRoom": 12345.0,
            "BuyVol": 1000.0, "SellVol": 500.0, "BuyVal": 120000000.0, "SellVal": 60000000.0}),
        json!({"RType": "MI", "IndexId": "VNINDEX", "IndexValue": 1280.55, "PriorIndexValue": 1275.1,
            "Change": 5.45, "RatioChange": 0.43, "Advances": 250.0, "Declines": 150.0, "IndexName": null}),
        json!({"RType": "B", "Symbol": "SSI", "TradingTime": "10:15:00", "Open": 35000.0, "High": 35050.0,
            "Low": 34950.0, "Close": 35000.0, "Volume": 1200.0, "Value": 0.0}),
        json!({"RType": "OL", "Symbol": "MBB", "LastPrice": 22950.0, "LastVol": 35.0, "BidPrice1": 22900.0,
            "BidVol1": 12.0, "AskPrice1": 23000.0, "AskVol1": 40.0, "Exchange": "HOSE", "TradingStatus": "N",
            "StockType": "Stock"}),
    ];
    for sample in samples {
        fake.broadcast_market(sample);
    }
    let mut seen = Vec::new();
    for _ in 0..8 {
        let event = next_data(&mut events).await;
        let tag = match event {
            MarketEvent::SecurityStatus(s) => {
                format!("F {} {}", s.symbol, s.trading_session.unwrap())
            }
            MarketEvent::Snapshot(x) => {
                format!("X {} {} {}", x.trade.symbol, x.close.unwrap(), x.bids.len())
            }
            MarketEvent::Quote(q) => format!("X-QUOTE {} {}", q.symbol, q.bids[0].price),
            MarketEvent::Trade(t) => format!(
                "X-TRADE {} {} {}",
                t.symbol,
                t.last_price.unwrap(),
                t.side.unwrap()
            ),
            MarketEvent::ForeignRoom(r) => format!("R {} {}", r.symbol, r.buy_vol.unwrap()),
            MarketEvent::Index(i) => format!("MI {} {}", i.index_id, i.index_value),
            MarketEvent::Bar(b) => format!("B {} {}", b.symbol, b.time.unwrap()),
            MarketEvent::OddLot(o) => format!("OL {} {}", o.symbol, o.last_vol.unwrap()),
            other => panic!("unexpected {other:?}"),
        };
        seen.push(tag);
    }
    assert_eq!(
        seen,
        [
            "F SSI ATO",
            "X ACB 24500 1",
            "X-QUOTE VN30F2406 1259.4",
            "X-TRADE SSI 35000 BU",
            "R FPT 1000",
            "MI VNINDEX 1280.55",
            "B SSI 10:15:00.0",
            "OL MBB 35",
        ]
    );
}

#[tokio::test]
async fn a_dropped_connection_reconnects_and_resubscribes_everything() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    let (sub, mut events) = client
        .stream([Channel::symbols(ChannelKind::Trade, ["SSI"]).unwrap()])
        .unwrap();
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    sub.subscribe(Channel::symbols(ChannelKind::Bar, ["VNM"]).unwrap())
        .await
        .unwrap();
    eventually("late subscription sent", || {
        fake.switch_channels().len() == 2
    })
    .await;

    fake.drop_hub_connections();
    assert!(matches!(
        next(&mut events).await,
        MarketEvent::Disconnected { .. }
    ));
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    eventually("resubscription", || fake.switch_channels().len() == 4).await;
    assert_eq!(
        fake.switch_channels(),
        ["X-TRADE:SSI", "B:VNM", "X-TRADE:SSI", "B:VNM"]
    );
    assert_eq!(sub.channels().len(), 2);

    // Data flows on the new connection.
    fake.broadcast_market(json!({"RType": "B", "Symbol": "VNM", "Close": 66000.0, "Volume": 10.0}));
    assert!(matches!(next_data(&mut events).await, MarketEvent::Bar(_)));
}

#[tokio::test]
async fn a_refused_token_is_renewed_before_reconnecting() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    client.access_token().await.unwrap();
    fake.revoke_tokens();
    let (_sub, mut events) = client.stream([Channel::all(ChannelKind::Index)]).unwrap();
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    assert_eq!(fake.tokens_issued(), 2);
    let negotiations = fake.hub_requests("/negotiate");
    assert_eq!(negotiations.len(), 2);
    assert_ne!(
        negotiations[0].header("authorization"),
        negotiations[1].header("authorization")
    );
}

#[tokio::test]
async fn a_slow_consumer_loses_nothing() {
    let fake = FakeSsi::start().await;
    let mut config = data_config(&fake);
    config.stream.channel_capacity = 2;
    let client = fastconnect::DataClient::new(config).unwrap();
    let (_sub, mut events) = client.stream([Channel::all(ChannelKind::Bar)]).unwrap();
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    for i in 0..50 {
        fake.broadcast_market(json!({"RType": "B", "Symbol": "SSI", "Volume": i}));
    }
    // Let the frames pile up behind the full channel.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..50 {
        let MarketEvent::Bar(bar) = next_data(&mut events).await else {
            panic!("expected a bar")
        };
        assert_eq!(bar.volume, Some(i));
    }
}

#[tokio::test]
async fn malformed_payloads_and_hub_errors_do_not_stop_the_stream() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    let (_sub, mut events) = client.stream([Channel::all(ChannelKind::Trade)]).unwrap();
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    fake.push_frame(MARKET_HUB, market_frame("{this is not json"));
    fake.push_frame(
        MARKET_HUB,
        json!({"C": "x", "M": [{"H": MARKET_HUB, "M": "Error", "A": ["Connection has been blocked, quota 5 exceeded by 1"]}]})
            .to_string(),
    );
    fake.broadcast_market(json!({"RType": "X-TRADE", "Symbol": "SSI", "LastPrice": "oops"}));
    fake.broadcast_market(json!({"RType": "X-TRADE", "Symbol": "SSI", "LastPrice": 35000.0}));
    assert!(matches!(
        next_data(&mut events).await,
        MarketEvent::Malformed { .. }
    ));
    let MarketEvent::HubError(text) = next_data(&mut events).await else {
        panic!("expected a hub error")
    };
    assert!(text.contains("quota"));
    let MarketEvent::Malformed { error, .. } = next_data(&mut events).await else {
        panic!("expected malformed")
    };
    assert_eq!(error.to_string(), "invalid LastPrice in X-TRADE");
    assert!(matches!(
        next_data(&mut events).await,
        MarketEvent::Trade(_)
    ));
}

#[tokio::test]
async fn shutdown_ends_the_event_stream() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    let (sub, mut events) = client.stream([Channel::all(ChannelKind::Bar)]).unwrap();
    assert!(matches!(next(&mut events).await, MarketEvent::Connected));
    sub.shutdown();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while events.recv().await.is_some() {}
    })
    .await;
    assert!(end.is_ok(), "stream ended");
    eventually("socket closed", || fake.hub_sockets(MARKET_HUB) == 0).await;
}
