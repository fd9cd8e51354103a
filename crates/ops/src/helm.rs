//! The generated files of the Helm chart `deploy/k8s/qts`: what the chart reads with
//! `.Files.Get` so that its service list, ports and network policies come from the registry and
//! the [`crate::topology`], never from a hand-kept copy.
//!
//! - `files/services.json`: every service of [`SERVICES`] with its ports, env prefix, callers and
//!   calls (by protocol), and the gateway's ports.
//! - `files/nginx.conf`: the gateway's configuration, a copy of `deploy/nginx/nginx.conf`
//!   (`qts gateway nginx` generates that one; a chart cannot read files outside its directory).
//! - `files/prometheus-rules/*.yml`: copies of the Prometheus rule files generated for
//!   `deploy/prometheus/rules` ([`crate::prometheus::files`]), for the chart's optional
//!   PrometheusRule.
//!
//! The gateway config is read from the committed file when generating, so `ops` needs no
//! `qts` dependency; the `generated` test fails when the copy differs from its source.

use common_settings::registry::{GATEWAY_GRPC_PORT, GATEWAY_HTTP_PORT, SERVICES};
use serde_json::{Value, json};

use crate::File;
use crate::topology::{self, Protocol};

/// The chart's directory from the repository root.
pub const CHART_DIR: &str = "deploy/k8s/qts";
/// The gateway configuration the chart copies (from the repository root).
pub const NGINX_SOURCE: &str = "deploy/nginx/nginx.conf";
/// The Prometheus rule files the chart copies (from the repository root).
pub const RULES_SOURCE: &str = "deploy/prometheus/rules";

/// The generated files of the chart, in a stable order.
pub fn files() -> Vec<File> {
    let root = crate::repo_root();
    let mut files = vec![
        File::new(format!("{CHART_DIR}/files/services.json"), services_json()),
        // An unreadable source gives an empty copy, which the `generated` test reports.
        File::new(
            format!("{CHART_DIR}/files/nginx.conf"),
            std::fs::read_to_string(root.join(NGINX_SOURCE)).unwrap_or_default(),
        ),
    ];
    files.extend(rule_files());
    files
}

/// `files/services.json`: the registry and the topology as the chart's templates read them.
pub fn services_json() -> String {
    let services: Vec<Value> = SERVICES
        .iter()
        .map(|s| {
            let by = |protocol: Protocol| topology::callers_over(s.name, protocol);
            let to = |protocol: Protocol| -> Vec<&str> {
                topology::edges()
                    .into_iter()
                    .filter(|e| e.caller == s.name && e.protocol == protocol)
                    .map(|e| e.callee)
                    .collect()
            };
            json!({
                "name": s.name,
                "description": s.description,
                "envPrefix": s.env_prefix(),
                "metricPrefix": s.metric_prefix(),
                "routePrefix": s.route_prefix(),
                "grpcService": s.grpc_service,
                "maturity": s.maturity.as_str(),
                "ports": {"http": s.http_port, "grpc": s.grpc_port, "admin": s.admin_port},
                "callers": {"grpc": by(Protocol::Grpc), "http": by(Protocol::Http)},
                "calls": {"grpc": to(Protocol::Grpc), "http": to(Protocol::Http)},
            })
        })
        .collect();
    let doc = json!({
        "generatedBy": "crates/ops/src/helm.rs from crates/common-settings/src/registry.rs and crates/ops/src/topology.rs: do not edit, run `qts ops render`",
        "gateway": {"ports": {"http": GATEWAY_HTTP_PORT, "grpc": GATEWAY_GRPC_PORT}},
        "services": services,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Copies of the Prometheus rule files `deploy/prometheus/rules/*.yml`, as generated (so one
/// `qts ops render` writes the rules and their copies alike), sorted by name.
fn rule_files() -> Vec<File> {
    let prefix = format!("{RULES_SOURCE}/");
    let mut copies: Vec<File> = crate::prometheus::files()
        .into_iter()
        .filter_map(|f| {
            let name = f.path.strip_prefix(&prefix)?.to_owned();
            Some(File::new(
                format!("{CHART_DIR}/files/prometheus-rules/{name}"),
                f.content,
            ))
        })
        .collect();
    copies.sort_by(|a, b| a.path.cmp(&b.path));
    copies
}
