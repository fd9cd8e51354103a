//! Prometheus as code: the scrape configuration for Kubernetes (and [`local_config`] for a fleet
//! on loopback), the recording rules (per-service RED for HTTP and gRPC, saturation, SLO error
//! ratios, the Vietnamese trading session) and the alert rules (multi-window multi-burn-rate SLO
//! alerts, fleet health, bus and outbox, trading and market data).
//!
//! Everything that repeats per service comes from [`SERVICES`]: the scrape job keeps exactly the
//! registry's services, and each service has its own "missing" alert. The rules are built as
//! [`RuleGroup`]s (so tests can check every alert's labels and annotations) and rendered as YAML
//! text; docs/ops/monitoring.md has one runbook section per alert name.

use std::fmt::Write as _;

use common_settings::registry::SERVICES;

use crate::File;

/// The availability objective of every service: the share of HTTP requests that are not 5xx
/// and gRPC calls that do not end with a server-side error code, over 30 days.
pub const AVAILABILITY_SLO: f64 = 0.995;

/// gRPC codes that count against availability (the server failed, not the caller).
pub const GRPC_ERROR_CODES: &str = "Unknown|DeadlineExceeded|Internal|Unavailable|DataLoss";

/// The SLO alerts ignore a service averaging fewer requests per second than this over the long
/// window (one a minute): a single failed call of an idle service is no budget burn.
pub const SLO_MIN_RATE: &str = "1/60";

/// Services whose outage stops trading or market data: their fleet alerts are `critical`, the
/// others' `warning`. Every name is in the registry (a test checks).
pub const CRITICAL_SERVICES: &[&str] = &[
    "ingestion",
    "master-data",
    "risk",
    "oms",
    "config",
    "sso",
    "notification",
];

/// The Prometheus job that scrapes the fleet's admin ports.
pub const JOB: &str = "qts";

/// The document holding the runbooks; each alert's `runbook` annotation is
/// `docs/ops/monitoring.md#<alertname in lower case>`.
pub const RUNBOOK_DOC: &str = "docs/ops/monitoring.md";

/// The rule files, relative to the Prometheus configuration's directory.
pub const RULES_DIR: &str = "rules";

/// How urgent an alert is; Alertmanager routes on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Wake someone: trading or market data is (about to be) affected.
    Critical,
    /// Look within working hours.
    Warning,
    /// For the record (dashboards, the notification inbox).
    Info,
}

impl Severity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One recording rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The recorded series' name (`level:metric:operations`).
    pub record: String,
    /// PromQL.
    pub expr: String,
    /// Extra labels set on the result.
    pub labels: Vec<(String, String)>,
}

/// One alerting rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The alert name (`alertname`), also the runbook heading.
    pub name: String,
    /// PromQL; every result is an alert.
    pub expr: String,
    /// How long the condition must hold (`2m`), or empty.
    pub for_: String,
    /// Labels: `severity` always, `service` when the expression does not carry it.
    pub labels: Vec<(String, String)>,
    /// `summary`, `description` and `runbook`.
    pub annotations: Vec<(String, String)>,
}

impl Alert {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        find(&self.labels, name)
    }

    /// The value of annotation `name`.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        find(&self.annotations, name)
    }
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// One rule of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A recording rule.
    Record(Record),
    /// An alerting rule.
    Alert(Alert),
}

/// A rule group (evaluated in order, at the global evaluation interval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleGroup {
    /// Group name, unique in the fleet.
    pub name: String,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// One rule file: its path from the repository root and its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// Path from the repository root (`deploy/prometheus/rules/<name>.yml`).
    pub path: String,
    /// What the file is for (its header comment).
    pub about: String,
    /// The groups.
    pub groups: Vec<RuleGroup>,
}

/// The generated files: `deploy/prometheus/prometheus.yml` and the rule files.
pub fn files() -> Vec<File> {
    let mut files = vec![File::new(
        "deploy/prometheus/prometheus.yml",
        kubernetes_config(),
    )];
    files.extend(
        rule_files()
            .iter()
            .map(|f| File::new(f.path.clone(), render_rule_file(f))),
    );
    files.push(File::new(
        "deploy/prometheus/tests/fleet.yml",
        fleet_tests(),
    ));
    files
}

