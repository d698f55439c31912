//! Who may drive the stand-in: a web page open in the developer's browser
//! must not reach the control or account API (issue 15, item 6).

mod common;

use common::*;
use serde_json::{json, Value};

// Regression (issue 15 #6): a cross-origin `text/plain` POST created an
// input and read its stream key; CORS allowed every origin on /control.
#[tokio::test]
async fn a_web_page_cannot_drive_the_control_api() {
    let s = Server::start("guard-page", &["--no-rtmp"]);
    let api = s.api();
    let before = api
        .get("/control/inputs")
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .len();

    // What `fetch(url, {method: 'POST', body: '{"uid":"pwned"}'})` sends
    // from another origin: a "simple" request, no preflight.
    let r = api
        .client
        .post(api.url("/control/inputs"))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", "http://evil.example")
        .body(r#"{"uid":"pwned"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "access-control-allow-origin"), "");
    // Same origin (or no Origin, as curl), but not declared JSON: 415.
    let r = api
        .client
        .post(api.url("/control/inputs"))
        .header("content-type", "text/plain")
        .body(r#"{"uid":"pwned"}"#)
        .send()
        .await
        .unwrap();
    let msg = api.expect_error(r, 415).await;
    assert!(msg.contains("application/json"), "{msg}");
    // A form post (the other simple type) too.
    let r = api
        .client
        .post(api.url("/control/inputs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"uid":"pwned"}"#)
        .send()
        .await
        .unwrap();
    api.expect_error(r, 415).await;
    // A body-less cross-origin POST (`mode: 'no-cors'`) cannot start anything.
    let r = api
        .client
        .post(api.url("/control/inputs/nope/start"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    api.expect_error(r, 403).await;
    // No CORS on /control: the preflight a JSON POST needs gets no grant.
    let r = api
        .client
        .request(reqwest::Method::OPTIONS, api.url("/control/inputs"))
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        "",
        "preflight granted"
    );
    let r = api.get("/control/inputs").await;
    assert_eq!(header(&r, "access-control-allow-origin"), "");
    let after = r.json::<Vec<Value>>().await.unwrap();
    assert_eq!(after.len(), before, "an input was created: {after:?}");

    // The account API: no CORS, JSON only, as before its token check.
    let r = api
        .client
        .post(api.url("/client/v4/accounts/local/stream/live_inputs"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    // What the harness and the tests send still works: JSON, and no body.
    // Answers carrying stream keys are not to be stored.
    let r = api
        .post("/control/inputs", json!({"uid": "guard-ok"}))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let r = api
        .client
        .post(api.url("/control/stats/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The player's own page (same origin) may call it.
    let host = s.http.trim_start_matches("http://").to_string();
    let r = api
        .client
        .get(api.url("/control/health"))
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Delivery endpoints keep their CORS for viewers' pages.
    let r = api
        .client
        .get(api.url("/guard-ok/lifecycle"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
}

// Regression (issue 15 #6): a DNS-rebinding host name (an attacker's name
// resolving to 127.0.0.1) got 200.
#[tokio::test]
async fn only_loopback_host_names_on_a_loopback_bind() {
    let s = Server::start("guard-host", &["--no-rtmp"]);
    let api = s.api();
    api.create_input("h").await;
    let port = s.http.rsplit(':').next().unwrap().to_string();
    for (host, want) in [
        (format!("rebind.attacker.example:{port}"), 421),
        (format!("localhost.attacker.example:{port}"), 421),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
        (format!("[::1]:{port}"), 200),
    ] {
        for path in ["/control/inputs", "/h/lifecycle"] {
            let r = api
                .client
                .get(api.url(path))
                .header("host", &host)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), want, "{host} {path}");
            if want != 200 {
                let msg = api.expect_error(r, want).await;
                assert!(msg.contains("localhost"), "{msg}");
            }
        }
    }
    let r = api
        .client
        .post(api.url("/control/inputs"))
        .header("host", format!("rebind.attacker.example:{port}"))
        .json(&json!({"uid": "rebound"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    assert_eq!(api.get("/control/inputs/rebound").await.status(), 404);
}
