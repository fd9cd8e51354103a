//! The FastConnect v3 adapter: [`V3Data`] and [`V3Trading`] over one
//! [`fastconnect::v3::Client`].
//!
//! - Exactly-once: the [`ClientOrderId`] is sent as `clientRequestId` (its decimal text);
//!   SSI answers 409 to a reused one, mapped to [`Error::Duplicate`]. Amend and cancel send
//!   their own id as `clientModifyId` / `clientCancelId`.
//! - No replay: after every reconnect the stream reports [`AccountEvent::Gap`] /
//!   [`MarketEvent::Gap`]; reconcile through [`Trading::order_book`].
//! - Conditional orders are FCO, held at SSI ([`Trading::place_conditional`]); every
//!   [`ConditionalKind`] is one FCO type, slips are sent as 0. [`Trading::conditional_orders`]
//!   reads `fco/list` (the kind back from its `params`) and `fco/orderbook` for the orders an
//!   FCO placed; [`Trading::conditional_history`] reads `fco/statusHistory`.
//! - Trading needs a trading-scope session: a person logs in with an OTP through
//!   [`crate::Broker::v3_client`]; until then trading calls answer [`Error::Auth`].
//! - Index values on the stream come from `trade.index`, whose abbreviated fields SSI does
//!   not document: `s` is read as the index code and `c` as its value (the SDK's reading).

use std::sync::Arc;

use async_trait::async_trait;
use fastconnect::Decimal;
use fastconnect::v3::data::{SecuritySummary, SummarySelector};
use fastconnect::v3::fco::{FcoInfo, FcoListQuery, FcoOrder, FcoStatusChange};
use fastconnect::v3::stream::{OrderEvent, OrderMatchEvent, Payload, PortfolioEvent};
use fastconnect::v3::trading::{EquityPosition, OrderRecord, Positions};
use fastconnect::v3::{
    AccountSections, CancelOrder, ClientRequestId, FcoKind, FcoOperator, FcoPrice, Interval, Leg,
    Modification, ModifyOrder, NewFco, NewOrder, OhlcQuery, OrderBookQuery, OrderRef, PageRequest,
    SecuritySelector, StreamEvent, TimeFrame, Topic, TopicKind,
};
use futures::StreamExt as _;
use market::calendar::VN_OFFSET;
use market::order::Amendment;
use market::{Board, Exchange, Price, Quantity, Symbol};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::error::{Error, Generation, Result};
use crate::map::{
    count, instrument_kind, mapped, order_type, side, status, wire_order_type, wire_side,
};
use crate::price::{
    distance, index_value, opt_price, price, quantity, symbol, vnd, wire, wire_distance,
};
use crate::types::{
    AccountEvent, AmendRequest, Balance, Bar, BarsQuery, CancelRequest, ClientOrderId,
    ConditionalChild, ConditionalKind, ConditionalOrder, ConditionalRequest, ConditionalState,
    ConditionalStep, ConditionalSupport, DailyPrice, Fill, IndexInfo, IndexPoint, Level,
    MarketEvent, MaxQuantities, OrderAck, OrderRequest, OrderState, OrderStatus, Position,
    Resolution, SecurityDetail, SecurityInfo, SecuritySnapshot, Subscription, Trigger,
};
use crate::{EventStream, MarketData, Trading};
use crate::{OtpRequested, TradingSession};

const GEN: Generation = Generation::V3;

fn ssi(e: fastconnect::Error) -> Error {
    Error::from_ssi(GEN, e)
}

fn request_id(id: ClientOrderId) -> Result<ClientRequestId> {
    ClientRequestId::new(id.to_string()).map_err(|e| Error::Invalid(e.to_string()))
}

fn wire_side_text(text: &str) -> Result<market::Side> {
    fastconnect::Side::parse(text).map(side).map_err(ssi)
}

/// v3 prices arrive as text: a number, or a word (`ATO`, `MTL`) for market-priced orders.
fn text_price(sym: &str, text: &str) -> Result<Option<Price>> {
    let t = text.trim().replace(',', "");
    if t.is_empty() || t.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Ok(None);
    }
    let d = Decimal::parse(&t).map_err(|e| Error::Mapping {
        what: format!("price {text:?} of {sym}: {e}"),
    })?;
    opt_price(sym, Some(d))
}

fn time_text(text: Option<&str>) -> Option<OffsetDateTime> {
    text.and_then(fastconnect::v3::wire::parse_datetime)
        .map(|t| t.assume_offset(VN_OFFSET))
}

/// A v3 clock time (`09:15:01`), if it is one.
fn clock(text: &str) -> Option<Time> {
    Time::parse(
        text.trim(),
        time::macros::format_description!("[hour]:[minute]:[second]"),
    )
    .ok()
}

fn opt_quantity(what: &str, v: Option<i64>) -> Result<Option<Quantity>> {
    v.map(|v| quantity(what, Some(v))).transpose()
}

fn time_frame(r: Resolution) -> TimeFrame {
    match r {
        Resolution::Minute1 => TimeFrame::M1,
        Resolution::Minute5 => TimeFrame::M5,
        Resolution::Minute15 => TimeFrame::M15,
        Resolution::Hour1 => TimeFrame::H1,
        Resolution::Day1 => TimeFrame::D1,
    }
}

fn board(exchange: Exchange) -> Result<fastconnect::v3::Board> {
    match exchange {
        Exchange::Hose => Ok(fastconnect::v3::Board::Hose),
        Exchange::Hnx => Ok(fastconnect::v3::Board::Hnx),
        Exchange::Upcom => Ok(fastconnect::v3::Board::Upcom),
        Exchange::HnxDeriv => Err(Error::Unsupported {
            generation: GEN,
            operation: "listing the derivatives board",
        }),
    }
}

/// An `ohlc` row as a [`Bar`].
pub(crate) fn ohlc_bar(sym: Symbol, b: &fastconnect::v3::OhlcBar) -> Result<Bar> {
    let s = sym.as_str();
    let p = |v: Option<Decimal>| {
        v.ok_or_else(|| Error::Mapping {
            what: format!("bar of {s} at {} without a price", b.trading_date),
        })
        .and_then(|v| price(s, v))
    };
    let time = b.time().ok_or_else(|| Error::Mapping {
        what: format!("bar time {:?}", b.trading_date),
    })?;
    Ok(Bar {
        symbol: sym,
        time: time.assume_offset(VN_OFFSET),
        open: p(b.open)?,
        high: p(b.high)?,
        low: p(b.low)?,
        close: p(b.close)?,
        volume: quantity("volume", b.volume)?,
    })
}

/// A `securitiesSummary` row as a [`SecuritySnapshot`].
pub(crate) fn summary(sym: Symbol, date: Date, r: &SecuritySummary) -> Result<SecuritySnapshot> {
    let s = sym.as_str();
    Ok(SecuritySnapshot {
        symbol: sym,
        date: r.trading_date.unwrap_or(date),
        reference: opt_price(s, r.ref_price)?,
        ceiling: opt_price(s, r.ceiling)?,
        floor: opt_price(s, r.floor)?,
        open: opt_price(s, r.open)?,
        high: opt_price(s, r.high)?,
        low: opt_price(s, r.low)?,
        close: opt_price(s, r.close)?,
        volume: opt_quantity("totalMatch", r.total_match)?,
        foreign_room: opt_quantity("remainForeignRoom", r.remain_foreign_room)?,
    })
}

