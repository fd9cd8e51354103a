//! The market clock every service schedules by: the wall clock, or a simulated clock that
//! runs faster (what `qts up` sets when it runs the FastConnect simulator with
//! `--sim-speed`), so sessions, bar closes and daily syncs follow the simulated market.

use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `[clock]` section.
///
/// ```toml
/// [clock]
/// start = "2025-06-10T09:00:00+07:00"   # "" = the wall clock
/// anchor = "2026-11-30T06:00:00Z"       # the wall instant the simulated clock showed `start`
/// speed = 60.0                          # simulated seconds per wall second
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSettings {
    /// The simulated instant at `anchor`, RFC 3339; empty for the wall clock.
    pub start: String,
    /// The wall instant at which the simulated clock showed `start`, RFC 3339; empty means
    /// when the service started.
    pub anchor: String,
    /// Simulated seconds per wall second (0.001 to 100000).
    pub speed: f64,
}

impl Default for ClockSettings {
    fn default() -> Self {
        Self {
            start: String::new(),
            anchor: String::new(),
            speed: 1.0,
        }
    }
}

impl ClockSettings {
    /// A simulated clock showing `start` at the wall instant `anchor`.
    pub fn simulated(start: OffsetDateTime, anchor: OffsetDateTime, speed: f64) -> Self {
        Self {
            start: start.format(&Rfc3339).unwrap_or_default(),
            anchor: anchor.format(&Rfc3339).unwrap_or_default(),
            speed,
        }
    }

    /// The clock these settings describe.
    pub fn clock(&self) -> Result<MarketClock, String> {
        if self.start.trim().is_empty() {
            return Ok(MarketClock::wall());
        }
        if !(self.speed.is_finite() && (0.001..=100_000.0).contains(&self.speed)) {
            return Err(format!(
                "clock.speed must be between 0.001 and 100000, got {}",
                self.speed
            ));
        }
        let start = OffsetDateTime::parse(self.start.trim(), &Rfc3339)
            .map_err(|e| format!("clock.start {:?} is not RFC 3339: {e}", self.start))?;
        let anchor = if self.anchor.trim().is_empty() {
            OffsetDateTime::now_utc()
        } else {
            OffsetDateTime::parse(self.anchor.trim(), &Rfc3339)
                .map_err(|e| format!("clock.anchor {:?} is not RFC 3339: {e}", self.anchor))?
        };
        Ok(MarketClock {
            simulated: Some((start, anchor)),
            speed: self.speed,
        })
    }

    pub(crate) fn check(&self, problems: &mut Vec<String>) {
        if let Err(problem) = self.clock() {
            problems.push(problem);
        }
    }
}

/// Wall time or simulated time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketClock {
    /// `(start, anchor)`: the simulated instant shown at the wall instant.
    simulated: Option<(OffsetDateTime, OffsetDateTime)>,
    speed: f64,
}

impl MarketClock {
    /// The wall clock.
    pub const fn wall() -> Self {
        Self {
            simulated: None,
            speed: 1.0,
        }
    }

    /// Whether this is a simulated clock.
    pub fn is_simulated(&self) -> bool {
        self.simulated.is_some()
    }

    /// Simulated seconds per wall second (1 for the wall clock).
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The market's instant now.
    pub fn now(&self) -> OffsetDateTime {
        self.at(OffsetDateTime::now_utc())
    }

    /// The market's instant at the wall instant `wall`.
    pub fn at(&self, wall: OffsetDateTime) -> OffsetDateTime {
        match self.simulated {
            None => wall,
            Some((start, anchor)) => {
                let secs = (wall - anchor).as_seconds_f64() * self.speed;
                start
                    .checked_add(time::Duration::seconds_f64(secs))
                    .unwrap_or(start)
            }
        }
    }

    /// How long to wait on the wall clock for the market clock to pass `instant` (zero if it
    /// has).
    pub fn wall_until(&self, instant: OffsetDateTime) -> Duration {
        let ahead = (instant - self.now()).as_seconds_f64() / self.speed;
        if ahead.is_finite() && ahead > 0.0 {
            Duration::from_secs_f64(ahead.min(86_400.0 * 366.0))
        } else {
            Duration::ZERO
        }
    }

    /// The wall-clock length of `market` seconds of market time.
    pub fn wall_duration(&self, market: Duration) -> Duration {
        market.div_f64(self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_empty_start_is_the_wall_clock() {
        let clock = ClockSettings::default().clock().unwrap();
        assert!(!clock.is_simulated());
        let wall = datetime!(2026-11-30 07:00 UTC);
        assert_eq!(clock.at(wall), wall);
    }

    #[test]
    fn a_simulated_clock_runs_speed_times_faster_from_its_anchor() {
        let start = datetime!(2025-06-10 09:00 +7);
        let anchor = datetime!(2026-11-30 07:00 UTC);
        let clock = ClockSettings::simulated(start, anchor, 60.0)
            .clock()
            .unwrap();
        assert!(clock.is_simulated());
        assert_eq!(clock.at(anchor), start);
        assert_eq!(
            clock.at(anchor + time::Duration::seconds(10)),
            start + time::Duration::minutes(10)
        );
        assert_eq!(
            clock.wall_duration(Duration::from_secs(600)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn bad_values_are_named() {
        let mut problems = Vec::new();
        ClockSettings {
            start: "yesterday".into(),
            ..ClockSettings::default()
        }
        .check(&mut problems);
        ClockSettings {
            start: "2025-06-10T09:00:00+07:00".into(),
            speed: 0.0,
            ..ClockSettings::default()
        }
        .check(&mut problems);
        assert!(problems[0].contains("clock.start"), "{problems:?}");
        assert!(problems[1].contains("clock.speed"), "{problems:?}");
    }
}
