//! The Jitsi token, verified with real signed tokens: HS256 with the app
//! secret, RS256 through an ASAP key server on loopback, and every way a
//! token can be wrong.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use backend::auth::{kid_file, AuthError, AuthSettings, JitsiAuth, KeyMode};
use base64::Engine as _;
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use stream_api::Secret;

const APP: &str = "my-app";
const SECRET: &str = "the-app-secret-0123456789";
const KID: &str = "jitsi/asap-key-1";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Jitsi's documented claims, valid for an hour, allowed to stream.
fn claims() -> Value {
    let now = get_current_timestamp();
    json!({
        "aud": APP, "iss": APP, "sub": "meet.example.com", "room": "standup",
        "nbf": now - 10, "exp": now + 3600,
        "context": {"user": {"name": "Ada", "email": "ada@example.com"},
                    "features": {"recording": true, "livestreaming": true, "screen-sharing": true}}
    })
}

fn with(mut c: Value, path: &[&str], v: Value) -> Value {
    let mut at = &mut c;
    for p in &path[..path.len() - 1] {
        at = at.get_mut(*p).unwrap();
    }
    match v {
        Value::Null => {
            at.as_object_mut().unwrap().remove(path[path.len() - 1]);
        }
        v => at[path[path.len() - 1]] = v,
    }
    c
}

