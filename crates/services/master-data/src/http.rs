//! HTTP adapter (`/api/master-data/v1/...`): validated, limited, paginated queries, manual
//! edits and the on-demand sync, documented with utoipa. Each handler converts the request,
//! calls one [`MasterData`] method and converts the answer.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{
    self, AuditEntry, DEFAULT_PAGE, Edit, Filter, Index, PageRequest, Security, SyncReport,
};
use crate::rules::{CalendarDay, HolidayView, TradingRules};
use crate::service::MasterData;
use crate::store::{format_day, parse_day};

type AppState = Arc<MasterData>;

/// The routes of this service (relative to its prefix).
pub(crate) fn routes(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_securities))
        .routes(routes!(get_security, edit_security))
        .routes(routes!(security_audit))
        .routes(routes!(security_rules))
        .routes(routes!(list_indexes))
        .routes(routes!(get_index))
        .routes(routes!(calendar))
        .routes(routes!(holidays))
        .routes(routes!(sync))
        .with_state(state)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Kind::InvalidArgument, message)
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q).map_err(|e| invalid(e.body_text()))
}

/// A security as served.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct SecurityDto {
    /// Ticker.
    pub symbol: String,
    /// `HOSE`, `HNX`, `UPCOM`, `DER`.
    pub exchange: String,
    /// `market::InstrumentKind` name.
    pub kind: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Sector.
    pub sector: String,
    /// `market::SecurityStatus` name.
    pub status: String,
    /// Round lot.
    pub lot_size: u64,
    /// Listed shares (0 when unknown).
    pub listed_shares: u64,
    /// Foreign room left.
    pub foreign_room: Option<u64>,
    /// The band's trading day.
    pub trading_day: Option<String>,
    /// Reference.
    pub reference: Option<i64>,
    /// Ceiling.
    pub ceiling: Option<i64>,
    /// Floor.
    pub floor: Option<i64>,
    /// Whether master data derived the band (the broker had none for the day yet).
    pub band_derived: bool,
    /// Index codes.
    pub indexes: Vec<String>,
    /// Fields set by manual edits (a sync leaves them alone).
    pub pinned: Vec<String>,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

impl From<Security> for SecurityDto {
    fn from(s: Security) -> Self {
        let band = s.band;
        Self {
            symbol: s.symbol.as_str().to_owned(),
            exchange: s.exchange.ssi_code().to_owned(),
            kind: domain::kind_name(s.kind).to_owned(),
            name: s.name,
            name_en: s.name_en,
            sector: s.sector,
            status: domain::status_name(s.status).to_owned(),
            lot_size: s.lot_size,
            listed_shares: s.listed_shares,
            foreign_room: s.foreign_room,
            trading_day: band.map(|b| format_day(b.day)),
            reference: band.map(|b| b.limits.reference.units()),
            ceiling: band.map(|b| b.limits.ceiling.units()),
            floor: band.map(|b| b.limits.floor.units()),
            band_derived: band.is_some_and(|b| b.derived),
            indexes: s.indexes,
            pinned: s.pinned.iter().map(|f| f.as_str().to_owned()).collect(),
            updated_at: s
                .updated_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }
}

/// Filters and paging of the securities list; every filter is optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// `HOSE`, `HNX`, `UPCOM`, `DER`.
    pub exchange: Option<String>,
    /// A board the security trades on: `main`, `odd_lot`, `put_through`.
    pub board: Option<String>,
    /// Index code.
    pub index: Option<String>,
    /// `market::SecurityStatus` name.
    pub status: Option<String>,
    /// Sector, exactly.
    pub sector: Option<String>,
    /// `market::InstrumentKind` name.
    pub kind: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of securities.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct SecurityPage {
    /// The securities, by symbol.
    pub securities: Vec<SecurityDto>,
    /// The cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// The filter of listing parameters (shared with gRPC).
pub(crate) fn filter(
    exchange: Option<&str>,
    board: Option<&str>,
    index: Option<&str>,
    status: Option<&str>,
    sector: Option<&str>,
    kind: Option<&str>,
) -> Result<Filter, ApiError> {
    Ok(Filter {
        exchange: exchange
            .map(|e| {
                e.parse()
                    .map_err(|_| invalid(format!("unknown exchange {e:?}")))
            })
            .transpose()?,
        board: board
            .map(|b| {
                b.parse()
                    .map_err(|_| invalid(format!("unknown board {b:?}")))
            })
            .transpose()?,
        index: index.map(|i| i.to_ascii_uppercase()),
        status: status
            .map(|s| {
                domain::parse_status(s).ok_or_else(|| invalid(format!("unknown status {s:?}")))
            })
            .transpose()?,
        sector: sector.map(str::to_owned),
        kind: kind
            .map(|k| domain::parse_kind(k).ok_or_else(|| invalid(format!("unknown kind {k:?}"))))
            .transpose()?,
    })
}

/// Securities matching every filter, by symbol, one page at a time.
#[utoipa::path(get, path = "/v1/securities", tag = "securities", params(ListQuery),
    responses((status = 200, description = "A page of securities", body = SecurityPage)))]
