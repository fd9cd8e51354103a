//! The SDK 2.5 cash, stock-transfer and rights endpoints (§5.7) over the simulated
//! accounts, signed and enveloped like the rest of FC Trading.

use std::time::Duration;

use fastconnect::trading::{NewOrder, RequestId, RequestSigner};
use fastconnect::{Decimal, OrderStatus, OrderType, ResumeFrom, Side, TradingEvent, TradingMarket};
use fcsim::config::{AccountConfig, DEMO_CASH_ACCOUNT, DEMO_PIN, DEMO_PRIVATE_KEY_XML_B64};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::helpers::{TestSim, spawn_with, trading_client, trading_config};

const SECOND: &str = "0001002";

fn config() -> fcsim::SimConfig {
    let mut c = trading_config();
    c.rate_limits = Vec::new();
    c.trading_consumers[0].accounts.push(AccountConfig {
        id: SECOND.to_owned(),
        cash: 0,
        positions: Vec::new(),
    });
    c
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
    signer: RequestSigner,
}

impl Api {
    async fn new(t: &TestSim, verified: bool) -> Self {
        let client = trading_client(t);
        if verified {
            client
                .login(&DEMO_PIN.to_owned().into(), true)
                .await
                .unwrap();
        } else {
            client.login_read_only().await.unwrap();
        }
        Self {
            base: t.trading_url.clone(),
            token: client
                .access_token()
                .await
                .unwrap()
                .expose_secret()
                .to_owned(),
            http: reqwest::Client::new(),
            signer: RequestSigner::from_key(&DEMO_PRIVATE_KEY_XML_B64.to_owned().into()).unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/api/v2/{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let resp = self
            .http
            .post(format!("{}/api/v2/{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("X-Signature", self.signer.sign(body.as_bytes()).unwrap())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
}

fn ok(v: &Value) -> &Value {
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["message"], "Success", "{v}");
    &v["data"]
}

async fn cash(api: &Api, account: &str) -> i64 {
    ok(&api
        .get(&format!("Trading/cashAcctBal?account={account}"))
        .await)["cashBal"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_cash_transfers_move_cash_between_own_accounts() {
    let t = spawn_with(config()).await;
    let api = Api::new(&t, true).await;
    let before = cash(&api, DEMO_CASH_ACCOUNT).await;
    let (http, v) = api
        .post(
            "cash/transferInternal",
            json!({"account": DEMO_CASH_ACCOUNT, "beneficiaryAccount": SECOND, "amount": 1_000_000, "remark": "test", "code": ""}),
        )
        .await;
    assert_eq!(http, 200);
    let tx = ok(&v)["transactionID"].as_str().unwrap().to_owned();
    assert_eq!(cash(&api, DEMO_CASH_ACCOUNT).await, before - 1_000_000);
    assert_eq!(cash(&api, SECOND).await, 1_000_000);
    for (account, kind) in [(DEMO_CASH_ACCOUNT, "Out"), (SECOND, "In")] {
        let h = api
            .get(&format!(
                "cash/transferHistories?account={account}&fromDate=10/06/2025&toDate=10/06/2025"
            ))
            .await;
        let rows = ok(&h)["transferHistories"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 1, "{h}");
        assert_eq!(rows[0]["transactionID"], tx.as_str());
        assert_eq!(rows[0]["amount"], 1_000_000);
        assert_eq!(rows[0]["type"], kind);
    }
    // More than the account can spare, nothing, a fraction, NaN, or to itself: refused.
    let (_, v) = api
        .post(
            "cash/transferInternal",
            json!({"account": SECOND, "beneficiaryAccount": DEMO_CASH_ACCOUNT, "amount": 2_000_000, "remark": ""}),
        )
        .await;
    assert_eq!(v["status"], 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Not enough balance"),
        "{v}"
    );
    for amount in [json!(0), json!(-5), json!(1.5), json!("NaN"), json!("abc")] {
        let (http, v) = api
            .post(
                "cash/transferInternal",
                json!({"account": SECOND, "beneficiaryAccount": DEMO_CASH_ACCOUNT, "amount": amount, "remark": ""}),
            )
            .await;
        assert_eq!((http, &v["status"]), (400, &json!(400)), "{amount}: {v}");
    }
    let (http, _) = api
        .post(
            "cash/transferInternal",
            json!({"account": SECOND, "beneficiaryAccount": SECOND, "amount": 1, "remark": ""}),
        )
        .await;
    assert_eq!(http, 400);
    assert_eq!(cash(&api, SECOND).await, 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_transfers_move_settled_shares_between_own_accounts() {
    let t = spawn_with(config()).await;
    let api = Api::new(&t, true).await;
    let transferable = |v: &Value, symbol: &str| {
        ok(v)["transferableStocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["instrumentID"] == symbol)
            .map_or(0, |r| r["quantity"].as_u64().unwrap())
    };
    let v = api
        .get(&format!("stock/transferable?account={DEMO_CASH_ACCOUNT}"))
        .await;
    assert_eq!(transferable(&v, "SSI"), 10_000, "{v}");
    let (http, v) = api
        .post(
            "stock/transfer",
            json!({"account": DEMO_CASH_ACCOUNT, "beneficiaryAccount": SECOND, "exchangeID": "VN", "instrumentID": "SSI", "quantity": 1_500}),
        )
        .await;
    assert_eq!(http, 200, "{v}");
    assert!(ok(&v)["transactionID"].is_string());
    let from = api
        .get(&format!("stock/transferable?account={DEMO_CASH_ACCOUNT}"))
        .await;
    assert_eq!(transferable(&from, "SSI"), 8_500);
    let to = api
        .get(&format!("stock/transferable?account={SECOND}"))
        .await;
    assert_eq!(transferable(&to, "SSI"), 1_500);
    let positions = api
        .get(&format!("Trading/stockPosition?account={SECOND}"))
        .await;
    let ssi = ok(&positions)["stockPositions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["instrumentID"] == "SSI")
        .cloned()
        .unwrap();
    assert_eq!(ssi["onHand"], 1_500);
    assert_eq!(ssi["sellableQty"], 1_500);
    let h = api
        .get(&format!(
            "stock/transferHistories?account={SECOND}&startDate=10/06/2025&endDate=10/06/2025"
        ))
        .await;
    let rows = ok(&h)["stockTransferHistories"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["quantity"], 1_500);
    assert_eq!(rows[0]["instrumentID"], "SSI");
    // More than is transferable, or an unknown symbol: refused, nothing moves.
    let (_, v) = api
        .post(
            "stock/transfer",
            json!({"account": SECOND, "beneficiaryAccount": DEMO_CASH_ACCOUNT, "exchangeID": "VN", "instrumentID": "SSI", "quantity": 1_501}),
        )
        .await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Not enough transferable"),
        "{v}"
    );
    let (_, v) = api
        .post(
            "stock/transfer",
            json!({"account": SECOND, "beneficiaryAccount": DEMO_CASH_ACCOUNT, "exchangeID": "VN", "instrumentID": "ZZZZ", "quantity": 1}),
        )
        .await;
    assert_eq!(v["status"], 400, "{v}");
    let to = api
        .get(&format!("stock/transferable?account={SECOND}"))
        .await;
    assert_eq!(transferable(&to, "SSI"), 1_500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_shows_as_unsettled_and_can_be_advanced_for_a_fee() {
    let t = spawn_with(config()).await;
    let api = Api::new(&t, true).await;
    let client = trading_client(&t);
    client
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let (_sub, mut events) = client.stream(Some(ResumeFrom::NewOnly)).unwrap();
    loop {
        if let Ok(Some(TradingEvent::Connected)) =
            tokio::time::timeout(Duration::from_secs(15), events.recv()).await
        {
            break;
        }
    }
    // Nothing sold yet: nothing to advance.
    let v = api
        .get(&format!(
            "cash/cashInAdvanceAmount?account={DEMO_CASH_ACCOUNT}"
        ))
        .await;
    assert!(ok(&v)["CIAAmounts"].as_array().unwrap().is_empty(), "{v}");
    let (_, v) = api
        .post(
            "cash/createCashInAdvance",
            json!({"account": DEMO_CASH_ACCOUNT, "ciaAmount": 1_000_000, "receiveAmount": 0}),
        )
        .await;
    assert!(v["message"].as_str().unwrap().contains("exceeds"), "{v}");

    // Sell 100 SSI at the market: it fills against the market maker's best bid.
    let mut sell = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        "SSI",
        TradingMarket::Vn,
        Side::Sell,
        Decimal::ZERO,
        100,
    );
    sell.order_type = OrderType::Mtl;
    sell.request_id = Some(RequestId::new(501).unwrap());
    client.new_order(sell).await.unwrap();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(15), events.recv())
            .await
            .unwrap()
            .unwrap();
        if matches!(&e, TradingEvent::Order(o) if o.unique_id.as_deref() == Some("501") && o.order_status == Some(OrderStatus::Filled))
        {
            break;
        }
    }
    let balance = ok(&api
        .get(&format!("Trading/cashAcctBal?account={DEMO_CASH_ACCOUNT}"))
        .await)
    .clone();
    assert!(
        balance["matchedSellVolume"].as_i64().unwrap() > 0,
        "{balance}"
    );
    let unsettled = api
        .get(&format!(
            "cash/unsettleSoldTransaction?account={DEMO_CASH_ACCOUNT}&settleDate=12/06/2025"
        ))
        .await;
    let sales = ok(&unsettled)["orders"].as_array().unwrap().clone();
    assert!(!sales.is_empty(), "{unsettled}");
    assert!(
        sales
            .iter()
            .all(|s| s["InstrumentID"] == "SSI" && s["TradeDate"] == "10/06/2025")
    );
    let shares: u64 = sales.iter().map(|s| s["Quantity"].as_u64().unwrap()).sum();
    assert_eq!(shares, 100);
    let net: i64 = sales
        .iter()
        .map(|s| s["NetSellValue"].as_i64().unwrap())
        .sum();
    let amounts = api
        .get(&format!(
            "cash/cashInAdvanceAmount?account={DEMO_CASH_ACCOUNT}"
        ))
        .await;
    let due = ok(&amounts)["CIAAmounts"].as_array().unwrap().clone();
    assert_eq!(due.len(), 1, "{amounts}");
    assert_eq!(due[0]["DueDate"], "12/06/2025");
    assert_eq!(due[0]["NetSellValue"], net);
    assert_eq!(due[0]["CashAdvance"], net);
    assert!(due[0]["SellValue"].as_i64().unwrap() > net);

    // Half of it, now: the fee is 0.036% a day for the two days to T+2.
    let half = net / 2;
    let fee = api
        .get(&format!(
            "cash/estCashInAdvanceFee?account={DEMO_CASH_ACCOUNT}&ciaAmount={half}&receiveAmount=0"
        ))
        .await;
    let expected_fee = ((i128::from(half) * 360 * 2 + 999_999) / 1_000_000) as i64;
    assert_eq!(ok(&fee)["fee"], expected_fee, "{fee}");
    let before = cash(&api, DEMO_CASH_ACCOUNT).await;
    let (http, v) = api
        .post(
            "cash/createCashInAdvance",
            json!({"account": DEMO_CASH_ACCOUNT, "ciaAmount": half, "receiveAmount": 0}),
        )
        .await;
    assert_eq!(http, 200, "{v}");
    let tx = ok(&v)["transactionID"].as_str().unwrap().to_owned();
    assert_eq!(
        cash(&api, DEMO_CASH_ACCOUNT).await,
        before + half - expected_fee
    );
    let amounts = api
        .get(&format!(
            "cash/cashInAdvanceAmount?account={DEMO_CASH_ACCOUNT}"
        ))
        .await;
    assert_eq!(ok(&amounts)["CIAAmounts"][0]["Advance"], half);
    assert_eq!(ok(&amounts)["CIAAmounts"][0]["CashAdvance"], net - half);
    let history = api
        .get(&format!(
            "cash/cashInAdvanceHistories?account={DEMO_CASH_ACCOUNT}&startDate=10/06/2025&endDate=10/06/2025"
        ))
        .await;
    let rows = ok(&history)["CIAHistories"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["TransactionID"], tx.as_str());
    assert_eq!(rows[0]["TotalAmount"], half);
    assert_eq!(
        ok(&api
            .get(&format!("Trading/cashAcctBal?account={DEMO_CASH_ACCOUNT}"))
            .await)["cia"],
        half
    );
    // The rest and a dong more is too much.
    let (_, v) = api
        .post(
            "cash/createCashInAdvance",
            json!({"account": DEMO_CASH_ACCOUNT, "ciaAmount": net - half + 1}),
        )
        .await;
    assert!(v["message"].as_str().unwrap().contains("exceeds"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rights_endpoints_answer_from_a_market_without_rights_issues() {
    let t = spawn_with(config()).await;
    let api = Api::new(&t, true).await;
    let v = api
        .get(&format!("ors/dividend?account={DEMO_CASH_ACCOUNT}"))
        .await;
    assert_eq!(ok(&v)["dividends"], json!([]));
    let v = api
        .get(&format!(
            "ors/exercisableQuantity?account={DEMO_CASH_ACCOUNT}"
        ))
        .await;
    assert_eq!(ok(&v)["exercisableQuantities"], json!([]));
    let v = api
        .get(&format!(
            "ors/histories?account={DEMO_CASH_ACCOUNT}&startDate=01/06/2025&endDate=10/06/2025"
        ))
        .await;
    assert_eq!(ok(&v)["onlineRightSubscriptionHistories"], json!([]));
    let (http, v) = api
        .post(
            "ors/create",
            json!({"account": DEMO_CASH_ACCOUNT, "instrumentID": "SSI", "entitlementID": "42", "quantity": 100, "amount": 1_000_000}),
        )
        .await;
    assert_eq!((http, &v["status"]), (200, &json!(400)), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Entitlement '42' does not exist")
    );
    let (_, v) = api
        .post(
            "cash/vsdCashDW",
            json!({"account": DEMO_CASH_ACCOUNT, "amount": 1, "type": "D", "remark": ""}),
        )
        .await;
    assert_eq!(v["status"], 400, "{v}");
    // Missing dates are a 400 like the order history's.
    let resp = api
        .get(&format!("ors/histories?account={DEMO_CASH_ACCOUNT}"))
        .await;
    assert_eq!(resp["status"], 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_posts_are_signed_and_need_a_code_on_a_read_only_token() {
    let t = spawn_with(config()).await;
    let api = Api::new(&t, false).await;
    let body = json!({"account": DEMO_CASH_ACCOUNT, "beneficiaryAccount": SECOND, "amount": 1000, "remark": ""});
    let (_, v) = api.post("cash/transferInternal", body.clone()).await;
    assert!(
        v["message"].as_str().unwrap().contains("Code is required"),
        "{v}"
    );
    let mut with_pin = body.clone();
    with_pin["code"] = json!(DEMO_PIN);
    let (http, v) = api.post("cash/transferInternal", with_pin).await;
    assert_eq!(http, 200, "{v}");
    // Unsigned, or signed over other bytes: refused.
    let resp = api
        .http
        .post(format!("{}/api/v2/cash/transferInternal", api.base))
        .header("Authorization", format!("Bearer {}", api.token))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["message"], "X-Signature is required");
    let resp = api
        .http
        .post(format!("{}/api/v2/stock/transfer", api.base))
        .header("Authorization", format!("Bearer {}", api.token))
        .header("X-Signature", api.signer.sign(b"{}").unwrap())
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["message"], "Invalid signature");
    // Unknown paths under the new prefixes are SSI's 404.
    let v = api
        .get(&format!("cash/nothing?account={DEMO_CASH_ACCOUNT}"))
        .await;
    assert_eq!(v["status"], 404);
    // No token: 401.
    let resp = reqwest::get(format!(
        "{}/api/v2/stock/transferable?account={DEMO_CASH_ACCOUNT}",
        api.base
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);
}
