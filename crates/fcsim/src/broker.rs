//! The simulated broker behind FC Trading: a `matching::Engine` holding the configured
//! accounts and a market-maker account that quotes the generator's book, plus the
//! translation of engine events into SSI trading-stream notices with `notifyID`s.
//!
//! Liquidity model: for every instrument a client touches, the market maker (account
//! [`MARKET_MAKER`]) rests limit orders at the generated bid/ask levels of the latest
//! generated trade (the same levels the FC Data hub publishes in `X-QUOTE`), and re-quotes
//! when the generator prints a new trade. Client orders therefore match inside the engine,
//! under `market`'s rules, against what the data feed shows. fcsim checks nothing itself.

use std::collections::{HashMap, HashSet};

use market::investor::{InvestorKind, Residency};
use market::{
    Board, InstrumentKind, InvestorProfile, OrderType, Price, Quantity, SecurityStatus, Side,
    Symbol, Vnd,
};
use matching::{
    AccountId, ChangeRejection, Engine, Event, EventRecord, Listing, OrderId, OrderRecord,
    OrderRequest, OrderStatus, RejectReason,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};
use tokio::sync::watch;

use crate::data_hub::{LiveDay, quote_levels};
use crate::sim::Core;
use crate::store::{SnapshotRef, Store, StoreError};
use crate::tape::display_price;
use crate::universe::Instrument;

/// Account id of the simulator's market maker (never visible to clients).
pub const MARKET_MAKER: &str = "FCSIM-MM";

/// Cash of the market maker, VND.
const MM_CASH: i64 = 1_000_000_000_000_000;
/// Settled shares the market maker holds of every stock it quotes.
const MM_SHARES: u64 = 1_000_000_000;
/// Levels per side the market maker quotes.
const MM_LEVELS: usize = 3;

/// One message of the trading stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Notice {
    pub(crate) id: i64,
    pub(crate) date: Date,
    pub(crate) consumer: String,
    /// The `Broadcast` argument: `{"type":..,"data":..}` as a JSON string.
    pub(crate) payload: String,
}

/// What the broker remembers about a client order beyond the engine record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderMeta {
    pub(crate) consumer: String,
    pub(crate) orig_request: String,
    pub(crate) last_request: String,
    pub(crate) market: String,
    pub(crate) channel: String,
    pub(crate) last_error: Option<Value>,
    pub(crate) modified: OffsetDateTime,
}

/// The market maker's quotes on one symbol: the day and index of the generated trade they
/// follow, and the engine ids of its resting orders.
type MmQuotes = (Date, usize, Vec<OrderId>);

/// The broker state (one per simulator, behind a mutex).
pub(crate) struct Broker {
    pub(crate) engine: Engine,
    universe: crate::universe::Universe,
    multiplier: i64,
    mm: AccountId,
    listed: HashMap<Symbol, (Date, usize)>,
    mm_quotes: HashMap<Symbol, MmQuotes>,
    pub(crate) meta: HashMap<OrderId, OrderMeta>,
    pub(crate) owners: HashMap<AccountId, String>,
    request_ids: HashMap<String, (Date, HashSet<String>)>,
    pub(crate) log: Vec<Notice>,
    next_notify: i64,
    /// The newest notifyID that is saved and may be sent to clients.
    published: i64,
    notify: watch::Sender<i64>,
    /// Where the state is saved (`None`: in memory only).
    store: Option<Store>,
    /// Something changed since the last save.
    dirty: bool,
    /// The simulated instant of the last clock sync (saved with the state).
    synced: Option<OffsetDateTime>,
    /// Wall time of the last save.
    saved: Option<std::time::Instant>,
}

/// The broker's own durable state (the engine's is `matching::EngineState`), as read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct BrokerState {
    listed: Vec<(Symbol, (Date, usize))>,
    mm_quotes: Vec<(Symbol, MmQuotes)>,
    meta: Vec<(OrderId, OrderMeta)>,
    request_ids: Vec<(String, (Date, HashSet<String>))>,
    log: Vec<Notice>,
    next_notify: i64,
}

