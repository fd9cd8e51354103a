//! The simulated broker behind FC Trading: a `matching::Engine` holding the configured
//! accounts and a market-maker account that quotes the generator's book, plus the
//! translation of engine events into SSI trading-stream notices with `notifyID`s.
//!
//! Every change goes through [`Broker::apply`] with a [`Command`] and the simulated instant
//! it happens at. The desk journals the command after applying it, and a restart
//! replays the journal through the same code; the engine is deterministic, so replay
//! rebuilds the same orders, notices and ids. Queries read the broker and change nothing.
//!
//! Liquidity model: for every instrument a client touches, the market maker (account
//! [`MARKET_MAKER`]) rests limit orders at the generated bid/ask levels of the latest
//! generated trade (the same levels the FC Data hub publishes in `X-QUOTE`), and re-quotes
//! when the generator prints a new trade. Client orders therefore match inside the engine,
//! under `market`'s rules, against what the data feed shows. fcsim checks nothing itself.
//!
//! Imports point down only: the generator and the live day, never the simulator or an
//! HTTP module.

pub(crate) mod cash;
pub(crate) mod fco;
pub(crate) mod notices;
mod wire;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use market::investor::{InvestorKind, Residency};
use market::{
    Board, InstrumentKind, InvestorProfile, OrderType, Price, Quantity, SecurityStatus, Side,
    Symbol, TradingCalendar, Vnd,
};
use matching::{
    AccountId, ChangeRejection, Engine, Listing, OrderId, OrderRequest, OrderStatus, RejectReason,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::live::{LiveDay, LiveDays, quote_levels};
use crate::tape::Generator;
pub(crate) use notices::{Notice, NoticeLog};

/// Account id of the simulator's market maker (never visible to clients).
pub const MARKET_MAKER: &str = "FCSIM-MM";

/// Cash of the market maker, VND.
const MM_CASH: i64 = 1_000_000_000_000_000;
/// Settled shares the market maker holds of every stock it quotes.
const MM_SHARES: u64 = 1_000_000_000;
/// Levels per side the market maker quotes.
const MM_LEVELS: usize = 3;

/// The SSI `orderStatus` code of an engine status.
pub(crate) fn status_code(status: OrderStatus, filled: u64) -> &'static str {
    match status {
        OrderStatus::Queued => "QU",
        OrderStatus::PartiallyFilled => "PF",
        OrderStatus::Filled => "FF",
        OrderStatus::Cancelled if filled > 0 => "FFPC",
        OrderStatus::Cancelled => "CL",
        OrderStatus::Expired => "EX",
        OrderStatus::Rejected => "RJ",
    }
}

/// The SSI error code (§7.5) of an entry rejection.
pub(crate) fn reject_code(reason: &RejectReason) -> &'static str {
    match reason {
        RejectReason::Rules { violations } => violation_code(violations),
        RejectReason::UnknownAccount { .. } => "ORD025",
        RejectReason::UnknownSecurity { .. } => "ORD001",
        RejectReason::InsufficientBuyingPower { .. } => "ORD040",
        RejectReason::PutThroughNotMatched
        | RejectReason::SameAccountDeal
        | RejectReason::ClockNotSet
        | RejectReason::Overflow => "ERR500",
    }
}

/// The SSI error code (§7.5) of the first broken exchange or account rule, the same for a
/// new order and an amendment.
fn violation_code(violations: &market::Violations) -> &'static str {
    use market::Violation as V;
    match violations.as_slice().first() {
        Some(V::PriceOffTick { .. }) => "ORD004",
        Some(V::PriceAboveCeiling { .. }) => "ORD003",
        Some(V::PriceBelowFloor { .. }) => "ORD002",
        Some(V::NotRoundLot { .. } | V::OddLotTooLarge { .. }) => "ORD005",
        Some(V::QuantityAboveMaximum { .. }) => "ORD008",
        Some(V::InsufficientBuyingPower { .. }) => "ORD040",
        Some(V::InsufficientSellable { .. }) => "ORD007",
        Some(V::ForeignRoomExceeded { .. }) => "ORD034",
        Some(V::SecurityNotTradable { .. }) => "ORD017",
        Some(
            V::MarketNotOpen { .. }
            | V::OrderTypeNotAccepted { .. }
            | V::RestrictedOutsideCallAuction { .. }
            | V::RestrictedWeekday { .. },
        ) => "ORD016",
        Some(V::PriceRequired { .. } | V::PriceNotAllowed { .. } | V::ZeroQuantity) => "ORD006",
        Some(_) | None => "ERR500",
    }
}

