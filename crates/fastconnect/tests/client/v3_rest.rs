//! v3 REST against the fake: signed orders over the exact bytes, verbs and bodies, 409 on a
//! reused id, 204 as empty, error classes, Retry-After, paging, FCO and account queries.

use std::time::{Duration, Instant};

use fastconnect::codes::{OrderType, Side};
use fastconnect::v3::fco::FcoListQuery;
use fastconnect::v3::{
    ApiErrorClass, CancelOrder, ClientRequestId, FcoKind, FcoOperator, FcoPrice, Leg, Modification,
    ModifyOrder, NewFco, NewOrder, OhlcQuery, OrderBookQuery, OrderRef, PageRequest,
    SecuritySelector, SummarySelector, TimeFrame,
};
use fastconnect::{Decimal, Error};
use serde_json::{Value, json};
use time::macros::{date, datetime};

use crate::fake_ssi::{Canned, signature_valid};
use crate::v3_fake::{FakeV3, GOOD_OTP, v3_client};

const ORDER: &str = "/api/v3/trading/order";

async fn trading(fake: &FakeV3) -> (fastconnect::v3::Client, fastconnect::v3::TradingClient) {
    let client = v3_client(fake);
    client.login_otp(&GOOD_OTP.to_owned().into()).await.unwrap();
    let trading = client.trading().unwrap();
    (client, trading)
}

fn buy(id: Option<&str>) -> NewOrder {
    NewOrder {
        account_no: "1234561".into(),
        symbol: "ssi".into(),
        side: Side::Buy,
        quantity: 100,
        price: Some(Decimal::parse("25350").unwrap()),
        order_type: OrderType::Lo,
        client_request_id: id.map(|i| ClientRequestId::new(i).unwrap()),
    }
}

fn class(e: &Error) -> ApiErrorClass {
    e.api()
        .unwrap_or_else(|| panic!("not an API error: {e:?}"))
        .class
}

#[tokio::test]
async fn place_modify_cancel_are_signed_over_the_exact_bytes_with_their_verbs() {
    let fake = FakeV3::start().await;
    let (_client, trading) = trading(&fake).await;
    fake.enqueue(
        "POST",
        ORDER,
        Canned::json(json!({"orderId": 9001, "clientRequestId": "abc123", "orderStatus": "PD"})),
    );
    let ack = trading.place_order(&buy(Some("abc123"))).await.unwrap();
    assert_eq!(ack.order_id, "9001");
    assert_eq!(ack.order_status.unwrap().as_str(), "PD");

    fake.enqueue(
        "PUT",
        ORDER,
        Canned::json(json!({"orderId": "9001", "clientModifyId": "m1", "orderStatus": "WM"})),
    );
    trading
        .modify_order(&ModifyOrder {
            account_no: "1234561".into(),
            target: OrderRef::OrderId("9001".into()),
            change: Modification::Price(Decimal::parse("25.5").unwrap()),
            client_modify_id: Some(ClientRequestId::new("m1").unwrap()),
        })
        .await
        .unwrap();
    fake.enqueue(
        "DELETE",
        ORDER,
        Canned::json(json!({"orderId": "9001", "clientCancelId": "c1", "orderStatus": "WC"})),
    );
    let ack = trading
        .cancel_order(&CancelOrder {
            account_no: "1234561".into(),
            target: OrderRef::ClientRequestId(ClientRequestId::new("abc123").unwrap()),
            client_cancel_id: None,
        })
        .await
        .unwrap();
    assert_eq!(ack.order_status.unwrap().as_str(), "WC");

    let calls = fake.requests_to(ORDER);
    assert_eq!(
        calls.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        ["POST", "PUT", "DELETE"]
    );
    for call in &calls {
        let sig = call.header("x-signature").unwrap();
        assert!(signature_valid(&call.body, &sig), "{}", call.method);
        assert_eq!(sig, sig.to_lowercase());
    }
    let place = calls[0].json();
    assert_eq!(
        place,
        json!({"accountNo": "1234561", "symbol": "SSI", "side": "B", "quantity": 100,
               "price": "25350", "orderType": "LO", "clientRequestId": "abc123",
               "deviceId": "0123456789abcdef0123456789abcdef", "userAgent": "QTS"})
    );
    let modify = calls[1].json();
    assert_eq!(modify["price"], "25.5");
    assert!(modify.get("quantity").is_none());
    assert_eq!(modify["orderId"], "9001");
    let cancel = calls[2].json();
    assert_eq!(cancel["clientRequestId"], "abc123");
    assert_eq!(cancel["clientCancelId"].as_str().unwrap().len(), 20);
    assert!(cancel.get("orderId").is_none());
}

