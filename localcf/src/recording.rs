//! A broadcast's directory on disk, `<data-dir>/videos/<videoUID>/`: ffmpeg's
//! event playlists and segments plus `meta.json`, kept whole after the
//! broadcast ends so that it can be replayed as a recording.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::api::Source;
use crate::ffmpeg::Rendition;
use crate::hls;

/// Cloudflare's video states that a local recording can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingState {
    /// Still broadcasting.
    LiveInprogress,
    /// Ended with at least one segment: playable.
    Ready,
    /// Ended without a single segment.
    Error,
}

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingMeta {
    #[serde(rename = "videoUID")]
    pub video_uid: String,
    #[serde(rename = "inputUID")]
    pub input_uid: String,
    /// The input's name when the broadcast started.
    pub name: String,
    pub source: Source,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339, null while live.
    pub ended: Option<String>,
    /// Seconds of media, null while live.
    pub duration_seconds: Option<f64>,
    pub state: RecordingState,
    /// How ffmpeg ended (`exit status: 0`, `signal: 9 (SIGKILL)`...), null while live.
    pub exit: Option<String>,
    pub renditions: Vec<Rendition>,
    /// The input's `requireSignedURLs` at the start: a private recording
    /// stays private after a restart (absent in older files: false).
    #[serde(default, rename = "requireSignedURLs")]
    pub require_signed_urls: bool,
}

pub const META: &str = "meta.json";

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// `<data-dir>/videos`.
pub fn videos_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("videos")
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, contents)?;
    fs::rename(&tmp, path)
}

pub fn write_meta(dir: &Path, meta: &RecordingMeta) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
    write_atomic(&dir.join(META), &json)
}

pub fn read_meta(dir: &Path) -> io::Result<RecordingMeta> {
    let bytes = fs::read(dir.join(META))?;
    serde_json::from_slice(&bytes).map_err(io::Error::other)
}

/// Closes a recording after its ffmpeg has exited: appends `#EXT-X-ENDLIST`
/// to every playlist that lacks it, removes temporary files, and returns the
/// media duration in seconds (of the first rendition; 0 when there is none).
pub fn finalize(dir: &Path, renditions: &[Rendition]) -> io::Result<f64> {
    let mut duration = None;
    for r in renditions {
        let path = dir.join(r.playlist());
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if let Some(closed) = hls::close_event_playlist(&text) {
            write_atomic(&path, closed.as_bytes())?;
        }
        if duration.is_none() {
            duration = hls::parse(&text).ok().map(|p| p.duration());
        }
    }
    remove_temp_files_in(dir)?;
    Ok(duration.unwrap_or(0.0))
}

