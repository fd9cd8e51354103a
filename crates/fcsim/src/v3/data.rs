//! v3 market-data REST (`/api/v3/data/...`): ohlc, indexList, indexSummary,
//! securitiesByBoard, securitiesSummary, masterdata and corporateActions. Each reads the
//! same generated market as FC Data: the v2 endpoint computes the rows on the data pool,
//! this module reshapes them (camelCase, numbers, `YYYY/MM/DD` dates) and pages them.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use market::Exchange;
use serde_json::{Value, json};
use time::{Date, PrimitiveDateTime};

use super::{V3Error, no_content};
use crate::rest::Params;
use crate::sim::Core;

/// FC Data's longest page and the v2 page limit.
const V2_PAGE: usize = 1000;
const V2_PAGES: usize = 10;

pub(super) async fn get(core: &Arc<Core>, call: &str, p: &Params) -> Result<Response, V3Error> {
    match call {
        "ohlc" => ohlc(core, p).await,
        "indexlist" => index_list(core, p),
        "indexsummary" => index_summary(core, p).await,
        "securitiesbyboard" => securities_by_board(core, p),
        "securitiessummary" => securities_summary(core, p).await,
        "masterdata" => masterdata(core, p).await,
        "corporateactions" => corporate_actions(p),
        _ => Err(V3Error::code(
            404,
            format!("No resource /api/v3/data/{call}"),
        )),
    }
}

/// One FC Data GET on the generation pool; its `data` rows and `totalRecord`.
async fn v2(
    core: &Arc<Core>,
    endpoint: &str,
    pairs: &[(&str, String)],
) -> Result<(Vec<Value>, usize), V3Error> {
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('/', "%2F")))
        .collect();
    let params = Params::parse(Some(&query.join("&")));
    let _counted = core.data_jobs.enter();
    let Some(_permit) = core.data_jobs.permit().await else {
        return Err(V3Error::internal("the data generation pool is closed"));
    };
    let (job, endpoint) = (core.clone(), endpoint.to_owned());
    let resp = tokio::task::spawn_blocking(move || {
        crate::data_api::route(&job, &endpoint, &params, &endpoint)
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
    .map_err(|e| V3Error::internal(e.to_string()))?;
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .map_err(|e| V3Error::internal(e.to_string()))?;
    let body: Value =
        serde_json::from_slice(&bytes).map_err(|e| V3Error::internal(e.to_string()))?;
    if body["status"] != "Success" {
        return Err(V3Error::bad(
            body["message"]
                .as_str()
                .unwrap_or("invalid request")
                .to_owned(),
        ));
    }
    let total = body["totalRecord"]
        .as_u64()
        .map_or(0, |t| usize::try_from(t).unwrap_or(0));
    Ok((body["data"].as_array().cloned().unwrap_or_default(), total))
}

/// A number from FC Data's string (or number) field.
fn num(v: &Value) -> Value {
    match v {
        Value::String(s) => s.replace(',', "").parse::<f64>().map_or(Value::Null, |f| {
            if f.fract() == 0.0 && f.abs() < 9e15 {
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                json!(whole)
            } else {
                json!(f)
            }
        }),
        Value::Number(_) => v.clone(),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => Value::Null,
    }
}

/// FC Data's `dd/MM/yyyy` as v3's `YYYY/MM/DD`.
fn v3_date(v: &Value) -> Value {
    let Some(t) = v.as_str() else {
        return Value::Null;
    };
    let parts: Vec<&str> = t.split('/').collect();
    match parts.as_slice() {
        [d, m, y] => json!(format!("{y}/{m}/{d}")),
        _ => v.clone(),
    }
}

fn v2_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// `YYYY/MM/DD HH:MM:SS` (ohlc requires the time: a bare date is 400213).
fn date_time(p: &Params, key: &str) -> Result<PrimitiveDateTime, V3Error> {
    let text = p
        .get(key)
        .ok_or_else(|| V3Error::code(400_210, format!("{key} is required")))?;
    let format = time::macros::format_description!("[year]/[month]/[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, format).map_err(|_| {
        V3Error::code(
            400_213,
            format!("{key} '{text}' is not YYYY/MM/DD HH:MM:SS"),
        )
    })
}

