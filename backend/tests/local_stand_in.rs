//! The backend binary in front of the real local Cloudflare stand-in
//! (`localcf`, built in its own workspace: `cargo build --manifest-path
//! localcf/Cargo.toml`), as the demo and the e2e specs run them: a broadcast
//! on the stand-in becomes a recording listed by the backend's endpoint, and
//! recordings survive a restart of the stand-in while the backend keeps
//! serving.

mod common;

use std::time::{Duration, Instant};

use common::procs::{
    self, fetch, h, header, stand_in, uris, Api, Proc, Seen, StandInOptions, LIVE_TIMEOUT,
};
use player_core::recordings::RecordingList;
use serde_json::{json, Value};
use stream_api::account::{Envelope, Video, VideoState};

const LOCAL_TOKEN: &str = "local-test-token-7f3a9c2e5b1d4068";

/// The backend against a stand-in's account API, as the demo runs it.
fn backend_for(name: &str, api_base: &str) -> Proc {
    procs::backend(
        name,
        &[
            "--cf-account",
            "local",
            "--cf-api-base",
            api_base,
            "--recordings-ttl-seconds",
            "1",
            // The stand-in forgets its inputs on a restart and the tests
            // create them again: a 404 is not kept for long.
            "--recordings-missing-ttl-seconds",
            "1",
        ],
        &[("CF_API_TOKEN", LOCAL_TOKEN), ("RUST_LOG", "debug")],
    )
}

