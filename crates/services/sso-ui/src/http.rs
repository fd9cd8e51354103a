//! HTTP adapter: the pages (GET shows, POST submits: sign-in with its second factor,
//! registration, password reset, the account with password change and two-factor enrolment,
//! sign-out), the session handoff to the portal (`POST /v1/session/token`, JSON) and the
//! stylesheet. Every route is public in the OpenAPI sense (`security(())`): the pages and the
//! handoff authenticate with the `qts_session` cookie, never a bearer token, and every POST
//! passes the CSRF checks of [`crate::security`] first.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Lang, limits, safe_return_to, totp_code};
use crate::i18n;
use crate::pages::{BASE, Pages, qr_svg};
use crate::security::{
    CSRF_COOKIE, CSRF_HEADER, CookieFlags, LANG_COOKIE, SESSION_COOKIE, clear_cookie, cookies,
    csrf_matches, same_origin, set_cookie,
};
use crate::service::{Pending, Problem, Session, Ui, problem};
use crate::sso;

/// The state of every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) ui: Ui,
    pub(crate) pages: Arc<Pages>,
}

/// The service's routes.
pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(login_page, login_submit))
        .routes(routes!(second_factor_submit))
        .routes(routes!(register_page, register_submit))
        .routes(routes!(reset_page, reset_submit))
        .routes(routes!(reset_confirm_page, reset_confirm_submit))
        .routes(routes!(account_page))
        .routes(routes!(change_password_submit))
        .routes(routes!(enrol_totp_submit))
        .routes(routes!(confirm_totp_submit))
        .routes(routes!(disable_totp_submit))
        .routes(routes!(logout_submit))
        .routes(routes!(session_token))
        .routes(routes!(session_csrf))
        .routes(routes!(stylesheet))
        .layer(axum::middleware::map_response(crate::security::headers))
        .with_state(state)
}

// ----- the request as the pages see it ---------------------------------------------------

/// A request's language, cookies and query.
struct Req {
    lang: Lang,
    /// `?lang=` named it: remember it in the `qts_lang` cookie.
    lang_chosen: bool,
    cookies: HashMap<String, String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
}

impl Req {
    fn new(ui: &Ui, headers: HeaderMap, uri: &axum::http::Uri) -> Self {
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .take(20)
                    .collect()
            })
            .unwrap_or_default();
        let cookies = cookies(&headers);
        let asked = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let lang = asked
            .or_else(|| cookies.get(LANG_COOKIE).and_then(|c| Lang::parse(c)))
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_else(|| ui.settings.default_lang());
        Self {
            lang,
            lang_chosen: asked.is_some(),
            cookies,
            query,
            headers,
        }
    }

    fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    fn text(&self, key: &str) -> &'static str {
        i18n::text(self.lang, key)
    }

    /// This page in the other language: the same query with `lang` switched.
    fn switch_url(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.query.iter().filter(|(k, _)| k != "lang") {
            s.append_pair(k, v);
        }
        s.append_pair("lang", self.lang.other().code());
        format!("?{}", s.finish())
    }
}

/// A submitted form's fields (the first of a name wins; at most 20 fields).
fn form(body: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(body.as_bytes()).take(20) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

fn field<'a>(f: &'a HashMap<String, String>, name: &str) -> &'a str {
    f.get(name).map_or("", String::as_str)
}

// ----- answers ---------------------------------------------------------------------------

/// A page under construction: its context and the cookies to set.
struct Page {
    status: StatusCode,
    template: &'static str,
    ctx: Map<String, Value>,
    cookies: Vec<String>,
}

impl Page {
    fn new(template: &'static str) -> Self {
        Self {
            status: StatusCode::OK,
            template,
            ctx: Map::new(),
            cookies: Vec::new(),
        }
    }

    fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.ctx.insert(key.to_owned(), value.into());
        self
    }

    fn cookie(mut self, c: String) -> Self {
        self.cookies.push(c);
        self
    }

    fn cookies(mut self, cookies: Vec<String>) -> Self {
        self.cookies.extend(cookies);
        self
    }

    fn problems(mut self, r: &Req, problems: &[Problem]) -> Self {
        let mut list = Vec::new();
        let mut errors = Map::new();
        for p in problems {
            let text = r
                .text(p.key)
                .replace("{min}", p.min.as_deref().unwrap_or("10"));
            if let Some(f) = p.field {
                errors
                    .entry(f.to_owned())
                    .or_insert_with(|| Value::from(text.clone()));
            }
            list.push(json!({"field": p.field, "text": text}));
        }
        self.ctx.insert("problems".to_owned(), Value::Array(list));
        self.ctx.insert("errors".to_owned(), Value::Object(errors));
        if !problems.is_empty() && self.status == StatusCode::OK {
            self.status = status_of(problems);
        }
        self
    }

    /// Renders the page: the CSRF token (the cookie's, or a new one set now), the language
    /// switch, the chosen language remembered.
    fn render(mut self, app: &AppState, r: &Req) -> Response {
        let secure = app.ui.settings.cookie_secure;
        let csrf = match r.cookie(CSRF_COOKIE) {
            Some(c) => c.to_owned(),
            None => match app.ui.random_token(32) {
                Ok(token) => {
                    self.cookies.push(csrf_cookie(&token, secure));
                    token
                }
                Err(e) => return internal(&e),
            },
        };
        if r.lang_chosen {
            self.cookies.push(set_cookie(
                LANG_COOKIE,
                r.lang.code(),
                CookieFlags {
                    secure,
                    strict: false,
                    max_age: Some(365 * 86_400),
                },
            ));
        }
        self.ctx.insert("csrf".to_owned(), Value::from(csrf));
        self.ctx
            .entry("switch_url")
            .or_insert_with(|| Value::from(r.switch_url()));
        for k in ["values", "errors"] {
            self.ctx
                .entry(k)
                .or_insert_with(|| Value::Object(Map::new()));
        }
        match app.pages.render(self.template, r.lang, self.ctx) {
            Ok(html) => {
                let mut resp = (
                    self.status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    html,
                )
                    .into_response();
                add_cookies(&mut resp, &self.cookies);
                resp
            }
            Err(e) => {
                tracing::error!(template = self.template, error = %e, "a page did not render");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

fn csrf_cookie(token: &str, secure: bool) -> String {
    set_cookie(
        CSRF_COOKIE,
        token,
        CookieFlags {
            secure,
            strict: true,
            max_age: None,
        },
    )
}

fn add_cookies(resp: &mut Response, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// The HTTP status of a form shown again with problems.
fn status_of(problems: &[Problem]) -> StatusCode {
    match problems.first().map(|p| p.key) {
        Some("err_throttled" | "err_reset_throttled") => StatusCode::TOO_MANY_REQUESTS,
        Some("err_unavailable") => StatusCode::SERVICE_UNAVAILABLE,
        Some("err_locked" | "err_disabled" | "err_registration_closed") => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `303 See Other` to `location`, setting `cookies`.
fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    add_cookies(&mut resp, cookies);
    resp
}

fn internal(e: &dyn std::error::Error) -> Response {
    tracing::error!(error = %common::error::chain(e), "sso-ui failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// A page with one message.
fn message(r: &Req, status: StatusCode, title_key: &str, text_key: &str) -> Page {
    Page::new("message.html")
        .status(status)
        .with("title", r.text(title_key))
        .with("text", r.text(text_key))
        .with("alert", !status.is_success())
}

/// The refusal of a POST that fails the CSRF checks (Origin/Referer naming this host, the form's or
/// header's token matching the cookie).
fn refused(app: &AppState, r: &Req, submitted: Option<&str>) -> Option<Response> {
    if same_origin(&r.headers) && csrf_matches(r.cookie(CSRF_COOKIE), submitted) {
        return None;
    }
    tracing::info!("a POST failed the CSRF checks");
    Some(message(r, StatusCode::FORBIDDEN, "forbidden_title", "csrf_failed").render(app, r))
}

/// A POSTed form with its request, once it passed the CSRF checks; else the 403 page.
fn submitted(
    app: &AppState,
    headers: HeaderMap,
    uri: &axum::http::Uri,
    body: &str,
) -> Result<(Req, HashMap<String, String>), Box<Response>> {
    let r = Req::new(&app.ui, headers, uri);
    let f = form(body);
    match refused(app, &r, f.get("csrf").map(String::as_str)) {
        Some(resp) => Err(Box::new(resp)),
        None => Ok((r, f)),
    }
}

/// Sets the session cookie to the session's refresh token, living until the login ends (as
/// the SSO says; rotation does not extend it) or `ui.session_max_age_secs`, whichever is first.
fn session_cookie(ui: &Ui, s: &Session) -> String {
    let configured = ui.settings.session_max_age_secs;
    let max_age = s.login_ends_at.map_or(configured, |ends| {
        configured.min(ends.saturating_sub(crate::service::unix_now()))
    });
    set_cookie(
        SESSION_COOKIE,
        &s.refresh_token,
        CookieFlags {
            secure: ui.settings.cookie_secure,
            strict: true,
            max_age: Some(max_age),
        },
    )
}

/// After a sign-in: the session cookie and `303` to `return_to` (a same-origin path) or the
/// landing page.
fn signed_in_redirect(ui: &Ui, s: &Session, return_to: &str) -> Response {
    let to = safe_return_to(return_to).unwrap_or(&ui.settings.landing_path);
    see_other(to, &[session_cookie(ui, s)])
}

fn login_url(r: &Req, extra: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("lang", r.lang.code());
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    format!("{BASE}/login?{}", s.finish())
}

/// A POSTed form of a signed-in user, past the CSRF checks: the request, the form, the
/// session and the cookies a refreshed session sets.
async fn signed_in_form(
    app: &AppState,
    headers: HeaderMap,
    uri: &axum::http::Uri,
    body: &str,
) -> Result<(Req, HashMap<String, String>, Session, Vec<String>), Box<Response>> {
    let (r, f) = submitted(app, headers, uri, body)?;
    let (s, cookies) = session_of(app, &r).await?;
    Ok((r, f, s, cookies))
}

/// The session of the request's cookie (refreshed, the rotated cookie to set), or the answer
/// to give instead: to the sign-in when there is none or it ended.
async fn session_of(app: &AppState, r: &Req) -> Result<(Session, Vec<String>), Box<Response>> {
    let back = format!("{BASE}/account?lang={}", r.lang.code());
    let Some(refresh) = r.cookie(SESSION_COOKIE) else {
        return Err(Box::new(see_other(
            &login_url(r, &[("return_to", &back)]),
            &[],
        )));
    };
    match app.ui.session(refresh).await {
        Ok(s) => {
            let c = session_cookie(&app.ui, &s);
            Ok((s, vec![c]))
        }
        Err(crate::service::Error::Sso(sso::Error::Refused { status, .. })) if status < 500 => {
            Err(Box::new(see_other(
                &login_url(r, &[("return_to", &back), ("expired", "1")]),
                &[clear_cookie(SESSION_COOKIE, app.ui.settings.cookie_secure)],
            )))
        }
        Err(e) => {
            tracing::warn!(error = %common::error::chain(&e), "a session could not be refreshed");
            Err(Box::new(
                message(
                    r,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "notice",
                    "err_unavailable",
                )
                .render(app, r),
            ))
        }
    }
}

fn required(f: &HashMap<String, String>, name: &'static str, max: usize) -> Option<Problem> {
    let v = field(f, name);
    if v.trim().is_empty() {
        Some(Problem::at(name, "err_required"))
    } else if v.chars().count() > max {
        Some(Problem::at(name, "err_too_long"))
    } else {
        None
    }
}

fn new_password_problems(f: &HashMap<String, String>) -> Vec<Problem> {
    let mut p: Vec<Problem> = required(f, "new_password", limits::NEW_PASSWORD)
        .into_iter()
        .collect();
    if p.is_empty() && field(f, "new_password") != field(f, "confirm_password") {
        p.push(Problem::at("confirm_password", "err_password_mismatch"));
    }
    p
}

// ----- sign-in ---------------------------------------------------------------------------

/// The sign-in page. `return_to`: a same-origin path to go to afterwards (anything else is
/// ignored); `expired=1`: say the session ended; `signed_out=1`: say so.
#[utoipa::path(get, path = "/v1/login", tag = "pages", security(()),
    params(("lang" = Option<String>, Query, description = "vi or en"),
           ("return_to" = Option<String>, Query, description = "A same-origin path")),
    responses((status = 200, description = "The sign-in form", content_type = "text/html", body = String)))]
async fn login_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let r = Req::new(&app.ui, headers, &uri);
    let return_to = r.query("return_to").and_then(safe_return_to).unwrap_or("");
    let notice = if r.query("expired").is_some() {
        r.text("session_expired")
    } else if r.query("signed_out").is_some() {
        r.text("signed_out")
    } else {
        ""
    };
    Page::new("login.html")
        .with("return_to", return_to)
        .with("notice", notice)
        .render(&app, &r)
}

/// Signs in with a user name and password: the session cookie and `303` to `return_to`, or the
/// second step when the user has two-factor authentication, or the form again with the
/// problem.
#[utoipa::path(post, path = "/v1/login", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, username, password, return_to"),
    responses((status = 303, description = "Signed in: to return_to"),
              (status = 200, description = "The second step", content_type = "text/html", body = String),
              (status = 400, description = "The form again with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed, or the account is locked", content_type = "text/html", body = String)))]
async fn login_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f) = match submitted(&app, headers, &uri, &body) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let username = field(&f, "username").trim();
    let return_to = safe_return_to(field(&f, "return_to")).unwrap_or("");
    let again = |problems: &[Problem]| {
        Page::new("login.html")
            .with("return_to", return_to)
            .with("values", json!({"username": username}))
            .problems(&r, problems)
            .render(&app, &r)
    };
    let problems: Vec<Problem> = [
        required(&f, "username", limits::USERNAME),
        required(&f, "password", limits::PASSWORD),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !problems.is_empty() {
        return again(&problems);
    }
    let password = field(&f, "password");
    match app.ui.login(username, password, None).await {
        Ok(s) => signed_in_redirect(&app.ui, &s, return_to),
        Err(crate::service::Error::Sso(e)) if e.mfa_required() => {
            let pending = Pending {
                username: username.to_owned(),
                password: password.to_owned(),
                return_to: return_to.to_owned(),
            };
            match app.ui.hold(&pending).await {
                Ok(ticket) => Page::new("second.html")
                    .with("ticket", ticket)
                    .render(&app, &r),
                Err(e) => internal(&e),
            }
        }
        Err(e) => {
            let mut p = problem(&e, "password");
            if p.key == "err_credentials" {
                p.field = Some("password");
            }
            again(&[p])
        }
    }
}

/// The second step of a sign-in: the authenticator's code or a recovery code.
#[utoipa::path(post, path = "/v1/login/second-factor", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, ticket, code or recovery_code"),
    responses((status = 303, description = "Signed in: to return_to"),
              (status = 400, description = "The step again with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn second_factor_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f) = match submitted(&app, headers, &uri, &body) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let ticket = field(&f, "ticket");
    let to_login = |problem: Problem| {
        Page::new("login.html")
            .with("return_to", "")
            .problems(&r, &[problem])
            .render(&app, &r)
    };
    let pending = match app.ui.pending(ticket).await {
        Ok(Some(p)) => p,
        Ok(None) => return to_login(Problem::form("err_second_expired")),
        Err(e) => return internal(&e),
    };
    let again = |problem: Problem| {
        Page::new("second.html")
            .with("ticket", ticket)
            .problems(&r, &[problem])
            .render(&app, &r)
    };
    let code = field(&f, "code");
    let recovery = field(&f, "recovery_code").trim();
    let second = if !code.trim().is_empty() {
        match totp_code(code) {
            Some(c) => ("totp", c),
            None => return again(Problem::at("code", "err_totp_format")),
        }
    } else if !recovery.is_empty() {
        if recovery.len() > limits::RECOVERY_CODE {
            return again(Problem::at("recovery_code", "err_too_long"));
        }
        ("recovery_code", recovery.to_owned())
    } else {
        return again(Problem::at("code", "err_code_needed"));
    };
    match app
        .ui
        .login(
            &pending.username,
            &pending.password,
            Some((second.0, &second.1)),
        )
        .await
    {
        Ok(s) => {
            if let Err(e) = app.ui.forget(ticket).await {
                tracing::warn!(error = %common::error::chain(&e), "a sign-in ticket stays until it expires");
            }
            signed_in_redirect(&app.ui, &s, &pending.return_to)
        }
        Err(e) => {
            let p = problem(&e, "password");
            if p.field.is_some() {
                again(p)
            } else {
                // Locked, throttled, disabled: this sign-in is over.
                let _ = app.ui.forget(ticket).await;
                to_login(p)
            }
        }
    }
}

// ----- registration ----------------------------------------------------------------------

/// The registration page.
#[utoipa::path(get, path = "/v1/register", tag = "pages", security(()),
    params(("lang" = Option<String>, Query, description = "vi or en"),
           ("return_to" = Option<String>, Query, description = "A same-origin path")),
    responses((status = 200, description = "The registration form", content_type = "text/html", body = String)))]
