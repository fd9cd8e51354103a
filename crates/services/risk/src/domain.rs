//! The pre-trade check engine: every rule an order must pass, with the state the rules need
//! (securities, last prices, open orders, exposure, realised P&L, kill switches), kept from
//! the events the service consumes. No I/O here; [`crate::service`] feeds it and answers.
//!
//! A check allocates nothing on the path that accepts an order except its reservation (the
//! order's client id, kept until the order ends), so it stays in the low microseconds.

use std::collections::VecDeque;

use hashbrown::HashMap;
use std::fmt::Write as _;

use market::validate::{OrderContext, Security, validate_order};
use market::{
    Board, InstrumentKind, InvestorProfile, MarketRules, OrderType, Price, Quantity, Side, Symbol,
    TradingCalendar,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// Limits of one scope (the defaults, an account or a strategy); `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest quantity of one order.
    pub max_order_quantity: Option<u64>,
    /// Largest value of one order (price × quantity; for a market-priced order the ceiling).
    pub max_order_value: Option<i64>,
    /// Largest exposure in one symbol: holdings at cost plus open buys, in VND.
    pub max_symbol_exposure: Option<i64>,
    /// Largest exposure over all symbols, in VND.
    pub max_exposure: Option<i64>,
    /// Most orders open at once.
    pub max_open_orders: Option<u32>,
    /// Most orders accepted in any 60 seconds.
    pub max_orders_per_minute: Option<u32>,
    /// Largest distance of a limit price from the last trade (else the reference), in basis
    /// points.
    pub fat_finger_bps: Option<u32>,
    /// Largest realised loss today (after fees and tax), in VND: beyond it, only sells.
    pub max_daily_loss: Option<i64>,
    /// The same order (symbol, side, type, price, quantity) again within this many seconds is
    /// refused as a duplicate.
    pub duplicate_window_secs: Option<u32>,
    /// Largest drawdown today, in VND: the fall of today's P&L (realised, plus holdings marked
    /// to the last trade) from its high of the day. Once reached, only orders that reduce a
    /// position until tomorrow.
    pub max_drawdown: Option<i64>,
    /// Largest initial margin of futures positions (marked to the last trade) and open
    /// futures orders, in VND.
    pub max_margin: Option<i64>,
}

impl Limits {
    /// Each limit of `over` where it has one, else this one's.
    pub fn overlaid(&self, over: &Limits) -> Limits {
        Limits {
            max_order_quantity: over.max_order_quantity.or(self.max_order_quantity),
            max_order_value: over.max_order_value.or(self.max_order_value),
            max_symbol_exposure: over.max_symbol_exposure.or(self.max_symbol_exposure),
            max_exposure: over.max_exposure.or(self.max_exposure),
            max_open_orders: over.max_open_orders.or(self.max_open_orders),
            max_orders_per_minute: over.max_orders_per_minute.or(self.max_orders_per_minute),
            fat_finger_bps: over.fat_finger_bps.or(self.fat_finger_bps),
            max_daily_loss: over.max_daily_loss.or(self.max_daily_loss),
            duplicate_window_secs: over.duplicate_window_secs.or(self.duplicate_window_secs),
            max_drawdown: over.max_drawdown.or(self.max_drawdown),
            max_margin: over.max_margin.or(self.max_margin),
        }
    }

    /// These limits with the zeros that mean "off" in settings (`duplicate_window_secs = 0`)
    /// turned into no limit.
    pub fn effective(&self) -> Limits {
        Limits {
            duplicate_window_secs: self.duplicate_window_secs.filter(|s| *s > 0),
            ..self.clone()
        }
    }

    /// Checks the numbers make sense.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("max_order_value", self.max_order_value),
            ("max_symbol_exposure", self.max_symbol_exposure),
            ("max_exposure", self.max_exposure),
            ("max_drawdown", self.max_drawdown),
            ("max_margin", self.max_margin),
        ];
        for (name, v) in positive {
            if v.is_some_and(|v| v <= 0) {
                return Err(format!("{name} must be positive"));
            }
        }
        if self.max_daily_loss.is_some_and(|v| v < 0) {
            return Err("max_daily_loss must not be negative".to_owned());
        }
        if self.max_order_quantity == Some(0) {
            return Err("max_order_quantity must be positive".to_owned());
        }
        if self.fat_finger_bps.is_some_and(|b| b == 0 || b > 10_000) {
            return Err("fat_finger_bps must be between 1 and 10000".to_owned());
        }
        if self.duplicate_window_secs.is_some_and(|s| s > 86_400) {
            return Err("duplicate_window_secs must be at most 86400".to_owned());
        }
        Ok(())
    }
}

/// Which limits or kill switch a setting applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "key", rename_all = "snake_case")]
pub enum Scope {
    /// Everything (kill switch) or the defaults (limits).
    Global,
    /// One broker sub-account.
    Account(String),
    /// One strategy.
    Strategy(String),
}

impl Scope {
    /// Reads `global`, `account/<id>` or `strategy/<id>`.
    pub fn parse(scope: &str, key: &str) -> Result<Scope, String> {
        let ok_key = !key.is_empty()
            && key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        match scope {
            "global" if key.is_empty() => Ok(Scope::Global),
            "account" | "strategy" if !ok_key => Err(format!(
                "{scope} key {key:?}: 1 to 64 characters of [A-Za-z0-9._:-]"
            )),
            "account" => Ok(Scope::Account(key.to_owned())),
            "strategy" => Ok(Scope::Strategy(key.to_owned())),
            _ => Err(format!(
                "scope {scope:?} (key {key:?}): global (no key), account/<id> or strategy/<id>"
            )),
        }
    }

    /// `global`, `account` or `strategy`.
    pub fn name(&self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Account(_) => "account",
            Scope::Strategy(_) => "strategy",
        }
    }

    /// The account or strategy id; empty for global.
    pub fn key(&self) -> &str {
        match self {
            Scope::Global => "",
            Scope::Account(k) | Scope::Strategy(k) => k,
        }
    }
}

