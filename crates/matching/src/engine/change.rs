//! Cancel and amend on request (reference §3.3), and the end of an order's open part
//! (cancel, expiry) with the release of what it held.

use market::foreign::ForeignRoom;
use market::order::{Amendment, ChangeViolation, Priority, check_amend, check_cancel};
use market::{
    OrderContext, Phase, Price, Quantity, Side, Symbol, Violation, Violations, Vnd, validate_order,
};

use super::{Close, Engine, overflow};
use crate::error::Error;
use crate::types::{
    AccountId, CancelReason, ChangeRejection, Event, OrderId, OrderRecord, OrderStatus, TradeKind,
};

impl Engine {
    /// Ends the open part of an order: out of the book, holds and room released, event.
    pub(super) fn close_open(&mut self, id: OrderId, how: Close) -> Result<(), Error> {
        self.unrest(id)?;
        let o = self.record_mut(id)?;
        if o.status.is_final() {
            return Ok(());
        }
        let open = o.remaining();
        o.status = match how {
            Close::Cancel(_) => OrderStatus::Cancelled,
            Close::Expire => OrderStatus::Expired,
        };
        let (account, sym, side, filled) = (o.account.clone(), o.symbol, o.side, o.filled);
        self.release(&account, sym, side, id, open)?;
        self.emit(match how {
            Close::Cancel(reason) => Event::OrderCancelled {
                order: id,
                account,
                symbol: sym,
                cancelled: open,
                filled,
                reason,
            },
            Close::Expire => Event::OrderExpired {
                order: id,
                account,
                symbol: sym,
                expired: open,
                filled,
            },
        });
        Ok(())
    }

    /// Releases what an order's open quantity `open` held: cash hold, sell hold, foreign
    /// room (reference §9: room restored on cancel/expiry).
    fn release(
        &mut self,
        account: &AccountId,
        sym: Symbol,
        side: Side,
        id: OrderId,
        open: Quantity,
    ) -> Result<(), Error> {
        let kind = self.instrument_ref(sym)?.security.kind;
        let acct = self.account_mut(account)?;
        acct.working.remove(&id);
        acct.set_hold(id, Vnd::ZERO)?;
        let foreign = acct.investor.is_foreign();
        if kind.is_cash_equity() {
            match side {
                Side::Sell => acct.add_sell_hold(sym, Quantity::ZERO, open),
                Side::Buy => {
                    if foreign {
                        let inst = self.instrument_mut(sym)?;
                        inst.foreign_room = inst.foreign_room.map(|r| r.release(open));
                    }
                }
            }
        }
        Ok(())
    }

    /// Cancels the open part of an order on request, if `market::order::check_cancel`
    /// allows it now (reference §3.3: not in call auctions, the break, PCA blackouts, PLO,
    /// executed deals).
    pub fn cancel(&mut self, id: OrderId) -> Result<(), Error> {
        match self.check_cancel_now(id) {
            Ok(()) => self.close_open(id, Close::Cancel(CancelReason::Requested)),
            Err(reason) => {
                self.emit(Event::CancelRejected {
                    order: id,
                    reason: reason.clone(),
                });
                Err(Error::ChangeRefused { order: id, reason })
            }
        }
    }

    pub(super) fn working(&self, id: OrderId) -> Result<&OrderRecord, ChangeRejection> {
        let o = self
            .order(id)
            .ok_or(ChangeRejection::UnknownOrder { order: id })?;
        if o.status.is_final() {
            return Err(ChangeRejection::NotWorking {
                order: id,
                status: o.status,
            });
        }
        Ok(o)
    }

    fn check_cancel_now(&self, id: OrderId) -> Result<(), ChangeRejection> {
        let o = self.working(id)?;
        let inst = self
            .instrument_ref(o.symbol)
            .map_err(|_| ChangeRejection::UnknownOrder { order: id })?;
        let session = self
            .session_now(inst, o.board)
            .map_err(|_| ChangeRejection::UnknownOrder { order: id })?;
        check_cancel(
            &o.as_market_order(),
            o.filled,
            &session,
            self.rules.sessions.pca_amend_blackout_minutes,
        )
        .map_err(|violation| ChangeRejection::Window { violation })
    }

    /// Amends price **or** quantity (new total) of a working order, if
    /// `market::order::check_amend` allows it now (reference §3.3). A price change or a
    /// quantity increase loses time priority (re-queued, and re-matched in continuous
    /// trading); a decrease keeps it. The amended order must pass `validate_order`. A
    /// refusal changes nothing and emits `AmendRejected`.
    pub fn amend(&mut self, id: OrderId, amendment: Amendment) -> Result<Priority, Error> {
        self.amend_all(id, &[amendment])
    }

    /// Amends a working order with several amendments as one request, all or nothing
    /// (SSI's ModifyOrder may change price and quantity at once, which reference §3.3
    /// makes two amendments). Each amendment is checked with `market::order::check_amend`
    /// on the order as the ones before it leave it, then the amended order as a whole
    /// against the exchange and account rules, before anything changes: one refused part
    /// refuses the request (one `AmendRejected`, the order untouched). Otherwise one
    /// `OrderAmended` carries the new price and quantity; priority is lost if any part
    /// loses it. An empty list, or one that ends where it began, is refused as no change.
    pub fn amend_all(&mut self, id: OrderId, amendments: &[Amendment]) -> Result<Priority, Error> {
        match self.check_amend_now(id, amendments) {
            Ok(amended) => {
                self.apply_amend(id, amended)?;
                Ok(amended.priority)
            }
            Err(reason) => {
                self.emit(Event::AmendRejected {
                    order: id,
                    reason: reason.clone(),
                });
                Err(Error::ChangeRefused { order: id, reason })
            }
        }
    }

