//! Access control across the fleet: the first admin signs in through the SSO-UI pages and the
//! session's access token reaches a protected endpoint of every service through the gateway;
//! every protected operation of every service's OpenAPI document refuses a missing, malformed,
//! expired, unknown-key and tampered token, and a token without the role it names.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use sso::domain::{Claims, Role};
use sso::keys::{KeyRing, SigningKey};

use crate::helpers::{spawn_fleet_with, token, with_admin};

const ADMIN_PASSWORD: &str = "the fleet's admin password";
const ISSUER: &str = "http://localhost:18080/api/sso";

/// A `Set-Cookie` header's `name=value`.
fn cookie_of(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

/// Signs in through the SSO-UI pages as a browser does (the form, its CSRF cookie and Origin,
/// the session cookie) and asks for an access token as the portal does.
async fn token_through_the_pages(gateway: &str, user: &str, password: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let page = browser
        .get(format!("{gateway}/api/sso-ui/v1/login?lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf = cookie_of(&page, "qts_csrf");
    let token = csrf.trim_start_matches("qts_csrf=").to_owned();
    let signed_in = browser
        .post(format!("{gateway}/api/sso-ui/v1/login?lang=en"))
        .header("cookie", &csrf)
        .header("origin", gateway)
        .form(&[
            ("csrf", token.as_str()),
            ("username", user),
            ("password", password),
            ("return_to", "/portal/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the sign-in through the gateway");
    let session = cookie_of(&signed_in, "qts_session");
    let r: Value = browser
        .post(format!("{gateway}/api/sso-ui/v1/session/token"))
        .header("cookie", format!("{csrf}; {session}"))
        .header("origin", gateway)
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["username"], user, "{r}");
    r["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned()
}

fn claims(exp_in: i64, roles: Vec<Role>) -> Claims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Claims {
        iss: ISSUER.into(),
        sub: "walker".into(),
        aud: "qts".into(),
        exp: now + exp_in,
        iat: now - 1_000,
        nbf: now - 1_000,
        jti: "w".into(),
        preferred_username: "walker".into(),
        roles,
        accounts: vec![],
        scope: String::new(),
    }
}

/// The fleet SSO's own signing keys, from its database and master key file.
async fn fleet_keys(dir: &std::path::Path) -> KeyRing {
    let (master, _) = sso::crypto::MasterKey::load("", dir, "sso-master.key").unwrap();
    let url = format!("sqlite://{}?mode=ro", dir.join("sso.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT kid, private_pkcs8 FROM sso_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    let keys = rows
        .into_iter()
        .map(|(kid, sealed)| {
            let pkcs8 = master.open(&sealed, &kid).unwrap();
            SigningKey::from_pkcs8(pkcs8, time::OffsetDateTime::now_utc(), None).unwrap()
        })
        .collect();
    KeyRing::new(keys).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protected_operation_of_every_service_refuses_bad_tokens_through_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let opts = with_admin(dir.path(), ADMIN_PASSWORD);
    let data = dir.path().to_owned();
    let fleet = spawn_fleet_with(dir, &opts).await;
    let gateway = format!("http://{}", fleet.gateway);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    // The first admin signs in through the SSO-UI pages and reaches every service with the
    // access token the session gives.
    let admin = token_through_the_pages(&gateway, "admin", ADMIN_PASSWORD).await;
    let r = client
        .post(format!("{gateway}/api/sso/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "tina", "email": "tina@example.vn",
            "password": "tina's password", "roles": ["trader"], "accounts": ["0001001"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let trader = token(&client, &gateway, "tina", "tina's password").await;
    let r = client
        .post(format!("{gateway}/api/sso/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "rita", "email": "rita@example.vn",
            "password": "rita's password", "roles": ["risk_officer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let officer = token(&client, &gateway, "rita", "rita's password").await;
    let ring = fleet_keys(&data).await;
    let expired = ring.sign(&claims(-120, vec![Role::Admin])).unwrap();
    let stranger = KeyRing::new(vec![
        SigningKey::generate(time::OffsetDateTime::now_utc()).unwrap(),
    ])
    .unwrap()
    .sign(&claims(600, vec![Role::Admin]))
    .unwrap();
    let mut parts: Vec<&str> = admin.split('.').collect();
    parts[2] = "AAAA";
    let tampered = parts.join(".");
    let bad: [(Option<&str>, &str); 5] = [
        (None, "missing"),
        (Some("garbage"), "malformed"),
        (Some(&expired), "expired"),
        (Some(&stranger), "unknown key"),
        (Some(&tampered), "tampered"),
    ];

    let mut walked: BTreeMap<&str, usize> = BTreeMap::new();
    let mut role_checked = 0;
    for s in &fleet.services {
        let prefix = s.spec.route_prefix();
        let doc: Value = client
            .get(format!("{gateway}{prefix}/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let global = doc["security"].clone();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                let security = op
                    .get("security")
                    .cloned()
                    .unwrap_or_else(|| global.clone());
                let reqs = security.as_array().cloned().unwrap_or_default();
                if reqs
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                {
                    continue;
                }
                let roles: Vec<String> = reqs
                    .iter()
                    .filter_map(|r| r.get("bearer"))
                    .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                let url = format!("{gateway}{}", fill(path));
                let method: reqwest::Method = method.to_uppercase().parse().unwrap();
                let call = |token: Option<&str>| {
                    let mut r = client.request(method.clone(), &url);
                    if let Some(t) = token {
                        r = r.bearer_auth(t);
                    }
                    if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
                        r = r.json(&json!({}));
                    }
                    r.send()
                };
                for (t, why) in bad {
                    let r = call(t).await.unwrap();
                    assert_eq!(r.status(), 401, "{method} {url} with a {why} token");
                    let body: Value = r.json().await.unwrap();
                    assert_eq!(body["code"], "unauthenticated", "{method} {url}: {body}");
                }
                // The admin passes access control (whatever the operation then says: a 403 of
                // its own, such as an account the OMS does not trade, is not a role refusal).
                if let Ok(r) = call(Some(&admin)).await {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    assert!(
                        status != 401 && !(status == 403 && body.contains("needs the role")),
                        "{method} {url} refused the admin: {status} {body}"
                    );
                }
                for (who, t) in [("trader", &trader), ("risk_officer", &officer)] {
                    if !roles.is_empty() && !roles.iter().any(|r| r == who) {
                        let r = call(Some(t)).await.unwrap();
                        assert_eq!(r.status(), 403, "{method} {url} needs {roles:?}: a {who}");
                        role_checked += 1;
                    }
                }
                *walked.entry(s.spec.name).or_default() += 1;
            }
        }
    }
    // Every service with behaviour has protected operations, and the admin reaches them (a
    // skeleton serves only its public info; the sso-ui's pages are public, they authenticate
    // with its session cookie).
    for s in &fleet.services {
        if s.spec.maturity.as_str() != "skeleton" && s.spec.name != "sso-ui" {
            assert!(
                walked.get(s.spec.name).is_some_and(|n| *n > 0),
                "{} has no protected operation",
                s.spec.name
            );
        }
    }
    assert!(
        role_checked >= 8,
        "only {role_checked} operations checked for roles"
    );
    // A trader reaches only their own accounts' orders and holdings.
    let get = |path: &str, t: &str| {
        client
            .get(format!("{gateway}{path}"))
            .bearer_auth(t.to_owned())
            .send()
    };
    for path in [
        "/api/oms/v1/orders?account=0001002",
        "/api/oms/v1/fills?account=0001002",
        "/api/oms/v1/accounts/0001002/portfolio",
        "/api/oms/v1/conditionals?account=0001002",
        "/api/oms/v1/algos?account=0001002",
        "/api/risk/v1/exposure/0001002",
    ] {
        let r = get(path, &trader).await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("not one of tina's accounts"),
            "{path}: {e}"
        );
        let r = get(path, &admin).await.unwrap().text().await.unwrap();
        assert!(
            !r.contains("not one of admin's accounts"),
            "{path}: the admin sees all: {r}"
        );
    }
    let r = get("/api/oms/v1/orders", &trader).await.unwrap();
    assert_eq!(r.status(), 200, "her only account is the filter");
    let r = client
        .post(format!("{gateway}/api/oms/v1/orders"))
        .bearer_auth(&trader)
        .json(
            &json!({"client_id": "x-1", "account": "0001002", "symbol": "ACB", "side": "buy",
            "order_type": "LO", "price": 10_000, "quantity": 100}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "an order for another account");
    let total: usize = walked.values().sum();
    eprintln!(
        "walked {total} protected operations of {} services",
        walked.len()
    );

    // gRPC: the same tokens as metadata, the same roles and accounts.
    let grpc = |name: &str| {
        let s = fleet.services.iter().find(|s| s.spec.name == name).unwrap();
        tonic::transport::Channel::from_shared(format!("http://{}", s.addrs.grpc))
            .unwrap()
            .connect_lazy()
    };
    let mut oms = proto::oms::v1::oms_service_client::OmsServiceClient::new(grpc("oms"));
    let list = |account: &str| proto::oms::v1::ListOrdersRequest {
        account: account.into(),
        ..Default::default()
    };
    for (t, why) in bad {
        let e = oms.list_orders(with(t, list(""))).await.unwrap_err();
        assert_eq!(
            e.code(),
            tonic::Code::Unauthenticated,
            "gRPC with a {why} token"
        );
    }
    // Health and GetInfo stay public.
    oms.get_info(with(None, proto::common::v1::GetInfoRequest {}))
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(grpc("oms"));
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    let e = oms
        .list_orders(with(Some(&trader), list("0001002")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied, "{e:?}");
    assert!(e.message().contains("not one of tina's accounts"), "{e:?}");
    oms.list_orders(with(Some(&trader), list("")))
        .await
        .expect("her own account's orders");
    let place = proto::oms::v1::PlaceOrderRequest {
        client_id: "g-1".into(),
        account: "0001002".into(),
        symbol: "ACB".into(),
        side: "buy".into(),
        order_type: "LO".into(),
        price: 10_000,
        quantity: 100,
        ..Default::default()
    };
    let e = oms
        .place_order(with(Some(&trader), place.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied, "{e:?}");
    let e = oms
        .place_order(with(Some(&officer), place))
        .await
        .unwrap_err();
    assert!(
        e.code() == tonic::Code::PermissionDenied && e.message().contains("needs the role"),
        "a risk officer places no orders: {e:?}"
    );
    let mut risk = proto::risk::v1::risk_service_client::RiskServiceClient::new(grpc("risk"));
    let kill = proto::risk::v1::SetKillSwitchRequest {
        scope: Some(proto::risk::v1::ScopeRef {
            scope: "global".into(),
            key: String::new(),
        }),
        engaged: true,
        reason: "test".into(),
        ..Default::default()
    };
    let e = risk
        .set_kill_switch(with(Some(&trader), kill))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied, "{e:?}");

    // Services call each other as their own service accounts: the decision engine asks the
    // OMS which accounts it trades (none here) over gRPC with the decision service's token.
    let r = get("/api/decision/v1/strategies/ma-cross/performance", &admin)
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "the OMS trades no account here");
    let admin_of = |name: &str| {
        let s = fleet.services.iter().find(|s| s.spec.name == name).unwrap();
        format!("http://{}/metrics", s.addrs.admin)
    };
    let metrics = client
        .get(admin_of("oms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let served: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("qts_grpc_requests_total") && l.contains("GetStatus"))
        .collect();
    assert!(
        served.iter().any(|l| l.contains("code=\"Ok\"")),
        "the OMS served the decision service's GetStatus: {served:?}"
    );
    // A trader whose account the engine does not trade sees neither its decisions nor steers
    // its strategies.
    let r = get("/api/decision/v1/decisions", &trader).await.unwrap();
    assert_ne!(r.status(), 200, "{}", r.text().await.unwrap());
    fleet.stop().await;
}

/// A gRPC request carrying `token` as its bearer metadata.
fn with<T>(token: Option<&str>, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Some(t) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    r
}

/// A path with every `{parameter}` filled in.
fn fill(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('x');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}
