//! The use cases: check an order; set limits and kill switches (stored, audited, published);
//! follow the bus for the state the checks need.
//!
//! State is rebuilt from the bus on every start: securities from `masterdata.security.v1`,
//! last prices from `market.trade.v1`, open orders from `oms.order.v1` and fills from
//! `oms.fill.v1`, read from the start of what the bus keeps under a group of this instance
//! (never committed). Checks are refused until that first catch-up is done, so a restarted
//! risk service never accepts an order against counters it has not rebuilt. Caught up means:
//! every event the bus held when it subscribed is read (each partition's offsets then, see
//! `EventBus::offsets`) — or the bus went quiet for a poll, or `catch_up_timeout` passed (then
//! with a warning). A steady feed never goes quiet, so the offsets are what ends a catch-up
//! under load.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::bus::SharedBus;
use common::bus::topics::{
    MARKET_INDEX, MARKET_STATUS, MARKET_TRADE, MASTERDATA_SECURITY, OMS_ACCOUNT, OMS_FILL,
    OMS_ORDER,
};
use common::error::{Classify, Kind};
use common::settings::MarketClock;
use common::shutdown::CancellationToken;
use common::store::Db;
use market::validate::Security;
use market::{
    Exchange, InstrumentKind, Price, PriceLimits, Quantity, SecurityStatus, Side, Symbol,
};
use proto::market::v1 as market_pb;
use proto::oms::v1 as oms_pb;

use crate::domain::monitor::Monitor;
use crate::domain::{
    AccountSnapshot, Check, Engine, Facts, FillEvent, Limits, Rejection, Scope, SecurityInfo,
    Verdict,
};
use crate::metrics::Metrics;
use crate::store;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed request.
    #[error("{0}")]
    Invalid(String),
    /// The state the checks need is not rebuilt yet.
    #[error("not checking yet: reading the orders, fills and securities it needs from the bus")]
    CatchingUp,
    /// The store.
    #[error(transparent)]
    Store(#[from] common::store::Error),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::CatchingUp => Kind::Unavailable,
            Error::Store(e) => e.kind(),
        }
    }
}

/// The risk service's state: clone freely.
#[derive(Clone)]
pub struct Risk {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Mutex<Engine>,
    /// The active rule sets of the rule service (target `order`), live.
    rules: rules::Rules,
    db: Db,
    clock: MarketClock,
    metrics: Metrics,
    caught_up: AtomicBool,
    max_text: usize,
}

/// The rule sets' rejections of `c` (target `order`), keeping the inputs and outcome in
/// `judged` for the evaluation's record. No active set: nothing, at no cost.
fn judge(
    rules: &rules::Rules,
    c: &Check,
    f: &Facts,
    now: time::OffsetDateTime,
    judged: &mut Option<(rules::Inputs, rules::Outcome)>,
) -> Vec<Rejection> {
    if !rules.any(rules::Target::Order) {
        return Vec::new();
    }
    let inputs = match order_inputs(c, f, now) {
        Ok(i) => i,
        Err(e) => {
            // A bug here, not the order's fault: refuse (fail closed) and say so.
            tracing::error!(error = %e, "building the rule sets' inputs");
            return vec![Rejection {
                rule: "rule_set",
                message: format!("the rule sets could not be given the order: {e}"),
            }];
        }
    };
    let outcome = rules.evaluate(&inputs);
    let out = outcome
        .rejections
        .iter()
        .map(|r| Rejection {
            rule: "rule_set",
            message: format!("{}/{}: {}", r.set, r.rule, r.message),
        })
        .collect();
    *judged = Some((inputs, outcome));
    out
}