async fn register_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let r = Req::new(&app.ui, headers, &uri);
    let return_to = r.query("return_to").and_then(safe_return_to).unwrap_or("");
    Page::new("register.html")
        .with("return_to", return_to)
        .render(&app, &r)
}

/// Registers a trader at the SSO and signs them in: the session cookie and `303` to
/// `return_to`; or the form again with the problems.
#[utoipa::path(post, path = "/v1/register", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, username, email, new_password, confirm_password, return_to"),
    responses((status = 303, description = "Registered and signed in"),
              (status = 400, description = "The form again with the problems", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed, or registration is closed", content_type = "text/html", body = String)))]
async fn register_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f) = match submitted(&app, headers, &uri, &body) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let username = field(&f, "username").trim();
    let email = field(&f, "email").trim();
    let return_to = safe_return_to(field(&f, "return_to")).unwrap_or("");
    let again = |problems: &[Problem]| {
        Page::new("register.html")
            .with("return_to", return_to)
            .with("values", json!({"username": username, "email": email}))
            .problems(&r, problems)
            .render(&app, &r)
    };
    let mut problems: Vec<Problem> = [
        required(&f, "username", limits::USERNAME),
        required(&f, "email", limits::EMAIL),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !username.is_empty() && username.chars().count() < 3 {
        problems.push(Problem::at("username", "err_username_invalid"));
    }
    if !email.is_empty() && !email.contains('@') {
        problems.push(Problem::at("email", "err_email_invalid"));
    }
    problems.extend(new_password_problems(&f));
    if !problems.is_empty() {
        return again(&problems);
    }
    let password = field(&f, "new_password");
    if let Err(e) = app.ui.sso.register(username, email, password).await {
        return again(&[problem(&e.into(), "new_password")]);
    }
    match app.ui.login(username, password, None).await {
        Ok(s) => signed_in_redirect(&app.ui, &s, return_to),
        Err(e) => {
            tracing::warn!(error = %common::error::chain(&e), "a new user could not sign in");
            see_other(&login_url(&r, &[]), &[])
        }
    }
}

// ----- password reset --------------------------------------------------------------------

/// The password reset request page.
#[utoipa::path(get, path = "/v1/password-reset", tag = "pages", security(()),
    params(("lang" = Option<String>, Query, description = "vi or en")),
    responses((status = 200, description = "The reset request form", content_type = "text/html", body = String)))]
