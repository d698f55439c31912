//! Command line and environment.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};

use crate::caps::Caps;
use crate::ffmpeg::{self, VideoSize};
use stream_api::Secret;

/// The local Cloudflare Stream stand-in (a development and test tool,
/// never deployed): live inputs with real ffmpeg media, RTMP ingest, the
/// account API stand-in, a control API, fault injection, and the built
/// player.
///
/// On start it prints one line to stdout,
/// `READY http=http://127.0.0.1:<port> rtmp=rtmp://127.0.0.1:<port>` (or
/// `rtmp=none`); logs go to stderr (RUST_LOG, default `info`; `debug` logs
/// every request).
#[derive(Debug, Clone, Parser)]
#[command(name = "localcf", version)]
pub struct Config {
    /// Address to listen on (HTTP and RTMP).
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// HTTP port; 0 picks a free one.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// RTMP ingest port; 0 picks a free one.
    #[arg(long, env = "RTMP_PORT", default_value_t = 1935)]
    pub rtmp_port: u16,

    /// Turn RTMP ingest off.
    #[arg(long, env = "NO_RTMP", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_rtmp: bool,

    /// RTMP connections open at once (before any stream key is checked);
    /// more are closed at accept.
    #[arg(long, env = "RTMP_MAX_CONNECTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub rtmp_max_connections: u32,

    /// Longest RTMP message (one video frame) accepted, in bytes. A
    /// connection buffers at most one unfinished message.
    #[arg(long, env = "RTMP_MAX_MESSAGE_BYTES", default_value_t = rtmp_ingest::DEFAULT_MAX_MESSAGE_LEN, value_parser = clap::value_parser!(u32).range(65_536..=16_777_215))]
    pub rtmp_max_message_bytes: u32,

    /// Seconds from connecting to an accepted publish (handshake, connect,
    /// publish with a valid stream key).
    #[arg(long, env = "RTMP_HANDSHAKE_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub rtmp_handshake_timeout_seconds: u64,

    /// Seconds an RTMP connection may go without a complete message.
    #[arg(long, env = "RTMP_IDLE_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub rtmp_idle_timeout_seconds: u64,

    /// Thumbnail ffmpegs at once (each is up to a core for a moment).
    #[arg(long, env = "THUMBNAIL_JOBS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub thumbnail_jobs: u32,

    /// Thumbnail jobs that may wait for those; more are answered 503.
    #[arg(long, env = "THUMBNAIL_QUEUE", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub thumbnail_queue: u32,

    /// Where broadcasts are recorded (`<data-dir>/videos/<videoUID>/`).
    #[arg(long, env = "DATA_DIR", default_value = ".data")]
    pub data_dir: PathBuf,

    /// The built player (trunk's dist/), served at `/`.
    #[arg(long = "dist", env = "DIST_DIR", default_value = "dist")]
    pub dist: PathBuf,

    /// Create input `demo` (stream key `demo`) and loop on it: idle, live, ended.
    #[arg(long, env = "DEMO", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub demo: bool,

    /// Demo: seconds idle between broadcasts.
    #[arg(long, env = "DEMO_IDLE_SECONDS", default_value_t = 10)]
    pub demo_idle_seconds: u64,

    /// Demo: seconds each broadcast lasts.
    #[arg(long, env = "DEMO_LIVE_SECONDS", default_value_t = 120)]
    pub demo_live_seconds: u64,

    /// Synthetic broadcast frame size, WxH (the top rendition with --abr).
    #[arg(long, env = "VIDEO_SIZE", default_value = "1280x720")]
    pub video_size: VideoSize,

    /// x264 preset of the synthetic broadcast (ultrafast is cheapest).
    #[arg(long, env = "X264_PRESET", default_value = "veryfast", value_parser = ffmpeg::parse_preset)]
    pub preset: String,

    /// Synthetic broadcast frame rate.
    #[arg(long, env = "FPS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub fps: u32,

    /// Synthetic broadcasts get two renditions (the video size and 360p) by default.
    #[arg(long, env = "ABR", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub abr: bool,

    /// HLS segment length in seconds (also the GOP length).
    #[arg(long, env = "SEGMENT_SECONDS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub segment_seconds: u32,

    /// Segments in a live media playlist (the recording keeps them all).
    #[arg(long, env = "LIVE_WINDOW_SEGMENTS", default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub live_window_segments: u64,

    /// The ffmpeg program.
    #[arg(long, env = "FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: String,

