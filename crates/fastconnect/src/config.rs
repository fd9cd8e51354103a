//! Configuration: hosts, credentials, limits. Every field is serde with a documented default
//! pointing at SSI's production hosts, so a service nests [`DataConfig`] / [`TradingConfig`] in
//! its `Settings` and only sets the credentials.
//!
//! Secrets are [`SecretString`]: `Debug` prints `[REDACTED]` and they are never logged.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// Production FC Data REST host.
pub const DEFAULT_DATA_URL: &str = "https://fc-data.ssi.com.vn";
/// Production FC Data streaming host (moved off `fc-data` in 2023).
pub const DEFAULT_DATA_HUB_URL: &str = "https://fc-datahub.ssi.com.vn";
/// Production FC Trading REST host.
pub const DEFAULT_TRADING_URL: &str = "https://fc-tradeapi.ssi.com.vn";
/// Production FC Trading streaming host.
pub const DEFAULT_TRADING_HUB_URL: &str = "https://fc-tradehub.ssi.com.vn";

/// One client-side quota rule: at most `limit` requests in any window of `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RateRule {
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length in milliseconds.
    pub period_ms: u64,
}

impl RateRule {
    /// The window as a `Duration`.
    pub fn period(&self) -> Duration {
        Duration::from_millis(self.period_ms)
    }
}

/// SSI's documented sample quota (`* 5 per 1s`, `* 30 per 5s`); ask `rateLimit` for yours.
pub fn default_rate_rules() -> Vec<RateRule> {
    vec![
        RateRule {
            limit: 5,
            period_ms: 1_000,
        },
        RateRule {
            limit: 30,
            period_ms: 5_000,
        },
    ]
}

/// Settings shared by the REST side of both APIs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// Timeout of one HTTP request. Default 10 000.
    pub timeout_ms: u64,
    /// Client-side quota, applied before each request. Default: 5 per 1 s and 30 per 5 s.
    pub rate_limits: Vec<RateRule>,
    /// A 429 whose `Retry-After` is at most this long is waited out and retried once; longer
    /// waits are returned as [`crate::Error::RateLimited`]. Default 5 000.
    pub max_retry_after_ms: u64,
    /// Renew a token when less than this remains before its `exp`. Default 600 (10 min).
    pub token_refresh_margin_secs: u64,
    /// Lifetime assumed for a token whose JWT has no readable `exp`. Default 3 600.
    pub fallback_token_lifetime_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            rate_limits: default_rate_rules(),
            max_retry_after_ms: 5_000,
            token_refresh_margin_secs: 600,
            fallback_token_lifetime_secs: 3_600,
        }
    }
}

/// Settings of a SignalR streaming connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StreamConfig {
    /// Events buffered between the socket and the consumer; when full, reading the socket
    /// pauses (backpressure). Default 4 096.
    pub channel_capacity: usize,
    /// First reconnect delay. Default 500.
    pub reconnect_initial_ms: u64,
    /// Longest reconnect delay (doubling from the initial one). Default 30 000.
    pub reconnect_max_ms: u64,
    /// Silence after which the socket is considered dead, when negotiate does not say
    /// (`KeepAliveTimeout`). Default 60 000.
    pub idle_timeout_ms: u64,
    /// Timeout of the negotiate/connect/start handshake. Default 15 000.
    pub connect_timeout_ms: u64,
    /// `clientProtocol` sent to the hub. Default "1.5".
    pub client_protocol: String,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            channel_capacity: 4_096,
            reconnect_initial_ms: 500,
            reconnect_max_ms: 30_000,
            idle_timeout_ms: 60_000,
            connect_timeout_ms: 15_000,
            client_protocol: "1.5".to_owned(),
        }
    }
}

/// FC Data (market data) client configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct DataConfig {
    /// REST host. Default [`DEFAULT_DATA_URL`].
    #[serde(default = "default_data_url")]
    pub url: String,
    /// Streaming hub host. Default [`DEFAULT_DATA_HUB_URL`].
    #[serde(default = "default_data_hub_url")]
    pub hub_url: String,
    /// ConsumerID of the FC Data key from iBoard ("API service"). Empty (the default) only
    /// when the tokens come from a [`crate::TokenProvider`].
    #[serde(default)]
    pub consumer_id: String,
    /// ConsumerSecret of the FC Data key (shown once by iBoard); empty as `consumer_id`.
    #[serde(default = "empty_secret")]
    pub consumer_secret: SecretString,
    /// REST behaviour.
    #[serde(default)]
    pub http: HttpConfig,
    /// Streaming behaviour.
    #[serde(default)]
    pub stream: StreamConfig,
}

impl DataConfig {
    /// A configuration for SSI production with the given credentials and all defaults.
    pub fn new(consumer_id: impl Into<String>, consumer_secret: SecretString) -> Self {
        Self {
            url: default_data_url(),
            hub_url: default_data_hub_url(),
            consumer_id: consumer_id.into(),
            consumer_secret,
            http: HttpConfig::default(),
            stream: StreamConfig::default(),
        }
    }
}

/// How FC Trading's AccessToken second factor is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorType {
    /// A PIN (`twoFactorType=0`): reusable, so the client can renew tokens on its own.
    Pin,
    /// An SMS/e-mail/Smart OTP (`twoFactorType=1`): each login needs a fresh code.
    Otp,
}

impl TwoFactorType {
    /// The wire value of `twoFactorType`.
    pub fn wire(self) -> u8 {
        match self {
            TwoFactorType::Pin => 0,
            TwoFactorType::Otp => 1,
        }
    }
}

