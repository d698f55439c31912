//! For tests only, of the stand-in and of the backend: a client of the
//! local Cloudflare stand-in (delivery, control API, JSON errors), the
//! cheap encode settings for a loaded machine, and scratch directories.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use player_core::cloudflare::{ErrorBody, Lifecycle};
use serde_json::{json, Value};

/// Cheap encodes for 2 loaded cores: 320x180, 15 fps, ultrafast, 1 s segments.
pub const CHEAP: &[&str] = &[
    "--video-size",
    "320x180",
    "--preset",
    "ultrafast",
    "--fps",
    "15",
    "--segment-seconds",
    "1",
    "--live-window-segments",
    "3",
];

/// How long a broadcast may take to become live on a loaded machine.
pub const LIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A fresh directory `<base>/<prefix><pid>` (give it the test crate's
/// `CARGO_TARGET_TMPDIR`); earlier runs' ones are removed.
pub fn scratch_dir(base: &Path, prefix: &str) -> PathBuf {
    if let Ok(entries) = std::fs::read_dir(base) {
        for e in entries.flatten() {
            // Only `<prefix><pid>`: `rec-` must not take a running test's
            // `rec-restart-<pid>` along.
            let stale = e
                .file_name()
                .to_string_lossy()
                .strip_prefix(prefix)
                .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()));
            if stale {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(format!("{prefix}{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// An HTTP client for one test (reqwest clients belong to one runtime).
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// `POST /control/inputs` with this uid; panics unless 201.
    pub async fn create_input(&self, uid: &str) -> Value {
        self.create(json!({ "uid": uid })).await
    }

    /// `POST /control/inputs` with this uid and name; panics unless 201.
    pub async fn create_named_input(&self, uid: &str, name: &str) -> Value {
        self.create(json!({ "uid": uid, "name": name })).await
    }

    async fn create(&self, body: Value) -> Value {
        let r = self.post("/control/inputs", body.clone()).await;
        assert_eq!(r.status(), 201, "create {body}");
        r.json().await.expect("created json")
    }

    /// Starts a synthetic broadcast; its video uid.
    pub async fn start(&self, uid: &str, body: Value) -> String {
        let r = self
            .post(&format!("/control/inputs/{uid}/start"), body)
            .await;
        assert_eq!(r.status(), 200, "start {uid}");
        let v: Value = r.json().await.expect("start json");
        v["videoUID"].as_str().expect("videoUID").to_string()
    }

    /// A new input with a synthetic broadcast on it, once live; the video uid.
    pub async fn live_broadcast(&self, uid: &str) -> String {
        self.create_input(uid).await;
        let video = self.start(uid, json!({})).await;
        self.wait_live(uid, true, LIVE_TIMEOUT).await;
        video
    }

    /// Stops the broadcast; its video uid.
    pub async fn stop(&self, uid: &str, mode: &str) -> String {
        let r = self
            .post(
                &format!("/control/inputs/{uid}/stop"),
                json!({ "mode": mode }),
            )
            .await;
        assert_eq!(r.status(), 200, "stop {uid}");
        let v: Value = r.json().await.expect("stop json");
        v["videoUID"].as_str().expect("videoUID").to_string()
    }

    pub async fn lifecycle(&self, id: &str) -> Lifecycle {
        let r = self.get(&format!("/{id}/lifecycle")).await;
        assert_eq!(r.status(), 200, "lifecycle {id}");
        r.json().await.expect("lifecycle json")
    }

    /// Polls lifecycle until `live` is `want`.
    pub async fn wait_live(&self, id: &str, want: bool, timeout: Duration) -> Lifecycle {
        let until = Instant::now() + timeout;
        loop {
            let lc = self.lifecycle(id).await;
            if lc.live == want {
                return lc;
            }
            assert!(
                Instant::now() < until,
                "{id}: live never became {want} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Body text of a 200 answer with the HLS content type.
    pub async fn playlist(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            header(&r, "content-type"),
            "application/vnd.apple.mpegurl",
            "{path}"
        );
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        r.text().await.expect("text")
    }

    /// Expects `status` with a JSON `{"error": ...}` body; returns the message.
    pub async fn expect_error(&self, r: reqwest::Response, status: u16) -> String {
        let url = r.url().to_string();
        assert_eq!(r.status(), status, "{url}");
        assert!(
            header(&r, "content-type").starts_with("application/json"),
            "{url}: not JSON"
        );
        let e: ErrorBody = r.json().await.expect("error body");
        assert!(!e.error.is_empty());
        e.error
    }
}

pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// URIs (non-tag lines) of a playlist.
pub fn uris(playlist: &str) -> Vec<String> {
    playlist
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}
