//! The OMS's own book of what its fills did to an account, per symbol and strategy: quantity,
//! cost with the buy fees, realised P&L after fees and the sale tax, what is sellable now
//! (T+2 afternoon, reference §7.1), and unrealised P&L at a last price after the fee and tax a
//! sale would pay. Fees come from `market`'s schedule, with the daily brokerage tier of the
//! account's traded value so far that day. Index futures are a signed net position (short
//! too) at its entry value, with realised P&L on the contracts each fill closes (less the
//! per-contract fees and the derivatives tax) and unrealised P&L at the last price; they
//! settle daily in cash at the broker, which this book does not model (the P&L is the same).
//!
//! Holdings from before QTS traded the account are not in here: the broker's positions
//! (`/v1/accounts/{account}/positions`) are the account's full holdings; this is the part QTS's
//! orders made, attributable to strategies.

use std::collections::BTreeMap;

use market::TradingCalendar;
use market::session::TimeOfDay;
use market::settlement::PendingBuy;
use market::{InstrumentKind, InvestorProfile, MarketRules, Price, Quantity, Side, Symbol, Vnd};
use time::{Date, OffsetDateTime};

/// One fill as the ledger reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerFill {
    /// Instrument.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Price.
    pub price: Price,
    /// Quantity that counted.
    pub quantity: Quantity,
    /// When.
    pub time: OffsetDateTime,
    /// The order's strategy.
    pub strategy: Option<String>,
}

/// What QTS's fills hold in one symbol for one strategy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holding {
    /// Held now.
    pub quantity: u64,
    /// Cost of what is held, with the buy fees, VND.
    pub cost: i64,
    /// Realised P&L after fees and tax, VND.
    pub realised: i64,
    /// Fees paid (brokerage and exchange), VND.
    pub fees: i64,
    /// Sale tax paid, VND.
    pub tax: i64,
    /// Bought and sold in all.
    pub bought: u64,
    /// Sold in all.
    pub sold: u64,
    /// Buys not yet sellable, by trade date.
    pending: Vec<PendingBuy>,
    /// Settled (sellable) part of `quantity` before the pending buys.
    settled: u64,
    /// Index futures: contracts held, below zero when short (`quantity` is its size).
    pub net: i64,
}

/// A holding valued now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valued {
    /// Instrument.
    pub symbol: Symbol,
    /// Strategy (`None`: a person's orders).
    pub strategy: Option<String>,
    /// The holding.
    pub holding: Holding,
    /// Sellable now (T+2 afternoon reached, minus open sells).
    pub sellable: u64,
    /// Average cost per share with buy fees.
    pub avg_cost: Option<i64>,
    /// The last price it is valued at.
    pub last: Option<i64>,
    /// Unrealised P&L at `last` after the fee and tax a sale would pay, VND.
    pub unrealised: Option<i64>,
    /// Bought and not sellable yet, by trade date: today (T+0), the trading day before (T+1),
    /// two or more trading days before (T+2, sellable from its afternoon).
    pub settling: [u64; 3],
}

/// The key of a holding.
type Key = (Option<String>, Symbol);

/// The instrument kind a ticker's shape says (fees and settlement depend on it).
pub fn kind_of(symbol: Symbol) -> InstrumentKind {
    use market::ticker::TickerKind;
    match market::ticker::classify(symbol.as_str()) {
        Ok(TickerKind::CoveredWarrant { .. }) => InstrumentKind::CoveredWarrant,
        Ok(TickerKind::Future { .. } | TickerKind::FutureAlias(_)) => InstrumentKind::IndexFuture,
        Ok(TickerKind::Etf) => InstrumentKind::Etf,
        Ok(TickerKind::FundCertificate) => InstrumentKind::FundCertificate,
        Ok(TickerKind::Stock) | Err(_) => InstrumentKind::Stock,
    }
}

/// One fill as the ledger costed it.
#[derive(Debug, Clone, Copy)]
pub struct Costed<'a> {
    /// The fill.
    pub fill: &'a LedgerFill,
    /// Its fees and tax at the account's brokerage tier that day.
    pub cost: market::fees::FillCost,
    /// What a sale realised after fees and tax against the average cost (0 for a buy, or a
    /// sale of holdings from before QTS).
    pub realised: i64,
}

/// Replays `fills` (any order; sorted by time here) into holdings per strategy and symbol.
pub fn replay(rules: &MarketRules, fills: &[LedgerFill]) -> BTreeMap<Key, Holding> {
    replay_each(rules, fills, |_| {})
}

