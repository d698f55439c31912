//! The Jitsi token (JWT), verified the way Jitsi's Prosody verifies it
//! (`token/util.lib.lua`): HS256 with the app secret, or RS256 with the
//! public key of the header's `kid` from an ASAP key server
//! (`<server>/<sha256 hex of kid>.pem`, fetched once and cached).
//!
//! The algorithm is fixed by the mode, so neither `alg: none` nor an HS256
//! token signed with an RS256 deployment's public key gets through. What a
//! valid token may do is decided by the pure [`permit`]. Refusals are
//! [`AuthError`]s answered as `401`/`403`/`503` with `{"error": "...", "code": "..."}`; the
//! token itself never reaches a log line or an error body.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_common::error::PublicError;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use stream_api::Secret;

/// A longer token is refused unread (Jitsi's are well under 2 KB).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The most clock skew allowed on `exp` and `nbf`.
pub const MAX_LEEWAY_SECONDS: u64 = 60;
/// A key server's PEM larger than this is not a public key.
const MAX_PEM: usize = 16 * 1024;
/// How long a kid the key server does not know stays unknown (so a flood of
/// made-up kids costs the key server one call each per minute at most).
const UNKNOWN_KID_TTL: Duration = Duration::from_secs(60);
/// Keys kept; past it the cache starts over (a deployment has a handful).
const MAX_CACHED_KEYS: usize = 256;
const KEY_SERVER_TIMEOUT: Duration = Duration::from_secs(5);

/// How tokens are signed.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyMode {
    /// HS256 with the app secret (Prosody's `app_secret`).
    Secret(Secret),
    /// RS256, public keys from this ASAP key server base URL (Prosody's
    /// `asap_key_server`).
    KeyServer(String),
}

/// What the deployment accepts (`JITSI_*` settings).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    pub app_id: String,
    pub mode: KeyMode,
    /// Accepted `iss` values; `*` accepts any. Default: the app id.
    pub issuers: Vec<String>,
    /// Accepted `aud` values; `*` accepts any. Default: the app id.
    pub audiences: Vec<String>,
    /// The Jitsi domain `sub` must name (or `*`); `None` skips the check,
    /// as Prosody does without domain verification.
    pub domain: Option<String>,
    /// Clock skew allowed on `exp`/`nbf`, at most [`MAX_LEEWAY_SECONDS`].
    pub leeway_seconds: u64,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// 401: no token, or a token that does not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a valid token that does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 503: the key server cannot be asked right now.
    #[error("{0}")]
    KeyServerDown(String),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::KeyServerDown(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn unauthorized(m: &str) -> Self {
        Self::Unauthorized(m.to_string())
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
        match self {
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"jitsi\"".parse().expect("static"),
                );
            }
            Self::KeyServerDown(_) => {
                headers.insert(header::RETRY_AFTER, "5".parse().expect("static"));
            }
            Self::Forbidden(_) => {}
        }
        (
            self.status(),
            headers,
            Json(PublicError::new(self.status(), self.to_string())),
        )
            .into_response()
    }
}

/// The claims Jitsi reads. Everything optional: what is missing is decided
/// by [`permit`], with a plain reason.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub context: Option<Context>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Context {
    #[serde(default)]
    pub user: Option<User>,
    /// Present (even empty) means features decide, not the moderator flag.
    #[serde(default)]
    pub features: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct User {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub moderator: Option<Value>,
}

/// `true` or `"true"`, as Jitsi reads flags.
fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// What a verified token grants: streaming `room`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub room: String,
    /// The user's display name, if the token has one (for logs: no secret).
    pub user: Option<String>,
    /// A short hash of the token: its identity for rate limits (not the
    /// token, so a log or a map never holds a usable credential).
    pub token_id: String,
}

/// May these (verified) claims go live in `room`? `sub` against the domain,
/// `room` (case-insensitive, `*` any), then the livestreaming permission:
/// with `context.features`, only `livestreaming` true/"true"; without, the
/// moderator flag.
pub fn permit(claims: &Claims, room: &str, domain: Option<&str>) -> Result<(), AuthError> {
    permit_room(claims, room, domain)?;
    permit_stream(claims)
}

