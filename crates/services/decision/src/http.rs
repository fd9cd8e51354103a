//! HTTP adapter: the strategies (enable, disable) and the decisions with their reasons. Every
//! refusal is the `{"code","message"}` body.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::Engine;
use proto::decision::v1 as pb;

/// The service's routes.
pub(crate) fn router(engine: Engine) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_strategies))
        .routes(routes!(set_strategy))
        .routes(routes!(set_params))
        .routes(routes!(list_decisions))
        .routes(routes!(get_decision))
        .routes(routes!(performance))
        .with_state(engine)
}

/// A strategy.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StrategyDto {
    id: String,
    /// `signal`: follows named TA signals.
    kind: String,
    enabled: bool,
    buy_on: Vec<String>,
    sell_on: Vec<String>,
    timeframes: Vec<String>,
    /// Symbols held now (from its fills).
    open_positions: u64,
    /// Symbols with a buy order open.
    open_buys: u64,
    /// Symbols it trades (empty: all).
    symbols: Vec<String>,
    /// How a buy is sized (`{"kind": "fixed", "quantity": 100}`, ...).
    #[schema(value_type = Object)]
    sizing: serde_json::Value,
}

fn dto(s: proto::decision::v1::Strategy) -> StrategyDto {
    StrategyDto {
        id: s.id,
        kind: s.kind,
        enabled: s.enabled,
        buy_on: s.buy_on,
        sell_on: s.sell_on,
        timeframes: s.timeframes,
        open_positions: s.open_positions,
        open_buys: s.open_buys,
        symbols: s.symbols,
        sizing: serde_json::from_str(&s.sizing_json).unwrap_or_default(),
    }
}

/// Sets a strategy's timeframes (`1m` … `1D`; empty: all), symbols (empty: all) and sizing
/// (`{"kind": "fixed", "quantity": 100}`, `{"kind": "percent_of_capital", "capital": ...,
/// "percent": ...}` or `{"kind": "volatility_target", ...}`, as in the settings), at once; kept
/// over restarts, over the settings.
#[utoipa::path(put, path = "/v1/strategies/{id}/params", tag = "strategies",
    security(("bearer" = ["trader", "risk_officer"])), request_body = Object,
    params(("id" = String, Path, description = "Strategy id")),
    responses((status = 200, description = "The strategy", body = StrategyDto),
              (status = 400, description = "Bad parameters, each problem named", body = common::error::ErrorBody),
              (status = 404, description = "No such strategy", body = common::error::ErrorBody)))]
async fn set_params(
    State(e): State<Engine>,
    caller: Caller,
    Path(id): Path<String>,
    b: Result<Json<crate::service::Params>, JsonRejection>,
) -> Result<Json<StrategyDto>, ApiError> {
    let Json(b) =
        b.map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))?;
    e.check_caller(caller.as_ref().map(|Extension(p)| p))
        .await?;
    Ok(Json(dto(e.set_params(&id, b).await?)))
}

/// Every strategy.
#[utoipa::path(get, path = "/v1/strategies", tag = "strategies",
    responses((status = 200, description = "Strategies", body = [StrategyDto])))]
async fn list_strategies(State(e): State<Engine>) -> Json<Vec<StrategyDto>> {
    Json(e.strategies().into_iter().map(dto).collect())
}

/// The caller, when tokens are checked.
type Caller = Option<Extension<common::auth::Principal>>;

/// A strategy switched on or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwitchBody {
    enabled: bool,
}

/// Enables or disables a strategy (stored: a restart keeps it).
#[utoipa::path(put, path = "/v1/strategies/{id}", tag = "strategies",
    security(("bearer" = ["trader", "risk_officer"])), request_body = SwitchBody,
    params(("id" = String, Path, description = "Strategy id")),
    responses((status = 200, description = "The strategy", body = StrategyDto),
              (status = 404, description = "No such strategy", body = common::error::ErrorBody)))]
async fn set_strategy(
    State(e): State<Engine>,
    caller: Caller,
    Path(id): Path<String>,
    b: Result<Json<SwitchBody>, JsonRejection>,
) -> Result<Json<StrategyDto>, ApiError> {
    let Json(b) =
        b.map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))?;
    e.check_caller(caller.as_ref().map(|Extension(p)| p))
        .await?;
    Ok(Json(dto(e.set_enabled(&id, b.enabled).await?)))
}

/// Filters of the decision list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DecisionQuery {
    /// Only this strategy.
    strategy: Option<String>,
    /// 1 to `decision.max_list`; default 100.
    limit: Option<u32>,
}

