//! JSON bodies of the control API (`/control/...`). Requests reject unknown
//! fields, so a typo is a 400 rather than a silent no-op.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::ffmpeg::VideoSize;

/// Where a broadcast's media comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// ffmpeg's test pattern and tone.
    Synthetic,
    /// An RTMP publisher, remuxed.
    Rtmp,
}

/// `POST /control/inputs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateInput {
    pub uid: Option<String>,
    pub name: Option<String>,
    pub stream_key: Option<String>,
}

/// The answer to `POST /control/inputs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputCreated {
    pub uid: String,
    pub name: String,
    pub stream_key: String,
    /// The whole publish URL, key included (what a Jitsi moderator pastes);
    /// null when RTMP ingest is off.
    pub rtmp_url: Option<String>,
}

/// A broadcast's progress, as the control API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputState {
    /// No broadcast.
    Idle,
    /// ffmpeg runs but no segment is out yet (lifecycle still says not live).
    Starting,
    /// Playable (lifecycle says live).
    Live,
}

/// Viewer counting of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerStatus {
    /// The count set by `PUT .../viewers`, or null when counting.
    pub fixed: Option<u64>,
    /// Distinct clients seen polling `/views` in the last 30 s.
    pub counted: u64,
}

/// `GET /control/inputs/<uid>` (and each element of `GET /control/inputs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputStatus {
    pub uid: String,
    pub name: String,
    pub stream_key: String,
    pub rtmp_url: Option<String>,
    pub live: bool,
    pub state: InputState,
    /// The running broadcast's video uid (also while starting).
    #[serde(rename = "videoUID")]
    pub video_uid: Option<String>,
    pub source: Option<Source>,
    /// Every broadcast of this input since the server started, oldest first.
    #[serde(rename = "videoUIDs")]
    pub video_uids: Vec<String>,
    pub faults: Faults,
    pub viewers: ViewerStatus,
}

/// `POST /control/inputs/<uid>/start`; every field defaults to the server's flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBroadcast {
    pub size: Option<VideoSize>,
    pub preset: Option<String>,
    pub fps: Option<u32>,
    pub abr: Option<bool>,
}

/// How `stop` ends a broadcast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopMode {
    /// ffmpeg is asked to finish (SIGINT, or end of input for RTMP): the last
    /// segment and `#EXT-X-ENDLIST` are written.
    #[default]
    Clean,
    /// SIGKILL, like an encoder crash; the origin closes the playlist itself.
    Abrupt,
}

/// `POST /control/inputs/<uid>/stop`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopBroadcast {
    pub mode: Option<StopMode>,
}

/// The answer to start and stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastRef {
    #[serde(rename = "videoUID")]
    pub video_uid: String,
}

/// The answer to `DELETE /control/inputs/<uid>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputDeleted {
    pub uid: String,
    pub deleted: bool,
}

/// Requests per delivery endpoint of one input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub lifecycle: u64,
    pub views: u64,
    /// Master playlists (`video.m3u8`).
    pub manifest: u64,
    /// Media playlists.
    pub playlist: u64,
    pub segment: u64,
    pub thumbnail: u64,
}

/// `GET /control/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub inputs: BTreeMap<String, RequestCounts>,
    /// Calls to the account API stand-in that it answered (a refused token
    /// is not counted): what tests read to prove nothing was created.
    #[serde(default)]
    pub account: AccountCalls,
}

/// Account API stand-in calls, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCalls {
    /// `POST .../live_inputs` that created an input.
    pub creates: u64,
    /// `GET .../live_inputs`.
    pub lists: u64,
    /// `GET .../live_inputs/<input>`.
    pub gets: u64,
    /// `GET .../live_inputs/<input>/videos`.
    pub videos: u64,
    /// `POST .../keys` that created a signing key.
    #[serde(default)]
    pub keys: u64,
    /// `PUT .../live_inputs/<input>`.
    #[serde(default)]
    pub updates: u64,
}

/// Which account API call to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountCall {
    Create,
    List,
    Get,
    Videos,
    Keys,
    Update,
}

impl AccountCalls {
    pub fn bump(&mut self, call: AccountCall) {
        let c = match call {
            AccountCall::Create => &mut self.creates,
            AccountCall::List => &mut self.lists,
            AccountCall::Get => &mut self.gets,
            AccountCall::Videos => &mut self.videos,
            AccountCall::Keys => &mut self.keys,
            AccountCall::Update => &mut self.updates,
        };
        *c += 1;
    }
}

/// `GET /control/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub ok: bool,
}

/// Reads the body of `PUT /control/inputs/<uid>/viewers`: `{"count": N}`
/// fixes the count, `{"count": null}` goes back to counting. The key is
/// required, so an empty object is an error rather than a silent reset.
pub fn parse_viewer_count(body: &serde_json::Value) -> Result<Option<u64>, String> {
    const SHAPE: &str = r#"expected {"count": N} or {"count": null}"#;
    let obj = body.as_object().ok_or(SHAPE)?;
    if let Some(k) = obj.keys().find(|k| *k != "count") {
        return Err(format!("unknown field `{k}`: {SHAPE}"));
    }
    match obj.get("count") {
        None => Err(SHAPE.into()),
        Some(serde_json::Value::Null) => Ok(None),
        Some(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| "count must be a non-negative integer or null".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn viewer_count_bodies() {
        assert_eq!(parse_viewer_count(&json!({"count": 5})), Ok(Some(5)));
        assert_eq!(parse_viewer_count(&json!({"count": 0})), Ok(Some(0)));
        assert_eq!(parse_viewer_count(&json!({"count": null})), Ok(None));
        for bad in [
            json!({}),
            json!({"count": -1}),
            json!({"count": 1.5}),
            json!({"count": "3"}),
            json!({"count": 1, "x": 2}),
            json!([1]),
            json!(null),
        ] {
            assert!(parse_viewer_count(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_bodies_reject_unknown_fields() {
        assert!(serde_json::from_value::<CreateInput>(json!({"uid": "a", "key": "b"})).is_err());
        assert!(
            serde_json::from_value::<StartBroadcast>(json!({"size": "640x360", "bitrate": 1}))
                .is_err()
        );
        assert!(serde_json::from_value::<StartBroadcast>(json!({"size": "640"})).is_err());
        assert!(serde_json::from_value::<StopBroadcast>(json!({"mode": "gentle"})).is_err());
        assert_eq!(
            serde_json::from_value::<StopBroadcast>(json!({"mode": "abrupt"}))
                .unwrap()
                .mode,
            Some(StopMode::Abrupt)
        );
    }

    #[test]
    fn input_status_shape() {
        let s = InputStatus {
            uid: "u".into(),
            name: "n".into(),
            stream_key: "k".into(),
            rtmp_url: None,
            live: false,
            state: InputState::Idle,
            video_uid: None,
            source: None,
            video_uids: vec![],
            faults: Faults::default(),
            viewers: ViewerStatus {
                fixed: None,
                counted: 0,
            },
        };
        let v = serde_json::to_value(s).unwrap();
        for k in [
            "uid",
            "name",
            "streamKey",
            "rtmpUrl",
            "live",
            "videoUID",
            "source",
            "faults",
            "viewers",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {v}");
        }
        assert_eq!(v["viewers"], json!({"fixed": null, "counted": 0}));
        assert_eq!(v["state"], "idle");
    }
}
