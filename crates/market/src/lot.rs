//! Lots and quantity limits (reference §6).
//!
//! Round lot 100 on all cash markets (odd lots 1–99 trade on a separate LO-only book),
//! maximum order size, put-through minimums, and the VSDC futures position limits.

use serde::{Deserialize, Serialize};

use crate::price::Quantity;
use crate::ticker::{FutureContract, Underlying};
use crate::venue::{Exchange, InstrumentKind};

/// Quantity rules for one cash exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeLots {
    /// Round lot (100 on HOSE since 4 Jan 2021, HNX and UPCoM) \[C\].
    pub round_lot: u64,
    /// Largest quantity of one order, or `None` for no cap.
    pub max_order_quantity: Option<u64>,
    /// Smallest put-through deal for stocks, funds and ETFs, or `None`.
    pub put_through_min: Option<u64>,
}

/// How futures positions are netted for the VSDC limit (reference §6 \[U\]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionScope {
    /// Each contract month counts on its own.
    PerContract,
    /// All months of one underlying are added up.
    PerUnderlying,
    /// Every futures position is added up (the most conservative reading; default).
    AllFutures,
}

/// The investor categories the VSDC position limits distinguish (reference §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionLimitClass {
    /// Individual investor: 5,000 contracts.
    Individual,
    /// Institution: 10,000 contracts.
    Institution,
    /// Professional securities investor: 20,000 contracts.
    Professional,
}

/// The quantity numbers of reference §6, with defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LotRules {
    /// HOSE: lot 100, max 500,000 per order \[C\], put-through ≥ 20,000 \[C\].
    pub hose: ExchangeLots,
    /// HNX: lot 100, no documented max \[U → none\], put-through ≥ 5,000 \[C\].
    pub hnx: ExchangeLots,
    /// UPCoM: lot 100, no documented max \[U → none\], no put-through minimum \[C\].
    pub upcom: ExchangeLots,
    /// Futures: lot 1 contract, max 500 contracts per order \[C\].
    pub futures: ExchangeLots,
    /// Minimum bond put-through quantity (HNX bonds from 1) \[C\].
    pub bond_put_through_min: u64,
    /// VSDC position limit for individuals: 5,000 contracts \[C\].
    pub position_limit_individual: u64,
    /// VSDC position limit for institutions: 10,000 contracts \[C\].
    pub position_limit_institution: u64,
    /// VSDC position limit for professional investors: 20,000 contracts \[C\].
    pub position_limit_professional: u64,
    /// How positions are netted against the limit; default all futures (§6 \[U\]).
    pub position_scope: PositionScope,
}

impl Default for LotRules {
    fn default() -> Self {
        Self {
            hose: ExchangeLots {
                round_lot: 100,
                max_order_quantity: Some(500_000),
                put_through_min: Some(20_000),
            },
            hnx: ExchangeLots {
                round_lot: 100,
                max_order_quantity: None,
                put_through_min: Some(5_000),
            },
            upcom: ExchangeLots {
                round_lot: 100,
                max_order_quantity: None,
                put_through_min: None,
            },
            futures: ExchangeLots {
                round_lot: 1,
                max_order_quantity: Some(500),
                put_through_min: None,
            },
            bond_put_through_min: 1,
            position_limit_individual: 5_000,
            position_limit_institution: 10_000,
            position_limit_professional: 20_000,
            position_scope: PositionScope::AllFutures,
        }
    }
}

/// How a quantity splits over the round-lot and odd-lot books (reference §6: a mixed
/// quantity such as 150 must be split by the broker into 100 + 50).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotSplit {
    /// Zero: nothing to send.
    Empty,
    /// Only round lots.
    RoundLot(Quantity),
    /// Only an odd lot (1 .. round lot − 1).
    OddLot(Quantity),
    /// A round-lot part and an odd-lot part.
    Mixed {
        /// Multiple of the round lot.
        round: Quantity,
        /// Remainder below one round lot.
        odd: Quantity,
    },
}

impl LotRules {
    /// The rules for an exchange.
    pub fn for_exchange(&self, exchange: Exchange) -> &ExchangeLots {
        match exchange {
            Exchange::Hose => &self.hose,
            Exchange::Hnx => &self.hnx,
            Exchange::Upcom => &self.upcom,
            Exchange::HnxDeriv => &self.futures,
        }
    }

    /// Round lot for the exchange (reference §6).
    pub fn round_lot(&self, exchange: Exchange) -> u64 {
        self.for_exchange(exchange).round_lot.max(1)
    }

    /// Largest quantity of one order, if capped (reference §6).
    pub fn max_order_quantity(&self, exchange: Exchange) -> Option<u64> {
        self.for_exchange(exchange).max_order_quantity
    }

    /// Smallest put-through quantity for `kind` on `exchange` (reference §6): bonds have
    /// their own minimum; futures none.
    pub fn put_through_min(&self, exchange: Exchange, kind: InstrumentKind) -> Option<u64> {
        if kind == InstrumentKind::Bond {
            return Some(self.bond_put_through_min);
        }
        self.for_exchange(exchange).put_through_min
    }

