//! HTTP adapter: place, amend and cancel orders; the order book, fills and each order's
//! journal; the broker's positions, cash and max quantities. Every refusal is the
//! `{"code","message"}` body.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use common::auth::Principal;
use common::error::{ApiError, Kind};
use proto::oms::v1 as pb;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::algo::{Algo, Request as AlgoRequest};
use crate::conditional::{Conditional, Request as ConditionalRequest, Trail};
use crate::domain::NewOrder;
use crate::service::{Error, Oms, amendment};
use crate::store::order_pb;

/// The service's routes.
pub(crate) fn router(oms: Oms) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order, amend_order, cancel_order))
        .routes(routes!(order_events))
        .routes(routes!(list_fills))
        .routes(routes!(get_status))
        .routes(routes!(positions))
        .routes(routes!(balance))
        .routes(routes!(max_quantities))
        .routes(routes!(portfolio))
        .routes(routes!(report))
        .routes(routes!(nav))
        .routes(routes!(get_session))
        .routes(routes!(request_otp))
        .routes(routes!(login))
        .routes(routes!(place_conditional, list_conditionals))
        .routes(routes!(get_conditional, cancel_conditional))
        .routes(routes!(place_algo, list_algos))
        .routes(routes!(get_algo, cancel_algo))
        .with_state(oms)
}

fn rfc3339(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(common::bus::time_of)
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The caller, when tokens are checked (`auth.enabled`); `None` when they are not.
type Caller = Option<Extension<Principal>>;

fn owns(caller: &Caller, account: &str) -> Result<(), ApiError> {
    common::auth::check_account(caller.as_ref().map(|Extension(p)| p), account)
}

/// Refuses a caller who sees only some accounts when order `id` is not one of theirs; only
/// for such a caller is the stored order read (HTTP and gRPC).
pub(crate) async fn check_order_owner(
    oms: &Oms,
    caller: Option<&Principal>,
    id: &str,
) -> Result<(), ApiError> {
    if caller.is_some_and(|p| !p.sees_all_accounts()) {
        common::auth::check_account(caller, &oms.current(id).await?.account)?;
    }
    Ok(())
}

/// Whether the caller sees only some accounts: only then is a stored conditional or algo read
/// to check whose it is before acting on it.
fn restricted(caller: &Caller) -> bool {
    caller
        .as_ref()
        .is_some_and(|Extension(p)| !p.sees_all_accounts())
}

/// The account a list is of ([`common::auth::account_filter`]).
fn account_filter(caller: &Caller, asked: Option<&str>) -> Result<String, ApiError> {
    common::auth::account_filter(caller.as_ref().map(|Extension(p)| p), asked)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderDto {
    /// The OMS's id.
    id: String,
    /// The caller's idempotency key.
    client_id: String,
    account: String,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `LO`, `ATO`, `ATC`, `MTL`, `MOK`, `MAK` or `PLO`.
    order_type: String,
    /// Limit price; absent for the market-priced types.
    price: Option<i64>,
    quantity: u64,
    /// `pending_new`, `new`, `partially_filled`, `filled`, `cancelled`, `rejected`, `expired`.
    status: String,
    /// `amend` or `cancel` while one is with the broker.
    pending: Option<String>,
    filled: u64,
    /// Volume-weighted fill price; absent before the first fill.
    avg_price: Option<i64>,
    /// SSI's requestID of the placement.
    request_id: u32,
    /// SSI's order id, once known.
    broker_order_id: Option<String>,
    reject_reason: Option<String>,
    strategy: Option<String>,
    /// RFC 3339 (market clock).
    created_at: String,
    updated_at: String,
    version: u64,
}

fn some(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl From<pb::Order> for OrderDto {
    fn from(o: pb::Order) -> Self {
        Self {
            created_at: rfc3339(o.created_at.as_ref()),
            updated_at: rfc3339(o.updated_at.as_ref()),
            id: o.id,
            client_id: o.client_id,
            account: o.account,
            symbol: o.symbol,
            side: o.side,
            order_type: o.order_type,
            price: (o.price != 0).then_some(o.price),
            quantity: o.quantity,
            status: o.status,
            pending: some(o.pending),
            filled: o.filled,
            avg_price: (o.avg_price != 0).then_some(o.avg_price),
            request_id: o.request_id,
            broker_order_id: some(o.broker_order_id),
            reject_reason: some(o.reject_reason),
            strategy: some(o.strategy),
            version: o.version,
        }
    }
}

fn dto(o: &crate::domain::Order) -> Json<OrderDto> {
    Json(order_pb(o).into())
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaceBody {
    /// Your idempotency key: 1 to 64 characters of `[A-Za-z0-9._:-]`. Sending the same again
    /// answers the order already placed, never a second one.
    client_id: String,
    account: String,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `LO` (default), `ATO`, `ATC`, `MTL`, `MOK`, `MAK` or `PLO`.
    #[serde(default)]
    order_type: Option<String>,
    /// Limit price in VND (tenths of an index point for futures); only for `LO`.
    #[serde(default)]
    price: Option<i64>,
    quantity: u64,
    /// The strategy the order belongs to.
    #[serde(default)]
    strategy: Option<String>,
}

/// Places an order through the broker, exactly once per `client_id`. Answers it after the
/// broker's answer: `pending_new` with a `broker_order_id` when the broker took it, `rejected`
/// with the reason when it refused, `pending_new` without one when the answer is unknown (the
/// OMS keeps asking).
#[utoipa::path(post, path = "/v1/orders", tag = "orders",
    security(("bearer" = ["trader", "service"])), request_body = PlaceBody,
    responses((status = 201, description = "The order", body = OrderDto),
              (status = 400, description = "Malformed order", body = common::error::ErrorBody),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody),
              (status = 409, description = "client_id used for a different order", body = common::error::ErrorBody),
              (status = 503, description = "Not accepting orders yet (reconciling with the broker)", body = common::error::ErrorBody)))]
async fn place_order(
    State(oms): State<Oms>,
    caller: Caller,
    b: Result<Json<PlaceBody>, JsonRejection>,
) -> Result<(StatusCode, Json<OrderDto>), ApiError> {
    let b = body(b)?;
    owns(&caller, &b.account)?;
    let order = NewOrder::parse(
        &b.client_id,
        &b.account,
        &b.symbol,
        &b.side,
        b.order_type.as_deref().unwrap_or("LO"),
        b.price,
        b.quantity,
        b.strategy.as_deref(),
    )
    .map_err(Error::from)?;
    let placed = oms.place(order).await?;
    Ok((StatusCode::CREATED, dto(&placed)))
}

/// Filters of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this account.
    account: Option<String>,
    /// Only this symbol.
    symbol: Option<String>,
    /// Only orders that can still trade.
    open: Option<bool>,
    /// 1 to `orders.max_list`; default 100.
    limit: Option<u32>,
}

