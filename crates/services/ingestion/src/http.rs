//! REST adapter: `GET /v1/status` and `GET /v1/snapshots?symbols=A,B`. The gRPC adapter
//! answers the same from the same views ([`status`], [`snapshots`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Channel, RejectReason, to_time};
use crate::state::Shared;

/// What the handlers share.
#[derive(Clone)]
pub struct Api {
    /// The tasks' state.
    pub shared: Arc<Shared>,
    /// Most symbols per snapshot request.
    pub max_symbols: usize,
}

/// The routes of this service, relative to its prefix.
pub fn routes(api: Api) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_status))
        .routes(routes!(get_snapshots))
        .with_state(api)
}

/// A counter with its label.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    /// Channel or reason.
    pub name: &'static str,
    /// Value since the instance started.
    pub value: u64,
}

/// The feed and this instance's counters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Status {
    /// `disabled` (no broker configured), `waiting` (for the next session), `connecting`,
    /// `connected`, `reconnecting`, `closed`.
    pub state: &'static str,
    /// The broker, e.g. `fastconnect-v2`; empty when disabled.
    pub source: String,
    /// What is subscribed.
    pub subscription: String,
    /// When `state` began (market clock).
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The next scheduled connect or disconnect (market clock).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_change: Option<OffsetDateTime>,
    /// The last raw message (market clock).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_message_at: Option<OffsetDateTime>,
    /// Raw messages received, by channel.
    pub received: Vec<Count>,
    /// Normalised messages published, by channel.
    pub published: Vec<Count>,
    /// Rejected messages, by reason (each in `market.rejected.v1`).
    pub rejected: Vec<Count>,
    /// Duplicates dropped, by channel.
    pub duplicates: Vec<Count>,
    /// Stream reconnects.
    pub reconnects: u64,
    /// Gaps (events may have been missed).
    pub gaps: u64,
    /// Securities known from master data.
    pub securities: u64,
    /// The trading day of the newest bands from master data.
    pub reference_day: Option<String>,
    /// The market clock now.
    #[serde(with = "time::serde::rfc3339")]
    pub market_time: OffsetDateTime,
}

/// The status view.
pub fn status(shared: &Shared) -> Status {
    let feed = shared.feed();
    let m = &shared.metrics;
    let by_channel = |v: &prometheus::IntCounterVec| {
        Channel::ALL
            .iter()
            .map(|c| Count {
                name: c.as_str(),
                value: v.with_label_values(&[c.as_str()]).get(),
            })
            .collect()
    };
    let (securities, reference_day) = {
        let refs = shared
            .references
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (
            refs.len() as u64,
            refs.latest_day().map(crate::domain::format_day),
        )
    };
    Status {
        state: feed.state,
        source: feed.source,
        subscription: feed.subscription,
        since: feed.since,
        next_change: feed.next_change,
        last_message_at: feed.last_message_at,
        received: by_channel(&m.received),
        published: by_channel(&m.published),
        rejected: RejectReason::ALL
            .iter()
            .map(|r| Count {
                name: r.as_str(),
                value: m.rejected.with_label_values(&[r.as_str()]).get(),
            })
            .collect(),
        duplicates: by_channel(&m.duplicates),
        reconnects: m.reconnects.get(),
        gaps: m.gaps.get(),
        securities,
        reference_day,
        market_time: shared.clock.now(),
    }
}

/// The feed connection, its subscriptions and counters.
#[utoipa::path(get, path = "/v1/status", tag = "ingestion",
    responses((status = 200, description = "The feed and its counters", body = Status)))]
async fn get_status(State(api): State<Api>) -> Json<Status> {
    Json(status(&api.shared))
}

/// `?symbols=SSI,FPT`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SnapshotQuery {
    /// Comma-separated symbols (1 to `api.max_symbols`, 500 by default).
    pub symbols: String,
}

/// One price level.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Level {
    /// Price (đồng; futures: tenths of a point).
    pub price: i64,
    /// Volume.
    pub volume: u64,
}

