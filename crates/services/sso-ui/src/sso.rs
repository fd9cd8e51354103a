//! The SSO as this service calls it, server to server, at `auth.sso_url`: the token and
//! revocation endpoints, registration, one's own account, two-factor enrolment and password
//! resets. Bodies carry passwords and tokens: nothing here logs a body, and no error holds
//! one.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

/// What a call to the SSO can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The SSO answered with a refusal: its HTTP status, its code (`invalid_grant`,
    /// `invalid_argument`, ...) and its message, and whether a second factor is needed.
    #[error("the SSO refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
        mfa_required: bool,
    },
    /// The SSO did not answer, or not with what it documents.
    #[error("the SSO did not answer as expected")]
    Unreachable(#[source] reqwest::Error),
}

impl Error {
    /// Whether the SSO asks for a second factor.
    pub(crate) fn mfa_required(&self) -> bool {
        matches!(
            self,
            Error::Refused {
                mfa_required: true,
                ..
            }
        )
    }
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Tokens {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    /// Seconds until the login ends (its refresh tokens stop working then).
    #[serde(default)]
    pub(crate) refresh_expires_in: Option<u64>,
    /// The roles, space-separated.
    #[serde(default)]
    pub(crate) scope: String,
}

/// What `/v1/me/totp` answers.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Enrolment {
    pub(crate) secret: String,
    pub(crate) otpauth_url: String,
}

/// The SSO's HTTP API.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client of the SSO at `base` (its API root, `.../api/sso`).
    pub(crate) fn new(base: String, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, base })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<Tokens, Error> {
        let r = self
            .http
            .post(self.url("/v1/oauth/token"))
            .form(form)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        read(r).await
    }

    /// The password grant, with a second factor (`totp` or `recovery_code`) if given.
    pub(crate) async fn login(
        &self,
        username: &str,
        password: &str,
        second: Option<(&str, &str)>,
    ) -> Result<Tokens, Error> {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("client_id", "sso-ui"),
        ];
        if let Some(s) = second {
            form.push(s);
        }
        self.token(&form).await
    }

    /// The refresh-token grant: the next access token and the rotated refresh token.
    pub(crate) async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Error> {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Revokes a refresh token's whole login.
    pub(crate) async fn revoke(&self, refresh_token: &str) -> Result<(), Error> {
        let r = self
            .http
            .post(self.url("/v1/oauth/revoke"))
            .form(&[("token", refresh_token)])
            .send()
            .await
            .map_err(Error::Unreachable)?;
        check(r).await.map(drop)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        access: Option<&str>,
        body: Option<Value>,
    ) -> Result<reqwest::Response, Error> {
        let mut r = self.http.request(method, self.url(path));
        if let Some(a) = access {
            r = r.bearer_auth(a);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        check(r.send().await.map_err(Error::Unreachable)?).await
    }

    /// Registers a trader.
    pub(crate) async fn register(
        &self,
        username: &str,
        email: &str,
        password: &str,
    ) -> Result<(), Error> {
        let body = json!({"username": username, "email": email, "password": password});
        self.call(reqwest::Method::POST, "/v1/register", None, Some(body))
            .await
            .map(drop)
    }

    /// The user the access token is for.
    pub(crate) async fn me(&self, access: &str) -> Result<Value, Error> {
        self.call(reqwest::Method::GET, "/v1/me", Some(access), None)
            .await?
            .json()
            .await
            .map_err(Error::Unreachable)
    }

    /// Changes the token's user's password (which revokes every session of theirs).
    pub(crate) async fn change_password(
        &self,
        access: &str,
        current: &str,
        new: &str,
    ) -> Result<(), Error> {
        let body = json!({"current_password": current, "new_password": new});
        self.call(
            reqwest::Method::POST,
            "/v1/me/password",
            Some(access),
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Starts a two-factor enrolment.
    pub(crate) async fn enrol_totp(&self, access: &str) -> Result<Enrolment, Error> {
        self.call(reqwest::Method::POST, "/v1/me/totp", Some(access), None)
            .await?
            .json()
            .await
            .map_err(Error::Unreachable)
    }

    /// Confirms the enrolment with a first code; the recovery codes.
    pub(crate) async fn confirm_totp(
        &self,
        access: &str,
        code: &str,
    ) -> Result<Vec<String>, Error> {
        #[derive(Deserialize)]
        struct Codes {
            recovery_codes: Vec<String>,
        }
        let codes: Codes = self
            .call(
                reqwest::Method::POST,
                "/v1/me/totp/confirm",
                Some(access),
                Some(json!({"code": code})),
            )
            .await?
            .json()
            .await
            .map_err(Error::Unreachable)?;
        Ok(codes.recovery_codes)
    }

    /// Turns two-factor authentication off.
    pub(crate) async fn disable_totp(&self, access: &str, password: &str) -> Result<(), Error> {
        self.call(
            reqwest::Method::POST,
            "/v1/me/totp/disable",
            Some(access),
            Some(json!({"password": password})),
        )
        .await
        .map(drop)
    }

    /// Asks for a reset token to be sent.
    pub(crate) async fn request_reset(&self, who: &str) -> Result<(), Error> {
        self.call(
            reqwest::Method::POST,
            "/v1/password-reset",
            None,
            Some(json!({"username_or_email": who})),
        )
        .await
        .map(drop)
    }

    /// Sets a new password with a reset token.
    pub(crate) async fn confirm_reset(&self, token: &str, password: &str) -> Result<(), Error> {
        self.call(
            reqwest::Method::POST,
            "/v1/password-reset/confirm",
            None,
            Some(json!({"token": token, "new_password": password})),
        )
        .await
        .map(drop)
    }
}

/// The response if it is a success, else its refusal (the `{"code","message"}` body, or the
/// token endpoint's `{"error","error_description"}`).
async fn check(r: reqwest::Response) -> Result<reqwest::Response, Error> {
    if r.status().is_success() {
        return Ok(r);
    }
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    Err(Error::Refused {
        status,
        code: text("error")
            .or_else(|| text("code"))
            .unwrap_or_else(|| "unknown".to_owned()),
        message: text("error_description")
            .or_else(|| text("message"))
            .unwrap_or_default(),
        mfa_required: body.get("mfa_required").and_then(Value::as_bool) == Some(true),
    })
}

async fn read<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Result<T, Error> {
    check(r).await?.json().await.map_err(Error::Unreachable)
}
