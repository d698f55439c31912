//! Counting the viewers of an input: distinct clients seen polling `/views`
//! within the last [`WINDOW`].
//!
//! A client is its `?viewer=<id>` query parameter when it sends one (one id
//! per page gives an exact count), else its TCP peer address `ip:port`: one
//! keep-alive connection per polling page, so pages behind one NAT or in one
//! browser still count apart, which `ip` alone (or `ip` + User-Agent) would not.
//!
//! Bounded: one IP address can add at most [`Limits::per_ip`] clients to an
//! input (one script inventing `?viewer=` ids or opening connections cannot
//! inflate the count past that), and all inputs together track at most
//! [`Limits::total`]. The count is kept, not recomputed: clients are also
//! ordered by last poll, so expiring them costs only the expired ones, and
//! a request never walks every client under the origin's lock.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::ids;

/// A viewer that has not polled for this long is gone.
pub const WINDOW: Duration = Duration::from_secs(30);
/// How often the server forgets viewers of inputs nobody polls any more.
pub const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Bounds on remembered clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Clients one IP address may add to one input.
    pub per_ip: usize,
    /// Clients of all inputs together.
    pub total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_ip: 50,
            total: 20_000,
        }
    }
}

/// Who polls: the key it counts under and the address it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub key: String,
    pub ip: IpAddr,
}

/// The client a `/views` request counts as.
pub fn client_key(viewer_param: Option<&str>, peer: SocketAddr) -> Client {
    let key = match viewer_param {
        Some(v) if ids::is_valid_viewer_id(v) => format!("id:{v}"),
        _ => format!("addr:{peer}"),
    };
    Client { key, ip: peer.ip() }
}

#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    seq: u64,
    ip: IpAddr,
}

/// The clients of one input.
#[derive(Debug, Default, Clone)]
pub struct ViewerCounter {
    last_seen: HashMap<String, Seen>,
    /// The same clients by last poll, oldest first.
    by_time: BTreeMap<(Instant, u64), String>,
    per_ip: HashMap<IpAddr, usize>,
    seq: u64,
}

fn expired(at: Instant, now: Instant) -> bool {
    now.saturating_duration_since(at) >= WINDOW
}

impl ViewerCounter {
    /// Records a poll by `client` at `now`. `tracked` is the number of
    /// clients of all inputs, kept by the caller; a new client beyond the
    /// limits is not remembered (its poll is answered all the same).
    pub fn touch(&mut self, client: Client, now: Instant, limits: Limits, tracked: &mut usize) {
        *tracked = tracked.saturating_sub(self.prune(now));
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        if let Some(seen) = self.last_seen.get_mut(&client.key) {
            self.by_time.remove(&(seen.at, seen.seq));
            // A clock read before the last poll keeps the later time.
            seen.at = seen.at.max(now);
            seen.seq = seq;
            self.by_time.insert((seen.at, seq), client.key);
            return;
        }
        let from_ip = self.per_ip.get(&client.ip).copied().unwrap_or(0);
        if from_ip >= limits.per_ip || *tracked >= limits.total {
            return;
        }
        *self.per_ip.entry(client.ip).or_default() += 1;
        *tracked += 1;
        self.by_time.insert((now, seq), client.key.clone());
        self.last_seen.insert(
            client.key,
            Seen {
                at: now,
                seq,
                ip: client.ip,
            },
        );
    }

    /// Distinct clients seen within [`WINDOW`] before `now`: the kept count
    /// less the few not pruned yet (at most [`PRUNE_EVERY`]'s worth).
    pub fn count(&self, now: Instant) -> u64 {
        let stale = self
            .by_time
            .keys()
            .take_while(|(at, _)| expired(*at, now))
            .count();
        (self.last_seen.len() - stale) as u64
    }

    /// Forgets clients older than [`WINDOW`]; returns how many.
    pub fn prune(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while let Some(entry) = self.by_time.first_entry() {
            if !expired(entry.key().0, now) {
                break;
            }
            let key = entry.remove();
            if let Some(seen) = self.last_seen.remove(&key) {
                if let Some(c) = self.per_ip.get_mut(&seen.ip) {
                    *c -= 1;
                    if *c == 0 {
                        self.per_ip.remove(&seen.ip);
                    }
                }
                n += 1;
            }
        }
        n
    }

    /// Clients remembered (counted or not yet pruned).
    pub fn tracked(&self) -> usize {
        self.last_seen.len()
    }
}

