//! The control API (`/control/...`): thin handlers over [`Origin`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::api::{
    self, BroadcastRef, CreateInput, Health, InputCreated, InputDeleted, InputStatus,
    StartBroadcast, Stats, StopBroadcast, ViewerStatus,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, PathParams};
use crate::faults::Faults;
use crate::origin::Origin;

type AppState = State<Arc<Origin>>;

pub async fn health() -> Json<Health> {
    Json(Health { ok: true })
}

/// Built and serialized off the async workers, one list at a time: with
/// thousands of inputs a list is megabytes of JSON, and clients listing in
/// a loop must not take the workers that answer viewers' lifecycle polls.
pub async fn list_inputs(State(o): AppState) -> ApiResult<Response> {
    let _one_at_a_time = o
        .list_permits
        .acquire()
        .await
        .map_err(|_| ApiError::ShuttingDown)?;
    let origin = Arc::clone(&o);
    let json = tokio::task::spawn_blocking(move || {
        serde_json::to_vec(&origin.list_inputs(Instant::now()))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("listing failed: {e}")))?
    .map_err(|e| ApiError::Internal(format!("listing failed: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

pub async fn create_input(
    State(o): AppState,
    JsonBody(req): JsonBody<CreateInput>,
) -> ApiResult<(StatusCode, Json<InputCreated>)> {
    Ok((StatusCode::CREATED, Json(o.create_input(req)?)))
}

pub async fn get_input(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
) -> ApiResult<Json<InputStatus>> {
    Ok(Json(o.input_status(&uid, Instant::now())?))
}

pub async fn delete_input(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
) -> ApiResult<Json<InputDeleted>> {
    o.delete_input(&uid).await?;
    Ok(Json(InputDeleted { uid, deleted: true }))
}

pub async fn start(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
    JsonBody(req): JsonBody<StartBroadcast>,
) -> ApiResult<Json<BroadcastRef>> {
    let video_uid = o.start_synthetic(&uid, req)?;
    Ok(Json(BroadcastRef { video_uid }))
}

pub async fn stop(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
    JsonBody(req): JsonBody<StopBroadcast>,
) -> ApiResult<Json<BroadcastRef>> {
    let video_uid = o.stop(&uid, req.mode.unwrap_or_default()).await?;
    Ok(Json(BroadcastRef { video_uid }))
}

pub async fn set_viewers(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<ViewerStatus>> {
    let fixed = api::parse_viewer_count(&body).map_err(ApiError::BadRequest)?;
    Ok(Json(o.set_viewers(&uid, fixed, Instant::now())?))
}

pub async fn get_faults(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
) -> ApiResult<Json<Faults>> {
    Ok(Json(o.faults(&uid)?))
}

pub async fn put_faults(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
    JsonBody(patch): JsonBody<Value>,
) -> ApiResult<Json<Faults>> {
    Ok(Json(o.merge_faults(&uid, &patch)?))
}

pub async fn delete_faults(
    State(o): AppState,
    PathParams(uid): PathParams<String>,
) -> ApiResult<Json<Faults>> {
    Ok(Json(o.clear_faults(&uid)?))
}

pub async fn stats(State(o): AppState) -> Json<Stats> {
    Json(o.stats())
}

pub async fn reset_stats(State(o): AppState) -> Json<Stats> {
    Json(o.reset_stats())
}
