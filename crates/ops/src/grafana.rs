//! Grafana as code: provisioned dashboards (fleet overview; one RED dashboard per registry
//! service from one template; market data; trading and P&L; bus; database and cache) and their
//! provisioning files. [`queries`] lists every panel's PromQL, so a test can run each against a
//! Prometheus scraping a real fleet.
//!
//! The panels query the raw metrics (so they work without the recording rules), except the SLO
//! burn rate and the market session, which read `service:qts_request_errors:ratio_rate1h` and
//! `qts:vn_market_open` from deploy/prometheus/rules.

use serde_json::{Value, json};

use common_settings::registry::SERVICES;

use crate::File;
use crate::prometheus::{AVAILABILITY_SLO, GRPC_ERROR_CODES, HEADER, JOB};

/// Grafana's dashboard schema version the JSON is written for (Grafana 10.x/11.x).
pub const SCHEMA_VERSION: u32 = 39;

/// Where the provisioned dashboards are mounted in the Grafana container.
pub const DASHBOARDS_DIR: &str = "/var/lib/grafana/dashboards/qts";

/// The provisioned Prometheus data source's uid (the `datasource` variable's default).
pub const DATASOURCE_UID: &str = "prometheus";

/// The in-cluster Prometheus URL of the provisioned data source.
pub const PROMETHEUS_URL: &str = "http://prometheus:9090";

/// A panel kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Timeseries,
    Stat,
}

/// One panel: title, kind, unit, targets (expr, legend).
#[derive(Debug, Clone)]
struct Panel {
    title: String,
    kind: Kind,
    unit: &'static str,
    description: String,
    targets: Vec<(String, String)>,
}

fn ts(title: &str, unit: &'static str, targets: &[(&str, &str)]) -> Item {
    Item::Panel(Panel {
        title: title.to_owned(),
        kind: Kind::Timeseries,
        unit,
        description: String::new(),
        targets: targets
            .iter()
            .map(|(e, l)| ((*e).to_owned(), (*l).to_owned()))
            .collect(),
    })
}

fn stat(title: &str, unit: &'static str, expr: &str) -> Item {
    Item::Panel(Panel {
        title: title.to_owned(),
        kind: Kind::Stat,
        unit,
        description: String::new(),
        targets: vec![(expr.to_owned(), String::new())],
    })
}

/// A panel or a row header.
#[derive(Debug, Clone)]
enum Item {
    Row(String),
    Panel(Panel),
}

fn row(title: &str) -> Item {
    Item::Row(title.to_owned())
}

/// One dashboard before rendering.
#[derive(Debug, Clone)]
struct Dashboard {
    uid: String,
    file: String,
    title: String,
    description: String,
    tags: Vec<&'static str>,
    items: Vec<Item>,
}

/// The generated files: every dashboard and the two provisioning files.
pub fn files() -> Vec<File> {
    let mut files: Vec<File> = dashboards()
        .iter()
        .map(|d| {
            let text = serde_json::to_string_pretty(&render(d)).unwrap_or_default();
            File::new(
                format!("deploy/grafana/dashboards/{}.json", d.file),
                text + "\n",
            )
        })
        .collect();
    files.push(File::new(
        "deploy/grafana/provisioning/dashboards/qts.yaml",
        format!(
            "{HEADER}apiVersion: 1\nproviders:\n  - name: \"qts\"\n    orgId: 1\n    folder: \"QTS\"\n    folderUid: \"qts\"\n    type: file\n    disableDeletion: true\n    allowUiUpdates: false\n    updateIntervalSeconds: 60\n    options:\n      path: \"{DASHBOARDS_DIR}\"\n      foldersFromFilesStructure: false\n"
        ),
    ));
    files.push(File::new(
        "deploy/grafana/provisioning/datasources/prometheus.yaml",
        format!(
            "{HEADER}apiVersion: 1\ndatasources:\n  - name: \"Prometheus\"\n    uid: \"{DATASOURCE_UID}\"\n    type: prometheus\n    access: proxy\n    url: \"{PROMETHEUS_URL}\"\n    isDefault: true\n    editable: false\n    jsonData:\n      timeInterval: \"15s\"\n      httpMethod: POST\n"
        ),
    ));
    files
}

