//! From a [`Sample`] (what FC Data served) to a [`Report`].

use std::collections::BTreeMap;

use time::Date;

use super::estimators::{
    autocorrelation, correlation, excess_kurtosis, mean, median, roll_spread, std_dev,
};
use super::report::{Fact, HalfHour, IntradayShape, LimitRow, LiquidityRow, Report, Returns};
use super::{Sample, Series};
use crate::universe::Liquidity;

/// Days of market-index returns on each side of a day behind its turbulence measure.
const VOL_WINDOW: usize = 10;
/// Share of days (by that measure) counted as turbulent.
const TURBULENT_SHARE: f64 = 1.0 / 3.0;
/// Lags of the |r| autocorrelation.
const LAGS: usize = 10;

/// Log returns of `series` on the sample's days: `None` unless both days traded.
fn returns(dates: &[Date], s: &Series) -> Vec<Option<f64>> {
    let by_date: BTreeMap<Date, (f64, u64)> = s
        .daily
        .iter()
        .map(|r| (r.date, (r.close, r.volume)))
        .collect();
    let mut out = vec![None; dates.len()];
    for (t, pair) in dates.windows(2).enumerate() {
        let (Some(&(a, va)), Some(&(b, vb))) = (by_date.get(&pair[0]), by_date.get(&pair[1]))
        else {
            continue;
        };
        if va > 0
            && vb > 0
            && a > 0.0
            && b > 0.0
            && let Some(slot) = out.get_mut(t + 1)
        {
            *slot = Some((b / a).ln());
        }
    }
    out
}

/// Log returns of an index series on the sample's days.
fn index_returns(dates: &[Date], index: &[(Date, f64)]) -> Vec<Option<f64>> {
    let by_date: BTreeMap<Date, f64> = index.iter().copied().collect();
    let mut out = vec![None; dates.len()];
    for (t, pair) in dates.windows(2).enumerate() {
        if let (Some(a), Some(b)) = (by_date.get(&pair[0]), by_date.get(&pair[1]))
            && *a > 0.0
            && *b > 0.0
            && let Some(slot) = out.get_mut(t + 1)
        {
            *slot = Some((b / a).ln());
        }
    }
    out
}

/// Each day's regime by the market index: `Some(true)` when the volatility of its returns
/// over the [`VOL_WINDOW`] days before and after (the day itself left out, so the measure
/// does not select on the day's own moves) is in the top [`TURBULENT_SHARE`] of the
/// sample, `None` with fewer than [`VOL_WINDOW`] returns around it. A trailing window
/// alone lags the regime: a sell-off's first days would count as calm.
fn regimes(market: &[Option<f64>]) -> Vec<Option<bool>> {
    let vols: Vec<Option<f64>> = (0..market.len())
        .map(|t| {
            let before = market
                .get(t.saturating_sub(VOL_WINDOW)..t)
                .unwrap_or_default();
            let after = market
                .get(t + 1..(t + 1 + VOL_WINDOW).min(market.len()))
                .unwrap_or_default();
            let window: Vec<f64> = before.iter().chain(after).flatten().copied().collect();
            (window.len() >= VOL_WINDOW).then(|| std_dev(&window))
        })
        .collect();
    let mut sorted: Vec<f64> = vols.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted
        .get(((1.0 - TURBULENT_SHARE) * sorted.len() as f64) as usize)
        .copied()
        .unwrap_or(f64::INFINITY);
    vols.iter().map(|v| v.map(|v| v >= cut)).collect()
}

/// Mean Pearson correlation over every pair of `rets`.
fn mean_pairwise(rets: &[Vec<Option<f64>>]) -> f64 {
    let mut cs = Vec::new();
    for (a, ra) in rets.iter().enumerate() {
        for rb in rets.iter().skip(a + 1) {
            let c = correlation(ra, rb, |_| true);
            if !c.is_nan() {
                cs.push(c);
            }
        }
    }
    mean(&cs)
}

