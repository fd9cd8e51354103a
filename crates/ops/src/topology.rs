//! The fleet's call graph: which service calls which, over gRPC or HTTP. The Helm chart's
//! NetworkPolicies are made from it (a service accepts calls only from its callers), so an edge
//! missing here is a call the cluster refuses. A test scans `crates/services/*/src` for
//! `peer("<name>")` and `channel("<name>")` and fails when this table misses one.
//!
//! Two edges every service has are not listed per service: every service but the SSO calls the
//! SSO over HTTP (its signing keys at `auth.sso_url`, and its service token by the
//! client-credentials grant), and every service but the config service may call the config
//! service over gRPC (`remote_config`, and SSI access tokens for `broker.tokens = "config"`;
//! `crates/common/src/server.rs`, `crates/common/src/ssi_tokens.rs`). [`calls`] includes them.
//! The event bus (Kafka), the databases and the cache are not calls between services: they are
//! egress to external backends.

use common_settings::registry::SERVICES;

/// How one service calls another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// The callee's gRPC port.
    Grpc,
    /// The callee's HTTP port.
    Http,
}

impl Protocol {
    /// `"grpc"` or `"http"`: the name of the callee's port.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        }
    }
}

/// One call: `caller` calls `callee` over `protocol`, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The calling service.
    pub caller: &'static str,
    /// The called service.
    pub callee: &'static str,
    /// Over which port.
    pub protocol: Protocol,
    /// What the call is for.
    pub why: &'static str,
}

const fn grpc(caller: &'static str, callee: &'static str, why: &'static str) -> Edge {
    Edge {
        caller,
        callee,
        protocol: Protocol::Grpc,
        why,
    }
}

/// The calls particular to a service (the fleet-wide ones to the SSO and the config service
/// are added by [`edges`]).
pub const EDGES: &[Edge] = &[
    grpc("decision", "oms", "places the strategies' orders"),
    grpc(
        "decision",
        "rule",
        "rule sets of target decision (ListActive, evaluations)",
    ),
    grpc("llm", "master-data", "task sources: securities"),
    grpc("llm", "ingestion", "task sources: snapshots"),
    grpc("llm", "emotion", "task sources: news sentiment"),
    grpc("llm", "oms", "task sources: orders and positions"),
    grpc("llm", "decision", "task sources: decisions"),
    grpc("oms", "risk", "pre-trade check of every order"),
    grpc("oms", "historical", "VWAP volume profiles"),
    grpc("portal", "master-data", "the board's securities"),
    grpc("portal", "ingestion", "the board's snapshots"),
    grpc("portal", "historical", "charts"),
    grpc("portal", "risk", "limits and exposure"),
    grpc("portal", "oms", "orders, balances, positions"),
    grpc(
        "prediction",
        "master-data",
        "the universe (index constituents)",
    ),
    grpc(
        "prediction",
        "historical",
        "daily bars to train and predict on",
    ),
    grpc(
        "risk",
        "rule",
        "rule sets of target order (ListActive, evaluations)",
    ),
    grpc("ta", "historical", "bars for warm-ups and computations"),
    grpc("ta", "rule", "rule sets of TA alerts"),
];

/// Every call of the fleet: [`EDGES`] plus each service's calls to the SSO (HTTP) and to the
/// config service (gRPC), ordered by caller, callee and protocol.
pub fn edges() -> Vec<Edge> {
    let mut all: Vec<Edge> = EDGES.to_vec();
    for s in &SERVICES {
        if s.name != "sso" {
            all.push(Edge {
                caller: s.name,
                callee: "sso",
                protocol: Protocol::Http,
                why: "token signing keys (JWKS) and the service's own token",
            });
        }
        if s.name != "config" {
            all.push(grpc(
                s.name,
                "config",
                "remote configuration and feature flags; SSI access tokens",
            ));
        }
    }
    all.sort_by(|a, b| (a.caller, a.callee, a.protocol).cmp(&(b.caller, b.callee, b.protocol)));
    all.dedup_by(|a, b| (a.caller, a.callee, a.protocol) == (b.caller, b.callee, b.protocol));
    all
}

/// The services `name` calls (any protocol), sorted, each once.
pub fn calls(name: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = edges()
        .into_iter()
        .filter(|e| e.caller == name)
        .map(|e| e.callee)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The services that call `name` (any protocol), sorted, each once.
pub fn callers_of(name: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = edges()
        .into_iter()
        .filter(|e| e.callee == name)
        .map(|e| e.caller)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The services that call `name` over `protocol`, sorted, each once.
pub fn callers_over(name: &str, protocol: Protocol) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = edges()
        .into_iter()
        .filter(|e| e.callee == name && e.protocol == protocol)
        .map(|e| e.caller)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use common_settings::registry;

    #[test]
    fn every_name_in_the_table_is_a_service_and_no_service_calls_itself() {
        for e in edges() {
            assert!(registry::find(e.caller).is_some(), "{e:?}: unknown caller");
            assert!(registry::find(e.callee).is_some(), "{e:?}: unknown callee");
            assert_ne!(e.caller, e.callee, "{e:?}");
        }
    }

    #[test]
    fn callers_and_calls_are_the_two_directions_of_one_graph() {
        for s in &SERVICES {
            for callee in calls(s.name) {
                assert!(
                    callers_of(callee).contains(&s.name),
                    "{} -> {callee}",
                    s.name
                );
            }
        }
        assert_eq!(callers_of("risk"), ["oms", "portal"]);
        assert_eq!(
            callers_over("sso", Protocol::Http).len(),
            SERVICES.len() - 1
        );
        assert_eq!(callers_over("sso", Protocol::Grpc), Vec::<&str>::new());
    }
}
