//! Command line and environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};

use crate::account_api::LOCAL_ACCOUNT;
use crate::account_client::{normalize_base, ClientConfig, CLOUDFLARE_API_BASE};
use crate::ffmpeg::{self, VideoSize};
use crate::secret::Secret;

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

    /// Cloudflare account id: recordings are then listed from Cloudflare's
    /// account API. Without it the server answers the account API itself
    /// (account `local`, at /client/v4) and lists recordings from that.
    #[arg(long, env = "CF_ACCOUNT_ID")]
    pub cf_account: Option<String>,

    /// Account API base URL (only with --cf-account)
    /// [default: https://api.cloudflare.com/client/v4].
    #[arg(long, env = "CF_API_BASE")]
    pub cf_api_base: Option<String>,

    /// Account API token. Prefer CF_API_TOKEN or --cf-api-token-file (a flag
    /// shows in `ps`). Without --cf-account: the token the local stand-in
    /// accepts (default: random, never shown).
    #[arg(long, env = "CF_API_TOKEN", hide_env_values = true)]
    pub cf_api_token: Option<Secret>,

    /// File holding the account API token (surrounding whitespace ignored).
    #[arg(long, env = "CF_API_TOKEN_FILE", conflicts_with = "cf_api_token")]
    pub cf_api_token_file: Option<PathBuf>,

    /// Seconds an account API call may take before it counts as failed.
    #[arg(long, env = "CF_API_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub cf_api_timeout_seconds: u64,

    /// Base that recordings' thumbnail and playlist URLs are rewritten to
    /// (`<base>/<videoUID>/manifest/video.m3u8`). Default: this server's own
    /// http://host:port without --cf-account; Cloudflare's URLs with it.
    #[arg(long, env = "DELIVERY_BASE")]
    pub delivery_base: Option<String>,

    /// Origins allowed to read /api/inputs/<input>/recordings: `*` or a
    /// comma-separated list of scheme://host[:port].
    #[arg(long, env = "RECORDINGS_CORS_ORIGINS", default_value = "*")]
    pub recordings_cors_origins: String,

    /// Seconds a recordings list is fresh (one account API call per input
    /// per TTL, however many viewers).
    #[arg(long, env = "RECORDINGS_TTL_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub recordings_ttl_seconds: u64,

    /// Inputs whose recordings list is kept in memory (least recently used go).
    #[arg(long, env = "RECORDINGS_CACHE_INPUTS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub recordings_cache_inputs: u64,

    /// Local stand-in: seconds between a broadcast's end and its recording
    /// turning `ready` (Cloudflare takes about 60).
    #[arg(long, env = "RECORDING_READY_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub recording_ready_seconds: u64,
}

/// How the recordings endpoint reaches the account API.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSetup {
    pub client: ClientConfig,
    /// Local mode: the token the stand-in accepts (the client's own).
    pub stand_in_token: Option<Secret>,
    /// Where recordings' URLs point; `None` keeps Cloudflare's.
    pub delivery_base: Option<String>,
}

impl Config {
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

    /// Where the account API is and who we are there. `own_http` is this
    /// server's `http://host:port`.
    pub fn account_setup(
        &self,
        token: Option<Secret>,
        own_http: &str,
    ) -> Result<AccountSetup, String> {
        let timeout = Duration::from_secs(self.cf_api_timeout_seconds);
        let delivery_base = self
            .delivery_base
            .as_deref()
            .map(normalize_base)
            .transpose()
            .map_err(|e| format!("--delivery-base: {e}"))?;
        match self.cf_account.as_deref().map(str::trim) {
            None | Some("") => {
                if self.cf_api_base.is_some() {
                    return Err("--cf-api-base needs --cf-account (without it the server is its own account API)".into());
                }
                let token = token.unwrap_or_else(Secret::random);
                Ok(AccountSetup {
                    client: ClientConfig {
                        base: format!("{own_http}/client/v4"),
                        account: LOCAL_ACCOUNT.into(),
                        token: token.clone(),
                        timeout,
                    },
                    stand_in_token: Some(token),
                    delivery_base: Some(delivery_base.unwrap_or_else(|| own_http.to_string())),
                })
            }
            Some(account) => {
                let token = token.ok_or(
                    "--cf-account needs a token: CF_API_TOKEN, --cf-api-token-file or --cf-api-token",
                )?;
                let base =
                    normalize_base(self.cf_api_base.as_deref().unwrap_or(CLOUDFLARE_API_BASE))
                        .map_err(|e| format!("--cf-api-base: {e}"))?;
                Ok(AccountSetup {
                    client: ClientConfig {
                        base,
                        account: account.to_string(),
                        token,
                        timeout,
                    },
                    stand_in_token: None,
                    delivery_base,
                })
            }
        }
    }
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

    const OWN: &str = "http://127.0.0.1:8080";

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn recordings_defaults() {
        let c = parse(&[]);
        assert_eq!(c.recordings_ttl_seconds, 15);
        assert_eq!(c.recording_ready_seconds, 10);
        assert_eq!(c.recordings_cors_origins, "*");
        assert_eq!(c.cf_api_timeout_seconds, 10);
        assert!(c.cf_account.is_none() && c.cf_api_token.is_none());
    }

    #[test]
    fn local_mode_talks_to_itself_with_a_random_token() {
        let c = parse(&[]);
        let s = c.account_setup(c.read_token().unwrap(), OWN).unwrap();
        assert_eq!(s.client.base, "http://127.0.0.1:8080/client/v4");
        assert_eq!(s.client.account, "local");
        assert_eq!(s.client.token.expose().len(), 64);
        assert_eq!(s.stand_in_token.as_ref(), Some(&s.client.token));
        assert_eq!(s.delivery_base.as_deref(), Some(OWN));
        // A given token and delivery base are used.
        let c = parse(&[
            "--cf-api-token",
            "tok",
            "--delivery-base",
            "https://cdn.example/",
        ]);
        let s = c.account_setup(c.read_token().unwrap(), OWN).unwrap();
        assert_eq!(s.client.token.expose(), "tok");
        assert_eq!(s.delivery_base.as_deref(), Some("https://cdn.example"));
        // A base without an account is refused (the token would go elsewhere).
        let c = parse(&["--cf-api-base", "https://x.example/client/v4"]);
        assert!(c.account_setup(None, OWN).is_err());
    }

    #[test]
    fn cloudflare_mode() {
        let c = parse(&["--cf-account", "acc"]);
        let e = c.account_setup(None, OWN).unwrap_err();
        assert!(e.contains("token"), "{e}");
        let s = c.account_setup(Some(Secret::new("t")), OWN).unwrap();
        assert_eq!(s.client.base, CLOUDFLARE_API_BASE);
        assert_eq!(s.client.account, "acc");
        assert_eq!(s.stand_in_token, None);
        assert_eq!(s.delivery_base, None, "Cloudflare's URLs stay");
        let c = parse(&[
            "--cf-account",
            "acc",
            "--cf-api-base",
            "http://127.0.0.1:9/client/v4/",
        ]);
        let s = c.account_setup(Some(Secret::new("t")), OWN).unwrap();
        assert_eq!(s.client.base, "http://127.0.0.1:9/client/v4");
        let c = parse(&["--cf-account", "acc", "--cf-api-base", "nope"]);
        assert!(c.account_setup(Some(Secret::new("t")), OWN).is_err());
        let c = parse(&["--delivery-base", "ftp://x"]);
        assert!(c.account_setup(None, OWN).is_err());
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
            "server",
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
