//! Order entry: pre-trade checks, holds, acceptance and placing orders in the book.

use market::foreign::ForeignRoom;
use market::order::funding_price;
use market::session::TimeOfDay;
use market::ticker::{TickerKind, classify_with};
use market::{
    Board, InstrumentKind, OrderContext, OrderType, Phase, Price, Quantity, Side, Symbol, Vnd,
    validate_order,
};
use time::Date;

use super::{Clock, Engine, Instrument, opposite};
use crate::account::Account;
use crate::book::BookEntry;
use crate::error::Error;
use crate::types::{
    Event, OrderId, OrderRecord, OrderRequest, OrderStatus, RejectReason, TradeKind,
};

impl Engine {
    /// Enters an order: pre-trade checks with `market::validate_order` (exchange rules
    /// and account facts: buying power, sellable quantity, foreign room, futures position)
    /// plus a fee-inclusive hold check, then matching per the board's phase. Emits
    /// `OrderAccepted` then fills, or `OrderRejected`.
    pub fn submit(&mut self, req: OrderRequest) -> Result<OrderId, Error> {
        let id = self.next_order_id()?;
        let clock = self.state.clock;
        let mut rec = OrderRecord {
            id,
            account: req.account.clone(),
            symbol: req.symbol,
            board: req.board,
            side: req.side,
            order_type: req.order_type,
            price: req.price,
            quantity: req.quantity,
            filled: Quantity::ZERO,
            filled_value: Vnd::ZERO,
            status: OrderStatus::Queued,
            date: clock.map_or(Date::MIN, |c| c.date),
            entered_at: clock.map_or(TimeOfDay::from_seconds(0), |c| c.time),
            entered_phase: Phase::Closed,
            converted: false,
            seq: 0,
            resting: false,
        };
        match self.check_new(&req) {
            Ok((hold, phase, plo_price)) => {
                rec.entered_phase = phase;
                if req.order_type == OrderType::Plo {
                    rec.price = plo_price;
                }
                self.accept(rec, hold)?;
                match phase {
                    Phase::Continuous => self.match_continuous(id, TradeKind::Continuous)?,
                    Phase::PloMatching => self.match_continuous(id, TradeKind::PostClose)?,
                    Phase::Closed
                    | Phase::PreOpen
                    | Phase::OpeningAuction
                    | Phase::Break
                    | Phase::PeriodicAuction(_)
                    | Phase::ClosingAuction
                    | Phase::PloCollection
                    | Phase::PutThrough
                    | Phase::PutThroughAfterHours
                    | Phase::PutThroughOnly
                    | Phase::Halted => self.rest(id)?,
                }
                Ok(id)
            }
            Err(reason) => {
                rec.status = OrderStatus::Rejected;
                self.state.orders.insert(rec.id, rec.clone());
                self.emit(Event::OrderRejected {
                    order: rec,
                    reason: reason.clone(),
                });
                Err(Error::Rejected { order: id, reason })
            }
        }
    }

    /// Checks a new order; returns the hold, the board phase and the PLO price.
    fn check_new(&self, req: &OrderRequest) -> Result<(Vnd, Phase, Option<Price>), RejectReason> {
        let clock = self.state.clock.ok_or(RejectReason::ClockNotSet)?;
        if req.board == Board::PutThrough {
            return Err(RejectReason::PutThroughNotMatched);
        }
        let acct =
            self.state
                .accounts
                .get(&req.account)
                .ok_or_else(|| RejectReason::UnknownAccount {
                    account: req.account.clone(),
                })?;
        let inst = self
            .state
            .instruments
            .get(&req.symbol)
            .ok_or(RejectReason::UnknownSecurity { symbol: req.symbol })?;
        let session = self
            .session_now(inst, req.board)
            .map_err(|_| RejectReason::ClockNotSet)?;
        let order = market::Order {
            side: req.side,
            order_type: req.order_type,
            board: req.board,
            price: req.price,
            quantity: req.quantity,
        };
        let ctx = self
            .context(acct, inst, req.board, req.side, session.phase, clock)
            .map_err(|_| RejectReason::Overflow)?;
        validate_order(&order, &inst.security, &session, &ctx)
            .map_err(|violations| RejectReason::Rules { violations })?;
        let plo_price = if req.order_type == OrderType::Plo {
            inst.closing_price
        } else {
            req.price
        };
        let hold = self
            .required_hold(acct, inst, req.side, plo_price, req.quantity)
            .map_err(|_| RejectReason::Overflow)?;
        let bp = ctx.buying_power.unwrap_or(Vnd::ZERO);
        if hold > bp && !acct.investor.uses_non_prefunding() {
            return Err(RejectReason::InsufficientBuyingPower {
                required: hold,
                available: bp,
            });
        }
        Ok((hold, session.phase, plo_price))
    }

