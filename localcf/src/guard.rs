//! Who may drive the stand-in. It runs on developers' laptops next to a
//! browser, so a web page must not be able to create inputs, start
//! broadcasts or read stream keys through it:
//!
//! - Bound to loopback (the default), only loopback `Host` values are
//!   accepted (`localhost`, `127.x.x.x`, `[::1]`, with any port): a
//!   DNS-rebinding host name resolving to 127.0.0.1 is refused with 421.
//! - Bound beyond loopback, the control API needs
//!   `Authorization: Bearer <control token>` (the account API already
//!   needs its own token); the host names are then the network's.
//! - The control and account APIs have no CORS and refuse a request whose
//!   `Origin` is another origin (403), and a body that is not declared
//!   `application/json` (415): a cross-origin page can only send "simple"
//!   requests, whose bodies are `text/plain` or forms, so neither reaches a
//!   handler. Delivery endpoints keep their CORS: viewers' pages need it.
//!
//! The rules are pure functions over the request head, tested with case
//! tables; [`enforce`] is the axum middleware that applies them.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use player_core::cloudflare::ErrorBody;
use stream_api::Secret;

/// How the stand-in is reachable.
#[derive(Debug, Clone)]
pub enum Exposure {
    /// Bound to a loopback address: only loopback `Host` values.
    Loopback,
    /// Bound beyond loopback: the control API needs this token.
    Network { control_token: Secret },
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 421: a `Host` that is not loopback while bound to loopback.
    ForeignHost,
    /// 403: a browser request from another origin.
    CrossOrigin,
    /// 401: no or a wrong control token.
    NoToken,
    /// 415: a body that is not `application/json`.
    NotJson,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Self::ForeignHost => StatusCode::MISDIRECTED_REQUEST,
            Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::NoToken => StatusCode::UNAUTHORIZED,
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::ForeignHost => {
                "this local stand-in answers only to localhost, 127.0.0.1 and [::1]"
            }
            Self::CrossOrigin => "the control and account APIs refuse cross-origin requests",
            Self::NoToken => {
                "the control API needs `Authorization: Bearer <token>` (printed at start, or --control-token)"
            }
            Self::NotJson => "request bodies must be sent as `Content-Type: application/json`",
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut r = (
            self.status(),
            [(header::CACHE_CONTROL, "no-store")],
            Json(ErrorBody {
                error: self.message().into(),
            }),
        )
            .into_response();
        if self == Self::NoToken {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}

/// The host part of a `Host` value (`name`, `name:port`, `[v6]:port`),
/// lowercased; `None` when malformed.
fn host_name(value: &str) -> Option<String> {
    let v = value.trim();
    let host = if let Some(rest) = v.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        format!("[{inner}]")
    } else {
        let (name, port) = match v.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (v, None),
        };
        if port.is_some_and(|p| !is_port(p)) || name.contains(':') {
            return None;
        }
        name.to_string()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a `Host` value names this machine's loopback: `localhost`, an
/// IPv4 address in 127.0.0.0/8 or `[::1]`, with or without a port.
pub fn is_loopback_host(value: &str) -> bool {
    let Some(host) = host_name(value) else {
        return false;
    };
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Whether an `Origin` header names the origin the request was sent to
/// (`http://<Host>`): a browser's same-origin request.
pub fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .is_some_and(|o| o.eq_ignore_ascii_case(host.trim()))
}

/// Whether `Content-Type` is JSON (`application/json`, any parameters).
pub fn is_json_content_type(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// Whether a request carries a body (a positive `Content-Length`, or a
/// `Transfer-Encoding`, which means one of unknown length).
fn has_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != "0")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Which API a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `/control/...`.
    Control,
    /// `/client/v4/...`, the account API stand-in.
    Account,
    /// Delivery endpoints and the player: public, with CORS.
    Public,
}

pub fn area(path: &str) -> Area {
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    if under("/control") {
        Area::Control
    } else if under("/client/v4") {
        Area::Account
    } else {
        Area::Public
    }
}

