//! QUBO and Ising models: building, reading the JSON form, converting, evaluating.

use serde::Deserialize;

/// The most variables a model may have (a dense model this large would not fit in memory
/// anyway; the cap keeps a mistyped `n` from allocating gigabytes).
pub const MAX_VARIABLES: usize = 1_000_000;

/// Above this share of non-zero pairs a model keeps its couplings as a dense matrix.
const DENSE_ABOVE: f64 = 0.25;

/// Why a model could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not the JSON form (the message names the line and column).
    #[error("not a QUBO in JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `n` is zero or above [`MAX_VARIABLES`].
    #[error("n is {0}; a model has 1 to {MAX_VARIABLES} variables")]
    Size(usize),
    /// A term names a variable outside `0..n`.
    #[error("{section}[{entry}] names variable {index}, but the model has variables 0 to {last}")]
    Index {
        /// `linear` or `quadratic`.
        section: &'static str,
        /// Position of the term in its list.
        entry: usize,
        /// The variable named.
        index: u64,
        /// `n - 1`.
        last: usize,
    },
    /// A weight or the offset is NaN or infinite.
    #[error("{section}[{entry}] has a weight that is not a finite number")]
    NotFinite {
        /// `linear`, `quadratic` or `offset`.
        section: &'static str,
        /// Position of the term in its list (0 for the offset).
        entry: usize,
    },
}

/// The symmetric couplings of a model (zero diagonal): row `i` holds `(j, w)` for every `j`
/// coupled to `i`, and `w` is the whole coefficient of the product of `i` and `j`.
#[derive(Debug, Clone)]
pub(crate) enum Couplings {
    /// Row-major `n × n`.
    Dense { n: usize, w: Vec<f64> },
    /// Compressed rows: row `i` is `col[start[i]..start[i + 1]]` with weights `w[..]`.
    Sparse {
        start: Vec<usize>,
        col: Vec<u32>,
        w: Vec<f64>,
    },
}

impl Couplings {
    /// Builds from pairs `i < j` (sorted, merged, non-zero).
    fn from_pairs(n: usize, pairs: &[(u32, u32, f64)]) -> Self {
        let possible = (n as f64) * (n as f64 - 1.0) / 2.0;
        if n > 1 && pairs.len() as f64 > DENSE_ABOVE * possible && n <= 20_000 {
            let mut w = vec![0.0; n * n];
            for &(i, j, v) in pairs {
                let (i, j) = (i as usize, j as usize);
                w[i * n + j] = v;
                w[j * n + i] = v;
            }
            return Couplings::Dense { n, w };
        }
        let mut degree = vec![0usize; n + 1];
        for &(i, j, _) in pairs {
            degree[i as usize + 1] += 1;
            degree[j as usize + 1] += 1;
        }
        for k in 1..=n {
            degree[k] += degree[k - 1];
        }
        let start = degree;
        let mut next = start.clone();
        let mut col = vec![0u32; 2 * pairs.len()];
        let mut w = vec![0.0; 2 * pairs.len()];
        for &(i, j, v) in pairs {
            for (a, b) in [(i, j), (j, i)] {
                let at = next[a as usize];
                col[at] = b;
                w[at] = v;
                next[a as usize] += 1;
            }
        }
        Couplings::Sparse { start, col, w }
    }

    /// `out[j] += scale · w(i, j)` for every `j`.
    #[inline]
    pub(crate) fn add_row(&self, i: usize, scale: f64, out: &mut [f64]) {
        match self {
            Couplings::Dense { n, w } => {
                let row = &w[i * n..(i + 1) * n];
                for (o, v) in out.iter_mut().zip(row) {
                    *o += scale * v;
                }
            }
            Couplings::Sparse { start, col, w } => {
                let (a, b) = (start[i], start[i + 1]);
                for (&j, v) in col[a..b].iter().zip(&w[a..b]) {
                    out[j as usize] += scale * v;
                }
            }
        }
    }

    /// Calls `f(j, w)` for every non-zero coupling of `i`.
    pub(crate) fn for_each(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        match self {
            Couplings::Dense { n, w } => {
                for (j, &v) in w[i * n..(i + 1) * n].iter().enumerate() {
                    if v != 0.0 {
                        f(j, v);
                    }
                }
            }
            Couplings::Sparse { start, col, w } => {
                for k in start[i]..start[i + 1] {
                    f(col[k] as usize, w[k]);
                }
            }
        }
    }