/// An order to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The caller's id of the order: a second check of the same id answers the first verdict.
    pub client_id: String,
    /// Broker sub-account.
    pub account: String,
    /// Strategy, if any.
    pub strategy: Option<String>,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Limit price.
    pub price: Option<Price>,
    /// Quantity.
    pub quantity: Quantity,
}

/// One broken rule, named, with its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The rule (`exchange`, `max_order_value`, `kill_switch`, ...).
    pub rule: &'static str,
    /// What was wrong, with the numbers.
    pub message: String,
}

/// What a check decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Every broken rule; empty when accepted.
    pub rejections: Vec<Rejection>,
}

impl Verdict {
    /// True when no rule was broken.
    pub fn accepted(&self) -> bool {
        self.rejections.is_empty()
    }
}

/// What the engine knows of an order's account, security and market when it checks it: what
/// the rule sets of the rule service read (crates/rules, target `order`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    /// The security, if master data knows it.
    pub security: Option<Security>,
    /// The price the order commits at (its limit, or a market order's ceiling or floor), VND.
    pub price: i64,
    /// What it commits, VND.
    pub value: i64,
    /// The account's exposure before it, VND.
    pub exposure: i64,
    /// The account's exposure in the symbol, VND.
    pub symbol_exposure: i64,
    /// Shares (contracts) the account holds in the symbol.
    pub position: i64,
    /// The account's open orders.
    pub open_orders: u32,
    /// The account's realised P&L today, VND.
    pub realised_today: i64,
    /// The account's P&L today, VND.
    pub pnl_today: i64,
    /// The largest fall of the account's P&L from today's high, VND.
    pub drawdown: i64,
    /// The last trade price of the symbol, if any.
    pub last: Option<i64>,
}

/// What judges an order beyond the engine's own rules (the active rule sets), given its facts.
pub type Judge<'a> = &'a mut dyn FnMut(&Facts) -> Vec<Rejection>;

/// A security as the checks need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityInfo {
    /// The exchange's facts.
    pub security: Security,
    /// The trading day of its band.
    pub day: Option<Date>,
}

#[derive(Debug, Default, Clone)]
struct Position {
    /// Shares or contracts held; below zero a short futures position.
    quantity: i64,
    /// An index future (margin, not exposure; short positions).
    futures: bool,
    /// Cost of the held quantity with its fees, VND (below zero for a short position: what
    /// selling it brought in).
    cost: i64,
    /// Its value at the last trade (signed like `quantity`), VND; its cost until one is known.
    mark: i64,
}

/// Counters of one account or strategy.
#[derive(Debug, Default)]
struct Book {
    open_orders: u32,
    /// Accepted order times in the last minute, oldest first.
    recent: VecDeque<OffsetDateTime>,
    /// Open buy value by symbol.
    open_buys: HashMap<Symbol, i64>,
    positions: HashMap<Symbol, Position>,
    /// Σ cost of positions + Σ open buys.
    exposure: i64,
    /// Realised P&L of `day` after fees and tax.
    realised: i64,
    day: Option<Date>,
    /// Recent orders (time, key) for the duplicate rule, oldest first.
    last_orders: VecDeque<(OffsetDateTime, OrderKey)>,
    kill: Option<String>,
    /// Σ mark and Σ cost of the positions: unrealised P&L is their difference.
    marked: i64,
    costs: i64,
    /// Unrealised P&L when `day` began (what today's P&L counts from).
    day_mark: i64,
    /// Today's highest P&L and the largest fall from it.
    peak: i64,
    worst_drawdown: i64,
    /// Initial margin held for open futures orders.
    open_margin: i64,
    /// The broker's latest view of the account (`oms.account.v1`; account books only).
    broker: Option<BrokerView>,
    /// Stock orders accepted lately (account books only): what the broker's view cannot have
    /// counted when it was taken after them.
    since: Accepted,
}

/// The broker's view of an account at `at`: what buying power and sellable quantities are
/// checked against.
#[derive(Debug, Clone)]
struct BrokerView {
    at: OffsetDateTime,
    buying_power: Option<i64>,
    sellable: HashMap<Symbol, i64>,
}

/// Stock orders accepted since the broker's view was taken (less [`SNAPSHOT_GRACE`]), in the
/// order they came: buys with the value they commit, sales with their quantity, and their
/// running totals (a check reads the totals, not the lists).
#[derive(Debug, Default)]
struct Accepted {
    buys: VecDeque<(OffsetDateTime, i64)>,
    bought: i64,
    sells: VecDeque<(OffsetDateTime, Symbol, i64)>,
    sold: HashMap<Symbol, i64>,
}

/// How long before a broker snapshot an accepted order may still be missing from it (on its
/// way to the broker). Counting an order twice for a moment only makes the check stricter until
/// the next snapshot, which the OMS publishes about a second after every order change.
const SNAPSHOT_GRACE: time::Duration = time::Duration::seconds(2);

/// Most accepted orders remembered per account between snapshots (the oldest go first): bounds
/// memory when no snapshot comes.
const MAX_ACCEPTED: usize = 10_000;

impl Accepted {
    /// Drops what a snapshot taken at `cutoff` + [`SNAPSHOT_GRACE`] has counted. An order
    /// recorded out of time order (replayed from the bus) may stay counted until it reaches the
    /// front: stricter, never looser.
    fn forget_before(&mut self, cutoff: OffsetDateTime) {
        while let Some(&(t, v)) = self.buys.front()
            && t < cutoff
        {
            self.buys.pop_front();
            self.bought -= v;
        }
        while let Some(&(t, s, q)) = self.sells.front()
            && t < cutoff
        {
            self.sells.pop_front();
            self.unsell(s, q);
        }
    }

    fn unsell(&mut self, symbol: Symbol, quantity: i64) {
        if let Some(n) = self.sold.get_mut(&symbol) {
            *n -= quantity;
            if *n <= 0 {
                self.sold.remove(&symbol);
            }
        }
    }

    fn buy(&mut self, at: OffsetDateTime, value: i64) {
        if self.buys.len() == MAX_ACCEPTED
            && let Some((_, v)) = self.buys.pop_front()
        {
            self.bought -= v;
        }
        self.buys.push_back((at, value));
        self.bought += value;
    }