fn remove_temp_files_in(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tmp") && path.is_file() {
            fs::remove_file(&path)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The entries of `<data-dir>/videos` (none before the first broadcast).
fn recording_dirs(data_dir: &Path) -> io::Result<Vec<PathBuf>> {
    match fs::read_dir(videos_dir(data_dir)) {
        Ok(entries) => entries.map(|e| e.map(|e| e.path())).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Removes the `*.tmp` files left in every recording directory (ffmpeg's
/// playlist being rewritten, ours being written).
pub fn remove_temp_files(data_dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for dir in recording_dirs(data_dir)? {
        if dir.is_dir() {
            n += remove_temp_files_in(&dir)?;
        }
    }
    Ok(n)
}

/// At start-up: closes recordings left live by a server that was killed
/// (their `meta.json` still says `live-inprogress`). Returns how many.
pub fn recover(data_dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for dir in recording_dirs(data_dir)? {
        let Ok(mut meta) = read_meta(&dir) else {
            continue;
        };
        if meta.state != RecordingState::LiveInprogress {
            continue;
        }
        let duration = finalize(&dir, &meta.renditions)?;
        let ended = fs::metadata(dir.join(META))
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        meta.ended = Some(rfc3339(ended));
        meta.duration_seconds = Some(duration);
        meta.state = state_for(duration);
        meta.exit = Some("server stopped without closing it".into());
        write_meta(&dir, &meta)?;
        n += 1;
    }
    Ok(n)
}

/// Every recording directory with a readable `meta.json` (others skipped).
pub fn scan(data_dir: &Path) -> io::Result<Vec<(PathBuf, RecordingMeta)>> {
    let mut out = Vec::new();
    for dir in recording_dirs(data_dir)? {
        if let Ok(meta) = read_meta(&dir) {
            // Only a directory named after its video can be served by uid.
            if dir.file_name().is_some_and(|n| *n == *meta.video_uid) {
                out.push((dir, meta));
            }
        }
    }
    Ok(out)
}

/// The state of an ended recording with this much media.
pub fn state_for(duration: f64) -> RecordingState {
    if duration > 0.0 {
        RecordingState::Ready
    } else {
        RecordingState::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffmpeg::remux_rendition;

    fn meta(uid: &str) -> RecordingMeta {
        RecordingMeta {
            video_uid: uid.into(),
            input_uid: "in".into(),
            name: "n".into(),
            source: Source::Synthetic,
            created: rfc3339(SystemTime::UNIX_EPOCH),
            ended: None,
            duration_seconds: None,
            state: RecordingState::LiveInprogress,
            exit: None,
            renditions: vec![remux_rendition()],
            require_signed_urls: false,
        }
    }

    #[test]
    fn meta_json_shape() {
        let v = serde_json::to_value(meta("v")).unwrap();
        assert_eq!(v["videoUID"], "v");
        assert_eq!(v["inputUID"], "in");
        assert_eq!(v["created"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["state"], "live-inprogress");
        assert_eq!(v["source"], "synthetic");
        assert!(v["durationSeconds"].is_null());
    }

    #[test]
    fn finalize_and_recover() {
        let data = tempfile::tempdir().unwrap();
        let dir = videos_dir(data.path()).join("v1");
        fs::create_dir_all(&dir).unwrap();
        write_meta(&dir, &meta("v1")).unwrap();
        fs::write(
            dir.join("stream_0.m3u8"),
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nstream_0_00000.ts\n#EXTINF:1.5,\nstream_0_00001.ts\n",
        )
        .unwrap();
        fs::write(dir.join("stream_0.m3u8.tmp"), "partial").unwrap();
        assert_eq!(remove_temp_files(data.path()).unwrap(), 1);
        fs::write(dir.join("stream_0.m3u8.tmp"), "partial").unwrap();

        assert_eq!(recover(data.path()).unwrap(), 1);
        let text = fs::read_to_string(dir.join("stream_0.m3u8")).unwrap();
        assert!(
            text.ends_with("stream_0_00001.ts\n#EXT-X-ENDLIST\n"),
            "{text}"
        );
        assert!(!dir.join("stream_0.m3u8.tmp").exists());
        let m = read_meta(&dir).unwrap();
        assert_eq!(m.state, RecordingState::Ready);
        assert_eq!(m.duration_seconds, Some(3.5));
        assert!(m.ended.is_some());
        // Idempotent.
        assert_eq!(recover(data.path()).unwrap(), 0);
        assert_eq!(finalize(&dir, &m.renditions).unwrap(), 3.5);
        // A missing data dir is not an error.
        assert_eq!(recover(&data.path().join("nope")).unwrap(), 0);
        // Scanned for the next start; a directory not named after its video is skipped.
        let found = scan(data.path()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.video_uid, "v1");
        let odd = videos_dir(data.path()).join("other");
        fs::create_dir_all(&odd).unwrap();
        write_meta(&odd, &meta("v2")).unwrap();
        assert_eq!(scan(data.path()).unwrap().len(), 1);
        assert!(scan(&data.path().join("nope")).unwrap().is_empty());
    }

    #[test]
    fn states() {
        assert_eq!(state_for(0.0), RecordingState::Error);
        assert_eq!(state_for(0.5), RecordingState::Ready);
    }
}
