//! HTTP adapter: the function list, computations over stored bars, the latest indicator values
//! of a symbol and the signal history, documented with utoipa. Every refusal is the
//! `{"code","message"}` body.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::grpc::{functions, latest_of, limit};
use crate::service::{Compute, Latest};

/// The state of the routes.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) compute: Compute,
    pub(crate) latest: Latest,
    pub(crate) db: common::store::Db,
}

/// The service's routes.
pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_functions))
        .routes(routes!(compute))
        .routes(routes!(get_latest))
        .routes(routes!(list_signals))
        .with_state(state)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn seconds(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.seconds).ok())
        .map(rfc3339)
        .unwrap_or_default()
}

/// A parameter of a function.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ParamDto {
    name: String,
    /// `int`, `real` or `matype`.
    kind: String,
    default: f64,
    min: f64,
    max: f64,
}

/// A function of the library.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FunctionDto {
    name: String,
    group: String,
    description: String,
    inputs: Vec<String>,
    params: Vec<ParamDto>,
    outputs: Vec<String>,
}

/// Every function `compute` knows (TA-Lib's set, VWAP and per-session VWAP), with parameters,
/// defaults and outputs.
#[utoipa::path(get, path = "/v1/functions", tag = "functions",
    responses((status = 200, description = "Every function", body = [FunctionDto])))]
async fn list_functions() -> Json<Vec<FunctionDto>> {
    Json(
        functions()
            .into_iter()
            .map(|f| FunctionDto {
                name: f.name,
                group: f.group,
                description: f.description,
                inputs: f.inputs,
                params: f
                    .params
                    .into_iter()
                    .map(|p| ParamDto {
                        name: p.name,
                        kind: p.kind,
                        default: p.default_value,
                        min: p.min,
                        max: p.max,
                    })
                    .collect(),
                outputs: f.outputs,
            })
            .collect(),
    )
}

/// A computation over stored bars.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComputeBody {
    /// Ticker.
    symbol: String,
    /// `1m` (default), `5m`, `15m`, `30m`, `1h` or `1D`.
    #[serde(default)]
    resolution: Option<String>,
    /// RFC 3339 instant or `YYYY-MM-DD` (Vietnam time), inclusive.
    from: String,
    /// RFC 3339 instant (exclusive) or `YYYY-MM-DD` (the whole day included).
    to: String,
    /// The function's name (`RSI`, `MACD`, `CDLENGULFING`, ...), case-insensitive.
    function: String,
    /// Parameters by name; missing ones take TA-Lib's defaults.
    #[serde(default)]
    params: BTreeMap<String, f64>,
}

/// One bar's outputs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PointDto {
    /// Bar start, RFC 3339 UTC.
    time: String,
    /// One value per output; `null` inside the lookback.
    values: Vec<Option<f64>>,
}

/// A computation's result.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ComputedDto {
    function: String,
    outputs: Vec<String>,
    /// Bars before the first defined value.
    lookback: usize,
    points: Vec<PointDto>,
}

/// Runs one function over a symbol's stored bars (read from the historical service).
#[utoipa::path(post, path = "/v1/compute", tag = "compute", request_body = ComputeBody,
    responses((status = 200, description = "One point per bar, oldest first", body = ComputedDto),
              (status = 400, description = "Unknown function, bad parameter, symbol or range", body = common::error::ErrorBody),
              (status = 503, description = "The historical service did not answer", body = common::error::ErrorBody)))]
