//! Continuous matching (reference §3.4) with MTL/MOK/MAK handling (§3.1), self-trade
//! prevention (§3.5), and the booking of every execution (continuous, auction, PLO and
//! put-through).

use market::order::trade_sets_close;
use market::{Board, InstrumentKind, OrderType, Price, Quantity, Side, Symbol, Vnd};

use super::{Close, Engine, SelfTradePrevention, crosses, opposite};
use crate::error::Error;
use crate::types::{CancelReason, Event, Fill, OrderId, OrderStatus, Trade, TradeId, TradeKind};

impl Engine {
    /// Continuous matching of an incoming order at the resting orders' prices (reference
    /// §3.4), with MOK/MAK/MTL handling (§3.1) and self-trade prevention (§3.5).
    pub(super) fn match_continuous(&mut self, id: OrderId, kind: TradeKind) -> Result<(), Error> {
        let (sym, board, side, otype, account) = {
            let o = self.record(id)?;
            (o.symbol, o.board, o.side, o.order_type, o.account.clone())
        };
        let opp = opposite(side);
        let stp = self.state.config.self_trade;
        if otype == OrderType::Mok {
            let need = self.record(id)?.remaining();
            if self.fillable(id)? < need {
                return self.close_open(id, Close::Cancel(CancelReason::FillOrKill));
            }
        }
        let mut last_fill: Option<Price> = None;
        let mut stopped = false;
        loop {
            let o = self.record(id)?;
            let remaining = o.remaining();
            if remaining == Quantity::ZERO {
                break;
            }
            let limit = o.price;
            let Some(best) = self.instrument_ref(sym)?.board(board).book.best(opp) else {
                break;
            };
            let Some(best_price) = best.price else {
                break;
            };
            if let Some(l) = limit
                && !crosses(side, l, best_price)
            {
                break;
            }
            let resting = self.record(best.order)?;
            if resting.account == account {
                match stp {
                    SelfTradePrevention::Off => {}
                    SelfTradePrevention::CancelResting => {
                        self.close_open(best.order, Close::Cancel(CancelReason::SelfTrade))?;
                        continue;
                    }
                    SelfTradePrevention::CancelIncoming => {
                        stopped = true;
                        break;
                    }
                }
            }
            let q = remaining.min(resting.remaining());
            let (buy, sell) = match side {
                Side::Buy => (id, best.order),
                Side::Sell => (best.order, id),
            };
            self.execute(sym, board, buy, sell, best_price, q, Some(side), kind)?;
            last_fill = Some(best_price);
        }
        let o = self.record(id)?;
        if o.remaining() == Quantity::ZERO || o.status.is_final() {
            return Ok(());
        }
        if stopped {
            return self.close_open(id, Close::Cancel(CancelReason::SelfTrade));
        }
        match otype {
            OrderType::Lo | OrderType::Plo | OrderType::Ato | OrderType::Atc => self.rest(id),
            OrderType::Mtl => {
                if o.price.is_none() {
                    self.convert_mtl(id, last_fill)?;
                }
                self.rest(id)
            }
            OrderType::Mak => self.close_open(id, Close::Cancel(CancelReason::ImmediateOrCancel)),
            OrderType::Mok => self.close_open(id, Close::Cancel(CancelReason::FillOrKill)),
        }
    }

    /// Quantity an incoming market order could take now, honouring self-trade prevention.
    fn fillable(&self, id: OrderId) -> Result<Quantity, Error> {
        let o = self.record(id)?;
        let book = &self.instrument_ref(o.symbol)?.board(o.board).book;
        let mut total = Quantity::ZERO;
        for e in book.priced(opposite(o.side)) {
            let r = self.record(e.order)?;
            if r.account == o.account {
                match self.state.config.self_trade {
                    SelfTradePrevention::Off => {}
                    SelfTradePrevention::CancelResting => continue,
                    SelfTradePrevention::CancelIncoming => break,
                }
            }
            total = total.checked_add(r.remaining())?;
            if total >= o.remaining() {
                break;
            }
        }
        Ok(total)
    }

    /// MTL remainder → LO at `MarketRules::mtl_conversion_price` (reference §3.1).
    fn convert_mtl(&mut self, id: OrderId, last_fill: Option<Price>) -> Result<(), Error> {
        let o = self.record(id)?;
        let (sym, side) = (o.symbol, o.side);
        let inst = self.instrument_ref(sym)?;
        let lim = inst.limits()?;
        let last = last_fill
            .or(inst.board(o.board).last_price)
            .unwrap_or(lim.reference);
        let price = self.rules.mtl_conversion_price(
            inst.security.exchange,
            inst.security.kind,
            side,
            last,
            &lim,
        );
        let o = self.record_mut(id)?;
        o.price = Some(price);
        o.converted = true;
        let account = o.account.clone();
        self.refresh_hold(id)?;
        self.emit(Event::MtlConverted {
            order: id,
            account,
            price,
        });
        Ok(())
    }

