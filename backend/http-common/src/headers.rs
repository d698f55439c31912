//! Security headers on every answer a server gives (issue 15: there were
//! none but a Referrer-Policy):
//!
//! - `X-Content-Type-Options: nosniff` everywhere, so no JSON or text
//!   answer is ever run as a script or a page;
//! - `Referrer-Policy: no-referrer`: pages may carry a Jitsi token in their
//!   address (`?jwt=`) until their script takes it out;
//! - on HTML pages a Content-Security-Policy: who may frame the page
//!   (`frame-ancestors`: the configured hosts for the watch page, which is
//!   made to be embedded; only this origin for the moderator page, which
//!   holds a token), no plugins, no `<base>` or form posts elsewhere;
//! - `Cache-Control: no-store` on every answer to a request that carried
//!   credentials (an `Authorization` header or `?jwt=`): a go-live answer
//!   holds the stream key;
//! - an error answer without a body (a 405 from the static files, say)
//!   gets the JSON one every other error has ([`PublicError`]).

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{error_response, PublicError};

/// Who may frame the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramePolicy {
    /// `frame-ancestors` of the watch page (and any other page but the
    /// moderator's).
    pub pages: HeaderValue,
    /// The moderator page's (`/moderator...`).
    pub moderator: HeaderValue,
}

const CSP_REST: &str = "object-src 'none'; base-uri 'self'; form-action 'self'";

impl FramePolicy {
    /// From a `--frame-ancestors` value: `*` (any site may embed the watch
    /// page), `none`, or hosts separated by spaces or commas
    /// (`https://a.example`, `https://*.example.com`, `'self'`); this
    /// origin is always allowed (the moderator page previews the watch
    /// page in a frame).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let sources = if s == "*" {
            "*".to_string()
        } else if s.eq_ignore_ascii_case("none") || s == "'none'" {
            "'self'".to_string()
        } else {
            let mut list = vec!["'self'".to_string()];
            for src in s.split([',', ' ']).map(str::trim).filter(|x| !x.is_empty()) {
                if src == "'self'" {
                    continue;
                }
                let rest = src
                    .strip_prefix("https://")
                    .or_else(|| src.strip_prefix("http://"))
                    .ok_or_else(|| {
                        format!("frame ancestor `{src}` must start with http:// or https://")
                    })?;
                let ok = !rest.is_empty()
                    && rest.bytes().all(|b| {
                        b.is_ascii_alphanumeric()
                            || matches!(b, b'.' | b'-' | b':' | b'*' | b'[' | b']')
                    });
                if !ok {
                    return Err(format!(
                        "frame ancestor `{src}` must be scheme://host[:port], no path"
                    ));
                }
                list.push(src.to_string());
            }
            if list.len() == 1 {
                return Err(
                    "no frame ancestor given (use * for any, none for this site only)".into(),
                );
            }
            list.join(" ")
        };
        let csp = |fa: &str| {
            HeaderValue::from_str(&format!("frame-ancestors {fa}; {CSP_REST}"))
                .map_err(|_| format!("`{s}` cannot go in a header"))
        };
        Ok(Self {
            pages: csp(&sources)?,
            moderator: csp("'self'")?,
        })
    }
}

impl Default for FramePolicy {
    fn default() -> Self {
        Self::parse("*").unwrap_or_else(|_| unreachable!("`*` parses"))
    }
}

/// `router` with the security headers on every answer (its fallback's
/// included).
pub fn secure(router: Router, frames: FramePolicy) -> Router {
    router
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let frames = frames.clone();
                async move { per_request(req, next, &frames).await }
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// Whether a request carries credentials: an `Authorization` header or a
/// `jwt` query parameter.
pub fn has_credentials(req: &Request) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
        || req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "jwt" || p.starts_with("jwt=")))
}

