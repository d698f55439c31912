//! `GET /metrics` in Prometheus' text format (version 0.0.4), so operators
//! put the backend on the dashboards they already have.
//!
//! Counters are per replica, since it started: Prometheus sums replicas
//! (`sum(rate(jlp_views_total[5m]))`). Plain atomics, written by hand: the
//! format is a few lines and a client library would be the heaviest part.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use http_common::error::PublicError;
use player_core::qoe::{Invalid, ViewReport};
use stream_api::Secret;

use crate::cache::CacheStats;
use crate::recordings_api::RecordingsService;

/// `GET /metrics`; with `recordings`, its cache's counters too; with
/// `token`, only for `Authorization: Bearer <token>` (Prometheus'
/// `authorization` / `bearer_token_file` scrape settings).
pub fn router(
    metrics: Arc<Metrics>,
    recordings: Option<Arc<RecordingsService>>,
    token: Option<Secret>,
) -> Router {
    Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let allowed = token.as_ref().is_none_or(|t| {
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .is_some_and(|given| t.matches(given.trim()))
            });
            let text =
                allowed.then(|| metrics.render(recordings.as_ref().map(|r| r.stats().cache)));
            async move {
                let Some(text) = text else {
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Bearer")],
                        Json(PublicError::new(
                            StatusCode::UNAUTHORIZED,
                            "metrics need the metrics token",
                        )),
                    )
                        .into_response();
                };
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        ),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    text,
                )
                    .into_response()
            }
        }),
    )
}

/// Upper bounds (seconds) of `jlp_startup_seconds`' buckets.
pub const STARTUP_BUCKETS: [f64; 12] = [
    0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0,
];

/// Why a beacon was refused: the `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    TooLarge,
    Malformed,
    Invalid(Invalid),
    RateLimited,
}

