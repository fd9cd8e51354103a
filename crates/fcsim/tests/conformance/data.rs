//! FC Data REST and hub through `fastconnect::DataClient`.

use std::time::Duration;

use fastconnect::data::{
    DailyIndexQuery, DailyOhlcQuery, DailyStockPriceQuery, IndexComponentsQuery, IndexListQuery,
    IntradayOhlcQuery, PageSize, Paging, SecuritiesDetailsQuery, SecuritiesQuery,
};
use fastconnect::{Channel, ChannelKind, DataConfig, Exchange, MarketEvent};
use time::macros::date;

use crate::helpers::{data_client, spawn_sim};

#[tokio::test]
async fn reference_data_endpoints_answer_with_the_generated_universe() {
    let t = spawn_sim().await;
    let c = data_client(&t);
    let page = c
        .page(&SecuritiesQuery::default(), Paging::first(PageSize::S100))
        .await
        .unwrap();
    assert_eq!(page.total_record, Some(104)); // 60 + 20 + 20 + 4 futures
    assert_eq!(page.items.len(), 100);
    let hose = c
        .all(&SecuritiesQuery {
            market: Some(Exchange::Hose),
        })
        .await
        .unwrap();
    assert_eq!(hose.len(), 60);
    assert!(hose.iter().any(|s| s.symbol == "SSI"));

    let details = c
        .page(
            &SecuritiesDetailsQuery {
                market: None,
                symbol: Some("SSI".into()),
            },
            Paging::first(PageSize::S10),
        )
        .await
        .unwrap();
    let ssi = &details.items[0].repeated_info[0];
    assert_eq!(ssi.lot_size, Some(100));
    let bands = ssi.tick_bands();
    assert_eq!(bands.len(), 3, "HOSE stock tick table: {bands:?}");
    assert_eq!(bands[1].from.to_i64_exact(), Some(10_000));
    assert_eq!(bands[1].step.to_i64_exact(), Some(50));

    let vn30 = c
        .all(&IndexComponentsQuery {
            index_code: "VN30".into(),
        })
        .await
        .unwrap();
    assert_eq!(vn30[0].index_component.len(), 30);
    let indexes = c
        .all(&IndexListQuery {
            exchange: Exchange::Hnx,
        })
        .await
        .unwrap();
    assert!(indexes.iter().any(|i| i.index_code == "HNX30"));
}

