//! The engine: books, sessions, matching, accounts and events for a set of instruments.
//!
//! Deterministic and IO-free: the caller passes the time ([`Engine::advance_to`]), the
//! orders and the deals; the engine never reads a clock. Iteration is over ordered maps
//! only, so the same inputs give the same events. [`EngineState`] is the whole mutable
//! state and is serde-serialisable; rules and calendar are configuration the caller
//! supplies again on restore ([`Engine::from_state`]).
//!
//! This file holds the state types, set-up (listing, accounts) and the plumbing every part
//! shares; each seam of the engine is a child module with its own `impl Engine` block:
//! `queries`, `session` (time and phase transitions), `entry` (order entry), `continuous`
//! (continuous matching and the booking of executions), `change` (cancel and amend),
//! `auctions` and `put_through`.

use std::collections::BTreeMap;

use market::foreign::ForeignRoom;
use market::limits::PriceLimits;
use market::session::TimeOfDay;
use market::{
    Board, MarketRules, Phase, Price, Quantity, Security, Side, Symbol, TradingCalendar, Vnd,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::account::Account;
use crate::auction::AuctionRules;
use crate::book::Book;
use crate::error::Error;
use crate::types::{
    AccountId, CancelReason, ChangeRejection, Event, EventRecord, OrderId, OrderRecord,
};

mod auctions;
mod change;
mod continuous;
mod entry;
mod put_through;
mod queries;
mod session;
#[cfg(test)]
mod test_support;

/// Self-trade prevention for continuous matching (reference §3.5: opposite orders of one
/// account are allowed, but the broker must stop them matching each other).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTradePrevention {
    /// The incoming order's remainder is cancelled when it would hit its own account
    /// (fills before that stand).
    #[default]
    CancelIncoming,
    /// The resting order of the same account is cancelled and matching continues.
    CancelResting,
    /// No prevention (exchange-only view; wash trades possible).
    Off,
}

/// Engine settings: the choices the reference leaves to the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Self-trade prevention (reference §3.5).
    pub self_trade: SelfTradePrevention,
    /// Call-auction tie-breaks that reference §3.4 leaves open.
    pub auction: AuctionRules,
    /// At the end of each trading day, set the next day's reference price with
    /// `MarketRules::next_reference` (HOSE, HNX, futures: the close; UPCoM: the VWAP of the
    /// round-lot continuous matches; reference §5.3) and recompute the normal band with
    /// `MarketRules::price_limits`. Off when the caller publishes limits itself. Covered
    /// warrants and bonds are never rolled.
    pub roll_reference: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            self_trade: SelfTradePrevention::CancelIncoming,
            auction: AuctionRules::default(),
            roll_reference: true,
        }
    }
}

/// A security to list: today's facts plus its foreign room, if tracked (reference §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Exchange, kind, status, today's limits. Limits are required.
    pub security: Security,
    /// Live foreign room; `None` skips room checks.
    pub foreign_room: Option<ForeignRoom>,
}

/// Market statistics and the book of one board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardState {
    /// Current phase (the timetable of `market`, or `Halted`).
    pub phase: Phase,
    /// The order book.
    pub book: Book,
    /// Last traded price today.
    pub last_price: Option<Price>,
    /// First traded price today.
    pub open_price: Option<Price>,
    /// Highest traded price today.
    pub high: Option<Price>,
    /// Lowest traded price today.
    pub low: Option<Price>,
    /// Traded volume today.
    pub volume: Quantity,
    /// Traded value today (VND; futures in price units × quantity).
    pub value: Vnd,
    /// Number of trades today.
    pub trades: u64,
    phase_end: Option<TimeOfDay>,
    trading_day: bool,
}

impl BoardState {
    fn new() -> Self {
        Self {
            phase: Phase::Closed,
            book: Book::default(),
            last_price: None,
            open_price: None,
            high: None,
            low: None,
            volume: Quantity::ZERO,
            value: Vnd::ZERO,
            trades: 0,
            phase_end: None,
            trading_day: false,
        }
    }

