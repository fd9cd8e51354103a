//! Accept loops that bound what a connection can hold before it sends a request.
//!
//! HTTP ([`serve_http`]): HTTP/1.1 through hyper with a header-read timeout, so a connection
//! that never finishes its request headers, and a keep-alive connection idle for that long, is
//! closed; graceful shutdown lets requests in flight finish. (`axum::serve` does not expose the
//! timeout; HTTP/2 is not offered on these ports: Nginx and the gateway speak HTTP/1.1 to them,
//! and gRPC has its own port.)
//!
//! gRPC ([`grpc_incoming`]): tonic's accept stream with a deadline for the HTTP/2 preface, so a
//! connection that never starts HTTP/2 is closed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use futures::{Stream, StreamExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` is cancelled, then stops
/// accepting and waits for the open connections to finish their requests.
///
/// A connection is closed when its request headers are not complete `header_read_timeout`
/// after it opened or after its previous response (idle keep-alive).
pub async fn serve_http(
    mut listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer): (TcpStream, SocketAddr) = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            // axum's accept retries (and logs) failed accepts, e.g. when out of file descriptors.
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %crate::error::chain(&err), "cannot set TCP_NODELAY");
        }
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http1.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                // Timeouts and resets by the peer end here; nothing the service can act on.
                tracing::debug!(%peer, error = %crate::error::chain(&err), "connection closed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The accepted connections of `listener`, each closed unless its HTTP/2 preface arrives
/// within `preface_timeout`: what `serve_with_incoming_shutdown` takes.
pub fn grpc_incoming(
    listener: TcpListener,
    preface_timeout: Duration,
) -> impl Stream<Item = io::Result<PrefaceDeadline>> {
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(move |accepted| {
        accepted.map(|stream| {
            // Small request/response frames must not wait for Nagle.
            let _ = stream.set_nodelay(true);
            PrefaceDeadline::new(stream, preface_timeout)
        })
    })
}

/// The bytes a client sends first on an HTTP/2 connection (RFC 9113 §3.4).
const PREFACE_LEN: usize = 24;

/// A TCP stream whose reads fail with `TimedOut` if the first 24 bytes (the preface) have not
/// arrived by the deadline; after them it is the plain stream.
pub struct PrefaceDeadline {
    inner: TcpStream,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    received: usize,
}

impl PrefaceDeadline {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            received: 0,
        }
    }
}

impl AsyncRead for PrefaceDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let Some(deadline) = this.deadline.as_mut() else {
            return polled;
        };
        match polled {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().len() - before;
                this.received += read;
                if read == 0 || this.received >= PREFACE_LEN {
                    this.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no HTTP/2 preface before the header-read timeout",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for PrefaceDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl tonic::transport::server::Connected for PrefaceDeadline {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}