/// A decision: the signal a strategy acted on, why, and what became of its order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DecisionDto {
    /// The order's client id at the OMS.
    id: String,
    strategy: String,
    symbol: String,
    signal_id: String,
    side: String,
    quantity: u64,
    price: i64,
    reason: String,
    /// `sending` (the OMS has not answered yet), `sent`, `rejected`, `failed` (`failed` and a
    /// `sending` left by a crash are retried on the signal's next delivery).
    status: String,
    order_id: Option<String>,
    detail: String,
    /// RFC 3339.
    at: String,
}

/// Decisions, newest first.
#[utoipa::path(get, path = "/v1/decisions", tag = "decisions", params(DecisionQuery),
    responses((status = 200, description = "Decisions", body = [DecisionDto])))]
async fn list_decisions(
    State(e): State<Engine>,
    caller: Caller,
    Query(q): Query<DecisionQuery>,
) -> Result<Json<Vec<DecisionDto>>, ApiError> {
    e.check_caller(caller.as_ref().map(|Extension(p)| p))
        .await?;
    let list = e
        .decisions(q.strategy.as_deref().unwrap_or(""), q.limit.unwrap_or(0))
        .await?;
    Ok(Json(list.into_iter().map(DecisionDto::from).collect()))
}

impl From<pb::Decision> for DecisionDto {
    fn from(d: pb::Decision) -> Self {
        DecisionDto {
            at: d
                .at
                .as_ref()
                .and_then(common::bus::time_of)
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_default(),
            id: d.id,
            strategy: d.strategy,
            symbol: d.symbol,
            signal_id: d.signal_id,
            side: d.side,
            quantity: d.quantity,
            price: d.price,
            reason: d.reason,
            status: d.status,
            order_id: (!d.order_id.is_empty()).then_some(d.order_id),
            detail: d.detail,
        }
    }
}

/// One decision by id.
#[utoipa::path(get, path = "/v1/decisions/{id}", tag = "decisions",
    params(("id" = String, Path, description = "The decision's id: `<strategy>:<signal id>`")),
    responses((status = 200, description = "The decision", body = DecisionDto),
              (status = 404, description = "No such decision", body = common::error::ErrorBody)))]
async fn get_decision(
    State(e): State<Engine>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DecisionDto>, ApiError> {
    e.check_caller(caller.as_ref().map(|Extension(p)| p))
        .await?;
    Ok(Json(e.decision(&id).await?.into()))
}

/// One symbol a strategy holds or traded.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldingDto {
    symbol: String,
    quantity: u64,
    sellable: u64,
    cost: i64,
    last: Option<i64>,
    unrealised: Option<i64>,
    realised: i64,
    fees: i64,
    tax: i64,
}

/// A strategy's performance, VND.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PerformanceDto {
    strategy: String,
    account: String,
    positions: u64,
    /// Cost of what is held, with the buy fees.
    cost: i64,
    /// Realised after fees and the sale tax.
    realised: i64,
    /// At the last prices, after the fee and tax a sale would pay.
    unrealised: i64,
    fees: i64,
    tax: i64,
    decisions_sent: u64,
    decisions_rejected: u64,
    decisions_failed: u64,
    holdings: Vec<HoldingDto>,
}

/// A strategy's performance: what its fills hold and realised (the OMS's portfolio, attributed
/// by strategy), and its decisions by outcome.
#[utoipa::path(get, path = "/v1/strategies/{id}/performance", tag = "strategies",
    params(("id" = String, Path, description = "Strategy id")),
    responses((status = 200, description = "Performance", body = PerformanceDto),
              (status = 404, description = "No such strategy", body = common::error::ErrorBody),
              (status = 503, description = "The OMS did not answer", body = common::error::ErrorBody)))]
async fn performance(
    State(e): State<Engine>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PerformanceDto>, ApiError> {
    e.check_caller(caller.as_ref().map(|Extension(p)| p))
        .await?;
    let p = e.performance(&id).await?;
    Ok(Json(PerformanceDto {
        strategy: p.strategy,
        account: p.account,
        positions: p.positions,
        cost: p.cost,
        realised: p.realised,
        unrealised: p.unrealised,
        fees: p.fees,
        tax: p.tax,
        decisions_sent: p.decisions_sent,
        decisions_rejected: p.decisions_rejected,
        decisions_failed: p.decisions_failed,
        holdings: p
            .holdings
            .into_iter()
            .map(|h| HoldingDto {
                symbol: h.symbol,
                quantity: h.quantity,
                sellable: h.sellable,
                cost: h.cost,
                last: (h.last != 0).then_some(h.last),
                unrealised: h.unrealised,
                realised: h.realised,
                fees: h.fees,
                tax: h.tax,
            })
            .collect(),
    }))
}
