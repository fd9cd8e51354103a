//! v3 configuration: one REST host and one stream host, one API key. Every field but the
//! credentials has a default pointing at SSI production.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{HttpConfig, RateRule};
use crate::error::{Error, Result};

/// Production REST host (auth, data, trading).
pub const DEFAULT_API_URL: &str = "https://api.ssi.com.vn";
/// Production stream (market data and account events).
pub const DEFAULT_STREAM_URL: &str = "wss://stream.ssi.com.vn/ws/v3";

/// FastConnect v3 client configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// REST base URL. Default [`DEFAULT_API_URL`]. `http://` is allowed (simulator).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Stream URL. Default [`DEFAULT_STREAM_URL`]. `ws://` is allowed (simulator).
    #[serde(default = "default_stream_url")]
    pub stream_url: String,
    /// API key from the SSI developer portal.
    pub api_key: String,
    /// API secret from the portal. Empty (the default) only when the tokens come from a
    /// [`crate::TokenProvider`] and nobody logs in here with an OTP.
    #[serde(default = "crate::config::empty_secret")]
    pub api_secret: SecretString,
    /// Private key for `X-Signature` (base64 .NET XML as issued, or PEM). Needed only for
    /// trading ([`crate::v3::Client::trading`]).
    #[serde(default)]
    pub private_key: Option<SecretString>,
    /// Client id, sent as `clientId` on accountBalance/position.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Extra trusted CA certificates (PEM text, or a path to a PEM file) for REST and the
    /// stream, beside the public web roots: e.g. the simulator's self-signed CA.
    #[serde(default)]
    pub extra_ca_pem: Option<String>,
    /// `deviceId` sent with orders. Default "QTS-0000000000000000".
    #[serde(default = "default_device_id")]
    pub device_id: String,
    /// `userAgent` inside order bodies. Default "QTS".
    #[serde(default = "default_order_user_agent")]
    pub order_user_agent: String,
    /// HTTP `User-Agent` header. SSI's gateway firewall refuses library agents on some
    /// paths (SDK 3.3.0 notes), so the default is a browser string like the SDK's.
    #[serde(default = "default_http_user_agent")]
    pub http_user_agent: String,
    /// Without a session, log in without OTP (data-only scope) on first use. Default true.
    #[serde(default = "default_true")]
    pub auto_data_login: bool,
    /// Smart-OTP polling interval. Default 5 000 (as the SDK).
    #[serde(default = "default_otp_poll_interval_ms")]
    pub otp_poll_interval_ms: u64,
    /// Longest Smart-OTP wait. Default 60 000 (as the SDK).
    #[serde(default = "default_otp_poll_max_wait_ms")]
    pub otp_poll_max_wait_ms: u64,
    /// REST behaviour. Defaults: 10 req/s (the SDK's self-throttle), 30 s longest honoured
    /// `Retry-After`, tokens renewed 60 s before expiry.
    #[serde(default = "default_http")]
    pub http: HttpConfig,
    /// Stream behaviour.
    #[serde(default)]
    pub stream: StreamConfig,
}

/// v3 stream behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StreamConfig {
    /// Events buffered for the consumer. Default 4 096.
    pub channel_capacity: usize,
    /// First reconnect delay. Default 500.
    pub reconnect_initial_ms: u64,
    /// Longest reconnect delay. Default 60 000 (SDK).
    pub reconnect_max_ms: u64,
    /// Wait after the server refused a socket with 429 (more than 10 sockets). Default 30 000.
    pub rate_limited_backoff_ms: u64,
    /// Interval of `ping_pong` heartbeats. Default 15 000.
    pub heartbeat_interval_ms: u64,
    /// Silence (no frame at all) after which the socket is considered dead. Default 45 000.
    pub idle_timeout_ms: u64,
    /// Timeout of the TCP/TLS/WebSocket handshake. Default 15 000.
    pub connect_timeout_ms: u64,
    /// Largest frame sent; SSI's limit is 4 096 bytes. Default 4 000 (SDK).
    pub max_frame_bytes: usize,
    /// Re-open the socket this long before the token expires (SSI checks the JWT only at
    /// connect). Default 60.
    pub token_cycle_lead_secs: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            channel_capacity: 4_096,
            reconnect_initial_ms: 500,
            reconnect_max_ms: 60_000,
            rate_limited_backoff_ms: 30_000,
            heartbeat_interval_ms: 15_000,
            idle_timeout_ms: 45_000,
            connect_timeout_ms: 15_000,
            max_frame_bytes: 4_000,
            token_cycle_lead_secs: 60,
        }
    }
}

