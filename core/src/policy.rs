//! When to ask the origin again. Thousands of viewers run this at once, so
//! every delay is jittered (viewers who opened the page together drift apart),
//! failures back off exponentially up to a cap, a 429's `Retry-After` is a
//! floor, and a hidden tab polls less.
//!
//! Randomness comes in as `rand01` so that the policy stays a pure function.

/// What is being polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// `/lifecycle` while nothing plays: the viewer is waiting for the start.
    LifecycleWaiting,
    /// `/lifecycle` while a broadcast plays: only its end or a restart matters.
    LifecycleLive,
    /// `/views`, only while live.
    Views,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    pub waiting_ms: u64,
    pub live_ms: u64,
    pub views_ms: u64,
    /// ± fraction of the delay, e.g. 0.2 for ±20 %.
    pub jitter: f64,
    /// First delay after a failure; doubles with each further failure.
    pub backoff_ms: u64,
    pub backoff_cap_ms: u64,
    /// Delays are multiplied by this while the page is hidden.
    pub hidden_factor: u64,
    /// Every request is aborted after this long.
    pub timeout_ms: u64,
}

impl Default for PollPolicy {
    /// Waiting: lifecycle every 6 s (10 a minute, within the 12 budget).
    /// Live: lifecycle every 20 s plus views every 15 s (7 a minute, within 8).
    /// Failures: 2 s, 4 s, 8 s ... capped at 60 s. Hidden tab: 3× slower.
    fn default() -> Self {
        PollPolicy {
            waiting_ms: 6_000,
            live_ms: 20_000,
            views_ms: 15_000,
            jitter: 0.2,
            backoff_ms: 2_000,
            backoff_cap_ms: 60_000,
            hidden_factor: 3,
            timeout_ms: 8_000,
        }
    }
}

impl PollPolicy {
    fn interval(&self, poll: Poll) -> u64 {
        match poll {
            Poll::LifecycleWaiting => self.waiting_ms,
            Poll::LifecycleLive => self.live_ms,
            Poll::Views => self.views_ms,
        }
    }

    /// Exponential backoff for the `failures`-th consecutive failure (1-based).
    pub fn backoff(&self, failures: u32) -> u64 {
        let shift = failures.saturating_sub(1).min(20);
        self.backoff_ms
            .saturating_mul(1u64 << shift)
            .min(self.backoff_cap_ms)
    }

    /// Delay before the next request of `poll`.
    ///
    /// `failures` counts consecutive failed requests (0 after a success);
    /// `retry_after_ms` is the last 429's `Retry-After`, which is never undercut.
    pub fn next_delay(
        &self,
        poll: Poll,
        failures: u32,
        retry_after_ms: Option<u64>,
        hidden: bool,
        rand01: f64,
    ) -> u64 {
        let mut base = self.interval(poll);
        if failures > 0 {
            // A failing origin is asked less often, never more often than usual.
            base = base
                .max(self.backoff(failures))
                .min(self.backoff_cap_ms.max(self.interval(poll)));
        }
        if hidden {
            base = base.saturating_mul(self.hidden_factor);
        }
        let r = rand01.clamp(0.0, 1.0);
        let jittered = base as f64 * (1.0 + self.jitter * (2.0 * r - 1.0));
        let delay = jittered.round() as u64;
        match retry_after_ms {
            // Spread the herd over the window after Retry-After, never before it.
            Some(floor) => delay.max(floor + (floor as f64 * self.jitter * r).round() as u64),
            None => delay,
        }
    }
}

/// Delay before retrying playback (manifest not yet playable, network
/// failure): 1 s, 2 s, 4 s, then every 5 s while the broadcast is young
/// (Cloudflare's manifest may take ~30 s: the viewer should not wait a
/// further 15 s once it plays), every 15 s after that; ±20 % jitter.
pub fn playback_retry_delay(attempt: u32, starting: bool, rand01: f64) -> u64 {
    let cap = if starting { 5_000 } else { 15_000 };
    let base = (1_000u64 << attempt.min(10)).min(cap) as f64;
    (base * (0.8 + 0.4 * rand01.clamp(0.0, 1.0))).round() as u64
}

/// How long the recordings list is kept fresh after a trigger (page load,
/// the end of a broadcast): Cloudflare takes about a minute to make a
/// recording ready; past five minutes the list stops polling.
pub const RECORDINGS_WINDOW_MS: u64 = 300_000;

/// Delay before the next recordings request, or `None` to stop: every 15 s
/// while a recording is processing, backing off 2 s → 60 s on failures,
/// nothing once all are ready or the window has passed.
pub fn recordings_refresh(failures: u32, processing: bool, since_trigger_ms: u64) -> Option<u64> {
    if since_trigger_ms >= RECORDINGS_WINDOW_MS {
        return None;
    }
    if failures > 0 {
        let shift = (failures - 1).min(10);
        return Some((2_000u64 << shift).min(60_000));
    }
    processing.then_some(15_000)
}

