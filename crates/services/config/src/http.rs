//! HTTP adapter: configuration documents (read, change, history, diff, rollback), secrets
//! (metadata, set, delete, the owner's read) and the audit trail. Each operation's OpenAPI
//! security says who may call it; the secrets' owner rule is the service's own.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::error::{ApiError, Kind};
use common::remote_config::Flag;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{AuditEntry, Change, Document, Scope, SecretMeta, Version};
use crate::service::Config;
use crate::ssi::{SsiTokens, TokenStatus};

/// The caller, when tokens are checked (`auth.enabled`).
type Caller = Option<axum::Extension<common::auth::Principal>>;

fn principal(c: &Caller) -> Option<&common::auth::Principal> {
    c.as_ref().map(|axum::Extension(p)| p)
}

/// The SSI token routes.
pub(crate) fn ssi_router(ssi: SsiTokens) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(ssi_tokens))
        .with_state(ssi)
}

/// The fleet's SSI tokens as the config service holds them — never the tokens themselves:
/// whether each is held and until when, logins and failures since start, the last failure, and
/// which credentials are held. Admins and ops.
#[utoipa::path(get, path = "/v1/ssi/tokens", tag = "ssi", security(("bearer" = ["ops"])),
    responses((status = 200, description = "One entry per token kind of the configured generation", body = [TokenStatus])))]
async fn ssi_tokens(State(ssi): State<SsiTokens>) -> Result<Json<Vec<TokenStatus>>, ApiError> {
    Ok(Json(ssi.status().await?))
}

/// The service's routes.
pub(crate) fn router(config: Config) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_configs))
        .routes(routes!(get_config, put_config))
        .routes(routes!(history))
        .routes(routes!(get_version))
        .routes(routes!(diff))
        .routes(routes!(rollback))
        .routes(routes!(list_secrets))
        .routes(routes!(put_secret, delete_secret))
        .routes(routes!(secret_value))
        .routes(routes!(audit))
        .with_state(config)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        ApiError::new(
            Kind::InvalidArgument,
            format!("request body: {}", e.body_text()),
        )
    })
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("query: {}", e.body_text())))
}

fn scope(service: &str, environment: &str) -> Result<Scope, ApiError> {
    Scope::parse(service, environment).map_err(|e| ApiError::new(Kind::InvalidArgument, e.0))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn limit(l: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match l {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(
            Kind::InvalidArgument,
            format!("limit {n}: 1 to {max}"),
        )),
    }
}

// ----- configuration -------------------------------------------------------------------------

/// One version of a service's configuration in an environment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VersionDto {
    service: String,
    environment: String,
    /// 1, 2, ... per service and environment.
    version: u64,
    /// Key -> any JSON value.
    #[schema(value_type = Object)]
    values: BTreeMap<String, Value>,
    /// Flag name -> flag.
    flags: BTreeMap<String, Flag>,
    /// Who made this version.
    changed_by: String,
    /// When (RFC 3339).
    changed_at: String,
    comment: String,
    /// Set when this version is a rollback: the version it copies.
    #[serde(skip_serializing_if = "Option::is_none")]
    rolled_back_from: Option<u64>,
}

impl From<Version> for VersionDto {
    fn from(v: Version) -> Self {
        Self {
            service: v.scope.service().to_owned(),
            environment: v.scope.environment().to_owned(),
            version: v.version,
            values: v.document.values,
            flags: v.document.flags,
            changed_by: v.author,
            changed_at: rfc3339(v.created_at),
            comment: v.comment,
            rolled_back_from: v.rolled_back_from,
        }
    }
}

/// A version in the history: who, when, why (the document at `/versions/{version}`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryEntry {
    version: u64,
    changed_by: String,
    changed_at: String,
    comment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rolled_back_from: Option<u64>,
    /// How many values and flags it has.
    values: usize,
    flags: usize,
}

/// A service and environment with a document.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScopeDto {
    service: String,
    environment: String,
    /// Its current version.
    version: u64,
    /// When that version was made.
    changed_at: String,
}

/// Lists every service and environment with a configuration, and its current version.
#[utoipa::path(get, path = "/v1/configs", tag = "config", security(("bearer" = ["ops"])),
    responses((status = 200, description = "Every configured service and environment", body = [ScopeDto])))]