/// Every panel target as (dashboard uid, panel title, PromQL), in dashboard and panel order.
/// The expressions are plain PromQL (no Grafana variables).
pub fn queries() -> Vec<(String, String, String)> {
    dashboards()
        .into_iter()
        .flat_map(|d| {
            let uid = d.uid.clone();
            d.items.into_iter().filter_map(move |i| match i {
                Item::Panel(p) => Some((uid.clone(), p)),
                Item::Row(_) => None,
            })
        })
        .flat_map(|(uid, p)| {
            p.targets
                .into_iter()
                .map(move |(expr, _)| (uid.clone(), p.title.clone(), expr))
        })
        .collect()
}

/// The uid of a service's RED dashboard.
pub fn service_uid(name: &str) -> String {
    format!("qts-svc-{name}")
}

/// Every dashboard's uid and file path, in order.
pub fn dashboard_files() -> Vec<(String, String)> {
    dashboards()
        .into_iter()
        .map(|d| (d.uid, format!("deploy/grafana/dashboards/{}.json", d.file)))
        .collect()
}

fn dashboards() -> Vec<Dashboard> {
    let mut all = vec![fleet()];
    all.extend(SERVICES.iter().map(|s| service(s.name)));
    all.extend([market_data(), trading(), bus(), storage()]);
    all
}

// ---------------------------------------------------------------------------------------------
// The dashboards

fn fleet() -> Dashboard {
    let requests = "rate(qts_http_requests_total[5m]) or rate(qts_grpc_requests_total[5m])";
    let errors = format!(
        "rate(qts_http_requests_total{{status=~\"5..\"}}[5m]) or rate(qts_grpc_requests_total{{code=~\"{GRPC_ERROR_CODES}\"}}[5m])"
    );
    let error_ratio = format!(
        "(sum by (service) ({errors}) or sum by (service) ({requests}) * 0) / sum by (service) ({requests})"
    );
    let burn = format!("service:qts_request_errors:ratio_rate1h / (1 - {AVAILABILITY_SLO})");
    Dashboard {
        uid: "qts-fleet".into(),
        file: "fleet-overview".into(),
        title: "QTS / Fleet overview".into(),
        description:
            "Every service of the registry: up, ready, traffic, errors, latency, SLO burn.".into(),
        tags: vec!["qts", "fleet"],
        items: vec![
            row("Health"),
            stat("Targets up", "none", &format!("sum(up{{job=\"{JOB}\"}})")),
            stat(
                "Targets down",
                "none",
                &format!("count(up{{job=\"{JOB}\"}} == 0) or vector(0)"),
            ),
            stat("Services ready", "none", "sum(qts_fleet_service_ready)"),
            stat(
                "Alerts firing",
                "none",
                "count(ALERTS{alertstate=\"firing\"}) or vector(0)",
            ),
            ts(
                "Up by service",
                "none",
                &[(
                    &format!("min by (service) (up{{job=\"{JOB}\"}})"),
                    "{{service}}",
                )],
            ),
            ts(
                "Ready by service (monitoring)",
                "none",
                &[("min by (service) (qts_fleet_service_ready)", "{{service}}")],
            ),
            ts(
                "Instances by service",
                "none",
                &[("max by (service) (qts_fleet_instances)", "{{service}}")],
            ),
            ts(
                "Config version by service",
                "none",
                &[("max by (service) (qts_config_version)", "{{service}}")],
            ),
            row("Traffic (HTTP + gRPC)"),
            ts(
                "Requests/s by service",
                "reqps",
                &[(&format!("sum by (service) ({requests})"), "{{service}}")],
            ),
            ts(
                "Error ratio by service",
                "percentunit",
                &[(&error_ratio, "{{service}}")],
            ),
            ts(
                "HTTP p99 latency by service",
                "s",
                &[(
                    "histogram_quantile(0.99, sum by (service, le) (rate(qts_http_request_duration_seconds_bucket[5m])))",
                    "{{service}}",
                )],
            ),
            ts(
                "gRPC p99 latency by service",
                "s",
                &[(
                    "histogram_quantile(0.99, sum by (service, le) (rate(qts_grpc_request_duration_seconds_bucket[5m])))",
                    "{{service}}",
                )],
            ),
            ts(
                "SLO burn rate (1h) by service",
                "none",
                &[(&burn, "{{service}}")],
            ),
            row("Scrapes"),
            ts(
                "Scrape duration by service",
                "s",
                &[(
                    &format!("max by (service) (scrape_duration_seconds{{job=\"{JOB}\"}})"),
                    "{{service}}",
                )],
            ),
            ts(
                "Samples scraped by service",
                "none",
                &[(
                    &format!("sum by (service) (scrape_samples_scraped{{job=\"{JOB}\"}})"),
                    "{{service}}",
                )],
            ),
            row("Notifications"),
            ts(
                "Notification queue by channel",
                "none",
                &[("sum by (channel) (notification_queue_depth)", "{{channel}}")],
            ),
            ts(
                "Notification deliveries/s by channel and result",
                "ops",
                &[(
                    "sum by (channel, result) (rate(notification_deliveries_total[5m]))",
                    "{{channel}} {{result}}",
                )],
            ),
        ],
    }
}

