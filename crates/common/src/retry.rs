//! Exponential backoff shared by the outbox relay and the consumer loop.

use std::time::Duration;

/// Delays that double on every attempt, from `first` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub first: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// Backoff from `first` to `max` (a `max` below `first` is raised to it).
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max: max.max(first),
        }
    }

    /// From millisecond settings.
    pub fn from_millis(first_ms: u64, max_ms: u64) -> Self {
        Self::new(
            Duration::from_millis(first_ms),
            Duration::from_millis(max_ms),
        )
    }

    /// The delay after failed attempt number `attempt` (1 is the first failure).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(32);
        self.first
            .checked_mul(1u32 << doublings.min(31))
            .map_or(self.max, |d| d.min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_first_and_stop_at_the_max() {
        let b = Backoff::from_millis(100, 1000);
        let got: Vec<u128> = (1..=6).map(|a| b.delay(a).as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn a_max_below_the_first_delay_is_raised() {
        let b = Backoff::from_millis(500, 10);
        assert_eq!(b.delay(3), Duration::from_millis(500));
    }
}
