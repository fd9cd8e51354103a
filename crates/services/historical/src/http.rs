//! HTTP adapter: bars (JSON or CSV), latest bars, index history, daily prices, gaps and
//! backfills, documented with utoipa. Parameters are checked by the use cases; every refusal
//! is the `{"code","message"}` body.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backfill::{BackfillRequest, Backfills};
use crate::domain::Bar;
use crate::service::{BarsQuery, Error, Queries, parse_date};
use crate::store::JobRow;

/// The state of the routes.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) queries: Queries,
    pub(crate) backfills: Backfills,
}

/// The service's routes.
pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_bars))
        .routes(routes!(get_latest))
        .routes(routes!(get_index_history))
        .routes(routes!(get_prices))
        .routes(routes!(get_gaps))
        .routes(routes!(start_backfill))
        .routes(routes!(get_backfill))
        .with_state(state)
}

fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                Kind::InvalidArgument,
                format!("missing query parameter {name}"),
            )
        })
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// One OHLCV bar.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BarDto {
    symbol: String,
    /// Bar start, RFC 3339 UTC.
    start: String,
    /// Length in seconds.
    seconds: u32,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
    /// Trades in the bar (0 when the source did not say).
    trades: i64,
}

impl From<&Bar> for BarDto {
    fn from(b: &Bar) -> Self {
        Self {
            symbol: b.symbol.clone(),
            start: rfc3339(b.start),
            seconds: b.seconds,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
            trades: b.trades,
        }
    }
}

/// Query of `GET /v1/bars`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BarsParams {
    /// Ticker.
    symbol: Option<String>,
    /// `1m` (default), `5m`, `15m`, `30m`, `1h` or `1D`.
    resolution: Option<String>,
    /// RFC 3339 instant or `YYYY-MM-DD` (Vietnam time), inclusive.
    from: Option<String>,
    /// RFC 3339 instant (exclusive) or `YYYY-MM-DD` (the whole day included).
    to: Option<String>,
    /// `json` (default) or `csv` (`text/csv`, for export).
    format: Option<String>,
}

/// Bars of one symbol over a range at a resolution; resampled bars never span the lunch
/// break or two days. `format=csv` exports them as `text/csv`.
#[utoipa::path(get, path = "/v1/bars", tag = "bars", params(BarsParams),
    responses((status = 200, description = "Bars, oldest first (JSON, or CSV with format=csv)", body = [BarDto]),
              (status = 400, description = "Bad symbol, resolution or range", body = common::error::ErrorBody)))]
async fn get_bars(
    State(s): State<AppState>,
    Query(p): Query<BarsParams>,
) -> Result<Response, ApiError> {
    let csv = match p.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => {
            return Err(ApiError::new(
                Kind::InvalidArgument,
                format!("unknown format {other:?} (expected json or csv)"),
            ));
        }
    };
    let q = BarsQuery::parse(
        required(&p.symbol, "symbol")?,
        p.resolution.as_deref().unwrap_or("1m"),
        required(&p.from, "from")?,
        required(&p.to, "to")?,
    )?;
    let bars = s.queries.bars(&q).await?;
    if csv {
        let body = bars_csv(&bars);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-{}.csv\"", q.symbol, q.resolution),
                ),
            ],
            body,
        )
            .into_response());
    }
    Ok(Json(bars.iter().map(BarDto::from).collect::<Vec<_>>()).into_response())
}

/// Bars as CSV with a header line.
pub fn bars_csv(bars: &[Bar]) -> String {
    let mut out = String::with_capacity(64 * (bars.len() + 1));
    out.push_str("symbol,start,seconds,open,high,low,close,volume,trades\n");
    for b in bars {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            b.symbol,
            rfc3339(b.start),
            b.seconds,
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            b.trades
        );
    }
    out
}

/// Query of `GET /v1/bars/latest`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LatestParams {
    /// Comma-separated tickers.
    symbols: Option<String>,
}

/// The latest one-minute bar of each symbol (symbols without bars are left out).
#[utoipa::path(get, path = "/v1/bars/latest", tag = "bars", params(LatestParams),
    responses((status = 200, description = "One bar per symbol that has one", body = [BarDto]),
              (status = 400, description = "No or too many symbols", body = common::error::ErrorBody)))]
async fn get_latest(
    State(s): State<AppState>,
    Query(p): Query<LatestParams>,
) -> Result<Json<Vec<BarDto>>, ApiError> {
    let symbols: Vec<String> = required(&p.symbols, "symbols")?
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let bars = s.queries.latest(&symbols).await?;
    Ok(Json(bars.iter().map(BarDto::from).collect()))
}

/// A day range.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DaysParams {
    /// First day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    to: Option<String>,
}

impl DaysParams {
    fn parse(&self) -> Result<(time::Date, time::Date), ApiError> {
        Ok((
            parse_date(required(&self.from, "from")?, "from")?,
            parse_date(required(&self.to, "to")?, "to")?,
        ))
    }
}

/// One daily index value.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndexPointDto {
    index: String,
    /// `YYYY-MM-DD`.
    date: String,
    /// Hundredths of a point.
    value: i64,
}

/// Daily values of an index (stored by backfills).
#[utoipa::path(get, path = "/v1/indexes/{index}/history", tag = "indexes",
    params(("index" = String, Path, description = "Index code, e.g. VN30"), DaysParams),
    responses((status = 200, description = "Values, oldest first", body = [IndexPointDto]),
              (status = 400, description = "Bad code or range", body = common::error::ErrorBody)))]
