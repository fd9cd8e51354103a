//! Simulated time: a start instant and a speed multiplier over the wall clock.
//!
//! The arithmetic is checked: the speed must lie in [`MIN_SPEED`, `MAX_SPEED`], and the
//! simulated clock stops at [`MAX_SPAN_SECS`] after its start (100 years: at the highest
//! speed that takes almost nine hours of wall time), so `now` never overflows.

use std::time::Instant;

use time::{Duration, OffsetDateTime, UtcOffset};

/// Lowest accepted speed (simulated seconds per wall second).
pub const MIN_SPEED: f64 = 0.001;
/// Highest accepted speed: a simulated trading day in under a second, the 60 generated
/// days after the start in about a minute, and at most 5.5 simulated hours per 200 ms tick
/// of the broker.
pub const MAX_SPEED: f64 = 100_000.0;
/// How far past its start the simulated clock runs (100 years), in seconds.
pub const MAX_SPAN_SECS: f64 = 100.0 * 365.25 * 86_400.0;

/// A speed outside [`MIN_SPEED`, `MAX_SPEED`] or a start the clock cannot run from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    /// The speed is not a number in range.
    #[error(
        "speed must be between {MIN_SPEED} and {MAX_SPEED} simulated seconds per second, got {0}"
    )]
    Speed(f64),
    /// The start is too late for 100 more years.
    #[error("start {0} is too late: the simulated clock must be able to run 100 years from it")]
    Start(OffsetDateTime),
}

/// Checks a speed.
pub fn check_speed(speed: f64) -> Result<f64, ClockError> {
    if speed.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&speed) {
        Ok(speed)
    } else {
        Err(ClockError::Speed(speed))
    }
}

/// Maps wall time to simulated time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: OffsetDateTime,
    end: OffsetDateTime,
    wall: Instant,
    speed: f64,
}

impl Clock {
    /// A clock showing `start` now and advancing `speed` times faster than the wall clock.
    pub fn new(start: OffsetDateTime, speed: f64) -> Result<Self, ClockError> {
        let speed = check_speed(speed)?;
        let start = start.to_offset(UtcOffset::UTC);
        let end = start
            .checked_add(Duration::seconds_f64(MAX_SPAN_SECS))
            .ok_or(ClockError::Start(start))?;
        Ok(Self {
            start,
            end,
            wall: Instant::now(),
            speed,
        })
    }

    /// The simulated instant now (it stops 100 years after the start).
    pub fn now(&self) -> OffsetDateTime {
        let secs = self.wall.elapsed().as_secs_f64() * self.speed;
        if secs.is_nan() || secs >= MAX_SPAN_SECS {
            return self.end;
        }
        self.start
            .checked_add(Duration::seconds_f64(secs))
            .map_or(self.end, |t| t.min(self.end))
    }

    /// Speed multiplier.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn speeds_out_of_range_are_refused() {
        let start = datetime!(2025-06-10 09:00 +7);
        for bad in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            1e10,
            1e15,
            MAX_SPEED * 1.01,
        ] {
            assert!(
                matches!(Clock::new(start, bad), Err(ClockError::Speed(_))),
                "{bad}"
            );
        }
        assert!(Clock::new(start, MAX_SPEED).is_ok());
        assert!(Clock::new(start, MIN_SPEED).is_ok());
    }

    #[test]
    fn a_start_near_the_end_of_time_is_refused() {
        let late = datetime!(9950-01-01 00:00 UTC);
        assert!(matches!(Clock::new(late, 1.0), Err(ClockError::Start(_))));
    }

    #[test]
    fn the_clock_stops_after_its_span_instead_of_overflowing() {
        let start = datetime!(2025-06-10 09:00 +7);
        let mut clock = Clock::new(start, MAX_SPEED).unwrap();
        // Far faster than allowed, so the span is used up at once.
        clock.speed = 1e15;
        std::thread::sleep(std::time::Duration::from_millis(2));
        let now = clock.now();
        assert_eq!(now, clock.end);
        assert!(now > start);
    }
}
