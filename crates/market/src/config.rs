//! [`MarketRules`]: every rule number in one serde struct, with defaults from the reference.
//!
//! Facts the reference tags \[U\] (and broker-specific numbers) are configuration, never
//! constants. The defaults are compiled in (`MarketRules::default()`), and
//! `crates/market/config/default.toml` lists every key with its default; a unit test keeps
//! the two identical. Load overrides with [`MarketRules::from_toml`]: any key left out keeps
//! its default.

use serde::{Deserialize, Serialize};

use crate::calendar::{self, TradingCalendar};
use crate::fees::FeeSchedule;
use crate::foreign::ForeignRules;
use crate::limits::{self, LimitCase, LimitRules, PriceLimits};
use crate::lot::LotRules;
use crate::order::{OrderRules, Side};
use crate::price::Price;
use crate::session::{self, SessionKey, SessionRules};
use crate::settlement::SettlementRules;
use crate::status::StatusRules;
use crate::tick::{self, Rounding, TickRules};
use crate::ticker::TickerRules;
use crate::venue::{Board, Exchange, InstrumentKind};

/// The shipped defaults as TOML (the reference for operators; equal to `Default`).
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Why a rule configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The TOML does not parse or has unknown keys.
    #[error("market rules TOML: {0}")]
    Toml(String),
    /// The tick tables are inconsistent.
    #[error(transparent)]
    Ticks(#[from] tick::Error),
    /// The timetables are inconsistent.
    #[error(transparent)]
    Sessions(#[from] session::Error),
    /// A band of 100% or more would leave no positive floor.
    #[error("band of {0} bps is 100% or more")]
    BandTooWide(u32),
    /// A round lot of zero.
    #[error("round lot must be positive on {0}")]
    ZeroRoundLot(Exchange),
}

/// Validation choices the reference leaves open \[U\].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationRules {
    /// Whether put-through prices must lie within the day's ceiling and floor. Default true
    /// (§4 removes the tick step for put-through but no source exempts it from the band) \[U\].
    pub put_through_within_band: bool,
}

impl Default for ValidationRules {
    fn default() -> Self {
        Self {
            put_through_within_band: true,
        }
    }
}

/// Every exchange rule number, grouped by topic. `Default` is the post-KRX state of the
/// reference (from 5 May 2025).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketRules {
    /// Tick tables (§4).
    pub ticks: TickRules,
    /// Daily bands and reference-price rounding (§5).
    pub limits: LimitRules,
    /// Lots, maximum order size, put-through minimums, position limits (§6).
    pub lots: LotRules,
    /// Session timetables (§2).
    pub sessions: SessionRules,
    /// MTL conversion (§3.1).
    pub orders: OrderRules,
    /// Settlement cycle and sellability (§7).
    pub settlement: SettlementRules,
    /// Fees and taxes (§8).
    pub fees: FeeSchedule,
    /// Security status effects (§11.2).
    pub status: StatusRules,
    /// Foreign ownership (§9).
    pub foreign: ForeignRules,
    /// Ticker shapes (§1.3).
    pub tickers: TickerRules,
    /// Open validation choices.
    pub validation: ValidationRules,
}

impl MarketRules {
    /// Parses TOML overrides on top of the defaults, then checks the result.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let rules: MarketRules = toml::from_str(text).map_err(|e| Error::Toml(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    /// Checks internal consistency (tick bands, timetables, bands below 100%, lots > 0).
    pub fn validate(&self) -> Result<(), Error> {
        self.ticks.validate()?;
        self.sessions.validate()?;
        let l = &self.limits;
        for bps in [
            l.hose.normal_bps,
            l.hose.wide_bps,
            l.hnx.normal_bps,
            l.hnx.wide_bps,
            l.upcom.normal_bps,
            l.upcom.wide_bps,
            l.futures_bps,
        ] {
            if bps >= 10_000 {
                return Err(Error::BandTooWide(bps));
            }
        }
        for e in Exchange::ALL {
            if self.lots.for_exchange(e).round_lot == 0 {
                return Err(Error::ZeroRoundLot(e));
            }
        }
        Ok(())
    }

    /// A calendar with these timetables and the embedded holiday list.
    pub fn calendar(&self) -> Result<TradingCalendar, calendar::Error> {
        TradingCalendar::new(self.sessions.clone(), calendar::EMBEDDED_HOLIDAYS)
    }

    /// The session key for an order on `board` in a security (restricted status resolved
    /// per [`StatusRules`]).
    pub fn session_key(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        status: crate::status::SecurityStatus,
        board: Board,
    ) -> SessionKey {
        SessionKey {
            exchange,
            board,
            kind,
            restricted: self.status.is_restricted(status),
        }
    }

