//! One backtest: bars through the TA service's studies and rules ([`ta::domain`]), the signals
//! through the decision engine's strategies ([`decision::domain`]), their orders through the
//! risk service's checks ([`risk::domain::Engine`]) into the exchange matching engine and
//! simulated broker account ([`matching::Engine`]: ticks, bands, lots, sessions, cash, T+2,
//! fees and the sale tax of `market`).
//!
//! How the market is modelled (bars carry no order book):
//! - A strategy decides on a bar's close; its limit order (at that close, as the decision
//!   engine orders at the last trade) is entered at the next bar's time: daily bars at 10:00
//!   of the next trading day (continuous trading on every exchange), intraday bars at the
//!   next bar's start. Its band is the day's: reference = the previous day's close.
//! - The next bar of the symbol is the market's trading: a buy fills if the bar's low
//!   reached its limit, a sale if the high did, at the order's limit (never better: no
//!   gap-open improvement is assumed), at most `participation` × the bar's volume per side.
//!   The fill comes from a counter-order of the market's account entered into the matching
//!   engine at the bar's low (high), so price-time priority, holds, fees, tax and settlement
//!   are the engine's. What is left expires at the end of the day like any day order.

use std::collections::{BTreeMap, HashMap};

use decision::domain::{Context, Intent, Positions, SignalFollower, Strategy};
use market::bars::vn_midnight;
use market::limits::LimitCase;
use market::tick::Rounding;
use market::validate::Security;
use market::{
    Board, Exchange, InstrumentKind, InvestorProfile, MarketRules, OrderType, Price, Quantity,
    SecurityStatus, Side, Symbol, TradingCalendar, Vnd,
};
use matching::{AccountId, EngineConfig, Event, Listing, OrderId, OrderRequest};
use risk::domain::{Check, FillEvent, SecurityInfo};
use serde::Serialize;
use ta::domain::{Signal, Studies, StudySet};
use time::{Date, Duration, OffsetDateTime};

use crate::Error;
use crate::config::Config;
use crate::data::{Bars, Row, day_of};

/// The market's account: the other side of every fill.
const MARKET: &str = "MARKET";
/// The market's cash and shares: never the limit.
const MARKET_CASH: i64 = 100_000_000_000_000_000;
const MARKET_SHARES: u64 = 1_000_000_000_000;

/// Which part of the bars trades.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Bars before this day only warm the indicators up: no decisions, no equity.
    pub trade_from: Option<Date>,
}

/// One fill of a strategy's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trade {
    /// When (exchange time).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Strategy.
    pub strategy: String,
    /// The order's client id.
    pub client_id: String,
    /// Instrument.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// Shares.
    pub quantity: u64,
    /// Price, VND.
    pub price: i64,
    /// Brokerage and exchange fee, VND.
    pub fees: i64,
    /// Sale tax, VND.
    pub tax: i64,
    /// Realised P&L of a sale after fees and tax (average cost), VND; 0 for a buy.
    pub realised: i64,
}

/// One order a strategy decided, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    /// When it was entered.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Strategy.
    pub strategy: String,
    /// Client id (`<strategy>:<signal id>`, as the decision engine sends it).
    pub client_id: String,
    /// Instrument.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// Limit price.
    pub price: i64,
    /// Shares.
    pub quantity: u64,
    /// Shares filled.
    pub filled: u64,
    /// `filled`, `partially_filled`, `expired`, `rejected`.
    pub outcome: &'static str,
    /// Why the strategy decided it.
    pub reason: String,
    /// Who refused it and why (`risk: max_order_value: ...`, `exchange: ...`).
    pub rejection: Option<String>,
}

/// The account and each strategy at the end of a trading day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// Trading day.
    pub date: Date,
    /// Account equity: cash, cash held and receivable, and holdings at the close, VND.
    pub equity: i64,
    /// Holdings at the close, VND.
    pub holdings: i64,
    /// Each strategy's equity (its share of the cash plus its P&L), in strategy order.
    pub strategies: Vec<i64>,
    /// Each strategy's holdings at the close.
    pub strategy_holdings: Vec<i64>,
}