/// The SSI error code (§7.5) of a refused amendment or cancellation: an amended order that
/// breaks a rule gets the code a new order breaking it gets (ceiling, floor, tick, lot, …).
pub(crate) fn change_code(reason: &ChangeRejection) -> &'static str {
    use market::order::ChangeViolation as W;
    match reason {
        ChangeRejection::UnknownOrder { .. } => "ORD013",
        ChangeRejection::NotWorking { .. } => "ORD012",
        ChangeRejection::Window { violation } => match violation {
            W::PhaseBlocksChanges { .. } | W::PeriodicAuctionBlackout { .. } => "ORD011",
            W::PloIsFinal | W::PutThroughExecuted | W::FullyFilled { .. } => "ORD012",
            W::BelowFilled { .. } => "ORD031",
            W::NoChange => "ORD014",
            W::NoPriceToAmend { .. } => "ORD010",
            W::PriceAndQuantity => "ORD006",
        },
        ChangeRejection::Rules { violations } => violation_code(violations),
        ChangeRejection::InsufficientBuyingPower { .. } => "ORD040",
        ChangeRejection::Overflow => "ERR500",
    }
}

/// Price units per wire unit: futures are quoted in points with one decimal.
pub(crate) fn scale(kind: InstrumentKind) -> f64 {
    match kind {
        InstrumentKind::IndexFuture => 10.0,
        InstrumentKind::Stock
        | InstrumentKind::FundCertificate
        | InstrumentKind::Etf
        | InstrumentKind::CoveredWarrant
        | InstrumentKind::Bond => 1.0,
    }
}

/// Wire price → engine units; `None` when it is not a whole number of units.
pub(crate) fn to_units(kind: InstrumentKind, price: f64) -> Option<i64> {
    let x = price * scale(kind);
    let r = x.round();
    if !x.is_finite() || (x - r).abs() > 1e-6 || r.abs() > 1e15 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    Some(r as i64)
}

/// What the broker remembers about a client order beyond the engine record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderMeta {
    pub(crate) consumer: String,
    pub(crate) orig_request: String,
    pub(crate) last_request: String,
    pub(crate) market: String,
    pub(crate) channel: String,
    /// The last `orderError` data of the order, as JSON text (kept compact: a parsed
    /// `Value` costs several times its text). Format 2 snapshots hold it as an object.
    #[serde(deserialize_with = "json_text")]
    pub(crate) last_error: Option<Box<str>>,
    pub(crate) modified: OffsetDateTime,
}

/// JSON text, read from a string or (format 2 snapshots) from the JSON itself.
fn json_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<str>>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(text.into()),
        Some(other) => Some(other.to_string().into()),
    })
}

/// The market maker's quotes on one symbol: the day and index of the generated trade they
/// follow, and the engine ids of its resting orders.
type MmQuotes = (Date, usize, Vec<OrderId>);

/// Request ids a consumer used on one simulated day.
type UsedIds = (Date, BTreeSet<String>);

/// Why a client action failed (REST error envelope).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BrokerError {
    /// Malformed or duplicate input: HTTP 400, body status 400.
    #[error("{0}")]
    Invalid(String),
    /// Refused by the broker (unknown order, unchanged amendment, market closed, …): HTTP
    /// 200, body status 400, an SSI code in the message where there is one.
    #[error("{0}")]
    Refused(String),
    /// A request id (v2 `requestID`, v3 `clientRequestId`/`clientModifyId`/
    /// `clientCancelId`) already used by the consumer today: v2 answers HTTP 400, v3 409.
    #[error("Duplicate requestID {0}")]
    Duplicate(String),
}

fn refused(msg: impl Into<String>) -> BrokerError {
    BrokerError::Refused(msg.into())
}

/// A new order, as the REST layer parsed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NewOrder {
    pub(crate) consumer: String,
    pub(crate) account: String,
    pub(crate) symbol: String,
    /// `VN` or `VNFE`.
    pub(crate) market: String,
    pub(crate) side: Side,
    pub(crate) order_type: OrderType,
    /// Engine price units (`None` for types without a price).
    pub(crate) price: Option<i64>,
    pub(crate) quantity: u64,
    pub(crate) board: Board,
    pub(crate) channel: String,
    pub(crate) request_id: String,
    /// Answer an entry rejection in the response too (`reject_in_response`).
    pub(crate) reject_in_response: bool,
}

/// A ModifyOrder (`modify: Some`) or CancelOrder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Change {
    pub(crate) consumer: String,
    pub(crate) account: String,
    pub(crate) order_id: u64,
    pub(crate) request_id: String,
    pub(crate) modify: Option<Modify>,
}

