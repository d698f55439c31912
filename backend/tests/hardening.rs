//! What a hostile upstream or client tried against the backend binary on
//! loopback (issue 15), each pinned: endless `Retry-After`s, made-up input
//! ids, upstream text in answers, slow and silent sockets, missing security
//! headers, oversized input.

mod common;

use common::fake_cloudflare::{self, Reply};
use common::procs::{self, fetch, h, Proc, Seen};
use serde_json::Value;

const CF_TOKEN: &str = "cf-hardening-token-5e21c9d04b7a";
const CF_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn backend_against(name: &str, base: &str, extra: &[&str], envs: &[(&str, &str)]) -> Proc {
    let mut args: Vec<&str> = vec![
        "--cf-account",
        CF_ACCOUNT,
        "--cf-api-base",
        base,
        "--cf-api-timeout-seconds",
        "2",
    ];
    args.extend_from_slice(extra);
    let mut all = vec![("CF_API_TOKEN", CF_TOKEN), ("RUST_LOG", "debug")];
    all.extend_from_slice(envs);
    procs::backend(name, &args, &all)
}

fn error_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

// Regression (issue 15, 1): `Retry-After: 18446744073709551615` panicked in
// the cache (an abort in a release build) and a year-3000 date blocked every
// upstream call until a restart.
#[tokio::test]
async fn an_endless_retry_after_is_clamped() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = backend_against("retry-after", &cf.base, &[], &[]);
    let api = s.api();
    let seen = Seen::default();
    for (i, value) in [
        "18446744073709551615",
        "Wed, 01 Jan 3000 00:00:00 GMT",
        "-1",
        "soon",
    ]
    .into_iter()
    .enumerate()
    {
        cf.fake.set(Reply::Raw {
            status: 429,
            body: "{}".into(),
            retry_after: Some(value.into()),
        });
        let (status, headers, body) =
            fetch(&api, &seen, &format!("/api/inputs/ra{i}/recordings"), &[]).await;
        assert_eq!(status, 503, "{value}: {body}");
        let after: u64 = h(&headers, "retry-after").parse().unwrap();
        assert!((1..=300).contains(&after), "{value}: Retry-After {after}");
        assert!(error_json(&body)["error"].is_string());
    }
    // Still up, and its log shows no panic.
    cf.fake.set(Reply::Real);
    let (status, _, _) = fetch(&api, &seen, "/healthz-is-not-a-route", &[]).await;
    assert_eq!(status, 404);
    assert!(!s.log_text().contains("panicked"), "{}", s.log_text());
}

// Regression (issue 15, 4): upstream error text (Cloudflare's messages,
// connect errors, a `<script>` an upstream put in its message) went to
// anonymous viewers in 502 bodies.
#[tokio::test]
async fn upstream_text_stays_in_the_log() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = backend_against("upstream-text", &cf.base, &[], &[]);
    let api = s.api();
    let seen = Seen::default();
    let evil = "<script>alert(1)</script> db at 10.9.8.7:5432 refused";
    cf.fake.set(Reply::raw(
        500,
        &serde_json::json!({"success": false, "errors": [{"code": 10002, "message": evil}]})
            .to_string(),
    ));
    let (status, headers, body) = fetch(&api, &seen, "/api/inputs/evil/recordings", &[]).await;
    assert_eq!(status, 502, "{body}");
    for leak in ["<script>", "10.9.8.7", "refused", "Cloudflare API failed"] {
        assert!(!body.contains(leak), "{leak} in {body}");
    }
    let e = error_json(&body);
    assert_eq!(e["code"], "upstream_unavailable", "{body}");
    assert!(h(&headers, "content-type").starts_with("application/json"));
    assert_eq!(h(&headers, "cache-control"), "no-store");
    assert!(
        s.log_text().contains("10.9.8.7"),
        "details go to the log:\n{}",
        s.log_text()
    );

    // Nothing listens upstream: a connect error, not shown either.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}/client/v4");
    let s = backend_against("upstream-closed", &closed, &[], &[]);
    let (status, _, body) = fetch(&s.api(), &seen, "/api/inputs/any/recordings", &[]).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(error_json(&body)["code"], "upstream_unavailable");
    for leak in ["127.0.0.1", &port.to_string(), "onnect", "error sending"] {
        assert!(!body.contains(leak), "{leak} in {body}");
    }
    let log = s.log_text();
    assert!(log.contains("cannot reach the Cloudflare API"), "{log}");
    assert!(!seen.text().contains(CF_TOKEN));
    assert!(!log.contains(CF_TOKEN), "token in the log");
}

/// Open descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

