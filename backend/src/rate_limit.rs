//! Token-bucket rate limits by key (a client address, a token's hash).
//!
//! The bucket arithmetic is the pure [`Bucket::take`]; [`RateLimiter`] keeps
//! one bucket per key in a bounded map.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// `burst` calls at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub per_minute: u32,
    pub burst: u32,
}

impl Limit {
    fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }
}

/// One key's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn full(limit: Limit, now: Instant) -> Self {
        Self {
            tokens: f64::from(limit.burst.max(1)),
            at: now,
        }
    }

    fn refilled(&self, limit: Limit, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        let rate = f64::from(limit.per_minute.max(1)) / 60.0;
        (self.tokens + elapsed * rate).min(f64::from(limit.burst.max(1)))
    }

    /// Takes one call, or says how long until one is allowed.
    pub fn take(&mut self, limit: Limit, now: Instant) -> Result<(), Duration> {
        let tokens = self.refilled(limit, now);
        if tokens >= 1.0 {
            self.tokens = tokens - 1.0;
            self.at = now;
            Ok(())
        } else {
            let missing = (1.0 - tokens) * limit.interval().as_secs_f64();
            Err(Duration::from_secs_f64(missing))
        }
    }

    /// Back to full: the bucket says nothing a new one would not.
    pub fn is_full(&self, limit: Limit, now: Instant) -> bool {
        self.refilled(limit, now) >= f64::from(limit.burst.max(1))
    }
}

/// Buckets by key, at most `max_keys` of them.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: Limit, max_keys: usize) -> Self {
        Self {
            limit,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// One call by `key` at `now`; `Err(wait)` when over the limit
    /// (`wait` rounded up to whole seconds, for `Retry-After`).
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            // Full buckets carry no information: drop them first.
            buckets.retain(|_, b| !b.is_full(self.limit, now));
            if buckets.len() >= self.max_keys {
                // Still full of active keys: forget them rather than grow.
                buckets.clear();
            }
        }
        let limit = self.limit;
        buckets
            .entry(key.to_string())
            .or_insert_with(|| Bucket::full(limit, now))
            .take(limit, now)
            .map_err(|wait| Duration::from_secs(wait.as_secs_f64().ceil().max(1.0) as u64))
    }

    pub fn keys(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let limit = Limit {
            per_minute: 6,
            burst: 3,
        };
        let t0 = Instant::now();
        let l = RateLimiter::new(limit, 100);
        // (offset s, allowed?, wait s when refused)
        let cases: &[(u64, bool, u64)] = &[
            (0, true, 0),
            (0, true, 0),
            (0, true, 0),
            (0, false, 10),
            (5, false, 5),
            (10, true, 0),
            (10, false, 10),
            (60, true, 0),
            (60, true, 0),
            (60, true, 0),
            (60, false, 10),
        ];
        for (i, &(at, ok, wait)) in cases.iter().enumerate() {
            let got = l.check("a", t0 + Duration::from_secs(at));
            if ok {
                assert_eq!(got, Ok(()), "case {i}");
            } else {
                assert_eq!(got, Err(Duration::from_secs(wait)), "case {i}");
            }
        }
        // Another key has its own bucket.
        assert_eq!(l.check("b", t0), Ok(()));
    }

    #[test]
    fn keys_stay_bounded() {
        let limit = Limit {
            per_minute: 60,
            burst: 1,
        };
        let l = RateLimiter::new(limit, 10);
        let t0 = Instant::now();
        for i in 0..100 {
            let _ = l.check(&format!("k{i}"), t0);
            assert!(l.keys() <= 10);
        }
        // Refilled buckets are dropped first: the active key keeps its state.
        let later = t0 + Duration::from_secs(5);
        assert!(l.check("hot", later).is_ok());
        assert!(l.check("hot", later).is_err());
        for i in 0..5 {
            let _ = l.check(&format!("n{i}"), later + Duration::from_secs(2));
        }
        assert!(l.check("hot", later).is_err(), "hot's empty bucket is kept");
    }
}
