//! [`spawn_app`] (the sso-ui alone) and [`spawn_pair`] (a real SSO and the sso-ui pointed at
//! it), and a [`Browser`]: an HTTP client that keeps cookies, follows no redirects and sends
//! `Origin` like a browser does on a POST.

use std::collections::HashMap;
use std::time::Duration;

use common::bus::topics::NOTIFICATION_REQUEST;
use common::service::testing::{Spawned, spawn};
use proto::sso_ui::v1::sso_ui_service_client::SsoUiServiceClient;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The bootstrap administrator's password.
pub const ADMIN_PASSWORD: &str = "correct horse battery";
/// The SSO's master key in the tests (base64 of 32 bytes).
const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
/// Where the pages live.
pub const BASE: &str = "/api/sso-ui/v1";

/// A running sso-ui service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    TestApp {
        app: spawn::<sso_ui::App>(&[]).await.expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    /// `GET` a path of the public HTTP API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.app.http_url(path))
            .send()
            .await
            .expect("HTTP request")
    }

    /// `GET /api/sso-ui/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/sso-ui/v1/info").await
    }

    /// gRPC `SsoUiService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        let mut client = SsoUiServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect");
        client
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}

/// A real SSO and the sso-ui in front of it.
pub struct Pair {
    /// The SSO.
    pub sso: Spawned,
    /// The sso-ui, checking tokens on its routes like in production (its pages are public).
    pub ui: Spawned,
    http: reqwest::Client,
}

/// Starts an SSO (its first admin's password [`ADMIN_PASSWORD`], cheap password hashes) and
/// the sso-ui with `auth.sso_url` at it.
pub async fn spawn_pair() -> Pair {
    let sso = spawn::<sso::App>(&[
        ("SSO__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("SSO__KEYS__MASTER_KEY", MASTER_KEY),
        ("SSO__PASSWORDS__MEMORY_KIB", "4096"),
        ("SSO__LOCKOUT__ATTEMPTS_PER_MINUTE", "30"),
        // A login of one day: the session cookie follows it, not the UI's 30-day cap.
        ("SSO__TOKENS__REFRESH_TTL_SECS", "86400"),
    ])
    .await
    .expect("the SSO starts");
    let sso_url = format!("http://{}/api/sso", sso.addrs.http);
    let ui = spawn::<sso_ui::App>(&[
        ("SSO_UI__AUTH__SSO_URL", sso_url.as_str()),
        ("SSO_UI__AUTH__ENABLED", "true"),
    ])
    .await
    .expect("the sso-ui starts");
    Pair {
        sso,
        ui,
        http: reqwest::Client::new(),
    }
}

impl Pair {
    /// A browser with no cookies yet.
    pub fn browser(&self) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin: format!("http://{}", self.ui.addrs.http),
            jar: HashMap::new(),
        }
    }

    /// `GET /api/sso/v1/me` with an access token.
    pub async fn sso_me(&self, access: &str) -> (StatusCode, serde_json::Value) {
        let r = self
            .http
            .get(self.sso.http_url("/api/sso/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or_default())
    }

    /// The SSO's refresh grant with `token`.
    pub async fn sso_refresh(&self, token: &str) -> (StatusCode, serde_json::Value) {
        let r = self
            .http
            .post(self.sso.http_url("/api/sso/v1/oauth/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or_default())
    }

    /// Subscribes to the SSO's notification requests (password reset links).
    pub async fn notifications(&self) -> Box<dyn common::bus::Subscription> {
        self.sso
            .bus
            .subscribe("test.sso-ui", &[NOTIFICATION_REQUEST.static_name()])
            .await
            .unwrap()
    }
}

/// The next notification request on `sub` (10 s at most).
pub async fn next_notification(
    sub: &mut Box<dyn common::bus::Subscription>,
) -> proto::notification::v1::NotificationRequest {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no notification");
        if let Some(d) = sub.poll(Duration::from_millis(200)).await.unwrap() {
            return d
                .envelope
                .decode::<proto::notification::v1::NotificationRequest>()
                .unwrap();
        }
    }
}

/// An answer, read whole.
pub struct Page {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: String,
}

impl Page {
    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// The `Set-Cookie` of `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The `value` of the input named `name`.
    pub fn input(&self, name: &str) -> String {
        let at = self
            .body
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no input {name} in {}", self.body));
        let rest = &self.body[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()]
            .replace("&#x2f;", "/")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A browser: keeps cookies (by name; attributes are checked with [`Page::set_cookie`]), sends
/// `Origin` on POSTs, follows no redirect.
#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    /// The sso-ui's origin.
    pub origin: String,
    /// The cookies it holds.
    pub jar: HashMap<String, String>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, r: reqwest::Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status,
            headers,
            body: r.text().await.unwrap(),
        }
    }

    /// `GET` a path with extra headers.
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self
            .http
            .get(format!("{}{path}", self.origin))
            .header("cookie", self.cookie_header());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        self.read(r).await
    }

    /// `GET` a path.
    pub async fn get(&mut self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    /// `POST` a form (with the CSRF cookie's token as `csrf` unless the fields name one) and
    /// `Origin` unless `headers` replace it.
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut form: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if !fields.iter().any(|(k, _)| *k == "csrf")
            && let Some(t) = self.jar.get("qts_csrf")
        {
            form.push(("csrf".to_owned(), t.clone()));
        }
        let mut req = self
            .http
            .post(format!("{}{path}", self.origin))
            .header("cookie", self.cookie_header())
            .form(&form);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("origin"))
        {
            req = req.header("origin", self.origin.clone());
        }
        for (k, v) in headers {
            if !v.is_empty() {
                req = req.header(*k, *v);
            }
        }
        let r = req.send().await.unwrap();
        self.read(r).await
    }

    /// `POST` a form from a page of this origin.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, &[]).await
    }

    /// `POST /v1/session/token` with the CSRF cookie's token in `X-CSRF-Token`.
    pub async fn session_token(&mut self) -> Page {
        let csrf = self.jar.get("qts_csrf").cloned().unwrap_or_default();
        self.session_token_with(&csrf).await
    }

    /// `POST /v1/session/token` with `csrf` in `X-CSRF-Token`.
    pub async fn session_token_with(&mut self, csrf: &str) -> Page {
        let r = self
            .http
            .post(format!("{}{BASE}/session/token", self.origin))
            .header("cookie", self.cookie_header())
            .header("origin", self.origin.clone())
            .header("x-csrf-token", csrf.to_owned())
            .send()
            .await
            .unwrap();
        self.read(r).await
    }

    /// Opens the sign-in page and signs in: the answer to the POST.
    pub async fn sign_in(&mut self, user: &str, password: &str, return_to: &str) -> Page {
        let page = self.get(&format!("{BASE}/login?lang=en")).await;
        assert_eq!(page.status, 200);
        self.post(
            &format!("{BASE}/login?lang=en"),
            &[
                ("username", user),
                ("password", password),
                ("return_to", return_to),
            ],
        )
        .await
    }
}

/// The code an authenticator app shows for `secret` (base32) at `unix` seconds.
pub fn totp(secret: &str, account: &str, unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("QTS".into()),
        account.into(),
    )
    .unwrap()
    .generate(unix)
}

/// Now, Unix seconds.
pub fn now() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap()
}