/// The RED template of one service.
fn service(name: &str) -> Dashboard {
    let sel = format!("service=\"{name}\"");
    let http = format!("qts_http_requests_total{{{sel}}}");
    let http_err = format!("qts_http_requests_total{{{sel},status=~\"5..\"}}");
    let grpc = format!("qts_grpc_requests_total{{{sel}}}");
    let grpc_err = format!("qts_grpc_requests_total{{{sel},code=~\"{GRPC_ERROR_CODES}\"}}");
    let quantiles = |metric: &str| -> Vec<(String, String)> {
        ["0.5", "0.95", "0.99"]
            .iter()
            .map(|q| {
                (
                    format!(
                        "histogram_quantile({q}, sum by (le) (rate({metric}_bucket{{{sel}}}[5m])))"
                    ),
                    format!("p{}", &q[2..]),
                )
            })
            .collect()
    };
    let latency = |title: &str, metric: &str| {
        let targets = quantiles(metric);
        Item::Panel(Panel {
            title: title.to_owned(),
            kind: Kind::Timeseries,
            unit: "s",
            description: String::new(),
            targets,
        })
    };
    let ratio = |err: &str, all: &str| {
        format!("(sum(rate({err}[5m])) or vector(0)) / sum(rate({all}[5m]))")
    };
    Dashboard {
        uid: service_uid(name),
        file: format!("service-{name}"),
        title: format!("QTS / Service / {name}"),
        description: format!(
            "RED of {name} (from the service registry's template): HTTP and gRPC rate, errors, \
             duration; health and scrapes."
        ),
        tags: vec!["qts", "service"],
        items: vec![
            row("Health"),
            stat(
                "Instances up",
                "none",
                &format!("sum(up{{job=\"{JOB}\",{sel}}})"),
            ),
            stat(
                "Ready (monitoring)",
                "none",
                &format!("min(qts_fleet_service_ready{{{sel}}})"),
            ),
            stat(
                "Scrape duration",
                "s",
                &format!("max(scrape_duration_seconds{{job=\"{JOB}\",{sel}}})"),
            ),
            stat(
                "Samples scraped",
                "none",
                &format!("sum(scrape_samples_scraped{{job=\"{JOB}\",{sel}}})"),
            ),
            row("HTTP"),
            ts(
                "HTTP requests/s by route and status",
                "reqps",
                &[(
                    &format!("sum by (method, route, status) (rate({http}[5m]))"),
                    "{{method}} {{route}} {{status}}",
                )],
            ),
            ts(
                "HTTP error ratio (5xx)",
                "percentunit",
                &[(&ratio(&http_err, &http), "5xx")],
            ),
            latency("HTTP latency", "qts_http_request_duration_seconds"),
            row("gRPC"),
            ts(
                "gRPC calls/s by method and code",
                "reqps",
                &[(
                    &format!("sum by (method, code) (rate({grpc}[5m]))"),
                    "{{method}} {{code}}",
                )],
            ),
            ts(
                "gRPC error ratio (server errors)",
                "percentunit",
                &[(&ratio(&grpc_err, &grpc), "errors")],
            ),
            latency("gRPC latency", "qts_grpc_request_duration_seconds"),
        ],
    }
}

