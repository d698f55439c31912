//! Viewing figures end to end over loopback HTTP: beacons made by the
//! player's own session logic (`player_core::qoe`) are posted, aggregated,
//! flushed and read back, on SQLite (a temporary directory) and, when
//! `DATABASE_URL` names one (scripts/pg-test.sh starts it), on PostgreSQL.
//! Bad input and floods are refused and store nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use backend::account_client::AccountError;
use backend::cache::{CacheSettings, RecordingsCache, Upstream};
use backend::metrics::{self, Metrics};
use backend::qoe::api::{self, MayRead};
use backend::qoe::query::{self, InputQoe};
use backend::qoe::store::{sqlite_url, Store};
use backend::qoe::{unix_now, CacheInputs, InputCheck, QoeService, Settings};
use backend::recordings::Rewrite;
use player_core::qoe::{Batch, Browser, EngineName, Ev, Kind, Session, Trigger};
use stream_api::account::Video;

/// The deployment's moderator check stands here: the header names the one
/// input the caller moderates.
struct ModeratorOf(String);

impl<S: Send + Sync> FromRequestParts<S> for ModeratorOf {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        parts
            .headers
            .get("x-test-moderator-of")
            .and_then(|v| v.to_str().ok())
            .map(|v| ModeratorOf(v.to_string()))
            .ok_or(StatusCode::UNAUTHORIZED)
    }
}

impl MayRead for ModeratorOf {
    fn may_read(&self, input: &str) -> bool {
        self.0 == input
    }
}

struct Harness {
    base: String,
    svc: Arc<QoeService>,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Debug, Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

/// The databases to run on: SQLite always, PostgreSQL when given.
fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::Sqlite];
    if std::env::var("DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        dbs.push(Db::Postgres);
    } else {
        eprintln!("DATABASE_URL unset: PostgreSQL not tested here (scripts/pg-test.sh runs it)");
    }
    dbs
}

async fn open(db: Db) -> (Store, Option<tempfile::TempDir>) {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (
                Store::open(&sqlite_url(dir.path())).await.unwrap(),
                Some(dir),
            )
        }
        Db::Postgres => (
            Store::open(&std::env::var("DATABASE_URL").unwrap())
                .await
                .unwrap(),
            None,
        ),
    }
}

async fn serve(store: Store, dir: Option<tempfile::TempDir>, settings: Settings) -> Harness {
    serve_checking(store, dir, settings, None).await
}