/// Orders, newest first.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(ListQuery),
    responses((status = 200, description = "Orders", body = [OrderDto])))]
async fn list_orders(
    State(oms): State<Oms>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<OrderDto>>, ApiError> {
    let account = account_filter(&caller, q.account.as_deref())?;
    let orders = oms
        .list(
            &account,
            &q.symbol.unwrap_or_default().to_ascii_uppercase(),
            q.open.unwrap_or(false),
            q.limit.unwrap_or(0),
        )
        .await?;
    Ok(Json(orders.iter().map(|o| order_pb(o).into()).collect()))
}

/// One order.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The OMS's order id")),
    responses((status = 200, description = "The order", body = OrderDto),
              (status = 404, description = "No such order", body = common::error::ErrorBody)))]
async fn get_order(
    State(oms): State<Oms>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderDto>, ApiError> {
    let order = oms.current(&id).await?;
    owns(&caller, &order.account)?;
    Ok(dto(&order))
}

/// An amendment: `price` or `quantity`, not both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendBody {
    /// New limit price.
    #[serde(default)]
    price: Option<i64>,
    /// New total quantity (including what is filled).
    #[serde(default)]
    quantity: Option<u64>,
}

/// Asks the broker to change the order's price or quantity. The order answers with
/// `pending: "amend"`; the change shows once the broker confirms it.
#[utoipa::path(patch, path = "/v1/orders/{id}", tag = "orders",
    security(("bearer" = ["trader", "service"])), request_body = AmendBody,
    params(("id" = String, Path, description = "The OMS's order id")),
    responses((status = 202, description = "The amendment is with the broker", body = OrderDto),
              (status = 400, description = "Malformed amendment", body = common::error::ErrorBody),
              (status = 404, description = "No such order", body = common::error::ErrorBody),
              (status = 422, description = "Not allowed in the order's state", body = common::error::ErrorBody)))]
async fn amend_order(
    State(oms): State<Oms>,
    caller: Caller,
    Path(id): Path<String>,
    b: Result<Json<AmendBody>, JsonRejection>,
) -> Result<(StatusCode, Json<OrderDto>), ApiError> {
    check_order_owner(&oms, caller.as_ref().map(|Extension(p)| p), &id).await?;
    let b = body(b)?;
    let change = amendment(b.price, b.quantity).map_err(Error::from)?;
    Ok((StatusCode::ACCEPTED, dto(&oms.amend(&id, change).await?)))
}

/// Asks the broker to cancel the order. The order answers with `pending: "cancel"`.
#[utoipa::path(delete, path = "/v1/orders/{id}", tag = "orders",
    security(("bearer" = ["trader", "service"])),
    params(("id" = String, Path, description = "The OMS's order id")),
    responses((status = 202, description = "The cancellation is with the broker", body = OrderDto),
              (status = 404, description = "No such order", body = common::error::ErrorBody),
              (status = 422, description = "Not allowed in the order's state", body = common::error::ErrorBody)))]
async fn cancel_order(
    State(oms): State<Oms>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<OrderDto>), ApiError> {
    check_order_owner(&oms, caller.as_ref().map(|Extension(p)| p), &id).await?;
    Ok((StatusCode::ACCEPTED, dto(&oms.cancel(&id).await?)))
}

/// One change of an order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderEventDto {
    kind: String,
    from_status: String,
    to_status: String,
    detail: String,
    /// RFC 3339.
    at: String,
}

/// Every change of one order, oldest first.
#[utoipa::path(get, path = "/v1/orders/{id}/events", tag = "orders",
    params(("id" = String, Path, description = "The OMS's order id")),
    responses((status = 200, description = "The order's journal", body = [OrderEventDto]),
              (status = 404, description = "No such order", body = common::error::ErrorBody)))]
async fn order_events(
    State(oms): State<Oms>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<OrderEventDto>>, ApiError> {
    check_order_owner(&oms, caller.as_ref().map(|Extension(p)| p), &id).await?;
    let events = oms.events(&id).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| OrderEventDto {
                at: rfc3339(e.at.as_ref()),
                kind: e.kind,
                from_status: e.from_status,
                to_status: e.to_status,
                detail: e.detail,
            })
            .collect(),
    ))
}

