//! A typed client of Cloudflare Stream's account API
//! (`<base>/accounts/<account>/stream/...`, Bearer token), used both against
//! Cloudflare and against the local origin's stand-in of it.
//!
//! Every failure is one [`AccountError`]; what an answer means is decided by
//! the pure [`interpret`], so the mapping is unit-tested without a network.
//! The token is a [`Secret`]: it goes into the `Authorization` header (marked
//! sensitive) and nowhere else, and an upstream message that echoes it is
//! redacted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use stream_api::account::{
    CreateLiveInput, Envelope, LiveInput, LiveInputList, Meta, RecordingSettings, Video,
    AUTH_ERROR_CODE,
};

use stream_api::Secret;

/// Cloudflare's API base.
pub const CLOUDFLARE_API_BASE: &str = "https://api.cloudflare.com/client/v4";
/// An answer larger than this is refused (a videos list is a few KB per video).
pub const MAX_BODY: usize = 8 << 20;
/// Wait after a 429 that came without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest wait a 429 can impose: Cloudflare blocks a token that went
/// over its 1200 calls per 5 minutes for the next 5 minutes, so no honest
/// `Retry-After` is longer. A longer one (or a year-3000 date) is clamped,
/// so an upstream cannot stop every call until a restart.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// A `Retry-After` longer than this is not read at all (an HTTP date is 29).
const MAX_RETRY_AFTER_LEN: usize = 64;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// 401/403 (or `success: false` with code 10000): bad token or account.
    /// Carries Cloudflare's message (api-error-auth.json: "Authentication error").
    #[error("Cloudflare API refused the credentials (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 404: no such live input (or video).
    #[error("not found: {message}")]
    NotFound { message: String },
    /// 429: no call should be made before `retry_after` has passed.
    #[error("rate limited by the Cloudflare API; retry after {}s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// 5xx, another unexpected status, or `success: false` on a 2xx.
    #[error("Cloudflare API failed (HTTP {status}): {message}")]
    Upstream { status: u16, message: String },
    /// No answer within the client's timeout.
    #[error("Cloudflare API did not answer in time")]
    Timeout,
    /// Connection refused, DNS, TLS...: no HTTP answer at all.
    #[error("cannot reach the Cloudflare API: {0}")]
    Unreachable(String),
    /// An answer that is not the JSON we expect (or too large).
    #[error("malformed answer from the Cloudflare API: {0}")]
    Malformed(String),
}

/// How to reach the API.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// E.g. `https://api.cloudflare.com/client/v4` (no trailing slash needed).
    pub base: String,
    pub account: String,
    pub token: Secret,
    /// For a whole call: connect, send, and read the answer.
    pub timeout: Duration,
}

/// Calls made, by kind (for `/control/stats` and the benchmark).
#[derive(Debug, Default)]
pub struct CallCounts {
    pub videos: AtomicU64,
    pub live_input: AtomicU64,
    pub create_live_input: AtomicU64,
    pub failed: AtomicU64,
    pub list_live_inputs: AtomicU64,
    pub update_live_input: AtomicU64,
    pub create_signing_key: AtomicU64,
}

/// A snapshot of [`CallCounts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallStats {
    pub videos: u64,
    pub live_input: u64,
    pub create_live_input: u64,
    pub failed: u64,
    #[serde(default)]
    pub list_live_inputs: u64,
    #[serde(default)]
    pub update_live_input: u64,
    #[serde(default)]
    pub create_signing_key: u64,
}