#[tokio::test]
async fn market_orders_send_price_zero_and_limit_orders_need_a_price() {
    let fake = FakeV3::start().await;
    let (_client, trading) = trading(&fake).await;
    let mut order = buy(None);
    order.price = None;
    let err = trading.place_order(&order).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(fake.requests_to(ORDER).is_empty());
    order.order_type = OrderType::Ato;
    fake.enqueue(
        "POST",
        ORDER,
        Canned::json(json!({"orderId": "1", "orderStatus": "PD"})),
    );
    let ack = trading.place_order(&order).await.unwrap();
    let sent = fake.requests_to(ORDER)[0].json();
    assert_eq!(sent["price"], "0");
    // A generated id: 20 characters, reported back even if SSI omits it.
    assert_eq!(sent["clientRequestId"].as_str().unwrap().len(), 20);
    assert_eq!(
        ack.client_request_id,
        sent["clientRequestId"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_reused_client_request_id_is_a_distinct_duplicate_error() {
    let fake = FakeV3::start().await;
    let (_client, trading) = trading(&fake).await;
    fake.enqueue(
        "POST",
        ORDER,
        Canned::json(json!({"code": 409, "msg": "Duplicate clientRequestId"})).with_status(409),
    );
    let err = trading.place_order(&buy(Some("dup1"))).await.unwrap_err();
    assert!(err.is_duplicate_request());
    assert_eq!(class(&err), ApiErrorClass::Duplicate);
    assert_eq!(
        common_error::Classify::kind(&err),
        common_error::Kind::AlreadyExists
    );
    // Not replayed.
    assert_eq!(fake.requests_to(ORDER).len(), 1);
}

#[tokio::test]
async fn a_data_only_token_cannot_trade_scope_error() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    client.login_data_only().await.unwrap();
    let err = client
        .trading()
        .unwrap()
        .place_order(&buy(None))
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::Scope);
    assert_eq!(err.api().unwrap().code, Some(401_105));
}

#[tokio::test]
async fn a_signature_from_another_key_is_a_signature_error() {
    let fake = FakeV3::start().await;
    let mut config = crate::v3_fake::v3_config(&fake);
    config.private_key = Some(include_str!("../fixtures/other_key.pem").to_owned().into());
    let client = fastconnect::v3::Client::new(config).unwrap();
    client.login_otp(&GOOD_OTP.to_owned().into()).await.unwrap();
    let err = client
        .trading()
        .unwrap()
        .place_order(&buy(None))
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::Signature);
    assert_eq!(err.api().unwrap().code, Some(401_013));
    // Not retried: a 401 with a signature code is not a token problem.
    assert_eq!(fake.requests_to(ORDER).len(), 1);
}