async fn reset_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let r = Req::new(&app.ui, headers, &uri);
    Page::new("reset.html").render(&app, &r)
}

/// Asks the SSO to send a reset link: the same answer whether or not the account exists.
#[utoipa::path(post, path = "/v1/password-reset", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, username_or_email"),
    responses((status = 200, description = "Sent if the account exists", content_type = "text/html", body = String),
              (status = 400, description = "The form again with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String),
              (status = 429, description = "Too many resets", content_type = "text/html", body = String)))]
async fn reset_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f) = match submitted(&app, headers, &uri, &body) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let who = field(&f, "username_or_email").trim();
    let again = |problems: &[Problem]| {
        Page::new("reset.html")
            .with("values", json!({"username_or_email": who}))
            .problems(&r, problems)
            .render(&app, &r)
    };
    if let Some(p) = required(&f, "username_or_email", limits::EMAIL) {
        return again(&[p]);
    }
    match app.ui.sso.request_reset(who).await {
        Ok(()) => Page::new("reset.html").with("sent", true).render(&app, &r),
        Err(e) => again(&[problem(&e.into(), "new_password")]),
    }
}

/// The page a reset link opens: a new password for the link's `token`.
#[utoipa::path(get, path = "/v1/password-reset/confirm", tag = "pages", security(()),
    params(("token" = String, Query, description = "The reset token of the message"),
           ("lang" = Option<String>, Query, description = "vi or en")),
    responses((status = 200, description = "The new password form", content_type = "text/html", body = String)))]
