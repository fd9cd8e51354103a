//! FastConnect v3 against the simulator with raw HTTP and WebSocket clients: OTP and
//! Smart-OTP login, refresh rotation and reuse, signatures, orders shared with v2,
//! `clientRequestId` reuse, batches, quotas, durability, and the stream.

use fastconnect::trading::RequestSigner;
use fcsim::config::{
    DEMO_CASH_ACCOUNT, DEMO_DERIVATIVES_ACCOUNT, DEMO_PRIVATE_KEY_XML_B64, DEMO_V3_API_KEY,
    DEMO_V3_API_SECRET, OtpMethod,
};
use fcsim::{SimConfig, config::RateRule};
use market::{Exchange, InstrumentKind};
use serde_json::{Value, json};

use super::helpers::{
    TestSim, first_instrument, spawn_with, temp_data_dir, trading_client, trading_config,
};

/// A raw v3 client of the demo key.
struct V3 {
    http: reqwest::Client,
    base: String,
    token: String,
    signer: RequestSigner,
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn creds() -> Value {
    json!({"apiKey": DEMO_V3_API_KEY, "apiSecret": DEMO_V3_API_SECRET})
}

/// Logs in with an OTP from `requestOtp` (trading scope) or without (data only).
async fn login(t: &TestSim, trading: bool) -> V3 {
    let base = t.trading_url.clone();
    let mut body = creds();
    if trading {
        let (status, otp) = post(&base, "/api/v3/auth/requestOtp", creds()).await;
        assert_eq!((status, otp["code"].as_i64()), (200, Some(200)), "{otp}");
        body["otp"] = json!(t.sim.pending_v3_otp(DEMO_V3_API_KEY).unwrap());
    }
    let (status, token) = post(&base, "/api/v3/auth/token", body).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["tokenType"], "Bearer");
    assert!(token["refreshExpiresAt"].as_i64() > token["expiresAt"].as_i64());
    V3 {
        http: reqwest::Client::new(),
        base,
        token: token["accessToken"].as_str().unwrap().to_owned(),
        signer: RequestSigner::from_key(&DEMO_PRIVATE_KEY_XML_B64.to_owned().into()).unwrap(),
    }
}

impl V3 {
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// A signed call; the body is serialised as the SDK does (`json.dumps` separators).
    async fn signed(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let text = python_json(body);
        let signature = self.signer.sign(text.as_bytes()).unwrap();
        self.send(method, path, text, Some(&signature)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        text: String,
        signature: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/json")
            .body(text);
        if let Some(s) = signature {
            req = req.header("X-Signature", s);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }
}

/// JSON with Python's default separators (`", "`, `": "`), as the SDK signs it.
fn python_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(python_json).collect();
            format!("[{}]", items.join(", "))
        }
        other @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => {
            other.to_string()
        }
    }
}

fn hose_stock(t: &TestSim) -> (String, i64) {
    let (symbol, band) = first_instrument(t, |x| {
        x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock
    });
    (symbol, band.floor.units())
}

fn place_body(symbol: &str, price: i64, qty: u64, id: &str) -> Value {
    json!({"accountNo": DEMO_CASH_ACCOUNT, "symbol": symbol, "side": "B", "quantity": qty,
        "price": price.to_string(), "orderType": "LO", "clientRequestId": id,
        "deviceId": "0123456789abcdef0123456789abcdef", "userAgent": "conformance"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_login_scopes_and_refresh_rotation() {
    let t = spawn_with(trading_config()).await;
    // Without an OTP: market data and account info, but no trading.
    let data = login(&t, false).await;
    let (status, accounts) = data.get("/api/v3/account/info", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        accounts,
        json!([{"accountNo": DEMO_CASH_ACCOUNT, "accountType": "Cash"},
            {"accountNo": DEMO_DERIVATIVES_ACCOUNT, "accountType": "Derivative"}])
    );
    let (symbol, floor) = hose_stock(&t);
    let (status, err) = data
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            &place_body(&symbol, floor, 100, "scope1"),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_i64()),
        (401, Some(401_105)),
        "{err}"
    );

    // A wrong OTP is refused with 401100; a right one grants trading.
    let (_, _) = post(&t.trading_url, "/api/v3/auth/requestOtp", creds()).await;
    let mut wrong = creds();
    wrong["otp"] = json!("not-it");
    let (status, err) = post(&t.trading_url, "/api/v3/auth/token", wrong).await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(401_100)));
    let mut wrong_secret = creds();
    wrong_secret["apiSecret"] = json!("nope");
    let (status, err) = post(&t.trading_url, "/api/v3/auth/token", wrong_secret).await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(401_105)));

    // One session per key: the OTP login replaced the data-only one.
    let trader = login(&t, true).await;
    let (status, err) = data.get("/api/v3/account/info", &[]).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(trader.get("/api/v3/account/info", &[]).await.0, 200);

    // Refresh rotates; reusing the spent refresh token revokes the whole session.
    let (_, first) = post(&t.trading_url, "/api/v3/auth/requestOtp", creds()).await;
    assert_eq!(first["code"], 200);
    let mut body = creds();
    body["otp"] = json!(t.sim.pending_v3_otp(DEMO_V3_API_KEY).unwrap());
    let (_, pair) = post(&t.trading_url, "/api/v3/auth/token", body).await;
    let refresh = pair["refreshToken"].clone();
    let (status, rotated) = post(
        &t.trading_url,
        "/api/v3/auth/refresh",
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let rotated_client = V3 {
        token: rotated["accessToken"].as_str().unwrap().to_owned(),
        ..login_free(&t)
    };
    // The refreshed token keeps the trading scope.
    let (status, placed) = rotated_client
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            &place_body(&symbol, floor, 100, "afterRefresh1"),
        )
        .await;
    assert_eq!(status, 200, "{placed}");
    let (status, err) = post(
        &t.trading_url,
        "/api/v3/auth/refresh",
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(401_103)));
    assert_eq!(rotated_client.get("/api/v3/account/info", &[]).await.0, 401);
    let (status, err) = post(
        &t.trading_url,
        "/api/v3/auth/refresh",
        json!({"refreshToken": rotated["refreshToken"]}),
    )
    .await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(401_101)));
    t.stop().await;
}

