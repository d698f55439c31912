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
struct Table {
    buckets: HashMap<IpAddr, Bucket>,
    /// Sweeping a full table costs a pass over it: at most once a second,
    /// so a flood from many addresses cannot make every request pay it.
    last_sweep: Option<Instant>,
}

#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    max_clients: usize,
    table: Mutex<Table>,
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
        Self::with_capacity(per_minute, burst, MAX_CLIENTS)
    }

    fn with_capacity(per_minute: u32, burst: u32, max_clients: usize) -> Self {
        RateLimiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            max_clients,
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    /// Takes one token, or says how long until one is there.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let Table {
            buckets,
            last_sweep,
        } = &mut *table;
        if buckets.len() >= self.max_clients && !buckets.contains_key(&key(ip)) {
            if last_sweep.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1))
            {
                *last_sweep = Some(now);
                let (rate, burst) = (self.per_second, self.burst);
                // Buckets that have refilled belong to idle clients.
                buckets.retain(|_, b| {
                    b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
                });
            }
            if buckets.len() >= self.max_clients {
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
    fn a_full_table_sweeps_idle_clients_at_most_once_a_second() {
        let l = RateLimiter::with_capacity(60, 2, 3);
        let t0 = Instant::now();
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        for n in 1..=3 {
            assert!(l.check(ip(n), t0).is_ok());
        }
        assert!(l.check(ip(4), t0).is_err(), "full, nobody idle");
        // Half a second on: the sweep ran at t0, so none now.
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.check(ip(5), t1).is_err(), "no sweep within a second");
        let t2 = t0 + Duration::from_secs(3);
        assert!(l.check(ip(4), t2).is_ok(), "idle ones swept");
        assert!(l.check(ip(1), t2).is_ok(), "a swept client starts afresh");
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
