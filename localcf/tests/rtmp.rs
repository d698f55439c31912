//! RTMP ingest: an ffmpeg publisher makes its input live and playable;
//! leaving ends the broadcast.

mod common;

use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

static SERVER: OnceLock<SharedServer> = OnceLock::new();

fn server() -> &'static SharedServer {
    SERVER.get_or_init(|| Server::shared("rtmp", CHEAP))
}

/// The publisher of the issue: 320x180 test pattern + tone, `seconds` long.
fn publish(url: &str, seconds: u32) -> Child {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc2=size=320x180:rate=30")
        .args(["-f", "lavfi", "-i", "sine", "-t"])
        .arg(seconds.to_string())
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "60",
            "-c:a",
            "aac",
            "-f",
            "flv",
        ])
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg publisher")
}

async fn create(api: &Api, uid: &str, key: &str) -> String {
    let r = api
        .post("/control/inputs", json!({"uid": uid, "streamKey": key}))
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let url = v["rtmpUrl"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!("{}/live/{key}", server().rtmp.as_deref().unwrap())
    );
    url
}

#[tokio::test]
async fn publisher_makes_the_input_live_and_leaving_ends_it() {
    let api = server().api();
    let url = create(&api, "pub", "pub-key").await;
    let mut publisher = publish(&url, 12);

    let lc = api.wait_live("pub", true, LIVE_TIMEOUT).await;
    let video = lc.video_uid.expect("videoUID while live");
    let status: Value = api.get("/control/inputs/pub").await.json().await.unwrap();
    assert_eq!(status["source"], "rtmp");
    assert_eq!(status["videoUID"], video.as_str());

    let master = api.playlist("/pub/manifest/video.m3u8").await;
    let media = api
        .playlist(&format!("/pub/manifest/{}", uris(&master)[0]))
        .await;
    let seg = uris(&media).remove(0);
    let tmp = tempfile::tempdir().unwrap();
    let f = download(&api, &format!("/pub/manifest/{seg}"), tmp.path(), "seg.ts").await;
    assert_eq!(ffprobe(&f), ["audio:aac", "video:h264"]);
    assert_eq!(api.get("/pub/thumbnails/thumbnail.jpg").await.status(), 200);

    // Another publisher on the same key is refused while this one is live.
    let mut second = publish(&url, 2);
    let st = tokio::time::timeout(Duration::from_secs(10), second.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !st.success(),
        "a second publisher on a live input must be refused"
    );
    assert_eq!(
        api.lifecycle("pub").await.video_uid.as_deref(),
        Some(video.as_str())
    );

    let st = tokio::time::timeout(Duration::from_secs(20), publisher.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(st.success(), "publisher: {st}");
    let t0 = Instant::now();
    api.wait_live("pub", false, Duration::from_secs(5)).await;
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    let vod = api
        .playlist(&format!("/{video}/manifest/stream_0.m3u8"))
        .await;
    assert!(vod.contains("#EXT-X-PLAYLIST-TYPE:VOD"));
    assert!(vod.contains("#EXT-X-ENDLIST"));
    let meta: Value = serde_json::from_slice(
        &std::fs::read(
            server()
                .data_dir
                .join("videos")
                .join(&video)
                .join("meta.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(meta["source"], "rtmp");
    assert_eq!(meta["state"], "ready");

    // Publishing again makes a new video uid under the same input.
    let mut again = publish(&url, 10);
    let lc = api.wait_live("pub", true, LIVE_TIMEOUT).await;
    assert_ne!(lc.video_uid.as_deref(), Some(video.as_str()));
    let _ = again.kill().await;
    api.wait_live("pub", false, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn unknown_key_and_wrong_app_are_refused() {
    let api = server().api();
    create(&api, "refuse", "refuse-key").await;
    let base = server().rtmp.clone().unwrap();
    for url in [
        format!("{base}/live/not-a-key"),
        format!("{base}/other/refuse-key"),
    ] {
        let mut p = publish(&url, 2);
        let st = tokio::time::timeout(Duration::from_secs(10), p.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(!st.success(), "{url} accepted");
    }
    let status: Value = api
        .get("/control/inputs/refuse")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "idle");
    assert_eq!(status["videoUIDs"], json!([]));
}

#[tokio::test]
async fn control_stop_ends_an_rtmp_broadcast() {
    let api = server().api();
    let url = create(&api, "rstop", "rstop-key").await;
    let mut publisher = publish(&url, 30);
    let lc = api.wait_live("rstop", true, LIVE_TIMEOUT).await;
    let video = api.stop("rstop", "clean").await;
    assert_eq!(lc.video_uid.as_deref(), Some(video.as_str()));
    assert!(!api.lifecycle("rstop").await.live);
    let vod = api
        .playlist(&format!("/{video}/manifest/stream_0.m3u8"))
        .await;
    assert!(vod.contains("#EXT-X-ENDLIST"));
    // The publisher is disconnected.
    let st = tokio::time::timeout(Duration::from_secs(10), publisher.wait()).await;
    assert!(st.is_ok(), "publisher still connected");
}
