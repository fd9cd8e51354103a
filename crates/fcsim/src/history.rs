//! History figures computed from the generator: a day's statistics up to a time, and index
//! days (every constituent's day, the expensive part of `DailyIndex`) with their cache.
//!
//! Generation layer: imports the generator only. The cache holds complete days only, at
//! most one entry per index and generated day (a few hundred bytes each).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::tape::{DaySummary, Generator, PutThroughDeal};

/// Why a history figure could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Error {
    /// No such index.
    #[error("unknown index #{0}")]
    UnknownIndex(usize),
    /// The generator refused.
    #[error(transparent)]
    Generator(#[from] crate::tape::Error),
}

/// Daily statistics of instrument `i` on day `day`, up to `until` seconds (a running day)
/// or the whole day.
pub(crate) fn summary(
    g: &Generator,
    i: usize,
    day: usize,
    until: Option<u32>,
) -> Result<DaySummary, crate::tape::Error> {
    match until {
        None => g.summary(i, day),
        Some(secs) => {
            let mut tape = g.tape(i, day)?;
            tape.trades.retain(|t| t.secs <= secs);
            Ok(crate::tape::summarize(&tape))
        }
    }
}

/// Put-through (negotiated) deals of instrument `i` on day `day`, up to `until` seconds or
/// the whole day: shares and value in price units.
pub(crate) fn put_through_totals(
    g: &Generator,
    i: usize,
    day: usize,
    until: Option<u32>,
) -> Result<(u64, i128), crate::tape::Error> {
    Ok(deal_totals(&g.put_throughs(i, day)?, until))
}

/// Shares and value (price units) of `deals` up to `until` seconds (all with `None`).
pub(crate) fn deal_totals(deals: &[PutThroughDeal], until: Option<u32>) -> (u64, i128) {
    deals
        .iter()
        .filter(|d| until.is_none_or(|u| d.secs <= u))
        .fold((0, 0), |(vol, val), d| {
            (
                vol + d.volume,
                val + i128::from(d.price) * i128::from(d.volume),
            )
        })
}

/// Index daily figures computed from the constituents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexDay {
    pub(crate) open: f64,
    pub(crate) close: f64,
    pub(crate) high: f64,
    pub(crate) low: f64,
    pub(crate) volume: u64,
    pub(crate) value: i128,
    /// Put-through shares and value (price units) of the constituents.
    pub(crate) deal_volume: u64,
    pub(crate) deal_value: i128,
    pub(crate) trades: u64,
    pub(crate) advances: usize,
    pub(crate) declines: usize,
    pub(crate) unchanged: usize,
    pub(crate) ceilings: usize,
    pub(crate) floors: usize,
}

/// Completed index days, by index and day position.
#[derive(Debug, Default)]
pub(crate) struct IndexDays(Mutex<HashMap<(usize, usize), IndexDay>>);

impl IndexDays {
    /// Index `index` on day `day` (up to `until` seconds of a running day, not cached).
    pub(crate) fn get(
        &self,
        g: &Generator,
        index: usize,
        day: usize,
        until: Option<u32>,
    ) -> Result<IndexDay, Error> {
        if until.is_none()
            && let Some(d) = self.cached((index, day))
        {
            return Ok(d);
        }
        let d = compute(g, index, day, until)?;
        if until.is_none() {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert((index, day), d);
        }
        Ok(d)
    }

    fn cached(&self, key: (usize, usize)) -> Option<IndexDay> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .copied()
    }
}

fn compute(g: &Generator, index: usize, day: usize, until: Option<u32>) -> Result<IndexDay, Error> {
    let def = g
        .universe()
        .indices()
        .get(index)
        .ok_or(Error::UnknownIndex(index))?;
    let mut closes = HashMap::new();
    let mut d = IndexDay {
        open: 0.0,
        close: 0.0,
        high: 0.0,
        low: 0.0,
        volume: 0,
        value: 0,
        deal_volume: 0,
        deal_value: 0,
        trades: 0,
        advances: 0,
        declines: 0,
        unchanged: 0,
        ceilings: 0,
        floors: 0,
    };
    for &m in &def.members {
        let sm = summary(g, m, day, until)?;
        closes.insert(m, sm.close);
        d.volume += sm.volume;
        d.value += sm.value_units;
        d.trades += sm.trades;
        let (deal_volume, deal_value) = put_through_totals(g, m, day, until)?;
        d.deal_volume += deal_volume;
        d.deal_value += deal_value;
        let reference = sm.limits.reference.units();
        match sm.close.cmp(&reference) {
            std::cmp::Ordering::Greater => d.advances += 1,
            std::cmp::Ordering::Less => d.declines += 1,
            std::cmp::Ordering::Equal => d.unchanged += 1,
        }
        d.ceilings += usize::from(sm.close == sm.limits.ceiling.units());
        d.floors += usize::from(sm.close == sm.limits.floor.units());
    }
    d.open = g.index_value(index, |m| g.reference(m, day));
    d.close = g.index_value(index, |m| {
        closes
            .get(&m)
            .copied()
            .unwrap_or_else(|| g.reference(m, day))
    });
    d.high = d.open.max(d.close);
    d.low = d.open.min(d.close);
    Ok(d)
}
