//! What broadcasts may cost: the stand-in runs on a developer's laptop, so
//! one request must not start a 4K `placebo` encode, a dozen broadcasts at
//! once, one that never ends, or one that fills the disk. Pure checks,
//! applied by the origin before ffmpeg is spawned.

use std::path::Path;
use std::time::Duration;

use crate::ffmpeg::{Encode, VideoSize, FPS_RANGE, PRESETS};

/// The limits, from the command line (see `Config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Broadcasts (synthetic and RTMP) running at once.
    pub max_broadcasts: usize,
    /// Largest synthetic picture, each side on its own.
    pub max_video_size: VideoSize,
    /// Slowest x264 preset a request may ask for.
    pub slowest_preset: String,
    /// A broadcast is stopped cleanly after this long.
    pub max_duration: Duration,
    /// Free space the data directory must have for a broadcast to start.
    pub min_free_disk_bytes: u64,
    /// Live inputs that may exist at once.
    pub max_inputs: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            max_broadcasts: 3,
            max_video_size: VideoSize {
                width: 1920,
                height: 1080,
            },
            slowest_preset: "medium".into(),
            max_duration: Duration::from_secs(4 * 3600),
            // About 11 minutes of a 3 Mbit/s broadcast: a floor that stops
            // a full disk from being filled further, not a reservation.
            min_free_disk_bytes: 256 * 1_000_000,
            max_inputs: 1000,
        }
    }
}

fn preset_rank(p: &str) -> Option<usize> {
    PRESETS.iter().position(|x| *x == p)
}

impl Caps {
    /// Checks a synthetic broadcast's encode against the caps; the message
    /// says which cap and how to raise it.
    pub fn check_encode(&self, enc: &Encode) -> Result<(), String> {
        let max = self.max_video_size;
        if enc.size.width > max.width || enc.size.height > max.height {
            return Err(format!(
                "size {} is larger than {max} (--max-video-size)",
                enc.size
            ));
        }
        if !FPS_RANGE.contains(&enc.fps) {
            return Err(format!(
                "fps must be between {} and {}",
                FPS_RANGE.start(),
                FPS_RANGE.end()
            ));
        }
        match (preset_rank(&enc.preset), preset_rank(&self.slowest_preset)) {
            (Some(p), Some(slowest)) if p <= slowest => Ok(()),
            _ => Err(format!(
                "preset `{}` is not allowed: use one of {} (--slowest-preset)",
                enc.preset,
                self.allowed_presets().join(", ")
            )),
        }
    }

    /// The presets a request may use, fastest first.
    pub fn allowed_presets(&self) -> Vec<&'static str> {
        let slowest = preset_rank(&self.slowest_preset).unwrap_or(0);
        PRESETS[..=slowest].to_vec()
    }

    /// Whether one more broadcast may start while `running` run.
    pub fn check_running(&self, running: usize) -> Result<(), String> {
        if running >= self.max_broadcasts {
            return Err(format!(
                "{running} broadcasts are running, the most this stand-in allows \
                 (--max-broadcasts {}): stop one first",
                self.max_broadcasts
            ));
        }
        Ok(())
    }

    /// Whether `free` bytes are enough to start a broadcast.
    pub fn check_free_disk(&self, free: u64) -> Result<(), String> {
        if free < self.min_free_disk_bytes {
            return Err(format!(
                "only {} MB free in the data directory, below {} MB (--min-free-disk-mb)",
                free / 1_000_000,
                self.min_free_disk_bytes / 1_000_000
            ));
        }
        Ok(())
    }

    /// Whether one more input may be created while `existing` exist.
    pub fn check_inputs(&self, existing: usize) -> Result<(), String> {
        if existing >= self.max_inputs {
            return Err(format!(
                "{existing} live inputs exist, the most this stand-in allows \
                 (--max-inputs {}): delete some first",
                self.max_inputs
            ));
        }
        Ok(())
    }
}

/// Bytes available to us on the file system holding `path`.
pub fn free_disk_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("path with a NUL byte"))?;
    // SAFETY: `c` is a valid NUL-terminated string and `st` a properly sized
    // out-parameter that statvfs fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::useless_conversion)] // the field types differ by platform
    Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(size: &str, preset: &str, fps: u32) -> Encode {
        Encode {
            size: size.parse().unwrap(),
            preset: preset.into(),
            fps,
            abr: true,
        }
    }

    #[test]
    fn encode_caps() {
        let c = Caps::default();
        let table = [
            // The request of issue 15 #7: 868 MB and 135 % CPU in 6 s.
            (enc("3840x2160", "placebo", 60), false),
            (enc("1920x1080", "placebo", 60), false),
            (enc("1920x1080", "veryslow", 30), false),
            (enc("1920x1080", "slow", 30), false),
            (enc("2560x1080", "ultrafast", 30), false),
            (enc("1080x1920", "ultrafast", 30), false),
            (enc("1920x1080", "medium", 60), true),
            (enc("1280x720", "veryfast", 30), true),
            (enc("160x90", "ultrafast", 1), true),
            (enc("160x90", "ultrafast", 61), false),
            (enc("160x90", "ultrafast", 0), false),
            (enc("160x90", "bogus", 30), false),
        ];
        for (e, ok) in table {
            assert_eq!(c.check_encode(&e).is_ok(), ok, "{e:?}");
        }
        let msg = c
            .check_encode(&enc("1920x1080", "placebo", 30))
            .unwrap_err();
        assert!(msg.contains("ultrafast") && msg.contains("medium"), "{msg}");
        assert!(!msg.contains("placebo,"), "{msg}");
        let strict = Caps {
            slowest_preset: "ultrafast".into(),
            ..Caps::default()
        };
        assert_eq!(strict.allowed_presets(), ["ultrafast"]);
        assert!(strict.check_encode(&enc("160x90", "veryfast", 30)).is_err());
    }

    #[test]
    fn counts_and_disk() {
        let c = Caps::default();
        assert!(c.check_running(0).is_ok());
        assert!(c.check_running(2).is_ok());
        assert!(c.check_running(3).is_err());
        assert!(c.check_inputs(999).is_ok());
        assert!(c.check_inputs(1000).is_err());
        assert!(c.check_free_disk(300_000_000).is_ok());
        assert!(c.check_free_disk(200_000_000).is_err());
        let none = Caps {
            min_free_disk_bytes: 0,
            ..Caps::default()
        };
        assert!(none.check_free_disk(0).is_ok());
    }

    #[test]
    fn free_disk_of_a_real_directory() {
        let d = tempfile::tempdir().unwrap();
        assert!(free_disk_bytes(d.path()).unwrap() > 0);
        assert!(free_disk_bytes(&d.path().join("missing")).is_err());
    }
}
