//! Call-auction price discovery and allocation (reference §3.4), as pure functions.
//!
//! Reference §3.4: "Call auction price: the price maximising matched volume (all
//! better-priced orders fully filled); ties → the price equal/closest to the last traded
//! price (or the reference price when there is no trade yet)." Under KRX, ATO/ATC orders
//! have no absolute priority: they take an implied limit ([`implied_prices`]) and compete
//! in price-time priority like LOs (an earlier ceiling-price buy LO keeps priority over a
//! later ATO/ATC at the same limit).
//!
//! `market` leaves matching to the simulator (docs/market-rules.md "Not covered"); every
//! tick step used here comes from `market` through the caller's closures.

use market::{Price, Quantity, Side};
use serde::{Deserialize, Serialize};

use crate::types::OrderId;

/// Auction tie-break settings (the parts reference §3.4 leaves open).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuctionRules {
    /// Insert "minimise the imbalance" between "maximise volume" and "closest to the
    /// last price". Reference §3.4 does not list this step, so it is off by default.
    pub minimise_imbalance: bool,
}

/// One order taking part in an auction, with its effective limit (LO price or the
/// implied ATO/ATC price).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionOrder {
    /// The order.
    pub order: OrderId,
    /// Side.
    pub side: Side,
    /// Effective limit.
    pub limit: Price,
    /// Time priority (lower is earlier).
    pub seq: u64,
    /// Open quantity.
    pub quantity: Quantity,
}

/// The outcome of price discovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncross {
    /// The single auction price.
    pub price: Price,
    /// Matched volume at that price.
    pub volume: Quantity,
    /// |buy interest − sell interest| at that price.
    pub imbalance: Quantity,
}

fn saturate(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The auction price of reference §3.4: among all candidate prices (every effective
/// limit, plus `base`), the one with the largest matched volume; ties go to the price
/// equal or closest to `base` (the last traded price, or the reference price when there
/// is no trade yet), then per [`AuctionRules`]. `None` when nothing can match.
pub fn discover(orders: &[AuctionOrder], base: Price, rules: &AuctionRules) -> Option<Uncross> {
    let mut buys: Vec<(Price, u64)> = Vec::new();
    let mut sells: Vec<(Price, u64)> = Vec::new();
    for o in orders {
        match o.side {
            Side::Buy => buys.push((o.limit, o.quantity.units())),
            Side::Sell => sells.push((o.limit, o.quantity.units())),
        }
    }
    buys.sort_unstable();
    sells.sort_unstable();
    let total_buy: u128 = buys.iter().map(|b| u128::from(b.1)).sum();
    let mut candidates: Vec<Price> = orders.iter().map(|o| o.limit).collect();
    candidates.push(base);
    candidates.sort_unstable();
    candidates.dedup();

    let (mut bi, mut si) = (0usize, 0usize);
    let (mut buy_below, mut sell_cum) = (0u128, 0u128);
    let mut best: Option<Uncross> = None;
    for p in candidates {
        while let Some(&(bp, q)) = buys.get(bi) {
            if bp >= p {
                break;
            }
            buy_below += u128::from(q);
            bi += 1;
        }
        while let Some(&(sp, q)) = sells.get(si) {
            if sp > p {
                break;
            }
            sell_cum += u128::from(q);
            si += 1;
        }
        let buy_cum = total_buy - buy_below;
        let volume = buy_cum.min(sell_cum);
        if volume == 0 {
            continue;
        }
        let here = Uncross {
            price: p,
            volume: Quantity::new(saturate(volume)),
            imbalance: Quantity::new(saturate(buy_cum.abs_diff(sell_cum))),
        };
        best = Some(match best {
            None => here,
            Some(b) if better(&here, &b, base, rules) => here,
            Some(b) => b,
        });
    }
    best
}

fn better(a: &Uncross, b: &Uncross, base: Price, rules: &AuctionRules) -> bool {
    if a.volume != b.volume {
        return a.volume > b.volume;
    }
    if rules.minimise_imbalance && a.imbalance != b.imbalance {
        return a.imbalance < b.imbalance;
    }
    let da = a.price.units().abs_diff(base.units());
    let db = b.price.units().abs_diff(base.units());
    if da != db {
        return da < db;
    }
    // Unreachable in practice: `base` is itself a candidate and the best set is a
    // contiguous range, so two different prices cannot be equally close. Prefer the
    // higher price to stay total and deterministic.
    a.price > b.price
}

/// One pairing of a buy and a sell at the auction price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Buy order.
    pub buy: OrderId,
    /// Sell order.
    pub sell: OrderId,
    /// Quantity.
    pub quantity: Quantity,
}

/// Pairs orders at `price` up to `volume` in price-time priority (reference §3.4): buys
/// with limit ≥ price by limit descending then time, sells with limit ≤ price by limit
/// ascending then time. Every order priced better than `price` on the short side is
/// filled completely; only the marginal level is partly filled.
pub fn allocate(orders: &[AuctionOrder], price: Price, volume: Quantity) -> Vec<Allocation> {
    let mut buys: Vec<AuctionOrder> = orders
        .iter()
        .filter(|o| o.side == Side::Buy && o.limit >= price)
        .copied()
        .collect();
    let mut sells: Vec<AuctionOrder> = orders
        .iter()
        .filter(|o| o.side == Side::Sell && o.limit <= price)
        .copied()
        .collect();
    buys.sort_by(|a, b| b.limit.cmp(&a.limit).then(a.seq.cmp(&b.seq)));
    sells.sort_by(|a, b| a.limit.cmp(&b.limit).then(a.seq.cmp(&b.seq)));
    let mut out = Vec::new();
    let mut left = volume.units();
    let (mut bi, mut si) = (0usize, 0usize);
    let (mut b_used, mut s_used) = (0u64, 0u64);
    while left > 0 {
        let (Some(b), Some(s)) = (buys.get(bi), sells.get(si)) else {
            break;
        };
        let b_open = b.quantity.units() - b_used;
        let s_open = s.quantity.units() - s_used;
        let q = b_open.min(s_open).min(left);
        if q > 0 {
            out.push(Allocation {
                buy: b.order,
                sell: s.order,
                quantity: Quantity::new(q),
            });
        }
        left -= q;
        b_used += q;
        s_used += q;
        if b_used >= b.quantity.units() {
            bi += 1;
            b_used = 0;
        }
        if s_used >= s.quantity.units() {
            si += 1;
            s_used = 0;
        }
    }
    out
}

/// What the implied ATO/ATC price depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImpliedInputs {
    /// Best LO bid.
    pub best_bid: Option<Price>,
    /// Best LO ask.
    pub best_ask: Option<Price>,
    /// Last traded price today, or the reference price.
    pub last_or_reference: Price,
    /// Today's reference price.
    pub reference: Price,
    /// Today's ceiling.
    pub ceiling: Price,
    /// Today's floor.
    pub floor: Price,
    /// Total ATO/ATC buy quantity.
    pub market_buy: Quantity,
    /// Total ATO/ATC sell quantity.
    pub market_sell: Quantity,
}

