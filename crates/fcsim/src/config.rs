//! Simulator configuration: seed, clock, universe, credentials and ports. `SimConfig::demo`
//! is what `qts sim` runs: the demo credentials are documented in `docs/simulator.md`.

use std::path::PathBuf;

use serde::Deserialize;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::tape::MarketModel;
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
    /// Sub-accounts this key trades (SSI convention: ending in `1` cash, `8` derivatives).
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

/// A simulated broker sub-account opened at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountConfig {
    /// Account number (`account` on the wire).
    pub id: String,
    /// Opening cash, VND.
    pub cash: i64,
    /// Opening settled holdings: `(symbol, shares)`. Unknown symbols are skipped with a
    /// warning.
    #[serde(default)]
    pub positions: Vec<(String, u64)>,
}

/// One FC Trading quota rule, as `rateLimit` returns it (§8).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RateRule {
    /// `*` (all), `get:*`, `post:*`, or `*:*/<api>` / `get:*/<api>` / `post:*/<api>`.
    pub endpoint: String,
    /// Window: `1s`, `5s`, `1m`, `1h`, `1d`.
    pub period: String,
    /// Calls admitted per window and consumer.
    pub limit: u32,
}

impl RateRule {
    /// The window length in milliseconds, if `period` is well-formed.
    pub fn period_ms(&self) -> Option<u64> {
        let p = self.period.trim();
        let split = p.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = p.split_at(split);
        let n: u64 = n.parse().ok()?;
        let unit_ms = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        n.checked_mul(unit_ms)
    }

    /// Whether the rule counts a call of `method` (`get`/`post`) to `api` (lower case).
    pub fn applies(&self, method: &str, api: &str) -> bool {
        let e = self.endpoint.trim().to_ascii_lowercase();
        if e == "*" {
            return true;
        }
        let (m, rest) = e.split_once(':').unwrap_or(("*", e.as_str()));
        if m != "*" && m != method {
            return false;
        }
        rest == "*" || rest.trim_start_matches("*/") == api
    }
}

/// Demo: cash account of the demo key.
pub const DEMO_CASH_ACCOUNT: &str = "0001001";
/// Demo: derivatives account of the demo key.
pub const DEMO_DERIVATIVES_ACCOUNT: &str = "0001008";

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
    /// Parameters of the generated market (returns, regimes, sectors, liquidity classes,
    /// intraday shape); every key optional (`docs/simulator.md`, "Market model").
    pub market: MarketModel,
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
    /// FC Trading quota rules, per consumer (§8).
    pub rate_limits: Vec<RateRule>,
    /// Also answer an order the exchange rules reject at entry with body status 400 and
    /// `"<ORD code>: <reason>"` (SSI answers 200 and reports it only as `orderError`).
    pub reject_in_response: bool,
    /// Directory of the durable FC Trading state (`trading-state.json`): engine, orders,
    /// positions, stream notices, used request ids and the simulated clock survive a
    /// restart. `None` keeps everything in memory (a restart starts from the configured
    /// accounts again).
    pub data_dir: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::demo()
    }
}