    fn reset_day(&mut self) {
        self.last_price = None;
        self.open_price = None;
        self.high = None;
        self.low = None;
        self.volume = Quantity::ZERO;
        self.value = Vnd::ZERO;
        self.trades = 0;
    }
}

/// One listed instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Today's facts (limits always present).
    pub security: Security,
    /// Live foreign room, if tracked.
    pub foreign_room: Option<ForeignRoom>,
    /// Exchange halt set by the caller (reference §11.1).
    pub halted: bool,
    /// Today's closing price once fixed (reference §3.4).
    pub closing_price: Option<Price>,
    /// Whether the close has been fixed today.
    pub closing_fixed: bool,
    /// Round-lot board.
    pub main: BoardState,
    /// Odd-lot board.
    pub odd_lot: BoardState,
    /// Put-through board (statistics only; deals are not matched).
    pub put_through: BoardState,
    continuous_trades: BTreeMap<Price, Quantity>,
}

impl Instrument {
    /// The state of one board.
    pub fn board(&self, board: Board) -> &BoardState {
        match board {
            Board::Main => &self.main,
            Board::OddLot => &self.odd_lot,
            Board::PutThrough => &self.put_through,
        }
    }

    fn board_mut(&mut self, board: Board) -> &mut BoardState {
        match board {
            Board::Main => &mut self.main,
            Board::OddLot => &mut self.odd_lot,
            Board::PutThrough => &mut self.put_through,
        }
    }

    fn limits(&self) -> Result<PriceLimits, Error> {
        self.security
            .limits
            .ok_or(Error::NoLimits(self.security.symbol))
    }
}

/// The engine clock (local time, UTC+7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Clock {
    /// Local date.
    pub date: Date,
    /// Local time of day.
    pub time: TimeOfDay,
}

/// Everything that changes: serialise it to snapshot the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineState {
    /// Settings.
    pub config: EngineConfig,
    clock: Option<Clock>,
    instant: Option<OffsetDateTime>,
    next_seq: u64,
    next_trade: u64,
    next_event: u64,
    /// Next order id to hand out; ids are never reused, even after [`Engine::forget`].
    next_order: u64,
    orders: BTreeMap<OrderId, OrderRecord>,
    instruments: BTreeMap<Symbol, Instrument>,
    accounts: BTreeMap<AccountId, Account>,
    events: Vec<EventRecord>,
}

/// One aggregated price level (market data depth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Price.
    pub price: Price,
    /// Total open quantity.
    pub quantity: Quantity,
    /// Number of orders.
    pub orders: u32,
}

/// Best levels of both sides (SSI X-QUOTE: HOSE shows 3 levels, others 10).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Depth {
    /// Bids, best first.
    pub bids: Vec<Level>,
    /// Asks, best first.
    pub asks: Vec<Level>,
}

/// The matching engine and simulated broker.
#[derive(Clone, Debug)]
pub struct Engine {
    rules: MarketRules,
    calendar: TradingCalendar,
    state: EngineState,
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

fn crosses(side: Side, limit: Price, resting: Price) -> bool {
    match side {
        Side::Buy => resting <= limit,
        Side::Sell => resting >= limit,
    }
}

fn overflow<E>(_: E) -> ChangeRejection {
    ChangeRejection::Overflow
}

/// How an open order ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Close {
    Cancel(CancelReason),
    Expire,
}

impl Engine {
    /// A new engine with no instruments and no accounts. The clock starts at the first
    /// [`Engine::advance_to`].
    pub fn new(rules: MarketRules, calendar: TradingCalendar, config: EngineConfig) -> Self {
        Self {
            rules,
            calendar,
            state: EngineState {
                config,
                clock: None,
                instant: None,
                next_seq: 0,
                next_trade: 0,
                next_event: 0,
                next_order: 0,
                orders: BTreeMap::new(),
                instruments: BTreeMap::new(),
                accounts: BTreeMap::new(),
                events: Vec::new(),
            },
        }
    }

