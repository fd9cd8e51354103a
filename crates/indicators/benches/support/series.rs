//! The golden generator's deterministic OHLCV series (golden/generate.py `series`),
//! reproduced bit for bit so benchmarks can use any length without a data file.
//! The golden test checks it against golden/data/input.csv.

/// Columns of the series.
pub(crate) struct Bars {
    pub(crate) open: Vec<f64>,
    pub(crate) high: Vec<f64>,
    pub(crate) low: Vec<f64>,
    pub(crate) close: Vec<f64>,
    pub(crate) volume: Vec<f64>,
}

struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0 + 0.5).floor() / 100.0
}

/// `n` bars, identical to golden/generate.py's `series(n)`.
pub(crate) fn bars(n: usize) -> Bars {
    let mut rng = SplitMix64(20_250_101);
    let mut b = Bars {
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        volume: Vec::with_capacity(n),
    };
    let mut prev = 50.0;
    for i in 0..n {
        let u: [f64; 6] = std::array::from_fn(|_| rng.uniform());
        // The floor at 10.00: see golden/generate.py's `series`.
        let drift = if (i / 60) % 2 == 0 || prev < 10.0 {
            0.003
        } else {
            -0.003
        };
        let close = round2(prev * (1.0 + (u[0] - 0.5) * 0.04 + drift));
        let mut open = round2(prev * (1.0 + (u[1] - 0.5) * 0.01));
        if i % 17 == 16 {
            open = close;
        }
        let mut high = round2(open.max(close) * (1.0 + u[2] * 0.015));
        let mut low = round2(open.min(close) * (1.0 - u[3] * 0.015));
        if i % 53 == 52 {
            (open, high, low) = (close, close, close);
        }
        let mut volume = (1000.0 + u[4] * 100_000.0).floor();
        if i % 71 == 70 {
            volume = 0.0;
        }
        b.open.push(open);
        b.high.push(high);
        b.low.push(low);
        b.close.push(close);
        b.volume.push(volume);
        prev = close;
    }
    b
}