async fn reset_confirm_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let r = Req::new(&app.ui, headers, &uri);
    let token = r
        .query("token")
        .filter(|t| t.len() <= limits::RESET_TOKEN)
        .unwrap_or("");
    let page = Page::new("reset_confirm.html").with("token", token);
    if token.is_empty() {
        page.problems(&r, &[Problem::form("err_reset_token")])
            .render(&app, &r)
    } else {
        page.render(&app, &r)
    }
}

/// Sets the new password with the reset token: every session of the user ends.
#[utoipa::path(post, path = "/v1/password-reset/confirm", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, token, new_password, confirm_password"),
    responses((status = 200, description = "Set: sign in with it", content_type = "text/html", body = String),
              (status = 400, description = "The form again with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn reset_confirm_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f) = match submitted(&app, headers, &uri, &body) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let token = field(&f, "token");
    let again = |problems: &[Problem]| {
        Page::new("reset_confirm.html")
            .with("token", token)
            .problems(&r, problems)
            .render(&app, &r)
    };
    let mut problems = new_password_problems(&f);
    if token.is_empty() || token.len() > limits::RESET_TOKEN {
        problems.insert(0, Problem::form("err_reset_token"));
    }
    if !problems.is_empty() {
        return again(&problems);
    }
    match app
        .ui
        .sso
        .confirm_reset(token, field(&f, "new_password"))
        .await
    {
        Ok(()) => message(&r, StatusCode::OK, "reset_confirm_title", "reset_done")
            .with("link", login_url(&r, &[]))
            .render(&app, &r),
        Err(e) => again(&[problem(&e.into(), "new_password")]),
    }
}

// ----- the account -----------------------------------------------------------------------

/// The account page of the session's user, with `problems` or a `notice`.
async fn account(
    app: &AppState,
    r: &Req,
    s: &Session,
    cookies: Vec<String>,
    (problems, notice): (&[Problem], &str),
) -> Response {
    let user = match app.ui.sso.me(&s.access_token).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %common::error::chain(&e), "the SSO did not say who the user is");
            return message(
                r,
                StatusCode::SERVICE_UNAVAILABLE,
                "notice",
                "err_unavailable",
            )
            .render(app, r);
        }
    };
    Page::new("account.html")
        .with("user", user)
        .with("notice", notice)
        .problems(r, problems)
        .cookies(cookies)
        .render(app, r)
}