/// The `order` target's inputs of an order and what the engine knows around it.
pub fn order_inputs(
    c: &Check,
    f: &Facts,
    now: time::OffsetDateTime,
) -> Result<rules::Inputs, rules::inputs::InputError> {
    use market::InstrumentKind;
    use rules::fields;
    let s = f.security;
    let limits = s.and_then(|s| s.limits);
    let band = |p: Option<market::Price>| p.map_or(0, market::Price::units);
    let kind = s.map_or("", |s| match s.kind {
        InstrumentKind::Stock => "stock",
        InstrumentKind::FundCertificate => "fund",
        InstrumentKind::Etf => "etf",
        InstrumentKind::CoveredWarrant => "cw",
        InstrumentKind::IndexFuture => "index_future",
        InstrumentKind::Bond => "bond",
    });
    let reference = band(limits.map(|l| l.reference));
    let change_pct = match f.last {
        Some(last) if reference > 0 => (last - reference) as f64 * 100.0 / reference as f64,
        _ => 0.0,
    };
    rules::Inputs::new(
        rules::Target::Order,
        [
            (
                "order",
                fields([
                    ("id", c.client_id.as_str().into()),
                    ("account", c.account.as_str().into()),
                    ("strategy", c.strategy.as_deref().unwrap_or("").into()),
                    ("symbol", c.symbol.as_str().into()),
                    ("side", c.side.name().into()),
                    ("type", c.order_type.code().into()),
                    ("price", f.price.into()),
                    ("quantity", c.quantity.units().into()),
                    ("value", f.value.into()),
                ]),
            ),
            (
                "security",
                fields([
                    ("symbol", c.symbol.as_str().into()),
                    ("exchange", s.map_or("", |s| s.exchange.ssi_code()).into()),
                    ("kind", kind.into()),
                    ("status", s.map_or("", |s| s.status.name()).into()),
                    ("reference", reference.into()),
                    ("ceiling", band(limits.map(|l| l.ceiling)).into()),
                    ("floor", band(limits.map(|l| l.floor)).into()),
                ]),
            ),
            (
                "account",
                fields([
                    ("id", c.account.as_str().into()),
                    ("exposure", f.exposure.into()),
                    ("symbol_exposure", f.symbol_exposure.into()),
                    ("position", f.position.into()),
                    ("open_orders", f.open_orders.into()),
                    ("realised_today", f.realised_today.into()),
                    ("pnl_today", f.pnl_today.into()),
                    ("drawdown", f.drawdown.into()),
                ]),
            ),
            (
                "market",
                fields([
                    ("last", f.last.unwrap_or(0).into()),
                    ("change_pct", change_pct.into()),
                ]),
            ),
            ("now", rules::now_fields(now)),
        ],
    )
}

/// Reads `buy`/`sell`.
pub fn parse_side(s: &str) -> Result<Side, String> {
    Side::parse(s).ok_or_else(|| format!("side {s:?}: buy or sell"))
}

