//! The watch page's answer: what the browser can start before the page's
//! own script runs.
//!
//! The first frame waits on lifecycle: delivery's manifest must not be
//! asked before lifecycle says live (Cloudflare answers an idle input's
//! manifest with a 204). The page's loader asks it once its inline script
//! runs, ~60 ms after navigation on Chromium, and sets the `<video>`'s
//! source when the answer says live. Two ways to be sooner, for a page
//! whose query core accepts, that names its delivery host (`customer` or
//! `base`; this server serves no lifecycle) and that is public (no `token`,
//! no `tokenUrl`: a private room's requests carry a token the page's
//! answer must not repeat):
//!
//! - **The answer in the page.** Where that delivery host is the one this
//!   backend reads (`--delivery-base`; never one a query names: the
//!   backend fetches nothing a visitor chooses), the backend asks lifecycle
//!   itself, shares the answer between the pages of the next second
//!   ([`ANSWER_TTL`]), and writes it into the page before the loader,
//!   which then sets the source while the page is still parsing, as a bare
//!   `<video src>` page does. Thousands of viewers opening the page cost
//!   one delivery request a second per broadcast.
//! - **Else a `Link` preload** of the same URL: the browser asks it at
//!   commit and opens the connection to the delivery host meanwhile; the
//!   loader's `fetch` takes the preloaded answer. Only where the loader
//!   will ask exactly that URL, so that no preload goes unused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use player_core::cloudflare::Lifecycle;
use player_core::config::{PlayerConfig, RawConfig};

use crate::error::ApiError;
use crate::rate_limit::{Limit, RateLimiter};

/// How long one delivery answer serves the pages that follow it. Short:
/// a page that says "waiting" for a broadcast that just started waits for
/// the player's next poll.
pub const ANSWER_TTL: Duration = Duration::from_secs(1);
/// The longest a page waits for delivery's answer; past it (or on any
/// failure), it goes out with the preload instead.
const WAIT: Duration = Duration::from_millis(400);
/// A lifecycle answer larger than this is not one (Cloudflare's are ~60 B).
const MAX_ANSWER: usize = 16 * 1024;
/// The page read into memory to carry the answer (index.html is ~30 KB).
const MAX_PAGE: usize = 512 * 1024;
/// Lifecycle URLs remembered at once (one per broadcast being watched).
const MAX_URLS: usize = 1000;
/// Delivery reads for pages, all together: a bound on what many made-up
/// ids could make this backend ask.
const READS: Limit = Limit {
    per_minute: 600,
    burst: 60,
};
/// The answer goes right before the page's loader script.
const LOADER: &[u8] = b"<script id=\"jlp-loader\">";

/// The lifecycle URL the page's loader will ask at this query, where the
/// module's rules allow doing it sooner.
pub fn loader_lifecycle(query: &str) -> Option<String> {
    let raw = RawConfig::from_pairs(form_urlencoded::parse(query.as_bytes()).into_owned());
    let named = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !(named(&raw.customer) || named(&raw.base)) {
        return None;
    }
    // The origin only resolves relative `recordings`/`qoe` paths here, which
    // do not change the lifecycle URL.
    let config = PlayerConfig::parse(&raw, "http://localhost").ok()?;
    if config.token.is_some() || config.token_url.is_some() {
        return None;
    }
    let url = config.lifecycle_url();
    // Core's URL rules already refuse spaces, quotes, `<>` and controls; a
    // `,` or `;` in a base would still read as the header's own syntax, and
    // `&` is kept out of the page's attribute.
    url.bytes()
        .all(|b| b.is_ascii_graphic() && !b",;<>\"'\\&".contains(&b))
        .then_some(url)
}

/// The `Link` value that preloads `url` as the loader will fetch it.
pub fn preload(url: &str) -> Option<HeaderValue> {
    // `crossorigin` (anonymous): the mode and credentials of the loader's
    // plain `fetch()`, without which the browser would not match the two.
    HeaderValue::from_str(&format!("<{url}>; rel=preload; as=fetch; crossorigin")).ok()
}

/// The element that carries delivery's answer to `url` to the loader: JSON
/// in a script that never runs (`<`, `>`, `&` escaped, so that no text in
/// it can end the element), with the request it answers in `data-url`: the
/// loader takes it only for the URL it would have asked.
pub fn answer_element(url: &str, answer: &Lifecycle) -> String {
    let json = serde_json::to_string(answer)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!("<script type=\"application/json\" id=\"jlp-lifecycle\" data-url=\"{url}\">{json}</script>\n    ")
}