    pub(super) fn context<'a>(
        &'a self,
        acct: &Account,
        inst: &Instrument,
        board: Board,
        side: Side,
        phase: Phase,
        clock: Clock,
    ) -> Result<OrderContext<'a>, Error> {
        let sec = &inst.security;
        let futures = sec.kind == InstrumentKind::IndexFuture;
        let sellable = if !futures && side == Side::Sell {
            Some(acct.sellable(
                &self.rules,
                &self.calendar,
                &sec.symbol,
                clock.date,
                clock.time,
            )?)
        } else {
            None
        };
        let opposite_in_auction = phase.is_call_auction()
            && acct.working.iter().any(|id| {
                self.order(*id).is_some_and(|o| {
                    o.symbol == sec.symbol
                        && o.board == board
                        && o.side != side
                        && o.date == clock.date
                        && o.entered_phase == phase
                })
            });
        Ok(OrderContext {
            rules: &self.rules,
            investor: acct.investor,
            buying_power: Some(acct.buying_power()?),
            sellable,
            foreign_room: inst.foreign_room.map(|r| r.current),
            has_closing_price: inst.closing_fixed && inst.closing_price.is_some(),
            opposite_order_in_auction: opposite_in_auction,
            opposite_side_empty: inst.board(board).book.is_side_empty(opposite(side)),
            futures_position: if futures {
                self.futures_in_scope(acct, sec.symbol)
            } else {
                None
            },
        })
    }

    /// Net futures position in scope for the position limit (`LotRules::position_in_scope`).
    fn futures_in_scope(&self, acct: &Account, symbol: Symbol) -> Option<i64> {
        let contract = |s: &Symbol| match classify_with(s.as_str(), &self.rules.tickers) {
            Ok(TickerKind::Future { contract, .. }) => Some(contract),
            Ok(
                TickerKind::Stock
                | TickerKind::Etf
                | TickerKind::FundCertificate
                | TickerKind::CoveredWarrant { .. }
                | TickerKind::FutureAlias(_),
            )
            | Err(_) => None,
        };
        let this = contract(&symbol)?;
        let positions: Vec<_> = acct
            .futures
            .iter()
            .filter_map(|(s, f)| contract(s).map(|c| (c, f.net)))
            .collect();
        Some(self.rules.lots.position_in_scope(&positions, &this))
    }

    /// Cash an open order ties up: equities buy = value at the funding price
    /// (`market::order::funding_price`: its price, or the ceiling for orders without one)
    /// plus fees; futures = initial margin on the contracts that add exposure plus fees
    /// (reference §7.1, §7.4, §8).
    pub(super) fn required_hold(
        &self,
        acct: &Account,
        inst: &Instrument,
        side: Side,
        price: Option<Price>,
        remaining: Quantity,
    ) -> Result<Vnd, Error> {
        if remaining == Quantity::ZERO {
            return Ok(Vnd::ZERO);
        }
        let sec = &inst.security;
        let price = funding_price(price, sec.limits).ok_or(Error::NoLimits(sec.symbol))?;
        match sec.kind {
            InstrumentKind::IndexFuture => {
                let before = acct.futures.get(&sec.symbol).map_or(0, |f| f.net);
                let q = remaining.as_i64()?;
                let after = match side {
                    Side::Buy => before.saturating_add(q),
                    Side::Sell => before.saturating_sub(q),
                };
                let opening = after.unsigned_abs().saturating_sub(before.unsigned_abs());
                let margin = self
                    .rules
                    .settlement
                    .futures_initial_margin(price, opening)?;
                let cost = acct.cost(&self.rules, sec.kind, side, price, remaining)?;
                Ok(margin.checked_add(cost.total_cost)?)
            }
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::CoveredWarrant
            | InstrumentKind::Bond => match side {
                Side::Sell => Ok(Vnd::ZERO),
                Side::Buy => {
                    let cost = acct.cost(&self.rules, sec.kind, side, price, remaining)?;
                    Ok(cost.net_cash.checked_neg()?)
                }
            },
        }
    }

    pub(super) fn accept(&mut self, mut rec: OrderRecord, hold: Vnd) -> Result<(), Error> {
        rec.seq = self.next_seq();
        let id = rec.id;
        let kind = self.instrument_ref(rec.symbol)?.security.kind;
        let (sym, side, q) = (rec.symbol, rec.side, rec.quantity);
        let acct = self.account_mut(&rec.account)?;
        acct.set_hold(id, hold)?;
        acct.working.insert(id);
        let foreign = acct.investor.is_foreign();
        if side == Side::Sell && kind.is_cash_equity() {
            acct.add_sell_hold(sym, q, Quantity::ZERO);
        }
        if foreign && side == Side::Buy && kind.is_cash_equity() {
            let inst = self.instrument_mut(sym)?;
            if let Some(room) = inst.foreign_room {
                inst.foreign_room = Some(room.reserve(q).unwrap_or(ForeignRoom {
                    current: Quantity::ZERO,
                    ..room
                }));
            }
        }
        self.state.orders.insert(rec.id, rec.clone());
        self.emit(Event::OrderAccepted { order: rec });
        Ok(())
    }

    pub(super) fn rest(&mut self, id: OrderId) -> Result<(), Error> {
        let o = self.record_mut(id)?;
        if o.resting || o.status.is_final() {
            return Ok(());
        }
        o.resting = true;
        let entry = BookEntry {
            side: o.side,
            price: o.price,
            seq: o.seq,
            order: id,
        };
        let (sym, board) = (o.symbol, o.board);
        self.instrument_mut(sym)?
            .board_mut(board)
            .book
            .insert(entry);
        Ok(())
    }

    pub(super) fn unrest(&mut self, id: OrderId) -> Result<(), Error> {
        let o = self.record_mut(id)?;
        if !o.resting {
            return Ok(());
        }
        o.resting = false;
        let (sym, board, side, price, seq) = (o.symbol, o.board, o.side, o.price, o.seq);
        self.instrument_mut(sym)?
            .board_mut(board)
            .book
            .remove(side, price, seq);
        Ok(())
    }

    /// Recomputes the cash hold of an order for its open quantity.
    pub(super) fn refresh_hold(&mut self, id: OrderId) -> Result<(), Error> {
        let o = self.record(id)?;
        let remaining = if o.status.is_final() {
            Quantity::ZERO
        } else {
            o.remaining()
        };
        let acct = self.account_ref(&o.account)?;
        let inst = self.instrument_ref(o.symbol)?;
        let hold = self.required_hold(acct, inst, o.side, o.price, remaining)?;
        let account = o.account.clone();
        self.account_mut(&account)?.set_hold(id, hold)
    }
}

#[cfg(test)]
mod tests;