async fn serve_checking(
    store: Store,
    dir: Option<tempfile::TempDir>,
    settings: Settings,
    inputs: Option<Arc<dyn InputCheck>>,
) -> Harness {
    let metrics = Arc::new(Metrics::default());
    let svc = QoeService::new(store, Arc::clone(&metrics), settings, inputs);
    let app = api::router(Arc::clone(&svc))
        .merge(metrics::router(Arc::clone(&metrics), None, None))
        .merge(api::read_router::<(), ModeratorOf>(Arc::clone(&svc)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Harness {
        base: format!("http://{addr}"),
        svc,
        metrics,
        http: reqwest::Client::new(),
        _dir: dir,
        server,
    }
}

async fn start(db: Db, settings: Settings) -> Harness {
    let (store, dir) = open(db).await;
    serve(store, dir, settings).await
}

/// An input uid no other test (or earlier run on the same database) uses.
fn fresh_input(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos:x}")
}

fn page_id(n: u64) -> String {
    format!("{:016x}", 0xabc0_0000_0000_0000u64 + n)
}

impl Harness {
    async fn post(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(format!("{}/api/qoe", self.base))
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn send(&self, b: &Batch) {
        let r = self.post(b.to_json()).await;
        assert_eq!(r.status(), 204, "{:?}", r.text().await);
    }

    /// Posts `n` bytes in chunks without a Content-Length; the status.
    async fn chunked_post(&self, n: usize) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!("POST /api/qoe HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        for _ in 0..n / 1_000 {
            // The server may stop reading once over the limit.
            let chunk = format!("3e8\r\n{}\r\n", " ".repeat(1_000));
            if s.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer);
        text.split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    async fn figures(&self, input: &str) -> InputQoe {
        self.svc.flush().await.unwrap();
        query::input_qoe(&self.svc.store, input, unix_now())
            .await
            .unwrap()
    }

    async fn metric(&self, series: &str) -> String {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {series}"))
            .to_string()
    }
}

/// One viewer's page, driven by the player's own session logic, until
/// `end_at`, where it leaves or (`end_at` odd) keeps watching; returns
/// every batch it would have sent.
fn watch(page: u64, input: &str, script: &[(u64, Ev)], end_at: u64) -> Vec<Batch> {
    let leaves = end_at.is_multiple_of(2);
    let mut s = Session::new(page_id(page), Browser::Chrome, 0);
    let mut out = Vec::new();
    let mut t = 0;
    let mut i = 0;
    // Ticks every second, as the browser's timer would.
    while t <= end_at {
        while i < script.len() && script[i].0 <= t {
            let mut ev = script[i].1.clone();
            if let Ev::Source { input: inp, .. } = &mut ev {
                *inp = input.to_string();
            }
            s.on(ev, script[i].0);
            i += 1;
        }
        out.extend(s.flush(Trigger::Tick, t));
        t += 1_000;
    }
    if leaves {
        out.extend(s.flush(Trigger::PageHide, end_at));
    }
    out
}

fn live_source() -> Ev {
    Ev::Source {
        input: String::new(),
        video: Some("broadcast1".into()),
        kind: Kind::Live,
        engine: EngineName::Hlsjs,
    }
}

#[tokio::test]
async fn figures_match_what_the_viewers_did() {
    for db in databases() {
        let h = start(db, Settings::default()).await;
        let input = fresh_input("fig");
        // A: 90 s of live with one 2 s stall and an ABR switch up; B: 30 s
        // then leaves; C: fails before its first frame; D: a recording.
        let a = watch(
            1,
            &input,
            &[
                (0, live_source()),
                (100, Ev::Quality(360)),
                (800, Ev::FirstFrame),
                (10_000, Ev::Quality(720)),
                (20_000, Ev::Stalled),
                (22_000, Ev::Playing),
                (25_000, Ev::Latency(4_000)),
            ],
            // Odd: still watching when the figures are read.
            91_001,
        );
        let b = watch(
            2,
            &input,
            &[(0, live_source()), (1_200, Ev::FirstFrame)],
            31_200,
        );
        let c = watch(
            3,
            &input,
            &[(0, live_source()), (5_000, Ev::Failed("network"))],
            6_000,
        );
        let d = watch(
            4,
            &input,
            &[
                (
                    0,
                    Ev::Source {
                        input: String::new(),
                        video: Some("rec1".into()),
                        kind: Kind::Recording,
                        engine: EngineName::Native,
                    },
                ),
                (400, Ev::FirstFrame),
            ],
            60_400,
        );
        assert!(a.iter().all(|b| !b.end));
        for batch in a.iter().chain(&b).chain(&c).chain(&d) {
            h.send(batch).await;
        }
        let f = h.figures(&input).await;
        assert_eq!(
            f.viewers_now, 1,
            "{db:?}: A watches, B and D left, C failed"
        );
        assert_eq!(f.broadcasts.len(), 1, "{db:?}");
        let live = &f.broadcasts[0];
        assert_eq!(live.video_uid, "broadcast1");
        assert_eq!(live.views, 2, "{db:?}: A and B; C never had a first frame");
        let watched_s = live.minutes_viewed * 60.0;
        assert!((watched_s - 120.0).abs() <= 12.0, "{db:?}: {watched_s} s");
        assert_eq!((live.failures, live.startup_failures), (1, 1));
        assert_eq!(live.failure_percent, 33.33, "1 failed of 3 attempts");
        assert_eq!(live.failures_by_code.get("network"), Some(&1));
        assert_eq!((live.quality_up, live.quality_down), (1, 0));
        assert!(
            live.rebuffer_percent > 1.0 && live.rebuffer_percent < 2.5,
            "{live:?}"
        );
        assert_eq!(live.startup_median_ms, Some(850), "{live:?}");
        assert_eq!(live.startup_p90_ms, Some(1_250), "{live:?}");
        assert_eq!(live.latency_avg_ms, Some(4_000));
        assert!(!f.series.is_empty());
        assert_eq!(f.recordings.len(), 1);
        assert_eq!(
            (f.recordings[0].video_uid.as_str(), f.recordings[0].views),
            ("rec1", 1)
        );
        assert_eq!(f.recordings[0].startup_median_ms, Some(450));
        assert_eq!(h.metric("jlp_views_total").await, "3");
        assert_eq!(h.metric("jlp_rebuffer_events_total").await, "1");
        assert_eq!(h.metric("jlp_playback_failures_total").await, "1");
        assert_eq!(h.metric("jlp_startup_seconds_count").await, "3");
    }
}

fn good_body(input: &str) -> String {
    format!(
        r#"{{"v":1,"page":"0123456789abcdef","browser":"chrome","views":[{{"input":"{input}","video":"v1","kind":"live","engine":"hlsjs","start":true,"startup_ms":900,"watch_ms":30000}}]}}"#
    )
}

#[tokio::test]
async fn bad_beacons_are_refused_and_store_nothing() {
    for db in databases() {
        let h = start(db, Settings::default()).await;
        let input = fresh_input("bad");
        let good = good_body(&input);
        let big = format!(
            r#"{{"v":1,"page":"0123456789abcdef","browser":"chrome","views":[],"pad":"{}"}}"#,
            "x".repeat(9_000)
        );
        // (name, body, status, reason label)
        let cases: Vec<(&str, String, u16, &str)> = vec![
            ("oversized", big, 413, "too_large"),
            ("empty", String::new(), 400, "malformed"),
            ("not JSON", "{\"v\":1,".into(), 400, "malformed"),
            ("an array", "[1,2]".into(), 400, "malformed"),
            (
                "unknown field",
                good.replace("\"v\":1", "\"v\":1,\"ip\":\"1.2.3.4\""),
                400,
                "malformed",
            ),
            (
                "string for a number",
                good.replace("30000", "\"30000\""),
                400,
                "malformed",
            ),
            ("negative", good.replace("30000", "-5"), 400, "malformed"),
            ("fraction", good.replace("30000", "1.5"), 400, "malformed"),
            (
                "beyond u32",
                good.replace("30000", "99999999999"),
                400,
                "malformed",
            ),
            (
                "absurd watch time",
                good.replace("30000", "3000000"),
                400,
                "range",
            ),
            (
                "absurd start-up",
                good.replace("900", "86400000"),
                400,
                "range",
            ),
            (
                "unknown kind",
                good.replace("\"live\"", "\"vod\""),
                400,
                "malformed",
            ),
            (
                "version 2",
                good.replace("\"v\":1", "\"v\":2"),
                400,
                "version",
            ),
            (
                "page id not hex",
                good.replace("0123456789abcdef", "not-a-page-id!!!"),
                400,
                "page_id",
            ),
            (
                "input with a slash",
                good.replace(&input, "a/b"),
                400,
                "uid",
            ),
            (
                "unknown failure code",
                good.replace("\"start\":true", "\"start\":true,\"failure\":\"boom\""),
                400,
                "failure_code",
            ),
            (
                "no views",
                good.replace(
                    &good[good.find("[").unwrap()..good.rfind("]").unwrap() + 1],
                    "[]",
                ),
                400,
                "views",
            ),
        ];
        for (name, body, status, reason) in &cases {
            let before = h.metrics.rejected_total(reason);
            let r = h.post(body.clone()).await;
            assert_eq!(r.status().as_u16(), *status, "{db:?} {name}");
            assert_eq!(r.headers()["content-type"], "application/json", "{name}");
            let err: serde_json::Value = r.json().await.unwrap();
            assert!(
                err["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{name}"
            );
            assert_eq!(
                h.metrics.rejected_total(reason),
                before + 1,
                "{db:?} {name}"
            );
        }
        // An oversized body that does not say its length is cut off too.
        assert_eq!(h.chunked_post(12_000).await, 413, "{db:?} chunked");
        let f = h.figures(&input).await;
        assert_eq!(
            f,
            InputQoe {
                input_uid: input.clone(),
                ..InputQoe::default()
            },
            "{db:?}: nothing stored"
        );
        assert_eq!(h.metrics.accepted_total(), 0);
        // The same service still takes a good one.
        h.send(&serde_json::from_str(&good).unwrap()).await;
        assert_eq!(h.figures(&input).await.broadcasts[0].views, 1, "{db:?}");
    }
}

#[tokio::test]
async fn a_flood_from_one_client_is_limited_and_others_still_get_through() {
    for db in databases() {
        let settings = Settings {
            rate_per_minute: 60,
            rate_burst: 10,
            client_ip_header: Some("x-forwarded-for".parse().unwrap()),
            ..Settings::default()
        };
        let h = start(db, settings).await;
        let input = fresh_input("flood");
        let body = good_body(&input);
        let sends = (0..300).map(|_| {
            let (http, url, body) = (h.http.clone(), format!("{}/api/qoe", h.base), body.clone());
            async move {
                let r = http
                    .post(url)
                    .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.headers().get("retry-after").cloned())
            }
        });
        let began = Instant::now();
        let answers = join_all(sends).await;
        // The bucket refills one a second while the flood runs.
        let refilled = began.elapsed().as_secs() as usize + 1;
        let ok = answers.iter().filter(|(s, _)| *s == 204).count();
        let limited: Vec<_> = answers.iter().filter(|(s, _)| *s == 429).collect();
        assert!((10..=10 + refilled).contains(&ok), "{db:?}: {ok} accepted");
        assert_eq!(ok + limited.len(), 300, "{db:?}");
        assert!(limited.iter().all(|(_, ra)| ra
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| (1..=60).contains(&s))));
        // Another client is served at once.
        let t = Instant::now();
        let r = h
            .http
            .post(format!("{}/api/qoe", h.base))
            .header("x-forwarded-for", "198.51.100.7")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        let f = h.figures(&input).await;
        assert_eq!(
            f.broadcasts[0].views as usize,
            ok + 1,
            "{db:?}: refused ones stored nothing"
        );
        assert_eq!(
            h.metric("jlp_beacons_rejected_total{reason=\"rate_limited\"}")
                .await,
            (300 - ok).to_string()
        );
    }
}

async fn join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn reading_needs_the_moderator_of_that_input() {
    for db in databases() {
        let h = start(db, Settings::default()).await;
        let input = fresh_input("read");
        h.send(&serde_json::from_str(&good_body(&input)).unwrap())
            .await;
        h.svc.flush().await.unwrap();
        let url = format!("{}/api/inputs/{input}/qoe", h.base);
        let r = h.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 401, "{db:?}: no credentials");
        let r = h
            .http
            .get(&url)
            .header("x-test-moderator-of", "other")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{db:?}: another input's moderator");
        let r = h
            .http
            .get(&url)
            .header("x-test-moderator-of", &input)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["inputUid"], input.as_str());
        assert_eq!(v["viewersNow"], 1);
        assert_eq!(v["broadcasts"][0]["views"], 1);
        assert_eq!(v["broadcasts"][0]["startupMedianMs"], 950);
        let bad = format!("{}/api/inputs/a%2Fb/qoe", h.base);
        let r = h
            .http
            .get(&bad)
            .header("x-test-moderator-of", "a/b")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    }
}

