//! The odd-lot board of one instrument's day, generated alongside its round-lot tape.
//!
//! After each round-lot trade the odd-lot board shows a fresh 3-level book around that
//! trade's price and, for some trades, prints an odd-lot trade of its own. Every price and
//! quantity is checked by `market::validate_order` as an LO order on [`Board::OddLot`] in the
//! board's session at that second: whether the instrument has an odd-lot board, whether the
//! board is open, the tick, the band and the odd-lot size (1 .. round lot − 1) are all
//! `market`'s verdicts. Whatever `market` refuses is not published.

use market::limits::PriceLimits;
use market::session::{Phase, SessionState, TimeOfDay};
use market::tick::Rounding;
use market::{
    Board, InvestorProfile, Order, OrderContext, OrderType, Price, Quantity, Security,
    SecurityStatus, Side, Symbol, validate_order,
};
use time::Date;

use super::{Aggressor, DayTape, Generator};
use crate::rng::Rng;
use crate::universe::Instrument;

/// Book depth of the `OL` payload (`BidPrice1..3`, reference §4.4): a wire fact.
pub const ODD_LOT_DEPTH: usize = 3;

/// Share of round-lot trades that are followed by an odd-lot print.
const PRINT_SHARE: f64 = 0.4;

/// Keeps the odd-lot draws apart from the round-lot book's draws at the same coordinates.
const SALT: u64 = 0x0DD_107 << 32;

/// One odd-lot trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OddLotPrint {
    /// Price in units.
    pub price: i64,
    /// Quantity, 1 .. round lot − 1.
    pub volume: u64,
}

/// The odd-lot board right after one round-lot trade of the day tape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OddLotUpdate {
    /// Position of the round-lot trade in [`DayTape::trades`] this update follows.
    pub trade: usize,
    /// Seconds since local midnight (the round-lot trade's time).
    pub secs: u32,
    /// Phase of the odd-lot board at that second.
    pub phase: Phase,
    /// The odd-lot trade printed now, if any.
    pub print: Option<OddLotPrint>,
    /// Bids, best first: price units and quantity (up to [`ODD_LOT_DEPTH`]).
    pub bids: Vec<(i64, u64)>,
    /// Asks, best first.
    pub asks: Vec<(i64, u64)>,
    /// First, highest, lowest and latest odd-lot print of the day so far.
    pub open: Option<i64>,
    /// Highest odd-lot print so far.
    pub high: Option<i64>,
    /// Lowest odd-lot print so far.
    pub low: Option<i64>,
    /// Latest odd-lot print so far.
    pub last: Option<OddLotPrint>,
    /// Odd-lot volume of the day so far.
    pub odd_volume: u64,
    /// Σ price units × volume of the odd-lot prints so far.
    pub odd_value_units: i128,
    /// Round-lot volume of the day up to and including the trade.
    pub round_volume: u64,
    /// Σ price units × volume of the round-lot trades so far.
    pub round_value_units: i128,
}

/// One instrument's odd-lot board for a day; empty when `market` gives it no odd-lot board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OddLotTape {
    /// Position of the instrument in the universe.
    pub instrument: usize,
    /// Trading date.
    pub date: Date,
    /// Updates in round-lot trade order (ascending [`OddLotUpdate::trade`]).
    pub updates: Vec<OddLotUpdate>,
}

/// What `validate_order` needs, fixed for one instrument and day.
pub(super) struct Checker<'a> {
    pub(super) security: Security,
    pub(super) ctx: OrderContext<'a>,
    pub(super) board: Board,
}

impl Checker<'_> {
    /// Whether the exchange takes an LO order of `volume` at `price` on the checker's
    /// board now.
    pub(super) fn accepts(
        &self,
        session: &SessionState,
        side: Side,
        price: i64,
        volume: u64,
    ) -> bool {
        let Ok(price) = Price::new(price) else {
            return false;
        };
        let order = Order {
            side,
            order_type: OrderType::Lo,
            board: self.board,
            price: Some(price),
            quantity: Quantity::new(volume),
        };
        validate_order(&order, &self.security, session, &self.ctx).is_ok()
    }
}

