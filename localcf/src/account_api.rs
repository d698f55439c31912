//! The local origin's stand-in for Cloudflare Stream's account API, at the
//! same paths with the same envelope and Bearer token check:
//!
//! - `POST /client/v4/accounts/<acct>/stream/live_inputs` creates an input
//!   (`meta.name` and `meta.room` kept);
//! - `GET  .../live_inputs` lists them (`{"liveInputs": [...], "range",
//!   "total"}`: uid, meta, dates, as Cloudflare lists them);
//! - `GET  .../live_inputs/<input>` reads it, `PUT` updates its recording settings;
//! - `GET  .../live_inputs/<input>/videos` lists its broadcasts, newest
//!   first: `live-inprogress` while live and until `ready_after` past the
//!   end, then `ready` (or `error` when nothing was recorded);
//! - `POST .../keys` creates a signing key (`GET` lists, `DELETE .../keys/<id>`
//!   revokes), see [`crate::signed`].
//!
//! Like Cloudflare's API it sends no CORS headers. Handlers are thin; the
//! JSON is built by the pure [`live_input`] and [`video`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use stream_api::account::{
    CreateLiveInput, Envelope, Ingest, InputSize, LiveInput, LiveInputList, LiveInputStatus, Meta,
    Playback, RecordingMode, RecordingSettings, Video, VideoState, VideoStatus,
};

use crate::api::{AccountCall, CreateInput};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::origin::{AccountInput, AccountVideo, Origin};
use crate::recording::{rfc3339, RecordingState};
use crate::signed::SigningKeys;
use stream_api::Secret;

/// The account id of the local stand-in.
pub const LOCAL_ACCOUNT: &str = "local";

/// What a missing or wrong token gets: `api-error-auth.json`, byte for byte.
pub const AUTH_ERROR_BODY: &str = r#"{"result": null, "success": false, "errors": [{"code": 10000, "message": "Authentication error"}], "messages": []}"#;

pub struct StandIn {
    pub origin: Arc<Origin>,
    pub account: String,
    pub token: Secret,
    /// Delay between a broadcast's end and its recording's `ready`.
    pub ready_after: Duration,
    /// Base of the delivery URLs in answers (the server's own `http://host:port`).
    pub delivery_base: String,
    /// Keys of `POST .../stream/keys`, which signed delivery URLs use.
    pub signing_keys: Arc<SigningKeys>,
}

type StandInState = State<Arc<StandIn>>;

/// The stand-in's routes (no CORS: the account API is not for browsers).
pub fn router(stand_in: Arc<StandIn>) -> Router {
    const BASE: &str = "/client/v4/accounts/{account}/stream";
    Router::new()
        .route(
            &format!("{BASE}/live_inputs"),
            post(create_input).get(list_inputs),
        )
        .route(
            &format!("{BASE}/live_inputs/{{input}}"),
            get(get_input).put(update_input),
        )
        .route(&format!("{BASE}/live_inputs/{{input}}/videos"), get(videos))
        .route(&format!("{BASE}/keys"), post(create_key).get(list_keys))
        .route(&format!("{BASE}/keys/{{key}}"), delete(delete_key))
        .route("/client/v4", any(no_route))
        .route("/client/v4/{*rest}", any(no_route))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(stand_in)
}

fn envelope<T: Serialize>(status: StatusCode, env: Envelope<T>) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Json(env)).into_response()
}

fn failure(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    envelope(status, Envelope::<()>::error(code, message))
}

fn auth_error(status: StatusCode) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        AUTH_ERROR_BODY,
    )
        .into_response()
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl StandIn {
    /// 401 for a missing or wrong token, 403 for another account.
    #[allow(clippy::result_large_err)] // the error is the answer itself
    fn authorize(&self, headers: &HeaderMap, account: Option<&str>) -> Result<(), Response> {
        let status = if !bearer(headers).is_some_and(|t| self.token.matches(t)) {
            StatusCode::UNAUTHORIZED
        } else if account.is_some_and(|a| a != self.account) {
            StatusCode::FORBIDDEN
        } else {
            return Ok(());
        };
        Err(auth_error(status))
    }
}

