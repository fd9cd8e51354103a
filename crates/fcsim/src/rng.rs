//! Deterministic randomness: every generated number is a pure function of the seed and a
//! few coordinates (instrument, day, draw), so any slice of the market can be regenerated
//! alone, in any order, with the same result.

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small deterministic stream of draws keyed by coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A stream for `(seed, a, b, c)`.
    pub(crate) fn new(seed: u64, a: u64, b: u64, c: u64) -> Self {
        Self {
            state: mix(mix(mix(seed ^ 0xA5A5_5A5A) ^ a) ^ b.rotate_left(17)) ^ c.rotate_left(41),
        }
    }

    /// Next raw 64 bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 random bits: exact in an f64.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `[lo, hi]` (`hi >= lo`).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi.saturating_sub(lo).saturating_add(1);
        lo + self.next_u64() % span.max(1)
    }

    /// Approximately standard normal (sum of four uniforms, rescaled): cheap, bounded
    /// (|x| < 3.5) and good enough for synthetic prices.
    pub(crate) fn normal(&mut self) -> f64 {
        let s = self.unit() + self.unit() + self.unit() + self.unit();
        (s - 2.0) * 1.732_050_8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_coordinates_give_the_same_draws() {
        let a: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(7, 1, 2, 3), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(7, 1, 2, 3), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(8, 1, 2, 3), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut r = Rng::new(1, 2, 3, 4);
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            let n = r.range(3, 9);
            assert!((3..=9).contains(&n));
            assert!(r.normal().abs() < 3.5);
        }
    }
}
