//! What both simulator-backed test binaries share: an in-process simulator on free ports, a
//! TCP proxy that can cut connections, and the instruments the tests trade.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use broker::ClientOrderId;
use fcsim::{SimConfig, UniverseSize};
use market::{Exchange, InstrumentKind, Price, PriceLimits, Symbol};
use time::macros::datetime;

pub(crate) type TestSim = fcsim::Local;

/// A TCP proxy in front of a simulator port that can cut every connection through it, as a
/// network drop would; new connections go through again.
pub(crate) struct Proxy {
    pub(crate) url: String,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    pub(crate) async fn start(target_url: &str) -> Self {
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

    /// Drops every open connection.
    pub(crate) fn cut(&self) {
        for conn in self.conns.lock().unwrap().drain(..) {
            conn.abort();
        }
    }
}

pub(crate) async fn spawn_with(config: SimConfig) -> TestSim {
    fcsim::Local::start(config).await.unwrap()
}

pub(crate) fn universe() -> UniverseSize {
    UniverseSize {
        hose: 40,
        hnx: 10,
        upcom: 10,
    }
}

/// Continuous trading at 10:00 on a Tuesday, real time (the conformance suite's market: its
/// first index future has traded by then, so the market maker quotes it).
pub(crate) fn trading_config() -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 10:00:00 +7),
        speed: 1.0,
        universe: universe(),
        history_days: 30,
        ..SimConfig::demo()
    }
}

/// The first instrument `pick` accepts and today's band (engine units).
pub(crate) fn instrument(
    t: &TestSim,
    pick: impl Fn(&fcsim::Instrument) -> bool,
) -> (Symbol, PriceLimits) {
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
    (Symbol::parse(&x.symbol).unwrap(), g.limits(i, day).unwrap())
}

/// The first HOSE stock and today's floor.
pub(crate) fn hose_stock(t: &TestSim) -> (Symbol, Price) {
    let (symbol, band) = instrument(t, |x| {
        x.exchange == Exchange::Hose && x.kind == InstrumentKind::Stock
    });
    (symbol, band.floor)
}

pub(crate) fn id(n: u32) -> ClientOrderId {
    ClientOrderId::new(n).unwrap()
}

/// 08:30 on a Tuesday, before any session: the day's band is published, nothing traded.
pub(crate) fn pre_open_config() -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 08:30:00 +7),
        speed: 1.0,
        universe: universe(),
        history_days: 10,
        ..SimConfig::demo()
    }
}

/// Instruments of `exchange` in the simulator's universe, with their universe index.
pub(crate) fn listed(t: &TestSim, exchange: Exchange) -> Vec<(usize, fcsim::Instrument)> {
    t.sim
        .generator()
        .universe()
        .instruments()
        .iter()
        .enumerate()
        .filter(|(_, x)| x.exchange == exchange)
        .map(|(i, x)| (i, x.clone()))
        .collect()
}

/// Checks `prices` (one exchange's daily list on `date`) against the simulator's own band
/// of every instrument of `exchange` that day.
pub(crate) fn assert_bands(
    t: &TestSim,
    exchange: Exchange,
    date: time::Date,
    prices: &[broker::DailyPrice],
) {
    let g = t.sim.generator();
    let day = g.day_index(date).unwrap();
    let expected = listed(t, exchange);
    assert_eq!(prices.len(), expected.len(), "{exchange}: {prices:?}");
    for (i, x) in expected {
        let p = prices
            .iter()
            .find(|p| p.symbol.as_str() == x.symbol)
            .unwrap_or_else(|| panic!("{} missing", x.symbol));
        let band = g.limits(i, day).unwrap();
        assert_eq!(p.date, date);
        assert_eq!(p.exchange, Some(exchange));
        assert_eq!(
            (p.reference, p.ceiling, p.floor),
            (Some(band.reference), Some(band.ceiling), Some(band.floor)),
            "{}",
            x.symbol
        );
    }
}
