//! When to ask the origin again. Thousands of viewers run this at once, so
//! every delay is jittered (viewers who opened the page together drift apart),
//! failures back off exponentially up to a cap, a 429's `Retry-After` is a
//! floor, and a hidden tab polls less.
//!
//! Randomness comes in as `rand01` so that the policy stays a pure function.
//!
//! Every retry has one shape, hls.js's `getRetryDelay` over a retry config
//! (`src/utils/error-helper.ts`): `min(delay × 2^retry, max)`, then jitter.
//! The configs below are the only place the numbers are written.

/// How the delay grows with each retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    Linear,
    Exponential,
}

/// One retry schedule, as data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryConfig {
    /// The first retry's delay.
    pub delay_ms: u64,
    pub max_delay_ms: u64,
    pub backoff: Backoff,
    /// ± fraction of the delay, e.g. 0.2 for ±20 %.
    pub jitter: f64,
}

impl RetryConfig {
    /// The delay before retry number `retry` (0-based), without jitter.
    pub fn delay(&self, retry: u32) -> u64 {
        let factor = match self.backoff {
            Backoff::Linear => 1,
            Backoff::Exponential => 1u64 << retry.min(20),
        };
        self.delay_ms.saturating_mul(factor).min(self.max_delay_ms)
    }

    /// [`Self::delay`] spread by ± `jitter`, with `rand01` uniform in [0, 1].
    pub fn jittered(&self, retry: u32, rand01: f64) -> u64 {
        jitter(self.delay(retry), self.jitter, rand01)
    }
}

/// `base` spread by ± `fraction`.
fn jitter(base: u64, fraction: f64, rand01: f64) -> u64 {
    let r = rand01.clamp(0.0, 1.0);
    (base as f64 * (1.0 + fraction * (2.0 * r - 1.0))).round() as u64
}

/// A failing origin (lifecycle, views, recordings): 2 s, 4 s, 8 s … 60 s.
pub const ORIGIN_RETRY: RetryConfig = RetryConfig {
    delay_ms: 2_000,
    max_delay_ms: 60_000,
    backoff: Backoff::Exponential,
    jitter: 0.2,
};

/// Playback of a young broadcast (Cloudflare's manifest may take ~30 s after
/// lifecycle says live): 1 s, then every 2 s. A manifest that becomes
/// playable is found ≤ 2.4 s late instead of ≤ 6 s (measured with a 10 s
/// gap: −1.4 s native, −1.7 s hls.js to first frame, docs/notes/start.md),
/// for ~7 more requests to the CDN per viewer over a 30 s gap and none
/// while waiting or live.
pub const PLAYBACK_RETRY_STARTING: RetryConfig = RetryConfig {
    delay_ms: 1_000,
    max_delay_ms: 2_000,
    backoff: Backoff::Exponential,
    jitter: 0.2,
};

/// Playback after that: 1 s, 2 s, 4 s, 8 s, then every 15 s.
pub const PLAYBACK_RETRY: RetryConfig = RetryConfig {
    delay_ms: 1_000,
    max_delay_ms: 15_000,
    backoff: Backoff::Exponential,
    jitter: 0.2,
};

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
    /// After failures.
    pub retry: RetryConfig,
    /// Delays are multiplied by this while the page is hidden.
    pub hidden_factor: u64,
    /// Every request is aborted after this long.
    pub timeout_ms: u64,
}

