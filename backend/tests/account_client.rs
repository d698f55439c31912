//! The account API client against loopback servers: the real JSON files as
//! they are, unknown fields and states, every error shape, a slow answer,
//! and https through rustls.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::account_client::{AccountClient, AccountError, ClientConfig};
use common::fake_cloudflare::{self, shared, Reply};
use serde_json::{json, Value};
use stream_api::account::{
    LiveInputStatus, RecordingMode, RecordingSettings, VideoState, AUTH_ERROR_CODE,
};
use stream_api::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

const TOKEN: &str = "cf-test-token-0123456789abcdef";
const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn client(base: &str, token: &str, timeout: Duration) -> AccountClient {
    AccountClient::new(ClientConfig {
        base: base.into(),
        account: ACCOUNT.into(),
        token: Secret::new(token),
        timeout,
    })
    .unwrap()
}

#[tokio::test]
async fn reads_the_real_files_and_sends_the_token() {
    let fake = fake_cloudflare::start(TOKEN, ACCOUNT).await;
    let c = client(&fake.base, TOKEN, Duration::from_secs(5));

    let videos = c
        .list_videos("34036a0695ab5237ce757ac53fd158a2")
        .await
        .unwrap();
    assert_eq!(videos.len(), 2);
    assert_eq!(videos[0].state(), Some(&VideoState::LiveInProgress));
    assert_eq!(videos[1].state(), Some(&VideoState::Ready));
    assert_eq!(videos[1].duration_seconds(), Some(7272.0));
    assert_eq!(fake.fake.calls("34036a0695ab5237ce757ac53fd158a2"), 1);

    let input = c
        .get_live_input("f256e6ea9341d51eea64c9454659e576")
        .await
        .unwrap();
    assert_eq!(input.uid, "f256e6ea9341d51eea64c9454659e576");
    assert_eq!(input.status, None);
    assert_eq!(
        input.rtmps.unwrap().url,
        "rtmps://live.cloudflare.com:443/live/"
    );

    let created = c
        .create_live_input(
            "My Live Stream",
            RecordingSettings {
                mode: Some(RecordingMode::Automatic),
                timeout_seconds: Some(10),
                require_signed_urls: Some(false),
                allowed_origins: Some(vec!["*.example.com".into()]),
                hide_live_viewer_count: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.meta.name.as_deref(), Some("My Live Stream"));
    assert_eq!(
        fake.fake.created.lock().unwrap()[0],
        json!({"meta": {"name": "My Live Stream"},
               "recording": {"mode": "automatic", "timeoutSeconds": 10,
                             "requireSignedURLs": false, "allowedOrigins": ["*.example.com"]}})
    );
    for auth in fake.fake.auth_seen.lock().unwrap().iter() {
        assert_eq!(auth, &format!("Bearer {TOKEN}"));
    }
    let calls = c.calls.snapshot();
    assert_eq!(
        (
            calls.videos,
            calls.live_input,
            calls.create_live_input,
            calls.failed
        ),
        (1, 1, 1, 0)
    );
}

#[tokio::test]
async fn unknown_fields_states_and_odd_elements_are_tolerated() {
    let fake = fake_cloudflare::start(TOKEN, ACCOUNT).await;
    let mut v: Value = serde_json::from_str(&shared("live-input-videos.json")).unwrap();
    v["result_info"] = json!({"count": 3, "page": 1});
    v["result"][0]["status"]["state"] = json!("transcoding-v9");
    v["result"][0]["spatial"] = json!({"x": [1, 2, {"y": null}]});
    v["result"][1]["status"]["newKey"] = json!(true);
    // An element that is not a video at all: skipped, the others stay.
    v["result"]
        .as_array_mut()
        .unwrap()
        .push(json!({"uid": 12, "status": "??"}));
    fake.fake.set(Reply::raw(200, &v.to_string()));
    let c = client(&fake.base, TOKEN, Duration::from_secs(5));
    let videos = c.list_videos("in").await.unwrap();
    assert_eq!(videos.len(), 2);
    assert_eq!(
        videos[0].state(),
        Some(&VideoState::Other("transcoding-v9".into()))
    );
    assert!(videos[0].state().unwrap().is_processing());

    let mut i: Value = serde_json::from_str(&shared("live-input-create.json")).unwrap();
    i["result"]["status"] = json!({"current": {"state": "some_new_status", "reason": "x"}});
    i["result"]["webRTC"] = json!({"url": "https://example/whip"});
    fake.fake.set(Reply::raw(200, &i.to_string()));
    let input = c.get_live_input("in").await.unwrap();
    assert_eq!(
        input.status,
        Some(LiveInputStatus::Other("some_new_status".into()))
    );
}

#[tokio::test]
async fn error_shapes_map_to_one_enum() {
    let fake = fake_cloudflare::start(TOKEN, ACCOUNT).await;
    let c = client(&fake.base, TOKEN, Duration::from_secs(5));

    // A wrong token: Cloudflare's auth error, message carried.
    let wrong = client(&fake.base, "not-the-token", Duration::from_secs(5));
    assert_eq!(
        wrong.list_videos("in").await,
        Err(AccountError::Unauthorized {
            status: 401,
            message: "Authentication error".into()
        })
    );
    // Another account: 403 with the same body.
    let other = AccountClient::new(ClientConfig {
        base: fake.base.clone(),
        account: "someone-else".into(),
        token: Secret::new(TOKEN),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert!(matches!(
        other.list_videos("in").await,
        Err(AccountError::Unauthorized { status: 403, .. })
    ));
    // The auth error file served as a 200 (success false) is still unauthorized.
    fake.fake
        .set(Reply::raw(200, &shared("api-error-auth.json")));
    assert!(matches!(
        c.list_videos("in").await,
        Err(AccountError::Unauthorized { status: 200, .. })
    ));

    let not_found = r#"{"result":null,"success":false,"errors":[{"code":10003,"message":"Not found"}],"messages":[]}"#;
    let cases: Vec<(Reply, AccountError)> = vec![
        (
            Reply::raw(404, not_found),
            AccountError::NotFound {
                message: "Not found".into(),
            },
        ),
        (
            Reply::Raw {
                status: 429,
                body: r#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}]}"#.into(),
                retry_after: Some("42".into()),
            },
            AccountError::RateLimited {
                retry_after: Duration::from_secs(42),
            },
        ),
        (
            Reply::raw(500, r#"{"success":false,"errors":[{"code":10002,"message":"internal"}]}"#),
            AccountError::Upstream {
                status: 500,
                message: "internal".into(),
            },
        ),
        (
            Reply::raw(503, "<html>upstream connect error</html>"),
            AccountError::Upstream {
                status: 503,
                message: "HTTP 503".into(),
            },
        ),
    ];
    for (reply, want) in cases {
        fake.fake.set(reply.clone());
        assert_eq!(c.list_videos("in").await, Err(want), "{reply:?}");
    }
    for body in [
        "",
        "{",
        r#"{"result": 5, "success": true}"#,
        "<html></html>",
    ] {
        fake.fake.set(Reply::raw(200, body));
        assert!(
            matches!(c.list_videos("in").await, Err(AccountError::Malformed(_))),
            "{body}"
        );
    }
    assert!(c.calls.snapshot().failed >= 8);
    // The errors never carry the token.
    assert_eq!(AUTH_ERROR_CODE, 10000);
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_a_closed_port_unreachable() {
    let fake = fake_cloudflare::start(TOKEN, ACCOUNT).await;
    fake.fake.set(Reply::Slow(Duration::from_secs(5)));
    let c = client(&fake.base, TOKEN, Duration::from_millis(300));
    let t0 = Instant::now();
    assert_eq!(c.list_videos("in").await, Err(AccountError::Timeout));
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    // The next call works once the fake is fast again.
    fake.fake.set(Reply::Real);
    assert_eq!(c.list_videos("in").await.unwrap().len(), 2);

    // Nothing listens on a port just freed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client(
        &format!("http://127.0.0.1:{port}/client/v4"),
        TOKEN,
        Duration::from_secs(5),
    );
    let e = c.list_videos("in").await.unwrap_err();
    assert!(matches!(e, AccountError::Unreachable(_)), "{e:?}");
    assert!(!e.to_string().contains(TOKEN));
}

/// A one-shot https server for `localhost` (the test CA's leaf) answering
/// every connection with the real videos file.
async fn tls_server() -> u16 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
    let cert = std::fs::read(format!("{dir}/localhost.der")).unwrap();
    let key = std::fs::read(format!("{dir}/localhost.key.der")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![rustls::pki_types::CertificateDer::from(cert)],
        rustls::pki_types::PrivateKeyDer::try_from(key).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let ok = String::from_utf8_lossy(&req).contains(&format!("Bearer {TOKEN}"));
                let (status, body) = if ok {
                    ("200 OK", shared("live-input-videos.json"))
                } else {
                    ("401 Unauthorized", shared("api-error-auth.json"))
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test]
async fn https_goes_through_rustls() {
    let port = tls_server().await;
    let base = format!("https://localhost:{port}/client/v4");
    let cfg = ClientConfig {
        base: base.clone(),
        account: ACCOUNT.into(),
        token: Secret::new(TOKEN),
        timeout: Duration::from_secs(5),
    };
    // Trusting the test CA: the handshake, SNI and verification pass.
    let ca = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tls/ca.der"
    ))
    .unwrap();
    let builder = AccountClient::http_builder()
        .add_root_certificate(reqwest::Certificate::from_der(&ca).unwrap());
    let c = AccountClient::with_http(cfg.clone(), builder).unwrap();
    assert_eq!(c.list_videos("in").await.unwrap().len(), 2);
    // With the public roots the test CA is unknown: refused, not read.
    let public = AccountClient::new(cfg).unwrap();
    match public.list_videos("in").await {
        Err(AccountError::Unreachable(m)) => {
            assert!(m.to_lowercase().contains("certificate"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // Plain http spoken to the TLS port is not an answer either.
    let plain = client(
        &format!("http://127.0.0.1:{port}/client/v4"),
        TOKEN,
        Duration::from_secs(2),
    );
    assert!(plain.list_videos("in").await.is_err());
}
