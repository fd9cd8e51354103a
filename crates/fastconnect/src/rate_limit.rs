//! A client-side rate limiter: sliding windows over the last requests, plus a pause that a
//! 429 `Retry-After` imposes on every caller sharing the client.

use std::collections::VecDeque;

use tokio::sync::Mutex;
use tokio::time::{Duration, Instant};

use crate::config::RateRule;

/// Waits before each request so that no rule (`limit` per `period`) is exceeded.
#[derive(Debug)]
pub struct RateLimiter {
    rules: Vec<RateRule>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Start times of recent requests, oldest first; as long as the largest rule needs.
    recent: VecDeque<Instant>,
    /// No request before this instant (set from `Retry-After`).
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// A limiter enforcing all `rules` at once. Rules with `limit == 0` are ignored.
    pub fn new(rules: Vec<RateRule>) -> Self {
        Self {
            rules: rules.into_iter().filter(|r| r.limit > 0).collect(),
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until a request may start, and records it.
    pub async fn acquire(&self) {
        // The lock is held while sleeping so that callers are served in order.
        let mut state = self.state.lock().await;
        loop {
            let now = Instant::now();
            let mut wait_until = state.paused_until.filter(|t| *t > now);
            for rule in &self.rules {
                let limit = rule.limit as usize;
                if state.recent.len() >= limit {
                    let nth_newest = state.recent[state.recent.len() - limit];
                    let free_at = nth_newest + rule.period();
                    if free_at > now {
                        wait_until = Some(wait_until.map_or(free_at, |w| w.max(free_at)));
                    }
                }
            }
            match wait_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => break,
            }
        }
        let now = Instant::now();
        state.recent.push_back(now);
        let keep = self
            .rules
            .iter()
            .map(|r| r.limit as usize)
            .max()
            .unwrap_or(0);
        while state.recent.len() > keep {
            state.recent.pop_front();
        }
    }

    /// Stops every caller for `delay` (SSI said `Retry-After`).
    pub async fn pause_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut state = self.state.lock().await;
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(limit: u32, period_ms: u64) -> RateRule {
        RateRule { limit, period_ms }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_limit_wait_for_the_window() {
        let limiter = RateLimiter::new(vec![rule(2, 1_000)]);
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1_000));
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1_000));
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(2_000));
    }

    #[tokio::test(start_paused = true)]
    async fn every_rule_applies() {
        let limiter = RateLimiter::new(vec![rule(5, 1_000), rule(6, 5_000)]);
        let start = Instant::now();
        for _ in 0..6 {
            limiter.acquire().await;
        }
        // 5 in the first second, the 6th after one second.
        assert_eq!(start.elapsed(), Duration::from_millis(1_000));
        limiter.acquire().await;
        // The 7th must wait for the 5 s window of the first request.
        assert_eq!(start.elapsed(), Duration::from_millis(5_000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_blocks_every_caller() {
        let limiter = RateLimiter::new(vec![]);
        let start = Instant::now();
        limiter.pause_for(Duration::from_secs(3)).await;
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
