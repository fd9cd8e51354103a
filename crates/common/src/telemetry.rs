//! Logs, traces and trace-context propagation: everything in the `common-telemetry` crate, plus
//! the tonic client interceptor that carries the context in gRPC metadata.

pub use common_telemetry::*;

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

#[cfg(test)]
mod tests {
    use super::testing::{ids, with_test_tracer};
    use super::*;

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
}
