//! Logs and traces: `tracing` with pretty or JSON output, optional OTLP export, W3C trace
//! context carried across gRPC metadata, HTTP headers and bus envelopes.
//!
//! An OpenTelemetry tracer is always installed (exporting only when `otlp_endpoint` is set), so
//! every span has a trace id that travels to the next service even when nothing is exported.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::{LogFormat, TelemetrySettings};

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The OTLP exporter could not be built.
    #[error("otlp exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global subscriber is already installed.
    #[error("tracing subscriber: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
    /// The log filter does not parse.
    #[error("log filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
}

/// Flushes pending spans when dropped.
#[must_use = "dropping the guard flushes and stops trace export"]
pub struct Guard {
    provider: SdkTracerProvider,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(err) = self.provider.shutdown() {
            tracing::warn!(error = %err, "trace provider shutdown");
        }
    }
}

/// Installs the global subscriber, tracer, propagator and panic hook for `service`.
/// `LOG_FORMAT` (`json`/`pretty`) and `RUST_LOG` override the settings, as operators expect.
pub fn init(service: &str, settings: &TelemetrySettings) -> Result<Guard, Error> {
    let format = match std::env::var("LOG_FORMAT").ok().as_deref() {
        Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        _ => settings.log_format,
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => EnvFilter::try_new(directive)?,
        _ => EnvFilter::try_new(&settings.log_level)?,
    };

    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service.to_owned())
            .build(),
    );
    if !settings.otlp_endpoint.is_empty() {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(settings.otlp_endpoint.clone())
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(service.to_owned());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let fmt_layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()?;

    install_panic_hook();
    Ok(Guard { provider })
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(panic = %info, location = %location, "panic");
        default(info);
    }));
}

/// The current span's W3C trace context (`traceparent`, maybe `tracestate`).
pub fn current_context() -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MapInjector(&mut carrier));
    carrier
}

/// Makes `span` a child of the remote context in `carrier` (if it holds a valid one).
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) {
    let cx = TraceContextPropagator::new().extract(&MapExtractor(carrier));
    if let Err(err) = span.set_parent(cx) {
        tracing::debug!(error = %err, "cannot set remote parent");
    }
}

/// Makes `span` a child of the remote context in HTTP (or gRPC metadata) headers.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if let Err(err) = span.set_parent(cx) {
        tracing::debug!(error = %err, "cannot set remote parent");
    }
}

/// Writes the current span's trace context into outgoing HTTP/gRPC headers.
pub fn inject_headers(headers: &mut http::HeaderMap) {
    for (k, v) in current_context() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            headers.insert(name, value);
        }
    }
}

/// A tonic interceptor for clients: puts the current trace context into request metadata.
pub fn grpc_client_interceptor(
    mut req: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    for (k, v) in current_context() {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(k.as_bytes()),
            v.parse(),
        ) {
            req.metadata_mut().insert(key, value);
        }
    }
    Ok(req)
}

struct MapInjector<'a>(&'a mut HashMap<String, String>);
impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct MapExtractor<'a>(&'a HashMap<String, String>);
impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);
impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// A tracing subscriber with an OpenTelemetry layer, for tests that need real trace ids.
#[cfg(test)]
pub(crate) fn with_test_tracer<R>(f: impl FnOnce() -> R) -> R {
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, f)
}

/// The trace id and span id of a `traceparent` value.
#[cfg(test)]
pub(crate) fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    (parts[1].to_owned(), parts[2].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_in_a_carrier_becomes_the_remote_parent_of_the_next_span() {
        with_test_tracer(|| {
            let producer = tracing::info_span!("produce");
            let carrier = producer.in_scope(current_context);
            let (trace, producer_span) = ids(&carrier["traceparent"]);
            let consumer = tracing::info_span!("consume");
            set_parent(&consumer, &carrier);
            let (trace2, consumer_span) = ids(&consumer.in_scope(current_context)["traceparent"]);
            assert_eq!(trace2, trace, "same trace");
            assert_ne!(consumer_span, producer_span, "a new span in it");
        });
    }

    #[test]
    fn grpc_clients_send_the_context_in_metadata_that_servers_read_as_headers() {
        with_test_tracer(|| {
            let span = tracing::info_span!("call");
            let req = span
                .in_scope(|| grpc_client_interceptor(tonic::Request::new(())))
                .unwrap();
            let headers = req.metadata().clone().into_headers();
            let sent = headers
                .get("traceparent")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let server = tracing::info_span!("serve");
            set_parent_from_headers(&server, &headers);
            let got = server.in_scope(current_context);
            assert_eq!(ids(&got["traceparent"]).0, ids(&sent).0);

            let mut http_headers = http::HeaderMap::new();
            span.in_scope(|| inject_headers(&mut http_headers));
            assert_eq!(
                http_headers.get("traceparent").unwrap().to_str().unwrap(),
                sent
            );
        });
    }

    #[test]
    fn outside_any_span_nothing_is_sent_and_garbage_is_ignored() {
        with_test_tracer(|| {
            assert!(current_context().is_empty());
            let span = tracing::info_span!("s");
            let bad = HashMap::from([("traceparent".to_owned(), "not-a-traceparent".to_owned())]);
            set_parent(&span, &bad);
            let ctx = span.in_scope(current_context);
            assert_eq!(ctx["traceparent"].len(), 55, "a fresh root trace instead");
        });
    }
}
