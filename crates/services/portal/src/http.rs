//! HTTP adapter: the web app (its page and assets, public: it signs in through the SSO-UI) and
//! the board (a snapshot, then the changed rows as a stream), for any signed-in user.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::error::{ApiError, Kind};
use common::shutdown::CancellationToken;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::board::{Board, Row, Tick};
use crate::settings::BoardSettings;
use proto::historical::v1 as historical_pb;
use proto::historical::v1::historical_service_client::HistoricalServiceClient;
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use proto::oms::v1::oms_service_client::OmsServiceClient;
use proto::risk::v1::risk_service_client::RiskServiceClient;

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) board: Arc<Board>,
    /// The OMS's order and fill events, for the orders streams.
    pub(crate) activity: Arc<crate::activity::Activity>,
    /// Bars for the charts.
    pub(crate) historical: HistoricalServiceClient<common::grpc::Channel>,
    /// Trading rules for the order ticket.
    pub(crate) master_data: MasterDataServiceClient<common::grpc::Channel>,
    /// The order ticket's dry-run verdicts.
    pub(crate) risk: RiskServiceClient<common::grpc::Channel>,
    /// The order ticket's costs, max quantities and session; the user's accounts.
    pub(crate) oms: OmsServiceClient<common::grpc::Channel>,
    /// One backtest at a time.
    pub(crate) backtests: Arc<Semaphore>,
    pub(crate) settings: BoardSettings,
    pub(crate) streams: Arc<Semaphore>,
    /// Ends the streams when the service stops.
    pub(crate) stopping: CancellationToken,
}

/// The service's routes. Answers are gzipped when the browser accepts it (the board snapshot
/// is ~500 KB of JSON), except the board's stream: a compressor holds lines back until it has
/// enough to compress.
pub(crate) fn router(api: Api) -> OpenApiRouter {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate as _};
    let compress = tower_http::compression::CompressionLayer::new().compress_when(
        DefaultPredicate::new().and(NotForContentType::const_new("application/x-ndjson")),
    );
    OpenApiRouter::new()
        .routes(routes!(app))
        .routes(routes!(asset))
        .routes(routes!(board))
        .routes(routes!(board_stream))
        .routes(routes!(symbol))
        .routes(routes!(bars))
        .routes(routes!(crate::ticket::me))
        .routes(routes!(crate::ticket::preview))
        .routes(routes!(crate::backtests::run))
        .routes(routes!(orders_stream))
        .layer(compress)
        .with_state(api)
}

// ----- the web app ---------------------------------------------------------------------------

/// An embedded file of the web app: its bytes, type and entity tag.
struct Asset {
    body: &'static str,
    content_type: &'static str,
}

const INDEX: Asset = Asset {
    body: include_str!("../assets/index.html"),
    content_type: "text/html; charset=utf-8",
};

fn find(name: &str) -> Option<Asset> {
    match name {
        "app.js" => Some(Asset {
            body: include_str!("../assets/app.js"),
            content_type: "text/javascript; charset=utf-8",
        }),
        "app.css" => Some(Asset {
            body: include_str!("../assets/app.css"),
            content_type: "text/css; charset=utf-8",
        }),
        // TradingView Lightweight Charts 5.2.1, Apache-2.0 (assets/vendor/LICENSE-lightweight-charts),
        // the published standalone ES module, unchanged.
        "lightweight-charts.mjs" => Some(Asset {
            body: include_str!("../assets/vendor/lightweight-charts.mjs"),
            content_type: "text/javascript; charset=utf-8",
        }),
        "LICENSE-lightweight-charts" => Some(Asset {
            body: include_str!("../assets/vendor/LICENSE-lightweight-charts"),
            content_type: "text/plain; charset=utf-8",
        }),
        _ => None,
    }
}

/// The page's security headers: nothing from another origin, no inline script, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    // The build's content: a hash of it as the entity tag, so a reload revalidates for free.
    let tag = format!("\"{:016x}\"", fnv1a(asset.body.as_bytes()));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// FNV-1a, 64 bits: an entity tag, not a security measure.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The trader portal's web app (it signs in through the SSO-UI pages).
