//! Simulated broker accounts: cash, holds, T+2 positions, futures positions and margin.
//!
//! Every rule number comes from `market`: fees and the 0.1% sale tax from
//! `FeeSchedule::fill_cost` (reference §8), sellability from
//! `SettlementRules::sellable_quantity` (T+2 13:00, §7.1), sale-cash availability from
//! `SettlementRules::sale_cash_available_from` (§7.1), futures value and initial margin
//! from `SettlementRules::{futures_value, futures_initial_margin}` (§7.4).

use std::collections::{BTreeMap, BTreeSet};

use market::fees::{Fill as FeeFill, FillCost};
use market::session::TimeOfDay;
use market::settlement::PendingBuy;
use market::{
    InstrumentKind, InvestorProfile, MarketRules, Price, Quantity, Side, Symbol, TradingCalendar,
    Vnd,
};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::Error;
use crate::types::{AccountId, OrderId};

/// Sale proceeds not usable yet (reference §7.1: usable from T+2 13:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receivable {
    /// Date from which the cash is usable.
    pub date: Date,
    /// Time from which the cash is usable.
    pub time: TimeOfDay,
    /// Amount (net of fees and tax).
    pub amount: Vnd,
}

/// A cash-equity position (SSI `stockPositions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Settled (or seeded) shares.
    pub settled: Quantity,
    /// Bought, not yet settled: sellable from T+2 13:00 (reference §7.1).
    pub pending_buys: Vec<PendingBuy>,
    /// Quantity held by open sell orders.
    pub sell_hold: Quantity,
    /// Cost of the shares held (gross value of buys, reduced pro rata by sells), for the
    /// average price.
    pub cost: Vnd,
}

impl Position {
    /// Shares owned: settled plus pending buys (SSI `onHand` plus `buyT0..T2`).
    pub fn total(&self) -> Quantity {
        self.pending_buys.iter().fold(self.settled, |acc, b| {
            acc.checked_add(b.quantity).unwrap_or(acc)
        })
    }

    /// Average cost per share in VND (0 when flat).
    pub fn average_price(&self) -> i64 {
        match i64::try_from(self.total().units()) {
            Ok(n) if n > 0 => self.cost.amount() / n,
            Ok(_) | Err(_) => 0,
        }
    }
}

/// A futures position (SSI `openPosition`): net contracts, the signed notional at entry,
/// and the initial margin it ties up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuturesPosition {
    /// Net contracts, long positive.
    pub net: i64,
    /// Signed notional of the open contracts at their entry prices (long positive).
    pub open_value: Vnd,
    /// Initial margin held for the open contracts at the last fill price (reference §7.4).
    pub margin: Vnd,
    /// Realised profit and loss today (credited to cash as it happens).
    pub realised: Vnd,
}

/// One simulated account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Account number.
    pub id: AccountId,
    /// Holder facts the rules depend on (fees, tax, foreign room, non-prefunding).
    pub investor: InvestorProfile,
    /// Usable cash (SSI `cashBal` less receivables).
    pub cash: Vnd,
    /// Sale proceeds awaiting T+2 13:00.
    pub receivables: Vec<Receivable>,
    /// Cash held by open buy orders (value plus fees) and futures orders (margin plus fees).
    pub held: Vnd,
    /// Cash-equity positions.
    pub positions: BTreeMap<Symbol, Position>,
    /// Futures positions.
    pub futures: BTreeMap<Symbol, FuturesPosition>,
    /// Traded value today (selects the brokerage tier, reference §8).
    pub daily_value: Vnd,
    /// Fees paid (brokerage plus exchange fee), since opening.
    pub fees_paid: Vnd,
    /// Tax withheld, since opening.
    pub tax_paid: Vnd,
    pub(crate) holds: BTreeMap<OrderId, Vnd>,
    pub(crate) working: BTreeSet<OrderId>,
}

impl Account {
    /// A new account with `cash` and no positions.
    pub fn new(id: AccountId, investor: InvestorProfile, cash: Vnd) -> Self {
        Self {
            id,
            investor,
            cash,
            receivables: Vec::new(),
            held: Vnd::ZERO,
            positions: BTreeMap::new(),
            futures: BTreeMap::new(),
            daily_value: Vnd::ZERO,
            fees_paid: Vnd::ZERO,
            tax_paid: Vnd::ZERO,
            holds: BTreeMap::new(),
            working: BTreeSet::new(),
        }
    }

