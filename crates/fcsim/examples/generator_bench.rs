//! Start-up cost of the generated market (figures in docs/performance.md, "## fcsim"): the
//! demo universe (`UniverseSize::default()`) with `history_days` trading days before
//! 2025-06-10 and 60 after, as `qts sim` builds it. Run in release:
//!
//! ```text
//! cargo run --release -p fcsim --example generator_bench -- 500 3
//! ```
//!
//! Prints, per run, the time `Generator::new` takes (every instrument's daily reference and
//! close; on UPCoM each day's continuous prints too, whose VWAP is the next reference) and
//! the time to build one day's tapes for every instrument (what the live day needs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::time::Instant;

use fcsim::{Generator, Universe, UniverseSize};
use market::MarketRules;
use time::macros::date;

fn main() {
    let mut args = std::env::args().skip(1);
    let history_days: u32 = args.next().map_or(500, |a| a.parse().unwrap());
    let runs: usize = args.next().map_or(3, |a| a.parse().unwrap());
    let rules = MarketRules::default();
    let calendar = rules.calendar().unwrap();
    let today = date!(2025 - 06 - 10);
    for _ in 0..runs {
        let universe = Universe::generate(1, UniverseSize::default(), &calendar, today);
        let count = universe.instruments().len();
        let started = Instant::now();
        let g = Generator::new(
            1,
            rules.clone(),
            calendar.clone(),
            universe,
            today,
            history_days,
            60,
        );
        let built = started.elapsed();
        let day = g.day_index(today).unwrap();
        let started = Instant::now();
        let trades: usize = (0..count)
            .map(|i| g.tape(i, day).unwrap().trades.len())
            .sum();
        let tapes = started.elapsed();
        let _ = writeln!(
            std::io::stdout(),
            "generator: {count} instruments, {} days: Generator::new {:.2} s; one day's tapes ({trades} trades) {:.1} ms",
            g.days().len(),
            built.as_secs_f64(),
            tapes.as_secs_f64() * 1e3,
        );
    }
}