/// The broker's own durable state, as written (borrowed).
#[derive(Serialize)]
pub(crate) struct BrokerStateRef<'a> {
    listed: Vec<(&'a Symbol, &'a (Date, usize))>,
    mm_quotes: Vec<(&'a Symbol, &'a MmQuotes)>,
    meta: Vec<(&'a OrderId, &'a OrderMeta)>,
    request_ids: Vec<(&'a String, &'a (Date, HashSet<String>))>,
    log: &'a [Notice],
    next_notify: i64,
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
        }
    }
}

/// Why a client action failed before reaching the engine (REST error envelope).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BrokerError {
    /// Bad input: HTTP 400, body status 400.
    #[error("{0}")]
    Bad(String),
}

fn bad(msg: impl Into<String>) -> BrokerError {
    BrokerError::Bad(msg.into())
}

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

fn epoch_ms(t: OffsetDateTime) -> String {
    (t.unix_timestamp_nanos() / 1_000_000).to_string()
}

impl Broker {
    pub(crate) fn new(
        engine: Engine,
        universe: crate::universe::Universe,
        store: Option<Store>,
    ) -> Self {
        let (notify, _) = watch::channel(0);
        let multiplier = engine
            .rules()
            .settlement
            .futures_multiplier_vnd_per_point
            .max(1);
        Self {
            engine,
            universe,
            multiplier,
            mm: AccountId::new(MARKET_MAKER),
            listed: HashMap::new(),
            mm_quotes: HashMap::new(),
            meta: HashMap::new(),
            owners: HashMap::new(),
            request_ids: HashMap::new(),
            log: Vec::new(),
            next_notify: 0,
            published: 0,
            notify,
            store,
            dirty: true,
            synced: None,
            saved: None,
        }
    }

    /// Takes back the broker's state from a snapshot (the engine is restored separately).
    pub(crate) fn restore(&mut self, state: BrokerState, synced: OffsetDateTime) {
        self.listed = state.listed.into_iter().collect();
        self.mm_quotes = state.mm_quotes.into_iter().collect();
        self.meta = state.meta.into_iter().collect();
        self.request_ids = state.request_ids.into_iter().collect();
        self.log = state.log;
        self.next_notify = state.next_notify;
        self.published = state.next_notify;
        self.notify.send_replace(self.published);
        self.synced = Some(synced);
        self.dirty = false;
    }

    /// Saves the state if anything changed since the last save, then publishes the new
    /// stream notices. Nothing a client can see (an answer, a notice) goes out before
    /// this returns `Ok`; on error the change stays pending and the next commit retries.
    pub(crate) fn commit(&mut self) -> Result<(), StoreError> {
        if !self.dirty {
            return Ok(());
        }
        if let (Some(store), Some(at)) = (&self.store, self.synced) {
            let snapshot = SnapshotRef {
                format: crate::store::format(),
                market: store.market(),
                saved_at: at,
                engine: self.engine.state(),
                broker: BrokerStateRef {
                    listed: self.listed.iter().collect(),
                    mm_quotes: self.mm_quotes.iter().collect(),
                    meta: self.meta.iter().collect(),
                    request_ids: self.request_ids.iter().collect(),
                    log: &self.log,
                    next_notify: self.next_notify,
                },
            };
            store.save(&snapshot)?;
            self.saved = Some(std::time::Instant::now());
        }
        self.dirty = false;
        if self.published != self.next_notify {
            self.published = self.next_notify;
            self.notify.send_replace(self.published);
        }
        Ok(())
    }

    /// Saves even without a client-visible change when the last save is older than
    /// `every` (so the simulated clock resumes near where a crashed simulator was), or
    /// always with `every` zero (a clean stop).
    pub(crate) fn checkpoint(&mut self, every: std::time::Duration) -> Result<(), StoreError> {
        if self.store.is_none() {
            return Ok(());
        }
        if self.saved.is_none_or(|t| t.elapsed() >= every) {
            self.dirty = true;
        }
        self.commit()
    }