/// [`replay`], telling `each` every fill with its cost and what it realised, in time order.
pub fn replay_each<'a>(
    rules: &MarketRules,
    fills: &'a [LedgerFill],
    mut each: impl FnMut(Costed<'a>),
) -> BTreeMap<Key, Holding> {
    let mut sorted: Vec<&LedgerFill> = fills.iter().collect();
    sorted.sort_by_key(|f| f.time);
    let investor = InvestorProfile::DOMESTIC_INDIVIDUAL;
    let mut traded_today: (Option<Date>, Vnd) = (None, Vnd::ZERO);
    let mut book: BTreeMap<Key, Holding> = BTreeMap::new();
    for f in sorted {
        let kind = kind_of(f.symbol);
        if kind == InstrumentKind::IndexFuture {
            futures_fill(rules, &investor, &mut book, f, &mut each);
            continue;
        }
        let day = f.time.to_offset(market::calendar::VN_OFFSET).date();
        if traded_today.0 != Some(day) {
            traded_today = (Some(day), Vnd::ZERO);
        }
        let cost = rules.fees.fill_cost(
            &rules.settlement,
            &market::fees::Fill {
                kind,
                side: f.side,
                price: f.price,
                quantity: f.quantity,
            },
            &investor,
            traded_today.1,
        );
        let Ok(cost) = cost else { continue };
        traded_today.1 = traded_today
            .1
            .checked_add(cost.gross_value)
            .unwrap_or(traded_today.1);
        let h = book.entry((f.strategy.clone(), f.symbol)).or_default();
        let fee = cost.brokerage.amount() + cost.exchange_fee.amount();
        h.fees += fee;
        h.tax += cost.tax.amount();
        let q = f.quantity.units();
        match f.side {
            Side::Buy => {
                h.quantity += q;
                h.bought += q;
                h.cost += cost.gross_value.amount() + cost.total_cost.amount();
                h.pending.push(PendingBuy {
                    trade_date: day,
                    quantity: f.quantity,
                });
                each(Costed {
                    fill: f,
                    cost,
                    realised: 0,
                });
            }
            Side::Sell => {
                // Only what QTS bought is in here: a sale beyond it sold older holdings.
                let covered = q.min(h.quantity);
                h.sold += q;
                if covered == 0 {
                    each(Costed {
                        fill: f,
                        cost,
                        realised: 0,
                    });
                    continue;
                }
                let share = |v: i64, part: u64, of: u64| {
                    i64::try_from(i128::from(v) * i128::from(part) / i128::from(of)).unwrap_or(v)
                };
                let basis = share(h.cost, covered, h.quantity);
                let proceeds = share(cost.net_cash.amount(), covered, q);
                h.realised += proceeds - basis;
                each(Costed {
                    fill: f,
                    cost,
                    realised: proceeds - basis,
                });
                h.cost -= basis;
                h.quantity -= covered;
                take_from_oldest(h, covered);
            }
        }
    }
    book
}

/// `v × part / of`, in 128 bits.
fn share(v: i64, part: i64, of: i64) -> i64 {
    if of == 0 {
        return 0;
    }
    i64::try_from(i128::from(v) * i128::from(part) / i128::from(of)).unwrap_or(v)
}

/// An index futures fill: it first closes contracts of the opposite side (realising the
/// difference between their entry value and this fill's, less this fill's fees and tax), then
/// opens the rest at this fill's value.
fn futures_fill<'a>(
    rules: &MarketRules,
    investor: &InvestorProfile,
    book: &mut BTreeMap<Key, Holding>,
    f: &'a LedgerFill,
    each: &mut impl FnMut(Costed<'a>),
) {
    let Ok(cost) = rules.fees.fill_cost(
        &rules.settlement,
        &market::fees::Fill {
            kind: InstrumentKind::IndexFuture,
            side: f.side,
            price: f.price,
            quantity: f.quantity,
        },
        investor,
        Vnd::ZERO,
    ) else {
        return;
    };
    let h = book.entry((f.strategy.clone(), f.symbol)).or_default();
    let fees = cost.brokerage.amount() + cost.exchange_fee.amount();
    h.fees += fees;
    h.tax += cost.tax.amount();
    let total = i64::try_from(f.quantity.units()).unwrap_or(i64::MAX);
    let direction = match f.side {
        Side::Buy => {
            h.bought += f.quantity.units();
            1
        }
        Side::Sell => {
            h.sold += f.quantity.units();
            -1
        }
    };
    let value = cost.gross_value.amount();
    let mut left = total;
    let mut closed = 0;
    if h.net != 0 && h.net.signum() != direction {
        let held = h.net.abs();
        let q = left.min(held);
        let basis = share(h.cost, q, held);
        let exit = share(value, q, total);
        closed = if h.net > 0 {
            exit - basis
        } else {
            basis - exit
        };
        h.cost -= basis;
        h.net += direction * q;
        left -= q;
    }
    if left > 0 {
        h.net += direction * left;
        h.cost += share(value, left, total);
    }
    h.quantity = h.net.unsigned_abs();
    let realised = closed - fees - cost.tax.amount();
    h.realised += realised;
    each(Costed {
        fill: f,
        cost,
        realised,
    });
}

