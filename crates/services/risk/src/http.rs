//! HTTP adapter: check an order, read and set limits, engage and release kill switches, read
//! an account's exposure and the audit trail. Every refusal is the `{"code","message"}` body.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::monitor::Monitor;
use crate::domain::{Limits, Scope};
use crate::service::{Error, Risk};

/// The state of the routes.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) risk: Risk,
    pub(crate) db: common::store::Db,
}

/// The service's routes.
pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(check_order))
        .routes(routes!(get_limits, set_limits))
        .routes(routes!(get_global_limits, set_global_limits))
        .routes(routes!(list_kill_switches))
        .routes(routes!(set_kill_switch))
        .routes(routes!(exposure))
        .routes(routes!(monitor))
        .routes(routes!(audit))
        .with_state(state)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))
}

/// An order to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckBody {
    client_id: String,
    account: String,
    #[serde(default)]
    strategy: Option<String>,
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// `LO` (default), `ATO`, `ATC`, `MTL`, `MOK`, `MAK`, `PLO`.
    #[serde(default)]
    order_type: Option<String>,
    /// Limit price; absent for the market-priced types.
    #[serde(default)]
    price: Option<i64>,
    quantity: u64,
    /// Only say what the verdict would be: nothing is reserved, audited or remembered (an
    /// order ticket's preview).
    #[serde(default)]
    dry_run: bool,
}

/// One broken rule.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RejectionDto {
    /// `exchange`, `unknown_security`, `max_order_value`, `kill_switch`, ...
    rule: String,
    /// What was wrong, with the numbers.
    message: String,
}

/// A verdict.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerdictDto {
    accepted: bool,
    rejections: Vec<RejectionDto>,
}

/// Checks an order against every rule (what the OMS does before it sends one). An accepted
/// order counts towards open orders, rate and exposure until the OMS reports it ended; with
/// `dry_run`, nothing counts.
#[utoipa::path(post, path = "/v1/check", tag = "checks", request_body = CheckBody,
    responses((status = 200, description = "The verdict, naming every broken rule", body = VerdictDto),
              (status = 400, description = "Malformed order", body = common::error::ErrorBody),
              (status = 503, description = "Still reading its state from the bus", body = common::error::ErrorBody)))]
async fn check_order(
    State(s): State<AppState>,
    caller: Caller,
    b: Result<Json<CheckBody>, JsonRejection>,
) -> Result<Json<VerdictDto>, ApiError> {
    let b = body(b)?;
    common::auth::check_account(caller.as_ref().map(|axum::Extension(p)| p), &b.account)?;
    let c = s.risk.parse_check(
        &b.client_id,
        &b.account,
        b.strategy.as_deref().unwrap_or(""),
        &b.symbol,
        &b.side,
        b.order_type.as_deref().unwrap_or("LO"),
        b.price.unwrap_or(0),
        b.quantity,
    )?;
    let v = if b.dry_run {
        s.risk.preview(&c)?
    } else {
        s.risk.check(&c).await?
    };
    Ok(Json(VerdictDto {
        accepted: v.accepted(),
        rejections: v
            .rejections
            .into_iter()
            .map(|r| RejectionDto {
                rule: r.rule.to_owned(),
                message: r.message,
            })
            .collect(),
    }))
}

fn scope(scope: &str, key: &str) -> Result<Scope, ApiError> {
    Scope::parse(scope, key).map_err(|e| Error::Invalid(e).into())
}

/// The limits that apply to an account or strategy (its own over the defaults).
#[utoipa::path(get, path = "/v1/limits/{scope}/{key}", tag = "limits",
    params(("scope" = String, Path, description = "`account` or `strategy`"),
           ("key" = String, Path, description = "The account or strategy id")),
    responses((status = 200, description = "Limits; an absent field is no limit", body = Object),
              (status = 400, description = "Bad scope", body = common::error::ErrorBody)))]
