//! FC Trading REST: login, signed orders (signature verified with the public key), queries.

use fastconnect::trading::{
    CancelOrder, ModifyOrder, NewOrder, RequestId, StopOrder, TradingClient,
};
use fastconnect::{
    Decimal, Error, ErrorKind, OrderStatus, OrderType, Side, StopType, TradingMarket, TwoFactorType,
};
use serde_json::json;
use time::macros::date;

use crate::fake_ssi::{Canned, FakeSsi, signature_valid};
use crate::helpers::{trading_client, trading_config};

fn ok(data: serde_json::Value) -> Canned {
    Canned::json(json!({"message": "Success", "status": 200, "data": data}))
}

fn ack(request_id: &str) -> Canned {
    ok(json!({"requestID": request_id, "requestData": {"echo": true}}))
}

#[tokio::test]
async fn pin_login_sends_two_factor_fields_without_bearer() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    client.access_token().await.unwrap();
    let login = &fake.requests_to("/api/v2/Trading/AccessToken")[0];
    assert_eq!(login.header("authorization"), None);
    assert_eq!(
        login.json(),
        json!({"consumerID": "trade-consumer", "consumerSecret": "trade-s3cret",
               "twoFactorType": 0, "code": "123456", "isSave": true})
    );
}

#[tokio::test]
async fn otp_accounts_need_an_explicit_login() {
    let fake = FakeSsi::start().await;
    let mut config = trading_config(&fake);
    config.two_factor = TwoFactorType::Otp;
    config.pin = None;
    let client = TradingClient::new(config).unwrap();
    let err = client.order_book("0001231").await.unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Auth);

    client.request_otp().await.unwrap();
    let otp = &fake.requests_to("/api/v2/Trading/GetOTP")[0];
    assert_eq!(otp.method, "POST");
    assert_eq!(
        otp.json(),
        json!({"consumerID": "trade-consumer", "consumerSecret": "trade-s3cret"})
    );

    client
        .login(&"654321".to_owned().into(), true)
        .await
        .unwrap();
    let login = &fake.requests_to("/api/v2/Trading/AccessToken")[0];
    assert_eq!(login.json()["twoFactorType"], 1);
    assert_eq!(login.json()["code"], "654321");
    fake.enqueue(
        "/api/v2/Trading/orderBook",
        ok(json!({"account": "0001231", "orders": []})),
    );
    assert!(
        client
            .order_book("0001231")
            .await
            .unwrap()
            .orders
            .is_empty()
    );
}

#[tokio::test]
async fn a_wrong_code_is_an_auth_error() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Trading/AccessToken",
        Canned::json(json!({"message": "Key does not exist.", "status": 400, "data": null})),
    );
    let err = trading_client(&fake).access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { ref message, .. } if message == "Key does not exist."),
        "{err:?}"
    );
}

#[tokio::test]
async fn new_order_is_signed_over_the_exact_body() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    fake.enqueue("/api/v2/Trading/NewOrder", ack("12345678"));
    let mut order = NewOrder::limit(
        "0001231",
        "SSI",
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(23_500),
        100,
    );
    order.request_id = Some(RequestId::new(12_345_678).unwrap());
    let ack = client.new_order(order).await.unwrap();
    assert_eq!(ack.request_id.get(), 12_345_678);
    assert_eq!(ack.request_data, json!({"echo": true}));

    let req = &fake.requests_to("/api/v2/Trading/NewOrder")[0];
    assert_eq!(req.method, "POST");
    assert!(req.header("authorization").unwrap().starts_with("Bearer "));
    assert_eq!(
        req.header("content-type").as_deref(),
        Some("application/json")
    );
    let signature = req.header("x-signature").unwrap();
    assert!(
        signature
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert!(
        signature_valid(&req.body, &signature),
        "signature verifies with the public key"
    );
    let mut tampered = req.body.to_vec();
    tampered[10] ^= 1;
    assert!(!signature_valid(&tampered, &signature));
    assert_eq!(
        req.json(),
        json!({"instrumentID": "SSI", "market": "VN", "buySell": "B", "orderType": "LO",
               "channelID": "TA", "price": 23500, "quantity": 100, "account": "0001231",
               "requestID": "12345678", "stopOrder": false, "stopPrice": 0, "stopType": "",
               "stopStep": 0, "lossStep": 0, "profitStep": 0, "deviceId": "AA:BB:CC:DD:EE:FF",
               "userAgent": "QTS"})
    );
}