/// The new price and quantity of a ModifyOrder, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Modify {
    /// Wire price, finite and not negative (`0`: unchanged).
    pub(crate) price: f64,
    pub(crate) quantity: u64,
}

/// Everything that changes the broker. Journaled with the instant it was applied at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Command {
    /// Moves the engine to the instant; with `requote`, re-quotes every instrument with
    /// working client orders (the periodic tick). `prune_before` is the retention cut the
    /// broker made while applying it (recorded so replay makes the same one).
    Tick {
        requote: bool,
        #[serde(default)]
        prune_before: Option<Date>,
    },
    /// Lists a symbol for the day (quantity queries on an instrument nobody traded yet).
    List { symbol: String },
    /// NewOrder / derNewOrder.
    NewOrder(NewOrder),
    /// ModifyOrder / CancelOrder and their `der` variants.
    Change(Change),
    /// `cash/transferInternal`.
    CashTransfer(cash::CashTransfer),
    /// `cash/createCashInAdvance`.
    CashAdvance(cash::CashAdvance),
    /// `stock/transfer`.
    StockTransfer(cash::StockTransfer),
    /// FastConnect v3 `fco/order` (POST): holds a conditional order.
    FcoPlace(Box<fco::FcoRequest>),
    /// FastConnect v3 `fco/order` (DELETE).
    FcoCancel { consumer: String, id: u64 },
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Applied.
    Done,
    /// The engine id of the new order.
    Order(OrderId),
    /// The id of a cash or stock transaction.
    Transaction(String),
}

/// The result of [`Broker::apply`].
#[derive(Debug)]
pub(crate) struct Applied {
    /// Whether the broker's durable state changed (a tick that did nothing but move the
    /// clock need not be journaled).
    pub(crate) changed: bool,
    pub(crate) result: Result<Outcome, BrokerError>,
}

/// The broker's own durable state (the engine's is `matching::EngineState`), as read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct BrokerState {
    listed: Vec<(Symbol, (Date, usize))>,
    mm_quotes: Vec<(Symbol, MmQuotes)>,
    meta: Vec<(OrderId, OrderMeta)>,
    request_ids: Vec<(String, UsedIds)>,
    log: VecDeque<Notice>,
    next_notify: i64,
    #[serde(default)]
    pruned: Option<Date>,
    #[serde(default)]
    ledger: cash::Ledger,
    #[serde(default)]
    fcos: Vec<(u64, fco::Fco)>,
    #[serde(default)]
    next_fco: u64,
}

/// The broker's own durable state, as written (borrowed).
#[derive(Serialize)]
pub(crate) struct BrokerStateRef<'a> {
    listed: Vec<(&'a Symbol, &'a (Date, usize))>,
    mm_quotes: Vec<(&'a Symbol, &'a MmQuotes)>,
    meta: Vec<(&'a OrderId, &'a OrderMeta)>,
    request_ids: Vec<(&'a String, &'a UsedIds)>,
    log: &'a VecDeque<Notice>,
    next_notify: i64,
    pruned: Option<Date>,
    ledger: &'a cash::Ledger,
    fcos: Vec<(&'a u64, &'a fco::Fco)>,
    next_fco: u64,
}

#[cfg(test)]
impl BrokerState {
    pub(crate) fn as_ref(&self) -> BrokerStateRef<'_> {
        BrokerStateRef {
            listed: self.listed.iter().map(|(k, v)| (k, v)).collect(),
            mm_quotes: self.mm_quotes.iter().map(|(k, v)| (k, v)).collect(),
            meta: self.meta.iter().map(|(k, v)| (k, v)).collect(),
            request_ids: self.request_ids.iter().map(|(k, v)| (k, v)).collect(),
            log: &self.log,
            next_notify: self.next_notify,
            pruned: self.pruned,
            ledger: &self.ledger,
            fcos: self.fcos.iter().map(|(k, v)| (k, v)).collect(),
            next_fco: self.next_fco,
        }
    }
}

