//! SSI tokens for the fleet: the config service logs in to the FastConnect simulator with the
//! credentials it holds, keeps and renews the token, and hands it only to the services of
//! `ssi.clients`; fastconnect clients built with a provider that asks it work against SSI.

use std::sync::{Arc, Mutex};

use fcsim::config::{
    DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN, DEMO_TRADING_CONSUMER_ID,
    DEMO_TRADING_CONSUMER_SECRET, DEMO_V3_API_KEY, DEMO_V3_API_SECRET,
};
use fcsim::{SimConfig, UniverseSize};
use futures::future::BoxFuture;
use proto::config::v1 as pb;
use proto::config::v1::config_service_client::ConfigServiceClient;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tonic::Code;
use tonic::metadata::MetadataValue;

use crate::helpers::{TestApp, Tokens, spawn_with_tokens};

/// What a provider was asked: the kind and the refused token.
type Asked = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A small simulated market whose tokens live `token_lifetime_secs`.
async fn simulator(token_lifetime_secs: i64) -> fcsim::Local {
    fcsim::Local::start(SimConfig {
        universe: UniverseSize {
            hose: 5,
            hnx: 2,
            upcom: 2,
        },
        history_days: 5,
        token_lifetime_secs,
        ..SimConfig::demo()
    })
    .await
    .expect("the simulator starts")
}

fn with_bearer<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
    );
    r
}

fn ask(token: &str, kind: &str, rejected: Option<&str>) -> tonic::Request<pb::GetSsiTokenRequest> {
    with_bearer(
        token,
        pb::GetSsiTokenRequest {
            kind: kind.to_owned(),
            rejected: rejected.map(str::to_owned),
        },
    )
}

/// A service's provider: the config service's gRPC with the service's token (what
/// `common::ssi_tokens` does with a token from the SSO).
struct ViaConfig {
    grpc: ConfigServiceClient<tonic::transport::Channel>,
    bearer: String,
}

fn refused(e: tonic::Status) -> fastconnect::Error {
    fastconnect::Error::TokenProvider {
        retryable: false,
        message: e.to_string(),
    }
}

fn issued(t: pb::SsiToken) -> fastconnect::IssuedToken {
    fastconnect::IssuedToken {
        value: SecretString::from(t.access_token),
        expires_at: t.expires_at,
        trading: t.trading,
    }
}

impl fastconnect::TokenProvider for ViaConfig {
    fn token(
        &self,
        kind: fastconnect::TokenKind,
        rejected: Option<SecretString>,
    ) -> BoxFuture<'static, fastconnect::Result<fastconnect::IssuedToken>> {
        let (mut grpc, bearer) = (self.grpc.clone(), self.bearer.clone());
        Box::pin(async move {
            let rejected = rejected.map(|r| r.expose_secret().to_owned());
            let t = grpc
                .get_ssi_token(ask(&bearer, kind.as_str(), rejected.as_deref()))
                .await
                .map_err(refused)?;
            Ok(issued(t.into_inner()))
        })
    }

    fn request_otp(
        &self,
        kind: fastconnect::TokenKind,
    ) -> BoxFuture<'static, fastconnect::Result<fastconnect::v3::OtpChallenge>> {
        let (mut grpc, bearer) = (self.grpc.clone(), self.bearer.clone());
        Box::pin(async move {
            let c = grpc
                .request_ssi_otp(with_bearer(
                    &bearer,
                    pb::RequestSsiOtpRequest {
                        kind: kind.as_str().to_owned(),
                    },
                ))
                .await
                .map_err(refused)?
                .into_inner();
            Ok(fastconnect::v3::OtpChallenge {
                transaction_id: c.transaction_id,
                message: c.message,
            })
        })
    }

    fn login_otp(
        &self,
        kind: fastconnect::TokenKind,
        code: SecretString,
    ) -> BoxFuture<'static, fastconnect::Result<fastconnect::IssuedToken>> {
        let (mut grpc, bearer) = (self.grpc.clone(), self.bearer.clone());
        Box::pin(async move {
            let t = grpc
                .login_ssi_otp(with_bearer(
                    &bearer,
                    pb::LoginSsiOtpRequest {
                        kind: kind.as_str().to_owned(),
                        code: code.expose_secret().to_owned(),
                    },
                ))
                .await
                .map_err(refused)?;
            Ok(issued(t.into_inner()))
        })
    }
}