#[tokio::test]
async fn derivative_orders_use_the_der_endpoints() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    fake.enqueue("/api/v2/Trading/derNewOrder", ack("1"));
    fake.enqueue("/api/v2/Trading/derModifyOrder", ack("2"));
    fake.enqueue("/api/v2/Trading/derCancelOrder", ack("3"));
    let mut order = NewOrder::limit(
        "0001238",
        "VN30F2406",
        TradingMarket::Vnfe,
        Side::Sell,
        Decimal::parse("1259.4").unwrap(),
        2,
    );
    order.stop = Some(StopOrder {
        stop_type: StopType::Down,
        stop_price: Decimal::parse("1250.5").unwrap(),
        stop_step: Decimal::ZERO,
        loss_step: Decimal::ZERO,
        profit_step: Decimal::ZERO,
    });
    order.code = Some("123456".to_owned().into());
    let placed = client.new_order(order).await.unwrap();
    assert!(placed.request_id.get() <= RequestId::MAX);
    let body = fake.requests_to("/api/v2/Trading/derNewOrder")[0].json();
    assert_eq!(body["market"], "VNFE");
    assert_eq!(body["price"], json!(1259.4));
    assert_eq!(body["stopOrder"], true);
    assert_eq!(body["stopType"], "D");
    assert_eq!(body["stopPrice"], json!(1250.5));
    assert_eq!(body["code"], "123456");

    client
        .modify_order(ModifyOrder {
            account: "0001238".into(),
            instrument_id: "VN30F2406".into(),
            market: TradingMarket::Vnfe,
            side: Side::Sell,
            order_type: OrderType::Lo,
            order_id: "T20230504w3806163422".into(),
            price: Decimal::parse("1260").unwrap(),
            quantity: 2,
            request_id: None,
            code: None,
        })
        .await
        .unwrap();
    let modify = &fake.requests_to("/api/v2/Trading/derModifyOrder")[0];
    assert!(signature_valid(
        &modify.body,
        &modify.header("x-signature").unwrap()
    ));
    let body = modify.json();
    assert_eq!(body["marketID"], "VNFE");
    assert_eq!(body["orderID"], "T20230504w3806163422");
    assert!(
        body.get("market").is_none(),
        "modify uses marketID, not market"
    );

    client
        .cancel_order(CancelOrder {
            account: "0001238".into(),
            instrument_id: "VN30F2406".into(),
            market: TradingMarket::Vnfe,
            side: Side::Sell,
            order_id: "T20230504w3806163422".into(),
            request_id: None,
            code: None,
        })
        .await
        .unwrap();
    let cancel = &fake.requests_to("/api/v2/Trading/derCancelOrder")[0];
    assert!(signature_valid(
        &cancel.body,
        &cancel.header("x-signature").unwrap()
    ));
    let body = cancel.json();
    assert_eq!(
        body.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        [
            "account",
            "buySell",
            "deviceId",
            "instrumentID",
            "marketID",
            "orderID",
            "requestID",
            "userAgent"
        ]
        .map(String::from)
        .into()
    );
    let ids: Vec<u64> = [
        &fake.requests_to("/api/v2/Trading/derModifyOrder")[0],
        cancel,
    ]
    .iter()
    .map(|r| r.json()["requestID"].as_str().unwrap().parse().unwrap())
    .collect();
    assert!(ids[1] > ids[0], "request ids increase");
}