async fn list_securities(
    State(md): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<SecurityPage>, ApiError> {
    let q = query(q)?;
    let filter = filter(
        nonempty(&q.exchange),
        nonempty(&q.board),
        nonempty(&q.index),
        nonempty(&q.status),
        nonempty(&q.sector),
        nonempty(&q.kind),
    )?;
    let page = PageRequest {
        limit: q.limit.unwrap_or(DEFAULT_PAGE),
        after: nonempty(&q.cursor).map(str::to_owned),
    };
    let (rows, next_cursor) = md.securities(&filter, &page).await?;
    Ok(Json(SecurityPage {
        securities: rows.into_iter().map(SecurityDto::from).collect(),
        next_cursor,
    }))
}

/// One security.
#[utoipa::path(get, path = "/v1/securities/{symbol}", tag = "securities",
    params(("symbol" = String, Path, description = "Ticker")),
    responses((status = 200, description = "The security", body = SecurityDto)))]
async fn get_security(
    State(md): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Json<SecurityDto>, ApiError> {
    Ok(Json(md.security(&symbol).await?.into()))
}

/// A manual edit.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditDto {
    /// Who edits, when tokens are not checked; with tokens, the token's user is audited.
    #[serde(default)]
    pub actor: String,
    /// New name.
    pub name: Option<String>,
    /// New sector.
    pub sector: Option<String>,
    /// New `market::SecurityStatus` name.
    pub status: Option<String>,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// The domain edit of an edit request (shared with gRPC).
pub(crate) fn edit_of(
    actor: String,
    name: Option<String>,
    sector: Option<String>,
    status: Option<String>,
    reason: String,
) -> Result<Edit, ApiError> {
    Ok(Edit {
        actor,
        name,
        sector,
        status: status
            .map(|s| {
                domain::parse_status(&s).ok_or_else(|| invalid(format!("unknown status {s:?}")))
            })
            .transpose()?,
        reason,
    })
}

/// Edits name, sector or status by hand: audited, published to `masterdata.security.v1`, and
/// kept by later syncs.
#[utoipa::path(patch, path = "/v1/securities/{symbol}", tag = "securities",
    security(("bearer" = ["ops"])),
    params(("symbol" = String, Path, description = "Ticker")), request_body = EditDto,
    responses((status = 200, description = "The security after the edit", body = SecurityDto)))]
async fn edit_security(
    State(md): State<AppState>,
    caller: Option<axum::Extension<common::auth::Principal>>,
    Path(symbol): Path<String>,
    body: Result<Json<EditDto>, JsonRejection>,
) -> Result<Json<SecurityDto>, ApiError> {
    let Json(b) = body.map_err(|e| invalid(e.body_text()))?;
    let actor = caller.map_or(b.actor, |axum::Extension(p)| p.username);
    let edit = edit_of(actor, b.name, b.sector, b.status, b.reason)?;
    Ok(Json(md.edit(&symbol, edit).await?.into()))
}

/// `limit` of an audit or page query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitQuery {
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One audited edit.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct AuditDto {
    /// Sequence.
    pub id: i64,
    /// Security.
    pub symbol: String,
    /// Who.
    pub actor: String,
    /// When, RFC 3339.
    pub at: String,
    /// The edited fields before.
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    /// The edited fields after.
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    /// Why.
    pub reason: String,
}

impl From<AuditEntry> for AuditDto {
    fn from(a: AuditEntry) -> Self {
        Self {
            id: a.id,
            symbol: a.symbol,
            actor: a.actor,
            at: a
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            before: a.before,
            after: a.after,
            reason: a.reason,
        }
    }
}

/// The audit trail of one security's manual edits, newest first.
#[utoipa::path(get, path = "/v1/securities/{symbol}/audit", tag = "securities",
    params(("symbol" = String, Path, description = "Ticker"), LimitQuery),
    responses((status = 200, description = "Edits, newest first", body = Vec<AuditDto>)))]
async fn security_audit(
    State(md): State<AppState>,
    Path(symbol): Path<String>,
    q: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditDto>>, ApiError> {
    let q = query(q)?;
    let rows = md.audit(&symbol, q.limit.unwrap_or(DEFAULT_PAGE)).await?;
    Ok(Json(rows.into_iter().map(AuditDto::from).collect()))
}

/// `price` of a rules query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesQuery {
    /// A price to give the tick of.
    pub price: Option<i64>,
}

/// The security's trading rules now: ticks, lot, band, sessions, order types, settlement.
#[utoipa::path(get, path = "/v1/securities/{symbol}/rules", tag = "securities",
    params(("symbol" = String, Path, description = "Ticker"), RulesQuery),
    responses((status = 200, description = "Trading rules", body = TradingRules)))]
