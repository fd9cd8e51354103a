//! Security status ladder and its trading effects (reference §11.2).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::venue::Exchange;

/// Escalation ladder of a security's status (reference §11.2, §13), mildest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityStatus {
    /// Trades normally.
    Normal,
    /// Cảnh báo: trades normally; not marginable; not index-eligible.
    Warning,
    /// Kiểm soát: trades normally \[S\]; not marginable.
    Controlled,
    /// Kiểm soát đặc biệt: effect per exchange notice \[U\]; see
    /// [`StatusRules::special_control_treated_as`].
    SpecialControl,
    /// Hạn chế giao dịch: HOSE call auctions only (§2.2); HNX/UPCoM on restricted weekdays.
    Restricted,
    /// Tạm ngừng: no trading.
    Suspended,
    /// Delisted: no trading.
    Delisted,
}

impl SecurityStatus {
    /// Every status, mildest first.
    pub const ALL: [SecurityStatus; 7] = [
        SecurityStatus::Normal,
        SecurityStatus::Warning,
        SecurityStatus::Controlled,
        SecurityStatus::SpecialControl,
        SecurityStatus::Restricted,
        SecurityStatus::Suspended,
        SecurityStatus::Delisted,
    ];

    /// The serde (and wire) name: `normal`, `special_control`, ...
    pub const fn name(self) -> &'static str {
        match self {
            SecurityStatus::Normal => "normal",
            SecurityStatus::Warning => "warning",
            SecurityStatus::Controlled => "controlled",
            SecurityStatus::SpecialControl => "special_control",
            SecurityStatus::Restricted => "restricted",
            SecurityStatus::Suspended => "suspended",
            SecurityStatus::Delisted => "delisted",
        }
    }

    /// The status of a serde name (any case, trimmed).
    pub fn parse(text: &str) -> Option<SecurityStatus> {
        let t = text.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|s| s.name() == t)
    }
}

impl fmt::Display for SecurityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecurityStatus::Normal => "normal",
            SecurityStatus::Warning => "warning",
            SecurityStatus::Controlled => "controlled",
            SecurityStatus::SpecialControl => "special control",
            SecurityStatus::Restricted => "restricted",
            SecurityStatus::Suspended => "suspended",
            SecurityStatus::Delisted => "delisted",
        })
    }
}

/// The trading effects of a status on one exchange (reference §11.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEffects {
    /// Orders may be placed at all.
    pub tradable: bool,
    /// Eligible as margin collateral (warning and worse are not, §7.2).
    pub marginable: bool,
    /// Eligible for index inclusion.
    pub index_eligible: bool,
    /// Restricted trading: HOSE only in call auctions with round lots (§2.2); HNX/UPCoM only
    /// on the restricted weekdays (§2.3).
    pub restricted: bool,
}

/// \[U\] status facts, with defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusRules {
    /// How "special control" trades: its effect is per exchange notice (§11.2 \[U\]). Default
    /// `restricted`, the conservative reading.
    pub special_control_treated_as: SecurityStatus,
}

impl Default for StatusRules {
    fn default() -> Self {
        Self {
            special_control_treated_as: SecurityStatus::Restricted,
        }
    }
}

impl StatusRules {
    /// The status with `SpecialControl` resolved per configuration.
    pub fn effective(&self, status: SecurityStatus) -> SecurityStatus {
        if status != SecurityStatus::SpecialControl {
            return status;
        }
        if self.special_control_treated_as == SecurityStatus::SpecialControl {
            // Guard against a self-referential configuration.
            SecurityStatus::Restricted
        } else {
            self.special_control_treated_as
        }
    }

    /// Whether restricted-trading rules apply (reference §2.2, §11.2).
    pub fn is_restricted(&self, status: SecurityStatus) -> bool {
        self.effective(status) == SecurityStatus::Restricted
    }

    /// The effects of `status` on `exchange` (reference §11.2).
    pub fn effects(&self, _exchange: Exchange, status: SecurityStatus) -> StatusEffects {
        let s = self.effective(status);
        StatusEffects {
            tradable: !matches!(s, SecurityStatus::Suspended | SecurityStatus::Delisted),
            marginable: s == SecurityStatus::Normal,
            index_eligible: s == SecurityStatus::Normal,
            restricted: s == SecurityStatus::Restricted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_is_ordered_mildest_first() {
        assert!(SecurityStatus::Normal < SecurityStatus::Warning);
        assert!(SecurityStatus::Warning < SecurityStatus::Controlled);
        assert!(SecurityStatus::Restricted < SecurityStatus::Suspended);
        assert!(SecurityStatus::Suspended < SecurityStatus::Delisted);
    }

    #[test]
    fn effects_follow_the_reference_table() {
        let r = StatusRules::default();
        let e = |s| r.effects(Exchange::Hose, s);
        assert_eq!(
            e(SecurityStatus::Normal),
            StatusEffects {
                tradable: true,
                marginable: true,
                index_eligible: true,
                restricted: false
            }
        );
        assert!(e(SecurityStatus::Warning).tradable);
        assert!(!e(SecurityStatus::Warning).marginable);
        assert!(e(SecurityStatus::Controlled).tradable);
        assert!(!e(SecurityStatus::Controlled).marginable);
        assert!(e(SecurityStatus::Restricted).restricted);
        assert!(!e(SecurityStatus::Suspended).tradable);
        assert!(!e(SecurityStatus::Delisted).tradable);
    }

    #[test]
    fn special_control_is_configurable() {
        let r = StatusRules::default();
        assert!(r.is_restricted(SecurityStatus::SpecialControl));
        let r = StatusRules {
            special_control_treated_as: SecurityStatus::Controlled,
        };
        assert!(!r.is_restricted(SecurityStatus::SpecialControl));
        let loop_cfg = StatusRules {
            special_control_treated_as: SecurityStatus::SpecialControl,
        };
        assert!(loop_cfg.is_restricted(SecurityStatus::SpecialControl));
    }
}