/// The signed-in user's account: who they are and their roles; forms to change the password,
/// turn two-factor authentication on or off, sign out. Without a session: to the sign-in.
#[utoipa::path(get, path = "/v1/account", tag = "pages", security(()),
    params(("lang" = Option<String>, Query, description = "vi or en")),
    responses((status = 200, description = "The account page", content_type = "text/html", body = String),
              (status = 303, description = "No session: to the sign-in")))]
async fn account_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let r = Req::new(&app.ui, headers, &uri);
    match session_of(&app, &r).await {
        Ok((s, cookies)) => account(&app, &r, &s, cookies, (&[], "")).await,
        Err(resp) => *resp,
    }
}

/// Changes the password (the current one required); the SSO ends every session, so the
/// cookie goes and the user signs in again.
#[utoipa::path(post, path = "/v1/account/password", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, current_password, new_password, confirm_password"),
    responses((status = 200, description = "Changed: sign in again", content_type = "text/html", body = String),
              (status = 303, description = "No session: to the sign-in"),
              (status = 400, description = "The account page with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn change_password_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f, s, cookies) = match signed_in_form(&app, headers, &uri, &body).await {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let mut problems: Vec<Problem> = required(&f, "current_password", limits::PASSWORD)
        .into_iter()
        .collect();
    problems.extend(new_password_problems(&f));
    if problems.is_empty() {
        match app
            .ui
            .sso
            .change_password(
                &s.access_token,
                field(&f, "current_password"),
                field(&f, "new_password"),
            )
            .await
        {
            Ok(()) => {
                return message(
                    &r,
                    StatusCode::OK,
                    "change_password_title",
                    "password_changed",
                )
                .with("link", login_url(&r, &[]))
                .cookie(clear_cookie(SESSION_COOKIE, app.ui.settings.cookie_secure))
                .render(&app, &r);
            }
            Err(e) => problems.push(problem(&e.into(), "new_password")),
        }
    }
    account(&app, &r, &s, cookies, (&problems, "")).await
}

/// Starts turning two-factor authentication on: the secret and its QR code, and a form for
/// the first code.
#[utoipa::path(post, path = "/v1/account/totp", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf"),
    responses((status = 200, description = "The secret, its QR code, the confirmation form", content_type = "text/html", body = String),
              (status = 303, description = "No session: to the sign-in"),
              (status = 400, description = "Already on: the account page with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn enrol_totp_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, _, s, cookies) = match signed_in_form(&app, headers, &uri, &body).await {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    match app.ui.sso.enrol_totp(&s.access_token).await {
        Ok(e) => enrol_page(&e.secret, &e.otpauth_url)
            .cookies(cookies)
            .render(&app, &r),
        Err(e) => {
            account(
                &app,
                &r,
                &s,
                cookies,
                (&[problem(&e.into(), "password")], ""),
            )
            .await
        }
    }
}

fn enrol_page(secret: &str, otpauth_url: &str) -> Page {
    let qr = qr_svg(otpauth_url)
        .map(minijinja::Value::from_safe_string)
        .map(|v| Value::from(v.to_string()))
        .unwrap_or(Value::Null);
    Page::new("totp_enrol.html")
        .with("secret", secret)
        .with("otpauth_url", otpauth_url)
        .with("qr", qr)
}

/// Confirms the enrolment with the first code: two-factor authentication is on, and the
/// recovery codes are shown this once.
#[utoipa::path(post, path = "/v1/account/totp/confirm", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "csrf, code (and the enrolment's secret and otpauth_url, to show them again)"),
    responses((status = 200, description = "The recovery codes", content_type = "text/html", body = String),
              (status = 303, description = "No session: to the sign-in"),
              (status = 400, description = "The enrolment again with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn confirm_totp_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f, s, cookies) = match signed_in_form(&app, headers, &uri, &body).await {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let secret: String = field(&f, "secret").chars().take(128).collect();
    let url: String = field(&f, "otpauth_url").chars().take(512).collect();
    let again = |problem: Problem, cookies: Vec<String>| {
        enrol_page(&secret, &url)
            .problems(&r, &[problem])
            .cookies(cookies)
            .render(&app, &r)
    };
    let Some(code) = totp_code(field(&f, "code")) else {
        return again(Problem::at("code", "err_totp_format"), cookies);
    };
    match app.ui.sso.confirm_totp(&s.access_token, &code).await {
        Ok(codes) => Page::new("recovery.html")
            .with("codes", codes)
            .cookies(cookies)
            .render(&app, &r),
        Err(e) => {
            let mut p = problem(&e.into(), "password");
            if p.key == "err_generic" || p.key == "err_totp_wrong" {
                p = Problem::at("code", "err_totp_confirm");
            }
            again(p, cookies)
        }
    }
}

/// Turns two-factor authentication off (the password required).
#[utoipa::path(post, path = "/v1/account/totp/disable", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, password"),
    responses((status = 200, description = "Off: the account page", content_type = "text/html", body = String),
              (status = 303, description = "No session: to the sign-in"),
              (status = 400, description = "The account page with the problem", content_type = "text/html", body = String),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn disable_totp_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, f, s, cookies) = match signed_in_form(&app, headers, &uri, &body).await {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    if let Some(p) = required(&f, "password", limits::PASSWORD) {
        return account(&app, &r, &s, cookies, (&[p], "")).await;
    }
    match app
        .ui
        .sso
        .disable_totp(&s.access_token, field(&f, "password"))
        .await
    {
        Ok(()) => account(&app, &r, &s, cookies, (&[], r.text("totp_disabled"))).await,
        Err(e) => {
            let p = problem(&e.into(), "password");
            account(&app, &r, &s, cookies, (&[p], "")).await
        }
    }
}

/// Signs out: the SSO revokes the session's login, the cookie goes, and to the sign-in.
#[utoipa::path(post, path = "/v1/logout", tag = "pages", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf"),
    responses((status = 303, description = "Signed out: to the sign-in"),
              (status = 403, description = "CSRF checks failed", content_type = "text/html", body = String)))]