fn origin_error(e: ApiError) -> Response {
    match e {
        ApiError::NotFound(_) => failure(StatusCode::NOT_FOUND, 10003, "Not found"),
        ApiError::BadRequest(m) => failure(StatusCode::BAD_REQUEST, 10005, m),
        ApiError::Conflict(m) => failure(StatusCode::CONFLICT, 10009, m),
        ApiError::ShuttingDown => failure(StatusCode::SERVICE_UNAVAILABLE, 10001, "shutting down"),
        e => failure(StatusCode::INTERNAL_SERVER_ERROR, 10001, e.to_string()),
    }
}

async fn no_route(State(s): StandInState, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if let Err(r) = s.authorize(&headers, None) {
        return r;
    }
    failure(
        StatusCode::NOT_FOUND,
        7003,
        format!(
            "Could not route to {}, perhaps your object identifier is invalid?",
            uri.path()
        ),
    )
}

async fn method_not_allowed() -> Response {
    failure(StatusCode::METHOD_NOT_ALLOWED, 10405, "Method not allowed")
}

/// `POST .../live_inputs`.
pub async fn create_input(
    State(s): StandInState,
    PathParams(account): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    let req: CreateLiveInput = if body.iter().all(u8::is_ascii_whitespace) {
        CreateLiveInput::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    10005,
                    format!("bad JSON body: {e}"),
                )
            }
        }
    };
    let created = s.origin.create_account_input(
        CreateInput {
            uid: None,
            name: req.meta.name,
            stream_key: None,
        },
        req.recording,
        req.meta.room,
    );
    match created.and_then(|c| s.origin.account_input(&c.uid)) {
        Ok(input) => {
            s.origin.count_account_call(AccountCall::Create);
            envelope(StatusCode::OK, Envelope::ok(live_input(&input)))
        }
        Err(e) => origin_error(e),
    }
}

/// `GET .../live_inputs`: every input, oldest first, in the list shape
/// (no ingest URLs or status, as Cloudflare's list has none).
pub async fn list_inputs(
    State(s): StandInState,
    PathParams(account): PathParams<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    s.origin.count_account_call(AccountCall::List);
    let mut inputs = s.origin.account_inputs();
    inputs.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.uid.cmp(&b.uid)));
    let list: Vec<LiveInput> = inputs.iter().map(listed_input).collect();
    let n = list.len() as u64;
    envelope(
        StatusCode::OK,
        Envelope::ok(LiveInputList {
            live_inputs: list,
            range: Some(n),
            total: Some(n),
        }),
    )
}

/// `GET .../live_inputs/<input>`.
pub async fn get_input(
    State(s): StandInState,
    PathParams((account, input)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    match s.origin.account_input(&input) {
        Ok(i) => {
            s.origin.count_account_call(AccountCall::Get);
            envelope(StatusCode::OK, Envelope::ok(live_input(&i)))
        }
        Err(e) => origin_error(e),
    }
}

/// `PUT .../live_inputs/<input>`: the recording settings given replace
/// the input's (its recordings keep theirs, as they were made).
pub async fn update_input(
    State(s): StandInState,
    PathParams((account, input)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    let req: CreateLiveInput = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                10005,
                format!("bad JSON body: {e}"),
            )
        }
    };
    match s
        .origin
        .update_account_input(&input, req.recording)
        .and_then(|()| s.origin.account_input(&input))
    {
        Ok(i) => {
            s.origin.count_account_call(AccountCall::Update);
            envelope(StatusCode::OK, Envelope::ok(live_input(&i)))
        }
        Err(e) => origin_error(e),
    }
}

/// `GET .../live_inputs/<input>/videos`.
pub async fn videos(
    State(s): StandInState,
    PathParams((account, input)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    match s.origin.account_videos(&input) {
        Ok(list) => {
            s.origin.count_account_call(AccountCall::Videos);
            let now = SystemTime::now();
            let mut out: Vec<(SystemTime, Video)> = list
                .iter()
                .map(|v| (v.created, video(v, now, s.ready_after, &s.delivery_base)))
                .collect();
            // Newest first (the live one first), as Cloudflare lists them.
            out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.uid.cmp(&b.1.uid)));
            envelope(
                StatusCode::OK,
                Envelope::ok(out.into_iter().map(|(_, v)| v).collect::<Vec<_>>()),
            )
        }
        Err(e) => origin_error(e),
    }
}