fn market_data() -> Dashboard {
    let p = |metric: &str, q: &str| {
        format!("histogram_quantile({q}, sum by (le) (rate({metric}_bucket[5m])))")
    };
    Dashboard {
        uid: "qts-market-data".into(),
        file: "market-data".into(),
        title: "QTS / Market data".into(),
        description: "The feed (ingestion), bars (historical), indicators and signals (ta), \
                      securities and bands (master-data)."
            .into(),
        tags: vec!["qts", "market-data"],
        items: vec![
            row("Feed"),
            stat("Feed connected", "none", "max(ingestion_feed_connected)"),
            stat("Market open (Vietnam)", "none", "max(qts:vn_market_open)"),
            stat(
                "Feed gaps (24h)",
                "none",
                "sum(increase(ingestion_gaps_total[1d]))",
            ),
            stat(
                "Synced trading day",
                "none",
                "max(master_data_synced_trading_day)",
            ),
            ts(
                "Feed messages/s by channel",
                "ops",
                &[(
                    "sum by (channel) (rate(ingestion_feed_messages_total[5m]))",
                    "{{channel}}",
                )],
            ),
            ts(
                "Published/s by channel",
                "ops",
                &[(
                    "sum by (channel) (rate(ingestion_published_total[5m]))",
                    "{{channel}}",
                )],
            ),
            ts(
                "Rejected/s by reason",
                "ops",
                &[(
                    "sum by (reason) (rate(ingestion_rejected_total[5m]))",
                    "{{reason}}",
                )],
            ),
            ts(
                "Duplicates/s by channel",
                "ops",
                &[(
                    "sum by (channel) (rate(ingestion_duplicates_total[5m]))",
                    "{{channel}}",
                )],
            ),
            ts(
                "Reconnects and gaps (5m)",
                "none",
                &[
                    (
                        "sum(increase(ingestion_reconnects_total[5m]))",
                        "reconnects",
                    ),
                    ("sum(increase(ingestion_gaps_total[5m]))", "gaps"),
                ],
            ),
            ts(
                "Exchange-to-bus lag (market clock)",
                "s",
                &[
                    (&p("ingestion_lag_seconds", "0.5"), "p50"),
                    (&p("ingestion_lag_seconds", "0.99"), "p99"),
                ],
            ),
            ts(
                "Raw-to-normalised lag",
                "s",
                &[
                    (&p("ingestion_pipeline_lag_seconds", "0.5"), "p50"),
                    (&p("ingestion_pipeline_lag_seconds", "0.99"), "p99"),
                ],
            ),
            row("Bars and indicators"),
            ts(
                "Trades consumed/s by outcome (historical)",
                "ops",
                &[(
                    "sum by (outcome) (rate(historical_trades_total[5m]))",
                    "{{outcome}}",
                )],
            ),
            ts(
                "Bars closed/s by cause (historical)",
                "ops",
                &[(
                    "sum by (by) (rate(historical_bars_closed_total[5m]))",
                    "{{by}}",
                )],
            ),
            ts(
                "Bars into indicators/s by timeframe (ta)",
                "ops",
                &[(
                    "sum by (timeframe) (rate(ta_bars_total[5m]))",
                    "{{timeframe}}",
                )],
            ),
            ts(
                "Signals/s by kind (ta)",
                "ops",
                &[("sum by (kind) (rate(ta_signals_total[5m]))", "{{kind}}")],
            ),
            row("Master data"),
            ts(
                "Syncs by result (1h)",
                "none",
                &[(
                    "sum by (result) (increase(master_data_syncs_total[1h]))",
                    "{{result}}",
                )],
            ),
            ts(
                "Sync duration",
                "s",
                &[(&p("master_data_sync_seconds", "0.99"), "p99")],
            ),
        ],
    }
}