async fn list_configs(State(c): State<Config>) -> Result<Json<Vec<ScopeDto>>, ApiError> {
    let scopes = c.scopes().await?;
    Ok(Json(
        scopes
            .into_iter()
            .map(|(service, environment, version, at)| ScopeDto {
                service,
                environment,
                version,
                changed_at: rfc3339(at),
            })
            .collect(),
    ))
}

/// The current configuration of a service in an environment (404 when none was saved: the
/// service runs on its defaults). A service's own token reads only its own; ops and admins all.
#[utoipa::path(get, path = "/v1/configs/{service}/{environment}", tag = "config",
    security(("bearer" = ["service", "ops"])),
    params(("service" = String, Path, description = "A service of the fleet, e.g. oms"),
        ("environment" = String, Path, description = "e.g. prod, paper, dev")),
    responses((status = 200, description = "The current version", body = VersionDto)))]
async fn get_config(
    State(c): State<Config>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
) -> Result<Json<VersionDto>, ApiError> {
    let scope = scope(&service, &environment)?;
    Ok(Json(c.current(principal(&caller), &scope).await?.into()))
}

/// A new document for a service in an environment (it replaces the whole document).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutConfig {
    /// The current version the change is based on (0 for the first): another change made
    /// meanwhile answers 409, so nothing is overwritten unseen.
    expected_version: u64,
    /// Key (1 to 64 of a-z 0-9 _ . -, starting with a letter) -> any JSON value but null; at
    /// most 256 keys, 16 KiB each.
    #[serde(default)]
    #[schema(value_type = Object)]
    values: BTreeMap<String, Value>,
    /// Flag name -> `{"enabled": bool, "rollout_percent": 0..100?}`; at most 256.
    #[serde(default)]
    flags: BTreeMap<String, Flag>,
    /// Why (at most 500 characters).
    #[serde(default)]
    comment: String,
}

/// Saves a new version of a service's configuration in an environment (the whole document),
/// published on `config.changed.v1`. Admins and ops.
#[utoipa::path(put, path = "/v1/configs/{service}/{environment}", tag = "config",
    security(("bearer" = ["ops"])),
    params(("service" = String, Path, description = "A service of the fleet"),
        ("environment" = String, Path, description = "e.g. prod, paper, dev")),
    request_body = PutConfig,
    responses((status = 200, description = "The new version", body = VersionDto),
        (status = 409, description = "expected_version is not the current version")))]
async fn put_config(
    State(c): State<Config>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    b: Result<Json<PutConfig>, JsonRejection>,
) -> Result<Json<VersionDto>, ApiError> {
    let scope = scope(&service, &environment)?;
    let b = body(b)?;
    let document = Document {
        values: b.values,
        flags: b.flags,
    };
    let v = c
        .change(
            principal(&caller),
            &scope,
            b.expected_version,
            document,
            &b.comment,
        )
        .await?;
    Ok(Json(v.into()))
}

/// Paging through the history.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    /// Versions below this one (the next page); absent: from the newest.
    before: Option<u64>,
    /// At most this many (1 to 500; 50 when absent).
    limit: Option<u32>,
}

/// The versions of a service's configuration in an environment, newest first.
#[utoipa::path(get, path = "/v1/configs/{service}/{environment}/versions", tag = "config",
    security(("bearer" = ["service", "ops"])),
    params(("service" = String, Path, description = "A service of the fleet"),
        ("environment" = String, Path, description = "e.g. prod"), HistoryQuery),
    responses((status = 200, description = "Who changed what when, newest first", body = [HistoryEntry])))]
async fn history(
    State(c): State<Config>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let scope = scope(&service, &environment)?;
    let q = query(q)?;
    let versions = c
        .history(
            principal(&caller),
            &scope,
            q.before,
            limit(q.limit, 50, 500)?,
        )
        .await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|v| HistoryEntry {
                version: v.version,
                changed_by: v.author,
                changed_at: rfc3339(v.created_at),
                comment: v.comment,
                rolled_back_from: v.rolled_back_from,
                values: v.document.values.len(),
                flags: v.document.flags.len(),
            })
            .collect(),
    ))
}

/// One version of a service's configuration in an environment.
#[utoipa::path(get, path = "/v1/configs/{service}/{environment}/versions/{version}", tag = "config",
    security(("bearer" = ["service", "ops"])),
    params(("service" = String, Path, description = "A service of the fleet"),
        ("environment" = String, Path, description = "e.g. prod"),
        ("version" = u64, Path, description = "The version")),
    responses((status = 200, description = "That version", body = VersionDto)))]
