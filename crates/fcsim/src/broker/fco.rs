//! FastConnect v3 FCO (Flexible Conditional Orders), held by the broker like SSI's server
//! holds them and triggered on the generated market.
//!
//! An FCO waits (`WAIT`) within its window `[from, to]`; on each tick of continuous
//! trading the broker compares the symbol's last generated trade price with its condition.
//! When it holds the FCO is triggered (`TRI`), places its child order(s) through the same
//! path as a client order (`TRIT`), and finishes (`FIS`) when they are final with fills,
//! or terminates (`TER`) when they end unfilled or it is cancelled; past `to` it expires
//! (`EXP`). Every change is made by a journaled command (place, cancel, or the tick that
//! triggered it), so FCOs are durable and replay exactly.
//!
//! The simulator's model (`docs/simulator.md`, "FCO"): market-priced children (`MTL`,
//! `MP`, … or a stop without a limit) are marketable limit orders at the ceiling (buy) or
//! floor (sell); `priceSlip` is recorded but not applied; trailing orders activate when the
//! price reaches `activePrice` (at once when it is 0), then trigger when the price comes
//! back `trailingAmount` from its best since activation; a trailing stop-limit's limit is
//! the trigger trade's price. `gtd` places its order (remaining quantity) once per trading
//! day of its window. `oco` places the leg whose activation price is reached first:
//! take-profit (`tpActivePrice` → `tpPrice`) or stop-loss (`slActivePrice` → `slPrice`).
//! `bullbear` places its entry order, then an `oco` on the other side for what it filled.

use market::session::Phase;
use market::{Board, OrderType, Side};
use matching::OrderId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Broker, BrokerError, NewOrder, Outcome, refused, to_units};
use crate::tape::display_price;

/// FCO types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FcoKind {
    Gtd,
    Stop,
    StopLimit,
    TrailingStop,
    TrailingStopLimit,
    Oco,
    #[serde(rename = "bullbear")]
    BullBear,
}

impl FcoKind {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "gtd" => Self::Gtd,
            "stop" => Self::Stop,
            "stop_limit" => Self::StopLimit,
            "trailing_stop" => Self::TrailingStop,
            "trailing_stop_limit" => Self::TrailingStopLimit,
            "oco" => Self::Oco,
            "bullbear" | "bull_bear" => Self::BullBear,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Gtd => "gtd",
            Self::Stop => "stop",
            Self::StopLimit => "stop_limit",
            Self::TrailingStop => "trailing_stop",
            Self::TrailingStopLimit => "trailing_stop_limit",
            Self::Oco => "oco",
            Self::BullBear => "bullbear",
        }
    }
}

/// Comparison of a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Operator {
    Greater,
    GreaterOrEqual,
    Lesser,
    LesserOrEqual,
    Equal,
}

impl Operator {
    /// Names and SSI's numeric codes (2 greater, 0 ≥, 3 lesser, 4 ≤, 1 equal).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "greater" | "2" => Self::Greater,
            "greater_or_equal" | "0" => Self::GreaterOrEqual,
            "lesser" | "3" => Self::Lesser,
            "lesser_or_equal" | "4" => Self::LesserOrEqual,
            "equal" | "1" => Self::Equal,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Greater => "greater",
            Self::GreaterOrEqual => "greater_or_equal",
            Self::Lesser => "lesser",
            Self::LesserOrEqual => "lesser_or_equal",
            Self::Equal => "equal",
        }
    }

    fn holds(self, last: f64, level: f64) -> bool {
        match self {
            Self::Greater => last > level,
            Self::GreaterOrEqual => last >= level,
            Self::Lesser => last < level,
            Self::LesserOrEqual => last <= level,
            Self::Equal => (last - level).abs() < 1e-9,
        }
    }
}

/// What a client asked for (wire prices; `None`: market-priced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FcoRequest {
    pub(crate) consumer: String,
    pub(crate) account: String,
    pub(crate) kind: FcoKind,
    pub(crate) symbol: String,
    pub(crate) side: Side,
    pub(crate) quantity: u64,
    pub(crate) price: Option<f64>,
    /// The price as sent (a number or a word such as `MTL`).
    pub(crate) price_text: String,
    pub(crate) price_slip: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) to: OffsetDateTime,
    pub(crate) stop_price: f64,
    pub(crate) operator: Operator,
    pub(crate) active_price: f64,
    pub(crate) trailing_amount: f64,
    pub(crate) tp_active_price: f64,
    pub(crate) sl_active_price: f64,
    pub(crate) tp_price: Option<f64>,
    pub(crate) sl_price: Option<f64>,
}

