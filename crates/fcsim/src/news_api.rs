//! The simulated news site on the FC Data port: `GET /news/rss` (and `/news/rss.xml`), an
//! RSS 2.0 feed of `news` items published by the simulated now, and `GET /news/{id}`, one
//! item as an HTML page. Public, as a news site is: no token. Errors are plain text.
//!
//! Query of the feed: `lang=vi|en` (both by default), `symbol=HPG` (only items about it),
//! `limit=N` (1..=500, default 50).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::news::{self, Channel, Lang, NewsQuery};
use crate::rest::Params;
use crate::sim::Core;
use crate::universe::Universe;

pub(crate) fn router() -> Router<Arc<Core>> {
    Router::new()
        .route("/news/rss", get(feed))
        .route("/news/rss.xml", get(feed))
        .route("/news/{id}", get(item))
}

fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

/// Reads the feed's query; the message says what is wrong.
pub(crate) fn feed_query(query: Option<&str>, universe: &Universe) -> Result<NewsQuery, String> {
    let params = Params::parse(query);
    let lang = match params.get("lang") {
        None => None,
        Some(text) => {
            Some(Lang::parse(text).ok_or_else(|| format!("lang must be vi or en, got '{text}'"))?)
        }
    };
    let symbol = match params.get("symbol") {
        None => None,
        Some(text) => {
            let i = universe
                .find(text)
                .ok_or_else(|| format!("symbol '{text}' is not listed in the simulated market"))?;
            universe.instrument(i).map(|x| x.symbol.clone())
        }
    };
    let limit = match params.get("limit") {
        None => news::DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=news::MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                format!(
                    "limit must be a whole number from 1 to {}, got '{text}'",
                    news::MAX_LIMIT
                )
            })?,
    };
    Ok(NewsQuery {
        lang,
        symbol,
        limit,
    })
}

/// `http://<Host>`: the site the client asked, for the items' links (a Host with anything
/// but a host name and port falls back to `localhost`).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn feed(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = match feed_query(query.as_deref(), core.generator.universe()) {
        Ok(q) => q,
        Err(message) => return plain(StatusCode::BAD_REQUEST, message),
    };
    let base = base_url(&headers);
    let now = core.clock.now();
    let job = core.clone();
    // A day is a millisecond or so, but a rare symbol walks back a month of days.
    let written = tokio::task::spawn_blocking(move || {
        let items = news::latest(&job.generator, now, &query);
        news::rss(
            &items,
            &Channel {
                base_url: &base,
                lang: query.lang,
                symbol: query.symbol.as_deref(),
                built: now,
            },
        )
    })
    .await;
    match written {
        Ok(Ok(xml)) => (
            [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "fcsim: news feed not written");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the news feed failed")
        }
        Err(e) => {
            tracing::error!(error = %e, "fcsim: news feed task failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the news feed failed")
        }
    }
}

async fn item(State(core): State<Arc<Core>>, Path(id): Path<String>) -> Response {
    let now = core.clock.now();
    let job = core.clone();
    let found = tokio::task::spawn_blocking(move || news::find(&job.generator, &id, now)).await;
    match found {
        Ok(Some(item)) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            news::page(&item),
        )
            .into_response(),
        Ok(None) => plain(StatusCode::NOT_FOUND, "no such news item"),
        Err(e) => {
            tracing::error!(error = %e, "fcsim: news item task failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the news item failed")
        }
    }
}