    /// Opens the market maker and the configured accounts that the engine does not hold
    /// yet (all of them on a fresh start; after a restore, those added to the
    /// configuration since), and returns the ids of those it opened.
    pub(crate) fn open_accounts(
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
                    self.dirty = true;
                }
                self.owners.insert(id, c.consumer_id.clone());
            }
        }
        Ok(opened)
    }

    /// Seeds a configured opening position (listing the instrument first).
    pub(crate) fn seed(
        &mut self,
        live: &LiveDay,
        account: &str,
        symbol: &str,
        quantity: u64,
    ) -> Result<(), BrokerError> {
        let (sym, i) = self.ensure_listed(live, symbol)?;
        let price = live
            .tapes
            .iter()
            .find(|t| t.instrument == i)
            .map_or(0, |t| t.limits.reference.units());
        let cost = Vnd::new(price.saturating_mul(i64::try_from(quantity).unwrap_or(0)));
        self.dirty = true;
        self.engine
            .seed_position(&AccountId::new(account), sym, Quantity::new(quantity), cost)
            .map_err(|e| bad(e.to_string()))
    }

    /// Whether `consumer` owns `account`.
    pub(crate) fn owns(&self, consumer: &str, account: &str) -> bool {
        self.owners
            .get(&AccountId::new(account))
            .is_some_and(|c| c == consumer)
    }

    /// A new receiver of the latest notifyID.
    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.notify.subscribe()
    }

    /// The latest notifyID that is saved and may be sent.
    pub(crate) fn last_notify(&self) -> i64 {
        self.published
    }

    /// Records `request_id` for `consumer` today; false if it was already used.
    pub(crate) fn claim_request_id(&mut self, consumer: &str, today: Date, id: &str) -> bool {
        let entry = self
            .request_ids
            .entry(consumer.to_owned())
            .or_insert_with(|| (today, HashSet::new()));
        if entry.0 != today {
            *entry = (today, HashSet::new());
        }
        let fresh = entry.1.insert(id.to_owned());
        self.dirty |= fresh;
        fresh
    }

    /// Moves the engine to `now`; with `live`, also re-quotes every instrument with working
    /// client orders (the 200 ms ticker does; requests re-quote only what they touch).
    /// Then saves and publishes what changed ([`Broker::commit`]).
    pub(crate) fn sync(
        &mut self,
        core: &Core,
        now: OffsetDateTime,
        live: Option<&LiveDay>,
    ) -> Result<(), StoreError> {
        match self.engine.advance_to(now) {
            Ok(()) => self.synced = Some(now),
            Err(e) => tracing::debug!(error = %e, "engine clock not advanced"),
        }
        if let Some(live) = live {
            let working: HashSet<Symbol> = self
                .meta
                .keys()
                .filter_map(|id| self.engine.order(*id))
                .filter(|o| !o.status.is_final())
                .map(|o| o.symbol)
                .collect();
            for sym in working {
                self.requote(core, live, sym);
            }
        }
        self.process();
        self.commit()
    }

    /// Lists `symbol` for today (re-listing with today's band on a new day).
    pub(crate) fn ensure_listed(
        &mut self,
        live: &LiveDay,
        symbol: &str,
    ) -> Result<(Symbol, usize), BrokerError> {
        let universe = &self.universe;
        let i = universe
            .find(symbol)
            .ok_or_else(|| bad(format!("Symbol {symbol} does not exist")))?;
        let x = universe
            .instrument(i)
            .ok_or_else(|| bad(format!("Symbol {symbol} does not exist")))?;
        let kind = x.kind;
        let exchange = x.exchange;
        let sym = Symbol::parse(&x.symbol).map_err(|e| bad(e.to_string()))?;
        if self.listed.get(&sym).is_some_and(|(d, _)| *d == live.date) {
            return Ok((sym, i));
        }
        let tape = live
            .tapes
            .iter()
            .find(|t| t.instrument == i)
            .ok_or_else(|| bad(format!("Symbol {symbol} does not trade today")))?;
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
        self.engine.list(listing).map_err(|e| bad(e.to_string()))?;
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
                    .map_err(|e| bad(e.to_string()))?;
            }
        }
        self.listed.insert(sym, (live.date, i));
        Ok((sym, i))
    }

    /// Replaces the market maker's quotes on `sym` when the generator printed a new trade.
    pub(crate) fn requote(&mut self, core: &Core, live: &LiveDay, sym: Symbol) {
        let Some(&(date, i)) = self.listed.get(&sym) else {
            return;
        };
        let Some(tape) = live.tapes.iter().find(|t| t.instrument == i) else {
            return;
        };
        let Some(clock) = self.engine.clock() else {
            return;
        };
        let now = clock.time.seconds();
        let k = tape.trades.iter().take_while(|t| t.secs <= now).count();
        if k == 0 {
            return;
        }
        let k = k - 1;
        if self
            .mm_quotes
            .get(&sym)
            .is_some_and(|(d, kk, _)| *d == date && *kk == k)
        {
            return;
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
        let Some(x) = self.universe.instrument(i) else {
            return;
        };
        let (bids, asks) = quote_levels(core, x, tape, k);
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
    }

    /// Submits a client order; its events are attributed to `request_id`.
    pub(crate) fn submit(
        &mut self,
        req: OrderRequest,
        meta: OrderMeta,
    ) -> Result<OrderId, matching::Error> {
        let result = self.engine.submit(req);
        let id = match &result {
            Ok(id) => *id,
            Err(matching::Error::Rejected { order, .. }) => *order,
            Err(_) => return result,
        };
        self.meta.insert(id, meta);
        self.dirty = true;
        self.process();
        result
    }

    /// Amends (`Some`: every amendment of one request, all or nothing) or cancels
    /// (`None`); the events carry `request_id` as `uniqueID`. Refusals reach the client as
    /// `orderError` notices and leave no trace on the order: its `uniqueID` and
    /// `modifiedTime` stay those of the last action that changed it.
    pub(crate) fn change(
        &mut self,
        id: OrderId,
        request_id: &str,
        amendments: Option<&[market::order::Amendment]>,
    ) {
        let before = self.meta.get_mut(&id).map(|m| {
            let last = std::mem::replace(&mut m.last_request, request_id.to_owned());
            (last, m.modified)
        });
        self.dirty = true;
        let result = match amendments {
            Some(a) => self.engine.amend_all(id, a).map(|_| ()),
            None => self.engine.cancel(id),
        };
        self.process();
        if result.is_err()
            && let (Some(m), Some((last, modified))) = (self.meta.get_mut(&id), before)
        {
            m.last_request = last;
            m.modified = modified;
        }
    }

    fn order_json(&self, o: &OrderRecord, meta: &OrderMeta, x: Option<&Instrument>) -> Value {
        let price = |units: i64| -> Value {
            match x {
                Some(x) => json!(display_price(x, units).to_f64_lossy()),
                None => json!(units),
            }
        };
        let avg = if o.filled.units() > 0 {
            let v = o.filled_value.amount() as f64 / o.filled.units() as f64;
            json!(match x {
                Some(x) => v / scale(x.kind),
                None => v,
            })
        } else {
            json!(0)
        };
        let input = OffsetDateTime::new_in_offset(
            o.date,
            time::Time::from_hms(0, 0, 0).unwrap_or(time::Time::MIDNIGHT),
            market::calendar::VN_OFFSET,
        ) + time::Duration::seconds(i64::from(o.entered_at.seconds()));
        let cancelled = if matches!(o.status, OrderStatus::Cancelled | OrderStatus::Expired) {
            o.remaining().units()
        } else {
            0
        };
        json!({
            "orderID": o.id.to_string(),
            "instrumentID": o.symbol.as_str(),
            "uniqueID": meta.last_request,
            "origRequestID": meta.orig_request,
            "origOrderId": o.id.to_string(),
            "buySell": match o.side { Side::Buy => "B", Side::Sell => "S" },
            "orderType": o.order_type.code(),
            "ipAddress": "127.0.0.1",
            "price": o.price.map_or(json!(0), |p| price(p.units())),
            "prefix": "",
            "quantity": o.quantity.units(),
            "marketID": meta.market,
            "account": o.account.as_str(),
            "cancelQty": cancelled,
            "osQty": if o.status.is_final() { 0 } else { o.remaining().units() },
            "filledQty": o.filled.units(),
            "avgPrice": avg,
            "channel": meta.channel,
            "inputTime": epoch_ms(input),
            "modifiedTime": epoch_ms(meta.modified),
            "isForceSell": "F",
            "isShortSell": "F",
            "orderStatus": status_code(o.status, o.filled.units()),
            "rejectReason": "0",
            "stopOrder": false,
            "stopPrice": 0,
            "stopType": "",
            "stopStep": 0,
            "profitPrice": 0
        })
    }

    fn instrument_of(&self, sym: Symbol) -> Option<usize> {
        self.listed.get(&sym).map(|(_, i)| *i)
    }

    /// The wire `OrderItem` of an order (orderBook, orderHistory).
    pub(crate) fn order_item(&self, o: &OrderRecord, audit: bool) -> Option<Value> {
        let meta = self.meta.get(&o.id)?;
        let x = self
            .instrument_of(o.symbol)
            .and_then(|i| self.universe.instrument(i));
        let mut v = self.order_json(o, meta, x);
        let reject = meta
            .last_error
            .as_ref()
            .and_then(|e| e["message"].as_str())
            .filter(|_| o.status == OrderStatus::Rejected)
            .unwrap_or("0");
        v["rejectReason"] = json!(reject);
        if let Some(m) = v.as_object_mut() {
            m.remove("isForceSell");
            m.remove("isShortSell");
        }
        v["isForcesell"] = json!("F");
        v["isShortsell"] = json!("F");
        if audit {
            v["lastErrorEvent"] = meta.last_error.clone().unwrap_or(Value::Null);
        }
        Some(v)
    }

    fn push(&mut self, consumer: &str, date: Date, kind: &str, mut data: Value) {
        self.next_notify += 1;
        data["notifyID"] = json!(self.next_notify);
        let payload = json!({"type": kind, "data": data}).to_string();
        self.log.push(Notice {
            id: self.next_notify,
            date,
            consumer: consumer.to_owned(),
            payload,
        });
    }

    /// Drains engine events into stream notices for client accounts. The notices go out
    /// at the next [`Broker::commit`], once saved.
    pub(crate) fn process(&mut self) {
        let events = self.engine.drain_events();
        let before = self.next_notify;
        for rec in events {
            self.translate(rec);
        }
        self.dirty |= self.next_notify != before;
    }

    fn error_data(&self, id: OrderId, code: &str, message: &str, unique: &str) -> Value {
        let mut data = match (self.engine.order(id), self.meta.get(&id)) {
            (Some(o), Some(m)) => {
                let x = self
                    .instrument_of(o.symbol)
                    .and_then(|i| self.universe_instrument(i));
                self.order_json(o, m, x.as_ref())
            }
            (Some(_) | None, _) => json!({"orderID": id.to_string()}),
        };
        data["message"] = json!(message);
        data["errorCode"] = json!(code);
        data["uniqueID"] = json!(unique);
        data["connectionID"] = json!("");
        data["data"] = Value::Null;
        data["modifiable"] = json!(true);
        data["note"] = json!("");
        data
    }

    fn universe_instrument(&self, i: usize) -> Option<Instrument> {
        self.universe.instrument(i).cloned()
    }

    fn translate(&mut self, rec: EventRecord) {
        let date = rec.at.date();
        let order_id = match &rec.event {
            Event::OrderAccepted { order } | Event::OrderRejected { order, .. } => Some(order.id),
            Event::OrderAmended { order, .. }
            | Event::AmendRejected { order, .. }
            | Event::CancelRejected { order, .. }
            | Event::OrderCancelled { order, .. }
            | Event::MtlConverted { order, .. }
            | Event::OrderExpired { order, .. } => Some(*order),
            Event::OrderFilled(f) => Some(f.order),
            Event::Trade(_)
            | Event::PhaseChanged { .. }
            | Event::AuctionUncrossed { .. }
            | Event::ClosingPrice { .. }
            | Event::ReferenceRolled { .. } => None,
        };
        let Some(id) = order_id else { return };
        let Some(meta) = self.meta.get_mut(&id) else {
            return;
        };
        meta.modified = rec.at;
        let consumer = meta.consumer.clone();
        let unique = meta.last_request.clone();
        let Some(o) = self.engine.order(id).cloned() else {
            return;
        };
        let Some(meta) = self.meta.get(&id).cloned() else {
            return;
        };
        let x = self
            .instrument_of(o.symbol)
            .and_then(|i| self.universe_instrument(i));
        let mut ev = self.order_json(&o, &meta, x.as_ref());
        match rec.event {
            Event::OrderAccepted { order } => {
                ev["orderStatus"] = json!("QU");
                ev["filledQty"] = json!(0);
                ev["osQty"] = json!(order.quantity.units());
                ev["quantity"] = json!(order.quantity.units());
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::OrderRejected { reason, .. } => {
                let code = reject_code(&reason);
                let data = self.error_data(id, code, &reason.to_string(), &unique);
                if let Some(m) = self.meta.get_mut(&id) {
                    m.last_error = Some(data.clone());
                }
                self.push(&consumer, date, "orderError", data);
            }
            Event::AmendRejected { reason, .. } | Event::CancelRejected { reason, .. } => {
                let code = change_code(&reason);
                let data = self.error_data(id, code, &reason.to_string(), &unique);
                if let Some(m) = self.meta.get_mut(&id) {
                    m.last_error = Some(data.clone());
                }
                self.push(&consumer, date, "orderError", data);
            }
            Event::OrderAmended {
                price, quantity, ..
            } => {
                if let (Some(p), Some(x)) = (price, x.as_ref()) {
                    ev["price"] = json!(display_price(x, p.units()).to_f64_lossy());
                }
                ev["quantity"] = json!(quantity.units());
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::OrderCancelled {
                cancelled, filled, ..
            } => {
                ev["orderStatus"] = json!(if filled.units() > 0 { "FFPC" } else { "CL" });
                ev["cancelQty"] = json!(cancelled.units());
                ev["osQty"] = json!(0);
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::OrderExpired { expired, .. } => {
                ev["orderStatus"] = json!("EX");
                ev["cancelQty"] = json!(expired.units());
                ev["osQty"] = json!(0);
                self.push(&consumer, date, "orderEvent", ev);
            }
            Event::MtlConverted { .. } => self.push(&consumer, date, "orderEvent", ev),
            Event::OrderFilled(fill) => {
                let price = x.as_ref().map_or(json!(fill.price.units()), |x| {
                    json!(display_price(x, fill.price.units()).to_f64_lossy())
                });
                let m = json!({
                    "orderID": id.to_string(), "instrumentID": o.symbol.as_str(),
                    "uniqueID": unique, "buySell": match fill.side { Side::Buy => "B", Side::Sell => "S" },
                    "matchPrice": price, "matchQty": fill.quantity.units(), "ipAddress": "127.0.0.1",
                    "prefix": "", "account": o.account.as_str(), "matchTime": epoch_ms(rec.at)
                });
                self.push(&consumer, date, "orderMatchEvent", m);
                ev["orderStatus"] = json!(if fill.remaining.units() == 0 {
                    "FF"
                } else {
                    "PF"
                });
                ev["filledQty"] = json!(fill.filled.units());
                ev["osQty"] = json!(fill.remaining.units());
                self.push(&consumer, date, "orderEvent", ev);
                if x.as_ref()
                    .is_some_and(|x| x.kind == InstrumentKind::IndexFuture)
                {
                    // SSI's stream sample spells the market key `martketID`.
                    let open: Vec<Value> = self
                        .portfolio(&o.account)
                        .into_iter()
                        .map(|mut p| {
                            if let Some(m) = p.as_object_mut()
                                && let Some(v) = m.remove("marketID")
                            {
                                m.insert("martketID".to_owned(), v);
                            }
                            p
                        })
                        .collect();
                    let p = json!({
                        "account": o.account.as_str(), "data": null,
                        "clientPortfoliosOpen": open, "clientPortfoliosClose": null,
                        "uniqueID": unique, "connectionID": "", "ipAddress": "127.0.0.1", "prefix": ""
                    });
                    self.push(&consumer, date, "clientPortfolioEvent", p);
                }
            }
            Event::Trade(_)
            | Event::PhaseChanged { .. }
            | Event::AuctionUncrossed { .. }
            | Event::ClosingPrice { .. }
            | Event::ReferenceRolled { .. } => {}
        }
    }

    /// Open futures positions of `account` in the stream/REST shape.
    pub(crate) fn portfolio(&self, account: &AccountId) -> Vec<Value> {
        let Some(a) = self.engine.account(account) else {
            return Vec::new();
        };
        a.futures
            .iter()
            .map(|(sym, p)| {
                let x = self
                    .listed
                    .get(sym)
                    .and_then(|(_, i)| self.universe_instrument(*i));
                let last = self
                    .engine
                    .instrument(*sym)
                    .and_then(|inst| inst.main.last_price)
                    .map_or(0, Price::units);
                let points = |u: i64| x.as_ref().map_or(u as f64, |x| u as f64 / scale(x.kind));
                let avg = if p.net != 0 {
                    p.open_value.amount().abs() as f64
                        / p.net.unsigned_abs() as f64
                        / self.multiplier as f64
                } else {
                    0.0
                };
                json!({
                    "marketID": "VNFE", "instrumentID": sym.as_str(),
                    "longQty": p.net.max(0), "shortQty": (-p.net).max(0), "net": p.net,
                    "bidAvgPrice": if p.net > 0 { avg } else { 0.0 },
                    "askAvgPrice": if p.net < 0 { avg } else { 0.0 },
                    "tradePrice": avg, "marketPrice": points(last),
                    "floatingPL": 0, "tradingPL": p.realised.amount()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_prices_convert_to_units_or_are_refused() {
        assert_eq!(to_units(InstrumentKind::Stock, 23_450.0), Some(23_450));
        assert_eq!(to_units(InstrumentKind::IndexFuture, 1_320.5), Some(13_205));
        assert_eq!(to_units(InstrumentKind::IndexFuture, 1_320.55), None);
        assert_eq!(to_units(InstrumentKind::Stock, 23_450.5), None);
        assert_eq!(to_units(InstrumentKind::Stock, f64::NAN), None);
    }

    #[test]
    fn engine_statuses_map_to_ssi_codes() {
        assert_eq!(status_code(OrderStatus::Queued, 0), "QU");
        assert_eq!(status_code(OrderStatus::PartiallyFilled, 100), "PF");
        assert_eq!(status_code(OrderStatus::Filled, 100), "FF");
        assert_eq!(status_code(OrderStatus::Cancelled, 0), "CL");
        assert_eq!(status_code(OrderStatus::Cancelled, 100), "FFPC");
        assert_eq!(status_code(OrderStatus::Expired, 0), "EX");
        assert_eq!(status_code(OrderStatus::Rejected, 0), "RJ");
    }

    #[test]
    fn entry_rejections_map_to_ssi_error_codes() {
        let unknown = RejectReason::UnknownSecurity {
            symbol: Symbol::parse("ZZZ").unwrap(),
        };
        assert_eq!(reject_code(&unknown), "ORD001");
        let bp = RejectReason::InsufficientBuyingPower {
            required: Vnd::new(2),
            available: Vnd::new(1),
        };
        assert_eq!(reject_code(&bp), "ORD040");
        assert_eq!(
            change_code(&ChangeRejection::UnknownOrder { order: OrderId(7) }),
            "ORD013"
        );
    }

    #[test]
    fn refused_amendments_carry_the_codes_of_new_orders() {
        use market::Violation as V;
        use market::order::ChangeViolation as W;
        let p = |u| Price::new(u).unwrap();
        for (violation, code) in [
            (
                V::PriceAboveCeiling {
                    price: p(107_100),
                    ceiling: p(107_000),
                },
                "ORD003",
            ),
            (
                V::PriceBelowFloor {
                    price: p(92_900),
                    floor: p(93_000),
                },
                "ORD002",
            ),
            (
                V::PriceOffTick {
                    price: p(99_050),
                    tick: p(100),
                },
                "ORD004",
            ),
            (
                V::NotRoundLot {
                    quantity: Quantity::new(150),
                    round_lot: 100,
                },
                "ORD005",
            ),
        ] {
            let violations = market::Violations(vec![violation]);
            let amend = ChangeRejection::Rules {
                violations: violations.clone(),
            };
            let entry = RejectReason::Rules { violations };
            assert_eq!(change_code(&amend), code, "{amend}");
            assert_eq!(reject_code(&entry), code, "{entry}");
        }
        let bp = ChangeRejection::InsufficientBuyingPower {
            required: Vnd::new(2),
            available: Vnd::new(1),
        };
        assert_eq!(change_code(&bp), "ORD040");
        let window = |violation| change_code(&ChangeRejection::Window { violation });
        assert_eq!(
            window(W::PhaseBlocksChanges {
                phase: market::Phase::Break
            }),
            "ORD011"
        );
        assert_eq!(window(W::NoChange), "ORD014");
        assert_eq!(
            window(W::BelowFilled {
                requested: Quantity::new(100),
                filled: Quantity::new(200)
            }),
            "ORD031"
        );
        assert_eq!(window(W::PloIsFinal), "ORD012");
    }
}