/// One trading day of one strategy (`None`: a person's orders) in a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRow {
    /// Fills.
    pub fills: u64,
    /// Value bought, VND.
    pub bought: i64,
    /// Value sold, VND.
    pub sold: i64,
    /// Brokerage and exchange fees, VND.
    pub fees: i64,
    /// Sale tax, VND.
    pub tax: i64,
    /// Realised P&L after fees and tax, VND.
    pub realised: i64,
}

/// Each day's totals by (date, strategy).
pub type Days = BTreeMap<(Date, Option<String>), DayRow>;

/// What an account's fills did: every fill costed, and each trading day's totals by strategy,
/// for the days from `from` to `to` (Vietnam dates, both included). The holdings are replayed
/// from the first fill, so a sale's realised P&L is against its whole history.
pub fn report<'a>(
    rules: &MarketRules,
    fills: &'a [LedgerFill],
    from: Date,
    to: Date,
) -> (Vec<Costed<'a>>, Days) {
    let mut trades = Vec::new();
    let mut days = Days::new();
    replay_each(rules, fills, |c| {
        let day = c.fill.time.to_offset(market::calendar::VN_OFFSET).date();
        if day < from || day > to {
            return;
        }
        let row = days.entry((day, c.fill.strategy.clone())).or_default();
        row.fills += 1;
        let value = c.cost.gross_value.amount();
        match c.fill.side {
            Side::Buy => row.bought += value,
            Side::Sell => row.sold += value,
        }
        row.fees += c.cost.brokerage.amount() + c.cost.exchange_fee.amount();
        row.tax += c.cost.tax.amount();
        row.realised += c.realised;
        trades.push(c);
    });
    (trades, days)
}

/// A sale takes settled shares first, then the oldest pending buys (the broker refuses a sale
/// of unsettled shares; a fill here means it took them from somewhere).
fn take_from_oldest(h: &mut Holding, mut q: u64) {
    let from_settled = q.min(h.settled);
    h.settled -= from_settled;
    q -= from_settled;
    for p in &mut h.pending {
        if q == 0 {
            break;
        }
        let take = q.min(p.quantity.units());
        p.quantity = Quantity::new(p.quantity.units() - take);
        q -= take;
    }
    h.pending.retain(|p| p.quantity.units() > 0);
}

/// Values the holdings at `now`: sellable quantity (minus `open_sells` by strategy and
/// symbol) and unrealised P&L at `last` prices.
pub fn value(
    rules: &MarketRules,
    calendar: &TradingCalendar,
    book: BTreeMap<Key, Holding>,
    now: OffsetDateTime,
    last: impl Fn(Symbol) -> Option<Price>,
    open_sells: impl Fn(&Option<String>, Symbol) -> u64,
) -> Vec<Valued> {
    let local = now.to_offset(market::calendar::VN_OFFSET);
    let (date, time) = (local.date(), TimeOfDay::from_time(local.time()));
    let investor = InvestorProfile::DOMESTIC_INDIVIDUAL;
    book.into_iter()
        .map(|((strategy, symbol), mut h)| {
            if kind_of(symbol) == InstrumentKind::IndexFuture {
                return value_futures(rules, strategy, symbol, h, last(symbol));
            }
            // Pending buys that reached their T+2 afternoon are settled now.
            let (ready, waiting): (Vec<PendingBuy>, Vec<PendingBuy>) =
                h.pending.iter().partition(|p| {
                    rules
                        .settlement
                        .is_sellable(calendar, p.trade_date, date, time)
                });
            h.settled += ready.iter().map(|p| p.quantity.units()).sum::<u64>();
            let mut settling = [0; 3];
            for p in &waiting {
                let age = calendar.trading_days_between(p.trade_date, date).min(2);
                settling[age as usize] += p.quantity.units();
            }
            h.pending = waiting;
            let sellable = h
                .settled
                .min(h.quantity)
                .saturating_sub(open_sells(&strategy, symbol));
            let avg_cost =
                (h.quantity > 0).then(|| h.cost / i64::try_from(h.quantity).unwrap_or(i64::MAX));
            let last_price = last(symbol);
            let unrealised = match (last_price, h.quantity) {
                (Some(p), q) if q > 0 => rules
                    .fees
                    .fill_cost(
                        &rules.settlement,
                        &market::fees::Fill {
                            kind: kind_of(symbol),
                            side: Side::Sell,
                            price: p,
                            quantity: Quantity::new(q),
                        },
                        &investor,
                        Vnd::ZERO,
                    )
                    .ok()
                    .map(|c| c.net_cash.amount() - h.cost),
                _ => None,
            };
            Valued {
                symbol,
                strategy,
                sellable,
                avg_cost,
                last: last_price.map(Price::units),
                unrealised,
                settling,
                holding: h,
            }
        })
        .collect()
}