    /// The token the account API stand-in (at /client/v4, account `local`)
    /// accepts. Prefer CF_API_TOKEN or --cf-api-token-file (a flag shows in
    /// `ps`). Default: random and never shown, which closes the account API.
    #[arg(long, env = "CF_API_TOKEN", hide_env_values = true)]
    pub cf_api_token: Option<Secret>,

    /// File holding that token (surrounding whitespace ignored).
    #[arg(long, env = "CF_API_TOKEN_FILE", conflicts_with = "cf_api_token")]
    pub cf_api_token_file: Option<PathBuf>,

    /// The token the control API (/control) needs when bound beyond
    /// loopback (`Authorization: Bearer <token>`). Default: a random one,
    /// printed once to stderr at start. Ignored on loopback, where only
    /// loopback Host names are accepted.
    #[arg(long, env = "CONTROL_TOKEN", hide_env_values = true)]
    pub control_token: Option<Secret>,

    /// Broadcasts (synthetic and RTMP) that may run at once.
    #[arg(long, env = "MAX_BROADCASTS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub max_broadcasts: u64,

    /// Largest picture a synthetic broadcast may have, WxH (each side).
    #[arg(long, env = "MAX_VIDEO_SIZE", default_value = "1920x1080")]
    pub max_video_size: VideoSize,

    /// Slowest x264 preset a broadcast may use (slower ones cost many
    /// times the CPU and memory for nothing a test can see).
    #[arg(long, env = "SLOWEST_PRESET", default_value = "medium", value_parser = ffmpeg::parse_preset)]
    pub slowest_preset: String,

    /// A broadcast is stopped cleanly after this many seconds.
    #[arg(long, env = "MAX_BROADCAST_SECONDS", default_value_t = 4 * 3600, value_parser = clap::value_parser!(u64).range(1..=7 * 86_400))]
    pub max_broadcast_seconds: u64,

    /// Free space (MB) the data directory must have for a broadcast to
    /// start; 0 turns the check off.
    #[arg(long, env = "MIN_FREE_DISK_MB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=1 << 40))]
    pub min_free_disk_mb: u64,

    /// Live inputs that may exist at once.
    #[arg(long, env = "MAX_INPUTS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_inputs: u64,

    /// Viewer counting: clients one IP address may add to one input's
    /// count (`?viewer=` ids or connections).
    #[arg(long, env = "MAX_VIEWERS_PER_IP", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_viewers_per_ip: u64,

    /// Viewer counting: clients remembered, all inputs together.
    #[arg(long, env = "MAX_VIEWERS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_viewers: u64,

    /// Local stand-in: seconds between a broadcast's end and its recording
    /// turning `ready` (Cloudflare takes about 60).
    #[arg(long, env = "RECORDING_READY_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub recording_ready_seconds: u64,
}

impl Config {
    /// The bounds of viewer counting.
    pub fn viewer_limits(&self) -> crate::viewers::Limits {
        crate::viewers::Limits {
            per_ip: usize::try_from(self.max_viewers_per_ip).unwrap_or(usize::MAX),
            total: usize::try_from(self.max_viewers).unwrap_or(usize::MAX),
        }
    }

    /// The caps on broadcasts and inputs; an error when the defaults of a
    /// synthetic broadcast (--video-size, --preset) exceed them.
    pub fn caps(&self) -> Result<Caps, String> {
        let caps = Caps {
            max_broadcasts: usize::try_from(self.max_broadcasts).unwrap_or(usize::MAX),
            max_video_size: self.max_video_size,
            slowest_preset: self.slowest_preset.clone(),
            max_duration: std::time::Duration::from_secs(self.max_broadcast_seconds),
            min_free_disk_bytes: self.min_free_disk_mb.saturating_mul(1_000_000),
            max_inputs: usize::try_from(self.max_inputs).unwrap_or(usize::MAX),
        };
        caps.check_encode(&crate::ffmpeg::Encode {
            size: self.video_size,
            preset: self.preset.clone(),
            fps: self.fps,
            abr: self.abr,
        })
        .map_err(|e| format!("--video-size/--preset: {e}"))?;
        Ok(caps)
    }