/// The broker (one per simulator, owned by the desk's thread).
pub(crate) struct Broker {
    pub(crate) engine: Engine,
    generator: Arc<Generator>,
    live: Arc<LiveDays>,
    multiplier: i64,
    mm: AccountId,
    listed: BTreeMap<Symbol, (Date, usize)>,
    mm_quotes: BTreeMap<Symbol, MmQuotes>,
    pub(crate) meta: BTreeMap<OrderId, OrderMeta>,
    /// Client orders not final yet (what the tick re-quotes for).
    working: BTreeSet<OrderId>,
    /// Client orders by account (what the queries list).
    by_account: BTreeMap<AccountId, BTreeSet<OrderId>>,
    request_ids: BTreeMap<String, UsedIds>,
    next_notify: i64,
    /// Notices made but not yet durable, hence not published.
    pending: Vec<Notice>,
    log: Arc<NoticeLog>,
    /// The simulated instant of the last clock sync (saved with the state).
    synced: Option<OffsetDateTime>,
    /// The last retention cut.
    pruned: Option<Date>,
    /// Final client orders and notices older than this many days are dropped.
    retention_days: u32,
    /// Cash advances, transfers and the sales behind them.
    ledger: cash::Ledger,
    /// FastConnect v3 FCOs by id.
    fcos: BTreeMap<u64, fco::Fco>,
    next_fco: u64,
}

/// What a broker is built from.
pub(crate) struct Parts {
    pub(crate) generator: Arc<Generator>,
    pub(crate) live: Arc<LiveDays>,
    pub(crate) log: Arc<NoticeLog>,
    pub(crate) retention_days: u32,
    pub(crate) cash_advance_fee_ppm_per_day: u32,
}

impl Broker {
    /// A broker over `engine`; with `state`, the broker state saved with it.
    pub(crate) fn new(engine: Engine, parts: Parts, state: Option<BrokerState>) -> Self {
        let multiplier = engine
            .rules()
            .settlement
            .futures_multiplier_vnd_per_point
            .max(1);
        let parts_fee = parts.cash_advance_fee_ppm_per_day;
        let mut broker = Self {
            engine,
            generator: parts.generator,
            live: parts.live,
            multiplier,
            mm: AccountId::new(MARKET_MAKER),
            listed: BTreeMap::new(),
            mm_quotes: BTreeMap::new(),
            meta: BTreeMap::new(),
            working: BTreeSet::new(),
            by_account: BTreeMap::new(),
            request_ids: BTreeMap::new(),
            next_notify: 0,
            pending: Vec::new(),
            log: parts.log,
            synced: None,
            pruned: None,
            retention_days: parts.retention_days,
            ledger: cash::Ledger::new(parts.cash_advance_fee_ppm_per_day),
            fcos: BTreeMap::new(),
            next_fco: 0,
        };
        let (log, latest) = match state {
            Some(state) => {
                broker.listed = state.listed.into_iter().collect();
                broker.mm_quotes = state.mm_quotes.into_iter().collect();
                broker.meta = state.meta.into_iter().collect();
                broker.request_ids = state.request_ids.into_iter().collect();
                broker.next_notify = state.next_notify;
                broker.pruned = state.pruned;
                broker.ledger = state.ledger;
                broker.fcos = state.fcos.into_iter().collect();
                broker.next_fco = state.next_fco;
                broker.ledger.set_fee(parts_fee);
                (state.log, state.next_notify)
            }
            None => (VecDeque::new(), 0),
        };
        broker.log.reset(log, latest);
        for id in broker.meta.keys() {
            if let Some(o) = broker.engine.order(*id) {
                broker
                    .by_account
                    .entry(o.account.clone())
                    .or_default()
                    .insert(*id);
                if !o.status.is_final() {
                    broker.working.insert(*id);
                }
            }
        }
        broker
    }

    /// The newest notifyID handed out (published or pending).
    pub(crate) fn next_notify(&self) -> i64 {
        self.next_notify
    }

    /// The simulated instant of the last clock sync.
    pub(crate) fn synced(&self) -> Option<OffsetDateTime> {
        self.synced
    }

    /// Publishes the notices made since the last call (their change is durable now).
    pub(crate) fn publish(&mut self) {
        let fresh = std::mem::take(&mut self.pending);
        self.log.publish(fresh);
    }

    /// The borrowed durable state, for a snapshot (`log` is the published notices).
    pub(crate) fn state_ref<'a>(&'a self, log: &'a VecDeque<Notice>) -> BrokerStateRef<'a> {
        BrokerStateRef {
            listed: self.listed.iter().collect(),
            mm_quotes: self.mm_quotes.iter().collect(),
            meta: self.meta.iter().collect(),
            request_ids: self.request_ids.iter().collect(),
            log,
            next_notify: self.next_notify,
            pruned: self.pruned,
            ledger: &self.ledger,
            fcos: self.fcos.iter().collect(),
            next_fco: self.next_fco,
        }
    }

    /// The shared log of published notices.
    pub(crate) fn log(&self) -> &Arc<NoticeLog> {
        &self.log
    }