/// Polls the backend's recordings endpoint until it answers 200 and `pred`
/// holds.
async fn wait_list(
    api: &Api,
    seen: &Seen,
    input: &str,
    timeout: Duration,
    pred: impl Fn(&RecordingList) -> bool,
) -> RecordingList {
    let until = Instant::now() + timeout;
    loop {
        let (status, _, body) =
            fetch(api, seen, &format!("/api/inputs/{input}/recordings"), &[]).await;
        if status == 200 {
            let list: RecordingList = serde_json::from_str(&body).expect("recordings json");
            if pred(&list) {
                return list;
            }
            assert!(Instant::now() < until, "timed out; last list {list:?}");
        } else {
            assert!(
                Instant::now() < until,
                "timed out; last answer {status} {body}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls until the endpoint answers `want`.
async fn wait_status(api: &Api, seen: &Seen, input: &str, want: u16, timeout: Duration) {
    let until = Instant::now() + timeout;
    loop {
        let (status, _, body) =
            fetch(api, seen, &format!("/api/inputs/{input}/recordings"), &[]).await;
        if status == want {
            return;
        }
        assert!(
            Instant::now() < until,
            "never {want}; last answer {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Account API `.../videos` requests the stand-in answered (its debug log
/// has one line per request, with the URI).
fn videos_requests_served(stand_in: &Proc) -> usize {
    stand_in
        .log_text()
        .lines()
        .filter(|l| {
            l.contains("/client/v4/accounts/local/stream/live_inputs/")
                && l.contains("/videos")
                && l.contains("finished processing request")
        })
        .count()
}

/// Account API calls the backend logged making.
fn calls_logged(backend: &Proc) -> usize {
    backend
        .log_text()
        .lines()
        .filter(|l| l.contains("recordings: asking the account API"))
        .count()
}

#[tokio::test]
async fn a_broadcast_becomes_a_recording_listed_by_the_backend() {
    let cf = stand_in(
        "local-cf",
        StandInOptions {
            token: LOCAL_TOKEN,
            data_dir: None,
            port: 0,
            args: &["--recording-ready-seconds", "2"],
        },
    );
    let be = backend_for("local-be", &cf.api_base());
    let control = cf.proc.api();
    let api = be.api();
    let seen = Seen::default();
    control.create_named_input("rec", "Weekly").await;

    // Nothing yet: empty lists, with the caching and CORS headers.
    let (status, headers, body) = fetch(
        &api,
        &seen,
        "/api/inputs/rec/recordings",
        &[("origin", "http://watch.example")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list: RecordingList = serde_json::from_str(&body).unwrap();
    assert_eq!(list.input_uid, "rec");
    assert!(list.recordings.is_empty() && list.processing.is_empty());
    assert_eq!(
        h(&headers, "cache-control"),
        "public, max-age=1, stale-while-revalidate=2, stale-if-error=300"
    );
    assert!(h(&headers, "etag").starts_with('"'));
    assert_eq!(h(&headers, "access-control-allow-origin"), "*");
    assert!(h(&headers, "access-control-expose-headers")
        .to_lowercase()
        .contains("etag"));

    // Unknown (the stand-in says 404) and impossible inputs: 404 JSON.
    for path in [
        "/api/inputs/nope/recordings",
        "/api/inputs/a%20b/recordings",
    ] {
        let (status, headers, body) = fetch(&api, &seen, path, &[]).await;
        assert_eq!(status, 404, "{path}");
        assert!(h(&headers, "content-type").starts_with("application/json"));
        let e: Value = serde_json::from_str(&body).unwrap();
        assert!(e["error"].as_str().unwrap().contains("no live input"));
    }

    let video = control.start("rec", json!({})).await;
    control.wait_live("rec", true, LIVE_TIMEOUT).await;
    // The stand-in shows it live-inprogress (asked directly, with the
    // token, once); the backend's endpoint as processing.
    let (_, _, body) = fetch(
        &control,
        &seen,
        "/client/v4/accounts/local/stream/live_inputs/rec/videos",
        &[("authorization", &format!("Bearer {LOCAL_TOKEN}"))],
    )
    .await;
    let direct_calls = 1;
    let env: Envelope<Vec<Video>> = serde_json::from_str(&body).unwrap();
    let v = &env.result.unwrap()[0];
    assert_eq!(v.uid, video);
    assert_eq!(v.state(), Some(&VideoState::LiveInProgress));
    assert_eq!(v.duration, Some(-1.0));
    assert!(v.meta.name.as_deref().unwrap().starts_with("Weekly "));
    let list = wait_list(&api, &seen, "rec", Duration::from_secs(10), |l| {
        !l.processing.is_empty()
    })
    .await;
    assert_eq!(list.processing[0].uid, video);
    assert_eq!(list.processing[0].state, "live-inprogress");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopped = Instant::now();
    control.stop("rec", "clean").await;
    // Not ready before the stand-in's delay, ready after it.
    let list = wait_list(&api, &seen, "rec", Duration::from_secs(15), |l| {
        !l.recordings.is_empty()
    })
    .await;
    assert!(
        stopped.elapsed() >= Duration::from_secs(2),
        "ready too early"
    );
    assert!(list.processing.is_empty(), "{list:?}");
    let rec = &list.recordings[0];
    assert_eq!(rec.uid, video);
    assert!(rec.name.starts_with("Weekly "), "{}", rec.name);
    assert!(rec.duration_seconds > 0.5, "{}", rec.duration_seconds);
    // No --delivery-base: the URLs as the stand-in gives them.
    assert_eq!(
        rec.hls,
        format!("{}/{video}/manifest/video.m3u8", cf.proc.http)
    );
    assert_eq!(
        rec.thumbnail,
        format!("{}/{video}/thumbnails/thumbnail.jpg", cf.proc.http)
    );
    // The URLs play: a VOD master and a JPEG.
    let master = control
        .playlist(&format!("/{video}/manifest/video.m3u8"))
        .await;
    assert!(master.contains("#EXT-X-STREAM-INF"));
    let media = control
        .playlist(&format!("/{video}/manifest/{}", uris(&master)[0]))
        .await;
    assert!(media.contains("#EXT-X-ENDLIST"));
    let r = control
        .get(&format!("/{video}/thumbnails/thumbnail.jpg"))
        .await;
    assert_eq!(header(&r, "content-type"), "image/jpeg");

    // ETag: same list → 304, no body.
    let (_, headers, _) = fetch(&api, &seen, "/api/inputs/rec/recordings", &[]).await;
    let etag = h(&headers, "etag");
    let (status, headers, body) = fetch(
        &api,
        &seen,
        "/api/inputs/rec/recordings",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(h(&headers, "etag"), etag);
    assert!(h(&headers, "cache-control").contains("max-age=1"));
    let (status, _, _) = fetch(
        &api,
        &seen,
        "/api/inputs/rec/recordings",
        &[("if-none-match", "\"other\"")],
    )
    .await;
    assert_eq!(status, 200);

    // The calls: every one the backend made reached the stand-in, and the
    // polling above (one request per 200 ms, TTL 1 s) cost far fewer.
    // (Read once a background refresh the last request may have started is
    // over: no request is made meanwhile.)
    tokio::time::sleep(Duration::from_millis(500)).await;
    let logged = calls_logged(&be);
    assert!(logged >= 3, "{logged}");
    assert_eq!(videos_requests_served(&cf.proc), logged + direct_calls);

    // The token: in no answer, header or log line (both at RUST_LOG=debug).
    assert!(!seen.text().contains(LOCAL_TOKEN));
    let log = be.log_text();
    assert!(
        log.contains("recordings: asking the account API"),
        "debug log captured"
    );
    assert!(!log.contains(LOCAL_TOKEN), "token in the backend's log");
    assert!(
        !cf.proc.log_text().contains(LOCAL_TOKEN),
        "token in the stand-in's log"
    );
}

#[tokio::test]
async fn recordings_survive_a_stand_in_restart() {
    // The same port across the restart, as the backend is not restarted.
    let port = procs::steady_port();
    let mut first = stand_in(
        "restart-a",
        StandInOptions {
            token: LOCAL_TOKEN,
            data_dir: None,
            port,
            args: &["--recording-ready-seconds", "0"],
        },
    );
    let data = first.data_dir.clone();
    let be = backend_for("restart-be", &first.api_base());
    let api = be.api();
    let seen = Seen::default();
    let control = first.proc.api();
    control.create_named_input("keep", "Kept").await;
    let video = control.start("keep", json!({})).await;
    control.wait_live("keep", true, LIVE_TIMEOUT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    control.stop("keep", "clean").await;
    let before = wait_list(&api, &seen, "keep", Duration::from_secs(10), |l| {
        !l.recordings.is_empty()
    })
    .await;
    assert_eq!(before.recordings[0].uid, video);
    assert_eq!(first.proc.terminate(Duration::from_secs(15)), Some(0));

    // Stand-in down: the backend keeps serving its copy past the TTL.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..3 {
        let list = wait_list(&api, &seen, "keep", Duration::ZERO, |_| true).await;
        assert_eq!(list, before, "the copy while the stand-in is down");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        be.log_text()
            .contains("recordings: account API call failed"),
        "the failed refresh is logged"
    );

    // Back on the same data dir: the input is unknown until created again
    // (inputs live in memory), then its earlier recording is listed again.
    let second = stand_in(
        "restart-b",
        StandInOptions {
            token: LOCAL_TOKEN,
            data_dir: Some(&data),
            port,
            args: &["--recording-ready-seconds", "0"],
        },
    );
    assert_eq!(second.proc.http, first.proc.http);
    wait_status(&api, &seen, "keep", 404, Duration::from_secs(10)).await;
    let control = second.proc.api();
    control.create_named_input("keep", "Kept").await;
    let after = wait_list(&api, &seen, "keep", Duration::from_secs(10), |l| {
        !l.recordings.is_empty()
    })
    .await;
    assert_eq!(after.recordings.len(), 1);
    let rec = &after.recordings[0];
    assert_eq!(rec.uid, video);
    assert_eq!(rec.duration_seconds, before.recordings[0].duration_seconds);
    assert_eq!(
        rec.hls,
        format!("{}/{video}/manifest/video.m3u8", second.proc.http)
    );
    assert!(videos_requests_served(&second.proc) >= 2);
    // It plays from the restarted stand-in, as a VOD.
    let master = control
        .playlist(&format!("/{video}/manifest/video.m3u8"))
        .await;
    let media = control
        .playlist(&format!("/{video}/manifest/{}", uris(&master)[0]))
        .await;
    assert!(media.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{media}");
    // This run's control API lists only this run's broadcasts.
    let st: Value = control
        .get("/control/inputs/keep")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(st["videoUIDs"], serde_json::json!([]));
    assert!(!seen.text().contains(LOCAL_TOKEN));
    assert!(!be.log_text().contains(LOCAL_TOKEN));
}
