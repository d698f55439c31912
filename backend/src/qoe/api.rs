//! HTTP: `POST /api/qoe` (players' beacons; refused cheaply, answered 204
//! before anything is written) and the figures' read ([`read`]), behind an
//! access type that implements [`MayRead`]. The backend mounts it as
//! `GET /api/rooms/<room>/qoe` for the room's moderator
//! (`rooms_api::qoe_router`); [`read_router`] serves it by input uid for
//! other deployments' access types.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_common::error::PublicError;
use player_core::qoe::{Batch, MAX_BODY_BYTES};
use tower_http::cors::{Any, CorsLayer};

use super::{query, unix_now, QoeService};
use crate::extract::PathParams;
use crate::ids;
use crate::metrics::Rejection;

fn error(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(PublicError::new(status, text)),
    )
        .into_response()
}

fn retry_after(status: StatusCode, text: &str, wait: Duration) -> Response {
    let mut r = error(status, text);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    r
}

/// The client's address: the configured header's last entry (what the
/// trusted balancer appended), else the TCP peer.
fn client_ip(svc: &QoeService, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    svc.settings
        .client_ip_header
        .as_ref()
        .and_then(|h| headers.get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer.ip())
}

/// `POST /api/qoe`. CORS is open: embedded players post from any site,
/// and the answer carries nothing. The server must be started with
/// `into_make_service_with_connect_info::<SocketAddr>()` (the rate limit
/// needs the peer's address).
pub fn router(svc: Arc<QoeService>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(86_400));
    Router::new()
        .route("/api/qoe", post(beacon))
        .layer(cors)
        .with_state(svc)
}

async fn beacon(
    State(svc): State<Arc<QoeService>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let reject = |why: Rejection, status: StatusCode, text: &str| {
        svc.metrics.rejected(why);
        error(status, text)
    };
    // The limit first: a flood costs a map lookup, not a parse.
    if let Err(wait) = svc
        .limiter
        .check(client_ip(&svc, &headers, peer), Instant::now())
    {
        svc.metrics.rejected(Rejection::RateLimited);
        return retry_after(StatusCode::TOO_MANY_REQUESTS, "too many beacons", wait);
    }
    let too_large = || {
        reject(
            Rejection::TooLarge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "a beacon is at most 8 KB",
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if over {
                too_large()
            } else {
                reject(
                    Rejection::Malformed,
                    StatusCode::BAD_REQUEST,
                    "unreadable body",
                )
            };
        }
    };
    let batch: Batch = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        // serde's message names the field and the expected type, never
        // more than the input's structure.
        Err(e) => {
            return reject(
                Rejection::Malformed,
                StatusCode::BAD_REQUEST,
                &format!("not a beacon: {e}"),
            )
        }
    };
    if let Err(why) = batch.validate() {
        return reject(
            Rejection::Invalid(why),
            StatusCode::BAD_REQUEST,
            &format!("invalid beacon: {}", why.as_str()),
        );
    }
    if !svc.inputs_known(&batch).await {
        svc.metrics.rejected_reason("unknown_input");
        return error(StatusCode::NOT_FOUND, "no such live input");
    }
    if svc.accept(&batch, unix_now()).is_err() {
        svc.metrics.rejected_reason("unavailable");
        return retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "figures are not being stored fast enough",
            Duration::from_secs(5),
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Says whether the request's holder may read one input's figures. The
/// deployment's moderator authentication (an extractor) implements it.
pub trait MayRead: Send + Sync {
    fn may_read(&self, input: &str) -> bool;
}

/// `GET /api/inputs/<input>/qoe`, for callers that extract as `A`. There
/// is deliberately no default `A`: the figures are for moderators only.
pub fn read_router<S, A>(svc: Arc<QoeService>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    A: FromRequestParts<S> + MayRead + Send + 'static,
{
    Router::new().route(
        "/api/inputs/{input}/qoe",
        get(move |access: A, PathParams(input): PathParams<String>| {
            let svc = Arc::clone(&svc);
            async move { read(&svc, &access, &input, unix_now()).await }
        }),
    )
}

/// The read handler's body, callable without HTTP.
pub async fn read(svc: &QoeService, access: &dyn MayRead, input: &str, now_s: i64) -> Response {
    if !ids::is_valid_uid(input) {
        return error(StatusCode::BAD_REQUEST, "not an input uid");
    }
    if !access.may_read(input) {
        return error(StatusCode::FORBIDDEN, "not a moderator of this input");
    }
    match query::input_qoe(&svc.store, input, now_s).await {
        Ok(q) => ([(header::CACHE_CONTROL, "no-store")], Json(q)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "QoE read failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "figures unavailable")
        }
    }
}