/// FC Trading (orders, accounts) client configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct TradingConfig {
    /// REST host. Default [`DEFAULT_TRADING_URL`].
    #[serde(default = "default_trading_url")]
    pub url: String,
    /// Streaming hub host. Default [`DEFAULT_TRADING_HUB_URL`].
    #[serde(default = "default_trading_hub_url")]
    pub hub_url: String,
    /// ConsumerID of the FC Trading key from iBoard. Empty (the default) only when the tokens
    /// come from a [`crate::TokenProvider`] and nobody logs in here with an OTP.
    #[serde(default)]
    pub consumer_id: String,
    /// ConsumerSecret of the FC Trading key; empty as `consumer_id`.
    #[serde(default = "empty_secret")]
    pub consumer_secret: SecretString,
    /// The PrivateKey from iBoard: base64 of a .NET `<RSAKeyValue>` XML key as issued, or a
    /// PEM (PKCS#1 or PKCS#8) private key.
    pub private_key: SecretString,
    /// Second factor of this account. Default `pin`.
    #[serde(default = "default_two_factor")]
    pub two_factor: TwoFactorType,
    /// The trading PIN. When set with `two_factor = "pin"`, the client logs in (and renews)
    /// by itself with `isSave=true`; otherwise call [`crate::TradingClient::login`].
    #[serde(default)]
    pub pin: Option<SecretString>,
    /// `deviceId` sent with orders (MAC-like, required since spec 2.4).
    /// Default "00:00:00:00:00:00"; set your host's MAC.
    #[serde(default = "default_device_id")]
    pub device_id: String,
    /// `userAgent` sent with orders. Default "QTS".
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// `channelID` of new orders. Default "TA" (TradeAPI).
    #[serde(default = "default_channel")]
    pub channel_id: String,
    /// File where the trading stream records the last `NotifyID` it delivered, read back on
    /// start so a restarted process resumes where it stopped. Default none (in memory only).
    #[serde(default)]
    pub notify_id_file: Option<PathBuf>,
    /// REST behaviour.
    #[serde(default = "trading_http")]
    pub http: HttpConfig,
    /// Streaming behaviour.
    #[serde(default = "trading_stream")]
    pub stream: StreamConfig,
}

impl TradingConfig {
    /// A configuration for SSI production with the given credentials and all defaults.
    pub fn new(
        consumer_id: impl Into<String>,
        consumer_secret: SecretString,
        private_key: SecretString,
    ) -> Self {
        Self {
            url: default_trading_url(),
            hub_url: default_trading_hub_url(),
            consumer_id: consumer_id.into(),
            consumer_secret,
            private_key,
            two_factor: default_two_factor(),
            pin: None,
            device_id: default_device_id(),
            user_agent: default_user_agent(),
            channel_id: default_channel(),
            notify_id_file: None,
            http: trading_http(),
            stream: trading_stream(),
        }
    }
}

pub(crate) fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// Refuses a client that logs in itself without credentials.
pub(crate) fn require_credentials(
    what: &str,
    id: &str,
    secret: &SecretString,
) -> crate::Result<()> {
    use secrecy::ExposeSecret as _;
    if id.trim().is_empty() || secret.expose_secret().is_empty() {
        return Err(crate::Error::Config(format!(
            "{what} are empty: set them, or give the client a token provider"
        )));
    }
    Ok(())
}

fn default_data_url() -> String {
    DEFAULT_DATA_URL.to_owned()
}
fn default_data_hub_url() -> String {
    DEFAULT_DATA_HUB_URL.to_owned()
}
fn default_trading_url() -> String {
    DEFAULT_TRADING_URL.to_owned()
}
fn default_trading_hub_url() -> String {
    DEFAULT_TRADING_HUB_URL.to_owned()
}
fn default_two_factor() -> TwoFactorType {
    TwoFactorType::Pin
}
fn default_device_id() -> String {
    "00:00:00:00:00:00".to_owned()
}
fn default_user_agent() -> String {
    "QTS".to_owned()
}
fn default_channel() -> String {
    "TA".to_owned()
}
/// FC Trading tokens live 8 h (documented); fall back to that when `exp` is unreadable.
fn trading_http() -> HttpConfig {
    HttpConfig {
        fallback_token_lifetime_secs: 8 * 3_600,
        ..HttpConfig::default()
    }
}
/// SSI's trading clients send `clientProtocol=1.3`.
fn trading_stream() -> StreamConfig {
    StreamConfig {
        client_protocol: "1.3".to_owned(),
        ..StreamConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credentials_are_required_and_defaults_point_at_ssi() {
        let cfg: DataConfig = serde_json::from_value(serde_json::json!({
            "consumer_id": "id", "consumer_secret": "s3cret"
        }))
        .unwrap();
        assert_eq!(cfg.url, "https://fc-data.ssi.com.vn");
        assert_eq!(cfg.hub_url, "https://fc-datahub.ssi.com.vn");
        assert_eq!(cfg.http.rate_limits, default_rate_rules());
        let cfg: TradingConfig = serde_json::from_value(serde_json::json!({
            "consumer_id": "id", "consumer_secret": "s3cret", "private_key": "k3y", "pin": "1234"
        }))
        .unwrap();
        assert_eq!(cfg.url, "https://fc-tradeapi.ssi.com.vn");
        assert_eq!(cfg.hub_url, "https://fc-tradehub.ssi.com.vn");
        assert_eq!(cfg.two_factor, TwoFactorType::Pin);
        assert_eq!(cfg.stream.client_protocol, "1.3");
        assert_eq!(cfg.http.fallback_token_lifetime_secs, 28_800);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let cfg: TradingConfig = serde_json::from_value(serde_json::json!({
            "consumer_id": "id", "consumer_secret": "s3cret", "private_key": "k3y", "pin": "98765"
        }))
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"));
        assert!(!shown.contains("k3y"));
        assert!(!shown.contains("98765"));
        assert!(shown.contains("REDACTED"));
    }
}