/// One fill.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FillDto {
    /// The broker's fill event id, or `cum:<quantity>` for a fill taken from the order book.
    id: String,
    order_id: String,
    account: String,
    symbol: String,
    side: String,
    price: i64,
    quantity: u64,
    /// RFC 3339.
    time: String,
    /// Taken from the broker's order book after the stream missed it.
    reconciled: bool,
    strategy: Option<String>,
}

/// Filters of the fill list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FillQuery {
    /// Only this account.
    account: Option<String>,
    /// Only this order.
    order_id: Option<String>,
    /// 1 to `orders.max_list`; default 100.
    limit: Option<u32>,
}

/// Fills, newest first.
#[utoipa::path(get, path = "/v1/fills", tag = "orders", params(FillQuery),
    responses((status = 200, description = "Fills", body = [FillDto])))]
async fn list_fills(
    State(oms): State<Oms>,
    caller: Caller,
    Query(q): Query<FillQuery>,
) -> Result<Json<Vec<FillDto>>, ApiError> {
    let account = account_filter(&caller, q.account.as_deref())?;
    let fills = oms
        .fills(
            &account,
            q.order_id.as_deref().unwrap_or(""),
            q.limit.unwrap_or(0),
        )
        .await?;
    Ok(Json(
        fills
            .into_iter()
            .map(|f| FillDto {
                time: rfc3339(f.time.as_ref()),
                id: f.id,
                order_id: f.order_id,
                account: f.account,
                symbol: f.symbol,
                side: f.side,
                price: f.price,
                quantity: f.quantity,
                reconciled: f.reconciled,
                strategy: some(f.strategy),
            })
            .collect(),
    ))
}

/// Whether the OMS accepts orders.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusDto {
    accepting: bool,
    /// Why not, when not.
    reason: Option<String>,
    /// `v2`, `v3`, or absent without a broker.
    broker: Option<String>,
    accounts: Vec<String>,
    open_orders: u64,
    /// Placements and changes whose outcome the broker has not told yet.
    unconfirmed_actions: u64,
}

/// Whether orders are accepted (a broker is configured and every account is reconciled), and
/// the book's size.
#[utoipa::path(get, path = "/v1/status", tag = "orders",
    responses((status = 200, description = "The OMS's state", body = StatusDto)))]
async fn get_status(State(oms): State<Oms>) -> Json<StatusDto> {
    let s = crate::grpc::status_pb(oms.status().await);
    Json(StatusDto {
        accepting: s.accepting,
        reason: some(s.reason),
        broker: some(s.broker),
        accounts: s.accounts,
        open_orders: s.open_orders,
        unconfirmed_actions: s.unconfirmed_actions,
    })
}

/// A holding, as the broker reports it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PositionDto {
    symbol: String,
    quantity: u64,
    /// Sellable now (settled, not blocked).
    sellable: u64,
    /// Short contracts (derivatives).
    short: u64,
    avg_price: Option<i64>,
}

/// The account's holdings, as the broker reports them now.
#[utoipa::path(get, path = "/v1/accounts/{account}/positions", tag = "accounts",
    params(("account" = String, Path, description = "Broker sub-account")),
    responses((status = 200, description = "Holdings", body = [PositionDto]),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody),
              (status = 503, description = "The broker did not answer", body = common::error::ErrorBody)))]
async fn positions(
    State(oms): State<Oms>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<Vec<PositionDto>>, ApiError> {
    owns(&caller, &account)?;
    let p = oms.positions(&account).await?;
    Ok(Json(
        p.into_iter()
            .map(|p| PositionDto {
                symbol: p.symbol.to_string(),
                quantity: p.quantity.units(),
                sellable: p.sellable.units(),
                short: p.short.units(),
                avg_price: p.avg_price.map(market::Price::units),
            })
            .collect(),
    ))
}

/// Cash of an account, as the broker reports it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BalanceDto {
    account: String,
    cash: Option<i64>,
    buying_power: Option<i64>,
    withdrawable: Option<i64>,
}

/// The account's cash and buying power, as the broker reports them now.
#[utoipa::path(get, path = "/v1/accounts/{account}/balance", tag = "accounts",
    params(("account" = String, Path, description = "Broker sub-account")),
    responses((status = 200, description = "Cash", body = BalanceDto),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody),
              (status = 503, description = "The broker did not answer", body = common::error::ErrorBody)))]
async fn balance(
    State(oms): State<Oms>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<BalanceDto>, ApiError> {
    owns(&caller, &account)?;
    let b = oms.balance(&account).await?;
    Ok(Json(BalanceDto {
        account: b.account,
        cash: b.cash.map(market::Vnd::amount),
        buying_power: b.buying_power.map(market::Vnd::amount),
        withdrawable: b.withdrawable.map(market::Vnd::amount),
    }))
}

/// What the max-quantity query asks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MaxQuery {
    symbol: String,
    /// The buy price to size at.
    price: i64,
}

/// The largest buy and sell the broker allows now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MaxDto {
    max_buy: u64,
    max_sell: u64,
}

/// The largest buy at `price` and the largest sell of `symbol` the broker allows now.
#[utoipa::path(get, path = "/v1/accounts/{account}/max", tag = "accounts",
    params(("account" = String, Path, description = "Broker sub-account"), MaxQuery),
    responses((status = 200, description = "Max quantities", body = MaxDto),
              (status = 400, description = "Bad symbol or price", body = common::error::ErrorBody),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody)))]
