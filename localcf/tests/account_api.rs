//! The account API stand-in at /client/v4, against the real binary: the
//! token check exactly like Cloudflare's (401 with `api-error-auth.json`
//! byte for byte, 403 for another account, no CORS), envelope 404s, creating
//! and reading inputs as Cloudflare's docs do, a closed API without a token,
//! and the token kept out of --help and the log.

mod common;

use std::process::Command;

use common::*;
use serde_json::{json, Value};
use stream_api::account::{Envelope, LiveInput, Video};

const TOKEN: &str = "local-test-token-7f3a9c2e5b1d4068";
const VIDEOS: &str = "/client/v4/accounts/local/stream/live_inputs/auth-in/videos";

/// `../shared/cloudflare/<name>` (beside the repository), as it is.
fn shared(name: &str) -> String {
    let path = format!(
        "{}/../../shared/cloudflare/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// GET with one optional Authorization header; status, headers, body.
async fn get(
    api: &Api,
    path: &str,
    auth: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = api.client.get(api.url(path));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap_or_default())
}

fn h(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn checks_the_token_exactly_like_cloudflare() {
    let s = Server::start_with_env(
        "acct-auth",
        CHEAP,
        &[("CF_API_TOKEN", TOKEN), ("RUST_LOG", "debug")],
    );
    let api = s.api();
    api.create_input("auth-in").await;
    let auth_file = shared("api-error-auth.json");
    let good = format!("Bearer {TOKEN}");

    for bad in [
        None,
        Some("Bearer wrong"),
        Some("Basic abc"),
        Some(TOKEN),
        Some("Bearer"),
    ] {
        let (status, headers, body) = get(&api, VIDEOS, bad).await;
        assert_eq!(status, 401, "{bad:?}");
        assert_eq!(body, auth_file.trim_end(), "exactly api-error-auth.json");
        assert!(h(&headers, "content-type").starts_with("application/json"));
        assert_eq!(
            h(&headers, "access-control-allow-origin"),
            "",
            "no CORS on the account API"
        );
    }
    // Another account with the right token: 403, same body.
    let (status, _, body) = get(
        &api,
        "/client/v4/accounts/other/stream/live_inputs/auth-in/videos",
        Some(&good),
    )
    .await;
    assert_eq!((status, body.as_str()), (403, auth_file.trim_end()));
    // Unknown routes and inputs: envelope 404s (after the token check).
    let (status, _, body) = get(&api, "/client/v4/zones", Some(&good)).await;
    assert_eq!(status, 404);
    let env: Envelope<Value> = serde_json::from_str(&body).unwrap();
    assert!(!env.success && env.errors[0].code == 7003);
    let (status, _, body) = get(&api, "/client/v4/zones", None).await;
    assert_eq!((status, body.as_str()), (401, auth_file.trim_end()));
    let (status, _, body) = get(
        &api,
        "/client/v4/accounts/local/stream/live_inputs/nope/videos",
        Some(&good),
    )
    .await;
    assert_eq!(status, 404);
    let env: Envelope<Vec<Video>> = serde_json::from_str(&body).unwrap();
    assert!(!env.success);

    // The right token: the envelope, an empty list for an input never live.
    let (status, headers, body) = get(&api, VIDEOS, Some(&good)).await;
    assert_eq!(status, 200);
    assert_eq!(h(&headers, "access-control-allow-origin"), "");
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
    let (status, _, body) = get(
        &api,
        &format!("/client/v4/accounts/local/stream/live_inputs/{}", input.uid),
        Some(&good),
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
    assert_eq!(r.text().await.unwrap(), auth_file.trim_end());
    assert_eq!(
        api.get("/control/inputs")
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .len(),
        2
    );

    // Every request was logged (RUST_LOG=debug), the token in none.
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("uri=/client/v4/accounts/local/stream/live_inputs"));
    assert!(!log.contains(TOKEN), "token in the log");
}

#[tokio::test]
async fn without_a_token_the_account_api_is_closed() {
    // No CF_API_TOKEN: a random token nobody knows.
    let s = Server::start("acct-closed", CHEAP);
    let api = s.api();
    api.create_input("auth-in").await;
    let auth_file = shared("api-error-auth.json");
    for auth in [
        None,
        Some("Bearer "),
        Some("Bearer local"),
        Some("Bearer x"),
    ] {
        let (status, _, body) = get(&api, VIDEOS, auth).await;
        assert_eq!(
            (status, body.as_str()),
            (401, auth_file.trim_end()),
            "{auth:?}"
        );
    }
}

#[tokio::test]
async fn the_token_can_come_from_a_file() {
    let dir = scratch_dir("acct-file-token");
    let file = dir.join("token");
    std::fs::write(&file, format!("  {TOKEN}\n")).unwrap();
    let file = file.to_string_lossy().to_string();
    let mut args = CHEAP.to_vec();
    args.extend(["--cf-api-token-file", file.as_str()]);
    let s = Server::start("acct-file", &args);
    let api = s.api();
    api.create_input("auth-in").await;
    let (status, _, _) = get(&api, VIDEOS, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(status, 200);
}

#[test]
fn help_and_errors_never_show_the_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_localcf"))
        .arg("--help")
        .env("CF_API_TOKEN", "help-secret-token")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--cf-api-token",
        "--cf-api-token-file",
        "--recording-ready-seconds",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    assert!(help.contains("CF_API_TOKEN"));
    assert!(!help.contains("help-secret-token"), "{help}");
    // Both a token and a token file: refused without echoing the token.
    let out = Command::new(env!("CARGO_BIN_EXE_localcf"))
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("both-secret-token"), "{err}");
    // An unreadable token file: named, and refused before listening.
    let out = Command::new(env!("CARGO_BIN_EXE_localcf"))
        .args([
            "--cf-api-token-file",
            "/nonexistent/token",
            "--port",
            "0",
            "--no-rtmp",
        ])
        .env_remove("CF_API_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/token"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("READY"));
}
