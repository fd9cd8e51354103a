//! Simulator configuration: seed, clock, universe, credentials and ports. `SimConfig::demo`
//! is what `qts sim` runs: the demo credentials are documented in `docs/simulator.md`.

use serde::Deserialize;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::universe::UniverseSize;

/// An FC Data API key the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DataConsumer {
    /// ConsumerID.
    pub consumer_id: String,
    /// ConsumerSecret.
    pub consumer_secret: String,
}

/// An FC Trading API key the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TradingConsumer {
    /// ConsumerID.
    pub consumer_id: String,
    /// ConsumerSecret.
    pub consumer_secret: String,
    /// Public half of the client's signing key: PEM (public or private), SSI's base64
    /// .NET XML (`<RSAKeyValue>`), or raw XML.
    pub public_key: String,
    /// PIN accepted with `twoFactorType = 0`.
    pub pin: String,
}

/// Demo: FC Data ConsumerID.
pub const DEMO_DATA_CONSUMER_ID: &str = "demo-data";
/// Demo: FC Data ConsumerSecret.
pub const DEMO_DATA_CONSUMER_SECRET: &str = "demo-data-secret";
/// Demo: FC Trading ConsumerID.
pub const DEMO_TRADING_CONSUMER_ID: &str = "demo-trading";
/// Demo: FC Trading ConsumerSecret.
pub const DEMO_TRADING_CONSUMER_SECRET: &str = "demo-trading-secret";
/// Demo: PIN.
pub const DEMO_PIN: &str = "123456";
/// Demo: the throwaway 1024-bit private key of the demo consumer, in SSI's base64 XML form
/// (never a real account key).
pub const DEMO_PRIVATE_KEY_XML_B64: &str = include_str!("../demo/demo_key.xml.b64");
/// Demo: its public half (PEM).
pub const DEMO_PUBLIC_KEY_PEM: &str = include_str!("../demo/demo_key_pub.pem");

/// Everything the simulator needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Seed of every generated number.
    pub seed: u64,
    /// Simulated instant at start-up.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// Simulated seconds per wall-clock second (1 = real time).
    pub speed: f64,
    /// Listed stocks per exchange.
    pub universe: UniverseSize,
    /// Trading days of history before the start date.
    pub history_days: u32,
    /// FC Data keys.
    pub data_consumers: Vec<DataConsumer>,
    /// FC Trading keys.
    pub trading_consumers: Vec<TradingConsumer>,
    /// Lifetime of issued tokens, seconds (SSI documents 8 h for trading).
    pub token_lifetime_secs: i64,
    /// Longest `DailyOhlc` range in calendar days (SSI PDF: 30).
    pub daily_ohlc_max_days: i64,
    /// FC Data port (REST and hub).
    pub data_port: u16,
    /// FC Trading port (REST and hub).
    pub trading_port: u16,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::demo()
    }
}

impl SimConfig {
    /// The demo configuration: seed 1, a Tuesday 09:00 in Hanoi, real time, the full
    /// universe, the demo keys, ports 18400/18401.
    pub fn demo() -> Self {
        Self {
            seed: 1,
            start: datetime!(2025-06-10 09:00 +7),
            speed: 1.0,
            universe: UniverseSize::default(),
            history_days: 500,
            data_consumers: vec![DataConsumer {
                consumer_id: DEMO_DATA_CONSUMER_ID.to_owned(),
                consumer_secret: DEMO_DATA_CONSUMER_SECRET.to_owned(),
            }],
            trading_consumers: vec![TradingConsumer {
                consumer_id: DEMO_TRADING_CONSUMER_ID.to_owned(),
                consumer_secret: DEMO_TRADING_CONSUMER_SECRET.to_owned(),
                public_key: DEMO_PUBLIC_KEY_PEM.to_owned(),
                pin: DEMO_PIN.to_owned(),
            }],
            token_lifetime_secs: 8 * 3600,
            daily_ohlc_max_days: 30,
            data_port: 18400,
            trading_port: 18401,
        }
    }
}
