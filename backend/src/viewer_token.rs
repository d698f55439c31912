//! `POST /api/rooms/<room>/viewer-token`: a signed token that plays a
//! private room's live input (`{}`) or one of its recordings
//! (`{"video": "<uid>"}`), in place of the uid in every delivery URL.
//!
//! RS256 as Cloudflare specifies self-signed tokens: header `kid`; claims
//! `sub` (the uid), `kid`, `exp` (`--viewer-token-ttl` ahead, at most
//! 24 h), `nbf` (a minute back, for viewers' clock skew). Minting is local:
//! no account API call per viewer (the key is created once, the room's
//! input and videos come from the caches). A token for a uid is reused
//! while it still has 90 % of its lifetime, so a crowd arriving at once
//! costs one RSA signature per uid, not one per viewer.
//!
//! Who may have one is the deployment's [`Access`]: anyone with the watch
//! link (the request names the room's input uid, `?input=` in the
//! `tokenUrl` the go-live answer gives: room names are guessable), or participants (a Jitsi token valid for the room, verified as the
//! go-live API does, without the livestreaming permission). Refusals are
//! `{"error": "...", "code": "..."}`: 400, 401, 403, 404, 413, 429 (+ `Retry-After`),
//! 502/503 when Cloudflare cannot be asked. A public room gets a token too
//! (`"private": false`): tokens play public videos as well, so a watch link
//! made before a room went public keeps working.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};

use crate::account_client::AccountClient;
use crate::auth::{token_from, AuthError};
use crate::cache::{Answer, RecordingsCache};
use crate::ids;
use crate::rate_limit::RateLimiter;
use crate::rooms::{validate_room, DeliverySigner, IdFuture, LiveError};
use crate::rooms_api::{
    body_too_large, client_address, json_error, too_many, with_retry_after, GoLive, MAX_BODY,
};
use crate::signing_key::{KeyError, KeyStore, SigningKey};

/// Clock skew allowed to viewers: `nbf` this far back.
pub const NBF_SKEW: Duration = Duration::from_secs(60);
/// Cloudflare's longest token lifetime.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// Minted tokens kept for reuse; past it the map starts over.
const MAX_REUSED: usize = 10_000;

/// Who may have a viewer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone with the watch link (public but unlisted).
    Link,
    /// Only holders of a Jitsi token for the room.
    Participants,
}

impl std::str::FromStr for Access {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "link" => Ok(Self::Link),
            "participants" => Ok(Self::Participants),
            _ => Err(format!(
                "viewer access is `link` or `participants`, not `{s}`"
            )),
        }
    }
}

/// The claims of a viewer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerClaims {
    pub sub: String,
    pub kid: String,
    pub exp: u64,
    pub nbf: u64,
}

/// The claims for `sub` at `now` (Unix seconds), living `ttl` (capped at
/// [`MAX_TTL`]).
pub fn claims(sub: &str, kid: &str, now: u64, ttl: Duration) -> ViewerClaims {
    ViewerClaims {
        sub: sub.to_string(),
        kid: kid.to_string(),
        exp: now + ttl.min(MAX_TTL).as_secs(),
        nbf: now.saturating_sub(NBF_SKEW.as_secs()),
    }
}

/// Whether a token minted for `ttl` expiring at `exp` may still be handed
/// out at `now`: while it keeps 90 % of its lifetime.
pub fn reusable(exp: u64, now: u64, ttl: Duration) -> bool {
    exp.saturating_sub(now) * 10 >= ttl.as_secs() * 9
}

/// Signs `c` with `key` (RS256, header `kid`).
pub fn sign(c: &ViewerClaims, key: &SigningKey) -> Result<String, String> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.id.clone());
    jsonwebtoken::encode(&header, c, &key.encoding).map_err(|e| format!("cannot sign: {e}"))
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minted {
    pub token: String,
    /// The room's live input uid.
    pub input: String,
    /// The uid the token plays (the input's, or the recording's).
    pub sub: String,
    /// Unix seconds.
    pub exp: u64,
    /// Seconds from now to `exp`.
    pub ttl: u64,
    /// Whether the room needs tokens at all.
    pub private: bool,
}

/// The body: `{}` for the live input, `{"video": uid}` for a recording.
#[derive(Debug, Default, Deserialize)]
struct Asked {
    #[serde(default)]
    video: Option<String>,
    /// The room's input uid, from the watch link (also `?input=`).
    #[serde(default)]
    input: Option<String>,
}

/// `input=<uid>` from a query string (uids need no percent-decoding).
fn input_from_query(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "input").then(|| v.to_string())
    })
}

/// Whether the request proves it has the watch link: it names the room's
/// input uid (32 random hex characters on Cloudflare; room names are
/// guessable). Required under [`Access::Link`]; under participants the
/// Jitsi token is the proof, and a named input must still be the room's.
pub fn link_matches(access: Access, named: Option<&str>, input: &str) -> bool {
    match (access, named) {
        (_, Some(n)) => n == input,
        (Access::Link, None) => false,
        (Access::Participants, None) => true,
    }
}

