//! Cloudflare Stream account API types (`api.cloudflare.com/client/v4/
//! accounts/<acct>/stream/...`), as our server reads them from Cloudflare
//! and as the local origin's stand-in writes them.
//!
//! Reading is tolerant: unknown fields are ignored, almost every field is
//! optional, and the two state fields are *open* enums whose unknown values
//! are kept as [`VideoState::Other`] / [`LiveInputStatus::Other`] rather than
//! failing the answer, so Cloudflare can add a state without breaking us.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Every account API answer: `{"result", "success", "errors", "messages"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// `null` on failure.
    #[serde(default = "none")]
    pub result: Option<T>,
    pub success: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<ApiMessage>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub messages: Vec<ApiMessage>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Envelope<T> {
    /// A successful answer.
    pub fn ok(result: T) -> Self {
        Self {
            result: Some(result),
            success: true,
            errors: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// A failed answer with one error.
    pub fn error(code: i64, message: impl Into<String>) -> Self {
        Self {
            result: None,
            success: false,
            errors: vec![ApiMessage {
                code,
                message: message.into(),
            }],
            messages: Vec::new(),
        }
    }

    /// The errors' messages joined with `; ` (empty when there are none).
    pub fn error_text(&self) -> String {
        self.errors
            .iter()
            .map(|e| e.message.as_str())
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One of `errors` or `messages`: `{"code": 10000, "message": "Authentication error"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMessage {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

/// Cloudflare's error code for a bad or missing token.
pub const AUTH_ERROR_CODE: i64 = 10000;

/// `null` reads as the type's default (Cloudflare writes `"errors": null` at times).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

// ---- videos ------------------------------------------------------------

/// A video's `status.state`. Open: an unknown value is kept in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VideoState {
    PendingUpload,
    Downloading,
    Queued,
    InProgress,
    Ready,
    Error,
    /// The broadcast is still live (or its recording not yet processed).
    LiveInProgress,
    /// A state this code does not know, as Cloudflare wrote it.
    Other(String),
}

impl VideoState {
    pub fn as_str(&self) -> &str {
        match self {
            Self::PendingUpload => "pendingupload",
            Self::Downloading => "downloading",
            Self::Queued => "queued",
            Self::InProgress => "inprogress",
            Self::Ready => "ready",
            Self::Error => "error",
            Self::LiveInProgress => "live-inprogress",
            Self::Other(s) => s,
        }
    }

    /// Playable as a recording.
    pub fn is_ready(&self) -> bool {
        *self == Self::Ready
    }

    /// Failed for good: never becomes a recording.
    pub fn is_error(&self) -> bool {
        *self == Self::Error
    }

    /// On its way to `ready` (every state that is neither ready nor error,
    /// unknown ones included).
    pub fn is_processing(&self) -> bool {
        !self.is_ready() && !self.is_error()
    }
}

impl From<&str> for VideoState {
    fn from(s: &str) -> Self {
        match s {
            "pendingupload" => Self::PendingUpload,
            "downloading" => Self::Downloading,
            "queued" => Self::Queued,
            "inprogress" => Self::InProgress,
            "ready" => Self::Ready,
            "error" => Self::Error,
            "live-inprogress" => Self::LiveInProgress,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for VideoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for VideoState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for VideoState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::from(s.as_str()))
    }
}

/// A video's `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoStatus {
    #[serde(default)]
    pub state: Option<VideoState>,
    #[serde(default)]
    pub error_reason_code: Option<String>,
    #[serde(default)]
    pub error_reason_text: Option<String>,
}

/// `meta`: free-form on Cloudflare; `name` (what the dashboard shows) and
/// `room` (the Jitsi room a go-live input belongs to: how the backend finds
/// it again) are the keys we use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// `playback`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playback {
    #[serde(default)]
    pub hls: Option<String>,
    #[serde(default)]
    pub dash: Option<String>,
}

/// `input`: the source's size (`-1` while unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSize {
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
}

/// A video: one element of `GET .../live_inputs/<input>/videos`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub uid: String,
    #[serde(default)]
    pub thumbnail: Option<String>,
    #[serde(default)]
    pub thumbnail_timestamp_pct: Option<f64>,
    #[serde(default)]
    pub ready_to_stream: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: VideoStatus,
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta: Meta,
    /// RFC 3339.
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub uploaded: Option<String>,
    #[serde(default)]
    pub size: Option<f64>,
    #[serde(default)]
    pub preview: Option<String>,
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, rename = "requireSignedURLs")]
    pub require_signed_urls: Option<bool>,
    /// Seconds; `-1` while live or unknown.
    #[serde(default)]
    pub duration: Option<f64>,
    #[serde(default)]
    pub input: Option<InputSize>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub playback: Playback,
    /// The live input it was recorded from.
    #[serde(default)]
    pub live_input: Option<String>,
}