async fn compute(
    State(s): State<AppState>,
    body: Result<Json<ComputeBody>, JsonRejection>,
) -> Result<Json<ComputedDto>, ApiError> {
    let Json(b) =
        body.map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))?;
    let params: Vec<(String, f64)> = b.params.into_iter().collect();
    let c = s
        .compute
        .run(
            &b.symbol,
            b.resolution.as_deref().unwrap_or("1m"),
            &b.from,
            &b.to,
            &b.function,
            &params,
        )
        .await?;
    let points = c
        .times
        .iter()
        .enumerate()
        .map(|(i, t)| PointDto {
            time: rfc3339(*t),
            values: c
                .values
                .iter()
                .map(|v| Some(v[i]).filter(|x| x.is_finite()))
                .collect(),
        })
        .collect();
    Ok(Json(ComputedDto {
        function: c.function,
        outputs: c.outputs,
        lookback: c.lookback,
        points,
    }))
}

/// The indicator values of one timeframe after its last closed bar.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SnapshotDto {
    timeframe: String,
    /// Start of the bar that closed, RFC 3339 UTC.
    bar_start: String,
    close: i64,
    volume: u64,
    /// Defined values by id (`sma50`, `macd.macdsignal`, ...).
    values: BTreeMap<String, f64>,
}

/// The latest indicator values of a symbol, one entry per timeframe with a closed bar since
/// the service started.
#[utoipa::path(get, path = "/v1/latest/{symbol}", tag = "indicators",
    params(("symbol" = String, Path, description = "Ticker")),
    responses((status = 200, description = "One snapshot per timeframe (empty before the first closed bar)", body = [SnapshotDto])))]
async fn get_latest(
    State(s): State<AppState>,
    Path(symbol): Path<String>,
) -> Json<Vec<SnapshotDto>> {
    Json(
        latest_of(&s.latest, &symbol)
            .into_iter()
            .map(|snap| {
                let bar = snap.bar.unwrap_or_default();
                SnapshotDto {
                    timeframe: snap.timeframe,
                    bar_start: seconds(bar.start.as_ref()),
                    close: bar.close,
                    volume: bar.volume,
                    values: snap.values.into_iter().map(|v| (v.id, v.value)).collect(),
                }
            })
            .collect(),
    )
}

/// Query of `GET /v1/signals`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SignalsParams {
    /// Ticker (all when absent).
    symbol: Option<String>,
    /// `crossover`, `level`, `band` or `pattern` (all when absent).
    kind: Option<String>,
    /// At most this many (default 100).
    limit: Option<u32>,
}

/// A signal.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignalDto {
    id: String,
    symbol: String,
    timeframe: String,
    /// Start of the bar that closed with it, RFC 3339 UTC.
    bar_start: String,
    kind: String,
    name: String,
    /// +1 bullish, -1 bearish.
    direction: i32,
    value: f64,
    detail: String,
}

/// Signals the service published, newest first.
#[utoipa::path(get, path = "/v1/signals", tag = "signals", params(SignalsParams),
    responses((status = 200, description = "Signals, newest first", body = [SignalDto]),
              (status = 400, description = "Bad kind or limit", body = common::error::ErrorBody)))]
async fn list_signals(
    State(s): State<AppState>,
    Query(p): Query<SignalsParams>,
) -> Result<Json<Vec<SignalDto>>, ApiError> {
    let kind = p.kind.unwrap_or_default();
    if !["", "crossover", "level", "band", "pattern", "alert"].contains(&kind.as_str()) {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("unknown kind {kind:?} (expected crossover, level, band, pattern or alert)"),
        ));
    }
    let n = limit(p.limit.unwrap_or(0), s.compute.max_signals())?;
    let symbol = p.symbol.unwrap_or_default().trim().to_ascii_uppercase();
    let signals = crate::store::list(&s.db, &symbol, &kind, n)
        .await
        .map_err(crate::service::Error::Store)?;
    Ok(Json(
        signals
            .into_iter()
            .map(|g| SignalDto {
                bar_start: seconds(g.bar_start.as_ref()),
                id: g.id,
                symbol: g.symbol,
                timeframe: g.timeframe,
                kind: g.kind,
                name: g.name,
                direction: g.direction,
                value: g.value,
                detail: g.detail,
            })
            .collect(),
    ))
}
