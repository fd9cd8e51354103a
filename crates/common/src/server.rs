//! The service skeleton: every service is a [`Host`] built from its [`ServiceSpec`], settings,
//! backends, HTTP routes (with OpenAPI) and gRPC routes.
//!
//! [`Host::bind`] does all fallible setup and binds every listener (port 0 works) but serves
//! nothing; [`Host::run`] serves public HTTP (with `/openapi.json` and Swagger UI, offline),
//! gRPC (with `grpc.health.v1`), the admin port (`/live`, `/ready`, `/metrics`) and the
//! service's own background tasks until the token is cancelled, then drains for at most the
//! grace period. If one task ends early, it logs which and why, cancels the rest and returns the
//! error.
//!
//! Every listener is bounded by the shared `[limits]` settings ([`limits`], [`listen`]): a
//! header-read timeout, a request timeout, a concurrency limit and a body-size limit, each
//! answering with the error envelope over HTTP (every HTTP error carries `{"code", "message"}`,
//! 404 and 405 included) or with a gRPC status.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::Registry;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;
use uuid::Uuid;

use crate::bus::embedded::EmbeddedBus;
use crate::bus::kafka::KafkaBus;
use crate::bus::{Envelope, SharedBus, topics};
use crate::cache::{MemoryCache, RedisCache, SharedCache};
use crate::metrics::{GrpcLayer, RequestMetrics};
use crate::registry::ServiceSpec;
use crate::remote_config::{Follower, RemoteConfig};
use crate::settings::{BusKind, CacheKind, ServiceSettings};
use crate::store::{Db, Migrations};

mod envelope;
pub mod limits;
pub mod listen;

use self::limits::{GrpcLimitsLayer, Limits};

/// The stores and brokers a service talks to, and its live configuration.
#[derive(Clone)]
pub struct Backends {
    /// Event bus.
    pub bus: SharedBus,
    /// Cache, already prefixed for this service.
    pub cache: SharedCache,
    /// Relational storage, migrated.
    pub db: Db,
    /// The service's configuration and flags from the config service, kept current
    /// ([`Backends::follow_config`]); fixed defaults when `remote_config.enabled` is off.
    pub remote: RemoteConfig,
    /// The task that keeps `remote` current; [`Host::bind`] runs it with the service.
    follower: Arc<std::sync::Mutex<Option<Follower>>>,
}

impl Backends {
    /// Connects everything `settings` names for `spec`, applies migrations and creates the
    /// registered topics.
    pub async fn connect(
        spec: &ServiceSpec,
        settings: &ServiceSettings,
        own: Option<&Migrations>,
    ) -> anyhow::Result<Self> {
        let bus: SharedBus = match settings.bus.kind {
            BusKind::Embedded => Arc::new(
                EmbeddedBus::open(&settings.bus.embedded, &settings.data_dir)
                    .context("open embedded bus")?,
            ),
            BusKind::Kafka => Arc::new(
                KafkaBus::connect(&settings.bus.kafka, spec.name)
                    .context("create kafka clients")?,
            ),
        };
        let cache: SharedCache = match settings.cache.kind {
            CacheKind::Memory => Arc::new(MemoryCache::new(cache_prefix(spec, settings))),
            CacheKind::Redis => {
                use secrecy::ExposeSecret;
                Arc::new(
                    RedisCache::connect(
                        settings.cache.url.expose_secret(),
                        cache_prefix(spec, settings),
                    )
                    .await
                    .context("connect to redis")?,
                )
            }
        };
        let db = connect_db(spec, settings, own).await?;
        Self::with(bus, cache, db)
            .await?
            .follow_config(spec, settings)
            .await
    }