/// A child order of an FCO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Child {
    pub(crate) order: OrderId,
    /// The entry (`bullbear`) or the only order; `false` for attached take-profit /
    /// stop-loss legs.
    pub(crate) main: bool,
}

/// One state change of an FCO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Step {
    pub(crate) state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
    pub(crate) detail: String,
}

/// An FCO held by the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Fco {
    pub(crate) id: u64,
    pub(crate) request: FcoRequest,
    pub(crate) status: String,
    pub(crate) detail: String,
    /// Trailing orders: activated, and the best price since.
    pub(crate) activated: bool,
    pub(crate) best: Option<f64>,
    /// `bullbear`: the OCO phase after the entry filled (side reversed, filled quantity).
    pub(crate) exit: Option<(Side, u64)>,
    /// `gtd`: the last day it placed an order.
    pub(crate) placed_on: Option<time::Date>,
    pub(crate) children: Vec<Child>,
    pub(crate) history: Vec<Step>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated: OffsetDateTime,
}

impl Fco {
    fn set(&mut self, at: OffsetDateTime, state: &str, detail: impl Into<String>) {
        let detail = detail.into();
        self.status = state.to_owned();
        self.detail.clone_from(&detail);
        self.updated = at;
        self.history.push(Step {
            state: state.to_owned(),
            at,
            detail,
        });
    }

    pub(crate) fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "FIS" | "TER" | "EXP" | "ERR")
    }
}

impl Broker {
    /// Holds a new FCO; returns its id.
    pub(crate) fn fco_place(
        &mut self,
        at: OffsetDateTime,
        r: &FcoRequest,
    ) -> Result<Outcome, BrokerError> {
        if r.to <= at || r.to <= r.from {
            return Err(BrokerError::Invalid(
                "to must be after from and in the future".to_owned(),
            ));
        }
        if self.generator.universe().find(&r.symbol).is_none() {
            return Err(refused(format!("Symbol {} does not exist", r.symbol)));
        }
        self.next_fco += 1;
        let id = self.next_fco;
        let mut fco = Fco {
            id,
            request: r.clone(),
            status: "INIT".to_owned(),
            detail: String::new(),
            activated: false,
            best: None,
            exit: None,
            placed_on: None,
            children: Vec::new(),
            history: Vec::new(),
            created: at,
            updated: at,
        };
        fco.set(at, "WAIT", "Waiting for its condition");
        self.fcos.insert(id, fco);
        Ok(Outcome::Transaction(id.to_string()))
    }

    /// Cancels an FCO of `consumer` and its working child orders.
    pub(crate) fn fco_cancel(
        &mut self,
        at: OffsetDateTime,
        consumer: &str,
        id: u64,
    ) -> Result<Outcome, BrokerError> {
        let Some(fco) = self
            .fcos
            .get(&id)
            .filter(|f| f.request.consumer == consumer)
        else {
            return Err(refused(format!("FCO {id} does not exist")));
        };
        if fco.is_final() {
            return Err(refused(format!("FCO {id} is already {}", fco.status)));
        }
        let working: Vec<OrderId> = fco
            .children
            .iter()
            .map(|c| c.order)
            .filter(|o| self.engine.order(*o).is_some_and(|o| !o.status.is_final()))
            .collect();
        for o in working {
            let _ = self.engine.cancel(o);
        }
        self.process();
        if let Some(fco) = self.fcos.get_mut(&id) {
            fco.set(at, "TER", "Cancelled by the client");
        }
        Ok(Outcome::Done)
    }

    /// Moves every FCO to `at`; true if any changed.
    pub(crate) fn fco_tick(&mut self, at: OffsetDateTime) -> bool {
        let ids: Vec<u64> = self
            .fcos
            .iter()
            .filter(|(_, f)| !f.is_final())
            .map(|(id, _)| *id)
            .collect();
        let mut changed = false;
        for id in ids {
            changed |= self.fco_step(at, id);
        }
        changed
    }