/// May these (verified) claims join `room` at all: `sub` against the
/// domain, then `room` (case-insensitive, `*` any). What a viewer token for
/// a participants-only room asks (no livestreaming permission needed).
pub fn permit_room(claims: &Claims, room: &str, domain: Option<&str>) -> Result<(), AuthError> {
    if let Some(domain) = domain {
        match claims.sub.as_deref() {
            Some("*") => {}
            Some(s) if s.eq_ignore_ascii_case(domain) => {}
            Some(_) => {
                return Err(AuthError::unauthorized(
                    "the token is for another Jitsi domain (sub)",
                ))
            }
            None => return Err(AuthError::unauthorized("the token has no sub claim")),
        }
    }
    match claims.room.as_deref() {
        None | Some("") => return Err(AuthError::unauthorized("the token has no room claim")),
        Some("*") => {}
        Some(r) if r.to_lowercase() == room.to_lowercase() => {}
        Some(_) => {
            return Err(AuthError::Forbidden(
                "the token is for another room".to_string(),
            ))
        }
    }
    Ok(())
}

/// The livestreaming permission: with `context.features`, only
/// `livestreaming` true/"true"; without, the moderator flag.
fn permit_stream(claims: &Claims) -> Result<(), AuthError> {
    let context = claims.context.as_ref();
    let allowed = match context.and_then(|c| c.features.as_ref()) {
        Some(features) => is_true(features.get("livestreaming")),
        None => is_true(
            context
                .and_then(|c| c.user.as_ref())
                .and_then(|u| u.moderator.as_ref()),
        ),
    };
    if allowed {
        Ok(())
    } else if context.is_some_and(|c| c.features.is_some()) {
        Err(AuthError::Forbidden(
            "the token does not allow live streaming (features.livestreaming)".into(),
        ))
    } else {
        Err(AuthError::Forbidden(
            "only a moderator may start a live stream".into(),
        ))
    }
}

/// The key server's file name for `kid`: hex SHA-256, as Prosody asks.
pub fn kid_file(kid: &str) -> String {
    let digest = Sha256::digest(kid.as_bytes());
    let mut out = String::with_capacity(64 + 4);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out.push_str(".pem");
    out
}

/// The hash used as a token's identity in rate limits.
pub fn token_id(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// A token from `Authorization: Bearer` or, failing that, `?jwt=`.
pub fn token_from(headers: &HeaderMap, query: Option<&str>) -> Result<String, AuthError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    let from_query = || {
        query.and_then(|q| {
            q.split('&').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                // A JWT is base64url and dots: nothing to percent-decode.
                (k == "jwt").then(|| v.to_string())
            })
        })
    };
    let token = from_header
        .or_else(from_query)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AuthError::unauthorized(
                "a Jitsi token is required (Authorization: Bearer <token> or ?jwt=<token>)",
            )
        })?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::unauthorized("the token is too long"));
    }
    Ok(token)
}

type CachedKey = (Instant, Option<Arc<DecodingKey>>);

/// Verifies Jitsi tokens for one deployment.
pub struct JitsiAuth {
    settings: AuthSettings,
    validation: Validation,
    /// HS256 mode: the secret as a key.
    secret_key: Option<DecodingKey>,
    /// RS256 mode: public keys by kid (`None`: the key server said 404).
    keys: Mutex<HashMap<String, CachedKey>>,
    /// One key server call at a time: concurrent misses (a room's viewers
    /// and moderators arriving together after a restart, or a flood of
    /// made-up kids) wait for it and read the cache, instead of each
    /// asking the key server.
    fetching: tokio::sync::Mutex<()>,
    http: reqwest::Client,
}