#[tokio::test]
async fn batches_carry_id_time_and_orders_and_are_bounded() {
    let fake = FakeV3::start().await;
    let (_client, trading) = trading(&fake).await;
    let orders: Vec<NewOrder> = (0..3).map(|i| buy(Some(&format!("b{i}")))).collect();
    fake.enqueue(
        "POST",
        "/api/v3/trading/order/batch",
        Canned::json(json!({"batchRequestId": "batch1", "results": [
            {"clientRequestId": "b0", "orderId": "1", "orderStatus": "PD", "success": true},
            {"clientRequestId": "b1", "orderId": "2", "orderStatus": "PD", "success": "true"},
            {"clientRequestId": "b2", "orderId": "", "success": false, "errorCode": "400107", "errorMessage": "bad"}
        ]})),
    );
    let ack = trading
        .batch_place(&orders, Some(ClientRequestId::new("batch1").unwrap()))
        .await
        .unwrap();
    assert_eq!(ack.results.len(), 3);
    assert_eq!(ack.results[1].success, Some(true));
    assert_eq!(ack.results[2].error_code.as_deref(), Some("400107"));
    let call = &fake.requests_to("/api/v3/trading/order/batch")[0];
    assert!(signature_valid(
        &call.body,
        &call.header("x-signature").unwrap()
    ));
    let body = call.json();
    assert_eq!(body["batchRequestId"], "batch1");
    let sent_ms = body["batchRequestTime"].as_i64().unwrap();
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    assert!((now_ms - sent_ms).abs() < 10_000);
    assert_eq!(body["orders"].as_array().unwrap().len(), 3);
    assert_eq!(body["orders"][2]["clientRequestId"], "b2");

    let too_many: Vec<NewOrder> = (0..21).map(|_| buy(None)).collect();
    assert!(matches!(
        trading.batch_place(&too_many, None).await.unwrap_err(),
        Error::InvalidRequest(_)
    ));
    fake.enqueue(
        "DELETE",
        "/api/v3/trading/order/batch",
        Canned::json(json!({"batchRequestId": "x", "results": []})),
    );
    let cancels = vec![CancelOrder {
        account_no: "1234561".into(),
        target: OrderRef::OrderId("1".into()),
        client_cancel_id: None,
    }];
    trading.batch_cancel(&cancels, None).await.unwrap();
    let call = fake
        .requests_to("/api/v3/trading/order/batch")
        .pop()
        .unwrap();
    assert_eq!(call.method.as_str(), "DELETE");
    assert_eq!(call.json()["orders"][0]["orderId"], "1");
}

#[tokio::test]
async fn code_204_is_an_empty_result_everywhere() {
    let fake = FakeV3::start().await;
    let (client, trading) = trading(&fake).await;
    let empty = || Canned::json(json!({"code": 204, "msg": "No data"}));
    fake.enqueue("GET", "/api/v3/data/securitiesByBoard", empty());
    assert!(
        client
            .data()
            .securities_by_board(&SecuritySelector::Index("VN30".into()))
            .await
            .unwrap()
            .is_empty()
    );
    fake.enqueue("GET", "/api/v3/trading/orderBook", empty());
    let book = trading
        .order_book(
            &OrderBookQuery {
                account_no: "1234561".into(),
                from: date!(2026 - 05 - 04),
                to: date!(2026 - 05 - 04),
                symbol: None,
                order_status: None,
            },
            PageRequest::new(1, 100).unwrap(),
        )
        .await
        .unwrap();
    assert!(book.order_list.is_empty());
    fake.enqueue("GET", "/api/v3/trading/fco/statusHistory", empty());
    assert!(trading.fco_status_history("F1").await.unwrap().is_empty());
}

#[tokio::test]
async fn errors_in_200_bodies_and_http_statuses_are_classified() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let data = client.data();
    let query = OhlcQuery {
        symbol: "SSI".into(),
        from: datetime!(2026-05-04 09:00),
        to: datetime!(2026-05-04 15:00),
        time_frame: TimeFrame::M1,
    };
    fake.enqueue(
        "GET",
        "/api/v3/data/ohlc",
        Canned::json(json!({"code": 400_213, "message": "Invalid Date/Timestamp Format"})),
    );
    let err = data
        .ohlc(&query, PageRequest::new(1, 10).unwrap())
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::Validation);
    assert_eq!(err.api().unwrap().http_status, 200);
    assert_eq!(err.api().unwrap().message, "Invalid Date/Timestamp Format");
    fake.enqueue(
        "GET",
        "/api/v3/data/indexSummary",
        Canned::json(json!({"code": 504_207, "msg": "index or board required"})).with_status(504),
    );
    let err = data
        .index_summary(
            &fastconnect::v3::IndexSelector::Index("VNINDEX".into()),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::Validation);
    fake.enqueue(
        "GET",
        "/api/v3/data/masterdata",
        Canned::raw(503, "<html>down</html>"),
    );
    let err = data
        .master_data(
            date!(2026 - 05 - 04),
            date!(2026 - 05 - 04),
            PageRequest::new(1, 10).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::Server);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_get_honours_retry_after_and_an_order_is_never_replayed_on_429() {
    let fake = FakeV3::start().await;
    let (client, trading) = trading(&fake).await;
    fake.enqueue(
        "GET",
        "/api/v3/data/indexList",
        Canned::json(json!({"code": 429, "msg": "Too many requests"}))
            .with_status(429)
            .with_header("retry-after", "1"),
    );
    fake.enqueue("GET", "/api/v3/data/indexList", Canned::json(json!([])));
    let started = Instant::now();
    client.data().index_list(None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(fake.requests_to("/api/v3/data/indexList").len(), 2);

    fake.enqueue(
        "POST",
        ORDER,
        Canned::raw(429, "quota").with_header("retry-after", "2"),
    );
    let err = trading.place_order(&buy(None)).await.unwrap_err();
    assert_eq!(class(&err), ApiErrorClass::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(fake.requests_to(ORDER).len(), 1);

    // A Retry-After beyond the configured maximum is returned, not waited out.
    fake.enqueue(
        "GET",
        "/api/v3/data/indexList",
        Canned::raw(429, "quota").with_header("retry-after", "600"),
    );
    let err = client.data().index_list(None).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(600)));
}

