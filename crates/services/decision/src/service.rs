//! The use cases: follow the bus (signals, trades, the OMS's orders and fills), let every
//! enabled strategy decide on each signal, record the decision and send its order to the OMS
//! exactly once (the client id comes from the signal id: a redelivered signal finds its
//! decision, and the OMS answers a repeated client id with the order already placed).
//!
//! Positions and open buys per strategy are rebuilt from `oms.order.v1` and `oms.fill.v1` on
//! every start (a group of this instance reads what the bus keeps); signals are read under the
//! committed group `decision.signals`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use common::bus::SharedBus;
use common::bus::topics::{
    MARKET_TRADE, OMS_FILL, OMS_ORDER, PREDICTION_SIGNAL, TA_INDICATOR, TA_SIGNAL,
};
use common::error::{Classify, Kind};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::Db;
use market::{Side, Symbol};
use proto::decision::v1 as pb;
use proto::oms::v1::oms_service_client::OmsServiceClient;

use crate::domain::{Context, Positions, Signal, SignalFollower, Strategy, client_id};
use crate::metrics::Metrics;
use crate::store;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such strategy.
    #[error("no strategy {0:?}")]
    NotFound(String),
    /// Parameters that break a rule (every problem named).
    #[error("{0}")]
    Invalid(String),
    /// The caller may not see or steer this engine's account.
    #[error("{0}")]
    Forbidden(String),
    /// The OMS did not answer a query.
    #[error("the OMS: {0}")]
    Oms(String),
    /// No such decision.
    #[error("no decision {0:?}")]
    NoDecision(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::NotFound(_) | Error::NoDecision(_) => Kind::NotFound,
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::Forbidden(_) => Kind::PermissionDenied,
            Error::Oms(_) => Kind::Unavailable,
            Error::Store(e) => e.kind(),
        }
    }
}

struct Entry {
    strategy: SignalFollower,
    enabled: bool,
}

/// What of a strategy can be set while it runs: which timeframes it listens to, which symbols
/// it trades and how it sizes a buy.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Timeframes (`1m`, `5m`, `15m`, `30m`, `1h`, `1D`; empty: all).
    pub timeframes: Vec<String>,
    /// Tickers (empty: all).
    pub symbols: Vec<String>,
    /// How a buy is sized.
    pub sizing: crate::domain::Sizing,
}

impl Params {
    /// Every problem, named.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        for t in &self.timeframes {
            if !matches!(t.as_str(), "1m" | "5m" | "15m" | "30m" | "1h" | "1D") {
                problems.push(format!("timeframe {t:?}: one of 1m, 5m, 15m, 30m, 1h, 1D"));
            }
        }
        if self.symbols.len() > 2_000 {
            problems.push("at most 2000 symbols".to_owned());
        }
        for s in &self.symbols {
            if market::Symbol::parse(s).is_err() {
                problems.push(format!("symbol {s:?}"));
            }
        }
        if let Err(e) = self.sizing.check() {
            problems.push(e.to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn apply(&self, s: &mut SignalFollower) {
        s.timeframes.clone_from(&self.timeframes);
        s.symbols = self
            .symbols
            .iter()
            .filter_map(|x| market::Symbol::parse(x).ok())
            .collect();
        s.sizing = self.sizing.clone();
    }
}

/// Tries of one signal whose decisions are left without an outcome (about 6 s in all).
const SIGNAL_ATTEMPTS: u32 = 6;

/// A strategy's performance (VND).
#[derive(Debug, Clone)]
pub struct Performance {
    /// The strategy.
    pub strategy: String,
    /// The account it trades.
    pub account: String,
    /// Symbols held.
    pub positions: u64,
    /// Cost of what is held, with the buy fees.
    pub cost: i64,
    /// Realised after fees and the sale tax.
    pub realised: i64,
    /// At the last prices, after the fee and tax a sale would pay.
    pub unrealised: i64,
    /// Fees paid.
    pub fees: i64,
    /// Sale tax paid.
    pub tax: i64,
    /// Decisions whose order the OMS took.
    pub decisions_sent: u64,
    /// Decisions the OMS or risk refused.
    pub decisions_rejected: u64,
    /// Decisions without an answer yet (sent again on the signal's next delivery).
    pub decisions_failed: u64,
    /// Per symbol.
    pub holdings: Vec<proto::oms::v1::Holding>,
}

/// The TA values of one symbol and timeframe: (id, value).
type TaValues = Vec<(String, f64)>;

/// The decision engine: clone freely.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    strategies: RwLock<Vec<Entry>>,
    positions: Mutex<Positions>,
    last: RwLock<HashMap<Symbol, i64>>,
    /// The latest TA values (id, value) by symbol and timeframe, from `ta.indicator.v1`: what
    /// strategies read ([`Strategy::input`]) and the decision rule sets' `ind`.
    inputs: RwLock<HashMap<(Symbol, String), TaValues>>,
    /// The active rule sets of the rule service (target `decision`), live.
    rules: rules::Rules,
    db: Db,
    oms: Option<OmsServiceClient<common::grpc::Channel>>,
    /// The configured account; empty: asked from the OMS (and kept once known).
    account: RwLock<String>,
    timeout: Duration,
    clock: MarketClock,
    metrics: Metrics,
    max_list: u32,
}