/// What the endpoint needs.
pub struct ViewerTokens {
    pub live: Arc<GoLive>,
    pub keys: Arc<KeyStore>,
    pub recordings: Arc<RecordingsCache<AccountClient>>,
    pub access: Access,
    pub ttl: Duration,
    pub by_address: RateLimiter,
    /// Last token per uid: (exp, token).
    reuse: Mutex<HashMap<String, (u64, String)>>,
}

impl ViewerTokens {
    pub fn new(
        live: Arc<GoLive>,
        keys: Arc<KeyStore>,
        recordings: Arc<RecordingsCache<AccountClient>>,
        access: Access,
        ttl: Duration,
        by_address: RateLimiter,
    ) -> Self {
        Self {
            live,
            keys,
            recordings,
            access,
            ttl: ttl.min(MAX_TTL),
            by_address,
            reuse: Mutex::new(HashMap::new()),
        }
    }

    /// A token for `sub`: the last one while [`reusable`], else a new one.
    pub async fn mint(&self, sub: &str, now: u64) -> Result<(String, u64), KeyError> {
        {
            let reuse = self.reuse.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((exp, token)) = reuse
                .get(sub)
                .filter(|(exp, _)| reusable(*exp, now, self.ttl))
            {
                return Ok((token.clone(), *exp));
            }
        }
        let key = self.keys.get().await?;
        let c = claims(sub, &key.id, now, self.ttl);
        let token = sign(&c, &key).map_err(KeyError::Broken)?;
        let mut reuse = self.reuse.lock().unwrap_or_else(PoisonError::into_inner);
        if reuse.len() >= MAX_REUSED && !reuse.contains_key(sub) {
            reuse.clear();
        }
        reuse.insert(sub.to_string(), (c.exp, token.clone()));
        Ok((token, c.exp))
    }
}

/// The moderator's status of a private room reads lifecycle and views
/// with a token, as a viewer would.
impl DeliverySigner for ViewerTokens {
    fn token_for<'a>(&'a self, uid: &'a str) -> IdFuture<'a> {
        Box::pin(async move {
            self.mint(uid, unix_now())
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "status of a private room: no token"))
                .ok()
                .map(|(token, _)| token)
        })
    }
}

/// Every refusal.
#[derive(Debug)]
enum Refusal {
    BadRequest(String),
    TooLarge,
    TooMany(Duration),
    Auth(AuthError),
    NotFound(String),
    Live(LiveError),
    Key(KeyError),
    Recordings { retry_after: Option<Duration> },
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(m) => json_error(StatusCode::BAD_REQUEST, m),
            Self::TooLarge => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {MAX_BODY} bytes"),
            ),
            Self::TooMany(wait) => too_many(wait),
            Self::Auth(e) => e.into_response(),
            Self::NotFound(m) => json_error(StatusCode::NOT_FOUND, m),
            Self::Live(LiveError::NoInput) => json_error(
                StatusCode::NOT_FOUND,
                "this room has no live input (nothing to watch yet)".into(),
            ),
            Self::Live(LiveError::Busy(wait)) => with_retry_after(
                json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    LiveError::Busy(wait).to_string(),
                ),
                wait,
            ),
            Self::Live(e @ LiveError::Upstream(_)) => {
                json_error(StatusCode::BAD_GATEWAY, e.to_string())
            }
            Self::Key(e @ KeyError::Upstream(_)) => with_retry_after(
                json_error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
                Duration::from_secs(5),
            ),
            Self::Key(KeyError::Broken(_)) => json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the signing key is not usable (see the backend's log)".into(),
            ),
            Self::Recordings { retry_after } => {
                let r = json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the room's recordings cannot be checked right now".into(),
                );
                with_retry_after(r, retry_after.unwrap_or(Duration::from_secs(5)))
            }
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `video` is one of the videos (ready or processing) in a
/// recordings page.
fn lists(page_body: &[u8], video: &str) -> bool {
    let Ok(page) = serde_json::from_slice::<serde_json::Value>(page_body) else {
        return false;
    };
    ["recordings", "processing"].iter().any(|k| {
        page.get(k)
            .and_then(serde_json::Value::as_array)
            .is_some_and(|list| {
                list.iter()
                    .any(|v| v.get("uid").and_then(|u| u.as_str()) == Some(video))
            })
    })
}

