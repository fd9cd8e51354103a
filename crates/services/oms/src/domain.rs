//! The order model and its state machine: which changes are legal, what a broker report or a
//! fill does to an order. No I/O here; [`crate::service`] stores and publishes what these
//! functions decide.

use std::fmt;

use broker::ClientOrderId;
use market::order::Amendment;
use market::{OrderType, Price, Quantity, Side, Symbol};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What an order request or a change can be refused for before anything reaches the broker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// A field is missing or malformed.
    #[error("{0}")]
    Field(String),
    /// The change is not allowed in the order's state.
    #[error("{0}")]
    Transition(#[from] IllegalTransition),
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored by the OMS; the broker has not confirmed it works at the exchange.
    PendingNew,
    /// Working at the exchange.
    New,
    /// Partly filled, still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after partial fills).
    Cancelled,
    /// Refused by the OMS, the broker or the exchange.
    Rejected,
    /// Ended unfilled or partly filled at the end of its session or day.
    Expired,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 7] = [
        Status::PendingNew,
        Status::New,
        Status::PartiallyFilled,
        Status::Filled,
        Status::Cancelled,
        Status::Rejected,
        Status::Expired,
    ];

    /// The name used in the store, the APIs and events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::PendingNew => "pending_new",
            Status::New => "new",
            Status::PartiallyFilled => "partially_filled",
            Status::Filled => "filled",
            Status::Cancelled => "cancelled",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// True when the order can no longer trade.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Status::Filled | Status::Cancelled | Status::Rejected | Status::Expired
        )
    }

    /// How far along the life an order is: a report may move an order forward, never back.
    const fn rank(self) -> u8 {
        match self {
            Status::PendingNew => 0,
            Status::New => 1,
            Status::PartiallyFilled => 2,
            Status::Filled | Status::Cancelled | Status::Rejected | Status::Expired => 3,
        }
    }

    /// Whether the state machine allows `self` → `to`: staying is allowed (a repeated
    /// report), a final status never changes, and otherwise an order only moves forward
    /// (pending-new → new → partially filled → filled/cancelled/expired). A reject ends an
    /// order the exchange has not filled any of (SSI reports one after `New` when the exchange
    /// refuses what the broker passed on).
    pub fn can_become(self, to: Status) -> bool {
        if self == to {
            return true;
        }
        if self.is_final() {
            return false;
        }
        match to {
            Status::PendingNew => false,
            Status::New => self == Status::PendingNew,
            Status::PartiallyFilled | Status::Rejected => {
                matches!(self, Status::PendingNew | Status::New)
            }
            Status::Filled | Status::Cancelled | Status::Expired => true,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change the state machine refuses, with both ends named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {order}: {what} is not allowed when it is {from}{pending}")]
pub struct IllegalTransition {
    /// The order.
    pub order: String,
    /// What was asked.
    pub what: String,
    /// The status it was in.
    pub from: Status,
    /// ` with a pending amend/cancel`, when that is why.
    pub pending: String,
}

/// A change the broker has not confirmed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// An amendment.
    Amend {
        /// SSI's requestID of the amendment.
        request_id: ClientOrderId,
        /// The change.
        change: Amendment,
    },
    /// A cancellation.
    Cancel {
        /// SSI's requestID of the cancellation.
        request_id: ClientOrderId,
    },
}

impl Pending {
    /// `amend` or `cancel`.
    pub const fn name(&self) -> &'static str {
        match self {
            Pending::Amend { .. } => "amend",
            Pending::Cancel { .. } => "cancel",
        }
    }

    /// The action's requestID.
    pub const fn request_id(&self) -> ClientOrderId {
        match self {
            Pending::Amend { request_id, .. } | Pending::Cancel { request_id } => *request_id,
        }
    }
}

/// An order request as the OMS received it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The caller's idempotency key.
    pub client_id: String,
    /// Broker sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Exchange order type.
    pub order_type: OrderType,
    /// Limit price for the types that carry one.
    pub price: Option<Price>,
    /// Shares or contracts.
    pub quantity: Quantity,
    /// The strategy it belongs to, if any.
    pub strategy: Option<String>,
}

/// Longest client id.
pub const CLIENT_ID_MAX: usize = 64;