// Regression (issue 15, 2): at 128 open files, 130 silent sockets took every
// descriptor ("Too many open files") and healthy requests failed; nothing
// closed them.
#[tokio::test]
async fn silent_sockets_past_the_cap_do_not_starve_healthy_requests() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = procs::backend_with_nofile(
        "fd-cap",
        &[
            "--cf-account",
            CF_ACCOUNT,
            "--cf-api-base",
            &cf.base,
            "--header-read-timeout-seconds",
            "2",
        ],
        &[("CF_API_TOKEN", CF_TOKEN), ("RUST_LOG", "debug")],
        128,
    );
    let api = s.api();
    let seen = Seen::default();
    let (status, _, _) = fetch(&api, &seen, "/api/inputs/first/recordings", &[]).await;
    assert_eq!(status, 200);
    let mut silent = Vec::new();
    for _ in 0..130 {
        silent.push(
            tokio::net::TcpStream::connect(("127.0.0.1", s.port()))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The kept-alive client still gets answers that need an upstream socket.
    let t0 = std::time::Instant::now();
    for i in 0..3 {
        let (status, _, body) = fetch(
            &api,
            &seen,
            &format!("/api/inputs/healthy{i}/recordings"),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        t0.elapsed()
    );
    let fds = open_fds(s.pid);
    assert!(fds < 128, "{fds} descriptors open");
    // The silent ones are closed by the header timeout; a new client gets in.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let fresh = procs::Api::new(&s.http);
    let (status, _, _) = fetch(&fresh, &seen, "/api/inputs/late/recordings", &[]).await;
    assert_eq!(status, 200);
    let log = s.log_text();
    assert!(log.contains("connection cap lowered"), "{log}");
    assert!(!log.contains("Too many open files"), "{log}");
}

// Regression (issue 15, 5): no nosniff anywhere, no CSP or frame-ancestors
// on the pages, no no-store on answers to requests with credentials.
#[tokio::test]
async fn security_headers_on_every_answer() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = backend_against(
        "headers",
        &cf.base,
        &["--frame-ancestors", "https://host.example"],
        &[],
    );
    let api = s.api();
    let seen = Seen::default();
    let (status, page, _) = fetch(&api, &seen, "/?input=abc", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(h(&page, "x-content-type-options"), "nosniff");
    assert_eq!(h(&page, "referrer-policy"), "no-referrer");
    assert!(
        h(&page, "content-security-policy")
            .starts_with("frame-ancestors 'self' https://host.example;"),
        "{page:?}"
    );
    // The watch page starts its lifecycle request from the headers, where
    // it names a public delivery host (backend/src/watch_page.rs).
    assert_eq!(
        h(&page, "link"),
        "",
        "no delivery host named: nothing to preload"
    );
    let (status, named, _) = fetch(&api, &seen, "/?input=abc&customer=f33zs165nr7gyfy4", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        h(&named, "link"),
        "<https://customer-f33zs165nr7gyfy4.cloudflarestream.com/abc/lifecycle>; rel=preload; as=fetch; crossorigin"
    );
    let private = "/?input=abc&customer=f33zs165nr7gyfy4&tokenUrl=/api/rooms/r/viewer-token";
    let (_, private, _) = fetch(&api, &seen, private, &[]).await;
    assert_eq!(
        h(&private, "link"),
        "",
        "a private room's lifecycle waits for its token"
    );
    let (_, m, _) = fetch(&api, &seen, "/moderator/?room=a&jwt=x.y.z", &[]).await;
    assert_eq!(h(&m, "link"), "");
    assert!(h(&m, "content-security-policy").starts_with("frame-ancestors 'self';"));
    assert_eq!(h(&m, "cache-control"), "no-store");
    let path = "/api/inputs/abc/recordings";
    let (status, json, _) = fetch(&api, &seen, path, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(h(&json, "x-content-type-options"), "nosniff");
    assert_eq!(h(&json, "content-security-policy"), "");
    assert!(h(&json, "cache-control").starts_with("public"));
    let (_, authed, _) = fetch(&api, &seen, path, &[("authorization", "Bearer a.b.c")]).await;
    assert_eq!(h(&authed, "cache-control"), "no-store");
    let (status, missing, _) = fetch(&api, &seen, "/no/such/file", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(h(&missing, "x-content-type-options"), "nosniff");
}

/// A raw HTTP/1.1 exchange (what reqwest would not send); the answer's
/// status line, headers and body as text.
async fn raw_exchange(port: u16, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

// Issue 15: every network input bounded and refused with a clear JSON
// error (oversized bodies, paths and ids; methods the static files refuse).
#[tokio::test]
async fn oversized_input_is_refused_with_json() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = backend_against("limits", &cf.base, &[], &[]);
    let api = s.api();
    let seen = Seen::default();
    // An id far past a uid's 64 characters: 404 JSON, no upstream call.
    let long = "a".repeat(10_000);
    let (status, headers, body) =
        fetch(&api, &seen, &format!("/api/inputs/{long}/recordings"), &[]).await;
    assert_eq!(status, 404, "{body}");
    assert!(h(&headers, "content-type").starts_with("application/json"));
    assert!(body.len() < 200, "the id is not echoed: {body}");
    assert_eq!(cf.fake.total_calls(), 0);
    // A body declared far larger than any route takes: 413 JSON before it
    // is read.
    let answer = raw_exchange(
        s.port(),
        b"POST /api/qoe HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n{",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
    // A chunked body that never ends within the cap: refused, not buffered.
    let mut chunked = b"POST /api/qoe HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..40 {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend_from_slice(&[b' '; 0x1000]);
        chunked.extend_from_slice(b"\r\n");
    }
    let answer = raw_exchange(s.port(), &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    // A method the static files do not take: JSON too.
    let answer = raw_exchange(
        s.port(),
        b"DELETE /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        answer.contains("\"code\":\"method_not_allowed\""),
        "{answer}"
    );
    // Headers past 64 KB: 431.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(70_000)
    );
    let answer = raw_exchange(s.port(), big.as_bytes()).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
}