#[utoipa::path(get, path = "/app", tag = "app", security(()),
    responses((status = 200, description = "The page", content_type = "text/html")))]
async fn app(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

/// A script or stylesheet of the web app.
#[utoipa::path(get, path = "/assets/{name}", tag = "app", security(()),
    params(("name" = String, Path, description = "app.js or app.css")),
    responses((status = 200, description = "The file"), (status = 404, description = "No such file")))]
async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let asset =
        find(&name).ok_or_else(|| ApiError::new(Kind::NotFound, format!("no asset {name:?}")))?;
    Ok(serve(&asset, &headers))
}

// ----- the board -------------------------------------------------------------------------------

/// The whole board.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BoardDto {
    /// The sequence number the rows are current to: follow the changes from it.
    seq: u64,
    /// Every security, by symbol.
    rows: Vec<Row>,
}

/// Every security on the board: reference, ceiling and floor, the three best bids and asks,
/// the last trade, the day's volume, high and low, the foreign room. Any signed-in user.
#[utoipa::path(get, path = "/v1/board", tag = "board", security(("bearer" = [])),
    responses((status = 200, description = "The board", body = BoardDto)))]
async fn board(State(api): State<Api>) -> Json<BoardDto> {
    let (seq, rows) = api.board.snapshot();
    Json(BoardDto { seq, rows })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    /// The sequence number of the snapshot (or of the last change) the caller holds.
    since: u64,
}

/// One line of the stream.
#[derive(Debug, Serialize)]
struct Changes<'a> {
    seq: u64,
    rows: &'a [Row],
}

/// The board's changes as they happen, as newline-delimited JSON: `{"seq": N, "rows": [...]}`
/// with the rows changed since the last line (at most one line per `board.stream_interval_ms`),
/// an empty line every `board.heartbeat_secs` when nothing changes, and `{"reset": true}` when
/// `since` is from an earlier instance (take a new snapshot). Any signed-in user; at most
/// `board.max_streams` at once.
#[utoipa::path(get, path = "/v1/board/stream", tag = "board", security(("bearer" = [])),
    params(StreamQuery),
    responses((status = 200, description = "Newline-delimited JSON, until the client goes", content_type = "application/x-ndjson"),
        (status = 503, description = "Too many streams")))]
async fn board_stream(
    State(api): State<Api>,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        q.map_err(|e| ApiError::new(Kind::InvalidArgument, format!("query: {}", e.body_text())))?;
    let permit = stream_permit(&api, "board")?;
    let reset = q.since < api.board.base();
    let state = StreamState {
        api: api.clone(),
        changed: api.board.subscribe(),
        last: q.since,
        reset,
        _permit: permit,
    };
    let body = futures::stream::unfold(state, |mut s| async move {
        let line = s.next().await?;
        Some((Ok::<_, std::convert::Infallible>(line), s))
    });
    Ok(ndjson(body))
}

/// The caller's order changes and fills as they happen, one JSON line each
/// (`{"kind":"order"|"fill","account","order_id","symbol","status"}`), an empty line as a
/// heartbeat, `{"reset":true}` when this stream fell behind (reload everything). Only the
/// accounts the caller may see.
#[utoipa::path(get, path = "/v1/orders/stream", tag = "trading", security(("bearer" = [])),
    responses((status = 200, description = "NDJSON: order and fill events", content_type = "application/x-ndjson", body = String),
              (status = 503, description = "Too many streams open", body = common::error::ErrorBody)))]
