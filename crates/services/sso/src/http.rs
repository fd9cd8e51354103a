//! HTTP adapter: OpenID Connect discovery and JWKS, the OAuth 2.0 token and revocation
//! endpoints, registration, one's own account and password, password reset, and the
//! administration of users, service clients and keys. Protected routes take
//! `Authorization: Bearer <access token>`; every refusal is the `{"code","message"}` body, except
//! the token endpoint's, which is RFC 6749's `{"error","error_description"}`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use common::error::{ApiError, Kind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Claims, User};
use crate::service::{OAuthError, Sso, TokenResponse, TotpEnrolment, UserPatch};

/// The service's routes.
pub(crate) fn router(sso: Sso) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(discovery))
        .routes(routes!(jwks))
        .routes(routes!(token))
        .routes(routes!(revoke))
        .routes(routes!(register))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(enrol_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(disable_totp))
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(put_client))
        .routes(routes!(rotate_keys))
        .routes(routes!(audit))
        .with_state(sso)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|e| ApiError::new(Kind::InvalidArgument, format!("request body: {e}")))
}

/// The claims of the request's bearer token.
fn bearer(sso: &Sso, headers: &HeaderMap) -> Result<Claims, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::new(
                Kind::Unauthenticated,
                "an Authorization: Bearer <access token> header is required",
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::new(
                Kind::Unauthenticated,
                "the Authorization header is not text",
            )
        })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::new(
                Kind::Unauthenticated,
                "the Authorization header is not Bearer",
            )
        })?;
    Ok(sso.verify(token.trim())?)
}

fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn oauth_error(e: &OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut body = json!({"error": e.error, "error_description": e.description});
    if e.mfa_required {
        body["mfa_required"] = json!(true);
    }
    let mut r = (status, Json(body)).into_response();
    if e.status == 401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"qts\""),
        );
    }
    no_store(r)
}

fn form_of(headers: &HeaderMap, body: &str) -> Result<HashMap<String, String>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded".to_owned(),
        ));
    }
    let mut form = HashMap::new();
    for (k, v) in form_urlencoded::parse(body.as_bytes()) {
        if form.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::new(
                400,
                "invalid_request",
                format!("{k} is given twice"),
            ));
        }
    }
    Ok(form)
}

/// The client id and secret of an `Authorization: Basic` header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = v.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// OpenID Connect discovery: the issuer, the JWKS, the token and revocation endpoints, the
/// grants and algorithms supported.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "discovery", security(()),
    responses((status = 200, description = "The discovery document", body = Object)))]
async fn discovery(State(sso): State<Sso>) -> Json<Value> {
    Json(sso.discovery())
}

/// The public keys that verify access tokens (Ed25519 `OKP` keys, `alg` EdDSA). Fetch it
/// again when a token names an unknown `kid`: keys rotate.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery", security(()),
    responses((status = 200, description = "The JWKS", body = Object)))]
async fn jwks(State(sso): State<Sso>) -> Response {
    let mut r = Json(sso.jwks()).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

/// The fields of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code, reason = "documents the form the endpoint parses")]
pub(crate) struct TokenForm {
    /// `password`, `refresh_token` or `client_credentials`.
    grant_type: String,
    /// password grant.
    username: Option<String>,
    /// password grant.
    password: Option<String>,
    /// refresh_token grant.
    refresh_token: Option<String>,
    /// client_credentials (or HTTP Basic); optional for the password grant (first-party
    /// clients are public).
    client_id: Option<String>,
    /// client_credentials (or HTTP Basic).
    client_secret: Option<String>,
    /// password grant, when the user has two-factor authentication on: the authenticator's
    /// current code.
    totp: Option<String>,
    /// password grant: instead of `totp`, an unused recovery code (used up).
    recovery_code: Option<String>,
}

/// The OAuth 2.0 token endpoint (RFC 6749): `password` (a user logs in: an access token and a
/// refresh token), `refresh_token` (the next access token; the refresh token rotates, and a
/// used one presented again revokes the whole login), `client_credentials` (a service: an
/// access token with its roles). Too many failed logins lock the user; too many attempts a
/// minute are refused before the password is checked.
#[utoipa::path(post, path = "/v1/oauth/token", tag = "oauth", security(()),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Tokens", body = TokenResponse),
              (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type", body = Object),
              (status = 401, description = "invalid_client", body = Object),
              (status = 429, description = "slow_down: too many attempts", body = Object)))]