    fn sell(&mut self, at: OffsetDateTime, symbol: Symbol, quantity: i64) {
        if self.sells.len() == MAX_ACCEPTED
            && let Some((_, s, q)) = self.sells.pop_front()
        {
            self.unsell(s, q);
        }
        self.sells.push_back((at, symbol, quantity));
        *self.sold.entry(symbol).or_default() += quantity;
    }
}

/// The broker's cash side of an account at a moment (`oms.account.v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// Broker sub-account.
    pub account: String,
    /// When the broker was asked.
    pub at: OffsetDateTime,
    /// Buying power, VND, when the broker said.
    pub buying_power: Option<i64>,
    /// Sellable quantity by symbol (stocks; settled and not blocked).
    pub sellable: Vec<(Symbol, i64)>,
}

type OrderKey = (Symbol, Side, OrderType, Option<Price>, Quantity);

impl Book {
    fn symbol_exposure(&self, symbol: Symbol) -> i64 {
        self.positions.get(&symbol).map_or(0, |p| p.cost)
            + self.open_buys.get(&symbol).copied().unwrap_or(0)
    }

    fn roll_day(&mut self, day: Date) {
        if self.day != Some(day) {
            self.day = Some(day);
            self.realised = 0;
            self.day_mark = self.marked - self.costs;
            self.peak = 0;
            self.worst_drawdown = 0;
        }
    }

    /// Today's P&L: realised, plus the change of unrealised since the day began.
    fn pnl_today(&self) -> i64 {
        self.realised + (self.marked - self.costs) - self.day_mark
    }

    /// Follows today's high and the largest drawdown from it after a change.
    fn track(&mut self) {
        let pnl = self.pnl_today();
        self.peak = self.peak.max(pnl);
        self.worst_drawdown = self.worst_drawdown.max(self.peak - pnl);
    }

    /// Whether an order would add to the position in `symbol` (a stock buy; a futures order
    /// on the side the position already is, or opening one).
    fn increases(&self, symbol: Symbol, side: Side, futures: bool) -> bool {
        if !futures {
            return side == Side::Buy;
        }
        let held = self.positions.get(&symbol).map_or(0, |p| p.quantity);
        match side {
            Side::Buy => held >= 0,
            Side::Sell => held <= 0,
        }
    }
}

/// An accepted order, held until it ends.
#[derive(Debug, Clone)]
struct Reservation {
    account: String,
    strategy: Option<String>,
    symbol: Symbol,
    side: Side,
    /// Value reserved for a buy (left to fill).
    value: i64,
    price: i64,
    left: u64,
    /// Initial margin held for a futures order (left to fill).
    margin: i64,
}

/// The engine. Not thread-safe by itself: the service holds it behind one lock.
pub struct Engine {
    rules: MarketRules,
    calendar: TradingCalendar,
    investor: InvestorProfile,
    defaults: Limits,
    account_limits: HashMap<String, Limits>,
    strategy_limits: HashMap<String, Limits>,
    securities: HashMap<Symbol, SecurityInfo>,
    last: HashMap<Symbol, Price>,
    accounts: HashMap<String, Book>,
    strategies: HashMap<String, Book>,
    global_kill: Option<String>,
    reservations: HashMap<String, Reservation>,
    decided: HashMap<String, Verdict>,
    decided_day: Option<Date>,
    /// The books (strategy?, key) that have held each symbol: whose marks a trade moves.
    holders: HashMap<Symbol, Vec<(bool, String)>>,
    /// Breakers and halts (see [`monitor`]).
    watch: monitor::Watch,
}

