//! Viewer counting is bounded per client address (issue 15, item 10).

mod common;

use common::*;
use serde_json::Value;

// Regression (issue 15 #10): one client inflated `liveViewers` with 3,000
// made-up `?viewer=` ids in 1.6 s.
#[tokio::test]
async fn one_client_cannot_inflate_the_viewer_count() {
    let s = Server::start("viewers-cap", &["--no-rtmp", "--max-viewers-per-ip", "5"]);
    let api = s.api();
    api.create_input("v").await;
    let mut last = 0;
    for i in 0..40 {
        let r = api.get(&format!("/v/views?viewer=made-up-{i}")).await;
        assert_eq!(r.status(), 200);
        last = r.json::<Value>().await.unwrap()["liveViewers"]
            .as_u64()
            .unwrap();
    }
    assert_eq!(last, 5);
    // The ids already counted keep counting; the count is what the control
    // API shows too.
    let r = api.get("/v/views?viewer=made-up-0").await;
    assert_eq!(r.json::<Value>().await.unwrap()["liveViewers"], 5);
    let st: Value = api.get("/control/inputs/v").await.json().await.unwrap();
    assert_eq!(st["viewers"]["counted"], 5);
}