/// Everything a run produced, before statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Strategy ids, in order.
    pub strategies: Vec<String>,
    /// The equity each strategy started with.
    pub strategy_capital: i64,
    /// The account's starting cash.
    pub cash: i64,
    /// End of every trading day traded.
    pub days: Vec<Day>,
    /// Every fill.
    pub trades: Vec<Trade>,
    /// Every order decided.
    pub orders: Vec<OrderRow>,
    /// Bars read (warm-up included).
    pub bar_events: u64,
    /// Signals the rules read off them while trading.
    pub signals: u64,
}

/// What one symbol keeps.
struct SymbolState {
    symbol: Symbol,
    exchange: Exchange,
    studies: Studies,
    /// Reused for every bar: the symbol's text is set once.
    bar: ta::domain::Bar,
    last_close: Option<i64>,
    /// The last close of the day before the current bar's day (the reference).
    reference: Option<i64>,
    day: Option<Date>,
    listed_on: Option<Date>,
    seeded: bool,
    /// Working orders of the strategies (matching ids).
    working: Vec<OrderId>,
}

/// An order decided, waiting for the next bar's time.
struct Queued {
    strategy: usize,
    sym: u32,
    intent: Intent,
    price: i64,
    client_id: String,
}

/// An order in the matching engine.
struct Working {
    strategy: usize,
    sym: u32,
    row: usize,
    side: Side,
    price: i64,
}

/// A strategy's books.
#[derive(Default, Clone)]
struct Ledger {
    /// Net cash of its fills.
    cash: i64,
    /// Shares and their cost (fees in) by symbol index.
    held: BTreeMap<u32, (u64, i64)>,
}

/// Signals to read off bars besides the technical ones, by (bar start, symbol index): a saved
/// model's predictions (`prediction_long`, ...), each made from that bar's close.
pub type Predictions = HashMap<(i64, u32), Signal>;

/// What an [`Actor`] sees of a bar at its close.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'o> {
    /// Symbol index into [`crate::data::Bars::symbols`].
    pub sym: u32,
    /// Its ticker.
    pub symbol: &'o str,
    /// The bar's start, Unix seconds.
    pub start: i64,
    /// Its close, VND.
    pub close: i64,
    /// Shares the strategies hold of it (bought and filled, settled or not).
    pub held: u64,
    /// Shares of their buy orders not filled yet.
    pub pending_buy: u64,
}

/// Someone deciding at each bar's close besides the technical rules — a saved model's
/// [`Predictions`], a learning agent: the signal it returns is read by the strategies like any
/// other and traded from the next bar on.
pub trait Actor {
    /// The signal for this bar, if any.
    fn act(&mut self, at: &Observation<'_>) -> Option<Signal>;
}

impl Actor for Predictions {
    fn act(&mut self, at: &Observation<'_>) -> Option<Signal> {
        self.get(&(at.start, at.sym)).cloned()
    }
}

/// Runs `config`'s strategies over `bars`.
pub fn run(config: &Config, bars: &Bars, window: Window) -> Result<Outcome, Error> {
    run_with(config, bars, window, None)
}

/// [`run`], the strategies also reading what `actor` signals at each bar's close (traded from
/// the next bar on, like every signal).
pub fn run_with(
    config: &Config,
    bars: &Bars,
    window: Window,
    actor: Option<&mut dyn Actor>,
) -> Result<Outcome, Error> {
    let rules = MarketRules::default();
    let calendar = rules
        .calendar()
        .map_err(|e| Error::Config(format!("trading calendar: {e}")))?;
    let mut sim = Sim::new(config, bars, rules, calendar)?;
    sim.actor = actor;
    let rows = bars.rows();
    let trade_from = window.trade_from.map(|d| vn_midnight(d).unix_timestamp());
    let mut i = 0;
    let mut day: Option<Date> = None;
    while i < rows.len() {
        let start = rows[i].start;
        let mut j = i;
        while j < rows.len() && rows[j].start == start {
            j += 1;
        }
        let group = &rows[i..j];
        let trading = trade_from.is_none_or(|t| start >= t);
        let date = day_of(start);
        if day != Some(date) {
            if let Some(d) = day
                && sim.trading
            {
                sim.close_day(d)?;
            }
            day = Some(date);
        }
        sim.trading = trading;
        sim.step(group, date)?;
        i = j;
    }
    if let Some(d) = day
        && sim.trading
    {
        sim.close_day(d)?;
    }
    Ok(sim.outcome)
}

struct Sim<'a, 'x> {
    config: &'a Config,
    rules: MarketRules,
    set: StudySet,
    strategies: Vec<SignalFollower>,
    /// The slot of the value each strategy reads ([`Strategy::input`]).
    inputs: Vec<Option<usize>>,
    engine: matching::Engine,
    risk: risk::domain::Engine,
    account: AccountId,
    market: AccountId,
    symbols: Vec<SymbolState>,
    /// Symbols listed in the matching engine now.
    listed: Vec<u32>,
    positions: Positions,
    ledgers: Vec<Ledger>,
    queued: Vec<Queued>,
    working: BTreeMap<OrderId, Working>,
    signals: Vec<Signal>,
    actor: Option<&'x mut dyn Actor>,
    trading: bool,
    outcome: Outcome,
}

fn side_name(side: Side) -> &'static str {
    side.name()
}