impl Engine {
    /// An engine with `strategies` (and whether each is enabled), sending orders for
    /// `settings.account` to the OMS (its URL, called through the connector; none: decisions
    /// are recorded, not sent).
    pub fn new(
        (strategies, rules): (Vec<(SignalFollower, bool)>, rules::Rules),
        db: Db,
        oms: Option<(&common::grpc::Connector, &str)>,
        settings: &crate::settings::DecisionSettings,
        clock: MarketClock,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(settings.oms_timeout_ms);
        let oms = match oms {
            Some((peers, url)) => Some(OmsServiceClient::new(
                peers.channel("oms", url, timeout, timeout)?,
            )),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                rules,
                inputs: RwLock::default(),
                strategies: RwLock::new(
                    strategies
                        .into_iter()
                        .map(|(strategy, enabled)| Entry { strategy, enabled })
                        .collect(),
                ),
                positions: Mutex::new(Positions::default()),
                last: RwLock::default(),
                db,
                oms,
                account: RwLock::new(settings.account.clone()),
                timeout,
                clock,
                metrics,
                max_list: settings.max_list,
            }),
        })
    }

    /// Applies the switches stored through the API over the settings.
    pub async fn load(&self) -> Result<(), Error> {
        let switched = store::switched(&self.inner.db).await?;
        let params = store::params(&self.inner.db).await?;
        let mut s = self
            .inner
            .strategies
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for (id, enabled) in switched {
            if let Some(e) = s.iter_mut().find(|e| e.strategy.id == id) {
                e.enabled = enabled;
            }
        }
        for (id, json) in params {
            let parsed = serde_json::from_str::<Params>(&json)
                .map_err(|e| e.to_string())
                .and_then(|p| p.check().map(|()| p));
            match (parsed, s.iter_mut().find(|e| e.strategy.id == id)) {
                (Ok(p), Some(e)) => p.apply(&mut e.strategy),
                (Err(why), _) => {
                    tracing::warn!(strategy = %id, error = %why, "stored parameters skipped: the settings' apply");
                }
                (Ok(_), None) => {}
            }
        }
        Ok(())
    }

    /// Sets a strategy's timeframes, symbols and sizing (stored; over the settings).
    pub async fn set_params(&self, id: &str, params: Params) -> Result<pb::Strategy, Error> {
        params.check().map_err(Error::Invalid)?;
        self.known(id)?;
        let json = serde_json::to_string(&params).map_err(|e| Error::Invalid(e.to_string()))?;
        store::save_params(&self.inner.db, id, &json, self.inner.clock.now()).await?;
        self.change(id, |e| params.apply(&mut e.strategy))
    }

    /// Refuses an id no strategy has.
    fn known(&self, id: &str) -> Result<(), Error> {
        let known = self
            .inner
            .strategies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|e| e.strategy.id == id);
        if known {
            Ok(())
        } else {
            Err(Error::NotFound(id.to_owned()))
        }
    }

    /// Changes strategy `id` with `change`; answers it as listed.
    fn change(&self, id: &str, change: impl FnOnce(&mut Entry)) -> Result<pb::Strategy, Error> {
        if let Some(e) = self
            .inner
            .strategies
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .iter_mut()
            .find(|e| e.strategy.id == id)
        {
            change(e);
        }
        self.strategies()
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// Every strategy with its state.
    pub fn strategies(&self) -> Vec<pb::Strategy> {
        let positions = self
            .inner
            .positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner
            .strategies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|e| {
                let s = &e.strategy;
                pb::Strategy {
                    id: s.id.clone(),
                    kind: "signal".to_owned(),
                    enabled: e.enabled,
                    buy_on: s.buy_on.clone(),
                    sell_on: s.sell_on.clone(),
                    timeframes: s.timeframes.clone(),
                    quantity: s.sizing.quantity(None, s.lot, None),
                    symbols: s.symbols.iter().map(ToString::to_string).collect(),
                    sizing_json: serde_json::to_string(&s.sizing).unwrap_or_default(),
                    open_positions: positions.open_positions(&s.id),
                    open_buys: positions.open_buys(&s.id),
                }
            })
            .collect()
    }

    /// Switches a strategy on or off (stored).
    /// Refuses a caller who sees only some accounts (a trader) unless the account this engine
    /// trades is one of theirs: its strategies and decisions are that account's.
    pub async fn check_caller(
        &self,
        caller: Option<&common::auth::Principal>,
    ) -> Result<(), Error> {
        let Some(p) = caller.filter(|p| !p.sees_all_accounts()) else {
            return Ok(());
        };
        let account = match &self.inner.oms {
            Some(oms) => self.account(oms).await.map_err(Error::Oms)?,
            None => self
                .inner
                .account
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        };
        if p.may_access(&account) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "the strategies trade account {account:?}, not one of {}'s accounts",
                p.username
            )))
        }
    }

    /// Switches strategy `id` on or off (stored).
    pub async fn set_enabled(&self, id: &str, enabled: bool) -> Result<pb::Strategy, Error> {
        self.known(id)?;
        store::switch(&self.inner.db, id, enabled, self.inner.clock.now()).await?;
        self.change(id, |e| e.enabled = enabled)
    }

    /// A strategy's performance: what its fills hold and realised (from the OMS's portfolio of
    /// the account, attributed by strategy) and its decisions by outcome.
    pub async fn performance(&self, id: &str) -> Result<Performance, Error> {
        self.known(id)?;
        let oms = self
            .inner
            .oms
            .as_ref()
            .ok_or(Error::Oms("no OMS configured".to_owned()))?;
        let account = self.account(oms).await.map_err(Error::Oms)?;
        let portfolio = tokio::time::timeout(
            self.inner.timeout,
            oms.clone()
                .get_portfolio(proto::oms::v1::GetPortfolioRequest {
                    account: account.clone(),
                    strategy: id.to_owned(),
                }),
        )
        .await
        .map_err(|_| Error::Oms("no answer from the OMS".to_owned()))?
        .map_err(|e| Error::Oms(e.message().to_owned()))?
        .into_inner();
        let decisions = store::list(&self.inner.db, id, 10_000).await?;
        let count = |s: &str| decisions.iter().filter(|d| d.status == s).count() as u64;
        let h = &portfolio.holdings;
        Ok(Performance {
            strategy: id.to_owned(),
            account,
            positions: h.iter().filter(|x| x.quantity > 0).count() as u64,
            cost: h.iter().map(|x| x.cost).sum(),
            realised: h.iter().map(|x| x.realised).sum(),
            unrealised: h.iter().filter_map(|x| x.unrealised).sum(),
            fees: h.iter().map(|x| x.fees).sum(),
            tax: h.iter().map(|x| x.tax).sum(),
            decisions_sent: count("sent"),
            decisions_rejected: count("rejected"),
            decisions_failed: count("failed"),
            holdings: portfolio.holdings,
        })
    }

    /// Decisions newest first.
    pub async fn decisions(&self, strategy: &str, limit: u32) -> Result<Vec<pb::Decision>, Error> {
        let limit = if limit == 0 { 100 } else { limit }.min(self.inner.max_list);
        Ok(store::list(&self.inner.db, strategy, limit).await?)
    }

    /// The decision with this id.
    pub async fn decision(&self, id: &str) -> Result<pb::Decision, Error> {
        if id.is_empty() || id.len() > 200 {
            return Err(Error::Invalid(
                "decision id: 1 to 200 characters".to_owned(),
            ));
        }
        store::get(&self.inner.db, id)
            .await?
            .ok_or_else(|| Error::NoDecision(id.to_owned()))
    }

    /// Lets every enabled strategy decide on `signal`; records and sends what they decide.
    /// A signal seen before finds its decisions and sends only what had no answer. Answers
    /// whether every decision has an outcome (none is left `failed`) and no buy waits for its
    /// sizing input: otherwise the signal is worth deciding again.
    pub async fn on_signal(&self, signal: &Signal) -> Result<bool, Error> {
        // Decisions already made on this signal: a `failed` one is sent again as it was (its
        // order may exist at the OMS, which answers its client id with it); the others are done.
        let enabled: Vec<String> = self
            .inner
            .strategies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|e| e.enabled)
            .map(|e| e.strategy.id.clone())
            .collect();
        let mut decided = std::collections::HashSet::new();
        let mut todo = Vec::new();
        for strategy in &enabled {
            if let Some(d) = store::get(&self.inner.db, &client_id(strategy, &signal.id)).await? {
                decided.insert(strategy.clone());
                // Failed, or never answered (a crash while sending): sent again (the OMS
                // places a client id once).
                if d.status == "failed" || d.status == "sending" {
                    todo.push(d);
                } else {
                    self.inner
                        .metrics
                        .decisions
                        .with_label_values(&["repeated"])
                        .inc();
                }
            }
        }
        let mut waiting_input = false;
        let mut judged = Vec::new();
        let last = self
            .inner
            .last
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&signal.symbol)
            .copied();
        {
            let strategies = self
                .inner
                .strategies
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let positions = self
                .inner
                .positions
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for e in strategies
                .iter()
                .filter(|e| e.enabled && !decided.contains(&e.strategy.id))
            {
                let (position, pending_buy) = positions.of(&e.strategy.id, signal.symbol);
                let input = e.strategy.input().and_then(|id| {
                    self.inner
                        .inputs
                        .read()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&(signal.symbol, signal.timeframe.clone()))
                        .and_then(|values| values.iter().find(|(v, _)| v == id))
                        .map(|(_, v)| *v)
                });
                // A buy that cannot be sized until its input (an ATR on another topic) has
                // arrived: the signal is decided again, like a decision waiting for a price.
                waiting_input |= e.strategy.input().is_some()
                    && input.is_none()
                    && position == 0
                    && pending_buy == 0
                    && e.strategy.buys_on(signal);
                let ctx = Context {
                    position,
                    pending_buy,
                    last,
                    input,
                };
                if let Some(intent) = e.strategy.decide(signal, &ctx) {
                    let mut d = pb::Decision {
                        id: client_id(&e.strategy.id, &signal.id),
                        strategy: e.strategy.id.clone(),
                        symbol: signal.symbol.to_string(),
                        signal_id: signal.id.clone(),
                        side: intent.side.name().to_owned(),
                        quantity: intent.quantity,
                        price: last.unwrap_or(0),
                        reason: intent.reason,
                        // Until the OMS answers.
                        status: "sending".to_owned(),
                        order_id: String::new(),
                        detail: String::new(),
                        at: None,
                    };
                    if let Some(event) = self.judge(&mut d, signal, &ctx, e.strategy.lot) {
                        judged.push(event);
                    }
                    todo.push(d);
                }
            }
        }
        for event in &judged {
            store::evaluation(&self.inner.db, event).await?;
        }
        let mut settled = true;
        for mut d in todo {
            let now = self.inner.clock.now();
            // Recorded before it is sent: a crash in between leaves a `sending` decision that
            // is sent again (the OMS places a client id once).
            store::put(&self.inner.db, &d, now).await?;
            if d.status == "refused" {
                // A rule set refused it: recorded with why, never sent.
                self.inner
                    .metrics
                    .decisions
                    .with_label_values(&["refused"])
                    .inc();
                continue;
            }
            self.send(&mut d).await;
            self.inner
                .metrics
                .decisions
                .with_label_values(&[d.status.as_str()])
                .inc();
            store::put(&self.inner.db, &d, now).await?;
            settled &= d.status != "failed";
        }
        Ok(settled && !waiting_input)
    }

    /// Lets the active decision rule sets judge `d`: a refusal makes it `refused` with the
    /// findings as its detail; a `quantity_factor` they set scales a buy (whole lots of `lot`).
    /// The evaluation's record, when any set is active.
    fn judge(
        &self,
        d: &mut pb::Decision,
        signal: &Signal,
        ctx: &Context,
        lot: u64,
    ) -> Option<proto::rule::v1::RuleEvaluation> {
        let rules = &self.inner.rules;
        if !rules.any(rules::Target::Decision) {
            return None;
        }
        let now = self.inner.clock.now();
        let ind = self
            .inner
            .inputs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(signal.symbol, signal.timeframe.clone()))
            .map(|values| {
                values
                    .iter()
                    .map(|(id, v)| (id.clone().into(), rules::FieldValue::Double(*v)))
                    .collect()
            })
            .unwrap_or_default();
        let quantity = i64::try_from(d.quantity).unwrap_or(i64::MAX);
        let inputs = rules::Inputs::new(
            rules::Target::Decision,
            [
                (
                    "decision",
                    rules::fields([
                        ("strategy", d.strategy.as_str().into()),
                        ("symbol", d.symbol.as_str().into()),
                        ("side", d.side.as_str().into()),
                        ("quantity", quantity.into()),
                        ("price", d.price.into()),
                        ("value", d.price.saturating_mul(quantity).into()),
                        ("reason", d.reason.as_str().into()),
                    ]),
                ),
                (
                    "signal",
                    rules::fields([
                        ("name", signal.name.as_str().into()),
                        ("timeframe", signal.timeframe.as_str().into()),
                        ("direction", i64::from(signal.direction).into()),
                        ("value", signal.value.into()),
                    ]),
                ),
                (
                    "position",
                    rules::fields([
                        ("quantity", ctx.position.into()),
                        ("pending_buy", ctx.pending_buy.into()),
                    ]),
                ),
                ("ind", ind),
                ("now", rules::now_fields(now)),
            ],
        );
        let inputs = match inputs {
            Ok(i) => i,
            Err(e) => {
                tracing::error!(error = %e, "building the decision rule sets' inputs");
                d.status = "refused".to_owned();
                d.detail = format!("the rule sets could not be given the decision: {e}");
                return None;
            }
        };
        let outcome = rules.evaluate(&inputs);
        if !outcome.allowed() {
            d.status = "refused".to_owned();
            d.detail = outcome
                .rejections
                .iter()
                .map(|f| format!("rule {}/{}: {}", f.set, f.rule, f.message))
                .collect::<Vec<_>>()
                .join("; ");
        } else if let Some(factor) = outcome.number("quantity_factor")
            && d.side == "buy"
        {
            let lot = lot.max(1);
            let scaled = if factor.is_finite() && factor > 0.0 {
                ((d.quantity as f64 * factor) as u64) / lot * lot
            } else {
                0
            };
            if scaled == 0 {
                d.status = "refused".to_owned();
                d.detail = format!(
                    "rule sets set quantity_factor {factor}: {} shares leave no whole lot",
                    d.quantity
                );
            } else {
                d.reason = format!(
                    "{} (quantity × {factor} by the rule sets: {} → {scaled})",
                    d.reason, d.quantity
                );
                d.quantity = scaled;
            }
        }
        Some(outcome.event(("decision", &d.id, &d.strategy), &inputs, now))
    }

    async fn send(&self, d: &mut pb::Decision) {
        let Some(oms) = &self.inner.oms else {
            d.status = "rejected".to_owned();
            d.detail = "no OMS configured".to_owned();
            return;
        };
        let account = match self.account(oms).await {
            Ok(a) => a,
            Err(why) => {
                d.status = "failed".to_owned();
                d.detail = why;
                return;
            }
        };
        if d.price <= 0 {
            // The last trade may be a moment behind the signal (another topic).
            let last = Symbol::parse(&d.symbol).ok().and_then(|s| {
                self.inner
                    .last
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&s)
                    .copied()
            });
            match last {
                Some(p) => d.price = p,
                None => {
                    d.status = "failed".to_owned();
                    d.detail = "no trade of the symbol seen yet: no price to place at".to_owned();
                    return;
                }
            }
        }
        let request = proto::oms::v1::PlaceOrderRequest {
            client_id: d.id.clone(),
            account,
            symbol: d.symbol.clone(),
            side: d.side.clone(),
            order_type: "LO".to_owned(),
            price: d.price,
            quantity: d.quantity,
            strategy: d.strategy.clone(),
        };
        match tokio::time::timeout(self.inner.timeout, oms.clone().place_order(request)).await {
            Ok(Ok(order)) => {
                let o = order.into_inner();
                d.order_id = o.id;
                if o.status == "rejected" {
                    d.status = "rejected".to_owned();
                    d.detail = o.reject_reason;
                } else {
                    d.status = "sent".to_owned();
                    d.detail = format!("order {} ({})", d.order_id, o.status);
                }
            }
            Ok(Err(status))
                if matches!(
                    status.code(),
                    tonic::Code::InvalidArgument
                        | tonic::Code::PermissionDenied
                        | tonic::Code::FailedPrecondition
                        | tonic::Code::AlreadyExists
                ) =>
            {
                d.status = "rejected".to_owned();
                d.detail = format!("OMS: {}", status.message());
            }
            Ok(Err(status)) => {
                d.status = "failed".to_owned();
                d.detail = format!("OMS unavailable ({}): {}", status.code(), status.message());
            }
            Err(_) => {
                d.status = "failed".to_owned();
                d.detail = format!("no answer from the OMS within {:?}", self.inner.timeout);
            }
        }
    }

    /// The account to trade: the configured one, else the OMS's first cash account.
    async fn account(
        &self,
        oms: &OmsServiceClient<common::grpc::Channel>,
    ) -> Result<String, String> {
        let known = self
            .inner
            .account
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if !known.is_empty() {
            return Ok(known);
        }
        let status = tokio::time::timeout(
            self.inner.timeout,
            oms.clone().get_status(proto::oms::v1::GetStatusRequest {}),
        )
        .await
        .map_err(|_| "no answer from the OMS about its accounts".to_owned())?
        .map_err(|e| format!("the OMS's accounts: {}", e.message()))?
        .into_inner();
        let account = status
            .accounts
            .iter()
            .find(|a| a.ends_with('1'))
            .or(status.accounts.first())
            .cloned()
            .ok_or_else(|| "the OMS trades no account".to_owned())?;
        account.clone_into(
            &mut self
                .inner
                .account
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        );
        Ok(account)
    }

    /// Reads the signals (technical ones and the prediction service's) under the committed
    /// group until `token` is cancelled.
    pub async fn follow_signals(
        self,
        bus: SharedBus,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut sub = bus
            .subscribe(
                "decision.signals",
                &[TA_SIGNAL.static_name(), PREDICTION_SIGNAL.static_name()],
            )
            .await
            .map_err(|e| anyhow::anyhow!("subscribe to signals: {}", common::error::chain(&e)))?;
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = sub.poll(Duration::from_millis(500)) => p,
            };
            let d = match polled {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %common::error::chain(&e), "signal poll failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            match signal_of(&d.topic, &d.envelope) {
                Ok(signal) => {
                    // Decisions without an outcome (the OMS down, no price yet, the store) are
                    // tried again, in order, a few times before the stream moves on (they stay
                    // listed as `failed`).
                    for attempt in 1..=SIGNAL_ATTEMPTS {
                        match self.on_signal(&signal).await {
                            Ok(true) => break,
                            Ok(false) => {}
                            Err(e) => tracing::warn!("signal {} not decided: {e}", signal.id),
                        }
                        if attempt < SIGNAL_ATTEMPTS {
                            tokio::select! {
                                () = token.cancelled() => return Ok(()),
                                () = tokio::time::sleep(Duration::from_millis(100 << attempt)) => {}
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(offset = d.offset, topic = %d.topic, "ignoring a signal: {e}")
                }
            }
            if let Err(e) = sub.commit(&d).await {
                tracing::warn!(error = %common::error::chain(&e), "commit failed");
            }
        }
    }

    /// Rebuilds positions and open buys from the OMS's events and follows last prices, until
    /// `token` is cancelled (a group of this instance, never committed).
    pub async fn follow_state(
        self,
        bus: SharedBus,
        group: String,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        // The indicators: strategies' inputs and the decision rule sets' `ind` (a set may be
        // activated at any time, so they are always followed).
        let topics = vec![
            OMS_ORDER.static_name(),
            OMS_FILL.static_name(),
            MARKET_TRADE.static_name(),
            TA_INDICATOR.static_name(),
        ];
        let mut sub = bus
            .subscribe(&group, &topics)
            .await
            .map_err(|e| anyhow::anyhow!("subscribe: {}", common::error::chain(&e)))?;
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = sub.poll(Duration::from_millis(500)) => p,
            };
            match polled {
                Ok(Some(d)) => self.apply_state(&d.topic, &d.envelope),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %common::error::chain(&e), "state poll failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    fn apply_state(&self, topic: &str, envelope: &common::bus::Envelope) {
        if topic == TA_INDICATOR.name {
            if let Ok(snap) = envelope.decode::<proto::ta::v1::IndicatorSnapshot>()
                && let Ok(symbol) = Symbol::parse(&snap.symbol)
            {
                let values = snap
                    .values
                    .iter()
                    .take(usize::try_from(rules::check::MAX_IND).unwrap_or(64))
                    .map(|v| (v.id.clone(), v.value))
                    .collect();
                self.inner
                    .inputs
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert((symbol, snap.timeframe.clone()), values);
            }
            return;
        }
        if topic == MARKET_TRADE.name {
            if let Ok(t) = envelope.decode::<proto::market::v1::Trade>()
                && let Ok(symbol) = Symbol::parse(&t.symbol)
            {
                self.inner
                    .last
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(symbol, t.price);
            }
            return;
        }
        let mut positions = self
            .inner
            .positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if topic == OMS_FILL.name {
            if let Ok(f) = envelope.decode::<proto::oms::v1::Fill>()
                && !f.strategy.is_empty()
                && let (Ok(symbol), Some(side)) = (Symbol::parse(&f.symbol), Side::parse(&f.side))
            {
                positions.filled(&f.strategy, symbol, side, f.quantity);
                if side == Side::Buy {
                    positions.pending(&f.strategy, symbol, -i64::try_from(f.quantity).unwrap_or(0));
                }
            }
        } else if topic == OMS_ORDER.name
            && let Ok(ev) = envelope.decode::<proto::oms::v1::OrderEvent>()
            && let Some(o) = ev.order
            && !o.strategy.is_empty()
            && o.side == "buy"
            && let Ok(symbol) = Symbol::parse(&o.symbol)
        {
            let q = i64::try_from(o.quantity).unwrap_or(0);
            if ev.kind == "created" {
                positions.pending(&o.strategy, symbol, q);
            } else if ev.from_status != ev.to_status
                && matches!(
                    o.status.as_str(),
                    "filled" | "cancelled" | "rejected" | "expired"
                )
            {
                let left = q - i64::try_from(o.filled).unwrap_or(0);
                positions.pending(&o.strategy, symbol, -left.max(0));
            }
        }
    }
}

