//! The order ticket's backend: who the trader is and which accounts they trade, and a preview
//! of an order as they type it — the security's trading rules now (master data), the verdict the
//! risk service would give (a dry run: nothing reserved), and what the OMS says it would cost
//! (fees and tax), the broker's max quantities and whether orders can go now. The portal decides
//! nothing itself: the order is sent to the OMS by the web app, and checked there again.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::{Extension, Json};
use common::auth::Principal;
use common::error::{ApiError, Kind};
use proto::master_data::v1 as md_pb;
use proto::oms::v1 as oms_pb;
use proto::risk::v1 as risk_pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::{Api, check_symbol, from_peer};

/// The caller, when tokens are checked (`auth.enabled`); `None` when they are not.
type Caller = Option<Extension<Principal>>;

/// Longest account id taken.
const MAX_ACCOUNT: usize = 32;
/// Largest quantity a preview takes (far above any exchange's largest order).
const MAX_QUANTITY: u64 = 1_000_000_000;

/// The signed-in user and what they may trade.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MeDto {
    username: String,
    /// `trader`, `risk_officer`, `admin`, `ops`, ...
    roles: Vec<String>,
    /// The broker sub-accounts they may trade that the OMS trades, in the OMS's order.
    accounts: Vec<String>,
    /// Whether the OMS takes orders now.
    accepting: bool,
    /// Why not, when not.
    reason: Option<String>,
}

/// Who the caller is and the accounts they may trade (theirs that the OMS trades; every
/// account the OMS trades for an administrator, a risk officer or ops).
#[utoipa::path(get, path = "/v1/me", tag = "trading", security(("bearer" = [])),
    responses((status = 200, description = "The user and their accounts", body = MeDto),
              (status = 503, description = "The OMS did not answer", body = common::error::ErrorBody)))]
pub(crate) async fn me(
    State(mut api): State<Api>,
    caller: Caller,
) -> Result<Json<MeDto>, ApiError> {
    let status = api
        .oms
        .get_status(oms_pb::GetStatusRequest {})
        .await
        .map_err(|s| from_peer("the OMS", &s))?
        .into_inner();
    let (username, roles, accounts) = match caller {
        Some(Extension(p)) => {
            let accounts = status
                .accounts
                .iter()
                .filter(|a| p.may_access(a))
                .cloned()
                .collect();
            (p.username, p.roles, accounts)
        }
        // Tokens not checked: one user, every account.
        None => (String::new(), Vec::new(), status.accounts.clone()),
    };
    Ok(Json(MeDto {
        username,
        roles,
        accounts,
        accepting: status.accepting,
        reason: (!status.reason.is_empty()).then_some(status.reason),
    }))
}

/// An order as the trader has typed it so far.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewBody {
    account: String,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `LO` (default), `ATO`, `ATC`, `MTL`, `MOK`, `MAK` or `PLO`.
    #[serde(default)]
    order_type: Option<String>,
    /// Limit price (VND); absent for the market-priced types or when not typed yet.
    #[serde(default)]
    price: Option<i64>,
    /// Absent or 0 when not typed yet: then only the rules, max quantities and session.
    #[serde(default)]
    quantity: Option<u64>,
}

/// Prices from `from` up move in steps of `tick`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TickDto {
    from: i64,
    tick: i64,
}

/// One board of the security now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BoardDto {
    /// `main`, `odd_lot`, `put_through`.
    board: String,
    /// The phase now (`continuous`, `opening_auction`, `closed`, ...).
    phase: String,
    /// Order types the exchange takes now on this board.
    order_types: Vec<String>,
}

/// The security's trading rules now, from master data.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RulesDto {
    exchange: String,
    kind: String,
    status: String,
    /// Whether its status lets orders in at all.
    tradable: bool,
    /// Round lot: main-board quantities are multiples of it; fewer shares go to the odd-lot
    /// board.
    lot_size: u64,
    max_order_quantity: Option<u64>,
    /// The tick table, lowest band first.
    ticks: Vec<TickDto>,
    /// The tick at the asked price.
    tick_at_price: Option<i64>,
    reference: Option<i64>,
    ceiling: Option<i64>,
    floor: Option<i64>,
    boards: Vec<BoardDto>,
    /// Settlement date of a trade today.
    settlement_date: Option<String>,
    /// The market clock's instant the rules were read at (RFC 3339): the clock algorithmic
    /// orders' times are in (the simulator's may run faster than the wall clock).
    at: Option<String>,
}