/// A futures position valued at `last`: what closing it there would make, before the fees
/// of closing (nothing settles: contracts trade T+0).
fn value_futures(
    rules: &MarketRules,
    strategy: Option<String>,
    symbol: Symbol,
    h: Holding,
    last: Option<Price>,
) -> Valued {
    let size = h.net.abs();
    let unrealised = last.and_then(|p| {
        let mark = rules.settlement.futures_value(p, size).ok()?.amount();
        Some(if h.net > 0 {
            mark - h.cost
        } else {
            h.cost - mark
        })
    });
    Valued {
        symbol,
        strategy,
        sellable: 0,
        avg_cost: (size > 0).then(|| h.cost / size),
        last: last.map(Price::units),
        unrealised: if size > 0 { unrealised } else { None },
        settling: [0; 3],
        holding: h,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn fill(side: Side, price: i64, qty: u64, time: OffsetDateTime) -> LedgerFill {
        LedgerFill {
            symbol: Symbol::parse("SSI").unwrap(),
            side,
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty),
            time,
            strategy: Some("ma".into()),
        }
    }

    #[test]
    fn cost_realised_pnl_fees_tax_and_t2_sellable() {
        let rules = MarketRules::default();
        let calendar = TradingCalendar::embedded().unwrap();
        let tue = datetime!(2025-06-10 10:00 +7);
        let fills = [
            fill(Side::Buy, 25_000, 1_000, tue),
            fill(Side::Buy, 26_000, 1_000, datetime!(2025-06-11 10:00 +7)),
            // Thursday: Tuesday's buy settled at 13:00, half of it sold at 27,000.
            fill(Side::Sell, 27_000, 500, datetime!(2025-06-12 14:00 +7)),
        ];
        let book = replay(&rules, &fills);
        let h = &book[&(Some("ma".to_owned()), Symbol::parse("SSI").unwrap())];
        // Buys: 25,000,000 + 0.15 % and 26,000,000 + 0.15 %.
        let cost = 25_000_000 + 37_500 + 26_000_000 + 39_000;
        // The sale: 13,500,000 − 0.15 % fee − 0.1 % tax, against half of the average cost.
        let basis = cost / 4;
        let proceeds = 13_500_000 - 20_250 - 13_500;
        assert_eq!(h.realised, proceeds - basis);
        assert_eq!((h.quantity, h.cost), (1_500, cost - basis));
        assert_eq!((h.fees, h.tax), (37_500 + 39_000 + 20_250, 13_500));

        let last = |_| Price::new(26_500).ok();
        let sellable_at =
            |now| value(&rules, &calendar, book.clone(), now, last, |_, _| 0)[0].sellable;
        // Thursday 14:00: Tuesday's 1,000 less the 500 sold; Wednesday's not before Friday 13:00.
        assert_eq!(sellable_at(datetime!(2025-06-12 14:00 +7)), 500);
        assert_eq!(sellable_at(datetime!(2025-06-13 12:59 +7)), 500);
        assert_eq!(sellable_at(datetime!(2025-06-13 13:00 +7)), 1_500);
        // What is still settling, by trade date: T+0 today, T+1, T+2 (sellable that afternoon).
        let settling_at =
            |now| value(&rules, &calendar, book.clone(), now, last, |_, _| 0)[0].settling;
        assert_eq!(settling_at(datetime!(2025-06-11 10:00 +7)), [1_000, 500, 0]);
        assert_eq!(settling_at(datetime!(2025-06-12 12:00 +7)), [0, 1_000, 500]);
        assert_eq!(settling_at(datetime!(2025-06-12 13:00 +7)), [0, 1_000, 0]);
        assert_eq!(settling_at(datetime!(2025-06-13 13:00 +7)), [0, 0, 0]);
        let v = value(
            &rules,
            &calendar,
            book,
            datetime!(2025-06-13 13:00 +7),
            last,
            |_, _| 200,
        );
        assert_eq!(v[0].sellable, 1_300, "open sells are not sellable again");
        let gross = 26_500 * 1_500;
        let after = gross - gross * 15 / 10_000 - gross / 1_000;
        assert_eq!(v[0].unrealised, Some(after - (cost - basis)));
    }

    #[test]
    fn the_report_costs_every_fill_and_sums_each_day_by_strategy() {
        let rules = MarketRules::default();
        let fills = [
            fill(Side::Buy, 25_000, 1_000, datetime!(2025-06-10 10:00 +7)),
            fill(Side::Buy, 26_000, 1_000, datetime!(2025-06-11 10:00 +7)),
            fill(Side::Sell, 27_000, 500, datetime!(2025-06-12 14:00 +7)),
        ];
        let book = replay(&rules, &fills);
        let realised = book.values().map(|h| h.realised).sum::<i64>();
        // The whole history, reported from the second day: the sale realises against both buys.
        let (trades, days) = report(
            &rules,
            &fills,
            time::macros::date!(2025 - 06 - 11),
            time::macros::date!(2025 - 06 - 12),
        );
        assert_eq!(trades.len(), 2);
        assert_eq!(trades[1].realised, realised);
        let strategy = Some("ma".to_owned());
        let wed = &days[&(time::macros::date!(2025 - 06 - 11), strategy.clone())];
        assert_eq!((wed.fills, wed.bought, wed.sold), (1, 26_000_000, 0));
        assert_eq!((wed.fees, wed.tax, wed.realised), (39_000, 0, 0));
        let thu = &days[&(time::macros::date!(2025 - 06 - 12), strategy)];
        assert_eq!((thu.sold, thu.fees, thu.tax), (13_500_000, 20_250, 13_500));
        assert_eq!(thu.realised, realised);
        assert_eq!(days.len(), 2, "Tuesday is before the report");
    }

    #[test]
    fn older_holdings_sold_realise_nothing() {
        let rules = MarketRules::default();
        let t = datetime!(2025-06-10 10:00 +7);
        let book = replay(&rules, &[fill(Side::Sell, 25_000, 100, t)]);
        let h = book.values().next().unwrap();
        assert_eq!((h.quantity, h.realised, h.sold), (0, 0, 100));
    }

    #[test]
    fn futures_are_a_signed_position_realised_on_the_contracts_each_fill_closes() {
        let rules = MarketRules::default();
        let calendar = TradingCalendar::embedded().unwrap();
        let t = datetime!(2025-06-10 10:00 +7);
        let future = |side, price, qty| LedgerFill {
            symbol: Symbol::parse("VN30F2506").unwrap(),
            ..fill(side, price, qty, t)
        };
        // Short 2 at 1,300.0 points: 2 × 1,300 × 100,000 = 260,000,000. Fees 6,700 a contract;
        // tax 0.1 % of the margin (17 % of the value) halved: 22,100.
        let short = [future(Side::Sell, 13_000, 2)];
        let book = replay(&rules, &short);
        let h = book.values().next().unwrap();
        assert_eq!((h.net, h.quantity, h.cost), (-2, 2, 260_000_000));
        assert_eq!((h.fees, h.tax, h.realised), (13_400, 22_100, -35_500));
        let at = |p| move |_| Price::new(p).ok();
        let v = value(&rules, &calendar, book, t, at(12_900), |_, _| 0);
        assert_eq!(
            v[0].unrealised,
            Some(2_000_000),
            "the short gains as the price falls"
        );
        assert_eq!((v[0].sellable, v[0].settling), (0, [0; 3]));

        // Buy 3 at 1,290.0: closes the 2 (+2,000,000 before costs) and opens 1 long.
        let both = [short[0].clone(), future(Side::Buy, 12_900, 3)];
        let book = replay(&rules, &both);
        let h = book.values().next().unwrap();
        assert_eq!((h.net, h.quantity, h.cost), (1, 1, 129_000_000));
        let costs = 20_100 + 32_895;
        assert_eq!(h.realised, -35_500 + 2_000_000 - costs);
        assert_eq!((h.fees, h.tax), (33_500, 22_100 + 32_895));
        assert_eq!((h.bought, h.sold), (3, 2));
        let v = value(&rules, &calendar, book, t, at(13_100), |_, _| 0);
        assert_eq!(v[0].unrealised, Some(2_000_000));
        assert_eq!(v[0].avg_cost, Some(129_000_000));
        // The report carries the same realised amounts.
        let (trades, _) = report(&rules, &both, t.date(), t.date());
        assert_eq!(
            trades.iter().map(|c| c.realised).sum::<i64>(),
            -35_500 + 2_000_000 - costs
        );
    }
}
