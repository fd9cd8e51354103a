//! Reference, ceiling and floor prices (reference §5).
//!
//! Ceiling = ref × (1 + band) rounded **down**, floor = ref × (1 − band) rounded **up**, each
//! to the tick valid at the resulting price (§5.2). If rounding makes a limit equal the
//! reference, the limit moves one tick away from it; if that would leave no positive floor
//! (reference of one tick), the floor is the reference. Everything is integer arithmetic.

use serde::{Deserialize, Serialize};

use crate::price::{self, Price, Quantity, Ratio, Vnd, div_ceil, div_floor, div_round_half_away};
use crate::tick::{Rounding, TickRules};
use crate::venue::{Board, Exchange, InstrumentKind};

/// Why limits or a reference price could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bonds have no daily band (reference §5.1); nothing to compute.
    #[error("{0} has no daily price band")]
    NoBand(InstrumentKind),
    /// Covered-warrant limits come from the underlying; use [`covered_warrant_limits`].
    #[error("covered-warrant limits are derived from the underlying")]
    DerivedFromUnderlying,
    /// The inputs produce no positive price.
    #[error("no positive price results: {0}")]
    NoPositivePrice(&'static str),
    /// A number overflowed.
    #[error(transparent)]
    Arithmetic(#[from] price::Error),
    /// The conversion ratio has a zero numerator.
    #[error("conversion ratio must be positive")]
    ZeroRatio,
}

/// Which daily band applies today (reference §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitCase {
    /// A normal trading day.
    Normal,
    /// First trading day of a new listing.
    FirstTradingDay,
    /// First day back after a suspension of 25 sessions or more (UPCoM: after 25
    /// consecutive sessions without a trade).
    Resumption,
    /// Ex-date of a stock dividend or bonus shares paid from treasury shares (UPCoM also:
    /// a cash dividend at least the prior VWAP). The caller decides that the case applies.
    ExRightsWide,
}

/// A band per case, in basis points of the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    /// Normal day.
    pub normal_bps: u32,
    /// First trading day, resumption after ≥25 sessions, and the wide ex-rights case.
    pub wide_bps: u32,
}

/// How futures ceiling/floor are rounded to 0.1 point (reference §5.2 \[U\]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FuturesLimitRounding {
    /// Ceiling down, floor up, like equities (the reference's assumption; the default).
    TowardReference,
    /// Ceiling up, floor down.
    AwayFromReference,
    /// Both to the nearest 0.1 point.
    Nearest,
}

/// The band numbers and \[U\] choices of reference §5, with defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitRules {
    /// HOSE: ±7% normal, ±20% wide \[C\].
    pub hose: Bands,
    /// HNX listed: ±10% normal, ±30% wide \[C\].
    pub hnx: Bands,
    /// UPCoM: ±15% normal, ±40% wide \[C\].
    pub upcom: Bands,
    /// Futures: ±7% of the prior settlement price \[C\]; no wide case.
    pub futures_bps: u32,
    /// Futures rounding direction; default toward the reference (§5.2 \[U\]).
    pub futures_rounding: FuturesLimitRounding,
    /// Exchanges where the "limit equals reference → move one tick" corner case applies.
    /// HNX documents it \[C\]; HOSE and UPCoM by analogy \[U\]. Default: all three.
    pub reference_corner_case: Vec<Exchange>,
    /// Covered-warrant floor when the derived floor is not positive: 10 VND \[C\].
    pub covered_warrant_min_floor: i64,
    /// Rounding of computed reference prices (UPCoM VWAP, ex-rights adjustment) to a tick;
    /// not documented, default nearest (§5.3 \[U\]).
    pub reference_rounding: Rounding,
}

impl Default for LimitRules {
    fn default() -> Self {
        Self {
            hose: Bands {
                normal_bps: 700,
                wide_bps: 2_000,
            },
            hnx: Bands {
                normal_bps: 1_000,
                wide_bps: 3_000,
            },
            upcom: Bands {
                normal_bps: 1_500,
                wide_bps: 4_000,
            },
            futures_bps: 700,
            futures_rounding: FuturesLimitRounding::TowardReference,
            reference_corner_case: vec![Exchange::Hose, Exchange::Hnx, Exchange::Upcom],
            covered_warrant_min_floor: 10,
            reference_rounding: Rounding::Nearest,
        }
    }
}

/// Today's reference, ceiling and floor for one security (reference §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PriceLimits {
    /// Reference price (§5.3).
    pub reference: Price,
    /// Highest valid order price today.
    pub ceiling: Price,
    /// Lowest valid order price today.
    pub floor: Price,
}

impl PriceLimits {
    /// Whether `price` lies within `[floor, ceiling]`.
    pub fn contains(&self, price: Price) -> bool {
        self.floor <= price && price <= self.ceiling
    }
}