impl Video {
    /// `status.state`, if Cloudflare gave one.
    pub fn state(&self) -> Option<&VideoState> {
        self.status.state.as_ref()
    }

    /// Duration in seconds when known (`-1` and absent are unknown).
    pub fn duration_seconds(&self) -> Option<f64> {
        self.duration.filter(|d| d.is_finite() && *d >= 0.0)
    }
}

// ---- live inputs -------------------------------------------------------

/// A live input's connection `status`. Open: an unknown value is kept in
/// `Other`. On the wire it is a string, `null`, or (newer answers) an object
/// `{"current": {"state": "connected", ...}, "history": [...]}`; all read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LiveInputStatus {
    Connected,
    Reconnected,
    Reconnecting,
    ClientDisconnect,
    TtlExceeded,
    FailedToConnect,
    FailedToReconnect,
    NewConfigurationAccepted,
    Other(String),
}

impl LiveInputStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Connected => "connected",
            Self::Reconnected => "reconnected",
            Self::Reconnecting => "reconnecting",
            Self::ClientDisconnect => "client_disconnect",
            Self::TtlExceeded => "ttl_exceeded",
            Self::FailedToConnect => "failed_to_connect",
            Self::FailedToReconnect => "failed_to_reconnect",
            Self::NewConfigurationAccepted => "new_configuration_accepted",
            Self::Other(s) => s,
        }
    }

    /// A publisher is connected.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected | Self::Reconnected)
    }
}

impl From<&str> for LiveInputStatus {
    fn from(s: &str) -> Self {
        match s {
            "connected" => Self::Connected,
            "reconnected" => Self::Reconnected,
            "reconnecting" => Self::Reconnecting,
            "client_disconnect" => Self::ClientDisconnect,
            "ttl_exceeded" => Self::TtlExceeded,
            "failed_to_connect" => Self::FailedToConnect,
            "failed_to_reconnect" => Self::FailedToReconnect,
            "new_configuration_accepted" => Self::NewConfigurationAccepted,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for LiveInputStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn serialize_status<S: Serializer>(v: &Option<LiveInputStatus>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(st) => s.serialize_str(st.as_str()),
        None => s.serialize_none(),
    }
}

/// Reads a live input's `status`: a string, `null`, or an object whose
/// `current.state` (or `state`) is the string. Anything else is `None`.
fn deserialize_status<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<LiveInputStatus>, D::Error> {
    struct StatusVisitor;

    impl<'de> Visitor<'de> for StatusVisitor {
        type Value = Option<LiveInputStatus>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a live input status: string, null or object")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(LiveInputStatus::from(v)))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(StatusVisitor)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    // {"current": {"state": ...}} or {"state": ...}
                    "current" | "state" if found.is_none() => {
                        found = map.next_value_seed(StatusSeed)?;
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(found)
        }
    }

    struct StatusSeed;

    impl<'de> de::DeserializeSeed<'de> for StatusSeed {
        type Value = Option<LiveInputStatus>;
        fn deserialize<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(StatusVisitor)
        }
    }

    d.deserialize_any(StatusVisitor)
}

/// `recording.mode`. Open.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordingMode {
    Automatic,
    Off,
    Other(String),
}