/// A client with no token yet (filled in by the caller).
fn login_free(t: &TestSim) -> V3 {
    V3 {
        http: reqwest::Client::new(),
        base: t.trading_url.clone(),
        token: String::new(),
        signer: RequestSigner::from_key(&DEMO_PRIVATE_KEY_XML_B64.to_owned().into()).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_otp_is_pending_on_the_first_poll_and_approved_on_the_second() {
    let mut config = trading_config();
    config.v3_consumers[0].otp = OtpMethod::Smart;
    let t = spawn_with(config).await;
    let (status, otp) = post(&t.trading_url, "/api/v3/auth/requestOtp", creds()).await;
    assert_eq!(status, 200);
    let id = otp["transactionId"].as_str().unwrap().to_owned();
    let mut body = creds();
    body["transactionId"] = json!(id);
    let (status, pending) = post(&t.trading_url, "/api/v3/auth/token", body.clone()).await;
    assert_eq!(
        (status, pending["code"].as_i64()),
        (202, Some(401_114)),
        "{pending}"
    );
    let (status, token) = post(&t.trading_url, "/api/v3/auth/token", body.clone()).await;
    assert_eq!(status, 200, "{token}");
    assert!(token["accessToken"].as_str().is_some());
    // Consumed: a third poll finds nothing.
    let (status, gone) = post(&t.trading_url, "/api/v3/auth/token", body).await;
    assert_eq!((status, gone["code"].as_i64()), (401, Some(401_113)));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_over_the_exact_body() {
    let t = spawn_with(trading_config()).await;
    let v3 = login(&t, true).await;
    let (symbol, floor) = hose_stock(&t);
    let body = python_json(&place_body(&symbol, floor, 100, "sig1"));
    let (status, err) = v3
        .send(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            body.clone(),
            None,
        )
        .await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(401_006)));
    // Signed over other bytes (the same JSON without spaces): refused.
    let compact = serde_json::to_string(&place_body(&symbol, floor, 100, "sig1")).unwrap();
    let other = v3.signer.sign(compact.as_bytes()).unwrap();
    let (status, err) = v3
        .send(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            body.clone(),
            Some(&other),
        )
        .await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(401_013)));
    let good = v3.signer.sign(body.as_bytes()).unwrap();
    let (status, ok) = v3
        .send(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            body,
            Some(&good),
        )
        .await;
    assert_eq!(status, 200, "{ok}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_shared_with_v2_and_client_ids_are_once_a_day() {
    let t = spawn_with(trading_config()).await;
    let v3 = login(&t, true).await;
    let (symbol, floor) = hose_stock(&t);
    let order = "/api/v3/trading/order";

    // Placed over v3, resting at the floor.
    let (status, placed) = v3
        .signed(
            reqwest::Method::POST,
            order,
            &place_body(&symbol, floor, 200, "abcDEF0123456789wxyz"),
        )
        .await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!(placed["clientRequestId"], "abcDEF0123456789wxyz");
    let order_id = placed["orderId"].as_str().unwrap().to_owned();
    // Reusing the clientRequestId the same day: 409.
    let (status, dup) = v3
        .signed(
            reqwest::Method::POST,
            order,
            &place_body(&symbol, floor, 100, "abcDEF0123456789wxyz"),
        )
        .await;
    assert_eq!((status, dup["code"].as_i64()), (409, Some(409)), "{dup}");
    // Longer than 20 characters: 400.
    let (status, _) = v3
        .signed(
            reqwest::Method::POST,
            order,
            &place_body(&symbol, floor, 100, "abcDEF0123456789wxyz1"),
        )
        .await;
    assert_eq!(status, 400);

    // v2 sees it in its order book.
    let v2 = trading_client(&t);
    v2.login(&fcsim::config::DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let book = v2.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let seen = book
        .orders
        .iter()
        .find(|o| o.order_id == order_id)
        .expect("v3 order in v2's orderBook");
    assert_eq!(seen.quantity, Some(200));

    // Modify the quantity by clientRequestId; both price and quantity is 400107.
    let (status, both) = v3
        .signed(reqwest::Method::PUT, order, &json!({"accountNo": DEMO_CASH_ACCOUNT,
            "clientModifyId": "mod1", "deviceId": "d", "userAgent": "u",
            "clientRequestId": "abcDEF0123456789wxyz", "price": floor.to_string(), "quantity": 300}))
        .await;
    assert_eq!((status, both["code"].as_i64()), (400, Some(400_107)));
    let (status, modified) = v3
        .signed(
            reqwest::Method::PUT,
            order,
            &json!({"accountNo": DEMO_CASH_ACCOUNT,
            "clientModifyId": "mod2", "deviceId": "d", "userAgent": "u",
            "clientRequestId": "abcDEF0123456789wxyz", "quantity": 300}),
        )
        .await;
    assert_eq!(status, 200, "{modified}");
    assert_eq!(modified["orderId"], order_id.as_str());
    let book = v2.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let seen = book.orders.iter().find(|o| o.order_id == order_id).unwrap();
    assert_eq!(seen.quantity, Some(300));

    // Placed over v2, seen and cancelled over v3 (DELETE with a body).
    let mut o = fastconnect::trading::NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        fastconnect::TradingMarket::Vn,
        fastconnect::Side::Buy,
        fastconnect::Decimal::from_i64(floor),
        100,
    );
    o.request_id = Some(fastconnect::trading::RequestId::new(4242).unwrap());
    v2.new_order(o).await.unwrap();
    let (status, book) = v3
        .get(
            "/api/v3/trading/orderBook",
            &[("accountNo", DEMO_CASH_ACCOUNT), ("pageSize", "100")],
        )
        .await;
    assert_eq!(status, 200, "{book}");
    let list = book["orderList"].as_array().unwrap();
    assert_eq!(book["totalRecord"].as_u64(), Some(list.len() as u64));
    let from_v2 = list
        .iter()
        .find(|o| o["clientRequestId"] == "4242")
        .expect("v2 order in v3's orderBook");
    assert_eq!(from_v2["orderStatus"], "QU");
    assert_eq!(from_v2["symbol"], symbol.as_str());
    let (status, cancelled) = v3
        .signed(
            reqwest::Method::DELETE,
            order,
            &json!({"accountNo": DEMO_CASH_ACCOUNT,
            "clientCancelId": "can1", "deviceId": "d", "userAgent": "u",
            "orderId": from_v2["orderId"]}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["orderStatus"], "CL");
    let book = v2.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    let seen = book
        .orders
        .iter()
        .find(|o| o.unique_id.as_deref() == Some("can1"))
        .expect("the v3 cancel in v2's orderBook");
    assert_eq!(seen.cancel_qty, Some(100));

    // Another customer's account is denied.
    let (status, _) = v3
        .get("/api/v3/trading/orderBook", &[("accountNo", "9999991")])
        .await;
    assert_eq!(status, 403);

    // Balance, position, maxBuySell, ppmmr answer from the same engine.
    let (status, bal) = v3
        .get(
            "/api/v3/trading/accountBalance",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 200, "{bal}");
    assert!(bal["equity"]["onHoldCash"].as_i64().unwrap() >= 300 * floor);
    let (status, pos) = v3
        .get(
            "/api/v3/trading/position",
            &[("accountNo", DEMO_CASH_ACCOUNT), ("querySummary", "true")],
        )
        .await;
    assert_eq!(status, 200);
    let ssi = pos["equity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["symbol"] == "SSI")
        .expect("demo SSI holding");
    assert_eq!(ssi["quantity"], 10_000);
    let (status, max) = v3
        .get(
            "/api/v3/trading/maxBuySell",
            &[("accountNo", DEMO_CASH_ACCOUNT), ("symbol", "SSI")],
        )
        .await;
    assert_eq!(status, 200, "{max}");
    assert_eq!(max["maxSellQty"], 10_000);
    assert!(max["maxBuyQty"].as_u64().unwrap() > 0);
    let (status, pp) = v3
        .get(
            "/api/v3/trading/ppmmrAccount",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(pp["equity"]["purchasingPower"].as_i64().unwrap() > 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_all_or_nothing_and_once_a_day() {
    let t = spawn_with(trading_config()).await;
    let v3 = login(&t, true).await;
    let (symbol, floor) = hose_stock(&t);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let path = "/api/v3/trading/order/batch";
    // One bad order (quantity 0) rejects all.
    let mut bad = place_body(&symbol, floor, 100, "b2");
    bad["quantity"] = json!(0);
    let (status, _) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &json!({"batchRequestId": "batch1",
            "batchRequestTime": now_ms, "orders": [place_body(&symbol, floor, 100, "b1"), bad]}),
        )
        .await;
    assert_eq!(status, 400);
    // A stale batchRequestTime is a replay.
    let (status, stale) = v3
        .signed(reqwest::Method::POST, path, &json!({"batchRequestId": "batch1",
            "batchRequestTime": now_ms - 3_600_000, "orders": [place_body(&symbol, floor, 100, "b1")]}))
        .await;
    assert_eq!((status, stale["code"].as_i64()), (400, Some(400_111)));
    let good = json!({"batchRequestId": "batch1", "batchRequestTime": now_ms,
        "orders": [place_body(&symbol, floor, 100, "b1"), place_body(&symbol, floor, 100, "b2")]});
    let (status, done) = v3.signed(reqwest::Method::POST, path, &good).await;
    assert_eq!(status, 200, "{done}");
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|r| r["success"] == true && r["orderId"].is_string())
    );
    let (status, again) = v3.signed(reqwest::Method::POST, path, &good).await;
    assert_eq!(status, 409, "{again}");
    // Batch cancel by clientRequestId.
    let cancel = |id: &str, c: &str| {
        json!({"accountNo": DEMO_CASH_ACCOUNT, "clientCancelId": c, "deviceId": "d",
            "userAgent": "u", "clientRequestId": id})
    };
    let (status, done) = v3
        .signed(
            reqwest::Method::DELETE,
            path,
            &json!({"batchRequestId": "batch2",
            "batchRequestTime": now_ms, "orders": [cancel("b1", "c1"), cancel("b2", "c2")]}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert!(
        done["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["success"] == true && r["orderStatus"] == "CL")
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_answer_429_with_retry_after() {
    let mut config = trading_config();
    config.rate_limits = vec![RateRule {
        endpoint: "*".to_owned(),
        period: "1m".to_owned(),
        limit: 3,
    }];
    let t = spawn_with(config).await;
    let v3 = login(&t, false).await;
    let (status, book) = v3
        .get(
            "/api/v3/trading/orderBook",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(book["totalRecord"], 0);
    let resp = v3
        .http
        .get(format!("{}/api/v3/account/info", v3.base))
        .bearer_auth(&v3.token)
        .send()
        .await
        .unwrap();
    let header = |name: &str| -> u64 { resp.headers()[name].to_str().unwrap().parse().unwrap() };
    assert_eq!(header("x-ratelimit-limit"), 3);
    assert_eq!(header("x-ratelimit-remaining"), 1);
    assert!((1..=60).contains(&header("x-ratelimit-reset")));
    assert_eq!(v3.get("/api/v3/account/info", &[]).await.0, 200);
    let resp = v3
        .http
        .get(format!("{}/api/v3/account/info", v3.base))
        .bearer_auth(&v3.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 429);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_orders_and_client_ids_survive_a_restart() {
    let dir = temp_data_dir("v3-restart");
    let config = SimConfig {
        data_dir: Some(dir.clone()),
        ..trading_config()
    };
    let t = spawn_with(config.clone()).await;
    let v3 = login(&t, true).await;
    let (symbol, floor) = hose_stock(&t);
    let (status, placed) = v3
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            &place_body(&symbol, floor, 100, "durable1"),
        )
        .await;
    assert_eq!(status, 200, "{placed}");
    t.stop().await;

    let t = spawn_with(config).await;
    let v3 = login(&t, true).await;
    let (status, book) = v3
        .get(
            "/api/v3/trading/orderBook",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        book["orderList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["orderId"] == placed["orderId"] && o["clientRequestId"] == "durable1"),
        "{book}"
    );
    let (status, _) = v3
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            &place_body(&symbol, floor, 100, "durable1"),
        )
        .await;
    assert_eq!(status, 409);
    t.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_data_comes_from_the_same_generator_as_fc_data() {
    let t = super::helpers::spawn_sim().await;
    let v3 = login(&t, false).await;
    let ohlc = |from: &'static str, to: &'static str, tf: &'static str, size: &'static str| {
        [
            ("symbol", "SSI"),
            ("from", from),
            ("to", to),
            ("timeFrame", tf),
            ("pageSize", size),
        ]
    };
    let (status, daily) = v3
        .get(
            "/api/v3/data/ohlc",
            &ohlc("2025/05/12 00:00:00", "2025/06/09 23:59:59", "1d", "100"),
        )
        .await;
    assert_eq!(status, 200, "{daily}");
    let bars = daily["data"].as_array().unwrap();
    assert_eq!(
        bars.len(),
        21,
        "trading days from Mon 12/05 to Mon 09/06/2025"
    );
    assert_eq!(bars[0]["tradingDate"], "2025/06/09", "newest first");
    let v2 = super::helpers::data_client(&t)
        .all(&fastconnect::data::DailyOhlcQuery::new(
            "SSI",
            time::macros::date!(2025 - 05 - 12),
            time::macros::date!(2025 - 06 - 09),
        ))
        .await
        .unwrap();
    let newest = v2.iter().max_by_key(|b| b.trading_date).unwrap();
    assert_eq!(
        bars[0]["close"].as_f64().unwrap(),
        newest.close.to_string().parse::<f64>().unwrap()
    );
    // Longer than FC Data's 30-day window, paged by 10 by default.
    let (_, long) = v3
        .get(
            "/api/v3/data/ohlc",
            &ohlc("2025/03/03 00:00:00", "2025/06/09 23:59:59", "1d", "1000"),
        )
        .await;
    let dates: Vec<&str> = long["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["tradingDate"].as_str().unwrap())
        .collect();
    assert!(
        dates.len() > 30,
        "more than one FC Data window: {}",
        dates.len()
    );
    assert!(
        dates.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
    let (_, first_page) = v3
        .get(
            "/api/v3/data/ohlc",
            &ohlc("2025/03/03 00:00:00", "2025/06/09 23:59:59", "1d", "10"),
        )
        .await;
    assert_eq!(first_page["data"].as_array().unwrap().len(), 10);
    // Minute bars stay inside the asked window.
    let (status, minutes) = v3
        .get(
            "/api/v3/data/ohlc",
            &ohlc("2025/06/09 09:15:00", "2025/06/09 10:00:00", "5m", "1000"),
        )
        .await;
    assert_eq!(status, 200, "{minutes}");
    let m = minutes["data"].as_array().unwrap();
    assert!(!m.is_empty());
    assert!(m.iter().all(|b| {
        let d = b["tradingDate"].as_str().unwrap();
        ("2025/06/09 09:15:00"..="2025/06/09 10:00:00").contains(&d)
    }));
    // Errors: a bare date, an unknown time frame.
    let (status, e) = v3
        .get(
            "/api/v3/data/ohlc",
            &ohlc("2025/06/09", "2025/06/09", "1d", "10"),
        )
        .await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(400_213)));
    let (status, e) = v3
        .get(
            "/api/v3/data/ohlc",
            &ohlc("2025/06/09 00:00:00", "2025/06/09 23:00:00", "1w", "10"),
        )
        .await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(400_210)));

    let (status, list) = v3.get("/api/v3/data/indexList", &[("board", "HOSE")]).await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|i| i["board"] == "HOSE")
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|i| i["index"] == "VNINDEX")
    );
    let (status, e) = v3.get("/api/v3/data/indexList", &[("board", "NYSE")]).await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(400_208)));
    let (status, e) = v3.get("/api/v3/data/indexSummary", &[]).await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(504_207)));
    let (status, summary) = v3
        .get(
            "/api/v3/data/indexSummary",
            &[("index", "VNINDEX"), ("tradingDate", "2025/06/09")],
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    assert!(summary[0]["indexValue"].as_f64().unwrap() > 0.0);
    let (status, hnx) = v3
        .get("/api/v3/data/securitiesByBoard", &[("board", "HNX")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(hnx.as_array().unwrap().len(), 20);
    assert!(
        hnx.as_array()
            .unwrap()
            .iter()
            .all(|s| s["board"] == "HNX" && s["lotSize"] == 100)
    );
    let (status, e) = v3.get("/api/v3/data/securitiesByBoard", &[]).await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(504_208)));
    let (status, sec) = v3
        .get(
            "/api/v3/data/securitiesSummary",
            &[
                ("symbol", "SSI"),
                ("from", "2025/06/02"),
                ("to", "2025/06/09"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{sec}");
    assert_eq!(sec["data"].as_array().unwrap().len(), 6);
    let row = &sec["data"][0];
    assert!(
        row["floor"].as_f64() <= row["low"].as_f64()
            && row["high"].as_f64() <= row["ceiling"].as_f64()
    );
    let (status, e) = v3
        .get(
            "/api/v3/data/securitiesSummary",
            &[("symbol", "SSI"), ("index", "VN30")],
        )
        .await;
    assert_eq!((status, e["code"].as_i64()), (400, Some(504_209)));
    let (status, master) = v3
        .get(
            "/api/v3/data/masterdata",
            &[
                ("from", "2025/06/09"),
                ("to", "2025/06/09"),
                ("pageSize", "50"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{master}");
    assert_eq!(master["data"].as_array().unwrap().len(), 50);
    assert!(master["pagesCount"].as_u64().unwrap() >= 2);
    let (status, none) = v3
        .get(
            "/api/v3/data/corporateActions",
            &[
                ("from", "2025/06/05"),
                ("to", "2025/06/09"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!((status, none["code"].as_i64()), (200, Some(204)));
    t.stop().await;
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn stream(t: &TestSim, token: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let url = format!("{}/ws/v3", t.trading_url.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

async fn send(ws: &mut Ws, v: Value) {
    use futures::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        v.to_string().into(),
    ))
    .await
    .unwrap();
}

/// The next JSON frame satisfying `pred` within `secs` seconds.
async fn next_frame(ws: &mut Ws, secs: u64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    use futures::StreamExt as _;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("stream closed waiting for {what}"))
            .unwrap();
        let Ok(text) = msg.into_text() else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        if pred(&v) {
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_serves_market_and_account_topics() {
    let t = super::helpers::spawn_sim().await;
    let v3 = login(&t, true).await;
    let mut ws = stream(&t, &v3.token).await;
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "DATA",
        "topics": ["trade.SSI", "quote.ssi", "market.SSI", "market.flag", "trade.index.VNINDEX",
            "trade.SSI@1m"]}),
    )
    .await;
    let ack = next_frame(&mut ws, 5, "subscribe ack", |v| v["method"] == "subscribe").await;
    assert_eq!(ack["status"], "ok", "{ack}");
    let band = next_frame(&mut ws, 5, "market.SSI", |v| v["topic"] == "market.SSI").await;
    assert!(band["data"]["ce"].as_f64() > band["data"]["fl"].as_f64());
    let flag = next_frame(&mut ws, 5, "market.FLAG", |v| v["topic"] == "market.FLAG").await;
    assert!(flag["data"]["b"].is_string() && flag["data"]["f"].is_string());
    let trade = next_frame(&mut ws, 20, "trade.SSI", |v| v["topic"] == "trade.SSI").await;
    assert_eq!(trade["channel"], "DATA");
    assert_eq!(trade["data"]["s"], "SSI");
    assert!(trade["data"]["p"].as_f64().unwrap() > 0.0 && trade["data"]["q"].as_u64().unwrap() > 0);
    let bar = next_frame(&mut ws, 20, "trade.SSI@1m", |v| {
        v["topic"] == "trade.SSI@1m"
    })
    .await;
    assert!(bar["data"]["st"].is_string() && bar["data"]["v"].as_u64().unwrap() > 0);
    let quote = next_frame(&mut ws, 20, "quote.SSI", |v| v["topic"] == "quote.SSI").await;
    assert!(quote["data"]["bids"].is_array());
    let index = next_frame(&mut ws, 20, "trade.index.VNINDEX", |v| {
        v["topic"] == "trade.index.VNINDEX"
    })
    .await;
    assert!(index["data"]["v"].as_f64().unwrap() > 0.0);

    // Account topics: only the key's own accounts.
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "TRADING", "topics": ["order.9999991"]}),
    )
    .await;
    let denied = next_frame(&mut ws, 5, "denied ack", |v| v["method"] == "subscribe").await;
    assert_eq!(denied["status"], "error");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("Denied (account)")
    );
    send(&mut ws, json!({"method": "subscribe", "channel": "TRADING", "topics": [format!("order.{DEMO_CASH_ACCOUNT}")]})).await;
    let ok = next_frame(&mut ws, 5, "order ack", |v| v["method"] == "subscribe").await;
    assert_eq!(ok["status"], "ok", "{ok}");
    let (symbol, floor) = hose_stock(&t);
    let (status, placed) = v3
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/order",
            &place_body(&symbol, floor, 100, "streamed1"),
        )
        .await;
    assert_eq!(status, 200, "{placed}");
    let event = next_frame(&mut ws, 10, "orderEvent", |v| {
        v["channel"] == "TRADING" && v["data"]["clientRequestId"] == "streamed1"
    })
    .await;
    assert_eq!(event["topic"], format!("order.{DEMO_CASH_ACCOUNT}"));
    assert_eq!(event["data"]["eventType"], "orderEvent");
    assert_eq!(event["data"]["orderId"], placed["orderId"]);
    assert_eq!(event["data"]["accountNo"], DEMO_CASH_ACCOUNT);

    // Heartbeat and the subscription list.
    send(
        &mut ws,
        json!({"method": "ping_pong", "channel": "HEARTBEAT", "topics": []}),
    )
    .await;
    let pong = next_frame(&mut ws, 5, "pong", |v| v["channel"] == "HEARTBEAT").await;
    assert_eq!(pong["method"], "PING_PONG");
    send(&mut ws, json!({"method": "list_subscription"})).await;
    let list = next_frame(&mut ws, 5, "list", |v| v.get("trading").is_some()).await;
    assert_eq!(list["trading"], format!("order.{DEMO_CASH_ACCOUNT}"));
    assert!(
        list["data"]
            .as_str()
            .unwrap()
            .split(';')
            .any(|t| t == "quote.SSI")
    );

    // At most hub_max_subscriptions (64) topics per socket.
    let many: Vec<String> = (0..64).map(|i| format!("trade.X{i}")).collect();
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "DATA", "topics": many}),
    )
    .await;
    let capped = next_frame(&mut ws, 5, "capped ack", |v| v["method"] == "subscribe").await;
    assert_eq!(capped["status"], "error");
    assert!(
        capped["message"]
            .as_str()
            .unwrap()
            .contains("at most 64 topics")
    );

    // A frame over 4,096 bytes closes the socket with 1009.
    let topics: Vec<String> = (0..600).map(|i| format!("trade.S{i:04}")).collect();
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "DATA", "topics": topics}),
    )
    .await;
    use futures::StreamExt as _;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(m) = ws.next().await {
            match m {
                Ok(tokio_tungstenite::tungstenite::Message::Close(f)) => {
                    return f.map(|f| u16::from(f.code));
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .unwrap();
    assert_eq!(closed, Some(1009));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_ten_sockets_per_key_and_trading_topics_need_an_otp_token() {
    let t = spawn_with(trading_config()).await;
    let data = login(&t, false).await;
    let mut open = Vec::new();
    for _ in 0..10 {
        open.push(stream(&t, &data.token).await);
    }
    let mut eleventh = stream(&t, &data.token).await;
    let refused = next_frame(&mut eleventh, 5, "429", |v| v.get("code").is_some()).await;
    assert_eq!(refused["code"], 429);
    let ws = &mut open[0];
    send(ws, json!({"method": "subscribe", "channel": "TRADING", "topics": [format!("order.{DEMO_CASH_ACCOUNT}")]})).await;
    let denied = next_frame(ws, 5, "scope ack", |v| v["method"] == "subscribe").await;
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("Denied (scope)"),
        "{denied}"
    );
    // A slot frees when a socket closes.
    drop(open.pop());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut again = stream(&t, &data.token).await;
    send(
        &mut again,
        json!({"method": "ping_pong", "channel": "HEARTBEAT", "topics": []}),
    )
    .await;
    let pong = next_frame(&mut again, 5, "pong", |v| {
        v.get("code").is_some() || v["channel"] == "HEARTBEAT"
    })
    .await;
    assert_eq!(pong["method"], "PING_PONG", "{pong}");
    // An unknown token is refused at the upgrade.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut req = format!("{}/ws/v3", t.trading_url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Authorization", "Bearer nope".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_the_stream_are_served_over_tls_with_the_written_certificate() {
    use base64::Engine as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let t = spawn_with(trading_config()).await;
    let dir = temp_data_dir("v3-tls");
    let cert_file = dir.join("fcsim-v3-cert.pem");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cancel = tokio_util::sync::CancellationToken::new();
    let served = {
        let (sim, file, cancel) = (t.sim.clone(), cert_file.clone(), cancel.clone());
        tokio::spawn(async move { fcsim::serve_v3_tls(sim, listener, &file, cancel).await })
    };
    // The certificate file appears before the port serves.
    let mut pem = String::new();
    for _ in 0..50 {
        if let Ok(text) = std::fs::read_to_string(&cert_file) {
            pem = text;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(pem, t.sim.v3_cert_pem());
    // REST over https, trusting only that certificate.
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let token: Value = https
        .post(format!("https://localhost:{port}/api/v3/auth/token"))
        .json(&creds())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["accessToken"].as_str().unwrap().to_owned();
    // Without the certificate the handshake fails.
    assert!(
        reqwest::Client::new()
            .post(format!("https://localhost:{port}/api/v3/auth/token"))
            .json(&creds())
            .send()
            .await
            .is_err()
    );
    // The stream over wss.
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der.into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut req = format!("wss://localhost:{port}/ws/v3")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {access}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        req,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(
            config,
        ))),
    )
    .await
    .unwrap();
    send(
        &mut ws,
        json!({"method": "ping_pong", "channel": "HEARTBEAT", "topics": []}),
    )
    .await;
    let pong = next_frame(&mut ws, 5, "pong", |v| v["channel"] == "HEARTBEAT").await;
    assert_eq!(pong["message"], "pong");
    cancel.cancel();
    served.await.unwrap().unwrap();
    t.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The floor and ceiling of `symbol` today.
fn band(t: &TestSim, symbol: &str) -> (i64, i64) {
    let g = t.sim.generator();
    let day = g
        .day_index(t.sim.now().to_offset(market::calendar::VN_OFFSET).date())
        .unwrap();
    let i = g.universe().find(symbol).unwrap();
    let l = g.limits(i, day).unwrap();
    (l.floor.units(), l.ceiling.units())
}

fn fco_body(kind: &str, side: &str, qty: u64, extra: Value) -> Value {
    let mut b = json!({"accountNo": DEMO_CASH_ACCOUNT, "type": kind, "symbol": "SSI", "side": side,
        "quantity": qty, "from": "2025/06/10 00:00:00", "to": "2025/06/20 23:59:59",
        "deviceId": "d", "userAgent": "u"});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// Polls the FCO list until `fco_id` has `status`.
async fn fco_until(v3: &V3, fco_id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let (code, list) = v3
            .get(
                "/api/v3/trading/fco/list",
                &[("accountNo", DEMO_CASH_ACCOUNT), ("fcoId", fco_id)],
            )
            .await;
        assert_eq!(code, 200, "{list}");
        if list["data"][0]["status"] == status {
            return list["data"][0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("FCO {fco_id} never reached {status}");
}

fn fco_config(data_dir: Option<std::path::PathBuf>) -> SimConfig {
    SimConfig {
        speed: 5.0,
        data_dir,
        ..trading_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fco_orders_are_held_triggered_and_finished_by_the_broker() {
    let t = spawn_with(fco_config(None)).await;
    let v3 = login(&t, true).await;
    let (floor, ceiling) = band(&t, "SSI");
    let path = "/api/v3/trading/fco/order";

    // A stop buy whose condition already holds: triggered, its marketable child fills.
    let (status, placed) = v3
        .signed(reqwest::Method::POST, path, &fco_body("stop", "B", 100,
            json!({"stopPrice": floor, "operator": "greater_or_equal", "price": "MTL", "priceSlip": 0})))
        .await;
    assert_eq!(status, 200, "{placed}");
    let stop = placed["fcoId"].as_str().unwrap().to_owned();
    let done = fco_until(&v3, &stop, "FIS").await;
    assert_eq!(done["matchedQuantity"], 100);
    assert_eq!(done["isPlaceOrder"], true);
    let (_, book) = v3
        .get("/api/v3/trading/fco/orderbook", &[("fcoId", stop.as_str())])
        .await;
    let child = &book["data"][0];
    assert_eq!(
        (child["status"].as_str(), child["matchedQuantity"].as_u64()),
        (Some("FF"), Some(100))
    );
    let (_, history) = v3
        .get(
            "/api/v3/trading/fco/statusHistory",
            &[("fcoid", stop.as_str())],
        )
        .await;
    let states: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["WAIT", "TRI", "TRIT", "FIS"]);
    // The child is an ordinary order of the account, in v3's orderBook.
    let (_, orders) = v3
        .get(
            "/api/v3/trading/orderBook",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert!(
        orders["orderList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["orderId"] == child["orderId"])
    );

    // A stop sell below the floor never triggers; cancelling terminates it, once.
    let (_, waiting) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &fco_body(
                "stop",
                "S",
                100,
                json!({"stopPrice": floor, "operator": "lesser", "price": "MTL"}),
            ),
        )
        .await;
    let waiting = waiting["fcoId"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    fco_until(&v3, &waiting, "WAIT").await;
    let (status, _) = v3
        .signed(
            reqwest::Method::DELETE,
            path,
            &json!({"fcoId": waiting, "deviceId": "d", "userAgent": "u"}),
        )
        .await;
    assert_eq!(status, 200);
    fco_until(&v3, &waiting, "TER").await;
    let (status, _) = v3
        .signed(
            reqwest::Method::DELETE,
            path,
            &json!({"fcoId": waiting, "deviceId": "d", "userAgent": "u"}),
        )
        .await;
    assert_eq!(status, 400);

    // OCO on a holding: the take-profit leg (activation reached) rests at the ceiling;
    // cancelling the FCO cancels it.
    let (_, oco) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &fco_body(
                "oco",
                "S",
                200,
                json!({"tpActivePrice": floor,
            "slActivePrice": floor, "tpPrice": ceiling.to_string(), "slPrice": "MP", "price": "MP",
            "stopPrice": 0}),
            ),
        )
        .await;
    let oco = oco["fcoId"].as_str().unwrap().to_owned();
    fco_until(&v3, &oco, "TRIT").await;
    let (_, legs) = v3
        .get("/api/v3/trading/fco/orderbook", &[("fcoId", oco.as_str())])
        .await;
    assert_eq!(legs["data"][0]["isAttachedOrder"], true);
    assert_eq!(legs["data"][0]["price"], ceiling);
    v3.signed(
        reqwest::Method::DELETE,
        path,
        &json!({"fcoId": oco, "deviceId": "d"}),
    )
    .await;
    fco_until(&v3, &oco, "TER").await;
    let (_, legs) = v3
        .get("/api/v3/trading/fco/orderbook", &[("fcoId", oco.as_str())])
        .await;
    assert_eq!(legs["data"][0]["status"], "CL");

    // GTD places its limit order at once; a trailing stop activates and waits.
    let (_, gtd) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &fco_body("gtd", "B", 100, json!({"price": floor.to_string()})),
        )
        .await;
    fco_until(&v3, gtd["fcoId"].as_str().unwrap(), "TRIT").await;
    let (_, trailing) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &fco_body(
                "trailing_stop",
                "S",
                100,
                json!({"activePrice": 0, "trailingAmount": ceiling, "price": "MTL"}),
            ),
        )
        .await;
    let trailing = fco_until(&v3, trailing["fcoId"].as_str().unwrap(), "WAIT").await;
    assert_eq!(
        trailing["params"]["trailingAmount"].as_f64(),
        Some(ceiling as f64)
    );

    // Validation and ownership.
    let (status, e) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &fco_body("stop", "B", 100, json!({"price": "MTL"})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    let mut other = fco_body("gtd", "B", 100, json!({"price": floor.to_string()}));
    other["accountNo"] = json!("9999991");
    assert_eq!(v3.signed(reqwest::Method::POST, path, &other).await.0, 403);
    let (_, all) = v3
        .get(
            "/api/v3/trading/fco/list",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert_eq!(all["itemsCount"], 5);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fco_orders_survive_a_restart() {
    let dir = temp_data_dir("v3-fco");
    let t = spawn_with(fco_config(Some(dir.clone()))).await;
    let v3 = login(&t, true).await;
    let (floor, _) = band(&t, "SSI");
    let (_, placed) = v3
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/fco/order",
            &fco_body(
                "stop",
                "S",
                100,
                json!({"stopPrice": floor, "operator": "lesser", "price": "MTL"}),
            ),
        )
        .await;
    let id = placed["fcoId"].as_str().unwrap().to_owned();
    fco_until(&v3, &id, "WAIT").await;
    t.stop().await;

    let t = spawn_with(fco_config(Some(dir.clone()))).await;
    let v3 = login(&t, true).await;
    let held = fco_until(&v3, &id, "WAIT").await;
    assert_eq!(held["type"], "stop");
    // Ids continue after the restart.
    let (_, next) = v3
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/fco/order",
            &fco_body(
                "stop",
                "S",
                100,
                json!({"stopPrice": floor, "operator": "lesser", "price": "MTL"}),
            ),
        )
        .await;
    assert_ne!(next["fcoId"], placed["fcoId"]);
    t.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fco_stop_limit_and_bull_bear_place_their_limits() {
    let t = spawn_with(fco_config(None)).await;
    let v3 = login(&t, true).await;
    let (floor, ceiling) = band(&t, "SSI");
    let path = "/api/v3/trading/fco/order";
    // Stop-limit buy: the limit at the ceiling is marketable and fills.
    let (_, sl) = v3
        .signed(reqwest::Method::POST, path, &fco_body("stop_limit", "B", 100,
            json!({"stopPrice": floor, "operator": "0", "price": ceiling.to_string(), "priceSlip": 0})))
        .await;
    let sl = sl["fcoId"].as_str().unwrap().to_owned();
    let done = fco_until(&v3, &sl, "FIS").await;
    assert_eq!(
        done["params"]["operator"], "greater_or_equal",
        "SSI's numeric code 0"
    );
    // Bull/bear: the entry buy fills, then the take-profit leg (activation reached) rests at
    // the ceiling as an attached sell of the filled quantity.
    let (_, bb) = v3
        .signed(
            reqwest::Method::POST,
            path,
            &fco_body(
                "bullbear",
                "B",
                100,
                json!({
            "price": ceiling.to_string(), "tpActivePrice": floor, "slActivePrice": floor,
            "tpPrice": ceiling.to_string(), "slPrice": "MP"}),
            ),
        )
        .await;
    let bb = bb["fcoId"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let (_, legs) = v3
            .get("/api/v3/trading/fco/orderbook", &[("fcoId", bb.as_str())])
            .await;
        if legs["data"].as_array().is_some_and(|l| l.len() == 2) {
            let (entry, exit) = (&legs["data"][0], &legs["data"][1]);
            assert_eq!(
                (entry["isMainOrder"].as_bool(), entry["side"].as_str()),
                (Some(true), Some("B"))
            );
            assert_eq!(entry["matchedQuantity"], 100);
            assert_eq!(
                (exit["isAttachedOrder"].as_bool(), exit["side"].as_str()),
                (Some(true), Some("S"))
            );
            assert_eq!(
                (exit["quantity"].as_u64(), exit["price"].as_i64()),
                (Some(100), Some(ceiling))
            );
            let (_, history) = v3
                .get(
                    "/api/v3/trading/fco/statusHistory",
                    &[("fcoid", bb.as_str())],
                )
                .await;
            assert!(history["data"].as_array().unwrap().iter().any(|h| {
                h["state"] == "WAIT" && h["detail"].as_str().unwrap().contains("take-profit")
            }));
            t.stop().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the bull/bear FCO never placed its exit leg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_stop_triggers_when_the_price_comes_back_from_its_best() {
    let t = spawn_with(SimConfig {
        speed: 20.0,
        ..fco_config(None)
    })
    .await;
    let v3 = login(&t, true).await;
    // Active at once; one VND below the best since activation triggers it.
    let (_, placed) = v3
        .signed(
            reqwest::Method::POST,
            "/api/v3/trading/fco/order",
            &fco_body(
                "trailing_stop",
                "S",
                100,
                json!({"activePrice": 0, "trailingAmount": 1, "price": "MTL"}),
            ),
        )
        .await;
    let id = placed["fcoId"].as_str().unwrap().to_owned();
    let done = fco_until(&v3, &id, "FIS").await;
    assert_eq!(done["matchedQuantity"], 100);
    let (_, history) = v3
        .get(
            "/api/v3/trading/fco/statusHistory",
            &[("fcoid", id.as_str())],
        )
        .await;
    let steps = history["data"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["detail"].as_str().unwrap().starts_with("Activated at "))
    );
    let triggered = steps.iter().find(|s| s["state"] == "TRI").unwrap();
    // "Triggered at <last> (best <best>)": at least trailingAmount below the best.
    let detail = triggered["detail"].as_str().unwrap();
    let numbers: Vec<f64> = detail
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|n| n.parse().ok())
        .collect();
    let [at, best] = numbers[..] else {
        panic!("{detail}")
    };
    assert!(at <= best - 1.0, "{detail}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derivatives_trade_over_v3_on_the_derivatives_account() {
    let t = spawn_with(trading_config()).await;
    let v3 = login(&t, true).await;
    let (symbol, band) = first_instrument(&t, |x| x.kind == InstrumentKind::IndexFuture);
    let floor = band.floor.units();
    // Futures prices are index points with one decimal (engine units are tenths).
    let price = format!("{:.1}", floor as f64 / 10.0);
    let body = json!({"accountNo": DEMO_DERIVATIVES_ACCOUNT, "symbol": symbol, "side": "B",
        "quantity": 1, "price": price, "orderType": "LO", "clientRequestId": "fut1",
        "deviceId": "d", "userAgent": "u"});
    let (status, placed) = v3
        .signed(reqwest::Method::POST, "/api/v3/trading/order", &body)
        .await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!(
        placed["orderStatus"], "PD",
        "accepted, not yet at the exchange"
    );
    let (_, book) = v3
        .get(
            "/api/v3/trading/orderBook",
            &[("accountNo", DEMO_DERIVATIVES_ACCOUNT)],
        )
        .await;
    let order = &book["orderList"][0];
    assert_eq!(order["symbol"], symbol.as_str());
    assert_eq!(
        order["price"].as_str().unwrap().parse::<f64>().unwrap(),
        floor as f64 / 10.0
    );
    let (status, bal) = v3
        .get(
            "/api/v3/trading/accountBalance",
            &[("accountNo", DEMO_DERIVATIVES_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(bal["equity"].is_null());
    assert_eq!(bal["derivative"]["accountBalance"], 1_000_000_000);
    let (status, pos) = v3
        .get(
            "/api/v3/trading/position",
            &[("accountNo", DEMO_DERIVATIVES_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(pos["derivative"]["derOpenPositions"].is_array());
    let (_, max) = v3
        .get(
            "/api/v3/trading/maxBuySell",
            &[
                ("accountNo", DEMO_DERIVATIVES_ACCOUNT),
                ("symbol", symbol.as_str()),
            ],
        )
        .await;
    assert!(max.get("purchasingPower").is_none(), "{max}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v3_key_sees_only_its_customers_accounts() {
    use fcsim::config::{AccountConfig, TradingConsumer, V3Consumer};
    let mut config = trading_config();
    let demo = config.trading_consumers[0].clone();
    config.trading_consumers.push(TradingConsumer {
        consumer_id: "bob".to_owned(),
        consumer_secret: "bob-secret".to_owned(),
        accounts: vec![AccountConfig {
            id: "0004001".to_owned(),
            cash: 500_000_000,
            positions: Vec::new(),
        }],
        ..demo
    });
    config.v3_consumers.push(V3Consumer {
        api_key: "bob-v3".to_owned(),
        api_secret: "bob-v3-secret".to_owned(),
        public_key: config.v3_consumers[0].public_key.clone(),
        trading_consumer: "bob".to_owned(),
        otp: OtpMethod::Sms,
    });
    let t = spawn_with(config).await;
    let (_, token) = post(
        &t.trading_url,
        "/api/v3/auth/token",
        json!({"apiKey": "bob-v3", "apiSecret": "bob-v3-secret"}),
    )
    .await;
    let bob = V3 {
        token: token["accessToken"].as_str().unwrap().to_owned(),
        ..login_free(&t)
    };
    let (_, accounts) = bob.get("/api/v3/account/info", &[]).await;
    assert_eq!(
        accounts,
        json!([{"accountNo": "0004001", "accountType": "Cash"}])
    );
    let (status, denied) = bob
        .get(
            "/api/v3/trading/accountBalance",
            &[("accountNo", DEMO_CASH_ACCOUNT)],
        )
        .await;
    assert_eq!(status, 403, "{denied}");
    assert!(denied["msg"].as_str().unwrap().contains("Denied (account)"));
    // The demo key cannot touch bob's account either, on REST or the stream.
    let demo_key = login(&t, true).await;
    let (status, _) = demo_key
        .get("/api/v3/trading/orderBook", &[("accountNo", "0004001")])
        .await;
    assert_eq!(status, 403);
    let mut ws = stream(&t, &demo_key.token).await;
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "TRADING", "topics": ["order.0004001"]}),
    )
    .await;
    let ack = next_frame(&mut ws, 5, "ack", |v| v["method"] == "subscribe").await;
    assert!(
        ack["message"]
            .as_str()
            .unwrap()
            .contains("Denied (account)"),
        "{ack}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_futures_fill_streams_match_and_portfolio_events() {
    let t = spawn_with(trading_config()).await;
    let v3 = login(&t, true).await;
    let (symbol, band) = first_instrument(&t, |x| x.kind == InstrumentKind::IndexFuture);
    let ceiling = band.ceiling.units();
    let mut ws = stream(&t, &v3.token).await;
    send(&mut ws, json!({"method": "subscribe", "channel": "TRADING",
        "topics": [format!("order.{DEMO_DERIVATIVES_ACCOUNT}"), format!("portfolio.{DEMO_DERIVATIVES_ACCOUNT}")]}))
    .await;
    let ack = next_frame(&mut ws, 5, "ack", |v| v["method"] == "subscribe").await;
    assert_eq!(ack["status"], "ok", "{ack}");
    // A buy at the ceiling crosses the market maker's ask.
    let body = json!({"accountNo": DEMO_DERIVATIVES_ACCOUNT, "symbol": symbol, "side": "B",
        "quantity": 1, "price": format!("{:.1}", ceiling as f64 / 10.0), "orderType": "LO",
        "clientRequestId": "futfill1", "deviceId": "d", "userAgent": "u"});
    let (status, placed) = v3
        .signed(reqwest::Method::POST, "/api/v3/trading/order", &body)
        .await;
    assert_eq!(status, 200, "{placed}");
    let matched = next_frame(&mut ws, 10, "orderMatchEvent", |v| {
        v["data"]["eventType"] == "orderMatchEvent"
    })
    .await;
    assert_eq!(matched["data"]["orderId"], placed["orderId"]);
    assert_eq!(matched["data"]["matchQty"], 1);
    let portfolio = next_frame(&mut ws, 10, "clientPortfolioEvent", |v| {
        v["data"]["eventType"] == "clientPortfolioEvent"
    })
    .await;
    assert_eq!(
        portfolio["topic"],
        format!("portfolio.{DEMO_DERIVATIVES_ACCOUNT}")
    );
    assert_eq!(portfolio["data"]["accountNo"], DEMO_DERIVATIVES_ACCOUNT);
    assert_eq!(portfolio["data"]["symbol"], symbol.as_str());
    assert_eq!(portfolio["data"]["longQty"], 1);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_closes_its_open_streams() {
    use futures::StreamExt as _;
    let t = spawn_with(trading_config()).await;
    let trader = login(&t, true).await;
    let mut ws = stream(&t, &trader.token).await;
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "TRADING", "topics": [format!("order.{DEMO_CASH_ACCOUNT}")]}),
    )
    .await;
    next_frame(&mut ws, 10, "the subscription ack", |v| {
        v["method"] == "subscribe"
    })
    .await;
    // A stop (as Ctrl-C, or a fleet restarting its simulator) ends the session: the client
    // sees its socket close and can reconnect, instead of holding a session of a stopped
    // server.
    t.stop().await;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the stream stayed open after the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_and_room_subscribers_get_the_next_days_bands() {
    // 14:50 on a Tuesday at 10,000×: the next session opens about 6.5 wall seconds later.
    let t = spawn_with(SimConfig {
        start: time::macros::datetime!(2025-06-10 14:50:00 +7),
        speed: 10_000.0,
        ..trading_config()
    })
    .await;
    let (symbol, _) = hose_stock(&t);
    let v3 = login(&t, false).await;
    let mut ws = stream(&t, &v3.token).await;
    send(
        &mut ws,
        json!({"method": "subscribe", "channel": "DATA",
            "topics": [format!("market.{symbol}"), format!("room.{symbol}")]}),
    )
    .await;
    let topic = format!("market.{symbol}");
    let first = next_frame(&mut ws, 5, "today's band", |v| v["topic"] == topic).await;
    let room = format!("room.{symbol}");
    next_frame(&mut ws, 5, "today's room", |v| v["topic"] == room).await;
    let next = next_frame(&mut ws, 30, "the next day's band", |v| v["topic"] == topic).await;
    next_frame(&mut ws, 5, "the next day's room", |v| v["topic"] == room).await;
    // Tomorrow's reference is today's close (HOSE), so the band moves with the day.
    let today = t
        .sim
        .generator()
        .days()
        .partition_point(|d| *d < time::macros::date!(2025 - 06 - 10));
    let close = t
        .sim
        .generator()
        .summary(t.sim.generator().universe().find(&symbol).unwrap(), today);
    let close = close.unwrap().close as f64;
    assert_eq!(
        next["data"]["ref"].as_f64(),
        Some(close),
        "{first} then {next}"
    );
    t.stop().await;
}