/// What `n` shares (or, with `multiplier`, futures contracts: price in tenths of a point) are
/// worth at `price`, VND.
fn notional(multiplier: Option<i64>, price: i64, n: i64) -> i64 {
    let v = i128::from(price) * i128::from(n);
    let v = match multiplier {
        Some(m) => v * i128::from(m) / 10,
        None => v,
    };
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// `v × part / of`, in 128 bits.
fn share(v: i64, part: i64, of: i64) -> i64 {
    if of == 0 {
        return 0;
    }
    i64::try_from(i128::from(v) * i128::from(part) / i128::from(of)).unwrap_or(v)
}

impl Engine {
    /// An engine with these exchange rules and default limits.
    pub fn new(rules: MarketRules, calendar: TradingCalendar, defaults: Limits) -> Self {
        Self {
            rules,
            calendar,
            investor: InvestorProfile::DOMESTIC_INDIVIDUAL,
            defaults,
            account_limits: HashMap::new(),
            strategy_limits: HashMap::new(),
            securities: HashMap::new(),
            last: HashMap::new(),
            accounts: HashMap::new(),
            strategies: HashMap::new(),
            global_kill: None,
            reservations: HashMap::new(),
            decided: HashMap::new(),
            decided_day: None,
            holders: HashMap::new(),
            watch: monitor::Watch::default(),
        }
    }

    /// The futures multiplier when `symbol` is an index future, else `None`.
    fn multiplier(&self, symbol: Symbol) -> Option<i64> {
        self.securities
            .get(&symbol)
            .filter(|s| s.security.kind == InstrumentKind::IndexFuture)
            .map(|_| self.rules.settlement.futures_multiplier_vnd_per_point)
    }

    /// Initial margin of a futures value, VND.
    fn initial_margin(&self, value: i64) -> i64 {
        share(
            value.abs(),
            i64::from(self.rules.settlement.futures_initial_margin_bps),
            10_000,
        )
    }

    /// Initial margin of a book's futures positions (at their marks) and open futures orders.
    fn margin_used(&self, book: &Book) -> i64 {
        book.open_margin
            + book
                .positions
                .values()
                .filter(|p| p.futures)
                .map(|p| self.initial_margin(p.mark))
                .sum::<i64>()
    }

    /// Learns (or updates) a security.
    pub fn set_security(&mut self, info: SecurityInfo) {
        self.securities.insert(info.security.symbol, info);
    }

    /// How many securities are known.
    pub fn securities(&self) -> usize {
        self.securities.len()
    }

    /// Learns a last trade price.
    pub fn set_last(&mut self, symbol: Symbol, price: Price) {
        self.last.insert(symbol, price);
    }

    /// Sets (or with `None` clears) the limits of a scope; `Global` sets the defaults.
    pub fn set_limits(&mut self, scope: Scope, limits: Option<Limits>) {
        let (map, key) = match scope {
            Scope::Global => {
                self.defaults = limits.unwrap_or_default();
                return;
            }
            Scope::Account(k) => (&mut self.account_limits, k),
            Scope::Strategy(k) => (&mut self.strategy_limits, k),
        };
        match limits {
            Some(l) => {
                map.insert(key, l);
            }
            None => {
                map.remove(&key);
            }
        }
    }

    /// The limits that apply to a scope (its own over the defaults).
    pub fn limits(&self, scope: &Scope) -> Limits {
        match scope {
            Scope::Global => self.defaults.clone(),
            Scope::Account(k) => self.effective(&self.account_limits, k),
            Scope::Strategy(k) => self.effective(&self.strategy_limits, k),
        }
    }

    fn effective(&self, map: &HashMap<String, Limits>, key: &str) -> Limits {
        map.get(key)
            .map_or_else(|| self.defaults.clone(), |l| self.defaults.overlaid(l))
    }

    /// Engages (`Some(reason)`) or releases a kill switch.
    pub fn set_kill(&mut self, scope: &Scope, reason: Option<String>) {
        match scope {
            Scope::Global => self.global_kill = reason,
            Scope::Account(a) => self.accounts.entry(a.clone()).or_default().kill = reason,
            Scope::Strategy(s) => self.strategies.entry(s.clone()).or_default().kill = reason,
        }
    }

    /// Every engaged kill switch with its reason.
    pub fn kills(&self) -> Vec<(Scope, String)> {
        let mut out = Vec::new();
        if let Some(r) = &self.global_kill {
            out.push((Scope::Global, r.clone()));
        }
        for (a, b) in &self.accounts {
            if let Some(r) = &b.kill {
                out.push((Scope::Account(a.clone()), r.clone()));
            }
        }
        for (s, b) in &self.strategies {
            if let Some(r) = &b.kill {
                out.push((Scope::Strategy(s.clone()), r.clone()));
            }
        }
        out.sort();
        out
    }

    /// Exposure, open orders and realised P&L of an account.
    pub fn exposure(&self, account: &str) -> (i64, u32, i64) {
        self.accounts
            .get(account)
            .map_or((0, 0, 0), |b| (b.exposure, b.open_orders, b.realised))
    }

    /// Checks `c` at `now`. An accepted order is reserved (open orders, rate, exposure) until
    /// [`Engine::order_ended`]; a second check of the same client id answers the first
    /// verdict and reserves nothing more.
    pub fn check(&mut self, c: &Check, now: OffsetDateTime) -> Verdict {
        self.check_with(c, now, &mut |_| Vec::new())
    }

    /// [`Engine::check`], with `judge` adding its rejections (the rule sets) to the engine's
    /// before the order is reserved.
    pub fn check_with(&mut self, c: &Check, now: OffsetDateTime, judge: Judge<'_>) -> Verdict {
        let day = now.to_offset(market::calendar::VN_OFFSET).date();
        if self.decided_day != Some(day) {
            self.decided_day = Some(day);
            self.decided.clear();
        }
        if let Some(v) = self.decided.get(&c.client_id) {
            return v.clone();
        }
        let (verdict, reservation) = self.verdict(c, now, judge);
        if let Some((value, margin, price)) = reservation {
            self.reserve(c, value, margin, price, now);
        }
        self.decided.insert(c.client_id.clone(), verdict.clone());
        verdict
    }

    /// What [`Engine::check`] would answer for `c` at `now`, reserving and remembering nothing
    /// (an order ticket's preview): the order is neither counted nor its client id used.
    pub fn preview(&mut self, c: &Check, now: OffsetDateTime, judge: Judge<'_>) -> Verdict {
        self.verdict(c, now, judge).0
    }

    /// The verdict on `c`, and for an accepted order what to reserve (value, margin, price).
    /// Changes nothing but dropping what has aged out of the rate and duplicate windows.
    fn verdict(
        &mut self,
        c: &Check,
        now: OffsetDateTime,
        judge: Judge<'_>,
    ) -> (Verdict, Option<(i64, i64, Option<Price>)>) {
        let day = now.to_offset(market::calendar::VN_OFFSET).date();
        let mut out = Vec::new();
        self.check_kill(c, &mut out);
        let security = self.securities.get(&c.symbol).copied();
        let reference_price = match security {
            None => {
                out.push(Rejection {
                    rule: "unknown_security",
                    message: format!("{} is not a security master data knows", c.symbol),
                });
                None
            }
            Some(info) => {
                self.check_exchange(c, &info, now, &mut out);
                info.security.limits.map(|l| l.reference)
            }
        };
        // The value the order commits: its price, or for a market-priced order the ceiling.
        let price = c.price.or_else(|| {
            security.and_then(|s| s.security.limits).map(|l| {
                if c.side == Side::Buy {
                    l.ceiling
                } else {
                    l.floor
                }
            })
        });
        let multiplier = self.multiplier(c.symbol);
        let quantity = i64::try_from(c.quantity.units()).unwrap_or(i64::MAX);
        let order_value = price.map_or(0, |p| notional(multiplier, p.units(), quantity));
        let margin = if multiplier.is_some() {
            self.initial_margin(order_value)
        } else {
            0
        };
        self.check_watch(c, now, &mut out);
        let account_limits = self.effective(&self.account_limits, &c.account);
        self.check_order_limits(
            c,
            &account_limits,
            price,
            order_value,
            reference_price,
            &mut out,
        );
        let priced = |book: Option<&Book>| Priced {
            c,
            value: order_value,
            futures: multiplier.is_some(),
            margin,
            margin_used: match book {
                Some(b) if multiplier.is_some() => self.margin_used(b),
                _ => 0,
            },
        };
        let order = priced(self.accounts.get(&c.account));
        Self::check_book(
            self.accounts.get_mut(&c.account),
            ("account", &c.account),
            &order,
            &account_limits,
            (now, day),
            &mut out,
        );
        if multiplier.is_none() {
            check_broker_view(self.accounts.get(&c.account), c, order_value, &mut out);
        }
        if let Some(s) = &c.strategy {
            let limits = self.effective(&self.strategy_limits, s);
            self.check_order_limits(c, &limits, price, order_value, reference_price, &mut out);
            let order = Priced {
                margin_used: match self.strategies.get(s) {
                    Some(b) if multiplier.is_some() => self.margin_used(b),
                    _ => 0,
                },
                ..order
            };
            Self::check_book(
                self.strategies.get_mut(s),
                ("strategy", s),
                &order,
                &limits,
                (now, day),
                &mut out,
            );
        }
        let facts = self.facts(c, security.map(|s| s.security), price, order_value, day);
        out.extend(judge(&facts));
        let verdict = Verdict { rejections: out };
        let reservation = verdict.accepted().then(|| {
            let value = if multiplier.is_some() { 0 } else { order_value };
            (value, margin, price)
        });
        (verdict, reservation)
    }

    fn facts(
        &self,
        c: &Check,
        security: Option<Security>,
        price: Option<Price>,
        value: i64,
        day: Date,
    ) -> Facts {
        let book = self.accounts.get(&c.account);
        // A book not rolled to today yet has nothing of today.
        let today = book.filter(|b| b.day == Some(day));
        Facts {
            security,
            price: price.map_or(0, Price::units),
            value,
            exposure: book.map_or(0, |b| b.exposure),
            symbol_exposure: book.map_or(0, |b| b.symbol_exposure(c.symbol)),
            position: book
                .and_then(|b| b.positions.get(&c.symbol))
                .map_or(0, |p| p.quantity),
            open_orders: book.map_or(0, |b| b.open_orders),
            realised_today: today.map_or(0, |b| b.realised),
            pnl_today: today.map_or(0, Book::pnl_today),
            drawdown: today.map_or(0, |b| b.worst_drawdown),
            last: self.last.get(&c.symbol).map(|p| p.units()),
        }
    }

    fn check_kill(&self, c: &Check, out: &mut Vec<Rejection>) {
        let kills = [
            ("everything", self.global_kill.as_ref()),
            (
                "the account",
                self.accounts.get(&c.account).and_then(|b| b.kill.as_ref()),
            ),
            (
                "the strategy",
                c.strategy
                    .as_ref()
                    .and_then(|s| self.strategies.get(s))
                    .and_then(|b| b.kill.as_ref()),
            ),
        ];
        for (what, reason) in kills {
            if let Some(reason) = reason {
                out.push(Rejection {
                    rule: "kill_switch",
                    message: format!("the kill switch of {what} is engaged: {reason}"),
                });
            }
        }
    }

    fn check_exchange(
        &self,
        c: &Check,
        info: &SecurityInfo,
        now: OffsetDateTime,
        out: &mut Vec<Rejection>,
    ) {
        let s = &info.security;
        let key = self
            .rules
            .session_key(s.exchange, s.kind, s.status, Board::Main);
        let session = self.calendar.session(now, &key);
        let order = market::Order {
            side: c.side,
            order_type: c.order_type,
            board: Board::Main,
            price: c.price,
            quantity: c.quantity,
        };
        let ctx = OrderContext::exchange_only(&self.rules, self.investor);
        // A band of another day than the session's is stale: check without it.
        let stale = info.day.is_some_and(|d| d != session.date);
        let checked;
        let security = if stale {
            checked = Security { limits: None, ..*s };
            &checked
        } else {
            s
        };
        if let Err(violations) = validate_order(&order, security, &session, &ctx) {
            for v in violations.as_slice() {
                out.push(Rejection {
                    rule: "exchange",
                    message: v.to_string(),
                });
            }
        }
        if stale {
            out.push(Rejection {
                rule: "stale_band",
                message: format!(
                    "master data's band of {} is for {}, not {}: no order until today's",
                    c.symbol,
                    info.day.map(|d| d.to_string()).unwrap_or_default(),
                    session.date
                ),
            });
        }
    }

    fn check_order_limits(
        &self,
        c: &Check,
        limits: &Limits,
        price: Option<Price>,
        order_value: i64,
        reference: Option<Price>,
        out: &mut Vec<Rejection>,
    ) {
        if let Some(max) = limits.max_order_quantity
            && c.quantity.units() > max
        {
            out.push(Rejection {
                rule: "max_order_quantity",
                message: format!("quantity {} is above the limit {max}", c.quantity.units()),
            });
        }
        if let Some(max) = limits.max_order_value
            && order_value > max
        {
            let mut m = format!("value {order_value} VND is above the limit {max} VND");
            if c.price.is_none()
                && let Some(p) = price
            {
                let _ = write!(m, " (a market order is valued at {})", p.units());
            }
            out.push(Rejection {
                rule: "max_order_value",
                message: m,
            });
        }
        if let (Some(bps), Some(p)) = (limits.fat_finger_bps, c.price) {
            let anchor = self.last.get(&c.symbol).copied().or(reference);
            if let Some(a) = anchor.filter(|a| a.units() > 0) {
                let distance = (i128::from(p.units()) - i128::from(a.units())).abs() * 10_000
                    / i128::from(a.units());
                if distance > i128::from(bps) {
                    out.push(Rejection {
                        rule: "fat_finger",
                        message: format!(
                            "price {} is {distance} bps from {} {}, more than {bps}",
                            p.units(),
                            if self.last.contains_key(&c.symbol) {
                                "the last trade"
                            } else {
                                "the reference"
                            },
                            a.units()
                        ),
                    });
                }
            }
        }
    }

    fn check_book(
        book: Option<&mut Book>,
        (scope, key): (&'static str, &str),
        order: &Priced<'_>,
        limits: &Limits,
        (now, day): (OffsetDateTime, Date),
        out: &mut Vec<Rejection>,
    ) {
        let c = order.c;
        let Some(book) = book else {
            // A first order: only the per-order limits above apply, and the exposure ones.
            if c.side == Side::Buy && !order.futures {
                check_exposure(scope, key, c.symbol, 0, 0, order.value, limits, out);
            }
            check_margin(scope, key, order, limits, out);
            return;
        };
        book.roll_day(day);
        if let Some(max) = limits.max_open_orders
            && book.open_orders >= max
        {
            out.push(Rejection {
                rule: "max_open_orders",
                message: format!(
                    "{scope} {key} has {} open orders, the limit",
                    book.open_orders
                ),
            });
        }
        let minute_ago = now - time::Duration::MINUTE;
        while book.recent.front().is_some_and(|t| *t <= minute_ago) {
            book.recent.pop_front();
        }
        if let Some(max) = limits.max_orders_per_minute
            && book.recent.len() >= max as usize
        {
            out.push(Rejection {
                rule: "max_orders_per_minute",
                message: format!(
                    "{scope} {key} placed {} orders in the last minute, the limit",
                    book.recent.len()
                ),
            });
        }
        if let Some(secs) = limits.duplicate_window_secs {
            let since = now - time::Duration::seconds(i64::from(secs));
            while book.last_orders.front().is_some_and(|(t, _)| *t < since) {
                book.last_orders.pop_front();
            }
            let k: OrderKey = (c.symbol, c.side, c.order_type, c.price, c.quantity);
            if book.last_orders.iter().any(|(_, o)| *o == k) {
                out.push(Rejection {
                    rule: "duplicate",
                    message: format!(
                        "the same order ({} {} {}) was accepted within the last {secs} s",
                        c.side.name(),
                        c.quantity.units(),
                        c.symbol
                    ),
                });
            }
        }
        if c.side == Side::Buy && !order.futures {
            check_exposure(
                scope,
                key,
                c.symbol,
                book.symbol_exposure(c.symbol),
                book.exposure,
                order.value,
                limits,
                out,
            );
        }
        if !book.increases(c.symbol, c.side, order.futures) {
            return;
        }
        check_margin(scope, key, order, limits, out);
        if let Some(max) = limits.max_daily_loss
            && -book.realised > max
        {
            out.push(Rejection {
                rule: "max_daily_loss",
                message: format!(
                    "{scope} {key} lost {} VND today, more than {max}: only orders that reduce a position until tomorrow",
                    -book.realised
                ),
            });
        }
        if let Some(max) = limits.max_drawdown
            && book.worst_drawdown > max
        {
            out.push(Rejection {
                rule: "max_drawdown",
                message: format!(
                    "{scope} {key} fell {} VND from today's high P&L of {}, more than {max}: only orders that reduce a position until tomorrow",
                    book.worst_drawdown, book.peak
                ),
            });
        }
    }

    /// Counts an order the OMS created (read from `oms.order.v1`, e.g. while rebuilding after
    /// a restart) as open, unless it already is. Its verdict is left alone: an order the OMS
    /// created but had not checked yet is still checked when the OMS asks.
    pub fn adopt(&mut self, c: &Check, now: OffsetDateTime) {
        let price = c.price.or_else(|| {
            self.securities
                .get(&c.symbol)
                .and_then(|s| s.security.limits)
                .map(|l| {
                    if c.side == Side::Buy {
                        l.ceiling
                    } else {
                        l.floor
                    }
                })
        });
        let multiplier = self.multiplier(c.symbol);
        let quantity = i64::try_from(c.quantity.units()).unwrap_or(i64::MAX);
        let order_value = price.map_or(0, |p| notional(multiplier, p.units(), quantity));
        match multiplier {
            Some(_) => {
                let margin = self.initial_margin(order_value);
                self.reserve(c, 0, margin, price, now);
            }
            None => self.reserve(c, order_value, 0, price, now),
        }
    }

    fn reserve(
        &mut self,
        c: &Check,
        order_value: i64,
        margin: i64,
        price: Option<Price>,
        now: OffsetDateTime,
    ) {
        if self.reservations.contains_key(c.client_id.as_str()) {
            return;
        }
        let day = now.to_offset(market::calendar::VN_OFFSET).date();
        let buy_value = if c.side == Side::Buy { order_value } else { 0 };
        let key: OrderKey = (c.symbol, c.side, c.order_type, c.price, c.quantity);
        let account = match self.accounts.get_mut(c.account.as_str()) {
            Some(b) => b,
            None => self.accounts.entry(c.account.clone()).or_default(),
        };
        account.roll_day(day);
        account.open_margin += margin;
        Self::reserve_in(account, c.symbol, buy_value, now, key);
        // Stocks only (futures trade on margin, which the engine checks itself), and only what
        // the broker's view cannot have counted yet.
        let counted = account
            .broker
            .as_ref()
            .is_some_and(|v| now < v.at - SNAPSHOT_GRACE);
        if margin == 0 && !counted {
            let quantity = i64::try_from(c.quantity.units()).unwrap_or(i64::MAX);
            match c.side {
                Side::Buy => account.since.buy(now, buy_value),
                Side::Sell => account.since.sell(now, c.symbol, quantity),
            }
        }
        if let Some(s) = &c.strategy {
            let book = match self.strategies.get_mut(s.as_str()) {
                Some(b) => b,
                None => self.strategies.entry(s.clone()).or_default(),
            };
            book.roll_day(day);
            book.open_margin += margin;
            Self::reserve_in(book, c.symbol, buy_value, now, key);
        }
        self.reservations.insert(
            c.client_id.clone(),
            Reservation {
                account: c.account.clone(),
                strategy: c.strategy.clone(),
                symbol: c.symbol,
                side: c.side,
                value: buy_value,
                price: price.map_or(0, Price::units),
                left: c.quantity.units(),
                margin,
            },
        );
    }

    fn reserve_in(
        book: &mut Book,
        symbol: Symbol,
        buy_value: i64,
        now: OffsetDateTime,
        key: OrderKey,
    ) {
        book.open_orders += 1;
        book.recent.push_back(now);
        book.last_orders.push_back((now, key));
        if buy_value > 0 {
            *book.open_buys.entry(symbol).or_default() += buy_value;
            book.exposure += buy_value;
        }
    }

    fn books_of(&mut self, account: &str, strategy: Option<&str>) -> Vec<&mut Book> {
        let mut out = Vec::with_capacity(2);
        if let Some(s) = strategy
            && let Some(b) = self.strategies.get_mut(s)
        {
            out.push(b);
        }
        if let Some(b) = self.accounts.get_mut(account) {
            out.push(b);
        }
        out
    }

    /// The broker's view of an account (`oms.account.v1`): buying power and sellable
    /// quantities are checked against it, less the orders accepted since. An older snapshot
    /// than the one held changes nothing.
    pub fn account_snapshot(&mut self, s: AccountSnapshot) {
        let book = match self.accounts.get_mut(s.account.as_str()) {
            Some(b) => b,
            None => self.accounts.entry(s.account.clone()).or_default(),
        };
        if book.broker.as_ref().is_some_and(|b| b.at > s.at) {
            return;
        }
        book.since.forget_before(s.at - SNAPSHOT_GRACE);
        book.broker = Some(BrokerView {
            at: s.at,
            buying_power: s.buying_power,
            sellable: s.sellable.into_iter().collect(),
        });
    }

    /// An order ended (filled, cancelled, rejected, expired): its reservation is released.
    /// Unknown or already released ids change nothing.
    pub fn order_ended(&mut self, client_id: &str) {
        let Some(r) = self.reservations.remove(client_id) else {
            return;
        };
        let release = if r.side == Side::Buy {
            i64::try_from(i128::from(r.price) * i128::from(r.left))
                .unwrap_or(r.value)
                .min(r.value)
        } else {
            0
        };
        for book in self.books_of(&r.account, r.strategy.as_deref()) {
            book.open_orders = book.open_orders.saturating_sub(1);
            book.open_margin -= r.margin.min(book.open_margin);
            if release > 0 {
                let open = book.open_buys.entry(r.symbol).or_default();
                let take = release.min(*open);
                *open -= take;
                book.exposure -= take;
            }
        }
    }

    /// A fill (once per fill: the caller de-duplicates). Moves the reserved buy value into the
    /// position, or realises the P&L of a sale after fees and tax (over the quantity bought
    /// through here; a sale of older holdings realises nothing it cannot price). A futures
    /// fill opens, adds to, reduces or reverses a signed position; its fees are realised at
    /// once. The position is marked to the last trade (else this fill's price).
    pub fn filled(&mut self, f: &FillEvent<'_>) {
        let FillEvent {
            client_id,
            account,
            strategy,
            symbol,
            side,
            price,
            quantity,
            at,
        } = *f;
        let day = at.to_offset(market::calendar::VN_OFFSET).date();
        let kind = self
            .securities
            .get(&symbol)
            .map_or(InstrumentKind::Stock, |s| s.security.kind);
        let multiplier = self.multiplier(symbol);
        let cost = self
            .rules
            .fees
            .fill_cost(
                &self.rules.settlement,
                &market::fees::Fill {
                    kind,
                    side,
                    price,
                    quantity,
                },
                &self.investor,
                market::Vnd::ZERO,
            )
            .map(|c| c.total_cost.amount())
            .unwrap_or(0);
        let qty = i64::try_from(quantity.units()).unwrap_or(i64::MAX);
        let gross = notional(multiplier, price.units(), qty);
        let mark_price = self.last.get(&symbol).map_or(price.units(), |p| p.units());
        // The reservation shrinks by what filled.
        let mut released = 0;
        let mut margin_released = 0;
        if let Some(r) = self.reservations.get_mut(client_id) {
            let q = quantity.units().min(r.left);
            if r.left > 0 {
                margin_released =
                    i64::try_from(i128::from(r.margin) * i128::from(q) / i128::from(r.left))
                        .unwrap_or(r.margin);
                r.margin -= margin_released;
            }
            r.left -= q;
            if r.side == Side::Buy {
                released = i64::try_from(i128::from(r.price) * i128::from(q))
                    .unwrap_or(r.value)
                    .min(r.value);
                r.value -= released;
            }
        }
        // A fill of an order never seen (its creation is older than what the bus kept) still
        // counts.
        if !self.accounts.contains_key(account) {
            self.accounts.insert(account.to_owned(), Book::default());
        }
        if let Some(s) = strategy
            && !self.strategies.contains_key(s)
        {
            self.strategies.insert(s.to_owned(), Book::default());
        }
        for book in self.books_of(account, strategy) {
            book.roll_day(day);
            book.open_margin -= margin_released.min(book.open_margin);
            let position = book.positions.entry(symbol).or_default();
            position.futures = multiplier.is_some();
            let (cost_before, mark_before) = (position.cost, position.mark);
            if multiplier.is_some() {
                let signed = if side == Side::Buy { qty } else { -qty };
                book.realised += futures_fill(position, signed, gross) - cost;
            } else {
                match side {
                    Side::Buy => {
                        position.quantity += qty;
                        position.cost += gross + cost;
                        book.exposure += gross + cost;
                        if released > 0 {
                            let open = book.open_buys.entry(symbol).or_default();
                            let take = released.min(*open);
                            *open -= take;
                            book.exposure -= take;
                        }
                    }
                    Side::Sell => {
                        let q = qty.min(position.quantity.max(0));
                        if q == 0 {
                            continue;
                        }
                        let basis = share(position.cost, q, position.quantity);
                        position.quantity -= q;
                        position.cost -= basis;
                        book.exposure -= basis;
                        book.realised += share(gross, q, qty) - share(cost, q, qty) - basis;
                    }
                }
            }
            position.mark = notional(multiplier, mark_price, position.quantity);
            book.costs += position.cost - cost_before;
            book.marked += position.mark - mark_before;
            book.track();
        }
        let key = |strategy: bool, k: &str| (strategy, k.to_owned());
        let holders = self.holders.entry(symbol).or_default();
        for h in std::iter::once(key(false, account)).chain(strategy.map(|s| key(true, s))) {
            if !holders.contains(&h) {
                holders.push(h);
            }
        }
    }

    /// A trade: the last price of `symbol`, which marks every position in it (today's P&L and
    /// drawdown follow) and feeds its breaker.
    pub fn trade(&mut self, symbol: Symbol, price: Price, at: OffsetDateTime) {
        self.last.insert(symbol, price);
        self.watch_trade(symbol, price, at);
        let multiplier = self.multiplier(symbol);
        let Some(holders) = self.holders.get(&symbol) else {
            return;
        };
        let day = at.to_offset(market::calendar::VN_OFFSET).date();
        for (is_strategy, key) in holders {
            let books = if *is_strategy {
                &mut self.strategies
            } else {
                &mut self.accounts
            };
            let Some(book) = books.get_mut(key.as_str()) else {
                continue;
            };
            let Some(position) = book.positions.get_mut(&symbol) else {
                continue;
            };
            let mark = notional(multiplier, price.units(), position.quantity);
            let change = mark - position.mark;
            position.mark = mark;
            book.roll_day(day);
            book.marked += change;
            book.track();
        }
    }
}

/// Applies a futures fill of `signed` contracts (buy above zero) worth `value` (VND, the
/// absolute notional) to `position`; returns the P&L it realised (before fees).
fn futures_fill(position: &mut Position, signed: i64, value: i64) -> i64 {
    let direction = signed.signum();
    let total = signed.abs();
    let mut left = total;
    let mut realised = 0;
    if position.quantity != 0 && position.quantity.signum() != direction {
        let held = position.quantity.abs();
        let q = left.min(held);
        let basis = share(position.cost, q, held);
        let exit = share(value, q, total);
        realised = if position.quantity > 0 {
            exit - basis
        } else {
            -basis - exit
        };
        position.cost -= basis;
        position.quantity += direction * q;
        left -= q;
    }
    if left > 0 {
        position.quantity += direction * left;
        position.cost += direction * share(value, left, total);
    }
    realised
}

/// One fill, as [`Engine::filled`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct FillEvent<'a> {
    /// The order's client id.
    pub client_id: &'a str,
    /// Broker sub-account.
    pub account: &'a str,
    /// Strategy, if any.
    pub strategy: Option<&'a str>,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub quantity: Quantity,
    /// When.
    pub at: OffsetDateTime,
}

/// An order with what it commits.
#[derive(Clone, Copy)]
struct Priced<'a> {
    c: &'a Check,
    /// Its value (futures: notional), VND.
    value: i64,
    futures: bool,
    /// Initial margin it needs (futures), VND.
    margin: i64,
    /// Initial margin the book already uses, VND.
    margin_used: i64,
}

