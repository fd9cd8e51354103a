//! The guard on FC Trading credentials: per consumer, AccessToken and GetOTP calls are
//! rate-limited, and wrong secrets, PINs and OTPs (at login or in an order's `code`) lock
//! the consumer out after `auth_max_failures` in a row, for `auth_lockout_secs`. While
//! locked out even the right PIN is refused, so guessing a 6-digit code takes years.
//!
//! Only configured consumer ids are tracked, so the guard's memory is bounded by the
//! configuration, whatever clients send.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Why a credential check was not even attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Too many failures: locked out for this long.
    LockedOut(Duration),
    /// Too many AccessToken/GetOTP calls: the next is admitted after this long.
    TooFrequent(Duration),
}

impl Refusal {
    /// How long to wait.
    pub(crate) fn retry_after(&self) -> Duration {
        match self {
            Refusal::LockedOut(d) | Refusal::TooFrequent(d) => *d,
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    calls: VecDeque<Instant>,
    failures: u32,
    locked_until: Option<Instant>,
}

/// Per-consumer call windows, failure counts and lockouts.
#[derive(Debug)]
pub(crate) struct Guard {
    entries: HashMap<String, Entry>,
    calls_per_minute: usize,
    max_failures: u32,
    lockout: Duration,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Guard {
    pub(crate) fn new(config: &crate::SimConfig) -> Self {
        Self {
            entries: HashMap::new(),
            calls_per_minute: usize::try_from(config.auth_calls_per_minute).unwrap_or(usize::MAX),
            max_failures: config.auth_max_failures.max(1),
            lockout: Duration::from_secs(config.auth_lockout_secs),
        }
    }

    fn entry(&mut self, consumer: &str) -> &mut Entry {
        self.entries.entry(consumer.to_owned()).or_default()
    }

    /// Whether `consumer` is locked out now.
    pub(crate) fn locked(&mut self, consumer: &str, now: Instant) -> Option<Refusal> {
        let e = self.entry(consumer);
        match e.locked_until {
            Some(until) if until > now => Some(Refusal::LockedOut(until - now)),
            Some(_) => {
                e.locked_until = None;
                e.failures = 0;
                None
            }
            None => None,
        }
    }

    /// Counts an AccessToken/GetOTP call of `consumer`, unless it is locked out or over
    /// its rate.
    pub(crate) fn admit_call(&mut self, consumer: &str, now: Instant) -> Result<(), Refusal> {
        if let Some(r) = self.locked(consumer, now) {
            return Err(r);
        }
        let limit = self.calls_per_minute;
        let e = self.entry(consumer);
        while e
            .calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            e.calls.pop_front();
        }
        if e.calls.len() >= limit {
            let wait = e
                .calls
                .front()
                .map_or(WINDOW, |t| WINDOW.saturating_sub(now.duration_since(*t)));
            return Err(Refusal::TooFrequent(wait));
        }
        e.calls.push_back(now);
        Ok(())
    }

    /// Records a wrong secret, PIN or OTP; the last one allowed locks the consumer out.
    pub(crate) fn failed(&mut self, consumer: &str, now: Instant) {
        let (max, lockout) = (self.max_failures, self.lockout);
        let e = self.entry(consumer);
        e.failures = e.failures.saturating_add(1);
        if e.failures >= max {
            e.locked_until = Some(now + lockout);
            tracing::warn!(
                consumer,
                failures = e.failures,
                lockout_secs = lockout.as_secs(),
                "fcsim: consumer locked out after repeated wrong credentials"
            );
        }
    }

    /// Records a right credential: the failure count starts again.
    pub(crate) fn succeeded(&mut self, consumer: &str) {
        self.entry(consumer).failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(calls: u32, failures: u32) -> Guard {
        Guard::new(&crate::SimConfig {
            auth_calls_per_minute: calls,
            auth_max_failures: failures,
            auth_lockout_secs: 900,
            ..crate::SimConfig::demo()
        })
    }

    #[test]
    fn repeated_failures_lock_out_even_the_right_code() {
        let mut g = guard(1_000, 3);
        let t = Instant::now();
        g.failed("c", t);
        g.failed("c", t);
        assert_eq!(g.locked("c", t), None);
        g.succeeded("c");
        for _ in 0..3 {
            g.failed("c", t);
        }
        assert!(matches!(g.locked("c", t), Some(Refusal::LockedOut(_))));
        assert!(matches!(g.admit_call("c", t), Err(Refusal::LockedOut(_))));
        // Another consumer is not affected.
        assert_eq!(g.locked("d", t), None);
        // After the lockout the count starts again.
        let later = t + Duration::from_secs(901);
        assert_eq!(g.locked("c", later), None);
        g.failed("c", later);
        assert_eq!(g.locked("c", later), None);
    }

    #[test]
    fn calls_are_limited_per_minute() {
        let mut g = guard(2, 5);
        let t = Instant::now();
        assert!(g.admit_call("c", t).is_ok());
        assert!(g.admit_call("c", t).is_ok());
        let Err(Refusal::TooFrequent(wait)) = g.admit_call("c", t) else {
            panic!("third call in a minute admitted");
        };
        assert!(wait > Duration::from_secs(59));
        assert!(g.admit_call("c", t + Duration::from_secs(61)).is_ok());
    }
}