    /// Splits `quantity` into round-lot and odd-lot parts (reference §6).
    pub fn split(&self, exchange: Exchange, quantity: Quantity) -> LotSplit {
        let lot = self.round_lot(exchange);
        let q = quantity.units();
        let (round, odd) = (q - q % lot, q % lot);
        match (round, odd) {
            (0, 0) => LotSplit::Empty,
            (r, 0) => LotSplit::RoundLot(Quantity::new(r)),
            (0, o) => LotSplit::OddLot(Quantity::new(o)),
            (r, o) => LotSplit::Mixed {
                round: Quantity::new(r),
                odd: Quantity::new(o),
            },
        }
    }

    /// The VSDC open-position limit for a class of investor (reference §6).
    pub fn position_limit(&self, class: PositionLimitClass) -> u64 {
        match class {
            PositionLimitClass::Individual => self.position_limit_individual,
            PositionLimitClass::Institution => self.position_limit_institution,
            PositionLimitClass::Professional => self.position_limit_professional,
        }
    }

    /// The net position that counts against the limit for an order in `contract`: the sum of
    /// the signed positions (long positive, short negative) of every contract in scope per
    /// [`LotRules::position_scope`] (reference §6).
    pub fn position_in_scope(
        &self,
        positions: &[(FutureContract, i64)],
        contract: &FutureContract,
    ) -> i64 {
        let in_scope = |c: &FutureContract| match self.position_scope {
            PositionScope::PerContract => c == contract,
            PositionScope::PerUnderlying => c.underlying == contract.underlying,
            PositionScope::AllFutures => true,
        };
        positions
            .iter()
            .filter(|(c, _)| in_scope(c))
            .map(|(_, n)| *n)
            .fold(0i64, i64::saturating_add)
    }
}

/// Whether an underlying is one whose contracts this crate validates (index futures).
pub fn is_supported_underlying(u: Underlying) -> bool {
    u.is_index()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_lots_and_caps_match_the_reference() {
        let r = LotRules::default();
        assert_eq!(r.round_lot(Exchange::Hose), 100);
        assert_eq!(r.round_lot(Exchange::Hnx), 100);
        assert_eq!(r.round_lot(Exchange::Upcom), 100);
        assert_eq!(r.round_lot(Exchange::HnxDeriv), 1);
        assert_eq!(r.max_order_quantity(Exchange::Hose), Some(500_000));
        assert_eq!(r.max_order_quantity(Exchange::Hnx), None);
        assert_eq!(r.max_order_quantity(Exchange::Upcom), None);
        assert_eq!(r.max_order_quantity(Exchange::HnxDeriv), Some(500));
    }

    #[test]
    fn put_through_minimums() {
        let r = LotRules::default();
        assert_eq!(
            r.put_through_min(Exchange::Hose, InstrumentKind::Stock),
            Some(20_000)
        );
        assert_eq!(
            r.put_through_min(Exchange::Hnx, InstrumentKind::Etf),
            Some(5_000)
        );
        assert_eq!(
            r.put_through_min(Exchange::Hnx, InstrumentKind::Bond),
            Some(1)
        );
        assert_eq!(
            r.put_through_min(Exchange::Upcom, InstrumentKind::Stock),
            None
        );
    }

    #[test]
    fn mixed_quantities_split_into_round_and_odd() {
        let r = LotRules::default();
        let q = Quantity::new;
        assert_eq!(r.split(Exchange::Hose, q(0)), LotSplit::Empty);
        assert_eq!(r.split(Exchange::Hose, q(99)), LotSplit::OddLot(q(99)));
        assert_eq!(r.split(Exchange::Hose, q(100)), LotSplit::RoundLot(q(100)));
        assert_eq!(
            r.split(Exchange::Hose, q(150)),
            LotSplit::Mixed {
                round: q(100),
                odd: q(50)
            }
        );
        assert_eq!(r.split(Exchange::HnxDeriv, q(7)), LotSplit::RoundLot(q(7)));
    }

    #[test]
    fn position_limits_and_scopes() {
        let mut r = LotRules::default();
        assert_eq!(r.position_limit(PositionLimitClass::Individual), 5_000);
        assert_eq!(r.position_limit(PositionLimitClass::Institution), 10_000);
        assert_eq!(r.position_limit(PositionLimitClass::Professional), 20_000);
        let jun = FutureContract::new(Underlying::Vn30, 2025, 6).unwrap();
        let jul = FutureContract::new(Underlying::Vn30, 2025, 7).unwrap();
        let v100 = FutureContract::new(Underlying::Vn100, 2025, 12).unwrap();
        let pos = [(jun, 10), (jul, -4), (v100, 3)];
        assert_eq!(r.position_in_scope(&pos, &jun), 9);
        r.position_scope = PositionScope::PerUnderlying;
        assert_eq!(r.position_in_scope(&pos, &jun), 6);
        r.position_scope = PositionScope::PerContract;
        assert_eq!(r.position_in_scope(&pos, &jun), 10);
        assert!(is_supported_underlying(Underlying::Vn100));
        assert!(!is_supported_underlying(Underlying::Gb05));
    }
}