fn bar(i: usize) -> Value {
    json!({"symbol": "SSI", "tradingDate": format!("2026/05/04 09:{:02}:00", i % 60),
           "open": "25,350", "high": 25400, "low": "25300.0", "close": 25350, "volume": "1,200", "value": "30,420,000"})
}

#[tokio::test]
async fn ohlc_pages_until_a_short_page_and_reads_lenient_numbers() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let full: Vec<Value> = (0..1000).map(bar).collect();
    fake.enqueue(
        "GET",
        "/api/v3/data/ohlc",
        Canned::json(json!({"data": full})),
    );
    fake.enqueue(
        "GET",
        "/api/v3/data/ohlc",
        Canned::json(json!({"data": [bar(1), bar(2), bar(3)]})),
    );
    let query = OhlcQuery {
        symbol: "ssi".into(),
        from: datetime!(2026-05-04 09:00),
        to: datetime!(2026-05-04 15:00),
        time_frame: TimeFrame::M1,
    };
    let bars = client.data().ohlc_all(&query).await.unwrap();
    assert_eq!(bars.len(), 1003);
    assert_eq!(bars[0].open.unwrap().to_string(), "25350");
    assert_eq!(bars[0].volume, Some(1200));
    assert_eq!(bars[0].value.unwrap().to_string(), "30420000");
    assert_eq!(bars[0].time().unwrap(), datetime!(2026-05-04 09:00));
    let calls = fake.requests_to("/api/v3/data/ohlc");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].query["pageIndex"], "1");
    assert_eq!(calls[1].query["pageIndex"], "2");
    assert_eq!(calls[1].query["pageSize"], "1000");
    assert_eq!(calls[0].query["from"], "2026/05/04 09:00:00");
    assert_eq!(calls[0].query["to"], "2026/05/04 15:00:00");
    assert_eq!(calls[0].query["symbol"], "SSI");
    assert_eq!(calls[0].query["timeFrame"], "1m");
    let names: Vec<&str> = TimeFrame::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names, ["1m", "3m", "5m", "15m", "1h", "1d"]);
}

#[tokio::test]
async fn paged_endpoints_stop_at_pages_count() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    let row = json!({"board": "HOSE", "symbol": "SSI", "tradingDate": "04/05/2026", "ceiling": "27,100", "floor": 23600, "refPrice": "25350"});
    let full: Vec<Value> = (0..1000).map(|_| row.clone()).collect();
    for _ in 0..2 {
        fake.enqueue(
            "GET",
            "/api/v3/data/masterdata",
            Canned::json(json!({"data": full, "pagesCount": 2})),
        );
    }
    let rows = client
        .data()
        .master_data_all(date!(2026 - 05 - 04), date!(2026 - 05 - 05))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2000);
    assert_eq!(rows[0].trading_date, Some(date!(2026 - 05 - 04)));
    assert_eq!(rows[0].ceiling.unwrap().to_string(), "27100");
    assert_eq!(fake.requests_to("/api/v3/data/masterdata").len(), 2);
    assert_eq!(
        fake.requests_to("/api/v3/data/masterdata")[0].query["from"],
        "2026/05/04"
    );

    fake.enqueue(
        "GET",
        "/api/v3/data/securitiesSummary",
        Canned::json(json!({"data": [{"symbol": "SSI", "tradingDate": "2026-05-04T00:00:00", "close": "25,350", "totalMatch": "2,493,089"}], "pagesCount": "1"})),
    );
    let page = client
        .data()
        .securities_summary(
            &SummarySelector::Symbol("SSI".into()),
            date!(2026 - 05 - 04),
            date!(2026 - 05 - 04),
            PageRequest::new(1, 50).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.pages_count, Some(1));
    assert_eq!(page.rows[0].total_match, Some(2_493_089));
}