/// Each day's co-movement of the stocks: the mean pairwise product of their demeaned
/// returns over their mean square, `((Σz)² − Σz²) / ((n − 1) Σz²)`, in −1/(n−1)..=1;
/// `None` with fewer than 2 returns. Weighs every day alike, unlike a correlation over days,
/// which the largest days dominate.
fn comovement(rets: &[Vec<Option<f64>>], days: usize) -> Vec<Option<f64>> {
    let means: Vec<f64> = rets
        .iter()
        .map(|r| mean(&r.iter().flatten().copied().collect::<Vec<_>>()))
        .collect();
    (0..days)
        .map(|t| {
            let z: Vec<f64> = rets
                .iter()
                .zip(&means)
                .filter_map(|(r, m)| r.get(t).copied().flatten().map(|x| x - m))
                .collect();
            let n = z.len() as f64;
            let (sum, squares) = (z.iter().sum::<f64>(), z.iter().map(|x| x * x).sum::<f64>());
            (z.len() >= 2 && squares > 0.0).then(|| (sum * sum - squares) / ((n - 1.0) * squares))
        })
        .collect()
}

fn finite_mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.filter(|x| x.is_finite()).collect();
    mean(&v)
}

fn return_stats(sample: &Sample, regime: &[Option<bool>]) -> Returns {
    let dates = &sample.dates;
    let rets: Vec<Vec<Option<f64>>> = sample.selected.iter().map(|s| returns(dates, s)).collect();
    let pooled: Vec<f64> = rets.iter().flatten().flatten().copied().collect();
    let index = index_returns(dates, &sample.index);
    let abs: Vec<Vec<Option<f64>>> = rets
        .iter()
        .map(|r| r.iter().map(|x| x.map(f64::abs)).collect())
        .collect();
    let abs_acf: Vec<f64> = (1..=LAGS)
        .map(|lag| finite_mean(abs.iter().map(|a| autocorrelation(a, lag))))
        .collect();
    let volume_corr = finite_mean(sample.selected.iter().zip(&abs).map(|(s, a)| {
        let by_date: BTreeMap<Date, u64> = s.daily.iter().map(|r| (r.date, r.volume)).collect();
        let volume: Vec<Option<f64>> = dates
            .iter()
            .map(|d| by_date.get(d).filter(|v| **v > 0).map(|v| *v as f64))
            .collect();
        correlation(&volume, a, |_| true)
    }));
    let turbulent = |t: usize| regime.get(t).copied().flatten() == Some(true);
    let calm = |t: usize| regime.get(t).copied().flatten() == Some(false);
    let daily = comovement(&rets, dates.len());
    let comovement_on = |keep: &dyn Fn(usize) -> bool| {
        finite_mean(
            daily
                .iter()
                .enumerate()
                .filter(|(t, _)| keep(*t))
                .filter_map(|(_, c)| *c),
        )
    };
    Returns {
        comovement: comovement_on(&|_| true),
        comovement_turbulent: comovement_on(&turbulent),
        comovement_calm: comovement_on(&calm),
        observations: pooled.len(),
        daily_vol: finite_mean(rets.iter().map(|r| {
            let seen: Vec<f64> = r.iter().flatten().copied().collect();
            std_dev(&seen)
        })),
        index_daily_vol: std_dev(&index.iter().flatten().copied().collect::<Vec<_>>()),
        excess_kurtosis: excess_kurtosis(&pooled),
        max_abs_return: pooled.iter().fold(0.0, |m: f64, x| m.max(x.abs())),
        abs_autocorrelation_mean: mean(&abs_acf),
        abs_autocorrelation: abs_acf,
        autocorrelation_lag1: finite_mean(rets.iter().map(|r| autocorrelation(r, 1))),
        pairwise_correlation: mean_pairwise(&rets),
        turbulent_days: (0..dates.len()).filter(|t| turbulent(*t)).count(),
        calm_days: (0..dates.len()).filter(|t| calm(*t)).count(),
        index_correlation: finite_mean(rets.iter().map(|r| correlation(r, &index, |_| true))),
        volume_abs_return_correlation: volume_corr,
    }
}