#[tokio::test]
async fn replicas_on_one_database_read_the_same_figures() {
    for db in databases() {
        let (store, dir) = open(db).await;
        let one = serve(store.clone(), dir, Settings::default()).await;
        let two = serve(store, None, Settings::default()).await;
        let input = fresh_input("replicas");
        // One viewer's beacons land on either replica.
        let batches = watch(
            7,
            &input,
            &[(0, live_source()), (700, Ev::FirstFrame)],
            95_000,
        );
        for (i, b) in batches.iter().enumerate() {
            if i % 2 == 0 {
                one.send(b).await
            } else {
                two.send(b).await
            }
        }
        one.svc.flush().await.unwrap();
        let a = two.figures(&input).await;
        let b = one.figures(&input).await;
        assert_eq!(a, b, "{db:?}");
        assert_eq!(a.broadcasts[0].views, 1);
        assert!(
            (a.broadcasts[0].minutes_viewed * 60.0 - 94.3).abs() < 1.0,
            "{a:?}"
        );
    }
}

#[tokio::test]
async fn old_figures_are_pruned() {
    for db in databases() {
        let h = start(db, Settings::default()).await;
        let input = fresh_input("old");
        let b: Batch = serde_json::from_str(&good_body(&input)).unwrap();
        let now = unix_now();
        h.svc.accept(&b, now - 91 * 86_400).unwrap();
        h.svc.accept(&b, now - 89 * 86_400).unwrap();
        h.svc.flush().await.unwrap();
        assert_eq!(h.figures(&input).await.broadcasts[0].views, 2);
        h.svc.store.prune(now, 90 * 24 * 60).await.unwrap();
        let f = h.figures(&input).await;
        assert_eq!(f.broadcasts[0].views, 1, "{db:?}");
        assert_eq!(f.viewers_now, 0, "pages not heard from for long are gone");
    }
}

