//! Counting the viewers of an input: distinct clients seen polling `/views`
//! within the last [`WINDOW`].
//!
//! A client is its `?viewer=<id>` query parameter when it sends one (one id
//! per page gives an exact count), else its TCP peer address `ip:port`: one
//! keep-alive connection per polling page, so pages behind one NAT or in one
//! browser still count apart, which `ip` alone (or `ip` + User-Agent) would not.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::ids;

/// A viewer that has not polled for this long is gone.
pub const WINDOW: Duration = Duration::from_secs(30);
/// Bound on remembered clients per input (a flood of new connections cannot
/// grow memory without limit).
const MAX_TRACKED: usize = 100_000;

/// Last-seen times of the clients of one input.
#[derive(Debug, Default, Clone)]
pub struct ViewerCounter {
    last_seen: HashMap<String, Instant>,
}

impl ViewerCounter {
    /// Records a poll by `client` at `now`.
    pub fn touch(&mut self, client: String, now: Instant) {
        if self.last_seen.len() >= MAX_TRACKED {
            self.prune(now);
        }
        if self.last_seen.len() < MAX_TRACKED || self.last_seen.contains_key(&client) {
            self.last_seen.insert(client, now);
        }
    }

    /// Distinct clients seen within [`WINDOW`] before `now`.
    pub fn count(&self, now: Instant) -> u64 {
        self.last_seen
            .values()
            .filter(|&&t| now.saturating_duration_since(t) < WINDOW)
            .count() as u64
    }

    /// Forgets clients older than [`WINDOW`].
    pub fn prune(&mut self, now: Instant) {
        self.last_seen
            .retain(|_, t| now.saturating_duration_since(*t) < WINDOW);
    }
}

/// The key a `/views` request counts under.
pub fn client_key(viewer_param: Option<&str>, peer: SocketAddr) -> String {
    match viewer_param {
        Some(v) if ids::is_valid_viewer_id(v) => format!("id:{v}"),
        _ => format!("addr:{peer}"),
    }
}

/// `liveViewers`: the fixed count when one is set, else the counted one.
pub fn live_viewers(fixed: Option<u64>, counted: u64) -> u64 {
    fixed.unwrap_or(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn counts_distinct_clients_in_window() {
        let t0 = Instant::now();
        let mut c = ViewerCounter::default();
        assert_eq!(c.count(t0), 0);
        c.touch(client_key(None, peer(1000)), t0);
        c.touch(client_key(None, peer(1000)), t0 + Duration::from_secs(1));
        c.touch(client_key(None, peer(1001)), t0 + Duration::from_secs(2));
        c.touch(
            client_key(Some("page-a"), peer(1002)),
            t0 + Duration::from_secs(3),
        );
        // Same page id from another connection: still one viewer.
        c.touch(
            client_key(Some("page-a"), peer(1003)),
            t0 + Duration::from_secs(4),
        );
        assert_eq!(c.count(t0 + Duration::from_secs(4)), 3);
        // 1000 last seen at 1 s, 1001 at 2 s: gone 30 s later.
        assert_eq!(c.count(t0 + Duration::from_secs(31)), 2);
        assert_eq!(c.count(t0 + Duration::from_secs(32)), 1);
        assert_eq!(c.count(t0 + Duration::from_secs(34)), 0);
        c.prune(t0 + Duration::from_secs(34));
        assert!(c.last_seen.is_empty());
    }

    #[test]
    fn bad_viewer_param_falls_back_to_peer() {
        assert_eq!(client_key(Some("a b"), peer(5)), "addr:127.0.0.1:5");
        assert_eq!(client_key(Some(""), peer(5)), "addr:127.0.0.1:5");
        assert_eq!(client_key(Some("x"), peer(5)), "id:x");
    }

    #[test]
    fn fixed_wins() {
        assert_eq!(live_viewers(None, 4), 4);
        assert_eq!(live_viewers(Some(0), 4), 0);
        assert_eq!(live_viewers(Some(1000), 4), 1000);
    }
}