/// One rule the order breaks.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RejectionDto {
    /// `exchange`, `max_order_value`, `kill_switch`, ...
    rule: String,
    message: String,
}

/// The risk service's verdict, as a dry run.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerdictDto {
    accepted: bool,
    rejections: Vec<RejectionDto>,
}

/// What the order would cost.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CostDto {
    /// The price it is reckoned at: the limit, or for a market-priced order the ceiling (buy)
    /// or floor (sell).
    priced_at: i64,
    gross_value: i64,
    brokerage: i64,
    /// Charged apart from the brokerage (0 when included in it).
    exchange_fee: i64,
    /// The sale tax.
    tax: i64,
    total_cost: i64,
    /// Cash effect: a buy −(value + costs), a sale value − costs.
    net_cash: i64,
}

/// Everything the order ticket shows and enforces.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PreviewDto {
    rules: RulesDto,
    /// Absent until there is a quantity (and a price for a limit order), or when the risk
    /// service did not answer (`risk_error`).
    verdict: Option<VerdictDto>,
    risk_error: Option<String>,
    /// Absent until there is a quantity and a price to reckon at.
    cost: Option<CostDto>,
    /// The broker's largest buy at the price and largest sale now.
    max_buy: Option<u64>,
    max_sell: Option<u64>,
    /// Why the broker gave no max quantities.
    max_error: Option<String>,
    /// Whether the trading session is open; when not and it does not renew itself, a person
    /// logs in with an OTP (`/api/oms/v1/session/otp`, then `/login`).
    session_open: bool,
    session_renews_itself: bool,
    /// Whether the OMS takes orders now, and why not.
    accepting: bool,
    reason: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Kind::InvalidArgument, message)
}

/// A preview of an order as the trader types it: the rules to enforce, the risk verdict a dry
/// run gives (nothing reserved or counted), its fees and tax, the max quantities and whether
/// it could be sent now. Only the caller's own accounts.
#[utoipa::path(post, path = "/v1/orders/preview", tag = "trading", security(("bearer" = [])),
    request_body = PreviewBody,
    responses((status = 200, description = "The preview", body = PreviewDto),
              (status = 400, description = "Malformed order", body = common::error::ErrorBody),
              (status = 403, description = "Not one of the caller's accounts", body = common::error::ErrorBody),
              (status = 404, description = "No such security", body = common::error::ErrorBody),
              (status = 503, description = "Master data or the OMS did not answer", body = common::error::ErrorBody)))]