/// `liveViewers`: the fixed count when one is set, else the counted one.
pub fn live_viewers(fixed: Option<u64>, counted: u64) -> u64 {
    fixed.unwrap_or(counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn touch(c: &mut ViewerCounter, client: Client, now: Instant) {
        let mut tracked = c.tracked();
        c.touch(client, now, Limits::default(), &mut tracked);
        assert_eq!(tracked, c.tracked());
    }

    #[test]
    fn counts_distinct_clients_in_window() {
        let t0 = Instant::now();
        let mut c = ViewerCounter::default();
        assert_eq!(c.count(t0), 0);
        touch(&mut c, client_key(None, peer(1000)), t0);
        touch(
            &mut c,
            client_key(None, peer(1000)),
            t0 + Duration::from_secs(1),
        );
        touch(
            &mut c,
            client_key(None, peer(1001)),
            t0 + Duration::from_secs(2),
        );
        touch(
            &mut c,
            client_key(Some("page-a"), peer(1002)),
            t0 + Duration::from_secs(3),
        );
        // Same page id from another connection: still one viewer.
        touch(
            &mut c,
            client_key(Some("page-a"), peer(1003)),
            t0 + Duration::from_secs(4),
        );
        assert_eq!(c.count(t0 + Duration::from_secs(4)), 3);
        // 1000 last seen at 1 s, 1001 at 2 s: gone 30 s later.
        assert_eq!(c.count(t0 + Duration::from_secs(31)), 2);
        assert_eq!(c.count(t0 + Duration::from_secs(32)), 1);
        assert_eq!(c.count(t0 + Duration::from_secs(34)), 0);
        assert_eq!(c.prune(t0 + Duration::from_secs(34)), 3);
        assert!(c.last_seen.is_empty() && c.by_time.is_empty() && c.per_ip.is_empty());
    }

    #[test]
    fn bad_viewer_param_falls_back_to_peer() {
        assert_eq!(client_key(Some("a b"), peer(5)).key, "addr:127.0.0.1:5");
        assert_eq!(client_key(Some(""), peer(5)).key, "addr:127.0.0.1:5");
        assert_eq!(client_key(Some("x"), peer(5)).key, "id:x");
    }

    // Regression (issue 15 #10): one client inflated liveViewers with 3,000
    // made-up `?viewer=` ids in 1.6 s.
    #[test]
    fn one_address_cannot_inflate_the_count() {
        let t0 = Instant::now();
        let limits = Limits::default();
        let mut c = ViewerCounter::default();
        let mut tracked = 0;
        for i in 0..3000 {
            let id = format!("v{i}");
            c.touch(client_key(Some(&id), peer(1)), t0, limits, &mut tracked);
        }
        assert_eq!(c.count(t0), limits.per_ip as u64);
        // Other addresses still count.
        let other = SocketAddr::from(([10, 0, 0, 2], 5));
        c.touch(client_key(Some("w"), other), t0, limits, &mut tracked);
        assert_eq!(c.count(t0), limits.per_ip as u64 + 1);
        // Once they leave, the address may count again.
        let later = t0 + WINDOW;
        c.touch(
            client_key(Some("new"), peer(1)),
            later,
            limits,
            &mut tracked,
        );
        assert_eq!(c.count(later), 1);
        assert_eq!(tracked, 1);
    }

    #[test]
    fn total_is_shared_by_all_inputs() {
        let t0 = Instant::now();
        let limits = Limits {
            per_ip: 10,
            total: 15,
        };
        let (mut a, mut b) = (ViewerCounter::default(), ViewerCounter::default());
        let mut tracked = 0;
        for c in [&mut a, &mut b] {
            for i in 0..10u8 {
                let p = SocketAddr::from(([10, 0, 0, i], 1));
                c.touch(client_key(None, p), t0, limits, &mut tracked);
            }
        }
        assert_eq!((a.count(t0), b.count(t0), tracked), (10, 5, 15));
    }

    #[test]
    fn fixed_wins() {
        assert_eq!(live_viewers(None, 4), 4);
        assert_eq!(live_viewers(Some(0), 4), 0);
        assert_eq!(live_viewers(Some(1000), 4), 1000);
    }

    proptest! {
        // `?viewer=` is outside text: any value gives a bounded key.
        #[test]
        fn any_viewer_param_gives_a_bounded_key(v in any::<Option<String>>(), port in any::<u16>()) {
            let c = client_key(v.as_deref(), peer(port));
            prop_assert!(c.key.len() <= 3 + 64 || c.key.starts_with("addr:"));
            prop_assert!(c.key.len() <= 5 + 47);
        }

        // Whatever the polls, the count is the number of distinct clients
        // seen within the window, and never exceeds the limits.
        #[test]
        fn count_matches_a_naive_model(
            polls in proptest::collection::vec((0u8..40, 0u8..4, 0u64..100), 0..200),
            per_ip in 1usize..20,
            total in 1usize..60,
        ) {
            let t0 = Instant::now();
            let limits = Limits { per_ip, total };
            let mut c = ViewerCounter::default();
            let mut tracked = 0;
            let mut polls = polls;
            polls.sort_by_key(|p| p.2);
            for (id, ip, secs) in polls {
                let now = t0 + Duration::from_secs(secs);
                let p = SocketAddr::from(([10, 0, 0, ip], 1));
                c.touch(client_key(Some(&format!("v{id}")), p, ), now, limits, &mut tracked);
                let n = c.count(now);
                prop_assert!(n as usize <= total);
                prop_assert!(n as usize <= per_ip * 4);
                prop_assert_eq!(tracked, c.tracked());
                let naive = c.last_seen.values().filter(|s| !expired(s.at, now)).count();
                prop_assert_eq!(n as usize, naive);
            }
        }
    }
}
