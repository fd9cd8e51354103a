//! The SDK 2.5 cash, stock-transfer and rights functions (§5.7) over the simulated
//! accounts: internal cash transfers, cash advances against unsettled sale proceeds
//! (CIA), unsettled sales, stock transfers between a consumer's own accounts, and online
//! rights subscription (the generated market has no rights issues, so there is nothing to
//! subscribe to).
//!
//! A cash advance pays out now, less a fee of `cash_advance_fee_ppm_per_day` per day until
//! the proceeds settle, part of a sale's proceeds that `matching` holds as a receivable
//! until T+2 13:00 (`market`'s settlement rule). When the engine settles that receivable,
//! the broker takes the advanced amount back, so the account is credited once.

use std::collections::BTreeMap;

use market::session::TimeOfDay;
use market::{InstrumentKind, Quantity, Symbol, TradingCalendar, Vnd};
use matching::{AccountId, Fill};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::{Broker, BrokerError, Outcome, refused};

/// An internal cash transfer between two accounts of one consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CashTransfer {
    pub(crate) account: String,
    pub(crate) beneficiary: String,
    /// VND, more than 0.
    pub(crate) amount: i64,
    pub(crate) remark: String,
}

/// A cash advance: the gross amount taken from future proceeds, or the net amount wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CashAdvance {
    pub(crate) account: String,
    /// Gross VND advanced (fee included); 0 to derive it from `receive`.
    pub(crate) amount: i64,
    /// Net VND wanted; used when `amount` is 0.
    pub(crate) receive: i64,
}

/// A transfer of settled shares between two accounts of one consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StockTransfer {
    pub(crate) account: String,
    pub(crate) beneficiary: String,
    pub(crate) symbol: String,
    pub(crate) quantity: u64,
}

/// A client's sell fill, for unsettled sales and cash advances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sale {
    pub(crate) account: AccountId,
    pub(crate) trade_date: Date,
    pub(crate) symbol: Symbol,
    pub(crate) quantity: u64,
    /// Price units (VND for stocks).
    pub(crate) price: i64,
    pub(crate) gross: i64,
    pub(crate) net: i64,
    /// When the proceeds become usable cash.
    pub(crate) due: (Date, TimeOfDay),
}

/// One part of an advance: what it took from the proceeds due at `due`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Part {
    pub(crate) due: (Date, TimeOfDay),
    pub(crate) amount: i64,
    /// Taken back from the settled proceeds.
    pub(crate) settled: bool,
}

/// A cash advance made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Advance {
    pub(crate) id: String,
    pub(crate) account: AccountId,
    pub(crate) at: OffsetDateTime,
    pub(crate) parts: Vec<Part>,
    pub(crate) fee: i64,
}

/// A transfer made (cash or shares).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Transfer {
    pub(crate) id: String,
    pub(crate) at: OffsetDateTime,
    pub(crate) account: AccountId,
    pub(crate) beneficiary: AccountId,
    /// VND for cash; shares for stock.
    pub(crate) amount: u64,
    /// `None` for cash.
    pub(crate) symbol: Option<Symbol>,
    pub(crate) remark: String,
}

/// The broker's cash and stock ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ledger {
    next_id: u64,
    sales: Vec<Sale>,
    advances: Vec<Advance>,
    transfers: Vec<Transfer>,
    /// Advanced VND per account and due instant not yet taken back.
    open: BTreeMap<(Date, TimeOfDay, AccountId), i64>,
    /// From the configuration, not the saved state.
    #[serde(skip)]
    fee_ppm_per_day: u32,
}

fn day_count(from: Date, to: Date) -> i64 {
    (to - from).whole_days().max(0)
}

/// The fee of advancing `amount` VND now (`today`) against proceeds due on `due`.
fn fee(amount: i64, today: Date, due: Date, ppm_per_day: u32) -> i64 {
    let days = i128::from(day_count(today, due).max(1));
    let fee = i128::from(amount) * i128::from(ppm_per_day) * days;
    // Rounded up to the dong.
    i64::try_from((fee + 999_999) / 1_000_000).unwrap_or(i64::MAX)
}

impl Ledger {
    pub(crate) fn new(fee_ppm_per_day: u32) -> Self {
        Self {
            fee_ppm_per_day,
            ..Self::default()
        }
    }

    /// Sales recorded (tests).
    #[cfg(test)]
    pub(crate) fn sales(&self) -> &[Sale] {
        &self.sales
    }

