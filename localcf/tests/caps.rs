//! Caps on what broadcasts cost (issue 15, item 7): picture size, preset,
//! frame rate, how many at once, how long, and free disk.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

async fn start_raw(api: &Api, uid: &str, body: Value) -> reqwest::Response {
    api.post(&format!("/control/inputs/{uid}/start"), body)
        .await
}

// Regression (issue 15 #7): one request for 3840x2160, placebo, 60 fps, ABR
// started an ffmpeg at 868 MB and 135 % CPU; four at once were all accepted.
#[tokio::test]
async fn costly_and_concurrent_broadcasts_are_refused() {
    let mut args = CHEAP.to_vec();
    args.extend(["--no-rtmp", "--max-broadcasts", "1"]);
    let s = Server::start("caps-cost", &args);
    let api = s.api();
    api.create_input("c1").await;
    api.create_input("c2").await;
    for (body, word) in [
        (
            json!({"size": "3840x2160", "preset": "placebo", "fps": 60, "abr": true}),
            "--max-video-size",
        ),
        (
            json!({"size": "1920x1080", "preset": "placebo"}),
            "--slowest-preset",
        ),
        (json!({"preset": "veryslow"}), "--slowest-preset"),
        (json!({"fps": 240}), "fps"),
    ] {
        let r = start_raw(&api, "c1", body.clone()).await;
        let msg = api.expect_error(r, 400).await;
        assert!(msg.contains(word), "{body}: {msg}");
    }
    let st: Value = api.get("/control/inputs/c1").await.json().await.unwrap();
    assert_eq!(st["state"], "idle", "{st}");
    assert_eq!(st["videoUIDs"], json!([]), "{st}");
    // One runs; the next is refused until it stops.
    api.start("c1", json!({"size": "160x90"})).await;
    let r = start_raw(&api, "c2", json!({"size": "160x90"})).await;
    let msg = api.expect_error(r, 409).await;
    assert!(msg.contains("--max-broadcasts"), "{msg}");
    api.stop("c1", "abrupt").await;
    api.start("c2", json!({"size": "160x90"})).await;
    api.stop("c2", "abrupt").await;
}

// Regression (issue 15 #7): no maximum duration.
#[tokio::test]
async fn a_broadcast_stops_at_the_maximum_duration() {
    let mut args = CHEAP.to_vec();
    args.extend(["--no-rtmp", "--max-broadcast-seconds", "6"]);
    let s = Server::start("caps-duration", &args);
    let api = s.api();
    api.create_input("d").await;
    let video = api.start("d", json!({"size": "160x90"})).await;
    let t0 = Instant::now();
    api.wait_live("d", true, LIVE_TIMEOUT).await;
    // Ended by itself, cleanly: the recording is whole.
    api.wait_live("d", false, Duration::from_secs(30)).await;
    assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
    let media = api
        .playlist(&format!("/{video}/manifest/stream_0.m3u8"))
        .await;
    assert!(media.contains("#EXT-X-ENDLIST"), "{media}");
}

// Regression (issue 15 #7): no free-space check before starting.
#[tokio::test]
async fn no_broadcast_without_free_disk() {
    let s = Server::start(
        "caps-disk",
        &["--no-rtmp", "--min-free-disk-mb", "1099511627776"],
    );
    let api = s.api();
    api.create_input("f").await;
    let r = start_raw(&api, "f", json!({})).await;
    let msg = api.expect_error(r, 409).await;
    assert!(msg.contains("--min-free-disk-mb"), "{msg}");
    assert_eq!(
        api.get("/control/inputs/f")
            .await
            .json::<Value>()
            .await
            .unwrap()["state"],
        "idle"
    );
}

// Issue 15 #10: inputs are capped too.
#[tokio::test]
async fn inputs_are_capped() {
    let s = Server::start("caps-inputs", &["--no-rtmp", "--max-inputs", "2"]);
    let api = s.api();
    api.create_input("i1").await;
    api.create_input("i2").await;
    let r = api.post("/control/inputs", json!({})).await;
    let msg = api.expect_error(r, 409).await;
    assert!(msg.contains("--max-inputs"), "{msg}");
    assert_eq!(api.delete("/control/inputs/i1").await.status(), 200);
    api.create_input("i3").await;
}