/// A signal as strategies read it, from a technical signal (`ta.signal.v1`) or a prediction
/// (`prediction.signal.v1`: a daily signal named `prediction_long`, `prediction_exit` or
/// `prediction_hold`, its value the predicted return).
fn signal_of(topic: &str, envelope: &common::bus::Envelope) -> Result<Signal, String> {
    if topic == PREDICTION_SIGNAL.name {
        let p = envelope
            .decode::<proto::prediction::v1::Signal>()
            .map_err(|e| format!("malformed prediction: {e}"))?;
        let symbol = Symbol::parse(&p.symbol).map_err(|e| format!("unknown symbol: {e}"))?;
        return Ok(Signal {
            id: p.id,
            symbol,
            timeframe: "1D".to_owned(),
            name: p.name,
            direction: p.direction,
            value: p.score,
            detail: p.detail,
        });
    }
    let s = envelope
        .decode::<proto::ta::v1::Signal>()
        .map_err(|e| format!("malformed signal: {e}"))?;
    let symbol = Symbol::parse(&s.symbol).map_err(|e| format!("unknown symbol: {e}"))?;
    Ok(Signal {
        id: s.id,
        symbol,
        timeframe: s.timeframe,
        name: s.name,
        direction: s.direction,
        value: s.value,
        detail: s.detail,
    })
}