    /// Advances made (tests).
    #[cfg(test)]
    pub(crate) fn advances(&self) -> &[Advance] {
        &self.advances
    }

    pub(crate) fn set_fee(&mut self, fee_ppm_per_day: u32) {
        self.fee_ppm_per_day = fee_ppm_per_day;
    }

    fn next_id(&mut self, at: OffsetDateTime) -> String {
        self.next_id += 1;
        let (date, _) = TradingCalendar::local(at);
        format!(
            "{:04}{:02}{:02}{:06}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            self.next_id
        )
    }

    /// Drops what is older than `cut` and no longer matters (settled sales, finished
    /// advances, transfers).
    pub(crate) fn prune_before(&mut self, cut: Date) {
        self.sales.retain(|s| s.due.0 >= cut);
        self.advances
            .retain(|a| a.at.date() >= cut || a.parts.iter().any(|p| !p.settled));
        self.transfers.retain(|t| t.at.date() >= cut);
    }
}

impl Broker {
    /// Records a client's equity sell fill (its proceeds are receivable until due).
    pub(super) fn record_sale(&mut self, fill: &Fill, at: OffsetDateTime, kind: InstrumentKind) {
        if kind == InstrumentKind::IndexFuture || fill.side != market::Side::Sell {
            return;
        }
        let (trade_date, _) = TradingCalendar::local(at);
        let Some(due) = self
            .engine
            .rules()
            .settlement
            .sale_cash_available_from(self.generator.calendar(), trade_date)
        else {
            return;
        };
        self.ledger.sales.push(Sale {
            account: fill.account.clone(),
            trade_date,
            symbol: fill.symbol,
            quantity: fill.quantity.units(),
            price: fill.price.units(),
            gross: fill.cost.gross_value.amount(),
            net: fill.cost.net_cash.amount(),
            due,
        });
    }

    /// Takes back advanced amounts whose proceeds the engine has settled by now.
    pub(super) fn settle_advances(&mut self) {
        let Some(clock) = self.engine.clock() else {
            return;
        };
        let due: Vec<_> = self
            .ledger
            .open
            .range(..=(clock.date, clock.time, AccountId::new("\u{10FFFF}")))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for ((date, time, account), amount) in due {
            if let Err(e) = self.engine.deposit(&account, Vnd::new(-amount)) {
                tracing::warn!(%account, error = %e, "fcsim: advanced cash not taken back");
            }
            self.ledger.open.remove(&(date, time, account.clone()));
            for a in self
                .ledger
                .advances
                .iter_mut()
                .filter(|a| a.account == account)
            {
                for p in a.parts.iter_mut().filter(|p| p.due == (date, time)) {
                    p.settled = true;
                }
            }
        }
    }

    /// Proceeds of `account` still receivable, by due instant: (gross sold, net, advanced).
    fn receivable_by_due(
        &self,
        account: &AccountId,
    ) -> BTreeMap<(Date, TimeOfDay), (i64, i64, i64)> {
        let mut out: BTreeMap<(Date, TimeOfDay), (i64, i64, i64)> = BTreeMap::new();
        if let Some(a) = self.engine.account(account) {
            for r in &a.receivables {
                out.entry((r.date, r.time)).or_default().1 += r.amount.amount();
            }
        }
        for s in self.ledger.sales.iter().filter(|s| &s.account == account) {
            if let Some(e) = out.get_mut(&s.due) {
                e.0 += s.gross;
            }
        }
        for ((date, time, a), amount) in &self.ledger.open {
            if a == account
                && let Some(e) = out.get_mut(&(*date, *time))
            {
                e.2 += amount;
            }
        }
        out
    }