    /// Opens the market maker and the configured accounts that the engine does not hold
    /// yet (all of them on a fresh start; after a restore, those added to the
    /// configuration since), and returns the ids of those it opened.
    fn open_accounts(
        &mut self,
        consumers: &[crate::config::TradingConsumer],
    ) -> Result<Vec<String>, matching::Error> {
        let mm_profile = InvestorProfile {
            residency: Residency::Domestic,
            kind: InvestorKind::Institution,
            professional: true,
            non_prefunding: false,
        };
        if self.engine.account(&self.mm).is_none() {
            self.engine
                .open_account(self.mm.clone(), mm_profile, Vnd::new(MM_CASH))?;
        }
        let mut opened = Vec::new();
        for c in consumers {
            for a in &c.accounts {
                let id = AccountId::new(a.id.clone());
                if self.engine.account(&id).is_none() {
                    self.engine.open_account(
                        id.clone(),
                        InvestorProfile::DOMESTIC_INDIVIDUAL,
                        Vnd::new(a.cash),
                    )?;
                    opened.push(a.id.clone());
                }
            }
        }
        Ok(opened)
    }

    /// Start-up: moves the engine to `at`, opens the configured accounts the engine does
    /// not hold yet and seeds their opening positions (written by the start-up snapshot).
    pub(crate) fn start_at(
        &mut self,
        at: OffsetDateTime,
        consumers: &[crate::config::TradingConsumer],
    ) -> Result<(), matching::Error> {
        let opened = self.open_accounts(consumers)?;
        self.advance(at);
        if opened.is_empty() {
            return Ok(());
        }
        let Some(live) = self.live_at(at) else {
            tracing::warn!(
                "fcsim: the start date is not a simulated trading day; no opening positions"
            );
            return Ok(());
        };
        for c in consumers {
            for a in c.accounts.iter().filter(|a| opened.contains(&a.id)) {
                for (symbol, qty) in &a.positions {
                    if let Err(e) = self.seed(&live, &a.id, symbol, *qty) {
                        tracing::warn!(account = %a.id, %symbol, error = %e, "fcsim: opening position skipped");
                    }
                }
            }
        }
        self.process();
        Ok(())
    }

    /// Seeds a configured opening position (listing the instrument first).
    fn seed(
        &mut self,
        live: &LiveDay,
        account: &str,
        symbol: &str,
        quantity: u64,
    ) -> Result<(), BrokerError> {
        let (sym, i) = self.ensure_listed(live, symbol)?;
        let price = live.tape(i).map_or(0, |t| t.limits.reference.units());
        let cost = Vnd::new(price.saturating_mul(i64::try_from(quantity).unwrap_or(0)));
        self.engine
            .seed_position(&AccountId::new(account), sym, Quantity::new(quantity), cost)
            .map_err(|e| refused(e.to_string()))
    }

    /// The live day of the simulated instant `at`.
    fn live_at(&self, at: OffsetDateTime) -> Option<Arc<LiveDay>> {
        self.live.get_blocking(TradingCalendar::local(at).0)
    }

    /// Applies `cmd` at the simulated instant `at`. Decisions the broker makes on the way
    /// (the retention cut of a tick) are written back into `cmd`, so the journaled command
    /// replays exactly (`replay`: take them from `cmd` instead).
    pub(crate) fn apply(&mut self, at: OffsetDateTime, cmd: &mut Command, replay: bool) -> Applied {
        let events = self.advance(at);
        match cmd {
            Command::Tick {
                requote,
                prune_before,
            } => {
                let mut changed = events > 0;
                let symbols: BTreeSet<Symbol> = if *requote {
                    self.working
                        .iter()
                        .filter_map(|id| self.engine.order(*id))
                        .map(|o| o.symbol)
                        .collect()
                } else {
                    BTreeSet::new()
                };
                // The live day only when something is to be re-quoted: building one is
                // costly, and at high speeds days go by without client orders.
                if !symbols.is_empty()
                    && let Some(live) = self.live_at(at)
                {
                    for sym in symbols {
                        changed |= self.requote(&live, sym);
                    }
                    changed |= self.process() > 0;
                }
                changed |= self.fco_tick(at);
                if !replay {
                    *prune_before = self.retention_cut(at);
                }
                if let Some(cut) = *prune_before {
                    self.prune_before(cut);
                    changed = true;
                }
                Applied {
                    changed,
                    result: Ok(Outcome::Done),
                }
            }
            Command::List { symbol } => {
                let result = match self.live_at(at) {
                    Some(live) => self.ensure_listed(&live, symbol).map(|_| Outcome::Done),
                    None => Err(refused("No trading day is simulated now")),
                };
                Applied {
                    changed: true,
                    result,
                }
            }
            Command::NewOrder(order) => Applied {
                changed: true,
                result: self.new_order(at, order),
            },
            Command::Change(change) => Applied {
                changed: true,
                result: self.change(at, change),
            },
            Command::CashTransfer(c) => Applied {
                changed: true,
                result: self.cash_transfer(at, c),
            },
            Command::CashAdvance(c) => Applied {
                changed: true,
                result: self.cash_advance(at, c),
            },
            Command::StockTransfer(c) => Applied {
                changed: true,
                result: self.stock_transfer(at, c),
            },
            Command::FcoPlace(r) => Applied {
                changed: true,
                result: self.fco_place(at, r),
            },
            Command::FcoCancel { consumer, id } => Applied {
                changed: true,
                result: self.fco_cancel(at, consumer, *id),
            },
        }
    }

