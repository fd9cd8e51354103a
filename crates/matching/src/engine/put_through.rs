//! Put-through deals (reference §2.1): negotiated, checked on both sides, never matched.

use market::session::TimeOfDay;
use market::{Board, OrderType, Phase, Quantity, Side, Vnd, validate_order};
use time::Date;

use super::Engine;
use crate::error::Error;
use crate::types::{
    Event, OrderId, OrderRecord, OrderStatus, PutThroughDeal, RejectReason, TradeId, TradeKind,
};

impl Engine {
    /// Executes a negotiated deal reported by both sides (reference §2.1): both sides are
    /// checked with `validate_order` on the put-through board (session window, minimum
    /// quantity, band, buying power, sellable, foreign room); no matching, no effect on
    /// the matched last price. Returns the trade id.
    pub fn put_through(&mut self, deal: PutThroughDeal) -> Result<TradeId, Error> {
        let mut ids = [OrderId(0); 2];
        let mut recs = Vec::with_capacity(2);
        let clock = self.state.clock;
        for (i, (side, account)) in [(Side::Buy, &deal.buyer), (Side::Sell, &deal.seller)]
            .into_iter()
            .enumerate()
        {
            let id = self.next_order_id()?;
            ids[i] = id;
            recs.push(OrderRecord {
                id,
                account: account.clone(),
                symbol: deal.symbol,
                board: Board::PutThrough,
                side,
                order_type: OrderType::Lo,
                price: Some(deal.price),
                quantity: deal.quantity,
                filled: Quantity::ZERO,
                filled_value: Vnd::ZERO,
                status: OrderStatus::Queued,
                date: clock.map_or(Date::MIN, |c| c.date),
                entered_at: clock.map_or(TimeOfDay::from_seconds(0), |c| c.time),
                entered_phase: Phase::Closed,
                converted: false,
                seq: 0,
                resting: false,
            });
        }
        let checked: Result<Vec<(Vnd, Phase)>, RejectReason> = if deal.buyer == deal.seller {
            Err(RejectReason::SameAccountDeal)
        } else {
            recs.iter().map(|r| self.check_deal_side(r)).collect()
        };
        match checked {
            Ok(sides) => {
                for (rec, (hold, phase)) in recs.into_iter().zip(sides) {
                    let mut rec = rec;
                    rec.entered_phase = phase;
                    self.accept(rec, hold)?;
                }
                self.execute(
                    deal.symbol,
                    Board::PutThrough,
                    ids[0],
                    ids[1],
                    deal.price,
                    deal.quantity,
                    None,
                    TradeKind::PutThrough,
                )?;
                Ok(TradeId(self.state.next_trade))
            }
            Err(reason) => {
                for mut rec in recs {
                    rec.status = OrderStatus::Rejected;
                    self.state.orders.insert(rec.id, rec.clone());
                    self.emit(Event::OrderRejected {
                        order: rec,
                        reason: reason.clone(),
                    });
                }
                Err(Error::Rejected {
                    order: ids[0],
                    reason,
                })
            }
        }
    }

    fn check_deal_side(&self, rec: &OrderRecord) -> Result<(Vnd, Phase), RejectReason> {
        let clock = self.state.clock.ok_or(RejectReason::ClockNotSet)?;
        let acct =
            self.state
                .accounts
                .get(&rec.account)
                .ok_or_else(|| RejectReason::UnknownAccount {
                    account: rec.account.clone(),
                })?;
        let inst = self
            .state
            .instruments
            .get(&rec.symbol)
            .ok_or(RejectReason::UnknownSecurity { symbol: rec.symbol })?;
        let session = self.timetable_session(inst, Board::PutThrough, clock);
        let ctx = self
            .context(
                acct,
                inst,
                Board::PutThrough,
                rec.side,
                session.phase,
                clock,
            )
            .map_err(|_| RejectReason::Overflow)?;
        validate_order(&rec.as_market_order(), &inst.security, &session, &ctx)
            .map_err(|violations| RejectReason::Rules { violations })?;
        let hold = self
            .required_hold(acct, inst, rec.side, rec.price, rec.quantity)
            .map_err(|_| RejectReason::Overflow)?;
        let bp = ctx.buying_power.unwrap_or(Vnd::ZERO);
        if hold > bp && !acct.investor.uses_non_prefunding() {
            return Err(RejectReason::InsufficientBuyingPower {
                required: hold,
                available: bp,
            });
        }
        Ok((hold, session.phase))
    }
}

#[cfg(test)]
mod tests {
    use market::Quantity;

    use crate::engine::test_support::{acct, at, engine, px, sym};
    use crate::types::PutThroughDeal;

    #[test]
    fn put_through_executes_without_matching_and_leaves_the_last_price() {
        let mut e = engine();
        at(&mut e, 10, 0);
        let small = e.put_through(PutThroughDeal {
            buyer: acct("B"),
            seller: acct("A"),
            symbol: sym("FPT"),
            price: px(100_001),
            quantity: Quantity::new(10_000),
        });
        assert!(small.is_err(), "below the HOSE minimum of 20,000");
        e.put_through(PutThroughDeal {
            buyer: acct("B"),
            seller: acct("A"),
            symbol: sym("FPT"),
            price: px(100_001),
            quantity: Quantity::new(20_001),
        })
        .unwrap();
        let inst = e.instrument(sym("FPT")).unwrap();
        assert_eq!(inst.put_through.volume, Quantity::new(20_001));
        assert_eq!(inst.main.last_price, None);
        let b = e.account(&acct("B")).unwrap();
        assert_eq!(
            b.positions.get(&sym("FPT")).unwrap().total(),
            Quantity::new(120_001)
        );
        at(&mut e, 12, 0);
        assert!(
            e.put_through(PutThroughDeal {
                buyer: acct("B"),
                seller: acct("A"),
                symbol: sym("FPT"),
                price: px(100_000),
                quantity: Quantity::new(20_000),
            })
            .is_err(),
            "no put-through in the break"
        );
    }
}
