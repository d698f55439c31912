//! The recordings endpoint and the account API stand-in against the real
//! binary: local mode (the server lists recordings from its own stand-in
//! over loopback), Cloudflare mode against a fake Cloudflare answering the
//! real JSON files, the cache seen from outside, and the token kept secret.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake_cloudflare::{self, shared, Reply};
use common::*;
use player_core::account::{Envelope, LiveInput, Video, VideoState};
use player_core::recordings::RecordingList;
use serde_json::{json, Value};

const LOCAL_TOKEN: &str = "local-test-token-7f3a9c2e5b1d4068";
const CF_TOKEN: &str = "cf-test-token-91c4e7a2d8b35f60";
const CF_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// Everything a test saw over HTTP, to look for the token in.
#[derive(Default)]
struct Seen(std::sync::Mutex<String>);

impl Seen {
    fn add(&self, r: &reqwest::Response) {
        let mut s = self.0.lock().unwrap();
        for (k, v) in r.headers() {
            s.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
    }
    fn add_body(&self, b: &str) {
        self.0.lock().unwrap().push_str(b);
    }
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// GET with headers recorded; the status, headers and body.
async fn fetch(
    api: &Api,
    seen: &Seen,
    path: &str,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = api.client.get(api.url(path));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("GET");
    seen.add(&r);
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.unwrap_or_default();
    seen.add_body(&body);
    (status, headers, body)
}

fn h(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn auth(token: &str) -> String {
    format!("Bearer {token}")
}

/// Polls the recordings endpoint until `pred` holds.
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
        assert_eq!(status, 200, "{body}");
        let list: RecordingList = serde_json::from_str(&body).expect("recordings json");
        if pred(&list) {
            return list;
        }
        assert!(Instant::now() < until, "timed out; last list {list:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn local_args() -> Vec<&'static str> {
    let mut a = CHEAP.to_vec();
    a.extend([
        "--recording-ready-seconds",
        "2",
        "--recordings-ttl-seconds",
        "1",
    ]);
    a
}

#[tokio::test]
async fn local_stand_in_checks_the_token_exactly_like_cloudflare() {
    let s = Server::start_with_env(
        "rec-auth",
        &local_args(),
        &[("CF_API_TOKEN", LOCAL_TOKEN), ("RUST_LOG", "debug")],
    );
    let api = s.api();
    let seen = Seen::default();
    api.create_input("auth-in").await;
    let videos = "/client/v4/accounts/local/stream/live_inputs/auth-in/videos";
    let auth_file = shared("api-error-auth.json");

    for bad in [
        None,
        Some("Bearer wrong"),
        Some("Basic abc"),
        Some(LOCAL_TOKEN),
    ] {
        let extra: Vec<(&str, &str)> = bad.map(|b| ("authorization", b)).into_iter().collect();
        let (status, headers, body) = fetch(&api, &seen, videos, &extra).await;
        assert_eq!(status, 401, "{bad:?}");
        assert_eq!(body, auth_file.trim_end(), "exactly api-error-auth.json");
        assert!(h(&headers, "content-type").starts_with("application/json"));
        assert_eq!(
            h(&headers, "access-control-allow-origin"),
            "",
            "no CORS on the account API"
        );
    }
    let good = auth(LOCAL_TOKEN);
    // Another account with the right token: 403, same body.
    let (status, _, body) = fetch(
        &api,
        &seen,
        "/client/v4/accounts/other/stream/live_inputs/auth-in/videos",
        &[("authorization", &good)],
    )
    .await;
    assert_eq!((status, body.as_str()), (403, auth_file.trim_end()));
    // Unknown routes and inputs: envelope 404s (after the token check).
    let (status, _, body) =
        fetch(&api, &seen, "/client/v4/zones", &[("authorization", &good)]).await;
    assert_eq!(status, 404);
    let env: Envelope<Value> = serde_json::from_str(&body).unwrap();
    assert!(!env.success && env.errors[0].code == 7003);
    let (status, _, _) = fetch(&api, &seen, "/client/v4/zones", &[]).await;
    assert_eq!(status, 401);
    let (status, _, body) = fetch(
        &api,
        &seen,
        "/client/v4/accounts/local/stream/live_inputs/nope/videos",
        &[("authorization", &good)],
    )
    .await;
    assert_eq!(status, 404);
    let env: Envelope<Vec<Video>> = serde_json::from_str(&body).unwrap();
    assert!(!env.success);

    // The right token: the envelope, an empty list for an input never live.
    let (status, _, body) = fetch(&api, &seen, videos, &[("authorization", &good)]).await;
    assert_eq!(status, 200);
    let env: Envelope<Vec<Video>> = serde_json::from_str(&body).unwrap();
    assert!(env.success && env.errors.is_empty());
    assert_eq!(env.result, Some(vec![]));

    // Create as Cloudflare's docs do; read it back; it is a real input.
    let r = api
        .client
        .post(api.url("/client/v4/accounts/local/stream/live_inputs"))
        .header("authorization", &good)
        .json(&json!({"meta": {"name": "Room 7"}, "recording": {"mode": "automatic",
               "timeoutSeconds": 10, "requireSignedURLs": false, "allowedOrigins": ["*.example.com"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let env: Envelope<LiveInput> = r.json().await.unwrap();
    let input = env.result.unwrap();
    assert_eq!(input.uid.len(), 32);
    assert_eq!(input.meta.name.as_deref(), Some("Room 7"));
    assert_eq!(input.recording.timeout_seconds, Some(10));
    assert_eq!(
        input.recording.allowed_origins,
        Some(vec!["*.example.com".into()])
    );
    let rtmps = input.rtmps.clone().unwrap();
    assert!(rtmps.url.starts_with("rtmp://127.0.0.1:") && rtmps.url.ends_with("/live/"));
    assert_eq!(rtmps.stream_key.len(), 32);
    let (status, _, body) = fetch(
        &api,
        &seen,
        &format!("/client/v4/accounts/local/stream/live_inputs/{}", input.uid),
        &[("authorization", &good)],
    )
    .await;
    assert_eq!(status, 200);
    let env: Envelope<LiveInput> = serde_json::from_str(&body).unwrap();
    assert_eq!(env.result.unwrap(), input);
    let lc = api.lifecycle(&input.uid).await;
    assert!(lc.is_input && !lc.live);
    // A POST without a token creates nothing.
    let r = api
        .client
        .post(api.url("/client/v4/accounts/local/stream/live_inputs"))
        .json(&json!({"meta": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        api.get("/control/inputs")
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn broadcast_becomes_a_recording_listed_by_the_endpoint() {
    let s = Server::start_with_env(
        "rec-local",
        &local_args(),
        &[("CF_API_TOKEN", LOCAL_TOKEN), ("RUST_LOG", "debug")],
    );
    let api = s.api();
    let seen = Seen::default();
    let good = auth(LOCAL_TOKEN);
    api.post("/control/inputs", json!({"uid": "rec", "name": "Weekly"}))
        .await;

    // Nothing yet: empty lists, with the caching headers.
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

    let video = api.start("rec", json!({})).await;
    api.wait_live("rec", true, LIVE_TIMEOUT).await;
    // The stand-in shows it live-inprogress; the endpoint as processing.
    let (_, _, body) = fetch(
        &api,
        &seen,
        "/client/v4/accounts/local/stream/live_inputs/rec/videos",
        &[("authorization", &good)],
    )
    .await;
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
    api.stop("rec", "clean").await;
    // Not ready before the delay, ready after it.
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
    assert_eq!(rec.hls, format!("{}/{video}/manifest/video.m3u8", s.http));
    assert_eq!(
        rec.thumbnail,
        format!("{}/{video}/thumbnails/thumbnail.jpg", s.http)
    );
    // The URLs play: a VOD master and a JPEG.
    let master = api.playlist(&format!("/{video}/manifest/video.m3u8")).await;
    assert!(master.contains("#EXT-X-STREAM-INF"));
    let media = api
        .playlist(&format!("/{video}/manifest/{}", uris(&master)[0]))
        .await;
    assert!(media.contains("#EXT-X-ENDLIST"));
    let r = api.get(&format!("/{video}/thumbnails/thumbnail.jpg")).await;
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

    // Unknown and impossible inputs: 404 JSON.
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

    // Stats: the endpoint's upstream calls are counted.
    let (_, _, body) = fetch(&api, &seen, "/control/stats", &[]).await;
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert!(
        stats["upstream"]["videos"].as_u64().unwrap() >= 2,
        "{stats}"
    );
    assert!(
        stats["recordings"]["requests"].as_u64().unwrap() >= 4,
        "{stats}"
    );
    assert_eq!(stats["recordings"]["notModified"], 1);

    // The token: in no answer, header or log line (RUST_LOG=debug).
    assert!(!seen.text().contains(LOCAL_TOKEN));
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(
        log.contains("recordings: asking the account API"),
        "debug log captured"
    );
    assert!(!log.contains(LOCAL_TOKEN), "token in the log");
}

#[tokio::test]
async fn recordings_survive_a_restart_and_play_again() {
    let mut first = Server::start_with_env("rec-restart-a", &local_args(), &[]);
    let data = first.data_dir.clone();
    let api = first.api();
    api.create_input("keep").await;
    let video = api.start("keep", json!({})).await;
    api.wait_live("keep", true, LIVE_TIMEOUT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    api.stop("keep", "clean").await;
    first.signal(libc::SIGTERM);
    assert_eq!(first.wait_exit(Duration::from_secs(15)), Some(0));

    let data_arg = data.to_string_lossy().to_string();
    let mut args = local_args();
    args.extend(["--data-dir", data_arg.as_str()]);
    let second = Server::start_with_env("rec-restart-b", &args, &[]);
    let api = second.api();
    api.create_input("keep").await;
    let seen = Seen::default();
    let list = wait_list(&api, &seen, "keep", Duration::from_secs(5), |l| {
        !l.recordings.is_empty()
    })
    .await;
    assert_eq!(list.recordings[0].uid, video);
    assert_eq!(
        list.recordings[0].hls,
        format!("{}/{video}/manifest/video.m3u8", second.http)
    );
    let master = api.playlist(&format!("/{video}/manifest/video.m3u8")).await;
    let media = api
        .playlist(&format!("/{video}/manifest/{}", uris(&master)[0]))
        .await;
    assert!(media.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{media}");
    // This run's control API lists only this run's broadcasts.
    let st: Value = api.get("/control/inputs/keep").await.json().await.unwrap();
    assert_eq!(st["videoUIDs"], json!([]));
}

/// The server in Cloudflare mode against the fake; the token comes from a file.
fn cloudflare_server(name: &str, fake_base: &str, extra: &[&str]) -> Server {
    let dir = scratch_dir(&format!("token-{name}"));
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{CF_TOKEN}\n")).unwrap();
    let mut args: Vec<String> = [
        "--no-rtmp",
        "--cf-account",
        CF_ACCOUNT,
        "--cf-api-base",
        fake_base,
        "--cf-api-token-file",
        token_file.to_str().unwrap(),
        "--cf-api-timeout-seconds",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with_env(name, &refs, &[("RUST_LOG", "debug")])
}

#[tokio::test]
async fn cloudflare_mode_lists_the_real_file_rewritten_and_caches() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = cloudflare_server(
        "rec-cf",
        &cf.base,
        &[
            "--delivery-base",
            "https://customer-abc.cloudflarestream.com",
            "--recordings-ttl-seconds",
            "2",
            "--recordings-cors-origins",
            "https://watch.example, http://127.0.0.1:9",
        ],
    );
    let api = s.api();
    let seen = Seen::default();
    let input = "34036a0695ab5237ce757ac53fd158a2";
    let path = format!("/api/inputs/{input}/recordings");

    let (status, headers, body) =
        fetch(&api, &seen, &path, &[("origin", "https://watch.example")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        h(&headers, "access-control-allow-origin"),
        "https://watch.example"
    );
    let list: RecordingList = serde_json::from_str(&body).unwrap();
    assert_eq!(list.recordings.len(), 1);
    assert_eq!(
        list.recordings[0].hls,
        "https://customer-abc.cloudflarestream.com/2ba59740c897a197df70814fd5ad991/manifest/video.m3u8"
    );
    assert_eq!(
        list.recordings[0].thumbnail,
        "https://customer-abc.cloudflarestream.com/2ba59740c897a197df70814fd5ad991/thumbnails/thumbnail.jpg"
    );
    assert_eq!(list.recordings[0].duration_seconds, 7272.0);
    assert_eq!(list.processing[0].state, "live-inprogress");
    // Another origin gets no CORS grant.
    let (_, headers, _) = fetch(&api, &seen, &path, &[("origin", "https://evil.example")]).await;
    assert_eq!(h(&headers, "access-control-allow-origin"), "");
    assert_eq!(cf.fake.calls(input), 1);

    // 1,000 concurrent viewers of a new input: one upstream call.
    let api = Arc::new(api);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                let r = api.get("/api/inputs/crowd/recordings").await;
                (r.status().as_u16(), header(&r, "etag"))
            })
        })
        .collect();
    let mut etags = std::collections::HashSet::new();
    for t in tasks {
        let (status, etag) = t.await.unwrap();
        assert_eq!(status, 200);
        etags.insert(etag);
    }
    assert_eq!(etags.len(), 1);
    assert_eq!(
        cf.fake.calls("crowd"),
        1,
        "one upstream call for 1,000 requests"
    );

    // TTL expiry: exactly one more.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    for _ in 0..50 {
        api.get("/api/inputs/crowd/recordings").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cf.fake.calls("crowd"), 2);

    // Upstream down: the stale copy is served (same ETag), not an error.
    cf.fake.set(Reply::raw(
        500,
        r#"{"success":false,"errors":[{"code":10002,"message":"boom"}]}"#,
    ));
    tokio::time::sleep(Duration::from_millis(2200)).await;
    for _ in 0..20 {
        let r = api.get("/api/inputs/crowd/recordings").await;
        assert_eq!(r.status(), 200);
        assert!(etags.contains(&header(&r, "etag")));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cf.fake.calls("crowd"), 3, "one refresh tried, then backoff");
    // A new input with upstream down and no copy: 502 JSON.
    let (status, headers, body) = fetch(&api, &seen, "/api/inputs/fresh1/recordings", &[]).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(h(&headers, "cache-control"), "no-store");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
    // Bad credentials upstream: 502, the token nowhere.
    cf.fake.set(Reply::raw(401, &shared("api-error-auth.json")));
    let (status, _, body) = fetch(&api, &seen, "/api/inputs/fresh2/recordings", &[]).await;
    assert_eq!(status, 502);
    assert!(body.contains("Authentication error"), "{body}");
    // Unknown input upstream: 404 (and cached).
    cf.fake.set(Reply::raw(404, r#"{"result":null,"success":false,"errors":[{"code":10003,"message":"Not found"}],"messages":[]}"#));
    for _ in 0..5 {
        let (status, _, _) = fetch(&api, &seen, "/api/inputs/gone/recordings", &[]).await;
        assert_eq!(status, 404);
    }
    assert_eq!(cf.fake.calls("gone"), 1);

    // 429: 503 + Retry-After for what has no copy, and no call before it.
    cf.fake.set(Reply::Raw {
        status: 429,
        body: "{}".into(),
        retry_after: Some("3".into()),
    });
    let (status, headers, _) = fetch(&api, &seen, "/api/inputs/limited/recordings", &[]).await;
    assert_eq!(status, 503);
    assert_eq!(h(&headers, "retry-after"), "3");
    let before = cf.fake.total_calls();
    for i in 0..10 {
        let (status, headers, _) =
            fetch(&api, &seen, &format!("/api/inputs/l{i}/recordings"), &[]).await;
        assert_eq!(status, 503);
        assert!(h(&headers, "retry-after").parse::<u64>().unwrap() <= 3);
        let (status, _, _) = fetch(&api, &seen, &path, &[]).await;
        assert_eq!(status, 200, "stale copy while rate limited");
    }
    assert_eq!(
        cf.fake.total_calls(),
        before,
        "no upstream call before Retry-After"
    );
    cf.fake.set(Reply::Real);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, _, _) = fetch(&api, &seen, "/api/inputs/limited/recordings", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(cf.fake.calls("limited"), 2);

    // The token went to Cloudflare, and nowhere else.
    assert!(cf
        .fake
        .auth_seen
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == &auth(CF_TOKEN)));
    assert!(!seen.text().contains(CF_TOKEN));
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(
        log.contains("account API call failed"),
        "failures are logged"
    );
    assert!(!log.contains(CF_TOKEN), "token in the log");
    let stats: Value = api.get("/control/stats").await.json().await.unwrap();
    assert_eq!(
        stats["upstream"]["videos"].as_u64(),
        Some(cf.fake.total_calls())
    );
}

#[test]
fn help_and_errors_never_show_the_token() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--help")
        .env("CF_API_TOKEN", "help-secret-token")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--cf-api-base",
        "--cf-account",
        "--cf-api-token",
        "--cf-api-token-file",
        "--delivery-base",
        "--recordings-cors-origins",
        "--recordings-ttl-seconds",
        "--recording-ready-seconds",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    assert!(help.contains("CF_API_TOKEN"));
    assert!(!help.contains("help-secret-token"), "{help}");
    // A Cloudflare account without a token fails fast, saying why.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--cf-account", "acc", "--port", "0", "--no-rtmp"])
        .env_remove("CF_API_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token"));
    // Both a token and a token file: refused without echoing the token.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args([
            "--cf-api-token-file",
            "/nonexistent",
            "--port",
            "0",
            "--no-rtmp",
        ])
        .env("CF_API_TOKEN", "both-secret-token")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("both-secret-token"));
}