#[tokio::test]
async fn history_endpoints_answer_from_the_generated_history() {
    let t = spawn_sim().await;
    let c = data_client(&t);
    let bars = c
        .all(&DailyOhlcQuery::new(
            "SSI",
            date!(2025 - 05 - 12),
            date!(2025 - 06 - 09),
        ))
        .await
        .unwrap();
    assert_eq!(
        bars.len(),
        21,
        "trading days from Mon 12/05 to Mon 09/06/2025"
    );
    for b in &bars {
        assert!(b.low <= b.open && b.open <= b.high && b.low <= b.close && b.close <= b.high);
        assert!(b.volume > 0);
    }
    // Deterministic: a second simulator with the same seed tells the same history.
    let t2 = spawn_sim().await;
    let again = data_client(&t2)
        .all(&DailyOhlcQuery::new(
            "SSI",
            date!(2025 - 05 - 12),
            date!(2025 - 06 - 09),
        ))
        .await
        .unwrap();
    assert_eq!(bars, again);

    let minutes = c
        .all(&IntradayOhlcQuery::new(
            "SSI",
            date!(2025 - 06 - 09),
            date!(2025 - 06 - 09),
        ))
        .await
        .unwrap();
    assert!(minutes.len() > 100, "{} one-minute bars", minutes.len());
    let index = c
        .all(&DailyIndexQuery::new(
            "VN30",
            date!(2025 - 06 - 02),
            date!(2025 - 06 - 06),
        ))
        .await
        .unwrap();
    assert_eq!(index.len(), 5);
    let prices = c
        .all(&DailyStockPriceQuery {
            symbol: Some("FPT".into()),
            market: None,
            from: date!(2025 - 06 - 02),
            to: date!(2025 - 06 - 06),
        })
        .await
        .unwrap();
    assert_eq!(prices.len(), 5);
    // Put-through deals count in the totals: matched + negotiated = traded, for a stock and
    // for the index (a month of VN30, whose liquid names report a few deals a day).
    let month = c
        .all(&DailyIndexQuery::new(
            "VN30",
            date!(2025 - 05 - 12),
            date!(2025 - 06 - 09),
        ))
        .await
        .unwrap();
    let mut deal_days = 0;
    for d in &month {
        let deal = d.total_deal_vol.unwrap();
        assert_eq!(
            d.total_vol,
            Some(d.total_match_vol.unwrap() + deal),
            "{d:?}"
        );
        let val = |v: Option<fastconnect::Decimal>| v.unwrap().to_i64_exact().unwrap();
        assert_eq!(
            val(d.total_val),
            val(d.total_match_val) + val(d.total_deal_val),
            "{d:?}"
        );
        deal_days += usize::from(deal > 0);
    }
    assert!(
        deal_days > month.len() / 2,
        "{deal_days} of {} days",
        month.len()
    );
    let mut stock_deals = 0;
    for p in &prices {
        let deal = p.total_deal_vol.unwrap();
        assert_eq!(
            p.total_traded_vol,
            Some(p.total_match_vol.unwrap() + deal),
            "{p:?}"
        );
        stock_deals += deal;
    }
    let vn30_deals: i64 = index.iter().map(|d| d.total_deal_vol.unwrap()).sum();
    assert!(stock_deals <= vn30_deals, "FPT is a VN30 constituent");
    // SSI's 30-day DailyOhlc limit is enforced with its envelope.
    let err = c
        .all(&DailyOhlcQuery::new(
            "SSI",
            date!(2025 - 01 - 01),
            date!(2025 - 06 - 09),
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("30 days"), "{err}");
    let err = c
        .all(&DailyOhlcQuery::new(
            "NOPE",
            date!(2025 - 06 - 02),
            date!(2025 - 06 - 06),
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn bad_credentials_and_bad_input_get_ssi_envelopes() {
    let t = spawn_sim().await;
    let mut config = DataConfig::new("nobody", "wrong".to_owned().into());
    config.url = t.data_url.clone();
    let c = fastconnect::DataClient::new(config).unwrap();
    assert!(c.access_token().await.is_err());
    let http = reqwest_like(&t.data_url, "/api/v2/Market/AccessToken", "{not json").await;
    assert!(http.contains("\"status\":400"), "{http}");
    let http = reqwest_like(&t.data_url, "/API/V2/MARKET/SECURITIES?pageSize=10", "").await;
    assert!(http.contains("\"status\":401"), "{http}");
}

/// Minimal HTTP/1.1 request over a TCP socket (keeps dev-dependencies lean).
async fn reqwest_like(base: &str, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let method = if body.is_empty() { "GET" } else { "POST" };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn the_hub_streams_trades_quotes_and_index_values() {
    let t = spawn_sim().await;
    let c = data_client(&t);
    let (_sub, mut events) = c
        .stream([
            Channel::symbols(ChannelKind::Trade, ["SSI", "FPT"]).unwrap(),
            Channel::symbols(ChannelKind::Quote, ["SSI"]).unwrap(),
            Channel::symbols(ChannelKind::Index, ["VN30"]).unwrap(),
            Channel::symbols(ChannelKind::SecurityStatus, ["SSI"]).unwrap(),
        ])
        .unwrap();
    let (mut trades, mut quotes, mut index, mut status) = (0, 0, 0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while trades < 5 || quotes < 3 || index < 1 || status < 1 {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("stream timed out")
            .unwrap();
        match event {
            MarketEvent::Trade(tr) => {
                assert!(tr.symbol == "SSI" || tr.symbol == "FPT");
                let (last, floor, ceiling) = (
                    tr.last_price.unwrap(),
                    tr.floor.unwrap(),
                    tr.ceiling.unwrap(),
                );
                assert!(floor <= last && last <= ceiling);
                trades += 1;
            }
            MarketEvent::Quote(q) => {
                assert_eq!(q.symbol, "SSI");
                assert_eq!(
                    q.bids.iter().filter(|l| !l.price.is_zero()).count(),
                    3,
                    "HOSE shows 3 levels"
                );
                quotes += 1;
            }
            MarketEvent::Index(i) => {
                assert_eq!(i.index_id, "VN30");
                index += 1;
            }
            MarketEvent::SecurityStatus(_) => status += 1,
            MarketEvent::Malformed { error, payload } => panic!("malformed {error}: {payload}"),
            MarketEvent::HubError(e) => panic!("hub error {e}"),
            MarketEvent::Connected
            | MarketEvent::Disconnected { .. }
            | MarketEvent::Snapshot(_)
            | MarketEvent::ForeignRoom(_)
            | MarketEvent::Bar(_)
            | MarketEvent::OddLot(_) => {}
        }
    }
    assert!(t.sim.now() > time::macros::datetime!(2025-06-10 09:15 +7));
}

/// Floor <= every non-zero price <= ceiling.
fn assert_in_band(
    what: &str,
    prices: impl IntoIterator<Item = fastconnect::Decimal>,
    floor: fastconnect::Decimal,
    ceiling: fastconnect::Decimal,
) {
    for p in prices {
        assert!(
            p.is_zero() || (floor <= p && p <= ceiling),
            "{what}: {p} outside {floor}..{ceiling}"
        );
    }
}

#[tokio::test]
async fn every_channel_kind_arrives_and_decodes() {
    let t = spawn_sim().await;
    let c = data_client(&t);
    let lot = market::MarketRules::default()
        .lots
        .round_lot(market::Exchange::Hose);
    let (_sub, mut events) = c
        .stream([
            Channel::symbols(ChannelKind::SecurityStatus, ["SSI"]).unwrap(),
            Channel::symbols(ChannelKind::Snapshot, ["SSI"]).unwrap(),
            Channel::symbols(ChannelKind::Quote, ["FPT"]).unwrap(),
            Channel::symbols(ChannelKind::Trade, ["SSI"]).unwrap(),
            Channel::symbols(ChannelKind::ForeignRoom, ["SSI"]).unwrap(),
            Channel::symbols(ChannelKind::Index, ["VN30"]).unwrap(),
            Channel::symbols(ChannelKind::Bar, ["SSI"]).unwrap(),
            Channel::symbols(ChannelKind::OddLot, ["SSI", "FPT"]).unwrap(),
        ])
        .unwrap();
    let [
        mut status,
        mut snapshot,
        mut quote,
        mut trade,
        mut room,
        mut index,
        mut bar,
    ] = [0; 7];
    let (mut odd, mut odd_prints) = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while status < 1
        || snapshot < 2
        || quote < 2
        || trade < 2
        || room < 1
        || index < 1
        || bar < 2
        || odd < 5
        || odd_prints < 1
    {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("stream timed out")
            .unwrap();
        match event {
            MarketEvent::SecurityStatus(s) => {
                assert_eq!(s.symbol, "SSI");
                assert_eq!(s.exchange, Some(Exchange::Hose));
                assert!(s.trading_session.is_some());
                status += 1;
            }
            MarketEvent::Snapshot(x) => {
                assert_eq!(x.trade.symbol, "SSI");
                let (floor, ceiling) = (x.trade.floor.unwrap(), x.trade.ceiling.unwrap());
                let last = x.trade.last_price.unwrap();
                assert!(!last.is_zero());
                let levels = x.bids.iter().chain(&x.asks).map(|l| l.price);
                assert_in_band("X", levels.chain([last]), floor, ceiling);
                assert_eq!(x.bids.len(), 3, "HOSE shows 3 levels");
                assert!(x.low.unwrap() <= x.high.unwrap());
                assert!(x.trade.total_vol.unwrap() > 0);
                snapshot += 1;
            }
            MarketEvent::Quote(q) => {
                assert_eq!(q.symbol, "FPT");
                assert_eq!(q.bids.iter().filter(|l| !l.price.is_zero()).count(), 3);
                assert!(q.bids.iter().chain(&q.asks).all(|l| l.volume > 0));
                quote += 1;
            }
            MarketEvent::Trade(tr) => {
                assert_eq!(tr.symbol, "SSI");
                let (floor, ceiling) = (tr.floor.unwrap(), tr.ceiling.unwrap());
                assert_in_band("X-TRADE", [tr.last_price.unwrap()], floor, ceiling);
                assert_eq!(tr.last_vol.unwrap() % lot as i64, 0);
                trade += 1;
            }
            MarketEvent::ForeignRoom(r) => {
                assert_eq!(r.symbol, "SSI");
                assert!(r.total_room.unwrap() > 0);
                assert!(r.current_room.unwrap() <= r.total_room.unwrap());
                room += 1;
            }
            MarketEvent::Index(i) => {
                assert_eq!(i.index_id, "VN30");
                assert!(i.index_value > fastconnect::Decimal::ZERO);
                assert_eq!(
                    i.all_qty,
                    Some(i.total_qtty.unwrap() + i.total_qtty_pt.unwrap()),
                    "matched + put-through: {i:?}"
                );
                index += 1;
            }
            MarketEvent::Bar(b) => {
                assert_eq!(b.symbol, "SSI");
                let (low, high) = (b.low.unwrap(), b.high.unwrap());
                assert!(low <= b.open.unwrap() && b.close.unwrap() <= high);
                assert!(!low.is_zero());
                assert_eq!(b.volume.unwrap() % lot as i64, 0);
                bar += 1;
            }
            MarketEvent::OddLot(o) => {
                assert!(o.symbol == "SSI" || o.symbol == "FPT", "{}", o.symbol);
                assert_eq!(o.exchange, Some(Exchange::Hose));
                assert_eq!(o.stock_type.as_deref(), Some("Stock"));
                assert_eq!(o.trading_date, Some(date!(2025 - 06 - 10)));
                let (floor, ceiling) = (o.floor.unwrap(), o.ceiling.unwrap());
                assert!(floor <= o.ref_price.unwrap() && o.ref_price.unwrap() <= ceiling);
                assert_eq!(o.bids.len(), 3, "OL carries 3 bid levels: {o:?}");
                assert_eq!(o.asks.len(), 3, "OL carries 3 ask levels: {o:?}");
                let prices = o.bids.iter().chain(&o.asks).map(|l| l.price);
                assert_in_band("OL", prices.chain(o.last_price), floor, ceiling);
                for l in o.bids.iter().chain(&o.asks) {
                    assert!(
                        (1..lot as i64).contains(&l.volume),
                        "odd-lot level {l:?} is not below a round lot"
                    );
                }
                let best_bid = o.bids[0].price;
                assert!(best_bid < o.asks[0].price, "crossed odd-lot book {o:?}");
                let last_vol = o.last_vol.unwrap();
                assert!(last_vol < lot as i64);
                if last_vol > 0 {
                    assert!(!o.last_price.unwrap().is_zero());
                    odd_prints += 1;
                }
                assert!(o.total_vol.unwrap() > 0);
                odd += 1;
            }
            MarketEvent::Malformed { error, payload } => panic!("malformed {error}: {payload}"),
            MarketEvent::HubError(e) => panic!("hub error {e}"),
            MarketEvent::Connected | MarketEvent::Disconnected { .. } => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_history_requests_do_not_hold_up_trading() {
    use fcsim::config::{DEMO_CASH_ACCOUNT, DEMO_PIN};
    let config = fcsim::SimConfig {
        universe: fcsim::UniverseSize {
            hose: 40,
            hnx: 40,
            upcom: 40,
        },
        history_days: 250,
        rate_limits: Vec::new(),
        ..crate::helpers::trading_config()
    };
    let t = crate::helpers::spawn_with(config).await;
    let trading = crate::helpers::trading_client(&t);
    trading
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let token = {
        let http = reqwest::Client::new();
        let v: serde_json::Value = http
            .post(format!("{}/api/v2/Market/AccessToken", t.data_url))
            .json(
                &serde_json::json!({"consumerID": fcsim::config::DEMO_DATA_CONSUMER_ID,
                "consumerSecret": fcsim::config::DEMO_DATA_CONSUMER_SECRET}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["data"]["accessToken"].as_str().unwrap().to_owned()
    };
    // Three years-long DailyIndex requests over indices with disjoint constituents (so no
    // cache helps): each generates every constituent's every day.
    let history: Vec<_> = ["VNINDEX", "HNXIndex", "HNXUpcomIndex"]
        .into_iter()
        .map(|index| {
            let url = format!(
                "{}/api/v2/Market/DailyIndex?indexId={index}&fromDate=01/01/2024&toDate=10/06/2025&pageIndex=1&pageSize=1000",
                t.data_url
            );
            let token = token.clone();
            tokio::spawn(async move {
                let v: serde_json::Value = reqwest::Client::new()
                    .get(url)
                    .header("Authorization", format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while t.sim.data_requests_in_flight() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the history requests never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Trading answers while all three are still being generated.
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert!(book.orders.is_empty());
    trading
        .cash_account_balance(DEMO_CASH_ACCOUNT)
        .await
        .unwrap();
    let unfinished = history.iter().filter(|h| !h.is_finished()).count();
    assert_eq!(
        unfinished,
        3,
        "trading waited for history generation ({} of 3 history requests finished first)",
        3 - unfinished
    );
    assert_eq!(t.sim.data_requests_in_flight(), 3);
    for h in history {
        let v = h.await.unwrap();
        assert_eq!(v["status"], "Success", "{v}");
        assert!(
            v["data"].as_array().unwrap().len() > 200,
            "{}",
            v["totalRecord"]
        );
    }
}
