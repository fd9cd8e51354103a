//! Read-only views of the engine: orders, accounts, instruments, depth, the indicative
//! auction price, buying power and SSI's maximum buy/sell quantities; plus
//! [`Engine::drain_events`] and [`Engine::forget`].

use market::order::funding_price;
use market::{Board, InstrumentKind, Price, Quantity, Security, Side, Symbol, Vnd};

use super::{Depth, Engine, Instrument, Level};
use crate::account::Account;
use crate::auction::{self, Uncross};
use crate::error::Error;
use crate::types::{AccountId, EventRecord, OrderId, OrderRecord};

impl Engine {
    /// One order.
    pub fn order(&self, id: OrderId) -> Option<&OrderRecord> {
        self.state.orders.get(&id)
    }

    /// Every order since the engine started (less those [forgotten](Engine::forget)), in id
    /// order.
    pub fn orders(&self) -> impl Iterator<Item = &OrderRecord> {
        self.state.orders.values()
    }

    /// Drops a final order (filled, cancelled, expired or rejected) from the engine's memory
    /// and snapshots, e.g. a market maker's replaced quotes that nobody will ask about. Its id is
    /// never handed out again; events already emitted keep referring to it. A working order is
    /// refused: it is still in a book and may hold cash or shares.
    pub fn forget(&mut self, id: OrderId) -> Result<OrderRecord, Error> {
        let status = self.record(id)?.status;
        if !status.is_final() {
            return Err(Error::StillWorking(id));
        }
        self.state.orders.remove(&id).ok_or(Error::UnknownOrder(id))
    }

    /// Removes an instrument with empty books (no working order on any board) from the engine,
    /// e.g. a backtest's symbol whose day is over: session boundaries and day ends then skip
    /// it. Accounts keep their positions in it; [`Engine::list`] brings it back. Answers
    /// whether it was listed; an instrument with a working order is refused.
    pub fn delist(&mut self, symbol: Symbol) -> Result<bool, Error> {
        let Some(inst) = self.state.instruments.get(&symbol) else {
            return Ok(false);
        };
        if !(inst.main.book.is_empty() && inst.odd_lot.book.is_empty()) {
            return Err(Error::InstrumentBusy(symbol));
        }
        self.state.instruments.remove(&symbol);
        Ok(true)
    }