#[tokio::test]
async fn bad_requests_are_refused_before_sending() {
    let fake = FakeV3::start().await;
    let client = v3_client(&fake);
    assert!(PageRequest::new(0, 10).is_err());
    let bad = client
        .data()
        .corporate_actions(&fastconnect::v3::CorporateActionsQuery {
            from: date!(2026 - 05 - 01),
            to: date!(2026 - 05 - 10),
            symbol: None,
            language: fastconnect::v3::Language::English,
            page_index: 1,
            page_size: 10,
        })
        .await;
    assert!(matches!(bad, Err(Error::InvalidRequest(_))));
    assert!(ClientRequestId::new("123456789012345678901").is_err());
    assert!(fake.requests_to("/api/v3/data/corporateActions").is_empty());
    fake.enqueue(
        "GET",
        "/api/v3/data/corporateActions",
        Canned::json(json!({"data": [{"symbol": "SSI", "eventTitle": "Dividend", "exrightDate": "2026-05-06", "ratio": "10%"}]})),
    );
    let rows = client
        .data()
        .corporate_actions(&fastconnect::v3::CorporateActionsQuery {
            from: date!(2026 - 05 - 04),
            to: date!(2026 - 05 - 08),
            symbol: Some("ssi".into()),
            language: fastconnect::v3::Language::Vietnamese,
            page_index: 1,
            page_size: 20,
        })
        .await
        .unwrap();
    assert_eq!(rows[0].exright_date, Some(date!(2026 - 05 - 06)));
    let q = &fake.requests_to("/api/v3/data/corporateActions")[0].query;
    assert_eq!(q["language"], "vn");
    assert_eq!(q["symbol"], "SSI");
}

