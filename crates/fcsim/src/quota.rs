//! FC Trading quotas (§8): per-consumer sliding windows of the configured rules, answered
//! with SSI's 429 by the REST layer. Bounded by consumers × rules × their limits.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::RateRule;

/// Per-consumer sliding windows of the quota rules.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    windows: HashMap<(String, usize), VecDeque<Instant>>,
}

impl Limiter {
    /// Counts a call; on breach returns the rule and how long until a slot frees.
    pub(crate) fn admit(
        &mut self,
        rules: &[RateRule],
        consumer: &str,
        method: &str,
        api: &str,
    ) -> Result<(), (RateRule, Duration)> {
        let now = Instant::now();
        let mut applicable = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let Some(ms) = rule.period_ms() else { continue };
            if !rule.applies(method, api) {
                continue;
            }
            let period = Duration::from_millis(ms);
            let w = self.windows.entry((consumer.to_owned(), i)).or_default();
            while w.front().is_some_and(|t| now.duration_since(*t) >= period) {
                w.pop_front();
            }
            if w.len() >= usize::try_from(rule.limit).unwrap_or(usize::MAX) {
                let wait = w
                    .front()
                    .map_or(period, |t| period.saturating_sub(now.duration_since(*t)));
                return Err((rule.clone(), wait));
            }
            applicable.push(i);
        }
        for i in applicable {
            self.windows
                .entry((consumer.to_owned(), i))
                .or_default()
                .push_back(now);
        }
        Ok(())
    }
}

impl Limiter {
    /// The tightest applicable rule's limit, calls left in its window and time until its
    /// oldest call leaves it (`X-RateLimit-*`), for `consumer` now.
    pub(crate) fn status(
        &self,
        rules: &[RateRule],
        consumer: &str,
        method: &str,
        api: &str,
    ) -> Option<(u32, u32, Duration)> {
        let now = Instant::now();
        rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.applies(method, api))
            .filter_map(|(i, r)| {
                let period = Duration::from_millis(r.period_ms()?);
                let w = self.windows.get(&(consumer.to_owned(), i));
                let live: Vec<&Instant> = w
                    .into_iter()
                    .flatten()
                    .filter(|t| now.duration_since(**t) < period)
                    .collect();
                let used = u32::try_from(live.len()).unwrap_or(u32::MAX);
                let reset = live.first().map_or(Duration::ZERO, |t| {
                    period.saturating_sub(now.duration_since(**t))
                });
                Some((period, r.limit, r.limit.saturating_sub(used), reset))
            })
            .min_by_key(|(period, ..)| *period)
            .map(|(_, limit, left, reset)| (limit, left, reset))
    }
}
