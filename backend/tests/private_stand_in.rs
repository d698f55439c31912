//! Private rooms end to end on the two real binaries: the backend creates a
//! private room's input on the local stand-in (`requireSignedURLs`), the
//! stand-in's signing key is created once and saved, viewer tokens from the
//! backend play on the stand-in (lifecycle, master, segment) where the bare
//! uid is refused, room A's token shows room A only and room B will not
//! mint one for A's recording, and a restarted backend signs with the saved
//! key.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use common::jitsi::token;
use common::procs::{self, stand_in, uris, Api, StandInOptions, LIVE_TIMEOUT};
use serde_json::{json, Value};

const LOCAL_TOKEN: &str = "local-test-token-private-5d2e";

fn backend(name: &str, api_base: &str, delivery: &str, key_file: &str) -> procs::Proc {
    procs::backend(
        name,
        &[
            "--cf-account",
            "local",
            "--cf-api-base",
            api_base,
            "--delivery-base",
            delivery,
            "--recordings-ttl-seconds",
            "1",
            "--signing-key-file",
            key_file,
        ],
        &[
            ("CF_API_TOKEN", LOCAL_TOKEN),
            ("JITSI_APP_ID", common::jitsi::APP),
            ("JITSI_APP_SECRET", common::jitsi::SECRET),
            ("PRIVATE_ROOMS", "true"),
            ("VIEWER_TOKEN_TTL", "60s"),
            ("RUST_LOG", "debug"),
        ],
    )
}

