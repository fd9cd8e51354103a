//! The servers: FC Data and FC Trading (REST and hubs) on their listeners, the 200 ms
//! trading ticker, and the stop. The top of the crate: it puts the simulator and the HTTP
//! modules together.

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::sim::{Error, Simulator};

/// How often the trading server moves the broker to the simulated now (wall time).
const TICK: std::time::Duration = std::time::Duration::from_millis(200);

impl Simulator {
    /// The axum app serving FC Trading REST and the FC Trading hub.
    pub fn trading_router(&self) -> axum::Router {
        crate::trading_api::router(self.core.clone())
    }

    /// The axum app serving FC Data REST and the FC Data hub.
    pub fn data_router(&self) -> axum::Router {
        crate::data_api::router(self.core.clone())
    }
}

/// Serves FC Data (REST and hub) on `data` until `cancel` fires.
pub async fn serve(
    sim: Simulator,
    data: TcpListener,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let app = sim.data_router();
    crate::http::serve(data, app, crate::http::Limits::of(&sim.core.config), cancel).await?;
    Ok(())
}

/// Serves FC Trading (REST and hub) on `trading` until `cancel` fires, advancing the
/// broker every 200 ms of wall time, then stops the desk (final snapshot, lock released).
pub async fn serve_trading(
    sim: Simulator,
    trading: TcpListener,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let ticker = {
        let sim = sim.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = every.tick() => sim.tick().await,
                }
            }
        })
    };
    let app = sim.trading_router();
    let limits = crate::http::Limits::of(&sim.core.config);
    let served = crate::http::serve(trading, app, limits, cancel.clone()).await;
    cancel.cancel();
    let _ = ticker.await;
    let stopped = sim.shutdown().await;
    served?;
    stopped
}

/// A simulator serving FC Data and FC Trading on free loopback ports until it is dropped: what
/// tests, benchmarks and tools of other crates start in-process.
pub struct Local {
    /// The simulator (its clock, generator and state).
    pub sim: Simulator,
    /// FC Data base URL, `http://127.0.0.1:<port>`.
    pub data_url: String,
    /// FC Trading (and plain-HTTP v3) base URL.
    pub trading_url: String,
    cancel: CancellationToken,
}

impl Local {
    /// Builds the simulated market of `config` and serves it.
    pub async fn start(config: crate::SimConfig) -> Result<Self, Error> {
        Self::serve(Simulator::new(config)?).await
    }

    /// Serves `sim` on two free loopback ports.
    pub async fn serve(sim: Simulator) -> Result<Self, Error> {
        let data = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let trading = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let data_url = format!("http://{}", data.local_addr()?);
        let trading_url = format!("http://{}", trading.local_addr()?);
        let cancel = CancellationToken::new();
        let served = serve_all(sim.clone(), data, trading, cancel.clone());
        tokio::spawn(async move {
            if let Err(e) = served.await {
                tracing::error!("fcsim: the local simulator stopped: {e}");
            }
        });
        Ok(Self {
            sim,
            data_url,
            trading_url,
            cancel,
        })
    }
}

impl Local {
    /// The `<PREFIX>__BROKER__...` settings (`broker::Settings`, generation v2) that point a
    /// service at this simulator with the demo keys: FC Data, and FC Trading with the demo
    /// trading key, its private key and PIN (`prefix` is the service's, e.g. `OMS`).
    pub fn v2_broker_env(&self, prefix: &str) -> Vec<(String, String)> {
        use crate::config::{
            DEMO_DATA_CONSUMER_ID, DEMO_DATA_CONSUMER_SECRET, DEMO_PIN, DEMO_PRIVATE_KEY_XML_B64,
            DEMO_TRADING_CONSUMER_ID, DEMO_TRADING_CONSUMER_SECRET,
        };
        [
            ("GENERATION", "v2"),
            ("DATA__URL", self.data_url.as_str()),
            ("DATA__HUB_URL", self.data_url.as_str()),
            ("DATA__CONSUMER_ID", DEMO_DATA_CONSUMER_ID),
            ("DATA__CONSUMER_SECRET", DEMO_DATA_CONSUMER_SECRET),
            ("TRADING__URL", self.trading_url.as_str()),
            ("TRADING__HUB_URL", self.trading_url.as_str()),
            ("TRADING__CONSUMER_ID", DEMO_TRADING_CONSUMER_ID),
            ("TRADING__CONSUMER_SECRET", DEMO_TRADING_CONSUMER_SECRET),
            ("TRADING__PRIVATE_KEY", DEMO_PRIVATE_KEY_XML_B64),
            ("TRADING__PIN", DEMO_PIN),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{prefix}__BROKER__{k}"), v.to_owned()))
        .collect()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Serves FC Data on `data` and FC Trading on `trading` until `cancel` fires.
pub async fn serve_all(
    sim: Simulator,
    data: TcpListener,
    trading: TcpListener,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let (a, b) = tokio::join!(
        serve(sim.clone(), data, cancel.clone()),
        serve_trading(sim, trading, cancel)
    );
    a.and(b)
}

/// Serves FastConnect v3 (REST and the `/ws/v3` stream) over TLS on `tls` until `cancel`
/// fires, with the simulator's self-signed certificate, written first to `cert_file` (a
/// client trusts the stream with it). v3 is also served in plain HTTP on the trading port;
/// the trading ticker runs there.
pub async fn serve_v3_tls(
    sim: Simulator,
    tls: TcpListener,
    cert_file: &std::path::Path,
    cancel: CancellationToken,
) -> Result<(), Error> {
    std::fs::write(cert_file, sim.v3_cert_pem())?;
    tracing::info!(cert = %cert_file.display(), port = tls.local_addr()?.port(), "fcsim: v3 over TLS (trust the certificate file, e.g. SSL_CERT_FILE)");
    let app = crate::v3::router().with_state(sim.core.clone());
    let limits = crate::http::Limits::of(&sim.core.config);
    crate::http::serve_tls(tls, app, limits, cancel, sim.core.v3_tls.clone()).await?;
    Ok(())
}
