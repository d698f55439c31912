//! A broadcast's directory on disk, `<data-dir>/videos/<videoUID>/`: ffmpeg's
//! event playlists and segments plus `meta.json`, kept whole after the
//! broadcast ends so that it can be replayed as a recording.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::api::Source;
use crate::ffmpeg::Rendition;
use crate::hls;
use crate::ids;

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
/// A `meta.json` larger than this is not ours (ours is well under 4 KiB).
const META_MAX_BYTES: u64 = 64 * 1024;
/// More renditions than any broadcast of ours has.
const MAX_RENDITIONS: usize = 8;

impl RecordingMeta {
    /// Checks what a tampered `meta.json` could use to reach outside its
    /// directory or to blow up what is built from it: the uids, the
    /// rendition names (each becomes `<name>.m3u8` in the directory), their
    /// number, and the numbers.
    pub fn validate(&self) -> Result<(), String> {
        if !ids::is_valid_uid(&self.video_uid) || !ids::is_valid_uid(&self.input_uid) {
            return Err("videoUID and inputUID must match [A-Za-z0-9_-]{1,64}".into());
        }
        if self.name.chars().count() > 256 {
            return Err("name is longer than 256 characters".into());
        }
        if self.renditions.is_empty() || self.renditions.len() > MAX_RENDITIONS {
            return Err(format!("1 to {MAX_RENDITIONS} renditions expected"));
        }
        if let Some(r) = self
            .renditions
            .iter()
            .find(|r| !ids::is_valid_rendition_name(&r.name))
        {
            return Err(format!(
                "bad rendition name {:?}: expected [A-Za-z0-9_-]{{1,64}}",
                r.name
            ));
        }
        if self.renditions.iter().any(|r| {
            r.fps
                .is_some_and(|f| !crate::ffmpeg::FPS_RANGE.contains(&f))
        }) {
            return Err("fps out of range".into());
        }
        if self
            .duration_seconds
            .is_some_and(|d| !d.is_finite() || !(0.0..=MAX_DURATION_SECONDS).contains(&d))
        {
            return Err("durationSeconds out of range".into());
        }
        Ok(())
    }
}

/// Longer than any recording (a year).
const MAX_DURATION_SECONDS: f64 = 365.0 * 86_400.0;

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// `<data-dir>/videos`.
pub fn videos_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("videos")
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees half a file. The temporary file is created new: a
/// symlink left in its place is removed, never followed (it could point
/// outside the data directory).
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    f.write_all(contents)?;
    drop(f);
    fs::rename(&tmp, path)
}

/// Whether `path` is a regular file itself (not a symlink to one).
fn is_plain_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

pub fn write_meta(dir: &Path, meta: &RecordingMeta) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
    write_atomic(&dir.join(META), &json)
}

/// Reads and checks `meta.json`: bounded, a plain file, and valid (see
/// [`RecordingMeta::validate`]); anything else is an error, never trusted.
pub fn read_meta(dir: &Path) -> io::Result<RecordingMeta> {
    let path = dir.join(META);
    if !is_plain_file(&path) {
        return Err(io::Error::other("meta.json is not a plain file"));
    }
    let mut bytes = Vec::new();
    fs::File::open(&path)?
        .take(META_MAX_BYTES + 1)
        .read_to_end(&mut bytes)?;
    parse_meta(&bytes).map_err(io::Error::other)
}

/// Parses and checks the bytes of a `meta.json`.
pub fn parse_meta(bytes: &[u8]) -> Result<RecordingMeta, String> {
    if bytes.len() as u64 > META_MAX_BYTES {
        return Err(format!("meta.json is larger than {META_MAX_BYTES} bytes"));
    }
    let meta: RecordingMeta = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    meta.validate()?;
    Ok(meta)
}

/// Closes a recording after its ffmpeg has exited: appends `#EXT-X-ENDLIST`
/// to every playlist that lacks it, removes temporary files, and returns the
/// media duration in seconds (of the first rendition; 0 when there is none).
pub fn finalize(dir: &Path, renditions: &[Rendition]) -> io::Result<f64> {
    let mut duration = None;
    for r in renditions {
        if !ids::is_valid_rendition_name(&r.name) {
            continue;
        }
        let path = dir.join(r.playlist());
        // ffmpeg writes plain files; a symlink here was planted.
        if fs::symlink_metadata(&path).is_ok_and(|m| !m.file_type().is_file()) {
            continue;
        }
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
        let entry = entry?;
        let path = entry.path();
        let file_or_link = entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink());
        if path.extension().is_some_and(|e| e == "tmp") && file_or_link {
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
        if is_plain_dir(&dir) {
            n += remove_temp_files_in(&dir)?;
        }
    }
    Ok(n)
}

/// A directory itself, not a symlink to one (which could lead anywhere).
fn is_plain_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
}