async fn get_index_history(
    State(s): State<AppState>,
    Path(index): Path<String>,
    Query(p): Query<DaysParams>,
) -> Result<Json<Vec<IndexPointDto>>, ApiError> {
    let (from, to) = p.parse()?;
    let points = s.queries.index_history(&index, from, to).await?;
    Ok(Json(
        points
            .into_iter()
            .map(|p| IndexPointDto {
                index: p.index,
                date: p.day.to_string(),
                value: p.value,
            })
            .collect(),
    ))
}

/// One day's price row of a symbol, as the broker gave it (null where it sent nothing).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DailyPriceDto {
    symbol: String,
    /// `YYYY-MM-DD`.
    date: String,
    reference: Option<i64>,
    ceiling: Option<i64>,
    floor: Option<i64>,
    open: Option<i64>,
    high: Option<i64>,
    low: Option<i64>,
    close: Option<i64>,
    volume: Option<i64>,
    foreign_room: Option<i64>,
}

/// Daily stock price rows of a symbol (stored by backfills).
#[utoipa::path(get, path = "/v1/prices/{symbol}", tag = "prices",
    params(("symbol" = String, Path, description = "Ticker"), DaysParams),
    responses((status = 200, description = "Rows, oldest first", body = [DailyPriceDto]),
              (status = 400, description = "Bad symbol or range", body = common::error::ErrorBody)))]
async fn get_prices(
    State(s): State<AppState>,
    Path(symbol): Path<String>,
    Query(p): Query<DaysParams>,
) -> Result<Json<Vec<DailyPriceDto>>, ApiError> {
    let (from, to) = p.parse()?;
    let rows = s.queries.daily_prices(&symbol, from, to).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| DailyPriceDto {
                symbol: r.symbol,
                date: r.day.map(|d| d.to_string()).unwrap_or_default(),
                reference: r.reference,
                ceiling: r.ceiling,
                floor: r.floor,
                open: r.open,
                high: r.high,
                low: r.low,
                close: r.close,
                volume: r.volume,
                foreign_room: r.foreign_room,
            })
            .collect(),
    ))
}

/// Query of `GET /v1/gaps`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GapsParams {
    /// Ticker.
    symbol: Option<String>,
    /// First day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    to: Option<String>,
}

/// Missing minutes of one trading day.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DayGapsDto {
    /// `YYYY-MM-DD`.
    date: String,
    /// Minutes of continuous trading that day.
    expected: usize,
    /// Starts (RFC 3339) of the minutes without a bar.
    missing: Vec<String>,
}

/// Minutes of continuous trading without a bar, per trading day (repair them with a `repair`
/// backfill).
#[utoipa::path(get, path = "/v1/gaps", tag = "bars", params(GapsParams),
    responses((status = 200, description = "Days with missing minutes", body = [DayGapsDto]),
              (status = 400, description = "Bad symbol or range", body = common::error::ErrorBody)))]
async fn get_gaps(
    State(s): State<AppState>,
    Query(p): Query<GapsParams>,
) -> Result<Json<Vec<DayGapsDto>>, ApiError> {
    let symbol = required(&p.symbol, "symbol")?;
    let from = parse_date(required(&p.from, "from")?, "from")?;
    let to = parse_date(required(&p.to, "to")?, "to")?;
    let gaps = s.queries.gaps(symbol, from, to).await?;
    Ok(Json(
        gaps.into_iter()
            .map(|g| DayGapsDto {
                date: g.day.to_string(),
                expected: g.expected,
                missing: g.missing.into_iter().map(rfc3339).collect(),
            })
            .collect(),
    ))
}

/// A backfill job's progress.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BackfillJobDto {
    id: String,
    /// `running`, `done` or `failed`.
    state: String,
    total_units: i64,
    done_units: i64,
    rows_written: i64,
    /// Why it failed.
    error: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<JobRow> for BackfillJobDto {
    fn from(j: JobRow) -> Self {
        Self {
            id: j.id.to_string(),
            state: j.state,
            total_units: j.total_units,
            done_units: j.done_units,
            rows_written: j.rows_written,
            error: j.error,
            created_at: rfc3339(j.created_at.get()),
            updated_at: rfc3339(j.updated_at.get()),
        }
    }
}

/// Starts a backfill through the broker (needs the `[broker]` section).
#[utoipa::path(post, path = "/v1/backfills", tag = "backfills",
    security(("bearer" = ["ops"])), request_body = BackfillRequest,
    responses((status = 202, description = "Started", body = BackfillJobDto),
              (status = 400, description = "Bad request", body = common::error::ErrorBody),
              (status = 422, description = "No broker configured", body = common::error::ErrorBody)))]
async fn start_backfill(
    State(s): State<AppState>,
    body: Result<Json<BackfillRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<BackfillJobDto>), ApiError> {
    let Json(req) = body.map_err(|e| ApiError::new(Kind::InvalidArgument, e.body_text()))?;
    let job = s.backfills.start(&req).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// A backfill job's progress.
#[utoipa::path(get, path = "/v1/backfills/{id}", tag = "backfills",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = BackfillJobDto),
              (status = 404, description = "No such job", body = common::error::ErrorBody)))]
async fn get_backfill(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BackfillJobDto>, ApiError> {
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::from(Error::Invalid(format!("job id {id:?} is not a UUID"))))?;
    Ok(Json(s.backfills.job(id).await?.into()))
}