    /// With `remote_config.enabled` (and for every service but the config service itself):
    /// fetches `spec`'s configuration from the config service (`peers.config`, with the
    /// service's token) and sets up following its changes. A failed fetch leaves the defaults
    /// unless `remote_config.required` is on.
    pub async fn follow_config(
        mut self,
        spec: &ServiceSpec,
        settings: &ServiceSettings,
    ) -> anyhow::Result<Self> {
        if !settings.remote_config.enabled || spec.name == "config" {
            return Ok(self);
        }
        let url = settings
            .peer("config")
            .map_err(|e| anyhow::anyhow!("peers.config: {e}"))?;
        let peers = crate::grpc::Connector::new(&settings.auth, spec.name);
        let instance = Uuid::new_v4().to_string();
        let (remote, follower) = RemoteConfig::start(
            spec.name,
            &instance,
            &settings.remote_config,
            (&peers, &url),
            &self.bus,
        )
        .await
        .context("following the configuration from the config service")?;
        self.remote = remote;
        self.follower = Arc::new(std::sync::Mutex::new(follower));
        Ok(self)
    }

    /// Uses the given bus and cache (shared by every service in `qts up`); creates topics.
    pub async fn with(bus: SharedBus, cache: SharedCache, db: Db) -> anyhow::Result<Self> {
        bus.create_topics(topics::TOPICS)
            .await
            .context("create registered topics")?;
        Ok(Self {
            bus,
            cache,
            db,
            remote: RemoteConfig::fixed(Default::default()),
            follower: Arc::default(),
        })
    }

    fn describe(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("bus".to_owned(), self.bus.kind().to_owned()),
            ("cache".to_owned(), self.cache.kind().to_owned()),
            ("database".to_owned(), self.db.engine().as_str().to_owned()),
        ])
    }
}

/// Connects and migrates the service's database.
pub async fn connect_db(
    spec: &ServiceSpec,
    settings: &ServiceSettings,
    own: Option<&Migrations>,
) -> anyhow::Result<Db> {
    let db = Db::connect(
        &settings.database_url(spec.name),
        settings.database.max_connections,
        Duration::from_millis(settings.database.connect_timeout_ms),
    )
    .await
    .context("connect to database")?;
    db.migrate(own).await.context("migrate database")?;
    Ok(db)
}

/// The cache key prefix for `spec`.
pub fn cache_prefix(spec: &ServiceSpec, settings: &ServiceSettings) -> String {
    if settings.cache.key_prefix.is_empty() {
        format!("{}:", spec.name)
    } else {
        settings.cache.key_prefix.clone()
    }
}

/// What a running instance says about itself (`GET /api/<name>/v1/info`, gRPC `GetInfo`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceInfo {
    /// Registry name.
    pub name: String,
    /// Binary version.
    pub version: String,
    /// What the service owns.
    pub description: String,
    /// `skeleton`, `partial` or `complete`.
    pub maturity: String,
    /// Start time, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    /// This instance's id.
    pub instance_id: Uuid,
    /// Backend kinds in use, e.g. `bus: kafka`.
    pub backends: BTreeMap<String, String>,
}

impl ServiceInfo {
    /// The gRPC form.
    pub fn to_proto(&self) -> proto::common::v1::ServiceInfo {
        proto::common::v1::ServiceInfo {
            name: self.name.clone(),
            version: self.version.clone(),
            description: self.description.clone(),
            maturity: self.maturity.clone(),
            started_at: Some(prost_types::Timestamp {
                seconds: self.started_at.unix_timestamp(),
                nanos: i32::try_from(self.started_at.nanosecond()).unwrap_or(0),
            }),
            instance_id: self.instance_id.to_string(),
            backends: self.backends.clone().into_iter().collect(),
        }
    }
}

/// What is needed to build a [`Host`], besides settings and backends.
pub struct Parts {
    /// The service's HTTP routes, relative to its prefix (`/v1/...`), with OpenAPI docs.
    pub http: OpenApiRouter,
    /// The service's gRPC services.
    pub grpc: tonic::service::Routes,
    /// The metrics registry; the shared request metrics are added to it.
    pub registry: Registry,
}

type Task = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
/// A named background task, started with the host's cancellation token.
type TaskStarter = (
    &'static str,
    Box<dyn FnOnce(CancellationToken) -> Task + Send>,
);

/// Addresses a bound host listens on.
#[derive(Debug, Clone, Copy)]
pub struct Addrs {
    /// Public HTTP.
    pub http: SocketAddr,
    /// gRPC.
    pub grpc: SocketAddr,
    /// Admin.
    pub admin: SocketAddr,
}

