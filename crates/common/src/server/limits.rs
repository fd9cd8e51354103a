//! Inbound limits of every listener, from the shared `[limits]` settings: how many requests are
//! served at once, how long one may take, how large its body may be. Over HTTP each limit answers
//! with the error envelope (503 `unavailable`, 504 `deadline_exceeded`, 413
//! `resource_exhausted`); over gRPC with the matching status (UNAVAILABLE, DEADLINE_EXCEEDED,
//! RESOURCE_EXHAUSTED).
//!
//! The header-read timeout is enforced by the accept loops in [`super::listen`].
//!
//! Why not tower's or tonic's own layers: tower-http's timeout answers 408 with an empty body,
//! its body limit 413 with a plain-text one, tonic's `Server::timeout` answers CANCELLED and its
//! `concurrency_limit_per_connection` queues per connection. These answer at once, per listener,
//! with the codes above.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use hyper::body::{Frame, SizeHint};
use tokio::sync::Semaphore;

use crate::error::{ErrorBody, Kind};
use crate::settings::LimitsSettings;

/// The limits of one listener: settings plus the listener's own count of requests in flight.
#[derive(Debug, Clone)]
pub struct Limits {
    settings: LimitsSettings,
    in_flight: Arc<Semaphore>,
}

impl Limits {
    /// Limits for one listener (each listener counts its own requests in flight).
    pub fn new(settings: &LimitsSettings) -> Self {
        Self {
            settings: settings.clone(),
            in_flight: Arc::new(Semaphore::new(settings.max_concurrent_requests)),
        }
    }

    /// The settings these limits enforce.
    pub fn settings(&self) -> &LimitsSettings {
        &self.settings
    }

    /// A slot for one request, or `None` when the listener is full.
    fn admit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.in_flight.clone().try_acquire_owned().ok()
    }

    fn busy_message(&self) -> String {
        format!(
            "server busy: {} requests in flight already; retry later",
            self.settings.max_concurrent_requests
        )
    }

    fn timeout_message(&self) -> String {
        format!(
            "request took longer than {} ms",
            self.settings.request_timeout_ms
        )
    }

    fn too_large_message(&self, what: &str, len: Option<u64>) -> String {
        match len {
            Some(len) => format!(
                "{what} of {len} bytes is larger than the limit of {} bytes",
                self.settings.max_body_bytes
            ),
            None => format!(
                "{what} is larger than the limit of {} bytes",
                self.settings.max_body_bytes
            ),
        }
    }
}

/// Adds the limits and the error envelope to every route and the fallback of `router`: what
/// every HTTP listener of the fleet (service, admin, gateway) serves. Metrics go outside it.
pub fn bounded(router: Router, limits: &Limits) -> Router {
    router
        .layer(axum::middleware::from_fn_with_state(limits.clone(), limit))
        // The body is limited by `limit`, so axum's own 2 MB default for extractors would only
        // undercut the setting.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(super::envelope::envelope))
}

/// An error response with the envelope, for a message that is safe to show whatever the kind.
pub fn error_response(status: StatusCode, kind: Kind, message: String) -> Response {
    let body = ErrorBody {
        code: kind.as_str().to_owned(),
        message,
    };
    (status, axum::Json(body)).into_response()
}

/// axum middleware: admission (503), body size (413) and request timeout (504).
async fn limit(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let Some(_permit) = limits.admit() else {
        let mut response = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            Kind::Unavailable,
            limits.busy_message(),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let max = limits.settings.max_body_bytes;
    if let Some(len) = content_length(req.headers())
        && len > u64::try_from(max).unwrap_or(u64::MAX)
    {
        return too_large(&limits, Some(len));
    }
    // A body without a (truthful) length is cut at the limit while it is read; extractors then
    // answer 413, which the envelope turns into JSON.
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, max)));
    match tokio::time::timeout(limits.settings.request_timeout(), next.run(req)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::GATEWAY_TIMEOUT,
            Kind::DeadlineExceeded,
            limits.timeout_message(),
        ),
    }
}