/// When a broadcast left live by a killed server really ended, read from
/// what ffmpeg wrote (before the playlists are closed): the end of the last
/// segment by its `EXT-X-PROGRAM-DATE-TIME`, else that segment's file time,
/// else the start plus the media duration, else `fallback`.
fn recovered_end(dir: &Path, meta: &RecordingMeta, fallback: SystemTime) -> SystemTime {
    let created = humantime::parse_rfc3339_weak(&meta.created).ok();
    let Some(r) = meta.renditions.first() else {
        return fallback;
    };
    let path = dir.join(r.playlist());
    let playlist = is_plain_file(&path)
        .then(|| fs::read_to_string(&path).ok())
        .flatten()
        .and_then(|t| hls::parse(&t).ok());
    let Some(pl) = playlist else {
        return created.unwrap_or(fallback);
    };
    let last = pl.segments.last();
    let by_clock = last.and_then(|s| {
        let ms = u64::try_from(s.program_date_time_ms()?).ok()?;
        let end =
            Duration::from_millis(ms).checked_add(Duration::try_from_secs_f64(s.duration).ok()?)?;
        SystemTime::UNIX_EPOCH.checked_add(end)
    });
    let by_file = || {
        let s = last?;
        // Only a plain segment name inside the directory.
        if ids::classify_manifest_file(&s.uri) != Some(ids::ManifestFile::Segment) {
            return None;
        }
        fs::symlink_metadata(dir.join(&s.uri))
            .ok()
            .filter(|m| m.file_type().is_file())?
            .modified()
            .ok()
    };
    let by_duration = || {
        let d = Duration::try_from_secs_f64(pl.duration()).ok()?;
        created?.checked_add(d)
    };
    let end = by_clock
        .or_else(by_file)
        .or_else(by_duration)
        .unwrap_or(fallback);
    // Never before the start.
    match created {
        Some(c) if end < c => c,
        _ => end,
    }
}

