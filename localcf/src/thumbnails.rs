//! Thumbnails without letting one client spend the machine: every request's
//! `time` and `height` are rounded to a few values, results are kept in a
//! small LRU cache (several per video), identical requests share one ffmpeg
//! (single flight), at most `jobs` ffmpegs run and `queue` more wait, beyond
//! that the answer is 503 with `Retry-After` at once, and every ffmpeg is
//! killed after `timeout`.
//!
//! Before (issue 15, item 9): each distinct `time`/`height` ran its own
//! ffmpeg (~0.8 CPU-s at `height=2160`), only the last thumbnail per video
//! was cached, and waiting requests were unbounded (300 kept both cores busy
//! for 15.8 s).

use std::collections::HashMap;
use std::future::Future;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use player_core::cloudflare::ErrorBody;
use tokio::sync::{watch, Semaphore};

use crate::ffmpeg;

/// Heights a thumbnail is made at; a requested height goes to the nearest.
/// 1080 is the top: a bigger JPEG costs more ffmpeg time than any player
/// poster needs.
pub const HEIGHT_STEPS: [u32; 7] = [90, 180, 270, 360, 540, 720, 1080];
/// Longer parameter text is ignored (as garbage is) before any parsing.
const MAX_PARAM_LEN: usize = 32;
/// What a 503 asks the client to wait, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

/// `height` rounded to the nearest of [`HEIGHT_STEPS`] (ties go up); None
/// (the frame's own size) for garbage or 0.
pub fn round_height(s: &str) -> Option<u32> {
    if s.len() > MAX_PARAM_LEN {
        return None;
    }
    let h: u32 = s.trim().parse().ok().filter(|h| *h > 0)?;
    HEIGHT_STEPS
        .into_iter()
        .min_by_key(|step| (step.abs_diff(h), std::cmp::Reverse(*step)))
}

/// `time` (`1.5s`, `2m`, `1h`, plain seconds) rounded to whole seconds and
/// clamped to `0..=duration` (the broadcast's seconds so far); None (the
/// newest frame) for garbage.
pub fn round_time(s: &str, duration: f64) -> Option<u32> {
    if s.len() > MAX_PARAM_LEN {
        return None;
    }
    let t = ffmpeg::parse_time(s)?;
    let max = if duration.is_finite() && duration > 0.0 {
        duration.floor().min(f64::from(u32::MAX))
    } else {
        0.0
    };
    // parse_time gives a finite t >= 0 (or +inf for huge input, clamped here).
    Some(t.round().min(max) as u32)
}

/// What a thumbnail shows: the identity of a cache entry and of a job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub video_uid: String,
    /// The segment the frame comes from.
    pub segment: String,
    /// Offset into the segment, milliseconds.
    pub seek_ms: u32,
    pub height: Option<u32>,
}

/// Tunables (flags `--thumbnail-jobs` and `--thumbnail-queue`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// ffmpegs at once.
    pub jobs: usize,
    /// Jobs that may wait for one of those; more get 503.
    pub queue: usize,
    /// An ffmpeg running longer is killed; also the longest queue wait.
    pub timeout: Duration,
    pub cache_entries: usize,
    pub cache_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            jobs: 2,
            queue: 4,
            timeout: Duration::from_secs(10),
            cache_entries: 64,
            cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Why there is no thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThumbError {
    /// Every job slot and queue place is taken: 503 + Retry-After.
    Busy,
    /// ffmpeg failed or timed out: 500 (details in the log).
    Failed,
}

impl IntoResponse for ThumbError {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            ThumbError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many thumbnails being made; retry shortly",
            ),
            ThumbError::Failed => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the thumbnail could not be made",
            ),
        };
        let mut r = (
            status,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Json(ErrorBody { error: text.into() }),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        r
    }
}

/// A small LRU cache bounded by entry count and bytes.
struct Cache {
    entries: HashMap<Key, (Bytes, u64)>,
    bytes: usize,
    tick: u64,
    max_entries: usize,
    max_bytes: usize,
}

impl Cache {
    fn get(&mut self, key: &Key) -> Option<Bytes> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(jpeg, used)| {
            *used = tick;
            jpeg.clone()
        })
    }

    fn insert(&mut self, key: Key, jpeg: Bytes) {
        if jpeg.len() > self.max_bytes || self.max_entries == 0 {
            return;
        }
        self.tick += 1;
        if let Some((old, _)) = self.entries.insert(key, (jpeg.clone(), self.tick)) {
            self.bytes -= old.len();
        }
        self.bytes += jpeg.len();
        // O(entries) per eviction: entries are few (64 by default).
        while self.entries.len() > self.max_entries || self.bytes > self.max_bytes {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((old, _)) = self.entries.remove(&oldest) {
                self.bytes -= old.len();
            }
        }
    }
}

/// The outcome every waiter of a job sees.
type Outcome = Option<Result<Bytes, ThumbError>>;