    fn scaled(&self, by: f64) -> Self {
        match self {
            Couplings::Dense { n, w } => Couplings::Dense {
                n: *n,
                w: w.iter().map(|v| v * by).collect(),
            },
            Couplings::Sparse { start, col, w } => Couplings::Sparse {
                start: start.clone(),
                col: col.clone(),
                w: w.iter().map(|v| v * by).collect(),
            },
        }
    }

    /// Number of coupled pairs (each counted once).
    fn pairs(&self) -> usize {
        match self {
            Couplings::Dense { w, .. } => w.iter().filter(|v| **v != 0.0).count() / 2,
            Couplings::Sparse { col, .. } => col.len() / 2,
        }
    }
}

/// Collects terms in any order (duplicates add up) and builds a [`Qubo`].
#[derive(Debug, Clone)]
pub struct Builder {
    n: usize,
    offset: f64,
    linear: Vec<f64>,
    pairs: Vec<(u32, u32, f64)>,
}

impl Builder {
    /// A model of `n` variables with no terms.
    pub fn new(n: usize) -> Result<Self, Error> {
        if n == 0 || n > MAX_VARIABLES {
            return Err(Error::Size(n));
        }
        Ok(Self {
            n,
            offset: 0.0,
            linear: vec![0.0; n],
            pairs: Vec::new(),
        })
    }

    /// Adds a constant.
    pub fn offset(&mut self, c: f64) -> &mut Self {
        self.offset += c;
        self
    }

    /// Adds `w·xᵢ`. Panics-free: callers index within `0..n` (the JSON reader checks first).
    pub fn linear(&mut self, i: usize, w: f64) -> &mut Self {
        if let Some(v) = self.linear.get_mut(i) {
            *v += w;
        }
        self
    }

    /// Adds `w·xᵢxⱼ`; with `i == j` that is `w·xᵢ`, as `xᵢ² = xᵢ`.
    pub fn quadratic(&mut self, i: usize, j: usize, w: f64) -> &mut Self {
        if i == j {
            return self.linear(i, w);
        }
        if i < self.n && j < self.n {
            let (a, b) = if i < j { (i, j) } else { (j, i) };
            self.pairs.push((a as u32, b as u32, w));
        }
        self
    }

    /// The model.
    pub fn build(mut self) -> Qubo {
        self.pairs.sort_unstable_by_key(|&(i, j, _)| (i, j));
        let mut merged: Vec<(u32, u32, f64)> = Vec::with_capacity(self.pairs.len());
        for (i, j, w) in self.pairs {
            match merged.last_mut() {
                Some(last) if last.0 == i && last.1 == j => last.2 += w,
                _ => merged.push((i, j, w)),
            }
        }
        merged.retain(|p| p.2 != 0.0);
        Qubo {
            n: self.n,
            offset: self.offset,
            couplings: Couplings::from_pairs(self.n, &merged),
            linear: self.linear,
        }
    }
}

/// Minimise `offset + Σ aᵢxᵢ + Σ_{i<j} wᵢⱼxᵢxⱼ` over `x ∈ {0,1}ⁿ`.
#[derive(Debug, Clone)]
pub struct Qubo {
    n: usize,
    offset: f64,
    linear: Vec<f64>,
    pub(crate) couplings: Couplings,
}

/// The JSON form: `{"n": N, "linear": [[i, w], ...], "quadratic": [[i, j, w], ...], "offset": c}`.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuboJson {
    /// Number of variables.
    pub n: usize,
    /// `[i, w]`: `w·xᵢ`.
    #[serde(default)]
    pub linear: Vec<(u64, f64)>,
    /// `[i, j, w]`: `w·xᵢxⱼ`.
    #[serde(default)]
    pub quadratic: Vec<(u64, u64, f64)>,
    /// A constant.
    #[serde(default)]
    pub offset: f64,
}