#[tokio::test]
async fn cash_modify_and_cancel_use_the_plain_endpoints() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    fake.enqueue("/api/v2/Trading/ModifyOrder", ack("1"));
    fake.enqueue("/api/v2/Trading/CancelOrder", ack("2"));
    client
        .modify_order(ModifyOrder {
            account: "0001231".into(),
            instrument_id: "SSI".into(),
            market: TradingMarket::Vn,
            side: Side::Buy,
            order_type: OrderType::Lo,
            order_id: "12626539".into(),
            price: Decimal::from_i64(23_400),
            quantity: 200,
            request_id: None,
            code: None,
        })
        .await
        .unwrap();
    client
        .cancel_order(CancelOrder {
            account: "0001231".into(),
            instrument_id: "SSI".into(),
            market: TradingMarket::Vn,
            side: Side::Buy,
            order_id: "12626539".into(),
            request_id: None,
            code: None,
        })
        .await
        .unwrap();
    let modify = fake.requests_to("/api/v2/Trading/ModifyOrder")[0].json();
    assert_eq!(modify["marketID"], "VN");
    assert_eq!(modify["price"], 23400);
    assert_eq!(modify["quantity"], 200);
    assert_eq!(
        fake.requests_to("/api/v2/Trading/CancelOrder")[0].json()["orderID"],
        "12626539"
    );
}

#[tokio::test]
async fn invalid_orders_are_refused_before_sending() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    let mut atc = NewOrder::limit(
        "0001231",
        "SSI",
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(23_500),
        100,
    );
    atc.order_type = OrderType::Atc;
    let err = client.new_order(atc).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let zero = NewOrder::limit(
        "0001231",
        "SSI",
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(23_500),
        0,
    );
    assert!(client.new_order(zero).await.is_err());
    let mut stop_on_cash = NewOrder::limit(
        "0001231",
        "SSI",
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(1),
        1,
    );
    stop_on_cash.stop = Some(StopOrder {
        stop_type: StopType::Up,
        stop_price: Decimal::from_i64(1),
        stop_step: Decimal::ZERO,
        loss_step: Decimal::ZERO,
        profit_step: Decimal::ZERO,
    });
    assert!(client.new_order(stop_on_cash).await.is_err());
    assert!(fake.requests_to("/api/v2/Trading/NewOrder").is_empty());
}