async fn get(app: &TestApp, token: &str, kind: &str, rejected: Option<&str>) -> pb::SsiToken {
    app.grpc()
        .await
        .get_ssi_token(ask(token, kind, rejected))
        .await
        .expect("GetSsiToken answers")
        .into_inner()
}

async fn status(app: &TestApp, ops: &str) -> Vec<Value> {
    let a = app.call_as(Some(ops), "GET", "/v1/ssi/tokens", None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.body.as_array().unwrap().clone()
}

fn entry<'a>(status: &'a [Value], kind: &str) -> &'a Value {
    status.iter().find(|e| e["kind"] == kind).unwrap()
}

#[tokio::test]
async fn v2_tokens_are_obtained_kept_renewed_and_given_only_to_the_clients() {
    // Every event of every level, from the service and its libraries, into a buffer.
    let logs = crate::secrets::Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();
    // Tokens that are due (less than the 60 s margin left) two seconds after issue.
    let sim = simulator(62).await;
    let sso = Tokens::start().await.unwrap();
    let app = spawn_with_tokens(
        &sso,
        &[
            ("CONFIG__SSI__ENABLED", "true"),
            ("CONFIG__SSI__DATA_URL", &sim.data_url),
            ("CONFIG__SSI__TRADING_URL", &sim.trading_url),
            ("CONFIG__SSI__REFRESH_MARGIN_SECS", "60"),
            ("CONFIG__SSI__CHECK_INTERVAL_SECS", "1"),
            // The data key is sealed at start; the trading key is set later by an admin.
            ("CONFIG__SSI__SEED__DATA_CONSUMER_ID", DEMO_DATA_CONSUMER_ID),
            (
                "CONFIG__SSI__SEED__DATA_CONSUMER_SECRET",
                DEMO_DATA_CONSUMER_SECRET,
            ),
        ],
    )
    .await;
    let ingestion = sso.token("ingestion", &["service"], &[]);
    let oms = sso.token("oms", &["service"], &[]);
    let ops = sso.token("olga", &["ops"], &[]);
    let admin = sso.token("alice", &["admin"], &[]);

    // Only the services of ssi.clients, with their own token: not another service, not a
    // person (an admin included); each refusal audited.
    for (who, token) in [
        ("risk", sso.token("risk", &["service"], &[])),
        ("alice", admin.clone()),
        ("tom", sso.token("tom", &["trader"], &[])),
    ] {
        let e = app
            .grpc()
            .await
            .get_ssi_token(ask(&token, "data", None))
            .await
            .unwrap_err();
        assert!(matches!(e.code(), Code::PermissionDenied), "{who}: {e:?}");
    }
    let e = app
        .grpc()
        .await
        .get_ssi_token(ask(&ingestion, "v3", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("\"data\""), "{e:?}");

    // The data token: obtained once, then the same one while it has more than the margin.
    let first = get(&app, &ingestion, "data", None).await;
    assert!(first.expires_at > 0);
    let again = get(&app, &oms, "data", None).await;
    assert_eq!(again.access_token, first.access_token);

    // It is SSI's: FC Data serves a client whose tokens come from the config service, and a
    // refused token makes the provider ask again naming it.
    let asked: Asked = Arc::default();
    let log = asked.clone();
    let grpc = app.grpc().await;
    let bearer = ingestion.clone();
    let provider = fastconnect::provider::from_fn(move |kind, rejected: Option<SecretString>| {
        let (mut grpc, bearer, log) = (grpc.clone(), bearer.clone(), log.clone());
        async move {
            let rejected = rejected.map(|r| r.expose_secret().to_owned());
            log.lock()
                .unwrap()
                .push((kind.as_str().to_owned(), rejected.clone()));
            let t = grpc
                .get_ssi_token(ask(&bearer, kind.as_str(), rejected.as_deref()))
                .await
                .map_err(refused)?
                .into_inner();
            Ok(issued(t))
        }
    });
    let mut config = fastconnect::DataConfig::new("", SecretString::from(String::new()));
    config.url = sim.data_url.clone();
    config.http.rate_limits = Vec::new();
    // The client renews 10 s before expiry: what it is given lasts longer.
    config.http.token_refresh_margin_secs = 10;
    let client = fastconnect::DataClient::with_token_provider(config, provider).unwrap();
    let securities = client
        .all(&fastconnect::data::SecuritiesQuery::default())
        .await
        .expect("FC Data answers with the config service's token");
    assert!(!securities.is_empty());
    assert_eq!(
        asked.lock().unwrap().as_slice(),
        &[("data".to_owned(), None)]
    );

    // Naming the held token as refused renews it.
    let renewed = get(&app, &ingestion, "data", Some(&first.access_token)).await;
    assert_ne!(renewed.access_token, first.access_token);

    // Tokens are renewed before they expire without anyone asking: two seconds after issue
    // they are inside the 60 s margin, and the background check (every second) renews.
    let before = entry(&status(&app, &ops).await, "data")["renewals"]
        .as_u64()
        .unwrap();
    let mut renewals = before;
    for _ in 0..100 {
        renewals = entry(&status(&app, &ops).await, "data")["renewals"]
            .as_u64()
            .unwrap();
        if renewals > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(renewals > before, "no renewal in 10 s");

    // Trading without its key: a precondition that names the missing secret.
    let e = app
        .grpc()
        .await
        .get_ssi_token(ask(&oms, "trading", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(e.message().contains("ssi.trading.consumer_id"), "{e:?}");
    // An admin sets the key and the PIN: a verified token, which SSI accepts.
    for (name, value) in [
        ("ssi.trading.consumer_id", DEMO_TRADING_CONSUMER_ID),
        ("ssi.trading.consumer_secret", DEMO_TRADING_CONSUMER_SECRET),
        ("ssi.trading.pin", DEMO_PIN),
    ] {
        let a = app
            .call_as(
                Some(&admin),
                "PUT",
                &format!("/v1/secrets/config/{name}"),
                Some(json!({"value": value})),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    let trading = get(&app, &oms, "trading", None).await;
    assert!(trading.trading, "PIN-verified");
    assert!(!first.trading);
    let sim_answer = reqwest::Client::new()
        .get(format!("{}/api/v2/Trading/cashAcctBal", sim.trading_url))
        .query(&[("account", fcsim::config::DEMO_CASH_ACCOUNT)])
        .bearer_auth(&trading.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(sim_answer.status(), 200);
    let body: Value = sim_answer.json().await.unwrap();
    assert_eq!(body["status"], 200, "{body}");

    // Ops see the state, never a token; the audit trail has the logins and the refusals.
    let seen = status(&app, &ops).await;
    let text = serde_json::to_string(&seen).unwrap();
    assert!(!text.contains(&first.access_token) && !text.contains(&trading.access_token));
    assert_eq!(entry(&seen, "trading")["held"], true);
    assert_eq!(
        entry(&seen, "trading")["credentials"]["ssi.trading.pin"],
        true
    );
    let audit = app
        .call_as(
            Some(&ops),
            "GET",
            "/v1/audit?service=config&limit=100",
            None,
        )
        .await;
    let ssi: Vec<&Value> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ssi.token")
        .collect();
    assert!(
        ssi.iter()
            .any(|e| e["allowed"] == false && e["actor"] == "risk")
    );
    assert!(ssi.iter().any(|e| e["actor"] == "oms"
        && e["target"] == "trading"
        && e["detail"].as_str().unwrap().starts_with("new token")));
    assert!(!audit.text.contains(&first.access_token));
    let logged = logs.0.lock().unwrap().clone();
    assert!(crate::secrets::contains(
        &logged,
        "SSI token obtained for the fleet"
    ));
    for secret in [
        first.access_token.as_str(),
        renewed.access_token.as_str(),
        trading.access_token.as_str(),
        DEMO_DATA_CONSUMER_SECRET,
        DEMO_TRADING_CONSUMER_SECRET,
    ] {
        assert!(
            !crate::secrets::contains(&logged, secret),
            "logged: {secret}"
        );
    }
}

#[tokio::test]
async fn the_v3_session_is_the_config_services_and_tokens_off_hands_out_nothing() {
    let sim = simulator(3_600).await;
    let sso = Tokens::start().await.unwrap();
    let app = spawn_with_tokens(
        &sso,
        &[
            ("CONFIG__SSI__ENABLED", "true"),
            ("CONFIG__SSI__GENERATION", "v3"),
            ("CONFIG__SSI__API_URL", &sim.trading_url),
            ("CONFIG__SSI__REFRESH_MARGIN_SECS", "60"),
            ("CONFIG__SSI__SEED__V3_API_KEY", DEMO_V3_API_KEY),
            ("CONFIG__SSI__SEED__V3_API_SECRET", DEMO_V3_API_SECRET),
        ],
    )
    .await;
    let historical = sso.token("historical", &["service"], &[]);
    let first = get(&app, &historical, "v3", None).await;
    assert_eq!(
        get(&app, &historical, "v3", None).await.access_token,
        first.access_token
    );
    // A refused token is renewed (with the session's refresh token, not a new login).
    let renewed = get(&app, &historical, "v3", Some(&first.access_token)).await;
    assert_ne!(renewed.access_token, first.access_token);
    assert!(!renewed.trading, "no OTP login yet: data scope");

    // SSI's v3 accepts it: a v3 client given the config service's tokens reads market data.
    let oms = sso.token("oms", &["service"], &[]);
    let provider = Arc::new(ViaConfig {
        grpc: app.grpc().await,
        bearer: oms.clone(),
    });
    let mut config =
        fastconnect::v3::Config::new(DEMO_V3_API_KEY, SecretString::from(String::new()));
    config.api_url = sim.trading_url.clone();
    let client = fastconnect::v3::Client::with_token_provider(config, provider).unwrap();
    let indexes = client
        .data()
        .index_list(None)
        .await
        .expect("v3 answers with the config service's token");
    assert!(!indexes.is_empty());

    // The client's OTP login is the config service's: the fleet's one session can trade.
    let challenge = client.request_otp().await.unwrap();
    assert!(
        challenge.transaction_id.is_none(),
        "the demo key gets SMS codes"
    );
    let code = sim
        .sim
        .pending_v3_otp(DEMO_V3_API_KEY)
        .expect("an OTP was sent");
    let session = client
        .login_otp(&SecretString::from(code))
        .await
        .expect("the OTP login through the config service");
    assert_eq!(session.scope, fastconnect::v3::Scope::Trading);
    let shared = get(&app, &historical, "v3", None).await;
    assert!(
        shared.trading,
        "every service now gets the trading session's token"
    );
    assert_eq!(
        client.access_token().await.unwrap().expose_secret(),
        shared.access_token
    );
    let ops = sso.token("olga", &["ops"], &[]);
    let audit = app
        .call_as(Some(&ops), "GET", "/v1/audit?service=config&limit=50", None)
        .await;
    assert!(
        audit
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "oms"
                && e["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("new token (OTP login; can trade)")),
        "{}",
        audit.text
    );
    // v2 has no such login here: the OMS makes its own.
    let e = app
        .grpc()
        .await
        .login_ssi_otp(with_bearer(
            &oms,
            pb::LoginSsiOtpRequest {
                kind: "trading".to_owned(),
                code: "123456".to_owned(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");

    // With ssi.enabled off nothing is handed out.
    let off = spawn_with_tokens(&sso, &[]).await;
    let e = off
        .grpc()
        .await
        .get_ssi_token(ask(&historical, "data", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(e.message().contains("ssi.enabled"), "{e:?}");
}
