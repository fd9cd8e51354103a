//! FC Data REST (`/api/v2/Market/...`), routed case-insensitively like ASP.NET, answering
//! with SSI's envelope (`status: "Success"`, PascalCase items, numbers as strings).
//!
//! Generating years of history takes seconds, so every data request runs on tokio's
//! blocking pool, at most `data_workers` at a time: it never holds a runtime worker, a
//! lock the trading side takes, or the trading desk's thread. Index days (the expensive
//! part of `DailyIndex`: every constituent's day) are cached once complete; the cache holds
//! at most one entry per index and generated day.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use fastconnect::Decimal;
use fastconnect::wire::format_date;
use market::{Board, Exchange, InstrumentKind, Price};
use serde_json::{Value, json};
use time::Date;

use crate::auth::{Audience, TokenInfo, unix_now};
use crate::history::IndexDay;
use crate::rest::{ApiError, Params, data_page, ok, page_of, paging};
use crate::sim::Core;
use crate::tape::{DaySummary, display_price, display_value};
use crate::universe::Instrument;

pub(crate) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .merge(crate::data_hub::router())
        .merge(crate::news_api::router())
        .fallback(handle)
        .layer(DefaultBodyLimit::disable())
        .with_state(core)
}

fn s(v: impl ToString) -> Value {
    Value::String(v.to_string())
}

async fn handle(
    State(core): State<Arc<Core>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().to_ascii_lowercase();
    let Some(endpoint) = path.strip_prefix("/api/v2/market/") else {
        return ApiError::not_found(uri.path()).into_response();
    };
    let body = match crate::http::body(body, core.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if endpoint == "accesstoken" {
        if method != Method::POST {
            return ApiError::bad("AccessToken requires POST").into_response();
        }
        return access_token(&core, &body).unwrap_or_else(IntoResponse::into_response);
    }
    if method != Method::GET {
        return ApiError {
            http: StatusCode::METHOD_NOT_ALLOWED,
            status: json!(405),
            message: "The requested resource does not support this http method.".into(),
        }
        .into_response();
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = core.tokens().check(auth, Audience::Data) {
        // FC Data reports auth failures in the body of an HTTP 200.
        return ApiError::unauthorized(StatusCode::OK, e.to_string()).into_response();
    }
    let params = Params::parse(uri.query());
    let endpoint = endpoint.to_owned();
    let full_path = uri.path().to_owned();
    let _counted = core.data_jobs.enter();
    let Some(_permit) = core.data_jobs.permit().await else {
        return ApiError::internal("the data generation pool is closed").into_response();
    };
    let job = core.clone();
    let generated =
        tokio::task::spawn_blocking(move || route(&job, &endpoint, &params, &full_path)).await;
    match generated {
        Ok(result) => result.unwrap_or_else(IntoResponse::into_response),
        Err(e) => {
            tracing::error!(error = %e, "fcsim: data request failed");
            ApiError::internal("the data request failed").into_response()
        }
    }
}

/// One FC Data GET (on the blocking pool).
pub(crate) fn route(
    core: &Core,
    endpoint: &str,
    params: &Params,
    path: &str,
) -> Result<Response, ApiError> {
    let (core, params) = (core, params);
    match endpoint {
        "securities" => securities(core, params),
        "securitiesdetails" => securities_details(core, params),
        "indexcomponents" => index_components(core, params),
        "indexlist" => index_list(core, params),
        "dailyohlc" => daily_ohlc(core, params),
        "intradayohlc" => intraday_ohlc(core, params),
        "dailyindex" => daily_index(core, params),
        "dailystockprice" => daily_stock_price(core, params),
        _ => Err(ApiError::not_found(path)),
    }
}

/// Reads a JSON object body; malformed JSON is a 400 envelope.
pub(crate) fn json_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad("The request body must be a JSON object")),
        Err(e) => Err(ApiError::bad(format!("The request is invalid: {e}"))),
    }
}

/// A string field, looked up case-insensitively.
pub(crate) fn field<'a>(map: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

