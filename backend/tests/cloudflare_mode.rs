//! The backend binary in front of a fake Cloudflare on loopback that answers
//! the real JSON files: the list rewritten to the delivery base, CORS for
//! the configured origins, the cache seen from outside (one upstream call
//! for 1,000 viewers, TTL, stale copy on failure, 404/502/503 mapping,
//! Retry-After honoured), and the token kept secret in --help, errors,
//! answers and logs.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::fake_cloudflare::{self, shared, Reply};
use common::procs::{self, fetch, h, header, Proc, Seen};
use player_core::recordings::RecordingList;
use serde_json::Value;

const CF_TOKEN: &str = "cf-test-token-91c4e7a2d8b35f60";
const CF_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
/// The input of the real `live-input-videos.json`.
const REAL_INPUT: &str = "34036a0695ab5237ce757ac53fd158a2";

/// The backend against the fake; the token comes from a file.
fn cloudflare_backend(name: &str, fake_base: &str, extra: &[&str]) -> Proc {
    let dir = procs::scratch_dir(&format!("token-{name}"));
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{CF_TOKEN}\n")).unwrap();
    let mut args: Vec<&str> = vec![
        "--cf-account",
        CF_ACCOUNT,
        "--cf-api-base",
        fake_base,
        "--cf-api-token-file",
        token_file.to_str().unwrap(),
        "--cf-api-timeout-seconds",
        "2",
    ];
    args.extend_from_slice(extra);
    procs::backend(name, &args, &[("RUST_LOG", "debug")])
}

/// Upstream calls the backend says it made (its debug log, one line each).
fn calls_logged(p: &Proc) -> u64 {
    p.log_text()
        .lines()
        .filter(|l| l.contains("recordings: asking the account API"))
        .count() as u64
}