impl Qubo {
    /// Reads the JSON form, naming the first bad term.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let form: QuboJson = serde_json::from_str(text)?;
        Self::from_form(&form)
    }

    /// Checks and builds the JSON form.
    pub fn from_form(form: &QuboJson) -> Result<Self, Error> {
        let mut b = Builder::new(form.n)?;
        if !form.offset.is_finite() {
            return Err(Error::NotFinite {
                section: "offset",
                entry: 0,
            });
        }
        b.offset(form.offset);
        let index = |section, entry, index: u64| {
            if index < form.n as u64 {
                Ok(index as usize)
            } else {
                Err(Error::Index {
                    section,
                    entry,
                    index,
                    last: form.n - 1,
                })
            }
        };
        for (entry, &(i, w)) in form.linear.iter().enumerate() {
            let i = index("linear", entry, i)?;
            if !w.is_finite() {
                return Err(Error::NotFinite {
                    section: "linear",
                    entry,
                });
            }
            b.linear(i, w);
        }
        b.pairs.reserve(form.quadratic.len());
        for (entry, &(i, j, w)) in form.quadratic.iter().enumerate() {
            let (i, j) = (index("quadratic", entry, i)?, index("quadratic", entry, j)?);
            if !w.is_finite() {
                return Err(Error::NotFinite {
                    section: "quadratic",
                    entry,
                });
            }
            b.quadratic(i, j, w);
        }
        Ok(b.build())
    }

    /// The JSON form (each pair once, `i < j`).
    pub fn to_form(&self) -> QuboJson {
        let mut quadratic = Vec::with_capacity(self.couplings.pairs());
        for i in 0..self.n {
            self.couplings.for_each(i, |j, w| {
                if i < j {
                    quadratic.push((i as u64, j as u64, w));
                }
            });
        }
        QuboJson {
            n: self.n,
            linear: (0..self.n)
                .filter(|&i| self.linear[i] != 0.0)
                .map(|i| (i as u64, self.linear[i]))
                .collect(),
            quadratic,
            offset: self.offset,
        }
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Never: a model has at least one variable.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The constant term.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The linear weights `aᵢ` (including diagonal quadratic terms).
    pub fn linear_weights(&self) -> &[f64] {
        &self.linear
    }

    /// Number of coupled pairs.
    pub fn pairs(&self) -> usize {
        self.couplings.pairs()
    }

    /// Whether the couplings are held as a dense matrix.
    pub fn is_dense(&self) -> bool {
        matches!(self.couplings, Couplings::Dense { .. })
    }

    /// Calls `f(j, w)` for every variable coupled to `i`, with the pair's weight.
    pub fn neighbours(&self, i: usize, f: impl FnMut(usize, f64)) {
        self.couplings.for_each(i, f)
    }

    /// The energy of `x` (each entry 0 or 1; anything else counts as 1).
    pub fn energy(&self, x: &[u8]) -> f64 {
        let mut e = self.offset;
        let mut pairs = 0.0;
        for i in 0..self.n {
            if x[i] == 0 {
                continue;
            }
            e += self.linear[i];
            self.couplings.for_each(i, |j, w| {
                if x[j] != 0 {
                    pairs += w;
                }
            });
        }
        e + pairs / 2.0
    }

    /// `aᵢ + Σⱼ wᵢⱼxⱼ` for every `i`: flipping `i` changes the energy by `(1 − 2xᵢ)` times this.
    pub(crate) fn fields(&self, x: &[u8]) -> Vec<f64> {
        let mut field = self.linear.clone();
        for (j, &xj) in x.iter().enumerate() {
            if xj != 0 {
                self.couplings.add_row(j, 1.0, &mut field);
            }
        }
        field
    }

    /// The ends of an annealing schedule: the largest energy change one flip can make
    /// (`max |aᵢ| + Σⱼ|wᵢⱼ|`) and a small one: the smallest non-zero weight, but no smaller than
    /// 1% of the root-mean-square local field (with thousands of random weights the smallest is
    /// tiny and would send the cold end of a schedule far below any temperature that matters).
    pub(crate) fn flip_scales(&self) -> (f64, f64) {
        let mut largest: f64 = 0.0;
        let mut smallest = f64::INFINITY;
        let mut squares = 0.0;
        for i in 0..self.n {
            let mut sum = self.linear[i].abs();
            let mut min = if self.linear[i] != 0.0 {
                self.linear[i].abs()
            } else {
                f64::INFINITY
            };
            squares += self.linear[i].powi(2);
            self.couplings.for_each(i, |_, w| {
                sum += w.abs();
                min = min.min(w.abs());
                squares += w * w;
            });
            largest = largest.max(sum);
            smallest = smallest.min(min);
        }
        if largest == 0.0 {
            return (1.0, 1.0);
        }
        let rms_field = (squares / self.n as f64).sqrt();
        (largest, smallest.max(0.01 * rms_field).min(largest))
    }

    /// The same problem over spins `s = 2x − 1`.
    pub fn to_ising(&self) -> Ising {
        // x = (1 + s)/2: aᵢxᵢ → aᵢ/2 + aᵢsᵢ/2; wxᵢxⱼ → w/4 (1 + sᵢ + sⱼ + sᵢsⱼ).
        let mut h: Vec<f64> = self.linear.iter().map(|a| a / 2.0).collect();
        let mut offset = self.offset + self.linear.iter().sum::<f64>() / 2.0;
        for (i, hi) in h.iter_mut().enumerate() {
            self.couplings.for_each(i, |_, w| {
                *hi += w / 4.0;
                offset += w / 8.0; // each pair is seen from both ends
            });
        }
        Ising {
            n: self.n,
            offset,
            h,
            couplings: self.couplings.scaled(0.25),
        }
    }
}