/// The 413 answer for a body over the limit (`len` when known).
pub fn too_large(limits: &Limits, len: Option<u64>) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        Kind::ResourceExhausted,
        limits.too_large_message("request body", len),
    )
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// tower layer for tonic servers: admission (UNAVAILABLE), request timeout (DEADLINE_EXCEEDED)
/// and request message size (RESOURCE_EXHAUSTED).
#[derive(Debug, Clone)]
pub struct GrpcLimitsLayer {
    limits: Limits,
}

impl GrpcLimitsLayer {
    /// A layer enforcing `limits` (one per listener: requests in flight are counted across all
    /// its connections).
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }
}

impl<S> tower::Layer<S> for GrpcLimitsLayer {
    type Service = GrpcLimits<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcLimits {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// The service made by [`GrpcLimitsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcLimits<S> {
    inner: S,
    limits: Limits,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, RB> tower::Service<http::Request<tonic::body::Body>> for GrpcLimits<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<RB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let Some(permit) = self.limits.admit() else {
            let status = tonic::Status::unavailable(self.limits.busy_message());
            return Box::pin(std::future::ready(Ok(status.into_http())));
        };
        let max = self.limits.settings.max_body_bytes;
        let req = req.map(|body| tonic::body::Body::new(MessageLimit::new(body, max)));
        let timeout = self.limits.settings.request_timeout();
        let message = self.limits.timeout_message();
        // Call the service that was driven to readiness; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let call = inner.call(req);
        Box::pin(async move {
            let _permit = permit;
            match tokio::time::timeout(timeout, call).await {
                Ok(result) => result,
                Err(_) => Ok(tonic::Status::deadline_exceeded(message).into_http()),
            }
        })
    }
}

/// A gRPC request body that fails with RESOURCE_EXHAUSTED as soon as a message's length prefix
/// (the 5-byte header of the gRPC framing: flag, then a big-endian u32 length) says it is larger
/// than the limit, before the message is buffered. The decoder turns the error into the call's
/// status.
struct MessageLimit<B> {
    inner: B,
    max: usize,
    /// The header of the next message, as far as it has arrived.
    header: [u8; 5],
    header_len: usize,
    /// Bytes of the current message still to come.
    remaining: usize,
}

impl<B> MessageLimit<B> {
    fn new(inner: B, max: usize) -> Self {
        Self {
            inner,
            max,
            header: [0; 5],
            header_len: 0,
            remaining: 0,
        }
    }

    fn scan(&mut self, mut data: &[u8]) -> Result<(), tonic::Status> {
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len());
                self.remaining -= n;
                data = &data[n..];
                continue;
            }
            let n = (5 - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&data[..n]);
            self.header_len += n;
            data = &data[n..];
            if self.header_len == 5 {
                self.header_len = 0;
                let [_, a, b, c, d] = self.header;
                let len = u32::from_be_bytes([a, b, c, d]);
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > self.max {
                    return Err(tonic::Status::resource_exhausted(format!(
                        "request message of {len} bytes is larger than the limit of {} bytes",
                        self.max
                    )));
                }
                self.remaining = len;
            }
        }
        Ok(())
    }
}

impl<B> hyper::body::Body for MessageLimit<B>
where
    B: hyper::body::Body<Data = Bytes, Error = tonic::Status> + Unpin,
{
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(data) = frame.data_ref()
            && let Err(status) = self.scan(data)
        {
            return Poll::Ready(Some(Err(status)));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(len: u32) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend(std::iter::repeat_n(7u8, len as usize));
        out
    }

    #[test]
    fn messages_up_to_the_limit_pass_however_the_bytes_are_split() {
        let mut stream = framed(10);
        stream.extend(framed(0));
        stream.extend(framed(10));
        for chunk in [1, 2, 3, 5, 7, stream.len()] {
            let mut limit = MessageLimit::new((), 10);
            for piece in stream.chunks(chunk) {
                limit.scan(piece).unwrap();
            }
            assert_eq!(
                (limit.header_len, limit.remaining),
                (0, 0),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn a_message_over_the_limit_is_refused_from_its_header_alone() {
        let header = &framed(11)[..5];
        let mut limit = MessageLimit::new((), 10);
        limit.scan(&header[..3]).unwrap();
        let status = limit.scan(&header[3..]).unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(
            status.message().contains("11 bytes"),
            "{}",
            status.message()
        );
    }
}