/// `YYYY/MM/DD` (a time after it is ignored); absent is `default`.
fn date(p: &Params, key: &str, default: Date) -> Result<Date, V3Error> {
    let Some(text) = p.get(key) else {
        return Ok(default);
    };
    let day = text.split_whitespace().next().unwrap_or(text);
    let format = time::macros::format_description!("[year]/[month]/[day]");
    Date::parse(day, format)
        .map_err(|_| V3Error::code(400_213, format!("{key} '{text}' is not YYYY/MM/DD")))
}

fn range(p: &Params, today: Date) -> Result<(Date, Date), V3Error> {
    let from = date(p, "from", today)?;
    let to = date(p, "to", today)?;
    if from > to {
        return Err(V3Error::code(400_202, "from is after to"));
    }
    Ok((from, to))
}

/// v3 paging: `pageIndex` from 1, `pageSize` 1 to 1,000 (default 10).
fn paging(p: &Params) -> Result<(usize, usize), V3Error> {
    let int = |k: &str, d: usize| -> Result<usize, V3Error> {
        p.get(k).map_or(Ok(d), |t| {
            t.parse::<usize>()
                .map_err(|_| V3Error::bad(format!("{k} '{t}' is not a number")))
        })
    };
    let index = int("pageindex", 1)?;
    let size = int("pagesize", 10)?;
    if index == 0 || size == 0 || size > V2_PAGE {
        return Err(V3Error::bad(
            "pageIndex must be at least 1 and pageSize 1 to 1000",
        ));
    }
    Ok((index, size))
}

/// One page of `rows` with its page count.
fn paged(rows: Vec<Value>, (index, size): (usize, usize), counted: bool) -> Response {
    let total = rows.len();
    let data: Vec<Value> = rows
        .into_iter()
        .skip((index - 1).saturating_mul(size))
        .take(size)
        .collect();
    if data.is_empty() {
        return no_content();
    }
    let mut out = json!({"data": data, "pageIndex": index, "pageSize": size});
    if counted {
        out["pagesCount"] = json!(total.div_ceil(size));
        out["totalRecord"] = json!(total);
    }
    axum::Json(out).into_response()
}

fn board(p: &Params, key: &str) -> Result<Option<Exchange>, V3Error> {
    match p.get(key).map(str::to_ascii_uppercase).as_deref() {
        None => Ok(None),
        Some("HOSE") => Ok(Some(Exchange::Hose)),
        Some("HNX") => Ok(Some(Exchange::Hnx)),
        Some("UPCOM") => Ok(Some(Exchange::Upcom)),
        Some(other) => Err(V3Error::code(
            400_208,
            format!("board '{other}' is not HOSE, HNX or UPCOM"),
        )),
    }
}

/// Every row of a v2 endpoint over `[from, to]` in windows of at most `window` days.
async fn windows(
    core: &Arc<Core>,
    endpoint: &str,
    base: &[(&str, String)],
    (from, to): (Date, Date),
    window: i64,
) -> Result<Vec<Value>, V3Error> {
    let mut rows = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + time::Duration::days(window - 1)).min(to);
        for page in 1..=V2_PAGES {
            let mut pairs = base.to_vec();
            pairs.extend([
                ("fromDate", v2_date(start)),
                ("toDate", v2_date(end)),
                ("pageIndex", page.to_string()),
                ("pageSize", V2_PAGE.to_string()),
                ("ascending", "true".to_owned()),
            ]);
            let (data, total) = v2(core, endpoint, &pairs).await?;
            let got = data.len();
            rows.extend(data);
            if got < V2_PAGE || page * V2_PAGE >= total {
                break;
            }
        }
        start = end + time::Duration::days(1);
    }
    Ok(rows)
}

