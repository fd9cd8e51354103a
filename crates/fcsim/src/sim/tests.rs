use super::*;
use crate::config::{
    DEMO_CASH_ACCOUNT, DEMO_PIN, DEMO_PRIVATE_KEY_XML_B64, DEMO_TRADING_CONSUMER_ID,
    DEMO_TRADING_CONSUMER_SECRET,
};
use fastconnect::trading::{NewOrder, RequestId};
use fastconnect::{Decimal, HttpConfig, Side, TradingClient, TradingConfig, TradingMarket};
use time::macros::datetime;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::serve_all;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fcsim-sim-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(dir: &std::path::Path) -> SimConfig {
    SimConfig {
        start: datetime!(2025-06-10 10:00 +7),
        universe: crate::UniverseSize {
            hose: 30,
            hnx: 5,
            upcom: 5,
        },
        history_days: 5,
        data_dir: Some(dir.to_owned()),
        ..SimConfig::demo()
    }
}

struct Running {
    sim: Simulator,
    url: String,
    cancel: CancellationToken,
    served: tokio::task::JoinHandle<Result<(), Error>>,
}

async fn run(config: SimConfig) -> Running {
    let sim = Simulator::new(config).unwrap();
    let data = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trading = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", trading.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let served = tokio::spawn(serve_all(sim.clone(), data, trading, cancel.clone()));
    Running {
        sim,
        url,
        cancel,
        served,
    }
}

impl Running {
    async fn stop(self) {
        self.cancel.cancel();
        self.served.await.unwrap().unwrap();
    }

    fn client(&self) -> TradingClient {
        let mut c = TradingConfig::new(
            DEMO_TRADING_CONSUMER_ID,
            DEMO_TRADING_CONSUMER_SECRET.to_owned().into(),
            DEMO_PRIVATE_KEY_XML_B64.to_owned().into(),
        );
        c.url = self.url.clone();
        c.hub_url = self.url.clone();
        c.pin = Some(DEMO_PIN.to_owned().into());
        c.http = HttpConfig {
            rate_limits: Vec::new(),
            ..HttpConfig::default()
        };
        TradingClient::new(c).unwrap()
    }

    fn order(&self, request: u32) -> NewOrder {
        let g = self.sim.generator();
        let day = g.day_index(self.sim.now().date()).unwrap();
        let (i, x) = g
            .universe()
            .instruments()
            .iter()
            .enumerate()
            .find(|(_, x)| {
                x.exchange == market::Exchange::Hose && x.kind == market::InstrumentKind::Stock
            })
            .unwrap();
        let floor = g.limits(i, day).unwrap().floor.units();
        let mut o = NewOrder::limit(
            DEMO_CASH_ACCOUNT,
            &x.symbol,
            TradingMarket::Vn,
            Side::Buy,
            Decimal::from_i64(floor),
            100,
        );
        o.request_id = Some(RequestId::new(request).unwrap());
        o
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_cannot_be_saved_is_refused_and_not_applied() {
    let dir = temp_dir("fail");
    let t = run(config(&dir)).await;
    let client = t.client();
    client
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let notices_before = t.sim.core.desk.log().latest();
    let fail = t.sim.core.desk.fail_writes().await.unwrap();
    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let err = client.new_order(t.order(1)).await.unwrap_err();
    assert!(err.to_string().contains("not acknowledged"), "{err}");
    // Not applied: no order in the book, no notice on the stream.
    assert!(
        client
            .order_book(DEMO_CASH_ACCOUNT)
            .await
            .unwrap()
            .orders
            .is_empty()
    );
    assert_eq!(t.sim.core.desk.log().latest(), notices_before);
    // Once the disk works again, the same request (same requestID) goes through once.
    fail.store(false, std::sync::atomic::Ordering::SeqCst);
    client.new_order(t.order(1)).await.unwrap();
    assert_eq!(
        client
            .order_book(DEMO_CASH_ACCOUNT)
            .await
            .unwrap()
            .orders
            .len(),
        1
    );
    t.stop().await;
    // And the disk agrees.
    let t = run(config(&dir)).await;
    let client = t.client();
    client
        .login(&DEMO_PIN.to_owned().into(), true)
        .await
        .unwrap();
    let book = client.order_book(DEMO_CASH_ACCOUNT).await.unwrap();
    assert_eq!(book.orders.len(), 1);
    assert_eq!(book.orders[0].unique_id.as_deref(), Some("1"));
    t.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// Mean |close / reference − 1| over every instrument and generated day.
fn mean_abs_return(sim: &Simulator) -> f64 {
    let g = sim.generator();
    let (mut sum, mut n) = (0.0, 0.0);
    for i in 0..g.universe().instruments().len() {
        for day in 0..g.days().len() {
            if let Ok(s) = g.summary(i, day) {
                let reference = s.limits.reference.units() as f64;
                sum += (s.close as f64 / reference - 1.0).abs();
                n += 1.0;
            }
        }
    }
    sum / n
}

#[tokio::test]
async fn the_configured_market_model_drives_the_generated_market() {
    let plain = SimConfig {
        data_dir: None,
        history_days: 20,
        ..config(std::path::Path::new("unused"))
    };
    let mut wild = plain.clone();
    wild.market.market.vol *= 4.0;
    let calm = Simulator::new(plain).unwrap();
    let stormy = Simulator::new(wild.clone()).unwrap();
    let (calm_r, stormy_r) = (mean_abs_return(&calm), mean_abs_return(&stormy));
    assert!(
        stormy_r > calm_r * 1.5,
        "a 4x market volatility moves stocks more: {stormy_r} vs {calm_r}"
    );

    // A parameter outside its domain is refused by name before anything is built.
    wild.market.market.garch_alpha = 0.9;
    wild.market.market.garch_beta = 0.9;
    let err = Simulator::new(wild).unwrap_err().to_string();
    assert!(err.contains("market.market.garch_alpha"), "{err}");
}