async fn token(State(sso): State<Sso>, headers: HeaderMap, body: String) -> Response {
    let form = match form_of(&headers, &body) {
        Ok(f) => f,
        Err(e) => return oauth_error(&e),
    };
    match sso.token(&form, basic(&headers)).await {
        Ok(t) => no_store(Json(t).into_response()),
        Err(e) => oauth_error(&e),
    }
}

/// Revokes a refresh token and every token of its login (RFC 7009; logout). An unknown token
/// is not an error.
#[utoipa::path(post, path = "/v1/oauth/revoke", tag = "oauth", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "token=<refresh token>"),
    responses((status = 200, description = "Revoked")))]
async fn revoke(State(sso): State<Sso>, headers: HeaderMap, body: String) -> Response {
    let form = match form_of(&headers, &body) {
        Ok(f) => f,
        Err(e) => return oauth_error(&e),
    };
    let Some(token) = form
        .get("token")
        .filter(|t| !t.is_empty() && t.len() <= 200)
    else {
        return oauth_error(&OAuthError::new(
            400,
            "invalid_request",
            "token is required".to_owned(),
        ));
    };
    match sso.revoke(token, "logout").await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserDto {
    id: String,
    username: String,
    email: String,
    /// `trader`, `risk_officer`, `admin`, `ops`.
    roles: Vec<String>,
    /// Broker sub-accounts the user may trade and see.
    accounts: Vec<String>,
    disabled: bool,
    /// Locked after failed logins until then (RFC 3339).
    locked_until: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        let t = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            accounts: u.accounts.clone(),
            disabled: u.disabled,
            locked_until: u
                .locked_until
                .filter(|l| *l > time::OffsetDateTime::now_utc())
                .map(t),
            created_at: t(u.created_at),
            updated_at: t(u.updated_at),
        }
    }
}

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterBody {
    /// 3 to 64 characters of `[a-z0-9._-]`.
    username: String,
    email: String,
    /// At least `passwords.min_length` (10) characters.
    password: String,
}

/// Registers a trader (when `accounts.registration_open`); an administrator gives broker
/// accounts.
#[utoipa::path(post, path = "/v1/register", tag = "users", security(()), request_body = RegisterBody,
    responses((status = 201, description = "Registered", body = UserDto),
              (status = 400, description = "Malformed", body = common::error::ErrorBody),
              (status = 403, description = "Registration is closed", body = common::error::ErrorBody),
              (status = 409, description = "The user name is taken", body = common::error::ErrorBody)))]
async fn register(
    State(sso): State<Sso>,
    b: Result<Json<RegisterBody>, JsonRejection>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let b = body(b)?;
    let u = sso.register(&b.username, &b.email, &b.password).await?;
    Ok((StatusCode::CREATED, Json((&u).into())))
}

/// Who the token is for: the user (with roles and accounts), or a service client's claims.
#[utoipa::path(get, path = "/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The caller: a user as `GET /v1/users/{username}` shows one, plus `totp_enabled` (whether logins need a second factor); a service client's claims", body = Object),
              (status = 401, description = "No valid token", body = common::error::ErrorBody)))]
