//! The v3 adapter through the traits over HTTP, against a small fake of SSI's v3 trading REST
//! (sessions by scope, `clientRequestId` unique per day with 409 on reuse, order book, FCO).
//! The simulator's v3 side will replace this fake for the end-to-end run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use broker::{
    AmendRequest, CancelRequest, ClientOrderId, ConditionalKind, ConditionalRequest, Error,
    Generation, OrderKey, OrderRequest, OrderStatus, Settings, Trigger, V3Settings,
};
use common_error::Classify as _;
use fcsim::config::DEMO_PRIVATE_KEY_XML_B64;
use market::order::Amendment;
use market::{OrderType, Price, Quantity, Side, Symbol};
use serde_json::{Value, json};
use time::macros::datetime;

const ACCOUNT: &str = "1234561";
const TRADING_TOKEN: &str = "trading-token";

#[derive(Default)]
struct Fake {
    orders: Vec<Value>,
    used_ids: HashMap<String, usize>,
    fco: Vec<Value>,
    signed_calls: usize,
}

type Shared = Arc<Mutex<Fake>>;

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// The refusal of a request without a trading-scope token or a signature.
fn refusal(headers: &HeaderMap) -> Option<Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {TRADING_TOKEN}") {
        return Some(answer(
            StatusCode::UNAUTHORIZED,
            json!({"code": 401105, "msg": "Token scope does not allow trading"}),
        ));
    }
    if !headers.contains_key("x-signature") {
        return Some(answer(
            StatusCode::UNAUTHORIZED,
            json!({"code": 401006, "msg": "Missing signature"}),
        ));
    }
    None
}

async fn token(axum::Json(body): axum::Json<Value>) -> Response {
    let access = if body.get("otp").is_some() {
        TRADING_TOKEN
    } else {
        "data-token"
    };
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 3_600;
    answer(
        StatusCode::OK,
        json!({"accessToken": access, "expiresAt": expires}),
    )
}

async fn place(
    State(fake): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    let mut fake = fake.lock().unwrap();
    fake.signed_calls += 1;
    let id = body["clientRequestId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if fake.used_ids.contains_key(&id) {
        return answer(
            StatusCode::CONFLICT,
            json!({"code": 409, "msg": "Duplicate clientRequestId"}),
        );
    }
    let order_id = fake.orders.len() + 1;
    fake.used_ids.insert(id.clone(), order_id);
    fake.orders.push(json!({
        "clientRequestId": id, "orderId": order_id, "symbol": body["symbol"],
        "side": body["side"], "orderType": body["orderType"], "price": body["price"],
        "quantity": body["quantity"], "filledQty": 0, "cancelQty": 0, "orderStatus": "QU",
        "inputTime": "2026-05-04T09:15:00"
    }));
    answer(
        StatusCode::OK,
        json!({"orderId": order_id, "clientRequestId": id, "orderStatus": "PD"}),
    )
}

fn find(fake: &mut Fake, body: &Value) -> Option<usize> {
    let id = body["orderId"].as_str()?.parse::<usize>().ok()?;
    (1..=fake.orders.len()).contains(&id).then_some(id - 1)
}

async fn modify(
    State(fake): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    let mut fake = fake.lock().unwrap();
    let modify_id = body["clientModifyId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if fake.used_ids.contains_key(&modify_id) {
        return answer(
            StatusCode::CONFLICT,
            json!({"code": 409, "msg": "Duplicate clientModifyId"}),
        );
    }
    let Some(i) = find(&mut fake, &body) else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"code": 404, "msg": "Order not found"}),
        );
    };
    if body.get("price").is_some() == body.get("quantity").is_some() {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"code": 400107, "msg": "Modify price or quantity, not both"}),
        );
    }
    fake.used_ids.insert(modify_id.clone(), i + 1);
    let o = &mut fake.orders[i];
    if let Some(p) = body.get("price") {
        o["price"] = p.clone();
    }
    if let Some(q) = body.get("quantity") {
        o["quantity"] = q.clone();
    }
    answer(
        StatusCode::OK,
        json!({"orderId": (i + 1).to_string(), "clientRequestId": o["clientRequestId"],
               "clientModifyId": modify_id, "orderStatus": "WM"}),
    )
}

async fn cancel(
    State(fake): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    let mut fake = fake.lock().unwrap();
    let Some(i) = find(&mut fake, &body) else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"code": 404, "msg": "Order not found"}),
        );
    };
    let o = &mut fake.orders[i];
    o["orderStatus"] = json!("CL");
    o["cancelQty"] = o["quantity"].clone();
    answer(
        StatusCode::OK,
        json!({"orderId": (i + 1).to_string(), "clientCancelId": body["clientCancelId"],
               "orderStatus": "WC"}),
    )
}

async fn order_book(State(fake): State<Shared>) -> Response {
    let fake = fake.lock().unwrap();
    answer(
        StatusCode::OK,
        json!({"accountNo": ACCOUNT, "orderList": fake.orders, "totalRecord": fake.orders.len()}),
    )
}

async fn fco(
    State(fake): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    let mut fake = fake.lock().unwrap();
    fake.fco.push(body);
    answer(
        StatusCode::OK,
        json!({"fcoId": format!("F{}", fake.fco.len())}),
    )
}

async fn fco_cancel(headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    answer(StatusCode::OK, json!({"fcoId": body["fcoId"]}))
}