impl RecordingMode {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Automatic => "automatic",
            Self::Off => "off",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for RecordingMode {
    fn from(s: &str) -> Self {
        match s {
            "automatic" => Self::Automatic,
            "off" => Self::Off,
            other => Self::Other(other.to_string()),
        }
    }
}

impl Serialize for RecordingMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RecordingMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::from(s.as_str()))
    }
}

/// A live input's `recording` settings (also the body of a create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RecordingMode>,
    /// Seconds a publisher may be gone before a reconnect makes a new video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(
        default,
        rename = "requireSignedURLs",
        skip_serializing_if = "Option::is_none"
    )]
    pub require_signed_urls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_live_viewer_count: Option<bool>,
}

/// `rtmps`: where a publisher sends (`url` + `streamKey`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingest {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub stream_key: String,
}

impl Ingest {
    /// The one string a Jitsi moderator pastes: url and key together.
    pub fn publish_url(&self) -> String {
        if self.url.ends_with('/') {
            format!("{}{}", self.url, self.stream_key)
        } else {
            format!("{}/{}", self.url, self.stream_key)
        }
    }
}

/// A live input: `GET .../live_inputs/<input>` and the answer to a create.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveInput {
    pub uid: String,
    #[serde(default)]
    pub rtmps: Option<Ingest>,
    #[serde(default)]
    pub rtmps_playback: Option<Ingest>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta: Meta,
    #[serde(
        default,
        serialize_with = "serialize_status",
        deserialize_with = "deserialize_status"
    )]
    pub status: Option<LiveInputStatus>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub recording: RecordingSettings,
    #[serde(default)]
    pub delete_recording_after_days: Option<u64>,
}

/// `GET .../live_inputs`: `{"liveInputs": [...], "range": n, "total": n}`.
/// Cloudflare lists each input's uid, meta and dates (no ingest URLs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveInputList {
    #[serde(default)]
    pub live_inputs: Vec<LiveInput>,
    #[serde(default)]
    pub range: Option<u64>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// The body of `POST .../live_inputs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLiveInput {
    #[serde(default)]
    pub meta: Meta,
    #[serde(default)]
    pub recording: RecordingSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_recording_after_days: Option<u64>,
}