impl std::fmt::Debug for JitsiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitsiAuth")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl JitsiAuth {
    pub fn new(settings: AuthSettings) -> Result<Self, String> {
        if settings.app_id.trim().is_empty() {
            return Err("the Jitsi app id is empty".into());
        }
        if settings.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(format!(
                "the token leeway is at most {MAX_LEEWAY_SECONDS} s"
            ));
        }
        let (alg, secret_key) = match &settings.mode {
            KeyMode::Secret(s) => {
                if s.is_empty() {
                    return Err("the Jitsi app secret is empty".into());
                }
                (
                    Algorithm::HS256,
                    Some(
                        DecodingKey::from_secret(s.expose().as_bytes())
                            .map_err(|e| format!("the Jitsi app secret: {e}"))?,
                    ),
                )
            }
            KeyMode::KeyServer(base) => {
                crate::account_client::normalize_base(base)
                    .map_err(|e| format!("the ASAP key server: {e}"))?;
                (Algorithm::RS256, None)
            }
        };
        let mut validation = Validation::new(alg);
        validation.leeway = settings.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        if settings.issuers.iter().any(|i| i == "*") {
            validation.required_spec_claims.remove("iss");
        } else {
            validation.set_issuer(&settings.issuers);
        }
        if settings.audiences.iter().any(|a| a == "*") {
            validation.validate_aud = false;
            validation.required_spec_claims.remove("aud");
        } else {
            validation.set_audience(&settings.audiences);
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::limited(3))
            .timeout(KEY_SERVER_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot set up the key server client: {e}"))?;
        Ok(Self {
            settings,
            validation,
            secret_key,
            keys: Mutex::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
            http,
        })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Verifies `token` for going live in `room` (already validated).
    pub async fn verify(&self, token: &str, room: &str) -> Result<Grant, AuthError> {
        self.verify_for(token, room, true).await
    }

    /// Verifies `token` as a participant's of `room`: the same checks as
    /// [`JitsiAuth::verify`] but no livestreaming permission needed.
    pub async fn verify_participant(&self, token: &str, room: &str) -> Result<Grant, AuthError> {
        self.verify_for(token, room, false).await
    }

    async fn verify_for(&self, token: &str, room: &str, stream: bool) -> Result<Grant, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            AuthError::unauthorized(
                "the token is not a signed JWT (or its algorithm is not one we know)",
            )
        })?;
        let want = self.validation.algorithms[0];
        if header.alg != want {
            return Err(AuthError::Unauthorized(format!(
                "the token is signed with {:?}; this deployment accepts {want:?} only",
                header.alg
            )));
        }
        let key = match &self.secret_key {
            Some(k) => KeyRef::Borrowed(k),
            None => {
                let kid = header
                    .kid
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| AuthError::unauthorized("the token has no kid"))?;
                if kid.len() > 512 {
                    return Err(AuthError::unauthorized("the token's kid is too long"));
                }
                KeyRef::Owned(self.public_key(kid).await?)
            }
        };
        let data = jsonwebtoken::decode::<Claims>(token, key.get(), &self.validation)
            .map_err(|e| AuthError::Unauthorized(reason(e.kind()).into()))?;
        let domain = self.settings.domain.as_deref();
        if stream {
            permit(&data.claims, room, domain)?;
        } else {
            permit_room(&data.claims, room, domain)?;
        }
        Ok(Grant {
            room: room.to_string(),
            user: data
                .claims
                .context
                .and_then(|c| c.user)
                .and_then(|u| u.name),
            token_id: token_id(token),
        })
    }

    /// The public key of `kid`: cached, else fetched from the key server.
    async fn public_key(&self, kid: &str) -> Result<Arc<DecodingKey>, AuthError> {
        let unknown = || AuthError::unauthorized("the token's signing key (kid) is not known");
        let cached = || {
            let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            match keys.get(kid) {
                Some((_, Some(k))) => Some(Ok(Arc::clone(k))),
                Some((at, None)) if at.elapsed() < UNKNOWN_KID_TTL => Some(Err(unknown())),
                _ => None,
            }
        };
        if let Some(found) = cached() {
            return found;
        }
        let _flight = self.fetching.lock().await;
        // Another call may have fetched it while this one waited.
        if let Some(found) = cached() {
            return found;
        }
        let KeyMode::KeyServer(base) = &self.settings.mode else {
            return Err(unknown());
        };
        let url = format!("{}/{}", base.trim_end_matches('/'), kid_file(kid));
        let down = |why: String| {
            tracing::warn!(url, why, "ASAP key server unavailable");
            AuthError::KeyServerDown(
                "the token's key server cannot be reached; try again shortly".into(),
            )
        };
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| down(e.to_string()))?;
        let status = resp.status();
        let found = if status.is_success() {
            if resp.content_length().is_some_and(|n| n > MAX_PEM as u64) {
                return Err(down("the key file is too large".into()));
            }
            let pem = resp.bytes().await.map_err(|e| down(e.to_string()))?;
            if pem.len() > MAX_PEM {
                return Err(down("the key file is too large".into()));
            }
            let key = DecodingKey::from_rsa_pem(&pem)
                .map_err(|e| down(format!("not an RSA public key: {e}")))?;
            Some(Arc::new(key))
        } else if status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN {
            None
        } else {
            return Err(down(format!("HTTP {status}")));
        };
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(kid.to_string(), (Instant::now(), found.clone()));
        found.ok_or_else(unknown)
    }
}