#[tokio::test]
async fn business_rejections_keep_ssi_status_and_message() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    fake.enqueue(
        "/api/v2/Trading/NewOrder",
        Canned::json(json!({"message": "Price is null or equal zero when order is market order", "status": 400, "data": null})),
    );
    let order = NewOrder::limit(
        "0001231",
        "SSI",
        TradingMarket::Vn,
        Side::Buy,
        Decimal::from_i64(23_500),
        100,
    );
    let err = client.new_order(order).await.unwrap_err();
    match &err {
        Error::Rejected {
            status,
            message,
            endpoint,
        } => {
            assert_eq!(status, "400");
            assert!(message.starts_with("Price is null"));
            assert_eq!(endpoint, "/api/v2/Trading/NewOrder");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_expired_trading_token_is_renewed_with_the_pin() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    client.access_token().await.unwrap();
    fake.revoke_tokens();
    fake.enqueue(
        "/api/v2/Trading/cashAcctBal",
        ok(json!({"account": "0001231", "cashBal": 1000000})),
    );
    let bal = client.cash_account_balance("0001231").await.unwrap();
    assert_eq!(bal.cash_bal, Some(Decimal::from_i64(1_000_000)));
    assert_eq!(fake.tokens_issued(), 2);
    assert_eq!(fake.requests_to("/api/v2/Trading/cashAcctBal").len(), 2);
}

#[tokio::test]
async fn order_queries_send_ssi_parameters_and_parse() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    let item = json!({"uniqueID": "12345678", "orderID": "12626539", "buySell": "B", "price": 23500.0,
        "quantity": 100, "filledQty": 100, "orderStatus": "FF", "marketID": "VN",
        "inputTime": "1683189939000", "modifiedTime": "1683189999000", "instrumentID": "SSI",
        "orderType": "LO", "cancelQty": 0, "avgPrice": 23500.0, "isForcesell": "F", "isShortsell": "F",
        "rejectReason": "0"});
    fake.enqueue(
        "/api/v2/Trading/orderHistory",
        ok(json!({"account": "0001231", "orderHistories": [item.clone()]})),
    );
    fake.enqueue(
        "/api/v2/Trading/orderBook",
        ok(json!({"account": "0001231", "orders": [item.clone()]})),
    );
    let mut audited = item.clone();
    audited["lastErrorEvent"] = json!({"orderID": "12626539", "buySell": "B", "instrumentID": "SSI",
        "rejectReason": "Price 30000 exceeds ceiling price 25000!"});
    fake.enqueue(
        "/api/v2/Trading/auditOrderBook",
        ok(json!({"account": "0001231", "orders": [audited]})),
    );

    let history = client
        .order_history("0001231", date!(2024 - 06 - 01), date!(2024 - 06 - 04))
        .await
        .unwrap();
    let order = &history.orders[0];
    assert_eq!(order.order_status, Some(OrderStatus::Filled));
    assert_eq!(order.side, Side::Buy);
    assert_eq!(order.input_time.unwrap().unix_timestamp(), 1_683_189_939);
    assert_eq!(order.is_force_sell, Some(false));
    let req = &fake.requests_to("/api/v2/Trading/orderHistory")[0];
    assert_eq!(req.query["account"], "0001231");
    assert_eq!(req.query["startDate"], "01/06/2024");
    assert_eq!(req.query["endDate"], "04/06/2024");

    assert_eq!(client.order_book("0001231").await.unwrap().orders.len(), 1);
    let audit = client.audit_order_book("0001231").await.unwrap();
    assert_eq!(
        audit.orders[0]
            .last_error_event
            .as_ref()
            .unwrap()
            .reject_reason
            .as_deref(),
        Some("Price 30000 exceeds ceiling price 25000!")
    );
}