async fn get_limits(
    State(s): State<AppState>,
    Path((sc, key)): Path<(String, String)>,
) -> Result<Json<Limits>, ApiError> {
    Ok(Json(s.risk.limits(&scope(&sc, &key)?)))
}

/// Who changes limits or a kill switch, and the change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsBody {
    /// Who asks (audited; when tokens are checked, the token's user is audited instead).
    actor: String,
    /// The scope's own limits, replacing what it had; `null` clears them.
    #[schema(value_type = Object)]
    limits: Option<Limits>,
}

/// The caller, when tokens are checked (`auth.enabled`).
type Caller = Option<axum::Extension<common::auth::Principal>>;

/// Who asks, as audited: the token's user when tokens are checked, else the body's `actor`.
fn actor<'a>(caller: &'a Caller, a: &'a str) -> Result<&'a str, ApiError> {
    if let Some(axum::Extension(p)) = caller {
        return Ok(p.username.as_str());
    }
    let a = a.trim();
    if a.is_empty() || a.len() > 64 {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            "actor: 1 to 64 characters (who asks is audited)",
        ));
    }
    Ok(a)
}

/// Sets an account's or strategy's own limits (audited, published on `risk.event.v1`).
#[utoipa::path(put, path = "/v1/limits/{scope}/{key}", tag = "limits", request_body = LimitsBody,
    security(("bearer" = ["risk_officer"])),
    params(("scope" = String, Path, description = "`account` or `strategy`"),
           ("key" = String, Path, description = "The account or strategy id")),
    responses((status = 200, description = "The limits that now apply", body = Object),
              (status = 400, description = "Bad scope, limits or actor", body = common::error::ErrorBody)))]
async fn set_limits(
    State(s): State<AppState>,
    caller: Caller,
    Path((sc, key)): Path<(String, String)>,
    b: Result<Json<LimitsBody>, JsonRejection>,
) -> Result<Json<Limits>, ApiError> {
    let b = body(b)?;
    let scope = scope(&sc, &key)?;
    Ok(Json(
        s.risk
            .set_limits(scope, b.limits, actor(&caller, &b.actor)?)
            .await?,
    ))
}

/// The default limits.
#[utoipa::path(get, path = "/v1/limits/global", tag = "limits",
    responses((status = 200, description = "The defaults", body = Object)))]
async fn get_global_limits(State(s): State<AppState>) -> Json<Limits> {
    Json(s.risk.limits(&Scope::Global))
}

/// Replaces the default limits (audited).
#[utoipa::path(put, path = "/v1/limits/global", tag = "limits", request_body = LimitsBody,
    security(("bearer" = ["risk_officer"])),
    responses((status = 200, description = "The defaults now", body = Object),
              (status = 400, description = "Bad limits or actor", body = common::error::ErrorBody)))]
async fn set_global_limits(
    State(s): State<AppState>,
    caller: Caller,
    b: Result<Json<LimitsBody>, JsonRejection>,
) -> Result<Json<Limits>, ApiError> {
    let b = body(b)?;
    Ok(Json(
        s.risk
            .set_limits(Scope::Global, b.limits, actor(&caller, &b.actor)?)
            .await?,
    ))
}

/// An engaged kill switch.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct KillDto {
    scope: String,
    key: String,
    reason: String,
}

/// Every engaged kill switch.
#[utoipa::path(get, path = "/v1/kill-switches", tag = "kill switches",
    responses((status = 200, description = "Engaged kill switches", body = [KillDto])))]
async fn list_kill_switches(State(s): State<AppState>) -> Json<Vec<KillDto>> {
    Json(
        s.risk
            .kills()
            .into_iter()
            .map(|(sc, reason)| KillDto {
                scope: sc.name().to_owned(),
                key: sc.key().to_owned(),
                reason,
            })
            .collect(),
    )
}

