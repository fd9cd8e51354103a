//! Listing with filters and paging, one security, indexes, the calendar and trading rules,
//! over HTTP and gRPC, with bad input refused.

use market::{Exchange, InstrumentKind};
use proto::master_data::v1 as pb;

use crate::helpers::{spawn_app, synced};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_pages_select_what_they_say() {
    let (s, app) = synced(&[]).await;
    let g = s.sim.generator();
    let count = |pred: &dyn Fn(&fcsim::Instrument) -> bool| {
        g.universe()
            .instruments()
            .iter()
            .filter(|x| pred(x))
            .count()
    };

    let hose = app.all_securities("exchange=HOSE", 9).await;
    assert_eq!(hose.len(), count(&|x| x.exchange == Exchange::Hose));
    assert!(
        hose.windows(2)
            .all(|w| w[0]["symbol"].as_str() < w[1]["symbol"].as_str())
    );
    let futures = app.all_securities("kind=index_future", 100).await;
    assert_eq!(
        futures.len(),
        count(&|x| x.kind == InstrumentKind::IndexFuture)
    );
    // Futures have no odd-lot board (market's order-type matrix).
    let odd = app.all_securities("board=odd_lot", 1000).await;
    assert_eq!(odd.len(), count(&|x| x.kind != InstrumentKind::IndexFuture));
    let (_, vn30) = g.universe().index("VN30").unwrap();
    let members = app.all_securities("index=vn30", 1000).await;
    assert_eq!(members.len(), vn30.members.len());
    let both = app.all_securities("index=VN30&exchange=HNX", 1000).await;
    assert!(both.is_empty(), "VN30 is HOSE only");
    assert_eq!(
        app.all_securities("status=normal", 1000).await.len(),
        g.universe().instruments().len()
    );
    assert!(
        app.all_securities("status=suspended", 1000)
            .await
            .is_empty()
    );

    // gRPC: the same filter and paging.
    let mut grpc = app.grpc().await;
    let page = grpc
        .list_securities(pb::ListSecuritiesRequest {
            exchange: "HOSE".into(),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.securities.len(), hose.len());
    assert!(page.next_cursor.is_empty());
    let one = grpc
        .get_security(pb::GetSecurityRequest {
            symbol: hose[0]["symbol"].as_str().unwrap().to_lowercase(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.symbol, hose[0]["symbol"].as_str().unwrap());
    assert_eq!(one.reference, hose[0]["reference"].as_i64().unwrap());
    let missing = grpc
        .get_security(pb::GetSecurityRequest {
            symbol: "ZZZ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);

    // Bad input: a clear invalid_argument.
    for bad in [
        "limit=0",
        "limit=1001",
        "exchange=NYSE",
        "board=dark",
        "kind=option",
        "status=sleepy",
        "colour=red",
        "limit=ten",
    ] {
        let body = app
            .get_json(&format!("/api/master-data/v1/securities?{bad}"), 400)
            .await;
        assert_eq!(body["code"], "invalid_argument", "{bad}: {body}");
    }
    app.get_json("/api/master-data/v1/securities/not%20a%20symbol", 400)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_calendar_and_trading_rules_come_from_one_place() {
    let (s, app) = synced(&[]).await;
    let g = s.sim.generator();
    let indexes = app.get_json("/api/master-data/v1/indexes", 200).await;
    let vn30 = indexes
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "VN30")
        .unwrap();
    assert_eq!(vn30["exchange"], "HOSE");
    let one = app.get_json("/api/master-data/v1/indexes/vn30", 200).await;
    assert_eq!(one, *vn30);
    assert_eq!(
        one["members"].as_array().unwrap().len(),
        g.universe().index("VN30").unwrap().1.members.len()
    );
    app.get_json("/api/master-data/v1/indexes/NOPE", 404).await;
    let hnx = app
        .get_json("/api/master-data/v1/indexes?exchange=HNX", 200)
        .await;
    assert!(
        hnx.as_array()
            .unwrap()
            .iter()
            .all(|i| i["exchange"] == "HNX")
    );

    // The calendar: a Saturday, a trading day, a holiday year.
    let sat = app
        .get_json("/api/master-data/v1/calendar?date=2025-06-14", 200)
        .await;
    assert_eq!(sat["trading_day"], false);
    assert_eq!(sat["next_trading_day"], "2025-06-16");
    assert_eq!(sat["previous_trading_day"], "2025-06-13");
    assert_eq!(sat["sessions"].as_array().unwrap().len(), 0);
    let today = app.get_json("/api/master-data/v1/calendar", 200).await;
    assert_eq!(today["date"], "2025-06-10", "today by the market clock");
    assert_eq!(today["trading_day"], true);
    let hose_main = today["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["exchange"] == "HOSE" && b["board"] == "main")
        .unwrap();
    assert_eq!(hose_main["segments"][0]["phase"], "opening_auction");
    assert_eq!(hose_main["segments"][0]["start"], "09:00");
    let holidays = app
        .get_json("/api/master-data/v1/calendar/holidays?year=2025", 200)
        .await;
    assert!(!holidays.as_array().unwrap().is_empty());
    app.get_json("/api/master-data/v1/calendar?date=tomorrow", 400)
        .await;
    app.get_json("/api/master-data/v1/calendar/holidays?year=3000", 400)
        .await;

    // Trading rules of a HOSE stock at 08:30 (pre-open): ticks, lot, band, settlement.
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    let band = g
        .limits(i, g.day_index(time::macros::date!(2025 - 06 - 10)).unwrap())
        .unwrap();
    let rules = app
        .get_json(
            &format!(
                "/api/master-data/v1/securities/{}/rules?price=25000",
                x.symbol
            ),
            200,
        )
        .await;
    assert_eq!(rules["lot_size"], 100);
    assert_eq!(rules["tick_at_price"], 50);
    assert_eq!(rules["ticks"][1]["from"], 10_000);
    assert_eq!(rules["reference"], band.reference.units());
    assert_eq!(rules["ceiling"], band.ceiling.units());
    assert_eq!(rules["floor"], band.floor.units());
    assert_eq!(rules["settlement_days"], 2);
    assert_eq!(rules["settlement_date"], "2025-06-12");
    assert_eq!(rules["tradable"], true);
    let main = rules["boards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["board"] == "main")
        .unwrap();
    assert_eq!(main["phase"], "pre_open");
    assert_eq!(main["order_types"].as_array().unwrap().len(), 0);
    let r = app
        .get_json(
            &format!("/api/master-data/v1/securities/{}/rules?price=-5", x.symbol),
            400,
        )
        .await;
    assert_eq!(r["code"], "invalid_argument");

    let grpc = app
        .grpc()
        .await
        .get_trading_rules(pb::GetTradingRulesRequest {
            symbol: x.symbol.clone(),
            price: 25_000,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grpc.tick_at_price, 50);
    assert_eq!(grpc.reference, band.reference.units());
    assert_eq!(grpc.settlement_date, "2025-06-12");
}

#[tokio::test]
async fn the_calendar_works_without_any_synced_data() {
    let app = spawn_app().await;
    let day = app
        .get_json("/api/master-data/v1/calendar?date=2025-06-10", 200)
        .await;
    assert_eq!(day["trading_day"], true);
    let cal = app
        .grpc()
        .await
        .get_calendar(pb::GetCalendarRequest {
            date: "2025-06-14".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!cal.trading_day);
    assert_eq!(cal.next_trading_day, "2025-06-16");
}