async fn per_request(req: Request, next: Next, frames: &FramePolicy) -> Response {
    let credentials = has_credentials(&req);
    let moderator = req.uri().path().starts_with("/moderator");
    let mut resp = next.run(req).await;
    let status = resp.status();
    if (status.is_client_error() || status.is_server_error())
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        let text = status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase();
        let mut json = error_response(status, PublicError::new(status, text));
        for (name, value) in resp.headers() {
            if name != header::CONTENT_LENGTH && !json.headers().contains_key(name) {
                json.headers_mut().insert(name.clone(), value.clone());
            }
        }
        resp = json;
    }
    let h = resp.headers_mut();
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = if moderator {
            &frames.moderator
        } else {
            &frames.pages
        };
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    }
    if credentials {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::{Html, IntoResponse};
    use axum::routing::get;
    use tower::ServiceExt;

    fn app(frames: FramePolicy) -> Router {
        let page = || async { Html("<!doctype html><title>p</title>") };
        secure(
            Router::new()
                .route("/", get(page))
                .route("/moderator/", get(page))
                .route(
                    "/api/key",
                    get(|| async {
                        (
                            [(header::CACHE_CONTROL, "public, max-age=60")],
                            axum::Json(serde_json::json!({"streamKey": "k"})),
                        )
                            .into_response()
                    }),
                )
                .fallback(|| async { StatusCode::NOT_FOUND }),
            frames,
        )
    }

    async fn get_with(app: &Router, uri: &str, auth: bool) -> axum::http::HeaderMap {
        let mut req = Request::builder().uri(uri);
        if auth {
            req = req.header(header::AUTHORIZATION, "Bearer x.y.z");
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        resp.headers().clone()
    }

    fn hv(h: &axum::http::HeaderMap, name: header::HeaderName) -> &str {
        h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    // Regression (issue 15, 5): no nosniff anywhere, no CSP or
    // frame-ancestors on the pages, no no-store on answers with stream keys.
    #[tokio::test]
    async fn every_answer_gets_its_headers() {
        let app = app(FramePolicy::parse("https://host.example, https://*.example.org").unwrap());
        let page = get_with(&app, "/", false).await;
        assert_eq!(hv(&page, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(hv(&page, header::REFERRER_POLICY), "no-referrer");
        assert_eq!(
            hv(&page, header::CONTENT_SECURITY_POLICY),
            "frame-ancestors 'self' https://host.example https://*.example.org; object-src 'none'; base-uri 'self'; form-action 'self'"
        );
        let m = get_with(&app, "/moderator/?room=a&jwt=x.y.z", false).await;
        assert!(hv(&m, header::CONTENT_SECURITY_POLICY).starts_with("frame-ancestors 'self';"));
        assert_eq!(
            hv(&m, header::CACHE_CONTROL),
            "no-store",
            "a token in the address"
        );
        let json = get_with(&app, "/api/key", false).await;
        assert_eq!(hv(&json, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(hv(&json, header::CONTENT_SECURITY_POLICY), "");
        assert_eq!(hv(&json, header::CACHE_CONTROL), "public, max-age=60");
        let authed = get_with(&app, "/api/key", true).await;
        assert_eq!(hv(&authed, header::CACHE_CONTROL), "no-store");
        let missing = get_with(&app, "/nope", false).await;
        assert_eq!(hv(&missing, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(
            hv(&missing, header::CONTENT_TYPE),
            "application/json",
            "bodiless errors get JSON"
        );
    }

    #[test]
    fn frame_policies() {
        let fa = |s: &str| {
            FramePolicy::parse(s).map(|p| {
                p.pages
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_string()
            })
        };
        assert_eq!(fa("*").unwrap(), "frame-ancestors *");
        assert_eq!(fa("none").unwrap(), "frame-ancestors 'self'");
        assert_eq!(
            fa("http://127.0.0.1:8080 'self'").unwrap(),
            "frame-ancestors 'self' http://127.0.0.1:8080"
        );
        for bad in [
            "",
            "host.example",
            "https://a.example/path",
            "https://a.example; script-src *",
            "https://a\r\nX: y",
            "javascript:alert(1)",
        ] {
            assert!(FramePolicy::parse(bad).is_err(), "{bad}");
        }
    }
}