async fn orders_stream(
    State(api): State<Api>,
    caller: Option<axum::Extension<common::auth::Principal>>,
) -> Result<Response, ApiError> {
    let permit = stream_permit(&api, "board and orders")?;
    let caller = caller.map(|axum::Extension(p)| p);
    let heartbeat = Duration::from_secs(api.settings.heartbeat_secs);
    let state = (api.activity.subscribe(), api.stopping.clone(), permit);
    let body = futures::stream::unfold(state, move |(mut rx, stopping, permit)| {
        let caller = caller.clone();
        async move {
            use tokio::sync::broadcast::error::RecvError;
            // From the last line sent: other accounts' events do not put the heartbeat off.
            let quiet_until = tokio::time::Instant::now() + heartbeat;
            loop {
                let line = tokio::select! {
                    () = stopping.cancelled() => return None,
                    () = tokio::time::sleep_until(quiet_until) => Bytes::from_static(b"\n"),
                    note = rx.recv() => match note {
                        Ok(n) if caller.as_ref().is_none_or(|p| p.may_access(&n.account)) => {
                            let mut line = serde_json::to_vec(&n).ok()?;
                            line.push(b'\n');
                            Bytes::from(line)
                        }
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => Bytes::from_static(b"{\"reset\":true}\n"),
                        Err(RecvError::Closed) => return None,
                    },
                };
                return Some((
                    Ok::<_, std::convert::Infallible>(line),
                    (rx, stopping, permit),
                ));
            }
        }
    });
    Ok(ndjson(body))
}

/// A slot of the instance's streams (`board.max_streams`, shared by the board and the orders
/// streams); 503 when all are taken.
fn stream_permit(api: &Api, what: &str) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    api.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            Kind::Unavailable,
            format!(
                "{} {what} streams are open, the most this instance serves; retry later",
                api.settings.max_streams
            ),
        )
    })
}

/// A stream of JSON lines, never cached, passed on by proxies (nginx) line by line.
fn ndjson(
    lines: impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
) -> Response {
    let mut r = Body::from_stream(lines).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

struct StreamState {
    api: Api,
    changed: tokio::sync::watch::Receiver<u64>,
    last: u64,
    reset: bool,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl StreamState {
    /// The next line; `None` ends the stream (the service stops).
    async fn next(&mut self) -> Option<Bytes> {
        if std::mem::take(&mut self.reset) {
            // The caller takes a new snapshot; the changes go on from now, not from its
            // number of an earlier instance (that would be every row again).
            self.last = *self.changed.borrow_and_update();
            return Some(Bytes::from_static(b"{\"reset\":true}\n"));
        }
        let interval = Duration::from_millis(self.api.settings.stream_interval_ms);
        let heartbeat = Duration::from_secs(self.api.settings.heartbeat_secs);
        loop {
            if *self.changed.borrow_and_update() > self.last {
                // Gather what else changes within the interval into the same line.
                tokio::select! {
                    () = self.api.stopping.cancelled() => return None,
                    () = tokio::time::sleep(interval) => {}
                }
                let (seq, rows) = self.api.board.since(self.last);
                self.last = seq;
                if rows.is_empty() {
                    continue;
                }
                let mut line = serde_json::to_vec(&Changes { seq, rows: &rows }).ok()?;
                line.push(b'\n');
                return Some(Bytes::from(line));
            }
            tokio::select! {
                () = self.api.stopping.cancelled() => return None,
                changed = self.changed.changed() => changed.ok()?,
                () = tokio::time::sleep(heartbeat) => return Some(Bytes::from_static(b"\n")),
            }
        }
    }
}

// ----- one symbol ------------------------------------------------------------------------------

/// One symbol: its board row and its latest trades.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SymbolDto {
    row: Row,
    /// Time and sales, newest first (at most 50).
    trades: Vec<Tick>,
}

pub(crate) fn check_symbol(symbol: &str) -> Result<(), ApiError> {
    let ok = (1..=20).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            Kind::InvalidArgument,
            format!("symbol {symbol:?}: 1 to 20 of A-Z, 0-9"),
        ))
    }
}

/// A symbol's board row (prices, depth, totals) and its time and sales. Any signed-in user.
#[utoipa::path(get, path = "/v1/symbols/{symbol}", tag = "board", security(("bearer" = [])),
    params(("symbol" = String, Path, description = "e.g. SSI")),
    responses((status = 200, description = "The symbol", body = SymbolDto),
        (status = 404, description = "Not on the board")))]