/// Stock-days of `stocks` closing at a limit, overall and by regime, as a row named
/// `name`.
fn limit_row(name: &str, stocks: &[&Series], dates: &[Date], regime: &[Option<bool>]) -> LimitRow {
    let position: BTreeMap<Date, usize> = dates.iter().enumerate().map(|(t, d)| (*d, t)).collect();
    let (mut days, mut up, mut down) = (0usize, 0usize, 0usize);
    let (mut td, mut th, mut cd, mut ch) = (0usize, 0usize, 0usize, 0usize);
    for s in stocks {
        for r in s.daily.iter().filter(|r| r.volume > 0) {
            days += 1;
            let is_up = r.close >= r.ceiling;
            let is_down = r.close <= r.floor;
            up += usize::from(is_up);
            down += usize::from(is_down);
            let hit = usize::from(is_up || is_down);
            match position
                .get(&r.date)
                .and_then(|t| regime.get(*t).copied().flatten())
            {
                Some(true) => {
                    td += 1;
                    th += hit;
                }
                Some(false) => {
                    cd += 1;
                    ch += hit;
                }
                None => {}
            }
        }
    }
    let share = |n: usize, d: usize| if d > 0 { n as f64 / d as f64 } else { f64::NAN };
    LimitRow {
        exchange: name.to_owned(),
        symbols: stocks.len(),
        stock_days: days,
        limit_up: share(up, days),
        limit_down: share(down, days),
        limit_turbulent: share(th, td),
        limit_calm: share(ch, cd),
        turbulent_stock_days: td,
        calm_stock_days: cd,
    }
}

fn limit_stats(sample: &Sample, regime: &[Option<bool>]) -> Vec<LimitRow> {
    let mut rows = Vec::new();
    for exchange in ["HOSE", "HNX", "UPCOM"] {
        let stocks: Vec<&Series> = sample
            .sampled
            .iter()
            .filter(|s| s.exchange == exchange)
            .collect();
        if !stocks.is_empty() {
            rows.push(limit_row(exchange, &stocks, &sample.dates, regime));
        }
    }
    let selected: Vec<&Series> = sample.selected.iter().collect();
    rows.push(limit_row(
        &sample.index_code,
        &selected,
        &sample.dates,
        regime,
    ));
    rows
}

/// Within-day log changes of `s`'s 1-minute closes in continuous trading, one vector per
/// day (auction prints left out).
fn minute_changes(s: &Series) -> Vec<Vec<f64>> {
    let mut days: BTreeMap<Date, Vec<f64>> = BTreeMap::new();
    let mut last: Option<(Date, f64)> = None;
    for b in s
        .minutes
        .iter()
        .filter(|b| s.shape.is_continuous_minute(b.secs))
    {
        if let Some((d, c)) = last
            && d == b.date
            && c > 0.0
            && b.close > 0.0
        {
            days.entry(b.date).or_default().push((b.close / c).ln());
        }
        last = Some((b.date, b.close));
    }
    days.into_values().collect()
}

fn liquidity_stats(sample: &Sample) -> Vec<LiquidityRow> {
    let mut rows = Vec::new();
    for exchange in ["HOSE", "HNX", "UPCOM"] {
        for class in Liquidity::ALL {
            let stocks: Vec<&Series> = sample
                .sampled
                .iter()
                .filter(|s| s.exchange == exchange && s.liquidity == class)
                .collect();
            if stocks.is_empty() {
                continue;
            }
            let days: Vec<_> = stocks.iter().flat_map(|s| &s.daily).collect();
            let n = days.len().max(1) as f64;
            let spreads: Vec<f64> = stocks
                .iter()
                .map(|s| roll_spread(&minute_changes(s)) * 1e4)
                .collect();
            rows.push(LiquidityRow {
                exchange: exchange.to_owned(),
                class: class.key().to_owned(),
                symbols: stocks.len(),
                stock_days: days.len(),
                mean_volume: days.iter().map(|r| r.volume as f64).sum::<f64>() / n,
                mean_value_bn: days.iter().map(|r| r.value).sum::<f64>() / n / 1e9,
                no_trade_share: days.iter().filter(|r| r.volume == 0).count() as f64 / n,
                roll_spread_bps: median(&spreads),
            });
        }
    }
    rows
}