const REASONS: [&str; 11] = [
    "too_large",
    "malformed",
    "version",
    "page_id",
    "uid",
    "failure_code",
    "views",
    "range",
    "unknown_input",
    "rate_limited",
    "unavailable",
];

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::TooLarge => "too_large",
            Rejection::Malformed => "malformed",
            Rejection::Invalid(i) => i.as_str(),
            Rejection::RateLimited => "rate_limited",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    views: AtomicU64,
    watch_ms: AtomicU64,
    rebuffers: AtomicU64,
    rebuffer_ms: AtomicU64,
    quality_changes: AtomicU64,
    failures: AtomicU64,
    startup_buckets: [AtomicU64; STARTUP_BUCKETS.len()],
    startup_count: AtomicU64,
    startup_ms_sum: AtomicU64,
    accepted: AtomicU64,
    rejected: [AtomicU64; REASONS.len()],
    /// Flushes to the database that failed.
    store_failures: AtomicU64,
    flushes: AtomicU64,
    flushed_entries: AtomicU64,
    flush_ms_sum: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// Counts one accepted beacon's views.
    pub fn accepted(&self, views: &[ViewReport]) {
        add(&self.accepted, 1);
        for r in views {
            add(&self.views, u64::from(r.start));
            add(&self.watch_ms, u64::from(r.watch_ms));
            add(&self.rebuffers, u64::from(r.rebuffers));
            add(&self.rebuffer_ms, u64::from(r.rebuffer_ms));
            add(&self.quality_changes, u64::from(r.up) + u64::from(r.down));
            add(&self.failures, u64::from(r.failure.is_some()));
            if let Some(ms) = r.startup_ms {
                let s = f64::from(ms) / 1000.0;
                if let Some(i) = STARTUP_BUCKETS.iter().position(|&b| s <= b) {
                    add(&self.startup_buckets[i], 1);
                }
                add(&self.startup_count, 1);
                add(&self.startup_ms_sum, u64::from(ms));
            }
        }
    }

    pub fn rejected(&self, why: Rejection) {
        self.rejected_reason(why.reason());
    }

    /// Counts a refusal under one of the known reasons.
    pub fn rejected_reason(&self, reason: &str) {
        if let Some(i) = REASONS.iter().position(|r| *r == reason) {
            add(&self.rejected[i], 1);
        }
    }

    /// A flush of `entries` rows took `took`.
    pub fn flushed(&self, entries: usize, took: std::time::Duration) {
        add(&self.flushes, 1);
        add(
            &self.flushed_entries,
            u64::try_from(entries).unwrap_or(u64::MAX),
        );
        add(
            &self.flush_ms_sum,
            u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        );
    }

    pub fn store_failed(&self) {
        add(&self.store_failures, 1);
    }

    pub fn accepted_total(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn rejected_total(&self, reason: &str) -> u64 {
        REASONS
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.rejected[i].load(Ordering::Relaxed))
    }

    /// The exposition text; `cache` adds the recordings cache's counters.
    pub fn render(&self, cache: Option<CacheStats>) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut o = String::with_capacity(4096);
        let mut counter = |name: &str, help: &str, value: String| {
            let _ = write!(
                o,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        };
        counter(
            "jlp_views_total",
            "Views started (first frame shown).",
            get(&self.views).to_string(),
        );
        counter(
            "jlp_watch_seconds_total",
            "Time viewed: playing or rebuffering while visible, after the first frame.",
            seconds(get(&self.watch_ms)),
        );
        counter(
            "jlp_rebuffer_events_total",
            "Stalls after the first frame.",
            get(&self.rebuffers).to_string(),
        );
        counter(
            "jlp_rebuffer_seconds_total",
            "Time spent rebuffering.",
            seconds(get(&self.rebuffer_ms)),
        );
        counter(
            "jlp_quality_changes_total",
            "Rendition switches up or down.",
            get(&self.quality_changes).to_string(),
        );
        counter(
            "jlp_playback_failures_total",
            "Fatal playback failures.",
            get(&self.failures).to_string(),
        );
        counter(
            "jlp_beacons_accepted_total",
            "Viewing beacons accepted.",
            get(&self.accepted).to_string(),
        );
        counter(
            "jlp_qoe_store_failures_total",
            "Flushes of viewing figures to the database that failed.",
            get(&self.store_failures).to_string(),
        );
        counter(
            "jlp_qoe_flushes_total",
            "Flushes of viewing figures to the database.",
            get(&self.flushes).to_string(),
        );
        counter(
            "jlp_qoe_flushed_entries_total",
            "Rows written by those flushes (before the database merges them).",
            get(&self.flushed_entries).to_string(),
        );
        counter(
            "jlp_qoe_flush_seconds_total",
            "Time spent writing those flushes.",
            seconds(get(&self.flush_ms_sum)),
        );
        let _ = write!(
            o,
            "# HELP jlp_beacons_rejected_total Viewing beacons refused, by reason.\n# TYPE jlp_beacons_rejected_total counter\n"
        );
        for (reason, c) in REASONS.iter().zip(&self.rejected) {
            let _ = writeln!(
                o,
                "jlp_beacons_rejected_total{{reason=\"{reason}\"}} {}",
                get(c)
            );
        }
        let _ = write!(
            o,
            "# HELP jlp_startup_seconds Video startup time: page open (or live) to first frame.\n# TYPE jlp_startup_seconds histogram\n"
        );
        let mut cumulative = 0;
        for (bound, c) in STARTUP_BUCKETS.iter().zip(&self.startup_buckets) {
            cumulative += get(c);
            let _ = writeln!(
                o,
                "jlp_startup_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = get(&self.startup_count);
        let _ = writeln!(o, "jlp_startup_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            o,
            "jlp_startup_seconds_sum {}",
            seconds(get(&self.startup_ms_sum))
        );
        let _ = writeln!(o, "jlp_startup_seconds_count {count}");
        if let Some(c) = cache {
            let mut counter = |name: &str, help: &str, value: u64| {
                let _ = write!(
                    o,
                    "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
                );
            };
            counter(
                "jlp_recordings_requests_total",
                "Recordings lists answered by the cache.",
                c.requests,
            );
            counter(
                "jlp_recordings_stale_total",
                "Recordings lists served past their TTL.",
                c.stale,
            );
            counter(
                "jlp_recordings_unavailable_total",
                "Recordings lists answered 502/503.",
                c.unavailable,
            );
            counter(
                "jlp_recordings_upstream_calls_total",
                "Account API calls the recordings cache made.",
                c.upstream_calls,
            );
            counter(
                "jlp_recordings_upstream_failures_total",
                "Account API calls that failed.",
                c.upstream_failures,
            );
            let _ = write!(
                o,
                "# HELP jlp_recordings_cached_inputs Inputs whose recordings list is held.\n# TYPE jlp_recordings_cached_inputs gauge\njlp_recordings_cached_inputs {}\n",
                c.inputs
            );
        }
        o
    }
}

/// Milliseconds as seconds, exactly (no float rounding of large totals).
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use player_core::qoe::{EngineName, Kind};

    fn report(start: bool, startup_ms: Option<u32>) -> ViewReport {
        ViewReport {
            input: "in".into(),
            video: None,
            kind: Kind::Live,
            engine: EngineName::Native,
            start,
            startup_ms,
            watch_ms: 1_500,
            rebuffers: 1,
            rebuffer_ms: 250,
            up: 2,
            down: 1,
            failure: Some("network".into()),
            failed_at_start: false,
            latency_ms: None,
        }
    }

    /// The value of one exposition line.
    fn value(text: &str, series: &str) -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .to_string()
    }

    #[test]
    fn counts_and_renders() {
        let m = Metrics::default();
        m.accepted(&[report(true, Some(800)), report(false, None)]);
        m.accepted(&[report(true, Some(40_000))]);
        m.rejected(Rejection::Invalid(Invalid::Range));
        m.rejected(Rejection::RateLimited);
        m.rejected(Rejection::RateLimited);
        let t = m.render(None);
        let cases = [
            ("jlp_views_total", "2"),
            ("jlp_watch_seconds_total", "4.500"),
            ("jlp_rebuffer_events_total", "3"),
            ("jlp_rebuffer_seconds_total", "0.750"),
            ("jlp_quality_changes_total", "9"),
            ("jlp_playback_failures_total", "3"),
            ("jlp_beacons_accepted_total", "2"),
            ("jlp_beacons_rejected_total{reason=\"range\"}", "1"),
            ("jlp_beacons_rejected_total{reason=\"rate_limited\"}", "2"),
            ("jlp_beacons_rejected_total{reason=\"too_large\"}", "0"),
            ("jlp_startup_seconds_bucket{le=\"0.75\"}", "0"),
            ("jlp_startup_seconds_bucket{le=\"1\"}", "1"),
            ("jlp_startup_seconds_bucket{le=\"30\"}", "1"),
            ("jlp_startup_seconds_bucket{le=\"+Inf\"}", "2"),
            ("jlp_startup_seconds_sum", "40.800"),
            ("jlp_startup_seconds_count", "2"),
        ];
        for (series, want) in cases {
            assert_eq!(value(&t, series), want, "{series}");
        }
        assert!(!t.contains("jlp_recordings_"), "no cache, no cache lines");
        let t = m.render(Some(CacheStats {
            requests: 7,
            ..CacheStats::default()
        }));
        assert_eq!(value(&t, "jlp_recordings_requests_total"), "7");
        // Every sample line belongs to a declared family.
        for l in t.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(t.contains(&format!("# TYPE {family} ")), "{l}");
        }
    }

    #[tokio::test]
    async fn token_guards_the_metrics_when_set() {
        let m = Arc::new(Metrics::default());
        let app = router(m, None, Some(Secret::new("scrape-me")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::new();
        let cases = [
            (None, 401),
            (Some("Bearer nope"), 401),
            (Some("scrape-me"), 401),
            (Some("Bearer scrape-me"), 200),
        ];
        for (auth, want) in cases {
            let mut req = http.get(&url);
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status().as_u16(), want, "{auth:?}");
            let text = r.text().await.unwrap();
            assert_eq!(text.contains("jlp_views_total"), want == 200, "{auth:?}");
            assert!(!text.contains("scrape-me"));
        }
        server.abort();
    }
}
