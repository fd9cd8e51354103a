//! Call auctions (reference §3.4): the auction orders with the KRX implied ATO/ATC
//! price, the uncross at one price, and the end of an auction phase.

use market::{Board, Phase, Price, Quantity, Side, Symbol};

use super::{Close, Engine};
use crate::auction::{self, AuctionOrder, ImpliedInputs, Uncross};
use crate::book::BookEntry;
use crate::error::Error;
use crate::types::{CancelReason, Event, OrderRecord, TradeKind};

impl Engine {
    pub(super) fn auction_base(&self, sym: Symbol, board: Board) -> Result<Price, Error> {
        let inst = self.instrument_ref(sym)?;
        Ok(inst
            .board(board)
            .last_price
            .unwrap_or(inst.limits()?.reference))
    }

    /// Every order of a board's book as an auction order: LOs at their limit, ATO/ATC at
    /// the implied price of reference §3.4.
    pub(super) fn auction_orders(
        &self,
        sym: Symbol,
        board: Board,
    ) -> Result<Vec<AuctionOrder>, Error> {
        let inst = self.instrument_ref(sym)?;
        let sec = inst.security;
        let lim = inst.limits()?;
        let book = &inst.board(board).book;
        let open = |e: &BookEntry| self.record(e.order).map(OrderRecord::remaining);
        let mut market_buy = Quantity::ZERO;
        for e in book.unpriced(Side::Buy) {
            market_buy = market_buy.checked_add(open(&e)?)?;
        }
        let mut market_sell = Quantity::ZERO;
        for e in book.unpriced(Side::Sell) {
            market_sell = market_sell.checked_add(open(&e)?)?;
        }
        let inputs = ImpliedInputs {
            best_bid: book.best(Side::Buy).and_then(|e| e.price),
            best_ask: book.best(Side::Sell).and_then(|e| e.price),
            last_or_reference: self.auction_base(sym, board)?,
            reference: lim.reference,
            ceiling: lim.ceiling,
            floor: lim.floor,
            market_buy,
            market_sell,
        };
        let ticks = &self.rules.ticks;
        let (implied_buy, implied_sell) = auction::implied_prices(
            &inputs,
            |p| ticks.tick_up(sec.exchange, sec.kind, board, p),
            |p| ticks.tick_down(sec.exchange, sec.kind, board, p),
        );
        let mut out = Vec::with_capacity(book.len());
        for e in book.entries() {
            let limit = match (e.price, e.side) {
                (Some(p), Side::Buy | Side::Sell) => p,
                (None, Side::Buy) => implied_buy,
                (None, Side::Sell) => implied_sell,
            };
            out.push(AuctionOrder {
                order: e.order,
                side: e.side,
                limit,
                seq: e.seq,
                quantity: open(&e)?,
            });
        }
        Ok(out)
    }

    /// Uncrosses the book at one price (reference §3.4) and books the trades.
    pub(super) fn uncross(
        &mut self,
        sym: Symbol,
        board: Board,
        kind: TradeKind,
    ) -> Result<Option<Uncross>, Error> {
        let orders = self.auction_orders(sym, board)?;
        let base = match kind {
            TradeKind::PostClose => match self.instrument_ref(sym)?.closing_price {
                Some(p) => p,
                None => self.auction_base(sym, board)?,
            },
            TradeKind::Continuous | TradeKind::Auction | TradeKind::PutThrough => {
                self.auction_base(sym, board)?
            }
        };
        let result = auction::discover(&orders, base, &self.state.config.auction);
        if let Some(u) = result {
            for a in auction::allocate(&orders, u.price, u.volume) {
                self.execute(sym, board, a.buy, a.sell, u.price, a.quantity, None, kind)?;
            }
        }
        Ok(result)
    }

    /// End of a call auction: uncross, report, cancel ATO/ATC remainders (reference §3.1),
    /// fix the close after the ATC (reference §3.4).
    pub(super) fn run_auction(
        &mut self,
        sym: Symbol,
        board: Board,
        phase: Phase,
    ) -> Result<(), Error> {
        let result = self.uncross(sym, board, TradeKind::Auction)?;
        self.emit(Event::AuctionUncrossed {
            symbol: sym,
            board,
            phase,
            price: result.map(|u| u.price),
            volume: result.map_or(Quantity::ZERO, |u| u.volume),
        });
        let book = &self.instrument_ref(sym)?.board(board).book;
        let leftovers: Vec<BookEntry> = book
            .unpriced(Side::Buy)
            .chain(book.unpriced(Side::Sell))
            .collect();
        for e in leftovers {
            self.close_open(e.order, Close::Cancel(CancelReason::AuctionRemainder))?;
        }
        if phase == Phase::ClosingAuction && board == Board::Main {
            self.fix_close(sym, result.map(|u| u.price))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