fn intraday_stats(sample: &Sample) -> IntradayShape {
    let mut slots: BTreeMap<u32, (u64, f64, usize)> = BTreeMap::new();
    let (mut edge_volume, mut edge_minutes, mut middle_volume, mut middle_minutes) =
        (0.0, 0usize, 0.0, 0usize);
    let (mut edge_abs, mut edge_n, mut middle_abs, mut middle_n) = (0.0, 0usize, 0.0, 0usize);
    let (mut total, mut atc, mut lunch) = (0u64, 0u64, 0u64);
    let mut days = std::collections::BTreeSet::new();
    for s in &sample.selected {
        let mut last: Option<(Date, f64)> = None;
        for b in &s.minutes {
            days.insert(b.date);
            total += b.volume;
            let slot = slots.entry(b.secs / 1800 * 1800).or_insert((0, 0.0, 0));
            slot.0 += b.volume;
            if s.shape.is_closing_auction_minute(b.secs) {
                atc += b.volume;
            }
            if s.shape.is_break(b.secs) {
                lunch += b.volume;
            }
            let change = match last {
                Some((d, c)) if d == b.date && c > 0.0 && b.close > 0.0 => {
                    Some((b.close / c).ln().abs())
                }
                Some(_) | None => None,
            };
            last = Some((b.date, b.close));
            if let Some(c) = change {
                slot.1 += c;
                slot.2 += 1;
            }
            if !s.shape.is_continuous_minute(b.secs) {
                continue;
            }
            let edge = s.shape.is_session_edge(b.secs);
            if edge {
                edge_volume += b.volume as f64;
                edge_minutes += 1;
            } else {
                middle_volume += b.volume as f64;
                middle_minutes += 1;
            }
            if let Some(c) = change {
                if edge {
                    edge_abs += c;
                    edge_n += 1;
                } else {
                    middle_abs += c;
                    middle_n += 1;
                }
            }
        }
    }
    let ratio = |a: f64, an: usize, b: f64, bn: usize| {
        if an == 0 || bn == 0 || b <= 0.0 {
            f64::NAN
        } else {
            (a / an as f64) / (b / bn as f64)
        }
    };
    let total_f = total.max(1) as f64;
    IntradayShape {
        days: days.len(),
        half_hours: slots
            .iter()
            .map(|(start, (v, a, n))| HalfHour {
                start: format!("{:02}:{:02}", start / 3600, start / 60 % 60),
                volume_share: *v as f64 / total_f,
                abs_return_bps: if *n > 0 { a / *n as f64 * 1e4 } else { 0.0 },
            })
            .collect(),
        u_volume: ratio(edge_volume, edge_minutes, middle_volume, middle_minutes),
        u_volatility: ratio(edge_abs, edge_n, middle_abs, middle_n),
        atc_share: atc as f64 / total_f,
        lunch_volume: lunch,
    }
}

fn fact(key: &str, label: &str, value: f64, (low, high): (f64, f64), reference: &str) -> Fact {
    Fact {
        key: key.to_owned(),
        label: label.to_owned(),
        value,
        low,
        high,
        reference: reference.to_owned(),
    }
}