    /// What a cash advance of `c` would take from which proceeds, and its fee.
    fn plan_advance(&self, today: Date, c: &CashAdvance) -> Result<(Vec<Part>, i64), BrokerError> {
        let account = AccountId::new(c.account.clone());
        let ppm = self.ledger.fee_ppm_per_day;
        let available: Vec<((Date, TimeOfDay), i64)> = self
            .receivable_by_due(&account)
            .into_iter()
            .map(|(due, (_, net, advanced))| (due, net - advanced))
            .filter(|(_, left)| *left > 0)
            .collect();
        let total: i64 = available.iter().map(|(_, v)| v).sum();
        // The gross to advance: given, or the smallest whose net reaches `receive`.
        let gross = if c.amount > 0 {
            c.amount
        } else {
            let mut left = c.receive;
            let mut gross = 0i64;
            for (due, avail) in &available {
                if left <= 0 {
                    break;
                }
                // net = part − fee(part): part ≈ left / (1 − rate × days)
                let days = day_count(today, due.0).max(1);
                let rate = i128::from(ppm) * i128::from(days);
                let need = i64::try_from(
                    (i128::from(left) * 1_000_000 + (1_000_000 - rate - 1))
                        / (1_000_000 - rate).max(1),
                )
                .unwrap_or(i64::MAX);
                let part = need.min(*avail);
                gross += part;
                left -= part - fee(part, today, due.0, ppm);
            }
            if left > 0 {
                gross = total + 1;
            }
            gross
        };
        if gross > total {
            return Err(refused(format!(
                "The amount exceeds what can be advanced: {total} VND of unsettled sale proceeds"
            )));
        }
        let mut parts = Vec::new();
        let mut left = gross;
        let mut fees = 0i64;
        for (due, avail) in available {
            if left == 0 {
                break;
            }
            let part = left.min(avail);
            fees += fee(part, today, due.0, ppm);
            parts.push(Part {
                due,
                amount: part,
                settled: false,
            });
            left -= part;
        }
        Ok((parts, fees))
    }

    pub(super) fn cash_transfer(
        &mut self,
        at: OffsetDateTime,
        c: &CashTransfer,
    ) -> Result<Outcome, BrokerError> {
        let (from, to) = (
            AccountId::new(c.account.clone()),
            AccountId::new(c.beneficiary.clone()),
        );
        if from == to {
            return Err(BrokerError::Invalid(
                "'Beneficiary Account' must differ from 'Account'".to_owned(),
            ));
        }
        let withdrawable = self
            .engine
            .buying_power(&from)
            .map_err(|e| refused(e.to_string()))?
            .amount();
        if c.amount > withdrawable {
            return Err(refused(format!(
                "Not enough balance: {withdrawable} VND can be transferred"
            )));
        }
        if self.engine.account(&to).is_none() {
            return Err(refused("Beneficiary account is not exist."));
        }
        self.engine
            .deposit(&from, Vnd::new(-c.amount))
            .and_then(|()| self.engine.deposit(&to, Vnd::new(c.amount)))
            .map_err(|e| refused(e.to_string()))?;
        let id = self.ledger.next_id(at);
        self.ledger.transfers.push(Transfer {
            id: id.clone(),
            at,
            account: from,
            beneficiary: to,
            amount: c.amount.unsigned_abs(),
            symbol: None,
            remark: c.remark.clone(),
        });
        Ok(Outcome::Transaction(id))
    }

    pub(super) fn cash_advance(
        &mut self,
        at: OffsetDateTime,
        c: &CashAdvance,
    ) -> Result<Outcome, BrokerError> {
        let (today, _) = TradingCalendar::local(at);
        let (parts, fee) = self.plan_advance(today, c)?;
        let gross: i64 = parts.iter().map(|p| p.amount).sum();
        if gross <= fee {
            return Err(refused("The amount does not cover the advance fee"));
        }
        let account = AccountId::new(c.account.clone());
        self.engine
            .deposit(&account, Vnd::new(gross - fee))
            .map_err(|e| refused(e.to_string()))?;
        for p in &parts {
            *self
                .ledger
                .open
                .entry((p.due.0, p.due.1, account.clone()))
                .or_default() += p.amount;
        }
        let id = self.ledger.next_id(at);
        self.ledger.advances.push(Advance {
            id: id.clone(),
            account,
            at,
            parts,
            fee,
        });
        Ok(Outcome::Transaction(id))
    }

    pub(super) fn stock_transfer(
        &mut self,
        at: OffsetDateTime,
        c: &StockTransfer,
    ) -> Result<Outcome, BrokerError> {
        let (from, to) = (
            AccountId::new(c.account.clone()),
            AccountId::new(c.beneficiary.clone()),
        );
        if from == to {
            return Err(BrokerError::Invalid(
                "'Beneficiary Account' must differ from 'Account'".to_owned(),
            ));
        }
        if self.engine.account(&to).is_none() {
            return Err(refused("Beneficiary account is not exist."));
        }
        let sym = Symbol::parse(&c.symbol).map_err(|e| refused(e.to_string()))?;
        let transferable = self.transferable(&from, sym);
        if c.quantity > transferable {
            return Err(refused(format!(
                "Not enough transferable {}: {transferable} shares",
                c.symbol
            )));
        }
        let cost = self.withdraw_shares(&from, sym, c.quantity)?;
        self.engine
            .seed_position(&to, sym, Quantity::new(c.quantity), cost)
            .map_err(|e| refused(e.to_string()))?;
        let id = self.ledger.next_id(at);
        self.ledger.transfers.push(Transfer {
            id: id.clone(),
            at,
            account: from,
            beneficiary: to,
            amount: c.quantity,
            symbol: Some(sym),
            remark: String::new(),
        });
        Ok(Outcome::Transaction(id))
    }