    /// Initial margin tied up by futures positions.
    pub fn margin_used(&self) -> Result<Vnd, Error> {
        self.futures
            .values()
            .try_fold(Vnd::ZERO, |acc, f| acc.checked_add(f.margin))
            .map_err(Error::from)
    }

    /// Buying power (SSI `purchasingPower`): usable cash minus holds of open orders minus
    /// futures margin in use. Sale proceeds count only from T+2 13:00 (reference §7.1).
    pub fn buying_power(&self) -> Result<Vnd, Error> {
        Ok(self
            .cash
            .checked_sub(self.held)?
            .checked_sub(self.margin_used()?)?)
    }

    /// Sum of receivables not yet usable.
    pub fn receivable_total(&self) -> Result<Vnd, Error> {
        self.receivables
            .iter()
            .try_fold(Vnd::ZERO, |acc, r| acc.checked_add(r.amount))
            .map_err(Error::from)
    }

    /// Sellable quantity of `symbol` at `(date, time)` per
    /// `SettlementRules::sellable_quantity` (reference §7.1, §14): settled plus buys past
    /// T+2 13:00, minus open sells.
    pub fn sellable(
        &self,
        rules: &MarketRules,
        calendar: &TradingCalendar,
        symbol: &Symbol,
        date: Date,
        time: TimeOfDay,
    ) -> Result<Quantity, Error> {
        let Some(p) = self.positions.get(symbol) else {
            return Ok(Quantity::ZERO);
        };
        Ok(rules.settlement.sellable_quantity(
            calendar,
            p.settled,
            &p.pending_buys,
            p.sell_hold,
            date,
            time,
        )?)
    }

    /// Moves receivables that became usable by `(date, time)` into cash.
    pub(crate) fn roll_receivables(&mut self, date: Date, time: TimeOfDay) -> Result<(), Error> {
        let mut kept = Vec::with_capacity(self.receivables.len());
        for r in std::mem::take(&mut self.receivables) {
            if (date, time) >= (r.date, r.time) {
                self.cash = self.cash.checked_add(r.amount)?;
            } else {
                kept.push(r);
            }
        }
        self.receivables = kept;
        Ok(())
    }

    /// Sets the cash hold of an open order (0 removes it).
    pub(crate) fn set_hold(&mut self, order: OrderId, amount: Vnd) -> Result<(), Error> {
        let old = if amount == Vnd::ZERO {
            self.holds.remove(&order)
        } else {
            self.holds.insert(order, amount)
        };
        self.held = self
            .held
            .checked_sub(old.unwrap_or(Vnd::ZERO))?
            .checked_add(amount)?;
        Ok(())
    }