impl SimConfig {
    /// The demo configuration: seed 1, a Tuesday 09:00 in Hanoi, real time, the full
    /// universe, the demo keys and accounts, ports 18400/18401, 50 calls/s and 1,500/min.
    pub fn demo() -> Self {
        Self {
            seed: 1,
            start: datetime!(2025-06-10 09:00 +7),
            speed: 1.0,
            universe: UniverseSize::default(),
            history_days: 500,
            market: MarketModel::default(),
            data_consumers: vec![DataConsumer {
                consumer_id: DEMO_DATA_CONSUMER_ID.to_owned(),
                consumer_secret: DEMO_DATA_CONSUMER_SECRET.to_owned(),
            }],
            trading_consumers: vec![TradingConsumer {
                consumer_id: DEMO_TRADING_CONSUMER_ID.to_owned(),
                consumer_secret: DEMO_TRADING_CONSUMER_SECRET.to_owned(),
                public_key: DEMO_PUBLIC_KEY_PEM.to_owned(),
                pin: DEMO_PIN.to_owned(),
                accounts: vec![
                    AccountConfig {
                        id: DEMO_CASH_ACCOUNT.to_owned(),
                        cash: 2_000_000_000,
                        positions: vec![("SSI".to_owned(), 10_000), ("FPT".to_owned(), 5_000)],
                    },
                    AccountConfig {
                        id: DEMO_DERIVATIVES_ACCOUNT.to_owned(),
                        cash: 1_000_000_000,
                        positions: Vec::new(),
                    },
                ],
            }],
            token_lifetime_secs: 8 * 3600,
            daily_ohlc_max_days: 30,
            data_port: 18400,
            trading_port: 18401,
            reject_in_response: false,
            data_dir: None,
            rate_limits: vec![
                RateRule {
                    endpoint: "*".to_owned(),
                    period: "1s".to_owned(),
                    limit: 50,
                },
                RateRule {
                    endpoint: "*".to_owned(),
                    period: "1m".to_owned(),
                    limit: 1_500,
                },
            ],
        }
    }
}

/// Parses a `--start` value: an RFC 3339 instant such as `2025-06-10T09:00:00+07:00`.
pub fn parse_start(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(endpoint: &str, period: &str) -> RateRule {
        RateRule {
            endpoint: endpoint.to_owned(),
            period: period.to_owned(),
            limit: 1,
        }
    }

    #[test]
    fn rate_rule_periods_parse_in_ssi_units() {
        assert_eq!(rule("*", "1s").period_ms(), Some(1_000));
        assert_eq!(rule("*", "5s").period_ms(), Some(5_000));
        assert_eq!(rule("*", "1m").period_ms(), Some(60_000));
        assert_eq!(rule("*", "1h").period_ms(), Some(3_600_000));
        assert_eq!(rule("*", "1d").period_ms(), Some(86_400_000));
        assert_eq!(rule("*", "soon").period_ms(), None);
        assert_eq!(rule("*", "3w").period_ms(), None);
    }

    #[test]
    fn rate_rule_endpoints_match_method_and_api() {
        assert!(rule("*", "1s").applies("get", "orderbook"));
        assert!(rule("get:*", "1s").applies("get", "orderbook"));
        assert!(!rule("get:*", "1s").applies("post", "neworder"));
        assert!(rule("post:*", "1s").applies("post", "neworder"));
        assert!(rule("*:*/NewOrder", "1s").applies("post", "neworder"));
        assert!(!rule("*:*/NewOrder", "1s").applies("post", "cancelorder"));
    }

    #[test]
    fn start_parses_rfc3339() {
        assert_eq!(
            parse_start("2025-06-10T10:00:00+07:00").ok(),
            Some(datetime!(2025-06-10 10:00 +7))
        );
        assert!(parse_start("10/06/2025").is_err());
    }

    #[test]
    fn a_config_without_market_keys_gets_the_default_model_and_one_with_them_is_read() {
        let plain: SimConfig = serde_json::from_str(r#"{"seed": 7}"#).unwrap();
        assert_eq!(plain.seed, 7);
        assert_eq!(plain.market, MarketModel::default());
        let tuned: SimConfig = serde_json::from_str(
            r#"{"seed": 7, "market": {"regimes": {"calm_to_turbulent": 0.02}}}"#,
        )
        .unwrap();
        assert_eq!(tuned.market.regimes.calm_to_turbulent, 0.02);
        assert_eq!(tuned.market.stock, MarketModel::default().stock);
        assert!(
            serde_json::from_str::<SimConfig>(r#"{"market": {"regime": {}}}"#).is_err(),
            "a misspelt section is refused"
        );
    }

    #[test]
    fn demo_has_a_cash_and_a_derivatives_account() {
        let demo = SimConfig::demo();
        let ids: Vec<&str> = demo.trading_consumers[0]
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(ids, [DEMO_CASH_ACCOUNT, DEMO_DERIVATIVES_ACCOUNT]);
    }
}
