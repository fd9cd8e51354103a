//! The live day: today's generated tapes of every instrument, built once per simulated
//! day and shared by the FC Data hub (what it streams) and the broker (what the market
//! maker quotes), plus the generated order book after each trade.
//!
//! Sits between market generation (`tape`, `universe`) and everything that trades or
//! streams: it imports only the generator. Building a day takes the whole universe's
//! tapes (about a second for the full universe in release), so async callers get it
//! through [`LiveDays::get`], which builds on tokio's blocking pool and never on a
//! runtime worker; the broker's own thread uses [`LiveDays::get_blocking`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::Date;
use tokio::sync::OnceCell;

use crate::tape::{DayTape, Generator, OddLotTape, PutThroughDeal};
use crate::universe::Instrument;

pub(crate) use crate::tape::Level;

/// Today's tapes of every instrument, built once per simulated day.
pub(crate) struct LiveDay {
    pub(crate) date: Date,
    /// Tapes in instrument order (instruments that do not trade that day are missing).
    pub(crate) tapes: Vec<DayTape>,
    /// Put-through deals by instrument position (empty for an instrument without any).
    pub(crate) put_throughs: Vec<Vec<PutThroughDeal>>,
    /// Odd-lot boards by instrument position, generated on first `OL` interest.
    odd_lots: Mutex<HashMap<usize, Arc<OddLotTape>>>,
}

impl LiveDay {
    /// Generates the day `date` (`None` when it is not a generated trading day).
    fn generate(generator: &Generator, date: Date) -> Option<Self> {
        let day = generator.day_index(date)?;
        let count = generator.universe().instruments().len();
        let tapes = (0..count)
            .filter_map(|i| generator.tape(i, day).ok())
            .collect();
        let put_throughs = (0..count)
            .map(|i| generator.put_throughs(i, day).unwrap_or_default())
            .collect();
        Some(Self {
            date,
            tapes,
            put_throughs,
            odd_lots: Mutex::new(HashMap::new()),
        })
    }

    /// The tape of instrument `i` today.
    pub(crate) fn tape(&self, i: usize) -> Option<&DayTape> {
        self.tapes
            .binary_search_by_key(&i, |t| t.instrument)
            .ok()
            .and_then(|k| self.tapes.get(k))
    }

    /// The odd-lot board of `tape`'s instrument today (generated once, then shared).
    pub(crate) fn odd_lot(&self, generator: &Generator, tape: &DayTape) -> Arc<OddLotTape> {
        let cached = self
            .odd_lots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&tape.instrument)
            .cloned();
        if let Some(odd) = cached {
            return odd;
        }
        // Generated outside the lock; a concurrent duplicate is identical (deterministic).
        let odd = Arc::new(generator.odd_lot_tape(tape));
        self.odd_lots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tape.instrument, odd.clone());
        odd
    }
}

type Cell = Arc<OnceCell<Option<Arc<LiveDay>>>>;

/// The cache of the current live day (one day at a time: a new date replaces it).
pub(crate) struct LiveDays {
    generator: Arc<Generator>,
    slot: Mutex<Option<(Date, Cell)>>,
}

impl LiveDays {
    pub(crate) fn new(generator: Arc<Generator>) -> Self {
        Self {
            generator,
            slot: Mutex::new(None),
        }
    }

    fn cell(&self, date: Date) -> Cell {
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            Some((d, cell)) if *d == date => cell.clone(),
            Some(_) | None => {
                let cell = Cell::default();
                *slot = Some((date, cell.clone()));
                cell
            }
        }
    }

    /// The live day of `date`, built on the blocking pool on first use; concurrent callers
    /// wait for the same build without holding a runtime worker.
    pub(crate) async fn get(&self, date: Date) -> Option<Arc<LiveDay>> {
        self.generator.day_index(date)?;
        let cell = self.cell(date);
        let generator = self.generator.clone();
        cell.get_or_init(|| async move {
            tokio::task::spawn_blocking(move || LiveDay::generate(&generator, date).map(Arc::new))
                .await
                .ok()
                .flatten()
        })
        .await
        .clone()
    }

    /// The live day of `date`, built on this thread if nobody has built it yet (the
    /// broker's thread and start-up).
    pub(crate) fn get_blocking(&self, date: Date) -> Option<Arc<LiveDay>> {
        self.generator.day_index(date)?;
        let cell = self.cell(date);
        if let Some(live) = cell.get() {
            return live.clone();
        }
        let live = LiveDay::generate(&self.generator, date).map(Arc::new);
        // Someone may have finished first; both builds are identical (deterministic).
        let _ = cell.set(live.clone());
        live
    }
}

/// The generated book after trade `k` of `tape` ([`Generator::quote_book`]): 3 levels per
/// side on HOSE, 10 elsewhere, as `X-QUOTE` shows them and the market maker quotes them.
pub(crate) fn quote_levels(
    generator: &Generator,
    x: &Instrument,
    tape: &DayTape,
    k: usize,
) -> (Vec<Level>, Vec<Level>) {
    let depth = if x.exchange == market::Exchange::Hose {
        3
    } else {
        10
    };
    generator.quote_book(tape, k, depth)
}
