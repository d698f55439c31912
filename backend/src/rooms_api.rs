//! `POST`/`GET /api/rooms/<room>/live`: the go-live API a Jitsi moderator
//! (or the moderator page) calls with the meeting's token, and
//! `GET /api/rooms/<room>/qoe`: that room's viewing figures, for the same
//! token.
//!
//! Authentication is the [`LiveCaller`] extractor (as in axum's jwt
//! example): rate limit by client address, room name, token, verification,
//! rate limit by token. Handlers only see a caller who may go live.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_common::error::PublicError;

use crate::auth::{token_from, AuthError, Grant, JitsiAuth};
use crate::qoe::api::MayRead;
use crate::qoe::{unix_now, QoeService};
use crate::rate_limit::RateLimiter;
use crate::rooms::{
    answer, validate_room, GoLiveRequest, LiveError, LiveStatusAnswer, RoomsService,
};

/// A go-live request carries no body worth more than this.
pub const MAX_BODY: u64 = 4 * 1024;

/// What the go-live routes share.
pub struct GoLive {
    pub rooms: Arc<RoomsService>,
    pub auth: Arc<JitsiAuth>,
    pub by_address: RateLimiter,
    pub by_token: RateLimiter,
    /// Behind a reverse proxy: the client is the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

type St = State<Arc<GoLive>>;

/// Every refusal and failure of the go-live API, as `{"error": "...", "code": "..."}`.
#[derive(Debug)]
pub enum RoomsError {
    BadRequest(String),
    TooLarge,
    Auth(AuthError),
    TooMany(Duration),
    Live(LiveError),
}

impl From<AuthError> for RoomsError {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<LiveError> for RoomsError {
    fn from(e: LiveError) -> Self {
        Self::Live(e)
    }
}

pub(crate) fn json_error(status: StatusCode, message: String) -> Response {
    http_common::error::error_response(status, PublicError::new(status, message))
}

fn json_error_code(status: StatusCode, code: &str, message: String) -> Response {
    http_common::error::error_response(status, PublicError::with_code(code, message))
}

pub(crate) fn with_retry_after(mut r: Response, wait: Duration) -> Response {
    if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A client over its rate: 429 with when to come back, in the body too.
pub(crate) fn too_many(wait: Duration) -> Response {
    with_retry_after(
        json_error(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many requests; try again in {} s",
                wait.as_secs().max(1)
            ),
        ),
        wait,
    )
}

impl IntoResponse for RoomsError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(m) => json_error(StatusCode::BAD_REQUEST, m),
            Self::TooLarge => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {MAX_BODY} bytes"),
            ),
            Self::Auth(e) => e.into_response(),
            Self::TooMany(wait) => too_many(wait),
            Self::Live(e @ LiveError::NoInput) => {
                json_error_code(StatusCode::NOT_FOUND, "no_input", e.to_string())
            }
            Self::Live(LiveError::Busy(wait)) => with_retry_after(
                json_error_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    LiveError::Busy(wait).to_string(),
                ),
                wait,
            ),
            // A fixed sentence from `LiveError`'s `From<AccountError>`;
            // the upstream's own text is in the log only.
            Self::Live(e @ LiveError::Upstream(_)) => json_error_code(
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                e.to_string(),
            ),
        }
    }
}

/// The client's address: the peer, or behind a trusted proxy the last
/// `X-Forwarded-For` entry (the one the proxy itself added).
pub fn client_address(parts: &Parts, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
}

pub(crate) fn body_too_large(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY)
}

/// A caller whose token lets them go live in `room` (lowercased).
pub struct LiveCaller {
    pub room: String,
    pub grant: Grant,
}

impl<S> FromRequestParts<S> for LiveCaller
where
    Arc<GoLive>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = RoomsError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = Arc::<GoLive>::from_ref(state);
        let now = Instant::now();
        let address = client_address(parts, state.trust_forwarded_for)
            .map_or_else(|| "unknown".to_string(), |a| a.to_string());
        state
            .by_address
            .check(&address, now)
            .map_err(RoomsError::TooMany)?;
        if body_too_large(&parts.headers) {
            return Err(RoomsError::TooLarge);
        }
        let Path(raw) = Path::<String>::from_request_parts(parts, &state)
            .await
            .map_err(|_| RoomsError::BadRequest("bad room name in the path".into()))?;
        let room = validate_room(&raw).map_err(RoomsError::BadRequest)?;
        let token = token_from(&parts.headers, parts.uri.query())?;
        let grant = state.auth.verify(&token, &room).await.inspect_err(|e| {
            tracing::info!(room, client = %address, reason = %e, "go-live refused");
        })?;
        state
            .by_token
            .check(&grant.token_id, now)
            .map_err(RoomsError::TooMany)?;
        Ok(Self { room, grant })
    }
}

