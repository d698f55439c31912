//! `GET /api/inputs/<input>/recordings`: what viewers call. Thin: the cache
//! decides, this turns its answer into HTTP (ETag, 304, cache headers,
//! CORS for the configured origins).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::account_client::{AccountClient, CallStats};
use crate::cache::{Answer, CacheStats, RecordingsCache};
use crate::error::{error_response, ApiError, PublicError};
use crate::extract::PathParams;
use crate::ids;
use crate::recordings;

pub struct RecordingsService {
    pub cache: Arc<RecordingsCache<AccountClient>>,
    not_modified: AtomicU64,
}

/// `"recordings"` in `/control/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingsStats {
    #[serde(flatten)]
    pub cache: CacheStats,
    /// Answered 304.
    pub not_modified: u64,
}

impl RecordingsService {
    pub fn new(cache: Arc<RecordingsCache<AccountClient>>) -> Self {
        Self {
            cache,
            not_modified: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> RecordingsStats {
        RecordingsStats {
            cache: self.cache.stats(),
            not_modified: self.not_modified.load(Ordering::Relaxed),
        }
    }

    /// Calls the account API client made.
    pub fn upstream_stats(&self) -> CallStats {
        self.cache.upstream().calls.snapshot()
    }

    pub fn reset_stats(&self) {
        self.cache.reset_stats();
        self.cache.upstream().calls.reset();
        self.not_modified.store(0, Ordering::Relaxed);
    }
}

/// Which origins may read the endpoint: `*`, or a comma-separated list of
/// `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

pub fn parse_cors_origins(s: &str) -> Result<CorsOrigins, String> {
    let s = s.trim();
    if s == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut list = Vec::new();
    for o in s.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let rest = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .ok_or_else(|| format!("CORS origin `{o}` must start with http:// or https://"))?;
        if rest.is_empty()
            || rest.contains(['/', '?', '#', '@', ' '])
            || HeaderValue::from_str(o).is_err()
        {
            return Err(format!(
                "CORS origin `{o}` must be scheme://host[:port] with no path"
            ));
        }
        list.push(o.to_string());
    }
    if list.is_empty() {
        return Err("no CORS origin given (use * for any)".into());
    }
    Ok(CorsOrigins::List(list))
}

pub fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow = match origins {
        CorsOrigins::Any => AllowOrigin::from(Any),
        CorsOrigins::List(l) => {
            AllowOrigin::list(l.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        }
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

pub fn router(svc: Arc<RecordingsService>, origins: &CorsOrigins) -> Router {
    Router::new()
        .route("/api/inputs/{input}/recordings", get(recordings))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(cors_layer(origins))
        .with_state(svc)
}

/// A 404 that caches may keep for the TTL (the id is the caller's own,
/// checked by [`ids::is_valid_uid`] before it is echoed).
fn no_input(input: &str, ttl: Duration) -> Response {
    let mut r = (
        StatusCode::NOT_FOUND,
        Json(PublicError::with_code(
            "no_input",
            if ids::is_valid_uid(input) {
                format!("no live input `{input}`")
            } else {
                "no live input with that id".into()
            },
        )),
    )
        .into_response();
    if let Ok(cc) = HeaderValue::from_str(&format!("public, max-age={}", ttl.as_secs().max(1))) {
        r.headers_mut().insert(header::CACHE_CONTROL, cc);
    }
    r
}

/// `GET /api/inputs/<input>/recordings`.
pub async fn recordings(
    State(svc): State<Arc<RecordingsService>>,
    PathParams(input): PathParams<String>,
    headers: HeaderMap,
) -> Response {
    let ttl = svc.cache.settings().ttl;
    if !ids::is_valid_uid(&input) {
        return no_input(&input, ttl);
    }
    match svc.cache.get(&input).await {
        Answer::Found { page, .. } => {
            let cc = HeaderValue::from_str(&recordings::cache_control(ttl, page.settling))
                .unwrap_or(HeaderValue::from_static("no-cache"));
            let etag = HeaderValue::from_str(&page.etag).ok();
            let matched = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|h| recordings::if_none_match(h, &page.etag));
            let mut resp = if matched {
                svc.not_modified.fetch_add(1, Ordering::Relaxed);
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    page.body.clone(),
                )
                    .into_response()
            };
            let h = resp.headers_mut();
            h.insert(header::CACHE_CONTROL, cc);
            if let Some(etag) = etag {
                h.insert(header::ETAG, etag);
            }
            resp
        }
        Answer::Missing => no_input(&input, ttl),
        // The reason (upstream text) is in the log already: viewers get a
        // fixed sentence.
        Answer::Unavailable {
            retry_after: Some(after),
            ..
        } => {
            let mut resp = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                PublicError::with_code("busy", "the recordings list is busy; try again shortly"),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
            resp
        }
        Answer::Unavailable {
            retry_after: None, ..
        } => error_response(
            StatusCode::BAD_GATEWAY,
            PublicError::with_code(
                "upstream_unavailable",
                "the recordings list cannot be fetched right now",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origin_lists() {
        assert_eq!(parse_cors_origins("*").unwrap(), CorsOrigins::Any);
        assert_eq!(
            parse_cors_origins("https://a.example, http://127.0.0.1:8080").unwrap(),
            CorsOrigins::List(vec![
                "https://a.example".into(),
                "http://127.0.0.1:8080".into()
            ])
        );
        for bad in [
            "",
            " , ",
            "a.example",
            "https://a.example/path",
            "ftp://x",
            "https://",
        ] {
            assert!(parse_cors_origins(bad).is_err(), "{bad}");
        }
    }
}