async fn ohlc(core: &Arc<Core>, p: &Params) -> Result<Response, V3Error> {
    let symbol = p
        .get("symbol")
        .ok_or_else(|| V3Error::code(400_104, "symbol is required"))?
        .to_ascii_uppercase();
    if !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(V3Error::code(
            400_006,
            format!("symbol '{symbol}' has invalid characters"),
        ));
    }
    let minutes = match p.get("timeframe") {
        Some("1m") => 1,
        Some("3m") => 3,
        Some("5m") => 5,
        Some("15m") => 15,
        Some("1h") => 60,
        Some("1d") => 0,
        other => {
            return Err(V3Error::code(
                400_210,
                format!(
                    "timeFrame '{}' is not 1m, 3m, 5m, 15m, 1h or 1d",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    let from = date_time(p, "from")?;
    let to = date_time(p, "to")?;
    if from > to {
        return Err(V3Error::code(400_202, "from is after to"));
    }
    let paging = paging(p)?;
    let window = core.config.daily_ohlc_max_days.max(1);
    let base = [("symbol", symbol.clone())];
    let mut bars: Vec<Value> = if minutes == 0 {
        windows(core, "dailyohlc", &base, (from.date(), to.date()), window)
            .await?
            .iter()
            .map(|r| {
                json!({"symbol": r["Symbol"], "tradingDate": v3_date(&r["TradingDate"]), "open": num(&r["Open"]),
                    "high": num(&r["High"]), "low": num(&r["Low"]), "close": num(&r["Close"]),
                    "volume": num(&r["Volume"]), "value": num(&r["Value"])})
            })
            .collect()
    } else {
        let mut base = base.to_vec();
        base.push(("resolution", minutes.to_string()));
        windows(
            core,
            "intradayohlc",
            &base,
            (from.date(), to.date()),
            window,
        )
        .await?
        .iter()
        .filter_map(|r| {
            let day = v3_date(&r["TradingDate"]);
            let at = format!("{} {}", day.as_str()?, r["Time"].as_str()?);
            let format =
                time::macros::format_description!("[year]/[month]/[day] [hour]:[minute]:[second]");
            let t = PrimitiveDateTime::parse(&at, format).ok()?;
            (t >= from && t <= to).then(|| {
                json!({"symbol": r["Symbol"], "tradingDate": at, "open": num(&r["Open"]),
                        "high": num(&r["High"]), "low": num(&r["Low"]), "close": num(&r["Close"]),
                        "volume": num(&r["Volume"]), "value": num(&r["Value"])})
            })
        })
        .collect()
    };
    // Newest first.
    bars.reverse();
    Ok(paged(bars, paging, false))
}

fn index_list(core: &Core, p: &Params) -> Result<Response, V3Error> {
    let board = board(p, "board")?;
    let rows: Vec<Value> = core
        .generator
        .universe()
        .indices()
        .iter()
        .filter(|d| board.is_none_or(|b| d.exchange == b))
        .map(|d| json!({"index": d.code, "indexName": d.name, "board": d.exchange.ssi_code()}))
        .collect();
    Ok(super::answer(Value::Array(rows)))
}

async fn index_summary(core: &Arc<Core>, p: &Params) -> Result<Response, V3Error> {
    let (today, _) = core.local_now();
    let day = date(p, "tradingdate", today)?;
    let codes: Vec<String> = match (p.get("index"), board(p, "board")?) {
        (Some(i), _) => vec![i.to_ascii_uppercase()],
        (None, Some(b)) => core
            .generator
            .universe()
            .indices()
            .iter()
            .filter(|d| d.exchange == b)
            .map(|d| d.code.clone())
            .collect(),
        (None, None) => {
            return Err(V3Error::new(
                axum::http::StatusCode::BAD_REQUEST,
                504_207,
                "index or board is required",
            ));
        }
    };
    let mut rows = Vec::new();
    for code in codes {
        let pairs = [
            ("indexId", code),
            ("fromDate", v2_date(day)),
            ("toDate", v2_date(day)),
        ];
        let (data, _) = v2(core, "dailyindex", &pairs).await?;
        rows.extend(data.iter().map(|r| {
            let change = num(&r["Change"]);
            json!({"index": r["IndexId"], "tradingDate": v3_date(&r["TradingDate"]), "indexValue": num(&r["IndexValue"]),
                "indexChange": change, "indexChangePercentage": num(&r["RatioChange"]),
                "totalTrade": num(&r["TotalTrade"]), "totalTradeValue": num(&r["TotalVal"]),
                "totalMatch": num(&r["TotalMatchVol"]), "totalMatchValue": num(&r["TotalMatchVal"]),
                "totalDeal": num(&r["TotalDealVol"]), "totalDealValue": num(&r["TotalDealVal"]),
                "totalAdvanceStock": num(&r["Advances"]), "totalDeclineStock": num(&r["Declines"]),
                "totalNoChangeStock": num(&r["NoChanges"]), "totalCeilingStock": num(&r["Ceilings"]),
                "totalFloorStock": num(&r["Floors"]), "totalPropBuy": 0, "totalPropBuyValue": 0,
                "totalPropSell": 0, "totalPropSellValue": 0, "totalBuyForeign": 0,
                "totalBuyForeignValue": 0, "totalSellForeign": 0, "totalSellForeignValue": 0,
                "netPurchasesForeignVolume": 0, "netPurchasesForeignValue": 0})
        }));
    }
    Ok(super::answer(Value::Array(rows)))
}

fn securities_by_board(core: &Arc<Core>, p: &Params) -> Result<Response, V3Error> {
    let universe = core.generator.universe();
    let board = board(p, "board")?;
    let members: Option<Vec<usize>> = match p.get("index") {
        Some(code) => Some(
            universe
                .index(code)
                .map(|(_, d)| d.members.clone())
                .ok_or_else(|| V3Error::bad(format!("index '{code}' does not exist")))?,
        ),
        None => None,
    };
    let symbol = p.get("symbol").map(str::to_ascii_uppercase);
    if symbol.is_none() && board.is_none() && members.is_none() {
        return Err(V3Error::new(
            axum::http::StatusCode::BAD_REQUEST,
            504_208,
            "symbol, board or index is required",
        ));
    }
    let rows: Vec<Value> = universe
        .instruments()
        .iter()
        .enumerate()
        .filter(|(i, x)| {
            symbol.as_deref().is_none_or(|s| x.symbol == s)
                && board.is_none_or(|b| x.exchange == b)
                && members.as_ref().is_none_or(|m| m.contains(i))
        })
        .map(|(_, x)| {
            let lot = core.generator.rules().lots.round_lot(x.exchange);
            json!({"symbol": x.symbol, "board": x.exchange.ssi_code(), "index": p.get("index").map(str::to_ascii_uppercase),
                "symbolNameVi": x.name, "symbolNameEn": x.en_name, "lotSize": lot,
                "maturityDate": null, "firstTradingDate": null, "lastTradingDate": null,
                "cwUnderlyingSymbol": null, "cwExercisePrice": null, "cwExecutionRatio": null,
                "listedShare": x.listed_shares, "icbCode": null, "icbName": null, "iIndex": null,
                "iNav": null, "openInterest": null, "settlementPrice": null,
                "stockType": format!("{:?}", x.kind)})
        })
        .collect();
    Ok(super::answer(Value::Array(rows)))
}

fn summary_row(r: &Value) -> Value {
    json!({"symbol": r["Symbol"], "tradingDate": v3_date(&r["TradingDate"]),
        "priceChange": num(&r["PriceChange"]), "priceChangePercentage": num(&r["PerPriceChange"]),
        "open": num(&r["OpenPrice"]), "high": num(&r["HighestPrice"]), "low": num(&r["LowestPrice"]),
        "close": num(&r["ClosePrice"]), "average": num(&r["AveragePrice"]),
        "totalMatch": num(&r["TotalMatchVol"]), "totalMatchValue": num(&r["TotalMatchVal"]),
        "totalBuy": 0, "totalTradeBuy": num(&r["TotalBuyTrade"]), "totalSell": 0,
        "totalTradeSell": num(&r["TotalSellTrade"]), "totalForeignBuy": 0, "totalForeignBuyValue": 0,
        "totalForeignSell": 0, "totalForeignSellValue": 0,
        "remainForeignRoom": num(&r["ForeignCurrentRoom"]), "totalForeignRoom": num(&r["ForeignCurrentRoom"]),
        "totalDeal": num(&r["TotalDealVol"]), "totalDealValue": num(&r["TotalDealVal"]),
        "openInterest": null, "settlementPrice": null, "ceiling": num(&r["CeilingPrice"]),
        "floor": num(&r["FloorPrice"]), "refPrice": num(&r["RefPrice"])})
}

async fn securities_summary(core: &Arc<Core>, p: &Params) -> Result<Response, V3Error> {
    let (today, _) = core.local_now();
    let range = range(p, today)?;
    let paging = paging(p)?;
    let universe = core.generator.universe();
    let symbols: Vec<String> = match (p.get("symbol"), p.get("index")) {
        (Some(s), None) => vec![s.to_ascii_uppercase()],
        (None, Some(code)) => universe
            .index(code)
            .ok_or_else(|| V3Error::bad(format!("index '{code}' does not exist")))?
            .1
            .members
            .iter()
            .filter_map(|&m| universe.instrument(m).map(|x| x.symbol.clone()))
            .collect(),
        (Some(_), Some(_)) | (None, None) => {
            return Err(V3Error::new(
                axum::http::StatusCode::BAD_REQUEST,
                504_209,
                "symbol or index is required (not both)",
            ));
        }
    };
    let mut rows = Vec::new();
    for s in symbols {
        let got = windows(core, "dailystockprice", &[("symbol", s)], range, 3650).await?;
        rows.extend(got.iter().map(summary_row));
    }
    Ok(paged(rows, paging, true))
}

async fn masterdata(core: &Arc<Core>, p: &Params) -> Result<Response, V3Error> {
    let (today, _) = core.local_now();
    let (from, to) = range(p, today)?;
    let (index, size) = paging(p)?;
    // Pages of FC Data's all-market list; v3's page size is served from FC Data's.
    let first = (index - 1) * size;
    let v2_page = first / V2_PAGE + 1;
    if v2_page > V2_PAGES {
        return Err(V3Error::bad("pageIndex is past the last page"));
    }
    let pairs = [
        ("fromDate", v2_date(from)),
        ("toDate", v2_date(to)),
        ("pageIndex", v2_page.to_string()),
        ("pageSize", V2_PAGE.to_string()),
    ];
    let (data, total) = v2(core, "dailystockprice", &pairs).await?;
    let skip = first % V2_PAGE;
    let rows: Vec<Value> = data
        .iter()
        .skip(skip)
        .take(size)
        .map(|r| {
            let symbol = r["Symbol"].as_str().unwrap_or("");
            let board = core
                .generator
                .universe()
                .find(symbol)
                .and_then(|i| core.generator.universe().instrument(i))
                .map(|x| x.exchange.ssi_code());
            json!({"board": board, "symbol": symbol, "tradingDate": v3_date(&r["TradingDate"]),
                "ceiling": num(&r["CeilingPrice"]), "floor": num(&r["FloorPrice"]), "refPrice": num(&r["RefPrice"])})
        })
        .collect();
    if rows.is_empty() {
        return Ok(no_content());
    }
    Ok(
        axum::Json(json!({"data": rows, "pageIndex": index, "pageSize": size,
        "pagesCount": total.div_ceil(size), "totalRecord": total}))
        .into_response(),
    )
}

/// The simulator has no corporate actions: a valid request answers the empty result.
fn corporate_actions(p: &Params) -> Result<Response, V3Error> {
    let far = Date::MIN;
    let from = date(p, "from", far)?;
    let to = date(p, "to", far)?;
    if from == far || to == far {
        return Err(V3Error::bad("from and to are required"));
    }
    if from > to {
        return Err(V3Error::code(400_202, "from is after to"));
    }
    if (to - from).whole_days() > 5 {
        return Err(V3Error::bad("from and to may be at most 5 days apart"));
    }
    if let Some(l) = p.get("language")
        && !matches!(l.to_ascii_lowercase().as_str(), "vn" | "en")
    {
        return Err(V3Error::bad(format!("language '{l}' is not vn or en")));
    }
    if let Some(s) = p.get("pagesize")
        && !matches!(s, "10" | "20" | "50" | "100")
    {
        return Err(V3Error::bad("pageSize must be 10, 20, 50 or 100"));
    }
    Ok(no_content())
}
