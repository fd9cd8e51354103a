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

use crate::board::{Board, Row};
use crate::settings::BoardSettings;

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) board: Arc<Board>,
    pub(crate) settings: BoardSettings,
    pub(crate) streams: Arc<Semaphore>,
    /// Ends the streams when the service stops.
    pub(crate) stopping: CancellationToken,
}

/// The service's routes.
pub(crate) fn router(api: Api) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(app))
        .routes(routes!(asset))
        .routes(routes!(board))
        .routes(routes!(board_stream))
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
    let permit = api.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            Kind::Unavailable,
            format!(
                "{} board streams are open, the most this instance serves; retry later",
                api.settings.max_streams
            ),
        )
    })?;
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
    let mut r = Body::from_stream(body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies (nginx) pass each line on at once.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(r)
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