/// Implied limits of ATO/ATC orders under KRX (reference §3.4): buy = best LO bid + 1
/// tick (capped at the ceiling) but not below the best ask or the reference; sell = best
/// LO ask − 1 tick (floored) but not above the best bid or the reference. With only
/// market-type orders in the book, both are the last/reference price moved one tick
/// toward the heavier side. `tick_up`/`tick_down` come from `market`'s tick rules.
/// Returns `(buy, sell)`.
pub fn implied_prices(
    i: &ImpliedInputs,
    tick_up: impl Fn(Price) -> Option<Price>,
    tick_down: impl Fn(Price) -> Option<Price>,
) -> (Price, Price) {
    if i.best_bid.is_none() && i.best_ask.is_none() {
        let p = if i.market_buy > i.market_sell {
            tick_up(i.last_or_reference)
                .unwrap_or(i.last_or_reference)
                .min(i.ceiling)
        } else if i.market_sell > i.market_buy {
            tick_down(i.last_or_reference)
                .unwrap_or(i.last_or_reference)
                .max(i.floor)
        } else {
            i.last_or_reference
        };
        return (p, p);
    }
    let mut buy = i.reference;
    if let Some(b) = i.best_bid.and_then(&tick_up) {
        buy = buy.max(b.min(i.ceiling));
    }
    if let Some(a) = i.best_ask {
        buy = buy.max(a);
    }
    let mut sell = i.reference;
    if let Some(a) = i.best_ask.and_then(&tick_down) {
        sell = sell.min(a.max(i.floor));
    }
    if let Some(b) = i.best_bid {
        sell = sell.min(b);
    }
    (buy.min(i.ceiling), sell.max(i.floor))
}

#[cfg(test)]
mod tests;
