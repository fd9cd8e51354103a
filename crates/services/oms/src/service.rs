//! The use cases: place, amend and cancel through the broker exactly once; follow the broker's
//! account stream; reconcile with its order book on start and after every gap; ask again about
//! whatever has no known outcome.
//!
//! Exactly-once: an order is stored (with its SSI requestID) before anything is sent, and every
//! resend uses the same requestID, which the broker refuses as a duplicate: so a retry after a
//! timeout, a lost answer or a crash never places twice. One mutex orders every change of the
//! book; the broker is called outside it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use broker::{ClientOrderId, Generation, Trading};
use common::error::{Classify, Kind};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::Db;
use futures::StreamExt as _;
use market::order::Amendment;
use market::{Price, Quantity};
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::algo::{Algo, Kind as AlgoKind, Status as AlgoStatus};
use crate::conditional::{Conditional, Reaction, Status as ConditionalStatus};
use crate::domain::{Change, Fill, IllegalTransition, Invalid, NewOrder, Order, Pending};
use crate::metrics::Metrics;
use crate::settings::OrderSettings;
use crate::store::{self, Created};

/// What an order call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or not allowed in the order's state.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such order.
    #[error("no order {0}")]
    NotFound(String),
    /// The client id was used for a different order.
    #[error("client_id {0:?} was used for a different order ({1})")]
    ClientIdReused(String, String),
    /// The account is not one the OMS trades.
    #[error("account {0:?} is not one this OMS trades (orders.accounts)")]
    UnknownAccount(String),
    /// No broker is configured.
    #[error("no broker is configured: the OMS cannot place orders")]
    NoBroker,
    /// Not accepting orders yet (reconciling with the broker).
    #[error("not accepting orders yet: {0}")]
    NotAccepting(String),
    /// New orders are paused by the operators (the flag [`ACCEPT_FLAG`] of the OMS's
    /// configuration is off).
    #[error("{0}")]
    Paused(String),
    /// The broker answered a query with an error.
    #[error("broker: {0}")]
    Broker(#[from] broker::Error),
    /// The broker did not answer a query in time.
    #[error("the broker did not answer within {0} ms")]
    BrokerTimeout(u64),
    /// The store.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A conditional order that fired or was cancelled cannot be cancelled.
    #[error("conditional order {0} is {1}: nothing to cancel")]
    ConditionalEnded(String, &'static str),
    /// An algorithmic order that is done or cancelled cannot be cancelled.
    #[error("algorithmic order {0} is {1}: nothing to cancel")]
    AlgoEnded(String, &'static str),
    /// The historical service did not give a VWAP order its volume profile.
    #[error("volume profile: {0}")]
    History(String),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(Invalid::Field(_)) => Kind::InvalidArgument,
            Error::Invalid(Invalid::Transition(_)) => Kind::FailedPrecondition,
            Error::NotFound(_) => Kind::NotFound,
            Error::ClientIdReused(..) => Kind::AlreadyExists,
            Error::UnknownAccount(_) => Kind::PermissionDenied,
            Error::NoBroker => Kind::FailedPrecondition,
            Error::NotAccepting(_) => Kind::Unavailable,
            Error::Paused(_) => Kind::FailedPrecondition,
            Error::Broker(e) => e.kind(),
            Error::BrokerTimeout(_) => Kind::Unavailable,
            Error::Store(store::Error::Conflict(_)) => Kind::Aborted,
            Error::Store(store::Error::Store(e)) => e.kind(),
            Error::Store(store::Error::Corrupt { .. }) => Kind::Internal,
            Error::ConditionalEnded(..) | Error::AlgoEnded(..) => Kind::FailedPrecondition,
            Error::History(_) => Kind::Unavailable,
        }
    }
}

impl From<IllegalTransition> for Error {
    fn from(e: IllegalTransition) -> Self {
        Error::Invalid(Invalid::Transition(e))
    }
}

/// The open orders in memory: every change goes through here, under one lock.
#[derive(Default)]
struct Book {
    /// Orders that can still trade, by OMS id.
    open: HashMap<String, Order>,
    /// OMS id by the broker's order id.
    by_broker: HashMap<String, String>,
    /// Orders whose pending amend/cancel could not be sent (outcome unknown): sent again by
    /// the confirmer with the same requestID.
    unsent_actions: std::collections::HashSet<String>,
    /// Orders whose first sending is under way (the confirmer leaves them alone; a resend
    /// would be refused as a duplicate anyway, but costs a broker call).
    sending: std::collections::HashSet<String>,
}

impl Book {
    fn put(&mut self, order: Order) {
        if let Some(b) = &order.broker_order_id {
            self.by_broker.insert(b.clone(), order.id.clone());
        }
        if order.status.is_final() {
            self.open.remove(&order.id);
            self.unsent_actions.remove(&order.id);
        } else {
            self.open.insert(order.id.clone(), order);
        }
    }
}

/// Adds an active conditional order to the index of those watching trades, once.
fn watch(index: &mut HashMap<market::Symbol, Vec<Conditional>>, c: Conditional) {
    let list = index.entry(c.symbol).or_default();
    if !list.iter().any(|x| x.client_id == c.client_id) {
        list.push(c);
    }
}

/// The OMS: clone freely (one shared state).
#[derive(Clone)]
pub struct Oms {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    trading: Option<Arc<dyn Trading>>,
    risk: Option<RiskCheck>,
    generation: Option<Generation>,
    settings: OrderSettings,
    clock: MarketClock,
    metrics: Metrics,
    book: Mutex<Book>,
    /// Last trade price by symbol (`market.trade.v1`), for unrealised P&L.
    last: std::sync::RwLock<HashMap<market::Symbol, Price>>,
    rules: market::MarketRules,
    calendar: market::TradingCalendar,
    accepting: AtomicBool,
    reason: std::sync::Mutex<String>,
    /// A person opened the trading session: the account streams reopen with it.
    session_opened: tokio::sync::Notify,
    /// Active conditional orders by symbol (loaded by [`Oms::follow_prices`], which fires them).
    conditionals: std::sync::Mutex<HashMap<market::Symbol, Vec<Conditional>>>,
    /// Fired conditionals whose child order could not be stored yet (the OMS was not accepting
    /// or the store failed): placed again by the confirmer.
    unplaced: std::sync::Mutex<std::collections::BTreeMap<String, Conditional>>,
    /// Today's floor and ceiling by symbol (`masterdata.security.v1`): a stop's child order is a
    /// limit at the floor (sale) or ceiling (buy).
    bands: std::sync::RwLock<HashMap<market::Symbol, (i64, i64)>>,
    /// An algorithmic order may be active: the algorithm beat reads the store only then (set on
    /// start and by every new parent, cleared by a beat that finds none).
    algos_maybe_active: AtomicBool,
    /// Where VWAP orders read their volume profile (none: VWAP is refused).
    history: Option<VolumeHistory>,
    /// The OMS's live configuration from the config service (flag [`ACCEPT_FLAG`]).
    remote: common::remote_config::RemoteConfig,
    /// Accounts whose orders or fills changed since their last `oms.account.v1` snapshot.
    changed_accounts: std::sync::Mutex<HashSet<String>>,
    /// Wakes the snapshot publisher when `changed_accounts` gains one.
    account_changed: tokio::sync::Notify,
}

/// How long the account publisher lets changes settle before it asks the broker: a burst of
/// fills becomes one snapshot.
const ACCOUNT_SETTLE: Duration = Duration::from_millis(500);

/// The flag of the OMS's configuration (config service, `oms/<environment>`) that pauses new
/// orders fleet-wide when off — an operator's switch for an incident at the broker or the
/// exchange, taking effect at once on every instance without a restart. Cancels, amends of
/// orders already sent, fills and reconciliation go on. Absent: orders are accepted.
pub const ACCEPT_FLAG: &str = "orders.accept";

/// An order to preview ([`Oms::preview`]).
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    /// Broker sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: market::Symbol,
    /// Side.
    pub side: market::Side,
    /// Limit price; `None` for the market-priced types or when not known yet.
    pub price: Option<Price>,
    /// A market-priced type (reckoned at the band's edge).
    pub market_priced: bool,
    /// Shares or contracts; 0 for only the max quantities and the session.
    pub quantity: u64,
}

/// What [`Oms::preview`] answers.
#[derive(Debug, Default)]
pub struct Preview {
    /// The price the order is reckoned at: its limit, or the band's edge it may reach.
    pub priced_at: Option<Price>,
    /// Fees and tax of the whole order at the account's brokerage tier today.
    pub cost: Option<market::fees::FillCost>,
    /// The broker's max quantities at `priced_at`, or why it did not say.
    pub max: Option<Result<broker::MaxQuantities, String>>,
    /// The trading session, when a broker is configured.
    pub session: Option<broker::TradingSession>,
    /// Orders are accepted now.
    pub accepting: bool,
    /// Why not.
    pub reason: String,
}

/// What [`Oms::report`] answers.
#[derive(Debug, Default)]
pub struct Report {
    /// Every fill of the days, oldest first, with its cost and what it realised.
    pub trades: Vec<(crate::ledger::LedgerFill, market::fees::FillCost, i64)>,
    /// Each day's totals by strategy (`None`: a person's orders), by date.
    pub days: Vec<((time::Date, Option<String>), crate::ledger::DayRow)>,
}

/// What `GetStatus` answers.
#[derive(Debug, Clone)]
pub struct Status {
    /// Orders are accepted.
    pub accepting: bool,
    /// Why not.
    pub reason: String,
    /// The broker's generation.
    pub broker: Option<Generation>,
    /// Accounts traded.
    pub accounts: Vec<String>,
    /// Orders that can still trade.
    pub open_orders: u64,
    /// Orders and changes without a known outcome.
    pub unconfirmed: u64,
}

fn vn_today(now: OffsetDateTime) -> time::Date {
    now.to_offset(market::calendar::VN_OFFSET).date()
}