#[tokio::test]
async fn fco_orders_are_signed_with_sdk_shaped_bodies() {
    let fake = FakeV3::start().await;
    let (_client, trading) = trading(&fake).await;
    let base = |kind| NewFco {
        account_no: "1234561".into(),
        symbol: "SSI".into(),
        side: Side::Sell,
        quantity: 100,
        from: datetime!(2026-05-04 09:00),
        to: datetime!(2026-05-29 15:00),
        kind,
    };
    let d = |s: &str| Decimal::parse(s).unwrap();
    let kinds = vec![
        FcoKind::Gtd {
            price: FcoPrice::Limit(d("25350")),
            price_slip: d("50"),
        },
        FcoKind::Stop {
            stop_price: d("24000"),
            operator: FcoOperator::LesserOrEqual,
        },
        FcoKind::StopLimit {
            stop_price: d("24000"),
            operator: FcoOperator::LesserOrEqual,
            price: FcoPrice::Limit(d("23900")),
            price_slip: d("0"),
        },
        FcoKind::TrailingStop {
            active_price: d("26000"),
            trailing_amount: d("500"),
        },
        FcoKind::TrailingStopLimit {
            active_price: d("26000"),
            trailing_amount: d("500"),
            price_slip: d("100"),
        },
        FcoKind::Oco {
            take_profit: Leg {
                active_price: d("27000"),
                price: FcoPrice::Limit(d("27000")),
                slip: d("0"),
            },
            stop_loss: Leg {
                active_price: d("24000"),
                price: FcoPrice::Market(OrderType::Mtl),
                slip: d("100"),
            },
        },
        FcoKind::BullBear {
            price: FcoPrice::Limit(d("25350")),
            price_slip: d("0"),
            take_profit: Leg {
                active_price: d("27000"),
                price: FcoPrice::Limit(d("27000")),
                slip: d("0"),
            },
            stop_loss: Leg {
                active_price: d("24000"),
                price: FcoPrice::Limit(d("23900")),
                slip: d("50"),
            },
        },
    ];
    for kind in kinds {
        fake.enqueue(
            "POST",
            "/api/v3/trading/fco/order",
            Canned::json(json!({"fcoId": 77})),
        );
        assert_eq!(trading.place_fco(&base(kind)).await.unwrap(), "77");
    }
    let calls = fake.requests_to("/api/v3/trading/fco/order");
    let bodies: Vec<Value> = calls.iter().map(|c| c.json()).collect();
    for c in &calls {
        assert!(signature_valid(&c.body, &c.header("x-signature").unwrap()));
    }
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "gtd",
            "stop",
            "stop_limit",
            "trailing_stop",
            "trailing_stop_limit",
            "oco",
            "bullbear"
        ]
    );
    assert_eq!(bodies[0]["price"], "25350");
    assert_eq!(bodies[0]["priceSlip"], 50);
    assert_eq!(bodies[0]["from"], "2026/05/04 09:00:00");
    assert_eq!(bodies[1]["price"], "MTL");
    assert_eq!(bodies[1]["stopPrice"], 24000);
    assert_eq!(bodies[1]["operator"], "lesser_or_equal");
    assert_eq!(bodies[3]["trailingAmount"], 500);
    assert_eq!(bodies[5]["slPrice"], "MTL");
    assert_eq!(bodies[5]["slSlip"], 0);
    assert_eq!(bodies[5]["price"], "MP");
    assert_eq!(bodies[6]["tpActivePrice"], 27000);
    assert_eq!(bodies[6]["slSlip"], 50);

    let too_long = NewFco {
        to: datetime!(2026-06-30 15:00),
        ..base(FcoKind::Stop {
            stop_price: d("1"),
            operator: FcoOperator::Greater,
        })
    };
    assert!(matches!(
        trading.place_fco(&too_long).await.unwrap_err(),
        Error::InvalidRequest(_)
    ));

    fake.enqueue(
        "DELETE",
        "/api/v3/trading/fco/order",
        Canned::json(json!({"fcoId": "77"})),
    );
    assert_eq!(trading.cancel_fco("77").await.unwrap(), "77");
    let cancel = fake.requests_to("/api/v3/trading/fco/order").pop().unwrap();
    assert_eq!(cancel.method.as_str(), "DELETE");
    assert_eq!(cancel.json()["fcoId"], "77");

    fake.enqueue(
        "GET",
        "/api/v3/trading/fco/list",
        Canned::json(json!({"pageIndex": 1, "pageSize": 10, "itemsCount": 1, "pagesCount": 1, "data": [
            {"fcoId": "77", "accountNo": "1234561", "symbol": "SSI", "type": "stop", "quantity": "100", "price": "MTL",
             "status": "WAIT", "isPlaceOrder": 0, "params": {"stopPrice": 24000, "operator": 4}}]})),
    );
    let page = trading
        .fco_list(
            &FcoListQuery {
                account_no: "1234561".into(),
                process_status: vec!["WAIT".into(), "TRI".into()],
                ..FcoListQuery::default()
            },
            PageRequest::new(1, 10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.data[0].is_place_order, Some(false));
    assert_eq!(page.data[0].quantity, Some(100));
    assert_eq!(FcoOperator::parse("4"), Some(FcoOperator::LesserOrEqual));
    assert_eq!(
        fake.requests_to("/api/v3/trading/fco/list")[0].query["accountNo"],
        "1234561"
    );
    fake.enqueue("GET", "/api/v3/trading/fco/statusHistory", Canned::json(json!({"data": [{"state": "WAIT", "time": "04/05/2026 09:00:01", "code": null, "detail": ""}]})));
    let history = trading.fco_status_history("77").await.unwrap();
    assert_eq!(history[0].state, "WAIT");
    assert_eq!(
        fake.requests_to("/api/v3/trading/fco/statusHistory")[0].query["fcoid"],
        "77"
    );
    fake.enqueue("GET", "/api/v3/trading/fco/orderbook", Canned::json(json!({"data": [{"fcoId": "77", "orderId": 5, "isMainOrder": true, "status": "FF", "avgPrice": "24,000"}]})));
    let book = trading
        .fco_order_book("77", PageRequest::new(1, 10).unwrap())
        .await
        .unwrap();
    assert_eq!(book.data[0].order_id.as_deref(), Some("5"));
}