/// Engaging or releasing a kill switch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KillBody {
    /// Who asks (audited; when tokens are checked, the token's user is audited instead).
    actor: String,
    engaged: bool,
    /// Why (required to engage).
    #[serde(default)]
    reason: String,
}

/// Engages or releases the kill switch of everything (`global/-`), an account or a strategy
/// (audited, published). An engaged switch rejects every new order in its scope.
#[utoipa::path(put, path = "/v1/kill-switches/{scope}/{key}", tag = "kill switches", request_body = KillBody,
    security(("bearer" = ["risk_officer"])),
    params(("scope" = String, Path, description = "`global`, `account` or `strategy`"),
           ("key" = String, Path, description = "The account or strategy id; `-` for global")),
    responses((status = 200, description = "Engaged kill switches now", body = [KillDto]),
              (status = 400, description = "Bad scope, reason or actor", body = common::error::ErrorBody)))]
async fn set_kill_switch(
    State(s): State<AppState>,
    caller: Caller,
    Path((sc, key)): Path<(String, String)>,
    b: Result<Json<KillBody>, JsonRejection>,
) -> Result<Json<Vec<KillDto>>, ApiError> {
    let b = body(b)?;
    let key = if sc == "global" && key == "-" {
        ""
    } else {
        key.as_str()
    };
    let scope = scope(&sc, key)?;
    s.risk
        .set_kill(scope, b.engaged, &b.reason, actor(&caller, &b.actor)?)
        .await?;
    Ok(list_kill_switches(State(s)).await)
}

/// What the monitor watches now: every account and strategy with exposure, today's P&L marked
/// to the last trade, its high and drawdown, initial margin, positions and how much of each
/// limit is used; the symbol breakers, the market-wide breaker and the halted symbols.
#[utoipa::path(get, path = "/v1/monitor", tag = "monitor",
    security(("bearer" = ["risk_officer", "ops"])),
    responses((status = 200, description = "The monitor's state", body = Monitor)))]
async fn monitor(State(s): State<AppState>) -> Json<Monitor> {
    Json(s.risk.monitor())
}

/// An account's exposure.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExposureDto {
    account: String,
    /// Holdings bought through QTS at cost plus open buys, VND.
    exposure: i64,
    open_orders: u32,
    /// Realised P&L today after fees and tax, VND.
    realised_today: i64,
}

/// What the risk service counts for an account now.
#[utoipa::path(get, path = "/v1/exposure/{account}", tag = "checks",
    params(("account" = String, Path, description = "Broker sub-account")),
    responses((status = 200, description = "Exposure", body = ExposureDto)))]
async fn exposure(
    State(s): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<ExposureDto>, ApiError> {
    common::auth::check_account(caller.as_ref().map(|axum::Extension(p)| p), &account)?;
    let (exposure, open_orders, realised_today) = s.risk.exposure(&account);
    Ok(Json(ExposureDto {
        account,
        exposure,
        open_orders,
        realised_today,
    }))
}

/// How much of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// 1 to 1000; default 100.
    limit: Option<u32>,
}

/// One audited change or rejection.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditDto {
    /// RFC 3339.
    at: String,
    actor: String,
    /// `limits`, `kill_switch` or `order_rejected`.
    action: String,
    scope: String,
    key: String,
    detail: String,
}

/// The audit trail, newest first: limits and kill switches changed, orders rejected.
#[utoipa::path(get, path = "/v1/audit", tag = "checks", params(AuditQuery),
    security(("bearer" = ["risk_officer", "ops"])),
    responses((status = 200, description = "Audit rows", body = [AuditDto])))]
async fn audit(
    State(s): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditDto>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let rows = crate::store::audit_trail(&s.db, limit)
        .await
        .map_err(Error::from)?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditDto {
                at: r.at.get().format(&Rfc3339).unwrap_or_default(),
                actor: r.actor,
                action: r.action,
                scope: r.scope,
                key: r.key,
                detail: r.detail,
            })
            .collect(),
    ))
}