    /// Moves the engine to `at` and turns its events into notices; returns how many
    /// engine events there were.
    fn advance(&mut self, at: OffsetDateTime) -> usize {
        match self.engine.advance_to(at) {
            Ok(()) => self.synced = Some(at),
            Err(e) => tracing::debug!(error = %e, "engine clock not advanced"),
        }
        self.settle_advances();
        self.process()
    }

    /// Records `request_id` for `consumer` on `today`; false if it was already used.
    fn claim_request_id(&mut self, consumer: &str, today: Date, id: &str) -> bool {
        let entry = self
            .request_ids
            .entry(consumer.to_owned())
            .or_insert_with(|| (today, BTreeSet::new()));
        if entry.0 != today {
            *entry = (today, BTreeSet::new());
        }
        entry.1.insert(id.to_owned())
    }

    fn new_order(&mut self, at: OffsetDateTime, o: &NewOrder) -> Result<Outcome, BrokerError> {
        let live = self
            .live_at(at)
            .ok_or_else(|| refused("The market is closed: no trading day is simulated now"))?;
        let (sym, _) = self.ensure_listed(&live, &o.symbol)?;
        let (today, _) = TradingCalendar::local(at);
        if !self.claim_request_id(&o.consumer, today, &o.request_id) {
            return Err(BrokerError::Duplicate(o.request_id.clone()));
        }
        self.requote(&live, sym);
        let meta = OrderMeta {
            consumer: o.consumer.clone(),
            orig_request: o.request_id.clone(),
            last_request: o.request_id.clone(),
            market: o.market.clone(),
            channel: o.channel.clone(),
            last_error: None,
            modified: at,
        };
        let price = match o.price.map(Price::new).transpose() {
            Ok(p) => p,
            Err(e) => return Err(BrokerError::Invalid(e.to_string())),
        };
        let req = OrderRequest {
            account: AccountId::new(o.account.clone()),
            symbol: sym,
            board: o.board,
            side: o.side,
            order_type: o.order_type,
            price,
            quantity: Quantity::new(o.quantity),
        };
        // Entry rejections reach the client as `orderError` on the stream, as at SSI; with
        // `reject_in_response` the answer carries them too.
        match self.submit(req, meta) {
            Ok(id) => Ok(Outcome::Order(id)),
            Err(matching::Error::Rejected { reason, .. }) if o.reject_in_response => {
                Err(refused(format!("{}: {reason}", reject_code(&reason))))
            }
            Err(matching::Error::Rejected { order, .. }) => Ok(Outcome::Order(order)),
            Err(e) => Err(refused(e.to_string())),
        }
    }

    fn change(&mut self, at: OffsetDateTime, c: &Change) -> Result<Outcome, BrokerError> {
        let id = OrderId(c.order_id);
        let owned = self.meta.get(&id).is_some_and(|m| m.consumer == c.consumer)
            && self
                .engine
                .order(id)
                .is_some_and(|o| o.account.as_str() == c.account);
        let Some(order) = self.engine.order(id).filter(|_| owned).cloned() else {
            return Err(refused("ORD013: Order Is Null Error!"));
        };
        let mut amendments = Vec::new();
        if let Some(m) = c.modify {
            let kind = self
                .engine
                .instrument(order.symbol)
                .map_or(InstrumentKind::Stock, |i| i.security.kind);
            // Price 0 keeps the price (and an order without one has none to change).
            if let Some(current) = order.price
                && m.price > 0.0
            {
                let units = to_units(kind, m.price).ok_or_else(|| {
                    refused(format!(
                        "ORD004: Price {} is not a valid price step",
                        m.price
                    ))
                })?;
                if units != current.units() {
                    let p = Price::new(units).map_err(|e| BrokerError::Invalid(e.to_string()))?;
                    amendments.push(market::order::Amendment::Price(p));
                }
            }
            if m.quantity != order.quantity.units() {
                amendments.push(market::order::Amendment::Quantity(Quantity::new(
                    m.quantity,
                )));
            }
            if amendments.is_empty() {
                return Err(refused("ORD014: Price and quantity are unchanged"));
            }
        }
        let (today, _) = TradingCalendar::local(at);
        if !self.claim_request_id(&c.consumer, today, &c.request_id) {
            return Err(BrokerError::Duplicate(c.request_id.clone()));
        }
        // The events carry this request's id as `uniqueID`; a refusal leaves no trace on
        // the order: its `uniqueID` and `modifiedTime` stay those of the last change.
        let before = self.meta.get_mut(&id).map(|m| {
            let last = std::mem::replace(&mut m.last_request, c.request_id.clone());
            (last, m.modified)
        });
        // Every amendment of one request applies, or none (`amend_all`).
        let result = if c.modify.is_some() {
            self.engine.amend_all(id, &amendments).map(|_| ())
        } else {
            self.engine.cancel(id)
        };
        self.process();
        if result.is_err()
            && let (Some(m), Some((last, modified))) = (self.meta.get_mut(&id), before)
        {
            m.last_request = last;
            m.modified = modified;
        }
        Ok(Outcome::Done)
    }

