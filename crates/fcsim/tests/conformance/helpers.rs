//! Starts a simulator on 127.0.0.1:0 and builds clients for it.

use std::time::Duration;

use fastconnect::{DataClient, DataConfig, HttpConfig, StreamConfig, TradingClient, TradingConfig};
use fcsim::config::{
    DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN, DEMO_PRIVATE_KEY_XML_B64,
    DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
};
use fcsim::{SimConfig, Simulator, UniverseSize};
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

pub(crate) struct TestSim {
    pub(crate) sim: Simulator,
    pub(crate) data_url: String,
    pub(crate) trading_url: String,
    cancel: CancellationToken,
    served: Option<tokio::task::JoinHandle<Result<(), fcsim::Error>>>,
}

impl TestSim {
    /// Stops the simulator as Ctrl-C would and waits until it has finished serving.
    pub(crate) async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(served) = self.served.take() {
            served.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestSim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A small market starting 20 s before HOSE's ATO print, 30× faster than real time.
pub(crate) async fn spawn_sim() -> TestSim {
    let config = SimConfig {
        start: datetime!(2025-06-10 09:14:40 +7),
        speed: 30.0,
        universe: UniverseSize {
            hose: 60,
            hnx: 20,
            upcom: 20,
        },
        history_days: 60,
        ..SimConfig::demo()
    };
    spawn_with(config).await
}

/// A simulator for `config` on two free ports.
pub(crate) async fn spawn_with(config: SimConfig) -> TestSim {
    let sim = Simulator::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trading = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let data_url = format!("http://{}", listener.local_addr().unwrap());
    let trading_url = format!("http://{}", trading.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let served = tokio::spawn(fcsim::serve_all(
        sim.clone(),
        listener,
        trading,
        cancel.clone(),
    ));
    TestSim {
        sim,
        data_url,
        trading_url,
        cancel,
        served: Some(served),
    }
}

/// A fresh, empty directory under the system temp dir for one test's durable state.
pub(crate) fn temp_data_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("fcsim-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small market in continuous trading (10:00 on a Tuesday), real time.
pub(crate) fn trading_config() -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        speed: 1.0,
        universe: UniverseSize {
            hose: 40,
            hnx: 10,
            upcom: 10,
        },
        history_days: 30,
        ..SimConfig::demo()
    }
}

/// A `TradingClient` for the demo key against `t`.
pub(crate) fn trading_client(t: &TestSim) -> TradingClient {
    trading_client_with_key(t, DEMO_PRIVATE_KEY_XML_B64)
}

/// A `TradingClient` for the demo consumer signing with `key`.
pub(crate) fn trading_client_with_key(t: &TestSim, key: &str) -> TradingClient {
    let mut config = trading_client_config(&t.trading_url);
    config.private_key = key.to_owned().into();
    TradingClient::new(config).unwrap()
}

/// The demo consumer's client configuration for a simulator at `url`.
pub(crate) fn trading_client_config(url: &str) -> TradingConfig {
    let mut config = TradingConfig::new(
        DEMO_TRADING_CONSUMER_ID,
        DEMO_TRADING_CONSUMER_SECRET.to_owned().into(),
        DEMO_PRIVATE_KEY_XML_B64.to_owned().into(),
    );
    config.url = url.to_owned();
    config.hub_url = url.to_owned();
    config.pin = Some(DEMO_PIN.to_owned().into());
    config.http = HttpConfig {
        timeout_ms: 20_000,
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    };
    config.stream = StreamConfig {
        reconnect_initial_ms: 50,
        reconnect_max_ms: 500,
        connect_timeout_ms: 10_000,
        ..StreamConfig::default()
    };
    config
}

pub(crate) fn data_client(t: &TestSim) -> DataClient {
    let mut config = DataConfig::new(
        DEMO_DATA_CONSUMER_ID,
        DEMO_DATA_CONSUMER_SECRET.to_owned().into(),
    );
    config.url = t.data_url.clone();
    config.hub_url = t.data_url.clone();
    config.http = HttpConfig {
        timeout_ms: 20_000,
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    };
    config.stream = StreamConfig {
        reconnect_initial_ms: 50,
        reconnect_max_ms: 500,
        connect_timeout_ms: 10_000,
        ..StreamConfig::default()
    };
    DataClient::new(config).unwrap()
}

/// Every `Broadcast` argument a raw hub connection opened with `NotifyID: notify` receives
/// until the hub has been quiet for a second.
pub(crate) async fn hub_messages(t: &TestSim, token: &str, notify: &str) -> Vec<serde_json::Value> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let url = format!(
        "{}/v2.0/signalr/connect?transport=webSockets&clientProtocol=1.5&connectionToken=x&connectionData=%5B%7B%22name%22%3A%22BroadcastHubV2%22%7D%5D",
        t.trading_url.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut()
        .insert("NotifyID", notify.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut out = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
        let Ok(text) = msg.unwrap().into_text() else {
            continue;
        };
        let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        for m in frame["M"].as_array().into_iter().flatten() {
            let arg: serde_json::Value = serde_json::from_str(m["A"][0].as_str().unwrap()).unwrap();
            out.push(arg);
        }
    }
    out
}

/// The first instrument `pick` accepts and its price band today (engine units), from the
/// simulator's own generator.
pub(crate) fn first_instrument(
    t: &TestSim,
    pick: impl Fn(&fcsim::Instrument) -> bool,
) -> (String, market::PriceLimits) {
    let g = t.sim.generator();
    let day = g
        .day_index(t.sim.now().to_offset(market::calendar::VN_OFFSET).date())
        .unwrap();
    let (i, x) = g
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .find(|(_, x)| pick(x))
        .unwrap();
    (x.symbol.clone(), g.limits(i, day).unwrap())
}
