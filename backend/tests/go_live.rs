//! `POST`/`GET /api/rooms/<room>/live` against the fake Cloudflare (the
//! real JSON files): created once with the seed's body, found again by
//! meta after a restart, one create for concurrent calls, every refusal
//! before any Cloudflare call, rate limits, Cloudflare failures.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use backend::rate_limit::{Limit, RateLimiter};
use backend::rooms::{LiveSettings, RoomsService};
use backend::rooms_api::{self, GoLive};
use common::fake_cloudflare::{self, shared, FakeServer, Reply};
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use common::jitsi::{self, token, ACCOUNT, APP, CF_TOKEN, INPUT, SECRET};

fn signed(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn claims(room: &str) -> Value {
    let now = get_current_timestamp();
    json!({"aud": APP, "iss": APP, "sub": "meet.example.com", "room": room,
           "exp": now + 600, "context": {"features": {"livestreaming": true}}})
}

/// The public delivery endpoints of the real files (lifecycle, views).
async fn delivery() -> String {
    let app = Router::new()
        .route(
            &format!("/{INPUT}/lifecycle"),
            get(|| async { shared("lifecycle-live.json") }),
        )
        .route(
            &format!("/{INPUT}/views"),
            get(|| async { shared("views.json") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://127.0.0.1:{port}")
}

struct Backend {
    url: String,
    http: reqwest::Client,
}

async fn backend(fake: &FakeServer, limit: Limit, delivery_base: Option<String>) -> Backend {
    let client = Arc::new(jitsi::account_client(&fake.base));
    let rooms = RoomsService::new(
        client,
        LiveSettings {
            timeout_seconds: 10,
            require_signed_urls: false,
            allowed_origins: vec!["live.example.com".into()],
            public_url: "https://live.example.com".into(),
            delivery_base,
            input_ttl: Duration::from_secs(600),
        },
    )
    .unwrap();
    let auth = jitsi::auth(30);
    let state = Arc::new(GoLive {
        rooms: Arc::new(rooms),
        auth: Arc::new(auth),
        by_address: RateLimiter::new(limit, 1000),
        by_token: RateLimiter::new(limit, 1000),
        trust_forwarded_for: false,
    });
    let app = rooms_api::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Backend {
        url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    }
}

const ROOMY: Limit = Limit {
    per_minute: 10_000,
    burst: 1_000,
};

impl Backend {
    async fn call(&self, method: &str, room: &str, token: Option<&str>) -> (u16, Value) {
        let url = format!("{}/api/rooms/{room}/live", self.url);
        let mut req = match method {
            "POST" => self.http.post(url),
            _ => self.http.get(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn post_creates_once_then_reuses_and_get_reports() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(&fake, ROOMY, Some(delivery().await)).await;
    let t = token("standup");

    let (status, v) = b.call("GET", "standup", Some(&t)).await;
    assert_eq!(status, 404, "{v}");
    assert!(v["error"].as_str().unwrap().contains("no live input"));

    let (status, v) = b.call("POST", "standup", Some(&t)).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["inputUID"], INPUT);
    assert_eq!(v["room"], "standup");
    assert_eq!(v["created"], true);
    let key =
        "MTQ0MTcjM3MjI1NDE3ODIyNTI1MjYyMjE4NTI2ODI1NDcxMzUyMzcf256e6ea9351d51eea64c9454659e576";
    assert_eq!(v["rtmps"]["url"], "rtmps://live.cloudflare.com:443/live/");
    assert_eq!(v["rtmps"]["streamKey"], key);
    assert_eq!(
        v["streamId"],
        format!("rtmps://live.cloudflare.com:443/live/{key}")
    );
    let watch = v["watchUrl"].as_str().unwrap();
    assert!(
        watch.starts_with(&format!("https://live.example.com/?input={INPUT}&recordings=/api/inputs/{INPUT}/recordings&base=")),
        "{watch}"
    );
    assert!(v["embed"]
        .as_str()
        .unwrap()
        .starts_with("<iframe src=\"https://live.example.com/?input="));
    // The seed's body, with the room in meta.
    assert_eq!(
        fake.fake.created.lock().unwrap().clone(),
        vec![
            json!({"meta": {"name": "Jitsi room standup", "room": "standup"},
            "recording": {"mode": "automatic", "timeoutSeconds": 10,
                "requireSignedURLs": false, "allowedOrigins": ["live.example.com"]}})
        ]
    );

    // Again (and in another letter case): the same input, nothing created.
    let (status, v) = b.call("POST", "StandUp", Some(&t)).await;
    assert_eq!((status, v["created"].clone()), (200, json!(false)), "{v}");
    assert_eq!(v["inputUID"], INPUT);
    assert_eq!(fake.fake.created.lock().unwrap().len(), 1);

    // Past the status TTL the next GET asks Cloudflare for the status once;
    // an immediate second GET is answered from memory.
    tokio::time::sleep(backend::rooms::STATUS_TTL).await;
    let calls = fake.fake.auth_seen.lock().unwrap().len();
    let (status, v) = b.call("GET", "standup", Some(&t)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(b.call("GET", "standup", Some(&t)).await.0, 200);
    assert_eq!(fake.fake.auth_seen.lock().unwrap().len(), calls + 1);
    assert_eq!(v["inputUID"], INPUT);
    assert_eq!(v["status"], Value::Null);
    assert_eq!(v["live"], true);
    assert_eq!(v["videoUID"], "55b9b5ce48c3968c6b514c458959d6a");
    assert_eq!(v["viewers"], 113);
    assert_eq!(
        v["streamId"],
        format!("rtmps://live.cloudflare.com:443/live/{key}")
    );

    // A restarted backend (empty cache) finds the input by its meta.
    let b2 = backend(&fake, ROOMY, None).await;
    let (status, v) = b2.call("POST", "standup", Some(&t)).await;
    assert_eq!((status, v["created"].clone()), (200, json!(false)), "{v}");
    assert_eq!(fake.fake.created.lock().unwrap().len(), 1);
    // ...and by ?jwt= as Jitsi hands tokens to pages; without a delivery
    // answer the status is unknown, not an error.
    let resp = b2
        .http
        .get(format!("{}/api/rooms/standup/live?jwt={t}", b2.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("cache-control").unwrap(),
        "no-store",
        "a stream key is not cached"
    );
}

#[tokio::test]
async fn concurrent_posts_create_one_input() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = Arc::new(backend(&fake, ROOMY, None).await);
    let t = token("*");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let b = Arc::clone(&b);
            let t = t.clone();
            tokio::spawn(async move { b.call("POST", "all-hands", Some(&t)).await })
        })
        .collect();
    let mut created = 0;
    for c in calls {
        let (status, v) = c.await.unwrap();
        assert!(status == 200 || status == 201, "{status} {v}");
        assert_eq!(v["inputUID"], INPUT);
        created += usize::from(status == 201);
    }
    assert_eq!(created, 1);
    assert_eq!(fake.fake.created.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn refusals_call_no_cloudflare() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(&fake, ROOMY, None).await;
    let now = get_current_timestamp();
    let c = claims("standup");
    let mut expired = c.clone();
    expired["exp"] = json!(now - 120);
    let mut no_feature = c.clone();
    no_feature["context"]["features"]["livestreaming"] = json!(false);
    let cases: Vec<(&str, &str, Option<String>, u16)> = vec![
        ("no token", "standup", None, 401),
        ("forged", "standup", Some(signed(&c, "guessed-secret")), 401),
        ("expired", "standup", Some(signed(&expired, SECRET)), 401),
        ("wrong room", "retro", Some(signed(&c, SECRET)), 403),
        (
            "feature false",
            "standup",
            Some(signed(&no_feature, SECRET)),
            403,
        ),
        ("garbage", "standup", Some("not-a-jwt".into()), 401),
        ("bad room name", "a%20b", Some(signed(&c, SECRET)), 400),
        ("room with a slash", "a%2Fb", Some(signed(&c, SECRET)), 400),
    ];
    for (name, room, token, want) in cases {
        for method in ["POST", "GET"] {
            let (status, v) = b.call(method, room, token.as_deref()).await;
            assert_eq!(status, want, "{name} {method}: {v}");
            let msg = v["error"].as_str().unwrap_or_else(|| panic!("{name}: {v}"));
            assert!(!msg.is_empty());
            if let Some(t) = &token {
                assert!(!msg.contains(t.as_str()), "{name}: {msg}");
            }
        }
    }
    assert!(fake.fake.created.lock().unwrap().is_empty());
    assert_eq!(*fake.fake.lists.lock().unwrap(), 0);
    assert!(
        fake.fake.auth_seen.lock().unwrap().is_empty(),
        "no Cloudflare call at all"
    );
    // A 401 says how to authenticate.
    let resp = b
        .http
        .post(format!("{}/api/rooms/standup/live", b.url))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("www-authenticate").is_some());
    // Another method is a JSON 405; a large body is refused unread.
    let resp = b
        .http
        .delete(format!("{}/api/rooms/standup/live", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let resp = b
        .http
        .post(format!("{}/api/rooms/standup/live", b.url))
        .bearer_auth(token("standup"))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    assert!(fake.fake.created.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rate_limited_with_retry_after() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(
        &fake,
        Limit {
            per_minute: 2,
            burst: 2,
        },
        None,
    )
    .await;
    let t = token("standup");
    assert_eq!(b.call("POST", "standup", Some(&t)).await.0, 201);
    assert_eq!(b.call("POST", "standup", Some(&t)).await.0, 200);
    let resp = b
        .http
        .post(format!("{}/api/rooms/standup/live", b.url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let v: Value = resp.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("too many"));
    // Bad tokens from the same address are limited too (guessing costs).
    assert_eq!(b.call("POST", "standup", None).await.0, 429);
}

#[tokio::test]
async fn cloudflare_failures_are_plain_answers() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(&fake, ROOMY, None).await;
    let t = token("standup");
    fake.fake.set(Reply::raw(
        500,
        r#"{"success":false,"errors":[{"code":10002,"message":"internal"}]}"#,
    ));
    let (status, v) = b.call("POST", "standup", Some(&t)).await;
    assert_eq!(status, 502, "{v}");
    assert_eq!(v["error"], "Cloudflare's API failed");
    fake.fake.set(Reply::Raw {
        status: 429,
        body: "{}".into(),
        retry_after: Some("42".into()),
    });
    let resp = b
        .http
        .post(format!("{}/api/rooms/standup/live", b.url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "42");
    // Back to normal: it works, nothing was cached from the failures.
    fake.fake.set(Reply::Real);
    assert_eq!(b.call("POST", "standup", Some(&t)).await.0, 201);

    // A backend whose Cloudflare token is refused says what to fix.
    let wrong = fake_cloudflare::start("another-token", ACCOUNT).await;
    let b = backend(&wrong, ROOMY, None).await;
    let (status, v) = b.call("POST", "standup", Some(&t)).await;
    assert_eq!(status, 502);
    assert!(v["error"].as_str().unwrap().contains("Stream:Edit"), "{v}");
    assert!(!v.to_string().contains(CF_TOKEN));
}