/// How the broker's answer to an action sorts.
enum Outcome {
    /// The broker has it (answer or duplicate).
    Taken(Option<broker::OrderAck>),
    /// The broker or exchange said no, for this reason.
    Refused(String),
    /// Nobody knows: ask again later with the same requestID.
    Unknown(String),
}

impl Oms {
    /// An OMS over `db`, trading through `trading` (none: orders are refused), checking every
    /// order with `risk` first (none: no pre-trade check of its own).
    pub fn new(
        db: Db,
        trading: Option<Arc<dyn Trading>>,
        risk: Option<RiskCheck>,
        settings: OrderSettings,
        clock: MarketClock,
        calendar: market::TradingCalendar,
        metrics: Metrics,
    ) -> Self {
        let generation = trading.as_ref().map(|t| t.generation());
        let reason = if trading.is_some() {
            "reconciling with the broker".to_owned()
        } else {
            "no broker is configured".to_owned()
        };
        Self {
            inner: Arc::new(Inner {
                db,
                trading,
                risk,
                generation,
                settings,
                clock,
                metrics,
                book: Mutex::new(Book::default()),
                last: std::sync::RwLock::default(),
                rules: market::MarketRules::default(),
                calendar,
                accepting: AtomicBool::new(false),
                reason: std::sync::Mutex::new(reason),
                session_opened: tokio::sync::Notify::new(),
                conditionals: std::sync::Mutex::default(),
                unplaced: std::sync::Mutex::default(),
                bands: std::sync::RwLock::default(),
                algos_maybe_active: AtomicBool::new(true),
                history: None,
                remote: common::remote_config::RemoteConfig::fixed(Default::default()),
                changed_accounts: std::sync::Mutex::default(),
                account_changed: tokio::sync::Notify::new(),
            }),
        }
    }