    /// Ids of this account's working orders, oldest first.
    pub fn working_orders(&self) -> impl Iterator<Item = OrderId> + '_ {
        self.working.iter().copied()
    }

    /// The hold of an open order.
    pub fn hold_of(&self, order: OrderId) -> Vnd {
        self.holds.get(&order).copied().unwrap_or(Vnd::ZERO)
    }

    /// Adds `add` to and releases `release` from the sell hold of `symbol` (entry adds;
    /// cancel, expiry and amendments release).
    pub(crate) fn add_sell_hold(&mut self, symbol: Symbol, add: Quantity, release: Quantity) {
        let p = self.positions.entry(symbol).or_default();
        p.sell_hold = p
            .sell_hold
            .checked_add(add)
            .unwrap_or(p.sell_hold)
            .saturating_sub(release);
    }

    /// Costs a fill with `market`'s fee schedule (reference §8), at today's traded value.
    pub(crate) fn cost(
        &self,
        rules: &MarketRules,
        kind: InstrumentKind,
        side: Side,
        price: Price,
        quantity: Quantity,
    ) -> Result<FillCost, Error> {
        Ok(rules.fees.fill_cost(
            &rules.settlement,
            &FeeFill {
                kind,
                side,
                price,
                quantity,
            },
            &self.investor,
            self.daily_value,
        )?)
    }

    fn book_cost(&mut self, cost: &FillCost) -> Result<(), Error> {
        self.daily_value = self.daily_value.checked_add(cost.gross_value)?;
        self.fees_paid = self
            .fees_paid
            .checked_add(cost.brokerage)?
            .checked_add(cost.exchange_fee)?;
        self.tax_paid = self.tax_paid.checked_add(cost.tax)?;
        Ok(())
    }

    /// A cash-equity buy fill: pay value plus fees now, receive shares sellable from T+2
    /// 13:00 (reference §7.1, §8).
    pub(crate) fn apply_buy(
        &mut self,
        symbol: Symbol,
        trade_date: Date,
        quantity: Quantity,
        cost: &FillCost,
    ) -> Result<(), Error> {
        self.cash = self.cash.checked_add(cost.net_cash)?;
        self.book_cost(cost)?;
        let p = self.positions.entry(symbol).or_default();
        p.cost = p.cost.checked_add(cost.gross_value)?;
        match p.pending_buys.last_mut() {
            Some(last) if last.trade_date == trade_date => {
                last.quantity = last.quantity.checked_add(quantity)?;
            }
            Some(_) | None => p.pending_buys.push(PendingBuy {
                trade_date,
                quantity,
            }),
        }
        Ok(())
    }

    /// A cash-equity sell fill: shares leave now (settled first, then the oldest sellable
    /// pending buys), proceeds net of fees and tax become usable at `available` (T+2 13:00,
    /// reference §7.1, §8).
    pub(crate) fn apply_sell(
        &mut self,
        symbol: Symbol,
        quantity: Quantity,
        cost: &FillCost,
        available: Option<(Date, TimeOfDay)>,
        release_hold: bool,
    ) -> Result<(), Error> {
        self.book_cost(cost)?;
        match available {
            Some((date, time)) => self.receivables.push(Receivable {
                date,
                time,
                amount: cost.net_cash,
            }),
            None => self.cash = self.cash.checked_add(cost.net_cash)?,
        }
        let p = self.positions.entry(symbol).or_default();
        let before = p.total();
        let mut left = quantity;
        let from_settled = left.min(p.settled);
        p.settled = p.settled.saturating_sub(from_settled);
        left = left.saturating_sub(from_settled);
        for b in &mut p.pending_buys {
            if left == Quantity::ZERO {
                break;
            }
            let take = left.min(b.quantity);
            b.quantity = b.quantity.saturating_sub(take);
            left = left.saturating_sub(take);
        }
        p.pending_buys.retain(|b| b.quantity > Quantity::ZERO);
        if release_hold {
            p.sell_hold = p.sell_hold.saturating_sub(quantity);
        }
        // Reduce the cost basis pro rata to what was sold.
        let sold = quantity.min(before);
        if before > Quantity::ZERO {
            let removed =
                i128::from(p.cost.amount()) * i128::from(sold.units()) / i128::from(before.units());
            let removed = i64::try_from(removed).map_err(|_| Error::Overflow)?;
            p.cost = p.cost.checked_sub(Vnd::new(removed))?;
        }
        Ok(())
    }

    /// A futures fill: fees now; realised P&L on the closing part credited to cash; margin
    /// re-computed on the resulting position at the fill price (reference §7.4, §8).
    pub(crate) fn apply_futures(
        &mut self,
        rules: &MarketRules,
        symbol: Symbol,
        side: Side,
        price: Price,
        quantity: Quantity,
        cost: &FillCost,
    ) -> Result<(), Error> {
        self.book_cost(cost)?;
        self.cash = self.cash.checked_add(cost.net_cash)?;
        let q = quantity.as_i64()?;
        let sign: i64 = match side {
            Side::Buy => 1,
            Side::Sell => -1,
        };
        let st = &rules.settlement;
        let pos = self.futures.entry(symbol).or_default();
        let mut open_q = q;
        if pos.net != 0 && pos.net.signum() != sign {
            let closing = q.min(pos.net.abs());
            // Share of the entry notional being closed, then P&L = −sign × value − share.
            let share = i128::from(pos.open_value.amount()) * i128::from(closing)
                / i128::from(pos.net.abs());
            let share = Vnd::new(i64::try_from(share).map_err(|_| Error::Overflow)?);
            let value = st.futures_value(price, closing)?;
            let pnl = value.checked_mul(-sign)?.checked_sub(share)?;
            pos.open_value = pos.open_value.checked_sub(share)?;
            pos.net += sign * closing;
            pos.realised = pos.realised.checked_add(pnl)?;
            self.cash = self.cash.checked_add(pnl)?;
            open_q = q - closing;
        }
        if open_q > 0 {
            let value = st.futures_value(price, open_q)?;
            pos.open_value = pos.open_value.checked_add(value.checked_mul(sign)?)?;
            pos.net += sign * open_q;
        }
        pos.margin = st.futures_initial_margin(price, pos.net.unsigned_abs())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
