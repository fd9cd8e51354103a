//! [`spawn_app`], the simulator the orders go to, and the [`TestApp`] with one method per
//! endpoint.

use std::time::Duration;

use common::service::testing::{Spawned, spawn};
use fcsim::config::DEMO_CASH_ACCOUNT;
use fcsim::{SimConfig, UniverseSize};
use market::{Exchange, InstrumentKind, PriceLimits, Symbol};
use proto::oms::v1::oms_service_client::OmsServiceClient;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

/// A running oms service and an HTTP client for it.
pub struct TestApp {
    /// The running service.
    pub app: Spawned,
    http: reqwest::Client,
}

/// Starts the service on port 0 with throw-away backends and waits until it is ready.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with settings (`OMS__SECTION__KEY` pairs).
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    TestApp {
        app: spawn::<oms::App>(env).await.expect("the service starts"),
        http: reqwest::Client::new(),
    }
}

/// A simulator serving FC Data and FC Trading on free ports; dropping it stops it.
pub struct TestSim(fcsim::Local);

impl std::ops::Deref for TestSim {
    type Target = fcsim::Local;
    fn deref(&self) -> &fcsim::Local {
        &self.0
    }
}

/// Continuous trading at 10:00 on a Tuesday, real time.
pub fn market() -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        speed: 1.0,
        universe: UniverseSize {
            hose: 40,
            hnx: 10,
            upcom: 10,
        },
        history_days: 20,
        ..SimConfig::demo()
    }
}

pub async fn start_sim(config: SimConfig) -> TestSim {
    TestSim(fcsim::Local::start(config).await.unwrap())
}

impl TestSim {
    /// The first HOSE stock and today's band.
    pub fn hose_stock(&self) -> (Symbol, PriceLimits) {
        let g = self.sim.generator();
        let day = g
            .day_index(self.sim.now().to_offset(market::calendar::VN_OFFSET).date())
            .unwrap();
        let (i, x) = g
            .universe()
            .instruments()
            .iter()
            .enumerate()
            .find(|(_, x)| x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock)
            .unwrap();
        (Symbol::parse(&x.symbol).unwrap(), g.limits(i, day).unwrap())
    }

