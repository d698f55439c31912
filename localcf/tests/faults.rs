//! Fault injection: each switch does what it says, by input uid and by video
//! uid, and clears.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use player_core::cloudflare::{Lifecycle, Views};
use serde_json::{json, Value};

static SERVER: OnceLock<SharedServer> = OnceLock::new();

fn server() -> &'static SharedServer {
    SERVER.get_or_init(|| Server::shared("faults", CHEAP))
}

async fn set(api: &Api, uid: &str, patch: Value) -> Value {
    let r = api
        .put(&format!("/control/inputs/{uid}/faults"), patch)
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn clear(api: &Api, uid: &str) -> Value {
    let r = api.delete(&format!("/control/inputs/{uid}/faults")).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn no_faults() -> Value {
    json!({"lifecycle": null, "slowMs": 15000, "views": null, "segments404": false,
           "rateLimit": null, "manifest404Seconds": null})
}

#[tokio::test]
async fn faults_merge_and_clear() {
    let api = server().api();
    api.create_input("merge").await;
    let r = api.get("/control/inputs/merge/faults").await;
    assert_eq!(r.json::<Value>().await.unwrap(), no_faults());
    let f = set(&api, "merge", json!({"lifecycle": "slow", "slowMs": 100})).await;
    assert_eq!(f["lifecycle"], "slow");
    assert_eq!(f["slowMs"], 100);
    let f = set(&api, "merge", json!({"segments404": true})).await;
    assert_eq!(f["lifecycle"], "slow", "merge keeps earlier switches");
    assert_eq!(f["segments404"], true);
    let f = set(&api, "merge", json!({"lifecycle": null})).await;
    assert!(f["lifecycle"].is_null());
    let status: Value = api.get("/control/inputs/merge").await.json().await.unwrap();
    assert_eq!(status["faults"], f);
    assert_eq!(clear(&api, "merge").await, no_faults());
}

#[tokio::test]
async fn lifecycle_error500_then_cleared() {
    let api = server().api();
    api.create_input("l500").await;
    set(&api, "l500", json!({"lifecycle": "error500"})).await;
    let r = api.get("/l500/lifecycle").await;
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    api.expect_error(r, 500).await;
    // Other endpoints are untouched.
    assert_eq!(api.get("/l500/views").await.status(), 200);
    clear(&api, "l500").await;
    assert!(!api.lifecycle("l500").await.live);
}

#[tokio::test]
async fn lifecycle_malformed_is_200_with_broken_json() {
    let api = server().api();
    api.create_input("lmal").await;
    set(&api, "lmal", json!({"lifecycle": "malformed"})).await;
    let r = api.get("/lmal/lifecycle").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let body = r.text().await.unwrap();
    assert!(serde_json::from_str::<Lifecycle>(&body).is_err(), "{body}");
    clear(&api, "lmal").await;
    api.lifecycle("lmal").await;
}

#[tokio::test]
async fn lifecycle_slow_outlasts_a_client_timeout() {
    let api = server().api();
    api.create_input("lslow").await;
    set(&api, "lslow", json!({"lifecycle": "slow", "slowMs": 1500})).await;
    // A client with a 500 ms timeout gives up.
    let r = api
        .client
        .get(api.url("/lslow/lifecycle"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    // A patient one gets the normal answer, late.
    let t0 = Instant::now();
    let lc = api.lifecycle("lslow").await;
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );
    assert!(lc.is_input);
    clear(&api, "lslow").await;
    let t0 = Instant::now();
    api.lifecycle("lslow").await;
    assert!(t0.elapsed() < Duration::from_millis(1000));
}

#[tokio::test]
async fn views_error500_then_cleared() {
    let api = server().api();
    api.create_input("v500").await;
    set(&api, "v500", json!({"views": "error500"})).await;
    api.expect_error(api.get("/v500/views").await, 500).await;
    assert_eq!(api.get("/v500/lifecycle").await.status(), 200);
    clear(&api, "v500").await;
    let v: Views = api.get("/v500/views").await.json().await.unwrap();
    assert_eq!(v.live_viewers, 1);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let api = server().api();
    api.create_input("rl").await;
    set(&api, "rl", json!({"rateLimit": {"retryAfter": 7}})).await;
    for path in ["/rl/lifecycle", "/rl/views"] {
        let r = api
            .client
            .get(api.url(path))
            .header("Origin", "http://elsewhere.example")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "retry-after"), "7", "{path}");
        assert_eq!(header(&r, "access-control-allow-origin"), "*");
        assert!(header(&r, "access-control-expose-headers")
            .to_lowercase()
            .contains("retry-after"));
        api.expect_error(r, 429).await;
    }
    // Manifests are not rate limited.
    assert_eq!(api.get("/rl/manifest/video.m3u8").await.status(), 204);
    clear(&api, "rl").await;
    assert_eq!(api.get("/rl/lifecycle").await.status(), 200);
    assert_eq!(api.get("/rl/views").await.status(), 200);
}

#[tokio::test]
async fn segments_404_by_input_and_video_uid_then_cleared() {
    let api = server().api();
    let video = api.live_broadcast("s404").await;
    let media = api.playlist("/s404/manifest/stream_0.m3u8").await;
    let seg = uris(&media).remove(0);
    set(&api, "s404", json!({"segments404": true})).await;
    for id in ["s404", video.as_str()] {
        api.expect_error(api.get(&format!("/{id}/manifest/{seg}")).await, 404)
            .await;
        // Playlists still answer.
        api.playlist(&format!("/{id}/manifest/stream_0.m3u8")).await;
    }
    clear(&api, "s404").await;
    for id in ["s404", video.as_str()] {
        assert_eq!(
            api.get(&format!("/{id}/manifest/{seg}")).await.status(),
            200
        );
    }
    api.stop("s404", "abrupt").await;
}

#[tokio::test]
async fn faults_apply_by_video_uid() {
    let api = server().api();
    let video = api.live_broadcast("byvid").await;
    set(
        &api,
        "byvid",
        json!({"lifecycle": "error500", "views": "error500"}),
    )
    .await;
    api.expect_error(api.get(&format!("/{video}/lifecycle")).await, 500)
        .await;
    api.expect_error(api.get(&format!("/{video}/views")).await, 500)
        .await;
    set(&api, "byvid", json!({"rateLimit": {"retryAfter": 2}})).await;
    let r = api.get(&format!("/{video}/lifecycle")).await;
    assert_eq!(header(&r, "retry-after"), "2");
    api.expect_error(r, 429).await;
    clear(&api, "byvid").await;
    assert!(api.lifecycle(&video).await.live);
    api.stop("byvid", "abrupt").await;
}

#[tokio::test]
async fn manifest_404_for_n_seconds_after_live() {
    let api = server().api();
    api.create_input("m404").await;
    set(&api, "m404", json!({"manifest404Seconds": 3})).await;
    let video = api.start("m404", json!({})).await;
    let lc = api.wait_live("m404", true, LIVE_TIMEOUT).await;
    let live_at = Instant::now();
    assert_eq!(lc.video_uid.as_deref(), Some(video.as_str()));
    for path in [
        "/m404/manifest/video.m3u8".to_string(),
        "/m404/manifest/stream_0.m3u8".to_string(),
        format!("/{video}/manifest/video.m3u8"),
        format!("/{video}/manifest/stream_0.m3u8"),
    ] {
        api.expect_error(api.get(&path).await, 404).await;
    }
    // Playable once the 3 s have passed (counted from going live).
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let r = api.get("/m404/manifest/video.m3u8").await;
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 404);
        assert!(Instant::now() < until, "manifest never became playable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waited = live_at.elapsed();
    assert!(waited >= Duration::from_millis(2000), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    api.playlist("/m404/manifest/stream_0.m3u8").await;
    api.stop("m404", "abrupt").await;

    // Cleared: the next broadcast plays as soon as it is live.
    clear(&api, "m404").await;
    api.start("m404", json!({})).await;
    api.wait_live("m404", true, LIVE_TIMEOUT).await;
    api.playlist("/m404/manifest/video.m3u8").await;
    api.stop("m404", "abrupt").await;
}