async fn me(State(sso): State<Sso>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let claims = bearer(&sso, &headers)?;
    match sso.user(&claims.preferred_username, &claims).await {
        Ok(u) if u.id == claims.sub => {
            let mut me = serde_json::to_value(UserDto::from(&u)).unwrap_or_default();
            me["totp_enabled"] = json!(sso.totp_enabled(&u.id).await?);
            Ok(Json(me))
        }
        _ => Ok(Json(json!({
            "sub": claims.sub,
            "username": claims.preferred_username,
            "roles": claims.roles,
            "accounts": claims.accounts,
        }))),
    }
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password (the current one required); every session of the user is
/// revoked (log in again).
#[utoipa::path(post, path = "/v1/me/password", tag = "users", security(("bearer" = [])),
    request_body = PasswordBody,
    responses((status = 204, description = "Changed"),
              (status = 400, description = "The new password breaks the policy", body = common::error::ErrorBody),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "The current password is wrong", body = common::error::ErrorBody)))]
async fn change_password(
    State(sso): State<Sso>,
    headers: HeaderMap,
    b: Result<Json<PasswordBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let b = body(b)?;
    sso.change_password(&claims, &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts turning two-factor authentication on for the caller: a new secret (and its
/// `otpauth://` URI) for their authenticator app. Confirm with a first code.
#[utoipa::path(post, path = "/v1/me/totp", tag = "two-factor", security(("bearer" = [])),
    responses((status = 200, description = "The secret for the authenticator", body = TotpEnrolment),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not a user's token", body = common::error::ErrorBody),
              (status = 409, description = "Already on", body = common::error::ErrorBody)))]
async fn enrol_totp(State(sso): State<Sso>, headers: HeaderMap) -> Result<Response, ApiError> {
    let claims = bearer(&sso, &headers)?;
    Ok(no_store(
        Json(sso.enrol_totp(&claims).await?).into_response(),
    ))
}

/// A two-factor code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    /// The authenticator's current code (6 digits).
    code: String,
}

/// One-time recovery codes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecoveryCodesDto {
    /// Each logs in once instead of a code (keep them safe; shown this once).
    recovery_codes: Vec<String>,
}

/// Turns two-factor authentication on with the authenticator's first code; answers ten
/// recovery codes, shown this once. From now on a login needs `totp` (or `recovery_code`).
#[utoipa::path(post, path = "/v1/me/totp/confirm", tag = "two-factor", security(("bearer" = [])),
    request_body = CodeBody,
    responses((status = 200, description = "On; the recovery codes", body = RecoveryCodesDto),
              (status = 400, description = "Not the current code, or nothing to confirm", body = common::error::ErrorBody),
              (status = 401, description = "No valid token", body = common::error::ErrorBody)))]
async fn confirm_totp(
    State(sso): State<Sso>,
    headers: HeaderMap,
    b: Result<Json<CodeBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let b = body(b)?;
    let codes = sso.confirm_totp(&claims, &b.code).await?;
    Ok(no_store(
        Json(RecoveryCodesDto {
            recovery_codes: codes,
        })
        .into_response(),
    ))
}

/// A password, to confirm who asks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordOnlyBody {
    password: String,
}

