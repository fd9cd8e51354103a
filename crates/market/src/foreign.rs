//! Foreign ownership limits ("room") arithmetic (reference §9).
//!
//! Total room = outstanding shares × foreign ownership limit (FOL). Current room = total
//! room − foreign holdings. Under KRX a foreign buy order's quantity is deducted from the
//! current room **at order entry** and restored on cancel or expiry; with no room left a
//! foreign buy cannot be accepted. Pre-trade checks must read the live current room.

use serde::{Deserialize, Serialize};

use crate::price::Quantity;

/// Room arithmetic errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buy needs more room than is left.
    #[error("foreign room exhausted: requested {requested}, available {available}")]
    InsufficientRoom {
        /// Quantity requested.
        requested: Quantity,
        /// Current room.
        available: Quantity,
    },
    /// A limit above 100% (10,000 bps).
    #[error("foreign ownership limit {0} bps is above 100%")]
    LimitAbove100(u32),
}

/// Sector caps and \[U\] behaviour (reference §9), with defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForeignRules {
    /// Default cap in unrestricted sectors: 100% (Decree 155/2020) \[S\].
    pub default_limit_bps: u32,
    /// Commercial banks: 30% aggregate (Decree 69/2025 keeps 30%) \[S\].
    pub bank_limit_bps: u32,
    /// Whether a foreign buy larger than the current room is rejected (our reading: yes,
    /// §9 \[U\]). When false the check is skipped and the exchange decides.
    pub reject_when_room_insufficient: bool,
}

impl Default for ForeignRules {
    fn default() -> Self {
        Self {
            default_limit_bps: 10_000,
            bank_limit_bps: 3_000,
            reject_when_room_insufficient: true,
        }
    }
}

/// A symbol's foreign room (feeds report both numbers, e.g. VOS `totalFR` / `currFR`, SSI
/// FastConnect `R` stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignRoom {
    /// Maximum quantity foreigners may hold.
    pub total: Quantity,
    /// Quantity foreigners may still buy (live).
    pub current: Quantity,
}

/// Maximum foreign-holdable quantity: `outstanding × limit`, rounded down (reference §9).
pub fn total_room(outstanding: Quantity, limit_bps: u32) -> Result<Quantity, Error> {
    if limit_bps > 10_000 {
        return Err(Error::LimitAbove100(limit_bps));
    }
    let q = u128::from(outstanding.units()) * u128::from(limit_bps) / 10_000;
    // q <= outstanding, so it fits.
    Ok(Quantity::new(u64::try_from(q).unwrap_or(u64::MAX)))
}

impl ForeignRoom {
    /// Room from outstanding shares, the FOL and current foreign holdings.
    pub fn from_holdings(
        outstanding: Quantity,
        limit_bps: u32,
        foreign_held: Quantity,
    ) -> Result<Self, Error> {
        let total = total_room(outstanding, limit_bps)?;
        Ok(Self {
            total,
            current: total.saturating_sub(foreign_held),
        })
    }

    /// Whether a foreign buy of `quantity` fits the current room.
    pub fn check_buy(&self, quantity: Quantity) -> Result<(), Error> {
        if quantity > self.current {
            Err(Error::InsufficientRoom {
                requested: quantity,
                available: self.current,
            })
        } else {
            Ok(())
        }
    }

    /// Deducts a foreign buy order at entry (KRX behaviour, reference §9).
    pub fn reserve(&self, quantity: Quantity) -> Result<Self, Error> {
        self.check_buy(quantity)?;
        Ok(Self {
            current: self.current.saturating_sub(quantity),
            ..*self
        })
    }

    /// Restores room when a foreign buy is cancelled or expires unfilled (never above the
    /// total).
    pub fn release(&self, quantity: Quantity) -> Self {
        let restored = self
            .current
            .checked_add(quantity)
            .unwrap_or(self.total)
            .min(self.total);
        Self {
            current: restored,
            ..*self
        }
    }

    /// Applies a foreign sell that executed: holdings fall, room grows (never above total).
    pub fn on_foreign_sell(&self, quantity: Quantity) -> Self {
        self.release(quantity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bank_at_thirty_percent() {
        let r = ForeignRoom::from_holdings(Quantity::new(1_000_000), 3_000, Quantity::new(250_000))
            .unwrap();
        assert_eq!(r.total, Quantity::new(300_000));
        assert_eq!(r.current, Quantity::new(50_000));
        assert_eq!(r.check_buy(Quantity::new(50_000)), Ok(()));
        assert_eq!(
            r.check_buy(Quantity::new(50_001)),
            Err(Error::InsufficientRoom {
                requested: Quantity::new(50_001),
                available: Quantity::new(50_000)
            })
        );
    }

    #[test]
    fn room_is_reserved_at_entry_and_released_on_cancel() {
        let r = ForeignRoom {
            total: Quantity::new(1_000),
            current: Quantity::new(300),
        };
        let after = r.reserve(Quantity::new(200)).unwrap();
        assert_eq!(after.current, Quantity::new(100));
        assert!(after.reserve(Quantity::new(101)).is_err());
        assert_eq!(
            after.release(Quantity::new(200)).current,
            Quantity::new(300)
        );
        assert_eq!(
            after.release(Quantity::new(5_000)).current,
            Quantity::new(1_000)
        );
    }

    #[test]
    fn zero_room_blocks_every_buy_and_bad_limits_fail() {
        let r = ForeignRoom::from_holdings(Quantity::new(100), 4_900, Quantity::new(60)).unwrap();
        assert_eq!(r.current, Quantity::ZERO);
        assert!(r.check_buy(Quantity::new(1)).is_err());
        assert_eq!(
            total_room(Quantity::new(100), 10_001),
            Err(Error::LimitAbove100(10_001))
        );
        assert_eq!(
            total_room(Quantity::new(333), 4_900),
            Ok(Quantity::new(163))
        );
    }

    proptest! {
        #[test]
        fn prop_room_never_exceeds_total(total in 0u64..1_000_000, held in 0u64..2_000_000, q in 0u64..1_000_000) {
            let r = ForeignRoom::from_holdings(Quantity::new(total), 10_000, Quantity::new(held)).unwrap();
            prop_assert!(r.current <= r.total);
            let r2 = r.reserve(Quantity::new(q)).map(|x| x.release(Quantity::new(q)));
            if let Ok(r2) = r2 {
                prop_assert_eq!(r2, r);
            }
        }
    }
}
