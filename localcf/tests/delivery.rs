//! Delivery endpoints against the real server: shapes, statuses, real media.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use player_core::cloudflare::{Lifecycle, Views};
use serde_json::{json, Value};

static SERVER: OnceLock<SharedServer> = OnceLock::new();

fn server() -> &'static SharedServer {
    SERVER.get_or_init(|| Server::shared("delivery", CHEAP))
}

#[tokio::test]
async fn idle_input_answers_like_cloudflare() {
    let api = server().api();
    api.create_input("idle").await;

    let lc = api.lifecycle("idle").await;
    assert_eq!(
        lc,
        Lifecycle {
            is_input: true,
            video_uid: None,
            live: false
        }
    );
    // The raw JSON has exactly Cloudflare's keys, videoUID null.
    let raw: Value = api.get("/idle/lifecycle").await.json().await.unwrap();
    assert_eq!(
        raw,
        json!({"isInput": true, "videoUID": null, "live": false})
    );

    let r = api.get("/idle/views").await;
    assert_eq!(r.status(), 200);
    let v: Views = r.json().await.unwrap();
    assert_eq!(v.live_viewers, 1, "this poll counts");

    let r = api.get("/idle/manifest/video.m3u8").await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.bytes().await.unwrap().len(), 0);

    api.expect_error(api.get("/idle/manifest/stream_0.m3u8").await, 404)
        .await;
    api.expect_error(api.get("/idle/manifest/stream_0_00000.ts").await, 404)
        .await;
    api.expect_error(api.get("/idle/thumbnails/thumbnail.jpg").await, 404)
        .await;
    api.expect_error(api.get("/idle/manifest/video.mpd").await, 404)
        .await;
}

#[tokio::test]
async fn unknown_ids_are_404_json() {
    let api = server().api();
    for path in [
        "/nope/lifecycle",
        "/nope/views",
        "/nope/manifest/video.m3u8",
        "/nope/manifest/stream_0.m3u8",
        "/nope/manifest/stream_0_00000.ts",
        "/nope/thumbnails/thumbnail.jpg",
        "/nope/other",
        "/a/b/c",
    ] {
        let r = api.get(path).await;
        assert_eq!(header(&r, "access-control-allow-origin"), "*", "{path}");
        api.expect_error(r, 404).await;
    }
}

