//! Rate limit per client address: a token bucket each. IPv6 clients are
//! keyed by their /64 (one host can hop addresses inside it). The table is
//! bounded: when full, buckets that have refilled (idle clients) go first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept at most.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6([s[0], s[1], s[2], s[3], 0, 0, 0, 0].into())
            }
        },
        v4 => v4,
    }
}

impl RateLimiter {
    /// `per_minute` requests on average, up to `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token, or says how long until one is there.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&key(ip)) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_CLIENTS {
                // Every bucket in use: a flood from many addresses. Refusing
                // newcomers keeps memory bounded.
                return Err(Duration::from_secs(1));
            }
        }
        let b = buckets.entry(key(ip)).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * self.per_second;
        b.tokens = (b.tokens + refill).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let l = RateLimiter::new(60, 3);
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(a, t0), Ok(()));
        }
        let wait = l.check(a, t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert_eq!(l.check(b, t0), Ok(()), "another client is not affected");
        assert_eq!(
            l.check(a, t0 + Duration::from_secs(1)),
            Ok(()),
            "refilled one"
        );
        assert!(l.check(a, t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn ipv6_by_prefix_and_mapped_v4() {
        let l = RateLimiter::new(60, 1);
        let t0 = Instant::now();
        assert!(l.check("2001:db8::1".parse().unwrap(), t0).is_ok());
        assert!(
            l.check("2001:db8::2".parse().unwrap(), t0).is_err(),
            "same /64"
        );
        assert!(l.check("2001:db8:0:1::1".parse().unwrap(), t0).is_ok());
        assert!(l.check("10.1.1.1".parse().unwrap(), t0).is_ok());
        assert!(l.check("::ffff:10.1.1.1".parse().unwrap(), t0).is_err());
    }
}
