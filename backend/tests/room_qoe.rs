//! `GET /api/rooms/<room>/qoe` as the backend mounts it
//! (`rooms_api::qoe_router`, beside go-live and the beacons): the Jitsi
//! token of the room's moderator reads that room's input's figures; no
//! token is 401, another room's token or one without the live-streaming
//! right is 403, a room without an input is 404. On SQLite and, when
//! `DATABASE_URL` names one, on PostgreSQL.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use backend::metrics::Metrics;
use backend::qoe::store::{sqlite_url, Store};
use backend::qoe::{QoeService, Settings};
use backend::rate_limit::{Limit, RateLimiter};
use backend::rooms::{LiveSettings, RoomsService};
use backend::rooms_api::{self, GoLive};
use common::fake_cloudflare::{self, FakeServer};
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use common::jitsi::{self, token, ACCOUNT, APP, CF_TOKEN, INPUT, SECRET};

/// A valid token for `room` whose holder may not stream.
fn guest_token(room: &str) -> String {
    let now = get_current_timestamp();
    let claims = json!({"aud": APP, "iss": APP, "sub": "meet.example.com", "room": room,
        "exp": now + 600, "context": {"features": {"livestreaming": false}}});
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

struct Backend {
    url: String,
    http: reqwest::Client,
    qoe: Arc<QoeService>,
    _dir: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn store() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = vec![(
        "sqlite",
        Store::open(&sqlite_url(dir.path())).await.unwrap(),
        Some(dir),
    )];
    match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => {
            out.push(("postgres", Store::open(&u).await.unwrap(), None));
        }
        _ => eprintln!("DATABASE_URL unset: PostgreSQL not tested here (scripts/pg-test.sh)"),
    }
    out
}

async fn backend(fake: &FakeServer, store: Store, dir: Option<tempfile::TempDir>) -> Backend {
    let client = Arc::new(jitsi::account_client(&fake.base));
    let rooms = RoomsService::new(
        client,
        LiveSettings {
            timeout_seconds: 10,
            require_signed_urls: false,
            allowed_origins: vec![],
            public_url: "https://live.example.com".into(),
            delivery_base: None,
            input_ttl: Duration::from_secs(600),
        },
    )
    .unwrap();
    let auth = jitsi::auth(30);
    let limit = Limit {
        per_minute: 10_000,
        burst: 1_000,
    };
    let live = Arc::new(GoLive {
        rooms: Arc::new(rooms),
        auth: Arc::new(auth),
        by_address: RateLimiter::new(limit, 1000),
        by_token: RateLimiter::new(limit, 1000),
        trust_forwarded_for: false,
    });
    let qoe = QoeService::new(
        store,
        Arc::new(Metrics::default()),
        Settings::default(),
        None,
    );
    let app = rooms_api::router(Arc::clone(&live))
        .merge(rooms_api::qoe_router(live, Arc::clone(&qoe)))
        .merge(backend::qoe::api::router(Arc::clone(&qoe)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Backend {
        url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
        qoe,
        _dir: dir,
        server,
    }
}

impl Backend {
    async fn read(&self, room: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}/api/rooms/{room}/qoe", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn the_rooms_moderator_reads_its_figures_and_no_one_else() {
    for (db, store, dir) in store().await {
        let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
        let b = backend(&fake, store, dir).await;
        let t = token("standup");

        let (status, v) = b.read("standup", None).await;
        assert_eq!(status, 401, "{db}: no token: {v}");
        assert!(v["error"].as_str().unwrap().contains("token"), "{v}");
        let (status, v) = b.read("standup", Some("not.a.jwt")).await;
        assert_eq!(status, 401, "{db}: a bad token: {v}");
        let (status, v) = b.read("standup", Some(&token("other"))).await;
        assert_eq!(status, 403, "{db}: another room's token: {v}");
        let (status, v) = b.read("standup", Some(&guest_token("standup"))).await;
        assert_eq!(status, 403, "{db}: a guest of the room: {v}");
        let (status, v) = b.read("standup", Some(&t)).await;
        assert_eq!(status, 404, "{db}: no input yet: {v}");
        assert_eq!(
            fake.fake.created.lock().unwrap().len(),
            0,
            "reading creates nothing"
        );

        // The moderator goes live; a viewer of that input reports a view.
        let r = b
            .http
            .post(format!("{}/api/rooms/standup/live", b.url))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let (status, before) = b.read("standup", Some(&t)).await;
        assert_eq!(status, 200, "{db}: {before}");
        let views = |v: &Value| v["broadcasts"][0]["views"].as_i64().unwrap_or(0);
        let beacon = format!(
            r#"{{"v":1,"page":"0123456789abcdef","browser":"chrome","views":[{{"input":"{INPUT}","video":"vroomqoe","kind":"live","engine":"hlsjs","start":true,"startup_ms":900,"watch_ms":30000}}]}}"#
        );
        let r = b
            .http
            .post(format!("{}/api/qoe", b.url))
            .header("content-type", "text/plain")
            .body(beacon)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        b.qoe.flush().await.unwrap();

        // ...also with the token in the address, as Jitsi hands it to pages.
        let r = b
            .http
            .get(format!("{}/api/rooms/StandUp/qoe?jwt={t}", b.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["inputUid"], INPUT, "{db}: {v}");
        assert_eq!(v["viewersNow"], 1, "{db}: {v}");
        assert_eq!(v["broadcasts"][0]["videoUid"], "vroomqoe", "{db}: {v}");
        assert_eq!(views(&v), views(&before) + 1, "{db}: {v}");
        assert!(v["series"].is_array() && v["recordings"].is_array(), "{v}");

        // Another room's moderator still cannot, now that the room has one.
        assert_eq!(b.read("standup", Some(&token("other"))).await.0, 403);
        let r = b
            .http
            .post(format!("{}/api/rooms/standup/qoe", b.url))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405);
        assert_eq!(b.read("a%20b", Some(&t)).await.0, 400);
    }
}