async fn get_version(
    State(c): State<Config>,
    caller: Caller,
    Path((service, environment, version)): Path<(String, String, u64)>,
) -> Result<Json<VersionDto>, ApiError> {
    let scope = scope(&service, &environment)?;
    Ok(Json(
        c.version(principal(&caller), &scope, version).await?.into(),
    ))
}

/// Two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiffQuery {
    /// The older version (0: the empty document).
    from: u64,
    /// The newer version.
    to: u64,
}

/// What changed between two versions: each value and flag added, removed or changed, with
/// before and after.
#[utoipa::path(get, path = "/v1/configs/{service}/{environment}/diff", tag = "config",
    security(("bearer" = ["service", "ops"])),
    params(("service" = String, Path, description = "A service of the fleet"),
        ("environment" = String, Path, description = "e.g. prod"), DiffQuery),
    responses((status = 200, description = "The changes, values then flags", body = [Change])))]
async fn diff(
    State(c): State<Config>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    q: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Json<Vec<Change>>, ApiError> {
    let scope = scope(&service, &environment)?;
    let q = query(q)?;
    Ok(Json(
        c.diff(principal(&caller), &scope, q.from, q.to).await?,
    ))
}

/// A rollback.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RollbackBody {
    /// The version to return to.
    to_version: u64,
    /// When given, the rollback happens only if this is still the current version (409).
    expected_version: Option<u64>,
    /// Why (at most 500 characters; default "rollback to version N").
    #[serde(default)]
    comment: String,
}

/// Rolls back in one call: a new version equal to an old one, published like any change.
/// Admins and ops.
#[utoipa::path(post, path = "/v1/configs/{service}/{environment}/rollback", tag = "config",
    security(("bearer" = ["ops"])),
    params(("service" = String, Path, description = "A service of the fleet"),
        ("environment" = String, Path, description = "e.g. prod")),
    request_body = RollbackBody,
    responses((status = 200, description = "The new version", body = VersionDto),
        (status = 409, description = "expected_version is not the current version")))]
async fn rollback(
    State(c): State<Config>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    b: Result<Json<RollbackBody>, JsonRejection>,
) -> Result<Json<VersionDto>, ApiError> {
    let scope = scope(&service, &environment)?;
    let b = body(b)?;
    let v = c
        .rollback(
            principal(&caller),
            &scope,
            b.to_version,
            b.expected_version,
            &b.comment,
        )
        .await?;
    Ok(Json(v.into()))
}

// ----- secrets -------------------------------------------------------------------------------

/// What anyone but the owner may know of a secret (never its value).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SecretMetaDto {
    service: String,
    name: String,
    /// 1, 2, ...: every set makes a new one.
    version: u64,
    updated_at: String,
    updated_by: String,
}

impl From<SecretMeta> for SecretMetaDto {
    fn from(m: SecretMeta) -> Self {
        Self {
            service: m.service,
            name: m.name,
            version: m.version,
            updated_at: rfc3339(m.updated_at),
            updated_by: m.updated_by,
        }
    }
}

/// Filters the secrets or the audit trail by service.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceQuery {
    /// Only this service's.
    service: Option<String>,
    /// At most this many (audit only: 1 to 1000; 100 when absent).
    limit: Option<u32>,
}

/// The secrets' metadata: name, version, when and by whom set — never a value. Admins and ops.
#[utoipa::path(get, path = "/v1/secrets", tag = "secrets", security(("bearer" = ["ops"])),
    params(ServiceQuery),
    responses((status = 200, description = "The secrets, by service and name", body = [SecretMetaDto])))]
async fn list_secrets(
    State(c): State<Config>,
    q: Result<Query<ServiceQuery>, QueryRejection>,
) -> Result<Json<Vec<SecretMetaDto>>, ApiError> {
    let q = query(q)?;
    let list = c.secrets(q.service.as_deref()).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A secret's new value. Its `Debug` never shows it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutSecret {
    /// The value (1 to 8192 bytes of UTF-8), sealed at rest; nobody but the owning service
    /// ever reads it back.
    #[schema(value_type = String)]
    value: SecretString,
}