/// `page` with `element` before its loader, or `None` if it has none.
pub fn with_answer(page: &[u8], element: &str) -> Option<Vec<u8>> {
    let at = page.windows(LOADER.len()).position(|w| w == LOADER)?;
    let mut out = Vec::with_capacity(page.len() + element.len());
    out.extend_from_slice(&page[..at]);
    out.extend_from_slice(element.as_bytes());
    out.extend_from_slice(&page[at..]);
    Some(out)
}

type Flight = Arc<tokio::sync::Mutex<()>>;
/// When it was read, and the element it makes (`None`: no usable answer).
type Read = (Instant, Option<Arc<str>>);

/// The watch page's answers: lifecycle read from this backend's delivery
/// base and shared for [`ANSWER_TTL`].
pub struct WatchPage {
    /// The one delivery host this backend reads (no trailing slash).
    delivery_base: Option<String>,
    http: reqwest::Client,
    /// By lifecycle URL.
    answers: Mutex<HashMap<String, Read>>,
    /// One read per URL at a time; the pages behind it take its answer.
    flights: Mutex<HashMap<String, Flight>>,
    reads: RateLimiter,
}

impl WatchPage {
    /// Answers in the page only for URLs under `delivery_base`; none without.
    pub fn new(delivery_base: Option<&str>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(WAIT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the watch page's delivery client: {e}"))?;
        Ok(Self {
            delivery_base: delivery_base.map(|b| b.trim_end_matches('/').to_string()),
            http,
            answers: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            reads: RateLimiter::new(READS, 1),
        })
    }

    /// Whether `url` is on this backend's own delivery base.
    fn ours(&self, url: &str) -> bool {
        self.delivery_base
            .as_deref()
            .and_then(|base| url.strip_prefix(base))
            .is_some_and(|rest| rest.starts_with('/'))
    }

    fn cached(&self, url: &str, now: Instant) -> Option<Option<Arc<str>>> {
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers
            .get(url)
            .filter(|(at, _)| now.saturating_duration_since(*at) < ANSWER_TTL)
            .map(|(_, element)| element.clone())
    }

    fn remember(&self, url: &str, element: Option<Arc<str>>, now: Instant) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= MAX_URLS {
            answers.retain(|_, (at, _)| now.saturating_duration_since(*at) < ANSWER_TTL);
            if answers.len() >= MAX_URLS {
                answers.clear();
            }
        }
        answers.insert(url.to_string(), (now, element));
    }

    /// The element for `url`: from the last second's read, or read now
    /// (one read per URL, whatever the number of pages asking).
    pub async fn answer(&self, url: &str) -> Option<Arc<str>> {
        if !self.ours(url) {
            return None;
        }
        if let Some(hit) = self.cached(url, Instant::now()) {
            return hit;
        }
        let flight = Arc::clone(
            self.flights
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(url.to_string())
                .or_default(),
        );
        let _turn = flight.lock().await;
        // The flight ends with this turn, even when the page that took it
        // goes away mid-read (its future dropped), so none is left behind.
        let _landed = Landed { page: self, url };
        if let Some(hit) = self.cached(url, Instant::now()) {
            return hit;
        }
        let element = match self.reads.check("delivery", Instant::now()) {
            Ok(()) => self
                .read(url)
                .await
                .map(|a| Arc::from(answer_element(url, &a))),
            Err(_) => None,
        };
        self.remember(url, element.clone(), Instant::now());
        element
    }

    async fn read(&self, url: &str) -> Option<Lifecycle> {
        let resp = self.http.get(url).send().await.ok()?;
        if resp.status() != StatusCode::OK
            || resp.content_length().is_some_and(|n| n > MAX_ANSWER as u64)
        {
            return None;
        }
        let bytes = resp.bytes().await.ok()?;
        if bytes.len() > MAX_ANSWER {
            return None;
        }
        serde_json::from_slice(&bytes).ok()
    }
}

/// Removes a URL's flight when its turn ends.
struct Landed<'a> {
    page: &'a WatchPage,
    url: &'a str,
}

impl Drop for Landed<'_> {
    fn drop(&mut self) {
        self.page
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(self.url);
    }
}

