//! Several FC Trading consumers on one simulator, each with its own accounts, key, PIN and
//! OTP: none can see, amend or cancel another's accounts or orders, on any endpoint.

use std::time::Duration;

use fastconnect::trading::{CancelOrder, ModifyOrder, NewOrder, RequestId};
use fastconnect::{
    Decimal, Error, OrderType, ResumeFrom, Side, TradingClient, TradingEvent, TradingMarket,
};
use fcsim::config::{
    AccountConfig, DEMO_CASH_ACCOUNT, DEMO_DERIVATIVES_ACCOUNT, DEMO_PIN, TradingConsumer,
};
use market::{Exchange, InstrumentKind};
use secrecy::ExposeSecret as _;
use serde_json::Value;

use crate::helpers::{TestSim, spawn_with, trading_client, trading_client_config, trading_config};

const OTHER: &str = "other-trading";
const OTHER_SECRET: &str = "other-secret";
const OTHER_PIN: &str = "654321";
const OTHER_CASH: &str = "0002001";
const OTHER_DERIV: &str = "0002008";
const OTHER_KEY: &str = include_str!("../fixtures/other_key.pem");

fn config() -> fcsim::SimConfig {
    let mut c = trading_config();
    c.rate_limits = Vec::new();
    c.trading_consumers.push(TradingConsumer {
        consumer_id: OTHER.to_owned(),
        consumer_secret: OTHER_SECRET.to_owned(),
        public_key: OTHER_KEY.to_owned(),
        pin: OTHER_PIN.to_owned(),
        accounts: vec![
            AccountConfig {
                id: OTHER_CASH.to_owned(),
                cash: 500_000_000,
                positions: vec![("SSI".to_owned(), 1_000)],
            },
            AccountConfig {
                id: OTHER_DERIV.to_owned(),
                cash: 500_000_000,
                positions: Vec::new(),
            },
        ],
    });
    c
}

fn other_client(t: &TestSim) -> TradingClient {
    let mut c = trading_client_config(&t.trading_url);
    c.consumer_id = OTHER.to_owned();
    c.consumer_secret = OTHER_SECRET.to_owned().into();
    c.private_key = OTHER_KEY.to_owned().into();
    c.pin = Some(OTHER_PIN.to_owned().into());
    TradingClient::new(c).unwrap()
}

fn rid(n: u32) -> Option<RequestId> {
    Some(RequestId::new(n).unwrap())
}

fn stock(t: &TestSim) -> (String, i64) {
    let g = t.sim.generator();
    let day = g.day_index(t.sim.now().date()).unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
        .unwrap();
    (x.symbol.clone(), g.limits(i, day).unwrap().floor.units())
}

fn not_exist(r: Result<impl std::fmt::Debug, Error>) {
    match r {
        Err(Error::Rejected { message, .. }) if message.contains("Account is not exist") => {}
        other => panic!("expected 'Account is not exist.', got {other:?}"),
    }
}

