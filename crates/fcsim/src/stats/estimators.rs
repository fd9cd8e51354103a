//! Plain estimators over series with gaps (`None`: no observation that day).

/// Mean of `xs` (NaN when empty).
pub(crate) fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Median of `xs` (NaN when empty).
pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v.get(mid).copied().unwrap_or(f64::NAN)
    } else {
        (v.get(mid - 1).copied().unwrap_or(f64::NAN) + v.get(mid).copied().unwrap_or(f64::NAN))
            / 2.0
    }
}

/// Excess kurtosis of `xs` (the moment estimator: m4 / m2² − 3).
pub(crate) fn excess_kurtosis(xs: &[f64]) -> f64 {
    let m = mean(xs);
    let n = xs.len() as f64;
    let m2 = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    if m2 > 0.0 {
        m4 / (m2 * m2) - 3.0
    } else {
        f64::NAN
    }
}

/// Sample standard deviation of `xs` (population form).
pub(crate) fn std_dev(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64).sqrt()
}

/// Autocorrelation of `xs` at `lag`: Σ (x_t − m)(x_{t+lag} − m) / Σ (x_t − m)², over the
/// pairs where both are observed, with the mean and variance of all observed values.
pub(crate) fn autocorrelation(xs: &[Option<f64>], lag: usize) -> f64 {
    let seen: Vec<f64> = xs.iter().flatten().copied().collect();
    if seen.len() < lag + 3 {
        return f64::NAN;
    }
    let m = mean(&seen);
    let var = seen.iter().map(|x| (x - m).powi(2)).sum::<f64>() / seen.len() as f64;
    let mut sum = 0.0;
    let mut pairs = 0usize;
    for (a, b) in xs.iter().zip(xs.iter().skip(lag)) {
        if let (Some(a), Some(b)) = (a, b) {
            sum += (a - m) * (b - m);
            pairs += 1;
        }
    }
    if pairs == 0 || var <= 0.0 {
        return f64::NAN;
    }
    sum / pairs as f64 / var
}

/// Pearson correlation of `xs` and `ys` over the positions where both are observed (and
/// `keep` says so).
pub(crate) fn correlation(
    xs: &[Option<f64>],
    ys: &[Option<f64>],
    keep: impl Fn(usize) -> bool,
) -> f64 {
    let pairs: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .enumerate()
        .filter(|(t, _)| keep(*t))
        .filter_map(|(_, (a, b))| Some(((*a)?, (*b)?)))
        .collect();
    if pairs.len() < 3 {
        return f64::NAN;
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// Roll's (1984) effective spread from the serial covariance of price changes: groups of
/// consecutive log price changes (one group per day), `2 √(−cov)` as a fraction of the
/// price; 0 when the covariance is not negative; NaN without any pair.
pub(crate) fn roll_spread(days: &[Vec<f64>]) -> f64 {
    let changes: Vec<f64> = days.iter().flatten().copied().collect();
    if changes.len() < 3 {
        return f64::NAN;
    }
    let m = mean(&changes);
    let (mut sum, mut pairs) = (0.0, 0usize);
    for day in days {
        for (a, b) in day.iter().zip(day.iter().skip(1)) {
            sum += (a - m) * (b - m);
            pairs += 1;
        }
    }
    if pairs == 0 {
        return f64::NAN;
    }
    let cov = sum / pairs as f64;
    if cov < 0.0 { 2.0 * (-cov).sqrt() } else { 0.0 }
}
