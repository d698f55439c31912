//! In-memory aggregation of accepted beacons, per input, video, kind and
//! minute, so the database sees a few upserts per flush however many
//! viewers there are. Pure: the caller gives the time and takes the
//! [`Pending`] out to write it.

use std::collections::HashMap;

use player_core::qoe::{Batch, Kind};

/// A row's key: input, video ('' when unknown), kind, Unix minute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub input: String,
    pub video: String,
    pub kind: Kind,
    pub minute: i64,
}

/// Sums over one row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub views: i64,
    pub watch_ms: i64,
    pub rebuffers: i64,
    pub rebuffer_ms: i64,
    pub up: i64,
    pub down: i64,
    pub failures: i64,
    pub startup_failures: i64,
    pub startup_count: i64,
    pub startup_ms_sum: i64,
    pub latency_count: i64,
    pub latency_ms_sum: i64,
}

/// Where a page was last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSeen {
    pub video: String,
    pub kind: Kind,
    /// Unix seconds.
    pub last_seen: i64,
    /// The page left: delete it rather than refresh it.
    pub ended: bool,
}

/// What waits to be written.
#[derive(Debug, Default)]
pub struct Pending {
    pub rows: HashMap<RowKey, Sums>,
    pub startup: HashMap<(RowKey, i32), i64>,
    pub failures: HashMap<(RowKey, String), i64>,
    /// (page, input) → where.
    pub pages: HashMap<(String, String), PageSeen>,
}

/// Start-up histogram bucket: 100 ms wide below 10 s, 1 s wide to 60 s,
/// 10 s wide above (exact enough for a median, and fixed for every replica).
pub fn startup_bucket(ms: u32) -> i32 {
    let ms = i64::from(ms);
    let b = if ms < 10_000 {
        ms / 100
    } else if ms < 60_000 {
        100 + (ms - 10_000) / 1_000
    } else {
        150 + (ms - 60_000) / 10_000
    };
    i32::try_from(b).unwrap_or(i32::MAX)
}