async fn post(api: &Api, path: &str, body: Value, bearer: Option<&str>) -> (u16, Value) {
    let mut req = api.client.post(api.url(path)).json(&body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn status(api: &Api, path: &str) -> u16 {
    api.get(path).await.status().as_u16()
}

/// The `tokenUrl` of a go-live answer's watch URL, decoded as a page would.
fn token_url(answer: &Value) -> String {
    let watch = answer["watchUrl"].as_str().unwrap();
    let (_, t) = watch.split_once("&tokenUrl=").expect("a tokenUrl");
    t.split('&')
        .next()
        .unwrap()
        .replace("%3F", "?")
        .replace("%3D", "=")
}

async fn viewer_token(api: &Api, token_url: &str, body: Value) -> Value {
    let (st, v) = post(api, token_url, body, None).await;
    assert_eq!(st, 200, "{v}");
    v
}

#[tokio::test]
async fn private_rooms_play_by_token_on_the_stand_in() {
    let cf = stand_in(
        "private",
        StandInOptions {
            token: LOCAL_TOKEN,
            data_dir: None,
            port: 0,
            args: &["--rtmp-port", "0"],
        },
    );
    let scratch = procs::scratch_dir("private-key");
    let key_file = scratch.join("signing-key.json");
    let key_path = key_file.to_str().unwrap();
    let be = backend("private", &cf.api_base(), &cf.proc.http, key_path);
    let api = be.api();
    let stand = cf.proc.api();

    let (st, a) = post(
        &api,
        "/api/rooms/room-a/live",
        json!({}),
        Some(&token("room-a")),
    )
    .await;
    assert_eq!(st, 201, "{a}");
    assert_eq!(a["private"], true);
    let input_a = a["inputUID"].as_str().unwrap().to_string();
    let url_a = token_url(&a);
    assert_eq!(
        url_a,
        format!("/api/rooms/room-a/viewer-token?input={input_a}")
    );
    let (st, b) = post(
        &api,
        "/api/rooms/room-b/live",
        json!({}),
        Some(&token("room-b")),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let input_b = b["inputUID"].as_str().unwrap().to_string();
    let url_b = token_url(&b);
    // The stand-in made the inputs private.
    assert_eq!(status(&stand, &format!("/{input_a}/lifecycle")).await, 401);
    assert_eq!(status(&stand, &format!("/{input_b}/lifecycle")).await, 401);

    let video = stand.start(&input_a, json!({})).await;
    let ta = viewer_token(&api, &url_a, json!({})).await;
    assert_eq!(ta["sub"], input_a.as_str());
    let ta = ta["token"].as_str().unwrap().to_string();
    let until = Instant::now() + LIVE_TIMEOUT;
    loop {
        let r = stand.get(&format!("/{ta}/lifecycle")).await;
        assert_eq!(r.status(), 200);
        let lc: Value = r.json().await.unwrap();
        if lc["live"] == true {
            assert_eq!(lc["videoUID"], video.as_str());
            break;
        }
        assert!(Instant::now() < until, "never live");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The moderator's status reads the private input with a token too.
    let r = api
        .client
        .get(api.url("/api/rooms/room-a/live"))
        .bearer_auth(token("room-a"))
        .send()
        .await
        .unwrap();
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["live"], true, "{st}");
    assert_eq!(st["videoUID"], video.as_str());
    assert!(st["viewers"].is_u64(), "{st}");
    let master = stand.playlist(&format!("/{ta}/manifest/video.m3u8")).await;
    let media = stand
        .playlist(&format!("/{ta}/manifest/{}", uris(&master)[0]))
        .await;
    let seg = uris(&media).pop().unwrap();
    assert_eq!(status(&stand, &format!("/{ta}/manifest/{seg}")).await, 200);
    assert_eq!(
        status(&stand, &format!("/{input_a}/manifest/{seg}")).await,
        401
    );

    // Room B's token shows room B (idle), never A's broadcast; room B does
    // not mint a token for room A's video.
    let tb = viewer_token(&api, &url_b, json!({})).await;
    assert_eq!(tb["sub"], input_b.as_str());
    let lc: Value = stand
        .get(&format!("/{}/lifecycle", tb["token"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lc["live"], false, "{lc}");
    assert_eq!(lc["videoUID"], Value::Null);
    let (st, v) = post(&api, &url_b, json!({"video": video}), None).await;
    assert_eq!(st, 404, "{v}");
    // Room A's link does not open room B.
    let other = format!("/api/rooms/room-b/viewer-token?input={input_a}");
    let (st, v) = post(&api, &other, json!({}), None).await;
    assert_eq!(st, 404, "{v}");

    // The recording, once listed: no URLs in the list, a token of its own.
    stand.stop(&input_a, "clean").await;
    let until = Instant::now() + Duration::from_secs(30);
    let list = loop {
        let r = api.get(&format!("/api/inputs/{input_a}/recordings")).await;
        let v: Value = r.json().await.unwrap_or(Value::Null);
        let listed = ["recordings", "processing"].iter().any(|k| {
            v[k].as_array()
                .is_some_and(|l| l.iter().any(|x| x["uid"] == video.as_str()))
        });
        if listed {
            break v;
        }
        assert!(Instant::now() < until, "never listed: {v}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(list["signed"], true, "{list}");
    assert!(!list.to_string().contains("manifest"), "{list}");
    let tv = viewer_token(&api, &url_a, json!({"video": video})).await;
    assert_eq!(tv["sub"], video.as_str());
    let tv = tv["token"].as_str().unwrap();
    assert_eq!(
        status(&stand, &format!("/{tv}/manifest/video.m3u8")).await,
        200
    );
    assert_eq!(
        status(&stand, &format!("/{video}/manifest/video.m3u8")).await,
        401
    );

    // One key, created on the stand-in and saved owner-only.
    let stats: Value = stand.get("/control/stats").await.json().await.unwrap();
    assert_eq!(stats["account"]["keys"], 1, "{stats}");
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let saved: Value = serde_json::from_slice(&std::fs::read(&key_file).unwrap()).unwrap();
    let pem = saved["pem"].as_str().unwrap();
    assert!(!be.log_text().contains(pem), "the key is never logged");

    // A restarted backend signs with the saved key: no new key, and its
    // tokens play.
    drop(be);
    let be = backend("private-2", &cf.api_base(), &cf.proc.http, key_path);
    let t = viewer_token(&be.api(), &url_a, json!({})).await;
    assert_eq!(
        status(
            &stand,
            &format!("/{}/lifecycle", t["token"].as_str().unwrap())
        )
        .await,
        200
    );
    let stats: Value = stand.get("/control/stats").await.json().await.unwrap();
    assert_eq!(stats["account"]["keys"], 1, "{stats}");
}