impl CallCounts {
    pub fn snapshot(&self) -> CallStats {
        CallStats {
            videos: self.videos.load(Ordering::Relaxed),
            live_input: self.live_input.load(Ordering::Relaxed),
            create_live_input: self.create_live_input.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            list_live_inputs: self.list_live_inputs.load(Ordering::Relaxed),
            update_live_input: self.update_live_input.load(Ordering::Relaxed),
            create_signing_key: self.create_signing_key.load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self) {
        for c in [
            &self.videos,
            &self.live_input,
            &self.create_live_input,
            &self.failed,
            &self.list_live_inputs,
            &self.update_live_input,
            &self.create_signing_key,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// A key from `POST .../keys`: its id and `pem` (base64 of the PEM text,
/// as Cloudflare sends it).
#[derive(Debug, Clone)]
pub struct CreatedSigningKey {
    pub id: String,
    pub pem: Secret,
}

pub struct AccountClient {
    base: String,
    account: String,
    token: Secret,
    timeout: Duration,
    http: reqwest::Client,
    pub calls: CallCounts,
}

impl std::fmt::Debug for AccountClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountClient")
            .field("base", &self.base)
            .field("account", &self.account)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `base` checked: `http(s)://host...`, without a trailing slash.
pub fn normalize_base(base: &str) -> Result<String, String> {
    let b = base.trim().trim_end_matches('/');
    let url = Url::parse(b).map_err(|e| format!("`{b}` is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(b.to_string()),
        _ => Err(format!("`{b}` is not an http(s) URL")),
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl AccountClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, String> {
        Self::with_http(cfg, Self::http_builder())
    }

    /// The HTTP client's settings: rustls with Mozilla's roots, no
    /// redirects (an API that redirects is misconfigured, and the token
    /// must not follow), a small idle pool.
    pub fn http_builder() -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4)
            .tcp_nodelay(true)
            .user_agent(concat!("jitsi-live-backend/", env!("CARGO_PKG_VERSION")))
    }

    /// With given HTTP settings (tests add their own root certificate:
    /// `http_builder().add_root_certificate(..)`).
    pub fn with_http(cfg: ClientConfig, builder: reqwest::ClientBuilder) -> Result<Self, String> {
        let base = normalize_base(&cfg.base)?;
        if cfg.account.is_empty() {
            return Err("the Cloudflare account id is empty".into());
        }
        if cfg.token.is_empty() {
            return Err("the Cloudflare API token is empty".into());
        }
        let http = builder
            .connect_timeout(cfg.timeout)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", error_chain(&e)))?;
        Ok(Self {
            base,
            account: cfg.account,
            token: cfg.token,
            timeout: cfg.timeout,
            http,
            calls: CallCounts::default(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    fn url(&self, path: &[&str]) -> String {
        let mut url = format!(
            "{}/accounts/{}/stream",
            self.base,
            encode_segment(&self.account)
        );
        for p in path {
            url.push('/');
            url.push_str(&encode_segment(p));
        }
        url
    }

    /// `GET .../live_inputs/<input>/videos`: every video of the input.
    /// An element that does not read as a video is skipped (logged), so
    /// one odd video never hides the others.
    pub async fn list_videos(&self, input: &str) -> Result<Vec<Video>, AccountError> {
        self.calls.videos.fetch_add(1, Ordering::Relaxed);
        let url = self.url(&["live_inputs", input, "videos"]);
        let items: Vec<serde_json::Value> = self.call(Method::GET, &url, None).await?;
        Ok(items
            .into_iter()
            .filter_map(|v| match serde_json::from_value::<Video>(v) {
                Ok(video) => Some(video),
                Err(e) => {
                    tracing::debug!(input, error = %e, "skipping a video that does not read");
                    None
                }
            })
            .collect())
    }

    /// `GET .../live_inputs/<input>`.
    pub async fn get_live_input(&self, input: &str) -> Result<LiveInput, AccountError> {
        self.calls.live_input.fetch_add(1, Ordering::Relaxed);
        let url = self.url(&["live_inputs", input]);
        self.call(Method::GET, &url, None).await
    }

    /// `POST .../live_inputs` with `{"meta": {"name"}, "recording": opts}`.
    pub async fn create_live_input(
        &self,
        name: &str,
        recording: RecordingSettings,
    ) -> Result<LiveInput, AccountError> {
        self.calls.create_live_input.fetch_add(1, Ordering::Relaxed);
        let body = CreateLiveInput {
            meta: Meta {
                name: Some(name.to_string()),
                room: None,
            },
            recording,
            delete_recording_after_days: None,
        };
        self.create(body).await
    }

    /// `POST .../live_inputs` with the whole body (meta included).
    pub async fn create_live_input_with(
        &self,
        body: CreateLiveInput,
    ) -> Result<LiveInput, AccountError> {
        self.calls.create_live_input.fetch_add(1, Ordering::Relaxed);
        self.create(body).await
    }

    /// `GET .../live_inputs`: every input of the account (uid, meta, dates).
    pub async fn list_live_inputs(&self) -> Result<Vec<LiveInput>, AccountError> {
        self.calls.list_live_inputs.fetch_add(1, Ordering::Relaxed);
        let url = self.url(&["live_inputs"]);
        let list: LiveInputList = self.call(Method::GET, &url, None).await?;
        Ok(list.live_inputs)
    }

    /// `PUT .../live_inputs/<input>` with a whole body (Cloudflare replaces
    /// the settings given).
    pub async fn update_live_input(
        &self,
        input: &str,
        body: CreateLiveInput,
    ) -> Result<LiveInput, AccountError> {
        self.calls.update_live_input.fetch_add(1, Ordering::Relaxed);
        let json = serde_json::to_vec(&body)
            .map_err(|e| AccountError::Malformed(format!("cannot encode the request: {e}")))?;
        let url = self.url(&["live_inputs", input]);
        self.call(Method::PUT, &url, Some(Bytes::from(json))).await
    }

    /// `POST .../keys`: a new signing key, its private half shown this
    /// once. Errors never quote the answer (it holds the key).
    pub async fn create_signing_key(&self) -> Result<CreatedSigningKey, AccountError> {
        self.calls
            .create_signing_key
            .fetch_add(1, Ordering::Relaxed);
        let url = self.url(&["keys"]);
        let v: serde_json::Value = self.call(Method::POST, &url, None).await?;
        let field = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        match (field("id"), field("pem")) {
            (Some(id), Some(pem)) if !id.is_empty() && !pem.is_empty() => Ok(CreatedSigningKey {
                id,
                pem: Secret::new(pem),
            }),
            _ => Err(AccountError::Malformed(
                "the signing key answer has no id or pem".into(),
            )),
        }
    }

    async fn create(&self, body: CreateLiveInput) -> Result<LiveInput, AccountError> {
        let json = serde_json::to_vec(&body)
            .map_err(|e| AccountError::Malformed(format!("cannot encode the request: {e}")))?;
        let url = self.url(&["live_inputs"]);
        self.call(Method::POST, &url, Some(Bytes::from(json))).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<T, AccountError> {
        let result =
            match tokio::time::timeout(self.timeout, self.exchange(method, url, body)).await {
                Ok(r) => r,
                Err(_) => Err(AccountError::Timeout),
            }
            .and_then(|(status, retry_after, bytes)| {
                interpret(status, retry_after.as_deref(), &bytes, SystemTime::now())
            })
            .map_err(|e| self.redact(e));
        if let Err(e) = &result {
            self.calls.failed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url, error = %e, "account API call failed");
        }
        result
    }

    /// Sends one request; the status, `Retry-After` and the whole body
    /// (at most [`MAX_BODY`] bytes).
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<(u16, Option<String>, Bytes), AccountError> {
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", self.token.expose())).map_err(|_| {
                AccountError::Unauthorized {
                    status: 0,
                    message: "the API token has characters a header cannot carry".into(),
                }
            })?;
        auth.set_sensitive(true);
        let mut req = self
            .http
            .request(method, url)
            .header(header::ACCEPT, "application/json")
            .header(header::AUTHORIZATION, auth);
        if let Some(body) = body {
            req = req
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let mut resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                AccountError::Timeout
            } else {
                // reqwest's chain: the connect or TLS error is the useful part.
                AccountError::Unreachable(error_chain(&e))
            }
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let too_large = || AccountError::Malformed(format!("the answer is over {MAX_BODY} bytes"));
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(too_large());
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            AccountError::Malformed(format!("cannot read the answer: {}", error_chain(&e)))
        })? {
            if buf.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((status, retry_after, buf.freeze()))
    }

    fn redact(&self, e: AccountError) -> AccountError {
        let r = |s: String| self.token.redact(&s);
        match e {
            AccountError::Unauthorized { status, message } => AccountError::Unauthorized {
                status,
                message: r(message),
            },
            AccountError::NotFound { message } => AccountError::NotFound {
                message: r(message),
            },
            AccountError::Upstream { status, message } => AccountError::Upstream {
                status,
                message: r(message),
            },
            AccountError::Unreachable(m) => AccountError::Unreachable(r(m)),
            AccountError::Malformed(m) => AccountError::Malformed(r(m)),
            e @ (AccountError::RateLimited { .. } | AccountError::Timeout) => e,
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (relative to `now`), at
/// most [`MAX_RETRY_AFTER`]. Digits too many for a `u64` are the maximum;
/// a sign, a fraction, garbage or an overlong value is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() || v.len() > MAX_RETRY_AFTER_LEN {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // `u64::from_str` would also take a leading `+`; RFC 9110 does not.
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// The errors' text of an envelope, or `HTTP <status>` when it has none.
fn message_of(env: Option<&Envelope<serde_json::Value>>, status: u16) -> String {
    env.map(Envelope::error_text)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"))
}

/// What an answer means: the envelope's `result` as `T`, or the error.
pub fn interpret<T: DeserializeOwned>(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> Result<T, AccountError> {
    let env: Result<Envelope<serde_json::Value>, _> = serde_json::from_slice(body);
    let env_ref = env.as_ref().ok();
    match status {
        200..=299 => {
            let env = env.map_err(|e| AccountError::Malformed(e.to_string()))?;
            if !env.success {
                let message = message_of(Some(&env), status);
                return Err(if env.errors.iter().any(|e| e.code == AUTH_ERROR_CODE) {
                    AccountError::Unauthorized { status, message }
                } else {
                    AccountError::Upstream { status, message }
                });
            }
            let result = env
                .result
                .ok_or_else(|| AccountError::Malformed("`result` is missing or null".into()))?;
            serde_json::from_value(result).map_err(|e| AccountError::Malformed(e.to_string()))
        }
        401 | 403 => Err(AccountError::Unauthorized {
            status,
            message: message_of(env_ref, status),
        }),
        404 => Err(AccountError::NotFound {
            message: message_of(env_ref, status),
        }),
        429 => Err(AccountError::RateLimited {
            retry_after: retry_after
                .and_then(|v| parse_retry_after(v, now))
                .unwrap_or(DEFAULT_RETRY_AFTER),
        }),
        _ => Err(AccountError::Upstream {
            status,
            message: message_of(env_ref, status),
        }),
    }
}

/// An error with its sources, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg = format!("{msg}: {part}");
        }
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn interp(status: u16, retry: Option<&str>, body: &str) -> Result<Vec<Video>, AccountError> {
        interpret(status, retry, body.as_bytes(), now())
    }

    #[test]
    fn answers_map_to_one_error_enum() {
        let auth = r#"{"result": null, "success": false, "errors": [{"code": 10000, "message": "Authentication error"}], "messages": []}"#;
        let cases: Vec<(u16, Option<&str>, &str, AccountError)> = vec![
            (
                401,
                None,
                auth,
                AccountError::Unauthorized {
                    status: 401,
                    message: "Authentication error".into(),
                },
            ),
            (
                403,
                None,
                "<html>forbidden</html>",
                AccountError::Unauthorized {
                    status: 403,
                    message: "HTTP 403".into(),
                },
            ),
            (
                200,
                None,
                auth,
                AccountError::Unauthorized {
                    status: 200,
                    message: "Authentication error".into(),
                },
            ),
            (
                404,
                None,
                r#"{"result":null,"success":false,"errors":[{"code":10003,"message":"Not found"}],"messages":[]}"#,
                AccountError::NotFound {
                    message: "Not found".into(),
                },
            ),
            (
                429,
                Some("7"),
                "",
                AccountError::RateLimited {
                    retry_after: Duration::from_secs(7),
                },
            ),
            (
                429,
                None,
                "",
                AccountError::RateLimited {
                    retry_after: DEFAULT_RETRY_AFTER,
                },
            ),
            (
                429,
                Some("soon"),
                "",
                AccountError::RateLimited {
                    retry_after: DEFAULT_RETRY_AFTER,
                },
            ),
            (
                502,
                None,
                "bad gateway",
                AccountError::Upstream {
                    status: 502,
                    message: "HTTP 502".into(),
                },
            ),
            (
                500,
                None,
                r#"{"success":false,"errors":[{"code":1,"message":"a"},{"code":2,"message":"b"}]}"#,
                AccountError::Upstream {
                    status: 500,
                    message: "a; b".into(),
                },
            ),
            (
                400,
                None,
                "{}",
                AccountError::Upstream {
                    status: 400,
                    message: "HTTP 400".into(),
                },
            ),
            (
                200,
                None,
                r#"{"success":false,"errors":[{"code":10005,"message":"nope"}]}"#,
                AccountError::Upstream {
                    status: 200,
                    message: "nope".into(),
                },
            ),
        ];
        for (status, retry, body, want) in cases {
            assert_eq!(interp(status, retry, body), Err(want), "{status} {body}");
        }
        for body in [
            "",
            "{",
            "[]",
            r#"{"result": [], "success": "yes"}"#,
            r#"{"result": null, "success": true, "errors": []}"#,
            r#"{"success": true}"#,
            r#"{"result": {"not": "a list"}, "success": true}"#,
        ] {
            assert!(
                matches!(interp(200, None, body), Err(AccountError::Malformed(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn retry_after_in_seconds_or_http_date() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now() + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now()),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now() - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now()), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1", now()), None);
        assert_eq!(parse_retry_after("", now()), None);
    }

    // Regression: `Retry-After: 18446744073709551615` overflowed `Instant +`
    // in the cache (a panic, an abort in release), and a year-3000 date held
    // every call off until a restart.
    #[test]
    fn retry_after_is_bounded() {
        let max = Some(MAX_RETRY_AFTER);
        let cases: &[(&str, Option<Duration>)] = &[
            ("18446744073709551615", max),
            ("18446744073709551616", max),
            ("99999999999999999999999999999999", max),
            ("301", max),
            ("300", max),
            ("299", Some(Duration::from_secs(299))),
            ("0", Some(Duration::ZERO)),
            (" 5 ", Some(Duration::from_secs(5))),
            ("+5", None),
            ("-5", None),
            ("-18446744073709551615", None),
            ("1.5", None),
            ("5s", None),
            ("Wed, 01 Jan 3000 00:00:00 GMT", max),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(Duration::ZERO)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", max),
            ("Sat, 32 Jan 2000 00:00:00 GMT", None),
            ("<script>", None),
        ];
        for (v, want) in cases {
            assert_eq!(parse_retry_after(v, now()), *want, "{v}");
        }
        assert_eq!(parse_retry_after(&"9".repeat(65), now()), None);
        assert_eq!(parse_retry_after(&"1".repeat(64), now()), max);
        assert_eq!(
            interp(429, Some("18446744073709551615"), ""),
            Err(AccountError::RateLimited {
                retry_after: MAX_RETRY_AFTER
            })
        );
    }

    #[test]
    fn success_reads_the_result() {
        let body = json!({"result": [{"uid": "a", "status": {"state": "ready"}}], "success": true, "errors": [], "messages": []});
        let v = interp(200, None, &body.to_string()).unwrap();
        assert_eq!(v[0].uid, "a");
    }

    #[test]
    fn bases_and_segments() {
        assert_eq!(
            normalize_base("https://api.cloudflare.com/client/v4/").unwrap(),
            "https://api.cloudflare.com/client/v4"
        );
        assert_eq!(
            normalize_base("http://127.0.0.1:8080/client/v4").unwrap(),
            "http://127.0.0.1:8080/client/v4"
        );
        for bad in ["", "ftp://x/y", "/client/v4", "http://", "not a url"] {
            assert!(normalize_base(bad).is_err(), "{bad}");
        }
        assert_eq!(encode_segment("ab-C_9.~"), "ab-C_9.~");
        assert_eq!(encode_segment("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = AccountClient::new(ClientConfig {
            base: CLOUDFLARE_API_BASE.into(),
            account: "acc".into(),
            token: Secret::new("tok-SECRET"),
            timeout: Duration::from_secs(1),
        });
        // Building a client needs no runtime and no network.
        let c = c.unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("tok-SECRET"), "{dbg}");
        assert!(dbg.contains("***"));
        let cfg = format!(
            "{:?}",
            ClientConfig {
                base: "b".into(),
                account: "a".into(),
                token: Secret::new("tok-SECRET"),
                timeout: Duration::from_secs(1),
            }
        );
        assert!(!cfg.contains("tok-SECRET"));
        assert_eq!(
            c.url(&["live_inputs", "in/put", "videos"]),
            "https://api.cloudflare.com/client/v4/accounts/acc/stream/live_inputs/in%2Fput/videos"
        );
    }
}