async fn token(client: &TradingClient) -> String {
    client
        .access_token()
        .await
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_never_sees_or_touches_another_consumers_accounts_or_orders() {
    let t = spawn_with(config()).await;
    let demo = trading_client(&t);
    let other = other_client(&t);
    demo.login(&DEMO_PIN.to_owned().into(), true).await.unwrap();
    other
        .login(&OTHER_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let (_sub, mut other_events) = other.stream(Some(ResumeFrom::NewOnly)).unwrap();
    loop {
        if let Ok(Some(TradingEvent::Connected)) =
            tokio::time::timeout(Duration::from_secs(15), other_events.recv()).await
        {
            break;
        }
    }
    let (symbol, floor) = stock(&t);
    let mut mine = NewOrder::limit(
        DEMO_CASH_ACCOUNT,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    mine.request_id = rid(1);
    demo.new_order(mine.clone()).await.unwrap();
    let demo_order = demo.order_book(DEMO_CASH_ACCOUNT).await.unwrap().orders[0]
        .order_id
        .clone();

    // Every query on the demo consumer's accounts, with the other consumer's token.
    let today = t.sim.now().date();
    for account in [DEMO_CASH_ACCOUNT, DEMO_DERIVATIVES_ACCOUNT] {
        not_exist(other.order_book(account).await);
        not_exist(other.audit_order_book(account).await);
        not_exist(other.order_history(account, today, today).await);
        not_exist(other.stock_position(account).await);
        not_exist(other.deriv_position(account, true).await);
        not_exist(other.cash_account_balance(account).await);
        not_exist(other.deriv_account_balance(account).await);
        not_exist(other.ppmmr_account(account).await);
        not_exist(
            other
                .max_buy_qty(account, &symbol, Decimal::from_i64(floor))
                .await,
        );
        not_exist(other.max_sell_qty(account, &symbol, None).await);
    }
    // The demo consumer's §5.7 endpoints too.
    let http = reqwest::Client::new();
    let other_token = token(&other).await;
    for path in [
        "cash/cashInAdvanceAmount?account=0001001",
        "cash/unsettleSoldTransaction?account=0001001&settleDate=12/06/2025",
        "cash/transferHistories?account=0001001&fromDate=01/06/2025&toDate=10/06/2025",
        "cash/cashInAdvanceHistories?account=0001001&startDate=01/06/2025&endDate=10/06/2025",
        "cash/estCashInAdvanceFee?account=0001001&ciaAmount=1000000&receiveAmount=0",
        "stock/transferable?account=0001001",
        "stock/transferHistories?account=0001001&startDate=01/06/2025&endDate=10/06/2025",
        "ors/dividend?account=0001001",
        "ors/exercisableQuantity?account=0001001",
        "ors/histories?account=0001001&startDate=01/06/2025&endDate=10/06/2025",
    ] {
        let v: Value = http
            .get(format!("{}/api/v2/{path}", t.trading_url))
            .header("Authorization", format!("Bearer {other_token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], 400, "{path}: {v}");
        assert_eq!(v["message"], "Account is not exist.", "{path}: {v}");
    }

    // Mutations: a new order on the demo account, and amending or cancelling the demo
    // order, through the demo account or through the other consumer's own account.
    let mut theirs = mine.clone();
    theirs.request_id = rid(2);
    not_exist(other.new_order(theirs).await);
    for account in [DEMO_CASH_ACCOUNT, OTHER_CASH] {
        let modify = other
            .modify_order(ModifyOrder {
                account: account.to_owned(),
                instrument_id: symbol.clone(),
                market: TradingMarket::Vn,
                side: Side::Buy,
                order_type: OrderType::Lo,
                order_id: demo_order.clone(),
                price: Decimal::from_i64(floor),
                quantity: 500,
                request_id: rid(3),
                code: None,
            })
            .await;
        let cancel = other
            .cancel_order(CancelOrder {
                account: account.to_owned(),
                instrument_id: symbol.clone(),
                market: TradingMarket::Vn,
                side: Side::Buy,
                order_id: demo_order.clone(),
                request_id: rid(4),
                code: None,
            })
            .await;
        for r in [modify, cancel] {
            match r {
                Err(Error::Rejected { message, .. })
                    if message.contains("Account is not exist")
                        || message.starts_with("ORD013") => {}
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }
    // §5.7 mutations on the demo account, and transfers into it.
    for (path, body) in [
        (
            "cash/transferInternal",
            serde_json::json!({"account": DEMO_CASH_ACCOUNT, "beneficiaryAccount": OTHER_CASH, "amount": 1000, "remark": ""}),
        ),
        (
            "cash/transferInternal",
            serde_json::json!({"account": OTHER_CASH, "beneficiaryAccount": DEMO_CASH_ACCOUNT, "amount": 1000, "remark": ""}),
        ),
        (
            "cash/createCashInAdvance",
            serde_json::json!({"account": DEMO_CASH_ACCOUNT, "ciaAmount": 1000, "receiveAmount": 0}),
        ),
        (
            "stock/transfer",
            serde_json::json!({"account": DEMO_CASH_ACCOUNT, "beneficiaryAccount": OTHER_CASH, "exchangeID": "VN", "instrumentID": "SSI", "quantity": 100}),
        ),
        (
            "stock/transfer",
            serde_json::json!({"account": OTHER_CASH, "beneficiaryAccount": DEMO_CASH_ACCOUNT, "exchangeID": "VN", "instrumentID": "SSI", "quantity": 100}),
        ),
        (
            "ors/create",
            serde_json::json!({"account": DEMO_CASH_ACCOUNT, "instrumentID": "SSI", "entitlementID": "1", "quantity": 1, "amount": 10000}),
        ),
    ] {
        let body = body.to_string();
        let signer =
            fastconnect::trading::RequestSigner::from_key(&OTHER_KEY.to_owned().into()).unwrap();
        let v: Value = http
            .post(format!("{}/api/v2/{path}", t.trading_url))
            .header("Authorization", format!("Bearer {other_token}"))
            .header("X-Signature", signer.sign(body.as_bytes()).unwrap())
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], 400, "{path} {body}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains("is not exist"),
            "{path} {body}: {v}"
        );
    }

    // The demo order is as it was, and the other consumer's stream never carried it.
    let book = demo.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(book.orders.len(), 1);
    assert_eq!(book.orders[0].quantity, Some(100));
    assert!(
        other
            .order_book(OTHER_CASH)
            .await
            .unwrap()
            .orders
            .is_empty()
    );
    let replay = crate::helpers::hub_messages(&t, &other_token, "0").await;
    assert!(replay.is_empty(), "{replay:?}");
    while let Ok(Some(e)) =
        tokio::time::timeout(Duration::from_millis(500), other_events.recv()).await
    {
        assert!(e.notify_id().is_none(), "the other consumer got {e:?}");
    }

    // Each trades its own account; the other's orders stay invisible.
    let mut own = NewOrder::limit(
        OTHER_CASH,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    own.request_id = rid(1); // request ids are per consumer
    other.new_order(own).await.unwrap();
    assert_eq!(other.order_book(OTHER_CASH).await.unwrap().orders.len(), 1);
    assert_eq!(
        demo.order_book(DEMO_CASH_ACCOUNT)
            .await
            .unwrap()
            .orders
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_keys_and_otps_belong_to_their_consumer() {
    let t = spawn_with(config()).await;
    // The demo PIN does not log the other consumer in, nor the other way round.
    let other = other_client(&t);
    assert!(
        other
            .login(&DEMO_PIN.to_owned().into(), true)
            .await
            .is_err()
    );
    let demo = trading_client(&t);
    assert!(
        demo.login(&OTHER_PIN.to_owned().into(), true)
            .await
            .is_err()
    );
    // An OTP issued to one consumer is not the other's.
    other.request_otp().await.unwrap();
    let otp = t.sim.pending_otp(OTHER).unwrap();
    let mut demo_otp = trading_client_config(&t.trading_url);
    demo_otp.two_factor = fastconnect::TwoFactorType::Otp;
    let demo_otp = TradingClient::new(demo_otp).unwrap();
    assert!(demo_otp.login(&otp.clone().into(), true).await.is_err());
    let mut other_otp = trading_client_config(&t.trading_url);
    other_otp.consumer_id = OTHER.to_owned();
    other_otp.consumer_secret = OTHER_SECRET.to_owned().into();
    other_otp.private_key = OTHER_KEY.to_owned().into();
    other_otp.two_factor = fastconnect::TwoFactorType::Otp;
    TradingClient::new(other_otp)
        .unwrap()
        .login(&otp.into(), true)
        .await
        .unwrap();
    // A body signed with the demo key is not the other consumer's signature.
    let mut forged = trading_client_config(&t.trading_url);
    forged.consumer_id = OTHER.to_owned();
    forged.consumer_secret = OTHER_SECRET.to_owned().into();
    let forged = TradingClient::new(forged).unwrap();
    forged
        .login(&OTHER_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let (symbol, floor) = stock(&t);
    let mut o = NewOrder::limit(
        OTHER_CASH,
        &symbol,
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(floor),
        100,
    );
    o.request_id = rid(7);
    let err = forged.new_order(o).await.unwrap_err();
    assert!(err.to_string().contains("Invalid signature"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configurations_that_would_mix_consumers_are_refused() {
    let mut c = config();
    c.trading_consumers[1].accounts[0].id = DEMO_CASH_ACCOUNT.to_owned();
    let err = fcsim::Simulator::new(c).unwrap_err();
    assert!(err.to_string().contains("already belongs"), "{err}");
    let mut c = config();
    c.trading_consumers[1].consumer_id = fcsim::config::DEMO_TRADING_CONSUMER_ID.to_owned();
    let err = fcsim::Simulator::new(c).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
}
