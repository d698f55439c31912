//! The control API: every route's shape, and bad input answered with a 4xx
//! JSON error, never a crash.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

static SERVER: OnceLock<SharedServer> = OnceLock::new();

fn server() -> &'static SharedServer {
    SERVER.get_or_init(|| Server::shared("control", CHEAP))
}

#[tokio::test]
async fn health() {
    let api = server().api();
    let r = api.get("/control/health").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"ok": true}));
}

#[tokio::test]
async fn create_list_get_delete_inputs() {
    let s = server();
    let api = s.api();
    // Defaults: random 32-hex uid and key; rtmpUrl is the whole publish URL.
    let r = api.post("/control/inputs", json!({})).await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    let uid = c["uid"].as_str().unwrap().to_string();
    let key = c["streamKey"].as_str().unwrap();
    assert_eq!(uid.len(), 32);
    assert_eq!(key.len(), 32);
    assert_eq!(c["name"], uid.as_str());
    assert_eq!(
        c["rtmpUrl"].as_str().unwrap(),
        format!("{}/live/{key}", s.rtmp.as_deref().unwrap())
    );
    // An empty body works too.
    let r = api
        .client
        .post(api.url("/control/inputs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let c = api
        .post(
            "/control/inputs",
            json!({"uid": "ctl-a", "name": "Room A", "streamKey": "key-a"}),
        )
        .await;
    assert_eq!(c.status(), 201);
    let c: Value = c.json().await.unwrap();
    assert_eq!(c["uid"], "ctl-a");
    assert_eq!(c["name"], "Room A");
    assert_eq!(c["streamKey"], "key-a");

    let got: Value = api.get("/control/inputs/ctl-a").await.json().await.unwrap();
    for (k, v) in [
        ("uid", json!("ctl-a")),
        ("name", json!("Room A")),
        ("streamKey", json!("key-a")),
        ("live", json!(false)),
        ("videoUID", Value::Null),
        ("source", Value::Null),
        ("viewers", json!({"fixed": null, "counted": 0})),
    ] {
        assert_eq!(got[k], v, "{k}");
    }
    assert_eq!(got["faults"]["segments404"], false);

    let list: Vec<Value> = api.get("/control/inputs").await.json().await.unwrap();
    assert!(list.iter().any(|i| i["uid"] == "ctl-a"));
    assert!(list.iter().any(|i| i["uid"] == uid.as_str()));

    // Delete stops the broadcast and forgets the input.
    let video = api.start("ctl-a", json!({})).await;
    let got: Value = api.get("/control/inputs/ctl-a").await.json().await.unwrap();
    assert_eq!(got["videoUID"], video.as_str());
    assert_eq!(got["source"], "synthetic");
    let r = api.delete("/control/inputs/ctl-a").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"uid": "ctl-a", "deleted": true})
    );
    api.expect_error(api.get("/control/inputs/ctl-a").await, 404)
        .await;
    api.expect_error(api.get("/ctl-a/lifecycle").await, 404)
        .await;
    // Its recording is still there by video uid.
    let lc = api.lifecycle(&video).await;
    assert!(!lc.live);
    assert!(
        processes_mentioning(&video).is_empty(),
        "ffmpeg still running"
    );
}