    /// Lists `symbol` for today (re-listing with today's band on a new day).
    pub(crate) fn ensure_listed(
        &mut self,
        live: &LiveDay,
        symbol: &str,
    ) -> Result<(Symbol, usize), BrokerError> {
        let universe = self.generator.universe();
        let i = universe
            .find(symbol)
            .ok_or_else(|| refused(format!("Symbol {symbol} does not exist")))?;
        let x = universe
            .instrument(i)
            .ok_or_else(|| refused(format!("Symbol {symbol} does not exist")))?;
        let kind = x.kind;
        let exchange = x.exchange;
        let sym = Symbol::parse(&x.symbol).map_err(|e| refused(e.to_string()))?;
        if self.listed.get(&sym).is_some_and(|(d, _)| *d == live.date) {
            return Ok((sym, i));
        }
        let tape = live
            .tape(i)
            .ok_or_else(|| refused(format!("Symbol {symbol} does not trade today")))?;
        let listing = Listing {
            security: market::Security {
                symbol: sym,
                exchange,
                kind,
                status: SecurityStatus::Normal,
                limits: Some(tape.limits),
                awaiting_first_match: false,
            },
            foreign_room: None,
        };
        self.engine
            .list(listing)
            .map_err(|e| refused(e.to_string()))?;
        if kind != InstrumentKind::IndexFuture {
            let held = self
                .engine
                .account(&self.mm)
                .and_then(|a| a.positions.get(&sym))
                .map_or(0, |p| p.total().units());
            if held < MM_SHARES / 2 {
                let cost = Vnd::new(
                    tape.limits
                        .reference
                        .units()
                        .saturating_mul(i64::try_from(MM_SHARES).unwrap_or(0)),
                );
                self.engine
                    .seed_position(&self.mm, sym, Quantity::new(MM_SHARES), cost)
                    .map_err(|e| refused(e.to_string()))?;
            }
        }
        self.listed.insert(sym, (live.date, i));
        Ok((sym, i))
    }

    /// Replaces the market maker's quotes on `sym` when the generator printed a new trade;
    /// returns whether it did.
    fn requote(&mut self, live: &LiveDay, sym: Symbol) -> bool {
        let Some(&(date, i)) = self.listed.get(&sym) else {
            return false;
        };
        let Some(tape) = live.tape(i) else {
            return false;
        };
        let Some(clock) = self.engine.clock() else {
            return false;
        };
        let now = clock.time.seconds();
        let k = tape.trades.partition_point(|t| t.secs <= now);
        if k == 0 {
            return false;
        }
        let k = k - 1;
        if self
            .mm_quotes
            .get(&sym)
            .is_some_and(|(d, kk, _)| *d == date && *kk == k)
        {
            return false;
        }
        let old = self
            .mm_quotes
            .remove(&sym)
            .map(|(_, _, ids)| ids)
            .unwrap_or_default();
        let mut keep = Vec::new();
        for id in old {
            let working = self.engine.order(id).is_some_and(|o| !o.status.is_final());
            if working && self.engine.cancel(id).is_err() {
                keep.push(id);
                continue;
            }
            // A replaced quote is final and nobody asks about it again: dropping it keeps the
            // engine (and the saved state) from growing with every re-quote.
            if let Err(err) = self.engine.forget(id) {
                tracing::debug!(order = %id, error = %err, "replaced quote kept");
            }
        }
        let generator = self.generator.clone();
        let Some(x) = generator.universe().instrument(i) else {
            return true;
        };
        let (bids, asks) = quote_levels(&generator, x, tape, k);
        let mut ids = keep;
        for (side, levels) in [(Side::Buy, bids), (Side::Sell, asks)] {
            for (price, volume) in levels.into_iter().take(MM_LEVELS) {
                let Ok(price) = Price::new(price) else {
                    continue;
                };
                let req = OrderRequest {
                    account: self.mm.clone(),
                    symbol: sym,
                    board: Board::Main,
                    side,
                    order_type: OrderType::Lo,
                    price: Some(price),
                    quantity: Quantity::new(volume),
                };
                if let Ok(id) = self.engine.submit(req) {
                    ids.push(id);
                }
            }
        }
        self.mm_quotes.insert(sym, (date, k, ids));
        true
    }

