//! The engine: books, sessions, matching, accounts and events for a set of instruments.
//!
//! Deterministic and IO-free: the caller passes the time ([`Engine::advance_to`]), the
//! orders and the deals; the engine never reads a clock. Iteration is over ordered maps
//! only, so the same inputs give the same events. [`EngineState`] is the whole mutable
//! state and is serde-serialisable; rules and calendar are configuration the caller
//! supplies again on restore ([`Engine::from_state`]).

use std::collections::{BTreeMap, BTreeSet};

use market::foreign::ForeignRoom;
use market::limits::{LimitCase, PriceLimits, upcom_reference};
use market::order::{
    Amendment, Priority, carried_close, check_amend, check_cancel, closing_price, funding_price,
    order_expires, trade_sets_close,
};
use market::session::TimeOfDay;
use market::ticker::{TickerKind, classify_with};
use market::{
    Board, InstrumentKind, MarketRules, OrderContext, OrderType, Phase, Price, Quantity, Security,
    SessionState, Side, Symbol, TradingCalendar, Violation, Violations, Vnd, validate_order,
};
use serde::{Deserialize, Serialize};
use time::macros::offset;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::account::Account;
use crate::auction::{self, AuctionOrder, AuctionRules, ImpliedInputs, Uncross};
use crate::book::{Book, BookEntry};
use crate::error::Error;
use crate::types::{
    AccountId, CancelReason, ChangeRejection, Event, EventRecord, Fill, OrderId, OrderRecord,
    OrderRequest, OrderStatus, PutThroughDeal, RejectReason, Trade, TradeId, TradeKind,
};

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
    /// At the end of each trading day, set the next day's reference price (HOSE, HNX,
    /// futures: the close; UPCoM: `market::limits::upcom_reference`, reference §5.3) and
    /// recompute the normal band with `MarketRules::price_limits`. Off when the caller
    /// publishes limits itself. Covered warrants and bonds are never rolled.
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

    // ----- queries ------------------------------------------------------------------

    /// One order.
    pub fn order(&self, id: OrderId) -> Option<&OrderRecord> {
        self.state.orders.get(&id)
    }

    /// Every order since the engine started (less those [forgotten](Engine::forget)), in id
    /// order.
    pub fn orders(&self) -> impl Iterator<Item = &OrderRecord> {
        self.state.orders.values()
    }

    /// Drops a final order (filled, cancelled, expired or rejected) from the engine's memory
    /// and snapshots, e.g. a market maker's replaced quotes that nobody will ask about. Its id is
    /// never handed out again; events already emitted keep referring to it. A working order is
    /// refused: it is still in a book and may hold cash or shares.
    pub fn forget(&mut self, id: OrderId) -> Result<OrderRecord, Error> {
        let status = self.record(id)?.status;
        if !status.is_final() {
            return Err(Error::StillWorking(id));
        }
        self.state.orders.remove(&id).ok_or(Error::UnknownOrder(id))
    }

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

    /// One account.
    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.state.accounts.get(id)
    }

    /// Every account, by id.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.state.accounts.values()
    }

    /// One instrument.
    pub fn instrument(&self, symbol: Symbol) -> Option<&Instrument> {
        self.state.instruments.get(&symbol)
    }

    /// Every instrument, by symbol.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.state.instruments.values()
    }

    /// Takes the events emitted since the last call, oldest first.
    pub fn drain_events(&mut self) -> Vec<EventRecord> {
        std::mem::take(&mut self.state.events)
    }

    /// The best `levels` price levels of both sides of a board (ATO/ATC orders waiting for
    /// an auction have no price and are not shown).
    pub fn depth(&self, symbol: Symbol, board: Board, levels: usize) -> Result<Depth, Error> {
        let inst = self.instrument_ref(symbol)?;
        let book = &inst.board(board).book;
        let mut out = Depth::default();
        for side in [Side::Buy, Side::Sell] {
            let mut lv: Vec<Level> = Vec::with_capacity(levels);
            for e in book.priced(side) {
                let (Some(price), Some(o)) = (e.price, self.order(e.order)) else {
                    continue;
                };
                let q = o.remaining();
                match lv.last_mut() {
                    Some(l) if l.price == price => {
                        l.quantity = l.quantity.checked_add(q)?;
                        l.orders = l.orders.saturating_add(1);
                    }
                    Some(_) | None => {
                        if lv.len() == levels {
                            break;
                        }
                        lv.push(Level {
                            price,
                            quantity: q,
                            orders: 1,
                        });
                    }
                }
            }
            match side {
                Side::Buy => out.bids = lv,
                Side::Sell => out.asks = lv,
            }
        }
        Ok(out)
    }

    /// The price and volume the board's call auction would produce now (indicative price
    /// during ATO/ATC/PCA, reference §3.4); `None` if nothing would match.
    pub fn indicative_auction(
        &self,
        symbol: Symbol,
        board: Board,
    ) -> Result<Option<Uncross>, Error> {
        let orders = self.auction_orders(symbol, board)?;
        let base = self.auction_base(symbol, board)?;
        Ok(auction::discover(&orders, base, &self.state.config.auction))
    }

    /// Buying power of an account (cash minus holds of open orders incl. fees, minus
    /// futures margin; SSI `purchasingPower`).
    pub fn buying_power(&self, account: &AccountId) -> Result<Vnd, Error> {
        self.account_ref(account)?.buying_power()
    }

    /// Sellable quantity now (T+2 13:00 rule of `market`, reference §7.1).
    pub fn sellable(&self, account: &AccountId, symbol: Symbol) -> Result<Quantity, Error> {
        let clock = self.clock_now()?;
        self.account_ref(account)?.sellable(
            &self.rules,
            &self.calendar,
            &symbol,
            clock.date,
            clock.time,
        )
    }

    /// SSI `maxBuyQty`: the largest order quantity buying power covers at `price`
    /// (default: the ceiling, how orders without a price are funded), value plus fees for
    /// equities (reference §8) or initial margin plus fees for futures (§7.4), in whole
    /// lots for the round-lot board, capped by the per-order maximum and live foreign
    /// room (§6, §9).
    pub fn max_buy_qty(
        &self,
        account: &AccountId,
        symbol: Symbol,
        board: Board,
        price: Option<Price>,
    ) -> Result<Quantity, Error> {
        let acct = self.account_ref(account)?;
        let inst = self.instrument_ref(symbol)?;
        let sec = inst.security;
        let price = funding_price(price, sec.limits).ok_or(Error::NoLimits(sec.symbol))?;
        let bp = acct.buying_power()?;
        let mut cap = self.board_cap(&sec, board);
        if acct.investor.is_foreign()
            && let Some(room) = inst.foreign_room
        {
            cap = cap.min(room.current.units());
        }
        self.max_affordable(acct, &sec, Side::Buy, price, bp, board, cap)
    }

    /// SSI `maxSellQty`: sellable shares (T+2 rule) for equities, in whole lots on the
    /// round-lot board and capped per order; for futures, the long position plus the short
    /// contracts margin covers at `price` (default the ceiling).
    pub fn max_sell_qty(
        &self,
        account: &AccountId,
        symbol: Symbol,
        board: Board,
        price: Option<Price>,
    ) -> Result<Quantity, Error> {
        let acct = self.account_ref(account)?;
        let inst = self.instrument_ref(symbol)?;
        let sec = inst.security;
        let cap = self.board_cap(&sec, board);
        if sec.kind == InstrumentKind::IndexFuture {
            let price = funding_price(price, sec.limits).ok_or(Error::NoLimits(sec.symbol))?;
            let long = acct
                .futures
                .get(&symbol)
                .map_or(0, |f| f.net.max(0).unsigned_abs());
            let bp = acct.buying_power()?;
            let open = self.max_affordable(acct, &sec, Side::Sell, price, bp, board, cap)?;
            return Ok(Quantity::new(long.saturating_add(open.units()).min(cap)));
        }
        let clock = self.clock_now()?;
        let s = acct
            .sellable(&self.rules, &self.calendar, &symbol, clock.date, clock.time)?
            .units();
        let lot = self.rules.lots.round_lot(sec.exchange).max(1);
        let q = match board {
            Board::Main => s - s % lot,
            Board::OddLot => s % lot,
            Board::PutThrough => s,
        };
        Ok(Quantity::new(q.min(cap)))
    }

    fn board_cap(&self, sec: &Security, board: Board) -> u64 {
        let lot = self.rules.lots.round_lot(sec.exchange).max(1);
        match board {
            Board::Main => self
                .rules
                .lots
                .max_order_quantity(sec.exchange)
                .unwrap_or(u64::MAX),
            Board::OddLot => lot - 1,
            Board::PutThrough => u64::MAX,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn max_affordable(
        &self,
        acct: &Account,
        sec: &Security,
        side: Side,
        price: Price,
        bp: Vnd,
        board: Board,
        cap: u64,
    ) -> Result<Quantity, Error> {
        let step = match board {
            Board::Main => self.rules.lots.round_lot(sec.exchange).max(1),
            Board::OddLot | Board::PutThrough => 1,
        };
        if bp.amount() <= 0 {
            return Ok(Quantity::ZERO);
        }
        let per_unit = match sec.kind {
            InstrumentKind::IndexFuture => self
                .rules
                .settlement
                .futures_initial_margin(price, 1)?
                .amount()
                .max(1),
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::CoveredWarrant
            | InstrumentKind::Bond => price.units(),
        };
        let upper = u64::try_from(bp.amount() / per_unit).unwrap_or(0).min(cap) / step;
        let need = |units: u64| -> Result<Vnd, Error> {
            let q = Quantity::new(units * step);
            let cost = acct.cost(&self.rules, sec.kind, side, price, q)?;
            match sec.kind {
                InstrumentKind::IndexFuture => Ok(self
                    .rules
                    .settlement
                    .futures_initial_margin(price, q.units())?
                    .checked_add(cost.total_cost)?),
                InstrumentKind::Stock
                | InstrumentKind::FundCertificate
                | InstrumentKind::Etf
                | InstrumentKind::CoveredWarrant
                | InstrumentKind::Bond => Ok(cost.gross_value.checked_add(cost.total_cost)?),
            }
        };
        let (mut lo, mut hi) = (0u64, upper);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if need(mid)? <= bp {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(Quantity::new(lo * step))
    }

    // ----- time ---------------------------------------------------------------------

    /// Moves the engine clock to `now` (any offset; converted to UTC+7) and performs every
    /// session transition on the way, in time order (reference §2): call auctions uncross
    /// when their phase ends, ATO/ATC remainders are cancelled, day orders expire after
    /// the closing auction (or the close), PLO matches from 14:55 and expires at 15:00,
    /// sale proceeds become usable at T+2 13:00. The first call only sets the clock.
    pub fn advance_to(&mut self, now: OffsetDateTime) -> Result<(), Error> {
        let (date, time) = TradingCalendar::local(now);
        let target = Clock { date, time };
        let Some(mut cur) = self.state.clock else {
            self.state.clock = Some(target);
            self.state.instant = Some(now);
            let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
            for s in syms {
                self.refresh_symbol(s, true)?;
            }
            return Ok(());
        };
        if target < cur {
            return Err(Error::TimeWentBackwards {
                now: format!("{} {}", cur.date, cur.time),
                asked: format!("{date} {time}"),
            });
        }
        while cur.date < date {
            self.run_boundaries(cur.date, cur.time, TimeOfDay::from_seconds(86_399))?;
            self.end_of_day(cur.date)?;
            let next = cur.date.next_day().ok_or(Error::Calendar(cur.date))?;
            cur = Clock {
                date: next,
                time: TimeOfDay::from_seconds(0),
            };
            self.set_clock(cur);
            let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
            for s in syms {
                self.refresh_symbol(s, false)?;
            }
        }
        self.run_boundaries(cur.date, cur.time, time)?;
        self.state.clock = Some(target);
        self.state.instant = Some(now);
        for a in self.state.accounts.values_mut() {
            a.roll_receivables(date, time)?;
        }
        Ok(())
    }

    fn set_clock(&mut self, c: Clock) {
        self.state.clock = Some(c);
        let t = Time::from_hms(
            u8::try_from(c.time.seconds() / 3600).unwrap_or(0),
            u8::try_from(c.time.seconds() / 60 % 60).unwrap_or(0),
            u8::try_from(c.time.seconds() % 60).unwrap_or(0),
        )
        .unwrap_or(Time::MIDNIGHT);
        self.state.instant = Some(PrimitiveDateTime::new(c.date, t).assume_offset(offset!(+7)));
    }

    fn run_boundaries(&mut self, date: Date, from: TimeOfDay, to: TimeOfDay) -> Result<(), Error> {
        let mut points: BTreeSet<TimeOfDay> = BTreeSet::new();
        for inst in self.state.instruments.values() {
            for board in [Board::Main, Board::OddLot] {
                let key = self.key(&inst.security, board);
                if let Some(tt) = self.calendar.sessions().timetable(&key, date) {
                    for seg in &tt.segments {
                        for t in [seg.start, seg.end] {
                            if from < t && t <= to {
                                points.insert(t);
                            }
                        }
                    }
                }
            }
        }
        let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
        for t in points {
            self.set_clock(Clock { date, time: t });
            for s in &syms {
                self.refresh_symbol(*s, false)?;
            }
        }
        Ok(())
    }

    fn key(&self, sec: &Security, board: Board) -> market::SessionKey {
        self.rules
            .session_key(sec.exchange, sec.kind, sec.status, board)
    }

    fn timetable_session(&self, inst: &Instrument, board: Board, c: Clock) -> SessionState {
        let s = self
            .calendar
            .session_at(c.date, c.time, &self.key(&inst.security, board));
        if inst.halted { s.halted() } else { s }
    }

    /// The session of a board now, as `market` sees it (cached phase, current time).
    fn session_now(&self, inst: &Instrument, board: Board) -> Result<SessionState, Error> {
        let c = self.clock_now()?;
        if board == Board::PutThrough {
            return Ok(self.timetable_session(inst, board, c));
        }
        let b = inst.board(board);
        Ok(SessionState {
            date: c.date,
            time: c.time,
            trading_day: b.trading_day,
            phase: b.phase,
            phase_end: b.phase_end,
        })
    }

    fn refresh_symbol(&mut self, sym: Symbol, silent: bool) -> Result<(), Error> {
        let c = self.clock_now()?;
        for board in [Board::Main, Board::OddLot] {
            let inst = self.instrument_ref(sym)?;
            let s = self.timetable_session(inst, board, c);
            let from = inst.board(board).phase;
            {
                let b = self.instrument_mut(sym)?.board_mut(board);
                b.phase_end = s.phase_end;
                b.trading_day = s.trading_day;
            }
            if s.phase != from {
                if silent {
                    self.instrument_mut(sym)?.board_mut(board).phase = s.phase;
                } else {
                    self.transition(sym, board, from, s.phase)?;
                }
            }
        }
        Ok(())
    }

    fn transition(
        &mut self,
        sym: Symbol,
        board: Board,
        from: Phase,
        to: Phase,
    ) -> Result<(), Error> {
        if from.is_call_auction() {
            self.run_auction(sym, board, from)?;
        }
        self.instrument_mut(sym)?.board_mut(board).phase = to;
        self.emit(Event::PhaseChanged {
            symbol: sym,
            board,
            from,
            to,
        });
        if board == Board::Main && to.ends_day_orders() {
            self.fix_close(sym, None)?;
        }
        if to == Phase::PloMatching {
            self.uncross(sym, board, TradeKind::PostClose)?;
        }
        if to.ends_day_orders() {
            let entries = self.instrument_ref(sym)?.board(board).book.entries();
            for e in entries {
                let expires = self
                    .order(e.order)
                    .is_none_or(|o| order_expires(o.order_type, to));
                if expires {
                    self.close_open(e.order, Close::Expire)?;
                }
            }
        }
        Ok(())
    }

    /// Fixes today's close if not yet fixed with `market::order::closing_price`: the ATC
    /// price (`atc_price`, when the main board's ATC just traded), else the last trade of
    /// the day on the main board, else none (the previous close carries over, reference
    /// §3.4).
    fn fix_close(&mut self, sym: Symbol, atc_price: Option<Price>) -> Result<(), Error> {
        let inst = self.instrument_mut(sym)?;
        if inst.closing_fixed {
            return Ok(());
        }
        inst.closing_fixed = true;
        inst.closing_price = closing_price(atc_price, inst.main.last_price);
        let price = inst.closing_price;
        self.emit(Event::ClosingPrice { symbol: sym, price });
        Ok(())
    }

    fn end_of_day(&mut self, date: Date) -> Result<(), Error> {
        let syms: Vec<Symbol> = self.state.instruments.keys().copied().collect();
        let trading_day = self.calendar.is_trading_day(date);
        for sym in syms {
            for board in [Board::Main, Board::OddLot] {
                let entries = self.instrument_ref(sym)?.board(board).book.entries();
                for e in entries {
                    self.close_open(e.order, Close::Expire)?;
                }
            }
            if trading_day {
                self.fix_close(sym, None)?;
                if self.state.config.roll_reference {
                    self.roll_reference(sym)?;
                }
            }
            let inst = self.instrument_mut(sym)?;
            if inst.main.trades > 0 {
                inst.security.awaiting_first_match = false;
            }
            inst.main.reset_day();
            inst.odd_lot.reset_day();
            inst.put_through.reset_day();
            inst.closing_price = None;
            inst.closing_fixed = false;
            inst.continuous_trades.clear();
        }
        for a in self.state.accounts.values_mut() {
            a.daily_value = Vnd::ZERO;
            for f in a.futures.values_mut() {
                f.realised = Vnd::ZERO;
            }
        }
        Ok(())
    }

    /// Next day's reference (reference §5.3): previous close on HOSE/HNX (and, as a proxy
    /// for the VSDC settlement price, futures); round-lot continuous VWAP on UPCoM via
    /// `market::limits::upcom_reference`. The band comes from `MarketRules::price_limits`.
    fn roll_reference(&mut self, sym: Symbol) -> Result<(), Error> {
        let inst = self.instrument_ref(sym)?;
        let sec = inst.security;
        let lim = inst.limits()?;
        match sec.kind {
            InstrumentKind::CoveredWarrant | InstrumentKind::Bond => return Ok(()),
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::IndexFuture => {}
        }
        let reference = match sec.exchange {
            market::Exchange::Upcom => {
                let trades: Vec<(Price, Quantity)> = inst
                    .continuous_trades
                    .iter()
                    .map(|(p, q)| (*p, *q))
                    .collect();
                upcom_reference(
                    &self.rules.limits,
                    &self.rules.ticks,
                    &trades,
                    lim.reference,
                )?
            }
            market::Exchange::Hose | market::Exchange::Hnx | market::Exchange::HnxDeriv => {
                carried_close(inst.closing_price, lim.reference)
            }
        };
        let limits =
            self.rules
                .price_limits(sec.exchange, sec.kind, reference, LimitCase::Normal)?;
        self.instrument_mut(sym)?.security.limits = Some(limits);
        self.emit(Event::ReferenceRolled {
            symbol: sym,
            limits,
        });
        Ok(())
    }

    // ----- orders -------------------------------------------------------------------

    /// Enters an order: pre-trade checks with `market::validate_order` (exchange rules
    /// and account facts: buying power, sellable quantity, foreign room, futures position)
    /// plus a fee-inclusive hold check, then matching per the board's phase. Emits
    /// `OrderAccepted` then fills, or `OrderRejected`.
    pub fn submit(&mut self, req: OrderRequest) -> Result<OrderId, Error> {
        let id = self.next_order_id()?;
        let clock = self.state.clock;
        let mut rec = OrderRecord {
            id,
            account: req.account.clone(),
            symbol: req.symbol,
            board: req.board,
            side: req.side,
            order_type: req.order_type,
            price: req.price,
            quantity: req.quantity,
            filled: Quantity::ZERO,
            filled_value: Vnd::ZERO,
            status: OrderStatus::Queued,
            date: clock.map_or(Date::MIN, |c| c.date),
            entered_at: clock.map_or(TimeOfDay::from_seconds(0), |c| c.time),
            entered_phase: Phase::Closed,
            converted: false,
            seq: 0,
            resting: false,
        };
        match self.check_new(&req) {
            Ok((hold, phase, plo_price)) => {
                rec.entered_phase = phase;
                if req.order_type == OrderType::Plo {
                    rec.price = plo_price;
                }
                self.accept(rec, hold)?;
                match phase {
                    Phase::Continuous => self.match_continuous(id, TradeKind::Continuous)?,
                    Phase::PloMatching => self.match_continuous(id, TradeKind::PostClose)?,
                    Phase::Closed
                    | Phase::PreOpen
                    | Phase::OpeningAuction
                    | Phase::Break
                    | Phase::PeriodicAuction(_)
                    | Phase::ClosingAuction
                    | Phase::PloCollection
                    | Phase::PutThrough
                    | Phase::PutThroughAfterHours
                    | Phase::PutThroughOnly
                    | Phase::Halted => self.rest(id)?,
                }
                Ok(id)
            }
            Err(reason) => {
                rec.status = OrderStatus::Rejected;
                self.state.orders.insert(rec.id, rec.clone());
                self.emit(Event::OrderRejected {
                    order: rec,
                    reason: reason.clone(),
                });
                Err(Error::Rejected { order: id, reason })
            }
        }
    }

    /// Checks a new order; returns the hold, the board phase and the PLO price.
    fn check_new(&self, req: &OrderRequest) -> Result<(Vnd, Phase, Option<Price>), RejectReason> {
        let clock = self.state.clock.ok_or(RejectReason::ClockNotSet)?;
        if req.board == Board::PutThrough {
            return Err(RejectReason::PutThroughNotMatched);
        }
        let acct =
            self.state
                .accounts
                .get(&req.account)
                .ok_or_else(|| RejectReason::UnknownAccount {
                    account: req.account.clone(),
                })?;
        let inst = self
            .state
            .instruments
            .get(&req.symbol)
            .ok_or(RejectReason::UnknownSecurity { symbol: req.symbol })?;
        let session = self
            .session_now(inst, req.board)
            .map_err(|_| RejectReason::ClockNotSet)?;
        let order = market::Order {
            side: req.side,
            order_type: req.order_type,
            board: req.board,
            price: req.price,
            quantity: req.quantity,
        };
        let ctx = self
            .context(acct, inst, req.board, req.side, session.phase, clock)
            .map_err(|_| RejectReason::Overflow)?;
        validate_order(&order, &inst.security, &session, &ctx)
            .map_err(|violations| RejectReason::Rules { violations })?;
        let plo_price = if req.order_type == OrderType::Plo {
            inst.closing_price
        } else {
            req.price
        };
        let hold = self
            .required_hold(acct, inst, req.side, plo_price, req.quantity)
            .map_err(|_| RejectReason::Overflow)?;
        let bp = ctx.buying_power.unwrap_or(Vnd::ZERO);
        if hold > bp && !acct.investor.uses_non_prefunding() {
            return Err(RejectReason::InsufficientBuyingPower {
                required: hold,
                available: bp,
            });
        }
        Ok((hold, session.phase, plo_price))
    }

    fn context<'a>(
        &'a self,
        acct: &Account,
        inst: &Instrument,
        board: Board,
        side: Side,
        phase: Phase,
        clock: Clock,
    ) -> Result<OrderContext<'a>, Error> {
        let sec = &inst.security;
        let futures = sec.kind == InstrumentKind::IndexFuture;
        let sellable = if !futures && side == Side::Sell {
            Some(acct.sellable(
                &self.rules,
                &self.calendar,
                &sec.symbol,
                clock.date,
                clock.time,
            )?)
        } else {
            None
        };
        let opposite_in_auction = phase.is_call_auction()
            && acct.working.iter().any(|id| {
                self.order(*id).is_some_and(|o| {
                    o.symbol == sec.symbol
                        && o.board == board
                        && o.side != side
                        && o.date == clock.date
                        && o.entered_phase == phase
                })
            });
        Ok(OrderContext {
            rules: &self.rules,
            investor: acct.investor,
            buying_power: Some(acct.buying_power()?),
            sellable,
            foreign_room: inst.foreign_room.map(|r| r.current),
            has_closing_price: inst.closing_fixed && inst.closing_price.is_some(),
            opposite_order_in_auction: opposite_in_auction,
            opposite_side_empty: inst.board(board).book.is_side_empty(opposite(side)),
            futures_position: if futures {
                self.futures_in_scope(acct, sec.symbol)
            } else {
                None
            },
        })
    }

    /// Net futures position in scope for the position limit (`LotRules::position_in_scope`).
    fn futures_in_scope(&self, acct: &Account, symbol: Symbol) -> Option<i64> {
        let contract = |s: &Symbol| match classify_with(s.as_str(), &self.rules.tickers) {
            Ok(TickerKind::Future { contract, .. }) => Some(contract),
            Ok(
                TickerKind::Stock
                | TickerKind::Etf
                | TickerKind::FundCertificate
                | TickerKind::CoveredWarrant { .. }
                | TickerKind::FutureAlias(_),
            )
            | Err(_) => None,
        };
        let this = contract(&symbol)?;
        let positions: Vec<_> = acct
            .futures
            .iter()
            .filter_map(|(s, f)| contract(s).map(|c| (c, f.net)))
            .collect();
        Some(self.rules.lots.position_in_scope(&positions, &this))
    }

    /// Cash an open order ties up: equities buy = value at the funding price
    /// (`market::order::funding_price`: its price, or the ceiling for orders without one)
    /// plus fees; futures = initial margin on the contracts that add exposure plus fees
    /// (reference §7.1, §7.4, §8).
    fn required_hold(
        &self,
        acct: &Account,
        inst: &Instrument,
        side: Side,
        price: Option<Price>,
        remaining: Quantity,
    ) -> Result<Vnd, Error> {
        if remaining == Quantity::ZERO {
            return Ok(Vnd::ZERO);
        }
        let sec = &inst.security;
        let price = funding_price(price, sec.limits).ok_or(Error::NoLimits(sec.symbol))?;
        match sec.kind {
            InstrumentKind::IndexFuture => {
                let before = acct.futures.get(&sec.symbol).map_or(0, |f| f.net);
                let q = remaining.as_i64()?;
                let after = match side {
                    Side::Buy => before.saturating_add(q),
                    Side::Sell => before.saturating_sub(q),
                };
                let opening = after.unsigned_abs().saturating_sub(before.unsigned_abs());
                let margin = self
                    .rules
                    .settlement
                    .futures_initial_margin(price, opening)?;
                let cost = acct.cost(&self.rules, sec.kind, side, price, remaining)?;
                Ok(margin.checked_add(cost.total_cost)?)
            }
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::CoveredWarrant
            | InstrumentKind::Bond => match side {
                Side::Sell => Ok(Vnd::ZERO),
                Side::Buy => {
                    let cost = acct.cost(&self.rules, sec.kind, side, price, remaining)?;
                    Ok(cost.net_cash.checked_neg()?)
                }
            },
        }
    }

    fn accept(&mut self, mut rec: OrderRecord, hold: Vnd) -> Result<(), Error> {
        rec.seq = self.next_seq();
        let id = rec.id;
        let kind = self.instrument_ref(rec.symbol)?.security.kind;
        let (sym, side, q) = (rec.symbol, rec.side, rec.quantity);
        let acct = self.account_mut(&rec.account)?;
        acct.set_hold(id, hold)?;
        acct.working.insert(id);
        let foreign = acct.investor.is_foreign();
        if side == Side::Sell && kind.is_cash_equity() {
            acct.add_sell_hold(sym, q, Quantity::ZERO);
        }
        if foreign && side == Side::Buy && kind.is_cash_equity() {
            let inst = self.instrument_mut(sym)?;
            if let Some(room) = inst.foreign_room {
                inst.foreign_room = Some(room.reserve(q).unwrap_or(ForeignRoom {
                    current: Quantity::ZERO,
                    ..room
                }));
            }
        }
        self.state.orders.insert(rec.id, rec.clone());
        self.emit(Event::OrderAccepted { order: rec });
        Ok(())
    }

    fn next_seq(&mut self) -> u64 {
        self.state.next_seq += 1;
        self.state.next_seq
    }

    fn rest(&mut self, id: OrderId) -> Result<(), Error> {
        let o = self.record_mut(id)?;
        if o.resting || o.status.is_final() {
            return Ok(());
        }
        o.resting = true;
        let entry = BookEntry {
            side: o.side,
            price: o.price,
            seq: o.seq,
            order: id,
        };
        let (sym, board) = (o.symbol, o.board);
        self.instrument_mut(sym)?
            .board_mut(board)
            .book
            .insert(entry);
        Ok(())
    }

    fn unrest(&mut self, id: OrderId) -> Result<(), Error> {
        let o = self.record_mut(id)?;
        if !o.resting {
            return Ok(());
        }
        o.resting = false;
        let (sym, board, side, price, seq) = (o.symbol, o.board, o.side, o.price, o.seq);
        self.instrument_mut(sym)?
            .board_mut(board)
            .book
            .remove(side, price, seq);
        Ok(())
    }

    /// Continuous matching of an incoming order at the resting orders' prices (reference
    /// §3.4), with MOK/MAK/MTL handling (§3.1) and self-trade prevention (§3.5).
    fn match_continuous(&mut self, id: OrderId, kind: TradeKind) -> Result<(), Error> {
        let (sym, board, side, otype, account) = {
            let o = self.record(id)?;
            (o.symbol, o.board, o.side, o.order_type, o.account.clone())
        };
        let opp = opposite(side);
        let stp = self.state.config.self_trade;
        if otype == OrderType::Mok {
            let need = self.record(id)?.remaining();
            if self.fillable(id)? < need {
                return self.close_open(id, Close::Cancel(CancelReason::FillOrKill));
            }
        }
        let mut last_fill: Option<Price> = None;
        let mut stopped = false;
        loop {
            let o = self.record(id)?;
            let remaining = o.remaining();
            if remaining == Quantity::ZERO {
                break;
            }
            let limit = o.price;
            let Some(best) = self.instrument_ref(sym)?.board(board).book.best(opp) else {
                break;
            };
            let Some(best_price) = best.price else {
                break;
            };
            if let Some(l) = limit
                && !crosses(side, l, best_price)
            {
                break;
            }
            let resting = self.record(best.order)?;
            if resting.account == account {
                match stp {
                    SelfTradePrevention::Off => {}
                    SelfTradePrevention::CancelResting => {
                        self.close_open(best.order, Close::Cancel(CancelReason::SelfTrade))?;
                        continue;
                    }
                    SelfTradePrevention::CancelIncoming => {
                        stopped = true;
                        break;
                    }
                }
            }
            let q = remaining.min(resting.remaining());
            let (buy, sell) = match side {
                Side::Buy => (id, best.order),
                Side::Sell => (best.order, id),
            };
            self.execute(sym, board, buy, sell, best_price, q, Some(side), kind)?;
            last_fill = Some(best_price);
        }
        let o = self.record(id)?;
        if o.remaining() == Quantity::ZERO || o.status.is_final() {
            return Ok(());
        }
        if stopped {
            return self.close_open(id, Close::Cancel(CancelReason::SelfTrade));
        }
        match otype {
            OrderType::Lo | OrderType::Plo | OrderType::Ato | OrderType::Atc => self.rest(id),
            OrderType::Mtl => {
                if o.price.is_none() {
                    self.convert_mtl(id, last_fill)?;
                }
                self.rest(id)
            }
            OrderType::Mak => self.close_open(id, Close::Cancel(CancelReason::ImmediateOrCancel)),
            OrderType::Mok => self.close_open(id, Close::Cancel(CancelReason::FillOrKill)),
        }
    }

    /// Quantity an incoming market order could take now, honouring self-trade prevention.
    fn fillable(&self, id: OrderId) -> Result<Quantity, Error> {
        let o = self.record(id)?;
        let book = &self.instrument_ref(o.symbol)?.board(o.board).book;
        let mut total = Quantity::ZERO;
        for e in book.priced(opposite(o.side)) {
            let r = self.record(e.order)?;
            if r.account == o.account {
                match self.state.config.self_trade {
                    SelfTradePrevention::Off => {}
                    SelfTradePrevention::CancelResting => continue,
                    SelfTradePrevention::CancelIncoming => break,
                }
            }
            total = total.checked_add(r.remaining())?;
            if total >= o.remaining() {
                break;
            }
        }
        Ok(total)
    }

    /// MTL remainder → LO at `MarketRules::mtl_conversion_price` (reference §3.1).
    fn convert_mtl(&mut self, id: OrderId, last_fill: Option<Price>) -> Result<(), Error> {
        let o = self.record(id)?;
        let (sym, side) = (o.symbol, o.side);
        let inst = self.instrument_ref(sym)?;
        let lim = inst.limits()?;
        let last = last_fill
            .or(inst.board(o.board).last_price)
            .unwrap_or(lim.reference);
        let price = self.rules.mtl_conversion_price(
            inst.security.exchange,
            inst.security.kind,
            side,
            last,
            &lim,
        );
        let o = self.record_mut(id)?;
        o.price = Some(price);
        o.converted = true;
        let account = o.account.clone();
        self.refresh_hold(id)?;
        self.emit(Event::MtlConverted {
            order: id,
            account,
            price,
        });
        Ok(())
    }

    /// Books one execution: both orders, statistics, both accounts, events.
    #[allow(clippy::too_many_arguments)]
    fn execute(
        &mut self,
        sym: Symbol,
        board: Board,
        buy: OrderId,
        sell: OrderId,
        price: Price,
        q: Quantity,
        aggressor: Option<Side>,
        kind: TradeKind,
    ) -> Result<(), Error> {
        self.state.next_trade += 1;
        let trade = TradeId(self.state.next_trade);
        let clock = self.clock_now()?;
        let value = Vnd::new(price.units()).checked_mul(q.as_i64()?)?;
        for id in [buy, sell] {
            let o = self.record_mut(id)?;
            o.filled = o.filled.checked_add(q)?;
            o.filled_value = o.filled_value.checked_add(value)?;
            o.status = if o.remaining() == Quantity::ZERO {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            if o.status == OrderStatus::Filled {
                self.unrest(id)?;
            }
        }
        // Market statistics.
        let sec = {
            let inst = self.instrument_mut(sym)?;
            let b = inst.board_mut(board);
            // PLO trades happen at the close and never move the last price the close is
            // taken from (`market::order::trade_sets_close`, reference §3.4).
            if trade_sets_close(b.phase) {
                b.last_price = Some(price);
                b.open_price = b.open_price.or(Some(price));
                b.high = Some(b.high.map_or(price, |h| h.max(price)));
                b.low = Some(b.low.map_or(price, |l| l.min(price)));
            }
            b.volume = b.volume.checked_add(q)?;
            b.value = b.value.checked_add(value)?;
            b.trades += 1;
            if kind == TradeKind::Continuous && board == Board::Main {
                let e = inst.continuous_trades.entry(price).or_default();
                *e = e.checked_add(q)?;
            }
            inst.security
        };
        // Accounts.
        let mut fills = Vec::with_capacity(2);
        for (id, side, counterparty) in [(buy, Side::Buy, sell), (sell, Side::Sell, buy)] {
            let (account, filled, remaining) = {
                let o = self.record(id)?;
                (o.account.clone(), o.filled, o.remaining())
            };
            let rules = &self.rules;
            let sale_cash = match side {
                Side::Sell => rules
                    .settlement
                    .sale_cash_available_from(&self.calendar, clock.date),
                Side::Buy => None,
            };
            let acct = self
                .state
                .accounts
                .get_mut(&account)
                .ok_or_else(|| Error::UnknownAccount(account.clone()))?;
            let cost = acct.cost(rules, sec.kind, side, price, q)?;
            let foreign = acct.investor.is_foreign();
            match (sec.kind, side) {
                (InstrumentKind::IndexFuture, Side::Buy | Side::Sell) => {
                    acct.apply_futures(rules, sym, side, price, q, &cost)?;
                }
                (
                    InstrumentKind::Stock
                    | InstrumentKind::FundCertificate
                    | InstrumentKind::Etf
                    | InstrumentKind::CoveredWarrant
                    | InstrumentKind::Bond,
                    Side::Buy,
                ) => acct.apply_buy(sym, clock.date, q, &cost)?,
                (
                    InstrumentKind::Stock
                    | InstrumentKind::FundCertificate
                    | InstrumentKind::Etf
                    | InstrumentKind::CoveredWarrant
                    | InstrumentKind::Bond,
                    Side::Sell,
                ) => acct.apply_sell(sym, q, &cost, sale_cash, true)?,
            }
            if foreign && side == Side::Sell && sec.kind.is_cash_equity() {
                let inst = self.instrument_mut(sym)?;
                inst.foreign_room = inst.foreign_room.map(|r| r.on_foreign_sell(q));
            }
            self.refresh_hold(id)?;
            if remaining == Quantity::ZERO {
                self.account_mut(&account)?.working.remove(&id);
            }
            fills.push(Fill {
                order: id,
                account,
                symbol: sym,
                side,
                trade,
                price,
                quantity: q,
                filled,
                remaining,
                counterparty,
                cost,
            });
        }
        self.emit(Event::Trade(Trade {
            id: trade,
            symbol: sym,
            board,
            price,
            quantity: q,
            buy_order: buy,
            sell_order: sell,
            aggressor,
            kind,
        }));
        for f in fills {
            self.emit(Event::OrderFilled(f));
        }
        Ok(())
    }

    /// Recomputes the cash hold of an order for its open quantity.
    fn refresh_hold(&mut self, id: OrderId) -> Result<(), Error> {
        let o = self.record(id)?;
        let remaining = if o.status.is_final() {
            Quantity::ZERO
        } else {
            o.remaining()
        };
        let acct = self.account_ref(&o.account)?;
        let inst = self.instrument_ref(o.symbol)?;
        let hold = self.required_hold(acct, inst, o.side, o.price, remaining)?;
        let account = o.account.clone();
        self.account_mut(&account)?.set_hold(id, hold)
    }

    /// Ends the open part of an order: out of the book, holds and room released, event.
    fn close_open(&mut self, id: OrderId, how: Close) -> Result<(), Error> {
        self.unrest(id)?;
        let o = self.record_mut(id)?;
        if o.status.is_final() {
            return Ok(());
        }
        let open = o.remaining();
        o.status = match how {
            Close::Cancel(_) => OrderStatus::Cancelled,
            Close::Expire => OrderStatus::Expired,
        };
        let (account, sym, side, filled) = (o.account.clone(), o.symbol, o.side, o.filled);
        self.release(&account, sym, side, id, open)?;
        self.emit(match how {
            Close::Cancel(reason) => Event::OrderCancelled {
                order: id,
                account,
                symbol: sym,
                cancelled: open,
                filled,
                reason,
            },
            Close::Expire => Event::OrderExpired {
                order: id,
                account,
                symbol: sym,
                expired: open,
                filled,
            },
        });
        Ok(())
    }

    /// Releases what an order's open quantity `open` held: cash hold, sell hold, foreign
    /// room (reference §9: room restored on cancel/expiry).
    fn release(
        &mut self,
        account: &AccountId,
        sym: Symbol,
        side: Side,
        id: OrderId,
        open: Quantity,
    ) -> Result<(), Error> {
        let kind = self.instrument_ref(sym)?.security.kind;
        let acct = self.account_mut(account)?;
        acct.working.remove(&id);
        acct.set_hold(id, Vnd::ZERO)?;
        let foreign = acct.investor.is_foreign();
        if kind.is_cash_equity() {
            match side {
                Side::Sell => acct.add_sell_hold(sym, Quantity::ZERO, open),
                Side::Buy => {
                    if foreign {
                        let inst = self.instrument_mut(sym)?;
                        inst.foreign_room = inst.foreign_room.map(|r| r.release(open));
                    }
                }
            }
        }
        Ok(())
    }

    /// Cancels the open part of an order on request, if `market::order::check_cancel`
    /// allows it now (reference §3.3: not in call auctions, the break, PCA blackouts, PLO,
    /// executed deals).
    pub fn cancel(&mut self, id: OrderId) -> Result<(), Error> {
        match self.check_cancel_now(id) {
            Ok(()) => self.close_open(id, Close::Cancel(CancelReason::Requested)),
            Err(reason) => {
                self.emit(Event::CancelRejected {
                    order: id,
                    reason: reason.clone(),
                });
                Err(Error::ChangeRefused { order: id, reason })
            }
        }
    }

    fn working(&self, id: OrderId) -> Result<&OrderRecord, ChangeRejection> {
        let o = self
            .order(id)
            .ok_or(ChangeRejection::UnknownOrder { order: id })?;
        if o.status.is_final() {
            return Err(ChangeRejection::NotWorking {
                order: id,
                status: o.status,
            });
        }
        Ok(o)
    }

    fn check_cancel_now(&self, id: OrderId) -> Result<(), ChangeRejection> {
        let o = self.working(id)?;
        let inst = self
            .instrument_ref(o.symbol)
            .map_err(|_| ChangeRejection::UnknownOrder { order: id })?;
        let session = self
            .session_now(inst, o.board)
            .map_err(|_| ChangeRejection::UnknownOrder { order: id })?;
        check_cancel(
            &o.as_market_order(),
            o.filled,
            &session,
            self.rules.sessions.pca_amend_blackout_minutes,
        )
        .map_err(|violation| ChangeRejection::Window { violation })
    }

    /// Amends price **or** quantity (new total) of a working order, if
    /// `market::order::check_amend` allows it now (reference §3.3). A price change or a
    /// quantity increase loses time priority (re-queued, and re-matched in continuous
    /// trading); a decrease keeps it. The amended order must pass `validate_order`.
    pub fn amend(&mut self, id: OrderId, amendment: Amendment) -> Result<Priority, Error> {
        match self.check_amend_now(id, amendment) {
            Ok(priority) => {
                self.apply_amend(id, amendment, priority)?;
                Ok(priority)
            }
            Err(reason) => {
                self.emit(Event::AmendRejected {
                    order: id,
                    reason: reason.clone(),
                });
                Err(Error::ChangeRefused { order: id, reason })
            }
        }
    }

    fn check_amend_now(
        &self,
        id: OrderId,
        amendment: Amendment,
    ) -> Result<Priority, ChangeRejection> {
        let o = self.working(id)?;
        let unknown = |_| ChangeRejection::UnknownOrder { order: id };
        let inst = self.instrument_ref(o.symbol).map_err(unknown)?;
        let acct = self.account_ref(&o.account).map_err(unknown)?;
        let clock = self.clock_now().map_err(unknown)?;
        let session = self.session_now(inst, o.board).map_err(unknown)?;
        let current = o.as_market_order();
        let priority = check_amend(
            &current,
            o.filled,
            amendment,
            &session,
            self.rules.sessions.pca_amend_blackout_minutes,
        )
        .map_err(|violation| ChangeRejection::Window { violation })?;
        let (new_price, new_qty) = match amendment {
            Amendment::Price(p) => (Some(p), o.quantity),
            Amendment::Quantity(q) => (o.price, q),
        };
        let amended = market::Order {
            price: if o.order_type.carries_price() {
                new_price
            } else {
                None
            },
            quantity: new_qty,
            ..current
        };
        // Exchange rules (tick, band, lot, maximum) on the amended order.
        let ctx = OrderContext::exchange_only(&self.rules, acct.investor);
        validate_order(&amended, &inst.security, &session, &ctx)
            .map_err(|violations| ChangeRejection::Rules { violations })?;
        // Account facts: the amended open quantity against what this order already holds.
        let new_open = new_qty.saturating_sub(o.filled);
        let old_open = o.remaining();
        let kind = inst.security.kind;
        if o.side == Side::Sell && kind.is_cash_equity() && new_open > old_open {
            let sellable = acct
                .sellable(
                    &self.rules,
                    &self.calendar,
                    &o.symbol,
                    clock.date,
                    clock.time,
                )
                .map_err(overflow)?;
            if new_open.saturating_sub(old_open) > sellable {
                return Err(ChangeRejection::Rules {
                    violations: Violations(vec![Violation::InsufficientSellable {
                        requested: new_qty,
                        sellable: sellable.checked_add(old_open).map_err(overflow)?,
                    }]),
                });
            }
        }
        if o.side == Side::Buy
            && acct.investor.is_foreign()
            && kind.is_cash_equity()
            && let Some(room) = inst.foreign_room
            && self.rules.foreign.reject_when_room_insufficient
            && new_open.saturating_sub(old_open) > room.current
        {
            return Err(ChangeRejection::Rules {
                violations: Violations(vec![Violation::ForeignRoomExceeded {
                    requested: new_open.saturating_sub(old_open),
                    available: room.current,
                }]),
            });
        }
        let hold = self
            .required_hold(acct, inst, o.side, new_price, new_open)
            .map_err(overflow)?;
        let available = acct
            .buying_power()
            .and_then(|bp| Ok(bp.checked_add(acct.hold_of(id))?))
            .map_err(overflow)?;
        if hold > available && !acct.investor.uses_non_prefunding() {
            return Err(ChangeRejection::InsufficientBuyingPower {
                required: hold,
                available,
            });
        }
        Ok(priority)
    }

    fn apply_amend(
        &mut self,
        id: OrderId,
        amendment: Amendment,
        priority: Priority,
    ) -> Result<(), Error> {
        let lost = priority == Priority::Lost;
        if lost {
            self.unrest(id)?;
        }
        let seq = if lost { Some(self.next_seq()) } else { None };
        let o = self.record_mut(id)?;
        let old_open = o.remaining();
        match amendment {
            Amendment::Price(p) => o.price = Some(p),
            Amendment::Quantity(q) => o.quantity = q,
        }
        if let Some(s) = seq {
            o.seq = s;
        }
        let new_open = o.remaining();
        let (account, sym, side, board, price, quantity) = (
            o.account.clone(),
            o.symbol,
            o.side,
            o.board,
            o.price,
            o.quantity,
        );
        let inst = self.instrument_ref(sym)?;
        let kind = inst.security.kind;
        let phase = inst.board(board).phase;
        let acct = self.account_mut(&account)?;
        let foreign = acct.investor.is_foreign();
        if kind.is_cash_equity() {
            match side {
                Side::Sell => acct.add_sell_hold(
                    sym,
                    new_open.saturating_sub(old_open),
                    old_open.saturating_sub(new_open),
                ),
                Side::Buy => {
                    if foreign {
                        let inst = self.instrument_mut(sym)?;
                        inst.foreign_room = inst.foreign_room.map(|r| {
                            r.release(old_open.saturating_sub(new_open))
                                .reserve(new_open.saturating_sub(old_open))
                                .unwrap_or(ForeignRoom {
                                    current: Quantity::ZERO,
                                    ..r
                                })
                        });
                    }
                }
            }
        }
        self.refresh_hold(id)?;
        self.emit(Event::OrderAmended {
            order: id,
            account,
            price,
            quantity,
            priority,
        });
        if lost {
            match phase {
                Phase::Continuous => self.match_continuous(id, TradeKind::Continuous)?,
                Phase::PloMatching => self.match_continuous(id, TradeKind::PostClose)?,
                Phase::Closed
                | Phase::PreOpen
                | Phase::OpeningAuction
                | Phase::Break
                | Phase::PeriodicAuction(_)
                | Phase::ClosingAuction
                | Phase::PloCollection
                | Phase::PutThrough
                | Phase::PutThroughAfterHours
                | Phase::PutThroughOnly
                | Phase::Halted => self.rest(id)?,
            }
        }
        Ok(())
    }

    // ----- auctions -----------------------------------------------------------------

    fn auction_base(&self, sym: Symbol, board: Board) -> Result<Price, Error> {
        let inst = self.instrument_ref(sym)?;
        Ok(inst
            .board(board)
            .last_price
            .unwrap_or(inst.limits()?.reference))
    }

    /// Every order of a board's book as an auction order: LOs at their limit, ATO/ATC at
    /// the implied price of reference §3.4.
    fn auction_orders(&self, sym: Symbol, board: Board) -> Result<Vec<AuctionOrder>, Error> {
        let inst = self.instrument_ref(sym)?;
        let sec = inst.security;
        let lim = inst.limits()?;
        let book = &inst.board(board).book;
        let open = |e: &BookEntry| self.record(e.order).map(OrderRecord::remaining);
        let mut market_buy = Quantity::ZERO;
        for e in book.unpriced(Side::Buy) {
            market_buy = market_buy.checked_add(open(&e)?)?;
        }
        let mut market_sell = Quantity::ZERO;
        for e in book.unpriced(Side::Sell) {
            market_sell = market_sell.checked_add(open(&e)?)?;
        }
        let inputs = ImpliedInputs {
            best_bid: book.best(Side::Buy).and_then(|e| e.price),
            best_ask: book.best(Side::Sell).and_then(|e| e.price),
            last_or_reference: self.auction_base(sym, board)?,
            reference: lim.reference,
            ceiling: lim.ceiling,
            floor: lim.floor,
            market_buy,
            market_sell,
        };
        let ticks = &self.rules.ticks;
        let (implied_buy, implied_sell) = auction::implied_prices(
            &inputs,
            |p| ticks.tick_up(sec.exchange, sec.kind, board, p),
            |p| ticks.tick_down(sec.exchange, sec.kind, board, p),
        );
        let mut out = Vec::with_capacity(book.len());
        for e in book.entries() {
            let limit = match (e.price, e.side) {
                (Some(p), Side::Buy | Side::Sell) => p,
                (None, Side::Buy) => implied_buy,
                (None, Side::Sell) => implied_sell,
            };
            out.push(AuctionOrder {
                order: e.order,
                side: e.side,
                limit,
                seq: e.seq,
                quantity: open(&e)?,
            });
        }
        Ok(out)
    }

    /// Uncrosses the book at one price (reference §3.4) and books the trades.
    fn uncross(
        &mut self,
        sym: Symbol,
        board: Board,
        kind: TradeKind,
    ) -> Result<Option<Uncross>, Error> {
        let orders = self.auction_orders(sym, board)?;
        let base = match kind {
            TradeKind::PostClose => match self.instrument_ref(sym)?.closing_price {
                Some(p) => p,
                None => self.auction_base(sym, board)?,
            },
            TradeKind::Continuous | TradeKind::Auction | TradeKind::PutThrough => {
                self.auction_base(sym, board)?
            }
        };
        let result = auction::discover(&orders, base, &self.state.config.auction);
        if let Some(u) = result {
            for a in auction::allocate(&orders, u.price, u.volume) {
                self.execute(sym, board, a.buy, a.sell, u.price, a.quantity, None, kind)?;
            }
        }
        Ok(result)
    }

    /// End of a call auction: uncross, report, cancel ATO/ATC remainders (reference §3.1),
    /// fix the close after the ATC (reference §3.4).
    fn run_auction(&mut self, sym: Symbol, board: Board, phase: Phase) -> Result<(), Error> {
        let result = self.uncross(sym, board, TradeKind::Auction)?;
        self.emit(Event::AuctionUncrossed {
            symbol: sym,
            board,
            phase,
            price: result.map(|u| u.price),
            volume: result.map_or(Quantity::ZERO, |u| u.volume),
        });
        let book = &self.instrument_ref(sym)?.board(board).book;
        let leftovers: Vec<BookEntry> = book
            .unpriced(Side::Buy)
            .chain(book.unpriced(Side::Sell))
            .collect();
        for e in leftovers {
            self.close_open(e.order, Close::Cancel(CancelReason::AuctionRemainder))?;
        }
        if phase == Phase::ClosingAuction && board == Board::Main {
            self.fix_close(sym, result.map(|u| u.price))?;
        }
        Ok(())
    }

    // ----- put-through --------------------------------------------------------------

    /// Executes a negotiated deal reported by both sides (reference §2.1): both sides are
    /// checked with `validate_order` on the put-through board (session window, minimum
    /// quantity, band, buying power, sellable, foreign room); no matching, no effect on
    /// the matched last price. Returns the trade id.
    pub fn put_through(&mut self, deal: PutThroughDeal) -> Result<TradeId, Error> {
        let mut ids = [OrderId(0); 2];
        let mut recs = Vec::with_capacity(2);
        let clock = self.state.clock;
        for (i, (side, account)) in [(Side::Buy, &deal.buyer), (Side::Sell, &deal.seller)]
            .into_iter()
            .enumerate()
        {
            let id = self.next_order_id()?;
            ids[i] = id;
            recs.push(OrderRecord {
                id,
                account: account.clone(),
                symbol: deal.symbol,
                board: Board::PutThrough,
                side,
                order_type: OrderType::Lo,
                price: Some(deal.price),
                quantity: deal.quantity,
                filled: Quantity::ZERO,
                filled_value: Vnd::ZERO,
                status: OrderStatus::Queued,
                date: clock.map_or(Date::MIN, |c| c.date),
                entered_at: clock.map_or(TimeOfDay::from_seconds(0), |c| c.time),
                entered_phase: Phase::Closed,
                converted: false,
                seq: 0,
                resting: false,
            });
        }
        let checked: Result<Vec<(Vnd, Phase)>, RejectReason> = if deal.buyer == deal.seller {
            Err(RejectReason::SameAccountDeal)
        } else {
            recs.iter().map(|r| self.check_deal_side(r)).collect()
        };
        match checked {
            Ok(sides) => {
                for (rec, (hold, phase)) in recs.into_iter().zip(sides) {
                    let mut rec = rec;
                    rec.entered_phase = phase;
                    self.accept(rec, hold)?;
                }
                self.execute(
                    deal.symbol,
                    Board::PutThrough,
                    ids[0],
                    ids[1],
                    deal.price,
                    deal.quantity,
                    None,
                    TradeKind::PutThrough,
                )?;
                Ok(TradeId(self.state.next_trade))
            }
            Err(reason) => {
                for mut rec in recs {
                    rec.status = OrderStatus::Rejected;
                    self.state.orders.insert(rec.id, rec.clone());
                    self.emit(Event::OrderRejected {
                        order: rec,
                        reason: reason.clone(),
                    });
                }
                Err(Error::Rejected {
                    order: ids[0],
                    reason,
                })
            }
        }
    }

    fn check_deal_side(&self, rec: &OrderRecord) -> Result<(Vnd, Phase), RejectReason> {
        let clock = self.state.clock.ok_or(RejectReason::ClockNotSet)?;
        let acct =
            self.state
                .accounts
                .get(&rec.account)
                .ok_or_else(|| RejectReason::UnknownAccount {
                    account: rec.account.clone(),
                })?;
        let inst = self
            .state
            .instruments
            .get(&rec.symbol)
            .ok_or(RejectReason::UnknownSecurity { symbol: rec.symbol })?;
        let session = self.timetable_session(inst, Board::PutThrough, clock);
        let ctx = self
            .context(
                acct,
                inst,
                Board::PutThrough,
                rec.side,
                session.phase,
                clock,
            )
            .map_err(|_| RejectReason::Overflow)?;
        validate_order(&rec.as_market_order(), &inst.security, &session, &ctx)
            .map_err(|violations| RejectReason::Rules { violations })?;
        let hold = self
            .required_hold(acct, inst, rec.side, rec.price, rec.quantity)
            .map_err(|_| RejectReason::Overflow)?;
        let bp = ctx.buying_power.unwrap_or(Vnd::ZERO);
        if hold > bp && !acct.investor.uses_non_prefunding() {
            return Err(RejectReason::InsufficientBuyingPower {
                required: hold,
                available: bp,
            });
        }
        Ok((hold, session.phase))
    }

    // ----- plumbing -----------------------------------------------------------------

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

#[cfg(test)]
mod tests;
