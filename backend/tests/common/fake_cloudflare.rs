//! A fake Cloudflare account API on loopback that answers the real JSON
//! files of `../shared/cloudflare` as they are, or a scripted reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

/// `../shared/cloudflare/<name>` (beside the repository), as it is.
pub fn shared(name: &str) -> String {
    let path = format!(
        "{}/../../shared/cloudflare/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Debug, Clone)]
pub enum Reply {
    /// The real file: live-input-videos.json for videos,
    /// live-input-create.json for a live input.
    Real,
    /// This answer instead.
    Raw {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
    /// The real file after a delay.
    Slow(Duration),
}

impl Reply {
    pub fn raw(status: u16, body: &str) -> Reply {
        Reply::Raw {
            status,
            body: body.to_string(),
            retry_after: None,
        }
    }
}

pub struct Fake {
    pub token: String,
    pub account: String,
    pub reply: Mutex<Reply>,
    /// Videos calls by input uid.
    pub videos_calls: Mutex<HashMap<String, u64>>,
    /// Every Authorization header seen.
    pub auth_seen: Mutex<Vec<String>>,
    /// Bodies of creates.
    pub created: Mutex<Vec<Value>>,
    /// `GET .../live_inputs` calls.
    pub lists: Mutex<u64>,
    /// `POST .../keys` calls.
    pub keys_created: Mutex<u64>,
    /// Bodies of `PUT .../live_inputs/<uid>`.
    pub updates: Mutex<Vec<Value>>,
    /// How long `POST .../keys` takes (so concurrent callers overlap).
    pub key_delay: Mutex<Duration>,
}

/// The test signing key the fake hands out (PKCS#1 PEM).
pub const SIGNING_KEY_PEM: &str = include_str!("../fixtures/stream/signing-private.pem");
/// Its public half.
pub const SIGNING_PUBLIC_PEM: &str = include_str!("../fixtures/stream/signing-public.pem");
/// The id the fake gives it.
pub const SIGNING_KEY_ID: &str = "8f926b2b6e4c1f8f2c6a1bd3d2e7a6f0";

impl Fake {
    pub fn set(&self, r: Reply) {
        *self.reply.lock().unwrap() = r;
    }

    pub fn calls(&self, input: &str) -> u64 {
        self.videos_calls
            .lock()
            .unwrap()
            .get(input)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_calls(&self) -> u64 {
        self.videos_calls.lock().unwrap().values().sum()
    }
}

pub struct FakeServer {
    /// `http://127.0.0.1:<port>/client/v4`
    pub base: String,
    pub fake: Arc<Fake>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type St = State<Arc<Fake>>;

fn json(status: u16, body: String, retry_after: Option<String>) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Some(ra) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, ra.parse().unwrap());
    }
    r
}

/// Cloudflare's check: the auth error file unless the token and account fit.
fn check(f: &Fake, headers: &HeaderMap, account: &str) -> Option<Response> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    f.auth_seen.lock().unwrap().push(auth.clone());
    if auth != format!("Bearer {}", f.token) {
        return Some(json(401, shared("api-error-auth.json"), None));
    }
    if account != f.account {
        return Some(json(403, shared("api-error-auth.json"), None));
    }
    None
}

/// The real live input file with the privacy asked: the last update's,
/// else the first create's `recording.requireSignedURLs` (what Cloudflare
/// would report back).
fn real_input(f: &Fake) -> String {
    let mut v: Value = serde_json::from_str(&shared("live-input-create.json")).unwrap();
    let asked = f
        .updates
        .lock()
        .unwrap()
        .last()
        .or(f.created.lock().unwrap().first())
        .and_then(|b| b["recording"]["requireSignedURLs"].as_bool());
    if let Some(p) = asked {
        v["result"]["recording"]["requireSignedURLs"] = p.into();
    }
    v.to_string()
}

async fn reply(f: &Fake, real: &str) -> Response {
    let r = f.reply.lock().unwrap().clone();
    match r {
        Reply::Real if real == "live-input-create.json" => json(200, real_input(f), None),
        Reply::Real => json(200, shared(real), None),
        Reply::Slow(d) => {
            tokio::time::sleep(d).await;
            json(200, shared(real), None)
        }
        Reply::Raw {
            status,
            body,
            retry_after,
        } => json(status, body, retry_after),
    }
}

async fn videos(
    State(f): St,
    Path((account, input)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check(&f, &headers, &account) {
        return r;
    }
    *f.videos_calls.lock().unwrap().entry(input).or_default() += 1;
    reply(&f, "live-input-videos.json").await
}

async fn input(
    State(f): St,
    Path((account, _input)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check(&f, &headers, &account) {
        return r;
    }
    reply(&f, "live-input-create.json").await
}

/// `GET .../live_inputs`: after creates, the real create file's input with
/// the first create's `meta` (what Cloudflare would list); before, none.
async fn list(State(f): St, Path(account): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = check(&f, &headers, &account) {
        return r;
    }
    *f.lists.lock().unwrap() += 1;
    let scripted = !matches!(*f.reply.lock().unwrap(), Reply::Real);
    if scripted {
        return reply(&f, "live-input-create.json").await;
    }
    let real: Value = serde_json::from_str(&shared("live-input-create.json")).unwrap();
    let inputs: Vec<Value> = f
        .created
        .lock()
        .unwrap()
        .first()
        .map(|body| {
            let mut i = real["result"].clone();
            i["meta"] = body["meta"].clone();
            for k in ["rtmps", "status", "recording"] {
                i.as_object_mut().unwrap().remove(k);
            }
            vec![i]
        })
        .unwrap_or_default();
    let n = inputs.len();
    let body = serde_json::json!({"result": {"liveInputs": inputs, "range": n, "total": n},
        "success": true, "errors": [], "messages": []});
    json(200, body.to_string(), None)
}

async fn create(
    State(f): St,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = check(&f, &headers, &account) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    f.created.lock().unwrap().push(v);
    reply(&f, "live-input-create.json").await
}

async fn update(
    State(f): St,
    Path((account, _input)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = check(&f, &headers, &account) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    f.updates.lock().unwrap().push(v);
    reply(&f, "live-input-create.json").await
}

/// `POST .../keys`: the test key, in Cloudflare's shape.
async fn create_key(State(f): St, Path(account): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = check(&f, &headers, &account) {
        return r;
    }
    *f.keys_created.lock().unwrap() += 1;
    let delay = *f.key_delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let body = serde_json::json!({"result": {"id": SIGNING_KEY_ID, "pem": b64(SIGNING_KEY_PEM),
        "jwk": b64("{}"), "created": "2026-12-01T00:00:00Z"},
        "success": true, "errors": [], "messages": []});
    json(200, body.to_string(), None)
}

/// Starts the fake on a free loopback port (in the caller's runtime).
pub async fn start(token: &str, account: &str) -> FakeServer {
    let fake = Arc::new(Fake {
        token: token.into(),
        account: account.into(),
        reply: Mutex::new(Reply::Real),
        videos_calls: Mutex::new(HashMap::new()),
        auth_seen: Mutex::new(Vec::new()),
        created: Mutex::new(Vec::new()),
        lists: Mutex::new(0),
        keys_created: Mutex::new(0),
        updates: Mutex::new(Vec::new()),
        key_delay: Mutex::new(Duration::from_millis(200)),
    });
    const B: &str = "/client/v4/accounts/{account}/stream";
    let app = Router::new()
        .route(&format!("{B}/live_inputs"), post(create).get(list))
        .route(
            &format!("{B}/live_inputs/{{input}}"),
            get(input).put(update),
        )
        .route(&format!("{B}/keys"), post(create_key))
        .route(&format!("{B}/live_inputs/{{input}}/videos"), get(videos))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeServer {
        base: format!("http://127.0.0.1:{port}/client/v4"),
        fake,
        task,
    }
}