#[tokio::test]
async fn account_queries_send_their_parameters_and_read_sections() {
    let fake = FakeV3::start().await;
    let (_client, trading) = trading(&fake).await;
    fake.enqueue("GET", "/api/v3/account/info", Canned::json(json!([{"accountNo": "1234561", "accountType": "Cash"}, {"accountNo": "1234568", "accountType": "Derivative"}])));
    assert_eq!(trading.account_info().await.unwrap().len(), 2);
    fake.enqueue("GET", "/api/v3/trading/maxBuySell", Canned::json(json!({"accountNo": "1234561", "maxBuyQty": "1,000", "maxSellQty": 0, "purchasingPower": "25,350,000"})));
    let max = trading
        .max_buy_sell("1234561", "ssi", Some(Decimal::parse("25350").unwrap()))
        .await
        .unwrap();
    assert_eq!(max.max_buy_qty, Some(1000));
    assert_eq!(max.margin_ratio, None);
    let q = &fake.requests_to("/api/v3/trading/maxBuySell")[0].query;
    assert_eq!(
        (q["symbol"].as_str(), q["price"].as_str()),
        ("SSI", "25350")
    );
    fake.enqueue("GET", "/api/v3/trading/accountBalance", Canned::json(json!({"equity": {"accountNo": "1234561", "accountBalance": "100,000,000", "withdrawable": 5}, "derivative": null})));
    let bal = trading.account_balance("1234561").await.unwrap();
    assert_eq!(
        bal.equity
            .unwrap()
            .decimal("AccountBalance")
            .unwrap()
            .unwrap()
            .to_string(),
        "100000000"
    );
    assert_eq!(
        fake.requests_to("/api/v3/trading/accountBalance")[0].query["clientId"],
        "C001"
    );
    fake.enqueue("GET", "/api/v3/trading/position", Canned::json(json!({"equity": [{"accountNo": "1234561", "symbol": "SSI", "quantity": "1,000", "sellableQuantity": 900, "costPrice": "24,500"}], "derivative": {"derOpenPositions": [{"symbol": "VN30F2606", "long": 2, "short": 0, "net": 2, "floatingPL": "-1,000"}], "derClosePositions": null}})));
    let pos = trading.position("1234561", true).await.unwrap();
    assert_eq!(pos.equity[0].sellable_quantity, Some(900));
    assert_eq!(
        pos.derivative.unwrap().der_open_positions[0]
            .floating_pl
            .unwrap()
            .to_string(),
        "-1000"
    );
    assert_eq!(
        fake.requests_to("/api/v3/trading/position")[0].query["querySummary"],
        "true"
    );
    fake.enqueue(
        "GET",
        "/api/v3/trading/ppmmrAccount",
        Canned::json(json!({"equity": {"purchasingPower": 1, "callLMV": "2"}})),
    );
    let ppmmr = trading.ppmmr_account("1234561").await.unwrap();
    assert_eq!(
        ppmmr
            .equity
            .unwrap()
            .decimal("callLmv")
            .unwrap()
            .unwrap()
            .to_string(),
        "2"
    );
    fake.enqueue("GET", "/api/v3/trading/orderBook", Canned::json(json!({"accountNo": "1234561", "totalRecord": 1, "orderList": [
        {"clientRequestId": "abc", "orderId": 9, "instrumentId": "SSI", "buySell": "B", "orderType": "ATO", "price": "ATO", "quantity": 100, "filledQty": "0", "orderStatus": "QU"}]})));
    let orders = trading
        .order_book_all(&OrderBookQuery {
            account_no: "1234561".into(),
            from: date!(2026 - 05 - 04),
            to: date!(2026 - 05 - 04),
            symbol: None,
            order_status: None,
        })
        .await
        .unwrap();
    assert_eq!(orders[0].symbol, "SSI");
    assert_eq!(orders[0].side, "B");
    assert_eq!(orders[0].price, "ATO");
    assert_eq!(
        fake.requests_to("/api/v3/trading/orderBook")[0].query["pageSize"],
        "1000"
    );
}