fn check_margin(
    scope: &str,
    key: &str,
    order: &Priced<'_>,
    limits: &Limits,
    out: &mut Vec<Rejection>,
) {
    if let Some(max) = limits.max_margin
        && order.futures
        && order.margin_used + order.margin > max
    {
        out.push(Rejection {
            rule: "max_margin",
            message: format!(
                "{scope} {key} would use {} VND of initial margin (now {} + {}), above {max}",
                order.margin_used + order.margin,
                order.margin_used,
                order.margin
            ),
        });
    }
}

#[expect(clippy::too_many_arguments, reason = "the numbers of one rule")]
fn check_exposure(
    scope: &str,
    key: &str,
    symbol: Symbol,
    symbol_exposure: i64,
    exposure: i64,
    order_value: i64,
    limits: &Limits,
    out: &mut Vec<Rejection>,
) {
    if let Some(max) = limits.max_symbol_exposure
        && symbol_exposure + order_value > max
    {
        out.push(Rejection {
            rule: "max_symbol_exposure",
            message: format!(
                "{scope} {key} would hold {} VND of {symbol} (now {symbol_exposure} + {order_value}), above {max}",
                symbol_exposure + order_value
            ),
        });
    }
    if let Some(max) = limits.max_exposure
        && exposure + order_value > max
    {
        out.push(Rejection {
            rule: "max_exposure",
            message: format!(
                "{scope} {key} would be exposed {} VND (now {exposure} + {order_value}), above {max}",
                exposure + order_value
            ),
        });
    }
}

