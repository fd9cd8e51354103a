//! Trace export over OTLP/gRPC to a real (in-test) collector: spans leave the process with the
//! service's name when `telemetry.otlp_endpoint` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::time::Duration;

use common::settings::{LogFormat, TelemetrySettings};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use tokio::sync::mpsc;

struct Collector(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_to_the_configured_collector() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(tx)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let settings = TelemetrySettings {
        log_format: LogFormat::Json,
        log_level: "info".into(),
        otlp_endpoint: format!("http://{addr}"),
    };
    let guard = common::telemetry::init("otlp-test", &settings).unwrap();
    tracing::info_span!("order.place", symbol = "VNM").in_scope(|| tracing::info!("placing"));
    // Dropping the guard flushes the batch; it blocks, so do it off the async workers.
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .unwrap();

    let request = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an export within 10s")
        .unwrap();
    let resource = request.resource_spans[0].resource.as_ref().unwrap();
    let service_name = resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .unwrap();
    assert_eq!(
        service_name.value.as_ref().unwrap().value,
        Some(Value::StringValue("otlp-test".into()))
    );
    let names: Vec<&str> = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.as_str())
        .collect();
    assert!(names.contains(&"order.place"), "{names:?}");
}