impl NewOrder {
    /// Checks what can be checked without market data: the id's shape, the account, a price
    /// exactly when the type carries one, a positive quantity.
    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of one request, named at the one call site per adapter"
    )]
    pub fn parse(
        client_id: &str,
        account: &str,
        symbol: &str,
        side: &str,
        order_type: &str,
        price: Option<i64>,
        quantity: u64,
        strategy: Option<&str>,
    ) -> Result<NewOrder, Invalid> {
        let field = |m: String| Invalid::Field(m);
        check_client_id(client_id).map_err(field)?;
        check_account(account).map_err(field)?;
        let symbol =
            Symbol::parse(symbol.trim()).map_err(|e| field(format!("symbol {symbol:?}: {e}")))?;
        let side = parse_side(side).map_err(field)?;
        let order_type = parse_order_type(order_type).map_err(field)?;
        let price = match (order_type.carries_price(), price.filter(|p| *p != 0)) {
            (true, Some(p)) => Some(Price::new(p).map_err(|e| field(format!("price {p}: {e}")))?),
            (true, None) => return Err(field(format!("{order_type} orders need a price"))),
            (false, Some(p)) => {
                return Err(field(format!(
                    "{order_type} orders take no price (got {p}); send 0"
                )));
            }
            (false, None) => None,
        };
        if quantity == 0 {
            return Err(field("quantity must be positive".to_owned()));
        }
        let strategy = strategy.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = strategy
            && (s.len() > CLIENT_ID_MAX || !s.chars().all(id_char))
        {
            return Err(field(format!(
                "strategy {s:?}: 1 to {CLIENT_ID_MAX} characters of [A-Za-z0-9._:-]"
            )));
        }
        Ok(NewOrder {
            client_id: client_id.to_owned(),
            account: account.to_owned(),
            symbol,
            side,
            order_type,
            price,
            quantity: Quantity::new(quantity),
            strategy: strategy.map(str::to_owned),
        })
    }
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')
}

/// A client id: 1 to 64 characters of `[A-Za-z0-9._:-]`.
pub fn check_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > CLIENT_ID_MAX || !id.chars().all(id_char) {
        return Err(format!(
            "client_id {id:?}: 1 to {CLIENT_ID_MAX} characters of [A-Za-z0-9._:-]"
        ));
    }
    Ok(())
}

/// A broker sub-account: 1 to 20 ASCII letters and digits.
pub fn check_account(account: &str) -> Result<(), String> {
    if account.is_empty()
        || account.len() > 20
        || !account.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "account {account:?}: 1 to 20 ASCII letters and digits"
        ));
    }
    Ok(())
}

/// The fields every order the OMS holds and slices (conditional, algorithmic) starts with: its
/// client id (at most `max` characters, so its children's ids fit; `what` names the kind in the
/// error), account, symbol and side.
pub fn parse_parent(
    what: &str,
    client_id: &str,
    max: usize,
    account: &str,
    symbol: &str,
    side: &str,
) -> Result<(Symbol, Side), Invalid> {
    let field = |m: String| Invalid::Field(m);
    check_client_id(client_id).map_err(field)?;
    if client_id.len() > max {
        return Err(field(format!(
            "client_id of {what}: at most {max} characters"
        )));
    }
    check_account(account).map_err(field)?;
    let symbol =
        Symbol::parse(symbol.trim()).map_err(|e| field(format!("symbol {symbol:?}: {e}")))?;
    Ok((symbol, parse_side(side).map_err(field)?))
}

/// An optional name of a held order (`strategy`, `oco_group`, the field named `name`):
/// trimmed, empty is none, else 1 to 32 of `[A-Za-z0-9._-]`.
pub fn parse_name(name: &str, value: Option<&str>) -> Result<Option<String>, Invalid> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s)
            if s.len() > 32
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
        {
            Err(Invalid::Field(format!(
                "{name} {s:?}: 1 to 32 of [A-Za-z0-9._-]"
            )))
        }
        s => Ok(s.map(str::to_owned)),
    }
}

/// `buy` or `sell` (any case; `B`/`S` too), or the error naming the field.
pub fn parse_side(side: &str) -> Result<Side, String> {
    Side::parse(side).ok_or_else(|| format!("side {side:?}: buy or sell"))
}

/// An order type by its exchange code (`LO`, `ATO`, ...; any case), or the error naming the
/// field.
pub fn parse_order_type(name: &str) -> Result<OrderType, String> {
    OrderType::from_code(name)
        .ok_or_else(|| format!("order_type {name:?}: one of LO, ATO, ATC, MTL, MOK, MAK, PLO"))
}