/// The account API's answers for the input check: inputs named `known-*`
/// exist, `down-*` cannot be asked about, the rest do not exist.
struct Account;

impl Upstream for Account {
    async fn videos(&self, input: &str) -> Result<Vec<Video>, AccountError> {
        if input.starts_with("known-") {
            Ok(Vec::new())
        } else if input.starts_with("down-") {
            Err(AccountError::Unreachable("connection refused".into()))
        } else {
            Err(AccountError::NotFound {
                message: "Live input not found".into(),
            })
        }
    }
}

#[tokio::test]
async fn beacons_for_inputs_the_account_lacks_are_refused() {
    for db in databases() {
        let (store, dir) = open(db).await;
        let cache = RecordingsCache::new(
            Arc::new(Account),
            CacheSettings::with_ttl(
                Duration::from_secs(15),
                100,
                Rewrite {
                    delivery_base: None,
                },
            ),
        );
        let check: Arc<dyn InputCheck> = Arc::new(CacheInputs(cache));
        let h = serve_checking(store, dir, Settings::default(), Some(check)).await;
        let known = fresh_input("known");
        let made_up = fresh_input("madeup");
        let down = fresh_input("down");
        let r = h.post(good_body(&made_up)).await;
        assert_eq!(r.status(), 404, "{db:?}");
        let two: String = good_body(&known).replace(
            "}]}",
            &format!(
                r#"}},{{"input":"{made_up}","kind":"live","engine":"native","watch_ms":1000}}]}}"#
            ),
        );
        assert_eq!(
            h.post(two).await.status(),
            404,
            "{db:?}: one unknown input spoils the batch"
        );
        assert_eq!(h.post(good_body(&known)).await.status(), 204);
        assert_eq!(
            h.post(good_body(&down)).await.status(),
            204,
            "API down: taken"
        );
        assert_eq!(h.metrics.rejected_total("unknown_input"), 2);
        assert_eq!(h.figures(&made_up).await.broadcasts.len(), 0, "{db:?}");
        assert_eq!(h.figures(&known).await.broadcasts[0].views, 1, "{db:?}");
        assert_eq!(h.figures(&down).await.broadcasts[0].views, 1, "{db:?}");
    }
}