impl<'a, 'x> Sim<'a, 'x> {
    fn new(
        config: &'a Config,
        bars: &Bars,
        rules: MarketRules,
        calendar: TradingCalendar,
    ) -> Result<Self, Error> {
        let set = config.study_set()?;
        let strategies = config.followers();
        let mut engine = matching::Engine::new(
            rules.clone(),
            calendar.clone(),
            EngineConfig {
                roll_reference: false,
                ..EngineConfig::default()
            },
        );
        let account = AccountId::new(config.backtest.account.clone());
        let market = AccountId::new(MARKET);
        engine
            .open_account(
                account.clone(),
                InvestorProfile::DOMESTIC_INDIVIDUAL,
                Vnd::new(config.backtest.cash),
            )
            .map_err(Error::engine)?;
        engine
            .open_account(
                market.clone(),
                InvestorProfile::DOMESTIC_INDIVIDUAL,
                Vnd::new(MARKET_CASH),
            )
            .map_err(Error::engine)?;
        let risk = risk::domain::Engine::new(rules.clone(), calendar, config.limits.effective());
        let symbols = bars
            .symbols()
            .iter()
            .map(|l| SymbolState {
                symbol: l.symbol,
                exchange: l.exchange,
                studies: set.start(),
                bar: ta::domain::Bar {
                    symbol: l.symbol.as_str().to_owned(),
                    start: OffsetDateTime::UNIX_EPOCH,
                    seconds: bars.seconds(),
                    open: 0,
                    high: 0,
                    low: 0,
                    close: 0,
                    volume: 0,
                    trades: 0,
                },
                last_close: None,
                reference: None,
                day: None,
                listed_on: None,
                seeded: false,
                working: Vec::new(),
            })
            .collect();
        let n = strategies.len();
        let capital = config.backtest.cash / n.max(1) as i64;
        let inputs = strategies
            .iter()
            .map(|s| match s.input() {
                Some(id) => set.slot(id).map(Some).ok_or_else(|| {
                    Error::Config(format!(
                        "strategies.{}: its sizing reads {id:?}, which no study produces",
                        s.id
                    ))
                }),
                None => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inputs,
            config,
            rules,
            set,
            engine,
            risk,
            account,
            market,
            symbols,
            listed: Vec::new(),
            positions: Positions::default(),
            ledgers: vec![Ledger::default(); n],
            queued: Vec::new(),
            working: BTreeMap::new(),
            signals: Vec::new(),
            actor: None,
            trading: false,
            outcome: Outcome {
                strategies: strategies.iter().map(|s| s.id.clone()).collect(),
                strategy_capital: capital,
                cash: config.backtest.cash,
                days: Vec::new(),
                trades: Vec::new(),
                orders: Vec::new(),
                bar_events: 0,
                signals: 0,
            },
            strategies,
        })
    }

    /// The instant orders and the market's trading of bars starting at `start` happen.
    fn instant(start: i64, seconds: u32, date: Date) -> OffsetDateTime {
        if seconds >= 86_400 {
            vn_midnight(date) + Duration::hours(10)
        } else {
            OffsetDateTime::from_unix_timestamp(start).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }
    }