    /// The token from --cf-api-token / CF_API_TOKEN or the token file.
    pub fn read_token(&self) -> Result<Option<Secret>, String> {
        if self.cf_api_token.is_some() && self.cf_api_token_file.is_some() {
            return Err("give the API token or a token file, not both".into());
        }
        if let Some(t) = &self.cf_api_token {
            return Ok(Some(t.clone()));
        }
        let Some(path) = &self.cf_api_token_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        text.parse::<Secret>()
            .map(Some)
            .map_err(|_| format!("the token file {} is empty", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_has_defaults() {
        Config::command().debug_assert();
        let c = Config::try_parse_from(["localcf"]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.rtmp_port, 1935);
        assert_eq!(c.video_size.to_string(), "1280x720");
        assert_eq!(c.preset, "veryfast");
        assert_eq!(c.live_window_segments, 6);
        assert!(!c.demo && !c.abr && !c.no_rtmp);
        assert_eq!(c.rtmp_max_connections, 16);
        assert_eq!(c.rtmp_max_message_bytes, 4 * 1024 * 1024);
        assert_eq!(c.rtmp_handshake_timeout_seconds, 10);
        assert_eq!(c.rtmp_idle_timeout_seconds, 30);
        assert_eq!((c.thumbnail_jobs, c.thumbnail_queue), (2, 4));
    }

    #[test]
    fn flags_parse_and_validate() {
        let c = Config::try_parse_from([
            "localcf",
            "--port",
            "0",
            "--no-rtmp",
            "--demo",
            "--abr",
            "--video-size",
            "640x360",
            "--preset",
            "ultrafast",
            "--fps",
            "15",
            "--segment-seconds",
            "1",
        ])
        .unwrap();
        assert!(c.no_rtmp && c.demo && c.abr);
        assert_eq!(c.fps, 15);
        for bad in [
            &["localcf", "--video-size", "640"][..],
            &["localcf", "--preset", "fastest"],
            &["localcf", "--fps", "0"],
            &["localcf", "--segment-seconds", "0"],
            &["localcf", "--live-window-segments", "0"],
            &["localcf", "--rtmp-max-connections", "0"],
            &["localcf", "--rtmp-max-message-bytes", "16777216"],
            &["localcf", "--rtmp-handshake-timeout-seconds", "0"],
            &["localcf", "--thumbnail-jobs", "0"],
        ] {
            assert!(Config::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["localcf"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn stand_in_defaults() {
        let c = parse(&[]);
        assert_eq!(c.recording_ready_seconds, 10);
        assert!(c.cf_api_token.is_none() && c.cf_api_token_file.is_none());
        assert_eq!(c.read_token().unwrap(), None);
    }

    #[test]
    fn caps_from_flags() {
        let c = parse(&[]).caps().unwrap();
        assert_eq!(c, Caps::default());
        let c = parse(&[
            "--max-broadcasts",
            "1",
            "--max-video-size",
            "640x360",
            "--video-size",
            "320x180",
            "--slowest-preset",
            "ultrafast",
            "--preset",
            "ultrafast",
            "--max-broadcast-seconds",
            "60",
            "--min-free-disk-mb",
            "0",
            "--max-inputs",
            "5",
        ])
        .caps()
        .unwrap();
        assert_eq!(c.max_broadcasts, 1);
        assert_eq!(c.max_duration.as_secs(), 60);
        assert_eq!(c.min_free_disk_bytes, 0);
        assert_eq!(c.max_inputs, 5);
        // The defaults of a synthetic broadcast must fit the caps.
        assert!(parse(&["--video-size", "3840x2160"]).caps().is_err());
        assert!(parse(&["--preset", "placebo"]).caps().is_err());
        for bad in [
            &["localcf", "--max-broadcasts", "0"][..],
            &["localcf", "--max-broadcast-seconds", "0"],
            &["localcf", "--slowest-preset", "warp"],
            &["localcf", "--max-inputs", "0"],
        ] {
            assert!(Config::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn token_file_and_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "  file-token\n").unwrap();
        let c = parse(&["--cf-api-token-file", f.to_str().unwrap()]);
        assert_eq!(c.read_token().unwrap().unwrap().expose(), "file-token");
        std::fs::write(&f, "\n").unwrap();
        let e = c.read_token().unwrap_err();
        assert!(e.contains("empty"));
        let missing = parse(&["--cf-api-token-file", "/nonexistent/token"]);
        assert!(missing.read_token().is_err());
        let both = Config::try_parse_from([
            "localcf",
            "--cf-api-token",
            "abc-secret",
            "--cf-api-token-file",
            "/x",
        ]);
        let err = both.unwrap_err().to_string();
        assert!(!err.contains("abc-secret"), "{err}");
        // Debug of the whole config hides the token.
        let c = parse(&["--cf-api-token", "abc-secret"]);
        assert!(!format!("{c:?}").contains("abc-secret"));
    }
}