/// A bound, not yet serving, service.
pub struct Host {
    spec: &'static ServiceSpec,
    info: Arc<ServiceInfo>,
    backends: Backends,
    http: (TcpListener, Router),
    grpc: (TcpListener, tonic::service::Routes),
    admin: (TcpListener, Router),
    request_metrics: Arc<RequestMetrics>,
    ready: Arc<AtomicBool>,
    grace: Duration,
    limits: crate::settings::LimitsSettings,
    tasks: Vec<TaskStarter>,
    /// Checks gRPC calls' tokens (when `auth.enabled`), with the roles each method needs.
    grpc_guard: Option<crate::grpc::GuardLayer>,
}

/// Builds the [`ServiceInfo`] of an instance of `spec` that is about to bind.
pub fn service_info(spec: &ServiceSpec, version: &str, backends: &Backends) -> Arc<ServiceInfo> {
    Arc::new(ServiceInfo {
        name: spec.name.to_owned(),
        version: version.to_owned(),
        description: spec.description.to_owned(),
        maturity: spec.maturity.as_str().to_owned(),
        started_at: OffsetDateTime::now_utc(),
        instance_id: Uuid::now_v7(),
        backends: backends.describe(),
    })
}

/// The `GET /v1/info` route every service serves; its state is the instance's info.
pub fn info_routes(info: Arc<ServiceInfo>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_info))
        .with_state(info)
}

/// What this instance is: name, version, maturity, backends. Public.
#[utoipa::path(get, path = "/v1/info", tag = "service", security(()),
    responses((status = 200, description = "This instance", body = ServiceInfo)))]
async fn get_info(State(info): State<Arc<ServiceInfo>>) -> axum::Json<ServiceInfo> {
    axum::Json(info.as_ref().clone())
}

impl Host {
    /// Binds every listener and assembles the routers; serves nothing yet.
    pub async fn bind(
        spec: &'static ServiceSpec,
        settings: &ServiceSettings,
        info: Arc<ServiceInfo>,
        backends: Backends,
        parts: Parts,
    ) -> anyhow::Result<Self> {
        let request_metrics = Arc::new(
            RequestMetrics::register(spec.name, &parts.registry)
                .context("register request metrics")?,
        );
        let ready = Arc::new(AtomicBool::new(false));

        // --- outbox relay (common::store::Relay): runs with the service, drained on shutdown
        // like every task, metered in the service's registry. ---
        let relay = crate::store::Relay::new(
            backends.db.clone(),
            backends.bus.clone(),
            &settings.outbox,
            &settings.inbox,
            crate::store::RelayMetrics::register(spec.name, &parts.registry)
                .context("register outbox relay metrics")?,
        );
        let relay_task: TaskStarter = (
            "outbox-relay",
            Box::new(move |token| {
                Box::pin(async move {
                    relay.run(token).await;
                    Ok(())
                })
            }),
        );
        // --- end outbox relay ---

        let prefix = spec.route_prefix();
        let doc = openapi_doc(spec, &info.version);
        let (router, mut api) = OpenApiRouter::with_openapi(doc)
            .nest(&prefix, parts.http)
            .split_for_parts();
        document_errors(&mut api);
        let http_l = bind(settings.http.addr(), "http").await?;
        // Tokens on every route of the service (its OpenAPI security says what each needs);
        // not on the documents below.
        let mut grpc_guard = None;
        let router = if settings.auth.enabled {
            let mut auth = settings.auth.clone();
            if spec.name == "sso" && auth.sso_url.trim().is_empty() {
                // The SSO checks its own tokens with the keys it publishes, where it listens.
                auth.sso_url = format!("http://{}{prefix}", http_l.local_addr()?);
            }
            let verifier = Arc::new(crate::auth::Verifier::new(&auth));
            grpc_guard = Some(crate::grpc::GuardLayer::new(verifier.clone()));
            let guard = crate::auth::Guard {
                verifier,
                policy: Arc::new(crate::auth::Policy::from_openapi(&api)),
            };
            router.route_layer(axum::middleware::from_fn_with_state(
                guard,
                crate::auth::middleware,
            ))
        } else {
            router
        };
        let router = router
            .merge(
                SwaggerUi::new(format!("{prefix}/swagger-ui"))
                    .url(format!("{prefix}/openapi.json"), api.clone()),
            )
            .route(
                "/openapi.json",
                get(move || std::future::ready(axum::Json(api))),
            )
            .fallback(not_found);
        let router = limits::bounded(router, &Limits::new(&settings.limits)).layer(
            axum::middleware::from_fn_with_state(
                request_metrics.clone(),
                crate::metrics::http_middleware,
            ),
        );

        // The configuration from the config service, followed with the service.
        let mut tasks = vec![relay_task];
        let follower = backends
            .follower
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(follower) = follower {
            let version = prometheus::IntGauge::new(
                "qts_config_version",
                "The version of its configuration document (config service) the service runs on; 0: none saved, its own defaults",
            )
            .context("config version gauge")?;
            parts
                .registry
                .register(Box::new(version.clone()))
                .context("register the config version gauge")?;
            let follower = follower.observe(version);
            tasks.push((
                "remote-config",
                Box::new(move |token| Box::pin(follower.run(token))),
            ));
        }
        let admin = limits::bounded(
            admin_router(AdminState {
                ready: ready.clone(),
                registry: Arc::new(parts.registry),
                db: backends.db.clone(),
            }),
            &Limits::new(&settings.limits),
        );

        let grpc_l = bind(settings.grpc.addr(), "grpc").await?;
        let admin_l = bind(settings.admin.addr(), "admin").await?;
        Ok(Self {
            spec,
            info,
            backends,
            http: (http_l, router),
            grpc: (grpc_l, parts.grpc),
            admin: (admin_l, admin),
            request_metrics,
            ready,
            grace: settings.shutdown.grace_period(),
            limits: settings.limits.clone(),
            tasks,
            grpc_guard,
        })
    }

