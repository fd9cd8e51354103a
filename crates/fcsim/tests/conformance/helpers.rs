//! Starts a simulator on 127.0.0.1:0 and builds clients for it.

use fastconnect::{DataClient, DataConfig, HttpConfig, StreamConfig};
use fcsim::config::{DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET};
use fcsim::{SimConfig, Simulator, UniverseSize};
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

pub(crate) struct TestSim {
    pub(crate) sim: Simulator,
    pub(crate) data_url: String,
    _cancel: tokio_util::sync::DropGuard,
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
    let sim = Simulator::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let data_url = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(fcsim::serve(sim.clone(), listener, cancel.clone()));
    TestSim {
        sim,
        data_url,
        _cancel: cancel.drop_guard(),
    }
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