    /// Submits a client order; its events are attributed to its request id.
    fn submit(&mut self, req: OrderRequest, meta: OrderMeta) -> Result<OrderId, matching::Error> {
        let account = req.account.clone();
        let result = self.engine.submit(req);
        let id = match &result {
            Ok(id) => *id,
            Err(matching::Error::Rejected { order, .. }) => *order,
            Err(_) => return result,
        };
        self.meta.insert(id, meta);
        self.by_account.entry(account).or_default().insert(id);
        self.process();
        result
    }

    /// Drains engine events into notices for client accounts (published once durable);
    /// returns how many events there were.
    fn process(&mut self) -> usize {
        let events = self.engine.drain_events();
        let n = events.len();
        for rec in events {
            self.translate(rec);
        }
        n
    }

    /// The retention cut due at `at`: once per simulated day, the first day to keep.
    fn retention_cut(&self, at: OffsetDateTime) -> Option<Date> {
        let (today, _) = TradingCalendar::local(at);
        let cut = today.checked_sub(time::Duration::days(i64::from(self.retention_days)))?;
        self.pruned.is_none_or(|p| p < cut).then_some(cut)
    }

    /// Drops final client orders entered before `cut` (engine record, metadata, indexes)
    /// and the notices of days before it.
    fn prune_before(&mut self, cut: Date) {
        // Finished FCOs go with the orders of their days.
        self.fcos
            .retain(|_, f| !f.is_final() || TradingCalendar::local(f.updated).0 >= cut);
        let old: Vec<OrderId> = self
            .meta
            .keys()
            .copied()
            .filter(|id| {
                self.engine
                    .order(*id)
                    .is_none_or(|o| o.date < cut && o.status.is_final())
            })
            .collect();
        for id in &old {
            if let Ok(o) = self.engine.forget(*id)
                && let Some(ids) = self.by_account.get_mut(&o.account)
            {
                ids.remove(id);
            }
            self.meta.remove(id);
            self.working.remove(id);
        }
        self.ledger.prune_before(cut);
        let notices = self.log.prune_before(cut);
        self.pending.retain(|n| n.date >= cut);
        self.pruned = Some(cut);
        if !old.is_empty() || notices > 0 {
            tracing::info!(before = %cut, orders = old.len(), notices, "fcsim: retention dropped old final orders and notices");
        }
    }

    /// Client orders of `account` (in id order).
    pub(crate) fn orders_of(
        &self,
        account: &AccountId,
    ) -> impl Iterator<Item = &matching::OrderRecord> {
        self.by_account
            .get(account)
            .into_iter()
            .flatten()
            .filter_map(|id| self.engine.order(*id))
    }

    /// The instrument position of a listed symbol.
    pub(crate) fn instrument_of(&self, sym: Symbol) -> Option<usize> {
        self.listed.get(&sym).map(|(_, i)| *i)
    }

    /// Whether `sym` is listed for `date`.
    pub(crate) fn is_listed(&self, sym: &str, date: Date) -> bool {
        Symbol::parse(sym)
            .ok()
            .and_then(|s| self.listed.get(&s))
            .is_some_and(|(d, _)| *d == date)
    }

    /// Sizes of what the broker holds (for the soak tool and tests).
    pub(crate) fn sizes(&self) -> Sizes {
        Sizes {
            orders: self.engine.orders().count(),
            client_orders: self.meta.len(),
            working: self.working.len(),
            notices: self.log.len() + self.pending.len(),
        }
    }
}

/// How much the broker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    /// Orders in the engine (client and market maker).
    pub orders: usize,
    /// Client orders with metadata.
    pub client_orders: usize,
    /// Client orders still working.
    pub working: usize,
    /// Stream notices kept for replay.
    pub notices: usize,
}

#[cfg(test)]
mod tests;