#[tokio::test]
async fn start_options_and_stop_modes() {
    let api = server().api();
    api.create_input("ctl-opts").await;
    let video = api
        .start(
            "ctl-opts",
            json!({"size": "160x90", "preset": "ultrafast", "fps": 10, "abr": false}),
        )
        .await;
    api.wait_live("ctl-opts", true, LIVE_TIMEOUT).await;
    let master = api.playlist("/ctl-opts/manifest/video.m3u8").await;
    assert!(master.contains("RESOLUTION=160x90"), "{master}");
    assert!(master.contains("FRAME-RATE=10.000"), "{master}");
    // No body: clean stop.
    let r = api
        .client
        .post(api.url("/control/inputs/ctl-opts/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"videoUID": video}));
}

#[tokio::test]
async fn bad_input_is_4xx_json() {
    let api = server().api();
    api.create_input("ctl-bad").await;
    api.create_input("ctl-dup").await;
    let raw = |method: reqwest::Method, path: &str, body: &str| {
        api.client
            .request(method, api.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    use reqwest::Method as M;
    let cases: Vec<(M, &str, &str, u16)> = vec![
        // Not JSON, wrong shapes, unknown fields.
        (M::POST, "/control/inputs", "{", 400),
        (M::POST, "/control/inputs", "[]", 400),
        (M::POST, "/control/inputs", r#"{"uid": 5}"#, 400),
        (M::POST, "/control/inputs", r#"{"key": "x"}"#, 400),
        (M::POST, "/control/inputs", r#"{"uid": "has space"}"#, 400),
        (M::POST, "/control/inputs", r#"{"uid": "../etc"}"#, 400),
        (M::POST, "/control/inputs", r#"{"streamKey": ""}"#, 400),
        (M::POST, "/control/inputs", r#"{"uid": "ctl-dup"}"#, 409),
        // Start options.
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"size": "big"}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"size": "641x360"}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"size": "99999x99999"}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"preset": "warp"}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"fps": 0}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"fps": 1000}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"fps": -1}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"abr": "yes"}"#,
            400,
        ),
        (
            M::POST,
            "/control/inputs/ctl-bad/start",
            r#"{"bitrate": 1}"#,
            400,
        ),
        (M::POST, "/control/inputs/nope/start", "{}", 404),
        // Stop.
        (
            M::POST,
            "/control/inputs/ctl-bad/stop",
            r#"{"mode": "gently"}"#,
            400,
        ),
        (M::POST, "/control/inputs/ctl-bad/stop", "{}", 409),
        (M::POST, "/control/inputs/nope/stop", "{}", 404),
        // Viewers.
        (M::PUT, "/control/inputs/ctl-bad/viewers", "", 400),
        (M::PUT, "/control/inputs/ctl-bad/viewers", "{}", 400),
        (
            M::PUT,
            "/control/inputs/ctl-bad/viewers",
            r#"{"count": -1}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/viewers",
            r#"{"count": "3"}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/viewers",
            r#"{"count": 1.5}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/nope/viewers",
            r#"{"count": 1}"#,
            404,
        ),
        // Faults.
        (M::PUT, "/control/inputs/ctl-bad/faults", "", 400),
        (M::PUT, "/control/inputs/ctl-bad/faults", "[]", 400),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"lifecycle": "error404"}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"views": "slow"}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"segments404": 1}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"rateLimit": {"retryAfter": -5}}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"rateLimit": 5}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"manifest404Seconds": "3"}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"slowMs": 1e12}"#,
            400,
        ),
        (
            M::PUT,
            "/control/inputs/ctl-bad/faults",
            r#"{"teapot": true}"#,
            400,
        ),
        (M::PUT, "/control/inputs/nope/faults", "{}", 404),
        (M::DELETE, "/control/inputs/nope/faults", "", 404),
        (M::DELETE, "/control/inputs/nope", "", 404),
        (M::GET, "/control/inputs/nope", "", 404),
        // Wrong methods.
        (M::DELETE, "/control/health", "", 405),
        (M::PUT, "/control/inputs", "{}", 405),
        (M::POST, "/ctl-bad/lifecycle", "{}", 405),
    ];
    for (method, path, body, status) in cases {
        let r = raw(method.clone(), path, body).send().await.unwrap();
        assert_eq!(r.status(), status, "{method} {path} {body}");
        assert!(
            header(&r, "content-type").starts_with("application/json"),
            "{method} {path} {body}: not JSON"
        );
        let e: player_core::cloudflare::ErrorBody = r.json().await.unwrap();
        assert!(!e.error.is_empty());
    }
    // A huge body is refused, not a crash (own client: the server closes
    // that connection without reading the rest).
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(3 << 20));
    let other = server().api();
    let r = other
        .client
        .post(other.url("/control/inputs"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // Still healthy, faults untouched by the failed merges.
    assert_eq!(api.get("/control/health").await.status(), 200);
    let f: Value = api
        .get("/control/inputs/ctl-bad/faults")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["lifecycle"], Value::Null);
    assert_eq!(f["segments404"], false);
}
