//! FC Data REST: token, every endpoint's request shape and parsing, paging, errors.

use std::time::{Duration, Instant};

use fastconnect::data::{
    DailyIndexQuery, DailyOhlcQuery, DailyStockPriceQuery, IndexComponentsQuery, IndexListQuery,
    IntradayOhlcQuery, PageSize, Paging, SecuritiesDetailsQuery, SecuritiesQuery,
};
use fastconnect::{Decimal, Error, ErrorKind, Exchange, SecurityType, TradingSession};
use secrecy::ExposeSecret as _;
use serde_json::json;
use time::macros::{date, time};

use crate::fake_ssi::{Canned, FakeSsi};
use crate::helpers::{data_client, data_config};

fn ok(data: serde_json::Value, total: u64) -> Canned {
    Canned::json(
        json!({"data": data, "message": "Success", "status": "Success", "totalRecord": total}),
    )
}

fn dec(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

#[tokio::test]
async fn access_token_is_fetched_once_with_credentials_and_cached() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    let a = client.access_token().await.unwrap();
    let b = client.access_token().await.unwrap();
    assert_eq!(a.expose_secret(), b.expose_secret());
    let calls = fake.requests_to("/api/v2/Market/AccessToken");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(
        calls[0].header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(calls[0].header("authorization"), None);
    assert_eq!(
        calls[0].json(),
        json!({"consumerID": "data-consumer", "consumerSecret": "data-s3cret"})
    );
}

#[tokio::test]
async fn a_token_inside_the_refresh_margin_is_renewed_before_use() {
    let fake = FakeSsi::start().await;
    // 5 minutes left is inside the default 10-minute margin: renew on every use.
    fake.set_token_lifetime(300);
    let client = data_client(&fake);
    client.access_token().await.unwrap();
    client.access_token().await.unwrap();
    assert_eq!(fake.tokens_issued(), 2);
    // An hour left: reused.
    fake.set_token_lifetime(3_600);
    client.access_token().await.unwrap();
    client.access_token().await.unwrap();
    assert_eq!(fake.tokens_issued(), 3);
}

#[tokio::test]
async fn bad_credentials_are_an_auth_error() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/AccessToken",
        Canned::json(json!({"message": "ConsumerID is invalid", "status": 400, "data": null})),
    );
    let err = data_client(&fake).access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected { ref message, .. } if message == "ConsumerID is invalid"),
        "{err:?}"
    );
}

#[tokio::test]
async fn securities_request_and_parse() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/Securities",
        ok(
            json!([
                {"Market": "HOSE", "Symbol": "SSI", "StockName": "CTCP Chứng khoán SSI", "StockEnName": "SSI Securities Corporation"},
                {"Market": "HOSE", "Symbol": "VNM", "StockName": "Vinamilk", "StockEnName": null}
            ]),
            2,
        ),
    );
    let client = data_client(&fake);
    let page = client
        .page(
            &SecuritiesQuery {
                market: Some(Exchange::Hose),
            },
            Paging::new(2, PageSize::S20).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.total_record, Some(2));
    assert_eq!(page.items[0].symbol, "SSI");
    assert_eq!(page.items[0].market, Some(Exchange::Hose));
    assert_eq!(page.items[1].stock_en_name, None);
    let req = &fake.requests_to("/api/v2/Market/Securities")[0];
    assert_eq!(req.method, "GET");
    assert!(req.header("authorization").unwrap().starts_with("Bearer "));
    assert_eq!(req.query["market"], "HOSE");
    assert_eq!(req.query["pageIndex"], "2");
    assert_eq!(req.query["pageSize"], "20");
}

