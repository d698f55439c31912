//! The process: READY line, flags and env, the demo schedule, shutdown with
//! no ffmpeg and no temp file left behind.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

#[test]
fn help_documents_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_localcf"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--host",
        "--port",
        "--rtmp-port",
        "--no-rtmp",
        "--data-dir",
        "--dist",
        "--demo",
        "--demo-idle-seconds",
        "--demo-live-seconds",
        "--video-size",
        "--preset",
        "--fps",
        "--abr",
        "--segment-seconds",
        "--live-window-segments",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    for env in [
        "HOST",
        "PORT",
        "RTMP_PORT",
        "DATA_DIR",
        "DIST_DIR",
        "DEMO",
        "VIDEO_SIZE",
        "X264_PRESET",
    ] {
        assert!(
            help.contains(&format!("[env: {env}=")),
            "--help lacks env {env}"
        );
    }
}

#[test]
fn bad_flags_fail_fast() {
    let out = Command::new(env!("CARGO_BIN_EXE_localcf"))
        .args(["--video-size", "huge"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("video size"));
}

#[tokio::test]
async fn no_rtmp_and_config_from_env() {
    // Flags from the environment: NO_RTMP, VIDEO_SIZE, FPS.
    let s = Server::start_with_env(
        "env",
        &["--preset", "ultrafast", "--segment-seconds", "1"],
        &[("NO_RTMP", "true"), ("VIDEO_SIZE", "160x90"), ("FPS", "10")],
    );
    assert_eq!(s.rtmp, None, "rtmp=none");
    let api = s.api();
    let c = api.create_input("env").await;
    assert_eq!(c["rtmpUrl"], Value::Null);
    api.start("env", json!({})).await;
    api.wait_live("env", true, LIVE_TIMEOUT).await;
    let master = api.playlist("/env/manifest/video.m3u8").await;
    assert!(master.contains("RESOLUTION=160x90"), "{master}");
    assert!(master.contains("FRAME-RATE=10.000"), "{master}");
}

/// Regression: the server must never leave an ffmpeg behind.
async fn shutdown_leaves_nothing(signal: i32, name: &str) {
    let mut s = Server::start(name, CHEAP);
    let api = s.api();
    let mut videos = Vec::new();
    for uid in ["sd-a", "sd-b"] {
        api.create_input(uid).await;
        videos.push(api.start(uid, json!({})).await);
    }
    for uid in ["sd-a", "sd-b"] {
        api.wait_live(uid, true, LIVE_TIMEOUT).await;
    }
    let children = children_of(s.pid);
    assert_eq!(children.len(), 2, "two ffmpeg children: {children:?}");
    s.signal(signal);
    let code = s.wait_exit(Duration::from_secs(15));
    assert_eq!(code, Some(0), "exit code");
    for pid in children {
        let until = Instant::now() + Duration::from_secs(2);
        while alive(pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "ffmpeg {pid} outlived the server");
    }
    assert!(processes_mentioning(&s.data_dir.display().to_string()).is_empty());
    assert!(
        files_ending(&s.data_dir, ".tmp").is_empty(),
        "temp files left"
    );
    // Each recording was closed cleanly.
    for v in videos {
        let dir = s.data_dir.join("videos").join(&v);
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
        assert_eq!(meta["state"], "ready", "{meta}");
        let pl = std::fs::read_to_string(dir.join("stream_0.m3u8")).unwrap();
        assert!(pl.trim_end().ends_with("#EXT-X-ENDLIST"));
    }
}

#[tokio::test]
async fn sigterm_stops_every_ffmpeg_and_exits_0() {
    shutdown_leaves_nothing(libc::SIGTERM, "sigterm").await;
}

#[tokio::test]
async fn sigint_stops_every_ffmpeg_and_exits_0() {
    shutdown_leaves_nothing(libc::SIGINT, "sigint").await;
}

#[tokio::test]
async fn killed_server_takes_its_ffmpeg_along() {
    let mut s = Server::start("sigkill", CHEAP);
    let api = s.api();
    let video = api.live_broadcast("k").await;
    let ffmpeg = ffmpeg_of(s.pid, &video).expect("ffmpeg child");
    s.signal(libc::SIGKILL);
    s.wait_exit(Duration::from_secs(5));
    let until = Instant::now() + Duration::from_secs(3);
    while alive(ffmpeg) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(ffmpeg), "ffmpeg survived a SIGKILLed server");

    // The next start closes the recording left live.
    let data = s.data_dir.clone();
    let s2 = Server::start_with_env(
        "sigkill-2",
        &["--data-dir", &data.display().to_string()],
        &[],
    );
    let meta: Value = serde_json::from_slice(
        &std::fs::read(data.join("videos").join(&video).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["state"], "ready", "{meta}");
    drop(s2);
}

#[tokio::test]
async fn demo_schedule_loops_idle_live_ended() {
    let s = Server::start(
        "demo",
        &[
            "--demo",
            "--demo-idle-seconds",
            "1",
            "--demo-live-seconds",
            // Counted from the encoder's start; live needs 3 segments of 1 s.
            "6",
            "--video-size",
            "160x90",
            "--preset",
            "ultrafast",
            "--fps",
            "10",
            "--segment-seconds",
            "1",
        ],
    );
    let api = s.api();
    let status: Value = api.get("/control/inputs/demo").await.json().await.unwrap();
    assert_eq!(status["streamKey"], "demo");
    assert!(!api.lifecycle("demo").await.live, "starts idle");
    let first = api.wait_live("demo", true, Duration::from_secs(15)).await;
    let t0 = Instant::now();
    api.wait_live("demo", false, Duration::from_secs(10)).await;
    assert!(t0.elapsed() > Duration::from_secs(1));
    let second = api.wait_live("demo", true, Duration::from_secs(15)).await;
    assert_ne!(
        first.video_uid, second.video_uid,
        "a new video uid per broadcast"
    );
    // The first one is a finished recording.
    let v1 = first.video_uid.unwrap();
    let vod = api.playlist(&format!("/{v1}/manifest/stream_0.m3u8")).await;
    assert!(vod.contains("#EXT-X-ENDLIST"));
}
