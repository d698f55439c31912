//! Private rooms against the fake Cloudflare (the real JSON files): a
//! private go-live creates its input with `requireSignedURLs`, the signing
//! key is created once for concurrent first viewers and saved 0600, tokens
//! verify with the key's public half (RS256, kid, sub, exp, nbf), the
//! access policy matrix, 10,000 mints cost no account API call, the TTL
//! cap, recordings' tokens, and privacy changes of an existing room.

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::time::Duration;

use backend::cache::{CacheSettings, RecordingsCache};
use backend::rate_limit::{Limit, RateLimiter};
use backend::recordings::Rewrite;
use backend::rooms::{LiveSettings, RoomsService};
use backend::rooms_api::{self, GoLive};
use backend::signing_key::KeyStore;
use backend::viewer_token::{self, Access, ViewerClaims, ViewerTokens};
use common::fake_cloudflare::{self, FakeServer, SIGNING_KEY_ID, SIGNING_PUBLIC_PEM};
use common::jitsi::{self, token, ACCOUNT, APP, CF_TOKEN, INPUT, SECRET};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

/// The ready recording of the real live-input-videos.json.
const READY_VIDEO: &str = "2ba59740c897a197df70814fd5ad991";

const ROOMY: Limit = Limit {
    per_minute: 1_000_000,
    burst: 100_000,
};

struct Backend {
    url: String,
    http: reqwest::Client,
    key_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn backend(
    fake: &FakeServer,
    default_private: bool,
    access: Access,
    ttl: Duration,
    limit: Limit,
) -> Backend {
    let client = Arc::new(jitsi::account_client(&fake.base));
    let rooms = RoomsService::new(
        Arc::clone(&client),
        LiveSettings {
            timeout_seconds: 10,
            require_signed_urls: default_private,
            allowed_origins: vec![],
            public_url: "https://live.example.com".into(),
            delivery_base: None,
            input_ttl: Duration::from_secs(600),
        },
    )
    .unwrap();
    let auth = jitsi::auth(0);
    let live = Arc::new(GoLive {
        rooms: Arc::new(rooms),
        auth: Arc::new(auth),
        by_address: RateLimiter::new(ROOMY, 1000),
        by_token: RateLimiter::new(ROOMY, 1000),
        trust_forwarded_for: false,
    });
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing-key.json");
    let keys = Arc::new(KeyStore::new(
        Arc::clone(&client),
        Some(key_file.clone()),
        None,
    ));
    let cache = RecordingsCache::new(
        client,
        CacheSettings::with_ttl(
            Duration::from_secs(600),
            100,
            Rewrite {
                delivery_base: None,
            },
        ),
    );
    let tokens = Arc::new(ViewerTokens::new(
        Arc::clone(&live),
        keys,
        cache,
        access,
        ttl,
        RateLimiter::new(limit, 100_000),
    ));
    let app = rooms_api::router(live).merge(viewer_token::router(tokens));
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
        key_file,
        _dir: dir,
    }
}

impl Backend {
    async fn go_live(&self, room: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/api/rooms/{room}/live", self.url))
            .bearer_auth(token(room));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A viewer with the watch link (its `tokenUrl` names the input).
    async fn viewer(&self, room: &str, body: Value, jwt: Option<&str>) -> (u16, Value) {
        self.viewer_at(
            &format!("/api/rooms/{room}/viewer-token?input={INPUT}"),
            body,
            jwt,
        )
        .await
    }

    async fn viewer_at(&self, path: &str, body: Value, jwt: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.url)).json(&body);
        if let Some(t) = jwt {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        if status == 200 {
            assert_eq!(
                r.headers().get("cache-control").unwrap(),
                "no-store",
                "viewer tokens are never cached"
            );
        }
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Verifies a viewer token with the key's public half, as Cloudflare would.
fn verify(t: &str) -> ViewerClaims {
    let header = jsonwebtoken::decode_header(t).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(SIGNING_KEY_ID));
    let mut v = Validation::new(Algorithm::RS256);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.validate_aud = false;
    let key = DecodingKey::from_rsa_pem(SIGNING_PUBLIC_PEM.as_bytes()).unwrap();
    decode::<ViewerClaims>(t, &key, &v).unwrap().claims
}

/// Account API calls the fake answered (every one is checked for the token).
fn api_calls(fake: &FakeServer) -> usize {
    fake.fake.auth_seen.lock().unwrap().len()
}

#[tokio::test]
async fn private_room_key_once_and_tokens_that_verify() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(&fake, false, Access::Link, Duration::from_secs(60), ROOMY).await;