/// One order as the OMS keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The OMS's id: `<yyyymmdd>-<requestID>`, unique because requestIDs are unique per day.
    pub id: String,
    /// The caller's idempotency key.
    pub client_id: String,
    /// Broker sub-account.
    pub account: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Limit price (after amendments).
    pub price: Option<Price>,
    /// Total quantity (after amendments).
    pub quantity: Quantity,
    /// Status.
    pub status: Status,
    /// The change the broker has not confirmed yet.
    pub pending: Option<Pending>,
    /// Filled, from the fills recorded.
    pub filled: Quantity,
    /// Σ price × quantity of the fills recorded (for the average price).
    pub filled_value: i128,
    /// Quantity of reconciled fills (derived from the order book) that no fill event from
    /// the stream has confirmed yet: a late event for them confirms, it does not add.
    pub reconciled_open: Quantity,
    /// SSI's requestID of the placement.
    pub request_id: ClientOrderId,
    /// SSI's order id, once known.
    pub broker_order_id: Option<String>,
    /// Whether the broker answered the placement (accepted or refused): until then a restart
    /// asks the broker whether it has the order and sends it again if not.
    pub confirmed: bool,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// The strategy it belongs to.
    pub strategy: Option<String>,
    /// When the OMS stored it.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Bumped by every change (optimistic concurrency in the store).
    pub version: i64,
}

/// One change of an order, as stored in its journal and published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened (see `OrderEvent.kind` in the proto).
    pub kind: &'static str,
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// Why, in words.
    pub detail: String,
}

/// A fill the OMS records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// Unique per order: the broker's event id, or `cum:<quantity>` for a reconciled fill.
    pub id: String,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub quantity: Quantity,
    /// When (the broker's time, else when the OMS learnt it).
    pub time: OffsetDateTime,
    /// Derived from the order book after the stream missed it.
    pub reconciled: bool,
}

