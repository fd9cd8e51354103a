//! The look-ahead check: a feature of date `d` must be the same whether or not the dates after
//! `d` exist. Computing features on the panel cut after `d` and comparing them with the whole
//! panel's catches any value that reads the future (a label joined on the wrong date, a
//! centred window, a normalisation over the whole history).

use crate::Panel;
use crate::features::Features;

/// A feature that changed when later dates were removed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "feature {feature} of {symbol} on date {date} uses later data: {full} with the whole panel, {truncated} with the panel cut after that date"
)]
pub struct Leak {
    /// The feature's name.
    pub feature: String,
    /// Date index.
    pub date: usize,
    /// Symbol.
    pub symbol: String,
    /// Its value computed on the whole panel.
    pub full: f64,
    /// Its value computed on the panel cut after `date`.
    pub truncated: f64,
}

/// Checks `compute` at each cut date: the features of date `d` computed on the panel up to
/// `d` must equal (bit for bit, NaN for NaN) those computed on the whole panel.
pub fn check(
    panel: &Panel,
    compute: impl Fn(&Panel) -> Features,
    cuts: impl IntoIterator<Item = usize>,
) -> Result<(), Box<Leak>> {
    let full = compute(panel);
    for d in cuts {
        if d >= panel.dates().len() {
            continue;
        }
        let cut = compute(&panel.truncated(d + 1));
        for s in 0..panel.symbols().len() {
            for (f, (a, b)) in full.row(d, s).iter().zip(cut.row(d, s)).enumerate() {
                let same = a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                if !same {
                    return Err(Box::new(Leak {
                        feature: full.names()[f].clone(),
                        date: d,
                        symbol: panel.symbols()[s].clone(),
                        full: *a,
                        truncated: *b,
                    }));
                }
            }
        }
    }
    Ok(())
}