pub(crate) fn text_field(map: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match field(map, name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

fn access_token(core: &Core, body: &[u8]) -> Result<Response, ApiError> {
    let map = json_body(body)?;
    let id = text_field(&map, "consumerID").unwrap_or_default();
    let secret = text_field(&map, "consumerSecret").unwrap_or_default();
    let known = core
        .config
        .data_consumers
        .iter()
        .any(|c| c.consumer_id == id && c.consumer_secret == secret);
    if !known {
        return Err(ApiError::business("Invalid consumerId or consumerSecret"));
    }
    let token = core
        .tokens()
        .issue(TokenInfo {
            consumer: id,
            audience: Audience::Data,
            verified: false,
            exp: unix_now().saturating_add(core.config.token_lifetime_secs),
        })
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(ok(json!({ "accessToken": token })))
}

fn market_filter(p: &Params, key: &str) -> Result<Option<Exchange>, ApiError> {
    match p.get(key).map(str::to_ascii_uppercase).as_deref() {
        None => Ok(None),
        Some("HOSE") => Ok(Some(Exchange::Hose)),
        Some("HNX") => Ok(Some(Exchange::Hnx)),
        Some("UPCOM") => Ok(Some(Exchange::Upcom)),
        Some("DER") => Ok(Some(Exchange::HnxDeriv)),
        Some(other) => Err(ApiError::bad(format!("Market '{other}' is invalid"))),
    }
}

fn instruments_of(
    core: &Core,
    market: Option<Exchange>,
) -> impl Iterator<Item = (usize, &Instrument)> {
    core.generator
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .filter(move |(_, x)| market.is_none_or(|m| x.exchange == m))
}

fn securities(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let paging = paging(p)?;
    let market = market_filter(p, "market")?;
    let all = instruments_of(core, market)
        .map(|(_, x)| {
            json!({"Market": x.exchange.ssi_code(), "Symbol": x.symbol, "StockName": x.name, "StockEnName": x.en_name})
        })
        .collect();
    Ok(page_of(all, paging))
}

/// The tick table of an instrument as SSI's `TickPriceN`/`TickIncrementN`, found by asking
/// `market` where the tick size changes.
fn tick_table(core: &Core, x: &Instrument) -> Vec<(i64, i64)> {
    let rules = core.generator.rules();
    let tick = |units: i64| {
        Price::new(units).map_or(0, |p| {
            rules.tick_size(x.exchange, x.kind, Board::Main, p).units()
        })
    };
    let mut bands = vec![(1, tick(1))];
    let mut from = 1_i64;
    while bands.len() < 4 {
        let current = tick(from);
        let mut hi = from;
        while tick(hi) == current && hi < 100_000_000 {
            hi = hi.saturating_mul(2);
        }
        if tick(hi) == current {
            break;
        }
        let mut lo = from;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if tick(mid) == current {
                lo = mid
            } else {
                hi = mid
            }
        }
        bands.push((hi, tick(hi)));
        from = hi;
    }
    bands
}

fn detail(core: &Core, x: &Instrument) -> Value {
    let mut v = json!({
        "Isin": x.isin, "Symbol": x.symbol, "SymbolName": x.name, "SymbolEngName": x.en_name,
        "SecType": x.kind.ssi_code(), "MarketId": x.exchange.ssi_code(), "Exchange": x.exchange.ssi_code(),
        "Issuer": if x.kind == InstrumentKind::IndexFuture { "HNX".to_owned() } else { x.en_name.clone() },
        "LotSize": s(core.generator.rules().lots.round_lot(x.exchange)),
        "IssueDate": null, "MaturityDate": x.maturity.map(format_date),
        "FirstTradingDate": core.generator.days().first().map(|d| format_date(*d)),
        "LastTradingDate": x.maturity.map(format_date),
        "ContractMultiplier": if x.kind == InstrumentKind::IndexFuture {
            s(core.generator.rules().settlement.futures_multiplier_vnd_per_point) } else { Value::Null },
        "SettlMethod": if x.kind == InstrumentKind::IndexFuture { s("C") } else { Value::Null },
        "Underlying": x.underlying, "PutOrCall": null, "ExercisePrice": null, "ExerciseStyle": null,
        "ExcerciseRatio": null, "ListedShare": s(x.listed_shares),
    });
    let bands = tick_table(core, x);
    for n in 1..=4 {
        let band = bands.get(n - 1);
        v[format!("TickPrice{n}")] =
            band.map_or(Value::Null, |(from, _)| s(display_price(x, *from)));
        v[format!("TickIncrement{n}")] =
            band.map_or(Value::Null, |(_, step)| s(display_price(x, *step)));
    }
    v
}

fn securities_details(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let (index, size) = paging(p)?;
    let market = market_filter(p, "market")?;
    let symbol = p.get("symbol");
    let matching: Vec<&Instrument> = instruments_of(core, market)
        .map(|(_, x)| x)
        .filter(|x| symbol.is_none_or(|s| x.symbol.eq_ignore_ascii_case(s)))
        .collect();
    if let (Some(sym), true) = (symbol, matching.is_empty()) {
        return Err(ApiError::business(format!("Symbol '{sym}' does not exist")));
    }
    let total = matching.len();
    let repeated: Vec<Value> = matching
        .into_iter()
        .skip((index - 1) * size)
        .take(size)
        .map(|x| detail(core, x))
        .collect();
    let (today, _) = core.local_now();
    Ok(data_page(
        vec![
            json!({"RType": "y", "ReportDate": format_date(today), "TotalNoSym": s(repeated.len()), "RepeatedInfo": repeated}),
        ],
        total,
    ))
}

fn index_components(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let paging = paging(p)?;
    let code = p
        .get("indexcode")
        .ok_or_else(|| ApiError::bad("IndexCode must not be empty"))?;
    let (_, def) = core
        .generator
        .universe()
        .index(code)
        .ok_or_else(|| ApiError::business(format!("Index '{code}' does not exist")))?;
    let members: Vec<Value> = def
        .members
        .iter()
        .filter_map(|&m| core.generator.universe().instrument(m))
        .map(|x| json!({"Isin": x.isin, "StockSymbol": x.symbol}))
        .collect();
    Ok(page_of(
        vec![
            json!({"IndexCode": def.code, "IndexName": def.name, "Exchange": def.exchange.ssi_code(),
            "TotalSymbolNo": s(members.len()), "IndexComponent": members}),
        ],
        paging,
    ))
}

fn index_list(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let paging = paging(p)?;
    let exchange = market_filter(p, "exchange")?;
    let all = core
        .generator
        .universe()
        .indices()
        .iter()
        .filter(|d| exchange.is_none_or(|e| d.exchange == e))
        .map(|d| json!({"IndexCode": d.code, "IndexName": d.name, "Exchange": d.exchange.ssi_code()}))
        .collect();
    Ok(page_of(all, paging))
}

/// The trading days in `[from, to]` that have begun by now, and the cut-off second for
/// today's (still running) day.
fn days_in(core: &Core, from: Date, to: Date) -> Vec<(usize, Option<u32>)> {
    let (today, now) = core.local_now();
    core.generator
        .days()
        .iter()
        .enumerate()
        .filter(|(_, d)| **d >= from && **d <= to && **d <= today)
        .map(|(i, d)| (i, (*d == today).then_some(now)))
        .collect()
}

fn range(core: &Core, p: &Params, max_days: Option<i64>) -> Result<(Date, Date, bool), ApiError> {
    let (today, _) = core.local_now();
    let from = p.date("fromdate", today)?;
    let to = p.date("todate", today)?;
    if from > to {
        return Err(ApiError::bad("FromDate must be before or equal to ToDate"));
    }
    if let Some(max) = max_days
        && (to - from).whole_days() > max
    {
        return Err(ApiError::bad(format!(
            "The date range must not exceed {max} days"
        )));
    }
    Ok((from, to, p.bool("ascending", false)?))
}

/// Daily statistics up to `until` seconds (today) or the whole day.
fn summary(core: &Core, i: usize, day: usize, until: Option<u32>) -> Result<DaySummary, ApiError> {
    crate::history::summary(&core.generator, i, day, until).map_err(internal)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

fn symbol_lookup(core: &Core, p: &Params) -> Result<Symbol, ApiError> {
    let symbol = p
        .get("symbol")
        .ok_or_else(|| ApiError::bad("Symbol must not be empty"))?;
    if let Some(i) = core.generator.universe().find(symbol) {
        return Ok(Symbol::Instrument(i));
    }
    if let Some((i, _)) = core.generator.universe().index(symbol) {
        return Ok(Symbol::Index(i));
    }
    Err(ApiError::business(format!(
        "Symbol '{symbol}' does not exist"
    )))
}

enum Symbol {
    Instrument(usize),
    Index(usize),
}

fn index_day(
    core: &Core,
    index: usize,
    day: usize,
    until: Option<u32>,
) -> Result<IndexDay, ApiError> {
    core.index_days
        .get(&core.generator, index, day, until)
        .map_err(|e| match e {
            crate::history::Error::UnknownIndex(_) => ApiError::bad(e.to_string()),
            crate::history::Error::Generator(_) => internal(e),
        })
}

fn points(x: f64) -> Decimal {
    Decimal::new((x * 100.0).round() as i128, 2).unwrap_or_default()
}

fn ordered<T>(mut rows: Vec<T>, ascending: bool) -> Vec<T> {
    if !ascending {
        rows.reverse();
    }
    rows
}

fn daily_ohlc(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let (index, size) = paging(p)?;
    let symbol = symbol_lookup(core, p)?;
    let (from, to, ascending) = range(core, p, Some(core.config.daily_ohlc_max_days))?;
    let days = ordered(days_in(core, from, to), ascending);
    let total = days.len();
    let mut rows = Vec::new();
    for &(day, until) in days.iter().skip((index - 1) * size).take(size) {
        let date = core.generator.days().get(day).copied().map(format_date);
        rows.push(match symbol {
            Symbol::Instrument(i) => {
                let x = core.generator.universe().instrument(i).ok_or_else(|| ApiError::bad("unknown symbol"))?;
                let sm = summary(core, i, day, until)?;
                json!({"Symbol": x.symbol, "Market": x.exchange.ssi_code(), "TradingDate": date, "Time": null,
                    "Open": s(display_price(x, sm.open)), "High": s(display_price(x, sm.high)),
                    "Low": s(display_price(x, sm.low)), "Close": s(display_price(x, sm.close)),
                    "Volume": s(sm.volume), "Value": s(display_value(x, sm.value_units))})
            }
            Symbol::Index(i) => {
                let def = core.generator.universe().indices().get(i).ok_or_else(|| ApiError::bad("unknown index"))?;
                let d = index_day(core, i, day, until)?;
                json!({"Symbol": def.code, "Market": def.exchange.ssi_code(), "TradingDate": date, "Time": null,
                    "Open": s(points(d.open)), "High": s(points(d.high)), "Low": s(points(d.low)),
                    "Close": s(points(d.close)), "Volume": s(d.volume), "Value": s(d.value)})
            }
        });
    }
    Ok(data_page(rows, total))
}

fn intraday_ohlc(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let (index, size) = paging(p)?;
    let Symbol::Instrument(i) = symbol_lookup(core, p)? else {
        return Err(ApiError::business(
            "IntradayOhlc serves securities, not indexes",
        ));
    };
    let resolution = p.int("resolution")?.unwrap_or(1);
    if !(1..=1440).contains(&resolution) {
        return Err(ApiError::bad(
            "Resolution must be between 1 and 1440 minutes",
        ));
    }
    let bucket = u32::try_from(resolution * 60).unwrap_or(60);
    let (from, to, ascending) = range(core, p, Some(core.config.daily_ohlc_max_days))?;
    let x = core
        .generator
        .universe()
        .instrument(i)
        .ok_or_else(|| ApiError::bad("unknown symbol"))?;
    let mut bars: Vec<Value> = Vec::new();
    for (day, until) in days_in(core, from, to) {
        let tape = core
            .generator
            .tape(i, day)
            .map_err(|e| ApiError::bad(e.to_string()))?;
        let date = format_date(tape.date);
        let mut current: Option<(u32, i64, i64, i64, i64, u64)> = None;
        let flush = |bar: (u32, i64, i64, i64, i64, u64), bars: &mut Vec<Value>| {
            let (start, o, h, l, c, v) = bar;
            bars.push(json!({"Symbol": x.symbol, "Value": s(display_price(x, c)), "TradingDate": date,
                "Time": format!("{:02}:{:02}:{:02}", start / 3600, start / 60 % 60, start % 60),
                "Open": s(display_price(x, o)), "High": s(display_price(x, h)), "Low": s(display_price(x, l)),
                "Close": s(display_price(x, c)), "Volume": s(v)}));
        };
        for t in tape
            .trades
            .iter()
            .filter(|t| until.is_none_or(|u| t.secs <= u))
        {
            let start = t.secs / bucket * bucket;
            current = match current {
                Some((b, o, h, l, _, v)) if b == start => {
                    Some((b, o, h.max(t.price), l.min(t.price), t.price, v + t.volume))
                }
                Some(done) => {
                    flush(done, &mut bars);
                    Some((start, t.price, t.price, t.price, t.price, t.volume))
                }
                None => Some((start, t.price, t.price, t.price, t.price, t.volume)),
            };
        }
        if let Some(done) = current {
            flush(done, &mut bars);
        }
    }
    let bars = ordered(bars, ascending);
    Ok(page_of(bars, (index, size)))
}

fn daily_index(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let (page, size) = paging(p)?;
    let code = p
        .get("indexid")
        .ok_or_else(|| ApiError::bad("IndexId must not be empty"))?;
    let (i, def) = core
        .generator
        .universe()
        .index(code)
        .ok_or_else(|| ApiError::business(format!("Index '{code}' does not exist")))?;
    let (from, to, ascending) = range(core, p, None)?;
    let days = ordered(days_in(core, from, to), ascending);
    let total = days.len();
    let mut rows = Vec::new();
    for &(day, until) in days.iter().skip((page - 1) * size).take(size) {
        let d = index_day(core, i, day, until)?;
        let change = d.close - d.open;
        let ratio = if d.open > 0.0 {
            change / d.open * 100.0
        } else {
            0.0
        };
        rows.push(
            json!({"IndexId": def.code, "IndexValue": s(points(d.close)),
            "TradingDate": core.generator.days().get(day).copied().map(format_date),
            "Time": until.map(|u| format!("{:02}:{:02}:{:02}", u / 3600, u / 60 % 60, u % 60)),
            "Change": s(points(change)), "RatioChange": s(points(ratio)), "TotalTrade": s(d.trades),
            "TotalMatchVol": s(d.volume), "TotalMatchVal": s(d.value), "TypeIndex": "Main",
            "IndexName": def.name, "Advances": s(d.advances), "NoChanges": s(d.unchanged),
            "Declines": s(d.declines), "Ceilings": s(d.ceilings), "Floors": s(d.floors),
            "TotalDealVol": s(d.deal_volume), "TotalDealVal": s(d.deal_value),
            "TotalVol": s(d.volume + d.deal_volume), "TotalVal": s(d.value + d.deal_value),
            "TradingSession": if until.is_some() { "LO" } else { "C" }}),
        );
    }
    Ok(data_page(rows, total))
}

fn daily_stock_price(core: &Core, p: &Params) -> Result<Response, ApiError> {
    let (page, size) = paging(p)?;
    let market = match p.get("market").map(str::to_ascii_uppercase).as_deref() {
        Some("BOND") => return Ok(data_page(Vec::new(), 0)),
        _ => market_filter(p, "market")?,
    };
    let symbol = p.get("symbol");
    let list: Vec<usize> = match symbol {
        Some(sym) => vec![
            core.generator
                .universe()
                .find(sym)
                .ok_or_else(|| ApiError::business(format!("Symbol '{sym}' does not exist")))?,
        ],
        None => instruments_of(core, market).map(|(i, _)| i).collect(),
    };
    let (from, to, _) = range(core, p, None)?;
    let days = ordered(days_in(core, from, to), false);
    let keys: Vec<(usize, Option<u32>, usize)> = days
        .iter()
        .flat_map(|&(d, u)| list.iter().map(move |&i| (d, u, i)))
        .collect();
    let total = keys.len();
    let mut rows = Vec::new();
    for &(day, until, i) in keys.iter().skip((page - 1) * size).take(size) {
        let x = core
            .generator
            .universe()
            .instrument(i)
            .ok_or_else(|| ApiError::bad("unknown symbol"))?;
        let sm = summary(core, i, day, until)?;
        let px = |u: i64| s(display_price(x, u));
        let reference = sm.limits.reference.units();
        let change = sm.close - reference;
        let avg = if sm.volume > 0 {
            (sm.value_units / i128::from(sm.volume)) as i64
        } else {
            reference
        };
        let value = display_value(x, sm.value_units);
        let (deal_volume, deal_units) =
            crate::history::put_through_totals(&core.generator, i, day, until).map_err(internal)?;
        let deal_value = display_value(x, deal_units);
        let traded_value = display_value(x, sm.value_units + deal_units);
        rows.push(json!({"TradingDate": format_date(sm.date), "Symbol": x.symbol,
            "Time": until.map(|u| format!("{:02}:{:02}:{:02}", u / 3600, u / 60 % 60, u % 60)),
            "PriceChange": s(display_price(x, change)),
            "PerPriceChange": s(points(change as f64 / reference.max(1) as f64 * 100.0)),
            "CeilingPrice": px(sm.limits.ceiling.units()), "FloorPrice": px(sm.limits.floor.units()),
            "RefPrice": px(reference), "OpenPrice": px(sm.open), "HighestPrice": px(sm.high),
            "LowestPrice": px(sm.low), "ClosePrice": px(sm.close), "AveragePrice": px(avg),
            "ClosePriceAdjusted": px(sm.close), "TotalMatchVol": s(sm.volume), "TotalMatchVal": s(value),
            "TotalDealVal": s(deal_value), "TotalDealVol": s(deal_volume), "ForeignBuyVolTotal": "0",
            "ForeignCurrentRoom": s(i128::from(x.listed_shares) * i128::from(core.generator.rules().foreign.default_limit_bps) / 10_000), "ForeignSellVolTotal": "0",
            "ForeignBuyValTotal": "0", "ForeignSellValTotal": "0", "TotalBuyTrade": s(sm.buy_trades),
            "TotalBuyTradeVol": "0", "TotalSellTrade": s(sm.sell_trades), "TotalSellTradeVol": "0",
            "NetBuySellVol": "0", "NetBuySellVal": "0", "TotalTradedVol": s(sm.volume + deal_volume),
            "TotalTradedValue": s(traded_value)}));
    }
    Ok(data_page(rows, total))
}