async fn logout_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: String,
) -> Response {
    let (r, _) = match submitted(&app, headers, &uri, &body) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    if let Some(refresh) = r.cookie(SESSION_COOKIE)
        && let Err(e) = app.ui.logout(refresh).await
    {
        tracing::warn!(error = %common::error::chain(&e), "the SSO did not revoke a session");
        return message(
            &r,
            StatusCode::SERVICE_UNAVAILABLE,
            "notice",
            "err_unavailable",
        )
        .render(&app, &r);
    }
    see_other(
        &login_url(&r, &[("signed_out", "1")]),
        &[clear_cookie(SESSION_COOKIE, app.ui.settings.cookie_secure)],
    )
}

// ----- the session handoff to the portal -------------------------------------------------

/// An access token for the session's user.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionTokenDto {
    /// The access token (a JWT) for `Authorization: Bearer`.
    access_token: String,
    /// `Bearer`.
    token_type: &'static str,
    /// Seconds until it expires: ask again before.
    expires_in: u64,
    /// The user name.
    username: String,
    /// `trader`, `risk_officer`, `admin`, `ops`.
    roles: Vec<String>,
}

/// The CSRF token a script sends as `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CsrfDto {
    csrf_token: String,
}

fn json_error(status: StatusCode, code: &str, message: &str, cookies: &[String]) -> Response {
    let mut resp = (status, Json(json!({"code": code, "message": message}))).into_response();
    add_cookies(&mut resp, cookies);
    resp
}

