//! Command line and environment.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};

use crate::ffmpeg::{self, VideoSize};

/// A local stand-in for Cloudflare Stream: live inputs with real ffmpeg
/// media, RTMP ingest, a control API, fault injection, and the built player.
///
/// On start it prints one line to stdout,
/// `READY http=http://127.0.0.1:<port> rtmp=rtmp://127.0.0.1:<port>` (or
/// `rtmp=none`); logs go to stderr (RUST_LOG, default `info`; `debug` logs
/// every request).
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version)]
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_has_defaults() {
        Config::command().debug_assert();
        let c = Config::try_parse_from(["server"]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.rtmp_port, 1935);
        assert_eq!(c.video_size.to_string(), "1280x720");
        assert_eq!(c.preset, "veryfast");
        assert_eq!(c.live_window_segments, 6);
        assert!(!c.demo && !c.abr && !c.no_rtmp);
    }

    #[test]
    fn flags_parse_and_validate() {
        let c = Config::try_parse_from([
            "server",
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
            &["server", "--video-size", "640"][..],
            &["server", "--preset", "fastest"],
            &["server", "--fps", "0"],
            &["server", "--segment-seconds", "0"],
            &["server", "--live-window-segments", "0"],
        ] {
            assert!(Config::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