/// Sets or rotates a service's secret (a new version, sealed with AES-256-GCM under the master
/// key); audited. Admins only. The answer is the metadata, never the value.
#[utoipa::path(put, path = "/v1/secrets/{service}/{name}", tag = "secrets",
    security(("bearer" = ["admin"])),
    params(("service" = String, Path, description = "The owning service"),
        ("name" = String, Path, description = "e.g. ssi.consumer_secret")),
    request_body = PutSecret,
    responses((status = 200, description = "The secret's metadata", body = SecretMetaDto)))]
async fn put_secret(
    State(c): State<Config>,
    caller: Caller,
    Path((service, name)): Path<(String, String)>,
    b: Result<Json<PutSecret>, JsonRejection>,
) -> Result<Json<SecretMetaDto>, ApiError> {
    // The rejection's text is not echoed: nothing of a secret's body goes into an answer.
    let b = b.map(|Json(b)| b).map_err(|_| {
        ApiError::new(
            Kind::InvalidArgument,
            r#"request body: expected {"value": "<1 to 8192 bytes of text>"}"#,
        )
    })?;
    let meta = c
        .set_secret(principal(&caller), &service, &name, &b.value)
        .await?;
    Ok(Json(meta.into()))
}

/// Deletes a service's secret; audited. Admins only.
#[utoipa::path(delete, path = "/v1/secrets/{service}/{name}", tag = "secrets",
    security(("bearer" = ["admin"])),
    params(("service" = String, Path, description = "The owning service"),
        ("name" = String, Path, description = "The secret's name")),
    responses((status = 204, description = "Deleted")))]
async fn delete_secret(
    State(c): State<Config>,
    caller: Caller,
    Path((service, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    c.delete_secret(principal(&caller), &service, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A secret's plaintext, for its owner.
#[derive(ToSchema)]
pub(crate) struct SecretValueDto {
    service: String,
    name: String,
    version: u64,
    /// The plaintext.
    #[schema(value_type = String)]
    value: SecretString,
}

impl Serialize for SecretValueDto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("SecretValue", 4)?;
        st.serialize_field("service", &self.service)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("version", &self.version)?;
        st.serialize_field("value", self.value.expose_secret())?;
        st.end()
    }
}

/// A secret's plaintext — only to the owning service's own token (role `service`, the token's
/// user = the service); refused to everyone else, admins included. Any valid token reaches the
/// owner check, so every refusal past authentication is audited with the caller.
#[utoipa::path(get, path = "/v1/secrets/{service}/{name}/value", tag = "secrets",
    security(("bearer" = [])),
    params(("service" = String, Path, description = "The owning service (the caller itself)"),
        ("name" = String, Path, description = "The secret's name")),
    responses((status = 200, description = "The plaintext (not cached: no-store)", body = SecretValueDto)))]
async fn secret_value(
    State(c): State<Config>,
    caller: Caller,
    Path((service, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (meta, value) = c
        .reveal_secret(principal(&caller), &service, &name, "http")
        .await?;
    let mut r = Json(SecretValueDto {
        service: meta.service,
        name: meta.name,
        version: meta.version,
        value,
    })
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// One line of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditDto {
    at: String,
    actor: String,
    /// `config.change`, `config.rollback`, `secret.set`, `secret.delete`, `secret.read`,
    /// `ssi.token` (a new SSI token for the fleet, a failed SSI login, a refused request).
    action: String,
    service: String,
    /// The environment or the secret's name.
    target: String,
    allowed: bool,
    detail: String,
}

impl From<AuditEntry> for AuditDto {
    fn from(e: AuditEntry) -> Self {
        Self {
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            service: e.service,
            target: e.target,
            allowed: e.allowed,
            detail: e.detail,
        }
    }
}

/// The audit trail: every configuration change and rollback, every secret set, deleted and
/// read (allowed or refused), newest first. Admins and ops.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", security(("bearer" = ["ops"])),
    params(ServiceQuery),
    responses((status = 200, description = "Newest first", body = [AuditDto])))]
async fn audit(
    State(c): State<Config>,
    q: Result<Query<ServiceQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditDto>>, ApiError> {
    let q = query(q)?;
    let entries = c
        .audit(q.service.as_deref(), limit(q.limit, 100, 1000)?)
        .await?;
    Ok(Json(entries.into_iter().map(Into::into).collect()))
}