    /// Books one execution: both orders, statistics, both accounts, events.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn execute(
        &mut self,
        sym: Symbol,
        board: Board,
        buy: OrderId,
        sell: OrderId,
        price: Price,
        q: Quantity,
        aggressor: Option<Side>,
        kind: TradeKind,
    ) -> Result<(), Error> {
        self.state.next_trade += 1;
        let trade = TradeId(self.state.next_trade);
        let clock = self.clock_now()?;
        let value = Vnd::new(price.units()).checked_mul(q.as_i64()?)?;
        for id in [buy, sell] {
            let o = self.record_mut(id)?;
            o.filled = o.filled.checked_add(q)?;
            o.filled_value = o.filled_value.checked_add(value)?;
            o.status = if o.remaining() == Quantity::ZERO {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            if o.status == OrderStatus::Filled {
                self.unrest(id)?;
            }
        }
        // Market statistics.
        let sec = {
            let inst = self.instrument_mut(sym)?;
            let b = inst.board_mut(board);
            // PLO trades happen at the close and never move the last price the close is
            // taken from (`market::order::trade_sets_close`, reference §3.4).
            if trade_sets_close(b.phase) {
                b.last_price = Some(price);
                b.open_price = b.open_price.or(Some(price));
                b.high = Some(b.high.map_or(price, |h| h.max(price)));
                b.low = Some(b.low.map_or(price, |l| l.min(price)));
            }
            b.volume = b.volume.checked_add(q)?;
            b.value = b.value.checked_add(value)?;
            b.trades += 1;
            if kind == TradeKind::Continuous && board == Board::Main {
                let e = inst.continuous_trades.entry(price).or_default();
                *e = e.checked_add(q)?;
            }
            inst.security
        };
        // Accounts.
        let mut fills = Vec::with_capacity(2);
        for (id, side, counterparty) in [(buy, Side::Buy, sell), (sell, Side::Sell, buy)] {
            let (account, filled, remaining) = {
                let o = self.record(id)?;
                (o.account.clone(), o.filled, o.remaining())
            };
            let rules = &self.rules;
            let sale_cash = match side {
                Side::Sell => rules
                    .settlement
                    .sale_cash_available_from(&self.calendar, clock.date),
                Side::Buy => None,
            };
            let acct = self
                .state
                .accounts
                .get_mut(&account)
                .ok_or_else(|| Error::UnknownAccount(account.clone()))?;
            let cost = acct.cost(rules, sec.kind, side, price, q)?;
            let foreign = acct.investor.is_foreign();
            match (sec.kind, side) {
                (InstrumentKind::IndexFuture, Side::Buy | Side::Sell) => {
                    acct.apply_futures(rules, sym, side, price, q, &cost)?;
                }
                (
                    InstrumentKind::Stock
                    | InstrumentKind::FundCertificate
                    | InstrumentKind::Etf
                    | InstrumentKind::CoveredWarrant
                    | InstrumentKind::Bond,
                    Side::Buy,
                ) => acct.apply_buy(sym, clock.date, q, &cost)?,
                (
                    InstrumentKind::Stock
                    | InstrumentKind::FundCertificate
                    | InstrumentKind::Etf
                    | InstrumentKind::CoveredWarrant
                    | InstrumentKind::Bond,
                    Side::Sell,
                ) => acct.apply_sell(sym, q, &cost, sale_cash, true)?,
            }
            if foreign && side == Side::Sell && sec.kind.is_cash_equity() {
                let inst = self.instrument_mut(sym)?;
                inst.foreign_room = inst.foreign_room.map(|r| r.on_foreign_sell(q));
            }
            self.refresh_hold(id)?;
            if remaining == Quantity::ZERO {
                self.account_mut(&account)?.working.remove(&id);
            }
            fills.push(Fill {
                order: id,
                account,
                symbol: sym,
                side,
                trade,
                price,
                quantity: q,
                filled,
                remaining,
                counterparty,
                cost,
            });
        }
        self.emit(Event::Trade(Trade {
            id: trade,
            symbol: sym,
            board,
            price,
            quantity: q,
            buy_order: buy,
            sell_order: sell,
            aggressor,
            kind,
        }));
        for f in fills {
            self.emit(Event::OrderFilled(f));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