    /// The bound addresses.
    pub fn addrs(&self) -> anyhow::Result<Addrs> {
        Ok(Addrs {
            http: self.http.0.local_addr()?,
            grpc: self.grpc.0.local_addr()?,
            admin: self.admin.0.local_addr()?,
        })
    }

    /// The roles gRPC methods of this service need (`("PlaceOrder", &["trader", "service"])`:
    /// one of them; an admin has all). Every other method but health and `GetInfo` needs a
    /// valid token of any role.
    pub fn grpc_roles(&mut self, methods: &[(&str, &[&str])]) {
        if let Some(guard) = &mut self.grpc_guard {
            for (method, needed) in methods {
                guard.require(&format!("/{}/{method}", self.spec.grpc_service), needed);
            }
        }
    }

    /// Adds routes to the admin listener, beside `/live`, `/ready` and `/metrics`, under the
    /// same limits: for what only the cluster's own tools read (the gateway never routes the
    /// admin port), such as the monitoring service's Prometheus service discovery.
    pub fn admin_routes(&mut self, routes: Router) {
        let limited = limits::bounded(routes, &Limits::new(&self.limits));
        let admin = std::mem::replace(&mut self.admin.1, Router::new());
        self.admin.1 = admin.merge(limited);
    }

    /// Adds a background task (consumer, relay, timer) that runs beside the servers until the
    /// token is cancelled. If it returns early, the whole service stops.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.tasks
            .push((name, Box::new(move |token| Box::pin(task(token)))));
    }

    /// Serves until `token` is cancelled or a task fails; then drains within the grace period.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        let name = self.spec.name;
        let mut set: JoinSet<(&'static str, anyhow::Result<()>)> = JoinSet::new();

        let header_read_timeout = self.limits.header_read_timeout();
        let (http_l, router) = self.http;
        let t = token.clone();
        set.spawn(async move {
            listen::serve_http(http_l, router, header_read_timeout, t).await;
            ("http", Ok(()))
        });

        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_service_status(self.spec.grpc_service, tonic_health::ServingStatus::Serving)
            .await;
        health_reporter
            .set_service_status("", tonic_health::ServingStatus::Serving)
            .await;
        let (grpc_l, routes) = self.grpc;
        let t = token.clone();
        let metrics_layer = GrpcLayer::new(self.request_metrics.clone());
        let limits_layer = GrpcLimitsLayer::new(Limits::new(&self.limits));
        let guard_layer = tower::util::option_layer(self.grpc_guard);
        set.spawn(async move {
            // Layers run in the order added: metrics see what the limits and the guard answer.
            let r = tonic::transport::Server::builder()
                .layer(metrics_layer)
                .layer(limits_layer)
                .layer(guard_layer)
                .add_routes(routes)
                .add_service(health_service)
                .serve_with_incoming_shutdown(
                    listen::grpc_incoming(grpc_l, header_read_timeout),
                    t.cancelled_owned(),
                )
                .await;
            ("grpc", r.context("grpc server"))
        });

        let (admin_l, admin) = self.admin;
        let t = token.clone();
        set.spawn(async move {
            listen::serve_http(admin_l, admin, header_read_timeout, t).await;
            ("admin", Ok(()))
        });

        for (task_name, task) in self.tasks {
            let fut = task(token.clone());
            set.spawn(async move { (task_name, fut.await) });
        }

        self.ready.store(true, Ordering::SeqCst);
        publish_lifecycle(
            &self.backends,
            &self.info,
            proto::events::v1::service_lifecycle::State::Ready,
        )
        .await;
        tracing::info!(service = name, "ready");

        let mut failure = None;
        tokio::select! {
            biased;
            () = token.cancelled() => {}
            Some(joined) = set.join_next() => {
                let (task, result) = joined.unwrap_or_else(|e| ("task", Err(anyhow::anyhow!("panicked: {e}"))));
                failure = early_end(name, task, result, &token);
                token.cancel();
            }
        }

        self.ready.store(false, Ordering::SeqCst);
        health_reporter
            .set_service_status(
                self.spec.grpc_service,
                tonic_health::ServingStatus::NotServing,
            )
            .await;
        publish_lifecycle(
            &self.backends,
            &self.info,
            proto::events::v1::service_lifecycle::State::Stopping,
        )
        .await;
        tracing::info!(
            service = name,
            grace_secs = self.grace.as_secs(),
            "draining"
        );

        let drained = tokio::time::timeout(self.grace, async {
            while let Some(joined) = set.join_next().await {
                if let Ok((task, Err(err))) = joined {
                    tracing::warn!(service = name, task, error = %crate::error::chain(err.as_ref()), "task failed while draining");
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(service = name, "grace period over; aborting what is left");
            set.abort_all();
        }
        self.backends.db.close().await;
        tracing::info!(service = name, "stopped");
        failure.map_or(Ok(()), Err)
    }
}

/// What a task that ended during serving means: nothing if shutdown had begun and it ended
/// cleanly (it raced the token), otherwise the error that stops the service.
fn early_end(
    name: &str,
    task: &str,
    result: anyhow::Result<()>,
    token: &CancellationToken,
) -> Option<anyhow::Error> {
    match result {
        Ok(()) if token.is_cancelled() => None,
        Ok(()) => {
            tracing::error!(service = name, task, "task ended before shutdown");
            Some(anyhow::anyhow!("{name}: {task} ended before shutdown"))
        }
        Err(err) => {
            tracing::error!(service = name, task, error = %crate::error::chain(err.as_ref()), "task failed");
            Some(err.context(format!("{name}: {task}")))
        }
    }
}

/// Unknown paths get the same JSON error body as every other failure.
async fn not_found(uri: http::Uri) -> crate::error::ApiError {
    crate::error::ApiError::new(
        crate::error::Kind::NotFound,
        format!("no route for {}", uri.path()),
    )
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("bind {what} listener on {addr}"))
}

async fn publish_lifecycle(
    backends: &Backends,
    info: &ServiceInfo,
    state: proto::events::v1::service_lifecycle::State,
) {
    let now = OffsetDateTime::now_utc();
    let event = proto::events::v1::ServiceLifecycle {
        service: info.name.clone(),
        instance_id: info.instance_id.to_string(),
        version: info.version.clone(),
        state: state as i32,
        at: Some(prost_types::Timestamp {
            seconds: now.unix_timestamp(),
            nanos: i32::try_from(now.nanosecond()).unwrap_or(0),
        }),
    };
    let envelope = Envelope::new(&info.name, info.name.clone(), &event);
    if state == proto::events::v1::service_lifecycle::State::Ready {
        // READY goes through the outbox: a slow broker at start (a producer's first metadata
        // round trip) delays it instead of losing it. STOPPING goes out directly: the relay is
        // draining by then.
        let stored = async {
            let mut tx = backends.db.begin().await?;
            crate::store::Outbox::enqueue(&mut tx, &topics::SYSTEM_LIFECYCLE.name, &envelope)
                .await?;
            tx.commit().await
        };
        match stored.await {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(service = %info.name, error = %crate::error::chain(&err), "cannot store the lifecycle event; publishing it directly");
            }
        }
    }
    let publish = backends
        .bus
        .publish(&topics::SYSTEM_LIFECYCLE.name, &envelope);
    match tokio::time::timeout(Duration::from_secs(5), publish).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => {
            tracing::warn!(service = %info.name, error = %crate::error::chain(&err), "cannot publish lifecycle event")
        }
        Err(_) => tracing::warn!(service = %info.name, "lifecycle event timed out"),
    }
}

