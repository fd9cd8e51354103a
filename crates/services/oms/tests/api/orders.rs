//! Orders through the OMS to the simulator and back: placed once, filled, amended, cancelled,
//! refused with reasons, and found again after a restart.

use broker::OrderRequest;
use common::store::Db;
use fcsim::config::DEMO_CASH_ACCOUNT;
use market::{OrderType, Price, Quantity, Side};
use serde_json::{Value, json};

use crate::helpers::{TestSim, limit, market, spawn_app, spawn_trading, start_sim};

fn kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The broker's orders of the demo cash account placed with requestID `id`.
async fn broker_orders(sim: &TestSim, request_id: u64) -> usize {
    let trading = sim.broker_client();
    let book = trading.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let n = book
        .iter()
        // A fresh v2 client knows an order's placing id only when it was its last action.
        .filter(|o| {
            o.client_order_id
                .or(o.last_action_id)
                .map(|c| u64::from(c.get()))
                == Some(request_id)
        })
        .count();
    if n != 1 {
        eprintln!("broker's book: {book:#?}");
    }
    n
}

#[tokio::test]
async fn an_order_is_placed_once_filled_and_journaled() {
    let sim = start_sim(market()).await;
    let app = spawn_trading(&sim, &[]).await;
    let (symbol, band) = sim.hose_stock();

    // A buy at the ceiling crosses the market maker's ask.
    let body = limit("fill-1", symbol, "buy", band.ceiling.units(), 100);
    let (status, order) = app.place(&body).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["client_id"], "fill-1");
    let filled = app
        .wait_order(&id, "filled", |o| o["status"] == "filled")
        .await;
    assert_eq!(filled["filled"], 100);
    assert!(filled["broker_order_id"].is_string(), "{filled}");
    let avg = filled["avg_price"].as_i64().unwrap();
    assert!(
        band.floor.units() <= avg && avg <= band.ceiling.units(),
        "{filled}"
    );

    // The same client id again: the same order, nothing new at the broker.
    let (status, again) = app.place(&body).await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], id.as_str());
    let request_id = filled["request_id"].as_u64().unwrap();
    assert_eq!(broker_orders(&sim, request_id).await, 1);
    let orders = app.get_json("/api/oms/v1/orders").await;
    assert_eq!(orders.as_array().unwrap().len(), 1, "{orders}");

    // Fills add up to the order; the journal tells its life.
    let fills = app
        .get_json(&format!("/api/oms/v1/fills?order_id={id}"))
        .await;
    let total: u64 = fills
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 100, "{fills}");
    let events = app
        .get_json(&format!("/api/oms/v1/orders/{id}/events"))
        .await;
    let k = kinds(&events);
    assert_eq!(k[0], "created");
    // The broker's answer and its stream race: either tells first that it has the order.
    assert!(k[1] == "sent" || k[1] == "accepted", "{k:?}");
    assert_eq!(k.last().unwrap(), "filled", "{events}");

    // The same over gRPC, and the broker's view of the account through the OMS.
    let got = app
        .grpc()
        .await
        .get_order(proto::oms::v1::GetOrderRequest {
            order_id: String::new(),
            client_id: "fill-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.id.as_str(), got.filled), (id.as_str(), 100));
    let positions = app
        .get_json(&format!(
            "/api/oms/v1/accounts/{DEMO_CASH_ACCOUNT}/positions"
        ))
        .await;
    assert!(
        positions
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["symbol"] == symbol.as_str() && p["quantity"].as_u64() >= Some(100)),
        "{positions}"
    );
    // The OMS's own book: 100 bought at the fill price plus the 0.15 % fee, not sellable
    // before T+2.
    let book = app
        .get_json(&format!(
            "/api/oms/v1/accounts/{DEMO_CASH_ACCOUNT}/portfolio"
        ))
        .await;
    let h = &book[0];
    assert_eq!(
        (h["symbol"].as_str(), h["quantity"].as_u64()),
        (Some(symbol.as_str()), Some(100)),
        "{book}"
    );
    assert_eq!(h["sellable"], 0, "{book}");
    assert_eq!(
        (&h["settling_t0"], &h["settling_t1"], &h["settling_t2"]),
        (&json!(100), &json!(0), &json!(0)),
        "bought today: T+0 {book}"
    );
    let gross = avg * 100;
    let fee = h["cost"].as_i64().unwrap() - gross;
    assert!((fee - gross * 15 / 10_000).abs() <= 1, "0.15 % fee: {book}");
    assert!(h["unrealised"].is_i64(), "{book}");
    let balance = app
        .get_json(&format!("/api/oms/v1/accounts/{DEMO_CASH_ACCOUNT}/balance"))
        .await;
    assert!(balance["buying_power"].as_i64().unwrap() > 0, "{balance}");

    // The account's NAV, valued now: cash plus the position at the last price, kept as today's.
    let nav = app
        .get_json(&format!(
            "/api/oms/v1/accounts/{DEMO_CASH_ACCOUNT}/nav?refresh=true"
        ))
        .await;
    let today = &nav.as_array().unwrap()[0];
    assert_eq!(
        today["nav"].as_i64(),
        Some(today["cash"].as_i64().unwrap() + today["holdings"].as_i64().unwrap()),
        "{nav}"
    );
    assert!(
        today["holdings"].as_i64().unwrap() >= band.floor.units() * 100,
        "{nav}"
    );
    assert_eq!(today["day"], "2025-06-10", "{nav}");

    // The day's report: the fill with its fee, and the day's totals.
    let report = app
        .get_json(&format!("/api/oms/v1/accounts/{DEMO_CASH_ACCOUNT}/report"))
        .await;
    assert_eq!(report["trades"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["trades"][0]["value"], gross, "{report}");
    assert_eq!(report["trades"][0]["fee"], fee, "{report}");
    let day = &report["days"][0];
    assert_eq!(
        (
            &day["fills"],
            &day["bought"],
            &day["fees"],
            &day["realised"]
        ),
        (&json!(1), &json!(gross), &json!(fee), &json!(0)),
        "{report}"
    );
    let bad = app
        .get(&format!(
            "/api/oms/v1/accounts/{DEMO_CASH_ACCOUNT}/report?from=2025-06-10&to=2024-01-01"
        ))
        .await;
    assert_eq!(bad.status().as_u16(), 400);

    // An order ticket's preview: the fee and tax of a sale at the fill price, the broker's max
    // quantities, the session; nothing is placed.
    let preview = |side: &str, order_type: &str, price: i64, quantity: u64| {
        proto::oms::v1::PreviewOrderRequest {
            account: DEMO_CASH_ACCOUNT.into(),
            symbol: symbol.to_string(),
            side: side.into(),
            order_type: order_type.into(),
            price,
            quantity,
        }
    };
    let mut grpc = app.grpc().await;
    let p = grpc
        .preview_order(preview("sell", "LO", avg, 100))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((p.priced_at, p.gross_value), (avg, gross), "{p:?}");
    // 0.15 % brokerage and 0.1 % sale tax.
    assert!((p.brokerage - gross * 15 / 10_000).abs() <= 1, "{p:?}");
    assert!((p.tax - gross / 1_000).abs() <= 1, "{p:?}");
    assert_eq!(p.net_cash, gross - p.total_cost, "{p:?}");
    assert!(
        p.max_buy.is_some_and(|q| q > 0) && p.max_sell.is_some(),
        "{p:?}"
    );
    assert!(p.session_open && p.accepting, "{p:?}");
    // A market buy is reckoned at the ceiling, once the band is known.
    let p = grpc
        .preview_order(preview("buy", "MTL", 0, 100))
        .await
        .unwrap()
        .into_inner();
    assert!(
        p.priced_at == 0 || p.priced_at == band.ceiling.units(),
        "{p:?}"
    );
    // A limit order without its price yet is not costed; the max quantities still come.
    let p = grpc
        .preview_order(preview("buy", "LO", 0, 100))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (p.priced_at, p.gross_value, p.max_buy),
        (0, 0, None),
        "{p:?}"
    );
    let bad = grpc
        .preview_order(preview("hold", "LO", avg, 100))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("side"), "{bad:?}");
    assert_eq!(
        app.get_json("/api/oms/v1/orders")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_resting_order_is_amended_then_cancelled() {
    let sim = start_sim(market()).await;
    let app = spawn_trading(&sim, &[]).await;
    let (symbol, band) = sim.hose_stock();
    let (status, order) = app
        .place(&limit("rest-1", symbol, "buy", band.floor.units(), 200))
        .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    app.wait_order(&id, "working", |o| o["status"] == "new")
        .await;

    let (status, amending) = app.amend(&id, &json!({"quantity": 300})).await;
    assert_eq!(status, 202, "{amending}");
    // Pending until the broker's report, which may already be in.
    assert!(
        amending["pending"] == "amend" || amending["quantity"] == 300,
        "{amending}"
    );
    let amended = app
        .wait_order(&id, "amended", |o| {
            o["quantity"] == 300 && o["pending"].is_null()
        })
        .await;
    assert_eq!(amended["status"], "new");

    let (status, cancelling) = app.cancel(&id).await;
    assert_eq!(status, 202, "{cancelling}");
    app.wait_order(&id, "cancelled", |o| o["status"] == "cancelled")
        .await;
    let k = kinds(
        &app.get_json(&format!("/api/oms/v1/orders/{id}/events"))
            .await,
    );
    for expected in [
        "amend_requested",
        "amended",
        "cancel_requested",
        "cancelled",
    ] {
        assert!(k.iter().any(|x| x == expected), "{expected} missing: {k:?}");
    }
    // Nothing more can happen to it.
    let (status, e) = app.cancel(&id).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("failed_precondition")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("when it is cancelled"),
        "{e}"
    );
    let (status, _) = app
        .amend(&id, &json!({"price": band.floor.units() + 100}))
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn refusals_name_the_reason() {
    let sim = start_sim(market()).await;
    let app = spawn_trading(&sim, &[]).await;
    let (symbol, band) = sim.hose_stock();

    // Malformed requests never reach the store.
    let (status, e) = app
        .place(
            &json!({"client_id": "x", "account": DEMO_CASH_ACCOUNT, "symbol": "SSI",
                        "side": "buy", "quantity": 100}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_argument")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("need a price"),
        "{e}"
    );
    let (status, e) = app
        .place(
            &json!({"client_id": "x", "account": DEMO_CASH_ACCOUNT, "symbol": "SSI",
                        "side": "buy", "price": 10, "quantity": 100, "colour": "red"}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    let mut other = limit("x", symbol, "buy", band.floor.units(), 100);
    other["account"] = json!("9999991");
    let (status, e) = app.place(&other).await;
    assert_eq!(status, 403, "{e}");

    // The exchange's band: the broker refuses, the order is stored as rejected with why.
    let (status, o) = app
        .place(&limit(
            "band-1",
            symbol,
            "buy",
            band.ceiling.units() + 1_000,
            100,
        ))
        .await;
    assert_eq!(status, 201, "{o}");
    let o = app
        .wait_order(o["id"].as_str().unwrap(), "rejected", |o| {
            o["status"] == "rejected"
        })
        .await;
    assert!(!o["reject_reason"].as_str().unwrap().is_empty(), "{o}");

    // A client id means one order for ever.
    let mut reused = limit("band-1", symbol, "sell", band.floor.units(), 100);
    reused["order_type"] = json!("LO");
    let (status, e) = app.place(&reused).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("already_exists")),
        "{e}"
    );

    let (status, e) = app
        .amend("20250610-00000001", &json!({"price": 1, "quantity": 2}))
        .await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = app.cancel("no-such-order").await;
    assert_eq!(status, 404);
    let r = app.get("/api/oms/v1/orders/no-such-order").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn without_a_broker_orders_are_refused_and_the_book_is_served() {
    let app = spawn_app().await;
    let status = app.status().await;
    assert_eq!(status["accepting"], false);
    assert!(
        status["reason"].as_str().unwrap().contains("no broker"),
        "{status}"
    );
    let body = json!({"client_id": "x", "account": DEMO_CASH_ACCOUNT, "symbol": "SSI",
                      "side": "buy", "price": 20000, "quantity": 100});
    let (code, e) = app.place(&body).await;
    assert_eq!(
        (code, e["code"].as_str()),
        (422, Some("failed_precondition")),
        "{e}"
    );
    assert_eq!(app.get_json("/api/oms/v1/orders").await, json!([]));
}

/// Stores an order the way `place` does before it sends, as if the OMS stopped right there.
async fn stored_not_sent(
    sim: &TestSim,
    db: &Db,
    client_id: &str,
    symbol: market::Symbol,
    price: Price,
) -> oms::domain::Order {
    let request = oms::domain::NewOrder::parse(
        client_id,
        DEMO_CASH_ACCOUNT,
        symbol.as_str(),
        "buy",
        "LO",
        Some(price.units()),
        100,
        None,
    )
    .unwrap();
    let now = sim.sim.now();
    let day = now.to_offset(market::calendar::VN_OFFSET).date();
    match oms::store::create(db, request, day, now).await.unwrap() {
        oms::store::Created::New(o) => o,
        oms::store::Created::Existing(_) => unreachable!(),
    }
}

#[tokio::test]
async fn a_restart_sends_what_never_left_and_adopts_what_did_never_twice() {
    let sim = start_sim(market()).await;
    let (symbol, band) = sim.hose_stock();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let env = [("OMS__DATA_DIR", data_dir.as_str())];
    let app = spawn_trading(&sim, &env).await;
    let db = app.app.db.clone();
    // Two orders stored as if the OMS died after storing them: one reached the broker (sent by
    // hand with its requestID, as the dead OMS would have), one never left.
    let reached = stored_not_sent(&sim, &db, "crash-sent", symbol, band.floor).await;
    let never = stored_not_sent(&sim, &db, "crash-unsent", symbol, band.floor).await;
    let trading = sim.broker_client();
    let ack = trading
        .place(&OrderRequest {
            account: DEMO_CASH_ACCOUNT.into(),
            symbol,
            side: Side::Buy,
            order_type: OrderType::Lo,
            price: Some(band.floor),
            quantity: Quantity::new(100),
            client_order_id: reached.request_id,
        })
        .await
        .unwrap();
    drop(db);
    app.app.stop().await.unwrap();

    // The restarted OMS reconciles before it accepts anything.
    let app = spawn_trading(&sim, &env).await;
    let adopted = app
        .wait_order(&reached.id, "adopted", |o| o["status"] == "new")
        .await;
    if let Some(broker_id) = ack.order_id {
        assert_eq!(adopted["broker_order_id"], broker_id.as_str());
    }
    let sent = app
        .wait_order(&never.id, "sent", |o| o["status"] == "new")
        .await;
    assert!(sent["broker_order_id"].is_string(), "{sent}");
    for o in [&reached, &never] {
        assert_eq!(
            broker_orders(&sim, u64::from(o.request_id.get())).await,
            1,
            "requestID {} placed exactly once",
            o.request_id
        );
    }
    // New orders take requestIDs after the stored ones.
    let (status, next) = app
        .place(&limit(
            "after-restart",
            symbol,
            "buy",
            band.floor.units(),
            100,
        ))
        .await;
    assert_eq!(status, 201, "{next}");
    assert!(next["request_id"].as_u64().unwrap() > u64::from(never.request_id.get()));
}