    /// A broker client on the simulator's demo trading key (what a second program would use).
    pub fn broker_client(&self) -> std::sync::Arc<dyn broker::Trading> {
        let env = self.env();
        let mut table = toml::Table::new();
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| toml::Value::String(v.clone()))
                .unwrap()
        };
        let mut data = toml::Table::new();
        for k in ["URL", "HUB_URL", "CONSUMER_ID", "CONSUMER_SECRET"] {
            data.insert(
                k.to_ascii_lowercase(),
                get(&format!("OMS__BROKER__DATA__{k}")),
            );
        }
        let mut trading = toml::Table::new();
        for k in [
            "URL",
            "HUB_URL",
            "CONSUMER_ID",
            "CONSUMER_SECRET",
            "PRIVATE_KEY",
            "PIN",
        ] {
            trading.insert(
                k.to_ascii_lowercase(),
                get(&format!("OMS__BROKER__TRADING__{k}")),
            );
        }
        table.insert("generation".into(), toml::Value::String("v2".into()));
        table.insert("data".into(), toml::Value::Table(data));
        table.insert("trading".into(), toml::Value::Table(trading));
        let settings: broker::Settings = toml::Value::Table(table).try_into().unwrap();
        broker::connect(settings).unwrap().trading.unwrap()
    }

    /// The `OMS__...` settings that trade this simulator's demo cash account on its clock.
    pub fn env(&self) -> Vec<(String, String)> {
        let start = self.sim.now().format(&Rfc3339).unwrap();
        let anchor = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
        let mut env = self.v2_broker_env("OMS");
        env.extend(
            [
                ("OMS__ORDERS__ACCOUNTS", format!("{DEMO_CASH_ACCOUNT},")),
                ("OMS__ORDERS__CONFIRM_INTERVAL_MS", "50".to_owned()),
                // The OMS alone (tests/api/risk.rs runs it with the risk service).
                ("OMS__RISK__ENABLED", "false".to_owned()),
                ("OMS__CLOCK__START", start),
                ("OMS__CLOCK__ANCHOR", anchor),
                ("OMS__CLOCK__SPEED", self.sim.config().speed.to_string()),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
        env
    }
}

/// The OMS trading `sim`, plus `extra` settings; waits until it accepts orders.
pub async fn spawn_trading(sim: &TestSim, extra: &[(&str, &str)]) -> TestApp {
    let env = sim.env();
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.extend_from_slice(extra);
    let app = spawn_app_with(&pairs).await;
    app.wait_for("accepting orders", |a| async move {
        a.status().await["accepting"] == true
    })
    .await;
    app
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

    /// `GET` a path as JSON, expecting 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("JSON")
    }

    /// `GET /api/oms/v1/info`.
    pub async fn get_info(&self) -> reqwest::Response {
        self.get("/api/oms/v1/info").await
    }

    /// `GET /api/oms/v1/status`.
    pub async fn status(&self) -> Value {
        self.get_json("/api/oms/v1/status").await
    }

    /// `POST /api/oms/v1/orders`: status and body.
    pub async fn place(&self, order: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.app.http_url("/api/oms/v1/orders"))
            .json(order)
            .send()
            .await
            .expect("HTTP request");
        (r.status().as_u16(), r.json().await.expect("JSON"))
    }

    /// `PATCH /api/oms/v1/orders/{id}`.
    pub async fn amend(&self, id: &str, change: &Value) -> (u16, Value) {
        let r = self
            .http
            .patch(self.app.http_url(&format!("/api/oms/v1/orders/{id}")))
            .json(change)
            .send()
            .await
            .expect("HTTP request");
        (r.status().as_u16(), r.json().await.expect("JSON"))
    }

    /// `DELETE /api/oms/v1/orders/{id}`.
    pub async fn cancel(&self, id: &str) -> (u16, Value) {
        let r = self
            .http
            .delete(self.app.http_url(&format!("/api/oms/v1/orders/{id}")))
            .send()
            .await
            .expect("HTTP request");
        (r.status().as_u16(), r.json().await.expect("JSON"))
    }

    /// `GET /api/oms/v1/orders/{id}`.
    pub async fn order(&self, id: &str) -> Value {
        self.get_json(&format!("/api/oms/v1/orders/{id}")).await
    }

    /// Polls `check` every 20 ms until it holds; fails after 20 s naming `what`.
    pub async fn wait_for<'a, F, Fut>(&'a self, what: &str, check: F)
    where
        F: Fn(&'a TestApp) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !check(self).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls the order until `check` holds on it; answers it.
    pub async fn wait_order(&self, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let o = self.order(id).await;
            if check(&o) {
                return o;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for order {id} to be {what}: {o}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// gRPC client.
    pub async fn grpc(&self) -> OmsServiceClient<tonic::transport::Channel> {
        OmsServiceClient::connect(self.app.grpc_url())
            .await
            .expect("gRPC connect")
    }

    /// gRPC `OmsService/GetInfo`.
    pub async fn grpc_get_info(&self) -> proto::common::v1::ServiceInfo {
        self.grpc()
            .await
            .get_info(proto::common::v1::GetInfoRequest {})
            .await
            .expect("GetInfo")
            .into_inner()
    }
}

/// A limit order body.
pub fn limit(client_id: &str, symbol: Symbol, side: &str, price: i64, quantity: u64) -> Value {
    json!({
        "client_id": client_id,
        "account": DEMO_CASH_ACCOUNT,
        "symbol": symbol.as_str(),
        "side": side,
        "order_type": "LO",
        "price": price,
        "quantity": quantity,
    })
}