/// Minimise `offset + Σ hᵢsᵢ + Σ_{i<j} Jᵢⱼsᵢsⱼ` over `s ∈ {−1,+1}ⁿ`.
#[derive(Debug, Clone)]
pub struct Ising {
    n: usize,
    offset: f64,
    h: Vec<f64>,
    pub(crate) couplings: Couplings,
}

impl Ising {
    /// A model from fields and couplings `(i, j, J)` (duplicates add up; `i == j` adds `J` to
    /// the offset, as `sᵢ² = 1`).
    pub fn new(h: Vec<f64>, couplings: &[(usize, usize, f64)], offset: f64) -> Result<Self, Error> {
        let n = h.len();
        let mut b = Builder::new(n)?;
        let mut offset = offset;
        for &(i, j, w) in couplings {
            if i >= n || j >= n {
                return Err(Error::Index {
                    section: "quadratic",
                    entry: 0,
                    index: i.max(j) as u64,
                    last: n - 1,
                });
            }
            if i == j {
                offset += w;
            } else {
                b.quadratic(i, j, w);
            }
        }
        let q = b.build();
        Ok(Self {
            n,
            offset,
            h,
            couplings: q.couplings,
        })
    }

    /// Number of spins.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Never: a model has at least one spin.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The constant term.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The fields `hᵢ`.
    pub fn fields(&self) -> &[f64] {
        &self.h
    }

    /// Calls `f(j, J)` for every spin coupled to `i`.
    pub fn neighbours(&self, i: usize, f: impl FnMut(usize, f64)) {
        self.couplings.for_each(i, f)
    }

    /// The energy of `s` (negative entries are −1, the rest +1).
    pub fn energy(&self, s: &[i8]) -> f64 {
        let spin = |v: i8| if v < 0 { -1.0 } else { 1.0 };
        let mut e = self.offset;
        let mut pairs = 0.0;
        for i in 0..self.n {
            let si = spin(s[i]);
            e += self.h[i] * si;
            self.couplings
                .for_each(i, |j, w| pairs += w * si * spin(s[j]));
        }
        e + pairs / 2.0
    }

    /// The same problem over `x = (1 + s)/2`.
    pub fn to_qubo(&self) -> Qubo {
        // s = 2x − 1: hᵢsᵢ → 2hᵢxᵢ − hᵢ; Jsᵢsⱼ → 4Jxᵢxⱼ − 2Jxᵢ − 2Jxⱼ + J.
        let mut linear: Vec<f64> = self.h.iter().map(|h| 2.0 * h).collect();
        let mut offset = self.offset - self.h.iter().sum::<f64>();
        for (i, a) in linear.iter_mut().enumerate() {
            self.couplings.for_each(i, |_, w| {
                *a -= 2.0 * w;
                offset += w / 2.0; // each pair is seen from both ends
            });
        }
        Qubo {
            n: self.n,
            offset,
            linear,
            couplings: self.couplings.scaled(4.0),
        }
    }
}

#[cfg(test)]
mod tests;