enum KeyRef<'a> {
    Borrowed(&'a DecodingKey),
    Owned(Arc<DecodingKey>),
}

impl KeyRef<'_> {
    fn get(&self) -> &DecodingKey {
        match self {
            Self::Borrowed(k) => k,
            Self::Owned(k) => k,
        }
    }
}

/// A plain reason for a token that does not verify.
fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => "the token's signature does not verify",
        K::ExpiredSignature => "the token has expired",
        K::ImmatureSignature => "the token is not valid yet (nbf)",
        K::InvalidIssuer => "the token's issuer (iss) is not accepted",
        K::InvalidAudience => "the token's audience (aud) is not accepted",
        K::InvalidAlgorithm => "the token's algorithm is not accepted",
        K::MissingRequiredClaim(c) => match c.as_str() {
            "exp" => "the token has no exp claim",
            "iss" => "the token has no iss claim",
            "aud" => "the token has no aud claim",
            _ => "the token lacks a required claim",
        },
        K::InvalidClaimFormat(_) | K::Json(_) => "the token's claims do not read",
        _ => "the token does not read as a JWT",
    }
}

/// What [`mint_hs256`] puts in a token.
#[derive(Debug, Clone, PartialEq)]
pub struct MintRequest {
    pub app_id: String,
    pub room: String,
    pub sub: String,
    pub user_name: String,
    pub ttl: Duration,
}