async fn max_quantities(
    State(oms): State<Oms>,
    caller: Caller,
    Path(account): Path<String>,
    Query(q): Query<MaxQuery>,
) -> Result<Json<MaxDto>, ApiError> {
    owns(&caller, &account)?;
    let symbol = market::Symbol::parse(q.symbol.trim())
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("symbol {:?}: {e}", q.symbol)))?;
    let price = market::Price::new(q.price)
        .ok()
        .filter(|p| p.units() > 0)
        .ok_or_else(|| ApiError::new(Kind::InvalidArgument, format!("price {}", q.price)))?;
    let m = oms.max_quantities(&account, symbol, price).await?;
    Ok(Json(MaxDto {
        max_buy: m.max_buy.units(),
        max_sell: m.max_sell.units(),
    }))
}

/// What QTS's fills hold in one symbol for one strategy, valued now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldingDto {
    symbol: String,
    /// Absent: a person's orders.
    strategy: Option<String>,
    quantity: u64,
    /// Sellable now: bought on or before T-2 (from 13:00 on T+2), less open sells.
    sellable: u64,
    /// Bought today, not sellable yet (T+0).
    settling_t0: u64,
    /// Bought the trading day before (T+1).
    settling_t1: u64,
    /// Bought two trading days before, sellable from 13:00 today (T+2).
    settling_t2: u64,
    /// Cost of what is held with the buy fees, VND.
    cost: i64,
    /// Average cost per share with the buy fees.
    avg_cost: Option<i64>,
    /// The price it is valued at (last trade, else last fill).
    last: Option<i64>,
    /// At `last`, after the fee and tax a sale would pay, VND.
    unrealised: Option<i64>,
    /// Realised after fees and the sale tax, VND.
    realised: i64,
    fees: i64,
    tax: i64,
    bought: u64,
    sold: u64,
    /// Index futures: contracts held, below zero when short (`quantity` is its size); 0 for
    /// stocks. A futures `cost` is the entry value of the contracts held, its `realised` is
    /// after every fee and the derivatives tax, and nothing settles (T+0).
    net: i64,
}

/// Which strategy.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PortfolioQuery {
    /// Only this strategy's holdings.
    strategy: Option<String>,
}

/// What QTS's own fills hold in the account, per symbol and strategy, with realised and
/// unrealised P&L after fees and the sale tax and T+2 sellable quantities; index futures as
/// signed net positions (holdings from before QTS are in the broker's positions).
#[utoipa::path(get, path = "/v1/accounts/{account}/portfolio", tag = "accounts",
    params(("account" = String, Path, description = "Broker sub-account"), PortfolioQuery),
    responses((status = 200, description = "Holdings", body = [HoldingDto]),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody)))]
async fn portfolio(
    State(oms): State<Oms>,
    caller: Caller,
    Path(account): Path<String>,
    Query(q): Query<PortfolioQuery>,
) -> Result<Json<Vec<HoldingDto>>, ApiError> {
    owns(&caller, &account)?;
    let valued = oms.portfolio(&account, q.strategy.as_deref()).await?;
    Ok(Json(
        valued
            .into_iter()
            .map(|v| HoldingDto {
                symbol: v.symbol.to_string(),
                strategy: v.strategy,
                quantity: v.holding.quantity,
                sellable: v.sellable,
                settling_t0: v.settling[0],
                settling_t1: v.settling[1],
                settling_t2: v.settling[2],
                cost: v.holding.cost,
                avg_cost: v.avg_cost,
                last: v.last,
                unrealised: v.unrealised,
                realised: v.holding.realised,
                fees: v.holding.fees,
                tax: v.holding.tax,
                bought: v.holding.bought,
                sold: v.holding.sold,
                net: v.holding.net,
            })
            .collect(),
    ))
}

/// Which days a report covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// First day, YYYY-MM-DD (Vietnam); default today.
    from: Option<String>,
    /// Last day, YYYY-MM-DD; default `from`. At most 366 days after `from`.
    to: Option<String>,
    /// Only this strategy; `-` for a person's orders.
    strategy: Option<String>,
}

/// One fill in a report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TradeDto {
    /// RFC 3339.
    time: String,
    symbol: String,
    side: String,
    price: i64,
    quantity: u64,
    /// price × quantity, VND.
    value: i64,
    /// Brokerage and exchange fee, VND.
    fee: i64,
    /// Sale tax, VND.
    tax: i64,
    /// A sale's realised P&L after fees and tax, VND.
    realised: i64,
    strategy: Option<String>,
}

/// One day of one strategy in a report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DayDto {
    /// YYYY-MM-DD.
    date: String,
    /// Absent: a person's orders.
    strategy: Option<String>,
    fills: u64,
    bought: i64,
    sold: i64,
    fees: i64,
    tax: i64,
    /// Realised P&L after fees and tax, VND.
    realised: i64,
}

/// Trade history and daily P&L of an account.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportDto {
    account: String,
    from: String,
    to: String,
    /// Oldest first.
    trades: Vec<TradeDto>,
    /// By date, then strategy.
    days: Vec<DayDto>,
}

/// Today in Vietnam, by the market clock.
fn today(oms: &Oms) -> time::Date {
    oms.market_now()
        .to_offset(market::calendar::VN_OFFSET)
        .date()
}

fn day_param(what: &str, v: &str) -> Result<time::Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v.trim(), &format).map_err(|e| {
        ApiError::new(
            Kind::InvalidArgument,
            format!("{what} {v:?}: YYYY-MM-DD ({e})"),
        )
    })
}

/// The account's trade history (every fill with its fee, tax and realised P&L) and its daily
/// P&L, fees and tax by strategy, from QTS's own fills (cash equities), for the days asked.
#[utoipa::path(get, path = "/v1/accounts/{account}/report", tag = "accounts",
    params(("account" = String, Path, description = "Broker sub-account"), ReportQuery),
    responses((status = 200, description = "The report", body = ReportDto),
              (status = 400, description = "Bad days", body = common::error::ErrorBody),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody)))]