/// `promtool test rules` cases of the fleet alerts, one per registry service: with every other
/// service scraped, the missing one raises `ServiceMissing` at its tier's severity; with every
/// target down, each raises `TargetDown` (and notification's `NotificationDown`).
fn fleet_tests() -> String {
    let up = |s: &str, values: &str| {
        format!(
            "      - series: {}\n        values: \"{values}\"\n",
            q(&format!(
                "up{{job=\"{JOB}\",service=\"{s}\",instance=\"{s}:admin\"}}"
            ))
        )
    };
    let mut y = String::from(HEADER);
    y.push_str("# promtool test rules: the fleet alerts for every service of the registry.\n");
    let _ = writeln!(
        y,
        "rule_files:\n  - ../{RULES_DIR}/fleet.yml\n\nevaluation_interval: 1m\n\ntests:"
    );
    for missing in &SERVICES {
        let _ = writeln!(y, "  # {} is not scraped at all.", missing.name);
        y.push_str("  - interval: 1m\n    input_series:\n");
        for s in SERVICES.iter().filter(|s| s.name != missing.name) {
            y.push_str(&up(s.name, "1x10"));
        }
        y.push_str("    alert_rule_test:\n");
        for (at, fires) in [("4m", false), ("6m", true)] {
            let _ = writeln!(
                y,
                "      - eval_time: {at}\n        alertname: ServiceMissing"
            );
            if fires {
                let _ = write!(
                    y,
                    "        exp_alerts:\n          - exp_labels:\n              severity: {}\n              job: {}\n              service: {}\n            exp_annotations:\n              summary: {}\n              description: {}\n              runbook: {}\n",
                    severity_of(missing.name).as_str(),
                    q(JOB),
                    q(missing.name),
                    q(&format!("{}: no instance is scraped", missing.name)),
                    q(&missing_description(missing.name, missing.admin_port)),
                    q(&format!("{RUNBOOK_DOC}#servicemissing")),
                );
            } else {
                y.push_str("        exp_alerts: []\n");
            }
        }
    }
    y.push_str("  # Every target is down.\n  - interval: 1m\n    input_series:\n");
    for s in &SERVICES {
        y.push_str(&up(s.name, "1 0x10"));
    }
    y.push_str("    alert_rule_test:\n      - eval_time: 2m\n        alertname: TargetDown\n        exp_alerts: []\n      - eval_time: 4m\n        alertname: TargetDown\n        exp_alerts:\n");
    for s in &SERVICES {
        let _ = write!(
            y,
            "          - exp_labels:\n              severity: {}\n              job: {}\n              service: {}\n              instance: {}\n            exp_annotations:\n              summary: {}\n              description: {}\n              runbook: {}\n",
            severity_of(s.name).as_str(),
            q(JOB),
            q(s.name),
            q(&format!("{}:admin", s.name)),
            q(&format!("{0}: {0}:admin does not answer scrapes", s.name)),
            q(&format!(
                "Prometheus has failed to scrape {0}'s admin port at {0}:admin for 2 minutes: the process is down, hung or unreachable.",
                s.name
            )),
            q(&format!("{RUNBOOK_DOC}#targetdown")),
        );
    }
    y.push_str("      - eval_time: 4m\n        alertname: NotificationDown\n        exp_alerts:\n          - exp_labels:\n              severity: critical\n              service: notification\n            exp_annotations:\n");
    for (k, v) in notification_down_annotations() {
        let _ = writeln!(y, "              {k}: {}", q(&v));
    }
    y
}

/// Every alerting rule of every rule file.
pub fn alerts() -> Vec<Alert> {
    rule_files()
        .into_iter()
        .flat_map(|f| f.groups)
        .flat_map(|g| g.rules)
        .filter_map(|r| match r {
            Rule::Alert(a) => Some(a),
            Rule::Record(_) => None,
        })
        .collect()
}

/// Every recording rule of every rule file.
pub fn records() -> Vec<Record> {
    rule_files()
        .into_iter()
        .flat_map(|f| f.groups)
        .flat_map(|g| g.rules)
        .filter_map(|r| match r {
            Rule::Record(r) => Some(r),
            Rule::Alert(_) => None,
        })
        .collect()
}

/// The rule files, in a stable order.
pub fn rule_files() -> Vec<RuleFile> {
    vec![
        RuleFile {
            path: rule_path("red"),
            about: "Per-service RED (rate, errors, duration) of HTTP and gRPC, and latency alerts."
                .into(),
            groups: vec![
                merged("qts-red-http", red_group("http"), latency_alerts()),
                red_group("grpc"),
            ],
        },
        RuleFile {
            path: rule_path("slo"),
            about: format!(
                "The availability SLO ({:.1}%) of every service: error ratios over the burn-rate \
                 windows and multi-window multi-burn-rate alerts.",
                AVAILABILITY_SLO * 100.0
            ),
            groups: vec![merged("qts-slo", slo_records(), slo_alerts())],
        },
        RuleFile {
            path: rule_path("fleet"),
            about: "Fleet health: targets down, services missing (one rule per registry \
                    service), not ready, the notification service down."
                .into(),
            groups: vec![fleet_alerts()],
        },
        RuleFile {
            path: rule_path("saturation"),
            about: "Saturation: outbox backlog, bus consumers (failures, lag).".into(),
            groups: vec![merged(
                "qts-saturation",
                saturation_records(),
                saturation_alerts(),
            )],
        },
        RuleFile {
            path: rule_path("trading"),
            about: "Trading and market data: the trading session, rejects, latency, kill \
                    switches, feed health."
                .into(),
            groups: vec![merged("qts-trading", trading_records(), trading_alerts())],
        },
    ]
}

/// One group of `records` then `alerts`: Prometheus evaluates a group's rules in order, so the
/// alerts see this evaluation's records (groups run independently, and an alert reading another
/// group's record would see it one evaluation late).
fn merged(name: &str, records: RuleGroup, alerts: RuleGroup) -> RuleGroup {
    RuleGroup {
        name: name.to_owned(),
        rules: records.rules.into_iter().chain(alerts.rules).collect(),
    }
}

fn rule_path(name: &str) -> String {
    format!("deploy/prometheus/{RULES_DIR}/{name}.yml")
}

// ---------------------------------------------------------------------------------------------
// Scrape configuration

/// The registry's service names as one anchored-by-Prometheus regex alternative.
fn service_regex(names: &mut dyn Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join("|")
}

