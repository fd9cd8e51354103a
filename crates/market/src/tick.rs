//! Tick sizes (price steps) and rounding to a tick (reference §4).
//!
//! The tick is chosen by the band of **the price being quoted**: on HOSE 49,950 and
//! 50,000 are adjacent valid prices. A price is on tick when `price % tick(price) == 0`.

use serde::{Deserialize, Serialize};

use crate::price::Price;
use crate::venue::{Board, Exchange, InstrumentKind};

/// Why a tick table is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A band table must start at 0, ascend strictly, have positive ticks, and every band
    /// start must itself be on the tick of its band (so rounding up across a boundary lands
    /// on a valid price).
    #[error("invalid tick band table: {0}")]
    InvalidBands(&'static str),
}

/// One band of a price-dependent tick table: prices `>= from` (up to the next band) use
/// `tick`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickBand {
    /// Lowest price of the band, in price units.
    pub from: i64,
    /// Tick inside the band, in price units.
    pub tick: i64,
}

/// The tick tables (reference §4). Units are VND, or tenths of a point for futures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TickRules {
    /// HOSE stocks and closed-end funds: 10 below 10,000; 50 from 10,000 to 49,950; 100
    /// from 50,000 \[C\].
    pub hose_stock_bands: Vec<TickBand>,
    /// HOSE ETFs: 10 at any price \[C\].
    pub hose_etf: i64,
    /// HOSE covered warrants: 10 at any price \[C\].
    pub hose_covered_warrant: i64,
    /// HNX stocks and fund certificates (matching): 100 \[C\].
    pub hnx_stock: i64,
    /// HNX ETFs: 1 VND (reference §4 tags it \[S\]).
    pub hnx_etf: i64,
    /// UPCoM: 100 \[C\].
    pub upcom: i64,
    /// Put-through deals on any cash market: 1 VND, i.e. no step \[C\].
    pub put_through: i64,
    /// Bonds: no step (1 VND) \[C\].
    pub bond: i64,
    /// VN30/VN100 futures: 0.1 point = 1 unit \[C\].
    pub index_future: i64,
}

impl Default for TickRules {
    fn default() -> Self {
        Self {
            hose_stock_bands: vec![
                TickBand { from: 0, tick: 10 },
                TickBand {
                    from: 10_000,
                    tick: 50,
                },
                TickBand {
                    from: 50_000,
                    tick: 100,
                },
            ],
            hose_etf: 10,
            hose_covered_warrant: 10,
            hnx_stock: 100,
            hnx_etf: 1,
            upcom: 100,
            put_through: 1,
            bond: 1,
            index_future: 1,
        }
    }
}

/// Which way to round a price that is not on tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Largest on-tick price `<=` the input (how ceilings are rounded, reference §5.2).
    Down,
    /// Smallest on-tick price `>=` the input (how floors are rounded, reference §5.2).
    Up,
    /// The closer of the two; exact halves round up.
    Nearest,
}

impl TickRules {
    /// Checks the band table (see [`Error::InvalidBands`]) and that flat ticks are positive.
    pub fn validate(&self) -> Result<(), Error> {
        let bands = &self.hose_stock_bands;
        match bands.first() {
            Some(first) if first.from == 0 => {}
            _ => return Err(Error::InvalidBands("the first band must start at 0")),
        }
        if bands.iter().any(|b| b.tick <= 0) {
            return Err(Error::InvalidBands("ticks must be positive"));
        }
        for pair in bands.windows(2) {
            if let [a, b] = pair {
                if b.from <= a.from {
                    return Err(Error::InvalidBands("band starts must ascend"));
                }
                if b.from % b.tick != 0 || b.from % a.tick != 0 {
                    return Err(Error::InvalidBands(
                        "band starts must be on the tick of both adjacent bands",
                    ));
                }
            }
        }
        let flat = [
            self.hose_etf,
            self.hose_covered_warrant,
            self.hnx_stock,
            self.hnx_etf,
            self.upcom,
            self.put_through,
            self.bond,
            self.index_future,
        ];
        if flat.iter().any(|t| *t <= 0) {
            return Err(Error::InvalidBands("flat ticks must be positive"));
        }
        Ok(())
    }