#[tokio::test]
async fn cors_on_delivery_and_preflight() {
    let api = server().api();
    api.create_input("cors").await;
    for path in [
        "/cors/lifecycle",
        "/cors/views",
        "/cors/manifest/video.m3u8",
    ] {
        let r = api
            .client
            .get(api.url(path))
            .header("Origin", "http://elsewhere.example")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "access-control-allow-origin"), "*", "{path}");
        assert!(
            header(&r, "access-control-expose-headers")
                .to_lowercase()
                .contains("retry-after"),
            "{path}"
        );
    }
    let r = api
        .client
        .request(reqwest::Method::OPTIONS, api.url("/cors/lifecycle"))
        .header("Origin", "http://elsewhere.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    assert!(!header(&r, "access-control-allow-methods").is_empty());
    // The control API is for the developer's tools, not for web pages.
    let r = api
        .client
        .get(api.url("/control/health"))
        .header("Origin", "http://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "access-control-allow-origin"), "");
}

#[tokio::test]
async fn serves_the_player_at_root() {
    let api = server().api();
    for path in ["/", "/?input=demo", "/index.html"] {
        let r = api.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            header(&r, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert!(r.text().await.unwrap().contains("<title>player</title>"));
    }
    api.expect_error(api.get("/missing.js").await, 404).await;
}

#[tokio::test]
async fn broadcast_plays_then_ends_as_a_recording() {
    let api = server().api();
    api.create_input("bcast").await;
    let video = api.start("bcast", json!({})).await;
    assert_eq!(video.len(), 32);
    assert!(video
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));

    let lc = api.wait_live("bcast", true, LIVE_TIMEOUT).await;
    assert_eq!(
        lc,
        Lifecycle {
            is_input: true,
            video_uid: Some(video.clone()),
            live: true
        }
    );
    assert_eq!(
        api.lifecycle(&video).await,
        Lifecycle {
            is_input: false,
            video_uid: Some(video.clone()),
            live: true
        }
    );
    // Starting again while live: 409.
    let r = api.post("/control/inputs/bcast/start", json!({})).await;
    api.expect_error(r, 409).await;

    let master = api.playlist("/bcast/manifest/video.m3u8").await;
    assert!(master.starts_with("#EXTM3U"));
    assert!(master.contains("#EXT-X-STREAM-INF:BANDWIDTH="));
    assert!(master.contains("RESOLUTION=320x180"));
    let media_uri = uris(&master).remove(0);
    assert_eq!(media_uri, "stream_0.m3u8", "relative URI");
    let media = api.playlist(&format!("/bcast/manifest/{media_uri}")).await;
    assert!(!media.contains("#EXT-X-ENDLIST"));
    assert!(!media.contains("PLAYLIST-TYPE"));
    let first = uris(&media).remove(0);

    let r = api.get(&format!("/bcast/manifest/{first}")).await;
    assert_eq!(header(&r, "content-type"), "video/mp2t");
    let tmp = tempfile::tempdir().unwrap();
    let seg = download(
        &api,
        &format!("/bcast/manifest/{first}"),
        tmp.path(),
        "seg.ts",
    )
    .await;
    assert_eq!(ffprobe(&seg), ["audio:aac", "video:h264"]);
    // By video uid too.
    api.playlist(&format!("/{video}/manifest/video.m3u8")).await;
    download(
        &api,
        &format!("/{video}/manifest/{first}"),
        tmp.path(),
        "seg2.ts",
    )
    .await;

    // Thumbnail: a JPEG, height honoured; odd/garbage params ignored.
    for q in [
        "",
        "?height=90",
        "?time=0s&height=90&fit=crop",
        // What the player asks for (a seek inside a segment).
        "?time=1s&height=90",
        "?time=1.5s",
        "?time=banana&height=-3&fit=x",
    ] {
        let r = api
            .get(&format!("/bcast/thumbnails/thumbnail.jpg{q}"))
            .await;
        assert_eq!(r.status(), 200, "{q}");
        assert_eq!(header(&r, "content-type"), "image/jpeg");
        let jpeg = r.bytes().await.unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8]), "{q}");
        if q.contains("height=90") && !q.contains("banana") {
            let f = tmp.path().join("t.jpg");
            std::fs::write(&f, &jpeg).unwrap();
            let out = std::process::Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=height",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&f)
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "90");
        }
    }

    // Clean stop: not live as soon as stop answers.
    let t0 = Instant::now();
    assert_eq!(api.stop("bcast", "clean").await, video);
    assert!(t0.elapsed() < Duration::from_secs(8));
    assert_eq!(
        api.lifecycle("bcast").await,
        Lifecycle {
            is_input: true,
            video_uid: None,
            live: false
        }
    );
    assert_eq!(
        api.lifecycle(&video).await,
        Lifecycle {
            is_input: false,
            video_uid: Some(video.clone()),
            live: false
        }
    );
    assert_eq!(api.get("/bcast/manifest/video.m3u8").await.status(), 204);
    api.expect_error(api.post("/control/inputs/bcast/stop", json!({})).await, 409)
        .await;

    // By video uid: the whole recording as VOD.
    let master = api.playlist(&format!("/{video}/manifest/video.m3u8")).await;
    let vod = api
        .playlist(&format!("/{video}/manifest/{}", uris(&master)[0]))
        .await;
    assert!(vod.contains("#EXT-X-PLAYLIST-TYPE:VOD"));
    assert_eq!(vod.matches("#EXT-X-ENDLIST").count(), 1);
    assert!(vod.trim_end().ends_with("#EXT-X-ENDLIST"));
    assert!(vod.contains("#EXT-X-MEDIA-SEQUENCE:0"));
    assert_eq!(uris(&vod)[0], "stream_0_00000.ts");
    download(
        &api,
        &format!("/{video}/manifest/stream_0_00000.ts"),
        tmp.path(),
        "v.ts",
    )
    .await;
    // The thumbnail of an ended broadcast is its last frame.
    assert_eq!(
        api.get("/bcast/thumbnails/thumbnail.jpg").await.status(),
        200
    );

    // The recording and its meta.json are on disk.
    let dir = server().data_dir.join("videos").join(&video);
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["inputUID"], "bcast");
    assert_eq!(meta["videoUID"], video.as_str());
    assert_eq!(meta["state"], "ready");
    assert!(meta["durationSeconds"].as_f64().unwrap() > 0.0);
    assert!(meta["created"].as_str().unwrap().ends_with('Z'));
    assert!(meta["ended"].as_str().is_some());

    // A second broadcast gets a new video uid; the input plays only it.
    let video2 = api.start("bcast", json!({})).await;
    assert_ne!(video2, video);
    let lc = api.wait_live("bcast", true, LIVE_TIMEOUT).await;
    assert_eq!(lc.video_uid.as_deref(), Some(video2.as_str()));
    api.stop("bcast", "clean").await;
}