/// Parses a `Retry-After` header: delta-seconds (the form Cloudflare sends).
/// An HTTP date or garbage yields `None`; the caller then backs off as usual.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let secs: u64 = value.trim().parse().ok()?;
    Some(secs.min(3_600) * 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = PollPolicy::default();
        for (poll, base) in [
            (Poll::LifecycleWaiting, 6_000),
            (Poll::LifecycleLive, 20_000),
            (Poll::Views, 15_000),
        ] {
            let lo = p.next_delay(poll, 0, None, false, 0.0);
            let mid = p.next_delay(poll, 0, None, false, 0.5);
            let hi = p.next_delay(poll, 0, None, false, 1.0);
            assert_eq!(lo, base * 8 / 10, "{poll:?}");
            assert_eq!(mid, base, "{poll:?}");
            assert_eq!(hi, base * 12 / 10, "{poll:?}");
            for i in 0..=100 {
                let d = p.next_delay(poll, 0, None, false, i as f64 / 100.0);
                assert!((lo..=hi).contains(&d));
            }
        }
    }

    #[test]
    fn backoff_grows_then_caps() {
        let p = PollPolicy::default();
        let table = [
            (1, 2_000),
            (2, 4_000),
            (3, 8_000),
            (4, 16_000),
            (5, 32_000),
            (6, 60_000),
            (30, 60_000),
        ];
        for (failures, want) in table {
            assert_eq!(p.backoff(failures), want, "failures={failures}");
        }
        // While waiting, the delay is never shorter than the normal interval...
        assert_eq!(
            p.next_delay(Poll::LifecycleWaiting, 1, None, false, 0.5),
            6_000
        );
        assert_eq!(
            p.next_delay(Poll::LifecycleWaiting, 3, None, false, 0.5),
            8_000
        );
        assert_eq!(
            p.next_delay(Poll::LifecycleWaiting, 9, None, false, 0.5),
            60_000
        );
        // ...and never longer than the cap plus jitter.
        assert_eq!(
            p.next_delay(Poll::LifecycleWaiting, 99, None, false, 1.0),
            72_000
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = PollPolicy::default();
        for i in 0..=10 {
            let r = i as f64 / 10.0;
            let d = p.next_delay(Poll::LifecycleWaiting, 1, Some(30_000), false, r);
            assert!((30_000..=36_000).contains(&d), "{d}");
        }
        // A short Retry-After does not shorten the normal interval.
        assert_eq!(
            p.next_delay(Poll::LifecycleLive, 1, Some(1_000), false, 0.5),
            20_000
        );
    }

    #[test]
    fn hidden_tab_polls_slower() {
        let p = PollPolicy::default();
        assert_eq!(
            p.next_delay(Poll::LifecycleWaiting, 0, None, true, 0.5),
            18_000
        );
        assert_eq!(p.next_delay(Poll::Views, 0, None, true, 0.5), 45_000);
    }

    #[test]
    fn request_budgets_hold_on_average() {
        // Requests per viewer per minute at the mean delay.
        let p = PollPolicy::default();
        let per_min = |ms: u64| 60_000.0 / ms as f64;
        assert!(per_min(p.waiting_ms) <= 12.0);
        assert!(per_min(p.live_ms) + per_min(p.views_ms) <= 8.0);
    }

    #[test]
    fn playback_retries_back_off_to_five_then_fifteen_seconds() {
        let table = [
            (0, true, 1_000),
            (1, true, 2_000),
            (2, true, 4_000),
            (3, true, 5_000),
            (40, true, 5_000),
            (3, false, 8_000),
            (4, false, 15_000),
            (40, false, 15_000),
        ];
        for (attempt, starting, want) in table {
            assert_eq!(playback_retry_delay(attempt, starting, 0.5), want);
        }
        assert_eq!(playback_retry_delay(0, true, 0.0), 800);
        assert_eq!(playback_retry_delay(0, true, 1.0), 1_200);
    }

    #[test]
    fn recordings_poll_only_while_useful() {
        let table = [
            (0, false, 0, None),
            (0, true, 0, Some(15_000)),
            (0, true, 299_999, Some(15_000)),
            (0, true, 300_000, None),
            (1, false, 10_000, Some(2_000)),
            (3, true, 10_000, Some(8_000)),
            (9, false, 10_000, Some(60_000)),
            (9, false, 400_000, None),
        ];
        for (failures, processing, since, want) in table {
            assert_eq!(
                recordings_refresh(failures, processing, since),
                want,
                "{failures} {processing} {since}"
            );
        }
    }

    #[test]
    fn parses_retry_after() {
        assert_eq!(parse_retry_after("20"), Some(20_000));
        assert_eq!(parse_retry_after(" 5 "), Some(5_000));
        assert_eq!(parse_retry_after("999999"), Some(3_600_000));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
