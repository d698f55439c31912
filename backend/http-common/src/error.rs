//! The one error type: every failure a handler can meet, each with
//! its HTTP status, answered as `{"error": "plain message", "code": "..."}`
//! ([`PublicError`]).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The body of every error answer: a plain sentence for people and a
/// stable code for programs. It never carries upstream text (a connect
/// error, Cloudflare's message, whatever an upstream put in it): that goes
/// to the log only, so nothing an upstream says reaches a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicError {
    pub error: String,
    pub code: String,
}

impl PublicError {
    /// `error` with the code of `status` ([`code_for`]).
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            code: code_for(status).into(),
        }
    }

    /// With a finer code than the status gives.
    pub fn with_code(code: &str, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            code: code.into(),
        }
    }
}

/// The code of a status: its reason in snake case (`not_found`,
/// `too_many_requests`, `bad_gateway`...), `error` for an unknown one.
pub fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        429 => "too_many_requests",
        431 => "request_header_fields_too_large",
        500 => "internal",
        502 => "bad_gateway",
        503 => "unavailable",
        504 => "gateway_timeout",
        _ => "error",
    }
}

/// An error answer that no cache keeps: `{"error", "code"}` with
/// `Cache-Control: no-store`.
pub fn error_response(status: StatusCode, body: PublicError) -> Response {
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 404: no such input, video, file, or not (yet) available.
    #[error("{0}")]
    NotFound(String),
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the state does not allow it (already live, not live, uid taken).
    #[error("{0}")]
    Conflict(String),
    /// 500: something failed on our side (or a fault asked for it).
    #[error("{0}")]
    Internal(String),
    /// 503: the server is shutting down.
    #[error("shutting down")]
    ShuttingDown,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn unknown_id(id: &str) -> Self {
        Self::NotFound(format!("no live input or video with id `{id}`"))
    }

    pub fn unknown_input(uid: &str) -> Self {
        Self::NotFound(format!("no live input `{uid}`"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status(),
            [(header::CACHE_CONTROL, "no-cache")],
            Json(PublicError::new(self.status(), self.to_string())),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_statuses() {
        for (status, code) in [
            (400, "bad_request"),
            (404, "not_found"),
            (413, "payload_too_large"),
            (429, "too_many_requests"),
            (502, "bad_gateway"),
            (503, "unavailable"),
            (418, "error"),
        ] {
            assert_eq!(code_for(StatusCode::from_u16(status).unwrap()), code);
        }
        let v = serde_json::to_value(PublicError::new(StatusCode::NOT_FOUND, "no")).unwrap();
        assert_eq!(v, serde_json::json!({"error": "no", "code": "not_found"}));
    }
}