/// Buying power and sellable quantity: a stock order of an account whose broker view is known
/// must fit in what the broker reported, less the orders accepted since (an account without a
/// view is left to the broker, which refuses what it cannot cover).
fn check_broker_view(book: Option<&Book>, c: &Check, order_value: i64, out: &mut Vec<Rejection>) {
    let Some((book, view)) = book.and_then(|b| b.broker.as_ref().map(|v| (b, v))) else {
        return;
    };
    // Formatted only for a refusal: the accepted path stays allocation-free.
    let at = || {
        view.at
            .to_offset(market::calendar::VN_OFFSET)
            .format(&time::macros::format_description!(
                "[hour]:[minute]:[second]"
            ))
            .unwrap_or_default()
    };
    match c.side {
        Side::Buy => {
            let Some(power) = view.buying_power else {
                return;
            };
            let committed = book.since.bought;
            let left = power - committed;
            if order_value > left {
                out.push(Rejection {
                    rule: "buying_power",
                    message: format!(
                        "account {} has {left} VND of buying power left (the broker's {power} at {} less {committed} of buys since), below the order's {order_value}",
                        c.account,
                        at()
                    ),
                });
            }
        }
        Side::Sell => {
            let held = view.sellable.get(&c.symbol).copied().unwrap_or(0);
            let sold = book.since.sold.get(&c.symbol).copied().unwrap_or(0);
            let left = held - sold;
            let quantity = i64::try_from(c.quantity.units()).unwrap_or(i64::MAX);
            if quantity > left {
                out.push(Rejection {
                    rule: "sellable",
                    message: format!(
                        "account {} can sell {left} {} (the broker's {held} sellable at {} less {sold} sold since), fewer than the order's {quantity}",
                        c.account,
                        c.symbol,
                        at()
                    ),
                });
            }
        }
    }
}

pub mod monitor;

#[cfg(test)]
mod tests;
