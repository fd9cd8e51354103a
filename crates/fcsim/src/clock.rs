//! Simulated time: a start instant and a speed multiplier over the wall clock.

use std::time::Instant;

use time::{Duration, OffsetDateTime, UtcOffset};

/// Maps wall time to simulated time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: OffsetDateTime,
    wall: Instant,
    speed: f64,
}

impl Clock {
    /// A clock showing `start` now and advancing `speed` times faster than the wall clock.
    pub fn new(start: OffsetDateTime, speed: f64) -> Self {
        Self {
            start: start.to_offset(UtcOffset::UTC),
            wall: Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    /// The simulated instant now.
    pub fn now(&self) -> OffsetDateTime {
        let secs = self.wall.elapsed().as_secs_f64() * self.speed;
        self.start + Duration::seconds_f64(secs)
    }

    /// Speed multiplier.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}
