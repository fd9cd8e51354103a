//! Settings of the oms service: the shared sections
//! (`crates/common-settings/config/default.toml`) and its own [`Sections`], layered and validated
//! together as `common::settings` describes.

use serde::Deserialize;

/// The oms service's own sections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The broker orders go through (`broker::Settings` with trading credentials). Absent: the
    /// service serves stored orders and refuses new ones.
    #[serde(default, deserialize_with = "broker::settings::optional_from_layers")]
    pub broker: Option<broker::Settings>,
    /// How orders are handled.
    pub orders: OrderSettings,
    /// The pre-trade check of the risk service.
    pub risk: RiskSettings,
    /// Where VWAP orders read their volume profile.
    pub vwap: VwapSettings,
}

/// Where VWAP orders read their volume profile: the historical service (at `peers.historical`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VwapSettings {
    /// Trading days of one-minute bars the profile is built from.
    pub days: u32,
    /// Longest wait for the bars; after it the VWAP order is refused.
    pub timeout_ms: u64,
}

/// The pre-trade check of the risk service (at `peers.risk`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSettings {
    /// Check every order with the risk service before it is sent. Off, orders go to the broker
    /// with only the broker's and the exchange's own checks.
    pub enabled: bool,
    /// Longest wait for a verdict; after it the order is rejected (the OMS fails closed).
    pub timeout_ms: u64,
}

/// How orders are handled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettings {
    /// Broker sub-accounts traded and followed: a list, or one string with commas (what an
    /// environment variable can hold: `OMS__ORDERS__ACCOUNTS=0001001,0001008`).
    #[serde(deserialize_with = "accounts")]
    pub accounts: Vec<String>,
    /// Longest wait for one broker call.
    pub broker_timeout_ms: u64,
    /// How often unknown outcomes are asked about again.
    pub confirm_interval_ms: u64,
    /// How often algorithmic orders look whether a slice is due.
    pub algo_interval_ms: u64,
    /// How old an order never sent may be and still be sent on restart.
    pub resend_window_secs: u64,
    /// First wait before reopening the account stream; doubles up to `reconnect_max_ms`.
    pub reconnect_min_ms: u64,
    /// Longest wait before reopening the account stream.
    pub reconnect_max_ms: u64,
    /// Most orders one list call answers.
    pub max_list: u32,
    /// How often each account's NAV is valued and kept (seconds; 0: never).
    pub nav_interval_secs: u64,
    /// How often the broker's view of each account is published on `oms.account.v1` (seconds;
    /// 0: never). An account whose orders or fills changed is published within a second too.
    pub account_interval_secs: u64,
}

/// Reads `orders.accounts` from the loader's values, refusing an account the loader read as a
/// number (its leading zeros are gone: SSI's `0001001` would become `1001`).
fn accounts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::de::Error as _;
    let value = config::Value::deserialize(d)?;
    let as_text = |v: config::Value| {
        if let config::ValueKind::String(s) = v.kind {
            return Ok(s);
        }
        Err(D::Error::custom(format!(
            "orders.accounts: {v} is not text; write accounts as strings (\"0001001\"), \
             or in an environment variable with a comma (OMS__ORDERS__ACCOUNTS=0001001,)"
        )))
    };
    let items = if let config::ValueKind::Array(items) = value.kind {
        items
            .into_iter()
            .map(as_text)
            .collect::<Result<Vec<_>, _>>()?
    } else {
        as_text(value)?.split(',').map(str::to_owned).collect()
    };
    Ok(items
        .into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect())
}

impl common::settings::Sections for Sections {
    fn check(&self, problems: &mut Vec<String>) {
        if !(1..=250).contains(&self.vwap.days) {
            problems.push("vwap.days must be between 1 and 250".to_owned());
        }
        if !(100..=120_000).contains(&self.vwap.timeout_ms) {
            problems.push("vwap.timeout_ms must be between 100 and 120000".to_owned());
        }
        let o = &self.orders;
        for a in &o.accounts {
            if let Err(e) = crate::domain::check_account(a) {
                problems.push(format!("orders.accounts: {e}"));
            }
        }
        if !(100..=300_000).contains(&o.broker_timeout_ms) {
            problems.push("orders.broker_timeout_ms must be between 100 and 300000".to_owned());
        }
        if !(10..=600_000).contains(&o.confirm_interval_ms) {
            problems.push("orders.confirm_interval_ms must be between 10 and 600000".to_owned());
        }
        if !(10..=60_000).contains(&o.algo_interval_ms) {
            problems.push("orders.algo_interval_ms must be between 10 and 60000".to_owned());
        }
        if o.nav_interval_secs > 86_400 {
            problems.push("orders.nav_interval_secs must be at most 86400".to_owned());
        }
        if o.account_interval_secs > 3_600 {
            problems.push("orders.account_interval_secs must be at most 3600".to_owned());
        }
        if o.resend_window_secs > 86_400 {
            problems.push("orders.resend_window_secs must be at most 86400".to_owned());
        }
        if o.reconnect_min_ms == 0 || o.reconnect_max_ms < o.reconnect_min_ms {
            problems.push(
                "orders.reconnect_min_ms must be at least 1 and at most orders.reconnect_max_ms"
                    .to_owned(),
            );
        }
        if !(10..=60_000).contains(&self.risk.timeout_ms) {
            problems.push("risk.timeout_ms must be between 10 and 60000".to_owned());
        }
        if !(1..=10_000).contains(&o.max_list) {
            problems.push("orders.max_list must be between 1 and 10000".to_owned());
        }
    }
}

/// The service's settings: the shared ones (`settings.http`, `settings.database`, ...) and its
/// own (`settings.own`).
pub type Settings = common::settings::Settings<Sections>;

/// This service's compiled-in defaults (`config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, common::settings::Error> {
        Settings::load_from(
            crate::SPEC,
            DEFAULTS,
            &common::settings::Sources {
                file: None,
                overlay: None,
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            },
        )
    }

    #[test]
    fn defaults_load_without_a_broker_and_bad_values_are_named() {
        let s = load(&[]).unwrap();
        assert!(s.own.broker.is_none());
        assert!(s.own.orders.accounts.is_empty());
        let err = load(&[("OMS__ORDERS__BROKER_TIMEOUT_MS", "5")]).unwrap_err();
        assert!(
            err.to_string().contains("orders.broker_timeout_ms"),
            "{err}"
        );
        let err = load(&[("OMS__ORDERS__MAX_LIST", "0")]).unwrap_err();
        assert!(err.to_string().contains("orders.max_list"), "{err}");
    }

    #[test]
    fn accounts_come_from_the_environment_with_their_leading_zeros() {
        let s = load(&[("OMS__ORDERS__ACCOUNTS", "0001001, 0001008")]).unwrap();
        assert_eq!(s.own.orders.accounts, ["0001001", "0001008"]);
        let s = load(&[("OMS__ORDERS__ACCOUNTS", "0001001,")]).unwrap();
        assert_eq!(s.own.orders.accounts, ["0001001"]);
        // Alone, the loader reads it as the number 1001: refused, not truncated.
        let err = load(&[("OMS__ORDERS__ACCOUNTS", "0001001")]).unwrap_err();
        assert!(err.to_string().contains("not text"), "{err}");
        let err = load(&[("OMS__ORDERS__ACCOUNTS", "0001-001,")]).unwrap_err();
        assert!(err.to_string().contains("orders.accounts"), "{err}");
    }
}
