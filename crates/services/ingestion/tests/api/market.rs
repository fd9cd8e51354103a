//! What the market-data tests share: an in-process simulator on free ports (optionally behind
//! a proxy that can cut connections), master data published from the simulator's own
//! universe, the ingestion service pointed at both, and readers of the bus topics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::bus::{Envelope, SharedBus};
use fcsim::{SimConfig, UniverseSize};
use proto::market::v1 as pb;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

use crate::helpers::TestApp;

/// A running simulator; dropping it stops it.
pub type TestSim = fcsim::Local;

/// The simulated market: 60 securities, continuous trading from 10:00 on a Tuesday, 30 times
/// faster than real time.
pub fn config() -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        speed: 30.0,
        universe: UniverseSize {
            hose: 40,
            hnx: 10,
            upcom: 10,
        },
        history_days: 30,
        ..SimConfig::demo()
    }
}

pub async fn start_sim(config: SimConfig) -> TestSim {
    fcsim::Local::start(config).await.unwrap()
}

/// A TCP proxy in front of a URL that can cut every connection through it.
pub struct Proxy {
    pub url: String,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(target_url: &str) -> Self {
        let target = target_url.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let list = conns.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                list.lock().unwrap().push(conn);
            }
        });
        Self { url, conns }
    }

    /// Drops every open connection, as a network failure would.
    pub fn cut(&self) {
        for conn in self.conns.lock().unwrap().drain(..) {
            conn.abort();
        }
    }
}

/// The ingestion service with its feed on `data_url` and the simulator's clock.
pub async fn spawn_ingestion(sim: &TestSim, data_url: &str) -> TestApp {
    let start = sim.sim.now().format(&Rfc3339).unwrap();
    let anchor = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let speed = sim.sim.config().speed.to_string();
    let env = [
        ("INGESTION__BROKER__GENERATION", "v2"),
        ("INGESTION__BROKER__DATA__URL", data_url),
        ("INGESTION__BROKER__DATA__HUB_URL", data_url),
        (
            "INGESTION__BROKER__DATA__CONSUMER_ID",
            fcsim::config::DEMO_DATA_CONSUMER_ID,
        ),
        (
            "INGESTION__BROKER__DATA__CONSUMER_SECRET",
            fcsim::config::DEMO_DATA_CONSUMER_SECRET,
        ),
        ("INGESTION__CLOCK__START", start.as_str()),
        ("INGESTION__CLOCK__ANCHOR", anchor.as_str()),
        ("INGESTION__CLOCK__SPEED", speed.as_str()),
        ("INGESTION__NORMALISE__COMMIT_EVERY", "50"),
    ];
    crate::helpers::spawn_app_with(&env).await
}

/// Master data for today from the simulator's universe, except `left_out`; answers how many.
pub async fn publish_master_data(bus: &SharedBus, sim: &TestSim, left_out: &str) -> usize {
    let g = sim.sim.generator();
    let today = sim.sim.now().to_offset(market::calendar::VN_OFFSET).date();
    let day = g.day_index(today).unwrap();
    let mut n = 0;
    for (i, x) in g.universe().instruments().iter().enumerate() {
        if x.symbol == left_out {
            continue;
        }
        let band = g.limits(i, day).unwrap();
        let security = pb::Security {
            symbol: x.symbol.clone(),
            exchange: x.exchange.ssi_code().to_owned(),
            kind: ingestion::domain::serde_name(x.kind).to_owned(),
            lot_size: if x.exchange == market::Exchange::HnxDeriv {
                1
            } else {
                100
            },
            trading_day: ingestion::domain::format_day(today),
            reference: band.reference.units(),
            ceiling: band.ceiling.units(),
            floor: band.floor.units(),
            ..Default::default()
        };
        let env = Envelope::new("test", &x.symbol, &security);
        bus.publish("masterdata.security.v1", &env).await.unwrap();
        n += 1;
    }
    n
}

/// Reads `topic` from its start until `done` says so, or fails after `timeout`.
pub async fn read_until<M>(
    bus: &SharedBus,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[M]) -> bool,
) -> Vec<M>
where
    M: prost::Message + prost::Name + Default,
{
    let group = format!("test.{}", uuid::Uuid::now_v7());
    let mut sub = bus.subscribe(&group, &[topic]).await.unwrap();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while !done(&out) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{topic}: condition not met after {timeout:?} with {} messages",
            out.len()
        );
        if let Some(d) = sub.poll(Duration::from_millis(100)).await.unwrap() {
            out.push(d.envelope.decode::<M>().unwrap());
        }
    }
    out
}

/// The symbols of the simulated universe.
pub fn symbols(sim: &TestSim) -> Vec<String> {
    sim.sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .map(|x| x.symbol.clone())
        .collect()
}