async fn viewer_token(
    State(s): State<Arc<ViewerTokens>>,
    Path(raw): Path<String>,
    req: Request,
) -> Result<Response, Refusal> {
    let (parts, body) = req.into_parts();
    let address = client_address(&parts, s.live.trust_forwarded_for)
        .map_or_else(|| "unknown".to_string(), |a| a.to_string());
    s.by_address
        .check(&address, Instant::now())
        .map_err(Refusal::TooMany)?;
    if body_too_large(&parts.headers) {
        return Err(Refusal::TooLarge);
    }
    let room = validate_room(&raw).map_err(Refusal::BadRequest)?;
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY as usize)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let asked: Asked = if body.iter().all(u8::is_ascii_whitespace) {
        Asked::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            Refusal::BadRequest(r#"the body must be {} or {"video": "<uid>"}"#.into())
        })?
    };
    if let Some(v) = &asked.video {
        if !ids::is_valid_uid(v) {
            return Err(Refusal::BadRequest("`video` is not a video uid".into()));
        }
    }
    if s.access == Access::Participants {
        let token = token_from(&parts.headers, parts.uri.query()).map_err(Refusal::Auth)?;
        s.live
            .auth
            .verify_participant(&token, &room)
            .await
            .inspect_err(|e| {
                tracing::info!(room, client = %address, reason = %e, "viewer token refused");
            })
            .map_err(Refusal::Auth)?;
    }
    let input = s
        .live
        .rooms
        .room_input(&room)
        .await
        .map_err(Refusal::Live)?;
    let named = asked
        .input
        .clone()
        .or_else(|| input_from_query(parts.uri.query()));
    if !link_matches(s.access, named.as_deref(), &input.uid) {
        // The same answer as a room without an input: no probing room names.
        return Err(Refusal::Live(LiveError::NoInput));
    }
    let sub = match asked.video {
        None => input.uid.clone(),
        Some(video) => {
            // From the shared recordings cache: no call per viewer.
            match s.recordings.get(&input.uid).await {
                Answer::Found { page, .. } if lists(&page.body, &video) => video,
                Answer::Found { .. } | Answer::Missing => {
                    return Err(Refusal::NotFound(format!(
                        "no recording `{video}` in this room"
                    )))
                }
                Answer::Unavailable { retry_after, .. } => {
                    return Err(Refusal::Recordings { retry_after })
                }
            }
        }
    };
    let now = unix_now();
    let (token, exp) = s.mint(&sub, now).await.map_err(Refusal::Key)?;
    tracing::debug!(room, sub, exp, "viewer token handed out");
    let answer = Minted {
        token,
        input: input.uid,
        sub,
        exp,
        ttl: exp.saturating_sub(now),
        private: input.private,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response())
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "use POST on /api/rooms/<room>/viewer-token".into(),
    )
}

pub fn router(state: Arc<ViewerTokens>) -> Router {
    Router::new()
        .route(
            "/api/rooms/{room}/viewer-token",
            post(viewer_token).fallback(method_not_allowed),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_lifetimes() {
        let c = claims("in1", "k1", 1_000_000, Duration::from_secs(60));
        assert_eq!(
            c,
            ViewerClaims {
                sub: "in1".into(),
                kid: "k1".into(),
                exp: 1_000_060,
                nbf: 999_940
            }
        );
        // Capped at Cloudflare's 24 h.
        let long = claims("in1", "k1", 0, Duration::from_secs(48 * 3600));
        assert_eq!(long.exp, 24 * 3600);
        assert_eq!(long.nbf, 0);
    }

    #[test]
    fn reuse_window() {
        let ttl = Duration::from_secs(60);
        // Minted at 1000 for 60 s: exp 1060.
        let cases = [
            (1000, true),
            (1006, true),
            (1007, false),
            (1059, false),
            (2000, false),
        ];
        for (now, want) in cases {
            assert_eq!(reusable(1060, now, ttl), want, "{now}");
        }
    }

    #[test]
    fn the_link_is_the_input_uid() {
        let cases = [
            (Access::Link, Some("in1"), true),
            (Access::Link, Some("in2"), false),
            (Access::Link, None, false),
            (Access::Participants, None, true),
            (Access::Participants, Some("in1"), true),
            (Access::Participants, Some("in2"), false),
        ];
        for (access, named, want) in cases {
            assert_eq!(
                link_matches(access, named, "in1"),
                want,
                "{access:?} {named:?}"
            );
        }
        assert_eq!(
            input_from_query(Some("jwt=x&input=in1")),
            Some("in1".into())
        );
        assert_eq!(input_from_query(Some("jwt=x")), None);
        assert_eq!(input_from_query(None), None);
    }

    #[test]
    fn access_names() {
        assert_eq!("link".parse::<Access>(), Ok(Access::Link));
        assert_eq!("participants".parse::<Access>(), Ok(Access::Participants));
        assert!("everyone".parse::<Access>().is_err());
    }

    #[test]
    fn recordings_pages() {
        let body = br#"{"inputUID":"in","recordings":[{"uid":"v1","name":"","created":"","durationSeconds":1.0,"signed":true}],"processing":[{"uid":"v2","name":"","created":"","state":"live-inprogress"}],"signed":true}"#;
        assert!(lists(body, "v1"));
        assert!(lists(body, "v2"));
        assert!(!lists(body, "v3"));
        assert!(!lists(b"{}", "v1"));
    }
}