    /// Restores an engine from a snapshot of its state, with the same rules and calendar.
    pub fn from_state(rules: MarketRules, calendar: TradingCalendar, state: EngineState) -> Self {
        Self {
            rules,
            calendar,
            state,
        }
    }

    /// The whole mutable state (serialise it to snapshot).
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// The rules in force.
    pub fn rules(&self) -> &MarketRules {
        &self.rules
    }

    /// The engine clock, once set.
    pub fn clock(&self) -> Option<Clock> {
        self.state.clock
    }

    // ----- set-up -------------------------------------------------------------------

    /// Lists a security, or replaces today's facts (limits, status, room) of a listed one;
    /// books and statistics are kept. Limits are required (`market` computes them:
    /// `MarketRules::price_limits`, `limits::covered_warrant_limits`).
    pub fn list(&mut self, listing: Listing) -> Result<(), Error> {
        let sym = listing.security.symbol;
        if listing.security.limits.is_none() {
            return Err(Error::NoLimits(sym));
        }
        match self.state.instruments.get_mut(&sym) {
            Some(inst) => {
                inst.security = listing.security;
                inst.foreign_room = listing.foreign_room;
            }
            None => {
                self.state.instruments.insert(
                    sym,
                    Instrument {
                        security: listing.security,
                        foreign_room: listing.foreign_room,
                        halted: false,
                        closing_price: None,
                        closing_fixed: false,
                        main: BoardState::new(),
                        odd_lot: BoardState::new(),
                        put_through: BoardState::new(),
                        continuous_trades: BTreeMap::new(),
                    },
                );
            }
        }
        if self.state.clock.is_some() {
            self.refresh_symbol(sym, true)?;
        }
        Ok(())
    }

    /// Opens a simulated account with `cash`.
    pub fn open_account(
        &mut self,
        id: AccountId,
        investor: market::InvestorProfile,
        cash: Vnd,
    ) -> Result<(), Error> {
        if self.state.accounts.contains_key(&id) {
            return Err(Error::DuplicateAccount(id));
        }
        self.state
            .accounts
            .insert(id.clone(), Account::new(id, investor, cash));
        Ok(())
    }

    /// Adds (or with a negative amount withdraws) cash.
    pub fn deposit(&mut self, account: &AccountId, amount: Vnd) -> Result<(), Error> {
        let a = self.account_mut(account)?;
        a.cash = a.cash.checked_add(amount)?;
        Ok(())
    }

    /// Adds settled (immediately sellable) shares to an account, e.g. an opening portfolio.
    pub fn seed_position(
        &mut self,
        account: &AccountId,
        symbol: Symbol,
        quantity: Quantity,
        cost: Vnd,
    ) -> Result<(), Error> {
        let a = self.account_mut(account)?;
        let p = a.positions.entry(symbol).or_default();
        p.settled = p.settled.checked_add(quantity)?;
        p.cost = p.cost.checked_add(cost)?;
        Ok(())
    }

    /// Sets or lifts an exchange halt on one instrument (reference §11.1): no entry, no
    /// matching, no auction while halted.
    pub fn set_halted(&mut self, symbol: Symbol, halted: bool) -> Result<(), Error> {
        self.instrument_mut(symbol)?.halted = halted;
        if self.state.clock.is_some() {
            self.refresh_symbol(symbol, false)?;
        }
        Ok(())
    }

    // ----- plumbing -----------------------------------------------------------------

    /// Hands out the next order id.
    fn next_order_id(&mut self) -> Result<OrderId, Error> {
        let id = OrderId(self.state.next_order);
        self.state.next_order = self
            .state
            .next_order
            .checked_add(1)
            .ok_or(Error::Overflow)?;
        Ok(id)
    }

    fn next_seq(&mut self) -> u64 {
        self.state.next_seq += 1;
        self.state.next_seq
    }