#[tokio::test]
async fn account_queries_send_ssi_parameters_and_parse() {
    let fake = FakeSsi::start().await;
    let client = trading_client(&fake);
    fake.enqueue("/api/v2/Trading/maxBuyQty", ok(json!({"account": "0001231", "maxBuyQty": 4200, "marginRatio": "50%", "purchasingPower": 98700000})));
    fake.enqueue(
        "/api/v2/Trading/maxSellQty",
        ok(json!({"account": "0001231", "maxSellQty": 300})),
    );
    fake.enqueue("/api/v2/Trading/cashAcctBal", ok(json!({"account": "0001231", "cashBal": 100000000, "purchasingPower": 98700000, "receivingCashT1": 0, "totalAssets": 150000000})));
    fake.enqueue("/api/v2/Trading/derivAcctBal", ok(json!({"account": "0001238", "accountBalance": 50000000, "floatingPL": -150000,
        "internalAssets": {"cash": 50000000, "validNonCash": 0, "totalValue": 50000000, "maxValidNonCash": 0, "cashWithdrawable": 1000000, "ee": 20000000},
        "exchangeMargin": {"marginReq": 30000000, "accountRatio": 61.25, "usedLimitWarningLevel1": 80, "usedLimitWarningLevel2": 85, "usedLimitWarningLevel3": 90, "marginCall": 0}})));
    fake.enqueue("/api/v2/Trading/ppmmraccount", ok(json!({"purchasingPower": 98700000, "marginRatio": 0.5, "action": "", "eE50": 1000, "callLMW": 5, "apT1": 7})));
    fake.enqueue("/api/v2/Trading/stockPosition", ok(json!({"account": "0001231", "totalMarketValue": 3500000,
        "stockPositions": [{"marketID": "VN", "instrumentID": "SSI", "onHand": 100, "block": 0, "bonus": 0, "buyT0": 0,
        "buyT1": 0, "buyT2": 0, "sellT0": 0, "sellT1": 0, "sellT2": 0, "avgPrice": 23456.7, "mortgage": 0,
        "sellableQty": 100, "holdForTrade": 0, "marketPrice": 35000}]})));
    fake.enqueue("/api/v2/Trading/derivPosition", ok(json!({"account": "0001238",
        "openPosition": [{"marketID": "VNFE", "instrumentID": "VN30F2406", "longQty": 2, "shortQty": 0, "net": 2,
        "bidAvgPrice": 1259.4, "askAvgPrice": 0, "tradePrice": 1259.4, "marketPrice": 1261.0, "floatingPL": 320000, "tradingPL": 0}],
        "closePosition": null})));
    fake.enqueue("/api/v2/Trading/rateLimit", ok(json!([{"endpoint": "*", "period": "1s", "limit": 5}, {"endpoint": "post:*", "period": "5s", "limit": 30}])));

    let max_buy = client
        .max_buy_qty("0001231", "SSI", Decimal::from_i64(23_500))
        .await
        .unwrap();
    assert_eq!(max_buy.max_buy_qty, 4200);
    assert_eq!(max_buy.margin_ratio.as_deref(), Some("50%"));
    let req = &fake.requests_to("/api/v2/Trading/maxBuyQty")[0];
    assert_eq!(req.query["instrumentID"], "SSI");
    assert_eq!(req.query["price"], "23500");

    let max_sell = client.max_sell_qty("0001231", "SSI", None).await.unwrap();
    assert_eq!(max_sell.max_sell_qty, 300);
    assert!(
        !fake.requests_to("/api/v2/Trading/maxSellQty")[0]
            .query
            .contains_key("price")
    );

    let cash = client.cash_account_balance("0001231").await.unwrap();
    assert_eq!(cash.total_assets, Some(Decimal::from_i64(150_000_000)));
    let der = client.deriv_account_balance("0001238").await.unwrap();
    assert_eq!(der.floating_pl, Some(Decimal::from_i64(-150_000)));
    assert_eq!(
        der.exchange_margin.unwrap().account_ratio,
        Some(Decimal::parse("61.25").unwrap())
    );
    assert_eq!(
        der.internal_assets.unwrap().ee,
        Some(Decimal::from_i64(20_000_000))
    );
    let pp = client.ppmmr_account("0001231").await.unwrap();
    assert_eq!(pp.margin_ratio, Some(Decimal::parse("0.5").unwrap()));
    assert_eq!(pp.ee50, Some(Decimal::from_i64(1000)));
    assert_eq!(pp.call_lmw, Some(Decimal::from_i64(5)));
    assert_eq!(pp.action, None);
    let stocks = client.stock_position("0001231").await.unwrap();
    assert_eq!(stocks.stock_positions[0].sellable_qty, Some(100));
    assert_eq!(
        stocks.stock_positions[0].avg_price,
        Some(Decimal::parse("23456.7").unwrap())
    );
    let der_pos = client.deriv_position("0001238", true).await.unwrap();
    assert_eq!(der_pos.open_position[0].net, Some(2));
    assert!(der_pos.close_position.is_empty());
    assert_eq!(
        fake.requests_to("/api/v2/Trading/derivPosition")[0].query["querySummary"],
        "true"
    );
    let rules = client.rate_limit().await.unwrap();
    assert_eq!(rules[1].period_ms(), Some(5_000));
    assert_eq!(rules[1].limit, 30);

    for path in [
        "cashAcctBal",
        "derivAcctBal",
        "ppmmraccount",
        "stockPosition",
    ] {
        let req = &fake.requests_to(&format!("/api/v2/Trading/{path}"))[0];
        assert_eq!(req.method, "GET");
        assert!(req.query.contains_key("account"), "{path}");
        assert!(
            req.header("x-signature").is_none(),
            "queries are not signed"
        );
    }
}