/// A Jitsi-shaped HS256 token allowing live streaming (the demo's, and
/// what an operator tries a deployment with), as the system's documents
/// show it: `aud`/`iss` the app id, `room`, `features.livestreaming`.
pub fn mint_hs256(secret: &Secret, req: &MintRequest) -> Result<String, String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "aud": req.app_id,
        "iss": req.app_id,
        "sub": req.sub,
        "room": req.room,
        "iat": now,
        "nbf": now,
        "exp": now + req.ttl.as_secs(),
        "context": {
            "user": {"name": req.user_name, "moderator": true},
            "features": {"livestreaming": true, "recording": true},
        },
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret.expose().as_bytes())
        .map_err(|e| format!("the app secret: {e}"))?;
    jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| format!("cannot sign the token: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Claims {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn permission_table() {
        #[derive(Debug, PartialEq)]
        enum W {
            Ok,
            U,
            F,
        }
        let cases: Vec<(Value, &str, Option<&str>, W)> = vec![
            (
                json!({"room": "*", "context": {"features": {"livestreaming": true}}}),
                "r",
                None,
                W::Ok,
            ),
            (
                json!({"room": "R1", "context": {"features": {"livestreaming": "true"}}}),
                "r1",
                None,
                W::Ok,
            ),
            (
                json!({"room": "r1", "context": {"features": {"livestreaming": false}}}),
                "r1",
                None,
                W::F,
            ),
            (
                json!({"room": "r1", "context": {"features": {"livestreaming": "false"}}}),
                "r1",
                None,
                W::F,
            ),
            (
                json!({"room": "r1", "context": {"features": {}, "user": {"moderator": true}}}),
                "r1",
                None,
                W::F,
            ),
            (
                json!({"room": "r1", "context": {"user": {"moderator": true}}}),
                "r1",
                None,
                W::Ok,
            ),
            (
                json!({"room": "r1", "context": {"user": {"moderator": "true"}}}),
                "r1",
                None,
                W::Ok,
            ),
            (
                json!({"room": "r1", "context": {"user": {"moderator": false}}}),
                "r1",
                None,
                W::F,
            ),
            (json!({"room": "r1"}), "r1", None, W::F),
            (
                json!({"room": "r2", "context": {"features": {"livestreaming": true}}}),
                "r1",
                None,
                W::F,
            ),
            (
                json!({"context": {"features": {"livestreaming": true}}}),
                "r1",
                None,
                W::U,
            ),
            (
                json!({"room": "*", "sub": "meet.example.com", "context": {"features": {"livestreaming": true}}}),
                "r",
                Some("MEET.example.com"),
                W::Ok,
            ),
            (
                json!({"room": "*", "sub": "*", "context": {"features": {"livestreaming": true}}}),
                "r",
                Some("meet.example.com"),
                W::Ok,
            ),
            (
                json!({"room": "*", "sub": "other.example", "context": {"features": {"livestreaming": true}}}),
                "r",
                Some("meet.example.com"),
                W::U,
            ),
            (
                json!({"room": "*", "context": {"features": {"livestreaming": true}}}),
                "r",
                Some("meet.example.com"),
                W::U,
            ),
        ];
        for (c, room, domain, want) in cases {
            let got = match permit(&claims(c.clone()), room, domain) {
                Ok(()) => W::Ok,
                Err(AuthError::Unauthorized(_)) => W::U,
                Err(AuthError::Forbidden(_)) => W::F,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(got, want, "{c} {room}");
        }
    }

    #[test]
    fn kid_file_is_hex_sha256() {
        // printf 'jitsi/key1' | sha256sum
        assert_eq!(
            kid_file("jitsi/key1"),
            "a4f47af805f19769643be8c47d4ffa454e6cbc53ba9e78abd4e1b8b97b4d81af.pem"
        );
        assert_eq!(token_id("a.b.c").len(), 24);
        assert_ne!(token_id("a.b.c"), token_id("a.b.d"));
    }

    #[test]
    fn tokens_from_header_or_query() {
        let mut h = HeaderMap::new();
        assert!(matches!(
            token_from(&h, None),
            Err(AuthError::Unauthorized(_))
        ));
        assert_eq!(token_from(&h, Some("a=1&jwt=x.y.z")).unwrap(), "x.y.z");
        assert!(token_from(&h, Some("jwt=")).is_err());
        h.insert(header::AUTHORIZATION, "Bearer a.b.c".parse().unwrap());
        assert_eq!(token_from(&h, Some("jwt=x.y.z")).unwrap(), "a.b.c");
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(token_from(&h, Some("jwt=x.y.z")).unwrap(), "x.y.z");
        let long = format!("jwt={}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert!(token_from(&HeaderMap::new(), Some(&long)).is_err());
    }

    #[test]
    fn settings_are_checked() {
        let base = AuthSettings {
            app_id: "app".into(),
            mode: KeyMode::Secret(Secret::new("s3cret")),
            issuers: vec!["app".into()],
            audiences: vec!["app".into()],
            domain: None,
            leeway_seconds: 30,
        };
        assert!(JitsiAuth::new(base.clone()).is_ok());
        assert!(JitsiAuth::new(AuthSettings {
            leeway_seconds: 61,
            ..base.clone()
        })
        .is_err());
        assert!(JitsiAuth::new(AuthSettings {
            app_id: " ".into(),
            ..base.clone()
        })
        .is_err());
        assert!(JitsiAuth::new(AuthSettings {
            mode: KeyMode::KeyServer("ftp://x".into()),
            ..base.clone()
        })
        .is_err());
        let dbg = format!("{:?}", JitsiAuth::new(base).unwrap());
        assert!(!dbg.contains("s3cret"), "{dbg}");
    }
}
