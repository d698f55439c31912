//! The Cloudflare-compatible delivery endpoints (`/<id>/...`). Thin: the
//! origin decides, these turn its plans into HTTP (and read the files).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use player_core::cloudflare::ErrorBody;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::PathParams;
use crate::faults::{self, Gate};
use crate::hls;
use crate::ids::{self, ManifestFile};
use crate::origin::{MasterPlan, Origin};
use crate::thumbnails;
use crate::viewers;

pub const M3U8: &str = "application/vnd.apple.mpegurl";
pub const MP2T: &str = "video/mp2t";
/// What the `malformed` lifecycle fault sends: JSON cut short.
pub const MALFORMED_JSON: &str = r#"{"isInput":true,"videoUID":"#;

type AppState = State<Arc<Origin>>;
type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

fn query(q: QueryMap) -> HashMap<String, String> {
    q.map(|Query(q)| q).unwrap_or_default()
}

const NO_CACHE: (header::HeaderName, HeaderValue) =
    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));

fn json_no_cache<T: Serialize>(body: T) -> Response {
    ([NO_CACHE], Json(body)).into_response()
}

/// Applies a fault gate to a JSON answer.
async fn gated<T: Serialize>(gate: Gate, body: T, what: &str) -> Response {
    match gate {
        Gate::Pass => json_no_cache(body),
        Gate::Slow(delay) => {
            tokio::time::sleep(delay).await;
            json_no_cache(body)
        }
        Gate::Error500 => {
            ApiError::Internal(format!("{what} failed (injected fault error500)")).into_response()
        }
        Gate::Malformed => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                NO_CACHE,
            ],
            MALFORMED_JSON,
        )
            .into_response(),
        Gate::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, HeaderValue::from(retry_after)),
                NO_CACHE,
            ],
            Json(ErrorBody {
                error: "too many requests (injected fault rateLimit)".into(),
            }),
        )
            .into_response(),
    }
}

/// `GET /<id>/lifecycle`.
pub async fn lifecycle(State(origin): AppState, PathParams(id): PathParams<String>) -> Response {
    match origin.lifecycle(&id) {
        Ok((body, f)) => gated(faults::lifecycle_gate(&f), body, "lifecycle").await,
        Err(e) => e.into_response(),
    }
}

/// `GET /<id>/views`; `?viewer=<id>` names the client (else its address).
pub async fn views(
    State(origin): AppState,
    PathParams(id): PathParams<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    q: QueryMap,
) -> Response {
    let q = query(q);
    let client = viewers::client_key(q.get("viewer").map(String::as_str), peer);
    match origin.views(&id, client, Instant::now()) {
        Ok((body, f)) => gated(faults::views_gate(&f), body, "views").await,
        Err(e) => e.into_response(),
    }
}

fn playlist_response(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(M3U8)),
            NO_CACHE,
        ],
        text,
    )
        .into_response()
}

/// `GET /<id>/manifest/<file>`: the master (`video.m3u8`), media playlists
/// and segments.
pub async fn manifest(
    State(origin): AppState,
    PathParams((id, file)): PathParams<(String, String)>,
) -> ApiResult<Response> {
    let now = Instant::now();
    match ids::classify_manifest_file(&file) {
        None => Err(ApiError::NotFound(format!(
            "no manifest file `{file}` (the local origin serves HLS: video.m3u8)"
        ))),
        Some(ManifestFile::Master) => match origin.master(&id, now)? {
            MasterPlan::Idle => Ok((StatusCode::NO_CONTENT, [NO_CACHE]).into_response()),
            MasterPlan::Ready(variants) => Ok(playlist_response(hls::master(&variants))),
        },
        Some(ManifestFile::Media) => {
            let plan = origin.playlist(&id, &file, now)?;
            let text = tokio::fs::read_to_string(&plan.path)
                .await
                .map_err(|_| ApiError::NotFound(format!("`{id}` is not playable yet")))?;
            let pl = hls::parse(&text)
                .map_err(|e| ApiError::Internal(format!("bad playlist on disk: {e}")))?;
            let pl = if plan.kind == hls::Kind::Vod {
                pl
            } else {
                pl.window(plan.window)
            };
            Ok(playlist_response(pl.render(plan.kind)))
        }
        Some(ManifestFile::Segment) => {
            let path = origin.segment(&id, &file)?;
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|_| ApiError::NotFound(format!("no segment `{file}`")))?;
            Ok((
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(MP2T)),
                    NO_CACHE,
                ],
                bytes,
            )
                .into_response())
        }
    }
}

/// `GET /<id>/thumbnails/thumbnail.jpg?time=1s&height=270&fit=crop`: a
/// frame of the live broadcast (or the last one). `time` and `height` are
/// rounded (see [`thumbnails`]), `fit` is accepted and ignored; bad values
/// are ignored. 503 + `Retry-After` when too many are being made.
pub async fn thumbnail(
    State(origin): AppState,
    PathParams((id, file)): PathParams<(String, String)>,
    q: QueryMap,
) -> ApiResult<Response> {
    if file != "thumbnail.jpg" {
        return Err(ApiError::NotFound(format!(
            "no thumbnail `{file}` (use thumbnail.jpg)"
        )));
    }
    let q = query(q);
    let plan = origin.thumbnail(&id)?;
    let no_frame = || ApiError::NotFound(format!("`{id}` has no frame yet"));
    let text = tokio::fs::read_to_string(plan.dir.join(plan.rendition.playlist()))
        .await
        .map_err(|_| no_frame())?;
    let pl = hls::parse(&text).map_err(|_| no_frame())?;
    let duration: f64 = pl.segments.iter().map(|s| s.duration).sum();
    let time = q
        .get("time")
        .and_then(|t| thumbnails::round_time(t, duration));
    let (segment, seek) = hls::locate(&pl, time.map(f64::from)).ok_or_else(no_frame)?;
    let height = q.get("height").and_then(|h| thumbnails::round_height(h));
    let key = thumbnails::Key {
        video_uid: plan.video_uid.clone(),
        segment: segment.uri.clone(),
        seek_ms: (seek * 1000.0).round() as u32,
        height,
    };
    let path = plan.dir.join(&segment.uri).to_string_lossy().into_owned();
    let ffmpeg = origin.settings().ffmpeg.clone();
    let made = origin
        .thumbnails
        .get(key, move || {
            thumbnails::grab_frame(ffmpeg, path, seek, height)
        })
        .await;
    let jpeg = match made {
        Ok(jpeg) => jpeg,
        Err(e) => return Ok(e.into_response()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            NO_CACHE,
        ],
        jpeg,
    )
        .into_response())
}