    /// One clock step: the bars starting at the same time.
    fn step(&mut self, group: &[Row], date: Date) -> Result<(), Error> {
        self.outcome.bar_events += group.len() as u64;
        let Some(first) = group.first() else {
            return Ok(());
        };
        for row in group {
            let st = &mut self.symbols[row.sym as usize];
            if st.day != Some(date) {
                st.reference = st.last_close;
                st.day = Some(date);
            }
        }
        let busy = !self.queued.is_empty() || !self.working.is_empty();
        if busy {
            let now = Self::instant(first.start, first.seconds, date);
            self.engine.advance_to(now).map_err(Error::engine)?;
            self.settle_events()?;
            for q in std::mem::take(&mut self.queued) {
                self.place(q, now, date)?;
            }
            self.settle_events()?;
            for row in group {
                if !self.symbols[row.sym as usize].working.is_empty() {
                    self.trade_bar(row)?;
                }
            }
            self.settle_events()?;
        }
        for row in group {
            let st = &mut self.symbols[row.sym as usize];
            st.bar.start = OffsetDateTime::from_unix_timestamp(row.start)
                .map_err(|e| Error::Data(e.to_string()))?;
            st.bar.open = row.open;
            st.bar.high = row.high;
            st.bar.low = row.low;
            st.bar.close = row.close;
            st.bar.volume = row.volume;
            st.last_close = Some(row.close);
            self.signals.clear();
            st.studies.advance(&self.set, &st.bar, &mut self.signals);
            if let Some(actor) = self.actor.as_deref_mut() {
                let symbol = st.symbol;
                let (held, pending_buy) = self.strategies.iter().fold((0, 0), |(h, p), s| {
                    let (held, pending) = self.positions.of(&s.id, symbol);
                    (h + held, p + pending)
                });
                let seen = Observation {
                    sym: row.sym,
                    symbol: symbol.as_str(),
                    start: row.start,
                    close: row.close,
                    held,
                    pending_buy,
                };
                if let Some(signal) = actor.act(&seen) {
                    self.signals.push(signal);
                }
            }
            if self.trading && !self.signals.is_empty() {
                self.decide(row)?;
            }
        }
        Ok(())
    }

    /// The strategies' decisions on the signals of `row`.
    fn decide(&mut self, row: &Row) -> Result<(), Error> {
        let st = &self.symbols[row.sym as usize];
        let timeframe = resolution_name(row.seconds);
        for s in std::mem::take(&mut self.signals) {
            self.outcome.signals += 1;
            let signal = decision::domain::Signal {
                id: ta::domain::signal_id(st.symbol.as_str(), &timeframe, st.bar.start, &s.name),
                symbol: st.symbol,
                timeframe: timeframe.clone(),
                name: s.name,
                direction: s.direction,
                value: s.value,
                detail: s.detail,
            };
            for (k, strategy) in self.strategies.iter().enumerate() {
                let (position, pending_buy) = self.positions.of(&strategy.id, st.symbol);
                let ctx = Context {
                    position,
                    pending_buy,
                    last: Some(row.close),
                    input: self.inputs[k].and_then(|slot| st.studies.value(slot)),
                };
                let Some(intent) = strategy.decide(&signal, &ctx) else {
                    continue;
                };
                if intent.side == Side::Buy {
                    self.positions
                        .pending(&strategy.id, st.symbol, intent.quantity as i64);
                }
                self.queued.push(Queued {
                    strategy: k,
                    sym: row.sym,
                    client_id: decision::domain::client_id(&strategy.id, &signal.id),
                    price: row.close,
                    intent,
                });
            }
        }
        Ok(())
    }