fn trading() -> Dashboard {
    let p = |metric: &str, q: &str| {
        format!("histogram_quantile({q}, sum by (le) (rate({metric}_bucket[5m])))")
    };
    let book = |title: &str, metric: &str| {
        ts(
            title,
            "currencyVND",
            &[(
                &format!("sum by (scope, key) ({metric})"),
                "{{scope}} {{key}}",
            )],
        )
    };
    Dashboard {
        uid: "qts-trading".into(),
        file: "trading".into(),
        title: "QTS / Trading and P&L".into(),
        description: "Orders (oms), pre-trade risk and the books (risk), decisions, rules and \
                      models."
            .into(),
        tags: vec!["qts", "trading"],
        items: vec![
            row("Now"),
            stat("Open orders", "none", "sum(oms_open_orders)"),
            stat("Breakers active", "none", "max(risk_breakers_active)"),
            stat("Halted symbols", "none", "max(risk_halted_symbols)"),
            stat(
                "Kill switches engaged",
                "none",
                "sum(risk_kill_switches_engaged)",
            ),
            row("Books (VND)"),
            book("P&L today", "risk_pnl_today_vnd"),
            book("Drawdown today", "risk_drawdown_vnd"),
            book("Exposure", "risk_exposure_vnd"),
            book("Margin used", "risk_margin_used_vnd"),
            row("Orders"),
            ts(
                "Order requests/s by result",
                "ops",
                &[(
                    "sum by (result) (rate(oms_order_requests_total[5m]))",
                    "{{result}}",
                )],
            ),
            ts(
                "Order place latency",
                "s",
                &[
                    (&p("oms_place_seconds", "0.5"), "p50"),
                    (&p("oms_place_seconds", "0.95"), "p95"),
                    (&p("oms_place_seconds", "0.99"), "p99"),
                ],
            ),
            ts(
                "Fill latency (exchange to OMS)",
                "s",
                &[
                    (&p("oms_fill_seconds", "0.5"), "p50"),
                    (&p("oms_fill_seconds", "0.99"), "p99"),
                ],
            ),
            ts(
                "Broker calls/s by call and result",
                "ops",
                &[(
                    "sum by (call, result) (rate(oms_broker_calls_total[5m]))",
                    "{{call}} {{result}}",
                )],
            ),
            ts(
                "Order changes/s by kind",
                "ops",
                &[(
                    "sum by (kind) (rate(oms_order_changes_total[5m]))",
                    "{{kind}}",
                )],
            ),
            ts(
                "Account snapshots/s (oms.account.v1) by result",
                "ops",
                &[(
                    "sum by (result) (rate(oms_account_snapshots_total[5m]))",
                    "{{result}}",
                )],
            ),
            row("Risk"),
            ts(
                "Pre-trade checks/s by result",
                "ops",
                &[(
                    "sum by (result) (rate(risk_checks_total[5m]))",
                    "{{result}}",
                )],
            ),
            ts(
                "Rejections/s by rule",
                "ops",
                &[(
                    "sum by (rule) (rate(risk_rejections_total[5m]))",
                    "{{rule}}",
                )],
            ),
            ts(
                "Risk check time in the engine",
                "s",
                &[
                    (&p("risk_check_seconds", "0.5"), "p50"),
                    (&p("risk_check_seconds", "0.99"), "p99"),
                ],
            ),
            ts(
                "Risk events applied/s by kind",
                "ops",
                &[("sum by (kind) (rate(risk_events_total[5m]))", "{{kind}}")],
            ),
            row("Strategies and models"),
            ts(
                "Decisions/s by outcome",
                "ops",
                &[(
                    "sum by (outcome) (rate(decision_decisions_total[5m]))",
                    "{{outcome}}",
                )],
            ),
            ts(
                "Rule evaluations/s by service and verdict",
                "ops",
                &[(
                    "sum by (service, verdict) (rate(rule_evaluations_total[5m]))",
                    "{{service}} {{verdict}}",
                )],
            ),
            ts(
                "Prediction model",
                "none",
                &[
                    ("max(prediction_model_ic)", "information coefficient"),
                    ("max(prediction_model_version)", "version"),
                ],
            ),
            ts(
                "Market sentiment (emotion)",
                "none",
                &[("max(emotion_market_sentiment)", "sentiment")],
            ),
        ],
    }
}