/// `POST .../keys`: a new RSA key, its private half shown this once.
pub async fn create_key(
    State(s): StandInState,
    PathParams(account): PathParams<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    let keys = Arc::clone(&s.signing_keys);
    match tokio::task::spawn_blocking(move || keys.create()).await {
        Ok(Ok(key)) => {
            s.origin.count_account_call(AccountCall::Keys);
            envelope(StatusCode::OK, Envelope::ok(key))
        }
        Ok(Err(e)) => failure(StatusCode::INTERNAL_SERVER_ERROR, 10001, e),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, 10001, e.to_string()),
    }
}

/// `GET .../keys`: ids and creation dates.
pub async fn list_keys(
    State(s): StandInState,
    PathParams(account): PathParams<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    envelope(StatusCode::OK, Envelope::ok(s.signing_keys.list()))
}

/// `DELETE .../keys/<id>`: its tokens stop working (`result: "ok"`).
pub async fn delete_key(
    State(s): StandInState,
    PathParams((account, key)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.authorize(&headers, Some(&account)) {
        return r;
    }
    match s.signing_keys.delete(&key) {
        Ok(true) => envelope(StatusCode::OK, Envelope::ok("ok")),
        Ok(false) => failure(StatusCode::NOT_FOUND, 10003, "Not found"),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, 10001, e),
    }
}

/// The recording settings shown: what was asked, with the local origin's
/// behaviour filling the gaps (it records every broadcast).
fn effective(r: &RecordingSettings) -> RecordingSettings {
    RecordingSettings {
        mode: Some(r.mode.clone().unwrap_or(RecordingMode::Automatic)),
        timeout_seconds: Some(r.timeout_seconds.unwrap_or(0)),
        require_signed_urls: Some(r.require_signed_urls.unwrap_or(false)),
        allowed_origins: Some(r.allowed_origins.clone().unwrap_or_default()),
        hide_live_viewer_count: Some(r.hide_live_viewer_count.unwrap_or(false)),
    }
}

/// A live input in Cloudflare's shape. `rtmps` carries the local RTMP URL
/// (the local origin has no RTMPS); it is absent with `--no-rtmp`.
pub fn live_input(i: &AccountInput) -> LiveInput {
    LiveInput {
        uid: i.uid.clone(),
        rtmps: i.rtmp_base.as_ref().map(|b| Ingest {
            url: format!("{b}/"),
            stream_key: i.stream_key.clone(),
        }),
        rtmps_playback: None,
        created: Some(rfc3339(i.created)),
        modified: Some(rfc3339(i.created)),
        meta: Meta {
            name: Some(i.name.clone()),
            room: i.room.clone(),
        },
        status: if i.connected {
            Some(LiveInputStatus::Connected)
        } else if i.reconnecting {
            Some(LiveInputStatus::Reconnecting)
        } else {
            None
        },
        recording: effective(&i.recording),
        delete_recording_after_days: None,
    }
}

/// A live input as `GET .../live_inputs` lists it: uid, meta, dates.
pub fn listed_input(i: &AccountInput) -> LiveInput {
    LiveInput {
        rtmps: None,
        status: None,
        recording: RecordingSettings::default(),
        ..live_input(i)
    }
}

/// `"<input name> 23 Sep 21 05:44 UTC"`, as Cloudflare names live recordings.
pub fn recording_name(input_name: &str, created: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 2021-09-23T05:44:30Z
    let t = humantime::format_rfc3339_seconds(created).to_string();
    let field = |a: usize, b: usize| t.get(a..b).unwrap_or("");
    let month = field(5, 7)
        .parse::<usize>()
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("?");
    format!(
        "{input_name} {} {month} {} {} UTC",
        field(8, 10),
        field(2, 4),
        field(11, 16)
    )
}