    /// Today's facts of a symbol: reference = the previous day's close.
    fn list(&mut self, sym: u32, date: Date) -> Result<Option<Security>, Error> {
        let st = &self.symbols[sym as usize];
        let Some(reference) = st.reference.or(st.last_close) else {
            return Ok(None);
        };
        let kind = if st.exchange == Exchange::HnxDeriv {
            InstrumentKind::IndexFuture
        } else {
            InstrumentKind::Stock
        };
        let limits = self
            .rules
            .price_limits(
                st.exchange,
                kind,
                Price::new(reference).map_err(|e| Error::Data(e.to_string()))?,
                LimitCase::Normal,
            )
            .map_err(|e| Error::Data(format!("{}: band: {e}", st.symbol)))?;
        let security = Security {
            symbol: st.symbol,
            exchange: st.exchange,
            kind,
            status: SecurityStatus::Normal,
            limits: Some(limits),
            awaiting_first_match: false,
        };
        if st.listed_on != Some(date) {
            self.engine
                .list(Listing {
                    security,
                    foreign_room: None,
                })
                .map_err(Error::engine)?;
            self.risk.set_security(SecurityInfo {
                security,
                day: Some(date),
            });
            let st = &mut self.symbols[sym as usize];
            if st.listed_on.is_none() {
                self.listed.push(sym);
            }
            st.listed_on = Some(date);
            if !st.seeded {
                st.seeded = true;
                let symbol = st.symbol;
                self.engine
                    .seed_position(
                        &self.market,
                        symbol,
                        Quantity::new(MARKET_SHARES),
                        Vnd::ZERO,
                    )
                    .map_err(Error::engine)?;
            }
        }
        Ok(Some(security))
    }

    /// Enters a decided order: risk first, then the exchange.
    fn place(&mut self, q: Queued, now: OffsetDateTime, date: Date) -> Result<(), Error> {
        let strategy = self.strategies[q.strategy].id.clone();
        let symbol = self.symbols[q.sym as usize].symbol;
        let row = self.outcome.orders.len();
        self.outcome.orders.push(OrderRow {
            time: now,
            strategy: strategy.clone(),
            client_id: q.client_id.clone(),
            symbol: symbol.as_str().to_owned(),
            side: side_name(q.intent.side),
            price: q.price,
            quantity: q.intent.quantity,
            filled: 0,
            outcome: "rejected",
            reason: q.intent.reason.clone(),
            rejection: None,
        });
        let refuse = |s: &mut Self, why: String| {
            if q.intent.side == Side::Buy {
                s.positions
                    .pending(&strategy, symbol, -(q.intent.quantity as i64));
            }
            s.outcome.orders[row].rejection = Some(why);
        };
        if self.list(q.sym, date)?.is_none() {
            refuse(self, "exchange: no reference price yet".to_owned());
            return Ok(());
        }
        let price = Price::new(q.price).map_err(|e| Error::Data(e.to_string()))?;
        let quantity = Quantity::new(q.intent.quantity);
        self.risk.set_last(symbol, price);
        let verdict = self.risk.check(
            &Check {
                client_id: q.client_id.clone(),
                account: self.account.as_str().to_owned(),
                strategy: Some(strategy.clone()),
                symbol,
                side: q.intent.side,
                order_type: OrderType::Lo,
                price: Some(price),
                quantity,
            },
            now,
        );
        if !verdict.accepted() {
            let why = verdict
                .rejections
                .iter()
                .map(|r| format!("risk: {}: {}", r.rule, r.message))
                .collect::<Vec<_>>()
                .join("; ");
            refuse(self, why);
            return Ok(());
        }
        let submitted = self.engine.submit(OrderRequest {
            account: self.account.clone(),
            symbol,
            board: Board::Main,
            side: q.intent.side,
            order_type: OrderType::Lo,
            price: Some(price),
            quantity,
        });
        match submitted {
            Ok(id) => {
                self.outcome.orders[row].outcome = "expired";
                self.working.insert(
                    id,
                    Working {
                        strategy: q.strategy,
                        sym: q.sym,
                        row,
                        side: q.intent.side,
                        price: q.price,
                    },
                );
                self.symbols[q.sym as usize].working.push(id);
            }
            Err(matching::Error::Rejected { reason, .. }) => {
                self.risk.order_ended(&q.client_id);
                refuse(self, format!("exchange: {reason}"));
            }
            Err(e) => return Err(Error::engine(e)),
        }
        Ok(())
    }