fn bus() -> Dashboard {
    Dashboard {
        uid: "qts-bus".into(),
        file: "bus".into(),
        title: "QTS / Bus: consumers and outboxes".into(),
        description: "Consumer lag (from the monitoring service), consumers' throughput and \
                      failures, and each service's transactional outbox."
            .into(),
        tags: vec!["qts", "bus"],
        items: vec![
            row("Consumers"),
            ts(
                "Consumer lag by group and topic (messages)",
                "none",
                &[(
                    "sum by (group, topic) (qts_bus_consumer_lag_messages)",
                    "{{group}} {{topic}}",
                )],
            ),
            ts(
                "Messages/s by consumer and outcome",
                "ops",
                &[(
                    "sum by (service, consumer, outcome) (rate(qts_consumer_messages_total[5m]))",
                    "{{consumer}} {{outcome}}",
                )],
            ),
            ts(
                "Handle duration p99 by consumer",
                "s",
                &[(
                    "histogram_quantile(0.99, sum by (consumer, le) (rate(qts_consumer_handle_duration_seconds_bucket[5m])))",
                    "{{consumer}}",
                )],
            ),
            ts(
                "Handler failures/s by consumer",
                "ops",
                &[(
                    "sum by (consumer) (rate(qts_consumer_handler_failures_total[5m]))",
                    "{{consumer}}",
                )],
            ),
            row("Outboxes"),
            ts(
                "Outbox rows waiting by service",
                "none",
                &[("max by (service) (qts_outbox_pending)", "{{service}}")],
            ),
            ts(
                "Oldest unpublished row by service",
                "s",
                &[("max by (service) (qts_outbox_lag_seconds)", "{{service}}")],
            ),
            ts(
                "Published/s by service",
                "ops",
                &[(
                    "sum by (service) (rate(qts_outbox_published_total[5m]))",
                    "{{service}}",
                )],
            ),
            ts(
                "Publish failures/s by service",
                "ops",
                &[(
                    "sum by (service) (rate(qts_outbox_publish_failures_total[5m]))",
                    "{{service}}",
                )],
            ),
            ts(
                "Dead-lettered rows (1h) by service and reason",
                "none",
                &[(
                    "sum by (service, reason) (increase(qts_outbox_dead_lettered_total[1h]))",
                    "{{service}} {{reason}}",
                )],
            ),
        ],
    }
}