/// The state Cloudflare would show `now`.
pub fn state_of(v: &AccountVideo, now: SystemTime, ready_after: Duration) -> VideoState {
    match (v.ended, v.outcome) {
        (Some(ended), Some(outcome)) if now >= ended + ready_after => match outcome {
            RecordingState::Ready => VideoState::Ready,
            RecordingState::Error => VideoState::Error,
            RecordingState::LiveInprogress => VideoState::LiveInProgress,
        },
        _ => VideoState::LiveInProgress,
    }
}

/// A broadcast in Cloudflare's video shape, URLs under `base`.
pub fn video(v: &AccountVideo, now: SystemTime, ready_after: Duration, base: &str) -> Video {
    let base = base.trim_end_matches('/');
    let uid = &v.uid;
    let state = state_of(v, now, ready_after);
    let ready = state.is_ready();
    let (code, text) = if state.is_error() {
        ("ERR_NON_VIDEO", "The recording has no media.")
    } else {
        ("", "")
    };
    let (width, height) = match v.size {
        Some(s) => (i64::from(s.width), i64::from(s.height)),
        None => (-1, -1),
    };
    let modified = v.ended.filter(|_| ready).unwrap_or(v.created);
    Video {
        uid: uid.clone(),
        thumbnail: Some(format!("{base}/{uid}/thumbnails/thumbnail.jpg")),
        thumbnail_timestamp_pct: Some(0.0),
        ready_to_stream: Some(ready),
        status: VideoStatus {
            state: Some(state),
            error_reason_code: Some(code.into()),
            error_reason_text: Some(text.into()),
        },
        meta: Meta {
            name: Some(recording_name(&v.name, v.created)),
            room: None,
        },
        created: Some(rfc3339(v.created)),
        modified: Some(rfc3339(modified)),
        uploaded: Some(rfc3339(v.created)),
        size: Some(0.0),
        // The local player's deep link plays the recording.
        preview: Some(format!("{base}/?video={uid}")),
        allowed_origins: Some(Vec::new()),
        require_signed_urls: Some(v.require_signed_urls),
        duration: Some(if ready {
            v.duration.unwrap_or(0.0)
        } else {
            -1.0
        }),
        input: Some(InputSize {
            width: Some(width),
            height: Some(height),
        }),
        playback: Playback {
            hls: Some(format!("{base}/{uid}/manifest/video.m3u8")),
            // Cloudflare also serves DASH (`video.mpd`); the stand-in makes HLS
            // only (nothing here plays DASH, and a second muxer per broadcast
            // would cost every test CPU), so it does not advertise a URL it
            // would answer 404.
            dash: None,
        },
        live_input: Some(v.input_uid.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffmpeg::VideoSize;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn shared(name: &str) -> String {
        let path = format!(
            "{}/../../shared/cloudflare/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn auth_error_is_the_real_file() {
        assert_eq!(AUTH_ERROR_BODY, shared("api-error-auth.json").trim_end());
    }

    #[test]
    fn bearer_tokens() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(bearer(&h("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&h("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&h("Basic abc")), None);
        assert_eq!(bearer(&h("Bearer ")), None);
        assert_eq!(bearer(&h("abc")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    fn broadcast(ended: Option<u64>, outcome: Option<RecordingState>) -> AccountVideo {
        AccountVideo {
            uid: "v1".into(),
            input_uid: "in".into(),
            name: "Room".into(),
            created: at(1_632_375_870),
            ended: ended.map(at),
            duration: ended.map(|_| 42.5),
            outcome,
            size: Some(VideoSize {
                width: 320,
                height: 180,
            }),
            require_signed_urls: false,
        }
    }

    #[test]
    fn live_then_processing_then_ready() {
        let ready_after = Duration::from_secs(10);
        let live = broadcast(None, None);
        let v = video(
            &live,
            at(2_000_000_000),
            ready_after,
            "http://127.0.0.1:8080/",
        );
        assert_eq!(v.state(), Some(&VideoState::LiveInProgress));
        assert_eq!(v.duration, Some(-1.0));
        assert_eq!(v.ready_to_stream, Some(false));
        assert_eq!(v.meta.name.as_deref(), Some("Room 23 Sep 21 05:44 UTC"));
        assert_eq!(
            v.playback.hls.as_deref(),
            Some("http://127.0.0.1:8080/v1/manifest/video.m3u8")
        );
        assert_eq!(
            v.thumbnail.as_deref(),
            Some("http://127.0.0.1:8080/v1/thumbnails/thumbnail.jpg")
        );
        assert_eq!(v.live_input.as_deref(), Some("in"));
        // Regression: `playback.dash` named a `.mpd` the stand-in answers 404.
        assert_eq!(v.playback.dash, None);
        let ended = broadcast(Some(1000), Some(RecordingState::Ready));
        assert_eq!(
            state_of(&ended, at(1009), ready_after),
            VideoState::LiveInProgress
        );
        let v = video(&ended, at(1010), ready_after, "http://b");
        assert_eq!(v.state(), Some(&VideoState::Ready));
        assert_eq!(v.duration_seconds(), Some(42.5));
        assert_eq!(v.ready_to_stream, Some(true));
        assert_eq!(v.input.unwrap().width, Some(320));
        let failed = broadcast(Some(1000), Some(RecordingState::Error));
        let v = video(&failed, at(2000), ready_after, "http://b");
        assert_eq!(v.state(), Some(&VideoState::Error));
        assert_eq!(v.status.error_reason_code.as_deref(), Some("ERR_NON_VIDEO"));
    }

    #[test]
    fn videos_read_back_like_the_real_ones() {
        // What the stand-in writes has every key the real file has.
        let real: serde_json::Value =
            serde_json::from_str(&shared("live-input-videos.json")).unwrap();
        let ours = serde_json::to_value(video(
            &broadcast(Some(1), Some(RecordingState::Ready)),
            at(100),
            Duration::ZERO,
            "http://b",
        ))
        .unwrap();
        for key in [
            "uid",
            "thumbnail",
            "readyToStream",
            "status",
            "meta",
            "created",
            "modified",
            "duration",
            "playback",
            "liveInput",
            "requireSignedURLs",
            "input",
            "preview",
        ] {
            assert!(
                real["result"][1].get(key).is_some(),
                "{key} not in the real file"
            );
            assert!(ours.get(key).is_some(), "{key} missing: {ours}");
        }
        assert_eq!(ours["status"]["state"], "ready");
    }

    #[test]
    fn live_input_shape() {
        let i = AccountInput {
            uid: "room1".into(),
            name: "Room 1".into(),
            room: Some("room1".into()),
            stream_key: "key1".into(),
            created: at(0),
            recording: RecordingSettings::default(),
            connected: false,
            reconnecting: false,
            rtmp_base: Some("rtmp://127.0.0.1:1935/live".into()),
        };
        let v = serde_json::to_value(live_input(&i)).unwrap();
        assert_eq!(v["rtmps"]["url"], "rtmp://127.0.0.1:1935/live/");
        assert_eq!(v["rtmps"]["streamKey"], "key1");
        assert_eq!(v["status"], serde_json::Value::Null);
        assert_eq!(v["recording"]["mode"], "automatic");
        assert_eq!(v["meta"]["name"], "Room 1");
        assert_eq!(v["meta"]["room"], "room1");
        let listed = serde_json::to_value(listed_input(&i)).unwrap();
        assert_eq!(listed["uid"], "room1");
        assert_eq!(listed["meta"]["room"], "room1");
        assert_eq!(listed["rtmps"], serde_json::Value::Null);
        let live = live_input(&AccountInput {
            connected: true,
            rtmp_base: None,
            ..i.clone()
        });
        assert_eq!(live.status, Some(LiveInputStatus::Connected));
        assert_eq!(live.rtmps, None);
        let waiting = live_input(&AccountInput {
            reconnecting: true,
            ..i
        });
        assert_eq!(
            serde_json::to_value(waiting).unwrap()["status"],
            "reconnecting"
        );
    }

    #[test]
    fn recording_names() {
        assert_eq!(recording_name("Demo", at(0)), "Demo 01 Jan 70 00:00 UTC");
        assert_eq!(
            recording_name("CFTV", at(1_632_348_773)),
            "CFTV 22 Sep 21 22:12 UTC"
        );
    }
}