/// A `quote` or `oddlot` update of `board`.
fn quote(board: Board, q: &fastconnect::v3::stream::QuoteUpdate) -> Result<MarketEvent> {
    let levels = |side: &[fastconnect::v3::stream::Level]| {
        side.iter()
            .filter(|l| !l.price.is_zero())
            .map(|l| {
                Ok(Level {
                    price: price(&q.symbol, l.price)?,
                    volume: quantity("volume", Some(l.volume))?,
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    Ok(MarketEvent::Quote {
        symbol: symbol(&q.symbol)?,
        board,
        bids: levels(&q.bids)?,
        asks: levels(&q.asks)?,
    })
}

/// A decoded stream payload as a market event (`None` for payloads the interface does not
/// carry: put-through, odd lot, bands, account topics).
pub(crate) fn market_payload(p: Payload) -> Option<Result<MarketEvent>> {
    let out = match p {
        Payload::Trade(t) => {
            let last = t.price.filter(|p| !p.is_zero())?;
            (|| {
                Ok(MarketEvent::Trade {
                    symbol: symbol(&t.symbol)?,
                    price: price(&t.symbol, last)?,
                    quantity: quantity("q", t.quantity)?,
                    total_volume: opt_quantity("v", t.volume)?,
                    time: clock(&t.time),
                })
            })()
        }
        Payload::Quote(q) => quote(Board::Main, &q),
        Payload::OddLot(q) => quote(Board::OddLot, &q),
        Payload::Bar(b) => (|| {
            let s = b.symbol.as_str();
            let p = |v: Option<Decimal>| {
                v.ok_or_else(|| Error::Mapping {
                    what: format!("bar of {s} without a price"),
                })
                .and_then(|v| price(s, v))
            };
            let start = fastconnect::v3::wire::parse_datetime(&b.start)
                .map(|t| t.assume_offset(VN_OFFSET))
                .or_else(|| {
                    // A clock time alone: today in Vietnam.
                    let at = clock(&b.start)?;
                    let today = OffsetDateTime::now_utc().to_offset(VN_OFFSET).date();
                    Some(today.with_time(at).assume_offset(VN_OFFSET))
                })
                .ok_or_else(|| Error::Mapping {
                    what: format!("bar start {:?}", b.start),
                })?;
            Ok(MarketEvent::Bar(Bar {
                symbol: symbol(s)?,
                time: start,
                open: p(b.open)?,
                high: p(b.high)?,
                low: p(b.low)?,
                close: p(b.close)?,
                volume: quantity("v", b.volume)?,
            }))
        })(),
        Payload::Room(r) => (|| {
            Ok(MarketEvent::ForeignRoom {
                symbol: symbol(&r.symbol)?,
                current_room: opt_quantity("cr", r.current_room)?,
                total_room: opt_quantity("tr", r.total_room)?,
            })
        })(),
        Payload::Index(map) => (|| {
            let index = map
                .get("s")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| Error::Mapping {
                    what: "trade.index without s".into(),
                })?
                .to_owned();
            let value = map
                .get("c")
                .map(fastconnect::v3::wire::opt_decimal)
                .transpose()
                .map_err(|e| Error::Mapping {
                    what: format!("trade.index c: {e}"),
                })?
                .flatten()
                .ok_or_else(|| Error::Mapping {
                    what: format!("trade.index of {index} without c"),
                })?;
            Ok(MarketEvent::Index {
                index,
                value: index_value(value)?,
            })
        })(),
        Payload::Flag(f) => Ok(MarketEvent::Status {
            symbol: None,
            status: format!("{} {}", f.board, f.flag),
        }),
        Payload::Put(_)
        | Payload::Band(_)
        | Payload::IndexSummary(_)
        | Payload::Order(_)
        | Payload::OrderMatch(_)
        | Payload::Fco(_)
        | Payload::Portfolio(_)
        | Payload::Other(_) => return None,
    };
    Some(out)
}

/// An `orderEvent` as an [`OrderState`].
pub(crate) fn order_event(e: &OrderEvent) -> Result<OrderState> {
    let s = e.symbol.as_str();
    let id = ClientOrderId::parse(&e.client_request_id);
    Ok(OrderState {
        account: e.account_no.clone(),
        order_id: e.order_id.clone(),
        client_order_id: id,
        last_action_id: id,
        symbol: symbol(s)?,
        side: wire_side_text(&e.side)?,
        order_type: e
            .order_type
            .as_deref()
            .and_then(|t| order_type(&fastconnect::OrderType::parse(t))),
        price: text_price(s, &e.price)?,
        quantity: quantity("quantity", e.quantity)?,
        filled: quantity("filledQty", e.filled_qty)?,
        cancelled: quantity("cancelQty", e.cancel_qty)?,
        avg_price: opt_price(s, e.avg_price)?,
        status: status(&fastconnect::OrderStatus::parse(&e.order_status)),
        reject_reason: e
            .reject_reason
            .clone()
            .or_else(|| e.error_message.clone())
            .filter(|r| !r.is_empty()),
        updated_at: time_text(e.modified_time.as_deref().or(e.input_time.as_deref())),
    })
}

/// An `orderMatchEvent` as a [`Fill`].
pub(crate) fn match_event(e: &OrderMatchEvent) -> Result<Fill> {
    let s = e.symbol.as_str();
    let p = e
        .match_price
        .ok_or_else(|| Error::Mapping {
            what: format!("fill of order {} without a price", e.order_id),
        })
        .and_then(|p| price(s, p))?;
    Ok(Fill {
        account: e.account_no.clone(),
        order_id: e.order_id.clone(),
        client_order_id: ClientOrderId::parse(&e.client_request_id),
        symbol: symbol(s)?,
        side: wire_side_text(&e.side)?,
        price: p,
        quantity: quantity("matchQty", e.match_qty)?,
        time: time_text(e.match_time.as_deref()),
        fill_id: e.notify_id.clone().filter(|n| !n.is_empty()),
    })
}

fn portfolio_event(e: &PortfolioEvent) -> Result<Position> {
    let s = e.symbol.as_str();
    Ok(Position {
        account: e.account_no.clone(),
        symbol: symbol(s)?,
        quantity: quantity("longQty", e.long_qty)?,
        sellable: quantity("longQty", e.long_qty)?,
        short: quantity("shortQty", e.short_qty)?,
        avg_price: opt_price(s, e.bid_avg_price)?,
    })
}

/// A stream event as an account event.
pub(crate) fn account_event(e: StreamEvent) -> Option<Result<AccountEvent>> {
    let out = match e {
        StreamEvent::Gap { reason, .. } => Ok(AccountEvent::Gap { reason }),
        StreamEvent::Connected { reconnect: true } => Ok(AccountEvent::Reconnected),
        StreamEvent::Message { payload, .. } => match *payload {
            Payload::Order(o) => order_event(&o).map(AccountEvent::Order),
            Payload::OrderMatch(m) => match_event(&m).map(AccountEvent::Fill),
            Payload::Portfolio(p) => portfolio_event(&p).map(|p| AccountEvent::Positions(vec![p])),
            Payload::Trade(_)
            | Payload::Bar(_)
            | Payload::Quote(_)
            | Payload::OddLot(_)
            | Payload::Room(_)
            | Payload::Put(_)
            | Payload::Band(_)
            | Payload::Flag(_)
            | Payload::Index(_)
            | Payload::IndexSummary(_)
            | Payload::Fco(_)
            | Payload::Other(_) => return None,
        },
        StreamEvent::Undecodable { topic, error } => Err(Error::Mapping {
            what: format!("{topic}: {error}"),
        }),
        StreamEvent::Ack {
            ok: false,
            message,
            channel,
            ..
        } => Err(ssi(fastconnect::Error::Protocol(format!(
            "subscription to {} refused: {message}",
            channel.unwrap_or_default()
        )))),
        StreamEvent::Failed { error } => Err(ssi(fastconnect::Error::Protocol(error))),
        StreamEvent::Connected { reconnect: false }
        | StreamEvent::Ack { .. }
        | StreamEvent::Subscriptions { .. }
        | StreamEvent::Disconnected { .. } => return None,
    };
    Some(out)
}

fn market_event(e: StreamEvent) -> Option<Result<MarketEvent>> {
    match e {
        StreamEvent::Message { payload, .. } => market_payload(*payload),
        StreamEvent::Gap { reason, .. } => Some(Ok(MarketEvent::Gap { reason })),
        StreamEvent::Connected { reconnect: true } => Some(Ok(MarketEvent::Reconnected)),
        StreamEvent::Undecodable { topic, error } => Some(Err(Error::Mapping {
            what: format!("{topic}: {error}"),
        })),
        StreamEvent::Ack {
            ok: false,
            message,
            channel,
            ..
        } => Some(Err(ssi(fastconnect::Error::Protocol(format!(
            "subscription to {} refused: {message}",
            channel.unwrap_or_default()
        ))))),
        StreamEvent::Failed { error } => Some(Err(ssi(fastconnect::Error::Protocol(error)))),
        StreamEvent::Connected { reconnect: false }
        | StreamEvent::Ack { .. }
        | StreamEvent::Subscriptions { .. }
        | StreamEvent::Disconnected { .. } => None,
    }
}

/// An `orderBook` row as an [`OrderState`].
pub(crate) fn book_row(account: &str, r: &OrderRecord) -> Result<OrderState> {
    let s = r.symbol.as_str();
    let id = ClientOrderId::parse(&r.client_request_id);
    Ok(OrderState {
        account: account.to_owned(),
        order_id: r.order_id.clone(),
        client_order_id: id,
        last_action_id: id,
        symbol: symbol(s)?,
        side: wire_side_text(&r.side)?,
        order_type: r.order_type.as_ref().and_then(order_type),
        price: text_price(s, &r.price)?,
        quantity: quantity("quantity", r.quantity)?,
        filled: quantity("filledQty", r.filled_qty)?,
        cancelled: quantity("cancelQty", r.cancel_qty)?,
        avg_price: opt_price(s, r.avg_price)?,
        status: r
            .order_status
            .as_ref()
            .map_or(OrderStatus::Other(String::new()), status),
        reject_reason: r.message.clone().filter(|m| !m.is_empty()),
        updated_at: time_text(r.modified_time.as_deref().or(r.input_time.as_deref())),
    })
}

/// `position` as [`Position`]s: equity holdings, or derivatives' open positions.
pub(crate) fn positions(account: &str, p: &Positions) -> Result<Vec<Position>> {
    let mut out: Vec<Position> = p
        .equity
        .iter()
        .map(|e: &EquityPosition| {
            let s = e.symbol.as_str();
            Ok(Position {
                account: account.to_owned(),
                symbol: symbol(s)?,
                quantity: quantity("quantity", e.quantity)?,
                sellable: quantity("sellableQuantity", e.sellable_quantity)?,
                short: Quantity::ZERO,
                avg_price: opt_price(s, e.cost_price)?,
            })
        })
        .collect::<Result<_>>()?;
    for d in p.derivative.iter().flat_map(|d| &d.der_open_positions) {
        let s = d.symbol.as_str();
        out.push(Position {
            account: account.to_owned(),
            symbol: symbol(s)?,
            quantity: quantity("long", d.long)?,
            sellable: quantity("long", d.long)?,
            short: quantity("short", d.short)?,
            avg_price: match d.long {
                Some(long) if long > 0 => opt_price(s, d.bid_avg_price)?,
                Some(_) | None => opt_price(s, d.ask_avg_price)?,
            },
        });
    }
    Ok(out)
}

/// `accountBalance` (+ `ppmmrAccount` for buying power) as a [`Balance`].
pub(crate) fn balance(
    account: &str,
    sections: &AccountSections,
    ppmmr: Option<&AccountSections>,
) -> Result<Balance> {
    let read =
        |s: Option<&fastconnect::v3::trading::Section>, key: &str| -> Result<Option<Decimal>> {
            match s {
                Some(s) => s.decimal(key).map_err(ssi),
                None => Ok(None),
            }
        };
    let section = sections.equity.as_ref().or(sections.derivative.as_ref());
    let pp = ppmmr.and_then(|p| p.equity.as_ref().or(p.derivative.as_ref()));
    Ok(Balance {
        account: account.to_owned(),
        cash: vnd(read(section, "accountBalance")?),
        buying_power: vnd(read(pp, "purchasingPower")?),
        withdrawable: vnd(read(section, "withdrawable")?),
    })
}

fn fco_price(sym: &str, limit: Option<Price>) -> FcoPrice {
    match limit {
        Some(p) => FcoPrice::Limit(wire(sym, p)),
        None => FcoPrice::Market(fastconnect::OrderType::Mtl),
    }
}

/// A trailing distance on the wire; it must be above 0.
fn trail_wire(sym: &str, trail: i64) -> Result<Decimal> {
    if trail <= 0 {
        return Err(Error::Invalid(format!(
            "trailing amount {trail} must be above 0"
        )));
    }
    Ok(wire_distance(sym, trail))
}

fn leg(sym: &str, active: Price, limit: Option<Price>) -> Leg {
    Leg {
        active_price: wire(sym, active),
        price: fco_price(sym, limit),
        slip: Decimal::ZERO,
    }
}

/// A conditional order as an FCO.
pub(crate) fn fco(order: &ConditionalRequest) -> Result<NewFco> {
    let s = order.symbol.as_str();
    let trigger = |t: Trigger| match t {
        Trigger::AtOrAbove(p) => (wire(s, p), FcoOperator::GreaterOrEqual),
        Trigger::AtOrBelow(p) => (wire(s, p), FcoOperator::LesserOrEqual),
    };
    let kind = match &order.kind {
        ConditionalKind::Gtd { limit } => FcoKind::Gtd {
            price: FcoPrice::Limit(wire(s, *limit)),
            price_slip: Decimal::ZERO,
        },
        ConditionalKind::Stop { trigger: t } => {
            let (stop_price, operator) = trigger(*t);
            FcoKind::Stop {
                stop_price,
                operator,
            }
        }
        ConditionalKind::StopLimit { trigger: t, limit } => {
            let (stop_price, operator) = trigger(*t);
            FcoKind::StopLimit {
                stop_price,
                operator,
                price: FcoPrice::Limit(wire(s, *limit)),
                price_slip: Decimal::ZERO,
            }
        }
        ConditionalKind::TrailingStop { activation, trail } => FcoKind::TrailingStop {
            active_price: wire(s, *activation),
            trailing_amount: trail_wire(s, *trail)?,
        },
        ConditionalKind::TrailingStopLimit { activation, trail } => FcoKind::TrailingStopLimit {
            active_price: wire(s, *activation),
            trailing_amount: trail_wire(s, *trail)?,
            price_slip: Decimal::ZERO,
        },
        ConditionalKind::Oco {
            take_profit,
            take_profit_limit,
            stop_loss,
            stop_loss_limit,
        } => FcoKind::Oco {
            take_profit: leg(s, *take_profit, *take_profit_limit),
            stop_loss: leg(s, *stop_loss, *stop_loss_limit),
        },
        ConditionalKind::BullBear {
            entry,
            take_profit,
            take_profit_limit,
            stop_loss,
            stop_loss_limit,
        } => FcoKind::BullBear {
            price: FcoPrice::Limit(wire(s, *entry)),
            price_slip: Decimal::ZERO,
            take_profit: leg(s, *take_profit, *take_profit_limit),
            stop_loss: leg(s, *stop_loss, *stop_loss_limit),
        },
    };
    Ok(NewFco {
        account_no: order.account.clone(),
        symbol: s.to_owned(),
        side: wire_side(order.side),
        quantity: order.quantity.units(),
        from: order.from,
        to: order.to,
        kind,
    })
}

/// The domain state of an FCO status (`INIT WAIT TRI TRIT TER FIS WC EXP ERR`).
pub(crate) fn conditional_state(code: &str) -> ConditionalState {
    match code.trim().to_ascii_uppercase().as_str() {
        "INIT" => ConditionalState::Pending,
        "WAIT" => ConditionalState::Active,
        "TRI" | "TRIT" => ConditionalState::Triggered,
        "FIS" => ConditionalState::Finished,
        "WC" => ConditionalState::PendingCancel,
        "TER" => ConditionalState::Cancelled,
        "EXP" => ConditionalState::Expired,
        "ERR" => ConditionalState::Failed,
        _ => ConditionalState::Other(code.trim().to_owned()),
    }
}

/// A number of an FCO's `params` (or `None` for absent, null, empty or a market word).
fn param(info: &FcoInfo, key: &str) -> Result<Option<Decimal>> {
    let bad = |v: &serde_json::Value| Error::Mapping {
        what: format!("FCO {} param {key} {v}", info.fco_id),
    };
    match info.params.as_ref().and_then(|m| m.get(key)) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v @ serde_json::Value::Number(n)) => {
            Decimal::parse(&n.to_string()).map(Some).map_err(|_| bad(v))
        }
        Some(v @ serde_json::Value::String(t)) => {
            let t = t.trim().replace(',', "");
            if t.is_empty() || t.bytes().any(|b| b.is_ascii_alphabetic()) {
                return Ok(None);
            }
            Decimal::parse(&t).map(Some).map_err(|_| bad(v))
        }
        Some(v) => Err(bad(v)),
    }
}

/// The text of an FCO's `params` entry.
fn param_text(info: &FcoInfo, key: &str) -> Option<String> {
    match info.params.as_ref()?.get(key)? {
        serde_json::Value::String(t) => Some(t.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Null
        | serde_json::Value::Bool(_)
        | serde_json::Value::Array(_)
        | serde_json::Value::Object(_) => None,
    }
}

/// The [`ConditionalKind`] an FCO of `fco/list` was placed as; `None` when its type or
/// trigger comparison (`equal`) has no domain form, or a price the kind needs is missing. A
/// strict `greater` / `lesser` reads as [`Trigger::AtOrAbove`] / [`Trigger::AtOrBelow`]
/// (this crate only sends the inclusive ones).
pub(crate) fn fco_kind(info: &FcoInfo) -> Result<Option<ConditionalKind>> {
    let s = info.symbol.as_str();
    let px = |key: &str| -> Result<Option<Price>> { opt_price(s, param(info, key)?) };
    let limit = text_price(s, &info.price)?;
    let trigger = || -> Result<Option<Trigger>> {
        let Some(level) = px("stopPrice")? else {
            return Ok(None);
        };
        let op = param_text(info, "operator")
            .as_deref()
            .and_then(FcoOperator::parse);
        Ok(match op {
            Some(FcoOperator::Greater | FcoOperator::GreaterOrEqual) => {
                Some(Trigger::AtOrAbove(level))
            }
            Some(FcoOperator::Lesser | FcoOperator::LesserOrEqual) => {
                Some(Trigger::AtOrBelow(level))
            }
            Some(FcoOperator::Equal) | None => None,
        })
    };
    let trailing = || -> Result<Option<(Price, i64)>> {
        let activation = px("activePrice")?;
        let trail = param(info, "trailingAmount")?
            .map(|d| distance(s, d))
            .transpose()?
            .filter(|t| *t > 0);
        Ok(activation.zip(trail))
    };
    // Take-profit trigger and limit, stop-loss trigger and limit.
    type Legs = (Price, Option<Price>, Price, Option<Price>);
    let legs = || -> Result<Option<Legs>> {
        let tp = px("tpActivePrice")?;
        let sl = px("slActivePrice")?;
        tp.zip(sl)
            .map(|(tp, sl)| -> Result<Legs> { Ok((tp, px("tpPrice")?, sl, px("slPrice")?)) })
            .transpose()
    };
    Ok(match info.fco_type.trim().to_ascii_lowercase().as_str() {
        "gtd" => limit.map(|limit| ConditionalKind::Gtd { limit }),
        "stop" => trigger()?.map(|trigger| ConditionalKind::Stop { trigger }),
        "stop_limit" => trigger()?
            .zip(limit)
            .map(|(trigger, limit)| ConditionalKind::StopLimit { trigger, limit }),
        "trailing_stop" => trailing()?
            .map(|(activation, trail)| ConditionalKind::TrailingStop { activation, trail }),
        "trailing_stop_limit" => trailing()?
            .map(|(activation, trail)| ConditionalKind::TrailingStopLimit { activation, trail }),
        "oco" => legs()?.map(
            |(take_profit, take_profit_limit, stop_loss, stop_loss_limit)| ConditionalKind::Oco {
                take_profit,
                take_profit_limit,
                stop_loss,
                stop_loss_limit,
            },
        ),
        "bullbear" | "bull_bear" => limit.zip(legs()?).map(
            |(entry, (take_profit, take_profit_limit, stop_loss, stop_loss_limit))| {
                ConditionalKind::BullBear {
                    entry,
                    take_profit,
                    take_profit_limit,
                    stop_loss,
                    stop_loss_limit,
                }
            },
        ),
        _ => None,
    })
}

/// A child order of `fco/orderbook`.
pub(crate) fn conditional_child(row: &FcoOrder) -> Result<Option<ConditionalChild>> {
    let Some(order_id) = row.order_id.clone().filter(|o| !o.trim().is_empty()) else {
        return Ok(None);
    };
    let s = row.symbol.as_str();
    Ok(Some(ConditionalChild {
        order_id,
        side: wire_side_text(&row.side)?,
        price: text_price(s, &row.price)?,
        quantity: quantity("quantity", row.quantity)?,
        filled: quantity("matchedQuantity", row.matched_quantity)?,
        attached: row.is_attached_order == Some(true) && row.is_main_order != Some(true),
        status: status(&fastconnect::OrderStatus::parse(&row.status)),
    }))
}

/// An FCO of `fco/list` with the orders it placed.
pub(crate) fn conditional_order(
    account: &str,
    info: &FcoInfo,
    children: Vec<ConditionalChild>,
) -> Result<ConditionalOrder> {
    let side = param_text(info, "side").unwrap_or_default();
    let side = match fastconnect::Side::parse(&side) {
        Ok(s) => self::side(s),
        Err(_) => {
            // The list names no side of its own: the main child's, else unknown.
            children
                .iter()
                .find(|c| !c.attached)
                .map(|c| c.side)
                .ok_or_else(|| Error::Mapping {
                    what: format!("FCO {} has no side", info.fco_id),
                })?
        }
    };
    Ok(ConditionalOrder {
        account: Some(info.account_no.clone())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| account.to_owned()),
        id: info.fco_id.clone(),
        symbol: symbol(&info.symbol)?,
        side,
        quantity: quantity("quantity", info.quantity)?,
        filled: quantity("matchedQuantity", info.matched_quantity)?,
        kind: fco_kind(info)?,
        state: conditional_state(&info.status),
        detail: info.detail.clone().filter(|d| !d.is_empty()),
        from: info
            .from
            .as_deref()
            .and_then(fastconnect::v3::wire::parse_datetime),
        to: info
            .to
            .as_deref()
            .and_then(fastconnect::v3::wire::parse_datetime),
        children,
    })
}

/// One row of `fco/statusHistory` (`time` is `DD/MM/YYYY HH:MM:SS`, Vietnam time).
pub(crate) fn conditional_step(change: &FcoStatusChange) -> ConditionalStep {
    ConditionalStep {
        state: conditional_state(&change.state),
        time: time_text(Some(&change.time)),
        detail: change.detail.clone().filter(|d| !d.is_empty()),
    }
}

/// The v3 topics of a subscription: one topic per code (SSI splits no comma lists), plus the
/// board session flags when symbols are watched.
pub(crate) fn topics(subscription: &Subscription) -> Result<Vec<Topic>> {
    if subscription.is_empty() {
        return Err(Error::Invalid(
            "subscribe to at least one symbol or index".into(),
        ));
    }
    let codes: Vec<&str> = if subscription.all_symbols {
        vec!["*"]
    } else {
        subscription.symbols.iter().map(Symbol::as_str).collect()
    };
    let mut topics = Vec::new();
    for code in &codes {
        topics.push(Topic::trade(code).map_err(ssi)?);
        topics.push(Topic::quote(code).map_err(ssi)?);
        if subscription.foreign_room {
            topics.push(Topic::of(TopicKind::Room, code).map_err(ssi)?);
        }
        if subscription.bars {
            topics.push(Topic::trade_at(code, Interval::M1).map_err(ssi)?);
        }
        if subscription.odd_lot {
            topics.push(Topic::of(TopicKind::Oddlot, code).map_err(ssi)?);
        }
    }
    let indexes: Vec<&str> = if subscription.all_indexes {
        vec!["*"]
    } else {
        subscription.indexes.iter().map(String::as_str).collect()
    };
    for i in indexes {
        topics.push(Topic::of(TopicKind::TradeIndex, i).map_err(ssi)?);
    }
    if !codes.is_empty() {
        topics.push(Topic::market_flag());
    }
    Ok(topics)
}

fn today() -> Date {
    OffsetDateTime::now_utc().to_offset(VN_OFFSET).date()
}

/// v3 market data.
#[derive(Debug, Clone)]
pub struct V3Data {
    client: fastconnect::v3::Client,
}

impl V3Data {
    /// An adapter over `client` (a data-only session opens on first use).
    pub fn new(client: fastconnect::v3::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl MarketData for V3Data {
    fn generation(&self) -> Generation {
        GEN
    }

    async fn securities(&self, exchange: Exchange) -> Result<Vec<SecurityInfo>> {
        let rows = self
            .client
            .data()
            .securities_by_board(&SecuritySelector::Board(board(exchange)?))
            .await
            .map_err(ssi)?;
        rows.into_iter()
            .map(|r| {
                Ok(SecurityInfo {
                    symbol: symbol(&r.symbol)?,
                    exchange: r
                        .board
                        .as_deref()
                        .and_then(|b| b.parse().ok())
                        .or(Some(exchange)),
                    name: r.symbol_name_en.or(r.symbol_name_vi),
                })
            })
            .collect()
    }

    async fn security_details(&self, exchange: Exchange) -> Result<Vec<SecurityDetail>> {
        let rows = self
            .client
            .data()
            .securities_by_board(&SecuritySelector::Board(board(exchange)?))
            .await
            .map_err(ssi)?;
        rows.into_iter()
            .map(|r| {
                Ok(SecurityDetail {
                    symbol: symbol(&r.symbol)?,
                    exchange: r
                        .board
                        .as_deref()
                        .and_then(|b| b.parse().ok())
                        .unwrap_or(exchange),
                    kind: r.stock_type.as_deref().and_then(instrument_kind),
                    name: r.symbol_name_vi,
                    name_en: r.symbol_name_en,
                    isin: None,
                    lot_size: count(r.lot_size),
                    listed_shares: count(r.listed_share),
                    underlying: r.cw_underlying_symbol,
                    maturity: r.maturity_date,
                    first_trading_day: r.first_trading_date,
                    last_trading_day: r.last_trading_date,
                    sector: r.icb_name.filter(|n| !n.trim().is_empty()),
                })
            })
            .collect()
    }

    async fn indexes(&self, exchange: Exchange) -> Result<Vec<IndexInfo>> {
        let rows = self
            .client
            .data()
            .index_list(Some(board(exchange)?))
            .await
            .map_err(ssi)?;
        Ok(rows
            .into_iter()
            .filter(|r| !r.index.trim().is_empty())
            .map(|r| IndexInfo {
                exchange: r.board.parse().ok().or(Some(exchange)),
                name: Some(r.index_name).filter(|n| !n.trim().is_empty()),
                code: r.index,
            })
            .collect())
    }

    async fn index_components(&self, index: &str) -> Result<Vec<Symbol>> {
        let rows = self
            .client
            .data()
            .securities_by_board(&SecuritySelector::Index(index.to_owned()))
            .await
            .map_err(ssi)?;
        let mut out = rows
            .iter()
            .map(|r| symbol(&r.symbol))
            .collect::<Result<Vec<_>>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn daily_prices(&self, exchange: Exchange, date: Date) -> Result<Vec<DailyPrice>> {
        // `masterdata` lists every board at once: keep `exchange`'s rows of `date`.
        let rows = self
            .client
            .data()
            .master_data_all(date, date)
            .await
            .map_err(ssi)?;
        rows.into_iter()
            .filter(|r| {
                r.board.as_deref().and_then(|b| b.parse::<Exchange>().ok()) == Some(exchange)
                    && r.trading_date.is_none_or(|d| d == date)
            })
            .map(|r| {
                let s = r.symbol.as_str();
                Ok(DailyPrice {
                    symbol: symbol(s)?,
                    exchange: Some(exchange),
                    date,
                    reference: opt_price(s, r.ref_price)?,
                    ceiling: opt_price(s, r.ceiling)?,
                    floor: opt_price(s, r.floor)?,
                    close: None,
                    volume: None,
                    value: None,
                    foreign_room: None,
                })
            })
            .collect()
    }

    async fn snapshot(&self, sym: Symbol, date: Date) -> Result<SecuritySnapshot> {
        let rows = self
            .client
            .data()
            .securities_summary_all(
                &SummarySelector::Symbol(sym.as_str().to_owned()),
                date,
                date,
            )
            .await
            .map_err(ssi)?;
        let row = rows
            .iter()
            .find(|r| r.symbol.eq_ignore_ascii_case(sym.as_str()))
            .ok_or_else(|| Error::NotFound(format!("no summary of {sym} on {date}")))?;
        summary(sym, date, row)
    }

    async fn bars(&self, query: &BarsQuery) -> Result<Vec<Bar>> {
        if query.from > query.to {
            return Err(Error::Invalid(format!(
                "bars from {} after to {}",
                query.from, query.to
            )));
        }
        let q = OhlcQuery {
            symbol: query.symbol.as_str().to_owned(),
            from: PrimitiveDateTime::new(query.from, Time::MIDNIGHT),
            to: PrimitiveDateTime::new(
                query.to,
                Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT),
            ),
            time_frame: time_frame(query.resolution),
        };
        let rows = self.client.data().ohlc_all(&q).await.map_err(ssi)?;
        let mut out = rows
            .iter()
            .map(|b| ohlc_bar(query.symbol, b))
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|b| b.time);
        Ok(out)
    }

    async fn index_history(&self, index: &str, from: Date, to: Date) -> Result<Vec<IndexPoint>> {
        // `ohlc` serves index codes as symbols; a daily bar's close is the day's value.
        let q = OhlcQuery {
            symbol: index.to_owned(),
            from: PrimitiveDateTime::new(from, Time::MIDNIGHT),
            to: PrimitiveDateTime::new(to, Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT)),
            time_frame: TimeFrame::D1,
        };
        let rows = self.client.data().ohlc_all(&q).await.map_err(ssi)?;
        let mut out = rows
            .iter()
            .map(|b| {
                let date = b.time().ok_or_else(|| Error::Mapping {
                    what: format!("bar time {:?}", b.trading_date),
                })?;
                let close = b.close.ok_or_else(|| Error::Mapping {
                    what: format!("{index} on {} without a close", b.trading_date),
                })?;
                Ok(IndexPoint {
                    index: index.to_owned(),
                    date: date.date(),
                    value: index_value(close)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|p| p.date);
        Ok(out)
    }

    async fn stream(&self, subscription: Subscription) -> Result<EventStream<MarketEvent>> {
        let topics = topics(&subscription)?;
        let (handle, events) = self.client.stream().connect(topics).map_err(ssi)?;
        let events =
            futures::stream::unfold(
                events,
                |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
            )
            .boxed();
        Ok(mapped(events, handle, market_event))
    }
}

/// The trading day `orderBook` is asked for.
type TradingDay = Arc<dyn Fn() -> Date + Send + Sync>;

/// v3 trading.
#[derive(Clone)]
pub struct V3Trading {
    client: fastconnect::v3::Client,
    trading: fastconnect::v3::TradingClient,
    today: TradingDay,
}

impl std::fmt::Debug for V3Trading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V3Trading")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl V3Trading {
    /// An adapter over `client`, which must have a private key.
    pub fn new(client: &fastconnect::v3::Client) -> Result<Self> {
        Ok(Self {
            client: client.clone(),
            trading: client.trading().map_err(ssi)?,
            today: Arc::new(today),
        })
    }

    /// Asks v3's `orderBook` (which takes dates) for the day `today` gives instead of the
    /// Vietnam date of the wall clock: for a simulator running another day or faster than
    /// real time.
    #[must_use]
    pub fn with_trading_day(mut self, today: impl Fn() -> Date + Send + Sync + 'static) -> Self {
        self.today = Arc::new(today);
        self
    }

    /// Every order FCO `id` placed, all pages.
    async fn fco_children(&self, id: &str) -> Result<Vec<ConditionalChild>> {
        let mut out = Vec::new();
        for index in 1.. {
            let page = PageRequest::new(index, FCO_PAGE).map_err(ssi)?;
            let got = self.trading.fco_order_book(id, page).await.map_err(ssi)?;
            let n = got.data.len();
            for row in &got.data {
                out.extend(conditional_child(row)?);
            }
            let last = got
                .pages_count
                .map_or(n < FCO_PAGE as usize, |p| i64::from(index) >= p);
            if last || n == 0 {
                break;
            }
        }
        Ok(out)
    }
}

/// Rows asked per page of `fco/list` and `fco/orderbook`.
const FCO_PAGE: u32 = 100;

#[async_trait]
impl Trading for V3Trading {
    fn generation(&self) -> Generation {
        GEN
    }

    async fn place(&self, order: &OrderRequest) -> Result<OrderAck> {
        order.check_price()?;
        let wire_order = NewOrder {
            account_no: order.account.clone(),
            symbol: order.symbol.as_str().to_owned(),
            side: wire_side(order.side),
            quantity: order.quantity.units(),
            price: order.price.map(|p| wire(order.symbol.as_str(), p)),
            order_type: wire_order_type(order.order_type),
            client_request_id: Some(request_id(order.client_order_id)?),
        };
        let ack = self
            .trading
            .place_order(&wire_order)
            .await
            .map_err(|e| Error::from_ssi_order(GEN, order.client_order_id, e))?;
        Ok(OrderAck {
            client_order_id: order.client_order_id,
            order_id: Some(ack.order_id).filter(|o| !o.is_empty()),
            status: ack.order_status.as_ref().map(status),
        })
    }

    async fn amend(&self, amend: &AmendRequest) -> Result<OrderAck> {
        let s = amend.order.symbol.as_str();
        let change = match amend.change {
            Amendment::Price(p) => Modification::Price(wire(s, p)),
            Amendment::Quantity(q) => Modification::Quantity(q.units()),
        };
        let ack = self
            .trading
            .modify_order(&ModifyOrder {
                account_no: amend.order.account.clone(),
                target: OrderRef::OrderId(amend.order.order_id.clone()),
                change,
                client_modify_id: Some(request_id(amend.client_order_id)?),
            })
            .await
            .map_err(|e| Error::from_ssi_order(GEN, amend.client_order_id, e))?;
        Ok(OrderAck {
            client_order_id: amend.client_order_id,
            order_id: Some(ack.order_id)
                .filter(|o| !o.is_empty())
                .or(Some(amend.order.order_id.clone())),
            status: ack.order_status.as_ref().map(status),
        })
    }

    async fn cancel(&self, cancel: &CancelRequest) -> Result<OrderAck> {
        let ack = self
            .trading
            .cancel_order(&CancelOrder {
                account_no: cancel.order.account.clone(),
                target: OrderRef::OrderId(cancel.order.order_id.clone()),
                client_cancel_id: Some(request_id(cancel.client_order_id)?),
            })
            .await
            .map_err(|e| Error::from_ssi_order(GEN, cancel.client_order_id, e))?;
        Ok(OrderAck {
            client_order_id: cancel.client_order_id,
            order_id: Some(ack.order_id)
                .filter(|o| !o.is_empty())
                .or(Some(cancel.order.order_id.clone())),
            status: ack.order_status.as_ref().map(status),
        })
    }

    async fn order_book(&self, account: &str) -> Result<Vec<OrderState>> {
        let day = (self.today)();
        self.order_history(account, day, day).await
    }

    async fn order_history(&self, account: &str, from: Date, to: Date) -> Result<Vec<OrderState>> {
        if from > to {
            return Err(Error::Invalid(format!("history from {from} after to {to}")));
        }
        let rows = self
            .trading
            .order_book_all(&OrderBookQuery {
                account_no: account.to_owned(),
                from,
                to,
                symbol: None,
                order_status: None,
            })
            .await
            .map_err(ssi)?;
        rows.iter().map(|r| book_row(account, r)).collect()
    }

    async fn find_order(&self, account: &str, id: ClientOrderId) -> Result<Option<OrderState>> {
        let book = self.order_book(account).await?;
        Ok(book.into_iter().find(|o| o.client_order_id == Some(id)))
    }

    async fn positions(&self, account: &str) -> Result<Vec<Position>> {
        let p = self.trading.position(account, true).await.map_err(ssi)?;
        positions(account, &p)
    }

    async fn balance(&self, account: &str) -> Result<Balance> {
        let b = self.trading.account_balance(account).await.map_err(ssi)?;
        let pp = self.trading.ppmmr_account(account).await.map_err(ssi)?;
        balance(account, &b, Some(&pp))
    }

    async fn max_quantities(
        &self,
        account: &str,
        sym: Symbol,
        at_price: Price,
    ) -> Result<MaxQuantities> {
        let m = self
            .trading
            .max_buy_sell(account, sym.as_str(), Some(wire(sym.as_str(), at_price)))
            .await
            .map_err(ssi)?;
        Ok(MaxQuantities {
            max_buy: quantity("maxBuyQty", m.max_buy_qty)?,
            max_sell: quantity("maxSellQty", m.max_sell_qty)?,
        })
    }

    async fn account_events(&self, account: &str) -> Result<EventStream<AccountEvent>> {
        let topics = vec![
            Topic::orders(account).map_err(ssi)?,
            Topic::portfolio(account).map_err(ssi)?,
        ];
        let (handle, events) = self.client.stream().connect(topics).map_err(ssi)?;
        let events =
            futures::stream::unfold(
                events,
                |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
            )
            .boxed();
        Ok(mapped(events, handle, account_event))
    }

    async fn session(&self) -> TradingSession {
        let info = self.client.session().await;
        let trading = info
            .as_ref()
            .filter(|i| i.scope == fastconnect::v3::Scope::Trading);
        TradingSession {
            open: trading.is_some(),
            expires_at: trading
                .and_then(|i| i64::try_from(i.refresh_expires_at.max(i.expires_at)).ok())
                .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok()),
            renews_itself: false,
        }
    }

    async fn request_otp(&self) -> Result<OtpRequested> {
        let c = self.client.request_otp().await.map_err(ssi)?;
        Ok(OtpRequested {
            transaction_id: c.transaction_id,
            message: c.message,
        })
    }

    async fn login_otp(&self, code: &secrecy::SecretString) -> Result<TradingSession> {
        use secrecy::ExposeSecret as _;
        let text = code.expose_secret();
        // A Smart-OTP transaction id is not six digits.
        if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
            self.client.login_otp(code).await.map_err(ssi)?;
        } else {
            self.client.login_smart_otp(text).await.map_err(ssi)?;
        }
        Ok(self.session().await)
    }

    fn conditional_support(&self) -> ConditionalSupport {
        ConditionalSupport { broker_held: true }
    }

    async fn place_conditional(&self, order: &ConditionalRequest) -> Result<String> {
        let fco = fco(order)?;
        self.trading.place_fco(&fco).await.map_err(ssi)
    }

    async fn cancel_conditional(&self, _account: &str, id: &str) -> Result<()> {
        self.trading.cancel_fco(id).await.map_err(ssi).map(drop)
    }

    async fn conditional_orders(&self, account: &str) -> Result<Vec<ConditionalOrder>> {
        let query = FcoListQuery {
            account_no: account.to_owned(),
            ..FcoListQuery::default()
        };
        let mut rows = Vec::new();
        for index in 1.. {
            let page = PageRequest::new(index, FCO_PAGE).map_err(ssi)?;
            let got = self.trading.fco_list(&query, page).await.map_err(ssi)?;
            let n = got.data.len();
            rows.extend(got.data);
            let last = got
                .pages_count
                .map_or(n < FCO_PAGE as usize, |p| i64::from(index) >= p);
            if last || n == 0 {
                break;
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for info in &rows {
            let placed = info.is_place_order == Some(true)
                || info.matched_quantity.is_some_and(|m| m > 0)
                || matches!(
                    conditional_state(&info.status),
                    ConditionalState::Triggered | ConditionalState::Finished
                );
            let children = if placed {
                self.fco_children(&info.fco_id).await?
            } else {
                Vec::new()
            };
            out.push(conditional_order(account, info, children)?);
        }
        Ok(out)
    }

    async fn conditional_history(&self, _account: &str, id: &str) -> Result<Vec<ConditionalStep>> {
        if id.trim().is_empty() {
            return Err(Error::Invalid("conditional order id is empty".into()));
        }
        let steps = self.trading.fco_status_history(id).await.map_err(ssi)?;
        Ok(steps.iter().map(conditional_step).collect())
    }
}

#[cfg(test)]
mod tests {
    //! The mappings over v3 wire JSON as SSI sends it (shapes from the SDK 3.3.2 models and
    //! `crates/fastconnect/tests/client/v3_*.rs`): lenient numbers with thousands
    //! separators, prices as words, ids as numbers or strings.

    use std::time::SystemTime;

    use fastconnect::v3::stream::decode_payload;
    use fastconnect::v3::{ApiError, ApiErrorClass, OhlcBar};
    use serde_json::{Value, json};
    use time::macros::{date, datetime};

    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    fn p(units: i64) -> Price {
        Price::new(units).unwrap()
    }

    fn message(topic: &str, data: Value) -> StreamEvent {
        StreamEvent::Message {
            topic: topic.to_owned(),
            channel: None,
            payload: Box::new(decode_payload(topic, data).unwrap()),
        }
    }

    fn market(topic: &str, data: Value) -> MarketEvent {
        market_event(message(topic, data)).unwrap().unwrap()
    }

    fn account(topic: &str, data: Value) -> AccountEvent {
        account_event(message(topic, data)).unwrap().unwrap()
    }

    #[test]
    fn trades_quotes_rooms_bars_and_index_values_are_normalised() {
        let trade = market(
            "trade.SSI",
            json!({"t": "09:15:01", "s": "SSI", "p": "25,350", "q": 100, "si": "B", "v": "1,000"}),
        );
        assert_eq!(
            trade,
            MarketEvent::Trade {
                symbol: sym("SSI"),
                price: p(25_350),
                quantity: Quantity::new(100),
                total_volume: Some(Quantity::new(1_000)),
                time: Some(time::macros::time!(09:15:01)),
            }
        );
        let future = market(
            "trade.VN30F2606",
            json!({"t": "09:15:01", "s": "VN30F2606", "p": "1,312.4", "q": 3}),
        );
        let MarketEvent::Trade { price, .. } = future else {
            panic!("{future:?}")
        };
        assert_eq!(price, p(13_124), "futures in tenths of a point");
        // No price yet: nothing to report.
        assert!(market_event(message("trade.SSI", json!({"s": "SSI", "p": 0, "q": 0}))).is_none());

        let quote = market(
            "quote.SSI",
            json!({"t": "09:15:01", "s": "SSI", "bids": [["25,300", "1,000"], [25250, 500], [0, 0]],
                   "asks": [["25400", 200]]}),
        );
        assert_eq!(
            quote,
            MarketEvent::Quote {
                symbol: sym("SSI"),
                board: Board::Main,
                bids: vec![
                    Level {
                        price: p(25_300),
                        volume: Quantity::new(1_000)
                    },
                    Level {
                        price: p(25_250),
                        volume: Quantity::new(500)
                    },
                ],
                asks: vec![Level {
                    price: p(25_400),
                    volume: Quantity::new(200)
                }],
            }
        );

        let room = market(
            "room.SSI",
            json!({"t": "09:15:01", "s": "SSI", "tr": "1,000,000", "cr": 400000}),
        );
        assert_eq!(
            room,
            MarketEvent::ForeignRoom {
                symbol: sym("SSI"),
                current_room: Some(Quantity::new(400_000)),
                total_room: Some(Quantity::new(1_000_000)),
            }
        );

        let bar = market(
            "trade.SSI@1m",
            json!({"st": "2026-05-04T09:15:00", "t": "09:15:59", "s": "SSI", "o": 25300,
                   "h": "25,400", "l": 25300, "c": 25350, "v": 1200}),
        );
        let MarketEvent::Bar(bar) = bar else {
            panic!("{bar:?}")
        };
        assert_eq!(bar.time, datetime!(2026-05-04 09:15 +7));
        assert_eq!(
            (bar.high, bar.close, bar.volume),
            (p(25_400), p(25_350), Quantity::new(1_200))
        );

        let index = market(
            "trade.index.VN30",
            json!({"s": "VN30", "c": "1,345.67", "cr": 0.5, "adv": 12}),
        );
        assert_eq!(
            index,
            MarketEvent::Index {
                index: "VN30".into(),
                value: crate::IndexValue(134_567),
            }
        );
        let flag = market(
            "market.flag",
            json!({"b": "HOSE", "t": "09:00:00", "f": "ATO"}),
        );
        assert_eq!(
            flag,
            MarketEvent::Status {
                symbol: None,
                status: "HOSE ATO".into(),
            }
        );
        let odd = market(
            "oddlot.SSI",
            json!({"t": "09:15:01", "s": "SSI", "bids": [["25,300", 40]], "asks": []}),
        );
        assert_eq!(
            odd,
            MarketEvent::Quote {
                symbol: sym("SSI"),
                board: Board::OddLot,
                bids: vec![Level {
                    price: p(25_300),
                    volume: Quantity::new(40)
                }],
                asks: vec![],
            }
        );
        // Put-through deals are not in the interface.
        assert!(
            market_event(message("put.SSI", json!({"s": "SSI", "p": 25000, "q": 10}))).is_none()
        );
    }

    #[test]
    fn a_subscription_is_one_topic_per_code() {
        let names = |s: &Subscription| -> Vec<String> {
            topics(s).unwrap().iter().map(ToString::to_string).collect()
        };
        let all = Subscription {
            symbols: vec![sym("SSI"), sym("fpt")],
            indexes: vec!["VN30".into()],
            foreign_room: true,
            bars: true,
            ..Subscription::default()
        };
        assert_eq!(
            names(&all),
            [
                "trade.SSI",
                "quote.SSI",
                "room.SSI",
                "trade.SSI@1m",
                "trade.FPT",
                "quote.FPT",
                "room.FPT",
                "trade.FPT@1m",
                "trade.index.VN30",
                "market.flag",
            ]
        );
        let index_only = Subscription {
            indexes: vec!["VNINDEX".into()],
            ..Subscription::default()
        };
        assert_eq!(names(&index_only), ["trade.index.VNINDEX"]);
        let market = Subscription {
            all_symbols: true,
            symbols: vec![sym("SSI")],
            all_indexes: true,
            odd_lot: true,
            ..Subscription::default()
        };
        assert_eq!(
            names(&market),
            [
                "trade.*",
                "quote.*",
                "oddlot.*",
                "trade.index.*",
                "market.flag"
            ]
        );
        assert!(matches!(
            topics(&Subscription::default()),
            Err(Error::Invalid(_))
        ));
        let bad = Subscription {
            indexes: vec!["VN30,VN100".into()],
            ..Subscription::default()
        };
        assert!(topics(&bad).is_err(), "comma lists are refused");
    }

    #[test]
    fn a_reconnect_is_a_gap_because_v3_has_no_replay() {
        let now = SystemTime::now();
        let gap = StreamEvent::Gap {
            from: now,
            to: now,
            reason: "socket closed".into(),
        };
        assert_eq!(
            account_event(gap.clone()).unwrap().unwrap(),
            AccountEvent::Gap {
                reason: "socket closed".into()
            }
        );
        assert_eq!(
            market_event(gap).unwrap().unwrap(),
            MarketEvent::Gap {
                reason: "socket closed".into()
            }
        );
        assert_eq!(
            account_event(StreamEvent::Connected { reconnect: true })
                .unwrap()
                .unwrap(),
            AccountEvent::Reconnected
        );
        assert!(account_event(StreamEvent::Connected { reconnect: false }).is_none());
        let refused = account_event(StreamEvent::Ack {
            method: "subscribe".into(),
            channel: Some("TRADING".into()),
            ok: false,
            message: "Denied (scope)".into(),
        })
        .unwrap()
        .unwrap_err();
        assert!(refused.to_string().contains("v3"), "{refused}");
        assert!(
            common_error::chain(&refused)
                .to_string()
                .contains("Denied (scope)"),
            "{}",
            common_error::chain(&refused)
        );
        let bad = account_event(StreamEvent::Undecodable {
            topic: "order.1234561".into(),
            error: "bad json".into(),
        })
        .unwrap()
        .unwrap_err();
        assert!(matches!(bad, Error::Mapping { .. }));
    }

    #[test]
    fn order_fill_and_portfolio_events_are_account_events() {
        let order = account(
            "order.1234561",
            json!({"eventType": "orderEvent", "accountNo": "1234561", "clientRequestId": "1002",
                   "orderId": 77, "symbol": "SSI", "side": "B", "orderType": "LO",
                   "price": "25,300", "avgPrice": 0, "quantity": "1,000", "osQty": 1000,
                   "filledQty": 0, "cancelQty": 0, "orderStatus": "QU",
                   "inputTime": "2026-05-04T09:15:01", "notifyId": "5"}),
        );
        let AccountEvent::Order(o) = order else {
            panic!("{order:?}")
        };
        assert_eq!(o.order_id, "77");
        assert_eq!(o.client_order_id, ClientOrderId::new(1002).ok());
        assert_eq!(o.side, market::Side::Buy);
        assert_eq!(o.order_type, Some(market::OrderType::Lo));
        assert_eq!(o.price, Some(p(25_300)));
        assert_eq!(o.quantity, Quantity::new(1_000));
        assert_eq!(o.status, OrderStatus::New);
        assert_eq!(o.avg_price, None);
        assert_eq!(o.updated_at, Some(datetime!(2026-05-04 09:15:01 +7)));

        let ato = account(
            "order.1234561",
            json!({"eventType": "orderEvent", "orderId": "78", "symbol": "SSI", "side": "S",
                   "orderType": "ATO", "price": "ATO", "quantity": 100, "orderStatus": "RJ",
                   "rejectReason": "ORD016: market not open"}),
        );
        let AccountEvent::Order(ato) = ato else {
            panic!("{ato:?}")
        };
        assert_eq!((ato.price, ato.status), (None, OrderStatus::Rejected));
        assert_eq!(
            ato.reject_reason.as_deref(),
            Some("ORD016: market not open")
        );
        // An id this crate did not make (the SDK's random ones) is kept out, not guessed.
        assert_eq!(ato.client_order_id, None);

        let fill = account(
            "order.1234561",
            json!({"eventType": "orderMatchEvent", "accountNo": "1234561", "clientRequestId": "1002",
                   "orderId": "77", "symbol": "SSI", "side": "B", "matchPrice": "25300",
                   "matchQty": "100", "matchTime": "2026-05-04 09:20:00", "notifyId": "9"}),
        );
        assert_eq!(
            fill,
            AccountEvent::Fill(Fill {
                account: "1234561".into(),
                order_id: "77".into(),
                client_order_id: ClientOrderId::new(1002).ok(),
                symbol: sym("SSI"),
                side: market::Side::Buy,
                price: p(25_300),
                quantity: Quantity::new(100),
                time: Some(datetime!(2026-05-04 09:20 +7)),
                fill_id: Some("9".into()),
            })
        );

        let portfolio = account(
            "portfolio.1234568",
            json!({"eventType": "clientPortfolioEvent", "accountNo": "1234568",
                   "symbol": "VN30F2606", "longQty": 2, "shortQty": 0, "net": 2,
                   "bidAvgPrice": "1,310.5"}),
        );
        let AccountEvent::Positions(ps) = portfolio else {
            panic!("{portfolio:?}")
        };
        assert_eq!(ps[0].symbol, sym("VN30F2606"));
        assert_eq!(ps[0].quantity, Quantity::new(2));
        assert_eq!(ps[0].avg_price, Some(p(13_105)));
        // Market data on an account stream is not an account event.
        assert!(account_event(message("trade.SSI", json!({"s": "SSI", "p": 1, "q": 1}))).is_none());
    }

    #[test]
    fn order_book_positions_and_balances_map_from_the_rest_answers() {
        let book: fastconnect::v3::trading::OrderBook = serde_json::from_value(json!({
            "accountNo": "1234561", "totalRecord": 2, "orderList": [
                {"clientRequestId": "1001", "orderId": 9, "instrumentId": "SSI", "buySell": "B",
                 "orderType": "ATO", "price": "ATO", "quantity": 100, "filledQty": "100",
                 "avgPrice": "25,350", "orderStatus": "FF", "modifiedTime": "2026-05-04T09:15:00"},
                {"clientRequestId": "1002", "orderId": "10", "symbol": "SSI", "side": "S",
                 "orderType": "LO", "price": "26000", "quantity": 200, "filledQty": 50,
                 "cancelQty": 150, "orderStatus": "FFPC"},
            ]
        }))
        .unwrap();
        let rows: Vec<OrderState> = book
            .order_list
            .iter()
            .map(|r| book_row("1234561", r))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(rows[0].client_order_id, ClientOrderId::new(1001).ok());
        assert_eq!(rows[0].status, OrderStatus::Filled);
        assert_eq!(rows[0].filled, Quantity::new(100));
        assert_eq!(rows[0].avg_price, Some(p(25_350)));
        assert_eq!(rows[0].price, None);
        assert_eq!(rows[1].side, market::Side::Sell);
        assert_eq!(
            rows[1].status,
            OrderStatus::Cancelled,
            "FFPC: filled partly, rest cancelled"
        );
        assert_eq!(rows[1].cancelled, Quantity::new(150));

        let pos: Positions = serde_json::from_value(json!({
            "equity": [{"accountNo": "1234561", "symbol": "SSI", "quantity": "1,000",
                        "sellableQuantity": 900, "costPrice": "24,500"}],
            "derivative": {"derOpenPositions": [{"symbol": "VN30F2606", "long": 0, "short": 2,
                           "net": -2, "askAvgPrice": "1,300.1"}], "derClosePositions": null}
        }))
        .unwrap();
        let ps = positions("1234561", &pos).unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(
            (ps[0].quantity, ps[0].sellable, ps[0].avg_price),
            (Quantity::new(1_000), Quantity::new(900), Some(p(24_500)))
        );
        assert_eq!(
            (ps[1].quantity, ps[1].short),
            (Quantity::ZERO, Quantity::new(2))
        );

        let sections: AccountSections = serde_json::from_value(json!({
            "equity": {"accountNo": "1234561", "accountBalance": "100,000,000", "withdrawable": 5},
            "derivative": null
        }))
        .unwrap();
        let pp: AccountSections =
            serde_json::from_value(json!({"equity": {"purchasingPower": "250,000,000.5"}}))
                .unwrap();
        let b = balance("1234561", &sections, Some(&pp)).unwrap();
        assert_eq!(b.cash, Some(market::Vnd::new(100_000_000)));
        assert_eq!(b.buying_power, Some(market::Vnd::new(250_000_000)));
        assert_eq!(b.withdrawable, Some(market::Vnd::new(5)));
        let derivative: AccountSections = serde_json::from_value(json!({
            "equity": null, "derivative": {"accountBalance": 7_000_000, "withdrawable": "1,000"}
        }))
        .unwrap();
        let d = balance("1234568", &derivative, None).unwrap();
        assert_eq!(
            (d.cash, d.buying_power),
            (Some(market::Vnd::new(7_000_000)), None)
        );
    }

    #[test]
    fn bars_and_summaries_map_from_the_data_answers() {
        let bar: OhlcBar = serde_json::from_value(json!({
            "symbol": "SSI", "tradingDate": "2026/05/04 09:15:00", "open": "25,350",
            "high": 25400, "low": "25300.0", "close": 25350, "volume": "1,200", "value": "30,420,000"
        }))
        .unwrap();
        let b = ohlc_bar(sym("SSI"), &bar).unwrap();
        assert_eq!(b.time, datetime!(2026-05-04 09:15 +7));
        assert_eq!(
            (b.open, b.low, b.volume),
            (p(25_350), p(25_300), Quantity::new(1_200))
        );
        let fractional: OhlcBar =
            serde_json::from_value(json!({"symbol": "SSI", "tradingDate": "2026/05/04",
                "open": "25,350.5", "high": 1, "low": 1, "close": 1, "volume": 1}))
            .unwrap();
        assert!(matches!(
            ohlc_bar(sym("SSI"), &fractional),
            Err(Error::Mapping { .. })
        ));

        let row: SecuritySummary = serde_json::from_value(json!({
            "symbol": "SSI", "tradingDate": "2026-05-04T00:00:00", "open": "25,000",
            "high": 25500, "low": 24900, "close": "25,350", "totalMatch": "2,493,089",
            "ceiling": 26750, "floor": "23,250", "refPrice": 25000, "remainForeignRoom": "1,000"
        }))
        .unwrap();
        let s = summary(sym("SSI"), date!(2026 - 05 - 04), &row).unwrap();
        assert_eq!(s.date, date!(2026 - 05 - 04));
        assert_eq!(
            (s.reference, s.ceiling, s.floor, s.close),
            (
                Some(p(25_000)),
                Some(p(26_750)),
                Some(p(23_250)),
                Some(p(25_350))
            )
        );
        assert_eq!(s.volume, Some(Quantity::new(2_493_089)));
        assert_eq!(s.foreign_room, Some(Quantity::new(1_000)));
    }

    #[test]
    fn conditional_orders_become_fco() {
        let base = ConditionalRequest {
            account: "1234561".into(),
            symbol: sym("SSI"),
            side: market::Side::Sell,
            quantity: Quantity::new(100),
            from: datetime!(2026-05-04 09:00),
            to: datetime!(2026-05-29 15:00),
            kind: ConditionalKind::Stop {
                trigger: Trigger::AtOrBelow(p(24_000)),
            },
        };
        let stop = fco(&base).unwrap();
        assert_eq!(stop.kind.type_name(), "stop");
        assert_eq!(
            stop.kind,
            FcoKind::Stop {
                stop_price: Decimal::from_i64(24_000),
                operator: FcoOperator::LesserOrEqual,
            }
        );
        assert_eq!((stop.account_no.as_str(), stop.quantity), ("1234561", 100));

        let oco = fco(&ConditionalRequest {
            kind: ConditionalKind::Oco {
                take_profit: p(27_000),
                take_profit_limit: Some(p(26_900)),
                stop_loss: p(24_000),
                stop_loss_limit: None,
            },
            ..base.clone()
        })
        .unwrap();
        let FcoKind::Oco {
            take_profit,
            stop_loss,
        } = oco.kind
        else {
            panic!("{:?}", oco.kind)
        };
        assert_eq!(
            take_profit.price,
            FcoPrice::Limit(Decimal::from_i64(26_900))
        );
        assert_eq!(
            stop_loss.price,
            FcoPrice::Market(fastconnect::OrderType::Mtl)
        );

        let trailing = fco(&ConditionalRequest {
            symbol: sym("VN30F2606"),
            kind: ConditionalKind::TrailingStop {
                activation: p(13_000),
                trail: 25,
            },
            ..base.clone()
        })
        .unwrap();
        assert_eq!(
            trailing.kind,
            FcoKind::TrailingStop {
                active_price: Decimal::parse("1300.0").unwrap(),
                trailing_amount: Decimal::parse("2.5").unwrap(),
            }
        );
        let bad = fco(&ConditionalRequest {
            kind: ConditionalKind::TrailingStop {
                activation: p(13_000),
                trail: 0,
            },
            ..base
        });
        assert!(matches!(bad, Err(Error::Invalid(_))));
    }

    #[test]
    fn gtd_trailing_stop_limit_and_bull_bear_become_fco() {
        let base = ConditionalRequest {
            account: "1234561".into(),
            symbol: sym("SSI"),
            side: market::Side::Buy,
            quantity: Quantity::new(100),
            from: datetime!(2026-05-04 09:00),
            to: datetime!(2026-05-29 15:00),
            kind: ConditionalKind::Gtd { limit: p(24_000) },
        };
        let gtd = fco(&base).unwrap();
        assert_eq!(gtd.kind.type_name(), "gtd");
        assert_eq!(
            gtd.kind,
            FcoKind::Gtd {
                price: FcoPrice::Limit(Decimal::from_i64(24_000)),
                price_slip: Decimal::ZERO,
            }
        );

        let tsl = fco(&ConditionalRequest {
            symbol: sym("VN30F2606"),
            kind: ConditionalKind::TrailingStopLimit {
                activation: p(13_000),
                trail: 15,
            },
            ..base.clone()
        })
        .unwrap();
        assert_eq!(tsl.kind.type_name(), "trailing_stop_limit");
        assert_eq!(
            tsl.kind,
            FcoKind::TrailingStopLimit {
                active_price: Decimal::parse("1300.0").unwrap(),
                trailing_amount: Decimal::parse("1.5").unwrap(),
                price_slip: Decimal::ZERO,
            }
        );
        let bad = fco(&ConditionalRequest {
            kind: ConditionalKind::TrailingStopLimit {
                activation: p(13_000),
                trail: -5,
            },
            ..base.clone()
        });
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");

        let bb = fco(&ConditionalRequest {
            kind: ConditionalKind::BullBear {
                entry: p(25_000),
                take_profit: p(27_000),
                take_profit_limit: Some(p(26_900)),
                stop_loss: p(24_000),
                stop_loss_limit: None,
            },
            ..base
        })
        .unwrap();
        assert_eq!(bb.kind.type_name(), "bullbear");
        assert_eq!(
            bb.kind,
            FcoKind::BullBear {
                price: FcoPrice::Limit(Decimal::from_i64(25_000)),
                price_slip: Decimal::ZERO,
                take_profit: Leg {
                    active_price: Decimal::from_i64(27_000),
                    price: FcoPrice::Limit(Decimal::from_i64(26_900)),
                    slip: Decimal::ZERO,
                },
                stop_loss: Leg {
                    active_price: Decimal::from_i64(24_000),
                    price: FcoPrice::Market(fastconnect::OrderType::Mtl),
                    slip: Decimal::ZERO,
                },
            }
        );
    }

    /// An `fco/list` row as SSI documents it (reference §4: `params` carry the triggers).
    fn fco_row(kind: &str, price: Value, params: Value) -> FcoInfo {
        serde_json::from_value(json!({
            "fcoId": 42, "username": "key", "accountNo": "1234561", "symbol": "SSI",
            "type": kind, "quantity": "1,000", "price": price, "priceSlip": 0,
            "from": "2026/05/04 09:00:00", "to": "2026/05/29 15:00:00",
            "matchedQuantity": 300, "isPlaceOrder": true, "status": "TRIT",
            "detail": "Order 7 placed", "orderType": "LO", "params": params,
        }))
        .unwrap()
    }

    #[test]
    fn fco_list_rows_read_back_as_conditional_orders() {
        let stop = fco_row(
            "stop",
            json!("MTL"),
            json!({"stopPrice": "24,000", "operator": "4", "side": "S", "activePrice": 0,
                   "trailingAmount": 0, "tpActivePrice": 0, "slActivePrice": 0,
                   "tpPrice": null, "slPrice": null}),
        );
        let child = ConditionalChild {
            order_id: "7".into(),
            side: market::Side::Sell,
            price: None,
            quantity: Quantity::new(1_000),
            filled: Quantity::new(300),
            attached: false,
            status: OrderStatus::PartiallyFilled,
        };
        let order = conditional_order("1234561", &stop, vec![child.clone()]).unwrap();
        assert_eq!(
            order,
            ConditionalOrder {
                account: "1234561".into(),
                id: "42".into(),
                symbol: sym("SSI"),
                side: market::Side::Sell,
                quantity: Quantity::new(1_000),
                filled: Quantity::new(300),
                kind: Some(ConditionalKind::Stop {
                    trigger: Trigger::AtOrBelow(p(24_000)),
                }),
                state: ConditionalState::Triggered,
                detail: Some("Order 7 placed".into()),
                from: Some(datetime!(2026-05-04 09:00)),
                to: Some(datetime!(2026-05-29 15:00)),
                children: vec![child],
            }
        );

        let kind =
            |k: &str, price: Value, params: Value| fco_kind(&fco_row(k, price, params)).unwrap();
        assert_eq!(
            kind("gtd", json!("24000"), json!({"side": "B"})),
            Some(ConditionalKind::Gtd { limit: p(24_000) })
        );
        assert_eq!(
            kind(
                "stop_limit",
                json!(24_100),
                json!({"stopPrice": 24_000.0, "operator": "greater_or_equal"})
            ),
            Some(ConditionalKind::StopLimit {
                trigger: Trigger::AtOrAbove(p(24_000)),
                limit: p(24_100),
            })
        );
        assert_eq!(
            kind(
                "trailing_stop_limit",
                json!(""),
                json!({"activePrice": 25_000, "trailingAmount": "200"})
            ),
            Some(ConditionalKind::TrailingStopLimit {
                activation: p(25_000),
                trail: 200,
            })
        );
        assert_eq!(
            kind(
                "trailing_stop",
                json!("MTL"),
                json!({"activePrice": 25_000, "trailingAmount": 150})
            ),
            Some(ConditionalKind::TrailingStop {
                activation: p(25_000),
                trail: 150,
            })
        );
        let legs = json!({"tpActivePrice": 27_000, "slActivePrice": 24_000,
                          "tpPrice": "26900", "slPrice": "MP"});
        assert_eq!(
            kind("oco", json!("MP"), legs.clone()),
            Some(ConditionalKind::Oco {
                take_profit: p(27_000),
                take_profit_limit: Some(p(26_900)),
                stop_loss: p(24_000),
                stop_loss_limit: None,
            })
        );
        assert_eq!(
            kind("bullbear", json!("25000"), legs),
            Some(ConditionalKind::BullBear {
                entry: p(25_000),
                take_profit: p(27_000),
                take_profit_limit: Some(p(26_900)),
                stop_loss: p(24_000),
                stop_loss_limit: None,
            })
        );
        // A strict comparison (SSI's numeric code 2: greater) reads as the inclusive one.
        assert_eq!(
            kind(
                "stop",
                json!("MTL"),
                json!({"stopPrice": 24_000, "operator": 2})
            ),
            Some(ConditionalKind::Stop {
                trigger: Trigger::AtOrAbove(p(24_000)),
            })
        );
        // No domain form: an equality trigger, an unknown type, a missing trigger.
        assert_eq!(
            kind(
                "stop",
                json!("MTL"),
                json!({"stopPrice": 24_000, "operator": "equal"})
            ),
            None
        );
        assert_eq!(kind("iceberg", json!("24000"), json!({})), None);
        assert_eq!(kind("stop", json!("MTL"), json!({"operator": "0"})), None);
        // A price that is not whole units is a mapping error, not a silent None.
        assert!(fco_kind(&fco_row("gtd", json!("24000.5"), json!({}))).is_err());
        assert!(
            fco_kind(&fco_row(
                "trailing_stop",
                json!("MTL"),
                json!({"activePrice": 25_000, "trailingAmount": [1]})
            ))
            .is_err()
        );
    }

    #[test]
    fn fco_states_children_and_history_are_normalised() {
        let states = [
            "INIT", "wait", "TRI", "TRIT", "FIS", "WC", "TER", "EXP", "ERR", "NEW",
        ]
        .map(conditional_state);
        assert_eq!(
            states,
            [
                ConditionalState::Pending,
                ConditionalState::Active,
                ConditionalState::Triggered,
                ConditionalState::Triggered,
                ConditionalState::Finished,
                ConditionalState::PendingCancel,
                ConditionalState::Cancelled,
                ConditionalState::Expired,
                ConditionalState::Failed,
                ConditionalState::Other("NEW".into()),
            ]
        );
        let finals: Vec<bool> = states.iter().map(ConditionalState::is_final).collect();
        assert_eq!(
            finals,
            [
                false, false, false, false, true, false, true, true, true, false
            ]
        );

        let row: FcoOrder = serde_json::from_value(json!({
            "fcoId": "42", "accountNo": "1234561", "symbol": "SSI", "side": "S",
            "orderType": "LO", "quantity": 100, "price": "26,900", "isMainOrder": false,
            "isAttachedOrder": true, "orderId": 9, "matchedQuantity": 0, "osQuantity": 100,
            "avgPrice": 0, "status": "QU", "detail": "",
        }))
        .unwrap();
        assert_eq!(
            conditional_child(&row).unwrap(),
            Some(ConditionalChild {
                order_id: "9".into(),
                side: market::Side::Sell,
                price: Some(p(26_900)),
                quantity: Quantity::new(100),
                filled: Quantity::ZERO,
                attached: true,
                status: OrderStatus::New,
            })
        );
        // A row without an order id (not sent yet) is no child.
        let unsent: FcoOrder =
            serde_json::from_value(json!({"fcoId": "42", "symbol": "SSI", "side": "B"})).unwrap();
        assert_eq!(conditional_child(&unsent).unwrap(), None);

        let change: FcoStatusChange = serde_json::from_value(json!({
            "state": "TRI", "time": "04/05/2026 09:15:02", "code": "TRI", "detail": "Triggered at 24000",
        }))
        .unwrap();
        assert_eq!(
            conditional_step(&change),
            ConditionalStep {
                state: ConditionalState::Triggered,
                time: Some(datetime!(2026-05-04 09:15:02 +7)),
                detail: Some("Triggered at 24000".into()),
            }
        );
    }

    #[test]
    fn a_409_is_a_duplicate_and_ids_travel_as_client_request_ids() {
        let api = ApiError {
            endpoint: "/api/v3/trading/order".into(),
            http_status: 409,
            code: Some(409),
            message: "Duplicate clientRequestId".into(),
            class: ApiErrorClass::Duplicate,
            retry_after: None,
        };
        let id = ClientOrderId::new(1001).unwrap();
        let err = Error::from_ssi_order(GEN, id, fastconnect::Error::Api(Box::new(api)));
        assert!(matches!(err, Error::Duplicate { client_order_id, .. } if client_order_id == id));
        assert_eq!(request_id(id).unwrap().as_str(), "1001");
        assert_eq!(
            status(&fastconnect::OrderStatus::parse("PD")),
            OrderStatus::PendingNew
        );
        assert_eq!(text_price("SSI", "MTL").unwrap(), None);
        assert_eq!(text_price("SSI", "25,300").unwrap(), Some(p(25_300)));
        assert!(text_price("SSI", "25.3.0").is_err());
    }
}