impl Default for PollPolicy {
    /// Waiting: lifecycle every 6 s (10 a minute). Live: lifecycle every
    /// 20 s plus views every 30 s (5 a minute), which leaves room for the
    /// viewing-figure beacons and the recordings list within the budgets
    /// ([`REQUESTS_PER_MINUTE_WAITING`], [`REQUESTS_PER_MINUTE_LIVE`]).
    /// Failures: 2 s, 4 s, 8 s ... capped at 60 s. Hidden tab: 3× slower.
    fn default() -> Self {
        PollPolicy {
            waiting_ms: 6_000,
            live_ms: 20_000,
            views_ms: 30_000,
            jitter: 0.2,
            retry: ORIGIN_RETRY,
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

    /// Backoff for the `failures`-th consecutive failure (1-based).
    pub fn backoff(&self, failures: u32) -> u64 {
        self.retry.delay(failures.saturating_sub(1))
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
                .min(self.retry.max_delay_ms.max(self.interval(poll)));
        }
        if hidden {
            base = base.saturating_mul(self.hidden_factor);
        }
        let delay = jitter(base, self.jitter, rand01);
        let r = rand01.clamp(0.0, 1.0);
        match retry_after_ms {
            // Spread the herd over the window after Retry-After, never before it.
            Some(floor) => delay.max(floor + (floor as f64 * self.jitter * r).round() as u64),
            None => delay,
        }
    }
}

/// Delay before retrying playback (manifest not yet playable, network
/// failure): [`PLAYBACK_RETRY_STARTING`] while the broadcast is young,
/// [`PLAYBACK_RETRY`] after that.
pub fn playback_retry_delay(attempt: u32, starting: bool, rand01: f64) -> u64 {
    let config = if starting {
        PLAYBACK_RETRY_STARTING
    } else {
        PLAYBACK_RETRY
    };
    config.jittered(attempt, rand01)
}

/// How long the recordings list is kept fresh after a trigger (page load,
/// the end of a broadcast): Cloudflare takes about a minute to make a
/// recording ready; past five minutes the list stops polling.
pub const RECORDINGS_WINDOW_MS: u64 = 300_000;

/// The recordings list's refresh while a recording is processing: a
/// waiting viewer then asks lifecycle 10 times a minute and the list twice,
/// 12 in all.
pub const RECORDINGS_REFRESH_MS: u64 = 30_000;
/// The same while a broadcast is live (the previous one's recording still
/// processing): lifecycle, views and beacons already take 7 of the 8.
pub const RECORDINGS_REFRESH_LIVE_MS: u64 = 60_000;

/// Requests a viewer's page makes per minute, the media aside, at most:
/// while waiting (or ended) ...
pub const REQUESTS_PER_MINUTE_WAITING: f64 = 12.0;
/// ... and while a broadcast is live.
pub const REQUESTS_PER_MINUTE_LIVE: f64 = 8.0;

/// Delay before the next recordings request, or `None` to stop: every
/// [`RECORDINGS_REFRESH_MS`] while a recording is processing (less often
/// while `live`), backing off as [`ORIGIN_RETRY`] on failures, nothing once
/// all are ready or the window has passed.
pub fn recordings_refresh(
    failures: u32,
    processing: bool,
    live: bool,
    since_trigger_ms: u64,
    rand01: f64,
) -> Option<u64> {
    if since_trigger_ms >= RECORDINGS_WINDOW_MS {
        return None;
    }
    if failures > 0 {
        // Jittered: every viewer of a broadcast asks at its end.
        return Some(ORIGIN_RETRY.jittered(failures - 1, rand01));
    }
    processing.then_some(if live {
        RECORDINGS_REFRESH_LIVE_MS
    } else {
        RECORDINGS_REFRESH_MS
    })
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
            (Poll::Views, 30_000),
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
        assert_eq!(p.next_delay(Poll::Views, 0, None, true, 0.5), 90_000);
    }

    #[test]
    fn request_budgets_hold_on_average() {
        // Every request of a viewer's page but the media, per minute at the
        // mean delay. Waiting or ended: lifecycle, and the recordings list
        // while a recording is processing. Live: lifecycle, views, the
        // viewing-figure beacons (one every 30 s while watching; a stall or
        // an error may add one, never past three a minute) and the list
        // while the previous broadcast's recording is processing.
        let p = PollPolicy::default();
        let per_min = |ms: u64| 60_000.0 / ms as f64;
        let waiting = per_min(p.waiting_ms) + per_min(RECORDINGS_REFRESH_MS);
        let live = per_min(p.live_ms)
            + per_min(p.views_ms)
            + per_min(crate::qoe::FLUSH_EVERY_MS)
            + per_min(RECORDINGS_REFRESH_LIVE_MS);
        assert!(waiting <= REQUESTS_PER_MINUTE_WAITING, "waiting: {waiting}");
        assert!(live <= REQUESTS_PER_MINUTE_LIVE, "live: {live}");
    }

    #[test]
    fn playback_retries_every_two_seconds_while_starting_then_back_off_to_fifteen() {
        let table = [
            (0, true, 1_000),
            (1, true, 2_000),
            (2, true, 2_000),
            (3, true, 2_000),
            (40, true, 2_000),
            (2, false, 4_000),
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
        // (failures, processing, live, ms since the trigger, delay)
        let table = [
            (0, false, false, 0, None),
            (0, true, false, 0, Some(30_000)),
            (0, true, false, 299_999, Some(30_000)),
            (0, true, true, 10_000, Some(60_000)),
            (0, true, false, 300_000, None),
            (1, false, false, 10_000, Some(2_000)),
            (3, true, false, 10_000, Some(8_000)),
            (9, false, false, 10_000, Some(60_000)),
            (9, false, false, 400_000, None),
        ];
        for (failures, processing, live, since, want) in table {
            assert_eq!(
                recordings_refresh(failures, processing, live, since, 0.5),
                want,
                "{failures} {processing} {live} {since}"
            );
        }
    }

    #[test]
    fn one_retry_shape_as_hls_js_get_retry_delay() {
        // (config, retry, delay without jitter)
        let linear = RetryConfig {
            backoff: Backoff::Linear,
            ..ORIGIN_RETRY
        };
        let table = [
            (ORIGIN_RETRY, 0, 2_000),
            (ORIGIN_RETRY, 1, 4_000),
            (ORIGIN_RETRY, 4, 32_000),
            (ORIGIN_RETRY, 5, 60_000),
            (ORIGIN_RETRY, u32::MAX, 60_000),
            (linear, 0, 2_000),
            (linear, 9, 2_000),
            (PLAYBACK_RETRY, 3, 8_000),
            (PLAYBACK_RETRY, 4, 15_000),
            (PLAYBACK_RETRY_STARTING, 3, 2_000),
        ];
        for (config, retry, want) in table {
            assert_eq!(config.delay(retry), want, "{config:?} {retry}");
            assert_eq!(config.jittered(retry, 0.5), want);
            assert_eq!(config.jittered(retry, 0.0), want * 8 / 10);
            assert_eq!(config.jittered(retry, 1.0), want * 12 / 10);
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
