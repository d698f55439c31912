//! The one error type: every failure a handler can meet, each with
//! its HTTP status, answered as `{"error": "plain message"}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use player_core::cloudflare::ErrorBody;

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
            Json(ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