impl Generator {
    /// The odd-lot board of `tape`'s instrument on `tape`'s day: a pure function of the seed
    /// and the tape.
    pub fn odd_lot_tape(&self, tape: &DayTape) -> OddLotTape {
        let mut out = OddLotTape {
            instrument: tape.instrument,
            date: tape.date,
            updates: Vec::new(),
        };
        let Some(inst) = self.universe.instrument(tape.instrument) else {
            return out;
        };
        let Ok(symbol) = Symbol::parse(&inst.symbol) else {
            return out;
        };
        let lot = self.rules.lots.round_lot(inst.exchange);
        if lot < 2 {
            // No quantity fits between 1 and round lot − 1.
            return out;
        }
        let checker = Checker {
            security: Security {
                symbol,
                exchange: inst.exchange,
                kind: inst.kind,
                status: SecurityStatus::Normal,
                limits: Some(tape.limits),
                awaiting_first_match: false,
            },
            ctx: OrderContext::exchange_only(&self.rules, InvestorProfile::DOMESTIC_INDIVIDUAL),
            board: Board::OddLot,
        };
        let key = self.rules.session_key(
            inst.exchange,
            inst.kind,
            SecurityStatus::Normal,
            Board::OddLot,
        );
        let mut state = Running::default();
        for (k, t) in tape.trades.iter().enumerate() {
            state.round_volume += t.volume;
            state.round_value_units += i128::from(t.price) * i128::from(t.volume);
            let session =
                self.calendar
                    .session_at(tape.date, TimeOfDay::from_seconds(t.secs), &key);
            let Some(anchor) = self.odd_lot_price(inst, &tape.limits, t.price) else {
                continue;
            };
            // Closed board, no odd-lot board for this kind, blocked status: nothing shows.
            if !checker.accepts(&session, Side::Buy, anchor, 1) {
                continue;
            }
            let mut rng = Rng::new(
                self.seed,
                tape.instrument as u64,
                SALT | u64::from(t.secs),
                k as u64,
            );
            let print = if rng.unit() < PRINT_SHARE {
                let price = match rng.range(0, 2) {
                    0 => self.odd_lot_step(inst, &tape.limits, anchor, false),
                    1 => Some(anchor),
                    _ => self.odd_lot_step(inst, &tape.limits, anchor, true),
                }
                .unwrap_or(anchor);
                let volume = rng.range(1, lot - 1);
                let side = if rng.unit() < 0.5 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                checker
                    .accepts(&session, side, price, volume)
                    .then_some(OddLotPrint { price, volume })
            } else {
                None
            };
            if let Some(p) = print {
                state.record(p);
            }
            let centre = print.map_or(anchor, |p| p.price);
            let (mut bid, mut ask) = match t.side {
                Aggressor::Sell => (
                    Some(centre),
                    self.odd_lot_step(inst, &tape.limits, centre, true),
                ),
                Aggressor::Buy | Aggressor::Auction => (
                    self.odd_lot_step(inst, &tape.limits, centre, false),
                    Some(centre),
                ),
            };
            let (mut bids, mut asks) = (Vec::new(), Vec::new());
            for _ in 0..ODD_LOT_DEPTH {
                if let Some(b) = bid {
                    let volume = rng.range(1, lot - 1);
                    if checker.accepts(&session, Side::Buy, b, volume) {
                        bids.push((b, volume));
                    }
                    bid = self.odd_lot_step(inst, &tape.limits, b, false);
                }
                if let Some(a) = ask {
                    let volume = rng.range(1, lot - 1);
                    if checker.accepts(&session, Side::Sell, a, volume) {
                        asks.push((a, volume));
                    }
                    ask = self.odd_lot_step(inst, &tape.limits, a, true);
                }
            }
            out.updates.push(OddLotUpdate {
                trade: k,
                secs: t.secs,
                phase: session.phase,
                print,
                bids,
                asks,
                open: state.open,
                high: state.high,
                low: state.low,
                last: state.last,
                odd_volume: state.odd_volume,
                odd_value_units: state.odd_value_units,
                round_volume: state.round_volume,
                round_value_units: state.round_value_units,
            });
        }
        out
    }

    /// `units` rounded to the odd-lot board's nearest tick, if inside the band.
    fn odd_lot_price(&self, inst: &Instrument, limits: &PriceLimits, units: i64) -> Option<i64> {
        let price = Price::new(units).ok()?;
        let p = self.rules.round_to_tick(
            inst.exchange,
            inst.kind,
            Board::OddLot,
            price,
            Rounding::Nearest,
        )?;
        limits.contains(p).then_some(p.units())
    }

