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

/// How a FastConnect v3 key receives its OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtpMethod {
    /// SMS/e-mail: `requestOtp` issues a 6-digit code (logged, [`crate::Simulator::pending_v3_otp`]).
    #[default]
    Sms,
    /// Smart OTP (push approval): `requestOtp` answers a `transactionId` the client polls
    /// `auth/token` with; the simulator approves it on the second poll (docs/simulator.md).
    Smart,
}

/// A FastConnect v3 API key the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct V3Consumer {
    /// `apiKey`.
    pub api_key: String,
    /// `apiSecret`.
    pub api_secret: String,
    /// Public half of the client's signing key (same forms as [`TradingConsumer::public_key`]).
    pub public_key: String,
    /// The FC Trading consumer (customer) whose accounts this key trades: v2 and v3 keys of
    /// one customer see the same accounts and orders.
    pub trading_consumer: String,
    /// How `requestOtp` delivers the OTP.
    #[serde(default)]
    pub otp: OtpMethod,
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
/// Demo: FastConnect v3 apiKey (trades the demo FC Trading consumer's accounts).
pub const DEMO_V3_API_KEY: &str = "demo-v3";
/// Demo: FastConnect v3 apiSecret.
pub const DEMO_V3_API_SECRET: &str = "demo-v3-secret";
/// Demo: a second FastConnect v3 apiKey on the same accounts, with Smart OTP (approved on
/// the second poll).
pub const DEMO_V3_SMART_API_KEY: &str = "demo-v3-smart";
/// Demo: its apiSecret.
pub const DEMO_V3_SMART_API_SECRET: &str = "demo-v3-smart-secret";
/// Demo: PIN.
pub const DEMO_PIN: &str = "123456";
/// Demo: the throwaway 1024-bit private key of the demo consumer, in SSI's base64 XML form
/// (never a real account key).
pub const DEMO_PRIVATE_KEY_XML_B64: &str = include_str!("../demo/demo_key.xml.b64");
/// Demo: its public half (PEM).
pub const DEMO_PUBLIC_KEY_PEM: &str = include_str!("../demo/demo_key_pub.pem");

/// Everything the simulator needs. Every key is optional (the demo's value when absent);
/// unknown keys are an error. [`SimConfig::validate`] checks the values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// FastConnect v3 keys (REST under `/api/v3` and the stream `/ws/v3`, on the trading
    /// port, and both over TLS on `v3_tls_port`).
    pub v3_consumers: Vec<V3Consumer>,
    /// Port of FastConnect v3 over TLS (`https://localhost:<port>/api/v3` and
    /// `wss://localhost:<port>/ws/v3`, with the self-signed certificate `qts sim` writes to
    /// `<data_dir or temp dir>/fcsim-v3-cert-<port>.pem`); 0 picks a free port.
    pub v3_tls_port: u16,
    /// Lifetime of a v3 refresh token, seconds.
    pub v3_refresh_lifetime_secs: i64,
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
    /// A file the simulator appends every OTP it "sends by SMS" to, one line each:
    /// `<consumer id or v3 API key> <otp>` (v2 GetOTP and v3 requestOtp). What a phone
    /// would receive, for scripts and SDK drivers that log in with an OTP; `None` writes
    /// OTPs to the log only.
    pub otp_outbox: Option<PathBuf>,
    /// Directory of the durable FC Trading state (`trading-state.json`): engine, orders,
    /// positions, stream notices, used request ids and the simulated clock survive a
    /// restart. `None` keeps everything in memory (a restart starts from the configured
    /// accounts again).
    pub data_dir: Option<PathBuf>,
    /// `fdatasync` the journal before acknowledging (survives a power cut, not only a
    /// crash or `kill -9`; costs a disk flush per batch of requests).
    pub journal_fsync: bool,
    /// Fold the journal into a new snapshot once it is this large.
    pub snapshot_journal_bytes: u64,
    /// Final client orders (orderHistory) and stream notices (NotifyID replay) are kept
    /// this many days, then dropped.
    pub retention_days: u32,
    /// Threads generating FC Data history at once (`0`: one less than the CPUs, at least
    /// one), so history requests never hold up trading.
    pub data_workers: usize,
    /// A connection that has not sent a whole request head within this is closed.
    pub header_read_timeout_ms: u64,
    /// Largest request body (REST), bytes; larger ones answer 413 in SSI's envelope.
    pub max_body_bytes: usize,
    /// Largest message (and frame) a hub client may send, bytes; larger ones close the
    /// connection with 1009, as SignalR does.
    pub hub_max_message_bytes: usize,
    /// Most symbols one FC Data hub connection may subscribe to, over all its channels.
    pub hub_max_symbols: usize,
    /// Most channel subscriptions (type and symbol list) on one FC Data hub connection.
    pub hub_max_subscriptions: usize,
    /// Lifetime of an OTP from GetOTP, seconds.
    pub otp_lifetime_secs: i64,
    /// Live tokens kept per consumer; the oldest is revoked past this.
    pub max_tokens_per_consumer: usize,
    /// Wrong PINs, OTPs or secrets in a row before a consumer is locked out.
    pub auth_max_failures: u32,
    /// How long a lockout lasts, seconds.
    pub auth_lockout_secs: u64,
    /// AccessToken and GetOTP calls admitted per consumer and minute.
    pub auth_calls_per_minute: u32,
    /// Cash advance fee per day until settlement, in parts per million of the amount.
    pub cash_advance_fee_ppm_per_day: u32,
}