async fn report(
    State(oms): State<Oms>,
    caller: Caller,
    Path(account): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<ReportDto>, ApiError> {
    owns(&caller, &account)?;
    let today = today(&oms);
    let from = q
        .from
        .as_deref()
        .map_or(Ok(today), |v| day_param("from", v))?;
    let to = q.to.as_deref().map_or(Ok(from), |v| day_param("to", v))?;
    if to < from || (to - from).whole_days() > 366 {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("from {from} to {to}: at most 366 days, to not before from"),
        ));
    }
    let wanted = |s: &Option<String>| match q.strategy.as_deref() {
        None => true,
        Some("-") => s.is_none(),
        Some(w) => s.as_deref() == Some(w),
    };
    let r = oms.report(&account, from, to).await?;
    let rfc = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    Ok(Json(ReportDto {
        account,
        from: from.to_string(),
        to: to.to_string(),
        trades: r
            .trades
            .into_iter()
            .filter(|(f, _, _)| wanted(&f.strategy))
            .map(|(f, cost, realised)| TradeDto {
                time: rfc(f.time),
                symbol: f.symbol.to_string(),
                side: f.side.name().to_owned(),
                price: f.price.units(),
                quantity: f.quantity.units(),
                value: cost.gross_value.amount(),
                fee: cost.brokerage.amount() + cost.exchange_fee.amount(),
                tax: cost.tax.amount(),
                realised,
                strategy: f.strategy,
            })
            .collect(),
        days: r
            .days
            .into_iter()
            .filter(|((_, s), _)| wanted(s))
            .map(|((date, strategy), d)| DayDto {
                date: date.to_string(),
                strategy,
                fills: d.fills,
                bought: d.bought,
                sold: d.sold,
                fees: d.fees,
                tax: d.tax,
                realised: d.realised,
            })
            .collect(),
    }))
}

/// One day's net asset value.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NavDto {
    /// YYYY-MM-DD.
    day: String,
    /// Cash as the broker reported it, VND.
    cash: i64,
    /// Cash-equity positions at the last trade price, VND.
    holdings: i64,
    nav: i64,
    /// When it was valued (RFC 3339, market clock): a past day's is its close.
    valued_at: String,
}

/// Which days of NAV.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NavQuery {
    /// First day, YYYY-MM-DD; default 365 days before `to`.
    from: Option<String>,
    /// Last day, YYYY-MM-DD; default today.
    to: Option<String>,
    /// Value the account now first (today's point is then current).
    #[serde(default)]
    refresh: bool,
}

/// The account's net asset value by day (cash plus positions at the last trade price, valued
/// every `orders.nav_interval_secs`; a day's last valuation stays), oldest first.
#[utoipa::path(get, path = "/v1/accounts/{account}/nav", tag = "accounts",
    params(("account" = String, Path, description = "Broker sub-account"), NavQuery),
    responses((status = 200, description = "NAV by day", body = [NavDto]),
              (status = 400, description = "Bad days", body = common::error::ErrorBody),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody),
              (status = 503, description = "The broker did not answer (refresh)", body = common::error::ErrorBody)))]
async fn nav(
    State(oms): State<Oms>,
    caller: Caller,
    Path(account): Path<String>,
    Query(q): Query<NavQuery>,
) -> Result<Json<Vec<NavDto>>, ApiError> {
    owns(&caller, &account)?;
    let today = today(&oms);
    let to = q.to.as_deref().map_or(Ok(today), |v| day_param("to", v))?;
    let from = q.from.as_deref().map_or_else(
        || Ok(to - time::Duration::days(365)),
        |v| day_param("from", v),
    )?;
    if to < from || (to - from).whole_days() > 3_660 {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("from {from} to {to}: at most ten years, to not before from"),
        ));
    }
    if q.refresh {
        oms.value_account(&account).await?;
    }
    Ok(Json(
        oms.nav(&account, from, to)
            .await?
            .into_iter()
            .map(|r| NavDto {
                day: r.day,
                cash: r.cash,
                holdings: r.holdings,
                nav: r.nav,
                valued_at: r.valued_at,
            })
            .collect(),
    ))
}

/// The broker's trading session.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionDto {
    /// Orders can go now.
    open: bool,
    /// When it ends (RFC 3339), if known.
    expires_at: Option<String>,
    /// The OMS keeps it open by itself (v2 with a configured PIN); otherwise a person logs in
    /// with an OTP, and again after it ends (orders are rejected, naming why, until then).
    renews_itself: bool,
}

fn session_dto(s: broker::TradingSession) -> SessionDto {
    SessionDto {
        open: s.open,
        expires_at: s.expires_at.and_then(|t| t.format(&Rfc3339).ok()),
        renews_itself: s.renews_itself,
    }
}

/// Whether the trading session is open, until when, and who keeps it open.
#[utoipa::path(get, path = "/v1/session", tag = "session",
    responses((status = 200, description = "The session", body = SessionDto),
              (status = 422, description = "No broker configured", body = common::error::ErrorBody)))]
async fn get_session(State(oms): State<Oms>) -> Result<Json<SessionDto>, ApiError> {
    Ok(Json(session_dto(oms.session().await?)))
}

/// What asking for an OTP answered.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OtpDto {
    /// A Smart-OTP transaction to approve in SSI's app, then send as `code` to
    /// `/v1/session/login`; absent when SSI sends a code by SMS/e-mail.
    transaction_id: Option<String>,
    message: String,
}