fn hs(c: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn rs(c: &Value, kid: Option<&str>, private: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = kid.map(str::to_string);
    encode(
        &h,
        c,
        &EncodingKey::from_rsa_pem(&fixture(private)).unwrap(),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn settings(mode: KeyMode) -> AuthSettings {
    AuthSettings {
        app_id: APP.into(),
        mode,
        issuers: vec![APP.into()],
        audiences: vec![APP.into()],
        domain: Some("meet.example.com".into()),
        leeway_seconds: 30,
    }
}

struct KeyServer {
    base: String,
    hits: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    _task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Ks {
    hits: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    pem: Arc<Vec<u8>>,
}

async fn key_file(State(ks): State<Ks>, Path(file): Path<String>) -> Response {
    ks.hits.fetch_add(1, Ordering::Relaxed);
    if ks.down.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if file == kid_file(KID) {
        (StatusCode::OK, ks.pem.as_ref().clone()).into_response()
    } else {
        (StatusCode::NOT_FOUND, "no such key").into_response()
    }
}

/// An ASAP key server on loopback: the public key of [`KID`] only.
async fn key_server() -> KeyServer {
    let ks = Ks {
        hits: Arc::default(),
        down: Arc::default(),
        pem: Arc::new(fixture("asap-public.pem")),
    };
    let app = Router::new()
        .route("/asap/{file}", get(key_file))
        .with_state(ks.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    KeyServer {
        base: format!("http://127.0.0.1:{port}/asap"),
        hits: ks.hits,
        down: ks.down,
        _task: task,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Ok,
    E401,
    E403,
    E503,
}

fn outcome(r: &Result<backend::auth::Grant, AuthError>) -> Want {
    match r {
        Ok(_) => Want::Ok,
        Err(AuthError::Unauthorized(_)) => Want::E401,
        Err(AuthError::Forbidden(_)) => Want::E403,
        Err(AuthError::KeyServerDown(_)) => Want::E503,
    }
}

#[tokio::test]
async fn hs256_tokens_table() {
    let auth = JitsiAuth::new(settings(KeyMode::Secret(Secret::new(SECRET)))).unwrap();
    let now = get_current_timestamp();
    let c = claims();
    let none_token = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&c)
    );
    let cases: Vec<(&str, String, &str, Want)> = vec![
        ("valid HS256", hs(&c, SECRET), "standup", Want::Ok),
        (
            "room compared case-insensitively",
            hs(&with(c.clone(), &["room"], json!("StandUp")), SECRET),
            "standup",
            Want::Ok,
        ),
        (
            "forged signature",
            hs(&c, "not-the-secret"),
            "standup",
            Want::E401,
        ),
        (
            "expired",
            hs(&with(c.clone(), &["exp"], json!(now - 120)), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "expired within the leeway",
            hs(&with(c.clone(), &["exp"], json!(now - 10)), SECRET),
            "standup",
            Want::Ok,
        ),
        (
            "no exp",
            hs(&with(c.clone(), &["exp"], Value::Null), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "not yet valid",
            hs(&with(c.clone(), &["nbf"], json!(now + 300)), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "wrong aud",
            hs(&with(c.clone(), &["aud"], json!("other-app")), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "wrong iss",
            hs(&with(c.clone(), &["iss"], json!("other-app")), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "wrong sub",
            hs(&with(c.clone(), &["sub"], json!("evil.example")), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "sub *",
            hs(&with(c.clone(), &["sub"], json!("*")), SECRET),
            "standup",
            Want::Ok,
        ),
        ("wrong room", hs(&c, SECRET), "retro", Want::E403),
        (
            "* room",
            hs(&with(c.clone(), &["room"], json!("*")), SECRET),
            "retro",
            Want::Ok,
        ),
        (
            "no room",
            hs(&with(c.clone(), &["room"], Value::Null), SECRET),
            "standup",
            Want::E401,
        ),
        (
            "feature false",
            hs(
                &with(
                    c.clone(),
                    &["context", "features", "livestreaming"],
                    json!(false),
                ),
                SECRET,
            ),
            "standup",
            Want::E403,
        ),
        (
            "feature \"true\"",
            hs(
                &with(
                    c.clone(),
                    &["context", "features", "livestreaming"],
                    json!("true"),
                ),
                SECRET,
            ),
            "standup",
            Want::Ok,
        ),
        (
            "feature missing among features",
            hs(
                &with(
                    c.clone(),
                    &["context", "features", "livestreaming"],
                    Value::Null,
                ),
                SECRET,
            ),
            "standup",
            Want::E403,
        ),
        (
            "no features + moderator",
            hs(
                &with(
                    with(c.clone(), &["context", "features"], Value::Null),
                    &["context", "user", "moderator"],
                    json!(true),
                ),
                SECRET,
            ),
            "standup",
            Want::Ok,
        ),
        (
            "no features + not moderator",
            hs(
                &with(
                    with(c.clone(), &["context", "features"], Value::Null),
                    &["context", "user", "moderator"],
                    json!(false),
                ),
                SECRET,
            ),
            "standup",
            Want::E403,
        ),
        (
            "no context at all",
            hs(&with(c.clone(), &["context"], Value::Null), SECRET),
            "standup",
            Want::E403,
        ),
        ("alg none", none_token, "standup", Want::E401),
        (
            "RS256 token to an HS256 deployment",
            rs(&c, Some(KID), "asap-private.pem"),
            "standup",
            Want::E401,
        ),
        ("not a JWT", "abc.def".to_string(), "standup", Want::E401),
    ];
    for (name, token, room, want) in cases {
        let r = auth.verify(&token, room).await;
        assert_eq!(outcome(&r), want, "{name}: {r:?}");
        if let Err(e) = &r {
            // Plain words, never the token or the secret.
            let m = e.to_string();
            assert!(
                !m.contains(&token) && !m.contains(SECRET) && !m.is_empty(),
                "{name}: {m}"
            );
        }
    }
    let g = auth.verify(&hs(&c, SECRET), "standup").await.unwrap();
    assert_eq!(g.user.as_deref(), Some("Ada"));
    assert_eq!(g.room, "standup");
}

#[tokio::test]
async fn rs256_through_the_key_server_table() {
    let ks = key_server().await;
    let auth = JitsiAuth::new(settings(KeyMode::KeyServer(ks.base.clone()))).unwrap();
    let c = claims();
    let public_pem = String::from_utf8(fixture("asap-public.pem")).unwrap();
    // HS256 signed with the deployment's public key: the classic confusion.
    let confused = hs(&c, &public_pem);
    let cases: Vec<(&str, String, Want)> = vec![
        (
            "valid RS256",
            rs(&c, Some(KID), "asap-private.pem"),
            Want::Ok,
        ),
        (
            "valid again (cached)",
            rs(&c, Some(KID), "asap-private.pem"),
            Want::Ok,
        ),
        (
            "forged (another key, same kid)",
            rs(&c, Some(KID), "other-private.pem"),
            Want::E401,
        ),
        (
            "unknown kid",
            rs(&c, Some("jitsi/unknown"), "asap-private.pem"),
            Want::E401,
        ),
        (
            "unknown kid again (remembered)",
            rs(&c, Some("jitsi/unknown"), "asap-private.pem"),
            Want::E401,
        ),
        ("no kid", rs(&c, None, "asap-private.pem"), Want::E401),
        ("HS/RS confusion", confused, Want::E401),
        (
            "HS256 with the app's name as secret",
            hs(&c, APP),
            Want::E401,
        ),
        (
            "expired",
            rs(
                &with(c.clone(), &["exp"], json!(get_current_timestamp() - 120)),
                Some(KID),
                "asap-private.pem",
            ),
            Want::E401,
        ),
        (
            "feature false",
            rs(
                &with(
                    c.clone(),
                    &["context", "features", "livestreaming"],
                    json!(false),
                ),
                Some(KID),
                "asap-private.pem",
            ),
            Want::E403,
        ),
    ];
    for (name, token, want) in cases {
        let r = auth.verify(&token, "standup").await;
        assert_eq!(outcome(&r), want, "{name}: {r:?}");
    }
    // The key was fetched once, the unknown kid once: two calls in all.
    assert_eq!(ks.hits.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn concurrent_misses_share_one_key_server_call() {
    let ks = key_server().await;
    let auth = Arc::new(JitsiAuth::new(settings(KeyMode::KeyServer(ks.base.clone()))).unwrap());
    let token = rs(&claims(), Some(KID), "asap-private.pem");
    let unknown = rs(&claims(), Some("jitsi/unknown"), "asap-private.pem");
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let (auth, t) = (
                Arc::clone(&auth),
                if i % 2 == 0 {
                    token.clone()
                } else {
                    unknown.clone()
                },
            );
            tokio::spawn(async move { outcome(&auth.verify(&t, "standup").await) })
        })
        .collect();
    for (i, c) in calls.into_iter().enumerate() {
        let want = if i % 2 == 0 { Want::Ok } else { Want::E401 };
        assert_eq!(c.await.unwrap(), want, "call {i}");
    }
    // 40 verifications at once, two kids: one key server call for each.
    assert_eq!(ks.hits.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn key_server_down_is_503_and_a_later_call_works() {
    let ks = key_server().await;
    let auth = JitsiAuth::new(settings(KeyMode::KeyServer(ks.base.clone()))).unwrap();
    let token = rs(&claims(), Some(KID), "asap-private.pem");
    ks.down.store(true, Ordering::Relaxed);
    let r = auth.verify(&token, "standup").await;
    assert_eq!(outcome(&r), Want::E503, "{r:?}");
    assert_eq!(r.unwrap_err().status(), StatusCode::SERVICE_UNAVAILABLE);
    // Nothing bad was cached: once it is back, the same token passes.
    ks.down.store(false, Ordering::Relaxed);
    assert_eq!(outcome(&auth.verify(&token, "standup").await), Want::Ok);

    // A key server that does not answer at all is also 503.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = JitsiAuth::new(settings(KeyMode::KeyServer(format!(
        "http://127.0.0.1:{port}/asap"
    ))))
    .unwrap();
    assert_eq!(outcome(&dead.verify(&token, "standup").await), Want::E503);
}

#[tokio::test]
async fn accepted_lists_and_wildcards() {
    let mut s = settings(KeyMode::Secret(Secret::new(SECRET)));
    s.audiences = vec!["jitsi".into(), APP.into()];
    s.issuers = vec!["*".into()];
    s.domain = None;
    let auth = JitsiAuth::new(s).unwrap();
    let c = with(
        with(claims(), &["aud"], json!("jitsi")),
        &["iss"],
        json!("chat"),
    );
    assert!(auth.verify(&hs(&c, SECRET), "standup").await.is_ok());
    let c = with(c, &["aud"], json!("nobody"));
    assert!(auth.verify(&hs(&c, SECRET), "standup").await.is_err());
}
