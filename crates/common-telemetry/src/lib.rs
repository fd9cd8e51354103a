//! Logs and traces: `tracing` with pretty or JSON output, optional OTLP export, W3C trace
//! context carried across gRPC metadata, HTTP headers and bus envelopes.
//!
//! An OpenTelemetry tracer is always installed (exporting only when `otlp_endpoint` is set), so
//! every span has a trace id that travels to the next service even when nothing is exported.
//!
//! The request, gRPC and bus-consumer spans carry their trace id as a `trace_id` field
//! ([`record_trace_id`]), and JSON logs list every enclosing span's fields, so each log line of
//! a request names its trace.
//!
//! Exporting over OTLP needs the `otlp` feature (it links tonic); without it, a configured
//! `otlp_endpoint` is refused at start. Propagation alone (what the bus and the HTTP/gRPC
//! middleware use) needs neither.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use common_settings::{LogFormat, TelemetrySettings};

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The OTLP exporter could not be built.
    #[cfg(feature = "otlp")]
    #[error("otlp exporter")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// An OTLP endpoint is configured but this build has no exporter.
    #[cfg(not(feature = "otlp"))]
    #[error("telemetry.otlp_endpoint is set but this binary was built without the `otlp` feature")]
    NoExporter,
    /// A global subscriber is already installed.
    #[error("tracing subscriber")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
    /// The log filter does not parse.
    #[error("log filter")]
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
            tracing::warn!(error = %common_error::chain(&err), "trace provider shutdown");
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

    let builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service.to_owned())
            .build(),
    );
    let provider = with_exporter(builder, &settings.otlp_endpoint)?.build();
    let tracer = provider.tracer(service.to_owned());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let fmt_layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
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

/// Adds the OTLP exporter when `endpoint` is set.
#[cfg(feature = "otlp")]
fn with_exporter(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    endpoint: &str,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, Error> {
    use opentelemetry_otlp::WithExportConfig;
    if endpoint.is_empty() {
        return Ok(builder);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.to_owned())
        .build()?;
    Ok(builder.with_batch_exporter(exporter))
}

/// Without the `otlp` feature there is nothing to export to: a configured endpoint is an error.
#[cfg(not(feature = "otlp"))]
fn with_exporter(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    endpoint: &str,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, Error> {
    if endpoint.is_empty() {
        Ok(builder)
    } else {
        Err(Error::NoExporter)
    }
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

/// Makes `span` a child of the remote context in `carrier` (if it holds a valid one) and
/// records its trace id ([`record_trace_id`]).
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) {
    let cx = TraceContextPropagator::new().extract(&MapExtractor(carrier));
    if let Err(err) = span.set_parent(cx) {
        tracing::debug!(error = %common_error::chain(&err), "cannot set remote parent");
    }
    record_trace_id(span);
}

/// Makes `span` a child of the remote context in HTTP (or gRPC metadata) headers and records
/// its trace id ([`record_trace_id`]).
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if let Err(err) = span.set_parent(cx) {
        tracing::debug!(error = %common_error::chain(&err), "cannot set remote parent");
    }
    record_trace_id(span);
}

/// Sets `span`'s `trace_id` field (declared `trace_id = tracing::field::Empty`) to its W3C
/// trace id, so its log lines name the trace the collector shows.
pub fn record_trace_id(span: &tracing::Span) {
    use opentelemetry::trace::TraceContextExt as _;
    let cx = span.context();
    let trace = cx.span().span_context().trace_id();
    if trace != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace));
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

/// Helpers for tests that need real trace ids (used by the bus and middleware tests).
pub mod testing {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    /// Runs `f` under a tracing subscriber with an OpenTelemetry layer.
    pub fn with_test_tracer<R>(f: impl FnOnce() -> R) -> R {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f)
    }

    /// The trace id and span id of a `traceparent` value (empty strings when malformed).
    pub fn ids(traceparent: &str) -> (String, String) {
        let mut parts = traceparent.split('-').skip(1);
        let trace = parts.next().unwrap_or_default().to_owned();
        let span = parts.next().unwrap_or_default().to_owned();
        (trace, span)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{ids, with_test_tracer};
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
    fn json_logs_name_the_trace_of_the_request_they_belong_to() {
        use std::io::Write;
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(move || writer.clone()),
            )
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
            let carrier = HashMap::from([(
                "traceparent".to_owned(),
                format!("00-{trace}-00f067aa0ba902b7-01"),
            )]);
            let request = tracing::info_span!("http", trace_id = tracing::field::Empty);
            set_parent(&request, &carrier);
            request.in_scope(|| {
                let inner = tracing::info_span!("place");
                inner.in_scope(|| tracing::info!("order placed"));
            });
            let text = String::from_utf8(
                buffer
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone(),
            )
            .unwrap_or_default();
            let line = text
                .lines()
                .find(|l| l.contains("order placed"))
                .unwrap_or_default();
            assert!(
                line.contains(&format!("\"trace_id\":\"{trace}\"")),
                "{line}"
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