pub struct Thumbnails {
    limits: Limits,
    /// ffmpegs running.
    jobs: Arc<Semaphore>,
    /// Jobs running or queued.
    admission: Arc<Semaphore>,
    cache: Mutex<Cache>,
    inflight: Mutex<HashMap<Key, watch::Receiver<Outcome>>>,
}

impl Thumbnails {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            jobs: Arc::new(Semaphore::new(limits.jobs)),
            admission: Arc::new(Semaphore::new(limits.jobs + limits.queue)),
            cache: Mutex::new(Cache {
                entries: HashMap::new(),
                bytes: 0,
                tick: 0,
                max_entries: limits.cache_entries,
                max_bytes: limits.cache_bytes,
            }),
            inflight: Mutex::new(HashMap::new()),
        })
    }

    /// The thumbnail for `key`: from the cache, from a job already making
    /// it, or from a new job `make()` (an ffmpeg run, killed when dropped).
    /// The job runs on its own task, so waiters are served even when the
    /// request that started it goes away.
    pub async fn get<F, Fut>(self: &Arc<Self>, key: Key, make: F) -> Result<Bytes, ThumbError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, String>> + Send + 'static,
    {
        if let Some(jpeg) = self.lock_cache().get(&key) {
            return Ok(jpeg);
        }
        let mut rx = {
            let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            match inflight.get(&key) {
                Some(rx) => rx.clone(),
                None => {
                    let admitted = Arc::clone(&self.admission)
                        .try_acquire_owned()
                        .map_err(|_| ThumbError::Busy)?;
                    let (tx, rx) = watch::channel(None);
                    inflight.insert(key.clone(), rx.clone());
                    let this = Arc::clone(self);
                    let job = make();
                    tokio::spawn(async move {
                        let outcome = this.run(job).await;
                        if let Ok(jpeg) = &outcome {
                            this.lock_cache().insert(key.clone(), jpeg.clone());
                        }
                        this.inflight
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&key);
                        drop(admitted);
                        let _ = tx.send(Some(outcome));
                    });
                    rx
                }
            }
        };
        // The job ends within 2 × timeout (queue wait, then the run); the
        // sender is never dropped before sending, but be safe.
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or(Err(ThumbError::Failed))
    }

    async fn run<Fut>(&self, job: Fut) -> Result<Bytes, ThumbError>
    where
        Fut: Future<Output = Result<Bytes, String>>,
    {
        let permit =
            tokio::time::timeout(self.limits.timeout, Arc::clone(&self.jobs).acquire_owned()).await;
        let Ok(Ok(_permit)) = permit else {
            tracing::warn!("thumbnail: waited too long for a job slot");
            return Err(ThumbError::Busy);
        };
        match tokio::time::timeout(self.limits.timeout, job).await {
            Ok(Ok(jpeg)) => Ok(jpeg),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "thumbnail failed");
                Err(ThumbError::Failed)
            }
            Err(_) => {
                // Dropping the job kills its ffmpeg (kill_on_drop).
                tracing::warn!(timeout = ?self.limits.timeout, "thumbnail: ffmpeg timed out, killed");
                Err(ThumbError::Failed)
            }
        }
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One JPEG frame of `segment` at `seek` seconds, `height` lines high: an
/// ffmpeg that is killed when this future is dropped (the job timeout).
/// ffmpeg's stderr goes to the log, not to the client.
pub async fn grab_frame(
    ffmpeg_program: String,
    segment: String,
    seek: f64,
    height: Option<u32>,
) -> Result<Bytes, String> {
    let out = tokio::process::Command::new(&ffmpeg_program)
        .args(ffmpeg::thumbnail_args(&segment, seek, height))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if !out.status.success() || !out.stdout.starts_with(&[0xFF, 0xD8]) {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("ffmpeg failed ({}): {}", out.status, err.trim()));
    }
    Ok(Bytes::from(out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn heights_round_to_steps() {
        let cases = [
            ("90", Some(90)),
            ("1", Some(90)),
            ("135", Some(180)), // tie between 90 and 180 goes up
            ("134", Some(90)),
            ("300", Some(270)),
            ("480", Some(540)),
            ("2160", Some(1080)),
            ("4294967295", Some(1080)),
            (" 360 ", Some(360)),
            ("0", None),
            ("-3", None),
            ("4294967296", None),
            ("banana", None),
            ("", None),
            ("00000000000000000000000000000000090", None), // too long
        ];
        for (s, want) in cases {
            assert_eq!(round_height(s), want, "{s}");
        }
    }

    #[test]
    fn times_round_and_clamp() {
        let cases = [
            ("0", 30.0, Some(0)),
            ("1.4s", 30.0, Some(1)),
            ("1.5s", 30.0, Some(2)),
            ("2m", 300.0, Some(120)),
            ("2m", 30.0, Some(30)),
            ("1h", 12.7, Some(12)),
            ("1e300h", 30.0, Some(30)),
            ("5", 0.0, Some(0)),
            ("5", f64::NAN, Some(0)),
            ("-1s", 30.0, None),
            ("banana", 30.0, None),
            ("NaN", 30.0, None),
            ("inf", 30.0, None),
        ];
        for (s, d, want) in cases {
            assert_eq!(round_time(s, d), want, "{s} in {d}");
        }
    }

    proptest! {
        #[test]
        fn parameters_stay_within_bounds(s in ".{0,40}", d in any::<f64>()) {
            if let Some(h) = round_height(&s) {
                prop_assert!(HEIGHT_STEPS.contains(&h));
            }
            if let Some(t) = round_time(&s, d) {
                let max = if d.is_finite() && d > 0.0 { d.floor() } else { 0.0 };
                prop_assert!(f64::from(t) <= max);
            }
        }

        #[test]
        fn numeric_parameters_stay_within_bounds(n in any::<u64>(), frac in 0u32..1000, d in 0.0f64..1e7) {
            let s = format!("{n}.{frac:03}s");
            if let Some(t) = round_time(&s, d) {
                prop_assert!(f64::from(t) <= d.floor());
            }
            if let Some(h) = round_height(&n.to_string()) {
                prop_assert!(HEIGHT_STEPS.contains(&h));
            }
        }
    }

    fn key(n: u32) -> Key {
        Key {
            video_uid: "v".into(),
            segment: format!("s{n}.ts"),
            seek_ms: 0,
            height: None,
        }
    }

    #[test]
    fn cache_keeps_several_per_video_and_evicts_the_least_recent() {
        let mut c = Cache {
            entries: HashMap::new(),
            bytes: 0,
            tick: 0,
            max_entries: 3,
            max_bytes: 100,
        };
        for n in 0..3 {
            c.insert(key(n), Bytes::from(vec![0; 10]));
        }
        assert!(c.get(&key(0)).is_some()); // 0 is now the most recent
        c.insert(key(3), Bytes::from(vec![0; 10]));
        assert!(c.get(&key(1)).is_none(), "least recently used goes first");
        assert!(c.get(&key(0)).is_some() && c.get(&key(2)).is_some());
        // Bytes bound: a 90-byte entry pushes out older ones.
        c.insert(key(4), Bytes::from(vec![0; 90]));
        assert!(c.bytes <= 100, "{}", c.bytes);
        assert!(c.get(&key(4)).is_some());
        // Bigger than the whole cache: not kept.
        c.insert(key(5), Bytes::from(vec![0; 101]));
        assert!(c.get(&key(5)).is_none());
    }

    #[tokio::test]
    async fn single_flight_cap_and_busy() {
        let t = Thumbnails::new(Limits {
            jobs: 1,
            queue: 1,
            timeout: Duration::from_secs(5),
            cache_entries: 8,
            cache_bytes: 1 << 20,
        });
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, gate) = watch::channel(false);
        let job = |n: u8| {
            let runs = Arc::clone(&runs);
            let mut gate = gate.clone();
            move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let _ = gate.wait_for(|open| *open).await;
                Ok(Bytes::from(vec![n]))
            }
        };
        // Ten requests for key 1 share one job; key 2 queues; key 3 is refused.
        let mut same = Vec::new();
        for _ in 0..10 {
            let t = Arc::clone(&t);
            let j = job(1);
            same.push(tokio::spawn(async move { t.get(key(1), j).await }));
        }
        tokio::task::yield_now().await;
        let t2 = Arc::clone(&t);
        let j2 = job(2);
        let queued = tokio::spawn(async move { t2.get(key(2), j2).await });
        tokio::task::yield_now().await;
        assert_eq!(t.get(key(3), job(3)).await, Err(ThumbError::Busy));
        release.send(true).unwrap();
        for h in same {
            assert_eq!(h.await.unwrap(), Ok(Bytes::from(vec![1])));
        }
        assert_eq!(queued.await.unwrap(), Ok(Bytes::from(vec![2])));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        // Cached now: no new run.
        assert_eq!(t.get(key(1), job(9)).await, Ok(Bytes::from(vec![1])));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_job_past_its_timeout_is_dropped_and_reported() {
        let t = Thumbnails::new(Limits {
            timeout: Duration::from_millis(100),
            ..Limits::default()
        });
        let dropped = Arc::new(AtomicUsize::new(0));
        struct OnDrop(Arc<AtomicUsize>);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let d = Arc::clone(&dropped);
        let started = std::time::Instant::now();
        let r = t
            .get(key(1), move || async move {
                let _guard = OnDrop(d);
                std::future::pending::<()>().await;
                Ok(Bytes::new())
            })
            .await;
        assert_eq!(r, Err(ThumbError::Failed));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the job (its ffmpeg) is dropped"
        );
        // Not cached, not in flight: the next request tries again.
        assert!(t.inflight.lock().unwrap().is_empty());
    }
}
