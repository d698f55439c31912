//! The watch page's response: a `Link` header that starts its first
//! lifecycle request while the page itself is still arriving.
//!
//! The page's loader asks lifecycle as soon as its inline script runs, which
//! on Chromium is ~60 ms after navigation (the renderer commits, parses the
//! head); the first frame waits on that answer (delivery's manifest must not
//! be asked before lifecycle says live). A preload named in the response
//! headers starts the same request at commit, and opens the connection to
//! Cloudflare's delivery host (a new origin for the page) meanwhile. The
//! loader's `fetch(lifecycle)` then takes the preloaded answer.
//!
//! Only where the loader will ask exactly that URL, so that no preload goes
//! unused: a configuration core accepts, with its delivery host named
//! (`customer` or `base`; this server serves no lifecycle), public (no
//! `token`, no `tokenUrl`: a private room's requests carry a token the
//! header must not repeat).

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use player_core::config::{PlayerConfig, RawConfig};

/// The `Link` value for the watch page at this query, if any (see the
/// module's rules).
pub fn lifecycle_preload(query: &str) -> Option<HeaderValue> {
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
    // `,` or `;` in a base would still read as the header's own syntax.
    if !url
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b",;<>\"'\\".contains(&b))
    {
        return None;
    }
    // `crossorigin` (anonymous): the mode and credentials of the loader's
    // plain `fetch()`, without which the browser would not match the two.
    HeaderValue::from_str(&format!("<{url}>; rel=preload; as=fetch; crossorigin")).ok()
}

/// Adds [`lifecycle_preload`]'s header to the watch page (`/`,
/// `/index.html`) when served whole.
pub async fn preload_lifecycle(req: Request, next: Next) -> Response {
    let page = req.method() == Method::GET && matches!(req.uri().path(), "/" | "/index.html");
    let link = page
        .then(|| req.uri().query().and_then(lifecycle_preload))
        .flatten();
    let mut res = next.run(req).await;
    if let Some(link) = link {
        if res.status() == StatusCode::OK {
            res.headers_mut().append(header::LINK, link);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(q: &str) -> Option<String> {
        lifecycle_preload(q).map(|v| v.to_str().unwrap().to_string())
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
    fn no_preload_where_the_loader_asks_nothing_or_something_else() {
        for q in [
            "",
            "input=abc123", // lifecycle on this server's origin: none here
            "input=abc123&base=http://a&customer=f33zs165nr", // core refuses both
            "input=a%20b&base=http://a", // invalid uid
            "input=abc&video=def&base=http://a",
            "input=abc&base=http://a&engine=flash",
            "input=abc&base=http://a&token=eyJh.eyJz.sig", // signed: not repeated in a header
            "input=abc&base=http://a&tokenUrl=/api/rooms/r/viewer-token",
            "input=abc&base=javascript:alert(1)",
            "input=abc&base=http://a/x,y",
            "input=abc&base=http://a/x;rel=stylesheet",
        ] {
            assert_eq!(link(q), None, "{q}");
        }
    }
}