pub(crate) async fn preview(
    State(api): State<Api>,
    caller: Caller,
    b: Result<Json<PreviewBody>, JsonRejection>,
) -> Result<Json<PreviewDto>, ApiError> {
    let Json(b) = b.map_err(|e| invalid(format!("request body: {e}")))?;
    let account = b.account.trim();
    if account.is_empty() || account.len() > MAX_ACCOUNT {
        return Err(invalid(format!("account: 1 to {MAX_ACCOUNT} characters")));
    }
    common::auth::check_account(caller.as_ref().map(|Extension(p)| p), account)?;
    check_symbol(&b.symbol)?;
    if !matches!(b.side.as_str(), "buy" | "sell") {
        return Err(invalid(format!("side {:?}: buy or sell", b.side)));
    }
    let order_type = b.order_type.unwrap_or_else(|| "LO".to_owned());
    if !matches!(
        order_type.as_str(),
        "LO" | "ATO" | "ATC" | "MTL" | "MOK" | "MAK" | "PLO"
    ) {
        return Err(invalid(format!(
            "order_type {order_type:?}: one of LO, ATO, ATC, MTL, MOK, MAK, PLO"
        )));
    }
    let limit = order_type == "LO";
    let price = if limit { b.price.unwrap_or(0) } else { 0 };
    if price < 0 {
        return Err(invalid(format!("price {price}: not negative")));
    }
    let quantity = b.quantity.unwrap_or(0);
    if quantity > MAX_QUANTITY {
        return Err(invalid(format!(
            "quantity {quantity}: at most {MAX_QUANTITY}"
        )));
    }
    // A verdict needs the whole order.
    let complete = quantity > 0 && (!limit || price > 0);
    let (mut md, mut risk, mut oms) = (api.master_data, api.risk, api.oms);
    let rules = md.get_trading_rules(md_pb::GetTradingRulesRequest {
        symbol: b.symbol.clone(),
        price,
    });
    let verdict = async {
        if !complete {
            return None;
        }
        Some(
            risk.check_order(risk_pb::CheckOrderRequest {
                client_id: "portal-preview".to_owned(),
                account: account.to_owned(),
                strategy: String::new(),
                symbol: b.symbol.clone(),
                side: b.side.clone(),
                order_type: order_type.clone(),
                price,
                quantity,
                dry_run: true,
            })
            .await,
        )
    };
    let costs = oms.preview_order(oms_pb::PreviewOrderRequest {
        account: account.to_owned(),
        symbol: b.symbol.clone(),
        side: b.side.clone(),
        order_type: order_type.clone(),
        price,
        quantity,
    });
    let (rules, verdict, costs) = tokio::join!(rules, verdict, costs);
    let rules = rules
        .map_err(|s| from_peer("master data", &s))?
        .into_inner();
    let costs = costs.map_err(|s| from_peer("the OMS", &s))?.into_inner();
    let (verdict, risk_error) = match verdict {
        None => (None, None),
        Some(Ok(v)) => {
            let v = v.into_inner();
            let verdict = VerdictDto {
                accepted: v.accepted,
                rejections: v
                    .rejections
                    .into_iter()
                    .map(|r| RejectionDto {
                        rule: r.rule,
                        message: r.message,
                    })
                    .collect(),
            };
            (Some(verdict), None)
        }
        // What the trader can act on passes on; an outage is not detailed to them.
        Some(Err(s)) => {
            let public = matches!(
                s.code(),
                tonic::Code::InvalidArgument
                    | tonic::Code::PermissionDenied
                    | tonic::Code::FailedPrecondition
            );
            let why = if public {
                format!("risk: {}", s.message())
            } else {
                tracing::warn!(status = %s, "the order ticket's risk preview failed");
                "the risk service did not answer; the order is checked when sent".to_owned()
            };
            (None, Some(why))
        }
    };
    let nonzero = |v: i64| (v != 0).then_some(v);
    Ok(Json(PreviewDto {
        rules: RulesDto {
            exchange: rules.exchange,
            kind: rules.kind,
            status: rules.status,
            tradable: rules.tradable,
            lot_size: rules.lot_size,
            max_order_quantity: (rules.max_order_quantity != 0).then_some(rules.max_order_quantity),
            ticks: rules
                .ticks
                .into_iter()
                .map(|t| TickDto {
                    from: t.from,
                    tick: t.tick,
                })
                .collect(),
            tick_at_price: nonzero(rules.tick_at_price),
            reference: nonzero(rules.reference),
            ceiling: nonzero(rules.ceiling),
            floor: nonzero(rules.floor),
            boards: rules
                .boards
                .into_iter()
                .map(|b| BoardDto {
                    board: b.board,
                    phase: b.phase,
                    order_types: b.order_types,
                })
                .collect(),
            settlement_date: (!rules.settlement_date.is_empty()).then_some(rules.settlement_date),
            at: rules
                .at
                .as_ref()
                .and_then(common::bus::time_of)
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
        },
        verdict,
        risk_error,
        cost: (costs.priced_at > 0 && quantity > 0).then_some(CostDto {
            priced_at: costs.priced_at,
            gross_value: costs.gross_value,
            brokerage: costs.brokerage,
            exchange_fee: costs.exchange_fee,
            tax: costs.tax,
            total_cost: costs.total_cost,
            net_cash: costs.net_cash,
        }),
        max_buy: costs.max_buy,
        max_sell: costs.max_sell,
        max_error: (!costs.max_error.is_empty()).then_some(costs.max_error),
        session_open: costs.session_open,
        session_renews_itself: costs.session_renews_itself,
        accepting: costs.accepting,
        reason: (!costs.reason.is_empty()).then_some(costs.reason),
    }))
}