    /// The tick (in price units) for a price of `units` on `(exchange, kind, board)`
    /// (reference §4). Put-through and bonds have no step (1 VND).
    pub fn tick_units(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        units: i64,
    ) -> i64 {
        if kind == InstrumentKind::IndexFuture || exchange == Exchange::HnxDeriv {
            return self.index_future;
        }
        if kind == InstrumentKind::Bond {
            return self.bond;
        }
        if board == Board::PutThrough {
            return self.put_through;
        }
        match (exchange, kind) {
            (_, InstrumentKind::CoveredWarrant) => self.hose_covered_warrant,
            (Exchange::Hose, InstrumentKind::Etf) => self.hose_etf,
            (Exchange::Hose, _) => self.banded(units),
            (Exchange::Hnx, InstrumentKind::Etf) => self.hnx_etf,
            (Exchange::Hnx, _) => self.hnx_stock,
            (Exchange::Upcom, _) => self.upcom,
            (Exchange::HnxDeriv, _) => self.index_future,
        }
    }

    fn banded(&self, units: i64) -> i64 {
        self.hose_stock_bands
            .iter()
            .rev()
            .find(|b| units >= b.from)
            .or(self.hose_stock_bands.first())
            .map_or(1, |b| b.tick.max(1))
    }

    /// The tick at `price` (reference §4).
    pub fn tick_size(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
    ) -> Price {
        let t = self.tick_units(exchange, kind, board, price.units()).max(1);
        Price::new(t).unwrap_or(price)
    }

    /// Whether `price` is a multiple of the tick valid at that price (reference §4).
    pub fn is_on_tick(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
    ) -> bool {
        let p = price.units();
        p % self.tick_units(exchange, kind, board, p).max(1) == 0
    }

    /// Rounds a raw number of price units to a tick in the given direction, using the tick
    /// of the band the result lies in. Returns `None` when the result would not be a
    /// positive price (rounding down below the first tick).
    pub fn round_units(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        units: i64,
        rounding: Rounding,
    ) -> Option<Price> {
        let tick = |u: i64| self.tick_units(exchange, kind, board, u).max(1);
        let down = |u: i64| u - u.rem_euclid(tick(u));
        let up = |u: i64| {
            let d = down(u);
            if d == u { u } else { d.saturating_add(tick(u)) }
        };
        let units = units.max(0);
        let r = match rounding {
            Rounding::Down => down(units),
            Rounding::Up => up(units),
            Rounding::Nearest => {
                let (d, u) = (down(units), up(units));
                if units - d < u - units { d } else { u }
            }
        };
        Price::new(r).ok()
    }

    /// Rounds `price` to a tick in the given direction (see [`TickRules::round_units`]).
    pub fn round(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
        rounding: Rounding,
    ) -> Option<Price> {
        self.round_units(exchange, kind, board, price.units(), rounding)
    }

    /// The smallest on-tick price strictly above `price` ("+1 tick", reference §3.1 MTL,
    /// §5.2 corner cases).
    pub fn tick_up(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
    ) -> Option<Price> {
        self.round_units(
            exchange,
            kind,
            board,
            price.units().saturating_add(1),
            Rounding::Up,
        )
    }

    /// The largest on-tick price strictly below `price` ("−1 tick"); `None` if that would
    /// not be positive.
    pub fn tick_down(
        &self,
        exchange: Exchange,
        kind: InstrumentKind,
        board: Board,
        price: Price,
    ) -> Option<Price> {
        self.round_units(exchange, kind, board, price.units() - 1, Rounding::Down)
    }
}

#[cfg(test)]
mod tests;