/// Asks SSI to send the OTP (SMS/e-mail) or push a Smart-OTP approval to the account owner.
#[utoipa::path(post, path = "/v1/session/otp", tag = "session",
    security(("bearer" = ["trader", "ops"])),
    responses((status = 200, description = "Sent", body = OtpDto),
              (status = 422, description = "No broker configured", body = common::error::ErrorBody),
              (status = 503, description = "The broker did not answer", body = common::error::ErrorBody)))]
async fn request_otp(State(oms): State<Oms>) -> Result<Json<OtpDto>, ApiError> {
    let r = oms.request_otp().await?;
    Ok(Json(OtpDto {
        transaction_id: r.transaction_id,
        message: r.message,
    }))
}

/// The OTP.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    /// The OTP code, or the approved Smart-OTP transaction id.
    code: String,
}

/// Opens the trading session with the OTP (never logged or stored).
#[utoipa::path(post, path = "/v1/session/login", tag = "session",
    security(("bearer" = ["trader", "ops"])), request_body = LoginBody,
    responses((status = 200, description = "The session", body = SessionDto),
              (status = 400, description = "Malformed code", body = common::error::ErrorBody),
              (status = 401, description = "SSI refused the code", body = common::error::ErrorBody)))]
async fn login(
    State(oms): State<Oms>,
    b: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Json<SessionDto>, ApiError> {
    let b = body(b)?;
    Ok(Json(session_dto(oms.login(&b.code).await?)))
}

/// A conditional order held by the OMS.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConditionalDto {
    /// The caller's idempotency key and the conditional's id.
    client_id: String,
    account: String,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `stop`, `stop_limit`, `take_profit` or `trailing_stop`.
    kind: String,
    trigger_price: Option<i64>,
    limit_price: Option<i64>,
    /// Trailing distance in VND.
    trail_amount: Option<i64>,
    /// Trailing distance in basis points of the best price.
    trail_bps: Option<u32>,
    quantity: u64,
    oco_group: Option<String>,
    strategy: Option<String>,
    /// `active`, `triggered` or `cancelled`.
    status: String,
    /// A trailing stop's best price since it was placed.
    extreme: Option<i64>,
    /// The trade price that fired it.
    fired_at_price: Option<i64>,
    /// The client id of the order it fires (`<client_id>:fire`): find it in `/v1/orders`.
    child_client_id: String,
    /// How it ended.
    detail: String,
    /// RFC 3339 (market clock).
    created_at: String,
    updated_at: String,
}

impl From<&Conditional> for ConditionalDto {
    fn from(c: &Conditional) -> Self {
        let (trail_amount, trail_bps) = match c.trail {
            Some(Trail::Amount(a)) => (Some(a), None),
            Some(Trail::Bps(b)) => (None, Some(b)),
            None => (None, None),
        };
        Self {
            client_id: c.client_id.clone(),
            account: c.account.clone(),
            symbol: c.symbol.to_string(),
            side: c.side.name().to_owned(),
            kind: c.kind.as_str().to_owned(),
            trigger_price: c.trigger_price,
            limit_price: c.limit_price,
            trail_amount,
            trail_bps,
            quantity: c.quantity,
            oco_group: c.oco_group.clone(),
            strategy: c.strategy.clone(),
            status: c.status.as_str().to_owned(),
            extreme: c.extreme,
            fired_at_price: c.fired_at_price,
            child_client_id: c.child_client_id(),
            detail: c.detail.clone(),
            created_at: c.created_at.format(&Rfc3339).unwrap_or_default(),
            updated_at: c.updated_at.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

/// A new conditional order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionalBody {
    /// Your idempotency key: 1 to 59 characters of `[A-Za-z0-9._:-]`.
    client_id: String,
    account: String,
    symbol: String,
    /// `buy` or `sell` (the side of the order it fires).
    side: String,
    /// `stop`, `stop_limit`, `take_profit` or `trailing_stop`.
    kind: String,
    /// Stop, stop-limit and take-profit: the trade price that fires it.
    #[serde(default)]
    trigger_price: Option<i64>,
    /// Stop-limit (required) and take-profit (optional): the fired order's limit price.
    #[serde(default)]
    limit_price: Option<i64>,
    /// Trailing stop: the distance in VND, or
    #[serde(default)]
    trail_amount: Option<i64>,
    /// ... in basis points of the best price since placing (1 to 9999).
    #[serde(default)]
    trail_bps: Option<u32>,
    /// Shares, whole lots.
    quantity: u64,
    /// Conditionals of one account with the same group are one-cancels-the-other.
    #[serde(default)]
    oco_group: Option<String>,
    #[serde(default)]
    strategy: Option<String>,
}

/// Holds a conditional order until the market reaches it, then places its order (client id
/// `<client_id>:fire`) through the risk check and the broker, once. The same `client_id`
/// again answers the conditional stored with it.
#[utoipa::path(post, path = "/v1/conditionals", tag = "conditional orders",
    security(("bearer" = ["trader", "service"])), request_body = ConditionalBody,
    responses((status = 201, description = "The conditional order, active", body = ConditionalDto),
              (status = 400, description = "Malformed", body = common::error::ErrorBody),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody),
              (status = 409, description = "client_id used for a different conditional", body = common::error::ErrorBody),
              (status = 422, description = "No broker is configured", body = common::error::ErrorBody)))]
