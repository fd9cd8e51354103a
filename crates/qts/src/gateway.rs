//! The embedded gateway of `qts up`: the same routes as `deploy/nginx/nginx.conf`
//! (`/api/<service>/...` to that service's HTTP listener, paths unchanged), served on one port
//! so a user needs no nginx. `/` lists the services; `/ready` is 200 once every service is.
//!
//! It has the same inbound limits as every service ([`LimitsSettings`]: header-read timeout,
//! request timeout, concurrency, body size) and every error it answers, its own (unknown
//! prefix 404, upstream down 502, 405) or a limit's, carries the `{"code", "message"}` envelope.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use common::server::limits::{self, Limits};
use common::server::listen;
use common::settings::LimitsSettings;
use common::shutdown::CancellationToken;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

/// Headers that belong to one hop and must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

const X_FORWARDED_HOST: header::HeaderName = header::HeaderName::from_static("x-forwarded-host");

#[derive(Clone)]
struct Gateway {
    /// Service name -> (http, admin) address.
    routes: Arc<HashMap<String, (SocketAddr, SocketAddr)>>,
    client: Client<HttpConnector, Body>,
    limits: Limits,
}

/// The gateway's router over `routes` (service name -> (http, admin) address), with the
/// default limits.
pub fn router(routes: HashMap<String, (SocketAddr, SocketAddr)>) -> Router {
    router_with(routes, &LimitsSettings::default())
}

/// The gateway's router over `routes` (service name -> (http, admin) address), bounded by
/// `limits` (e.g. [`LimitsSettings::from_overrides`] of `qts up --set`).
pub fn router_with(
    routes: HashMap<String, (SocketAddr, SocketAddr)>,
    limits: &LimitsSettings,
) -> Router {
    let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let limits = Limits::new(limits);
    let state = Gateway {
        routes: Arc::new(routes),
        client,
        limits: limits.clone(),
    };
    let router = Router::new()
        .route("/", get(index))
        .route("/ready", get(ready))
        .fallback(proxy)
        .with_state(state);
    limits::bounded(router, &limits)
}

/// Serves `router` on `listener` until `token` is cancelled, with the default header-read
/// timeout.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    token: CancellationToken,
) -> anyhow::Result<()> {
    serve_with(listener, router, &LimitsSettings::default(), token).await
}

/// Serves `router` on `listener` until `token` is cancelled; a connection that does not finish
/// its request headers within `limits.header_read_timeout_ms` is closed.
pub fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: &LimitsSettings,
    token: CancellationToken,
) -> impl Future<Output = anyhow::Result<()>> + Send + 'static {
    let header_read_timeout = limits.header_read_timeout();
    async move {
        listen::serve_http(listener, router, header_read_timeout, token).await;
        Ok(())
    }
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response()
}

async fn proxy(State(gw): State<Gateway>, mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let Some(service) = path
        .strip_prefix("/api/")
        .and_then(|rest| rest.split('/').next())
    else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route for {path}; services live under /api/<service>/"),
        );
    };
    let Some((addr, _)) = gw.routes.get(service) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no service named {service:?}"),
        );
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or(path.as_str(), |pq| pq.as_str())
        .to_owned();
    let uri = match Uri::builder()
        .scheme("http")
        .authority(addr.to_string())
        .path_and_query(path_and_query)
        .build()
    {
        Ok(uri) => uri,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                format!("bad request target: {err}"),
            );
        }
    };
    *req.uri_mut() = uri;
    let headers = req.headers_mut();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    // The host the client asked for goes on as X-Forwarded-Host (replacing any the client
    // sent), as nginx passes Host: the sso-ui checks a form's Origin against it.
    match headers.get(header::HOST).cloned() {
        Some(asked) => {
            headers.insert(X_FORWARDED_HOST, asked);
        }
        None => {
            headers.remove(X_FORWARDED_HOST);
        }
    }
    if let Ok(host) = HeaderValue::from_str(&addr.to_string()) {
        headers.insert(header::HOST, host);
    }
    // The request timeout is the limits middleware's: it answers 504 for the whole exchange.
    match gw.client.request(req).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            for name in HOP_BY_HOP {
                parts.headers.remove(name);
            }
            Response::from_parts(parts, Body::new(body))
        }
        Err(err) if body_over_limit(&err) => limits::too_large(&gw.limits, None),
        Err(err) => {
            tracing::warn!(service, error = %common::error::chain(&err), "upstream failed");
            error(
                StatusCode::BAD_GATEWAY,
                "unavailable",
                format!("{service} did not answer"),
            )
        }
    }
}

/// Whether forwarding failed because the caller's body (without a length, or with a false
/// one) grew past the limit while it streamed.
fn body_over_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        next = err.source();
    }
    false
}

/// Names of the services whose admin `/ready` does not answer 200 now.
async fn not_ready(gw: &Gateway) -> Vec<String> {
    let mut out = Vec::new();
    for (name, (_, admin)) in gw.routes.iter() {
        let ok = match Request::get(format!("http://{admin}/ready")).body(Body::empty()) {
            Ok(req) => matches!(
                tokio::time::timeout(Duration::from_secs(2), gw.client.request(req)).await,
                Ok(Ok(r)) if r.status().is_success()
            ),
            Err(_) => false,
        };
        if !ok {
            out.push(name.clone());
        }
    }
    out.sort();
    out
}

/// Waits until every service in `routes` answers `/ready`, or fails after `timeout` naming
/// the ones that did not.
pub async fn wait_ready(
    routes: HashMap<String, (SocketAddr, SocketAddr)>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let gw = Gateway {
        routes: Arc::new(routes),
        client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        limits: Limits::new(&LimitsSettings::default()),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let missing = not_ready(&gw).await;
        if missing.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "not ready after {}s: {}",
                timeout.as_secs(),
                missing.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ready(State(gw): State<Gateway>) -> Response {
    let missing = not_ready(&gw).await;
    if missing.is_empty() {
        (StatusCode::OK, "ready").into_response()
    } else {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("not ready: {}", missing.join(", ")),
        )
    }
}

async fn index(State(gw): State<Gateway>) -> Html<String> {
    let mut rows = String::new();
    for spec in &common::registry::SERVICES {
        if gw.routes.contains_key(spec.name) {
            let p = spec.route_prefix();
            rows.push_str(&format!(
                "<tr><td>{name}</td><td>{desc}</td><td><a href=\"{p}/v1/info\">info</a></td><td><a href=\"{p}/swagger-ui/\">Swagger UI</a></td><td><a href=\"{p}/openapi.json\">OpenAPI</a></td></tr>\n",
                name = spec.name,
                desc = spec.description,
            ));
        }
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>QTS</title></head><body>\
         <h1>QTS</h1><p><a href=\"/api/portal/app\">Open the trader portal</a> (sign in as admin).</p>\
         <p>Every service of the fleet, behind this gateway. <a href=\"/ready\">/ready</a></p>\
         <table border=\"1\" cellpadding=\"4\"><tr><th>service</th><th>owns</th><th colspan=\"3\">API</th></tr>\n{rows}</table></body></html>"
    ))
}