impl Config {
    /// A configuration for SSI production with the given credentials and all defaults.
    pub fn new(api_key: impl Into<String>, api_secret: SecretString) -> Self {
        Self {
            api_url: default_api_url(),
            stream_url: default_stream_url(),
            api_key: api_key.into(),
            api_secret,
            private_key: None,
            client_id: None,
            extra_ca_pem: None,
            device_id: default_device_id(),
            order_user_agent: default_order_user_agent(),
            http_user_agent: default_http_user_agent(),
            auto_data_login: true,
            otp_poll_interval_ms: default_otp_poll_interval_ms(),
            otp_poll_max_wait_ms: default_otp_poll_max_wait_ms(),
            http: default_http(),
            stream: StreamConfig::default(),
        }
    }

    pub(crate) fn otp_poll_interval(&self) -> Duration {
        Duration::from_millis(self.otp_poll_interval_ms)
    }

    pub(crate) fn otp_poll_max_wait(&self) -> Duration {
        Duration::from_millis(self.otp_poll_max_wait_ms)
    }

    /// The extra CA PEM text (read from the file when a path was given).
    pub(crate) fn extra_ca(&self) -> Result<Option<Vec<u8>>> {
        let Some(given) = self.extra_ca_pem.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if given.is_empty() {
            return Ok(None);
        }
        if given.starts_with("-----BEGIN") {
            return Ok(Some(given.as_bytes().to_vec()));
        }
        std::fs::read(given)
            .map(Some)
            .map_err(|e| Error::Config(format!("extra_ca_pem {given:?}: {e}")))
    }
}

fn default_api_url() -> String {
    DEFAULT_API_URL.to_owned()
}
fn default_stream_url() -> String {
    DEFAULT_STREAM_URL.to_owned()
}
fn default_device_id() -> String {
    "QTS-0000000000000000".to_owned()
}
fn default_order_user_agent() -> String {
    "QTS".to_owned()
}
fn default_http_user_agent() -> String {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_otp_poll_interval_ms() -> u64 {
    5_000
}
fn default_otp_poll_max_wait_ms() -> u64 {
    60_000
}
fn default_http() -> HttpConfig {
    HttpConfig {
        rate_limits: vec![RateRule {
            limit: 10,
            period_ms: 1_000,
        }],
        max_retry_after_ms: 30_000,
        token_refresh_margin_secs: 60,
        ..HttpConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credentials_are_required() {
        let cfg: Config = serde_json::from_value(serde_json::json!({
            "api_key": "k", "api_secret": "s3cret"
        }))
        .unwrap();
        assert_eq!(cfg.api_url, DEFAULT_API_URL);
        assert_eq!(cfg.stream_url, DEFAULT_STREAM_URL);
        assert_eq!(cfg.http.rate_limits.len(), 1);
        assert_eq!(cfg.stream.max_frame_bytes, 4_000);
        assert!(cfg.auto_data_login);
        assert!(!format!("{cfg:?}").contains("s3cret"));
        assert!(cfg.extra_ca().unwrap().is_none());
    }

    #[test]
    fn a_missing_ca_file_is_a_config_error() {
        let mut cfg = Config::new("k", "s".to_owned().into());
        cfg.extra_ca_pem = Some("/nonexistent/ca.pem".to_owned());
        assert!(matches!(cfg.extra_ca(), Err(Error::Config(_))));
    }
}
