//! The HTTP server under both APIs: hyper's HTTP/1.1 (what SSI and its SDKs speak) with a
//! header read timeout (a connection that has not sent a whole request head within
//! `header_read_timeout_ms`, from its start or between keep-alive requests, is closed),
//! websocket upgrades, and graceful shutdown; plus the request body limit answered in
//! SSI's envelope.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::rest::ApiError;

/// How long a stop waits for open requests to finish.
const DRAIN: Duration = Duration::from_secs(5);

/// What the server bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_read_timeout: Duration,
}

impl Limits {
    pub(crate) fn of(config: &crate::SimConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
        }
    }
}

/// The stop signal of the server a request came through, for websocket sessions: an
/// upgraded socket outlives its HTTP connection, so each hub session ends with its server
/// ([`Closing::run`]) instead of lingering after a stop.
#[derive(Debug, Clone)]
pub(crate) struct Closing(CancellationToken);

impl Closing {
    /// Runs `session` until it ends or the server stops (the socket is then dropped, and
    /// the client sees the connection close).
    pub(crate) async fn run(self, session: impl std::future::Future<Output = ()>) {
        tokio::select! {
            () = session => {}
            () = self.0.cancelled() => {}
        }
    }
}

/// A connection's byte stream: plain TCP or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Serves `router` on `listener` until `cancel` fires, then lets open requests finish
/// (at most [`DRAIN`]).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    serve_with(listener, router, limits, cancel, None).await
}

/// [`serve`] over TLS: each connection's handshake must finish within the header read
/// timeout.
pub(crate) async fn serve_tls(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    cancel: CancellationToken,
    tls: std::sync::Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    serve_with(listener, router, limits, cancel, Some(acceptor)).await
}

async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    cancel: CancellationToken,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // Connections watch `stop`; each holds a `done` receiver until it has finished.
    let router = router.layer(axum::Extension(Closing(cancel.clone())));
    let (stop, _) = tokio::sync::watch::channel(());
    let (done_tx, done) = tokio::sync::watch::channel(());
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "fcsim: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(|req: axum::http::Request<Incoming>| req.map(Body::new)),
        );
        let builder = builder.clone();
        let tls = tls.clone();
        let mut stopping = stop.subscribe();
        let finished = done.clone();
        tokio::spawn(async move {
            let io: Box<dyn Io> = match tls {
                None => Box::new(stream),
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(s)) => Box::new(s),
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "fcsim: TLS handshake failed");
                            drop(finished);
                            return;
                        }
                        Err(_) => {
                            drop(finished);
                            return;
                        }
                    }
                }
            };
            let conn = builder
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let mut draining = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = stopping.changed(), if !draining => {
                        draining = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(finished);
        });
    }
    drop(listener);
    drop(done);
    let _ = stop.send(());
    tokio::select! {
        () = done_tx.closed() => {}
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!("fcsim: requests still open after the drain period; closing them");
        }
    }
    Ok(())
}

/// Reads a request body of at most `limit` bytes; a larger one is SSI's envelope with
/// status 413.
pub(crate) async fn body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_big = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_big {
            ApiError {
                http: StatusCode::PAYLOAD_TOO_LARGE,
                status: json!(413),
                message: format!("The request body is larger than {limit} bytes"),
            }
        } else {
            ApiError::bad(format!("The request body could not be read: {e}"))
        }
    })
}
