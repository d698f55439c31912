//! Cloudflare Stream delivery answers, as the player reads them and the local
//! origin writes them. Unknown fields are ignored so that Cloudflare can add
//! some without breaking viewers.

use serde::{Deserialize, Serialize};

/// `GET <base>/<id>/lifecycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub is_input: bool,
    /// The broadcast now live (or last live) under an input; `null` when idle.
    #[serde(rename = "videoUID", default)]
    pub video_uid: Option<String>,
    pub live: bool,
}

/// `GET <base>/<id>/views`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Views {
    pub live_viewers: u64,
}

/// The JSON error body of the local origin (Cloudflare's delivery host
/// answers unknown ids with a bare 404).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