#[tokio::test]
async fn securities_details_parse_reference_data_and_tick_table() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/SecuritiesDetails",
        ok(
            json!([{
                "RType": "y", "ReportDate": "15/10/2020", "TotalNoSym": "1",
                "RepeatedInfo": [{
                    "Isin": "VN000000SSI1", "Symbol": "SSI", "SymbolName": "CTCP Chứng khoán SSI",
                    "SymbolEngName": "SSI Securities", "SecType": "S", "MarketId": "HOSE",
                    "Exchange": "HOSE", "Issuer": null, "LotSize": "100", "IssueDate": "",
                    "MaturityDate": "", "FirstTradingDate": "29/10/2006", "LastTradingDate": "",
                    "ContractMultiplier": "0", "SettlMethod": "", "Underlying": "", "PutOrCall": "",
                    "ExercisePrice": "0", "ExerciseStyle": "", "ExcerciseRatio": "", "ListedShare": "601137898",
                    "TickPrice1": "1", "TickIncrement1": "10", "TickPrice2": "10000", "TickIncrement2": "50",
                    "TickPrice3": "50000", "TickIncrement3": "100", "TickPrice4": null, "TickIncrement4": null
                }]
            }]),
            1,
        ),
    );
    let client = data_client(&fake);
    let rows = client
        .all(&SecuritiesDetailsQuery {
            market: Some(Exchange::Hose),
            symbol: Some("SSI".into()),
        })
        .await
        .unwrap();
    let report = &rows[0];
    assert_eq!(report.report_date, Some(date!(2020 - 10 - 15)));
    assert_eq!(report.total_no_sym, Some(1));
    let ssi = &report.repeated_info[0];
    assert_eq!(ssi.sec_type, Some(SecurityType::Stock));
    assert_eq!(ssi.lot_size, Some(100));
    assert_eq!(ssi.first_trading_date, Some(date!(2006 - 10 - 29)));
    assert_eq!(ssi.issue_date, None);
    assert_eq!(ssi.listed_share, Some(601_137_898));
    let bands = ssi.tick_bands();
    assert_eq!(bands.len(), 3);
    assert_eq!(bands[1].from, dec("10000"));
    assert_eq!(bands[1].step, dec("50"));
    let req = &fake.requests_to("/api/v2/Market/SecuritiesDetails")[0];
    assert_eq!(req.query["symbol"], "SSI");
    assert_eq!(req.query["market"], "HOSE");
    assert_eq!(req.query["pageSize"], "1000");
}

#[tokio::test]
async fn index_components_and_index_list() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/IndexComponents",
        ok(
            json!([{"IndexCode": "VN30", "IndexName": "VN30", "Exchange": "HOSE", "TotalSymbolNo": "30",
                "IndexComponent": [{"Isin": "VN000000ACB8", "StockSymbol": "ACB"}, {"Isin": "VN000000SSI1", "StockSymbol": "SSI"}]}]),
            1,
        ),
    );
    fake.enqueue(
        "/api/v2/Market/IndexList",
        ok(
            json!([{"IndexCode": "VN30", "IndexName": "VN30", "Exchange": "HOSE"},
                   {"IndexCode": "VNINDEX", "IndexName": "VN-Index", "Exchange": "HOSE"}]),
            2,
        ),
    );
    let client = data_client(&fake);
    let comps = client
        .all(&IndexComponentsQuery {
            index_code: "VN30".into(),
        })
        .await
        .unwrap();
    assert_eq!(comps[0].total_symbol_no, Some(30));
    assert_eq!(comps[0].index_component[1].stock_symbol, "SSI");
    let list = client
        .all(&IndexListQuery {
            exchange: Exchange::Hose,
        })
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        fake.requests_to("/api/v2/Market/IndexComponents")[0].query["indexCode"],
        "VN30"
    );
    assert_eq!(
        fake.requests_to("/api/v2/Market/IndexList")[0].query["exchange"],
        "HOSE"
    );
}

#[tokio::test]
async fn daily_ohlc_parses_string_numbers_exactly() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/DailyOhlc",
        ok(
            json!([{"Symbol": "SSI", "Market": "HOSE", "TradingDate": "02/01/2024", "Time": null,
                "Open": "28600", "High": "29000", "Low": "28400", "Close": "28950",
                "Volume": "15234500", "Value": "663258204999.9850"}]),
            1,
        ),
    );
    let client = data_client(&fake);
    let bars = client
        .all(&DailyOhlcQuery::new(
            "SSI",
            date!(2024 - 01 - 02),
            date!(2024 - 01 - 31),
        ))
        .await
        .unwrap();
    let bar = &bars[0];
    assert_eq!(bar.trading_date, date!(2024 - 01 - 02));
    assert_eq!(bar.open.to_i64_exact(), Some(28_600));
    assert_eq!(bar.volume, 15_234_500);
    assert_eq!(bar.value, Some(dec("663258204999.985")));
    assert_eq!(bar.time, None);
    let req = &fake.requests_to("/api/v2/Market/DailyOhlc")[0];
    assert_eq!(req.query["symbol"], "SSI");
    assert_eq!(req.query["fromDate"], "02/01/2024");
    assert_eq!(req.query["toDate"], "31/01/2024");
    assert_eq!(req.query["ascending"], "true");
    assert_eq!(req.query["pageIndex"], "1");
}

