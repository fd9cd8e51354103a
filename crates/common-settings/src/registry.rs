//! The one registry of services: names, ports, HTTP route prefixes and gRPC packages.
//!
//! The Nginx gateway config, `qts up`, the service skeleton and (later) Helm values are all
//! generated from [`SERVICES`]; nothing else may hard-code a service's port or prefix.
//! Default ports sit in 18080-18316, clear of PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto
//! and NATS.

use serde::Serialize;

/// How much of a service's behaviour exists. The README's service table shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Maturity {
    /// Serves the shared runtime (health, metrics, OpenAPI, GetInfo, lifecycle events) only.
    Skeleton,
    /// Some of the behaviour its issue asks for works.
    Partial,
    /// Everything its issue asks for works and is tested.
    Complete,
}

impl Maturity {
    /// Lower-case name as shown in `GetInfo` and the README.
    pub fn as_str(self) -> &'static str {
        match self {
            Maturity::Skeleton => "skeleton",
            Maturity::Partial => "partial",
            Maturity::Complete => "complete",
        }
    }
}

/// One service of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceSpec {
    /// Kebab-case name: folder, package, binary, image, Helm release.
    pub name: &'static str,
    /// One line on what the service owns.
    pub description: &'static str,
    /// Default public HTTP port (routed by the gateway under [`ServiceSpec::route_prefix`]).
    pub http_port: u16,
    /// Default gRPC port.
    pub grpc_port: u16,
    /// Default admin port (`/live`, `/ready`, `/metrics`); never routed by the gateway.
    pub admin_port: u16,
    /// Protobuf package, e.g. `qts.oms.v1`.
    pub grpc_package: &'static str,
    /// Fully qualified gRPC service name, e.g. `qts.oms.v1.OmsService`.
    pub grpc_service: &'static str,
    /// How much of the behaviour exists.
    pub maturity: Maturity,
}

impl ServiceSpec {
    /// Path prefix of every public HTTP route of this service, e.g. `/api/oms`.
    pub fn route_prefix(&self) -> String {
        format!("/api/{}", self.name)
    }

    /// Prefix of the service's environment variables, e.g. `MASTER_DATA` for `MASTER_DATA__HTTP__PORT`.
    pub fn env_prefix(&self) -> String {
        self.name.replace('-', "_").to_ascii_uppercase()
    }

