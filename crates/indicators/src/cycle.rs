//! Hilbert-transform cycle indicators (HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE,
//! HT_TRENDMODE) and the HT-based overlap studies HT_TRENDLINE and MAMA, all on one
//! shared streaming Hilbert transform (`hilbert.rs`) that follows TA-Lib's C code.

mod hilbert;
mod ht;
mod mama;

pub use ht::{HtDcPeriod, HtDcPhase, HtPhasor, HtSine, HtTrendMode, HtTrendline};
pub use mama::Mama;