    /// This OMS following `remote` (the config service) for [`ACCEPT_FLAG`] (call before cloning
    /// it).
    pub fn with_remote_config(mut self, remote: common::remote_config::RemoteConfig) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.remote = remote;
        }
        self
    }

    /// Why new orders are paused by configuration, if they are.
    fn paused_by_config(&self) -> Option<String> {
        let config = self.inner.remote.current();
        (!config.flag(ACCEPT_FLAG, true)).then(|| {
            format!(
                "new orders are paused by the operators (flag {ACCEPT_FLAG} is off in configuration version {})",
                config.version
            )
        })
    }

    /// This OMS with VWAP orders weighed by `history` (call before cloning it).
    #[must_use]
    pub fn with_history(mut self, history: VolumeHistory) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.history = Some(history);
        }
        self
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// The market clock's time.
    pub fn market_now(&self) -> OffsetDateTime {
        self.now()
    }

    fn trading(&self) -> Result<&Arc<dyn Trading>, Error> {
        self.inner.trading.as_ref().ok_or(Error::NoBroker)
    }

    fn set_reason(&self, reason: &str) {
        if let Ok(mut r) = self.inner.reason.lock() {
            reason.clone_into(&mut r);
        }
    }

    /// Whether orders are accepted, and the book's size.
    pub async fn status(&self) -> Status {
        let book = self.inner.book.lock().await;
        let unconfirmed =
            book.open.values().filter(|o| !o.confirmed).count() + book.unsent_actions.len();
        Status {
            accepting: self.inner.accepting.load(Ordering::Acquire),
            reason: self.reason(),
            broker: self.inner.generation,
            accounts: self.inner.settings.accounts.clone(),
            open_orders: book.open.len() as u64,
            unconfirmed: unconfirmed as u64,
        }
    }

    /// Why orders are not accepted (empty when they are).
    fn reason(&self) -> String {
        self.inner
            .reason
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Whether orders are accepted now.
    pub fn accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    fn check_account(&self, account: &str) -> Result<(), Error> {
        if self.inner.settings.accounts.iter().any(|a| a == account) {
            Ok(())
        } else {
            Err(Error::UnknownAccount(account.to_owned()))
        }
    }

    /// Places `request`: stored first, then sent; a repeated client id answers the order placed
    /// with it. Answers the order after the broker's answer (or, when that answer is unknown,
    /// pending: the OMS keeps asking).
    pub async fn place(&self, request: NewOrder) -> Result<Order, Error> {
        let started = Instant::now();
        self.trading()?;
        self.check_account(&request.account)?;
        let paused = self.paused_by_config();
        if !self.accepting() || paused.is_some() {
            if let Some(existing) = store::by_client_id(&self.inner.db, &request.client_id).await? {
                return self.existing(&request, existing);
            }
            self.inner
                .metrics
                .requests
                .with_label_values(&["refused"])
                .inc();
            return Err(match paused {
                Some(why) => Error::Paused(why),
                None => Error::NotAccepting(self.reason()),
            });
        }
        let order = {
            let mut book = self.inner.book.lock().await;
            let now = self.now();
            match store::create(&self.inner.db, request.clone(), vn_today(now), now).await? {
                Created::Existing(existing) => return self.existing(&request, existing),
                Created::New(order) => {
                    self.count_change("created");
                    book.sending.insert(order.id.clone());
                    book.put(order.clone());
                    self.inner.metrics.open_orders.set(book.open.len() as i64);
                    order
                }
            }
        };
        self.inner
            .metrics
            .requests
            .with_label_values(&["placed"])
            .inc();
        let id = order.id.clone();
        let sent = self.check_then_send(order).await;
        self.inner.book.lock().await.sending.remove(&id);
        let order = sent?;
        self.inner
            .metrics
            .place_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(order)
    }

    fn existing(&self, request: &NewOrder, existing: Order) -> Result<Order, Error> {
        let same = existing.account == request.account
            && existing.symbol == request.symbol
            && existing.side == request.side
            && existing.order_type == request.order_type
            && existing.strategy == request.strategy;
        self.inner
            .metrics
            .requests
            .with_label_values(&["existing"])
            .inc();
        if same {
            Ok(existing)
        } else {
            Err(Error::ClientIdReused(
                request.client_id.clone(),
                existing.id,
            ))
        }
    }

    /// Sorts a broker answer to an action.
    fn outcome(
        &self,
        call: &str,
        result: Result<Result<broker::OrderAck, broker::Error>, tokio::time::error::Elapsed>,
    ) -> Outcome {
        let (label, outcome) = match result {
            Ok(Ok(ack)) => ("ok", Outcome::Taken(Some(ack))),
            Ok(Err(broker::Error::Duplicate { .. })) => ("duplicate", Outcome::Taken(None)),
            Ok(Err(e @ broker::Error::Auth { .. })) => (
                "rejected",
                Outcome::Refused(format!(
                    "the trading session is not open ({e}): log in with an OTP \
                     (POST /api/oms/v1/session/otp, then /api/oms/v1/session/login)"
                )),
            ),
            Ok(Err(
                e @ (broker::Error::Invalid(_)
                | broker::Error::Rejected { .. }
                | broker::Error::NotFound(_)
                | broker::Error::Unsupported { .. }
                | broker::Error::Settings(_)),
            )) => ("rejected", Outcome::Refused(e.to_string())),
            Ok(Err(
                e @ (broker::Error::RateLimited { .. }
                | broker::Error::Unavailable { .. }
                | broker::Error::Mapping { .. }
                | broker::Error::Other { .. }),
            )) => ("unknown", Outcome::Unknown(e.to_string())),
            Err(_) => (
                "unknown",
                Outcome::Unknown(format!(
                    "no answer within {} ms",
                    self.inner.settings.broker_timeout_ms
                )),
            ),
        };
        self.inner
            .metrics
            .broker_calls
            .with_label_values(&[call, label])
            .inc();
        outcome
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.inner.settings.broker_timeout_ms)
    }

    /// Checks `order` with the risk service, then sends it; a rejection or no verdict rejects
    /// it (fail closed). The check is idempotent by client id, so an order checked before a
    /// restart gets the same verdict again.
    async fn check_then_send(&self, order: Order) -> Result<Order, Error> {
        if let Some(risk) = &self.inner.risk
            && let Some(reason) = risk.check(&order).await
        {
            self.inner
                .metrics
                .requests
                .with_label_values(&["risk_rejected"])
                .inc();
            return self
                .mutate(&order.id, |o, now| o.reject(reason, now).map(Some))
                .await;
        }
        self.send(order).await
    }

    /// Sends the placement of `order` (again, with its requestID) and records the answer.
    async fn send(&self, order: Order) -> Result<Order, Error> {
        let trading = self.trading()?.clone();
        let request = broker::OrderRequest {
            account: order.account.clone(),
            symbol: order.symbol,
            side: order.side,
            order_type: order.order_type,
            price: order.price,
            quantity: order.quantity,
            client_order_id: order.request_id,
        };
        let result = tokio::time::timeout(self.timeout(), trading.place(&request)).await;
        match self.outcome("place", result) {
            Outcome::Taken(Some(ack)) => {
                let refused = matches!(ack.status, Some(broker::OrderStatus::Rejected));
                self.mutate(&order.id, |o, now| {
                    if refused {
                        return o
                            .reject("the broker refused the order".to_owned(), now)
                            .map(Some);
                    }
                    Ok(o.accepted(ack.order_id.clone(), now))
                })
                .await
            }
            Outcome::Taken(None) => self.resolve(&order.id).await,
            Outcome::Refused(reason) => {
                self.mutate(&order.id, |o, now| o.reject(reason, now).map(Some))
                    .await
            }
            Outcome::Unknown(why) => {
                tracing::warn!(order = %order.id, request_id = %order.request_id, "placement outcome unknown ({why}); asking again later");
                self.current(&order.id).await
            }
        }
    }

    /// What the broker knows of an order whose placement has no answer: applied when it has
    /// the order; sent again (same requestID) when it has not and the order is recent; rejected
    /// as never sent when it is older than `resend_window_secs`.
    async fn resolve(&self, id: &str) -> Result<Order, Error> {
        let order = self.current(id).await?;
        if order.confirmed {
            return Ok(order);
        }
        let trading = self.trading()?.clone();
        let found = tokio::time::timeout(
            self.timeout(),
            trading.find_order(&order.account, order.request_id),
        )
        .await;
        let found = match found {
            Ok(Ok(found)) => {
                self.count_call("find", "ok");
                found
            }
            Ok(Err(e)) => {
                self.count_call("find", "unknown");
                tracing::warn!(order = %id, "find_order: {e}");
                return Ok(order);
            }
            Err(_) => {
                self.count_call("find", "unknown");
                return Ok(order);
            }
        };
        match found {
            Some(state) => {
                let terms_match = state.symbol == order.symbol
                    && state.side == order.side
                    && (state.quantity == order.quantity || state.filled.units() > 0);
                if !terms_match {
                    // The requestID was used for another order (not by this OMS's sequence):
                    // never adopt it.
                    let reason = format!(
                        "requestID {} is the broker's order {} for other terms ({} {} {}): not placed",
                        order.request_id,
                        state.order_id,
                        state.side.name(),
                        state.quantity.units(),
                        state.symbol
                    );
                    return self
                        .mutate(id, |o, now| o.reject(reason, now).map(Some))
                        .await;
                }
                self.apply_report(&state).await?;
                self.current(id).await
            }
            None => {
                // Market time: how far the market moved since the trader asked.
                let age =
                    Duration::try_from(self.now() - order.created_at).unwrap_or(Duration::ZERO);
                if age > Duration::from_secs(self.inner.settings.resend_window_secs) {
                    let reason = format!(
                        "never reached the broker, and was accepted {} s ago (more than orders.resend_window_secs): not sent",
                        age.as_secs()
                    );
                    return self
                        .mutate(id, |o, now| o.reject(reason, now).map(Some))
                        .await;
                }
                Box::pin(self.check_then_send(order)).await
            }
        }
    }

    fn count_stream(&self, result: &str) {
        self.inner.metrics.stream.with_label_values(&[result]).inc();
    }

    fn count_change(&self, kind: &str) {
        self.inner.metrics.changes.with_label_values(&[kind]).inc();
    }

    fn count_call(&self, call: &str, result: &str) {
        self.inner
            .metrics
            .broker_calls
            .with_label_values(&[call, result])
            .inc();
    }

    /// The order as the book (or the store, for a final one) has it now.
    pub async fn current(&self, id: &str) -> Result<Order, Error> {
        if let Some(o) = self.inner.book.lock().await.open.get(id) {
            return Ok(o.clone());
        }
        store::get(&self.inner.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// Applies `f` to the order under the book's lock and stores the result with its change.
    async fn mutate<F>(&self, id: &str, f: F) -> Result<Order, Error>
    where
        F: FnOnce(&mut Order, OffsetDateTime) -> Result<Option<Change>, IllegalTransition>,
    {
        let mut book = self.inner.book.lock().await;
        let mut order = match book.open.get(id) {
            Some(o) => o.clone(),
            None => store::get(&self.inner.db, id)
                .await?
                .ok_or_else(|| Error::NotFound(id.to_owned()))?,
        };
        let previous = order.version;
        let change = f(&mut order, self.now())?;
        if order.version == previous {
            return Ok(order);
        }
        store::save(&self.inner.db, &order, previous, change.as_ref()).await?;
        if let Some(c) = &change {
            self.count_change(c.kind);
            self.account_touched(&order.account);
        }
        book.put(order.clone());
        self.inner.metrics.open_orders.set(book.open.len() as i64);
        Ok(order)
    }

    /// Asks the broker to change price or quantity.
    pub async fn amend(&self, id: &str, change: Amendment) -> Result<Order, Error> {
        let trading = self.trading()?.clone();
        let order = self.current(id).await?;
        check_amendment(&order, change)?;
        let request_id =
            store::new_action(&self.inner.db, vn_today(self.now()), id, "amend").await?;
        let order = self
            .mutate(id, |o, now| {
                o.request_amend(change, request_id, now).map(Some)
            })
            .await?;
        let key = order_key(&order);
        let request = broker::AmendRequest {
            order: key,
            change,
            client_order_id: request_id,
        };
        let result = tokio::time::timeout(self.timeout(), trading.amend(&request)).await;
        self.after_action(id, "amend", self.outcome("amend", result))
            .await
    }

    /// Asks the broker to cancel.
    pub async fn cancel(&self, id: &str) -> Result<Order, Error> {
        let trading = self.trading()?.clone();
        self.current(id).await?;
        let request_id =
            store::new_action(&self.inner.db, vn_today(self.now()), id, "cancel").await?;
        let order = self
            .mutate(id, |o, now| o.request_cancel(request_id, now).map(Some))
            .await?;
        let request = broker::CancelRequest {
            order: order_key(&order),
            client_order_id: request_id,
        };
        let result = tokio::time::timeout(self.timeout(), trading.cancel(&request)).await;
        self.after_action(id, "cancel", self.outcome("cancel", result))
            .await
    }

    async fn after_action(&self, id: &str, what: &str, outcome: Outcome) -> Result<Order, Error> {
        match outcome {
            Outcome::Taken(_) => {
                self.inner.book.lock().await.unsent_actions.remove(id);
                self.current(id).await
            }
            Outcome::Refused(reason) => {
                self.inner.book.lock().await.unsent_actions.remove(id);
                self.mutate(id, |o, now| Ok(o.pending_failed(reason, now)))
                    .await
            }
            Outcome::Unknown(why) => {
                tracing::warn!(order = %id, "{what} outcome unknown ({why}); sending again later");
                self.inner
                    .book
                    .lock()
                    .await
                    .unsent_actions
                    .insert(id.to_owned());
                self.current(id).await
            }
        }
    }

    /// Sends a pending amend/cancel again with its requestID.
    async fn resend_action(&self, id: &str) -> Result<(), Error> {
        let trading = self.trading()?.clone();
        let order = self.current(id).await?;
        let Some(pending) = order.pending else {
            self.inner.book.lock().await.unsent_actions.remove(id);
            return Ok(());
        };
        let key = order_key(&order);
        let (what, result) = match pending {
            Pending::Amend { request_id, change } => {
                let r = broker::AmendRequest {
                    order: key,
                    change,
                    client_order_id: request_id,
                };
                (
                    "amend",
                    tokio::time::timeout(self.timeout(), trading.amend(&r)).await,
                )
            }
            Pending::Cancel { request_id } => {
                let r = broker::CancelRequest {
                    order: key,
                    client_order_id: request_id,
                };
                (
                    "cancel",
                    tokio::time::timeout(self.timeout(), trading.cancel(&r)).await,
                )
            }
        };
        let outcome = self.outcome(what, result);
        self.after_action(id, what, outcome).await.map(drop)
    }

    /// The OMS id of the order a broker report or fill is about: by the broker's order id,
    /// else by a requestID the OMS used on it (the placement's, or for a v2 order book row that
    /// lacks it, the latest action's).
    async fn locate(
        &self,
        broker_order_id: &str,
        request_ids: &[Option<ClientOrderId>],
        at: Option<OffsetDateTime>,
    ) -> Result<Option<String>, Error> {
        {
            let book = self.inner.book.lock().await;
            if let Some(id) = book.by_broker.get(broker_order_id) {
                return Ok(Some(id.clone()));
            }
            if let Some(o) = book
                .open
                .values()
                .find(|o| request_ids.contains(&Some(o.request_id)))
            {
                return Ok(Some(o.id.clone()));
            }
        }
        let day = vn_today(at.unwrap_or_else(|| self.now()));
        for rid in request_ids.iter().flatten() {
            if let Some(id) = store::action_order(&self.inner.db, day, *rid).await? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Applies the broker's view of one order.
    pub async fn apply_report(&self, report: &broker::OrderState) -> Result<(), Error> {
        let id = self
            .locate(
                &report.order_id,
                &[report.client_order_id, report.last_action_id],
                report.updated_at,
            )
            .await?;
        let Some(id) = id else {
            self.count_stream("unknown_order");
            tracing::debug!(broker_order = %report.order_id, "report for an order this OMS did not place");
            return Ok(());
        };
        match self.mutate(&id, |o, now| o.apply_report(report, now)).await {
            Ok(_) => {
                self.count_stream("applied");
                Ok(())
            }
            Err(Error::Invalid(Invalid::Transition(e))) => {
                self.count_stream("illegal");
                tracing::warn!("broker report refused by the state machine: {e}");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Records one fill from the stream (once, however often it is delivered).
    pub async fn apply_fill(&self, fill: &broker::Fill) -> Result<(), Error> {
        let Some(id) = self
            .locate(&fill.order_id, &[fill.client_order_id], fill.time)
            .await?
        else {
            self.count_stream("unknown_order");
            return Ok(());
        };
        let time = fill.time.unwrap_or_else(|| self.now());
        let fill_id = fill.fill_id.clone().unwrap_or_else(|| {
            format!(
                "t{}-{}-{}",
                time.unix_timestamp_nanos(),
                fill.price.units(),
                fill.quantity.units()
            )
        });
        self.record_fill(
            &id,
            Fill {
                id: fill_id,
                price: fill.price,
                quantity: fill.quantity,
                time,
                reconciled: false,
            },
        )
        .await
    }

    async fn record_fill(&self, id: &str, fill: Fill) -> Result<(), Error> {
        let mut book = self.inner.book.lock().await;
        if store::has_fill(&self.inner.db, id, &fill.id).await? {
            self.count_stream("duplicate_fill");
            return Ok(());
        }
        let mut order = match book.open.get(id) {
            Some(o) => o.clone(),
            None => store::get(&self.inner.db, id)
                .await?
                .ok_or_else(|| Error::NotFound(id.to_owned()))?,
        };
        let previous = order.version;
        let (counted, change) = match order.apply_fill(&fill, self.now()) {
            Ok(r) => r,
            Err(e) => {
                self.count_stream("illegal");
                tracing::error!("fill refused by the state machine: {e}");
                return Ok(());
            }
        };
        if store::save_fill(
            &self.inner.db,
            &order,
            previous,
            &fill,
            counted,
            change.as_ref(),
        )
        .await?
        {
            self.count_stream("applied");
            if let Some(c) = &change {
                self.count_change(c.kind);
            }
            self.account_touched(&order.account);
            // Fills found by a reconciliation are old news, not the stream's latency.
            if !fill.reconciled {
                let late = (self.now() - fill.time).as_seconds_f64().max(0.0);
                self.inner.metrics.fill_seconds.observe(late);
            }
            book.put(order);
            self.inner.metrics.open_orders.set(book.open.len() as i64);
        }
        Ok(())
    }

    /// A failure the stream reported for an action: the placement is rejected, a pending
    /// change fails.
    async fn action_failed(
        &self,
        request_id: Option<ClientOrderId>,
        broker_order_id: Option<&str>,
        message: String,
    ) -> Result<(), Error> {
        let Some(rid) = request_id else {
            return Ok(());
        };
        let id = match store::action_order(&self.inner.db, vn_today(self.now()), rid).await? {
            Some(id) => id,
            None => match self
                .locate(broker_order_id.unwrap_or(""), &[], None)
                .await?
            {
                Some(id) => id,
                None => return Ok(()),
            },
        };
        let order = self.current(&id).await?;
        if order.request_id == rid && !order.status.is_final() && order.pending.is_none() {
            self.mutate(&id, |o, now| o.reject(message, now).map(Some))
                .await?;
        } else if order.pending.is_some_and(|p| p.request_id() == rid) {
            self.inner.book.lock().await.unsent_actions.remove(&id);
            self.mutate(&id, |o, now| Ok(o.pending_failed(message, now)))
                .await?;
        }
        Ok(())
    }

    /// Makes the OMS's view of `account` equal the broker's order book: every order's status,
    /// the fills the stream missed, placements without answer resolved, orders of earlier days
    /// the broker no longer lists expired.
    pub async fn reconcile(&self, account: &str) -> Result<(), Error> {
        let trading = self.trading()?.clone();
        let book = match tokio::time::timeout(self.timeout(), trading.order_book(account)).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                self.count_call("order_book", "unknown");
                return Err(e.into());
            }
            Err(_) => {
                self.count_call("order_book", "unknown");
                return Err(Error::NotAccepting(format!(
                    "the broker's order book of {account} did not come within {} ms",
                    self.inner.settings.broker_timeout_ms
                )));
            }
        };
        self.count_call("order_book", "ok");
        let mut listed = std::collections::HashSet::new();
        for state in &book {
            let Some(id) = self
                .locate(
                    &state.order_id,
                    &[state.client_order_id, state.last_action_id],
                    state.updated_at,
                )
                .await?
            else {
                continue;
            };
            listed.insert(id.clone());
            self.apply_report(state).await?;
            let order = self.current(&id).await?;
            if let Some(fill) = order.missing_fill(state.filled, state.avg_price, self.now()) {
                tracing::info!(order = %id, quantity = fill.quantity.units(), "fill the stream missed, taken from the order book");
                self.record_fill(&id, fill).await?;
            }
        }
        let today = vn_today(self.now());
        let open: Vec<Order> = {
            let b = self.inner.book.lock().await;
            b.open
                .values()
                .filter(|o| o.account == account)
                .cloned()
                .collect()
        };
        for order in open {
            if listed.contains(&order.id) {
                continue;
            }
            if !order.confirmed {
                self.resolve(&order.id).await?;
            } else if vn_today(order.created_at) < today {
                let detail = format!(
                    "not in the broker's order book of {today}: ended with its trading day"
                );
                self.mutate(&order.id, |o, now| {
                    let from = o.status;
                    if !from.can_become(crate::domain::Status::Expired) {
                        return Ok(None);
                    }
                    o.status = crate::domain::Status::Expired;
                    o.pending = None;
                    o.updated_at = now;
                    o.version += 1;
                    Ok(Some(Change {
                        kind: "expired",
                        from,
                        to: crate::domain::Status::Expired,
                        detail,
                    }))
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Loads the open orders, reconciles every account, then accepts orders; follows each
    /// account's stream and asks again about unknown outcomes until `token` is cancelled.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        let open = store::open_orders(&self.inner.db).await?;
        {
            let mut book = self.inner.book.lock().await;
            for o in open {
                if o.pending.is_some() {
                    // The change may not have reached the broker before the stop.
                    book.unsent_actions.insert(o.id.clone());
                }
                book.put(o);
            }
            self.inner.metrics.open_orders.set(book.open.len() as i64);
        }
        if self.inner.trading.is_none() {
            token.cancelled().await;
            return Ok(());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for account in self.inner.settings.accounts.clone() {
            let oms = self.clone();
            let token = token.clone();
            tasks.spawn(async move { oms.follow(account, token).await });
        }
        // Accept orders once every account has been reconciled once.
        let mut backoff = self.backoff_min();
        loop {
            let mut failed = None;
            for account in &self.inner.settings.accounts {
                if let Err(e) = self.reconcile(account).await {
                    failed = Some(format!("reconciling {account}: {e}"));
                    break;
                }
            }
            match failed {
                None => {
                    self.inner
                        .metrics
                        .reconciliations
                        .with_label_values(&["ok"])
                        .inc();
                    self.set_reason("");
                    self.inner.accepting.store(true, Ordering::Release);
                    tracing::info!("reconciled with the broker: accepting orders");
                    break;
                }
                Some(reason) => {
                    self.inner
                        .metrics
                        .reconciliations
                        .with_label_values(&["error"])
                        .inc();
                    tracing::warn!("{reason}; trying again in {backoff:?}");
                    self.set_reason(&reason);
                    tokio::select! {
                        () = token.cancelled() => return Ok(()),
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = self.next_backoff(backoff);
                }
            }
        }
        // Algorithmic orders on their own beat, once orders are accepted.
        let (oms, algo_token) = (self.clone(), token.clone());
        let beat = Duration::from_millis(self.inner.settings.algo_interval_ms);
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = algo_token.cancelled() => break,
                    () = tokio::time::sleep(beat) => {}
                }
                oms.run_algos().await;
            }
        });
        let interval = Duration::from_millis(self.inner.settings.confirm_interval_ms);
        loop {
            tokio::select! {
                () = token.cancelled() => break,
                () = tokio::time::sleep(interval) => {}
            }
            self.confirm_unknown().await;
            self.place_unplaced().await;
        }
        tasks.shutdown().await;
        Ok(())
    }

    fn backoff_min(&self) -> Duration {
        Duration::from_millis(self.inner.settings.reconnect_min_ms)
    }

    fn next_backoff(&self, d: Duration) -> Duration {
        (d * 2).min(Duration::from_millis(self.inner.settings.reconnect_max_ms))
    }

    /// Asks again about every placement and change without a known outcome.
    async fn confirm_unknown(&self) {
        let (orders, actions): (Vec<String>, Vec<String>) = {
            let b = self.inner.book.lock().await;
            (
                b.open
                    .values()
                    .filter(|o| !o.confirmed && !b.sending.contains(&o.id))
                    .map(|o| o.id.clone())
                    .collect(),
                b.unsent_actions.iter().cloned().collect(),
            )
        };
        for id in orders {
            if let Err(e) = self.resolve(&id).await {
                tracing::warn!(order = %id, "asking about the placement: {e}");
            }
        }
        for id in actions {
            if let Err(e) = self.resend_action(&id).await {
                tracing::warn!(order = %id, "sending the change again: {e}");
            }
        }
    }

    /// Follows one account's stream, reopening it with backoff; reconciles after every gap.
    async fn follow(&self, account: String, token: CancellationToken) {
        let Ok(trading) = self.trading().cloned() else {
            return;
        };
        let mut backoff = self.backoff_min();
        loop {
            let opened = tokio::select! {
                () = token.cancelled() => return,
                s = trading.account_events(&account) => s,
            };
            let mut stream = match opened {
                Ok(s) => {
                    backoff = self.backoff_min();
                    s
                }
                Err(e) => {
                    tracing::warn!(%account, "account stream: {e}; again in {backoff:?}");
                    tokio::select! {
                        () = token.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = self.next_backoff(backoff);
                    continue;
                }
            };
            loop {
                let item = tokio::select! {
                    () = token.cancelled() => return,
                    () = self.inner.session_opened.notified() => {
                        tracing::info!(%account, "trading session opened: reopening the account stream");
                        break;
                    }
                    item = stream.next() => item,
                };
                let Some(item) = item else { break };
                if let Err(e) = self.on_event(&account, item).await {
                    tracing::error!(%account, "account event not applied: {e}");
                    self.count_stream("error");
                }
            }
            tracing::warn!(%account, "account stream ended; reopening");
        }
    }

    async fn on_event(
        &self,
        account: &str,
        item: broker::Result<broker::AccountEvent>,
    ) -> Result<(), Error> {
        match item {
            Ok(broker::AccountEvent::Order(state)) => self.apply_report(&state).await,
            Ok(broker::AccountEvent::Fill(fill)) => self.apply_fill(&fill).await,
            Ok(broker::AccountEvent::ActionFailed {
                client_order_id,
                order_id,
                code,
                message,
            }) => {
                let message = match code {
                    Some(c) => format!("{c}: {message}"),
                    None => message,
                };
                self.action_failed(client_order_id, order_id.as_deref(), message)
                    .await
            }
            Ok(broker::AccountEvent::Gap { reason }) => {
                self.count_stream("gap");
                tracing::warn!(%account, "account stream gap ({reason}): reconciling");
                let r = self.reconcile(account).await;
                let label = if r.is_ok() { "ok" } else { "error" };
                self.inner
                    .metrics
                    .reconciliations
                    .with_label_values(&[label])
                    .inc();
                r
            }
            Ok(broker::AccountEvent::Positions(_) | broker::AccountEvent::Reconnected) => Ok(()),
            Err(e) => {
                self.count_stream("error");
                tracing::warn!(%account, "account stream item: {e}");
                Ok(())
            }
        }
    }

    /// Orders newest first.
    pub async fn list(
        &self,
        account: &str,
        symbol: &str,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Order>, Error> {
        Ok(store::list(
            &self.inner.db,
            account,
            symbol,
            open_only,
            self.limit(limit),
        )
        .await?)
    }

    /// Page size: 1 to `max_list`; 0 means 100.
    pub fn limit(&self, limit: u32) -> u32 {
        if limit == 0 {
            100.min(self.inner.settings.max_list)
        } else {
            limit.min(self.inner.settings.max_list)
        }
    }

    /// One order by the caller's client id.
    pub async fn by_client_id(&self, client_id: &str) -> Result<Order, Error> {
        store::by_client_id(&self.inner.db, client_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("with client_id {client_id:?}")))
    }

    /// The account's fills costed, and each trading day's totals by strategy, from `from` to
    /// `to` (Vietnam dates): trade history, daily P&L, fees and tax (`ledger::report`).
    pub async fn report(
        &self,
        account: &str,
        from: time::Date,
        to: time::Date,
    ) -> Result<Report, Error> {
        self.check_account(account)?;
        let fills = store::account_fills(&self.inner.db, account).await?;
        let (trades, days) = crate::ledger::report(&self.inner.rules, &fills, from, to);
        Ok(Report {
            trades: trades
                .into_iter()
                .map(|c| (c.fill.clone(), c.cost, c.realised))
                .collect(),
            days: days.into_iter().collect(),
        })
    }

    /// The last trade price of every symbol seen (`market.trade.v1`).
    fn last_prices(&self) -> HashMap<market::Symbol, Price> {
        self.inner
            .last
            .read()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Values `account` now (cash as the broker reports it, cash-equity positions at the last
    /// trade price, else their average cost) and keeps it as the day's NAV.
    pub async fn value_account(&self, account: &str) -> Result<store::NavRow, Error> {
        let balance = self.balance(account).await?;
        let positions = self.positions(account).await?;
        let last = self.last_prices();
        let holdings = positions
            .iter()
            // Futures margin is in the cash; their notional is not an asset.
            .filter(|p| crate::ledger::kind_of(p.symbol) != market::InstrumentKind::IndexFuture)
            .map(|p| {
                let price = last.get(&p.symbol).copied().or(p.avg_price);
                i128::from(price.map_or(0, Price::units)) * i128::from(p.quantity.units())
            })
            .sum::<i128>();
        let holdings = i64::try_from(holdings).unwrap_or(i64::MAX);
        let cash = balance.cash.map_or(0, market::Vnd::amount);
        let now = self.now();
        let row = store::NavRow {
            account: account.to_owned(),
            day: now
                .to_offset(market::calendar::VN_OFFSET)
                .date()
                .to_string(),
            cash,
            holdings,
            nav: cash.saturating_add(holdings),
            valued_at: now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        store::save_nav(&self.inner.db, &row).await?;
        Ok(row)
    }

    /// The beat of a task that asks the broker about the accounts every `secs` seconds (missed
    /// beats delayed, not bunched); `None` when it is off (0) or there is no broker to ask.
    fn beat(&self, secs: u64) -> Option<tokio::time::Interval> {
        if secs == 0 || self.inner.trading.is_none() {
            return None;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Some(tick)
    }

    /// Values every account every `orders.nav_interval_secs` until `token` is cancelled (a
    /// failed valuation is logged and tried again next time).
    pub async fn value_accounts(self, token: CancellationToken) -> anyhow::Result<()> {
        let Some(mut tick) = self.beat(self.inner.settings.nav_interval_secs) else {
            // Nothing to value; a host task that ended would stop the service.
            token.cancelled().await;
            return Ok(());
        };
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            for account in &self.inner.settings.accounts {
                if let Err(e) = self.value_account(account).await {
                    tracing::warn!(account, error = %e, "valuing the account failed");
                }
            }
        }
    }

    /// Marks `account` for a new `oms.account.v1` snapshot (its orders or fills changed).
    fn account_touched(&self, account: &str) {
        if let Ok(mut changed) = self.inner.changed_accounts.lock() {
            changed.insert(account.to_owned());
        }
        self.inner.account_changed.notify_one();
    }

    /// Publishes the broker's view of each account on `oms.account.v1`: all of them every
    /// `orders.account_interval_secs`, and an account whose orders or fills changed about a
    /// second after (a burst of changes is one snapshot), until `token` is cancelled. A failed
    /// snapshot is logged and counted; the next one supersedes it.
    pub async fn publish_accounts(
        self,
        bus: common::bus::SharedBus,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let Some(mut tick) = self.beat(self.inner.settings.account_interval_secs) else {
            // Nothing to publish; a host task that ended would stop the service.
            token.cancelled().await;
            return Ok(());
        };
        loop {
            let accounts: Vec<String> = tokio::select! {
                () = token.cancelled() => return Ok(()),
                _ = tick.tick() => self.inner.settings.accounts.clone(),
                () = self.inner.account_changed.notified() => {
                    tokio::select! {
                        () = token.cancelled() => return Ok(()),
                        () = tokio::time::sleep(ACCOUNT_SETTLE) => {}
                    }
                    self.inner
                        .changed_accounts
                        .lock()
                        .map(|mut c| c.drain().collect())
                        .unwrap_or_default()
                }
            };
            for account in accounts {
                let outcome = match self.account_snapshot(&account).await {
                    Ok(snapshot) => bus
                        .publish(
                            common::bus::topics::OMS_ACCOUNT.static_name(),
                            &common::bus::Envelope::new("oms", &account, &snapshot),
                        )
                        .await
                        .map(drop)
                        .map_err(anyhow::Error::from),
                    Err(e) => Err(e.into()),
                };
                let result = if let Err(e) = &outcome {
                    tracing::warn!(%account, error = %e, "publishing the account's snapshot failed");
                    "failed"
                } else {
                    "published"
                };
                self.inner
                    .metrics
                    .account_snapshots
                    .with_label_values(&[result])
                    .inc();
            }
        }
    }

    /// The broker's cash, buying power and positions of `account` now.
    pub async fn account_snapshot(
        &self,
        account: &str,
    ) -> Result<proto::oms::v1::AccountSnapshot, Error> {
        self.check_account(account)?;
        let at = self.now();
        let t = self.trading()?.clone();
        let (balance, positions) = tokio::try_join!(
            self.query(t.balance(account)),
            self.query(t.positions(account))
        )?;
        Ok(proto::oms::v1::AccountSnapshot {
            account: account.to_owned(),
            at: Some(common::bus::proto_time(at)),
            cash: balance.cash.map(market::Vnd::amount),
            buying_power: balance.buying_power.map(market::Vnd::amount),
            positions: positions
                .into_iter()
                .map(|p| proto::oms::v1::BrokerPosition {
                    symbol: p.symbol.to_string(),
                    quantity: p.quantity.units(),
                    sellable: p.sellable.units(),
                    short: p.short.units(),
                })
                .collect(),
        })
    }

    /// The account's NAV by day from `from` to `to`, oldest first.
    pub async fn nav(
        &self,
        account: &str,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<store::NavRow>, Error> {
        self.check_account(account)?;
        Ok(store::nav(&self.inner.db, account, &from.to_string(), &to.to_string()).await?)
    }

    /// Fills newest first.
    pub async fn fills(
        &self,
        account: &str,
        order_id: &str,
        limit: u32,
    ) -> Result<Vec<proto::oms::v1::Fill>, Error> {
        Ok(store::fills(&self.inner.db, account, order_id, self.limit(limit)).await?)
    }

    /// The journal of one order.
    pub async fn events(&self, id: &str) -> Result<Vec<proto::oms::v1::OrderEvent>, Error> {
        self.current(id).await?;
        Ok(store::events(&self.inner.db, id).await?)
    }

    /// What QTS's fills hold in `account`, per strategy and symbol (of one strategy when
    /// given), valued now: see [`crate::ledger`].
    pub async fn portfolio(
        &self,
        account: &str,
        strategy: Option<&str>,
    ) -> Result<Vec<crate::ledger::Valued>, Error> {
        self.check_account(account)?;
        let fills = store::account_fills(&self.inner.db, account).await?;
        let mut last_fill: HashMap<market::Symbol, Price> = HashMap::new();
        for f in &fills {
            last_fill.insert(f.symbol, f.price);
        }
        let book = crate::ledger::replay(&self.inner.rules, &fills);
        let open_sells: HashMap<(Option<String>, market::Symbol), u64> = {
            let b = self.inner.book.lock().await;
            let mut m = HashMap::new();
            for o in b.open.values() {
                if o.account == account && o.side == market::Side::Sell {
                    *m.entry((o.strategy.clone(), o.symbol)).or_default() += o.leaves().units();
                }
            }
            m
        };
        let last = self.last_prices();
        let mut valued = crate::ledger::value(
            &self.inner.rules,
            &self.inner.calendar,
            book,
            self.now(),
            |s| last.get(&s).or_else(|| last_fill.get(&s)).copied(),
            |st, s| open_sells.get(&(st.clone(), s)).copied().unwrap_or(0),
        );
        if let Some(s) = strategy {
            valued.retain(|v| v.strategy.as_deref() == Some(s));
        }
        Ok(valued)
    }

    /// Follows `market.trade.v1` for last prices (unrealised P&L) and to fire conditional
    /// orders, and `masterdata.security.v1` for the day's bands, until `token` is cancelled (a
    /// group of this instance, never committed: each start reads what the bus keeps). Loads
    /// the active conditional orders first.
    pub async fn follow_prices(
        self,
        bus: common::bus::SharedBus,
        group: String,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut backoff = self.backoff_min();
        loop {
            match self.load_conditionals().await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "loading conditional orders failed; trying again");
                    tokio::select! {
                        () = token.cancelled() => return Ok(()),
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = self.next_backoff(backoff);
                }
            }
        }
        let trades = common::bus::topics::MARKET_TRADE.static_name();
        let securities = common::bus::topics::MASTERDATA_SECURITY.static_name();
        let mut sub = bus
            .subscribe(&group, &[trades, securities])
            .await
            .map_err(|e| anyhow::anyhow!("subscribe to trades: {}", common::error::chain(&e)))?;
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = sub.poll(Duration::from_millis(500)) => p,
            };
            match polled {
                Ok(Some(d)) if d.topic == securities => {
                    if let Ok(sec) = d.envelope.decode::<proto::market::v1::Security>()
                        && let Ok(symbol) = market::Symbol::parse(&sec.symbol)
                        && sec.floor > 0
                        && sec.ceiling >= sec.floor
                        && let Ok(mut bands) = self.inner.bands.write()
                    {
                        bands.insert(symbol, (sec.floor, sec.ceiling));
                    }
                }
                Ok(Some(d)) => {
                    if let Ok(t) = d.envelope.decode::<proto::market::v1::Trade>()
                        && let (Ok(symbol), Ok(price)) =
                            (market::Symbol::parse(&t.symbol), Price::new(t.price))
                    {
                        if let Ok(mut last) = self.inner.last.write() {
                            last.insert(symbol, price);
                        }
                        self.on_trade(symbol, t.price).await;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %common::error::chain(&e), "trade poll failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn load_conditionals(&self) -> Result<(), Error> {
        let live = store::live_conditionals(&self.inner.db).await?;
        let mut index = self
            .inner
            .conditionals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut unplaced = self
            .inner
            .unplaced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (c, _) in live {
            if c.status == ConditionalStatus::Active {
                watch(&mut index, c);
            } else {
                unplaced.insert(c.client_id.clone(), c);
            }
        }
        Ok(())
    }

    /// Holds a conditional order until it fires; a repeated client id answers the one stored
    /// with it (a different request under it is refused).
    pub async fn create_conditional(&self, c: Conditional) -> Result<Conditional, Error> {
        self.trading()?;
        self.check_account(&c.account)?;
        let stored = store::create_conditional(&self.inner.db, &c).await?;
        let same = stored.account == c.account
            && stored.symbol == c.symbol
            && stored.side == c.side
            && stored.kind == c.kind
            && stored.quantity == c.quantity
            && stored.trigger_price == c.trigger_price
            && stored.limit_price == c.limit_price
            && stored.trail == c.trail
            && stored.oco_group == c.oco_group;
        if !same {
            return Err(Error::ClientIdReused(
                c.client_id.clone(),
                stored.client_id.clone(),
            ));
        }
        if stored.status == ConditionalStatus::Active {
            let mut index = self
                .inner
                .conditionals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            watch(&mut index, stored.clone());
        }
        Ok(stored)
    }

    /// One conditional order.
    pub async fn conditional(&self, client_id: &str) -> Result<Conditional, Error> {
        store::conditional(&self.inner.db, client_id)
            .await?
            .map(|(c, _)| c)
            .ok_or_else(|| Error::NotFound(client_id.to_owned()))
    }

    /// Conditional orders, newest first.
    pub async fn conditionals(
        &self,
        account: &str,
        status: &str,
        limit: u32,
    ) -> Result<Vec<Conditional>, Error> {
        Ok(
            store::conditionals(&self.inner.db, account, status, self.limit(limit))
                .await?
                .into_iter()
                .map(|(c, _)| c)
                .collect(),
        )
    }

    /// Cancels an active conditional order and the rest of its OCO group.
    pub async fn cancel_conditional(&self, client_id: &str) -> Result<Conditional, Error> {
        let now = self.now();
        match store::end_conditional(&self.inner.db, client_id, None, "cancelled by request", now)
            .await?
        {
            Some((c, siblings)) => {
                self.unindex(
                    c.symbol,
                    std::iter::once(c.client_id.clone()).chain(siblings),
                );
                Ok(c)
            }
            None => {
                let c = self.conditional(client_id).await?;
                Err(Error::ConditionalEnded(c.client_id, c.status.as_str()))
            }
        }
    }

    fn unindex(&self, symbol: market::Symbol, ids: impl Iterator<Item = String>) {
        let ids: std::collections::HashSet<String> = ids.collect();
        let mut index = self
            .inner
            .conditionals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // OCO members may watch other symbols: look everywhere, the symbol first.
        if let Some(list) = index.get_mut(&symbol) {
            list.retain(|c| !ids.contains(&c.client_id));
        }
        for list in index.values_mut() {
            list.retain(|c| !ids.contains(&c.client_id));
        }
    }

    /// A trade of `symbol` at `price`: trailing stops follow it, the conditionals it reaches
    /// fire (each once: the store decides).
    async fn on_trade(&self, symbol: market::Symbol, price: i64) {
        let (moved, fired) = {
            let mut index = self
                .inner
                .conditionals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(list) = index.get_mut(&symbol) else {
                return;
            };
            let mut moved = Vec::new();
            let mut fired = Vec::new();
            for c in list.iter_mut() {
                match c.on_trade(price) {
                    Reaction::Moved(p) => {
                        c.extreme = Some(p);
                        moved.push((c.client_id.clone(), p));
                    }
                    Reaction::Fire => fired.push(c.clone()),
                    Reaction::None => {}
                }
            }
            list.retain(|c| !fired.iter().any(|f| f.client_id == c.client_id));
            (moved, fired)
        };
        for (id, p) in moved {
            if let Err(e) = store::set_extreme(&self.inner.db, &id, p).await {
                tracing::warn!(conditional = %id, error = %e, "storing a trailing stop's extreme failed");
            }
        }
        for c in fired {
            self.fire(c, price).await;
        }
    }

    /// Fires `c` (once: the store's guarded update decides) and places its child order.
    async fn fire(&self, c: Conditional, price: i64) {
        let detail = format!("fired by a trade at {price}");
        match store::end_conditional(
            &self.inner.db,
            &c.client_id,
            Some(price),
            &detail,
            self.now(),
        )
        .await
        {
            Ok(Some((fired, siblings))) => {
                self.count_change("conditional_fired");
                self.unindex(fired.symbol, siblings.into_iter());
                self.place_child(fired).await;
            }
            Ok(None) => {}
            Err(e) => {
                // Still active in the store: watch it again (a later trade retries).
                tracing::warn!(conditional = %c.client_id, error = %e, "firing failed; watching it again");
                let mut index = self
                    .inner
                    .conditionals
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                watch(&mut index, c);
            }
        }
    }

    /// Places the child of fired conditional `c` (client id `<client_id>:fire`: once, however
    /// often this runs).
    async fn place_child(&self, c: Conditional) {
        let band = self
            .inner
            .bands
            .read()
            .ok()
            .and_then(|b| b.get(&c.symbol).copied());
        let price = c.child_price(band.map(|b| b.0), band.map(|b| b.1));
        // Without the day's band a stop's child is a market-to-limit order.
        let (order_type, price) = match price.map(Price::new) {
            Some(Ok(p)) => (market::OrderType::Lo, Some(p)),
            _ => (market::OrderType::Mtl, None),
        };
        let request = NewOrder {
            client_id: c.child_client_id(),
            account: c.account.clone(),
            symbol: c.symbol,
            side: c.side,
            order_type,
            price,
            quantity: Quantity::new(c.quantity),
            strategy: c.strategy.clone(),
        };
        let outcome = match self.place(request).await {
            Ok(order) => Some(format!(
                "{}; child order {} ({} {}{})",
                c.detail,
                order.id,
                order_type,
                order.status.as_str(),
                order
                    .reject_reason
                    .as_deref()
                    .map_or_else(String::new, |r| format!(": {r}"))
            )),
            Err(e @ (Error::Invalid(_) | Error::ClientIdReused(..) | Error::UnknownAccount(_))) => {
                Some(format!("{}; child order refused: {e}", c.detail))
            }
            Err(e) => {
                tracing::warn!(conditional = %c.client_id, error = %e, "placing a fired conditional's order failed; trying again");
                None
            }
        };
        let placed = outcome.is_some();
        if let Ok(mut unplaced) = self.inner.unplaced.lock() {
            if placed {
                unplaced.remove(&c.client_id);
            } else {
                unplaced.insert(c.client_id.clone(), c.clone());
            }
        }
        if let Some(detail) = outcome
            && let Err(e) = store::mark_placed(&self.inner.db, &c.client_id, &detail).await
        {
            // Placed again at the next start: the client id answers the same order.
            tracing::warn!(conditional = %c.client_id, error = %e, "recording a placed child failed");
        }
    }

    /// Starts slicing a parent order (TWAP, VWAP, iceberg); a repeated client id answers the
    /// one stored with it (a different request under it is refused). A VWAP order reads its
    /// volume profile from the historical service first and is refused without one.
    pub async fn create_algo(&self, mut a: Algo) -> Result<Algo, Error> {
        self.trading()?;
        self.check_account(&a.account)?;
        if a.kind == AlgoKind::Vwap {
            if let Some(stored) = store::algo(&self.inner.db, &a.client_id).await? {
                a.weights = stored.weights;
            } else {
                a.weights = self.vwap_weights(&a).await?;
            }
        }
        let stored = store::create_algo(&self.inner.db, &a).await?;
        self.inner.algos_maybe_active.store(true, Ordering::Release);
        let same = stored.account == a.account
            && stored.symbol == a.symbol
            && stored.side == a.side
            && stored.kind == a.kind
            && stored.price == a.price
            && stored.quantity == a.quantity
            && stored.slices == a.slices
            && stored.display == a.display;
        if !same {
            return Err(Error::ClientIdReused(
                a.client_id.clone(),
                stored.client_id.clone(),
            ));
        }
        Ok(stored)
    }

    async fn vwap_weights(&self, a: &Algo) -> Result<Vec<u64>, Error> {
        let history = self.inner.history.as_ref().ok_or_else(|| {
            Error::History("no historical service is configured (peers.historical)".to_owned())
        })?;
        let start = a.start_at.unwrap_or_else(|| self.now());
        let (profile, days) = history
            .profile(a.symbol, vn_today(start), &self.inner.calendar)
            .await?;
        let calendar = &self.inner.calendar;
        crate::algo::profile_weights(a, &profile, |d| calendar.is_trading_day(d)).ok_or_else(|| {
            Error::Invalid(Invalid::Field(format!(
                "{} traded nothing in the window of this vwap order on the {days} trading days the historical service has bars of: nothing to weigh its slices by (a twap order needs no history)",
                a.symbol
            )))
        })
    }

    /// One parent order.
    pub async fn algo(&self, client_id: &str) -> Result<Algo, Error> {
        store::algo(&self.inner.db, client_id)
            .await?
            .ok_or_else(|| Error::NotFound(client_id.to_owned()))
    }

    /// Parent orders, newest first.
    pub async fn algos(&self, account: &str, status: &str, limit: u32) -> Result<Vec<Algo>, Error> {
        Ok(store::algos(&self.inner.db, account, status, self.limit(limit)).await?)
    }

    /// Stops slicing a parent order and cancels its children that still work.
    pub async fn cancel_algo(&self, client_id: &str) -> Result<Algo, Error> {
        let a = self.algo(client_id).await?;
        let now = self.now();
        if !store::algo_progress(
            &self.inner.db,
            client_id,
            a.next_slice,
            AlgoStatus::Cancelled,
            "cancelled by request",
            now,
        )
        .await?
        {
            let a = self.algo(client_id).await?;
            return Err(Error::AlgoEnded(a.client_id, a.status.as_str()));
        }
        // The slice being placed now, if any, is `next_slice` (its placer cancels it too if it
        // is stored after this look).
        for n in 0..=a.next_slice {
            if let Some(child) = store::by_client_id(&self.inner.db, &a.child_client_id(n)).await?
                && !child.status.is_final()
            {
                self.cancel_when_known(&child.id).await;
            }
        }
        self.algo(client_id).await
    }

    /// Cancels order `id` once the broker has told its order id (a slice just placed may not
    /// have it yet), waiting at most the broker timeout; a failure is logged.
    async fn cancel_when_known(&self, id: &str) {
        let deadline = Instant::now() + self.timeout();
        loop {
            let order = match self.current(id).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(order = %id, error = %e, "reading a slice to cancel failed");
                    return;
                }
            };
            if order.status.is_final() || order.pending.is_some() {
                return;
            }
            if order.broker_order_id.is_some() {
                if let Err(e) = self.cancel(id).await {
                    tracing::warn!(order = %id, error = %e, "cancelling a slice failed");
                }
                return;
            }
            if Instant::now() >= deadline {
                tracing::warn!(order = %id, "a slice to cancel has no broker id yet; left working");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Places the slices that are due of every active parent order.
    async fn run_algos(&self) {
        // Cleared before the read: a parent stored after it sets the flag again, so the next
        // beat reads it.
        if !self.inner.algos_maybe_active.swap(false, Ordering::AcqRel) {
            return;
        }
        let active =
            match store::algos(&self.inner.db, "", AlgoStatus::Active.as_str(), 10_000).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "reading algorithmic orders failed");
                    self.inner.algos_maybe_active.store(true, Ordering::Release);
                    return;
                }
            };
        if !active.is_empty() {
            self.inner.algos_maybe_active.store(true, Ordering::Release);
        }
        for a in active {
            if let Err(e) = self.step_algo(a).await {
                tracing::warn!(error = %e, "an algorithmic order's step failed; trying again");
            }
        }
    }

    /// Places what is due of parent `a` and records it.
    async fn step_algo(&self, a: Algo) -> Result<(), Error> {
        let now = self.now();
        let (quantity, last) = match a.kind {
            AlgoKind::Twap | AlgoKind::Vwap => {
                let slices = a.slices.unwrap_or(0);
                match a.due(a.next_slice) {
                    Some(due) if due <= now && a.next_slice < slices => {
                        (a.scheduled_slice(a.next_slice), a.next_slice + 1 == slices)
                    }
                    _ => return Ok(()),
                }
            }
            AlgoKind::Iceberg => {
                let mut filled = 0;
                if let Some(n) = a.next_slice.checked_sub(1) {
                    let Some(child) =
                        store::by_client_id(&self.inner.db, &a.child_client_id(n)).await?
                    else {
                        // Recorded as placed but not stored: place the same slice again below.
                        return self.place_slice(&a, n, a.iceberg_slice(0), false).await;
                    };
                    if !child.status.is_final() {
                        return Ok(());
                    }
                    for k in 0..a.next_slice {
                        if let Some(c) =
                            store::by_client_id(&self.inner.db, &a.child_client_id(k)).await?
                        {
                            filled += c.filled.units();
                        }
                    }
                    if child.status != crate::domain::Status::Filled {
                        store::algo_progress(
                            &self.inner.db,
                            &a.client_id,
                            a.next_slice,
                            AlgoStatus::Done,
                            &format!(
                                "slice {n} ended {} with {filled} of {} filled: the rest is not shown",
                                child.status.as_str(),
                                a.quantity
                            ),
                            now,
                        )
                        .await?;
                        return Ok(());
                    }
                }
                let next = a.iceberg_slice(filled);
                if next == 0 {
                    store::algo_progress(
                        &self.inner.db,
                        &a.client_id,
                        a.next_slice,
                        AlgoStatus::Done,
                        &format!("all {} filled", a.quantity),
                        now,
                    )
                    .await?;
                    return Ok(());
                }
                (next, false)
            }
        };
        if quantity == 0 {
            // A VWAP slice of a quiet interval: nothing to place, on to the next.
            let status = if last {
                AlgoStatus::Done
            } else {
                AlgoStatus::Active
            };
            store::algo_progress(
                &self.inner.db,
                &a.client_id,
                a.next_slice + 1,
                status,
                &format!(
                    "slice {}: none of the quantity falls in its interval by the volume profile",
                    a.next_slice
                ),
                now,
            )
            .await?;
            return Ok(());
        }
        self.place_slice(&a, a.next_slice, quantity, last).await
    }

    /// Places slice `n` of `a` (`quantity` shares) and records the progress (`last`: the
    /// parent is done once it is placed).
    async fn place_slice(&self, a: &Algo, n: u32, quantity: u64, last: bool) -> Result<(), Error> {
        let request = NewOrder {
            client_id: a.child_client_id(n),
            account: a.account.clone(),
            symbol: a.symbol,
            side: a.side,
            order_type: market::OrderType::Lo,
            price: Some(Price::new(a.price).map_err(|e| Invalid::Field(e.to_string()))?),
            quantity: Quantity::new(quantity),
            strategy: a.strategy.clone(),
        };
        let order = match self.place(request).await {
            Ok(order) => order,
            // Not accepting, the store: the next pass places the same slice again.
            Err(
                e
                @ (Error::NotAccepting(_) | Error::Paused(_) | Error::Store(_) | Error::Broker(_)),
            ) => {
                return Err(e);
            }
            Err(e) => {
                store::algo_progress(
                    &self.inner.db,
                    &a.client_id,
                    n,
                    AlgoStatus::Done,
                    &format!("slice {n} refused: {e}"),
                    self.now(),
                )
                .await?;
                return Ok(());
            }
        };
        let detail = format!(
            "slice {n}: {quantity} at {} ({} {}{})",
            a.price,
            order.id,
            order.status.as_str(),
            order
                .reject_reason
                .as_deref()
                .map_or_else(String::new, |r| format!(": {r}"))
        );
        let status = if last {
            AlgoStatus::Done
        } else {
            AlgoStatus::Active
        };
        let active = store::algo_progress(
            &self.inner.db,
            &a.client_id,
            n + 1,
            status,
            &detail,
            self.now(),
        )
        .await?;
        if !active && !order.status.is_final() {
            // Cancelled while this slice was being placed: it goes too.
            self.cancel_when_known(&order.id).await;
        }
        Ok(())
    }

    /// Places the children of fired conditionals that could not be placed before.
    async fn place_unplaced(&self) {
        let todo: Vec<Conditional> = self
            .inner
            .unplaced
            .lock()
            .map(|u| u.values().cloned().collect())
            .unwrap_or_default();
        for c in todo {
            self.place_child(c).await;
        }
    }

    /// The broker's trading session.
    pub async fn session(&self) -> Result<broker::TradingSession, Error> {
        Ok(self.trading()?.session().await)
    }

    /// Asks the broker to send an OTP (or push a Smart-OTP approval).
    pub async fn request_otp(&self) -> Result<broker::OtpRequested, Error> {
        let t = self.trading()?.clone();
        self.query(t.request_otp()).await
    }

    /// Opens the trading session with an OTP code or an approved Smart-OTP transaction id.
    pub async fn login(&self, code: &str) -> Result<broker::TradingSession, Error> {
        let code = code.trim();
        if code.is_empty() || code.len() > 128 {
            return Err(Invalid::Field(
                "code: the OTP (or Smart-OTP transaction id), 1 to 128 characters".to_owned(),
            )
            .into());
        }
        let t = self.trading()?.clone();
        let secret = secrecy::SecretString::from(code.to_owned());
        let session = self.query(t.login_otp(&secret)).await?;
        tracing::info!("trading session opened with an OTP");
        // Streams opened before carry no trading events (v3 scopes them by the token): reopen
        // them, and reconcile what they may have missed.
        self.inner.session_opened.notify_waiters();
        for account in &self.inner.settings.accounts {
            if let Err(e) = self.reconcile(account).await {
                tracing::warn!(%account, "reconciling after the login: {e}");
            }
        }
        Ok(session)
    }

    /// The broker's positions of `account`.
    pub async fn positions(&self, account: &str) -> Result<Vec<broker::Position>, Error> {
        self.check_account(account)?;
        let t = self.trading()?.clone();
        self.query(t.positions(account)).await
    }

    /// The broker's cash and buying power of `account`.
    pub async fn balance(&self, account: &str) -> Result<broker::Balance, Error> {
        self.check_account(account)?;
        let t = self.trading()?.clone();
        self.query(t.balance(account)).await
    }

    /// The broker's largest buy at `price` and largest sell of `symbol`.
    pub async fn max_quantities(
        &self,
        account: &str,
        symbol: market::Symbol,
        price: Price,
    ) -> Result<broker::MaxQuantities, Error> {
        self.check_account(account)?;
        let t = self.trading()?.clone();
        self.query(t.max_quantities(account, symbol, price)).await
    }

    /// What an order would cost, the broker's max quantities at its price and whether orders
    /// can go now (an order ticket's preview). Places and reserves nothing.
    pub async fn preview(&self, r: &PreviewRequest) -> Result<Preview, Error> {
        self.check_account(&r.account)?;
        // A market-priced order is reckoned at the band's edge it may reach; a limit order
        // without its price yet is not reckoned.
        let priced_at = r.price.or_else(|| {
            if !r.market_priced {
                return None;
            }
            let bands = self.inner.bands.read().ok()?;
            let (floor, ceiling) = *bands.get(&r.symbol)?;
            let edge = if r.side == market::Side::Buy {
                ceiling
            } else {
                floor
            };
            Price::new(edge).ok().filter(|p| p.units() > 0)
        });
        let mut preview = Preview {
            priced_at,
            ..Preview::default()
        };
        if let Some(price) = priced_at
            && r.quantity > 0
        {
            // The brokerage tier of what the account traded today before this order (only
            // today's fills are read: the ticket asks as the trader types).
            let midnight = self
                .now()
                .to_offset(market::calendar::VN_OFFSET)
                .replace_time(time::Time::MIDNIGHT);
            let traded_today = store::account_fills_since(&self.inner.db, &r.account, midnight)
                .await?
                .iter()
                .map(|f| i128::from(f.price.units()) * i128::from(f.quantity.units()))
                .sum::<i128>();
            let cost = self.inner.rules.fees.fill_cost(
                &self.inner.rules.settlement,
                &market::fees::Fill {
                    kind: crate::ledger::kind_of(r.symbol),
                    side: r.side,
                    price,
                    quantity: market::Quantity::new(r.quantity),
                },
                &market::InvestorProfile::DOMESTIC_INDIVIDUAL,
                market::Vnd::new(i64::try_from(traded_today).unwrap_or(i64::MAX)),
            );
            preview.cost = Some(cost.map_err(|e| {
                Invalid::Field(format!("quantity {} at {}: {e}", r.quantity, price.units()))
            })?);
        }
        // Not `status()`: that counts the whole book under its lock, on every keystroke here.
        preview.accepting = self.accepting();
        preview.reason = self.reason();
        if let Some(t) = self.inner.trading.clone() {
            preview.session = Some(t.session().await);
            if let Some(price) = priced_at {
                preview.max = Some(
                    self.query(t.max_quantities(&r.account, r.symbol, price))
                        .await
                        .map_err(|e| e.to_string()),
                );
            }
        }
        Ok(preview)
    }

    async fn query<T>(
        &self,
        f: impl std::future::Future<Output = broker::Result<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout(), f).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(Error::BrokerTimeout(self.inner.settings.broker_timeout_ms)),
        }
    }
}

/// What the OMS can tell of an amendment before the broker: a change, of a price the order
/// has, not below what is filled. The exchange's phase rules are the broker's to apply.
fn check_amendment(order: &Order, change: Amendment) -> Result<(), Invalid> {
    let problem = match change {
        Amendment::Price(_) if !order.order_type.carries_price() => {
            format!("{} orders have no price to amend", order.order_type)
        }
        Amendment::Price(p) if Some(p) == order.price => {
            format!("the order's price is already {}", p.units())
        }
        Amendment::Quantity(q) if q == order.quantity => {
            format!("the order's quantity is already {}", q.units())
        }
        Amendment::Quantity(q) if q <= order.filled => format!(
            "quantity {} is not above the {} already filled",
            q.units(),
            order.filled.units()
        ),
        Amendment::Price(_) | Amendment::Quantity(_) => return Ok(()),
    };
    Err(Invalid::Field(problem))
}

/// The order as an amend or cancel names it to the broker.
fn order_key(o: &Order) -> broker::OrderKey {
    broker::OrderKey {
        account: o.account.clone(),
        order_id: o.broker_order_id.clone().unwrap_or_default(),
        symbol: o.symbol,
        side: o.side,
        order_type: o.order_type,
        price: o.price,
        quantity: o.quantity,
    }
}

/// Parses an amendment: exactly one of a new price and a new quantity.
pub fn amendment(price: Option<i64>, quantity: Option<u64>) -> Result<Amendment, Invalid> {
    match (price.filter(|p| *p != 0), quantity.filter(|q| *q != 0)) {
        (Some(p), None) => Price::new(p)
            .map(Amendment::Price)
            .map_err(|e| Invalid::Field(format!("price {p}: {e}"))),
        (None, Some(q)) => Ok(Amendment::Quantity(Quantity::new(q))),
        (Some(_), Some(_)) => Err(Invalid::Field(
            "amend price or quantity, not both (the exchange's rule): send two amendments"
                .to_owned(),
        )),
        (None, None) => Err(Invalid::Field(
            "an amendment needs a new price or a new quantity".to_owned(),
        )),
    }
}

/// The historical service's one-minute bars, which VWAP orders weigh their slices by.
#[derive(Clone)]
pub struct VolumeHistory {
    client: proto::historical::v1::historical_service_client::HistoricalServiceClient<
        common::grpc::Channel,
    >,
    days: u32,
    timeout: Duration,
}

impl VolumeHistory {
    /// A client of the historical service at `url` (connected on first use), profiling `days`
    /// trading days.
    pub fn new(
        peers: &common::grpc::Connector,
        url: &str,
        days: u32,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let channel = peers.channel("historical", url, timeout, timeout)?;
        Ok(Self {
            client: proto::historical::v1::historical_service_client::HistoricalServiceClient::new(
                channel,
            ),
            days,
            timeout,
        })
    }

    /// The volume profile of `symbol` over the trading days before `day`
    /// ([`crate::algo::volume_profile`]), with how many trading days it spans.
    async fn profile(
        &self,
        symbol: market::Symbol,
        day: time::Date,
        calendar: &market::TradingCalendar,
    ) -> Result<(Vec<u64>, u32), Error> {
        let mut from = day;
        let mut found = 0;
        let to = day.previous_day().unwrap_or(day);
        // Back `days` trading days (a year of holidays at most: the loop is bounded).
        for _ in 0..(self.days * 2 + 30) {
            if found == self.days {
                break;
            }
            from = from.previous_day().unwrap_or(from);
            if calendar.is_trading_day(from) {
                found += 1;
            }
        }
        let request = proto::historical::v1::GetBarsRequest {
            symbol: symbol.to_string(),
            resolution: "1m".to_owned(),
            from: from.to_string(),
            to: to.to_string(),
        };
        let answer =
            tokio::time::timeout(self.timeout, self.client.clone().get_bars(request)).await;
        let bars = match answer {
            Ok(Ok(r)) => r.into_inner().bars,
            Ok(Err(status)) => {
                return Err(Error::History(format!(
                    "the historical service answered {}: {}",
                    status.code(),
                    status.message()
                )));
            }
            Err(_) => {
                return Err(Error::History(format!(
                    "the historical service did not answer within {} ms",
                    self.timeout.as_millis()
                )));
            }
        };
        let profile = crate::algo::volume_profile(bars.iter().filter_map(|b| {
            let start = b.start.as_ref().and_then(common::bus::time_of)?;
            Some((start, b.volume))
        }));
        Ok((profile, found))
    }
}

/// The risk service's pre-trade check.
#[derive(Clone)]
pub struct RiskCheck {
    client: proto::risk::v1::risk_service_client::RiskServiceClient<common::grpc::Channel>,
    timeout: Duration,
}

impl RiskCheck {
    /// A client of the risk service at `url` (connected on first use).
    pub fn new(
        peers: &common::grpc::Connector,
        url: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let channel = peers.channel("risk", url, timeout, timeout)?;
        Ok(Self {
            client: proto::risk::v1::risk_service_client::RiskServiceClient::new(channel),
            timeout,
        })
    }

    /// `None` when the order passes; else why not (every broken rule, or why no verdict came).
    async fn check(&self, o: &Order) -> Option<String> {
        let request = proto::risk::v1::CheckOrderRequest {
            client_id: o.client_id.clone(),
            account: o.account.clone(),
            strategy: o.strategy.clone().unwrap_or_default(),
            symbol: o.symbol.to_string(),
            side: o.side.name().to_owned(),
            order_type: o.order_type.to_string(),
            price: o.price.map_or(0, Price::units),
            quantity: o.quantity.units(),
            dry_run: false,
        };
        let answer =
            tokio::time::timeout(self.timeout, self.client.clone().check_order(request)).await;
        match answer {
            Ok(Ok(r)) => {
                let r = r.into_inner();
                if r.accepted {
                    None
                } else {
                    Some(format!(
                        "risk: {}",
                        r.rejections
                            .iter()
                            .map(|x| format!("{}: {}", x.rule, x.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                }
            }
            Ok(Err(status)) => Some(format!(
                "risk check unavailable ({}): {}",
                status.code(),
                status.message()
            )),
            Err(_) => Some(format!(
                "risk check unavailable: no verdict within {} ms",
                self.timeout.as_millis()
            )),
        }
    }
}