impl LimitRules {
    /// The band in basis points for `(exchange, case)` (reference §5.1). Futures have one
    /// band regardless of case.
    pub fn band_bps(&self, exchange: Exchange, case: LimitCase) -> u32 {
        let bands = match exchange {
            Exchange::Hose => self.hose,
            Exchange::Hnx => self.hnx,
            Exchange::Upcom => self.upcom,
            Exchange::HnxDeriv => return self.futures_bps,
        };
        match case {
            LimitCase::Normal => bands.normal_bps,
            LimitCase::FirstTradingDay | LimitCase::Resumption | LimitCase::ExRightsWide => {
                bands.wide_bps
            }
        }
    }

    /// Ceiling and floor for a stock, fund certificate, ETF or index future (reference
    /// §5.1–§5.2). Bonds have no band ([`Error::NoBand`]); covered warrants derive theirs
    /// from the underlying ([`covered_warrant_limits`]).
    pub fn price_limits(
        &self,
        ticks: &TickRules,
        exchange: Exchange,
        kind: InstrumentKind,
        reference: Price,
        case: LimitCase,
    ) -> Result<PriceLimits, Error> {
        match kind {
            InstrumentKind::Bond => return Err(Error::NoBand(kind)),
            InstrumentKind::CoveredWarrant => return Err(Error::DerivedFromUnderlying),
            InstrumentKind::Stock
            | InstrumentKind::FundCertificate
            | InstrumentKind::Etf
            | InstrumentKind::IndexFuture => {}
        }
        let bps = i128::from(self.band_bps(exchange, case));
        let r = i128::from(reference.units());
        let hi = r * (10_000 + bps);
        let lo = r * (10_000 - bps).max(0);
        let (ceil_dir, floor_dir) = if kind == InstrumentKind::IndexFuture {
            match self.futures_rounding {
                FuturesLimitRounding::TowardReference => (Rounding::Down, Rounding::Up),
                FuturesLimitRounding::AwayFromReference => (Rounding::Up, Rounding::Down),
                FuturesLimitRounding::Nearest => (Rounding::Nearest, Rounding::Nearest),
            }
        } else {
            (Rounding::Down, Rounding::Up)
        };
        let raw = |n: i128, dir: Rounding| -> i128 {
            match dir {
                Rounding::Down => div_floor(n, 10_000),
                Rounding::Up => div_ceil(n, 10_000),
                Rounding::Nearest => div_round_half_away(n, 10_000),
            }
        };
        let to_i64 = |v: i128| i64::try_from(v).map_err(|_| price::Error::Overflow("limits"));
        let board = Board::Main;
        let ceiling = ticks
            .round_units(exchange, kind, board, to_i64(raw(hi, ceil_dir))?, ceil_dir)
            .ok_or(Error::NoPositivePrice("ceiling"))?;
        let floor = ticks.round_units(
            exchange,
            kind,
            board,
            to_i64(raw(lo, floor_dir))?,
            floor_dir,
        );
        let corner = self.reference_corner_case.contains(&exchange);
        let ceiling = if corner && ceiling <= reference {
            ticks
                .tick_up(exchange, kind, board, reference)
                .ok_or(Error::NoPositivePrice("ceiling"))?
        } else {
            ceiling
        };
        let floor = match floor {
            Some(f) if corner && f >= reference => ticks
                .tick_down(exchange, kind, board, reference)
                .unwrap_or(reference),
            Some(f) => f,
            None => reference,
        };
        Ok(PriceLimits {
            reference,
            ceiling,
            floor,
        })
    }
}

/// Covered-warrant limits (reference §5.2, HOSE Decision 352 art. 9): ceiling = CW ref +
/// (underlying ceiling − underlying ref) ÷ ratio, floor = CW ref − (underlying ref −
/// underlying floor) ÷ ratio, rounded like equities (ceiling down, floor up, CW tick); a
/// non-positive floor becomes `covered_warrant_min_floor` (10 VND).
///
/// `warrants_per_share` is the conversion ratio as warrants per underlying share (a "4:1"
/// warrant is `Ratio::new(4, 1)`).
pub fn covered_warrant_limits(
    rules: &LimitRules,
    ticks: &TickRules,
    cw_reference: Price,
    underlying: &PriceLimits,
    warrants_per_share: Ratio,
) -> Result<PriceLimits, Error> {
    if warrants_per_share.num() == 0 {
        return Err(Error::ZeroRatio);
    }
    let (ex, kind, board) = (Exchange::Hose, InstrumentKind::CoveredWarrant, Board::Main);
    let num = i128::from(warrants_per_share.num());
    let den = i128::from(warrants_per_share.den());
    let r = i128::from(cw_reference.units());
    let up = i128::from(underlying.ceiling.units() - underlying.reference.units());
    let down = i128::from(underlying.reference.units() - underlying.floor.units());
    // CW ref + up × den / num, exactly, then floor; CW ref − down × den / num, then ceil.
    let hi = div_floor(r * num + up * den, num);
    let lo = div_ceil(r * num - down * den, num);
    let to_i64 = |v: i128| i64::try_from(v).map_err(|_| price::Error::Overflow("cw limits"));
    let ceiling = ticks
        .round_units(ex, kind, board, to_i64(hi)?, Rounding::Down)
        .ok_or(Error::NoPositivePrice("covered-warrant ceiling"))?;
    let min_floor = Price::new(rules.covered_warrant_min_floor)?;
    let floor = if lo <= 0 {
        min_floor
    } else {
        ticks
            .round_units(ex, kind, board, to_i64(lo)?, Rounding::Up)
            .unwrap_or(min_floor)
    };
    Ok(PriceLimits {
        reference: cw_reference,
        ceiling,
        floor,
    })
}