fn storage() -> Dashboard {
    let p = |metric: &str, q: &str| {
        format!("histogram_quantile({q}, sum by (le) (rate({metric}_bucket[5m])))")
    };
    Dashboard {
        uid: "qts-storage".into(),
        file: "database-and-cache".into(),
        title: "QTS / Database and cache".into(),
        description: "What the services report about their stores: retention pruning, the \
                      historical service's batch writes and master data's security cache. There \
                      are no connection-pool, query-latency or Redis metrics yet."
            .into(),
        tags: vec!["qts", "storage"],
        items: vec![
            row("Retention"),
            ts(
                "Rows pruned/s by service and table",
                "ops",
                &[(
                    "sum by (service, table) (rate(qts_store_pruned_rows_total[1h]))",
                    "{{service}} {{table}}",
                )],
            ),
            row("Historical writes"),
            ts(
                "Batch write duration",
                "s",
                &[
                    (&p("historical_batch_duration_seconds", "0.5"), "p50"),
                    (&p("historical_batch_duration_seconds", "0.99"), "p99"),
                ],
            ),
            ts(
                "Batch size (deliveries)",
                "none",
                &[
                    (&p("historical_batch_size", "0.5"), "p50"),
                    (&p("historical_batch_size", "0.99"), "p99"),
                ],
            ),
            ts(
                "Backfill rows/s",
                "ops",
                &[("sum(rate(historical_backfill_rows_total[5m]))", "rows")],
            ),
            row("Master-data cache"),
            ts(
                "Cache hit ratio",
                "percentunit",
                &[(
                    "sum(rate(master_data_cache_lookups_total{result=\"hit\"}[5m])) / sum(rate(master_data_cache_lookups_total[5m]))",
                    "hit ratio",
                )],
            ),
            ts(
                "Cache lookups/s by result",
                "ops",
                &[(
                    "sum by (result) (rate(master_data_cache_lookups_total[5m]))",
                    "{{result}}",
                )],
            ),
            ts(
                "Cache invalidations/s",
                "ops",
                &[(
                    "sum(rate(master_data_cache_invalidations_total[5m]))",
                    "invalidations",
                )],
            ),
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

fn render(d: &Dashboard) -> Value {
    let mut panels = Vec::new();
    let (mut x, mut y, mut line_h) = (0_u32, 0_u32, 0_u32);
    for (id, item) in (1_u32..).zip(&d.items) {
        match item {
            Item::Row(title) => {
                if x > 0 {
                    y += line_h;
                }
                panels.push(json!({
                    "id": id,
                    "type": "row",
                    "title": title,
                    "collapsed": false,
                    "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                    "panels": [],
                }));
                (x, line_h) = (0, 0);
                y += 1;
            }
            Item::Panel(p) => {
                let (w, h) = match p.kind {
                    Kind::Stat => (6, 4),
                    Kind::Timeseries => (12, 8),
                };
                if x + w > 24 {
                    (x, y) = (0, y + line_h);
                    line_h = 0;
                }
                panels.push(panel(p, id, x, y, w, h));
                x += w;
                line_h = line_h.max(h);
            }
        }
    }
    json!({
        "uid": d.uid,
        "title": d.title,
        "description": d.description,
        "tags": d.tags,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": false,
        "graphTooltip": 1,
        "timezone": "browser",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": false,
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": true,
            "hide": true,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "links": [
            {"title": "QTS", "type": "dashboards", "tags": ["qts"], "asDropdown": true, "includeVars": false, "keepTime": true},
        ],
        "templating": {"list": [{
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {"text": "Prometheus", "value": DATASOURCE_UID},
            "hide": 0,
            "refresh": 1,
            "regex": "",
            "includeAll": false,
            "multi": false,
            "options": [],
            "skipUrlSync": false,
        }]},
        "panels": panels,
    })
}

fn panel(p: &Panel, id: u32, x: u32, y: u32, w: u32, h: u32) -> Value {
    let targets: Vec<Value> = p
        .targets
        .iter()
        .zip('A'..='Z')
        .map(|((expr, legend), ref_id)| {
            json!({
                "refId": ref_id.to_string(),
                "datasource": datasource(),
                "expr": expr,
                "legendFormat": if legend.is_empty() { "__auto" } else { legend.as_str() },
                "range": true,
                "instant": false,
                "editorMode": "code",
            })
        })
        .collect();
    let (kind, options, custom) = match p.kind {
        Kind::Stat => (
            "stat",
            json!({
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
                "colorMode": "value",
                "graphMode": "area",
                "justifyMode": "auto",
                "orientation": "auto",
                "textMode": "auto",
            }),
            json!({}),
        ),
        Kind::Timeseries => (
            "timeseries",
            json!({
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
                "tooltip": {"mode": "multi", "sort": "desc"},
            }),
            json!({
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "stacking": {"group": "A", "mode": "none"},
            }),
        ),
    };
    json!({
        "id": id,
        "type": kind,
        "title": p.title,
        "description": p.description,
        "datasource": datasource(),
        "gridPos": {"h": h, "w": w, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {
            "defaults": {
                "unit": p.unit,
                "custom": custom,
                "color": {"mode": "palette-classic"},
                "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": null}]},
            },
            "overrides": [],
        },
        "options": options,
    })
}