async fn symbol(
    State(api): State<Api>,
    Path(symbol): Path<String>,
) -> Result<Json<SymbolDto>, ApiError> {
    check_symbol(&symbol)?;
    let (row, trades) = api
        .board
        .symbol(&symbol)
        .ok_or_else(|| ApiError::new(Kind::NotFound, format!("{symbol} is not on the board")))?;
    Ok(Json(SymbolDto { row, trades }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct BarsQuery {
    /// `1m`, `5m`, `15m`, `30m`, `1h` or `1D`.
    resolution: String,
    /// RFC 3339 instant or YYYY-MM-DD (Vietnam time).
    from: String,
    /// RFC 3339 instant or YYYY-MM-DD (a day is included whole).
    to: String,
}

/// One candle.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BarDto {
    /// Start, Unix seconds.
    t: i64,
    o: i64,
    h: i64,
    l: i64,
    c: i64,
    v: u64,
}

/// A symbol's candles from the historical service, oldest first. Any signed-in user.
#[utoipa::path(get, path = "/v1/symbols/{symbol}/bars", tag = "board", security(("bearer" = [])),
    params(("symbol" = String, Path, description = "e.g. SSI"), BarsQuery),
    responses((status = 200, description = "Oldest first", body = [BarDto])))]
async fn bars(
    State(mut api): State<Api>,
    Path(symbol): Path<String>,
    q: Result<Query<BarsQuery>, QueryRejection>,
) -> Result<Json<Vec<BarDto>>, ApiError> {
    check_symbol(&symbol)?;
    let Query(q) =
        q.map_err(|e| ApiError::new(Kind::InvalidArgument, format!("query: {}", e.body_text())))?;
    if !matches!(
        q.resolution.as_str(),
        "1m" | "5m" | "15m" | "30m" | "1h" | "1D"
    ) {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            format!(
                "resolution {:?}: one of 1m, 5m, 15m, 30m, 1h, 1D",
                q.resolution
            ),
        ));
    }
    if q.from.len() > 40 || q.to.len() > 40 {
        return Err(ApiError::new(
            Kind::InvalidArgument,
            "from and to: an RFC 3339 instant or a YYYY-MM-DD day",
        ));
    }
    let answer = api
        .historical
        .get_bars(historical_pb::GetBarsRequest {
            symbol,
            resolution: q.resolution,
            from: q.from,
            to: q.to,
        })
        .await
        .map_err(|status| from_peer("the historical service", &status))?;
    Ok(Json(
        answer
            .into_inner()
            .bars
            .into_iter()
            .map(|b| BarDto {
                t: b.start.map_or(0, |s| s.seconds),
                o: b.open,
                h: b.high,
                l: b.low,
                c: b.close,
                v: b.volume,
            })
            .collect(),
    ))
}

/// A peer's refusal as this API's error: what the caller can fix passes on, the rest is the
/// portal's upstream (`peer`, e.g. "the OMS") being unavailable.
pub(crate) fn from_peer(peer: &str, status: &tonic::Status) -> ApiError {
    let (kind, what) = match status.code() {
        tonic::Code::InvalidArgument => (Kind::InvalidArgument, status.message().to_owned()),
        tonic::Code::NotFound => (Kind::NotFound, status.message().to_owned()),
        tonic::Code::ResourceExhausted => (Kind::ResourceExhausted, status.message().to_owned()),
        tonic::Code::PermissionDenied => (Kind::PermissionDenied, status.message().to_owned()),
        tonic::Code::FailedPrecondition => (
            Kind::FailedPrecondition,
            format!("{peer}: {}", status.message()),
        ),
        tonic::Code::Ok
        | tonic::Code::Cancelled
        | tonic::Code::Unknown
        | tonic::Code::DeadlineExceeded
        | tonic::Code::AlreadyExists
        | tonic::Code::Aborted
        | tonic::Code::OutOfRange
        | tonic::Code::Unimplemented
        | tonic::Code::Internal
        | tonic::Code::Unavailable
        | tonic::Code::DataLoss
        | tonic::Code::Unauthenticated => (
            Kind::Unavailable,
            format!("{peer}: {:?} {}", status.code(), status.message()),
        ),
    };
    ApiError::new(kind, what)
}