/// A symbol's latest state today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotView {
    /// Symbol.
    pub symbol: String,
    /// Trading day (YYYY-MM-DD).
    pub trading_day: String,
    /// Exchange, from master data.
    pub exchange: String,
    /// Best bids, best first.
    pub bids: Vec<Level>,
    /// Best asks, best first.
    pub asks: Vec<Level>,
    /// Last trade price (0 before the first trade).
    pub last_price: i64,
    /// Last trade quantity.
    pub last_quantity: u64,
    /// Last trade's exchange time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_time: Option<OffsetDateTime>,
    /// Day open from trades.
    pub open: i64,
    /// Day high.
    pub high: i64,
    /// Day low.
    pub low: i64,
    /// Day close so far.
    pub close: i64,
    /// Day volume.
    pub volume: u64,
    /// Foreign room left, when sent.
    pub foreign_room: Option<u64>,
    /// Total foreign room, when sent.
    pub foreign_total_room: Option<u64>,
    /// Latest status code.
    pub status: String,
}

/// Snapshots and what had none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Snapshots {
    /// Found, in request order.
    pub snapshots: Vec<SnapshotView>,
    /// Symbols this instance has seen nothing of.
    pub missing: Vec<String>,
}

/// Parses and checks a symbol list.
pub fn parse_symbols(list: &[String], max: usize) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for raw in list {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() {
            continue;
        }
        market::Symbol::parse(&s)
            .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("symbol {raw:?}: {e}")))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            "give at least one symbol, e.g. ?symbols=SSI,FPT",
        ));
    }
    if out.len() > max {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!("at most {max} symbols per request, got {}", out.len()),
        ));
    }
    Ok(out)
}

/// The snapshots view.
pub fn snapshots(shared: &Shared, symbols: &[String]) -> Snapshots {
    let (found, missing) = shared.snapshots(symbols);
    let levels = |v: &[proto::market::v1::Level]| {
        v.iter()
            .map(|l| Level {
                price: l.price,
                volume: l.volume,
            })
            .collect()
    };
    Snapshots {
        snapshots: found
            .into_iter()
            .map(|(symbol, s)| SnapshotView {
                symbol,
                trading_day: s.trading_day,
                exchange: s
                    .security
                    .as_ref()
                    .map(|r| r.exchange.clone())
                    .unwrap_or_default(),
                bids: s.quote.as_ref().map_or_else(Vec::new, |q| levels(&q.bids)),
                asks: s.quote.as_ref().map_or_else(Vec::new, |q| levels(&q.asks)),
                last_price: s.last_trade.as_ref().map_or(0, |t| t.price),
                last_quantity: s.last_trade.as_ref().map_or(0, |t| t.quantity),
                last_time: s
                    .last_trade
                    .as_ref()
                    .and_then(|t| t.exchange_time)
                    .map(to_time),
                open: s.ohlc[0],
                high: s.ohlc[1],
                low: s.ohlc[2],
                close: s.ohlc[3],
                volume: s.volume,
                foreign_room: s.foreign_room.as_ref().and_then(|r| r.current_room),
                foreign_total_room: s.foreign_room.as_ref().and_then(|r| r.total_room),
                status: s.status,
            })
            .collect(),
        missing,
    }
}

/// The latest quote, last trade, day OHLCV and foreign room of one or many symbols.
#[utoipa::path(get, path = "/v1/snapshots", tag = "ingestion", params(SnapshotQuery),
    responses((status = 200, description = "Snapshots", body = Snapshots),
              (status = 400, description = "No symbol, a bad symbol or too many", body = common::error::ErrorBody)))]
async fn get_snapshots(
    State(api): State<Api>,
    Query(query): Query<SnapshotQuery>,
) -> Result<Json<Snapshots>, ApiError> {
    let list: Vec<String> = query.symbols.split(',').map(str::to_owned).collect();
    let symbols = parse_symbols(&list, api.max_symbols)?;
    Ok(Json(snapshots(&api.shared, &symbols)))
}
