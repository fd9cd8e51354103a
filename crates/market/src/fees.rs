//! Fees and taxes (reference §8): a configurable brokerage schedule, exchange fees, the
//! 0.1% sale tax, futures per-contract fees, and the full cost of a fill.
//!
//! Rates are integers in parts per million (ppm): 0.1% = 1,000 ppm, 0.03% = 300 ppm.
//! Each fee is rounded half away from zero to whole VND (rounding is not documented by the
//! exchanges; reference §8 \[U\]).

use serde::{Deserialize, Serialize};

use crate::investor::{InvestorKind, InvestorProfile, Residency};
use crate::order::Side;
use crate::price::{self, Price, Quantity, Vnd};
use crate::settlement::SettlementRules;
use crate::venue::InstrumentKind;

/// One step of a tiered brokerage schedule: from this daily traded value (VND) on, the
/// rate applies (reference §8: e.g. 0.35% under VND 100m down to 0.15% above VND 1bn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerageTier {
    /// Lowest daily traded value (VND) of the tier.
    pub from_daily_value: i64,
    /// Commission rate in ppm of the fill value.
    pub rate_ppm: u32,
}

/// The fee schedule. Broker numbers are per contract with the broker and so always
/// configuration; regulatory numbers default to reference §8.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeeSchedule {
    /// Equity brokerage tiers, ascending by `from_daily_value`; default one tier at 0.15%
    /// (the low end of the typical 0.15–0.35%, §8 \[C\]; many online brokers charge 0%).
    pub equity_brokerage: Vec<BrokerageTier>,
    /// Exchange trading-service fee for equities: 0.03% of value (Circular 101/2021, §8 \[U\]).
    pub exchange_fee_ppm: u32,
    /// Whether the exchange fee is already inside the brokerage rate (usual, §8 \[U\]);
    /// default true, so it is reported as zero separately.
    pub exchange_fee_included_in_brokerage: bool,
    /// Tax on equity sales: 0.1% of gross sale value, withheld on every sell for individuals
    /// and foreign institutions (§8 \[C\]; 2025 PIT amendment pending \[U\]).
    pub sale_tax_ppm: u32,
    /// Whether the sale tax is also withheld for domestic institutions (they declare CIT
    /// themselves); default false.
    pub sale_tax_for_domestic_institutions: bool,
    /// Futures broker fee per contract per side: default 4,000 VND (HSC/VFS, §8 \[S\]).
    pub futures_broker_fee_per_contract: i64,
    /// Futures exchange fee per contract per side: 2,700 VND (§8 \[C\]).
    pub futures_exchange_fee_per_contract: i64,
    /// VSDC position-management fee per open contract per day: 2,550 VND (§8 \[C\]).
    pub futures_position_fee_per_contract_day: i64,
    /// VSDC margin-asset management fee: 0.0024% of cumulative margin balance per month
    /// (§8 \[C\]).
    pub futures_margin_asset_fee_ppm: u32,
    /// Monthly minimum of the margin-asset fee: 100,000 VND (§8 \[C\]).
    pub futures_margin_asset_fee_min: i64,
    /// Monthly maximum of the margin-asset fee: 1,600,000 VND (§8 \[C\]).
    pub futures_margin_asset_fee_max: i64,
    /// Futures PIT: 0.1% × (value × initial-margin ratio) ÷ 2 per trade (§8 \[S\]).
    pub futures_tax_ppm: u32,
    /// VSDC depository fee, thousandths of a VND per share per month: 270 = 0.27 VND
    /// (§8 \[C\]).
    pub depository_millivnd_per_share_month: i64,
}

impl Default for FeeSchedule {
    fn default() -> Self {
        Self {
            equity_brokerage: vec![BrokerageTier {
                from_daily_value: 0,
                rate_ppm: 1_500,
            }],
            exchange_fee_ppm: 300,
            exchange_fee_included_in_brokerage: true,
            sale_tax_ppm: 1_000,
            sale_tax_for_domestic_institutions: false,
            futures_broker_fee_per_contract: 4_000,
            futures_exchange_fee_per_contract: 2_700,
            futures_position_fee_per_contract_day: 2_550,
            futures_margin_asset_fee_ppm: 24,
            futures_margin_asset_fee_min: 100_000,
            futures_margin_asset_fee_max: 1_600_000,
            futures_tax_ppm: 1_000,
            depository_millivnd_per_share_month: 270,
        }
    }
}

/// One execution to be costed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Instrument kind (futures are costed per contract).
    pub kind: InstrumentKind,
    /// Buy or sell.
    pub side: Side,
    /// Execution price (VND, or 0.1 point units for futures).
    pub price: Price,
    /// Executed quantity.
    pub quantity: Quantity,
}

/// The full cost of one fill (reference §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillCost {
    /// Price × quantity (futures: × multiplier, the notional).
    pub gross_value: Vnd,
    /// Broker commission.
    pub brokerage: Vnd,
    /// Exchange fee charged separately (zero when included in brokerage).
    pub exchange_fee: Vnd,
    /// Sale tax (equities) or futures PIT.
    pub tax: Vnd,
    /// brokerage + exchange fee + tax.
    pub total_cost: Vnd,
    /// Cash effect on the account: equities buy = −(gross + costs), sell = gross − costs;
    /// futures = −costs (the notional is not exchanged; see daily mark-to-market).
    pub net_cash: Vnd,
}