    /// Settled shares of `symbol` in `account` that no order holds.
    fn transferable(&self, account: &AccountId, symbol: Symbol) -> u64 {
        self.engine
            .account(account)
            .and_then(|a| a.positions.get(&symbol))
            .map_or(0, |p| p.settled.units().saturating_sub(p.sell_hold.units()))
    }

    /// Takes `quantity` settled shares out of `account` with their share of the cost.
    ///
    /// `matching` has no call that removes shares (only `seed_position` adds them), so this
    /// edits the engine's serialised state and rebuilds the engine from it: correct, but it
    /// costs a pass over the whole state. Stock transfers are rare manual operations; a
    /// `matching::Engine::withdraw_position` would make it constant-cost.
    fn withdraw_shares(
        &mut self,
        account: &AccountId,
        symbol: Symbol,
        quantity: u64,
    ) -> Result<Vnd, BrokerError> {
        let fail = |what: &str| refused(format!("The stock transfer failed: {what}"));
        let (settled, cost) = self
            .engine
            .account(account)
            .and_then(|a| a.positions.get(&symbol))
            .map(|p| (p.settled.units(), p.cost.amount()))
            .ok_or_else(|| fail("no position"))?;
        let total = self
            .engine
            .account(account)
            .and_then(|a| a.positions.get(&symbol))
            .map_or(0, |p| p.total().units());
        // The cost moves in proportion to the shares.
        let moved_cost =
            i64::try_from(i128::from(cost) * i128::from(quantity) / i128::from(total.max(1)))
                .unwrap_or(0);
        let mut state =
            serde_json::to_value(self.engine.state()).map_err(|e| fail(&e.to_string()))?;
        let position = state
            .get_mut("accounts")
            .and_then(|a| a.get_mut(account.as_str()))
            .and_then(|a| a.get_mut("positions"))
            .and_then(|p| p.get_mut(symbol.as_str()))
            .ok_or_else(|| fail("position not found in the engine state"))?;
        position["settled"] = json!(settled - quantity);
        position["cost"] = json!(cost - moved_cost);
        let state = serde_json::from_value(state).map_err(|e| fail(&e.to_string()))?;
        self.engine = matching::Engine::from_state(
            self.engine.rules().clone(),
            self.generator.calendar().clone(),
            state,
        );
        Ok(Vnd::new(moved_cost))
    }

    // ----- queries --------------------------------------------------------------------

    /// `cashInAdvanceAmount`.
    pub(crate) fn cia_amounts(&self, account: &AccountId) -> Value {
        let rows: Vec<Value> = self
            .receivable_by_due(account)
            .into_iter()
            .map(|((date, _), (gross, net, advanced))| {
                json!({"DueDate": fastconnect::wire::format_date(date), "SellValue": gross,
                    "NetSellValue": net, "Advance": advanced, "CashAdvance": (net - advanced).max(0)})
            })
            .collect();
        json!({"account": account.as_str(), "CIAAmounts": rows})
    }

    /// `estCashInAdvanceFee`.
    pub(crate) fn cia_fee(&self, today: Date, c: &CashAdvance) -> Result<Value, BrokerError> {
        let (parts, fee) = self.plan_advance(today, c)?;
        let gross: i64 = parts.iter().map(|p| p.amount).sum();
        Ok(
            json!({"account": c.account, "cIAAmount": gross, "receiveAmount": gross - fee, "fee": fee}),
        )
    }

    /// `unsettleSoldTransaction` (all unsettled sales without `settle_date`).
    pub(crate) fn unsettled_sales(&self, account: &AccountId, settle: Option<Date>) -> Value {
        let clock = self.engine.clock();
        let rows: Vec<Value> = self
            .ledger
            .sales
            .iter()
            .filter(|s| &s.account == account)
            .filter(|s| clock.is_none_or(|c| (c.date, c.time) < s.due))
            .filter(|s| settle.is_none_or(|d| s.due.0 == d))
            .map(|s| {
                json!({"TradeDate": fastconnect::wire::format_date(s.trade_date),
                    "InstrumentID": s.symbol.as_str(), "Quantity": s.quantity, "Price": s.price,
                    "NetSellValue": s.net, "SettleDate": fastconnect::wire::format_date(s.due.0)})
            })
            .collect();
        json!({"account": account.as_str(), "orders": rows})
    }