    /// One odd-lot tick up or down from `units`, if inside the band.
    fn odd_lot_step(
        &self,
        inst: &Instrument,
        limits: &PriceLimits,
        units: i64,
        up: bool,
    ) -> Option<i64> {
        let price = Price::new(units).ok()?;
        let ticks = &self.rules.ticks;
        let next = if up {
            ticks.tick_up(inst.exchange, inst.kind, Board::OddLot, price)
        } else {
            ticks.tick_down(inst.exchange, inst.kind, Board::OddLot, price)
        }?;
        limits.contains(next).then_some(next.units())
    }
}

/// Day-so-far statistics while walking the tape.
#[derive(Default)]
struct Running {
    open: Option<i64>,
    high: Option<i64>,
    low: Option<i64>,
    last: Option<OddLotPrint>,
    odd_volume: u64,
    odd_value_units: i128,
    round_volume: u64,
    round_value_units: i128,
}

impl Running {
    fn record(&mut self, p: OddLotPrint) {
        self.open = self.open.or(Some(p.price));
        self.high = Some(self.high.map_or(p.price, |h| h.max(p.price)));
        self.low = Some(self.low.map_or(p.price, |l| l.min(p.price)));
        self.last = Some(p);
        self.odd_volume += p.volume;
        self.odd_value_units += i128::from(p.price) * i128::from(p.volume);
    }
}

#[cfg(test)]
mod tests {
    use market::{InstrumentKind, MarketRules};

    use super::super::tests::generator;
    use super::*;

    #[test]
    fn odd_lots_are_on_tick_inside_the_band_and_below_a_round_lot() {
        let g = generator(5);
        let rules = MarketRules::default();
        let mut prints = 0;
        for i in 0..g.universe().instruments().len() {
            let inst = g.universe().instrument(i).unwrap().clone();
            let tape = g.tape(i, 30).unwrap();
            let odd = g.odd_lot_tape(&tape);
            if inst.kind == InstrumentKind::IndexFuture || tape.trades.is_empty() {
                assert!(odd.updates.is_empty(), "{} has no odd lots", inst.symbol);
                continue;
            }
            assert!(
                !odd.updates.is_empty(),
                "{} has no odd-lot board",
                inst.symbol
            );
            let lot = rules.lots.round_lot(inst.exchange);
            let check = |p: i64| {
                let price = Price::new(p).unwrap();
                assert!(tape.limits.contains(price), "{} {p} outside", inst.symbol);
                assert!(
                    rules.is_on_tick(inst.exchange, inst.kind, Board::OddLot, price),
                    "{} {p} off tick",
                    inst.symbol
                );
            };
            let mut previous = 0;
            for u in &odd.updates {
                assert!(u.trade >= previous);
                previous = u.trade;
                assert!(u.bids.len() <= ODD_LOT_DEPTH && u.asks.len() <= ODD_LOT_DEPTH);
                assert!(!u.bids.is_empty() || !u.asks.is_empty());
                for &(p, v) in u.bids.iter().chain(&u.asks) {
                    check(p);
                    assert!((1..lot).contains(&v));
                }
                if let (Some(b), Some(a)) = (u.bids.first(), u.asks.first()) {
                    assert!(b.0 < a.0, "{} crossed odd-lot book", inst.symbol);
                }
                if let Some(p) = u.print {
                    check(p.price);
                    assert!((1..lot).contains(&p.volume));
                    prints += 1;
                }
                assert!(
                    u.phase.is_open(),
                    "{} odd lot during {}",
                    inst.symbol,
                    u.phase
                );
            }
            let last = odd.updates.last().unwrap();
            let total: u64 = tape.trades.iter().map(|t| t.volume).sum();
            assert!(last.round_volume <= total);
        }
        assert!(prints > 100, "{prints} odd-lot prints");
    }

    #[test]
    fn the_odd_lot_board_is_deterministic_for_a_seed() {
        let (a, b, c) = (generator(21), generator(21), generator(22));
        let tape = |g: &Generator| g.odd_lot_tape(&g.tape(3, 20).unwrap());
        assert_eq!(tape(&a), tape(&b));
        assert_ne!(tape(&a), tape(&c));
    }
}