async fn place_conditional(
    State(oms): State<Oms>,
    caller: Caller,
    b: Result<Json<ConditionalBody>, JsonRejection>,
) -> Result<(StatusCode, Json<ConditionalDto>), ApiError> {
    let b = body(b)?;
    owns(&caller, &b.account)?;
    let c = Conditional::parse(
        &ConditionalRequest {
            client_id: &b.client_id,
            account: &b.account,
            symbol: &b.symbol,
            side: &b.side,
            kind: &b.kind,
            trigger_price: b.trigger_price,
            limit_price: b.limit_price,
            trail_amount: b.trail_amount,
            trail_bps: b.trail_bps,
            quantity: b.quantity,
            oco_group: b.oco_group.as_deref(),
            strategy: b.strategy.as_deref(),
        },
        oms.market_now(),
    )
    .map_err(Error::from)?;
    let stored = oms.create_conditional(c).await?;
    Ok((StatusCode::CREATED, Json((&stored).into())))
}

/// Filters of the conditional list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConditionalQuery {
    /// Only this account.
    account: Option<String>,
    /// Only this status: `active`, `triggered` or `cancelled`.
    status: Option<String>,
    /// 1 to `orders.max_list`; default 100.
    limit: Option<u32>,
}

/// Conditional orders, newest first.
#[utoipa::path(get, path = "/v1/conditionals", tag = "conditional orders", params(ConditionalQuery),
    responses((status = 200, description = "Conditional orders", body = [ConditionalDto]),
              (status = 400, description = "Unknown status", body = common::error::ErrorBody)))]
async fn list_conditionals(
    State(oms): State<Oms>,
    caller: Caller,
    Query(q): Query<ConditionalQuery>,
) -> Result<Json<Vec<ConditionalDto>>, ApiError> {
    let account = account_filter(&caller, q.account.as_deref())?;
    let status = q.status.unwrap_or_default();
    if !status.is_empty() && crate::conditional::Status::parse(&status).is_none() {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("status {status:?}: active, triggered or cancelled"),
        ));
    }
    let list = oms
        .conditionals(&account, &status, q.limit.unwrap_or(0))
        .await?;
    Ok(Json(list.iter().map(ConditionalDto::from).collect()))
}

/// One conditional order.
#[utoipa::path(get, path = "/v1/conditionals/{client_id}", tag = "conditional orders",
    params(("client_id" = String, Path, description = "The conditional's client id")),
    responses((status = 200, description = "The conditional order", body = ConditionalDto),
              (status = 404, description = "No such conditional order", body = common::error::ErrorBody)))]
async fn get_conditional(
    State(oms): State<Oms>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<Json<ConditionalDto>, ApiError> {
    let c = oms.conditional(&client_id).await?;
    owns(&caller, &c.account)?;
    Ok(Json((&c).into()))
}

/// Cancels an active conditional order and the rest of its OCO group.
#[utoipa::path(delete, path = "/v1/conditionals/{client_id}", tag = "conditional orders",
    security(("bearer" = ["trader", "service"])),
    params(("client_id" = String, Path, description = "The conditional's client id")),
    responses((status = 200, description = "Cancelled", body = ConditionalDto),
              (status = 404, description = "No such conditional order", body = common::error::ErrorBody),
              (status = 422, description = "It fired or was cancelled already", body = common::error::ErrorBody)))]
async fn cancel_conditional(
    State(oms): State<Oms>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<Json<ConditionalDto>, ApiError> {
    if restricted(&caller) {
        owns(&caller, &oms.conditional(&client_id).await?.account)?;
    }
    Ok(Json((&oms.cancel_conditional(&client_id).await?).into()))
}

/// An algorithmic parent order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AlgoDto {
    /// The caller's idempotency key and the parent's id; slice n is the order with client id
    /// `<client_id>:<n>`.
    client_id: String,
    account: String,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `twap`, `vwap` or `iceberg`.
    kind: String,
    /// Limit price of every slice.
    price: i64,
    quantity: u64,
    /// TWAP, VWAP: slices.
    slices: Option<u32>,
    /// TWAP, VWAP: the first slice (RFC 3339, market clock).
    start_at: Option<String>,
    /// TWAP, VWAP: the last slice is due before this.
    end_at: Option<String>,
    /// Iceberg: shares shown at a time.
    display: Option<u64>,
    /// VWAP: each slice's shares, from the historical volume of its interval (empty for the
    /// other kinds).
    slice_quantities: Vec<u64>,
    strategy: Option<String>,
    /// Slices placed so far.
    slices_placed: u32,
    /// `active`, `done` or `cancelled`.
    status: String,
    /// What happened last.
    detail: String,
    created_at: String,
    updated_at: String,
}

impl From<&Algo> for AlgoDto {
    fn from(a: &Algo) -> Self {
        let t = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        Self {
            client_id: a.client_id.clone(),
            account: a.account.clone(),
            symbol: a.symbol.to_string(),
            side: a.side.name().to_owned(),
            kind: a.kind.as_str().to_owned(),
            price: a.price,
            quantity: a.quantity,
            slices: a.slices,
            start_at: a.start_at.map(t),
            end_at: a.end_at.map(t),
            display: a.display,
            slice_quantities: if a.kind == crate::algo::Kind::Vwap {
                (0..a.slices.unwrap_or(0))
                    .map(|n| a.vwap_slice(n))
                    .collect()
            } else {
                Vec::new()
            },
            strategy: a.strategy.clone(),
            slices_placed: a.next_slice,
            status: a.status.as_str().to_owned(),
            detail: a.detail.clone(),
            created_at: t(a.created_at),
            updated_at: t(a.updated_at),
        }
    }
}