impl Risk {
    /// A risk service over `engine`.
    pub fn new(
        (engine, rules): (Engine, rules::Rules),
        db: Db,
        clock: MarketClock,
        metrics: Metrics,
        max_text: usize,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                engine: Mutex::new(engine),
                rules,
                db,
                clock,
                metrics,
                caught_up: AtomicBool::new(false),
                max_text,
            }),
        }
    }

    fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.inner
            .engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the first catch-up is done.
    pub fn caught_up(&self) -> bool {
        self.inner.caught_up.load(Ordering::Acquire)
    }

    /// Reads a check request's fields.
    #[expect(clippy::too_many_arguments, reason = "the fields of one request")]
    pub fn parse_check(
        &self,
        client_id: &str,
        account: &str,
        strategy: &str,
        symbol: &str,
        side: &str,
        order_type: &str,
        price: i64,
        quantity: u64,
    ) -> Result<Check, Error> {
        let max = self.inner.max_text;
        for (name, v) in [
            ("client_id", client_id),
            ("account", account),
            ("strategy", strategy),
        ] {
            if v.len() > max {
                return Err(Error::Invalid(format!("{name} is longer than {max}")));
            }
        }
        if client_id.is_empty() || account.is_empty() {
            return Err(Error::Invalid(
                "client_id and account are required".to_owned(),
            ));
        }
        let symbol = Symbol::parse(symbol.trim())
            .map_err(|e| Error::Invalid(format!("symbol {symbol:?}: {e}")))?;
        let side = parse_side(side).map_err(Error::Invalid)?;
        let order_type = market::OrderType::from_code(order_type)
            .ok_or_else(|| Error::Invalid(format!("order_type {order_type:?}")))?;
        let price = match price {
            0 => None,
            p => Some(Price::new(p).map_err(|e| Error::Invalid(format!("price {p}: {e}")))?),
        };
        if quantity == 0 {
            return Err(Error::Invalid("quantity must be positive".to_owned()));
        }
        Ok(Check {
            client_id: client_id.to_owned(),
            account: account.to_owned(),
            strategy: (!strategy.is_empty()).then(|| strategy.to_owned()),
            symbol,
            side,
            order_type,
            price,
            quantity: Quantity::new(quantity),
        })
    }

    /// Checks an order. A rejection is audited and published.
    pub async fn check(&self, c: &Check) -> Result<Verdict, Error> {
        if !self.caught_up() {
            self.inner
                .metrics
                .checks
                .with_label_values(&["unavailable"])
                .inc();
            return Err(Error::CatchingUp);
        }
        let started = std::time::Instant::now();
        let now = self.inner.clock.now();
        let mut judged = None;
        let verdict = self.engine().check_with(c, now, &mut |facts| {
            judge(&self.inner.rules, c, facts, now, &mut judged)
        });
        self.inner
            .metrics
            .check_seconds
            .observe(started.elapsed().as_secs_f64());
        if verdict.accepted() {
            self.inner
                .metrics
                .checks
                .with_label_values(&["accepted"])
                .inc();
        } else {
            self.inner
                .metrics
                .checks
                .with_label_values(&["rejected"])
                .inc();
            for r in &verdict.rejections {
                self.inner
                    .metrics
                    .rejections
                    .with_label_values(&[r.rule])
                    .inc();
            }
            let detail = format!(
                "{} {} {} {} ({}): {}",
                c.client_id,
                c.side.name(),
                c.quantity.units(),
                c.symbol,
                c.account,
                verdict
                    .rejections
                    .iter()
                    .map(|r| format!("{}: {}", r.rule, r.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            store::audit(
                &self.inner.db,
                "oms",
                "order_rejected",
                &Scope::Account(c.account.clone()),
                &detail,
                self.inner.clock.now(),
            )
            .await?;
        }
        if let Some((inputs, outcome)) = judged {
            let event = outcome.event(("risk", &c.client_id, &c.account), &inputs, now);
            if verdict.accepted() {
                // A record for what-ifs only: written beside the order path, not on it.
                let db = self.inner.db.clone();
                tokio::spawn(async move {
                    if let Err(e) = store::evaluation(&db, &event).await {
                        tracing::warn!(error = %common::error::chain(&e), "recording a rule evaluation");
                    }
                });
            } else {
                store::evaluation(&self.inner.db, &event).await?;
            }
        }
        Ok(verdict)
    }

    /// What [`Risk::check`] would answer now, without reserving, auditing or remembering
    /// anything (an order ticket asks this as the trader types).
    pub fn preview(&self, c: &Check) -> Result<Verdict, Error> {
        if !self.caught_up() {
            return Err(Error::CatchingUp);
        }
        self.inner
            .metrics
            .checks
            .with_label_values(&["preview"])
            .inc();
        let now = self.inner.clock.now();
        let rules = &self.inner.rules;
        Ok(self
            .engine()
            .preview(c, now, &mut |facts| judge(rules, c, facts, now, &mut None)))
    }

    /// The limits that apply to a scope.
    pub fn limits(&self, scope: &Scope) -> Limits {
        self.engine().limits(scope)
    }

    /// Sets (or clears) a scope's own limits, stored and audited.
    pub async fn set_limits(
        &self,
        scope: Scope,
        limits: Option<Limits>,
        actor: &str,
    ) -> Result<Limits, Error> {
        if let Some(l) = &limits {
            l.check().map_err(Error::Invalid)?;
        }
        store::set_limits(
            &self.inner.db,
            &scope,
            limits.as_ref(),
            actor,
            self.inner.clock.now(),
        )
        .await?;
        let mut engine = self.engine();
        engine.set_limits(scope.clone(), limits);
        Ok(engine.limits(&scope))
    }

    /// Engages (with a reason) or releases a kill switch, stored and audited.
    pub async fn set_kill(
        &self,
        scope: Scope,
        engaged: bool,
        reason: &str,
        actor: &str,
    ) -> Result<(), Error> {
        if engaged && reason.trim().is_empty() {
            return Err(Error::Invalid(
                "engaging a kill switch needs a reason".to_owned(),
            ));
        }
        if reason.len() > 500 {
            return Err(Error::Invalid("reason is longer than 500".to_owned()));
        }
        let reason = engaged.then(|| reason.trim().to_owned());
        store::set_kill(
            &self.inner.db,
            &scope,
            reason.as_deref(),
            actor,
            self.inner.clock.now(),
        )
        .await?;
        self.inner
            .metrics
            .kill_switches
            .with_label_values(&[if engaged { "engaged" } else { "released" }])
            .inc();
        self.engine().set_kill(&scope, reason);
        self.count_kills();
        Ok(())
    }

    /// Sets `risk_kill_switches_engaged` from the engine.
    fn count_kills(&self) {
        let kills = self.engine().kills();
        for (name, of_kind) in [
            (
                "global",
                kills
                    .iter()
                    .filter(|(s, _)| matches!(s, Scope::Global))
                    .count(),
            ),
            (
                "account",
                kills
                    .iter()
                    .filter(|(s, _)| matches!(s, Scope::Account(_)))
                    .count(),
            ),
            (
                "strategy",
                kills
                    .iter()
                    .filter(|(s, _)| matches!(s, Scope::Strategy(_)))
                    .count(),
            ),
        ] {
            self.inner
                .metrics
                .kills_engaged
                .with_label_values(&[name])
                .set(i64::try_from(of_kind).unwrap_or(i64::MAX));
        }
    }

    /// Every engaged kill switch.
    pub fn kills(&self) -> Vec<(Scope, String)> {
        self.engine().kills()
    }

    /// Exposure, open orders and realised P&L today of an account.
    pub fn exposure(&self, account: &str) -> (i64, u32, i64) {
        self.engine().exposure(account)
    }

    /// Loads stored limits and kill switches into the engine.
    pub async fn load(&self) -> Result<(), Error> {
        let limits = store::all_limits(&self.inner.db).await?;
        let kills = store::all_kills(&self.inner.db).await?;
        let mut engine = self.engine();
        for (scope, l) in limits {
            engine.set_limits(scope, Some(l));
        }
        for (scope, reason) in kills {
            engine.set_kill(&scope, Some(reason));
        }
        drop(engine);
        self.count_kills();
        Ok(())
    }

    /// Follows the bus until `token` is cancelled (see the module documentation).
    pub async fn follow(
        self,
        bus: SharedBus,
        group: String,
        catch_up_timeout: Duration,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let topics = [
            MASTERDATA_SECURITY.static_name(),
            MARKET_TRADE.static_name(),
            MARKET_INDEX.static_name(),
            MARKET_STATUS.static_name(),
            OMS_ORDER.static_name(),
            OMS_FILL.static_name(),
            OMS_ACCOUNT.static_name(),
        ];
        let mut sub = bus
            .subscribe(&group, &topics)
            .await
            .map_err(|e| anyhow::anyhow!("subscribe: {}", common::error::chain(&e)))?;
        let deadline = tokio::time::Instant::now() + catch_up_timeout;
        let mut seen_fills: HashSet<(String, String)> = HashSet::new();
        // The last offset of each partition that held events when we subscribed; `None` when
        // a topic's offsets could not be read (then only a quiet poll or the deadline ends the
        // catch-up).
        let mut behind = held_at_start(&bus, &topics).await;
        if behind.as_ref().is_some_and(Vec::is_empty) {
            tracing::info!("the bus held nothing: checking orders");
            self.inner.caught_up.store(true, Ordering::Release);
        }
        loop {
            let polled = tokio::select! {
                () = token.cancelled() => return Ok(()),
                p = sub.poll(Duration::from_millis(200)) => p,
            };
            match polled {
                Ok(Some(d)) => {
                    if let Err(e) = self.apply(&d.topic, &d.envelope, &mut seen_fills) {
                        self.inner
                            .metrics
                            .events
                            .with_label_values(&["malformed"])
                            .inc();
                        tracing::warn!(topic = %d.topic, offset = d.offset, "ignoring an event: {e}");
                    }
                    if let Some(left) = behind.as_mut().filter(|_| !self.caught_up()) {
                        left.retain(|(t, p, last)| {
                            !(*t == d.topic && *p == d.partition && d.offset >= *last)
                        });
                        if left.is_empty() {
                            tracing::info!(
                                securities = self.engine().securities(),
                                "read everything the bus held at the start: checking orders"
                            );
                            self.inner.caught_up.store(true, Ordering::Release);
                        }
                    }
                    if !self.caught_up() && tokio::time::Instant::now() > deadline {
                        tracing::warn!(
                            "still catching up after {catch_up_timeout:?}: checking with what is read"
                        );
                        self.inner.caught_up.store(true, Ordering::Release);
                    }
                }
                Ok(None) => {
                    if !self.caught_up() {
                        tracing::info!(
                            securities = self.engine().securities(),
                            "caught up with the bus: checking orders"
                        );
                        self.inner.caught_up.store(true, Ordering::Release);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %common::error::chain(&e), "bus poll failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// An event's time, else now by the market clock.
    fn time_of(&self, t: Option<&prost_types::Timestamp>) -> time::OffsetDateTime {
        t.and_then(common::bus::time_of)
            .unwrap_or_else(|| self.inner.clock.now())
    }

    /// Everything the monitor watches now: books with P&L, drawdown and margin, breakers,
    /// halts.
    pub fn monitor(&self) -> Monitor {
        self.engine().monitor(self.inner.clock.now())
    }

    /// Every `interval` until `token` is cancelled (once caught up with the bus): publishes
    /// each alert of the engine once (`store::alert`; a failed write is retried on the next
    /// pass) and sets the monitor's gauges.
    pub async fn watch(
        self,
        interval: Duration,
        warn_percent: u32,
        token: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut published: HashSet<String> = HashSet::new();
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                _ = ticker.tick() => {}
            }
            if !self.caught_up() {
                continue;
            }
            let now = self.inner.clock.now();
            let (alerts, monitor) = {
                let engine = self.engine();
                (engine.alerts(now, warn_percent), engine.monitor(now))
            };
            self.set_gauges(&monitor);
            if published.len() > 100_000 {
                published.clear();
            }
            for alert in alerts {
                if published.contains(&alert.id) {
                    continue;
                }
                match store::alert(&self.inner.db, &alert, now).await {
                    Ok(fresh) => {
                        if fresh {
                            self.inner
                                .metrics
                                .alerts
                                .with_label_values(&[alert.kind])
                                .inc();
                            tracing::warn!(kind = alert.kind, scope = ?alert.scope, "{}", alert.detail);
                        }
                        published.insert(alert.id);
                    }
                    Err(e) => {
                        tracing::warn!(error = %common::error::chain(&e), "publishing an alert failed: retrying on the next pass");
                        break;
                    }
                }
            }
        }
    }

    fn set_gauges(&self, monitor: &Monitor) {
        let m = &self.inner.metrics;
        for b in &monitor.books {
            let labels = [b.scope.as_str(), b.key.as_str()];
            m.pnl_today.with_label_values(&labels).set(b.pnl_today);
            m.drawdown.with_label_values(&labels).set(b.drawdown);
            m.exposure.with_label_values(&labels).set(b.exposure);
            m.margin_used.with_label_values(&labels).set(b.margin_used);
        }
        let active = monitor.breakers.iter().filter(|b| b.active).count()
            + usize::from(monitor.market_breaker.as_ref().is_some_and(|b| b.active));
        m.breakers_active
            .set(i64::try_from(active).unwrap_or(i64::MAX));
        m.halted
            .set(i64::try_from(monitor.halted.len()).unwrap_or(i64::MAX));
    }

    /// The check an OMS order stands for.
    fn check_of(&self, o: &oms_pb::Order) -> Result<Check, Error> {
        self.parse_check(
            &o.client_id,
            &o.account,
            &o.strategy,
            &o.symbol,
            &o.side,
            &o.order_type,
            o.price,
            o.quantity,
        )
    }

    fn apply(
        &self,
        topic: &str,
        envelope: &common::bus::Envelope,
        seen_fills: &mut HashSet<(String, String)>,
    ) -> Result<(), String> {
        let e = |e: common::bus::Error| e.to_string();
        if topic == MASTERDATA_SECURITY.name {
            let s = envelope.decode::<market_pb::Security>().map_err(e)?;
            let info = security_info(&s)?;
            self.engine().set_security(info);
            self.inner
                .metrics
                .events
                .with_label_values(&["security"])
                .inc();
        } else if topic == MARKET_TRADE.name {
            let t = envelope.decode::<market_pb::Trade>().map_err(e)?;
            if let (Ok(symbol), Ok(price)) = (Symbol::parse(&t.symbol), Price::new(t.price)) {
                let at = self.time_of(t.exchange_time.as_ref().or(t.received_at.as_ref()));
                self.engine().trade(symbol, price, at);
            }
        } else if topic == MARKET_INDEX.name {
            let t = envelope.decode::<market_pb::IndexTick>().map_err(e)?;
            let at = self.time_of(t.received_at.as_ref());
            self.engine().index_tick(&t.index, t.value, at);
        } else if topic == MARKET_STATUS.name {
            let s = envelope.decode::<market_pb::SecurityStatus>().map_err(e)?;
            // Board-wide flags (no symbol) are the sessions, which the exchange rules know.
            if let Ok(symbol) = Symbol::parse(&s.symbol) {
                let at = self.time_of(s.received_at.as_ref());
                self.engine().status(symbol, &s.status, at);
                self.inner
                    .metrics
                    .events
                    .with_label_values(&["status"])
                    .inc();
            }
        } else if topic == OMS_ORDER.name {
            let ev = envelope.decode::<oms_pb::OrderEvent>().map_err(e)?;
            let order = ev.order.ok_or("an order event without its order")?;
            if ev.kind == "created" {
                match self.check_of(&order) {
                    // At the order's own time: what it counts in (the order rate's minute, the
                    // orders a broker snapshot cannot have seen) is where it was placed.
                    Ok(c) => self.engine().adopt(&c, self.time_of(ev.at.as_ref())),
                    Err(e) => return Err(e.to_string()),
                }
            }
            if matches!(
                order.status.as_str(),
                "filled" | "cancelled" | "rejected" | "expired"
            ) {
                self.engine().order_ended(&order.client_id);
                self.inner
                    .metrics
                    .events
                    .with_label_values(&["order_ended"])
                    .inc();
            }
        } else if topic == OMS_FILL.name {
            let f = envelope.decode::<oms_pb::Fill>().map_err(e)?;
            if !seen_fills.insert((f.order_id.clone(), f.id.clone())) {
                self.inner
                    .metrics
                    .events
                    .with_label_values(&["duplicate_fill"])
                    .inc();
                return Ok(());
            }
            let symbol = Symbol::parse(&f.symbol).map_err(|e| e.to_string())?;
            let side = parse_side(&f.side)?;
            let price = Price::new(f.price).map_err(|e| e.to_string())?;
            let at = self.time_of(f.time.as_ref());
            self.engine().filled(&FillEvent {
                client_id: &f.client_id,
                account: &f.account,
                strategy: (!f.strategy.is_empty()).then_some(f.strategy.as_str()),
                symbol,
                side,
                price,
                quantity: Quantity::new(f.quantity),
                at,
            });
            self.inner.metrics.events.with_label_values(&["fill"]).inc();
        } else if topic == OMS_ACCOUNT.name {
            let a = envelope.decode::<oms_pb::AccountSnapshot>().map_err(e)?;
            let mut sellable = Vec::with_capacity(a.positions.len());
            for p in &a.positions {
                let symbol = Symbol::parse(&p.symbol).map_err(|e| format!("{}: {e}", p.symbol))?;
                sellable.push((symbol, i64::try_from(p.sellable).unwrap_or(i64::MAX)));
            }
            let at = self.time_of(a.at.as_ref());
            self.engine().account_snapshot(AccountSnapshot {
                account: a.account,
                at,
                buying_power: a.buying_power,
                sellable,
            });
            self.inner
                .metrics
                .events
                .with_label_values(&["account"])
                .inc();
        }
        Ok(())
    }
}

/// A master-data security as the checks need it.
pub fn security_info(s: &market_pb::Security) -> Result<SecurityInfo, String> {
    let symbol = Symbol::parse(&s.symbol).map_err(|e| format!("{}: {e}", s.symbol))?;
    let exchange: Exchange = s
        .exchange
        .parse()
        .map_err(|e| format!("{}: {e}", s.symbol))?;
    let kind: InstrumentKind = if s.kind.is_empty() {
        InstrumentKind::Stock
    } else {
        s.kind.parse().map_err(|e| format!("{}: {e}", s.symbol))?
    };
    let status = SecurityStatus::parse(&s.status).unwrap_or(SecurityStatus::Normal);
    let limits = match (
        Price::new(s.reference),
        Price::new(s.ceiling),
        Price::new(s.floor),
    ) {
        (Ok(reference), Ok(ceiling), Ok(floor)) if floor <= reference && reference <= ceiling => {
            Some(PriceLimits {
                reference,
                ceiling,
                floor,
            })
        }
        _ => None,
    };
    let day = time::Date::parse(
        &s.trading_day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok();
    Ok(SecurityInfo {
        security: Security {
            symbol,
            exchange,
            kind,
            status,
            limits,
            awaiting_first_match: false,
        },
        day,
    })
}

/// `(topic, partition, last offset)` of every partition of `topics` that holds events now;
/// `None` when a topic's offsets cannot be read.
async fn held_at_start(bus: &SharedBus, topics: &[&str]) -> Option<Vec<(String, i32, i64)>> {
    let mut out = Vec::new();
    for t in topics {
        match bus.offsets(t).await {
            Ok(parts) => out.extend(
                parts
                    .iter()
                    .zip(0..)
                    .filter(|(o, _)| o.first < o.next)
                    .map(|(o, p)| ((*t).to_owned(), p, o.next - 1)),
            ),
            Err(e) => {
                tracing::warn!(topic = t, error = %common::error::chain(&e),
                    "no offsets: the catch-up ends on a quiet poll or its deadline");
                return None;
            }
        }
    }
    Some(out)
}