/// Turns two-factor authentication off (the caller's password required).
#[utoipa::path(post, path = "/v1/me/totp/disable", tag = "two-factor", security(("bearer" = [])),
    request_body = PasswordOnlyBody,
    responses((status = 204, description = "Off"),
              (status = 400, description = "Not on", body = common::error::ErrorBody),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Wrong password", body = common::error::ErrorBody)))]
async fn disable_totp(
    State(sso): State<Sso>,
    headers: HeaderMap,
    b: Result<Json<PasswordOnlyBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let b = body(b)?;
    sso.disable_totp(&claims, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reset request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequestBody {
    /// A user name or an e-mail address.
    username_or_email: String,
}

/// Sends a one-time password reset token to the user (on `notification.request.v1`, for the
/// notification service to deliver). Answers the same whether or not the user exists.
#[utoipa::path(post, path = "/v1/password-reset", tag = "users", security(()), request_body = ResetRequestBody,
    responses((status = 202, description = "Sent if the user exists"),
              (status = 429, description = "Too many resets in an hour", body = common::error::ErrorBody)))]
async fn request_reset(
    State(sso): State<Sso>,
    b: Result<Json<ResetRequestBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let b = body(b)?;
    sso.request_reset(&b.username_or_email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A new password with a reset token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetBody {
    token: String,
    new_password: String,
}

/// Sets a new password with a reset token (once, before it expires); every session of the
/// user is revoked and a lockout cleared.
#[utoipa::path(post, path = "/v1/password-reset/confirm", tag = "users", security(()), request_body = ResetBody,
    responses((status = 204, description = "Set"),
              (status = 400, description = "The password breaks the policy", body = common::error::ErrorBody),
              (status = 403, description = "Unknown, used or expired token", body = common::error::ErrorBody)))]
async fn confirm_reset(
    State(sso): State<Sso>,
    b: Result<Json<ResetBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let b = body(b)?;
    sso.reset_password(&b.token, &b.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// At most this many (1–1000, default 100).
    limit: Option<u32>,
    /// Audit: only this user name, client id or key id.
    subject: Option<String>,
}

/// Every user, by name (administrators and risk officers).
#[utoipa::path(get, path = "/v1/users", tag = "users", security(("bearer" = ["risk_officer"])), params(ListQuery),
    responses((status = 200, description = "Users", body = [UserDto]),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not an administrator or risk officer", body = common::error::ErrorBody)))]
async fn list_users(
    State(sso): State<Sso>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<UserDto>>, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let users = sso.users(q.limit.unwrap_or(100), &claims).await?;
    Ok(Json(users.iter().map(UserDto::from).collect()))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserBody {
    username: String,
    email: String,
    password: String,
    /// `trader`, `risk_officer`, `admin`, `ops`.
    roles: Vec<String>,
    /// Broker sub-accounts the user may trade and see.
    #[serde(default)]
    accounts: Vec<String>,
}

/// Creates a user (administrators).
#[utoipa::path(post, path = "/v1/users", tag = "users", security(("bearer" = ["admin"])), request_body = NewUserBody,
    responses((status = 201, description = "Created", body = UserDto),
              (status = 400, description = "Malformed", body = common::error::ErrorBody),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not an administrator", body = common::error::ErrorBody),
              (status = 409, description = "The user name is taken", body = common::error::ErrorBody)))]
async fn create_user(
    State(sso): State<Sso>,
    headers: HeaderMap,
    b: Result<Json<NewUserBody>, JsonRejection>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let claims = bearer(&sso, &headers)?;
    let b = body(b)?;
    let u = sso
        .create_user(
            (&b.username, &b.email, &b.password),
            &b.roles,
            b.accounts,
            &claims,
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&u).into())))
}

/// One user (administrators and risk officers; anyone themselves).
#[utoipa::path(get, path = "/v1/users/{username}", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "User name")),
    responses((status = 200, description = "The user", body = UserDto),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Another user, not an administrator", body = common::error::ErrorBody),
              (status = 404, description = "No such user", body = common::error::ErrorBody)))]
async fn get_user(
    State(sso): State<Sso>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<UserDto>, ApiError> {
    let claims = bearer(&sso, &headers)?;
    Ok(Json((&sso.user(&username, &claims).await?).into()))
}

/// A change of a user (absent fields stay).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatchBody {
    email: Option<String>,
    roles: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    /// Disabling revokes every session.
    disabled: Option<bool>,
    /// Clears a lockout.
    #[serde(default)]
    unlock: bool,
    /// A new password (revokes every session).
    password: Option<String>,
    /// Removes the user's two-factor authentication (a lost device).
    #[serde(default)]
    reset_totp: bool,
}