#[tokio::test]
async fn a_failed_flush_keeps_the_figures_for_the_next() {
    // SQLite only: the table is renamed away under the service, which
    // would break the other tests sharing a PostgreSQL database.
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let h = serve(Store::open(&url).await.unwrap(), None, Settings::default()).await;
    let input = fresh_input("retry");
    h.send(&serde_json::from_str(&good_body(&input)).unwrap())
        .await;
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE qoe_minute RENAME TO qoe_minute_away")
        .execute(&admin)
        .await
        .unwrap();
    assert!(h.svc.flush().await.unwrap_err().contains("kept"));
    assert_eq!(h.metric("jlp_qoe_store_failures_total").await, "1");
    sqlx::query("ALTER TABLE qoe_minute_away RENAME TO qoe_minute")
        .execute(&admin)
        .await
        .unwrap();
    h.send(&serde_json::from_str(&good_body(&input)).unwrap())
        .await;
    let f = h.figures(&input).await;
    assert_eq!(f.broadcasts[0].views, 2, "nothing lost: {f:?}");
    assert_eq!(f.broadcasts[0].minutes_viewed, 1.0);
}

#[tokio::test]
async fn replicas_flushing_at_once_add_up() {
    for db in databases() {
        let (store, dir) = open(db).await;
        let one = serve(store.clone(), dir, Settings::default()).await;
        // The second replica has its own connections to the same database.
        let url = match db {
            Db::Sqlite => sqlite_url(one._dir.as_ref().unwrap().path()),
            Db::Postgres => std::env::var("DATABASE_URL").unwrap(),
        };
        let two = serve(Store::open(&url).await.unwrap(), None, Settings::default()).await;
        let inputs: Vec<String> = (0..40).map(|i| fresh_input(&format!("conc{i}"))).collect();
        for round in 0..5u64 {
            for (i, input) in inputs.iter().enumerate() {
                let mut b: Batch = serde_json::from_str(&good_body(input)).unwrap();
                b.page = page_id(round * 1_000 + i as u64);
                one.svc.accept(&b, unix_now()).unwrap();
                b.page = page_id(round * 1_000 + 500 + i as u64);
                two.svc.accept(&b, unix_now()).unwrap();
            }
            let (a, b) = tokio::join!(one.svc.flush(), two.svc.flush());
            assert_eq!((a.is_ok(), b.is_ok()), (true, true), "{db:?}: {a:?} {b:?}");
        }
        for input in &inputs {
            let f = query::input_qoe(&one.svc.store, input, unix_now())
                .await
                .unwrap();
            assert_eq!(f.broadcasts[0].views, 10, "{db:?} {input}");
            assert_eq!(f.viewers_now, 10, "{db:?} {input}");
        }
    }
}