/// A corporate action that adjusts the reference on the ex-date (reference §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorporateAction {
    /// Cash dividend per share, VND.
    pub cash_dividend: Vnd,
    /// Rights issue subscription price, VND (ignored when `rights_ratio` is zero).
    pub rights_price: Vnd,
    /// New shares via rights per existing share (e.g. 1 for every 5 held = 1/5).
    pub rights_ratio: Ratio,
    /// Bonus or stock-dividend shares per existing share.
    pub stock_ratio: Ratio,
}

/// The ex-date reference `P' = (P − cash + rights_price × rights_ratio) /
/// (1 + rights_ratio + stock_ratio)` (reference §5.3), rounded to a tick per
/// `LimitRules::reference_rounding`. Convertible bonds, private placements and ESOP issues do not adjust (pass no action).
pub fn ex_rights_reference(
    rules: &LimitRules,
    ticks: &TickRules,
    exchange: Exchange,
    kind: InstrumentKind,
    previous_close: Price,
    action: &CorporateAction,
) -> Result<Price, Error> {
    let (rn, rd) = (
        i128::from(action.rights_ratio.num()),
        i128::from(action.rights_ratio.den()),
    );
    let (sn, sd) = (
        i128::from(action.stock_ratio.num()),
        i128::from(action.stock_ratio.den()),
    );
    // Common denominator rd × sd.
    let p = i128::from(previous_close.units());
    let cash = i128::from(action.cash_dividend.amount());
    let rp = i128::from(action.rights_price.amount());
    let numer = (p - cash) * rd * sd + rp * rn * sd;
    let denom = rd * sd + rn * sd + sn * rd;
    round_reference(rules, ticks, exchange, kind, numer, denom)
}

/// The reference after a split or consolidation: previous close × old ÷ new shares
/// (reference §5.3), rounded per `LimitRules::reference_rounding`. `new_per_old` is new
/// shares per old share (a 2-for-1 split is `Ratio::new(2, 1)`).
pub fn split_reference(
    rules: &LimitRules,
    ticks: &TickRules,
    exchange: Exchange,
    kind: InstrumentKind,
    previous_close: Price,
    new_per_old: Ratio,
) -> Result<Price, Error> {
    if new_per_old.num() == 0 {
        return Err(Error::ZeroRatio);
    }
    let numer = i128::from(previous_close.units()) * i128::from(new_per_old.den());
    let denom = i128::from(new_per_old.num());
    round_reference(rules, ticks, exchange, kind, numer, denom)
}

/// What the next session's reference price is taken from (reference §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceBasis {
    /// The previous session's closing price (HOSE, HNX \[C\]). Futures too: their
    /// reference is VSDC's daily settlement price, which `market` does not model, so the
    /// close stands in for it.
    Close,
    /// The volume-weighted average price of the previous session's round-lot
    /// **continuous** matches, put-through excluded (UPCoM \[C\]).
    ContinuousVwap,
}

/// Running sums for a volume-weighted average price: Σ price units × quantity and
/// Σ quantity. Add every trade that counts (for [`ReferenceBasis::ContinuousVwap`]: the
/// round-lot continuous matches only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Vwap {
    value: i128,
    volume: i128,
}

impl Vwap {
    /// No trade yet.
    pub const EMPTY: Vwap = Vwap {
        value: 0,
        volume: 0,
    };

    /// Adds one trade (sums saturate instead of overflowing; no real day comes near).
    pub fn add(&mut self, price: Price, quantity: Quantity) {
        let q = i128::from(quantity.units());
        self.value = self
            .value
            .saturating_add(i128::from(price.units()).saturating_mul(q));
        self.volume = self.volume.saturating_add(q);
    }