    // Before any input: nothing to watch.
    let (status, v) = b.viewer("council", json!({}), None).await;
    assert_eq!(status, 404, "{v}");

    let (status, v) = b.go_live("council", Some(json!({"private": true}))).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["private"], true);
    let created = fake.fake.created.lock().unwrap().clone();
    assert_eq!(created[0]["recording"]["requireSignedURLs"], true);
    let watch = v["watchUrl"].as_str().unwrap();
    assert!(
        watch.ends_with(&format!(
            "&tokenUrl=/api/rooms/council/viewer-token%3Finput%3D{INPUT}"
        )),
        "{watch}"
    );
    assert_eq!(
        *fake.fake.keys_created.lock().unwrap(),
        0,
        "no key before a viewer"
    );

    // 20 first viewers at once: one key created (the fake takes 200 ms).
    // The tokens' expiry is checked against the clock on both sides of the
    // requests: read only after them, a loaded machine made it flaky.
    let before = now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, http) = (b.url.clone(), b.http.clone());
        set.spawn(async move {
            let r = http
                .post(format!(
                    "{url}/api/rooms/council/viewer-token?input={INPUT}"
                ))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let mut answers = Vec::new();
    while let Some(r) = set.join_next().await {
        let (status, v) = r.unwrap();
        assert_eq!(status, 200, "{v}");
        answers.push(v);
    }
    assert_eq!(*fake.fake.keys_created.lock().unwrap(), 1);
    let after = now();
    for v in &answers {
        assert_eq!(v["input"], INPUT);
        assert_eq!(v["sub"], INPUT);
        assert_eq!(v["private"], true);
        let c = verify(v["token"].as_str().unwrap());
        assert_eq!(c.sub, INPUT);
        assert_eq!(c.kid, SIGNING_KEY_ID);
        assert_eq!(c.exp, v["exp"].as_u64().unwrap());
        assert!(
            c.exp >= before + 58 && c.exp <= after + 60,
            "exp {} minted between {before} and {after}",
            c.exp
        );
        assert_eq!(c.nbf, c.exp - 120, "nbf = mint time - 60 s");
        assert!(v["ttl"].as_u64().unwrap() <= 60);
    }
    // Saved for the next start, owner-only, and not the answer's business.
    let meta = std::fs::metadata(&b.key_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let saved: Value = serde_json::from_slice(&std::fs::read(&b.key_file).unwrap()).unwrap();
    assert_eq!(saved["id"], SIGNING_KEY_ID);
    for v in &answers {
        assert!(!v.to_string().contains(saved["pem"].as_str().unwrap()));
    }

    // A recording of the room: its own token; another uid: 404.
    let (status, v) = b
        .viewer("council", json!({"video": READY_VIDEO}), None)
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["sub"], READY_VIDEO);
    assert_eq!(verify(v["token"].as_str().unwrap()).sub, READY_VIDEO);
    let (status, v) = b
        .viewer(
            "council",
            json!({"video": "0123456789abcdef0123456789abcdef"}),
            None,
        )
        .await;
    assert_eq!(status, 404, "{v}");
    for bad in [json!({"video": "../x"}), json!("nope"), json!({"video": 7})] {
        let (status, v) = b.viewer("council", bad.clone(), None).await;
        assert_eq!(status, 400, "{bad}: {v}");
    }
    let (status, _) = b.viewer("no room!", json!({}), None).await;
    assert_eq!(status, 400);
    let r = b
        .http
        .get(format!("{}/api/rooms/council/viewer-token", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn ten_thousand_mints_cost_no_account_api_call() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(&fake, true, Access::Link, Duration::from_secs(60), ROOMY).await;
    let (status, _) = b.go_live("lesson", None).await;
    assert_eq!(status, 201);
    // Warm: the key, and the room's videos list (shared by every viewer).
    assert_eq!(b.viewer("lesson", json!({}), None).await.0, 200);
    assert_eq!(
        b.viewer("lesson", json!({"video": READY_VIDEO}), None)
            .await
            .0,
        200
    );
    let before = api_calls(&fake);
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..8 {
        let (url, http) = (b.url.clone(), b.http.clone());
        set.spawn(async move {
            for i in 0..1250 {
                let body = if (w + i) % 4 == 0 {
                    json!({"video": READY_VIDEO})
                } else {
                    json!({})
                };
                let r = http
                    .post(format!("{url}/api/rooms/lesson/viewer-token?input={INPUT}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    assert_eq!(
        api_calls(&fake),
        before,
        "10,000 mints, no account API call"
    );
    assert_eq!(*fake.fake.keys_created.lock().unwrap(), 1);
    eprintln!("10,000 viewer tokens in {:?}", started.elapsed());
}

#[tokio::test]
async fn who_gets_a_token() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let ttl = Duration::from_secs(60);
    let b = backend(&fake, true, Access::Participants, ttl, ROOMY).await;
    assert_eq!(b.go_live("board", None).await.0, 201);
    let now = now();
    let participant = |room: &str, exp: u64, secret: &str| {
        // A plain participant: no livestreaming feature.
        let claims = json!({"aud": APP, "iss": APP, "sub": "meet.example.com", "room": room,
            "exp": exp, "context": {"user": {"name": "Pupil"}, "features": {"livestreaming": false}}});
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let cases: Vec<(&str, Option<String>, u16)> = vec![
        ("no token", None, 401),
        (
            "participant",
            Some(participant("board", now + 600, SECRET)),
            200,
        ),
        ("any room", Some(participant("*", now + 600, SECRET)), 200),
        (
            "other room",
            Some(participant("lobby", now + 600, SECRET)),
            403,
        ),
        ("expired", Some(participant("board", now - 10, SECRET)), 401),
        (
            "bad signature",
            Some(participant("board", now + 600, "not-the-secret")),
            401,
        ),
        ("garbage", Some("abc.def.ghi".into()), 401),
    ];
    for (what, jwt, want) in &cases {
        let (status, v) = b.viewer("board", json!({}), jwt.as_deref()).await;
        assert_eq!(status, *want, "{what}: {v}");
        if *want != 200 {
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}");
        }
    }
    // `?jwt=` works as for go-live (a page that has the meeting's token).
    let t = participant("board", now + 600, SECRET);
    let r = b
        .http
        .post(format!("{}/api/rooms/board/viewer-token?jwt={t}", b.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A participant naming another input: refused like an unknown room.
    let t = participant("board", now + 600, SECRET);
    let (status, _) = b
        .viewer_at(
            "/api/rooms/board/viewer-token?input=0123456789abcdef",
            json!({}),
            Some(&t),
        )
        .await;
    assert_eq!(status, 404);

    // `link`: anyone with the watch link, no Jitsi token; the link is the
    // input uid (room names are guessable): without it or with another,
    // the room might as well not exist.
    let fake2 = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let open = backend(&fake2, true, Access::Link, ttl, ROOMY).await;
    assert_eq!(open.go_live("board", None).await.0, 201);
    assert_eq!(open.viewer("board", json!({}), None).await.0, 200);
    let (status, v) = open
        .viewer_at("/api/rooms/board/viewer-token", json!({}), None)
        .await;
    assert_eq!(status, 404, "{v}");
    let (status, _) = open
        .viewer_at(
            "/api/rooms/board/viewer-token?input=0123456789abcdef",
            json!({}),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // The input in the body works as well as in the query.
    let (status, _) = open
        .viewer_at(
            "/api/rooms/board/viewer-token",
            json!({ "input": INPUT }),
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Rate limited per client address.
    let tight = Limit {
        per_minute: 1,
        burst: 2,
    };
    let fake3 = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let limited = backend(&fake3, true, Access::Link, ttl, tight).await;
    assert_eq!(limited.go_live("board", None).await.0, 201);
    assert_eq!(limited.viewer("board", json!({}), None).await.0, 200);
    assert_eq!(limited.viewer("board", json!({}), None).await.0, 200);
    let r = limited
        .http
        .post(format!(
            "{}/api/rooms/board/viewer-token?input={INPUT}",
            limited.url
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn lifetime_is_capped_at_a_day_and_reused_briefly() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(
        &fake,
        true,
        Access::Link,
        Duration::from_secs(48 * 3600),
        ROOMY,
    )
    .await;
    assert_eq!(b.go_live("long", None).await.0, 201);
    let (status, v) = b.viewer("long", json!({}), None).await;
    assert_eq!(status, 200, "{v}");
    let c = verify(v["token"].as_str().unwrap());
    let day = 24 * 3600;
    assert!(c.exp <= now() + day && c.exp + 5 >= now() + day, "{c:?}");
    assert!(v["ttl"].as_u64().unwrap() <= day);

    // The same token within 10 % of its lifetime; a fresh one later (60 s
    // tokens: reused for 6 s).
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    let b = backend(&fake, true, Access::Link, Duration::from_secs(60), ROOMY).await;
    assert_eq!(b.go_live("short", None).await.0, 201);
    let first = b.viewer("short", json!({}), None).await.1;
    let again = b.viewer("short", json!({}), None).await.1;
    assert_eq!(first["token"], again["token"]);
    tokio::time::sleep(Duration::from_secs(8)).await;
    let later = b.viewer("short", json!({}), None).await.1;
    assert_ne!(first["token"], later["token"]);
    assert!(later["exp"].as_u64() > first["exp"].as_u64());
}

#[tokio::test]
async fn privacy_of_an_existing_room() {
    let fake = fake_cloudflare::start(CF_TOKEN, ACCOUNT).await;
    // A public deployment: a room goes live public.
    let b = backend(&fake, false, Access::Link, Duration::from_secs(60), ROOMY).await;
    let (status, v) = b.go_live("hall", None).await;
    assert_eq!((status, v["private"].clone()), (201, json!(false)), "{v}");
    assert!(!v["watchUrl"].as_str().unwrap().contains("tokenUrl"));
    // A public room's viewer gets a token anyway (tokens play public videos).
    let (status, v) = b.viewer("hall", json!({}), None).await;
    assert_eq!((status, v["private"].clone()), (200, json!(false)), "{v}");
    // Asked private: the input is updated, not recreated.
    let (status, v) = b.go_live("hall", Some(json!({"private": true}))).await;
    assert_eq!((status, v["private"].clone()), (200, json!(true)), "{v}");
    assert_eq!(fake.fake.created.lock().unwrap().len(), 1);
    let updates = fake.fake.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["recording"]["requireSignedURLs"], true);
    assert_eq!(updates[0]["meta"]["room"], "hall");
    // No word: stays private (a public default never makes a room public).
    let (status, v) = b.go_live("hall", None).await;
    assert_eq!((status, v["private"].clone()), (200, json!(true)), "{v}");
    assert_eq!(fake.fake.updates.lock().unwrap().len(), 1);
    // Explicitly public again.
    let (status, v) = b.go_live("hall", Some(json!({"private": false}))).await;
    assert_eq!((status, v["private"].clone()), (200, json!(false)), "{v}");
    assert_eq!(fake.fake.updates.lock().unwrap().len(), 2);
    let (status, _) = b.go_live("hall", Some(json!({"private": "yes"}))).await;
    assert_eq!(status, 400);

    // A private deployment makes an existing public room private on the
    // next go-live without a word.
    let b2 = backend(&fake, true, Access::Link, Duration::from_secs(60), ROOMY).await;
    let (status, v) = b2.go_live("hall", None).await;
    assert_eq!((status, v["private"].clone()), (200, json!(true)), "{v}");
    assert_eq!(fake.fake.updates.lock().unwrap().len(), 3);
}