#[tokio::test]
async fn abrupt_stop_is_like_an_encoder_crash() {
    let api = server().api();
    let video = api.live_broadcast("crash").await;
    assert_eq!(api.stop("crash", "abrupt").await, video);
    assert!(!api.lifecycle("crash").await.live);
    let vod = api
        .playlist(&format!("/{video}/manifest/stream_0.m3u8"))
        .await;
    assert_eq!(vod.matches("#EXT-X-ENDLIST").count(), 1);
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
    assert!(
        meta["exit"].as_str().unwrap().contains("signal: 9"),
        "{meta}"
    );
    // ffmpeg's own playlist on disk was closed by the origin.
    let on_disk = std::fs::read_to_string(
        server()
            .data_dir
            .join("videos")
            .join(&video)
            .join("stream_0.m3u8"),
    )
    .unwrap();
    assert!(on_disk.trim_end().ends_with("#EXT-X-ENDLIST"));
}

#[tokio::test]
async fn ffmpeg_dying_ends_the_broadcast() {
    let api = server().api();
    let video = api.live_broadcast("dies").await;
    let pid = ffmpeg_of(server().pid, &video).expect("ffmpeg child of the server");
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
    let t0 = Instant::now();
    api.wait_live("dies", false, Duration::from_secs(5)).await;
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    let r = api.get("/control/inputs/dies").await;
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["state"], "idle");
    assert!(status["videoUID"].is_null());
    let vod = api
        .playlist(&format!("/{video}/manifest/stream_0.m3u8"))
        .await;
    assert!(vod.contains("#EXT-X-ENDLIST"));
    // The input can broadcast again.
    api.start("dies", json!({})).await;
    api.stop("dies", "abrupt").await;
}

#[tokio::test]
async fn live_playlist_is_a_bounded_window_and_the_recording_stays_whole() {
    let api = server().api();
    let video = api.live_broadcast("window").await;
    let dir = server().data_dir.join("videos").join(&video);
    // Wait for 5+ segments on disk (1 s each).
    let until = Instant::now() + Duration::from_secs(25);
    while files_ending(&dir, ".ts").len() < 6 {
        assert!(Instant::now() < until, "segments too slow");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let media = api.playlist("/window/manifest/stream_0.m3u8").await;
    assert_eq!(uris(&media).len(), 3, "{media}");
    let seq: u64 = media
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(seq >= 2, "{media}");
    assert_eq!(uris(&media)[0], format!("stream_0_{seq:05}.ts"));
    assert!(!media.contains("ENDLIST"));
    api.stop("window", "clean").await;
    let vod = api
        .playlist(&format!("/{video}/manifest/stream_0.m3u8"))
        .await;
    assert!(uris(&vod).len() >= 6);
    // By input uid after the end: the last window, closed.
    let ended = api.playlist("/window/manifest/stream_0.m3u8").await;
    assert_eq!(uris(&ended).len(), 3);
    assert!(ended.contains("#EXT-X-ENDLIST"));
}

#[tokio::test]
async fn abr_master_lists_two_playable_renditions() {
    let api = server().api();
    api.create_input("abr").await;
    let video = api
        .start("abr", json!({"abr": true, "size": "640x360", "fps": 10}))
        .await;
    api.wait_live("abr", true, LIVE_TIMEOUT).await;
    let master = api.playlist("/abr/manifest/video.m3u8").await;
    assert_eq!(uris(&master), ["stream_0.m3u8", "stream_1.m3u8"]);
    assert!(master.contains("RESOLUTION=640x360"));
    assert!(master.contains("RESOLUTION=320x180"));
    let tmp = tempfile::tempdir().unwrap();
    for (i, uri) in uris(&master).iter().enumerate() {
        let media = api.playlist(&format!("/abr/manifest/{uri}")).await;
        let seg = uris(&media).remove(0);
        let f = download(
            &api,
            &format!("/{video}/manifest/{seg}"),
            tmp.path(),
            &format!("{i}.ts"),
        )
        .await;
        assert_eq!(ffprobe(&f), ["audio:aac", "video:h264"]);
    }
    api.stop("abr", "clean").await;
}

#[tokio::test]
async fn views_count_distinct_clients_or_a_fixed_number() {
    let s = server();
    api_views(s).await;
}

async fn api_views(s: &SharedServer) {
    let api = s.api();
    api.create_input("views").await;
    // Three clients, three connections.
    let clients: Vec<Api> = (0..3).map(|_| s.api()).collect();
    let mut last = 0;
    for c in &clients {
        let v: Views = c.get("/views/views").await.json().await.unwrap();
        last = v.live_viewers;
    }
    assert_eq!(last, 3);
    // The same client again: still 3.
    let v: Views = clients[0].get("/views/views").await.json().await.unwrap();
    assert_eq!(v.live_viewers, 3);
    // A page id counts once whatever the connection.
    for _ in 0..2 {
        let v: Views = s
            .api()
            .get("/views/views?viewer=page1")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v.live_viewers, 4);
    }

    let r = api
        .put("/control/inputs/views/viewers", json!({"count": 1234}))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"fixed": 1234, "counted": 4}));
    let v: Views = api.get("/views/views").await.json().await.unwrap();
    assert_eq!(v.live_viewers, 1234);
    let status: Value = api.get("/control/inputs/views").await.json().await.unwrap();
    assert_eq!(status["viewers"]["fixed"], 1234);

    let r = api
        .put("/control/inputs/views/viewers", json!({"count": null}))
        .await;
    assert_eq!(r.status(), 200);
    let v: Views = api.get("/views/views").await.json().await.unwrap();
    assert_eq!(
        v.live_viewers, 5,
        "back to counting (api's own client is the 5th)"
    );
}