    /// The last generated trade price (wire) of `symbol` at `at`, and whether its board is
    /// in continuous trading.
    fn last_price(&self, at: OffsetDateTime, symbol: &str) -> Option<(f64, bool)> {
        let live = self.live_at(at)?;
        let universe = self.generator.universe();
        let i = universe.find(symbol)?;
        let x = universe.instrument(i)?;
        let tape = live.tape(i)?;
        let (date, tod) = market::TradingCalendar::local(at);
        let secs = tod.seconds();
        let n = tape.trades.partition_point(|t| t.secs <= secs);
        let last = n.checked_sub(1).and_then(|k| tape.trades.get(k))?;
        let open = matches!(
            self.generator.phase(x.exchange, x.kind, date, secs),
            Phase::Continuous
        );
        Some((display_price(x, last.price).to_f64_lossy(), open))
    }

    fn fco_step(&mut self, at: OffsetDateTime, id: u64) -> bool {
        let Some(mut fco) = self.fcos.get(&id).cloned() else {
            return false;
        };
        let before = fco.clone();
        let r = fco.request.clone();
        // Children first: an FCO with orders finishes with them.
        if !fco.children.is_empty() {
            self.fco_children(at, &mut fco);
        }
        if fco.is_final() || fco.status == "TRIT" {
            return self.store(fco, &before);
        }
        if at > r.to {
            fco.set(at, "EXP", "The FCO window ended");
            return self.store(fco, &before);
        }
        if at < r.from {
            return false;
        }
        let Some((last, open)) = self.last_price(at, &r.symbol) else {
            return false;
        };
        if !open {
            return self.store(fco, &before);
        }
        let (side, qty) = fco.exit.unwrap_or((r.side, r.quantity));
        let fire: Option<(Option<f64>, bool)> = match (r.kind, fco.exit) {
            (FcoKind::Gtd, _) => {
                let (today, _) = market::TradingCalendar::local(at);
                (fco.placed_on != Some(today)).then_some((r.price, true))
            }
            (FcoKind::BullBear, None) => (fco.placed_on.is_none()).then_some((r.price, true)),
            (FcoKind::Stop, _) => r.operator.holds(last, r.stop_price).then_some((None, true)),
            (FcoKind::StopLimit, _) => r
                .operator
                .holds(last, r.stop_price)
                .then_some((r.price, true)),
            (FcoKind::TrailingStop | FcoKind::TrailingStopLimit, _) => {
                let sell = side == Side::Sell;
                if !fco.activated {
                    let reached = r.active_price <= 0.0
                        || (sell && last >= r.active_price)
                        || (!sell && last <= r.active_price);
                    if reached {
                        fco.activated = true;
                        fco.best = Some(last);
                        fco.set(at, "WAIT", format!("Activated at {last}"));
                    }
                    None
                } else {
                    let best = fco.best.unwrap_or(last);
                    let best = if sell { best.max(last) } else { best.min(last) };
                    fco.best = Some(best);
                    let hit = if sell {
                        last <= best - r.trailing_amount
                    } else {
                        last >= best + r.trailing_amount
                    };
                    let limit = (r.kind == FcoKind::TrailingStopLimit).then_some(last);
                    hit.then_some((limit, true))
                }
            }
            (FcoKind::Oco, _) | (FcoKind::BullBear, Some(_)) => {
                let sell = side == Side::Sell;
                let tp = if sell {
                    last >= r.tp_active_price
                } else {
                    last <= r.tp_active_price
                } && r.tp_active_price > 0.0;
                let sl = if sell {
                    last <= r.sl_active_price
                } else {
                    last >= r.sl_active_price
                } && r.sl_active_price > 0.0;
                match (tp, sl) {
                    (true, _) => Some((r.tp_price, false)),
                    (false, true) => Some((r.sl_price, false)),
                    (false, false) => None,
                }
            }
        };
        if let Some((price, main)) = fire {
            let remaining = if r.kind == FcoKind::Gtd {
                qty.saturating_sub(self.fco_filled(&fco))
            } else {
                qty
            };
            let detail = match fco.best {
                Some(best) if fco.activated => format!("Triggered at {last} (best {best})"),
                Some(_) | None => format!("Triggered at {last}"),
            };
            fco.set(at, "TRI", detail);
            match self.fco_order(at, &fco, side, price, remaining, main) {
                Ok(order) => {
                    fco.children.push(Child { order, main });
                    let (today, _) = market::TradingCalendar::local(at);
                    fco.placed_on = Some(today);
                    fco.set(at, "TRIT", format!("Order {order} placed"));
                }
                Err(e) => fco.set(at, "ERR", e.to_string()),
            }
        }
        self.store(fco, &before)
    }