/// Changes a user (administrators): e-mail, roles, broker accounts, disabled, lockout,
/// password.
#[utoipa::path(patch, path = "/v1/users/{username}", tag = "users", security(("bearer" = ["admin"])),
    params(("username" = String, Path, description = "User name")), request_body = UserPatchBody,
    responses((status = 200, description = "The user after the change", body = UserDto),
              (status = 400, description = "Malformed or nothing to change", body = common::error::ErrorBody),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not an administrator", body = common::error::ErrorBody),
              (status = 404, description = "No such user", body = common::error::ErrorBody)))]
async fn update_user(
    State(sso): State<Sso>,
    headers: HeaderMap,
    Path(username): Path<String>,
    b: Result<Json<UserPatchBody>, JsonRejection>,
) -> Result<Json<UserDto>, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let b = body(b)?;
    let patch = UserPatch {
        email: b.email,
        roles: b.roles,
        accounts: b.accounts,
        disabled: b.disabled,
        unlock: b.unlock,
        password: b.password,
        reset_totp: b.reset_totp,
    };
    Ok(Json(
        (&sso.update_user(&username, patch, &claims).await?).into(),
    ))
}

/// A service client's roles.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientBody {
    /// Usually `service`.
    roles: Vec<String>,
}

/// A service client and its new secret (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClientSecretDto {
    client_id: String,
    client_secret: String,
}

/// Creates a service client or gives it a new secret (administrators); the secret is shown
/// this once. Services obtain tokens with the `client_credentials` grant.
#[utoipa::path(put, path = "/v1/clients/{client_id}", tag = "clients", security(("bearer" = ["admin"])),
    params(("client_id" = String, Path, description = "Client id")), request_body = ClientBody,
    responses((status = 200, description = "The client and its secret", body = ClientSecretDto),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not an administrator", body = common::error::ErrorBody)))]
async fn put_client(
    State(sso): State<Sso>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    b: Result<Json<ClientBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let b = body(b)?;
    let secret = sso.put_client(&client_id, &b.roles, &claims).await?;
    Ok(no_store(
        Json(ClientSecretDto {
            client_id: client_id.trim().to_ascii_lowercase(),
            client_secret: secret,
        })
        .into_response(),
    ))
}

/// Replaces the signing key now (administrators); the old key stays published until its
/// tokens have expired.
#[utoipa::path(post, path = "/v1/keys/rotate", tag = "clients", security(("bearer" = ["admin"])),
    responses((status = 200, description = "The JWKS after the rotation", body = Object),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not an administrator", body = common::error::ErrorBody)))]
async fn rotate_keys(State(sso): State<Sso>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let claims = bearer(&sso, &headers)?;
    crate::service::require(&claims, crate::domain::Role::Admin)?;
    sso.rotate_keys(true, &claims.preferred_username).await?;
    Ok(Json(sso.jwks()))
}

/// One authentication event.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditDto {
    at: String,
    /// `login`, `login_failed`, `user_locked`, `login_throttled`, `refresh`, `refresh_reuse`,
    /// `revoked`, `password_changed`, `password_reset_requested`, `password_reset`,
    /// `user_created`, `user_changed`, `client_set`, `client_login`, `key_rotated`, ...
    event: String,
    subject: String,
    actor: String,
    detail: String,
}

/// The latest authentication events, newest first (administrators and risk officers; anyone
/// their own with `subject`).
#[utoipa::path(get, path = "/v1/audit", tag = "users", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "Events", body = [AuditDto]),
              (status = 401, description = "No valid token", body = common::error::ErrorBody),
              (status = 403, description = "Not allowed", body = common::error::ErrorBody)))]
async fn audit(
    State(sso): State<Sso>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<AuditDto>>, ApiError> {
    let claims = bearer(&sso, &headers)?;
    let rows = sso
        .audit(
            q.subject.as_deref().unwrap_or_default(),
            q.limit.unwrap_or(100),
            &claims,
        )
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditDto {
                at: r.at.get().format(&Rfc3339).unwrap_or_default(),
                event: r.event,
                subject: r.subject,
                actor: r.actor,
                detail: r.detail,
            })
            .collect(),
    ))
}
