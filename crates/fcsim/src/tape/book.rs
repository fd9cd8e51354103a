//! The generated order book after each trade of a tape: what `X-QUOTE` publishes and what the
//! market maker rests in the matching engine. The spread is the instrument's (one tick for
//! liquid names, wider for illiquid ones, as the trades themselves bounce), level sizes
//! follow its liquidity class, and a stock trading at its ceiling (floor) shows a queue of
//! buyers (sellers) at the limit and an empty other side: nothing matches there.

use super::{Aggressor, DayTape, Generator};
use crate::rng::Rng;

/// One book level: price units and volume.
pub type Level = (i64, u64);

/// The queue at a locked limit, in multiples of a normal level.
const LIMIT_QUEUE: u64 = 20;

impl Generator {
    /// The book after trade `k` of `tape`: bids and asks, best first, up to `depth` levels
    /// each, on tick and inside the band. After a buyer-initiated trade (or an auction) the
    /// trade price is the best ask and the bid is the instrument's spread below it; after a
    /// seller-initiated trade it is the best bid. At the ceiling only bids show (a queue at
    /// the ceiling), at the floor only asks. A pure function of the seed and the tape
    /// (draws keyed by instrument, second and trade); empty when there is no trade `k`.
    pub fn quote_book(&self, tape: &DayTape, k: usize, depth: usize) -> (Vec<Level>, Vec<Level>) {
        let (Some(t), Some(inst)) = (
            tape.trades.get(k),
            self.universe.instrument(tape.instrument),
        ) else {
            return (Vec::new(), Vec::new());
        };
        let limits = tape.limits;
        let (floor, ceiling) = (limits.floor.units(), limits.ceiling.units());
        let lot = self.rules.lots.round_lot(inst.exchange).max(1);
        let mut rng = Rng::new(
            self.seed,
            tape.instrument as u64,
            u64::from(t.secs),
            k as u64,
        );
        let spread = self.spread_ticks(inst, t.price as f64);
        let away =
            |p: i64, up: bool| (0..spread).fold(p, |q, _| self.tick_step(inst, &limits, q, up));
        let (best_bid, best_ask) = if t.price >= ceiling {
            (Some(ceiling), None)
        } else if t.price <= floor {
            (None, Some(floor))
        } else {
            match t.side {
                Aggressor::Sell => (Some(t.price), Some(away(t.price, true))),
                Aggressor::Buy | Aggressor::Auction => (Some(away(t.price, false)), Some(t.price)),
            }
        };
        let mut size = |p: i64| {
            let lots = (inst.book_lots as f64 * (0.3 + 1.4 * rng.unit()))
                .round()
                .max(1.0) as u64;
            let queue = if p == ceiling || p == floor {
                LIMIT_QUEUE
            } else {
                1
            };
            lots * queue * lot
        };
        let mut side = |best: Option<i64>, up: bool| {
            let mut levels: Vec<Level> = Vec::with_capacity(depth);
            let mut price = best;
            while let Some(p) = price {
                if levels.len() >= depth {
                    break;
                }
                levels.push((p, size(p)));
                let next = self.tick_step(inst, &limits, p, up);
                price = (next != p).then_some(next);
            }
            levels
        };
        let bids = side(best_bid, false);
        let asks = side(best_ask, true);
        (bids, asks)
    }
}