    /// `cashInAdvanceHistories`.
    pub(crate) fn cia_history(&self, account: &AccountId, from: Date, to: Date) -> Value {
        let rows: Vec<Value> = self
            .ledger
            .advances
            .iter()
            .filter(|a| &a.account == account)
            .filter(|a| {
                let (d, _) = TradingCalendar::local(a.at);
                d >= from && d <= to
            })
            .map(|a| {
                let details: Vec<Value> = a
                    .parts
                    .iter()
                    .map(|p| json!({"Type": "CIA", "Value": p.amount,
                        "SettleDate": fastconnect::wire::format_date(p.due.0)}))
                    .collect();
                json!({"TransactionID": a.id, "DateTime": super::wire::epoch_ms(a.at),
                    "TotalAmount": a.parts.iter().map(|p| p.amount).sum::<i64>(), "Fee": a.fee,
                    "Details": details,
                    "Status": if a.parts.iter().all(|p| p.settled) { "Settled" } else { "Success" }})
            })
            .collect();
        json!({"account": account.as_str(), "CIAHistories": rows})
    }

    /// `cash/transferHistories` (cash) or `stock/transferHistories` (shares).
    pub(crate) fn transfer_history(
        &self,
        account: &AccountId,
        from: Date,
        to: Date,
        stock: bool,
    ) -> Value {
        let rows: Vec<Value> = self
            .ledger
            .transfers
            .iter()
            .filter(|t| &t.account == account || &t.beneficiary == account)
            .filter(|t| t.symbol.is_some() == stock)
            .filter(|t| {
                let (d, _) = TradingCalendar::local(t.at);
                d >= from && d <= to
            })
            .map(|t| match t.symbol {
                Some(sym) => json!({"transactionID": t.id, "beneficiaryAccount": t.beneficiary.as_str(),
                    "account": t.account.as_str(), "instrumentID": sym.as_str(), "quantity": t.amount,
                    "dateTime": super::wire::epoch_ms(t.at), "status": "Success", "remark": t.remark,
                    "auditRemark": ""}),
                None => json!({"transactionID": t.id,
                    "date": fastconnect::wire::format_date(TradingCalendar::local(t.at).0),
                    "account": t.account.as_str(), "beneficiaryAccount": t.beneficiary.as_str(),
                    "amount": t.amount, "bankName": "SSI", "bankBranchName": "", "beneficiary": "",
                    "remark": t.remark,
                    "type": if &t.account == account { "Out" } else { "In" }, "status": "Success"}),
            })
            .collect();
        if stock {
            json!({"account": account.as_str(), "stockTransferHistories": rows})
        } else {
            json!({"account": account.as_str(), "transferHistories": rows})
        }
    }

    /// `stock/transferable`.
    pub(crate) fn transferable_stocks(&self, account: &AccountId) -> Value {
        let rows: Vec<Value> = self
            .engine
            .account(account)
            .map(|a| {
                a.positions
                    .keys()
                    .map(|sym| (sym, self.transferable(account, *sym)))
                    .filter(|(_, q)| *q > 0)
                    .map(|(sym, q)| {
                        json!({"instrumentID": sym.as_str(), "quantity": q, "instrumentType": "Stock"})
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({"account": account.as_str(), "transferableStocks": rows})
    }

    /// VND advanced and not yet taken back (`cashAcctBal.cia`).
    pub(crate) fn advanced(&self, account: &AccountId) -> i64 {
        self.ledger
            .open
            .iter()
            .filter(|((_, _, a), _)| a == account)
            .map(|(_, v)| v)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_advance_fee_counts_days_to_settlement_and_rounds_up() {
        // 0.036% a day for two days on 10,000,000 VND.
        assert_eq!(
            fee(
                10_000_000,
                date!(2025 - 06 - 10),
                date!(2025 - 06 - 12),
                360
            ),
            7_200
        );
        // At least one day.
        assert_eq!(
            fee(1_000, date!(2025 - 06 - 12), date!(2025 - 06 - 12), 360),
            1
        );
        assert_eq!(fee(0, date!(2025 - 06 - 10), date!(2025 - 06 - 12), 360), 0);
    }
}