/// The Prometheus configuration for Kubernetes: pods labelled `app.kubernetes.io/part-of=qts`
/// of a registry service, scraped on their `admin` port; rules from `rules/*.yml`; alerts to
/// the `alertmanager` Service.
fn kubernetes_config() -> String {
    let mut y = String::new();
    y.push_str(HEADER);
    y.push_str(
        "# Prometheus for the fleet in Kubernetes: mount this file and rules/ at /etc/prometheus.\n\
         global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n  evaluation_interval: 15s\n  \
         external_labels:\n    system: qts\n\nrule_files:\n",
    );
    let _ = writeln!(y, "  - {}", q(&format!("{RULES_DIR}/*.yml")));
    y.push_str(
        "\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets:\n            - \"alertmanager:9093\"\n\n\
         scrape_configs:\n",
    );
    let _ = writeln!(y, "  - job_name: {}", q(JOB));
    y.push_str(
        "    # The services' own `service` label (on the fleet-wide metrics, and the monitoring\n    \
         # service's per-service series) is the truth; the target's applies to the rest.\n    \
         honor_labels: true\n    metrics_path: /metrics\n    kubernetes_sd_configs:\n      - role: pod\n        \
         selectors:\n          - role: pod\n            label: \"app.kubernetes.io/part-of=qts\"\n    \
         relabel_configs:\n",
    );
    let names = service_regex(&mut SERVICES.iter().map(|s| s.name));
    let relabels: [(&str, &str, &str, &str); 7] = [
        (
            "__meta_kubernetes_pod_label_app_kubernetes_io_name",
            &names,
            "keep",
            "",
        ),
        (
            "__meta_kubernetes_pod_container_port_name",
            "admin",
            "keep",
            "",
        ),
        (
            "__meta_kubernetes_pod_phase",
            "Pending|Succeeded|Failed",
            "drop",
            "",
        ),
        (
            "__meta_kubernetes_pod_label_app_kubernetes_io_name",
            "(.+)",
            "replace",
            "service",
        ),
        (
            "__meta_kubernetes_namespace",
            "(.+)",
            "replace",
            "namespace",
        ),
        ("__meta_kubernetes_pod_name", "(.+)", "replace", "pod"),
        ("__meta_kubernetes_pod_node_name", "(.+)", "replace", "node"),
    ];
    for (source, regex, action, target) in relabels {
        let _ = writeln!(y, "      - source_labels: [{source}]");
        let _ = writeln!(y, "        regex: {}", q(regex));
        let _ = writeln!(y, "        action: {action}");
        if !target.is_empty() {
            let _ = writeln!(y, "        target_label: {target}");
        }
    }
    y.push_str(
        "\n  - job_name: \"prometheus\"\n    static_configs:\n      - targets:\n          - \"localhost:9090\"\n",
    );
    y
}

/// A Prometheus configuration scraping `targets` (`(service, "127.0.0.1:port")`, the admin
/// addresses) every `scrape_interval_secs` under job `qts` with label `service`, evaluating
/// `rule_files` (paths as Prometheus should open them) at the same interval, and sending alerts
/// to `alertmanager` (`host:port`) when given. For `qts up --observability` and the tests that
/// scrape a fleet on loopback.
pub fn local_config(
    targets: &[(String, String)],
    rule_files: &[String],
    alertmanager: Option<&str>,
    scrape_interval_secs: u32,
) -> String {
    local(
        Targets::Static(targets),
        rule_files,
        alertmanager,
        scrape_interval_secs,
    )
}

/// [`local_config`], finding the targets through HTTP service discovery at `sd_url` (the
/// monitoring service's admin `/sd`, which lists every service's admin endpoint with its
/// `service` label), refreshed every scrape interval. What `qts up --observability` runs.
pub fn local_config_http_sd(
    sd_url: &str,
    rule_files: &[String],
    alertmanager: Option<&str>,
    scrape_interval_secs: u32,
) -> String {
    local(
        Targets::HttpSd(sd_url),
        rule_files,
        alertmanager,
        scrape_interval_secs,
    )
}