    fn emit(&mut self, event: Event) {
        self.state.next_event += 1;
        let at = self.state.instant.unwrap_or(OffsetDateTime::UNIX_EPOCH);
        self.state.events.push(EventRecord {
            seq: self.state.next_event,
            at,
            event,
        });
    }

    fn clock_now(&self) -> Result<Clock, Error> {
        self.state.clock.ok_or(Error::ClockNotSet)
    }

    fn record(&self, id: OrderId) -> Result<&OrderRecord, Error> {
        self.state.orders.get(&id).ok_or(Error::UnknownOrder(id))
    }

    fn record_mut(&mut self, id: OrderId) -> Result<&mut OrderRecord, Error> {
        self.state
            .orders
            .get_mut(&id)
            .ok_or(Error::UnknownOrder(id))
    }

    fn instrument_ref(&self, sym: Symbol) -> Result<&Instrument, Error> {
        self.state
            .instruments
            .get(&sym)
            .ok_or(Error::UnknownSecurity(sym))
    }

    fn instrument_mut(&mut self, sym: Symbol) -> Result<&mut Instrument, Error> {
        self.state
            .instruments
            .get_mut(&sym)
            .ok_or(Error::UnknownSecurity(sym))
    }

    fn account_ref(&self, id: &AccountId) -> Result<&Account, Error> {
        self.state
            .accounts
            .get(id)
            .ok_or_else(|| Error::UnknownAccount(id.clone()))
    }

    fn account_mut(&mut self, id: &AccountId) -> Result<&mut Account, Error> {
        self.state
            .accounts
            .get_mut(id)
            .ok_or_else(|| Error::UnknownAccount(id.clone()))
    }
}

/// Whole-engine properties: determinism and snapshots.
#[cfg(test)]
mod tests {
    use market::{MarketRules, OrderType, Side};
    use time::macros::datetime;

    use super::test_support::{at, engine, lo, req};
    use super::{Engine, EngineState};
    use crate::types::EventRecord;

    fn script(e: &mut Engine) -> Vec<EventRecord> {
        at(e, 9, 0);
        lo(e, "A", "FPT", Side::Sell, 100_000, 300);
        e.submit(req("B", "FPT", Side::Buy, OrderType::Ato, None, 200))
            .unwrap();
        at(e, 9, 30);
        lo(e, "C", "FPT", Side::Buy, 100_100, 200);
        let _ = e.submit(req("C", "FPT", Side::Buy, OrderType::Mtl, None, 100));
        at(e, 14, 31);
        e.submit(req("A", "FPT", Side::Sell, OrderType::Atc, None, 100))
            .unwrap();
        e.advance_to(datetime!(2025-06-03 10:00 +7)).unwrap();
        e.drain_events()
    }

    #[test]
    fn same_inputs_give_the_same_events() {
        let a = script(&mut engine());
        let b = script(&mut engine());
        assert!(!a.is_empty());
        assert_eq!(a, b);
    }

    #[test]
    fn a_restored_snapshot_continues_exactly_like_the_original() {
        let mut e = engine();
        at(&mut e, 9, 5);
        lo(&mut e, "A", "FPT", Side::Sell, 100_000, 300);
        e.submit(req("B", "FPT", Side::Buy, OrderType::Ato, None, 200))
            .unwrap();
        lo(&mut e, "C", "SHS", Side::Buy, 19_000, 100);
        let text = serde_json::to_string(e.state()).unwrap();
        let state: EngineState = serde_json::from_str(&text).unwrap();
        let rules = MarketRules::default();
        let mut r = Engine::from_state(rules.clone(), rules.calendar().unwrap(), state);
        assert_eq!(r.state(), e.state());
        for x in [&mut e, &mut r] {
            at(x, 10, 0);
            lo(x, "C", "FPT", Side::Buy, 100_000, 100);
        }
        assert_eq!(e.drain_events(), r.drain_events());
        assert_eq!(e.state(), r.state());
    }
}