fn openapi_doc(spec: &ServiceSpec, version: &str) -> OpenApi {
    use utoipa::openapi::security::{
        Flow, OAuth2, Password, Scopes, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApiBuilder};
    // Swagger UI's Authorize asks for a user name and password and gets a token from the SSO
    // through the gateway; every operation needs one unless it says otherwise.
    let scopes = Scopes::from_iter(
        ["trader", "risk_officer", "admin", "ops", "service"]
            .map(|r| (r.to_owned(), format!("the {r} role"))),
    );
    let scheme = SecurityScheme::OAuth2(OAuth2::with_description(
        [Flow::Password(Password::new(
            "/api/sso/v1/oauth/token",
            scopes,
        ))],
        "An access token from the SSO (an EdDSA JWT) as `Authorization: Bearer <token>`",
    ));
    OpenApiBuilder::new()
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme("bearer", scheme)
                .build(),
        ))
        .security(Some([SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .info(
            InfoBuilder::new()
                .title(format!("QTS {}", spec.name))
                .version(version)
                .description(Some(format!(
                    "{}. Served at {} directly and through the gateway; errors are {{\"code\", \"message\"}}.",
                    spec.description,
                    spec.route_prefix()
                ))),
        )
        .build()
}

/// Documents the envelope as the `default` response of every operation: whatever status an
/// operation does not list (404, 405, 413, 503, 504, ...) comes with `{"code", "message"}`.
fn document_errors(api: &mut OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    use utoipa::{PartialSchema, ToSchema};
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.insert(
        crate::error::ErrorBody::name().into_owned(),
        crate::error::ErrorBody::schema(),
    );
    components.responses.insert(
        "Error".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "Any error, as {\"code\", \"message\"}: e.g. 404 not_found, 405 unimplemented \
                     (method not allowed), 413 resource_exhausted (body over limits.max_body_bytes), \
                     503 unavailable (over limits.max_concurrent_requests, or a dependency down), \
                     504 deadline_exceeded (over limits.request_timeout_ms).",
                )
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(
                            crate::error::ErrorBody::name(),
                        )))
                        .build(),
                )
                .build(),
        ),
    );
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Error")));
        }
    }
}

#[derive(Clone)]
struct AdminState {
    ready: Arc<AtomicBool>,
    registry: Arc<Registry>,
    db: Db,
}

fn admin_router(state: AdminState) -> Router {
    Router::new()
        .route("/live", get(|| async { "live" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn ready(State(s): State<AdminState>) -> axum::response::Response {
    let unready = |why: &str| {
        limits::error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            crate::error::Kind::Unavailable,
            why.to_owned(),
        )
    };
    if !s.ready.load(Ordering::SeqCst) {
        return unready("starting or stopping");
    }
    match tokio::time::timeout(Duration::from_secs(2), s.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(_)) | Err(_) => unready("database unreachable"),
    }
}

async fn metrics(State(s): State<AdminState>) -> impl IntoResponse {
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(&s.registry),
    )
}