/// Where a local Prometheus finds the fleet.
enum Targets<'a> {
    /// `(service, "host:port")`.
    Static(&'a [(String, String)]),
    /// An HTTP service discovery URL.
    HttpSd(&'a str),
}

fn local(
    targets: Targets<'_>,
    rule_files: &[String],
    alertmanager: Option<&str>,
    scrape_interval_secs: u32,
) -> String {
    let interval = scrape_interval_secs.max(1);
    let mut y = String::new();
    y.push_str(
        "# Prometheus for a fleet on loopback (generated by ops::prometheus::local_config).\n",
    );
    let _ = write!(
        y,
        "global:\n  scrape_interval: {interval}s\n  scrape_timeout: {interval}s\n  evaluation_interval: {interval}s\n  external_labels:\n    system: qts\n"
    );
    if rule_files.is_empty() {
        y.push_str("\nrule_files: []\n");
    } else {
        y.push_str("\nrule_files:\n");
        for f in rule_files {
            let _ = writeln!(y, "  - {}", q(f));
        }
    }
    if let Some(am) = alertmanager {
        let _ = write!(
            y,
            "\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets:\n            - {}\n",
            q(am)
        );
    }
    let _ = write!(
        y,
        "\nscrape_configs:\n  - job_name: {}\n    honor_labels: true\n    metrics_path: /metrics\n",
        q(JOB)
    );
    let targets = match targets {
        Targets::Static(targets) => targets,
        Targets::HttpSd(url) => {
            let _ = write!(
                y,
                "    http_sd_configs:\n      - url: {}\n        refresh_interval: {interval}s\n",
                q(url)
            );
            return y;
        }
    };
    if targets.is_empty() {
        y.push_str("    static_configs: []\n");
    } else {
        y.push_str("    static_configs:\n");
        for (service, address) in targets {
            let _ = write!(
                y,
                "      - targets:\n          - {}\n        labels:\n          service: {}\n",
                q(address),
                q(service)
            );
        }
    }
    y
}

// ---------------------------------------------------------------------------------------------
// Rules

fn record(name: &str, expr: impl Into<String>) -> Rule {
    Rule::Record(Record {
        record: name.to_owned(),
        expr: expr.into(),
        labels: Vec::new(),
    })
}

/// An alert builder: `alert(name, severity, expr)` then `.for_`, `.service`, `.label`,
/// `.summary`, `.description`, `.build()`.
struct AlertBuilder(Alert);

fn alert(name: &str, severity: Severity, expr: impl Into<String>) -> AlertBuilder {
    AlertBuilder(Alert {
        name: name.to_owned(),
        expr: expr.into(),
        for_: String::new(),
        labels: vec![("severity".into(), severity.as_str().into())],
        annotations: Vec::new(),
    })
}

impl AlertBuilder {
    fn for_(mut self, d: &str) -> Self {
        d.clone_into(&mut self.0.for_);
        self
    }
    fn label(mut self, k: &str, v: &str) -> Self {
        self.0.labels.push((k.into(), v.into()));
        self
    }
    fn summary(mut self, s: &str) -> Self {
        self.0.annotations.push(("summary".into(), s.into()));
        self
    }
    fn description(mut self, s: &str) -> Self {
        self.0.annotations.push(("description".into(), s.into()));
        self
    }
    fn build(mut self) -> Rule {
        let anchor = self.0.name.to_ascii_lowercase();
        self.0
            .annotations
            .push(("runbook".into(), format!("{RUNBOOK_DOC}#{anchor}")));
        Rule::Alert(self.0)
    }
}

fn critical_regex() -> String {
    CRITICAL_SERVICES.join("|")
}

fn severity_of(service: &str) -> Severity {
    if CRITICAL_SERVICES.contains(&service) {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

/// RED recording rules of one protocol (`http` or `grpc`).
fn red_group(proto: &str) -> RuleGroup {
    let requests = format!("qts_{proto}_requests_total");
    let errors = error_selector(proto);
    let duration = format!("qts_{proto}_request_duration_seconds_bucket");
    let base = format!("service:qts_{proto}_requests");
    let mut rules = vec![
        record(
            &format!("{base}:rate5m"),
            format!("sum by (service) (rate({requests}[5m]))"),
        ),
        record(
            &format!("service:qts_{proto}_request_errors:rate5m"),
            format!("sum by (service) (rate({errors}[5m]))"),
        ),
        record(
            &format!("service:qts_{proto}_request_errors:ratio_rate5m"),
            format!(
                "(service:qts_{proto}_request_errors:rate5m or {base}:rate5m * 0)\n  / {base}:rate5m"
            ),
        ),
    ];
    for (name, quantile) in [("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")] {
        rules.push(record(
            &format!("service:qts_{proto}_request_duration_seconds:{name}_rate5m"),
            format!("histogram_quantile({quantile}, sum by (service, le) (rate({duration}[5m])))"),
        ));
    }
    RuleGroup {
        name: format!("qts-red-{proto}"),
        rules,
    }
}

/// The selector of failed requests of one protocol.
fn error_selector(proto: &str) -> String {
    if proto == "http" {
        "qts_http_requests_total{status=~\"5..\"}".to_owned()
    } else {
        format!("qts_grpc_requests_total{{code=~\"{GRPC_ERROR_CODES}\"}}")
    }
}

fn latency_alerts() -> RuleGroup {
    RuleGroup {
        name: "qts-red-alerts".into(),
        rules: vec![
            alert(
                "RequestLatencyHigh",
                Severity::Warning,
                "service:qts_http_request_duration_seconds:p99_rate5m{service!=\"llm\"} > 2.5\n\
                 and service:qts_http_requests:rate5m > 0.1",
            )
            .for_("10m")
            .summary("{{ $labels.service }}: HTTP p99 latency is {{ $value | humanizeDuration }}")
            .description(
                "The 99th percentile of {{ $labels.service }}'s HTTP request latency has been \
                 above 2.5s for 10 minutes (the llm service, slow by design, is left out).",
            )
            .build(),
        ],
    }
}

/// The burn-rate windows: long, short, burn factor, `for`, severity. From the Google SRE
/// workbook ("Alerting on SLOs", multiwindow multi-burn-rate alerts): 14.4x over 1h spends 2% of
/// a 30-day budget, 6x over 6h spends 5%.
const BURN_WINDOWS: [(&str, &str, &str, &str, Severity); 2] = [
    ("1h", "5m", "14.4", "2m", Severity::Critical),
    ("6h", "30m", "6", "15m", Severity::Warning),
];

fn slo_records() -> RuleGroup {
    let mut rules = Vec::new();
    for w in ["5m", "30m", "1h", "6h"] {
        rules.push(record(
            &format!("service:qts_requests:rate{w}"),
            format!(
                "sum by (service) (\n  rate(qts_http_requests_total[{w}])\n  or rate(qts_grpc_requests_total[{w}])\n)"
            ),
        ));
        rules.push(record(
            &format!("service:qts_request_errors:rate{w}"),
            format!(
                "sum by (service) (\n  rate({}[{w}])\n  or rate({}[{w}])\n)",
                error_selector("http"),
                error_selector("grpc")
            ),
        ));
        rules.push(record(
            &format!("service:qts_request_errors:ratio_rate{w}"),
            format!(
                "(service:qts_request_errors:rate{w} or service:qts_requests:rate{w} * 0)\n  / service:qts_requests:rate{w}"
            ),
        ));
    }
    rules.push(record(
        "service:qts_availability:slo_objective",
        format!("{AVAILABILITY_SLO} + 0 * service:qts_requests:rate1h"),
    ));
    RuleGroup {
        name: "qts-slo-records".into(),
        rules,
    }
}

fn slo_alerts() -> RuleGroup {
    let budget = format!("(1 - {AVAILABILITY_SLO})");
    let rules = BURN_WINDOWS
        .iter()
        .map(|(long, short, burn, for_, severity)| {
            alert(
                "SLOErrorBudgetBurn",
                *severity,
                format!(
                    "service:qts_request_errors:ratio_rate{long} > ({burn} * {budget})\n\
                     and service:qts_request_errors:ratio_rate{short} > ({burn} * {budget})\n\
                     and service:qts_requests:rate{long} >= {SLO_MIN_RATE}"
                ),
            )
            .for_(for_)
            .label("slo", "availability")
            .label("window", long)
            .summary(&format!(
                "{{{{ $labels.service }}}} is burning its error budget {burn}x too fast ({long} window)"
            ))
            .description(&format!(
                "{{{{ $value | humanizePercentage }}}} of {{{{ $labels.service }}}}'s requests failed \
                 over the last {long} (and {short}): more than {burn} times the {:.1}% error budget of \
                 its {:.1}% availability SLO.",
                (1.0 - AVAILABILITY_SLO) * 100.0,
                AVAILABILITY_SLO * 100.0
            ))
            .build()
        })
        .collect();
    RuleGroup {
        name: "qts-slo-alerts".into(),
        rules,
    }
}

fn missing_description(name: &str, admin_port: u16) -> String {
    format!(
        "Prometheus has no target for {name} (admin port {admin_port} by default): it is not \
         deployed, scaled to zero, or its pods lost their labels."
    )
}

fn notification_down_annotations() -> Vec<(String, String)> {
    fleet_alerts()
        .rules
        .into_iter()
        .find_map(|r| match r {
            Rule::Alert(a) if a.name == "NotificationDown" => Some(a.annotations),
            Rule::Alert(_) | Rule::Record(_) => None,
        })
        .unwrap_or_default()
}

fn fleet_alerts() -> RuleGroup {
    let critical = critical_regex();
    let mut rules = Vec::new();
    for (severity, op) in [(Severity::Critical, "=~"), (Severity::Warning, "!~")] {
        rules.push(
            alert(
                "TargetDown",
                severity,
                format!("up{{job=\"{JOB}\",service{op}\"{critical}\"}} == 0"),
            )
            .for_("2m")
            .summary("{{ $labels.service }}: {{ $labels.instance }} does not answer scrapes")
            .description(
                "Prometheus has failed to scrape {{ $labels.service }}'s admin port at \
                 {{ $labels.instance }} for 2 minutes: the process is down, hung or unreachable.",
            )
            .build(),
        );
    }
    for s in &SERVICES {
        rules.push(
            alert(
                "ServiceMissing",
                severity_of(s.name),
                format!("absent(up{{job=\"{JOB}\",service=\"{}\"}})", s.name),
            )
            .for_("5m")
            .label("service", s.name)
            .summary(&format!("{}: no instance is scraped", s.name))
            .description(&missing_description(s.name, s.admin_port))
            .build(),
        );
    }
    for (severity, op) in [(Severity::Critical, "=~"), (Severity::Warning, "!~")] {
        rules.push(
            alert(
                "ServiceNotReady",
                severity,
                format!("qts_fleet_service_ready{{service{op}\"{critical}\"}} == 0"),
            )
            .for_("3m")
            .summary("{{ $labels.service }} is not ready")
            .description(
                "The monitoring service has seen {{ $labels.service }} answer /ready with 503 \
                 for 3 minutes: it is starting, stopping, or cannot reach its database.",
            )
            .build(),
        );
    }
    rules.push(
        alert(
            "NotificationDown",
            Severity::Critical,
            format!(
                "max by (service) (up{{job=\"{JOB}\",service=\"notification\"}}) == 0\n\
                 or absent(up{{job=\"{JOB}\",service=\"notification\"}})\n\
                 or max by (service) (qts_fleet_service_ready{{service=\"notification\"}}) == 0"
            ),
        )
        .for_("2m")
        .label("service", "notification")
        .summary("notification is down: alerts go to the e-mail and chat fallback")
        .description(
            "The notification service is not scraped or not ready, so Alertmanager's webhook to \
             it fails; this alert itself is routed straight to e-mail and chat.",
        )
        .build(),
    );
    RuleGroup {
        name: "qts-fleet".into(),
        rules,
    }
}

/// The consumer lag series labelled with the consuming service (the group's first dotted part:
/// `risk.orders` belongs to risk).
const CONSUMER_LAG: &str =
    "label_replace(qts_bus_consumer_lag_messages, \"service\", \"$1\", \"group\", \"([^.]+).*\")";

fn saturation_records() -> RuleGroup {
    RuleGroup {
        name: "qts-saturation-records".into(),
        rules: vec![
            record(
                "service:qts_outbox_pending:max",
                "max by (service) (qts_outbox_pending)",
            ),
            record(
                "service:qts_outbox_lag_seconds:max",
                "max by (service) (qts_outbox_lag_seconds)",
            ),
            record(
                "service:qts_outbox_published:rate5m",
                "sum by (service) (rate(qts_outbox_published_total[5m]))",
            ),
            record(
                "service_consumer:qts_consumer_messages:rate5m",
                "sum by (service, consumer, topic, outcome) (rate(qts_consumer_messages_total[5m]))",
            ),
            record(
                "service_consumer:qts_consumer_handler_failures:rate5m",
                "sum by (service, consumer, topic) (rate(qts_consumer_handler_failures_total[5m]))",
            ),
            record(
                "service_consumer:qts_consumer_handle_duration_seconds:p99_rate5m",
                "histogram_quantile(0.99, sum by (service, consumer, topic, le) (rate(qts_consumer_handle_duration_seconds_bucket[5m])))",
            ),
            record(
                "service_group:qts_bus_consumer_lag_messages:sum",
                format!("sum by (service, group) ({CONSUMER_LAG})"),
            ),
        ],
    }
}

fn saturation_alerts() -> RuleGroup {
    let lag = "service_group:qts_bus_consumer_lag_messages:sum";
    RuleGroup {
        name: "qts-saturation-alerts".into(),
        rules: vec![
            alert(
                "OutboxStuck",
                Severity::Critical,
                "max by (service) (qts_outbox_pending) > 0\n\
                 and sum by (service) (increase(qts_outbox_published_total[10m])) == 0",
            )
            .for_("5m")
            .summary("{{ $labels.service }}: the outbox holds events and publishes none")
            .description(
                "{{ $labels.service }} has {{ $value }} committed events waiting in its outbox \
                 and has published none for 15 minutes: the bus is unreachable or the relay is \
                 stuck, and other services are not seeing its events.",
            )
            .build(),
            alert(
                "OutboxLagHigh",
                Severity::Warning,
                "max by (service) (qts_outbox_lag_seconds) > 60",
            )
            .for_("10m")
            .summary("{{ $labels.service }}: outbox events wait {{ $value | humanizeDuration }}")
            .description(
                "The oldest unpublished outbox row of {{ $labels.service }} has been older than \
                 a minute for 10 minutes.",
            )
            .build(),
            alert(
                "OutboxPublishFailing",
                Severity::Warning,
                "sum by (service) (rate(qts_outbox_publish_failures_total[5m])) > 0",
            )
            .for_("10m")
            .summary("{{ $labels.service }}: publishing outbox events keeps failing")
            .description(
                "{{ $labels.service }}'s outbox relay has failed to publish to the bus \
                 ({{ printf \"%.2f\" $value }}/s) for 10 minutes; it retries with backoff.",
            )
            .build(),
            alert(
                "OutboxDeadLettered",
                Severity::Warning,
                "sum by (service, reason) (increase(qts_outbox_dead_lettered_total[30m])) > 0",
            )
            .summary("{{ $labels.service }}: outbox rows dead-lettered ({{ $labels.reason }})")
            .description(
                "{{ $value | humanize }} outbox rows of {{ $labels.service }} were moved to \
                 qts_outbox_dead in the last 30 minutes ({{ $labels.reason }}): those events were \
                 never published.",
            )
            .build(),
            alert(
                "ConsumerHandlerFailing",
                Severity::Warning,
                "service_consumer:qts_consumer_handler_failures:rate5m > 0",
            )
            .for_("10m")
            .summary("{{ $labels.service }}: consumer {{ $labels.consumer }} keeps failing")
            .description(
                "The handler of {{ $labels.consumer }} on {{ $labels.topic }} has failed \
                 {{ printf \"%.2f\" $value }} times a second for 10 minutes; each failure is retried \
                 and, past the policy, dead-lettered.",
            )
            .build(),
            alert(
                "ConsumerDeadLettering",
                Severity::Warning,
                "sum by (service, consumer, topic) (increase(qts_consumer_messages_total{outcome=\"dead_lettered\"}[30m])) > 0",
            )
            .summary("{{ $labels.service }}: {{ $labels.consumer }} dead-lettered messages")
            .description(
                "{{ $value | humanize }} messages of {{ $labels.topic }} were dead-lettered by \
                 {{ $labels.consumer }} in the last 30 minutes.",
            )
            .build(),
            alert(
                "ConsumerPollErrors",
                Severity::Warning,
                "sum by (service, consumer) (rate(qts_consumer_poll_errors_total[5m])) > 0",
            )
            .for_("10m")
            .summary("{{ $labels.service }}: {{ $labels.consumer }} cannot poll the bus")
            .description(
                "Polls or commits of {{ $labels.consumer }} have failed for 10 minutes: the bus \
                 (Kafka) is unreachable or the group is being rebalanced over and over.",
            )
            .build(),
            alert(
                "ConsumerLagHigh",
                Severity::Warning,
                format!("{lag} > 1000"),
            )
            .for_("10m")
            .summary("{{ $labels.group }} is {{ $value | humanize }} messages behind")
            .description(
                "Consumer group {{ $labels.group }} of {{ $labels.service }} has been more than \
                 1000 messages behind for 10 minutes.",
            )
            .build(),
            alert(
                "ConsumerLagHigh",
                Severity::Critical,
                format!("{lag} > 50000"),
            )
            .for_("10m")
            .summary("{{ $labels.group }} is {{ $value | humanize }} messages behind")
            .description(
                "Consumer group {{ $labels.group }} of {{ $labels.service }} has been more than \
                 50000 messages behind for 10 minutes: what it computes is stale.",
            )
            .build(),
        ],
    }
}

/// The Vietnamese exchanges' sessions on weekdays, in UTC (Vietnam is UTC+7, no daylight
/// saving): 09:00-11:30 and 13:00-14:45 local (ATO, continuous, ATC). Holidays are not known to
/// Prometheus.
const MARKET_OPEN: &str = "vector(1)\n  and on () (day_of_week() >= 1 and day_of_week() <= 5)\n  and on () (\n    (hour() * 60 + minute() >= 120 and hour() * 60 + minute() < 270)\n    or (hour() * 60 + minute() >= 360 and hour() * 60 + minute() < 465)\n  )\nor vector(0)";

/// The condition suffix "while the market is open".
const WHILE_OPEN: &str = "and on () qts:vn_market_open == 1";

fn trading_records() -> RuleGroup {
    RuleGroup {
        name: "qts-trading-records".into(),
        rules: vec![
            record("qts:vn_market_open", MARKET_OPEN),
            record(
                "service_rule:risk_rejections:rate5m",
                "sum by (service, rule) (rate(risk_rejections_total[5m]))",
            ),
            record(
                "service_rule:risk_rejections:rate1h",
                "sum by (service, rule) (rate(risk_rejections_total[1h]))",
            ),
            record(
                "service:oms_place_seconds:p99_rate5m",
                "histogram_quantile(0.99, sum by (service, le) (rate(oms_place_seconds_bucket[5m])))",
            ),
            record(
                "service:oms_fill_seconds:p99_rate5m",
                "histogram_quantile(0.99, sum by (service, le) (rate(oms_fill_seconds_bucket[5m])))",
            ),
            record(
                "service:ingestion_lag_seconds:p99_rate5m",
                "histogram_quantile(0.99, sum by (service, le) (rate(ingestion_lag_seconds_bucket[5m])))",
            ),
            record(
                "service:ingestion_published:rate5m",
                "sum by (service) (rate(ingestion_published_total[5m]))",
            ),
        ],
    }
}

fn trading_alerts() -> RuleGroup {
    RuleGroup {
        name: "qts-trading-alerts".into(),
        rules: vec![
            alert(
                "OrderRejectsSpike",
                Severity::Warning,
                "service_rule:risk_rejections:rate5m > 0.05\n\
                 unless service_rule:risk_rejections:rate5m <= 3 * (service_rule:risk_rejections:rate1h offset 5m)",
            )
            .for_("2m")
            .summary("Orders rejected by risk rule {{ $labels.rule }}: {{ printf \"%.2f\" $value }}/s")
            .description(
                "Risk rule {{ $labels.rule }} rejects orders at more than 3 a minute and more \
                 than three times its rate of the hour before: a strategy misbehaves, a limit is \
                 set too tight, or market data (prices, bands) is wrong.",
            )
            .build(),
            alert(
                "OrderPlaceLatencyHigh",
                Severity::Warning,
                "service:oms_place_seconds:p99_rate5m > 2.5",
            )
            .for_("5m")
            .summary("Order placement p99 is {{ $value | humanizeDuration }}")
            .description(
                "The 99th percentile of the time from an order request to the broker's answer \
                 has been above 2.5s for 5 minutes: the broker (SSI) or the risk check is slow.",
            )
            .build(),
            alert(
                "FillLatencyHigh",
                Severity::Warning,
                "service:oms_fill_seconds:p99_rate5m > 5",
            )
            .for_("5m")
            .summary("Fills reach the OMS {{ $value | humanizeDuration }} after the exchange (p99)")
            .description(
                "The 99th percentile of the time from a fill at the exchange to the OMS storing \
                 it has been above 5s for 5 minutes: the broker's account stream is late, or \
                 the OMS is slow to apply it (positions and buying power lag behind).",
            )
            .build(),
            alert(
                "BrokerCallsFailing",
                Severity::Critical,
                "sum by (service, call) (rate(oms_broker_calls_total{result=\"unknown\"}[5m])) > 0",
            )
            .for_("5m")
            .summary("Broker {{ $labels.call }} calls get no answer")
            .description(
                "The OMS's {{ $labels.call }} calls to the broker have ended without an answer \
                 (timeout, unavailable, rate limited) for 5 minutes: those orders are in an \
                 unknown state until reconciliation.",
            )
            .build(),
            alert(
                "RiskChecksUnavailable",
                Severity::Critical,
                "sum by (service) (rate(risk_checks_total{result=\"unavailable\"}[5m])) > 0",
            )
            .for_("5m")
            .summary("Risk checks are unavailable: orders are refused")
            .description(
                "The risk service answers pre-trade checks with \"unavailable\" (its state is \
                 not caught up): the OMS fails closed and rejects every order.",
            )
            .build(),
            alert(
                "KillSwitchEngaged",
                Severity::Critical,
                "sum by (service, scope) (risk_kill_switches_engaged) > 0",
            )
            .summary("{{ $value }} {{ $labels.scope }} kill switch(es) engaged")
            .description(
                "Kill switches of scope {{ $labels.scope }} are engaged: orders in their scope \
                 are refused until someone releases them.",
            )
            .build(),
            alert(
                "CircuitBreakerActive",
                Severity::Info,
                "max by (service) (risk_breakers_active) > 0",
            )
            .for_("1m")
            .summary("{{ $value }} risk breakers refuse orders")
            .description(
                "Symbol or market-wide breakers of the risk service refuse orders now.",
            )
            .build(),
            alert(
                "MarketDataFeedDisconnected",
                Severity::Critical,
                format!("max by (service) (ingestion_feed_connected) == 0\n{WHILE_OPEN}"),
            )
            .for_("2m")
            .summary("The market-data feed is disconnected during trading hours")
            .description(
                "Ingestion has been disconnected from the broker's market-data stream for 2 \
                 minutes while the market is open: prices, bars and signals are stale.",
            )
            .build(),
            alert(
                "MarketDataStale",
                Severity::Critical,
                format!("service:ingestion_published:rate5m == 0\n{WHILE_OPEN}"),
            )
            .for_("5m")
            .summary("No market data is published during trading hours")
            .description(
                "Ingestion has published no normalised market data for 10 minutes while the \
                 market is open, although it may be connected.",
            )
            .build(),
            alert(
                "MarketDataGap",
                Severity::Warning,
                format!("sum by (service) (increase(ingestion_gaps_total[10m])) > 0\n{WHILE_OPEN}"),
            )
            .summary("Market-data gaps during trading hours")
            .description(
                "Ingestion saw {{ $value | humanize }} feed gaps in the last 10 minutes while \
                 the market is open: events may have been missed.",
            )
            .build(),
            alert(
                "MarketDataLagHigh",
                Severity::Warning,
                format!("service:ingestion_lag_seconds:p99_rate5m > 5\n{WHILE_OPEN}"),
            )
            .for_("5m")
            .summary("Market data arrives {{ $value | humanizeDuration }} late (p99)")
            .description(
                "The 99th percentile of the time from a trade's exchange time to its \
                 publication has been above 5s for 5 minutes during trading hours.",
            )
            .build(),
            alert(
                "MarketDataRejected",
                Severity::Warning,
                "sum by (service, reason) (rate(ingestion_rejected_total[5m])) > 1",
            )
            .for_("10m")
            .summary("Market data rejected by validation ({{ $labels.reason }})")
            .description(
                "Ingestion rejects more than one raw message a second ({{ $labels.reason }}) \
                 for 10 minutes; they go to market.rejected.v1.",
            )
            .build(),
            alert(
                "MasterDataSyncFailing",
                Severity::Warning,
                "sum by (service) (increase(master_data_syncs_total{result=\"error\"}[1h])) > 0\n\
                 unless sum by (service) (increase(master_data_syncs_total{result=\"ok\"}[1h])) > 0",
            )
            .summary("Master data cannot sync from the broker")
            .description(
                "Syncs of securities and day bands from the broker failed in the last hour and \
                 none succeeded: new listings and today's price bands may be missing.",
            )
            .build(),
            alert(
                "SsiTokenExpiring",
                Severity::Warning,
                "min by (service, kind) (config_ssi_token_expires_at_seconds) > 0\n\
                 and min by (service, kind) (config_ssi_token_expires_at_seconds) - time() < 3600",
            )
            .for_("10m")
            .summary("The SSI {{ $labels.kind }} token expires within the hour")
            .description(
                "The config service's SSI {{ $labels.kind }} token expires in less than an hour \
                 and has not been renewed.",
            )
            .build(),
            alert(
                "NotificationDeliveriesDead",
                Severity::Warning,
                "sum by (service, channel) (increase(notification_deliveries_total{result=\"dead\"}[30m])) > 0",
            )
            .summary("Notifications on {{ $labels.channel }} were given up")
            .description(
                "{{ $value | humanize }} deliveries on {{ $labels.channel }} exhausted their \
                 retries in the last 30 minutes: users did not get those messages.",
            )
            .build(),
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// YAML text

/// The first line of every generated YAML file.
pub(crate) const HEADER: &str = "# Generated by crates/ops from the service registry: do not edit (see docs/ops/monitoring.md).\n";

/// `s` as a YAML double-quoted scalar. JSON's string syntax is a subset of YAML's double-quoted
/// one, so this is safe for any content.
pub(crate) fn q(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// `key: value` at `indent`, multi-line values as a `|-` block.
fn scalar(y: &mut String, indent: usize, key: &str, value: &str) {
    let pad = " ".repeat(indent);
    if value.contains('\n') {
        let _ = writeln!(y, "{pad}{key}: |-");
        for line in value.lines() {
            let _ = writeln!(y, "{pad}  {line}");
        }
    } else {
        let _ = writeln!(y, "{pad}{key}: {}", q(value));
    }
}

fn map(y: &mut String, indent: usize, key: &str, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    let pad = " ".repeat(indent);
    let _ = writeln!(y, "{pad}{key}:");
    for (k, v) in pairs {
        scalar(y, indent + 2, k, v);
    }
}

/// Renders groups as a Prometheus rule file.
pub fn render_groups(groups: &[RuleGroup]) -> String {
    let mut y = String::from("groups:\n");
    for g in groups {
        let _ = writeln!(y, "  - name: {}", q(&g.name));
        y.push_str("    rules:\n");
        for r in &g.rules {
            match r {
                Rule::Record(r) => {
                    let _ = writeln!(y, "      - record: {}", q(&r.record));
                    scalar(&mut y, 8, "expr", &r.expr);
                    map(&mut y, 8, "labels", &r.labels);
                }
                Rule::Alert(a) => {
                    let _ = writeln!(y, "      - alert: {}", q(&a.name));
                    scalar(&mut y, 8, "expr", &a.expr);
                    if !a.for_.is_empty() {
                        let _ = writeln!(y, "        for: {}", a.for_);
                    }
                    map(&mut y, 8, "labels", &a.labels);
                    map(&mut y, 8, "annotations", &a.annotations);
                }
            }
        }
    }
    y
}

fn render_rule_file(f: &RuleFile) -> String {
    let mut y = String::from(HEADER);
    let _ = writeln!(y, "# {}", f.about);
    y.push_str(&render_groups(&f.groups));
    y
}
