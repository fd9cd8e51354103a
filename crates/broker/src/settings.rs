//! Which generation runs, and its credentials: the one serde settings type of the broker.
//!
//! ```toml
//! generation = "v2"
//! [data]                      # fastconnect::DataConfig
//! consumer_id = "..."
//! consumer_secret = "..."
//! [trading]                   # fastconnect::TradingConfig; omit for data only
//! consumer_id = "..."
//! consumer_secret = "..."
//! private_key = "<base64 RSAKeyValue>"
//! pin = "..."
//! ```
//!
//! ```toml
//! generation = "v3"           # the keys of fastconnect::v3::Config, flattened
//! api_key = "..."
//! api_secret = "..."
//! private_key = "..."         # omit for data only
//! ```
//!
//! Secrets are `secrecy::SecretString` in the fastconnect configurations: never printed.
//!
//! `tokens = "config"` (either generation) makes the service take its SSI access tokens from
//! the config service instead of logging in itself; the credentials may then be left out
//! (the v2 trading key and the v3 private key are still needed to sign orders):
//!
//! ```toml
//! generation = "v2"
//! tokens = "config"
//! [data]
//! url = "https://fc-data.ssi.com.vn"
//! ```

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// The broker settings: `generation` picks the adapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "generation", rename_all = "lowercase")]
pub enum Settings {
    /// FastConnect v2.
    V2(V2Settings),
    /// FastConnect v3.
    V3(V3Settings),
}

impl Settings {
    /// Where the access tokens come from.
    pub fn tokens(&self) -> Tokens {
        match self {
            Settings::V2(s) => s.tokens,
            Settings::V3(s) => s.tokens,
        }
    }
}

/// Where a broker's SSI access tokens come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tokens {
    /// The clients log in with their own credentials.
    #[default]
    Own,
    /// The config service gives them (`crate::connect_with` with its token provider).
    Config,
}

/// FastConnect v2: two keys (FC Data and FC Trading), each with its own hosts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V2Settings {
    /// Where the access tokens come from.
    #[serde(default)]
    pub tokens: Tokens,
    /// FC Data.
    pub data: fastconnect::DataConfig,
    /// FC Trading; `None` for a data-only broker.
    #[serde(default)]
    pub trading: Option<fastconnect::TradingConfig>,
}

/// FastConnect v3: one API key for data and trading.
#[derive(Debug, Clone, Deserialize)]
pub struct V3Settings {
    /// Where the access tokens come from.
    #[serde(default)]
    pub tokens: Tokens,
    /// The v3 client configuration; without `private_key` the broker is data-only.
    #[serde(flatten)]
    pub client: fastconnect::v3::Config,
}

/// Reads an optional `[broker]` section of a service's layered settings (the `config` crate's
/// values: files, the `qts up` overlay, environment variables), for
/// `#[serde(default, deserialize_with = "broker::settings::optional_from_layers")]`.
///
/// In two steps: `generation`, then that generation's settings read straight from the loader's
/// values. Deriving through the internally tagged [`Settings`] would read through serde's
/// buffer, which keeps a value's parsed type, so an environment value that looks like a number
/// (`INGESTION__BROKER__DATA__CONSUMER_ID=12345`) would fail to read as text; read directly,
/// the loader turns it back into text where a string is expected.
pub fn optional_from_layers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Settings>, D::Error> {
    let Some(value) = Option::<config::Value>::deserialize(d)? else {
        return Ok(None);
    };
    let mut table = value.into_table().map_err(D::Error::custom)?;
    let generation = table
        .remove("generation")
        .ok_or_else(|| D::Error::custom("broker.generation is required (\"v2\" or \"v3\")"))?
        .into_string()
        .map_err(D::Error::custom)?;
    let tokens = match table.remove("tokens") {
        None => Tokens::Own,
        Some(v) => match v.into_string().map_err(D::Error::custom)?.trim() {
            "own" => Tokens::Own,
            "config" => Tokens::Config,
            other => {
                return Err(D::Error::custom(format!(
                    "broker.tokens {other:?} is neither \"own\" nor \"config\""
                )));
            }
        },
    };
    let rest = config::Value::new(None, config::ValueKind::Table(table));
    let settings = match generation.trim().to_ascii_lowercase().as_str() {
        "v2" => rest
            .try_deserialize::<V2Settings>()
            .map(|s| Settings::V2(V2Settings { tokens, ..s }))
            .map_err(D::Error::custom),
        "v3" => rest
            .try_deserialize::<fastconnect::v3::Config>()
            .map(|client| Settings::V3(V3Settings { tokens, client }))
            .map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "broker.generation {other:?} is neither \"v2\" nor \"v3\""
        ))),
    };
    settings.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generation_key_picks_the_adapter() {
        let v2: Settings = toml::from_str(
            r#"
            generation = "v2"
            [data]
            consumer_id = "d"
            consumer_secret = "ds"
            [trading]
            consumer_id = "t"
            consumer_secret = "ts"
            private_key = "k"
            pin = "123456"
            "#,
        )
        .unwrap();
        let Settings::V2(v2) = v2 else {
            panic!("expected v2")
        };
        assert_eq!(v2.data.consumer_id, "d");
        assert_eq!(v2.trading.unwrap().consumer_id, "t");

        let v3: Settings = toml::from_str(
            r#"
            generation = "v3"
            api_key = "key"
            api_secret = "secret"
            api_url = "http://127.0.0.1:1"
            "#,
        )
        .unwrap();
        let Settings::V3(v3) = v3 else {
            panic!("expected v3")
        };
        assert_eq!(v3.client.api_key, "key");
        assert_eq!(v3.client.api_url, "http://127.0.0.1:1");
        assert!(v3.client.private_key.is_none());
        assert!(format!("{:?}", v3.client.api_secret).contains("REDACTED"));

        let bad = toml::from_str::<Settings>("generation = \"v4\"").unwrap_err();
        assert!(bad.to_string().contains("v4"), "{bad}");
    }

    #[test]
    fn connect_builds_data_only_and_trading_brokers() {
        let v3: Settings =
            toml::from_str("generation = \"v3\"\napi_key = \"key\"\napi_secret = \"secret\"")
                .unwrap();
        let b = crate::connect(v3).unwrap();
        assert_eq!(b.generation, crate::Generation::V3);
        assert!(b.trading.is_none());
        assert!(b.v3_client.is_some());
        assert_eq!(b.market_data.generation(), crate::Generation::V3);
    }
}