/// A new algorithmic parent order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlgoBody {
    /// Your idempotency key: 1 to 59 characters of `[A-Za-z0-9._:-]`.
    client_id: String,
    account: String,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `twap`, `vwap` or `iceberg`.
    kind: String,
    /// Limit price of every slice, VND.
    price: i64,
    /// Total shares, whole lots.
    quantity: u64,
    /// TWAP, VWAP: number of slices (1 to 1000, at most one per lot).
    #[serde(default)]
    slices: Option<u32>,
    /// TWAP, VWAP: the first slice, RFC 3339 (default now, by the market clock).
    #[serde(default)]
    start_at: Option<String>,
    /// TWAP, VWAP: the last slice is due before this, RFC 3339 (at most 7 days after the
    /// start).
    #[serde(default)]
    end_at: Option<String>,
    /// Iceberg: shares shown at a time, whole lots.
    #[serde(default)]
    display: Option<u64>,
    #[serde(default)]
    strategy: Option<String>,
}

fn instant(what: &str, v: Option<&str>) -> Result<Option<time::OffsetDateTime>, ApiError> {
    v.map(|t| {
        time::OffsetDateTime::parse(t, &Rfc3339).map_err(|e| {
            ApiError::new(
                Kind::InvalidArgument,
                format!("{what} {t:?}: RFC 3339 ({e})"),
            )
        })
    })
    .transpose()
}

/// Slices a parent order into limit orders placed through the OMS (each checked by risk):
/// `twap` places `slices` equal slices between `start_at` and `end_at`; `vwap` places slices at
/// the same times sized by the symbol's volume profile (the volume each minute of the day traded
/// over the last `vwap.days` trading days, from the historical service; refused when it has
/// none for the window); `iceberg` shows
/// `display` shares at a time, the next slice once the shown one has filled. Slice n has the
/// client id `<client_id>:<n>`, so it is placed once.
#[utoipa::path(post, path = "/v1/algos", tag = "algorithmic orders",
    security(("bearer" = ["trader", "service"])), request_body = AlgoBody,
    responses((status = 201, description = "The parent order, active", body = AlgoDto),
              (status = 400, description = "Malformed", body = common::error::ErrorBody),
              (status = 403, description = "An account this OMS does not trade", body = common::error::ErrorBody),
              (status = 409, description = "client_id used for a different parent order", body = common::error::ErrorBody),
              (status = 422, description = "No broker is configured", body = common::error::ErrorBody),
              (status = 503, description = "VWAP: the historical service gave no volume profile", body = common::error::ErrorBody)))]
async fn place_algo(
    State(oms): State<Oms>,
    caller: Caller,
    b: Result<Json<AlgoBody>, JsonRejection>,
) -> Result<(StatusCode, Json<AlgoDto>), ApiError> {
    let b = body(b)?;
    owns(&caller, &b.account)?;
    let a = Algo::parse(
        &AlgoRequest {
            client_id: &b.client_id,
            account: &b.account,
            symbol: &b.symbol,
            side: &b.side,
            kind: &b.kind,
            price: b.price,
            quantity: b.quantity,
            slices: b.slices,
            start_at: instant("start_at", b.start_at.as_deref())?,
            end_at: instant("end_at", b.end_at.as_deref())?,
            display: b.display,
            strategy: b.strategy.as_deref(),
        },
        oms.market_now(),
    )
    .map_err(Error::from)?;
    let stored = oms.create_algo(a).await?;
    Ok((StatusCode::CREATED, Json((&stored).into())))
}

/// Filters of the parent-order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlgoQuery {
    /// Only this account.
    account: Option<String>,
    /// Only this status: `active`, `done` or `cancelled`.
    status: Option<String>,
    /// 1 to `orders.max_list`; default 100.
    limit: Option<u32>,
}

/// Algorithmic parent orders, newest first.
#[utoipa::path(get, path = "/v1/algos", tag = "algorithmic orders", params(AlgoQuery),
    responses((status = 200, description = "Parent orders", body = [AlgoDto]),
              (status = 400, description = "Unknown status", body = common::error::ErrorBody)))]
async fn list_algos(
    State(oms): State<Oms>,
    caller: Caller,
    Query(q): Query<AlgoQuery>,
) -> Result<Json<Vec<AlgoDto>>, ApiError> {
    let account = account_filter(&caller, q.account.as_deref())?;
    let status = q.status.unwrap_or_default();
    if !status.is_empty() && crate::algo::Status::parse(&status).is_none() {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("status {status:?}: active, done or cancelled"),
        ));
    }
    let list = oms.algos(&account, &status, q.limit.unwrap_or(0)).await?;
    Ok(Json(list.iter().map(AlgoDto::from).collect()))
}

/// One algorithmic parent order.
#[utoipa::path(get, path = "/v1/algos/{client_id}", tag = "algorithmic orders",
    params(("client_id" = String, Path, description = "The parent's client id")),
    responses((status = 200, description = "The parent order", body = AlgoDto),
              (status = 404, description = "No such parent order", body = common::error::ErrorBody)))]
async fn get_algo(
    State(oms): State<Oms>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<Json<AlgoDto>, ApiError> {
    let a = oms.algo(&client_id).await?;
    owns(&caller, &a.account)?;
    Ok(Json((&a).into()))
}

/// Stops slicing and cancels the slices that still work.
#[utoipa::path(delete, path = "/v1/algos/{client_id}", tag = "algorithmic orders",
    security(("bearer" = ["trader", "service"])),
    params(("client_id" = String, Path, description = "The parent's client id")),
    responses((status = 200, description = "Cancelled", body = AlgoDto),
              (status = 404, description = "No such parent order", body = common::error::ErrorBody),
              (status = 422, description = "Done or cancelled already", body = common::error::ErrorBody)))]
async fn cancel_algo(
    State(oms): State<Oms>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<Json<AlgoDto>, ApiError> {
    if restricted(&caller) {
        owns(&caller, &oms.algo(&client_id).await?.account)?;
    }
    Ok(Json((&oms.cancel_algo(&client_id).await?).into()))
}