#[tokio::test]
async fn lists_the_real_file_rewritten_and_caches() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = cloudflare_backend(
        "cf",
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
    let path = format!("/api/inputs/{REAL_INPUT}/recordings");

    let (status, headers, body) =
        fetch(&api, &seen, &path, &[("origin", "https://watch.example")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        h(&headers, "access-control-allow-origin"),
        "https://watch.example"
    );
    assert!(h(&headers, "content-type").starts_with("application/json"));
    // The real list has a broadcast on air (`live-inprogress`): about to
    // change, so no cache may serve it stale while it revalidates.
    assert_eq!(
        h(&headers, "cache-control"),
        "public, max-age=2, stale-if-error=300"
    );
    let list: RecordingList = serde_json::from_str(&body).unwrap();
    assert_eq!(list.input_uid, REAL_INPUT);
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
    assert_eq!(list.processing.len(), 1);
    assert_eq!(list.processing[0].state, "live-inprogress");
    // Another origin gets no CORS grant.
    let (_, headers, _) = fetch(&api, &seen, &path, &[("origin", "https://evil.example")]).await;
    assert_eq!(h(&headers, "access-control-allow-origin"), "");
    assert_eq!(cf.fake.calls(REAL_INPUT), 1);

    // ETag: the same list is a 304 without a body; another tag is a 200.
    let etag = h(&headers, "etag");
    assert!(etag.starts_with('"'), "{etag}");
    let (status, headers, body) = fetch(&api, &seen, &path, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(h(&headers, "etag"), etag);
    assert!(h(&headers, "cache-control").contains("max-age=2"));
    let (status, _, _) = fetch(&api, &seen, &path, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(status, 200);

    // The backend has no control API: that is the stand-in's.
    let (status, _, _) = fetch(&api, &seen, "/control/stats", &[]).await;
    assert_eq!(status, 404);

    // The moderator page: `/moderator?…` (the address Jitsi opens) lands on
    // the bundle's folder with its query (the token) kept, and no answer
    // lets an address with a token leave in a Referer.
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_follow
        .get(api.url("/moderator?room=standup&jwt=x.y.z"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(header(&r, "location"), "/moderator/?room=standup&jwt=x.y.z");
    assert_eq!(header(&r, "referrer-policy"), "no-referrer");
    let r = no_follow
        .get(api.url("/moderator/?room=standup&jwt=x.y.z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "referrer-policy"), "no-referrer");
    assert!(r.text().await.unwrap().contains("<title>moderator</title>"));

    // A viewer of a new input: one call, kept for the TTL.
    let mut etags = HashSet::new();
    for _ in 0..5 {
        let r = api.get("/api/inputs/crowd/recordings").await;
        assert_eq!(r.status(), 200);
        etags.insert(header(&r, "etag"));
    }
    assert_eq!(etags.len(), 1);
    assert_eq!(cf.fake.calls("crowd"), 1);

    // TTL expiry: exactly one more.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    // (Few requests: they must all fall within the next TTL, loaded or not.)
    for _ in 0..20 {
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
    for _ in 0..10 {
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
    // Bad credentials upstream: a plain 502 (Cloudflare's words go to the
    // log only), the token nowhere.
    cf.fake.set(Reply::raw(401, &shared("api-error-auth.json")));
    let (status, _, body) = fetch(&api, &seen, "/api/inputs/fresh2/recordings", &[]).await;
    assert_eq!(status, 502);
    assert!(!body.contains("Authentication error"), "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "upstream_unavailable"
    );
    // Unknown input upstream: 404 (and cached).
    cf.fake.set(Reply::raw(
        404,
        r#"{"result":null,"success":false,"errors":[{"code":10003,"message":"Not found"}],"messages":[]}"#,
    ));
    for _ in 0..5 {
        let (status, headers, body) = fetch(&api, &seen, "/api/inputs/gone/recordings", &[]).await;
        assert_eq!(status, 404);
        assert!(h(&headers, "content-type").starts_with("application/json"));
        let e: Value = serde_json::from_str(&body).unwrap();
        assert!(e["error"].as_str().unwrap().contains("no live input"));
    }
    assert_eq!(cf.fake.calls("gone"), 1);
    // An impossible input uid: 404 without asking upstream.
    let before = cf.fake.total_calls();
    let (status, _, body) = fetch(&api, &seen, "/api/inputs/a%20b/recordings", &[]).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no live input"), "{body}");
    assert_eq!(cf.fake.total_calls(), before);

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
        .all(|a| a == &format!("Bearer {CF_TOKEN}")));
    assert!(!seen.text().contains(CF_TOKEN));
    let log = s.log_text();
    assert!(
        log.contains("recordings: account API call failed"),
        "failures are logged"
    );
    assert!(!log.contains(CF_TOKEN), "token in the log");
    // Every call the fake saw is one the backend logged (no hidden calls).
    assert_eq!(calls_logged(&s), cf.fake.total_calls(), "{log}");
}

#[tokio::test]
async fn a_thousand_concurrent_viewers_cost_one_upstream_call() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    // A TTL longer than the crowd takes on a loaded machine: the count is
    // the flight sharing, not the clock.
    let s = cloudflare_backend("cf-crowd", &cf.base, &["--recordings-ttl-seconds", "60"]);
    let api = Arc::new(s.api());
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                let r = api.get("/api/inputs/crowd/recordings").await;
                (r.status().as_u16(), header(&r, "etag"))
            })
        })
        .collect();
    let mut etags = HashSet::new();
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
    assert_eq!(calls_logged(&s), 1);
}

#[tokio::test]
async fn a_slow_or_closed_upstream_is_a_502_not_a_hang() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    // Far slower than the timeout, so that even a loaded machine tells the
    // two apart.
    cf.fake.set(Reply::Slow(Duration::from_secs(30)));
    let s = cloudflare_backend("cf-slow", &cf.base, &[]);
    let api = s.api();
    let seen = Seen::default();
    let t0 = std::time::Instant::now();
    let (status, _, body) = fetch(&api, &seen, "/api/inputs/slow/recordings", &[]).await;
    assert_eq!(status, 502, "{body}");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(10),
        "--cf-api-timeout-seconds 2, took {took:?}"
    );
    // Nothing listens there: 502 at once.
    drop(cf);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/client/v4");
    let s = cloudflare_backend("cf-closed", &base, &[]);
    let (status, _, body) = fetch(&s.api(), &seen, "/api/inputs/any/recordings", &[]).await;
    assert_eq!(status, 502, "{body}");
    assert!(!seen.text().contains(CF_TOKEN));
    assert!(!s.log_text().contains(CF_TOKEN));
}

/// Runs the backend with `args` and `envs` (nothing else in its
/// environment but PATH) to its exit; (success, stdout, stderr).
fn run_backend(args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_errors_never_show_the_token() {
    // Every secret a deployment gives it through the environment.
    let secrets = [
        ("CF_API_TOKEN", "help-secret-token-3b9e"),
        ("JITSI_APP_SECRET", "help-secret-jwt-7c1d"),
    ];
    let (ok, help, _) = run_backend(&["--help"], &secrets);
    assert!(ok);
    for flag in [
        "--host",
        "--port",
        "--dist",
        "--cf-api-base",
        "--cf-account",
        "--cf-api-token",
        "--cf-api-token-file",
        "--cf-api-timeout-seconds",
        "--delivery-base",
        "--recordings-cors-origins",
        "--recordings-ttl-seconds",
        "--recordings-cache-inputs",
        "--recordings-missing-ttl-seconds",
        "--frame-ancestors",
        "--max-connections",
        "--header-read-timeout-seconds",
        "--request-timeout-seconds",
        "--idle-timeout-seconds",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    assert!(help.contains("CF_API_TOKEN"));
    for (name, value) in secrets {
        assert!(!help.contains(value), "--help shows {name}: {help}");
    }

    // No account: refused, saying which flag.
    let (ok, _, err) = run_backend(&["--port", "0"], &secrets[..1]);
    assert!(!ok);
    assert!(err.contains("--cf-account"), "{err}");
    // An account without a token fails fast, saying why.
    let (ok, _, err) = run_backend(&["--cf-account", "acc", "--port", "0"], &[]);
    assert!(!ok);
    assert!(err.contains("token"), "{err}");
    // Both a token and a token file: refused without echoing the token.
    let (ok, _, err) = run_backend(
        &[
            "--cf-account",
            "acc",
            "--cf-api-token-file",
            "/nonexistent",
            "--port",
            "0",
        ],
        &[("CF_API_TOKEN", "both-secret-token")],
    );
    assert!(!ok);
    assert!(!err.contains("both-secret-token"), "{err}");
    // The token as a flag and a bad API base: the error names the base only.
    let (ok, out, err) = run_backend(
        &[
            "--cf-account",
            "acc",
            "--cf-api-token",
            "flag-secret-token",
            "--cf-api-base",
            "not-a-url",
            "--port",
            "0",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("--cf-api-base"), "{err}");
    assert!(!err.contains("flag-secret-token") && !out.contains("flag-secret-token"));
    // A frame ancestor that would break out of the CSP: refused, named.
    let (ok, _, err) = run_backend(
        &[
            "--cf-account",
            "acc",
            "--port",
            "0",
            "--frame-ancestors",
            "https://a.example; script-src *",
        ],
        &[("CF_API_TOKEN", "t")],
    );
    assert!(!ok);
    assert!(err.contains("--frame-ancestors"), "{err}");
    // An empty token file: named, and refused.
    let dir = procs::scratch_dir("empty-token");
    let empty = dir.join("token");
    std::fs::write(&empty, "\n").unwrap();
    let (ok, _, err) = run_backend(
        &[
            "--cf-account",
            "acc",
            "--cf-api-token-file",
            empty.to_str().unwrap(),
            "--port",
            "0",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("empty"), "{err}");
}