#[tokio::test]
async fn intraday_ohlc_sends_resolution_and_parses_time() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/IntradayOhlc",
        ok(
            json!([{"Symbol": "VN30F2406", "Value": "1259.4", "TradingDate": "04/06/2024", "Time": "09:15:00",
                "Open": "1259.4", "High": "1260.1", "Low": "1258.8", "Close": "1259.9", "Volume": "1532"}]),
            1,
        ),
    );
    let client = data_client(&fake);
    let mut query =
        IntradayOhlcQuery::new("VN30F2406", date!(2024 - 06 - 04), date!(2024 - 06 - 04));
    query.resolution = 60;
    let bars = client.all(&query).await.unwrap();
    assert_eq!(bars[0].time, Some(time!(09:15:00)));
    assert_eq!(bars[0].close.to_string(), "1259.9");
    assert_eq!(
        bars[0].open.to_i64_exact(),
        None,
        "index points keep decimals"
    );
    let req = &fake.requests_to("/api/v2/Market/IntradayOhlc")[0];
    assert_eq!(req.query["resolution"], "60");
    assert_eq!(req.query["symbol"], "VN30F2406");
}

#[tokio::test]
async fn daily_index_request_and_parse() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/DailyIndex",
        ok(
            json!([{"IndexId": "VN30", "IndexValue": "1259.40", "TradingDate": "04/06/2024", "Time": "15:00:00",
                "Change": "-3.21", "RatioChange": "-0.25", "TotalTrade": "0", "TotalMatchVol": "210345600",
                "TotalMatchVal": "6543210987654", "TypeIndex": "Main", "IndexName": "VN30", "Advances": "10",
                "NoChanges": "5", "Declines": "15", "Ceilings": "0", "Floors": "1", "TotalDealVol": "1000",
                "TotalDealVal": "25000000", "TotalVol": "210346600", "TotalVal": "6543235987654",
                "TradingSession": "C"}]),
            1,
        ),
    );
    let client = data_client(&fake);
    let rows = client
        .all(&DailyIndexQuery::new(
            "VN30",
            date!(2024 - 06 - 01),
            date!(2024 - 06 - 04),
        ))
        .await
        .unwrap();
    assert_eq!(rows[0].index_value, dec("1259.4"));
    assert_eq!(rows[0].change, Some(dec("-3.21")));
    assert_eq!(rows[0].declines, Some(15));
    assert_eq!(rows[0].trading_session, Some(TradingSession::Closed));
    assert_eq!(
        fake.requests_to("/api/v2/Market/DailyIndex")[0].query["indexId"],
        "VN30"
    );
}

#[tokio::test]
async fn daily_stock_price_request_and_parse() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/DailyStockPrice",
        ok(
            json!([{"TradingDate": "04/06/2024", "Symbol": "SSI", "Time": null, "PriceChange": "-150",
                "PerPriceChange": "-0.43", "CeilingPrice": "37550", "FloorPrice": "32650", "RefPrice": "35100",
                "OpenPrice": "35100", "HighestPrice": "35300", "LowestPrice": "34800", "ClosePrice": "34950",
                "AveragePrice": "35010", "ClosePriceAdjusted": "34950", "TotalMatchVol": "12000000",
                "TotalMatchVal": "420120000000", "TotalDealVal": "0", "TotalDealVol": "0",
                "ForeignBuyVolTotal": "1200000", "ForeignCurrentRoom": "600000000", "ForeignSellVolTotal": "800000",
                "ForeignBuyValTotal": "42000000000", "ForeignSellValTotal": "28000000000", "TotalBuyTrade": "0",
                "TotalBuyTradeVol": "0", "TotalSellTrade": "0", "TotalSellTradeVol": "0", "NetBuySellVol": "400000",
                "NetBuySellVal": "14000000000", "TotalTradedVol": "12000000", "TotalTradedValue": "420120000000"}]),
            1,
        ),
    );
    let client = data_client(&fake);
    let rows = client
        .all(&DailyStockPriceQuery {
            symbol: Some("SSI".into()),
            market: Some(Exchange::Hose),
            from: date!(2024 - 06 - 04),
            to: date!(2024 - 06 - 04),
        })
        .await
        .unwrap();
    let r = &rows[0];
    assert_eq!(r.ceiling_price, Some(dec("37550")));
    assert_eq!(r.price_change, Some(dec("-150")));
    assert_eq!(r.net_buy_sell_vol, Some(400_000));
    assert_eq!(r.foreign_current_room, Some(600_000_000));
    let req = &fake.requests_to("/api/v2/Market/DailyStockPrice")[0];
    assert_eq!(req.query["market"], "HOSE");
    assert_eq!(req.query["fromDate"], "04/06/2024");
}

