//! Prometheus metrics: one registry per service, plus the fleet-wide HTTP and gRPC request
//! metrics (`qts_http_*`, `qts_grpc_*`, labelled by `service`) recorded by shared middleware.
//!
//! Labels are bounded: routes are matched templates (never raw paths), gRPC methods come from
//! the service's own proto, status codes are numbers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
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
        tracing::error!(error = %err, "cannot encode metrics");
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
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!("http", service = metrics.service, %method, %route, status = tracing::field::Empty);
    crate::telemetry::set_parent_from_headers(&span, req.headers());
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    metrics.observe_http(&method, &route, status, started);
    response
}

/// tower layer for tonic servers: records `qts_grpc_*` and opens the request span, continuing
/// the caller's trace from the `traceparent` metadata.
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

impl<S, B, RB> tower::Service<http::Request<B>> for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        use tracing::Instrument;
        let started = Instant::now();
        // The path is /package.Service/Method: bounded by the service's own proto.
        let method = req.uri().path().to_owned();
        let span = tracing::info_span!("grpc", service = self.metrics.service, method = %method, code = tracing::field::Empty);
        crate::telemetry::set_parent_from_headers(&span, req.headers());
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
                tracing::Span::current().record("code", code);
                metrics.observe_grpc(&method, code, started);
                result
            }
            .instrument(span),
        )
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
    use tower::{Layer, Service, ServiceExt};

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
            let inner = tower::service_fn(move |_req: http::Request<()>| {
                *seen2.lock().unwrap() = current_context().get("traceparent").cloned();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        http::Response::builder()
                            .header("grpc-status", "5")
                            .body(())
                            .unwrap(),
                    )
                }
            });
            let mut svc = GrpcLayer::new(metrics.clone()).layer(inner);
            let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            let req = http::Request::builder()
                .uri("/qts.oms.v1.OmsService/GetInfo")
                .header("traceparent", parent)
                .body(())
                .unwrap();
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
}