    /// Tick at `price` (reference §4).
    pub fn tick_size(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
    ) -> Price {
        self.ticks.tick_size(exchange, kind, board, price)
    }

    /// Whether `price` is on tick (reference §4).
    pub fn is_on_tick(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
    ) -> bool {
        self.ticks.is_on_tick(exchange, kind, board, price)
    }

    /// Rounds `price` to a tick in `rounding` direction (reference §4).
    pub fn round_to_tick(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
        rounding: Rounding,
    ) -> Option<Price> {
        self.ticks.round(exchange, kind, board, price, rounding)
    }

    /// Ceiling and floor (reference §5). See [`LimitRules::price_limits`].
    pub fn price_limits(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        reference: Price,
        case: LimitCase,
    ) -> Result<PriceLimits, limits::Error> {
        self.limits
            .price_limits(&self.ticks, exchange, kind, reference, case)
    }

    /// The next session's reference price (reference §5.3). See
    /// [`LimitRules::next_reference`](limits::LimitRules::next_reference).
    pub fn next_reference(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        previous: &limits::PreviousSession,
    ) -> Result<Price, limits::Error> {
        self.limits
            .next_reference(&self.ticks, exchange, kind, previous)
    }

    /// The LO price an unfilled MTL remainder converts to (reference §3.1): buy = last +
    /// offset ticks capped at the ceiling, sell = last − offset ticks floored at the floor.
    pub fn mtl_conversion_price(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        side: Side,
        last_price: Price,
        limits: &PriceLimits,
    ) -> Price {
        let mut p = last_price;
        for _ in 0..self.orders.mtl_offset_ticks(exchange) {
            let next = match side {
                Side::Buy => self.ticks.tick_up(exchange, kind, Board::Main, p),
                Side::Sell => self.ticks.tick_down(exchange, kind, Board::Main, p),
            };
            match next {
                Some(n) => p = n,
                None => break,
            }
        }
        match side {
            Side::Buy => p.min(limits.ceiling),
            Side::Sell => p.max(limits.floor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_toml_equals_the_compiled_defaults() {
        let parsed = MarketRules::from_toml(DEFAULT_TOML).unwrap();
        assert_eq!(parsed, MarketRules::default());
    }

    #[test]
    fn defaults_are_consistent() {
        assert_eq!(MarketRules::default().validate(), Ok(()));
    }

    #[test]
    fn partial_overrides_keep_other_defaults() {
        let r = MarketRules::from_toml(
            "[lots.hnx]\nround_lot = 100\nmax_order_quantity = 1000000\nput_through_min = 5000\n\n[fees]\nsale_tax_ppm = 2000\n",
        )
        .unwrap();
        assert_eq!(r.lots.hnx.max_order_quantity, Some(1_000_000));
        assert_eq!(r.fees.sale_tax_ppm, 2_000);
        assert_eq!(r.limits, LimitRules::default());
    }

    #[test]
    fn unknown_keys_and_inconsistent_values_are_rejected() {
        assert!(matches!(
            MarketRules::from_toml("[fees]\nsale_tax = 1\n"),
            Err(Error::Toml(_))
        ));
        assert_eq!(
            MarketRules::from_toml("[limits]\nfutures_bps = 10000\n"),
            Err(Error::BandTooWide(10_000))
        );
        assert_eq!(
            MarketRules::from_toml("[lots.upcom]\nround_lot = 0\n"),
            Err(Error::ZeroRoundLot(Exchange::Upcom))
        );
    }

    #[test]
    fn mtl_converts_one_tick_through_the_last_price_within_the_band() {
        let r = MarketRules::default();
        let p = |u| Price::new(u).unwrap();
        let lim = PriceLimits {
            reference: p(49_000),
            ceiling: p(52_400),
            floor: p(45_600),
        };
        let (ex, k) = (Exchange::Hose, InstrumentKind::Stock);
        assert_eq!(
            r.mtl_conversion_price(ex, k, Side::Buy, p(49_950), &lim),
            p(50_000)
        );
        assert_eq!(
            r.mtl_conversion_price(ex, k, Side::Sell, p(50_000), &lim),
            p(49_950)
        );
        assert_eq!(
            r.mtl_conversion_price(ex, k, Side::Buy, p(52_400), &lim),
            p(52_400)
        );
        assert_eq!(
            r.mtl_conversion_price(ex, k, Side::Sell, p(45_600), &lim),
            p(45_600)
        );
    }
}