fn ohlc_rows(start: usize, n: usize) -> serde_json::Value {
    json!((start..start + n)
        .map(|i| json!({"Symbol": "SSI", "Market": "HOSE", "TradingDate": "02/01/2024",
            "Open": "1", "High": "1", "Low": "1", "Close": "1", "Volume": i.to_string(), "Value": "1"}))
        .collect::<Vec<_>>())
}

#[tokio::test]
async fn all_follows_pages_until_total_record() {
    let fake = FakeSsi::start().await;
    fake.enqueue("/api/v2/Market/DailyOhlc", ok(ohlc_rows(0, 10), 25));
    fake.enqueue("/api/v2/Market/DailyOhlc", ok(ohlc_rows(10, 10), 25));
    fake.enqueue("/api/v2/Market/DailyOhlc", ok(ohlc_rows(20, 5), 25));
    let client = data_client(&fake);
    let q = DailyOhlcQuery::new("SSI", date!(2024 - 01 - 01), date!(2024 - 01 - 31));
    let rows = client.all_with(&q, PageSize::S10).await.unwrap();
    assert_eq!(rows.len(), 25);
    assert_eq!(rows[24].volume, 24);
    let pages: Vec<String> = fake
        .requests_to("/api/v2/Market/DailyOhlc")
        .iter()
        .map(|r| format!("{}/{}", r.query["pageIndex"], r.query["pageSize"]))
        .collect();
    assert_eq!(pages, ["1/10", "2/10", "3/10"]);
}

#[tokio::test]
async fn all_reports_rows_beyond_ten_pages() {
    let fake = FakeSsi::start().await;
    for page in 0..10 {
        fake.enqueue(
            "/api/v2/Market/DailyOhlc",
            ok(ohlc_rows(page * 10, 10), 150),
        );
    }
    let client = data_client(&fake);
    let q = DailyOhlcQuery::new("SSI", date!(2024 - 01 - 01), date!(2024 - 01 - 31));
    let err = client.all_with(&q, PageSize::S10).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::PageLimit {
                total_record: 150,
                reachable: 100,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(Paging::new(11, PageSize::S10).is_err());
}

#[tokio::test]
async fn an_expired_token_is_renewed_and_the_call_retried_once() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    client.access_token().await.unwrap();
    // Server-side expiry: the fake answers HTTP 200 with body status 401, as SSI does.
    fake.revoke_tokens();
    fake.enqueue(
        "/api/v2/Market/IndexList",
        ok(
            json!([{"IndexCode": "HNX30", "IndexName": "HNX30", "Exchange": "HNX"}]),
            1,
        ),
    );
    let list = client
        .all(&IndexListQuery {
            exchange: Exchange::Hnx,
        })
        .await
        .unwrap();
    assert_eq!(list[0].index_code, "HNX30");
    let calls = fake.requests_to("/api/v2/Market/IndexList");
    assert_eq!(calls.len(), 2);
    assert_ne!(
        calls[0].header("authorization"),
        calls[1].header("authorization")
    );
    assert_eq!(fake.tokens_issued(), 2);
}

#[tokio::test]
async fn a_token_refused_twice_is_an_auth_error() {
    let fake = FakeSsi::start().await;
    let client = data_client(&fake);
    client.access_token().await.unwrap();
    fake.revoke_tokens();
    // The renewed token is one the fake does not accept either.
    fake.enqueue(
        "/api/v2/Market/AccessToken",
        Canned::json(json!({"message": "Success", "status": 200,
            "data": {"accessToken": crate::fake_ssi::jwt(4_102_444_800)}})),
    );
    let err = client
        .all(&IndexListQuery {
            exchange: Exchange::Hose,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(fake.requests_to("/api/v2/Market/IndexList").len(), 2);
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_and_retried() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/IndexList",
        Canned::raw(429, "API calls quota exceeded! maximum admitted 5 per 1s.")
            .with_header("retry-after", "1"),
    );
    fake.enqueue(
        "/api/v2/Market/IndexList",
        ok(
            json!([{"IndexCode": "HNX30", "IndexName": "HNX30", "Exchange": "HNX"}]),
            1,
        ),
    );
    let client = data_client(&fake);
    client.access_token().await.unwrap();
    let started = Instant::now();
    let list = client
        .all(&IndexListQuery {
            exchange: Exchange::Hnx,
        })
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(list[0].index_code, "HNX30");
}

#[tokio::test]
async fn a_long_retry_after_is_returned_to_the_caller() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/IndexList",
        Canned::raw(429, "API calls quota exceeded! maximum admitted 30 per 5s.")
            .with_header("retry-after", "120"),
    );
    let client = data_client(&fake);
    let err = client
        .all(&IndexListQuery {
            exchange: Exchange::Hnx,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.is_retryable());
    assert_eq!(fake.requests_to("/api/v2/Market/IndexList").len(), 1);
}