/// The stylized facts and their ranges (documented with their references in
/// `docs/simulator.md`, "Market model").
fn facts(r: &Report) -> Vec<Fact> {
    let x = &r.returns;
    let mut out = vec![
        fact(
            "returns.daily_vol",
            "mean daily volatility of the stocks",
            x.daily_vol,
            (0.012, 0.035),
            "VN large caps: about 1.5-3% a day (approximate)",
        ),
        fact(
            "returns.index_daily_vol",
            "daily volatility of the index",
            x.index_daily_vol,
            (0.007, 0.02),
            "VN-Index/VN30: about 1-1.5% a day (approximate)",
        ),
        fact(
            "returns.excess_kurtosis",
            "pooled excess kurtosis of daily returns",
            x.excess_kurtosis,
            (1.5, 15.0),
            "Cont (2001): heavy tails, excess kurtosis well above 0; bands truncate",
        ),
        fact(
            "returns.abs_autocorrelation_mean",
            "mean autocorrelation of |r|, lags 1-10",
            x.abs_autocorrelation_mean,
            (0.03, 0.45),
            "Cont (2001); Ding, Granger and Engle (1993): positive, slowly decaying",
        ),
        fact(
            "returns.autocorrelation_lag1",
            "mean lag-1 autocorrelation of r",
            x.autocorrelation_lag1,
            (-0.1, 0.1),
            "Cont (2001): no significant linear autocorrelation (one year: ±0.1)",
        ),
        fact(
            "returns.pairwise_correlation",
            "mean pairwise correlation of the stocks",
            x.pairwise_correlation,
            (0.2, 0.55),
            "large caps: a few tenths (approximate for VN30)",
        ),
        fact(
            "returns.comovement_rise",
            "daily co-movement turbulent minus calm",
            x.comovement_turbulent - x.comovement_calm,
            (0.0, 1.0),
            "Longin and Solnik (2001): correlations rise in volatile, falling markets",
        ),
        fact(
            "returns.index_correlation",
            "mean correlation of a stock with its index",
            x.index_correlation,
            (0.45, 0.9),
            "index members: about 0.5-0.8 (approximate)",
        ),
        fact(
            "returns.volume_abs_return_correlation",
            "mean correlation of volume with |r|",
            x.volume_abs_return_correlation,
            (0.1, 0.8),
            "Karpoff (1987): volume rises with |price change|",
        ),
    ];
    let exchanges = ["HOSE", "HNX", "UPCOM"];
    for l in r
        .limits
        .iter()
        .filter(|l| exchanges.contains(&l.exchange.as_str()))
    {
        out.push(fact(
            &format!("limits.{}.share", l.exchange.to_ascii_lowercase()),
            &format!("{} stock-days closing at a limit", l.exchange),
            l.limit_up + l.limit_down,
            (0.002, 0.08),
            "VN breadth: a few % of stocks at the ceiling or floor on a typical day (approximate)",
        ));
    }
    // The regime effect on the selected large caps, whose limit days the market drives
    // (small caps' come from their own news, and UPCoM penny stocks' from the tick).
    if let Some(l) = r.limits.iter().find(|l| l.exchange == r.index) {
        out.push(fact(
            "limits.turbulent_ratio",
            &format!("{} members: limit share turbulent / calm", l.exchange),
            l.limit_turbulent / l.limit_calm,
            (1.2, f64::INFINITY),
            "limit hits cluster in sell-offs and rallies",
        ));
    }
    let class_mean = |class: &str, f: &dyn Fn(&LiquidityRow) -> f64| {
        finite_mean(r.liquidity.iter().filter(|l| l.class == class).map(f))
    };
    // Spreads on HOSE, whose tick is a small part of the price; HNX's and UPCoM's flat
    // 100 VND tick makes even liquid names' one-tick spread wide (shown in the table).
    let hose_spread = |class: &str| {
        finite_mean(
            r.liquidity
                .iter()
                .filter(|l| l.exchange == "HOSE" && l.class == class)
                .map(|l| l.roll_spread_bps),
        )
    };
    out.push(fact(
        "liquidity.hose_liquid.spread_bps",
        "HOSE liquid: Roll effective spread, bps",
        hose_spread("liquid"),
        (3.0, 60.0),
        "VN30 names: about one tick, 10-40 bps (approximate)",
    ));
    out.push(fact(
        "liquidity.hose_spread_ratio",
        "HOSE illiquid / liquid effective spread",
        hose_spread("illiquid") / hose_spread("liquid"),
        (3.0, f64::INFINITY),
        "illiquid small caps quote several times wider (approximate)",
    ));
    out.push(fact(
        "liquidity.liquid.no_trade_share",
        "liquid: share of days without a trade",
        class_mean("liquid", &|l| l.no_trade_share),
        (0.0, 0.0),
        "large caps trade every session",
    ));
    if let Some(upcom) = r
        .liquidity
        .iter()
        .find(|l| l.exchange == "UPCOM" && l.class == "illiquid")
    {
        out.push(fact(
            "liquidity.upcom_illiquid.no_trade_share",
            "UPCoM illiquid: share of days without a trade",
            upcom.no_trade_share,
            (0.1, 0.8),
            "many UPCoM names trade on a fraction of the sessions (approximate)",
        ));
    }
    out.push(fact(
        "liquidity.value_ratio",
        "liquid / illiquid value traded per day",
        class_mean("liquid", &|l| l.mean_value_bn) / class_mean("illiquid", &|l| l.mean_value_bn),
        (100.0, f64::INFINITY),
        "turnover spans orders of magnitude across the market",
    ));
    let i = &r.intraday;
    out.push(fact(
        "intraday.u_volume",
        "U-shape: edge / midday volume per minute",
        i.u_volume,
        (1.4, 6.0),
        "Jain and Joh (1988); Admati and Pfleiderer (1988): U-shaped volume",
    ));
    out.push(fact(
        "intraday.u_volatility",
        "U-shape: edge / midday |1-minute return|",
        i.u_volatility,
        (1.1, 5.0),
        "Wood, McInish and Ord (1985): U-shaped intraday volatility",
    ));
    out.push(fact(
        "intraday.atc_share",
        "closing auction share of volume",
        i.atc_share,
        (0.04, 0.25),
        "HOSE ATC: roughly a tenth of matched volume (approximate)",
    ));
    out.push(fact(
        "intraday.lunch_volume",
        "volume in the lunch break",
        i.lunch_volume as f64,
        (0.0, 0.0),
        "no trading 11:30-13:00 (vn-market-rules §2)",
    ));
    out.push(fact(
        "odd_lot.volume_share",
        "odd-lot / round-lot volume",
        r.odd_lot_volume_share,
        (0.0005, 0.03),
        "odd lots: a small fraction of volume (approximate)",
    ));
    out.push(fact(
        "put_through.value_share",
        "put-through / matched value",
        r.put_through_value_share,
        (0.03, 0.4),
        "HOSE: negotiated deals are roughly a tenth of traded value (approximate)",
    ));
    out
}

/// Every statistic of the report from `sample`.
pub(crate) fn report(sample: &Sample) -> Report {
    let market = index_returns(&sample.dates, &sample.market);
    let regime = regimes(&market);
    let mut report = Report {
        seed: sample.seed,
        from: sample
            .dates
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
        to: sample
            .dates
            .last()
            .map(ToString::to_string)
            .unwrap_or_default(),
        days: sample.dates.len(),
        index: sample.index_code.clone(),
        symbols: sample.selected.iter().map(|s| s.symbol.clone()).collect(),
        returns: return_stats(sample, &regime),
        limits: limit_stats(sample, &regime),
        liquidity: liquidity_stats(sample),
        intraday: intraday_stats(sample),
        odd_lot_volume_share: if sample.round_lot_volume > 0 {
            sample.odd_lot_volume as f64 / sample.round_lot_volume as f64
        } else {
            f64::NAN
        },
        put_through_value_share: {
            let matched: f64 = sample
                .selected
                .iter()
                .flat_map(|s| &s.daily)
                .map(|r| r.value)
                .sum();
            if matched > 0.0 {
                sample.put_through_value / matched
            } else {
                f64::NAN
            }
        },
        facts: Vec::new(),
    };
    report.facts = facts(&report);
    report
}