    fn check_amend_now(
        &self,
        id: OrderId,
        amendments: &[Amendment],
    ) -> Result<Amended, ChangeRejection> {
        let o = self.working(id)?;
        let unknown = |_| ChangeRejection::UnknownOrder { order: id };
        let inst = self.instrument_ref(o.symbol).map_err(unknown)?;
        let acct = self.account_ref(&o.account).map_err(unknown)?;
        let clock = self.clock_now().map_err(unknown)?;
        let session = self.session_now(inst, o.board).map_err(unknown)?;
        // The window and the priority, one amendment at a time on the order as the ones
        // before it leave it.
        let no_change = || ChangeRejection::Window {
            violation: ChangeViolation::NoChange,
        };
        let mut amended = o.as_market_order();
        let (mut new_price, mut new_qty) = (o.price, o.quantity);
        let mut priority = None;
        for &amendment in amendments {
            let p = check_amend(
                &amended,
                o.filled,
                amendment,
                &session,
                self.rules.sessions.pca_amend_blackout_minutes,
            )
            .map_err(|violation| ChangeRejection::Window { violation })?;
            if priority != Some(Priority::Lost) {
                priority = Some(p);
            }
            match amendment {
                Amendment::Price(p) => (new_price, amended.price) = (Some(p), Some(p)),
                Amendment::Quantity(q) => (new_qty, amended.quantity) = (q, q),
            }
        }
        let priority = priority.ok_or_else(no_change)?;
        if (new_price, new_qty) == (o.price, o.quantity) {
            return Err(no_change());
        }
        // Exchange rules (tick, band, lot, maximum) on the amended order.
        let ctx = OrderContext::exchange_only(&self.rules, acct.investor);
        validate_order(&amended, &inst.security, &session, &ctx)
            .map_err(|violations| ChangeRejection::Rules { violations })?;
        // Account facts: the amended open quantity against what this order already holds.
        let new_open = new_qty.saturating_sub(o.filled);
        let old_open = o.remaining();
        let kind = inst.security.kind;
        if o.side == Side::Sell && kind.is_cash_equity() && new_open > old_open {
            let sellable = acct
                .sellable(
                    &self.rules,
                    &self.calendar,
                    &o.symbol,
                    clock.date,
                    clock.time,
                )
                .map_err(overflow)?;
            if new_open.saturating_sub(old_open) > sellable {
                return Err(ChangeRejection::Rules {
                    violations: Violations(vec![Violation::InsufficientSellable {
                        requested: new_qty,
                        sellable: sellable.checked_add(old_open).map_err(overflow)?,
                    }]),
                });
            }
        }
        if o.side == Side::Buy
            && acct.investor.is_foreign()
            && kind.is_cash_equity()
            && let Some(room) = inst.foreign_room
            && self.rules.foreign.reject_when_room_insufficient
            && new_open.saturating_sub(old_open) > room.current
        {
            return Err(ChangeRejection::Rules {
                violations: Violations(vec![Violation::ForeignRoomExceeded {
                    requested: new_open.saturating_sub(old_open),
                    available: room.current,
                }]),
            });
        }
        let hold = self
            .required_hold(acct, inst, o.side, new_price, new_open)
            .map_err(overflow)?;
        let available = acct
            .buying_power()
            .and_then(|bp| Ok(bp.checked_add(acct.hold_of(id))?))
            .map_err(overflow)?;
        if hold > available && !acct.investor.uses_non_prefunding() {
            return Err(ChangeRejection::InsufficientBuyingPower {
                required: hold,
                available,
            });
        }
        Ok(Amended {
            price: new_price,
            quantity: new_qty,
            priority,
        })
    }

    fn apply_amend(&mut self, id: OrderId, amended: Amended) -> Result<(), Error> {
        let lost = amended.priority == Priority::Lost;
        if lost {
            self.unrest(id)?;
        }
        let seq = if lost { Some(self.next_seq()) } else { None };
        let o = self.record_mut(id)?;
        let old_open = o.remaining();
        o.price = amended.price;
        o.quantity = amended.quantity;
        if let Some(s) = seq {
            o.seq = s;
        }
        let new_open = o.remaining();
        let (account, sym, side, board, price, quantity) = (
            o.account.clone(),
            o.symbol,
            o.side,
            o.board,
            o.price,
            o.quantity,
        );
        let inst = self.instrument_ref(sym)?;
        let kind = inst.security.kind;
        let phase = inst.board(board).phase;
        let acct = self.account_mut(&account)?;
        let foreign = acct.investor.is_foreign();
        if kind.is_cash_equity() {
            match side {
                Side::Sell => acct.add_sell_hold(
                    sym,
                    new_open.saturating_sub(old_open),
                    old_open.saturating_sub(new_open),
                ),
                Side::Buy => {
                    if foreign {
                        let inst = self.instrument_mut(sym)?;
                        inst.foreign_room = inst.foreign_room.map(|r| {
                            r.release(old_open.saturating_sub(new_open))
                                .reserve(new_open.saturating_sub(old_open))
                                .unwrap_or(ForeignRoom {
                                    current: Quantity::ZERO,
                                    ..r
                                })
                        });
                    }
                }
            }
        }
        self.refresh_hold(id)?;
        self.emit(Event::OrderAmended {
            order: id,
            account,
            price,
            quantity,
            priority: amended.priority,
        });
        if lost {
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
        }
        Ok(())
    }
}

/// An amendment request that passed every check: the order's price and quantity after it,
/// and what it does to time priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Amended {
    price: Option<Price>,
    quantity: Quantity,
    priority: Priority,
}

#[cfg(test)]
mod tests;