impl FeeSchedule {
    /// The brokerage rate for an account that has traded `daily_value` today, this fill
    /// included (reference §8 tiers by daily value).
    pub fn brokerage_rate_ppm(&self, daily_value: Vnd) -> u32 {
        self.equity_brokerage
            .iter()
            .filter(|t| daily_value.amount() >= t.from_daily_value)
            .max_by_key(|t| t.from_daily_value)
            .map_or(0, |t| t.rate_ppm)
    }

    /// Whether the sale tax is withheld for this investor (reference §8).
    pub fn sale_tax_applies(&self, investor: &InvestorProfile) -> bool {
        match (investor.kind, investor.residency) {
            (InvestorKind::Individual, _) | (InvestorKind::Institution, Residency::Foreign) => true,
            (InvestorKind::Institution, Residency::Domestic) => {
                self.sale_tax_for_domestic_institutions
            }
        }
    }

    /// The full cost of `fill` (reference §8). `daily_value_before` is what the account
    /// had already traded today (it selects the brokerage tier together with this fill).
    pub fn fill_cost(
        &self,
        settlement: &SettlementRules,
        fill: &Fill,
        investor: &InvestorProfile,
        daily_value_before: Vnd,
    ) -> Result<FillCost, price::Error> {
        let qty = fill.quantity.as_i64()?;
        if fill.kind == InstrumentKind::IndexFuture {
            let gross = settlement.futures_value(fill.price, qty)?;
            let brokerage = Vnd::new(self.futures_broker_fee_per_contract).checked_mul(qty)?;
            let exchange_fee = Vnd::new(self.futures_exchange_fee_per_contract).checked_mul(qty)?;
            // 0.1% × (value × IM ratio) ÷ 2, rounded once at the end.
            let taxed = i128::from(gross.amount())
                * i128::from(settlement.futures_initial_margin_bps)
                * i128::from(self.futures_tax_ppm);
            let tax = i64::try_from(price::div_round_half_away(taxed, 10_000 * 1_000_000 * 2))
                .map(Vnd::new)
                .map_err(|_| price::Error::Overflow("futures tax"))?;
            let total = brokerage.checked_add(exchange_fee)?.checked_add(tax)?;
            return Ok(FillCost {
                gross_value: gross,
                brokerage,
                exchange_fee,
                tax,
                total_cost: total,
                net_cash: total.checked_neg()?,
            });
        }
        let gross = Vnd::new(fill.price.units()).checked_mul(qty)?;
        let rate = self.brokerage_rate_ppm(daily_value_before.checked_add(gross)?);
        let brokerage = gross.apply_ppm(rate)?;
        let exchange_fee = if self.exchange_fee_included_in_brokerage {
            Vnd::ZERO
        } else {
            gross.apply_ppm(self.exchange_fee_ppm)?
        };
        let tax = if fill.side == Side::Sell && self.sale_tax_applies(investor) {
            gross.apply_ppm(self.sale_tax_ppm)?
        } else {
            Vnd::ZERO
        };
        let total = brokerage.checked_add(exchange_fee)?.checked_add(tax)?;
        let net_cash = match fill.side {
            Side::Buy => gross.checked_add(total)?.checked_neg()?,
            Side::Sell => gross.checked_sub(total)?,
        };
        Ok(FillCost {
            gross_value: gross,
            brokerage,
            exchange_fee,
            tax,
            total_cost: total,
            net_cash,
        })
    }

    /// VSDC position-management fee for `open_contracts` held over `days` (reference §8).
    pub fn futures_position_fee(
        &self,
        open_contracts: u64,
        days: u32,
    ) -> Result<Vnd, price::Error> {
        let n = Quantity::new(open_contracts).as_i64()?;
        Vnd::new(self.futures_position_fee_per_contract_day)
            .checked_mul(n)?
            .checked_mul(i64::from(days))
    }

    /// VSDC margin-asset fee for a month, given the cumulative margin balance (sum of daily
    /// balances), clamped to the monthly min and max (reference §8).
    pub fn futures_margin_asset_fee(&self, cumulative_balance: Vnd) -> Result<Vnd, price::Error> {
        let raw = cumulative_balance.apply_ppm(self.futures_margin_asset_fee_ppm)?;
        Ok(Vnd::new(
            raw.amount().clamp(
                self.futures_margin_asset_fee_min,
                self.futures_margin_asset_fee_max
                    .max(self.futures_margin_asset_fee_min),
            ),
        ))
    }

    /// VSDC depository fee for holding `shares` for `months` (reference §8), rounded half
    /// away from zero.
    pub fn depository_fee(&self, shares: Quantity, months: u32) -> Result<Vnd, price::Error> {
        let milli = i128::from(self.depository_millivnd_per_share_month)
            * i128::from(shares.units())
            * i128::from(months);
        i64::try_from(price::div_round_half_away(milli, 1_000))
            .map(Vnd::new)
            .map_err(|_| price::Error::Overflow("depository fee"))
    }
}

#[cfg(test)]
mod tests;