    fn store(&mut self, fco: Fco, before: &Fco) -> bool {
        let changed = fco != *before;
        self.fcos.insert(fco.id, fco);
        changed
    }

    /// Shares filled over every child.
    fn fco_filled(&self, fco: &Fco) -> u64 {
        fco.children
            .iter()
            .filter_map(|c| self.engine.order(c.order))
            .map(|o| o.filled.units())
            .sum()
    }

    /// Settles an FCO whose children are all final.
    fn fco_children(&mut self, at: OffsetDateTime, fco: &mut Fco) {
        let orders: Vec<_> = fco
            .children
            .iter()
            .filter_map(|c| self.engine.order(c.order))
            .collect();
        if orders.iter().any(|o| !o.status.is_final()) || fco.is_final() {
            return;
        }
        let filled: u64 = orders.iter().map(|o| o.filled.units()).sum();
        match (fco.request.kind, fco.exit) {
            (FcoKind::BullBear, None) if filled > 0 => {
                let side = match fco.request.side {
                    Side::Buy => Side::Sell,
                    Side::Sell => Side::Buy,
                };
                fco.exit = Some((side, filled));
                fco.set(
                    at,
                    "WAIT",
                    format!("Entry filled {filled}: take-profit / stop-loss armed"),
                );
            }
            (FcoKind::Gtd, _) if filled < fco.request.quantity => {
                fco.set(
                    at,
                    "WAIT",
                    format!("Filled {filled}: the rest is placed again next trading day"),
                );
            }
            _ if filled > 0 => fco.set(at, "FIS", format!("Filled {filled}")),
            _ => fco.set(at, "TER", "The order ended unfilled"),
        }
    }

    /// Places a child order: a limit at `price`, or a marketable limit at the band.
    fn fco_order(
        &mut self,
        at: OffsetDateTime,
        fco: &Fco,
        side: Side,
        price: Option<f64>,
        quantity: u64,
        main: bool,
    ) -> Result<OrderId, BrokerError> {
        let r = &fco.request;
        let universe = self.generator.universe();
        let x = universe
            .find(&r.symbol)
            .and_then(|i| universe.instrument(i))
            .cloned()
            .ok_or_else(|| refused(format!("Symbol {} does not exist", r.symbol)))?;
        let units = match price {
            Some(p) => to_units(x.kind, p)
                .ok_or_else(|| refused(format!("Price {p} is not a valid price")))?,
            None => {
                let live = self
                    .live_at(at)
                    .ok_or_else(|| refused("No trading day is simulated now"))?;
                let i = universe.find(&r.symbol).unwrap_or_default();
                let l = live
                    .tape(i)
                    .map(|t| t.limits)
                    .ok_or_else(|| refused("No band for the symbol today"))?;
                match side {
                    Side::Buy => l.ceiling.units(),
                    Side::Sell => l.floor.units(),
                }
            }
        };
        let future = x.kind == market::InstrumentKind::IndexFuture;
        let n = fco.children.len() + 1;
        let order = NewOrder {
            consumer: r.consumer.clone(),
            account: r.account.clone(),
            symbol: r.symbol.clone(),
            market: if future { "VNFE" } else { "VN" }.to_owned(),
            side,
            order_type: OrderType::Lo,
            price: Some(units),
            quantity,
            board: Board::Main,
            channel: if main { "FCO" } else { "FCO-TPSL" }.to_owned(),
            request_id: format!("fco{}n{n}", fco.id),
            reject_in_response: false,
        };
        match self.new_order(at, &order)? {
            Outcome::Order(id) => Ok(id),
            Outcome::Done | Outcome::Transaction(_) => Err(refused("no order placed")),
        }
    }

    /// The FCOs of `consumer` (newest first).
    pub(crate) fn fcos_of<'a>(&'a self, consumer: &'a str) -> impl Iterator<Item = &'a Fco> {
        self.fcos
            .values()
            .rev()
            .filter(move |f| f.request.consumer == consumer)
    }
}