    /// From sums already taken: `value` = Σ price units × quantity, `volume` = Σ quantity
    /// (e.g. a day's matched value and volume as a data feed reports them).
    pub fn from_totals(value: i128, volume: i128) -> Self {
        Self { value, volume }
    }

    /// Σ price units × quantity.
    pub fn value(&self) -> i128 {
        self.value
    }

    /// Σ quantity.
    pub fn volume(&self) -> i128 {
        self.volume
    }
}

impl FromIterator<(Price, Quantity)> for Vwap {
    fn from_iter<I: IntoIterator<Item = (Price, Quantity)>>(trades: I) -> Self {
        let mut v = Vwap::EMPTY;
        for (p, q) in trades {
            v.add(p, q);
        }
        v
    }
}

/// What a session leaves for the next session's reference price (reference §5.3): the
/// inputs of [`LimitRules::next_reference`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PreviousSession {
    /// That session's own reference price; it carries over when the session left nothing
    /// to take the next one from.
    pub reference: Price,
    /// Its closing price (`order::closing_price`), `None` when nothing traded.
    pub close: Option<Price>,
    /// Its round-lot continuous matches (auctions, odd lots and put-through excluded). Only
    /// read for [`ReferenceBasis::ContinuousVwap`]; [`Vwap::EMPTY`] elsewhere is fine.
    pub continuous: Vwap,
}

impl LimitRules {
    /// What `exchange`'s next reference price is taken from (reference §5.3).
    pub fn reference_basis(&self, exchange: Exchange) -> ReferenceBasis {
        match exchange {
            Exchange::Hose | Exchange::Hnx | Exchange::HnxDeriv => ReferenceBasis::Close,
            Exchange::Upcom => ReferenceBasis::ContinuousVwap,
        }
    }

    /// The next session's reference price after `previous` (reference §5.3): its close
    /// on HOSE and HNX (and for futures, see [`ReferenceBasis::Close`]), the previous close
    /// carrying over when it had none ([`crate::order::carried_close`]); on UPCoM the VWAP
    /// of its round-lot continuous matches rounded to a tick per
    /// [`LimitRules::reference_rounding`], the previous reference carrying over when none
    /// traded (§5.3 \[U\]). Corporate-action adjustments are separate:
    /// [`ex_rights_reference`], [`split_reference`].
    pub fn next_reference(
        &self,
        ticks: &TickRules,
        exchange: Exchange,
        kind: InstrumentKind,
        previous: &PreviousSession,
    ) -> Result<Price, Error> {
        match self.reference_basis(exchange) {
            ReferenceBasis::Close => Ok(crate::order::carried_close(
                previous.close,
                previous.reference,
            )),
            ReferenceBasis::ContinuousVwap => {
                if previous.continuous.volume <= 0 {
                    return Ok(previous.reference);
                }
                round_reference(
                    self,
                    ticks,
                    exchange,
                    kind,
                    previous.continuous.value,
                    previous.continuous.volume,
                )
            }
        }
    }
}

/// UPCoM reference: the volume-weighted average of the previous day's round-lot
/// continuous matches, put-through excluded (reference §5.3 \[C\]). The caller passes only
/// those trades. With no trade the previous reference carries over (§5.3 \[U\]). The same
/// as [`LimitRules::next_reference`] for a UPCoM stock.
pub fn upcom_reference(
    rules: &LimitRules,
    ticks: &TickRules,
    continuous_round_lot_trades: &[(Price, Quantity)],
    previous_reference: Price,
) -> Result<Price, Error> {
    rules.next_reference(
        ticks,
        Exchange::Upcom,
        InstrumentKind::Stock,
        &PreviousSession {
            reference: previous_reference,
            close: None,
            continuous: continuous_round_lot_trades.iter().copied().collect(),
        },
    )
}

fn round_reference(
    rules: &LimitRules,
    ticks: &TickRules,
    exchange: Exchange,
    kind: InstrumentKind,
    numer: i128,
    denom: i128,
) -> Result<Price, Error> {
    if denom <= 0 || numer <= 0 {
        return Err(Error::NoPositivePrice("reference"));
    }
    let raw = match rules.reference_rounding {
        Rounding::Down => div_floor(numer, denom),
        Rounding::Up => div_ceil(numer, denom),
        Rounding::Nearest => div_round_half_away(numer, denom),
    };
    let raw = i64::try_from(raw).map_err(|_| price::Error::Overflow("reference"))?;
    ticks
        .round_units(exchange, kind, Board::Main, raw, rules.reference_rounding)
        .or_else(|| ticks.round_units(exchange, kind, Board::Main, raw, Rounding::Up))
        .ok_or(Error::NoPositivePrice("reference"))
}

#[cfg(test)]
mod tests;