async fn security_rules(
    State(md): State<AppState>,
    Path(symbol): Path<String>,
    q: Result<Query<RulesQuery>, QueryRejection>,
) -> Result<Json<TradingRules>, ApiError> {
    let q = query(q)?;
    Ok(Json(md.trading_rules(&symbol, q.price).await?))
}

/// `exchange` filter of the index list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndexQuery {
    /// `HOSE` or `HNX`.
    pub exchange: Option<String>,
}

/// An index and its constituents.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct IndexDto {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Exchange.
    pub exchange: String,
    /// Constituents, sorted.
    pub members: Vec<String>,
}

impl From<Index> for IndexDto {
    fn from(i: Index) -> Self {
        Self {
            code: i.code,
            name: i.name,
            exchange: i.exchange,
            members: i.members,
        }
    }
}

/// Every index with its constituents.
#[utoipa::path(get, path = "/v1/indexes", tag = "indexes", params(IndexQuery),
    responses((status = 200, description = "Indexes", body = Vec<IndexDto>)))]
async fn list_indexes(
    State(md): State<AppState>,
    q: Result<Query<IndexQuery>, QueryRejection>,
) -> Result<Json<Vec<IndexDto>>, ApiError> {
    let q = query(q)?;
    let exchange = nonempty(&q.exchange)
        .map(|e| {
            e.parse()
                .map_err(|_| invalid(format!("unknown exchange {e:?}")))
        })
        .transpose()?;
    let rows = md.indexes(exchange).await?;
    Ok(Json(rows.into_iter().map(IndexDto::from).collect()))
}

/// One index with its constituents.
#[utoipa::path(get, path = "/v1/indexes/{code}", tag = "indexes",
    params(("code" = String, Path, description = "Index code")),
    responses((status = 200, description = "The index", body = IndexDto)))]
async fn get_index(
    State(md): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<IndexDto>, ApiError> {
    Ok(Json(md.index(&code).await?.into()))
}

/// `date` of a calendar query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct DateQuery {
    /// `YYYY-MM-DD`; today by the market clock when absent.
    pub date: Option<String>,
}

/// One date of the trading calendar: trading day or not, neighbours, every board's sessions.
#[utoipa::path(get, path = "/v1/calendar", tag = "calendar", params(DateQuery),
    responses((status = 200, description = "The date", body = CalendarDay)))]
async fn calendar(
    State(md): State<AppState>,
    q: Result<Query<DateQuery>, QueryRejection>,
) -> Result<Json<CalendarDay>, ApiError> {
    let q = query(q)?;
    let date = nonempty(&q.date)
        .map(|d| parse_day(d).ok_or_else(|| invalid(format!("date {d:?} is not YYYY-MM-DD"))))
        .transpose()?;
    Ok(Json(md.calendar_day(date)))
}

/// `year` of a holidays query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct YearQuery {
    /// The year.
    pub year: i32,
}

/// The exchange holidays of a year.
#[utoipa::path(get, path = "/v1/calendar/holidays", tag = "calendar", params(YearQuery),
    responses((status = 200, description = "Holidays", body = Vec<HolidayView>)))]
async fn holidays(
    State(md): State<AppState>,
    q: Result<Query<YearQuery>, QueryRejection>,
) -> Result<Json<Vec<HolidayView>>, ApiError> {
    let q = query(q)?;
    Ok(Json(md.holidays(q.year)?))
}

/// An on-demand sync.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncDto {
    /// The trading day, `YYYY-MM-DD`; the current (or next) trading day when absent.
    pub trading_day: Option<String>,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct SyncReportDto {
    /// The trading day synced for.
    pub trading_day: String,
    /// Securities the broker listed.
    pub securities: u32,
    /// Securities whose record changed (published).
    pub changed: u32,
    /// Bands derived with `market`'s rules.
    pub derived: u32,
    /// Indexes stored.
    pub indexes: u32,
    /// What could not be synced.
    pub warnings: Vec<String>,
}

impl From<SyncReport> for SyncReportDto {
    fn from(r: SyncReport) -> Self {
        Self {
            trading_day: format_day(r.trading_day),
            securities: r.securities,
            changed: r.changed,
            derived: r.derived,
            indexes: r.indexes,
            warnings: r.warnings,
        }
    }
}

/// Syncs from the broker now (`failed_precondition` without a configured broker).
#[utoipa::path(post, path = "/v1/sync", tag = "sync",
    security(("bearer" = ["ops"])), request_body = SyncDto,
    responses((status = 200, description = "What the sync did", body = SyncReportDto)))]
async fn sync(
    State(md): State<AppState>,
    body: Result<Json<SyncDto>, JsonRejection>,
) -> Result<Json<SyncReportDto>, ApiError> {
    let Json(b) = body.map_err(|e| invalid(e.body_text()))?;
    let day = nonempty(&b.trading_day)
        .map(|d| {
            parse_day(d).ok_or_else(|| invalid(format!("trading_day {d:?} is not YYYY-MM-DD")))
        })
        .transpose()?;
    Ok(Json(md.sync(day).await?.into()))
}