/// The watch page (`/`, `/index.html`, served whole): with lifecycle's
/// answer in it where it can be had, else with the preload header.
pub async fn watch_page(
    State(page): State<Arc<WatchPage>>,
    mut req: Request,
    next: Next,
) -> Response {
    let url = (req.method() == Method::GET && matches!(req.uri().path(), "/" | "/index.html"))
        .then(|| req.uri().query().and_then(loader_lifecycle))
        .flatten();
    let Some(url) = url else {
        return next.run(req).await;
    };
    let element = page.answer(&url).await;
    if element.is_some() {
        // The whole page: it carries this second's answer.
        for name in [
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_MATCH,
            header::IF_UNMODIFIED_SINCE,
            header::RANGE,
            header::IF_RANGE,
        ] {
            req.headers_mut().remove(name);
        }
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let body = match element {
        None => body,
        Some(element) => {
            let Ok(bytes) = to_bytes(body, MAX_PAGE).await else {
                return ApiError::Internal("cannot read the watch page".into()).into_response();
            };
            match with_answer(&bytes, &element) {
                Some(carried) => {
                    let h = &mut parts.headers;
                    h.remove(header::ETAG);
                    h.remove(header::LAST_MODIFIED);
                    h.insert(header::CONTENT_LENGTH, HeaderValue::from(carried.len()));
                    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                    return Response::from_parts(parts, Body::from(carried));
                }
                None => Body::from(bytes),
            }
        }
    };
    if let Some(link) = preload(&url) {
        parts.headers.append(header::LINK, link);
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(q: &str) -> Option<String> {
        loader_lifecycle(q)
            .and_then(|url| preload(&url))
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn public_pages_with_a_delivery_host_preload_the_loaders_url() {
        assert_eq!(
            link("input=abc123&customer=f33zs165nr7gyfy4").as_deref(),
            Some("<https://customer-f33zs165nr7gyfy4.cloudflarestream.com/abc123/lifecycle>; rel=preload; as=fetch; crossorigin")
        );
        // Percent-decoded as URLSearchParams does; a trailing slash goes
        // as in core's clean_base; the other options change nothing.
        assert_eq!(
            link("video=v1&base=http%3A%2F%2F127.0.0.1%3A9000%2F&engine=native&muted=1&recordings=%2Fapi%2Frecordings%2Fx").as_deref(),
            Some("<http://127.0.0.1:9000/v1/lifecycle>; rel=preload; as=fetch; crossorigin")
        );
    }

    #[test]
    fn nothing_sooner_where_the_loader_asks_nothing_or_something_else() {
        for q in [
            "",
            "input=abc123", // lifecycle on this server's origin: none here
            "input=abc123&base=http://a&customer=f33zs165nr", // core refuses both
            "input=a%20b&base=http://a", // invalid uid
            "input=abc&video=def&base=http://a",
            "input=abc&base=http://a&engine=flash",
            "input=abc&base=http://a&token=eyJh.eyJz.sig", // signed: not repeated
            "input=abc&base=http://a&tokenUrl=/api/rooms/r/viewer-token",
            "input=abc&base=javascript:alert(1)",
            "input=abc&base=http://a/x,y",
            "input=abc&base=http://a/x;rel=stylesheet",
            "input=abc&base=http://a/x%26y",
        ] {
            assert_eq!(loader_lifecycle(q), None, "{q}");
        }
    }

    #[test]
    fn only_the_backends_own_delivery_base_is_read() {
        let page = WatchPage::new(Some("http://127.0.0.1:9401/")).unwrap();
        assert!(page.ours("http://127.0.0.1:9401/abc/lifecycle"));
        for url in [
            "http://127.0.0.1:94011/abc/lifecycle",
            "http://127.0.0.1:9401.evil.example/abc/lifecycle",
            "https://127.0.0.1:9401/abc/lifecycle",
            "http://127.0.0.1:9402/abc/lifecycle",
        ] {
            assert!(!page.ours(url), "{url}");
        }
        let none = WatchPage::new(None).unwrap();
        assert!(!none.ours("https://customer-x.cloudflarestream.com/abc/lifecycle"));
    }

    #[test]
    fn the_answer_cannot_end_its_element() {
        let answer = Lifecycle {
            is_input: true,
            video_uid: Some("</script><script>alert(1)</script>&".into()),
            live: true,
        };
        let element = answer_element("http://a/abc/lifecycle", &answer);
        assert_eq!(element.matches("</script>").count(), 1, "{element}");
        assert!(element.starts_with(
            "<script type=\"application/json\" id=\"jlp-lifecycle\" data-url=\"http://a/abc/lifecycle\">{"
        ));
        // Still the same JSON once parsed.
        let json = element
            .split_once('>')
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(json, _)| json)
            .unwrap();
        assert_eq!(serde_json::from_str::<Lifecycle>(json).unwrap(), answer);
    }

    #[test]
    fn the_answer_goes_before_the_loader_only() {
        let page = b"<head><script type=\"application/json\" id=\"jlp-hls-live\">{}</script>\n    <script id=\"jlp-loader\">go()</script></head>";
        let carried = String::from_utf8(with_answer(page, "<x></x>").unwrap()).unwrap();
        assert_eq!(
            carried,
            "<head><script type=\"application/json\" id=\"jlp-hls-live\">{}</script>\n    <x></x><script id=\"jlp-loader\">go()</script></head>"
        );
        assert_eq!(
            with_answer(b"<!doctype html><title>other</title>", "<x></x>"),
            None
        );
    }
}