/// The portal's access token: the `qts_session` cookie's refresh token is exchanged at the SSO
/// (the cookie is set to the rotated one). Duplicate calls with the same cookie (two tabs)
/// get the same answer for a minute instead of tripping the SSO's reuse detection. Needs the
/// `X-CSRF-Token` header (from `GET /v1/session/csrf`) and a same-origin `Origin`.
#[utoipa::path(post, path = "/v1/session/token", tag = "session", security(()),
    params(("X-CSRF-Token" = String, Header, description = "The qts_csrf cookie's token")),
    responses((status = 200, description = "An access token", body = SessionTokenDto),
              (status = 401, description = "No session, or it ended (sign in again)", body = common::error::ErrorBody),
              (status = 403, description = "CSRF checks failed", body = common::error::ErrorBody),
              (status = 503, description = "The SSO did not answer", body = common::error::ErrorBody)))]
async fn session_token(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let cookies = cookies(&headers);
    let submitted = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if !same_origin(&headers)
        || !csrf_matches(cookies.get(CSRF_COOKIE).map(String::as_str), submitted)
    {
        return json_error(
            StatusCode::FORBIDDEN,
            "permission_denied",
            "a same-origin request with the X-CSRF-Token header of GET /api/sso-ui/v1/session/csrf is required",
            &[],
        );
    }
    let Some(refresh) = cookies.get(SESSION_COOKIE) else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "no session: sign in at /api/sso-ui/v1/login",
            &[],
        );
    };
    match app.ui.session(refresh).await {
        Ok(s) => {
            let mut resp = Json(SessionTokenDto {
                expires_in: s.expires_in(),
                access_token: s.access_token.clone(),
                token_type: "Bearer",
                username: s.username.clone(),
                roles: s.roles.clone(),
            })
            .into_response();
            add_cookies(&mut resp, &[session_cookie(&app.ui, &s)]);
            resp
        }
        Err(crate::service::Error::Sso(sso::Error::Refused { status, .. })) if status < 500 => {
            json_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the session ended: sign in again at /api/sso-ui/v1/login",
                &[clear_cookie(SESSION_COOKIE, app.ui.settings.cookie_secure)],
            )
        }
        Err(e) => {
            tracing::warn!(error = %common::error::chain(&e), "a session could not be refreshed");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the SSO did not answer; try again",
                &[],
            )
        }
    }
}

/// The CSRF token for `X-CSRF-Token` (the `qts_csrf` cookie's, set now if absent). Only a
/// page of this origin can read it.
#[utoipa::path(get, path = "/v1/session/csrf", tag = "session", security(()),
    responses((status = 200, description = "The token", body = CsrfDto)))]
async fn session_csrf(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let cookies = cookies(&headers);
    if let Some(c) = cookies.get(CSRF_COOKIE) {
        return Json(CsrfDto {
            csrf_token: c.clone(),
        })
        .into_response();
    }
    match app.ui.random_token(32) {
        Ok(token) => {
            let cookie = csrf_cookie(&token, app.ui.settings.cookie_secure);
            let mut resp = Json(CsrfDto { csrf_token: token }).into_response();
            add_cookies(&mut resp, &[cookie]);
            resp
        }
        Err(e) => internal(&e),
    }
}

/// The pages' stylesheet.
#[utoipa::path(get, path = "/v1/assets/style.css", tag = "pages", security(()),
    responses((status = 200, description = "CSS", content_type = "text/css", body = String)))]
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::pages::STYLE,
    )
        .into_response()
}
