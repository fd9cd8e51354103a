//! The SSO end to end: the first admin logs in, manages users and service clients; refresh
//! tokens rotate and a reused one revokes the login; failed logins lock, attempts are
//! throttled; a password reset goes out on the notification topic; every protected route
//! refuses a missing, malformed, expired, wrongly signed or wrong-role token; PyJWT verifies
//! the tokens against the JWKS endpoint.

use std::time::Duration;

use common::bus::topics::NOTIFICATION_REQUEST;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sso::domain::{Claims, Role};
use sso::keys::KeyRing;

const ADMIN_PASSWORD: &str = "correct horse battery";
/// The master key the tests give (base64 of 32 bytes).
const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const ISSUER: &str = "http://localhost:18080/api/sso";

struct Sso {
    app: common::service::testing::Spawned,
    http: reqwest::Client,
}

async fn spawn() -> Sso {
    spawn_with("6").await
}

/// [`spawn`] allowing `attempts` logins per user name a minute.
async fn spawn_with(attempts: &str) -> Sso {
    spawn_on(attempts, &[]).await
}

/// [`spawn_with`] plus `backends` settings (a PostgreSQL database, Redis).
async fn spawn_on(attempts: &str, backends: &[(&str, &str)]) -> Sso {
    let mut env = vec![
        ("SSO__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("SSO__KEYS__MASTER_KEY", MASTER_KEY),
        // Cheaper hashes than production's 19 MiB: the same code, faster tests.
        ("SSO__PASSWORDS__MEMORY_KIB", "4096"),
        ("SSO__LOCKOUT__MAX_FAILURES", "3"),
        ("SSO__LOCKOUT__ATTEMPTS_PER_MINUTE", attempts),
    ];
    env.extend_from_slice(backends);
    let app = common::service::testing::spawn::<sso::App>(&env)
        .await
        .unwrap();
    Sso {
        app,
        http: reqwest::Client::new(),
    }
}

impl Sso {
    fn url(&self, path: &str) -> String {
        self.app.http_url(&format!("/api/sso{path}"))
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url("/v1/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store")
        );
        (r.status(), r.json().await.unwrap())
    }

    async fn login(&self, user: &str, password: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ])
        .await
    }

    async fn access(&self, user: &str, password: &str) -> String {
        let (status, t) = self.login(user, password).await;
        assert_eq!(status, 200, "{t}");
        t["access_token"].as_str().unwrap().to_owned()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, self.url(path));
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn the_first_admin_manages_users_and_tokens_rotate_lock_and_revoke() {
    let sso = spawn().await;
    let (status, d) = sso
        .call(
            reqwest::Method::GET,
            "/.well-known/openid-configuration",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["token_endpoint"], format!("{ISSUER}/v1/oauth/token"));
    assert_eq!(d["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));

    let admin = sso.access("admin", ADMIN_PASSWORD).await;
    let (status, me) = sso
        .call(reqwest::Method::GET, "/v1/me", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "admin");
    assert!(me["roles"].as_array().unwrap().contains(&json!("admin")));

    // A trader with one account.
    let alice = json!({"username": "Alice", "email": "alice@example.vn",
        "password": "alice password 1", "roles": ["trader"], "accounts": ["0001001"]});
    let (status, created) = sso
        .call(
            reqwest::Method::POST,
            "/v1/users",
            Some(&admin),
            Some(alice.clone()),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["username"], "alice");
    assert!(
        !created.to_string().contains("argon2"),
        "no hash in responses"
    );
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/users",
            Some(&admin),
            Some(alice),
        )
        .await;
    assert_eq!(status, 409);
    let (status, t) = sso.login("alice", "alice password 1").await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "trader");
    let alice_token = t["access_token"].as_str().unwrap().to_owned();
    let (status, _) = sso
        .call(reqwest::Method::GET, "/v1/users", Some(&alice_token), None)
        .await;
    assert_eq!(status, 403, "a trader lists no users");
    let (status, own) = sso
        .call(
            reqwest::Method::GET,
            "/v1/users/alice",
            Some(&alice_token),
            None,
        )
        .await;
    assert_eq!(
        (status, own["accounts"].clone()),
        (StatusCode::OK, json!(["0001001"]))
    );
    let (status, _) = sso
        .call(
            reqwest::Method::GET,
            "/v1/users/admin",
            Some(&alice_token),
            None,
        )
        .await;
    assert_eq!(status, 403);

    // Refresh tokens rotate; the used one again revokes the whole login.
    let r1 = t["refresh_token"].as_str().unwrap().to_owned();
    let (status, t2) = sso
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &r1)])
        .await;
    assert_eq!(status, 200, "{t2}");
    let r2 = t2["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    // The login's end comes with each refresh token and does not move on rotation (30 days).
    let (ends1, ends2) = (
        t["refresh_expires_in"].as_u64().unwrap(),
        t2["refresh_expires_in"].as_u64().unwrap(),
    );
    assert!(
        ends2 <= ends1 && ends1 <= 2_592_000 && ends2 > 2_592_000 - 60,
        "{ends1} then {ends2}"
    );
    let (status, e) = sso
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &r1)])
        .await;
    assert_eq!(
        (status, e["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    let (status, e) = sso
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &r2)])
        .await;
    assert_eq!(status, 400, "the family is revoked: {e}");

    // Logout revokes.
    let (_, t3) = sso.login("alice", "alice password 1").await;
    let r3 = t3["refresh_token"].as_str().unwrap();
    let r = sso
        .http
        .post(sso.url("/v1/oauth/revoke"))
        .form(&[("token", r3)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _) = sso
        .token(&[("grant_type", "refresh_token"), ("refresh_token", r3)])
        .await;
    assert_eq!(status, 400);

    // Three wrong passwords lock alice; the right one then fails too; past six attempts in a
    // minute, nothing is even tried.
    for _ in 0..3 {
        let (status, e) = sso.login("alice", "wrong password!").await;
        assert_eq!(
            (status, e["error"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalid_grant"))
        );
    }
    let (status, e) = sso.login("alice", "alice password 1").await;
    assert_eq!(status, 400);
    assert!(
        e["error_description"].as_str().unwrap().contains("locked"),
        "{e}"
    );
    let (status, e) = sso.login("alice", "alice password 1").await;
    assert_eq!(
        (status, e["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("slow_down"))
    );
    let (status, u) = sso
        .call(
            reqwest::Method::PATCH,
            "/v1/users/alice",
            Some(&admin),
            Some(json!({"unlock": true})),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["locked_until"], Value::Null);

    // Other grants and bad forms.
    let (status, e) = sso.token(&[("grant_type", "implicit")]).await;
    assert_eq!(
        (status, e["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("unsupported_grant_type"))
    );
    let r = sso
        .http
        .post(sso.url("/v1/oauth/token"))
        .json(&json!({"grant_type": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "JSON is not the token endpoint's format");

    // A service client: created by the admin, its secret shown once, tokens by Basic auth.
    let (status, c) = sso
        .call(
            reqwest::Method::PUT,
            "/v1/clients/oms",
            Some(&admin),
            Some(json!({"roles": ["service"]})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let r = sso
        .http
        .post(sso.url("/v1/oauth/token"))
        .basic_auth("oms", Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["scope"], "service");
    assert!(t.get("refresh_token").is_none());
    let (status, e) = sso
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "oms"),
            ("client_secret", "nope"),
        ])
        .await;
    assert_eq!(
        (status, e["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );

    // The audit trail has the events, never a secret.
    let (status, audit) = sso
        .call(
            reqwest::Method::GET,
            "/v1/audit?limit=200",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let events: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for e in [
        "login",
        "refresh",
        "refresh_reuse",
        "revoked",
        "user_locked",
        "login_throttled",
        "client_login",
        "user_created",
    ] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
    let text = audit.to_string();
    for secret in [ADMIN_PASSWORD, "alice password 1", &secret, &r1, &r2] {
        assert!(!text.contains(secret), "a secret in the audit trail");
    }
}

#[tokio::test]
async fn a_password_reset_goes_out_on_the_notification_topic_and_works_once() {
    let sso = spawn().await;
    let admin = sso.access("admin", ADMIN_PASSWORD).await;
    let (_, before) = sso.login("admin", ADMIN_PASSWORD).await;
    // Nobody by that name: the same answer, nothing sent.
    let r = sso
        .call(
            reqwest::Method::POST,
            "/v1/password-reset",
            None,
            Some(json!({"username_or_email": "nobody"})),
        )
        .await;
    assert_eq!(r.0, 202);
    let request = reset(&sso, "test.notifications", "admin@localhost.localdomain").await;
    assert_eq!(
        (request.template.as_str(), request.username.as_str()),
        ("password_reset", "admin")
    );
    let token = request.params["token"].clone();
    let (status, e) = sso
        .call(
            reqwest::Method::POST,
            "/v1/password-reset/confirm",
            None,
            Some(json!({"token": token, "new_password": "short"})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/password-reset/confirm",
            None,
            Some(json!({"token": token, "new_password": "a brand new password"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/password-reset/confirm",
            None,
            Some(json!({"token": token, "new_password": "another new password"})),
        )
        .await;
    assert_eq!(status, 403, "a reset token works once");
    assert_eq!(sso.login("admin", ADMIN_PASSWORD).await.0, 400);
    assert_eq!(sso.login("admin", "a brand new password").await.0, 200);
    // The sessions from before the reset are gone.
    let old = before["refresh_token"].as_str().unwrap();
    assert_eq!(
        sso.token(&[("grant_type", "refresh_token"), ("refresh_token", old)])
            .await
            .0,
        400
    );
    // The reset token appears in no audit row.
    let (_, audit) = sso
        .call(
            reqwest::Method::GET,
            "/v1/audit",
            Some(&sso.access("admin", "a brand new password").await),
            None,
        )
        .await;
    assert!(!audit.to_string().contains(&token));
    let _ = admin;
}

/// Claims for a token the test signs itself.
fn claims(exp_in: i64, name: &str, roles: Vec<Role>) -> Claims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Claims {
        iss: ISSUER.into(),
        sub: "someone".into(),
        aud: "qts".into(),
        exp: now + exp_in,
        iat: now - 1_000,
        nbf: now - 1_000,
        jti: "t".into(),
        preferred_username: name.into(),
        roles,
        accounts: vec![],
        scope: String::new(),
    }
}

#[tokio::test]
async fn every_protected_route_refuses_bad_tokens_and_pyjwt_verifies_good_ones() {
    let sso = spawn().await;
    let admin = sso.access("admin", ADMIN_PASSWORD).await;
    // Tokens signed with the service's own key (read from its store), expired or for a
    // trader; one signed by a key it never published; garbage.
    let master = sso::crypto::MasterKey::from_base64(MASTER_KEY).unwrap();
    let stored: Vec<sso::keys::SigningKey> = sso::store::keys(&sso.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            // Sealed at rest: the private key is not in the row as it is used.
            assert!(sso::crypto::MasterKey::is_sealed(&row.sealed));
            let pkcs8 = master.open(&row.sealed, &row.kid).unwrap();
            assert!(
                !row.sealed
                    .windows(pkcs8.len())
                    .any(|w| w == pkcs8.as_slice())
            );
            sso::keys::SigningKey::from_pkcs8(pkcs8, row.created_at, row.superseded_at).unwrap()
        })
        .collect();
    let ring = KeyRing::new(stored).unwrap();
    let expired = ring
        .sign(&claims(-120, "admin", vec![Role::Admin]))
        .unwrap();
    let trader = ring
        .sign(&claims(600, "mallory", vec![Role::Trader]))
        .unwrap();
    let stranger = KeyRing::new(vec![
        sso::keys::SigningKey::generate(time::OffsetDateTime::now_utc()).unwrap(),
    ])
    .unwrap()
    .sign(&claims(600, "admin", vec![Role::Admin]))
    .unwrap();
    let mut tampered: Vec<&str> = admin.split('.').collect();
    tampered[2] = "AAAA";
    let tampered = tampered.join(".");
    // Walk the OpenAPI document: every operation that declares the bearer scheme.
    let (_, doc) = sso
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "{}",
        doc["components"]
    );
    let mut protected = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            // Public: a requirement that is empty (`security(())`); none given: the
            // document's, a token.
            let public = op["security"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|x| x.as_object().is_some_and(|o| o.is_empty()))
            });
            if public {
                continue;
            }
            protected += 1;
            let path = path
                .trim_start_matches("/api/sso")
                .replace("{username}", "admin")
                .replace("{client_id}", "svc");
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            for (token, why) in [
                (None, "missing"),
                (Some("not-a-jwt"), "malformed"),
                (Some(expired.as_str()), "expired"),
                (Some(stranger.as_str()), "unknown key"),
                (Some(tampered.as_str()), "bad signature"),
            ] {
                let (status, e) = sso
                    .call(method.clone(), &path, token, Some(json!({})))
                    .await;
                assert_eq!(status, 401, "{method} {path} with a {why} token: {e}");
                assert_eq!(e["code"], "unauthenticated");
            }
            // A valid request of each, with a trader's token (not the user named in it).
            let body = match (method.as_str(), path.as_str()) {
                ("GET", "/v1/me") => continue,
                ("POST", "/v1/users") => json!({"username": "eve", "email": "eve@x.vn",
                    "password": "a long password", "roles": ["admin"]}),
                ("PATCH", _) => json!({"unlock": true}),
                ("PUT", _) => json!({"roles": ["service"]}),
                ("POST", "/v1/me/totp/confirm") => json!({"code": "123456"}),
                ("POST", "/v1/me/totp/disable") => json!({"password": "a long password"}),
                ("POST", "/v1/me/password") => json!({"current_password": "a long password",
                    "new_password": "another long one"}),
                _ => json!({}),
            };
            let (status, e) = sso
                .call(method.clone(), &path, Some(&trader), Some(body))
                .await;
            assert_eq!(status, 403, "{method} {path} with a trader's token: {e}");
        }
    }
    assert!(protected >= 9, "only {protected} protected operations");

    // Rotation: the old key stays published; tokens of both verify.
    let (status, jwks) = sso
        .call(reqwest::Method::POST, "/v1/keys/rotate", Some(&admin), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(
        sso.call(reqwest::Method::GET, "/v1/me", Some(&admin), None)
            .await
            .0,
        200
    );
    let fresh = sso.access("admin", ADMIN_PASSWORD).await;

    // PyJWT, against the JWKS endpoint.
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../scripts/jwt-check/run.sh"
    );
    if let Err(why) = python() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "PyJWT check cannot run under CI: {why}"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("\n!!!!!!!! WARNING: PyJWT check SKIPPED: {why} !!!!!!!!\n");
        }
        return;
    }
    let out = tokio::process::Command::new("bash")
        .arg(script)
        .arg(sso.url("/.well-known/jwks.json"))
        .arg(ISSUER)
        .arg("qts")
        .args([&admin, &fresh, &expired, &stranger, &tampered])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), 5, "{stdout}");
    assert_eq!(verdicts[0]["ok"], true, "{}", verdicts[0]);
    assert_eq!(verdicts[0]["claims"]["preferred_username"], "admin");
    assert_eq!(verdicts[1]["ok"], true, "{}", verdicts[1]);
    for (v, why) in verdicts[2..].iter().zip(["Expired", "", "Signature"]) {
        assert_eq!(v["ok"], false, "{v}");
        assert!(v["error"].as_str().unwrap().contains(why), "{v}");
    }
}

fn python() -> Result<(), String> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 has no venv/ensurepip: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The admin's login with a second factor.
async fn second(sso: &Sso, field: &str, value: &str) -> (StatusCode, Value) {
    sso.token(&[
        ("grant_type", "password"),
        ("username", "admin"),
        ("password", ADMIN_PASSWORD),
        (field, value),
    ])
    .await
}

/// The code an authenticator app shows for `secret` (base32) at `unix` seconds.
fn code(secret: &str, unix: u64) -> String {
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
        "admin".into(),
    )
    .unwrap()
    .generate(unix)
}

#[tokio::test]
async fn two_factor_authentication_needs_a_fresh_code_or_a_recovery_code() {
    let sso = spawn_with("100").await;
    let admin = sso.access("admin", ADMIN_PASSWORD).await;
    let (status, e) = sso
        .call(reqwest::Method::POST, "/v1/me/totp", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{e}");
    let secret = e["secret"].as_str().unwrap().to_owned();
    assert!(
        e["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/QTS:admin?")
    );
    // Not on until a first code confirms it.
    assert_eq!(sso.login("admin", ADMIN_PASSWORD).await.0, 200);
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap();
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/me/totp/confirm",
            Some(&admin),
            Some(json!({"code": "000000"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, r) = sso
        .call(
            reqwest::Method::POST,
            "/v1/me/totp/confirm",
            Some(&admin),
            Some(json!({"code": code(&secret, now)})),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let recovery: Vec<String> = serde_json::from_value(r["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);
    // The password alone: refused, saying a code is needed.
    let (status, e) = sso.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        (status, e["mfa_required"].clone()),
        (StatusCode::BAD_REQUEST, json!(true)),
        "{e}"
    );
    // The code that confirmed it is spent; the next step's code logs in, once.
    assert_eq!(
        second(&sso, "totp", &code(&secret, now)).await.0,
        400,
        "a code is good once"
    );
    let next = code(&secret, now + 30);
    let (status, t) = second(&sso, "totp", &next).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(second(&sso, "totp", &next).await.0, 400, "replayed");
    // A recovery code instead, once.
    assert_eq!(second(&sso, "recovery_code", &recovery[0]).await.0, 200);
    assert_eq!(
        second(&sso, "recovery_code", &recovery[0]).await.0,
        400,
        "good once"
    );
    // Off, with the password.
    let token = t["access_token"].as_str().unwrap();
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/me/totp/disable",
            Some(token),
            Some(json!({"password": "nope nope nope"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/me/totp/disable",
            Some(token),
            Some(json!({"password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(sso.login("admin", ADMIN_PASSWORD).await.0, 200);
    let (_, audit) = sso
        .call(
            reqwest::Method::GET,
            "/v1/audit?subject=admin",
            Some(token),
            None,
        )
        .await;
    let text = audit.to_string();
    for e in ["totp_enabled", "recovery_code_used", "totp_disabled"] {
        assert!(text.contains(e), "{e}: {text}");
    }
    assert!(!text.contains(&secret) && !text.contains(&recovery[1]));
}

#[tokio::test]
async fn on_postgresql_and_redis_logins_lock_rotate_reset_and_need_the_second_factor() {
    use common::service::testing::{fresh_database, server};
    let (Some(pg), Some(redis)) = (server("TEST_DATABASE_URL"), server("TEST_REDIS_URL")) else {
        return;
    };
    let db = fresh_database(&pg, "sso").await.unwrap();
    let prefix = format!("sso-test-{}:", uuid::Uuid::new_v4().simple());
    let sso = spawn_on(
        "100",
        &[
            ("SSO__DATABASE__URL", &db),
            ("SSO__CACHE__KIND", "redis"),
            ("SSO__CACHE__URL", &redis),
            ("SSO__CACHE__KEY_PREFIX", &prefix),
        ],
    )
    .await;
    let (_, info) = sso.call(reqwest::Method::GET, "/v1/info", None, None).await;
    assert_eq!(info["backends"]["database"], "postgres");
    let admin = sso.access("admin", ADMIN_PASSWORD).await;
    let bob = json!({"username": "bob", "email": "bob@example.vn",
        "password": "bob password 1", "roles": ["trader"], "accounts": ["0001001"]});
    assert_eq!(
        sso.call(reqwest::Method::POST, "/v1/users", Some(&admin), Some(bob))
            .await
            .0,
        201
    );
    // Lockout (stored), then unlocked.
    for _ in 0..3 {
        assert_eq!(sso.login("bob", "not bob's password").await.0, 400);
    }
    let (_, e) = sso.login("bob", "bob password 1").await;
    assert!(
        e["error_description"].as_str().unwrap().contains("locked"),
        "{e}"
    );
    let (status, u) = sso
        .call(
            reqwest::Method::PATCH,
            "/v1/users/bob",
            Some(&admin),
            Some(json!({"unlock": true})),
        )
        .await;
    assert_eq!(
        (status, u["locked_until"].clone()),
        (StatusCode::OK, Value::Null)
    );
    // Rotation and reuse.
    let (_, t) = sso.login("bob", "bob password 1").await;
    let r1 = t["refresh_token"].as_str().unwrap().to_owned();
    let (status, t2) = sso
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &r1)])
        .await;
    assert_eq!(status, 200, "{t2}");
    assert_eq!(
        sso.token(&[("grant_type", "refresh_token"), ("refresh_token", &r1)])
            .await
            .0,
        400
    );
    let r2 = t2["refresh_token"].as_str().unwrap();
    assert_eq!(
        sso.token(&[("grant_type", "refresh_token"), ("refresh_token", r2)])
            .await
            .0,
        400
    );
    // TOTP for the admin.
    let (_, e) = sso
        .call(reqwest::Method::POST, "/v1/me/totp", Some(&admin), None)
        .await;
    let secret = e["secret"].as_str().unwrap().to_owned();
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap();
    let (status, r) = sso
        .call(
            reqwest::Method::POST,
            "/v1/me/totp/confirm",
            Some(&admin),
            Some(json!({"code": code(&secret, now)})),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(sso.login("admin", ADMIN_PASSWORD).await.0, 400);
    assert_eq!(second(&sso, "totp", &code(&secret, now + 30)).await.0, 200);
    let recovery = r["recovery_codes"][0].as_str().unwrap();
    assert_eq!(second(&sso, "recovery_code", recovery).await.0, 200);
    assert_eq!(second(&sso, "recovery_code", recovery).await.0, 400);
    // A reset, once (UPDATE ... RETURNING on PostgreSQL).
    let token = reset(&sso, "test.pg.notifications", "bob").await.params["token"].clone();
    let confirm = json!({"token": token, "new_password": "bob's new password"});
    assert_eq!(
        sso.call(
            reqwest::Method::POST,
            "/v1/password-reset/confirm",
            None,
            Some(confirm.clone())
        )
        .await
        .0,
        204
    );
    assert_eq!(
        sso.call(
            reqwest::Method::POST,
            "/v1/password-reset/confirm",
            None,
            Some(confirm)
        )
        .await
        .0,
        403
    );
    assert_eq!(sso.login("bob", "bob's new password").await.0, 200);
}

/// Asks for a password reset of `who` and answers the notification the SSO sent for it (read
/// from the bus under the consumer group `group`).
async fn reset(sso: &Sso, group: &str, who: &str) -> proto::notification::v1::NotificationRequest {
    let mut sub = sso
        .app
        .bus
        .subscribe(group, &[NOTIFICATION_REQUEST.static_name()])
        .await
        .unwrap();
    let (status, _) = sso
        .call(
            reqwest::Method::POST,
            "/v1/password-reset",
            None,
            Some(json!({"username_or_email": who})),
        )
        .await;
    assert_eq!(status, 202);
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

#[tokio::test]
async fn configured_service_accounts_are_made_at_start_and_get_service_tokens() {
    let sso = spawn_on(
        "6",
        &[(
            "SSO__BOOTSTRAP__SERVICE_CLIENTS__TA",
            "the ta service's secret",
        )],
    )
    .await;
    let (status, t) = sso
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "ta"),
            ("client_secret", "the ta service's secret"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["scope"], "service");
    let (status, _) = sso
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "ta"),
            ("client_secret", "the ta service's secreT"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A secret too short to be one is a settings error, not a weak account.
    let e = common::service::testing::spawn::<sso::App>(&[
        ("SSO__KEYS__MASTER_KEY", MASTER_KEY),
        ("SSO__BOOTSTRAP__SERVICE_CLIENTS__OMS", "short"),
    ])
    .await
    .err()
    .expect("refused");
    assert!(
        format!("{e:#}").contains("bootstrap.service_clients.oms: a secret of at least 16"),
        "{e:#}"
    );
}
