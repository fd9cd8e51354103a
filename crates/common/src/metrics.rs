//! Prometheus metrics: one registry per service, plus the fleet-wide HTTP and gRPC request
//! metrics (`qts_http_*`, `qts_grpc_*`, labelled by `service`) recorded by shared middleware.
//!
//! Labels come from a fixed set, so no request can add a time series: an HTTP route is the
//! matched template (`other` when nothing matched), an HTTP method one of the standard ones
//! (`other` for the rest), a gRPC method the path of a method the service implements (`other`
//! for an unknown service or method), a status a number, a gRPC code one of the 17.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Buckets for request latency in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A metric could not be created or registered.
pub type Error = prometheus::Error;

/// The label of everything outside the fixed set: unmatched routes, non-standard methods,
/// unknown gRPC methods.
pub const OTHER: &str = "other";

/// The shared request metrics of one service.
#[derive(Clone)]
pub struct RequestMetrics {
    service: &'static str,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    grpc_requests: IntCounterVec,
    grpc_duration: HistogramVec,
}

impl RequestMetrics {
    /// Creates the fleet-wide request metrics for `service` and registers them in `registry`.
    pub fn register(service: &'static str, registry: &Registry) -> Result<Self, Error> {
        let http_requests = IntCounterVec::new(
            Opts::new("qts_http_requests_total", "HTTP requests served"),
            &["service", "method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("qts_http_request_duration_seconds", "HTTP request latency")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["service", "method", "route"],
        )?;
        let grpc_requests = IntCounterVec::new(
            Opts::new("qts_grpc_requests_total", "gRPC requests served"),
            &["service", "method", "code"],
        )?;
        let grpc_duration = HistogramVec::new(
            HistogramOpts::new("qts_grpc_request_duration_seconds", "gRPC request latency")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["service", "method"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(grpc_requests.clone()))?;
        registry.register(Box::new(grpc_duration.clone()))?;
        Ok(Self {
            service,
            http_requests,
            http_duration,
            grpc_requests,
            grpc_duration,
        })
    }

    fn observe_http(&self, method: &str, route: &str, status: u16, started: Instant) {
        self.http_requests
            .with_label_values(&[self.service, method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[self.service, method, route])
            .observe(started.elapsed().as_secs_f64());
    }

    fn observe_grpc(&self, method: &str, code: &str, started: Instant) {
        self.grpc_requests
            .with_label_values(&[self.service, method, code])
            .inc();
        self.grpc_duration
            .with_label_values(&[self.service, method])
            .observe(started.elapsed().as_secs_f64());
    }
}

/// Renders a registry in the Prometheus text format.
pub fn render(registry: &Registry) -> String {
    use prometheus::Encoder;
    let mut buf = Vec::new();
    if let Err(err) = prometheus::TextEncoder::new().encode(&registry.gather(), &mut buf) {
        tracing::error!(error = %crate::error::chain(&err), "cannot encode metrics");
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// axum middleware: records `qts_http_*` and opens the request span, continuing the caller's
/// trace when a `traceparent` header is present.
pub async fn http_middleware(
    State(metrics): State<Arc<RequestMetrics>>,
    req: Request,
    next: Next,
) -> Response {
    use tracing::Instrument;
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| OTHER.to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!("http", service = metrics.service, %method, %route, status = tracing::field::Empty, trace_id = tracing::field::Empty);
    crate::telemetry::set_parent_from_headers(&span, req.headers());
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    metrics.observe_http(method, &route, status, started);
    response
}

/// The label of an HTTP method: the standard ones by name, any other token as [`OTHER`].
fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => OTHER,
    }
}

/// tower layer for tonic servers: records `qts_grpc_*` and opens the request span, continuing
/// the caller's trace from the `traceparent` metadata.
///
/// The method label is the request path only when the call reached a method the service
/// implements, which is when its request body was read: tonic answers an unknown service or
/// method (UNIMPLEMENTED) without reading it. Everything else, including calls refused before
/// they reached a method (e.g. over the concurrency limit), is [`OTHER`].
#[derive(Clone)]
pub struct GrpcLayer {
    metrics: Arc<RequestMetrics>,
}

impl GrpcLayer {
    /// A layer recording into `metrics`.
    pub fn new(metrics: Arc<RequestMetrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for GrpcLayer {
    type Service = GrpcMetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service made by [`GrpcLayer`].
#[derive(Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    metrics: Arc<RequestMetrics>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, RB> tower::Service<http::Request<tonic::body::Body>> for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<RB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        use tracing::Instrument;
        let started = Instant::now();
        let path = req.uri().path().to_owned();
        let span = tracing::info_span!(
            "grpc",
            service = self.metrics.service,
            method = tracing::field::Empty,
            code = tracing::field::Empty,
            trace_id = tracing::field::Empty
        );
        crate::telemetry::set_parent_from_headers(&span, req.headers());
        let read = Arc::new(AtomicBool::new(false));
        let req = req.map(|body| {
            tonic::body::Body::new(ReadMarker {
                inner: body,
                read: read.clone(),
            })
        });
        let metrics = self.metrics.clone();
        // Take the service that was driven to readiness; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(
            async move {
                let result = inner.call(req).await;
                let code = match &result {
                    // Failures of unary calls come back "trailers-only": grpc-status in headers.
                    Ok(resp) => resp
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map_or("Ok", |c| code_name(tonic::Code::from_i32(c))),
                    Err(_) => "Unavailable",
                };
                let method = if read.load(Ordering::Acquire) {
                    path.as_str()
                } else {
                    OTHER
                };
                let span = tracing::Span::current();
                span.record("method", method);
                span.record("code", code);
                metrics.observe_grpc(method, code, started);
                result
            }
            .instrument(span),
        )
    }
}

/// A request body that notes when it is first read (see [`GrpcLayer`]).
struct ReadMarker<B> {
    inner: B,
    read: Arc<AtomicBool>,
}

impl<B> hyper::body::Body for ReadMarker<B>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Unpin,
{
    type Data = bytes::Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, B::Error>>> {
        self.read.store(true, Ordering::Release);
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

fn code_name(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Ok => "Ok",
        tonic::Code::Cancelled => "Cancelled",
        tonic::Code::Unknown => "Unknown",
        tonic::Code::InvalidArgument => "InvalidArgument",
        tonic::Code::DeadlineExceeded => "DeadlineExceeded",
        tonic::Code::NotFound => "NotFound",
        tonic::Code::AlreadyExists => "AlreadyExists",
        tonic::Code::PermissionDenied => "PermissionDenied",
        tonic::Code::ResourceExhausted => "ResourceExhausted",
        tonic::Code::FailedPrecondition => "FailedPrecondition",
        tonic::Code::Aborted => "Aborted",
        tonic::Code::OutOfRange => "OutOfRange",
        tonic::Code::Unimplemented => "Unimplemented",
        tonic::Code::Internal => "Internal",
        tonic::Code::Unavailable => "Unavailable",
        tonic::Code::DataLoss => "DataLoss",
        tonic::Code::Unauthenticated => "Unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::current_context;
    use crate::telemetry::testing::{ids, with_test_tracer};
    use http_body_util::BodyExt;
    use tower::{Layer, Service, ServiceExt};

    fn not_found() -> http::Response<()> {
        http::Response::builder()
            .header("grpc-status", "5")
            .body(())
            .unwrap()
    }

    fn grpc_request(path: &str) -> http::Request<tonic::body::Body> {
        http::Request::builder()
            .uri(path)
            .body(tonic::body::Body::new(http_body_util::Full::new(
                bytes::Bytes::from_static(&[0, 0, 0, 0, 0]),
            )))
            .unwrap()
    }

    #[test]
    fn the_grpc_layer_counts_calls_by_code_and_continues_the_callers_trace() {
        let registry = Registry::new();
        let metrics = Arc::new(RequestMetrics::register("oms", &registry).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        with_test_tracer(|| {
            let seen = Arc::new(std::sync::Mutex::new(None));
            let seen2 = seen.clone();
            let inner = tower::service_fn(move |req: http::Request<tonic::body::Body>| {
                *seen2.lock().unwrap() = current_context().get("traceparent").cloned();
                async move {
                    // A method reads its request message.
                    req.into_body().collect().await.unwrap();
                    Ok::<_, std::convert::Infallible>(not_found())
                }
            });
            let mut svc = GrpcLayer::new(metrics.clone()).layer(inner);
            let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            let mut req = grpc_request("/qts.oms.v1.OmsService/GetInfo");
            req.headers_mut()
                .insert("traceparent", http::HeaderValue::from_static(parent));
            rt.block_on(async { svc.ready().await.unwrap().call(req).await.unwrap() });
            let inside = seen
                .lock()
                .unwrap()
                .clone()
                .expect("a span was current in the handler");
            assert_eq!(
                ids(&inside).0,
                ids(parent).0,
                "the handler runs in the caller's trace"
            );
        });
        let text = render(&registry);
        assert!(
            text.contains(r#"qts_grpc_requests_total{code="NotFound",method="/qts.oms.v1.OmsService/GetInfo",service="oms"} 1"#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_call_that_reached_no_method_is_labelled_other() {
        let registry = Registry::new();
        let metrics = Arc::new(RequestMetrics::register("oms", &registry).unwrap());
        // Like tonic's answer to an unknown method: UNIMPLEMENTED without reading the body.
        let inner = tower::service_fn(|_req: http::Request<tonic::body::Body>| async {
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .header("grpc-status", "12")
                    .body(())
                    .unwrap(),
            )
        });
        let mut svc = GrpcLayer::new(metrics).layer(inner);
        for path in ["/qts.oms.v1.OmsService/Nope", "/x.Y/Z"] {
            svc.ready()
                .await
                .unwrap()
                .call(grpc_request(path))
                .await
                .unwrap();
        }
        let text = render(&registry);
        assert!(
            text.contains(
                r#"qts_grpc_requests_total{code="Unimplemented",method="other",service="oms"} 2"#
            ),
            "{text}"
        );
        assert!(!text.contains("Nope"), "{text}");
    }

    #[test]
    fn only_standard_http_methods_become_labels() {
        assert_eq!(method_label(&http::Method::GET), "GET");
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
        let odd = http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), OTHER);
    }
}