    /// The market trades `row`: counter-orders fill the strategies' orders its range reached,
    /// up to the participation cap.
    fn trade_bar(&mut self, row: &Row) -> Result<(), Error> {
        let st = &self.symbols[row.sym as usize];
        let (mut buys, mut sells) = (0u64, 0u64);
        for id in &st.working {
            let (Some(w), Some(rec)) = (self.working.get(id), self.engine.order(*id)) else {
                continue;
            };
            let left = rec.remaining().units();
            match w.side {
                Side::Buy if w.price >= row.low => buys += left,
                Side::Sell if w.price <= row.high => sells += left,
                Side::Buy | Side::Sell => {}
            }
        }
        let lot = 100;
        let cap = ((row.volume as f64) * self.config.backtest.participation) as u64 / lot * lot;
        let Some(security) = self.list(row.sym, day_of(row.start))? else {
            return Ok(());
        };
        let Some(limits) = security.limits else {
            return Ok(());
        };
        let round = |units: i64, rounding: Rounding| {
            self.rules.ticks.round_units(
                security.exchange,
                security.kind,
                Board::Main,
                units,
                rounding,
            )
        };
        let counters = [
            (
                Side::Sell,
                buys.min(cap),
                round(row.low.max(limits.floor.units()), Rounding::Up),
            ),
            (
                Side::Buy,
                sells.min(cap),
                round(row.high.min(limits.ceiling.units()), Rounding::Down),
            ),
        ];
        for (side, quantity, price) in counters {
            let (Some(price), true) = (price, quantity > 0) else {
                continue;
            };
            let submitted = self.engine.submit(OrderRequest {
                account: self.market.clone(),
                symbol: security.symbol,
                board: Board::Main,
                side,
                order_type: OrderType::Lo,
                price: Some(price),
                quantity: Quantity::new(quantity),
            });
            match submitted {
                Ok(id) => {
                    // Whatever did not match (nothing, by construction) leaves the book.
                    if self.engine.order(id).is_some_and(|r| !r.status.is_final()) {
                        let _ = self.engine.cancel(id);
                    }
                }
                Err(matching::Error::Rejected { .. }) => {}
                Err(e) => return Err(Error::engine(e)),
            }
        }
        Ok(())
    }

    /// Applies the engine's events to the strategies' books, risk and the report.
    fn settle_events(&mut self) -> Result<(), Error> {
        for record in self.engine.drain_events() {
            match record.event {
                Event::OrderFilled(fill) if fill.account == self.account => {
                    let Some(w) = self.working.get(&fill.order) else {
                        continue;
                    };
                    let (k, sym, row) = (w.strategy, w.sym, w.row);
                    let strategy = self.strategies[k].id.clone();
                    let client_id = self.outcome.orders[row].client_id.clone();
                    let q = fill.quantity.units();
                    let symbol = fill.symbol;
                    self.positions.filled(&strategy, symbol, fill.side, q);
                    if fill.side == Side::Buy {
                        self.positions.pending(&strategy, symbol, -(q as i64));
                    }
                    self.risk.filled(&FillEvent {
                        client_id: &client_id,
                        account: self.account.as_str(),
                        strategy: Some(&strategy),
                        symbol,
                        side: fill.side,
                        price: fill.price,
                        quantity: fill.quantity,
                        at: record.at,
                    });
                    let ledger = &mut self.ledgers[k];
                    let net = fill.cost.net_cash.amount();
                    ledger.cash += net;
                    let held = ledger.held.entry(sym).or_default();
                    let mut realised = 0;
                    match fill.side {
                        Side::Buy => {
                            held.0 += q;
                            held.1 -= net;
                        }
                        Side::Sell => {
                            let sold = q.min(held.0);
                            let basis = if held.0 == 0 {
                                0
                            } else {
                                i64::try_from(
                                    i128::from(held.1) * i128::from(sold) / i128::from(held.0),
                                )
                                .unwrap_or(held.1)
                            };
                            held.0 -= sold;
                            held.1 -= basis;
                            realised = net - basis;
                        }
                    }
                    if held.0 == 0 {
                        ledger.held.remove(&sym);
                    }
                    let order = &mut self.outcome.orders[row];
                    order.filled += q;
                    order.outcome = if fill.remaining.units() == 0 {
                        "filled"
                    } else {
                        "partially_filled"
                    };
                    self.outcome.trades.push(Trade {
                        time: record.at,
                        strategy,
                        client_id: client_id.clone(),
                        symbol: symbol.as_str().to_owned(),
                        side: side_name(fill.side),
                        quantity: q,
                        price: fill.price.units(),
                        fees: fill.cost.brokerage.amount() + fill.cost.exchange_fee.amount(),
                        tax: fill.cost.tax.amount(),
                        realised,
                    });
                    if fill.remaining.units() == 0 {
                        self.ended(fill.order, 0);
                    }
                }
                Event::OrderExpired { order, expired, .. } => {
                    self.ended(order, expired.units());
                }
                Event::OrderCancelled {
                    order, cancelled, ..
                } => {
                    self.ended(order, cancelled.units());
                }
                Event::OrderFilled(_)
                | Event::OrderAccepted { .. }
                | Event::OrderRejected { .. }
                | Event::OrderAmended { .. }
                | Event::AmendRejected { .. }
                | Event::CancelRejected { .. }
                | Event::MtlConverted { .. }
                | Event::Trade(_)
                | Event::PhaseChanged { .. }
                | Event::AuctionUncrossed { .. }
                | Event::ClosingPrice { .. }
                | Event::ReferenceRolled { .. } => {}
            }
        }
        Ok(())
    }

