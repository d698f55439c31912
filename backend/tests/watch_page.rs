//! The watch page as the backend binary serves it: lifecycle's answer from
//! its own delivery base (a loopback server answering Cloudflare's real
//! JSON) written into the page, read once for many pages, and the `Link`
//! preload wherever it cannot be had.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::fake_cloudflare::{self, shared};
use common::procs::{self, h};

const CF_TOKEN: &str = "cf-watch-page-token-7c1d";
const CF_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// Delivery on loopback: lifecycle by id, each read counted.
struct Delivery {
    base: String,
    reads: Arc<AtomicUsize>,
}

async fn lifecycle(State(reads): State<Arc<AtomicUsize>>, Path(id): Path<String>) -> Response {
    reads.fetch_add(1, Ordering::SeqCst);
    match id.as_str() {
        "live1" => shared("lifecycle-live.json").into_response(),
        "idle1" => shared("lifecycle-idle.json").into_response(),
        "empty1" => StatusCode::NO_CONTENT.into_response(),
        "down1" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "junk1" => "<html>not json</html>".into_response(),
        "huge1" => format!(
            "{{\"isInput\":true,\"live\":true,\"pad\":\"{}\"}}",
            "x".repeat(32 * 1024)
        )
        .into_response(),
        "slow1" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            shared("lifecycle-live.json").into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn delivery() -> Delivery {
    let reads = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/{id}/lifecycle", get(lifecycle))
        .with_state(Arc::clone(&reads));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Delivery { base, reads }
}

fn carried(body: &str) -> Option<&str> {
    let (_, rest) = body.split_once("<script type=\"application/json\" id=\"jlp-lifecycle\"")?;
    Some(rest.split_once("</script>")?.0)
}

#[tokio::test]
async fn the_page_carries_lifecycle_read_once_a_second_from_its_own_delivery_base() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let d = delivery().await;
    let s = procs::backend(
        "watch-page",
        &[
            "--cf-account",
            CF_ACCOUNT,
            "--cf-api-base",
            &cf.base,
            "--delivery-base",
            &d.base,
        ],
        &[("CF_API_TOKEN", CF_TOKEN)],
    );
    let http = reqwest::Client::new();
    let page = |q: String| {
        let (http, url) = (http.clone(), format!("{}/?{q}", s.http));
        async move {
            let r = http.get(url).send().await.expect("GET");
            (
                r.status().as_u16(),
                r.headers().clone(),
                r.text().await.unwrap(),
            )
        }
    };
    let base = &d.base;
    let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");

    // Live: the real answer, re-written, before the loader; nothing to preload.
    let (status, headers, body) = page(format!("input=live1&base={}", enc(base))).await;
    assert_eq!(status, 200);
    assert_eq!(
        carried(&body),
        Some(format!(" data-url=\"{base}/live1/lifecycle\">{{\"isInput\":true,\"videoUID\":\"55b9b5ce48c3968c6b514c458959d6a\",\"live\":true}}").as_str()),
        "{body}"
    );
    assert!(body.find("jlp-lifecycle").unwrap() < body.find("jlp-loader").unwrap());
    assert_eq!(
        h(&headers, "link"),
        "",
        "the loader asks nothing: no preload"
    );
    assert_eq!(h(&headers, "cache-control"), "no-cache");
    assert_eq!(h(&headers, "etag"), "");
    assert_eq!(h(&headers, "last-modified"), "");
    assert_eq!(h(&headers, "content-length"), body.len().to_string());
    assert_eq!(d.reads.load(Ordering::SeqCst), 1);

    // Many pages in the same second: no further read.
    let many: Vec<_> = (0..40)
        .map(|_| page(format!("input=live1&base={}", enc(base))))
        .collect();
    for (status, _, body) in futures_join(many).await {
        assert_eq!(status, 200);
        assert!(carried(&body).is_some());
    }
    assert_eq!(
        d.reads.load(Ordering::SeqCst),
        1,
        "one read serves the pages of a second"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    page(format!("input=live1&base={}", enc(base))).await;
    assert_eq!(
        d.reads.load(Ordering::SeqCst),
        2,
        "read again after a second"
    );

    // A conditional request still gets this second's page.
    let plain = http.get(format!("{}/", s.http)).send().await.unwrap();
    let stamp = h(plain.headers(), "last-modified");
    let again = http
        .get(format!("{}/", s.http))
        .header("if-modified-since", &stamp)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status().as_u16(),
        304,
        "the plain page is revalidated"
    );
    let r = http
        .get(format!("{}/?input=live1&base={}", s.http, enc(base)))
        .header("if-modified-since", &stamp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(carried(&r.text().await.unwrap()).is_some());

    // Idle: carried as it is (the loader then waits, asking nothing).
    let (_, _, body) = page(format!("video=idle1&base={}", enc(base))).await;
    assert!(
        carried(&body)
            .unwrap()
            .ends_with("{\"isInput\":true,\"videoUID\":null,\"live\":false}"),
        "{body}"
    );

    // No usable answer: the page as it is, with the preload.
    for id in ["empty1", "down1", "junk1", "huge1", "gone1"] {
        let (status, headers, body) = page(format!("input={id}&base={}", enc(base))).await;
        assert_eq!(status, 200, "{id}");
        assert_eq!(carried(&body), None, "{id}");
        assert_eq!(
            h(&headers, "link"),
            format!("<{base}/{id}/lifecycle>; rel=preload; as=fetch; crossorigin"),
            "{id}"
        );
    }

    // A slow delivery holds the page back 400 ms at most.
    let t = Instant::now();
    let (status, headers, body) = page(format!("input=slow1&base={}", enc(base))).await;
    let waited = t.elapsed();
    assert_eq!(status, 200);
    assert!(waited < Duration::from_millis(1500), "{waited:?}");
    assert_eq!(carried(&body), None);
    assert!(h(&headers, "link").starts_with(&format!("<{base}/slow1/lifecycle>")));

    // Never a host the query names: only the preload, nothing read.
    let before = d.reads.load(Ordering::SeqCst);
    let other = base.replace("127.0.0.1", "localhost");
    let (_, headers, body) = page(format!("input=live1&base={}", enc(&other))).await;
    assert_eq!(carried(&body), None);
    assert_eq!(
        h(&headers, "link"),
        format!("<{other}/live1/lifecycle>; rel=preload; as=fetch; crossorigin")
    );
    let (_, headers, body) = page("input=live1&customer=f33zs165nr7gyfy4".into()).await;
    assert_eq!(carried(&body), None);
    assert!(h(&headers, "link")
        .starts_with("<https://customer-f33zs165nr7gyfy4.cloudflarestream.com/live1/lifecycle>"));
    // Nor a private page's, which asks with a token.
    let (_, headers, body) = page(format!(
        "input=live1&base={}&tokenUrl=%2Fapi%2Frooms%2Fr%2Fviewer-token",
        enc(base)
    ))
    .await;
    assert_eq!((carried(&body), h(&headers, "link").as_str()), (None, ""));
    assert_eq!(
        d.reads.load(Ordering::SeqCst),
        before,
        "no read for any of them"
    );
    // Nor on other paths.
    let r = http
        .get(format!(
            "{}/moderator/?input=live1&base={}",
            s.http,
            enc(base)
        ))
        .send()
        .await
        .unwrap();
    assert!(carried(&r.text().await.unwrap()).is_none());
    assert!(!s.log_text().contains("panicked"));
}

#[tokio::test]
async fn the_players_files_go_out_precompressed_to_browsers_that_accept_it() {
    let cf = fake_cloudflare::start(CF_TOKEN, CF_ACCOUNT).await;
    let s = procs::backend(
        "precompressed",
        &["--cf-account", CF_ACCOUNT, "--cf-api-base", &cf.base],
        &[("CF_API_TOKEN", CF_TOKEN)],
    );
    let http = reqwest::Client::new();
    for (accept, encoding, body) in [
        ("br, gzip, deflate", "br", "/* brotli */"),
        ("gzip, deflate", "gzip", "/* gzip */"),
        ("identity", "", "/* identity */"),
        ("", "", "/* identity */"),
    ] {
        let r = http
            .get(format!("{}/player.js", s.http))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{accept}");
        assert_eq!(h(r.headers(), "content-encoding"), encoding, "{accept}");
        assert!(
            h(r.headers(), "content-type").contains("javascript"),
            "{accept}"
        );
        assert_eq!(h(r.headers(), "vary"), "accept-encoding", "{accept}");
        assert_eq!(r.text().await.unwrap(), body, "{accept}");
    }
}

/// Runs the page loads at once and collects their answers in order.
async fn futures_join<F>(fs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
