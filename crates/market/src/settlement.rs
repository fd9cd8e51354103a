//! Settlement and sellability (reference §7.1, §7.3, §7.4).
//!
//! Cash equities settle T+2 (bonds T+1). Since 29 Aug 2022 bought shares arrive late
//! morning of T+2 and are sellable from the T+2 afternoon session; sale proceeds become
//! usable at the same time. There is no same-day round trip and no short selling on the
//! cash market. Futures are cash-settled with daily mark-to-market against the daily
//! settlement price.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::TradingCalendar;
use crate::price::{self, Price, Quantity, Vnd, div_round_half_away};
use crate::session::TimeOfDay;
use crate::venue::InstrumentKind;

/// Settlement numbers with defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettlementRules {
    /// Stocks, fund certificates, ETFs, covered warrants: T+2 \[C\].
    pub equity_cycle_days: u32,
    /// Bonds: T+1 \[C\].
    pub bond_cycle_days: u32,
    /// Local time on the settlement day from which bought shares may be sold: 13:00, the
    /// afternoon session (reference §7.1; brokers allocate before 13:00 \[S\]).
    pub bought_sellable_at: TimeOfDay,
    /// Local time on the settlement day from which sale proceeds are usable: 13:00 \[S\].
    pub sale_cash_available_at: TimeOfDay,
    /// Index futures contract multiplier: 100,000 VND per index point (0.1 point = 10,000
    /// VND, reference §4) \[C\].
    pub futures_multiplier_vnd_per_point: i64,
    /// Initial margin ratio for index futures in basis points; broker-published ~17–18%
    /// (reference §7.4 \[S\]); default 1,700 (17%). Used for margin and futures PIT.
    pub futures_initial_margin_bps: u32,
}

impl Default for SettlementRules {
    fn default() -> Self {
        Self {
            equity_cycle_days: 2,
            bond_cycle_days: 1,
            bought_sellable_at: TimeOfDay::hm(13, 0),
            sale_cash_available_at: TimeOfDay::hm(13, 0),
            futures_multiplier_vnd_per_point: 100_000,
            futures_initial_margin_bps: 1_700,
        }
    }
}

/// A buy not yet settled: trade date and quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBuy {
    /// Trade date (T).
    pub trade_date: Date,
    /// Quantity bought.
    pub quantity: Quantity,
}

impl SettlementRules {
    /// The settlement date of a trade (reference §7.1): T+2 for cash equities, T+1 for
    /// bonds; futures settle daily (T+0 here, the final settlement is
    /// [`TradingCalendar::final_settlement_day`]).
    pub fn settlement_date(
        &self,
        calendar: &TradingCalendar,
        trade_date: Date,
        kind: InstrumentKind,
    ) -> Option<Date> {
        let n = match kind {
            InstrumentKind::Bond => self.bond_cycle_days,
            InstrumentKind::IndexFuture => 0,
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::CoveredWarrant => self.equity_cycle_days,
        };
        calendar.add_trading_days(trade_date, n)
    }

    /// When shares bought on `trade_date` become sellable: T+2 at 13:00 (reference §7.1).
    pub fn bought_sellable_from(
        &self,
        calendar: &TradingCalendar,
        trade_date: Date,
    ) -> Option<(Date, TimeOfDay)> {
        let d = calendar.add_trading_days(trade_date, self.equity_cycle_days)?;
        Some((d, self.bought_sellable_at))
    }

    /// When the proceeds of a sale on `trade_date` become usable cash: T+2 at 13:00
    /// (reference §7.1; earlier only through the broker's cash-advance loan).
    pub fn sale_cash_available_from(
        &self,
        calendar: &TradingCalendar,
        trade_date: Date,
    ) -> Option<(Date, TimeOfDay)> {
        let d = calendar.add_trading_days(trade_date, self.equity_cycle_days)?;
        Some((d, self.sale_cash_available_at))
    }

    /// Whether shares bought on `trade_date` may be sold at local `(date, time)`.
    pub fn is_sellable(
        &self,
        calendar: &TradingCalendar,
        trade_date: Date,
        date: Date,
        time: TimeOfDay,
    ) -> bool {
        self.bought_sellable_from(calendar, trade_date)
            .is_some_and(|from| (date, time) >= from)
    }

    /// Sellable quantity now (reference §14): settled holdings plus pending buys whose
    /// T+2 afternoon has come, minus quantity already committed to open or filled sells.
    /// Never negative: there is no short selling (§7.3).
    pub fn sellable_quantity(
        &self,
        calendar: &TradingCalendar,
        settled: Quantity,
        pending_buys: &[PendingBuy],
        committed_sells: Quantity,
        date: Date,
        time: TimeOfDay,
    ) -> Result<Quantity, price::Error> {
        let mut total = settled;
        for b in pending_buys {
            if self.is_sellable(calendar, b.trade_date, date, time) {
                total = total.checked_add(b.quantity)?;
            }
        }
        Ok(total.saturating_sub(committed_sells))
    }

    /// VND value of `contracts` futures at `price` (price units are 0.1 point):
    /// `price × multiplier × contracts`.
    pub fn futures_value(&self, price: Price, contracts: i64) -> Result<Vnd, price::Error> {
        let v = i128::from(price.units())
            * i128::from(self.futures_multiplier_vnd_per_point)
            * i128::from(contracts);
        let v = div_round_half_away(v, 10);
        i64::try_from(v)
            .map(Vnd::new)
            .map_err(|_| price::Error::Overflow("futures value"))
    }

    /// Daily mark-to-market of a futures position (reference §7.4): `position ×
    /// (settlement − previous settlement) × multiplier`. Long positions are positive.
    pub fn daily_mark_to_market(
        &self,
        position: i64,
        previous_settlement: Price,
        settlement: Price,
    ) -> Result<Vnd, price::Error> {
        let diff = i128::from(settlement.units() - previous_settlement.units());
        let v = diff * i128::from(self.futures_multiplier_vnd_per_point) * i128::from(position);
        i64::try_from(div_round_half_away(v, 10))
            .map(Vnd::new)
            .map_err(|_| price::Error::Overflow("mark-to-market"))
    }

    /// Initial margin for `contracts` at `price`: value × initial-margin ratio (reference
    /// §7.4 \[S\]; VSDC sets the floor, brokers add on).
    pub fn futures_initial_margin(
        &self,
        price: Price,
        contracts: u64,
    ) -> Result<Vnd, price::Error> {
        let value = self.futures_value(
            price,
            i64::try_from(contracts).map_err(|_| price::Error::Overflow("contracts"))?,
        )?;
        value.apply_ppm(self.futures_initial_margin_bps.saturating_mul(100))
    }
}

#[cfg(test)]
mod tests;