    /// A strategy's order ended with `left` shares unfilled.
    fn ended(&mut self, order: OrderId, left: u64) {
        let Some(w) = self.working.remove(&order) else {
            return;
        };
        let strategy = &self.strategies[w.strategy].id;
        let st = &mut self.symbols[w.sym as usize];
        st.working.retain(|id| *id != order);
        if w.side == Side::Buy && left > 0 {
            self.positions.pending(strategy, st.symbol, -(left as i64));
        }
        let row = &mut self.outcome.orders[w.row];
        if left > 0 && row.filled > 0 {
            row.outcome = "partially_filled";
        }
        self.risk.order_ended(&row.client_id);
        // Ended: the engine need not remember it (it refuses only a working order).
        let _ = self.engine.forget(order);
    }

    /// The end of trading day `date`: day orders expire, equity is marked at the closes.
    fn close_day(&mut self, date: Date) -> Result<(), Error> {
        if !self.working.is_empty() {
            let end = vn_midnight(date) + Duration::hours(23) + Duration::minutes(59);
            self.engine.advance_to(end).map_err(Error::engine)?;
            self.settle_events()?;
        }
        // Symbols without working orders leave the engine: its day ends and session changes
        // then touch only what trades (their positions stay with the account).
        let mut still = Vec::with_capacity(self.listed.len());
        for sym in std::mem::take(&mut self.listed) {
            let st = &mut self.symbols[sym as usize];
            if st.working.is_empty() {
                self.engine.delist(st.symbol).map_err(Error::engine)?;
                st.listed_on = None;
            } else {
                still.push(sym);
            }
        }
        self.listed = still;
        let close = |sym: u32| self.symbols[sym as usize].last_close.unwrap_or(0);
        let account = self
            .engine
            .account(&self.account)
            .ok_or_else(|| Error::Engine("the account is gone".to_owned()))?;
        let mut holdings = 0i64;
        for (symbol, p) in &account.positions {
            // Symbols are in ticker order (`Bars`).
            if let Ok(i) = self.symbols.binary_search_by_key(symbol, |s| s.symbol) {
                holdings += p.total().units() as i64 * close(i as u32);
            }
        }
        let receivable: i64 = account.receivables.iter().map(|r| r.amount.amount()).sum();
        let equity = account.cash.amount() + account.held.amount() + receivable + holdings;
        let capital = self.outcome.strategy_capital;
        let mut strategies = Vec::with_capacity(self.ledgers.len());
        let mut strategy_holdings = Vec::with_capacity(self.ledgers.len());
        for l in &self.ledgers {
            let h: i64 = l.held.iter().map(|(s, (q, _))| *q as i64 * close(*s)).sum();
            strategies.push(capital + l.cash + h);
            strategy_holdings.push(h);
        }
        self.outcome.days.push(Day {
            date,
            equity,
            holdings,
            strategies,
            strategy_holdings,
        });
        Ok(())
    }
}

/// `1D`, `1h`, `15m`, ... for a bar length.
pub fn resolution_name(seconds: u32) -> String {
    match seconds {
        86_400 => "1D".to_owned(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