impl Order {
    /// A new order, pending until the broker confirms it.
    pub fn create(
        request: NewOrder,
        id: String,
        request_id: ClientOrderId,
        now: OffsetDateTime,
    ) -> (Order, Change) {
        let order = Order {
            id,
            client_id: request.client_id,
            account: request.account,
            symbol: request.symbol,
            side: request.side,
            order_type: request.order_type,
            price: request.price,
            quantity: request.quantity,
            status: Status::PendingNew,
            pending: None,
            filled: Quantity::new(0),
            filled_value: 0,
            reconciled_open: Quantity::new(0),
            request_id,
            broker_order_id: None,
            confirmed: false,
            reject_reason: None,
            strategy: request.strategy,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        let change = Change {
            kind: "created",
            from: Status::PendingNew,
            to: Status::PendingNew,
            detail: format!(
                "{} {} {} {}{}",
                order.side.name(),
                order.quantity.units(),
                order.symbol,
                order.order_type,
                order
                    .price
                    .map(|p| format!(" @ {}", p.units()))
                    .unwrap_or_default()
            ),
        };
        (order, change)
    }

    /// Volume-weighted fill price.
    pub fn avg_price(&self) -> Option<i64> {
        let q = i128::from(self.filled.units());
        (q > 0).then(|| i64::try_from(self.filled_value / q).unwrap_or(i64::MAX))
    }

    /// Quantity still to fill.
    pub fn leaves(&self) -> Quantity {
        self.quantity.saturating_sub(self.filled)
    }

    fn illegal(&self, what: impl Into<String>) -> IllegalTransition {
        IllegalTransition {
            order: self.id.clone(),
            what: what.into(),
            from: self.status,
            pending: self
                .pending
                .map(|p| format!(" with a pending {}", p.name()))
                .unwrap_or_default(),
        }
    }

    fn touch(&mut self, now: OffsetDateTime) {
        self.updated_at = now;
        self.version += 1;
    }

    /// Moves to `to`, validated by [`Status::can_become`].
    fn become_(&mut self, to: Status, what: &str) -> Result<Status, IllegalTransition> {
        if !self.status.can_become(to) {
            return Err(self.illegal(format!("{what} (to {to})")));
        }
        let from = self.status;
        self.status = to;
        Ok(from)
    }

    /// The broker took the placement: its order id and, when it said, the status.
    pub fn accepted(
        &mut self,
        broker_order_id: Option<String>,
        now: OffsetDateTime,
    ) -> Option<Change> {
        let known = self.broker_order_id.is_some();
        if self.confirmed && (known || broker_order_id.is_none()) {
            return None;
        }
        self.confirmed = true;
        if let Some(id) = broker_order_id {
            self.broker_order_id.get_or_insert(id);
        }
        self.touch(now);
        Some(Change {
            kind: "sent",
            from: self.status,
            to: self.status,
            detail: format!(
                "broker order {}",
                self.broker_order_id
                    .as_deref()
                    .unwrap_or("(id on the stream)")
            ),
        })
    }

    /// The OMS, the broker or the exchange refused the order.
    pub fn reject(
        &mut self,
        reason: String,
        now: OffsetDateTime,
    ) -> Result<Change, IllegalTransition> {
        if self.status.is_final() {
            return Err(self.illegal("reject"));
        }
        let from = self.become_(Status::Rejected, "reject")?;
        self.confirmed = true;
        self.pending = None;
        self.reject_reason = Some(reason.clone());
        self.touch(now);
        Ok(Change {
            kind: "rejected",
            from,
            to: Status::Rejected,
            detail: reason,
        })
    }

    /// Asks for an amendment: refused while another change is pending or when the order can
    /// no longer trade; the exchange's own rules (phase, below filled, no change) come from
    /// `market::order::check_amend`.
    pub fn request_amend(
        &mut self,
        change: Amendment,
        request_id: ClientOrderId,
        now: OffsetDateTime,
    ) -> Result<Change, IllegalTransition> {
        if self.pending.is_some() || !matches!(self.status, Status::New | Status::PartiallyFilled) {
            return Err(self.illegal("amend"));
        }
        if self.broker_order_id.is_none() {
            return Err(self.illegal("amend before the broker told its order id"));
        }
        self.pending = Some(Pending::Amend { request_id, change });
        self.touch(now);
        Ok(Change {
            kind: "amend_requested",
            from: self.status,
            to: self.status,
            detail: describe_amendment(change),
        })
    }

    /// Asks for a cancellation.
    pub fn request_cancel(
        &mut self,
        request_id: ClientOrderId,
        now: OffsetDateTime,
    ) -> Result<Change, IllegalTransition> {
        if self.pending.is_some() || self.status.is_final() {
            return Err(self.illegal("cancel"));
        }
        if self.broker_order_id.is_none() {
            return Err(self.illegal("cancel before the broker told its order id"));
        }
        self.pending = Some(Pending::Cancel { request_id });
        self.touch(now);
        Ok(Change {
            kind: "cancel_requested",
            from: self.status,
            to: self.status,
            detail: String::new(),
        })
    }

    /// The broker refused the pending change (or never got it): the order is as before.
    pub fn pending_failed(&mut self, reason: String, now: OffsetDateTime) -> Option<Change> {
        let pending = self.pending.take()?;
        self.touch(now);
        Some(Change {
            kind: match pending {
                Pending::Amend { .. } => "amend_failed",
                Pending::Cancel { .. } => "cancel_failed",
            },
            from: self.status,
            to: self.status,
            detail: reason,
        })
    }

    /// Applies the broker's view of the order. Reports older than what the OMS already knows
    /// (a status going back) change nothing and answer `Ok(None)`: streams and order books
    /// overlap. Answers the change, if any.
    pub fn apply_report(
        &mut self,
        report: &broker::OrderState,
        now: OffsetDateTime,
    ) -> Result<Option<Change>, IllegalTransition> {
        let was_confirmed = self.confirmed;
        self.confirmed = true;
        if self.broker_order_id.is_none() && !report.order_id.is_empty() {
            self.broker_order_id = Some(report.order_id.clone());
        }
        let to = match &report.status {
            broker::OrderStatus::PendingNew | broker::OrderStatus::Triggering => Status::PendingNew,
            broker::OrderStatus::New => Status::New,
            broker::OrderStatus::PartiallyFilled => Status::PartiallyFilled,
            broker::OrderStatus::Filled => Status::Filled,
            broker::OrderStatus::Cancelled => Status::Cancelled,
            broker::OrderStatus::Rejected => Status::Rejected,
            broker::OrderStatus::Expired => Status::Expired,
            // The broker says a change is with it: nothing to learn but that it has the order.
            broker::OrderStatus::PendingAmend | broker::OrderStatus::PendingCancel => self.status,
            broker::OrderStatus::Other(_) => self.status,
        };
        // The amended terms, when the report carries new ones.
        let mut amended = None;
        if let Some(Pending::Amend { change, .. }) = self.pending {
            let done = match change {
                Amendment::Price(p) => report.price == Some(p),
                Amendment::Quantity(q) => report.quantity == q,
            };
            if done {
                amended = Some(change);
            }
        }
        if to.rank() < self.status.rank() || (to == self.status && amended.is_none()) {
            // Older or repeated news; only the confirmation may be new.
            if !was_confirmed {
                self.touch(now);
                return Ok(Some(Change {
                    kind: "sent",
                    from: self.status,
                    to: self.status,
                    detail: format!("broker order {}", report.order_id),
                }));
            }
            return Ok(None);
        }
        if to != self.status && !self.status.can_become(to) {
            return Err(self.illegal(format!("broker report {to}")));
        }
        let from = self.status;
        self.status = to;
        let kind = if let Some(change) = amended {
            match change {
                Amendment::Price(p) => self.price = Some(p),
                Amendment::Quantity(q) => self.quantity = q,
            }
            self.pending = None;
            "amended"
        } else {
            match to {
                Status::PendingNew => "sent",
                Status::New => "accepted",
                Status::PartiallyFilled | Status::Filled => "status",
                Status::Cancelled => "cancelled",
                Status::Rejected => "rejected",
                Status::Expired => "expired",
            }
        };
        if to.is_final() {
            self.pending = None;
        }
        if to == Status::Rejected {
            self.reject_reason = report.reject_reason.clone().or(Some("rejected".to_owned()));
        }
        self.touch(now);
        let detail = match (kind, amended) {
            ("amended", Some(change)) => describe_amendment(change),
            ("rejected", _) => self.reject_reason.clone().unwrap_or_default(),
            _ => format!(
                "broker: {:?}, filled {} of {}",
                report.status,
                report.filled.units(),
                report.quantity.units()
            ),
        };
        Ok(Some(Change {
            kind,
            from,
            to,
            detail,
        }))
    }

    /// Records a fill and answers how much of it counts: a fill event that confirms a
    /// reconciled fill counts only beyond it. A fill never makes the order fill more than its
    /// quantity; it moves a working order to partially filled or filled (a fill may also
    /// arrive after the broker already reported the final status, which then stays).
    pub fn apply_fill(
        &mut self,
        fill: &Fill,
        now: OffsetDateTime,
    ) -> Result<(Quantity, Option<Change>), IllegalTransition> {
        let q = fill.quantity.units();
        let covered = if fill.reconciled {
            0
        } else {
            q.min(self.reconciled_open.units())
        };
        let counted = q - covered;
        let total = self.filled.units() + counted;
        if q == 0 || total > self.quantity.units() || self.status == Status::Rejected {
            return Err(self.illegal(format!(
                "a fill of {q} (filled {} of {})",
                self.filled.units(),
                self.quantity.units()
            )));
        }
        self.reconciled_open = Quantity::new(self.reconciled_open.units() - covered);
        if fill.reconciled {
            self.reconciled_open = Quantity::new(self.reconciled_open.units() + q);
        }
        if counted == 0 {
            self.touch(now);
            return Ok((Quantity::new(0), None));
        }
        let from = self.status;
        self.filled = Quantity::new(total);
        self.filled_value += i128::from(fill.price.units()) * i128::from(counted);
        self.confirmed = true;
        if !self.status.is_final() {
            self.status = if total == self.quantity.units() {
                Status::Filled
            } else {
                Status::PartiallyFilled
            };
        }
        if self.status == Status::Filled {
            self.pending = None;
        }
        self.touch(now);
        let change = Change {
            kind: "filled",
            from,
            to: self.status,
            detail: format!(
                "{counted} @ {}{}",
                fill.price.units(),
                if fill.reconciled {
                    " (from the broker's order book)"
                } else {
                    ""
                }
            ),
        };
        Ok((Quantity::new(counted), Some(change)))
    }

    /// The fill that makes the OMS's fills match the broker's cumulative `filled` at average
    /// `avg_price`, when the stream missed some: `None` when nothing is missing.
    pub fn missing_fill(
        &self,
        broker_filled: Quantity,
        broker_avg: Option<Price>,
        now: OffsetDateTime,
    ) -> Option<Fill> {
        let missing = broker_filled.units().checked_sub(self.filled.units())?;
        if missing == 0 {
            return None;
        }
        // The price that makes the recorded average equal the broker's.
        let price = match broker_avg {
            Some(avg) => {
                let total = i128::from(avg.units()) * i128::from(broker_filled.units());
                let rest = (total - self.filled_value) / i128::from(missing);
                i64::try_from(rest)
                    .ok()
                    .and_then(|p| Price::new(p).ok())
                    .unwrap_or(avg)
            }
            None => self.price?,
        };
        Some(Fill {
            id: format!("cum:{}", broker_filled.units()),
            price,
            quantity: Quantity::new(missing),
            time: now,
            reconciled: true,
        })
    }
}

/// An amendment in words.
pub fn describe_amendment(change: Amendment) -> String {
    match change {
        Amendment::Price(p) => format!("price to {}", p.units()),
        Amendment::Quantity(q) => format!("quantity to {}", q.units()),
    }
}

/// The OMS's order id of the order placed with `request_id` on `day`.
pub fn order_id(day: time::Date, request_id: ClientOrderId) -> String {
    format!(
        "{:04}{:02}{:02}-{:08}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        request_id.get()
    )
}

#[cfg(test)]
mod tests;