    /// Prefix of the service's own metric names, e.g. `master_data`.
    pub fn metric_prefix(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// Default port of the embedded HTTP gateway (`qts up`) and of Nginx's HTTP listener.
pub const GATEWAY_HTTP_PORT: u16 = 18080;
/// Default port of Nginx's gRPC (HTTP/2) listener.
pub const GATEWAY_GRPC_PORT: u16 = 18081;

/// Every service of the fleet, in the order the README lists them.
pub const SERVICES: [ServiceSpec; 17] = [
    ServiceSpec {
        name: "ingestion",
        description: "Market-data ingestion: SSI FastConnect streams into the event bus",
        http_port: 18100,
        grpc_port: 18200,
        admin_port: 18300,
        grpc_package: "qts.ingestion.v1",
        grpc_service: "qts.ingestion.v1.IngestionService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "historical",
        description: "Historical market data: daily and intraday bars, backfills",
        http_port: 18101,
        grpc_port: 18201,
        admin_port: 18301,
        grpc_package: "qts.historical.v1",
        grpc_service: "qts.historical.v1.HistoricalService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "ta",
        description: "Technical analysis: indicators over bars",
        http_port: 18102,
        grpc_port: 18202,
        admin_port: 18302,
        grpc_package: "qts.ta.v1",
        grpc_service: "qts.ta.v1.TaService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "prediction",
        description: "Prediction: ML and quantum-inspired models",
        http_port: 18103,
        grpc_port: 18203,
        admin_port: 18303,
        grpc_package: "qts.prediction.v1",
        grpc_service: "qts.prediction.v1.PredictionService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "decision",
        description: "Decision engine: turns signals and predictions into order intents",
        http_port: 18104,
        grpc_port: 18204,
        admin_port: 18304,
        grpc_package: "qts.decision.v1",
        grpc_service: "qts.decision.v1.DecisionService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "risk",
        description: "Risk management: pre-trade checks and exposure limits",
        http_port: 18105,
        grpc_port: 18205,
        admin_port: 18305,
        grpc_package: "qts.risk.v1",
        grpc_service: "qts.risk.v1.RiskService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "oms",
        description: "Order management: orders, balances, positions, 2FA",
        http_port: 18106,
        grpc_port: 18206,
        admin_port: 18306,
        grpc_package: "qts.oms.v1",
        grpc_service: "qts.oms.v1.OmsService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "master-data",
        description: "Master data: securities, indices, calendars",
        http_port: 18107,
        grpc_port: 18207,
        admin_port: 18307,
        grpc_package: "qts.master_data.v1",
        grpc_service: "qts.master_data.v1.MasterDataService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "rule",
        description: "Dynamic business rules: CEL rule sets and decision tables",
        http_port: 18108,
        grpc_port: 18208,
        admin_port: 18308,
        grpc_package: "qts.rule.v1",
        grpc_service: "qts.rule.v1.RuleService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "config",
        description: "Configuration, secrets, feature flags, SSI tokens",
        http_port: 18109,
        grpc_port: 18209,
        admin_port: 18309,
        grpc_package: "qts.config.v1",
        grpc_service: "qts.config.v1.ConfigService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "sso",
        description: "Single sign-on: users, sessions, tokens",
        http_port: 18110,
        grpc_port: 18210,
        admin_port: 18310,
        grpc_package: "qts.sso.v1",
        grpc_service: "qts.sso.v1.SsoService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "sso-ui",
        description: "Sign-in user interface",
        http_port: 18111,
        grpc_port: 18211,
        admin_port: 18311,
        grpc_package: "qts.sso_ui.v1",
        grpc_service: "qts.sso_ui.v1.SsoUiService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "notification",
        description: "Notifications: e-mail, chat, webhooks, SMS, inbox",
        http_port: 18112,
        grpc_port: 18212,
        admin_port: 18312,
        grpc_package: "qts.notification.v1",
        grpc_service: "qts.notification.v1.NotificationService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "llm",
        description: "Memory LLM: assistant with long-term memory",
        http_port: 18113,
        grpc_port: 18213,
        admin_port: 18313,
        grpc_package: "qts.llm.v1",
        grpc_service: "qts.llm.v1.LlmService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "emotion",
        description: "Market sentiment from news and social text",
        http_port: 18114,
        grpc_port: 18214,
        admin_port: 18314,
        grpc_package: "qts.emotion.v1",
        grpc_service: "qts.emotion.v1.EmotionService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "portal",
        description: "Trader portal: backend and web app",
        http_port: 18115,
        grpc_port: 18215,
        admin_port: 18315,
        grpc_package: "qts.portal.v1",
        grpc_service: "qts.portal.v1.PortalService",
        maturity: Maturity::Complete,
    },
    ServiceSpec {
        name: "monitoring",
        description: "Fleet monitoring: health, alerts, dashboards",
        http_port: 18116,
        grpc_port: 18216,
        admin_port: 18316,
        grpc_package: "qts.monitoring.v1",
        grpc_service: "qts.monitoring.v1.MonitoringService",
        maturity: Maturity::Complete,
    },
];

/// The service with this name.
pub fn find(name: &str) -> Option<&'static ServiceSpec> {
    SERVICES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_ports_and_packages_are_unique() {
        let mut ports = HashSet::new();
        for s in &SERVICES {
            assert!(ports.insert(s.http_port), "{} http port reused", s.name);
            assert!(ports.insert(s.grpc_port), "{} grpc port reused", s.name);
            assert!(ports.insert(s.admin_port), "{} admin port reused", s.name);
        }
        assert!(ports.insert(GATEWAY_HTTP_PORT));
        assert!(ports.insert(GATEWAY_GRPC_PORT));
        let names: HashSet<_> = SERVICES.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 17);
        let packages: HashSet<_> = SERVICES.iter().map(|s| s.grpc_package).collect();
        assert_eq!(packages.len(), 17);
    }

    #[test]
    fn default_ports_stay_clear_of_the_machines_other_servers() {
        for taken in [5432, 3306, 6379, 5672, 1883, 4222, 9092, 8080] {
            assert!(
                !SERVICES
                    .iter()
                    .any(|s| [s.http_port, s.grpc_port, s.admin_port].contains(&taken))
            );
        }
    }

    #[test]
    fn derived_names_follow_the_one_name_rule() {
        let s = find("master-data").unwrap();
        assert_eq!(s.env_prefix(), "MASTER_DATA");
        assert_eq!(s.metric_prefix(), "master_data");
        assert_eq!(s.route_prefix(), "/api/master-data");
        assert_eq!(s.grpc_service, "qts.master_data.v1.MasterDataService");
        assert!(find("nope").is_none());
    }
}
