//! Signed URLs against the real binary: `POST .../stream/keys` answers in
//! Cloudflare's shape, an input created with `requireSignedURLs` (and its
//! recording) is refused by bare uid and with every kind of bad token, and
//! plays with a valid one (lifecycle, master, media playlist, segment,
//! views, thumbnail); a fresh token works mid-stream, a stopped recording
//! stays private, and an input made private by `PUT` is refused by uid.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::*;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

const TOKEN: &str = "signed-test-token-0c8e51a7";
const BASE: &str = "/client/v4/accounts/local/stream";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An RS256 token as Cloudflare's docs sign one (our own code, not the stand-in's).
fn sign(header: &Value, claims: &Value, key: &RsaPrivateKey) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{h}.{c}");
    let sig = SigningKey::<rsa::sha2::Sha256>::new(key.clone()).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

struct Key {
    id: String,
    private: RsaPrivateKey,
}

impl Key {
    fn token(&self, sub: &str, exp: u64) -> String {
        sign(
            &json!({"alg": "RS256", "kid": self.id}),
            &json!({"sub": sub, "kid": self.id, "exp": exp}),
            &self.private,
        )
    }
}

async fn account(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = api
        .client
        .request(method, api.url(&format!("{BASE}{path}")))
        .bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("account API");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create_key(api: &Api) -> Key {
    let (status, v) = account(api, reqwest::Method::POST, "/keys", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["success"], true);
    let r = &v["result"];
    let id = r["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 32);
    assert!(
        r["created"].as_str().is_some_and(|c| c.ends_with('Z')),
        "{r}"
    );
    let pem = String::from_utf8(STANDARD.decode(r["pem"].as_str().unwrap()).unwrap()).unwrap();
    let jwk: Value =
        serde_json::from_slice(&STANDARD.decode(r["jwk"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(jwk["kid"], id.as_str());
    assert_eq!(jwk["alg"], "RS256");
    Key {
        private: RsaPrivateKey::from_pkcs1_pem(&pem).expect("PKCS#1 PEM"),
        id,
    }
}

async fn status(api: &Api, path: &str) -> u16 {
    api.get(path).await.status().as_u16()
}

/// Polls `/<id>/lifecycle` (id may be a token) until live.
async fn wait_live(api: &Api, id: &str) -> Value {
    let until = Instant::now() + LIVE_TIMEOUT;
    loop {
        let r = api.get(&format!("/{id}/lifecycle")).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        if v["live"] == true {
            return v;
        }
        assert!(Instant::now() < until, "never live");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The master by `id`, then its first media playlist and that one's last
/// segment, each by relative URL under `/<id>/manifest/`.
async fn play(api: &Api, id: &str) -> (String, String) {
    let master = api.playlist(&format!("/{id}/manifest/video.m3u8")).await;
    let child = uris(&master).into_iter().next().expect("a variant");
    assert!(!child.contains('/'), "relative: {child}");
    let media = api.playlist(&format!("/{id}/manifest/{child}")).await;
    let seg = uris(&media).pop().expect("a segment");
    assert!(!seg.contains('/'), "relative: {seg}");
    (child, seg)
}

#[tokio::test]
async fn private_input_needs_a_valid_token() {
    let s = Server::start_with_env(
        "signed",
        CHEAP,
        &[("CF_API_TOKEN", TOKEN), ("RUST_LOG", "debug")],
    );
    let api = s.api();
    let key = create_key(&api).await;
    let (st, listed) = account(&api, reqwest::Method::GET, "/keys", None).await;
    assert_eq!(st, 200);
    assert_eq!(listed["result"][0]["id"], key.id.as_str());
    // Another account: refused like every account API call.
    let r = api
        .client
        .post(api.url("/client/v4/accounts/other/stream/keys"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let (st, created) = account(
        &api,
        reqwest::Method::POST,
        "/live_inputs",
        Some(json!({"meta": {"name": "Council"}, "recording": {"mode": "automatic", "requireSignedURLs": true}})),
    )
    .await;
    assert_eq!(st, 200, "{created}");
    assert_eq!(created["result"]["recording"]["requireSignedURLs"], true);
    let input = created["result"]["uid"].as_str().unwrap().to_string();
    // A public input beside it stays public.
    api.create_input("open").await;
    assert_eq!(status(&api, "/open/lifecycle").await, 200);

    let r = api.get(&format!("/{input}/lifecycle")).await;
    assert_eq!(
        api.expect_error(r, 401).await,
        "this video requires a signed URL"
    );
    let video = api.start(&input, json!({})).await;
    let t = now();
    let good = key.token(&input, t + 120);
    let lc = wait_live(&api, &good).await;
    assert_eq!(lc["isInput"], true);
    assert_eq!(lc["videoUID"], video.as_str());

    // The refusal matrix, on every kind of delivery URL.
    let other_key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let bad: Vec<(&str, String, u16)> = vec![
        ("bare uid", input.clone(), 401),
        ("expired", key.token(&input, t - 1), 401),
        (
            "unknown kid",
            sign(
                &json!({"alg": "RS256", "kid": "0123456789abcdef0123456789abcdef"}),
                &json!({"sub": input, "kid": "0123456789abcdef0123456789abcdef", "exp": t + 60}),
                &key.private,
            ),
            401,
        ),
        (
            "bad signature",
            sign(
                &json!({"alg": "RS256", "kid": key.id}),
                &json!({"sub": input, "kid": key.id, "exp": t + 60}),
                &other_key,
            ),
            401,
        ),
        (
            "nbf ahead",
            sign(
                &json!({"alg": "RS256", "kid": key.id}),
                &json!({"sub": input, "kid": key.id, "exp": t + 600, "nbf": t + 300}),
                &key.private,
            ),
            401,
        ),
        (
            "blocked by accessRules",
            sign(
                &json!({"alg": "RS256", "kid": key.id}),
                &json!({"sub": input, "kid": key.id, "exp": t + 60,
                        "accessRules": [{"type": "ip.src", "ip": ["192.0.2.0/24"], "action": "allow"},
                                        {"type": "any", "action": "block"}]}),
                &key.private,
            ),
            403,
        ),
    ];
    let (child, seg) = play(&api, &good).await;
    for (what, id, want) in &bad {
        for path in [
            "lifecycle".to_string(),
            "views".into(),
            "manifest/video.m3u8".into(),
            format!("manifest/{child}"),
            format!("manifest/{seg}"),
            "thumbnails/thumbnail.jpg".into(),
        ] {
            let r = api.get(&format!("/{id}/{path}")).await;
            assert_eq!(r.status().as_u16(), *want, "{what}: {path}");
            assert_eq!(header(&r, "access-control-allow-origin"), "*", "{what}");
            assert_eq!(header(&r, "cache-control"), "no-store", "{what}");
        }
    }
    // The same request, allowed for this client's address: plays.
    let loopback = sign(
        &json!({"alg": "RS256", "kid": key.id}),
        &json!({"sub": input, "kid": key.id, "exp": t + 60,
                "accessRules": [{"type": "ip.src", "ip": ["127.0.0.0/8", "::1"], "action": "allow"},
                                {"type": "any", "action": "block"}]}),
        &key.private,
    );
    assert_eq!(status(&api, &format!("/{loopback}/lifecycle")).await, 200);
    // A valid token for a uid that does not exist: the unknown-id 404.
    let nothing = key.token("nosuchinput", t + 60);
    assert_eq!(status(&api, &format!("/{nothing}/lifecycle")).await, 404);

    // Valid: every delivery URL, relative children under the token.
    let r = api.get(&format!("/{good}/manifest/{seg}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "video/mp2t");
    assert!(r.bytes().await.unwrap().len() > 188);
    assert_eq!(status(&api, &format!("/{good}/views")).await, 200);
    let r = api
        .get(&format!("/{good}/thumbnails/thumbnail.jpg?height=90"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "image/jpeg");
    // Mid-stream, a new token for the same uid (as the player's refresh
    // sends) plays the next playlist and segment; each request is checked.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fresh = key.token(&input, now() + 300);
    assert_ne!(fresh, good);
    let media = api.playlist(&format!("/{fresh}/manifest/{child}")).await;
    let next = uris(&media).pop().unwrap();
    assert_eq!(
        status(&api, &format!("/{fresh}/manifest/{next}")).await,
        200
    );
    assert_eq!(status(&api, &format!("/{good}/manifest/{next}")).await, 200);

    // The recording is private too: its uid alone is refused, its token plays.
    api.stop(&input, "clean").await;
    assert_eq!(status(&api, &format!("/{video}/lifecycle")).await, 401);
    assert_eq!(
        status(&api, &format!("/{video}/manifest/video.m3u8")).await,
        401
    );
    let vt = key.token(&video, now() + 60);
    play(&api, &vt).await;
    let (st, videos) = account(
        &api,
        reqwest::Method::GET,
        &format!("/live_inputs/{input}/videos"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(videos["result"][0]["requireSignedURLs"], true);

    // An input made private later (PUT): its bare uid is refused from then on.
    let (st, upd) = account(
        &api,
        reqwest::Method::PUT,
        "/live_inputs/open",
        Some(json!({"recording": {"requireSignedURLs": true}})),
    )
    .await;
    assert_eq!(st, 200, "{upd}");
    assert_eq!(upd["result"]["recording"]["requireSignedURLs"], true);
    assert_eq!(status(&api, "/open/lifecycle").await, 401);
    let open = key.token("open", now() + 60);
    assert_eq!(status(&api, &format!("/{open}/lifecycle")).await, 200);

    // A deleted key's tokens stop working.
    let (st, _) = account(
        &api,
        reqwest::Method::DELETE,
        &format!("/keys/{}", key.id),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(status(&api, &format!("/{vt}/lifecycle")).await, 401);
    let stats: Value = api.get("/control/stats").await.json().await.unwrap();
    assert_eq!(stats["account"]["keys"], 1);
    // The request log shows uids, never a token.
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(
        log.contains(&format!("/{input}/manifest/")),
        "requests are logged"
    );
    assert!(
        !log.contains(&good) && !log.contains(&fresh),
        "a token in the log"
    );
}

#[tokio::test]
async fn keys_and_private_recordings_survive_a_restart() {
    let first = Server::start_with_env("signed-restart", CHEAP, &[("CF_API_TOKEN", TOKEN)]);
    let data_dir = first.data_dir.clone();
    let api = first.api();
    let key = create_key(&api).await;
    let (_, created) = account(
        &api,
        reqwest::Method::POST,
        "/live_inputs",
        Some(json!({"recording": {"requireSignedURLs": true}})),
    )
    .await;
    let input = created["result"]["uid"].as_str().unwrap().to_string();
    let video = api.start(&input, json!({})).await;
    wait_live(&api, &key.token(&input, now() + 60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    api.stop(&input, "clean").await;
    drop(first);

    let dir = data_dir.to_string_lossy().to_string();
    let second = Server::start_with_env(
        "signed-restart-2",
        &[CHEAP, &["--data-dir", &dir]].concat(),
        &[("CF_API_TOKEN", TOKEN)],
    );
    let api = second.api();
    assert_eq!(
        status(&api, &format!("/{video}/manifest/video.m3u8")).await,
        401
    );
    play(&api, &key.token(&video, now() + 60)).await;
}