#[tokio::test]
async fn stats_count_requests_per_input() {
    let api = server().api();
    api.create_input("stats").await;
    let r = api.post("/control/stats/reset", json!({})).await;
    assert_eq!(r.status(), 200);
    for _ in 0..3 {
        api.get("/stats/lifecycle").await;
    }
    api.get("/stats/views").await;
    api.get("/stats/manifest/video.m3u8").await;
    api.get("/stats/manifest/stream_0.m3u8").await;
    api.get("/stats/manifest/stream_0_00001.ts").await;
    api.get("/stats/thumbnails/thumbnail.jpg").await;
    let stats: Value = api.get("/control/stats").await.json().await.unwrap();
    assert_eq!(
        stats["inputs"]["stats"],
        json!({"lifecycle": 3, "views": 1, "manifest": 1, "playlist": 1, "segment": 1, "thumbnail": 1})
    );
    let r = api.post("/control/stats/reset", json!({})).await;
    let stats: Value = r.json().await.unwrap();
    assert_eq!(stats["inputs"]["stats"]["lifecycle"], 0);
}

#[tokio::test]
async fn live_playlists_carry_each_segments_wall_clock() {
    let api = server().api();
    let video = api.live_broadcast("pdt").await;
    let dir = server().data_dir.join("videos").join(&video);
    let until = Instant::now() + Duration::from_secs(25);
    while files_ending(&dir, ".ts").len() < 5 {
        assert!(Instant::now() < until, "segments too slow");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let media = api.playlist("/pdt/manifest/stream_0.m3u8").await;
    let pl = localcf::hls::parse(&media).unwrap();
    assert!(pl.segments.len() >= 2, "{media}");
    let mut previous_end: Option<i64> = None;
    for s in &pl.segments {
        let tag = s
            .tags
            .iter()
            .find(|t| t.starts_with("#EXT-X-PROGRAM-DATE-TIME:"))
            .unwrap_or_else(|| panic!("{} has no EXT-X-PROGRAM-DATE-TIME:\n{media}", s.uri));
        assert!(tag.ends_with('Z'), "UTC, RFC 3339: {tag}");
        let start = s.program_date_time_ms().unwrap();
        let end = start + (s.duration * 1000.0).round() as i64;
        // The segment's own wall clock: ffmpeg closes its file once its
        // last frame is in (the encode runs at the wall clock's pace).
        let closed = std::fs::metadata(dir.join(&s.uri))
            .and_then(|m| m.modified())
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!(
            (closed - end).abs() < 1000,
            "{}: date-time + duration {end} ms, file closed at {closed} ms",
            s.uri
        );
        // Dates follow one another like the segments.
        if let Some(prev) = previous_end {
            assert!(
                (start - prev).abs() <= 50,
                "{}: {start} after {prev}",
                s.uri
            );
        }
        previous_end = Some(end);
    }
    api.stop("pdt", "clean").await;
}