/// At start-up: closes recordings left live by a server that was killed
/// (their `meta.json` still says `live-inprogress`). Returns how many.
pub fn recover(data_dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for dir in recording_dirs(data_dir)? {
        if !is_plain_dir(&dir) {
            continue;
        }
        let meta = match read_meta(&dir) {
            Ok(m) => m,
            Err(e) => {
                if dir.join(META).exists() {
                    tracing::warn!(dir = %dir.display(), error = %e, "meta.json ignored");
                }
                continue;
            }
        };
        let mut meta = meta;
        // Only the directory named after its video (as `scan` requires).
        if meta.state != RecordingState::LiveInprogress
            || dir.file_name().is_none_or(|n| *n != *meta.video_uid)
        {
            continue;
        }
        let meta_time = fs::metadata(dir.join(META))
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        let ended = recovered_end(&dir, &meta, meta_time);
        let duration = finalize(&dir, &meta.renditions)?;
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
        if !is_plain_dir(&dir) {
            continue;
        }
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

    /// A recording left live by a killed server, with a tampered meta.json.
    fn left_live(data: &Path, uid: &str, renditions: Vec<Rendition>) -> PathBuf {
        let dir = videos_dir(data).join(uid);
        fs::create_dir_all(&dir).unwrap();
        let mut m = meta(uid);
        m.renditions = renditions;
        // Written as is, past the checks, as an attacker would.
        fs::write(dir.join(META), serde_json::to_vec(&m).unwrap()).unwrap();
        dir
    }

    const OPEN_PLAYLIST: &str = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nx_00000.ts\n";

    // Regression (issue 15 #11): a tampered rendition name in meta.json made
    // crash recovery rewrite a file outside the data directory.
    #[test]
    fn tampered_rendition_names_stay_inside_the_data_dir() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let outside = root.path().join("outside.m3u8");
        let absolute = root.path().join("absolute");
        for (uid, name) in [
            ("v1", "../../../outside".to_string()),
            ("v2", absolute.display().to_string()),
            ("v3", "a/../../../../outside".to_string()),
        ] {
            fs::write(&outside, OPEN_PLAYLIST).unwrap();
            fs::write(absolute.with_extension("m3u8"), OPEN_PLAYLIST).unwrap();
            let mut r = remux_rendition();
            r.name = name.clone();
            left_live(&data, uid, vec![r]);
            let _ = recover(&data);
            assert_eq!(
                fs::read_to_string(&outside).unwrap(),
                OPEN_PLAYLIST,
                "{name}"
            );
            assert_eq!(
                fs::read_to_string(absolute.with_extension("m3u8")).unwrap(),
                OPEN_PLAYLIST,
                "{name}"
            );
            // Not loaded either.
            assert!(scan(&data).unwrap().iter().all(|(_, m)| m.video_uid != uid));
        }
    }

    // Regression (issue 15 #11): symlinks planted in a recording's directory
    // led recovery's writes outside it.
    #[test]
    fn recovery_does_not_follow_planted_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let victim = root.path().join("victim.txt");
        let victim2 = root.path().join("victim2.m3u8");
        fs::write(&victim, "precious").unwrap();
        fs::write(&victim2, OPEN_PLAYLIST).unwrap();
        let dir = left_live(&data, "v1", vec![remux_rendition()]);
        fs::write(dir.join("stream_0.m3u8"), OPEN_PLAYLIST).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("stream_0.m3u8.tmp")).unwrap();
        let dir2 = left_live(&data, "v2", vec![remux_rendition()]);
        std::os::unix::fs::symlink(&victim2, dir2.join("stream_0.m3u8")).unwrap();
        recover(&data).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&victim2).unwrap(), OPEN_PLAYLIST);
        // The real playlist was closed all the same.
        assert!(fs::read_to_string(dir.join("stream_0.m3u8"))
            .unwrap()
            .ends_with("#EXT-X-ENDLIST\n"));
    }

    // Regression (issue 15 #11): a recovered recording got its start time
    // as its end time (meta.json's mtime, written at the start).
    #[test]
    fn recovered_recording_ends_at_its_last_segment() {
        let data = tempfile::tempdir().unwrap();
        let dir = left_live(data.path(), "v1", vec![remux_rendition()]);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut m = read_meta(&dir).unwrap();
        m.created = rfc3339(start);
        write_meta(&dir, &m).unwrap();
        fs::File::options()
            .write(true)
            .open(dir.join(META))
            .unwrap()
            .set_modified(start)
            .unwrap();
        // Two segments from start + 0 s and + 2 s, the last 1.5 s long.
        fs::write(
            dir.join("stream_0.m3u8"),
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n#EXTINF:2.0,\nstream_0_00000.ts\n\
             #EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n#EXTINF:1.5,\nstream_0_00001.ts\n",
        )
        .unwrap();
        recover(data.path()).unwrap();
        let m = read_meta(&dir).unwrap();
        assert_eq!(m.ended.as_deref(), Some("2023-11-14T22:13:23.500Z"));
        assert_eq!(m.duration_seconds, Some(3.5));

        // Without program date-times: the last segment file's time.
        let dir = left_live(data.path(), "v2", vec![remux_rendition()]);
        let mut m = read_meta(&dir).unwrap();
        m.created = rfc3339(start);
        write_meta(&dir, &m).unwrap();
        fs::write(
            dir.join("stream_0.m3u8"),
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nstream_0_00000.ts\n",
        )
        .unwrap();
        let seg_time = start + Duration::from_secs(600);
        let seg = fs::File::create(dir.join("stream_0_00000.ts")).unwrap();
        seg.set_modified(seg_time).unwrap();
        recover(data.path()).unwrap();
        assert_eq!(read_meta(&dir).unwrap().ended, Some(rfc3339(seg_time)));

        // Without the segment file: the start plus the duration.
        let dir = left_live(data.path(), "v3", vec![remux_rendition()]);
        let mut m = read_meta(&dir).unwrap();
        m.created = rfc3339(start);
        write_meta(&dir, &m).unwrap();
        fs::write(
            dir.join("stream_0.m3u8"),
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n../stream_0_00000.ts\n",
        )
        .unwrap();
        recover(data.path()).unwrap();
        assert_eq!(
            read_meta(&dir).unwrap().ended,
            Some(rfc3339(start + Duration::from_secs(2)))
        );
    }

    #[test]
    fn meta_checks() {
        let ok = meta("v");
        assert!(ok.validate().is_ok());
        let bad = |f: &dyn Fn(&mut RecordingMeta)| {
            let mut m = meta("v");
            f(&mut m);
            m.validate().is_err()
        };
        assert!(bad(&|m| m.video_uid = "../v".into()));
        assert!(bad(&|m| m.input_uid = String::new()));
        assert!(bad(&|m| m.name = "n".repeat(257)));
        assert!(bad(&|m| m.renditions.clear()));
        assert!(bad(&|m| m.renditions = vec![remux_rendition(); 9]));
        assert!(bad(&|m| m.renditions[0].name = "/etc/x".into()));
        assert!(bad(&|m| m.renditions[0].name = "..".into()));
        assert!(bad(&|m| m.renditions[0].fps = Some(100_000)));
        assert!(bad(&|m| m.duration_seconds = Some(f64::NAN)));
        assert!(bad(&|m| m.duration_seconds = Some(-1.0)));
        let big = vec![b' '; 70 * 1024];
        assert!(parse_meta(&big).is_err());
    }

    #[test]
    fn states() {
        assert_eq!(state_for(0.0), RecordingState::Error);
        assert_eq!(state_for(0.5), RecordingState::Ready);
    }
}