/// The middle of a bucket, in ms: what a percentile in it reports.
pub fn bucket_mid_ms(bucket: i32) -> u32 {
    let b = u32::try_from(bucket.max(0)).unwrap_or(0);
    if b < 100 {
        b * 100 + 50
    } else if b < 150 {
        10_000 + (b - 100) * 1_000 + 500
    } else {
        60_000u32.saturating_add((b - 150).saturating_mul(10_000)) + 5_000
    }
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.pages.is_empty()
    }

    /// Entries held; bounded by the caller (a flush that lags must not
    /// grow memory without limit).
    pub fn len(&self) -> usize {
        self.rows.len() + self.startup.len() + self.failures.len() + self.pages.len()
    }

    /// Adds what another `Pending` holds (a flush that failed goes back).
    pub fn merge(&mut self, other: Pending) {
        for (k, o) in other.rows {
            let s = self.rows.entry(k).or_default();
            s.views += o.views;
            s.watch_ms += o.watch_ms;
            s.rebuffers += o.rebuffers;
            s.rebuffer_ms += o.rebuffer_ms;
            s.up += o.up;
            s.down += o.down;
            s.failures += o.failures;
            s.startup_failures += o.startup_failures;
            s.startup_count += o.startup_count;
            s.startup_ms_sum += o.startup_ms_sum;
            s.latency_count += o.latency_count;
            s.latency_ms_sum += o.latency_ms_sum;
        }
        for (k, n) in other.startup {
            *self.startup.entry(k).or_default() += n;
        }
        for (k, n) in other.failures {
            *self.failures.entry(k).or_default() += n;
        }
        for (k, seen) in other.pages {
            // The newer sighting wins.
            match self.pages.get(&k) {
                Some(mine) if mine.last_seen >= seen.last_seen => {}
                _ => {
                    self.pages.insert(k, seen);
                }
            }
        }
    }

    /// Adds a validated batch received at `now_s` (Unix seconds).
    pub fn add(&mut self, b: &Batch, now_s: i64) {
        let minute = now_s.div_euclid(60);
        for r in &b.views {
            let key = RowKey {
                input: r.input.clone(),
                video: r.video.clone().unwrap_or_default(),
                kind: r.kind,
                minute,
            };
            let s = self.rows.entry(key.clone()).or_default();
            s.views += i64::from(r.start);
            s.watch_ms += i64::from(r.watch_ms);
            s.rebuffers += i64::from(r.rebuffers);
            s.rebuffer_ms += i64::from(r.rebuffer_ms);
            s.up += i64::from(r.up);
            s.down += i64::from(r.down);
            s.failures += i64::from(r.failure.is_some());
            s.startup_failures += i64::from(r.failed_at_start);
            if let Some(ms) = r.startup_ms {
                s.startup_count += 1;
                s.startup_ms_sum += i64::from(ms);
                *self
                    .startup
                    .entry((key.clone(), startup_bucket(ms)))
                    .or_default() += 1;
            }
            if let Some(ms) = r.latency_ms {
                s.latency_count += 1;
                s.latency_ms_sum += i64::from(ms);
            }
            if let Some(code) = &r.failure {
                *self
                    .failures
                    .entry((key.clone(), code.clone()))
                    .or_default() += 1;
            }
            // A page that failed stopped watching; otherwise it is a viewer
            // until it leaves or stops reporting.
            let ended = b.end || r.failure.is_some();
            self.pages.insert(
                (b.page.clone(), key.input),
                PageSeen {
                    video: key.video,
                    kind: r.kind,
                    last_seen: now_s,
                    ended,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use player_core::qoe::{Browser, EngineName, ViewReport};

    fn view(input: &str, video: &str, start: bool) -> ViewReport {
        ViewReport {
            input: input.into(),
            video: Some(video.into()),
            kind: Kind::Live,
            engine: EngineName::Hlsjs,
            start,
            startup_ms: start.then_some(1_234),
            watch_ms: 30_000,
            rebuffers: 1,
            rebuffer_ms: 500,
            up: 1,
            down: 2,
            failure: None,
            failed_at_start: false,
            latency_ms: Some(4_000),
        }
    }

    fn batch(page: &str, end: bool, views: Vec<ViewReport>) -> Batch {
        Batch {
            v: 1,
            page: page.into(),
            browser: Browser::Chrome,
            end,
            views,
        }
    }

    #[test]
    fn sums_per_input_video_and_minute() {
        let mut p = Pending::default();
        p.add(&batch("p1", false, vec![view("a", "v", true)]), 120);
        p.add(&batch("p2", false, vec![view("a", "v", true)]), 179);
        p.add(&batch("p1", false, vec![view("a", "v", false)]), 180);
        let mut failed = view("b", "w", false);
        failed.failure = Some("network".into());
        failed.failed_at_start = true;
        p.add(&batch("p3", false, vec![failed]), 125);
        assert_eq!(p.rows.len(), 3, "{:?}", p.rows.keys());
        let k = |input: &str, video: &str, minute| RowKey {
            input: input.into(),
            video: video.into(),
            kind: Kind::Live,
            minute,
        };
        let m2 = p.rows[&k("a", "v", 2)];
        assert_eq!(
            (m2.views, m2.watch_ms, m2.rebuffers, m2.up, m2.down),
            (2, 60_000, 2, 2, 4)
        );
        assert_eq!(
            (m2.startup_count, m2.startup_ms_sum, m2.latency_count),
            (2, 2_468, 2)
        );
        assert_eq!(p.rows[&k("a", "v", 3)].views, 0);
        assert_eq!(p.startup[&(k("a", "v", 2), 12)], 2);
        assert_eq!(p.failures[&(k("b", "w", 2), "network".to_string())], 1);
        assert_eq!(p.rows[&k("b", "w", 2)].startup_failures, 1);
        assert_eq!(p.pages.len(), 3);
        assert_eq!(p.pages[&("p1".into(), "a".into())].last_seen, 180);
        assert!(
            p.pages[&("p3".into(), "b".into())].ended,
            "failed: not a viewer now"
        );
        p.add(&batch("p1", true, vec![view("a", "v", false)]), 190);
        assert!(p.pages[&("p1".into(), "a".into())].ended);
    }

    #[test]
    fn a_failed_flush_merges_back() {
        let mut older = Pending::default();
        older.add(&batch("p1", false, vec![view("a", "v", true)]), 120);
        older.add(&batch("p2", false, vec![view("a", "v", true)]), 121);
        let mut newer = Pending::default();
        newer.add(&batch("p1", true, vec![view("a", "v", false)]), 130);
        newer.merge(older);
        let mut all = Pending::default();
        all.add(&batch("p1", false, vec![view("a", "v", true)]), 120);
        all.add(&batch("p2", false, vec![view("a", "v", true)]), 121);
        all.add(&batch("p1", true, vec![view("a", "v", false)]), 130);
        assert_eq!(newer.rows, all.rows);
        assert_eq!(newer.startup, all.startup);
        assert_eq!(newer.pages, all.pages, "p1's leaving is not undone");
    }

    #[test]
    fn startup_buckets() {
        let cases = [
            (0, 0, 50),
            (99, 0, 50),
            (850, 8, 850),
            (9_999, 99, 9_950),
            (10_000, 100, 10_500),
            (59_999, 149, 59_500),
            (60_000, 150, 65_000),
            (600_000, 204, 605_000),
        ];
        for (ms, bucket, mid) in cases {
            assert_eq!(startup_bucket(ms), bucket, "{ms}");
            assert_eq!(bucket_mid_ms(bucket), mid, "{ms}");
        }
    }
}