async fn start() -> (String, Shared) {
    let fake = Shared::default();
    let app = Router::new()
        .route("/api/v3/auth/token", post(token))
        .route(
            "/api/v3/trading/order",
            post(place).put(modify).delete(cancel),
        )
        .route("/api/v3/trading/orderBook", get(order_book))
        .route("/api/v3/trading/fco/order", post(fco).delete(fco_cancel))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fake)
}

fn settings(url: &str) -> Settings {
    let text = format!(
        "generation = \"v3\"\napi_key = \"key\"\napi_secret = \"secret\"\napi_url = \"{url}\"\n\
         stream_url = \"ws://127.0.0.1:1/ws/v3\"\nprivate_key = \"{DEMO_PRIVATE_KEY_XML_B64}\"\n\
         [http]\nrate_limits = []\n"
    );
    let settings: Settings = toml::from_str(&text).unwrap();
    assert!(matches!(settings, Settings::V3(V3Settings { .. })));
    settings
}

fn id(n: u32) -> ClientOrderId {
    ClientOrderId::new(n).unwrap()
}

fn ssi() -> Symbol {
    Symbol::parse("SSI").unwrap()
}

fn limit(n: u32) -> OrderRequest {
    OrderRequest {
        account: ACCOUNT.to_owned(),
        symbol: ssi(),
        side: Side::Buy,
        order_type: OrderType::Lo,
        price: Some(Price::new(25_300).unwrap()),
        quantity: Quantity::new(100),
        client_order_id: id(n),
    }
}

#[tokio::test]
async fn orders_go_out_exactly_once_and_come_back_in_the_book() {
    let (url, fake) = start().await;
    let b = broker::connect(settings(&url)).unwrap();
    let trading = b.trading.clone().unwrap();
    assert_eq!(trading.generation(), Generation::V3);

    // Before a person's OTP login the session is data-only: trading is refused by scope.
    let err = trading.place(&limit(1001)).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    assert_eq!(err.kind(), common_error::Kind::PermissionDenied);
    assert!(fake.lock().unwrap().orders.is_empty());

    b.v3_client
        .as_ref()
        .unwrap()
        .login_otp(&"123456".to_owned().into())
        .await
        .unwrap();
    let ack = trading.place(&limit(1001)).await.unwrap();
    assert_eq!(ack.client_order_id, id(1001));
    assert_eq!(ack.order_id.as_deref(), Some("1"));
    assert_eq!(ack.status, Some(OrderStatus::PendingNew));
    {
        let fake = fake.lock().unwrap();
        let sent = &fake.orders[0];
        assert_eq!(sent["clientRequestId"], "1001");
        assert_eq!(sent["price"], "25300");
        assert_eq!(sent["side"], "B");
        assert_eq!(sent["orderType"], "LO");
    }

    // The retry after a lost answer: one order, and the caller finds it.
    let err = trading.place(&limit(1001)).await.unwrap_err();
    assert!(
        matches!(err, Error::Duplicate { client_order_id, .. } if client_order_id == id(1001)),
        "{err}"
    );
    assert_eq!(err.kind(), common_error::Kind::AlreadyExists);
    assert_eq!(fake.lock().unwrap().orders.len(), 1);
    let found = trading
        .find_order(ACCOUNT, id(1001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.order_id, "1");
    assert_eq!(found.price, Some(Price::new(25_300).unwrap()));
    assert_eq!(found.status, OrderStatus::New);

    // Amend (price only, by order id) and cancel.
    let key = OrderKey {
        account: ACCOUNT.to_owned(),
        order_id: found.order_id.clone(),
        symbol: ssi(),
        side: Side::Buy,
        order_type: OrderType::Lo,
        price: found.price,
        quantity: found.quantity,
    };
    let ack = trading
        .amend(&AmendRequest {
            order: key.clone(),
            change: Amendment::Price(Price::new(25_250).unwrap()),
            client_order_id: id(1002),
        })
        .await
        .unwrap();
    assert_eq!(ack.status, Some(OrderStatus::PendingAmend));
    let ack = trading
        .cancel(&CancelRequest {
            order: key,
            client_order_id: id(1003),
        })
        .await
        .unwrap();
    assert_eq!(ack.status, Some(OrderStatus::PendingCancel));
    let book = trading.order_book(ACCOUNT).await.unwrap();
    assert_eq!(book.len(), 1);
    assert_eq!(book[0].price, Some(Price::new(25_250).unwrap()));
    assert_eq!(book[0].status, OrderStatus::Cancelled);
    assert_eq!(book[0].cancelled, Quantity::new(100));
    assert_eq!(book[0].client_order_id, Some(id(1001)));

    // Conditional orders are held by SSI as FCO.
    assert!(trading.conditional_support().broker_held);
    let fco_id = trading
        .place_conditional(&ConditionalRequest {
            account: ACCOUNT.to_owned(),
            symbol: ssi(),
            side: Side::Sell,
            quantity: Quantity::new(100),
            from: datetime!(2026-05-04 09:00),
            to: datetime!(2026-05-29 15:00),
            kind: ConditionalKind::StopLimit {
                trigger: Trigger::AtOrBelow(Price::new(24_000).unwrap()),
                limit: Price::new(23_900).unwrap(),
            },
        })
        .await
        .unwrap();
    assert_eq!(fco_id, "F1");
    {
        let fake = fake.lock().unwrap();
        let sent = &fake.fco[0];
        assert_eq!(sent["type"], "stop_limit", "{sent}");
        assert_eq!(sent["symbol"], "SSI", "{sent}");
        assert_eq!(sent["side"], "S", "{sent}");
    }
    trading.cancel_conditional(ACCOUNT, &fco_id).await.unwrap();
}
