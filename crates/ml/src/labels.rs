//! Labels: what the models learn to predict.

use crate::Panel;

/// The log return from each date's close to the close `horizon` dates later, row-major like
/// the panel; NaN where either close is missing or the later date is past the panel's end.
pub fn forward_returns(panel: &Panel, horizon: usize) -> Vec<f64> {
    let (dates, symbols) = (panel.dates().len(), panel.symbols().len());
    let mut out = vec![f64::NAN; dates * symbols];
    for d in 0..dates.saturating_sub(horizon) {
        let (now, later) = (panel.closes(d), panel.closes(d + horizon));
        for s in 0..symbols {
            out[d * symbols + s] = (later[s] / now[s]).ln();
        }
    }
    out
}
