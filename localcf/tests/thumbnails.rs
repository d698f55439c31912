//! Issue 15, item 9: thumbnails cannot be used to keep the machine busy.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Children of `parent` that are thumbnail ffmpegs (their command line
/// writes an image to a pipe), by pid.
fn thumbnail_ffmpegs(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(parent) {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.windows(10).any(|w| w == b"image2pipe") {
            found.push(pid);
        }
    }
    found
}

/// Before: each of 300 distinct `time`/`height` pairs ran its own ffmpeg
/// and waited without bound (15.8 s of both cores). Now they round to a few
/// keys, share jobs, and what does not fit is refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_distinct_requests_are_bounded() {
    let server = Server::start("thumbs", CHEAP);
    let api = server.api();
    api.create_input("t").await;
    api.start("t", json!({})).await;
    api.wait_live("t", true, LIVE_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    api.stop("t", "clean").await;

    // Watch the server's thumbnail ffmpegs while the requests run.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new((0usize, HashSet::new())));
    let sampler = {
        let (stop, seen, pid) = (Arc::clone(&stop), Arc::clone(&seen), server.pid);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let now = thumbnail_ffmpegs(pid);
                let mut s = seen.lock().unwrap();
                s.0 = s.0.max(now.len());
                s.1.extend(now);
                drop(s);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };

    let api = Arc::new(api);
    let started = Instant::now();
    let mut requests = Vec::new();
    for i in 0..300u32 {
        let api = Arc::clone(&api);
        // Distinct text for every request: times 0.0 s to 29.9 s, heights 60 to 1255.
        let q = format!("?time={}.{}s&height={}", i / 10, i % 10, 60 + i * 4);
        requests.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = api.get(&format!("/t/thumbnails/thumbnail.jpg{q}")).await;
            let status = r.status().as_u16();
            let retry_after = header(&r, "retry-after");
            let body = r.bytes().await.unwrap();
            (status, retry_after, body, t.elapsed())
        }));
    }
    let (mut ok, mut busy, mut slowest) = (0, 0, Duration::ZERO);
    for r in requests {
        let (status, retry_after, body, took) = r.await.unwrap();
        slowest = slowest.max(took);
        match status {
            200 => {
                assert!(body.starts_with(&[0xFF, 0xD8]));
                ok += 1;
            }
            503 => {
                assert_eq!(retry_after, "1");
                busy += 1;
            }
            other => panic!("status {other}"),
        }
    }
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let (peak, pids) = {
        let s = seen.lock().unwrap();
        (s.0, s.1.len())
    };
    eprintln!(
        "300 requests: {ok} x 200, {busy} x 503 in {total:?} (slowest {slowest:?}); \
         ffmpeg: at most {peak} at once, {pids} seen"
    );
    assert!(ok > 0, "some thumbnails are made");
    assert!(peak <= 2, "{peak} thumbnail ffmpegs at once");
    // 7 heights x (about 5 whole seconds + 1) keys at most: never one ffmpeg per request.
    assert!(pids <= 60, "{pids} ffmpeg runs for 300 requests");
    assert!(total < Duration::from_secs(10), "{total:?}");
    assert!(slowest < Duration::from_secs(8), "{slowest:?}");

    // Asked again: what was made is cached (several per video), so those are 200s.
    let r = api
        .get("/t/thumbnails/thumbnail.jpg?time=0s&height=90")
        .await;
    assert!(matches!(r.status().as_u16(), 200 | 503));
}