    /// One account.
    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.state.accounts.get(id)
    }

    /// Every account, by id.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.state.accounts.values()
    }

    /// One instrument.
    pub fn instrument(&self, symbol: Symbol) -> Option<&Instrument> {
        self.state.instruments.get(&symbol)
    }

    /// Every instrument, by symbol.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.state.instruments.values()
    }

    /// Takes the events emitted since the last call, oldest first.
    pub fn drain_events(&mut self) -> Vec<EventRecord> {
        std::mem::take(&mut self.state.events)
    }

    /// The best `levels` price levels of both sides of a board (ATO/ATC orders waiting for
    /// an auction have no price and are not shown).
    pub fn depth(&self, symbol: Symbol, board: Board, levels: usize) -> Result<Depth, Error> {
        let inst = self.instrument_ref(symbol)?;
        let book = &inst.board(board).book;
        let mut out = Depth::default();
        for side in [Side::Buy, Side::Sell] {
            let mut lv: Vec<Level> = Vec::with_capacity(levels);
            for e in book.priced(side) {
                let (Some(price), Some(o)) = (e.price, self.order(e.order)) else {
                    continue;
                };
                let q = o.remaining();
                match lv.last_mut() {
                    Some(l) if l.price == price => {
                        l.quantity = l.quantity.checked_add(q)?;
                        l.orders = l.orders.saturating_add(1);
                    }
                    Some(_) | None => {
                        if lv.len() == levels {
                            break;
                        }
                        lv.push(Level {
                            price,
                            quantity: q,
                            orders: 1,
                        });
                    }
                }
            }
            match side {
                Side::Buy => out.bids = lv,
                Side::Sell => out.asks = lv,
            }
        }
        Ok(out)
    }

    /// The price and volume the board's call auction would produce now (indicative price
    /// during ATO/ATC/PCA, reference §3.4); `None` if nothing would match.
    pub fn indicative_auction(
        &self,
        symbol: Symbol,
        board: Board,
    ) -> Result<Option<Uncross>, Error> {
        let orders = self.auction_orders(symbol, board)?;
        let base = self.auction_base(symbol, board)?;
        Ok(auction::discover(&orders, base, &self.state.config.auction))
    }

    /// Buying power of an account (cash minus holds of open orders incl. fees, minus
    /// futures margin; SSI `purchasingPower`).
    pub fn buying_power(&self, account: &AccountId) -> Result<Vnd, Error> {
        self.account_ref(account)?.buying_power()
    }

    /// Sellable quantity now (T+2 13:00 rule of `market`, reference §7.1).
    pub fn sellable(&self, account: &AccountId, symbol: Symbol) -> Result<Quantity, Error> {
        let clock = self.clock_now()?;
        self.account_ref(account)?.sellable(
            &self.rules,
            &self.calendar,
            &symbol,
            clock.date,
            clock.time,
        )
    }

    /// SSI `maxBuyQty`: the largest order quantity buying power covers at `price`
    /// (default: the ceiling, how orders without a price are funded), value plus fees for
    /// equities (reference §8) or initial margin plus fees for futures (§7.4), in whole
    /// lots for the round-lot board, capped by the per-order maximum and live foreign
    /// room (§6, §9).
    pub fn max_buy_qty(
        &self,
        account: &AccountId,
        symbol: Symbol,
        board: Board,
        price: Option<Price>,
    ) -> Result<Quantity, Error> {
        let acct = self.account_ref(account)?;
        let inst = self.instrument_ref(symbol)?;
        let sec = inst.security;
        let price = funding_price(price, sec.limits).ok_or(Error::NoLimits(sec.symbol))?;
        let bp = acct.buying_power()?;
        let mut cap = self.board_cap(&sec, board);
        if acct.investor.is_foreign()
            && let Some(room) = inst.foreign_room
        {
            cap = cap.min(room.current.units());
        }
        self.max_affordable(acct, &sec, Side::Buy, price, bp, board, cap)
    }

    /// SSI `maxSellQty`: sellable shares (T+2 rule) for equities, in whole lots on the
    /// round-lot board and capped per order; for futures, the long position plus the short
    /// contracts margin covers at `price` (default the ceiling).
    pub fn max_sell_qty(
        &self,
        account: &AccountId,
        symbol: Symbol,
        board: Board,
        price: Option<Price>,
    ) -> Result<Quantity, Error> {
        let acct = self.account_ref(account)?;
        let inst = self.instrument_ref(symbol)?;
        let sec = inst.security;
        let cap = self.board_cap(&sec, board);
        if sec.kind == InstrumentKind::IndexFuture {
            let price = funding_price(price, sec.limits).ok_or(Error::NoLimits(sec.symbol))?;
            let long = acct
                .futures
                .get(&symbol)
                .map_or(0, |f| f.net.max(0).unsigned_abs());
            let bp = acct.buying_power()?;
            let open = self.max_affordable(acct, &sec, Side::Sell, price, bp, board, cap)?;
            return Ok(Quantity::new(long.saturating_add(open.units()).min(cap)));
        }
        let clock = self.clock_now()?;
        let s = acct
            .sellable(&self.rules, &self.calendar, &symbol, clock.date, clock.time)?
            .units();
        let lot = self.rules.lots.round_lot(sec.exchange).max(1);
        let q = match board {
            Board::Main => s - s % lot,
            Board::OddLot => s % lot,
            Board::PutThrough => s,
        };
        Ok(Quantity::new(q.min(cap)))
    }

    fn board_cap(&self, sec: &Security, board: Board) -> u64 {
        let lot = self.rules.lots.round_lot(sec.exchange).max(1);
        match board {
            Board::Main => self
                .rules
                .lots
                .max_order_quantity(sec.exchange)
                .unwrap_or(u64::MAX),
            Board::OddLot => lot - 1,
            Board::PutThrough => u64::MAX,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn max_affordable(
        &self,
        acct: &Account,
        sec: &Security,
        side: Side,
        price: Price,
        bp: Vnd,
        board: Board,
        cap: u64,
    ) -> Result<Quantity, Error> {
        let step = match board {
            Board::Main => self.rules.lots.round_lot(sec.exchange).max(1),
            Board::OddLot | Board::PutThrough => 1,
        };
        if bp.amount() <= 0 {
            return Ok(Quantity::ZERO);
        }
        let per_unit = match sec.kind {
            InstrumentKind::IndexFuture => self
                .rules
                .settlement
                .futures_initial_margin(price, 1)?
                .amount()
                .max(1),
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::CoveredWarrant
            | InstrumentKind::Bond => price.units(),
        };
        let upper = u64::try_from(bp.amount() / per_unit).unwrap_or(0).min(cap) / step;
        let need = |units: u64| -> Result<Vnd, Error> {
            let q = Quantity::new(units * step);
            let cost = acct.cost(&self.rules, sec.kind, side, price, q)?;
            match sec.kind {
                InstrumentKind::IndexFuture => Ok(self
                    .rules
                    .settlement
                    .futures_initial_margin(price, q.units())?
                    .checked_add(cost.total_cost)?),
                InstrumentKind::Stock
                | InstrumentKind::FundCertificate
                | InstrumentKind::Etf
                | InstrumentKind::CoveredWarrant
                | InstrumentKind::Bond => Ok(cost.gross_value.checked_add(cost.total_cost)?),
            }
        };
        let (mut lo, mut hi) = (0u64, upper);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if need(mid)? <= bp {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(Quantity::new(lo * step))
    }
}

#[cfg(test)]
mod tests {
    use market::{Board, OrderType, Quantity, Side, Vnd};

    use crate::engine::test_support::{acct, at, engine, lo, px, req, sym};
    use crate::engine::{Engine, EngineState};
    use crate::error::Error;
    use crate::types::OrderStatus;

    #[test]
    fn depth_aggregates_levels_best_first_and_stops_at_the_limit() {
        let mut e = engine();
        at(&mut e, 10, 0);
        for i in 0..12 {
            lo(&mut e, "A", "FPT", Side::Buy, 99_000 - i * 100, 100);
            lo(&mut e, "A", "FPT", Side::Buy, 99_000 - i * 100, 200);
        }
        lo(&mut e, "B", "FPT", Side::Sell, 100_000, 300);
        let d = e.depth(sym("FPT"), Board::Main, 10).unwrap();
        assert_eq!(d.bids.len(), 10);
        assert_eq!(d.bids[0].price, px(99_000));
        assert_eq!(d.bids[0].quantity, Quantity::new(300));
        assert_eq!(d.bids[0].orders, 2);
        assert_eq!(d.bids[9].price, px(98_100));
        assert_eq!(d.asks.len(), 1);
    }

    #[test]
    fn max_sell_qty_splits_round_and_odd_lots() {
        let mut e = engine();
        e.seed_position(&acct("A"), sym("FPT"), Quantity::new(50), Vnd::ZERO)
            .unwrap();
        at(&mut e, 10, 0);
        let m = |b| {
            e.max_sell_qty(&acct("A"), sym("FPT"), b, None)
                .unwrap()
                .units()
        };
        assert_eq!(m(Board::Main), 100_000);
        assert_eq!(m(Board::OddLot), 50);
    }

    #[test]
    fn only_final_orders_can_be_forgotten_and_ids_are_never_reused() {
        let mut e = engine();
        at(&mut e, 9, 20);
        let resting = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
        assert!(matches!(e.forget(resting), Err(Error::StillWorking(id)) if id == resting));
        e.cancel(resting).unwrap();
        let forgotten = e.forget(resting).unwrap();
        assert_eq!(forgotten.id, resting);
        assert!(e.order(resting).is_none());
        assert!(e.orders().all(|o| o.id != resting));
        assert!(matches!(e.forget(resting), Err(Error::UnknownOrder(_))));
        let next = lo(&mut e, "A", "FPT", Side::Buy, 99_000, 100);
        assert!(next > resting, "a forgotten id is not handed out again");

        // The snapshot no longer carries it, and a restored engine keeps counting from there.
        let json = serde_json::to_string(e.state()).unwrap();
        let state: EngineState = serde_json::from_str(&json).unwrap();
        let calendar = e.rules().calendar().unwrap();
        let mut restored = Engine::from_state(e.rules().clone(), calendar, state);
        assert!(restored.order(resting).is_none());
        assert_eq!(
            restored.order(next).map(|o| o.status),
            Some(OrderStatus::Queued)
        );
        let after = restored
            .submit(req("A", "FPT", Side::Buy, OrderType::Lo, Some(99_000), 100))
            .unwrap();
        assert!(after > next);
    }
}