/// `POST /api/rooms/<room>/live`: the room's input, created on first call.
/// The body may ask `{"private": true|false}`.
async fn go_live(State(s): St, caller: LiveCaller, body: Bytes) -> Result<Response, RoomsError> {
    if body.len() as u64 > MAX_BODY {
        return Err(RoomsError::TooLarge);
    }
    let asked: GoLiveRequest = if body.iter().all(u8::is_ascii_whitespace) {
        GoLiveRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            RoomsError::BadRequest(r#"the body must be JSON like {"private": true}"#.into())
        })?
    };
    let (input, created) = s.rooms.ensure_with(&caller.room, asked.private).await?;
    tracing::info!(
        room = %caller.room,
        user = caller.grant.user.as_deref().unwrap_or("-"),
        input = %input.uid,
        created,
        private = input.private,
        "go-live: input handed out"
    );
    let body = answer(s.rooms.settings(), &caller.room, &input, created);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// `GET /api/rooms/<room>/live`: the same, plus how the input is doing.
async fn live_status(State(s): St, caller: LiveCaller) -> Result<Response, RoomsError> {
    let input = s.rooms.status(&caller.room).await?;
    let delivery = s.rooms.delivery_of(&input).await;
    let body = LiveStatusAnswer {
        input: answer(s.rooms.settings(), &caller.room, &input, false),
        status: input.status.as_ref().map(|st| st.as_str().to_string()),
        live: delivery.live,
        video_uid: delivery.video_uid,
        viewers: delivery.viewers,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "use GET or POST on /api/rooms/<room>/live".into(),
    )
}

/// What `GET /api/rooms/<room>/qoe` needs: the go-live parts (the token
/// check, the rooms' inputs) and the figures.
#[derive(Clone)]
pub struct RoomQoe {
    pub live: Arc<GoLive>,
    pub qoe: Arc<QoeService>,
}

impl FromRef<RoomQoe> for Arc<GoLive> {
    fn from_ref(s: &RoomQoe) -> Self {
        Arc::clone(&s.live)
    }
}

/// A caller who may go live in a room that has an input: the figures of
/// that input are theirs to read (the same right as going live: the
/// moderator, or `features.livestreaming`).
pub struct RoomModerator {
    pub caller: LiveCaller,
    pub input_uid: String,
}

impl FromRequestParts<RoomQoe> for RoomModerator {
    type Rejection = RoomsError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RoomQoe,
    ) -> Result<Self, Self::Rejection> {
        let caller = LiveCaller::from_request_parts(parts, state).await?;
        let input_uid = state.live.rooms.input_uid(&caller.room).await?;
        Ok(Self { caller, input_uid })
    }
}

impl MayRead for RoomModerator {
    fn may_read(&self, input: &str) -> bool {
        input == self.input_uid
    }
}

/// `GET /api/rooms/<room>/qoe`: the figures of the room's input
/// (`backend::qoe::query::InputQoe`; docs/notes/qoe2.md has the shape).
async fn room_qoe(State(s): State<RoomQoe>, m: RoomModerator) -> Response {
    tracing::debug!(room = %m.caller.room, input = %m.input_uid, "figures read");
    crate::qoe::api::read(&s.qoe, &m, &m.input_uid, unix_now()).await
}

async fn qoe_method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "use GET on /api/rooms/<room>/qoe".into(),
    )
}

/// The figures' read route; mounted when both go-live and the figures are.
pub fn qoe_router(live: Arc<GoLive>, qoe: Arc<QoeService>) -> Router {
    Router::new()
        .route(
            "/api/rooms/{room}/qoe",
            get(room_qoe).fallback(qoe_method_not_allowed),
        )
        .with_state(RoomQoe { live, qoe })
}

pub fn router(state: Arc<GoLive>) -> Router {
    Router::new()
        .route(
            "/api/rooms/{room}/live",
            post(go_live).get(live_status).fallback(method_not_allowed),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    #[test]
    fn client_addresses() {
        let mut req = Request::builder()
            .header("x-forwarded-for", "10.0.0.1, 203.0.113.9")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5000))));
        let (parts, ()) = req.into_parts();
        assert_eq!(
            client_address(&parts, true),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_address(&parts, false),
            Some("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn bodies_are_capped() {
        let mut h = HeaderMap::new();
        assert!(!body_too_large(&h));
        h.insert(header::CONTENT_LENGTH, "4096".parse().unwrap());
        assert!(!body_too_large(&h));
        h.insert(header::CONTENT_LENGTH, "4097".parse().unwrap());
        assert!(body_too_large(&h));
    }
}
