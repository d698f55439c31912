//! What our server's recordings endpoint answers and the player reads:
//! `GET /api/inputs/<input>/recordings`. Built by the server from
//! Cloudflare's `live_inputs/<input>/videos`, with URLs already rewritten to
//! the delivery base viewers use.

use serde::{Deserialize, Serialize};

/// A recording ready to replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    /// The video uid.
    pub uid: String,
    pub name: String,
    /// RFC 3339, as Cloudflare gives it.
    pub created: String,
    pub duration_seconds: f64,
    pub thumbnail: String,
    /// Empty for a private room's recording (`"signed": true` in the
    /// list): the player gets a token for it first (`player`, `VideoToken`).
    pub hls: String,
}

/// A broadcast whose recording is not ready yet (`live-inprogress`,
/// `inprogress`, `queued`...): "available shortly".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Processing {
    pub uid: String,
    pub name: String,
    pub created: String,
    /// Cloudflare's `status.state`, kept as it came.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingList {
    #[serde(rename = "inputUID")]
    pub input_uid: String,
    /// Newest first.
    pub recordings: Vec<Recording>,
    /// Newest first.
    pub processing: Vec<Processing>,
}