#[tokio::test]
async fn malformed_rows_are_typed_errors() {
    let fake = FakeSsi::start().await;
    fake.enqueue(
        "/api/v2/Market/DailyOhlc",
        ok(json!([{"Symbol": "SSI", "TradingDate": "2024/01/02", "Open": "1", "High": "1", "Low": "1", "Close": "1", "Volume": "1"}]), 1),
    );
    fake.enqueue(
        "/api/v2/Market/DailyOhlc",
        ok(json!([{"Symbol": "SSI", "TradingDate": "02/01/2024", "Open": "twelve", "High": "1", "Low": "1", "Close": "1", "Volume": "1"}]), 1),
    );
    fake.enqueue(
        "/api/v2/Market/DailyOhlc",
        Canned::raw(200, "<html>maintenance</html>"),
    );
    let client = data_client(&fake);
    let q = DailyOhlcQuery::new("SSI", date!(2024 - 01 - 01), date!(2024 - 01 - 31));
    for expected in ["dd/MM/yyyy", "decimal number"] {
        let err = client.all(&q).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        let chain = common_error::chain(&err).to_string();
        assert!(chain.contains(expected), "{chain}");
    }
    let err = client.all(&q).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test(start_paused = false)]
async fn the_client_side_limiter_spaces_requests() {
    let fake = FakeSsi::start().await;
    let mut config = data_config(&fake);
    config.http.rate_limits = vec![fastconnect::RateRule {
        limit: 2,
        period_ms: 300,
    }];
    let client = fastconnect::DataClient::new(config).unwrap();
    for _ in 0..3 {
        fake.enqueue("/api/v2/Market/IndexList", ok(json!([]), 0));
    }
    let started = Instant::now();
    for _ in 0..3 {
        // token call + 3 queries = 4 requests under "2 per 300 ms": at least one full wait.
        client
            .all(&IndexListQuery {
                exchange: Exchange::Hose,
            })
            .await
            .unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_provider_gives_the_tokens_and_renews_the_one_ssi_refused() {
    use std::sync::{Arc, Mutex};

    let fake = FakeSsi::start().await;
    // The provider logs in with the credentials the client does not have.
    let issuer = data_client(&fake);
    type Asked = Arc<Mutex<Vec<(fastconnect::TokenKind, Option<String>)>>>;
    let asked: Asked = Arc::default();
    let log = asked.clone();
    let provider = fastconnect::provider::from_fn(move |kind, rejected| {
        let (issuer, log) = (issuer.clone(), log.clone());
        async move {
            log.lock().unwrap().push((
                kind,
                rejected.map(|r: secrecy::SecretString| r.expose_secret().to_owned()),
            ));
            issuer.issue_token().await
        }
    });
    let mut config = data_config(&fake);
    config.consumer_id = String::new();
    config.consumer_secret = String::new().into();
    // Without a provider, empty credentials are refused up front.
    let err = fastconnect::DataClient::new(config.clone()).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let client = fastconnect::DataClient::with_token_provider(config, provider).unwrap();

    let first = client.access_token().await.unwrap();
    assert_eq!(
        client.access_token().await.unwrap().expose_secret(),
        first.expose_secret()
    );
    assert_eq!(
        asked.lock().unwrap().as_slice(),
        &[(fastconnect::TokenKind::Data, None)]
    );

    // SSI refuses the token: the client asks again naming it, and retries with the new one.
    fake.revoke_tokens();
    fake.enqueue(
        "/api/v2/Market/IndexList",
        ok(
            json!([{"IndexCode": "VN30", "IndexName": "VN30", "Exchange": "HOSE"}]),
            1,
        ),
    );
    let list = client
        .all(&IndexListQuery {
            exchange: Exchange::Hose,
        })
        .await
        .unwrap();
    assert_eq!(list[0].index_code, "VN30");
    assert_eq!(
        asked.lock().unwrap().last(),
        Some(&(
            fastconnect::TokenKind::Data,
            Some(first.expose_secret().to_owned())
        ))
    );
    // Only the provider logged in; the client never called AccessToken with its own key.
    assert!(
        fake.requests_to("/api/v2/Market/AccessToken")
            .iter()
            .all(|c| c.json()["consumerID"] == "data-consumer")
    );
    assert_eq!(fake.tokens_issued(), 2);
}
