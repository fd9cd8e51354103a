//! HTTP adapter: the fleet, consumer lag and alerts as JSON for ops (role `ops`; an admin has
//! every role), a public status page that shows only each service's health, and — on the
//! admin listener, which the gateway never routes — Prometheus's HTTP service discovery.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::watch::{Alerts, Fleet, Health, Lag, Watch};

/// The service's routes.
pub(crate) fn router(watch: Watch) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(fleet))
        .routes(routes!(lag))
        .routes(routes!(alerts))
        .routes(routes!(status))
        .with_state(watch)
}

/// The fleet now: every service of the registry with its readiness (its admin `/ready`,
/// probed every `fleet.probe_interval_ms`), its instances (from `system.lifecycle.v1`) and its
/// SLO status (from Prometheus, when `prometheus.url` is set).
#[utoipa::path(get, path = "/v1/fleet", tag = "fleet",
    security(("bearer" = ["ops"])),
    responses((status = 200, description = "The fleet", body = Fleet)))]
async fn fleet(State(watch): State<Watch>) -> Json<Fleet> {
    Json(watch.fleet().await)
}

/// How far every consumer group of the bus is behind, by topic, most behind first (read every
/// `fleet.lag_interval_ms`).
#[utoipa::path(get, path = "/v1/lag", tag = "fleet",
    security(("bearer" = ["ops"])),
    responses((status = 200, description = "Consumer lag", body = Lag)))]
async fn lag(State(watch): State<Watch>) -> Json<Lag> {
    Json(watch.lag())
}

/// The alerts firing, as Alertmanager has them (`alertmanager.url`), critical first.
#[utoipa::path(get, path = "/v1/alerts", tag = "fleet",
    security(("bearer" = ["ops"])),
    responses((status = 200, description = "Alerts firing; `known` false when Alertmanager is not configured or does not answer", body = Alerts)))]
async fn alerts(State(watch): State<Watch>) -> Json<Alerts> {
    Json(watch.alerts().await)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The fleet status page: each service's health and ready instances, and how many alerts fire
/// by severity; no addresses, details or alert texts (it is public). Refreshes itself.
#[utoipa::path(get, path = "/v1/status", tag = "fleet", security(()),
    responses((status = 200, description = "HTML page", content_type = "text/html")))]
async fn status(State(watch): State<Watch>) -> impl IntoResponse {
    let (fleet, alerts) = tokio::join!(watch.fleet(), watch.alerts());
    let mut rows = String::new();
    for s in &fleet.services {
        let ready = s.instances.iter().filter(|i| i.state == "ready").count();
        let _ = write!(
            rows,
            "<tr data-service=\"{name}\" data-health=\"{health}\"><td>{name}</td>\
             <td class=\"{health}\">{label}</td><td>{ready}</td><td>{maturity}</td></tr>",
            name = escape(s.name),
            health = s.health.as_str(),
            label = match s.health {
                Health::Ready => "ready",
                Health::NotReady => "not ready",
                Health::Unreachable => "unreachable",
                Health::Unknown => "not probed yet",
            },
            maturity = s.maturity,
        );
    }
    let count = |sev: &str| alerts.alerts.iter().filter(|a| a.severity == sev).count();
    let alerts_line = if alerts.known {
        format!(
            "<p id=\"alerts\" data-critical=\"{c}\">Alerts firing: {c} critical, {w} warning, {i} info.</p>",
            c = count("critical"),
            w = count("warning"),
            i = count("info"),
        )
    } else {
        "<p id=\"alerts\">Alerts: not known here (no Alertmanager).</p>".to_owned()
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"10\"><title>QTS fleet: {status}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2em;color:#111;background:#fff}}\
         table{{border-collapse:collapse}}td,th{{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}}\
         .ready{{color:#0c7a3e}}.not_ready,.unreachable{{color:#c21d1d;font-weight:bold}}.unknown{{color:#666}}\
         </style></head><body><h1>QTS fleet: <span id=\"status\" class=\"{status}\">{status}</span></h1>\
         <p>As of {at} (UTC). The page refreshes every 10 seconds.</p>{alerts_line}\
         <table><caption>Services</caption><thead><tr><th scope=\"col\">Service</th><th scope=\"col\">Health</th>\
         <th scope=\"col\">Instances ready</th><th scope=\"col\">Maturity</th></tr></thead><tbody>{rows}</tbody></table>\
         </body></html>",
        status = fleet.status,
        at = fleet
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(page))
}

/// One target group of Prometheus's HTTP service discovery.
#[derive(Debug, Serialize)]
struct TargetGroup {
    targets: Vec<String>,
    labels: std::collections::BTreeMap<&'static str, String>,
}

/// Prometheus HTTP service discovery (`http_sd_configs`): every service's admin endpoint with
/// its `service` label. Served on the admin listener.
async fn discovery(State(watch): State<Watch>) -> impl IntoResponse {
    let groups: Vec<TargetGroup> = watch
        .targets()
        .into_iter()
        .filter_map(|(service, url)| {
            let (scheme, host) = url.split_once("://")?;
            let host = host.split('/').next().unwrap_or(host).to_owned();
            Some(TargetGroup {
                targets: vec![host],
                labels: [
                    ("service", service.to_owned()),
                    ("__scheme__", scheme.to_owned()),
                ]
                .into_iter()
                .collect(),
            })
        })
        .collect();
    Json(groups)
}

/// The admin listener's extra route: `/sd`.
pub(crate) fn admin(watch: Watch) -> axum::Router {
    axum::Router::new()
        .route("/sd", axum::routing::get(discovery))
        .with_state(watch)
}