impl CreateLiveInput {
    /// What the product creates: a named input recorded automatically.
    pub fn automatic(name: impl Into<String>, timeout_seconds: u64) -> Self {
        Self {
            meta: Meta {
                name: Some(name.into()),
                room: None,
            },
            recording: RecordingSettings {
                mode: Some(RecordingMode::Automatic),
                timeout_seconds: Some(timeout_seconds),
                require_signed_urls: Some(false),
                allowed_origins: None,
                hide_live_viewer_count: None,
            },
            delete_recording_after_days: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The real answers beside the project (`../shared/cloudflare`), read as they are.
    fn shared(name: &str) -> String {
        let path = format!(
            "{}/../../../shared/cloudflare/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn reads_the_real_videos_list() {
        let env: Envelope<Vec<Video>> =
            serde_json::from_str(&shared("live-input-videos.json")).unwrap();
        assert!(env.success);
        assert!(env.errors.is_empty());
        let videos = env.result.unwrap();
        assert_eq!(videos.len(), 2);
        let live = &videos[0];
        assert_eq!(live.uid, "55b9b5ce48c3968c6b514c458959d6a");
        assert_eq!(live.state(), Some(&VideoState::LiveInProgress));
        assert!(live.state().unwrap().is_processing());
        assert_eq!(live.duration_seconds(), None, "-1 is unknown");
        assert_eq!(
            live.meta.name.as_deref(),
            Some("Stream Live Test 23 Sep 21 05:44 UTC")
        );
        assert_eq!(
            live.live_input.as_deref(),
            Some("34036a0695ab5237ce757ac53fd158a2")
        );
        let ready = &videos[1];
        assert_eq!(ready.state(), Some(&VideoState::Ready));
        assert_eq!(ready.duration_seconds(), Some(7272.0));
        assert_eq!(
            ready.created.as_deref(),
            Some("2021-09-22T22:12:53.587306Z")
        );
        assert_eq!(
            ready.playback.hls.as_deref(),
            Some("https://videodelivery.net/2ba59740c897a197df70814fd5ad991/manifest/video.m3u8")
        );
        assert_eq!(
            ready.thumbnail.as_deref(),
            Some("https://videodelivery.net/2ba59740c897a197df70814fd5ad991/thumbnails/thumbnail.jpg")
        );
        assert_eq!(
            ready.input,
            Some(InputSize {
                width: Some(640),
                height: Some(360)
            })
        );
        assert_eq!(ready.require_signed_urls, Some(false));
    }

    #[test]
    fn reads_the_real_live_input_and_auth_error() {
        let env: Envelope<LiveInput> =
            serde_json::from_str(&shared("live-input-create.json")).unwrap();
        let input = env.result.unwrap();
        assert_eq!(input.uid, "f256e6ea9341d51eea64c9454659e576");
        let rtmps = input.rtmps.unwrap();
        assert_eq!(rtmps.url, "rtmps://live.cloudflare.com:443/live/");
        assert!(rtmps
            .publish_url()
            .starts_with("rtmps://live.cloudflare.com:443/live/MTQ0"));
        assert_eq!(input.status, None);
        assert_eq!(input.meta.name.as_deref(), Some("My Live Stream"));
        assert_eq!(input.recording.mode, Some(RecordingMode::Automatic));
        assert_eq!(
            input.recording.allowed_origins,
            Some(vec!["*.example.com".into()])
        );

        let err: Envelope<LiveInput> =
            serde_json::from_str(&shared("api-error-auth.json")).unwrap();
        assert!(!err.success);
        assert!(err.result.is_none());
        assert_eq!(
            err.errors,
            vec![ApiMessage {
                code: AUTH_ERROR_CODE,
                message: "Authentication error".into()
            }]
        );
        assert_eq!(err.error_text(), "Authentication error");
        // The same body read as a list answer.
        let err: Envelope<Vec<Video>> =
            serde_json::from_str(&shared("api-error-auth.json")).unwrap();
        assert!(!err.success);
    }

    #[test]
    fn unknown_fields_and_states_are_kept_not_errors() {
        let text = shared("live-input-videos.json");
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v["futureTopLevel"] = json!({"x": [1, 2]});
        v["result"][0]["status"]["state"] = json!("transcoding-v2");
        v["result"][0]["newField"] = json!({"deep": {"er": null}});
        v["result"][1]["status"]["somethingNew"] = json!(42);
        v["result"][1]["meta"]["custom"] = json!([1, "a"]);
        let env: Envelope<Vec<Video>> = serde_json::from_value(v).unwrap();
        let videos = env.result.unwrap();
        let other = videos[0].state().unwrap();
        assert_eq!(other, &VideoState::Other("transcoding-v2".into()));
        assert!(other.is_processing());
        assert_eq!(other.as_str(), "transcoding-v2");
        assert!(videos[1].state().unwrap().is_ready());
        // Round trip keeps the unknown state's text.
        let back = serde_json::to_value(&videos[0]).unwrap();
        assert_eq!(back["status"]["state"], "transcoding-v2");
    }

    #[test]
    fn video_states_round_trip() {
        for s in [
            "pendingupload",
            "downloading",
            "queued",
            "inprogress",
            "ready",
            "error",
            "live-inprogress",
            "brand-new",
            "",
        ] {
            let st = VideoState::from(s);
            assert_eq!(st.as_str(), s);
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(serde_json::from_str::<VideoState>(&json).unwrap(), st);
        }
        assert!(!VideoState::Error.is_processing());
        assert!(VideoState::Queued.is_processing());
        assert!(VideoState::PendingUpload.is_processing());
    }

    #[test]
    fn minimal_and_null_fields_read() {
        let v: Video = serde_json::from_value(json!({
            "uid": "u", "status": null, "meta": null, "playback": null, "duration": null
        }))
        .unwrap();
        assert_eq!(v.state(), None);
        assert_eq!(v.meta.name, None);
        assert_eq!(v.duration_seconds(), None);
        let e: Envelope<Vec<Video>> =
            serde_json::from_value(json!({"success": true, "result": [], "errors": null})).unwrap();
        assert!(e.errors.is_empty() && e.messages.is_empty());
        assert_eq!(e.result, Some(vec![]));
    }

    #[test]
    fn live_input_status_in_every_shape() {
        let cases = [
            (json!(null), None),
            (json!("connected"), Some(LiveInputStatus::Connected)),
            (
                json!("client_disconnect"),
                Some(LiveInputStatus::ClientDisconnect),
            ),
            (
                json!("new_configuration_accepted"),
                Some(LiveInputStatus::NewConfigurationAccepted),
            ),
            (
                json!("warp-speed"),
                Some(LiveInputStatus::Other("warp-speed".into())),
            ),
            (
                json!({"current": {"state": "reconnecting", "reason": "x"}, "history": [{"state": "connected"}]}),
                Some(LiveInputStatus::Reconnecting),
            ),
            (
                json!({"state": "ttl_exceeded"}),
                Some(LiveInputStatus::TtlExceeded),
            ),
            (json!({"current": null}), None),
            (json!(7), None),
            (json!([1]), None),
        ];
        for (status, want) in cases {
            let i: LiveInput =
                serde_json::from_value(json!({"uid": "i", "status": status.clone()}))
                    .unwrap_or_else(|e| panic!("{status}: {e}"));
            assert_eq!(i.status, want, "{status}");
        }
        let missing: LiveInput = serde_json::from_value(json!({"uid": "i"})).unwrap();
        assert_eq!(missing.status, None);
        let out = serde_json::to_value(LiveInput {
            uid: "i".into(),
            status: Some(LiveInputStatus::FailedToReconnect),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(out["status"], "failed_to_reconnect");
        assert!(LiveInputStatus::Reconnected.is_connected());
        assert!(!LiveInputStatus::Reconnecting.is_connected());
    }

    #[test]
    fn create_body_is_cloudflares_shape() {
        let body = serde_json::to_value(CreateLiveInput::automatic("Room 1", 10)).unwrap();
        assert_eq!(
            body,
            json!({
                "meta": {"name": "Room 1"},
                "recording": {"mode": "automatic", "timeoutSeconds": 10, "requireSignedURLs": false}
            })
        );
        let mut with_origins = CreateLiveInput::automatic("r", 5);
        with_origins.recording.allowed_origins = Some(vec!["*.example.com".into()]);
        let v = serde_json::to_value(&with_origins).unwrap();
        assert_eq!(v["recording"]["allowedOrigins"], json!(["*.example.com"]));
        let back: CreateLiveInput = serde_json::from_value(v).unwrap();
        assert_eq!(back, with_origins);
    }

    #[test]
    fn envelope_constructors() {
        let e = Envelope::<()>::error(AUTH_ERROR_CODE, "Authentication error");
        let v = serde_json::to_value(&e).unwrap();
        let file: Value = serde_json::from_str(&shared("api-error-auth.json")).unwrap();
        assert_eq!(v, file);
        let ok = serde_json::to_value(Envelope::ok(vec![1])).unwrap();
        assert_eq!(
            ok,
            json!({"result": [1], "success": true, "errors": [], "messages": []})
        );
    }
}