/// The rules, in order: the Host, then (control and account API only) the
/// origin, the token and the body's type.
pub fn check(
    exposure: &Exposure,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if matches!(exposure, Exposure::Loopback) {
        // A request without Host cannot come from a browser (HTTP/1.1
        // requires it); an unreadable one is refused.
        match headers.get(header::HOST) {
            None => {}
            Some(_) if host.is_some_and(is_loopback_host) => {}
            Some(_) => return Err(Refusal::ForeignHost),
        }
    }
    let area = area(path);
    if area == Area::Public {
        return Ok(());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin.to_str().is_ok_and(|o| is_same_origin(o, host));
        if !same {
            return Err(Refusal::CrossOrigin);
        }
    }
    if let (Exposure::Network { control_token }, Area::Control) = (exposure, area) {
        if !bearer(headers).is_some_and(|t| control_token.matches(t)) {
            return Err(Refusal::NoToken);
        }
    }
    let may_have_body = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if may_have_body
        && has_body(headers)
        && !is_json_content_type(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        )
    {
        return Err(Refusal::NotJson);
    }
    Ok(())
}

/// The middleware: refuses what [`check`] refuses, before any handler runs.
/// Every answer gets `X-Content-Type-Options: nosniff`; control answers,
/// which carry stream keys, `Cache-Control: no-store`.
pub async fn enforce(
    State(exposure): State<Arc<Exposure>>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let area = area(req.uri().path());
    let mut resp = match check(&exposure, req.method(), req.uri().path(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(r) => {
            tracing::debug!(path = %req.uri().path(), refusal = ?r, "request refused");
            r.into_response()
        }
    };
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if area == Area::Control {
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts() {
        let table = [
            ("localhost", true),
            ("localhost:8080", true),
            ("LOCALHOST:8080", true),
            ("127.0.0.1", true),
            ("127.0.0.1:49152", true),
            ("127.1.2.3:80", true),
            ("[::1]", true),
            ("[::1]:8080", true),
            // DNS rebinding: a name of the attacker's that resolves to 127.0.0.1.
            ("rebind.attacker.example:8080", false),
            ("localhost.attacker.example", false),
            ("127.0.0.1.nip.io", false),
            ("10.0.0.5:8080", false),
            ("0.0.0.0:8080", false),
            ("[::2]:80", false),
            ("[::1]x", false),
            ("localhost:", false),
            ("localhost:port", false),
            ("localhost:123456", false),
            ("::1", false),
            ("", false),
        ];
        for (host, want) in table {
            assert_eq!(is_loopback_host(host), want, "{host}");
        }
    }

    #[test]
    fn json_content_types() {
        let table = [
            (Some("application/json"), true),
            (Some("application/json; charset=utf-8"), true),
            (Some("Application/JSON"), true),
            (Some("text/plain"), false),
            (Some("text/plain;charset=UTF-8"), false),
            (Some("application/x-www-form-urlencoded"), false),
            (Some("multipart/form-data; boundary=x"), false),
            (Some("application/jsonp"), false),
            (None, false),
        ];
        for (ct, want) in table {
            assert_eq!(is_json_content_type(ct), want, "{ct:?}");
        }
    }

    #[test]
    fn areas() {
        assert_eq!(area("/control"), Area::Control);
        assert_eq!(area("/control/inputs"), Area::Control);
        assert_eq!(area("/controlx"), Area::Public);
        assert_eq!(
            area("/client/v4/accounts/local/stream/live_inputs"),
            Area::Account
        );
        assert_eq!(area("/demo/lifecycle"), Area::Public);
        assert_eq!(area("/"), Area::Public);
    }

    #[test]
    fn rules() {
        let lo = Exposure::Loopback;
        let net = Exposure::Network {
            control_token: Secret::new("tok-123"),
        };
        let post = Method::POST;
        let get = Method::GET;
        let json = ("content-type", "application/json");
        let len = ("content-length", "2");
        let local = ("host", "127.0.0.1:8080");
        type Case<'a> = (
            &'a Exposure,
            &'a Method,
            &'a str,
            HeaderMap,
            Result<(), Refusal>,
        );
        let table: Vec<Case> = vec![
            (
                &lo,
                &post,
                "/control/inputs",
                headers(&[local, json, len]),
                Ok(()),
            ),
            // No body: no type needed (curl -X POST .../start).
            (
                &lo,
                &post,
                "/control/inputs/a/start",
                headers(&[local]),
                Ok(()),
            ),
            (
                &lo,
                &post,
                "/control/inputs",
                headers(&[local, ("content-length", "0")]),
                Ok(()),
            ),
            // A cross-origin "simple" request: text/plain body.
            (
                &lo,
                &post,
                "/control/inputs",
                headers(&[local, len, ("content-type", "text/plain")]),
                Err(Refusal::NotJson),
            ),
            (
                &lo,
                &post,
                "/control/inputs",
                headers(&[local, len]),
                Err(Refusal::NotJson),
            ),
            (
                &lo,
                &post,
                "/control/inputs",
                headers(&[
                    local,
                    ("transfer-encoding", "chunked"),
                    ("content-type", "text/plain"),
                ]),
                Err(Refusal::NotJson),
            ),
            // The same from a page of another origin, even without a body.
            (
                &lo,
                &post,
                "/control/inputs/a/start",
                headers(&[local, ("origin", "http://evil.example")]),
                Err(Refusal::CrossOrigin),
            ),
            (
                &lo,
                &get,
                "/control/inputs",
                headers(&[local, ("origin", "null")]),
                Err(Refusal::CrossOrigin),
            ),
            // The player's own page (same origin) may call it.
            (
                &lo,
                &get,
                "/control/inputs",
                headers(&[local, ("origin", "http://127.0.0.1:8080")]),
                Ok(()),
            ),
            // Delivery keeps its CORS for every origin.
            (
                &lo,
                &get,
                "/demo/lifecycle",
                headers(&[local, ("origin", "http://evil.example")]),
                Ok(()),
            ),
            // DNS rebinding: refused everywhere while bound to loopback.
            (
                &lo,
                &get,
                "/control/inputs",
                headers(&[("host", "rebind.example:8080")]),
                Err(Refusal::ForeignHost),
            ),
            (
                &lo,
                &get,
                "/demo/lifecycle",
                headers(&[("host", "rebind.example:8080")]),
                Err(Refusal::ForeignHost),
            ),
            (&lo, &get, "/control/inputs", headers(&[]), Ok(())),
            // Beyond loopback: any host name, but the control token.
            (
                &net,
                &get,
                "/control/inputs",
                headers(&[("host", "laptop.lan:8080")]),
                Err(Refusal::NoToken),
            ),
            (
                &net,
                &get,
                "/control/inputs",
                headers(&[
                    ("host", "laptop.lan:8080"),
                    ("authorization", "Bearer nope"),
                ]),
                Err(Refusal::NoToken),
            ),
            (
                &net,
                &get,
                "/control/inputs",
                headers(&[
                    ("host", "laptop.lan:8080"),
                    ("authorization", "Bearer tok-123"),
                ]),
                Ok(()),
            ),
            (
                &net,
                &get,
                "/demo/lifecycle",
                headers(&[("host", "laptop.lan:8080")]),
                Ok(()),
            ),
            // The account API has its own token, checked by its handlers.
            (
                &net,
                &get,
                "/client/v4/accounts/local/stream/live_inputs",
                headers(&[("host", "laptop.lan:8080")]),
                Ok(()),
            ),
            (
                &lo,
                &post,
                "/client/v4/accounts/local/stream/live_inputs",
                headers(&[local, len, ("content-type", "text/plain")]),
                Err(Refusal::NotJson),
            ),
        ];
        for (exp, method, path, h, want) in table {
            assert_eq!(check(exp, method, path, &h), want, "{method} {path} {h:?}");
        }
    }

    #[test]
    fn refusals_are_json_errors() {
        for r in [
            Refusal::ForeignHost,
            Refusal::CrossOrigin,
            Refusal::NoToken,
            Refusal::NotJson,
        ] {
            let resp = r.into_response();
            assert_eq!(resp.status(), r.status());
            assert_eq!(
                resp.headers()[header::CONTENT_TYPE],
                "application/json",
                "{r:?}"
            );
        }
    }
}