/// A configuration value the simulator cannot run with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The speed or start cannot drive the simulated clock.
    #[error(transparent)]
    Clock(#[from] crate::clock::ClockError),
    /// A setting is out of range.
    #[error("{key} {problem}")]
    Invalid {
        /// The setting.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
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
            v3_consumers: vec![
                V3Consumer {
                    api_key: DEMO_V3_API_KEY.to_owned(),
                    api_secret: DEMO_V3_API_SECRET.to_owned(),
                    public_key: DEMO_PUBLIC_KEY_PEM.to_owned(),
                    trading_consumer: DEMO_TRADING_CONSUMER_ID.to_owned(),
                    otp: OtpMethod::Sms,
                },
                V3Consumer {
                    api_key: DEMO_V3_SMART_API_KEY.to_owned(),
                    api_secret: DEMO_V3_SMART_API_SECRET.to_owned(),
                    public_key: DEMO_PUBLIC_KEY_PEM.to_owned(),
                    trading_consumer: DEMO_TRADING_CONSUMER_ID.to_owned(),
                    otp: OtpMethod::Smart,
                },
            ],
            v3_tls_port: 18402,
            v3_refresh_lifetime_secs: 32 * 3600,
            token_lifetime_secs: 8 * 3600,
            daily_ohlc_max_days: 30,
            data_port: 18400,
            trading_port: 18401,
            reject_in_response: false,
            otp_outbox: None,
            data_dir: None,
            journal_fsync: false,
            snapshot_journal_bytes: 64 << 20,
            retention_days: 30,
            data_workers: 0,
            header_read_timeout_ms: 10_000,
            max_body_bytes: 64 << 10,
            hub_max_message_bytes: 64 << 10,
            hub_max_symbols: 2_000,
            hub_max_subscriptions: 64,
            otp_lifetime_secs: 300,
            max_tokens_per_consumer: 100,
            auth_max_failures: 5,
            auth_lockout_secs: 900,
            auth_calls_per_minute: 30,
            cash_advance_fee_ppm_per_day: 360,
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

impl SimConfig {
    /// Checks every value; the simulator runs only a configuration that passes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::clock::Clock::new(self.start, self.speed)?;
        let positive = |key: &str, v: u64| {
            if v == 0 {
                Err(invalid(key, "must be greater than 0"))
            } else {
                Ok(())
            }
        };
        positive("history_days", u64::from(self.history_days))?;
        if self.history_days > 10_000 {
            return Err(invalid("history_days", "must be at most 10000"));
        }
        if self.token_lifetime_secs <= 0 {
            return Err(invalid("token_lifetime_secs", "must be greater than 0"));
        }
        if self.otp_lifetime_secs <= 0 {
            return Err(invalid("otp_lifetime_secs", "must be greater than 0"));
        }
        if self.daily_ohlc_max_days <= 0 {
            return Err(invalid("daily_ohlc_max_days", "must be greater than 0"));
        }
        positive("retention_days", u64::from(self.retention_days))?;
        if self.retention_days > 3_650 {
            return Err(invalid("retention_days", "must be at most 3650"));
        }
        positive("snapshot_journal_bytes", self.snapshot_journal_bytes)?;
        positive("header_read_timeout_ms", self.header_read_timeout_ms)?;
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        if self.hub_max_message_bytes < 1024 {
            return Err(invalid("hub_max_message_bytes", "must be at least 1024"));
        }
        positive("hub_max_symbols", self.hub_max_symbols as u64)?;
        positive("hub_max_subscriptions", self.hub_max_subscriptions as u64)?;
        positive(
            "max_tokens_per_consumer",
            self.max_tokens_per_consumer as u64,
        )?;
        positive("auth_max_failures", u64::from(self.auth_max_failures))?;
        positive("auth_lockout_secs", self.auth_lockout_secs)?;
        positive(
            "auth_calls_per_minute",
            u64::from(self.auth_calls_per_minute),
        )?;
        if self.cash_advance_fee_ppm_per_day > 10_000 {
            return Err(invalid(
                "cash_advance_fee_ppm_per_day",
                "must be at most 10000 (1% a day)",
            ));
        }
        self.market
            .validate()
            .map_err(|e| invalid(format!("market.{}", e.key), e.problem))?;
        for (i, r) in self.rate_limits.iter().enumerate() {
            if r.period_ms().is_none_or(|ms| ms == 0) {
                return Err(invalid(
                    format!("rate_limits[{i}].period"),
                    format!("'{}' is not a period like 1s, 5s, 1m, 1h, 1d", r.period),
                ));
            }
            positive(&format!("rate_limits[{i}].limit"), u64::from(r.limit))?;
        }
        let mut ids = std::collections::HashSet::new();
        for (i, c) in self.data_consumers.iter().enumerate() {
            if c.consumer_id.is_empty() || c.consumer_secret.is_empty() {
                return Err(invalid(
                    format!("data_consumers[{i}]"),
                    "needs a consumer_id and a consumer_secret",
                ));
            }
            if !ids.insert(c.consumer_id.as_str()) {
                return Err(invalid(
                    format!("data_consumers[{i}].consumer_id"),
                    format!("'{}' appears twice", c.consumer_id),
                ));
            }
        }
        let mut ids = std::collections::HashSet::new();
        let mut accounts = std::collections::HashMap::new();
        for (i, c) in self.trading_consumers.iter().enumerate() {
            let key = |k: &str| format!("trading_consumers[{i}].{k}");
            if c.consumer_id.is_empty() || c.consumer_secret.is_empty() || c.pin.is_empty() {
                return Err(invalid(
                    format!("trading_consumers[{i}]"),
                    "needs a consumer_id, a consumer_secret and a pin",
                ));
            }
            if !ids.insert(c.consumer_id.as_str()) {
                return Err(invalid(
                    key("consumer_id"),
                    format!("'{}' appears twice", c.consumer_id),
                ));
            }
            for (k, a) in c.accounts.iter().enumerate() {
                if a.id.is_empty() || a.id.len() > 32 {
                    return Err(invalid(
                        key(&format!("accounts[{k}].id")),
                        "must be 1 to 32 characters",
                    ));
                }
                if a.cash < 0 {
                    return Err(invalid(
                        key(&format!("accounts[{k}].cash")),
                        "must not be negative",
                    ));
                }
                // An account with two owners would let one consumer see the other's orders.
                if let Some(other) = accounts.insert(a.id.as_str(), c.consumer_id.as_str()) {
                    return Err(invalid(
                        key(&format!("accounts[{k}].id")),
                        format!("account {} already belongs to consumer {other}", a.id),
                    ));
                }
            }
        }
        let mut keys = std::collections::HashSet::new();
        for (i, c) in self.live_v3_consumers().enumerate() {
            let key = |k: &str| format!("v3_consumers[{i}].{k}");
            if c.api_key.is_empty() || c.api_secret.is_empty() {
                return Err(invalid(
                    format!("v3_consumers[{i}]"),
                    "needs an api_key and an api_secret",
                ));
            }
            if !keys.insert(c.api_key.as_str()) {
                return Err(invalid(
                    key("api_key"),
                    format!("'{}' appears twice", c.api_key),
                ));
            }
            if !ids.contains(c.trading_consumer.as_str()) {
                return Err(invalid(
                    key("trading_consumer"),
                    format!("'{}' is not a trading consumer", c.trading_consumer),
                ));
            }
        }
        if self.v3_refresh_lifetime_secs <= self.token_lifetime_secs {
            return Err(invalid(
                "v3_refresh_lifetime_secs",
                "must be longer than token_lifetime_secs",
            ));
        }
        Ok(())
    }

    /// The v3 keys the simulator serves: the configured ones, less the demo keys when the
    /// demo FC Trading consumer they trade for is not configured (a configuration file with
    /// its own trading consumers and no `v3_consumers`).
    pub fn live_v3_consumers(&self) -> impl Iterator<Item = &V3Consumer> {
        let demo = self.v3_consumers == Self::demo().v3_consumers;
        self.v3_consumers.iter().filter(move |c| {
            !demo
                || self
                    .trading_consumers
                    .iter()
                    .any(|t| t.consumer_id == c.trading_consumer)
        })
    }

    /// Threads for FC Data history generation (`data_workers`, or one less than the CPUs).
    pub fn data_workers(&self) -> usize {
        if self.data_workers > 0 {
            return self.data_workers;
        }
        std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .max(1)
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
    fn v3_keys_must_name_a_trading_consumer_once() {
        let mut c = SimConfig::demo();
        assert!(c.validate().is_ok());
        c.v3_consumers[0].trading_consumer = "nobody".to_owned();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("v3_consumers[0].trading_consumer")
        );
        let mut c = SimConfig::demo();
        c.v3_consumers.push(c.v3_consumers[0].clone());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("appears twice")
        );
        let mut c = SimConfig::demo();
        c.v3_refresh_lifetime_secs = c.token_lifetime_secs;
        assert!(c.validate().is_err());
        // Own trading consumers and no v3 keys: the demo v3 keys are dropped.
        let mut c = SimConfig::demo();
        c.trading_consumers[0].consumer_id = "mine".to_owned();
        assert!(c.validate().is_ok());
        assert_eq!(c.live_v3_consumers().count(), 0);
        assert_eq!(SimConfig::demo().live_v3_consumers().count(), 2);
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
